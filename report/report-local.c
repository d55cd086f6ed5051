/* report-local.c — a workstation's report from its inventory (see
 * report.h). Not written yet. */
#include "report.h"

#include <errno.h>
#include <stdio.h>

int
report_build_local(const struct report_local_source *src, const struct report_options *o,
		   cJSON **doc, char *err, size_t errlen)
{
	snprintf(err, errlen, "local reports are not implemented yet");
	return -ENOSYS;
}
