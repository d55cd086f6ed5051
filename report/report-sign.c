/* report-sign.c — digests and detached signatures (see report-sign.h).
 * Not written yet: refuses. */
#include "report-sign.h"

#include <errno.h>

int
report_sign_write(const char *sig_path, const cJSON *doc, const char *canonical_sha256,
		  const struct report_file *files, size_t nfiles, const char *key_path,
		  char *err, size_t errlen)
{
	snprintf(err, errlen, "signing is not implemented yet");
	return -ENOSYS;
}

int
report_verify(const char *path, const char *trusted, FILE *out, char *err, size_t errlen)
{
	snprintf(err, errlen, "verification is not implemented yet");
	return -ENOSYS;
}
