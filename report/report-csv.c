/* report-csv.c — the report's tables as CSV files (see report-render.h).
 * Not written yet: refuses. */
#include "report-render.h"

#include <errno.h>

int
report_csv_write(const cJSON *doc, const char *dir, char ***names, char *err, size_t errlen)
{
	snprintf(err, errlen, "CSV rendering is not implemented yet");
	*names = NULL;
	return -ENOSYS;
}
