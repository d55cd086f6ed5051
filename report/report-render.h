/* report-render.h — the report in HTML and CSV, rendered from the document
 * (report.h) alone. */
#pragma once

#include <stdio.h>

#include <cjson/cJSON.h>

/* One self-contained HTML page: no script, no external resource; charts as
 * inline SVG; print CSS for A4 with the banner at the top and bottom of
 * every page. @digest is the hex SHA-256 of the canonical JSON, printed in
 * the integrity section. Returns 0 or -errno (a write failed) with @err. */
int report_html_write(const cJSON *doc, const char *digest, FILE *out, char *err,
		      size_t errlen);

/* One RFC 4180 file per table (UTF-8, CRLF, header row) into directory @dir,
 * which must exist. *names gets the file names written (NULL-terminated,
 * caller frees each and the array). Returns 0 or -errno with @err. */
int report_csv_write(const cJSON *doc, const char *dir, char ***names, char *err,
		     size_t errlen);
