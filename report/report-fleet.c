/* report-fleet.c — the fleet's report from the collector (see report.h).
 * Not written yet. */
#include "report.h"

#include <errno.h>
#include <stdio.h>

int
report_build_fleet(struct lw_http_client *http, const struct report_options *o, cJSON **doc,
		   char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "fleet reports need the collector's report endpoints, which are not built"
		 " yet; make local reports on each workstation meanwhile");
	return -ENOSYS;
}
