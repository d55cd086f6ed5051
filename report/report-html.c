/* report-html.c — the report as one self-contained HTML page (see
 * report-render.h). Not written yet: refuses. */
#include "report-render.h"

#include <errno.h>

int
report_html_write(const cJSON *doc, const char *digest, FILE *out, char *err, size_t errlen)
{
	snprintf(err, errlen, "HTML rendering is not implemented yet");
	return -ENOSYS;
}
