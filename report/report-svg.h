/* report-svg.h — the charts of the HTML report as inline SVG, and the
 * escaping and lookup helpers the HTML renderer shares with them. Every
 * function writes to @f and never fails by itself: the caller checks
 * ferror() once at the end. Every chart is an <svg class="chart"
 * data-chart="NAME"> with axes and a "no data" label when there is nothing
 * to draw. Input is any JSON: members missing or of the wrong type are
 * drawn as absent. Single thread. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* @s as HTML text or attribute value: first escaped as one printable line
 * (wire_escape_line(): bytes that are not UTF-8, controls, bidi overrides),
 * then & < > " ' as entities. NULL writes "-". */
void report_svg_text(FILE *f, const char *s);

/* Member @key of @o, or NULL when @o is not an object or lacks it. */
const cJSON *report_svg_get(const cJSON *o, const char *key);
/* Member @key of @o as a count (whole number >= 0): true and *out. */
bool report_svg_count(const cJSON *o, const char *key, long long *out);

/* summary.daily: violations per day as bars, file changes as lines. */
void report_svg_daily(FILE *f, const cJSON *daily);
/* coverage.days x coverage.agents[].daily, red (0) to green (1). */
void report_svg_heatmap(FILE *f, const cJSON *days, const cJSON *agents);
/* summary.by_severity (key, value, previous) as horizontal bars. */
void report_svg_severity(FILE *f, const cJSON *by_severity);
/* holdings.by_level_zone: one bar per scheme and level, stacked by zone. */
void report_svg_holdings(FILE *f, const cJSON *by_level_zone);
