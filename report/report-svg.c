/* report-svg.c — the report's charts as inline SVG (see report-svg.h).
 * Everything is computed here, in C: the page carries no script. Sizes are
 * in viewBox units; the page scales the chart to its column. */
#include "report-svg.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "mem.h"
#include "report-keys.h"
#include "wire.h"

#define W 720.0

void
report_svg_text(FILE *f, const char *s)
{
	if (!s) {
		fputc('-', f);
		return;
	}
	AUTOFREE char *line = wire_escape_line(s, strlen(s));
	for (const char *p = line; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*p, f);
		}
	}
}

const cJSON *
report_svg_get(const cJSON *o, const char *key)
{
	if (!cJSON_IsObject(o)) {
		return NULL;
	}
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

bool
report_svg_count(const cJSON *o, const char *key, long long *out)
{
	return wire_json_int(report_svg_get(o, key), 0, LLONG_MAX, out);
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = report_svg_get(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long
count_or0(const cJSON *o, const char *key)
{
	long long v = 0;
	return report_svg_count(o, key, &v) ? v : 0;
}

/* The smallest of 1, 2, 5 x 10^k at or above @v (at least 1). */
static double
nice_max(double v)
{
	if (v <= 1) {
		return 1;
	}
	double p = pow(10, floor(log10(v)));
	for (int i = 0; i < 3; i++) {
		static const double m[] = {1, 2, 5};
		if (m[i] * p >= v) {
			return m[i] * p;
		}
	}
	return 10 * p;
}

static int
array_len(const cJSON *a)
{
	return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
}

static void
open_svg(FILE *f, const char *name, double h, const char *title)
{
	fprintf(f,
		"<svg class=\"chart\" data-chart=\"%s\""
		" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">"
		"<title>%s</title>\n",
		name, W, h, title, title);
}

static void
no_data(FILE *f, double x, double y, const char *what)
{
	fprintf(f,
		"<text x=\"%.1f\" y=\"%.1f\" class=\"nodata\" text-anchor=\"middle\">%s</text>\n",
		x, y, what);
}

/* A vertical axis at @x from @top to @bottom scaled to [0, @max], ticks at
 * 0, max/2 and max; labels on the left (@side -1) or right (+1). */
static void
y_axis(FILE *f, double x, double top, double bottom, double max, int side, const char *label)
{
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
		top, x, bottom);
	for (int i = 0; i <= 2; i++) {
		double y = bottom - (bottom - top) * i / 2.0;
		double v = max * i / 2.0;
		if (v != floor(v)) {
			continue; /* counts: whole ticks only */
		}
		fprintf(f,
			"<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%g</text>\n",
			x, y, x + 4.0 * side, y, x + 7.0 * side, y + 4, side < 0 ? "end" : "start",
			v);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"axlabel\">%s</text>\n",
		x, top - 10, side < 0 ? "start" : "end", label);
}

/* Legend entries are laid out by the length of their label: the width of
 * an average character of the chart's 12 px DejaVu Sans, generously, and
 * the swatch and space before the next one. */
#define LEGEND_CHAR_W 7.4
#define LEGEND_GAP 32

static const char *const series_key[] = {RK_NEW, RK_CHANGED, RK_MOVED, RK_REMOVED};
static const char *const series_colour[] = {"#2a6fb0", "#7a5cb8", "#2e9c8f", "#8a8a8a"};

void
report_svg_daily(FILE *f, const cJSON *daily)
{
	const double h = 280, x0 = 50, x1 = W - 50, top = 40, bottom = 230;
	int n = array_len(daily);
	open_svg(f, "daily", h, "Violations and file changes per day");
	long long vmax = 0, fmax = 0;
	for (int i = 0; i < n; i++) {
		const cJSON *d = cJSON_GetArrayItem(daily, i);
		long long v = count_or0(d, RK_VIOLATIONS);
		vmax = v > vmax ? v : vmax;
		for (size_t s = 0; s < 4; s++) {
			long long c = count_or0(d, series_key[s]);
			fmax = c > fmax ? c : fmax;
		}
	}
	double vtop = nice_max((double)vmax), ftop = nice_max((double)fmax);
	y_axis(f, x0, top, bottom, vtop, -1, "violations");
	y_axis(f, x1, top, bottom, ftop, 1, "files");
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0,
		bottom, x1, bottom);
	/* legend */
	fprintf(f,
		"<rect x=\"%.1f\" y=\"8\" width=\"10\" height=\"10\" fill=\"#c0392b\"/>"
		"<text x=\"%.1f\" y=\"17\">violations</text>\n",
		x0 + 60, x0 + 74);
	double lx = x0 + 160;
	for (size_t s = 0; s < 4; s++) {
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"13\" x2=\"%.1f\" y2=\"13\" stroke=\"%s\""
			" stroke-width=\"2.5\"/><text x=\"%.1f\" y=\"17\">%s files</text>\n",
			lx, lx + 14, series_colour[s], lx + 18, series_key[s]);
		lx += LEGEND_GAP + 4 + LEGEND_CHAR_W * (double)(strlen(series_key[s]) + 6);
	}
	if (n == 0 || (vmax == 0 && fmax == 0)) {
		no_data(f, (x0 + x1) / 2, (top + bottom) / 2,
			n == 0 ? "no data" : "no data (every value is 0)");
	}
	if (n == 0) {
		fputs("</svg>\n", f);
		return;
	}
	double band = (x1 - x0) / n, bw = fmin(band * 0.6, 40);
	int step = (n + 13) / 14;
	for (int i = 0; i < n; i++) {
		const cJSON *d = cJSON_GetArrayItem(daily, i);
		const char *day = str(d, RK_DAY);
		long long v = count_or0(d, RK_VIOLATIONS);
		double cx = x0 + band * (i + 0.5), bh = (bottom - top) * (double)v / vtop;
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"#c0392b\">"
			"<title>",
			cx - bw / 2, bottom - bh, bw, bh);
		report_svg_text(f, day);
		fprintf(f, ": %lld violations</title></rect>\n", v);
		if (i % step == 0) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx,
				bottom + 16);
			report_svg_text(f, day && strlen(day) == 10 ? day + 5 : day);
			fputs("</text>\n", f);
		}
	}
	for (size_t s = 0; s < 4; s++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			series_colour[s]);
		for (int i = 0; i < n; i++) {
			long long c = count_or0(cJSON_GetArrayItem(daily, i), series_key[s]);
			fprintf(f, "%.1f,%.1f ", x0 + band * (i + 0.5),
				bottom - (bottom - top) * (double)c / ftop);
		}
		fputs("\"/>\n", f);
		for (int i = 0; i < n; i++) {
			const cJSON *d = cJSON_GetArrayItem(daily, i);
			long long c = count_or0(d, series_key[s]);
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
				x0 + band * (i + 0.5), bottom - (bottom - top) * (double)c / ftop,
				series_colour[s]);
			report_svg_text(f, str(d, RK_DAY));
			fprintf(f, ": %lld %s files</title></circle>\n", c, series_key[s]);
		}
	}
	fputs("</svg>\n", f);
}

/* Red (0) through amber to green (1). */
static void
heat_colour(double v, char out[32])
{
	snprintf(out, 32, "hsl(%.0f,65%%,%.0f%%)", 120.0 * v, 42.0 + 6.0 * sin(M_PI * v));
}

void
report_svg_heatmap(FILE *f, const cJSON *days, const cJSON *agents)
{
	int nd = array_len(days), na = array_len(agents);
	const double left = 120, top = 36, ch = 20, right = W - 20;
	double cw = nd ? fmin(60, (right - left) / nd) : 0;
	double h = top + (na ? na : 3) * ch + 60;
	open_svg(f, "heatmap", h, "Coverage per agent and day");
	double bottom = top + (na ? na : 3) * ch;
	fprintf(f,
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		left, top, left, bottom, left, bottom, right, bottom);
	if (nd == 0 || na == 0) {
		no_data(f, (left + right) / 2, (top + bottom) / 2, "no data");
	}
	int step = nd ? (int)ceil(34.0 / cw) : 1;
	for (int d = 0; d < nd; d++) {
		if (d % step != 0) {
			continue;
		}
		const cJSON *day = cJSON_GetArrayItem(days, d);
		const char *ds = cJSON_IsString(day) ? day->valuestring : NULL;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
			left + cw * (d + 0.5), top - 8);
		report_svg_text(f, ds && strlen(ds) == 10 ? ds + 5 : ds);
		fputs("</text>\n", f);
	}
	for (int a = 0; a < na; a++) {
		const cJSON *ag = cJSON_GetArrayItem(agents, a);
		const char *name = str(ag, RK_AGENT);
		const cJSON *daily = report_svg_get(ag, RK_DAILY);
		double y = top + ch * a;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
			y + ch - 6);
		report_svg_text(f, name);
		fputs("</text>\n", f);
		for (int d = 0; d < nd; d++) {
			const cJSON *v = array_len(daily) > d ? cJSON_GetArrayItem(daily, d) : NULL;
			const cJSON *day = cJSON_GetArrayItem(days, d);
			char fill[32] = "#d0d0d0";
			bool known =
				cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1;
			if (known) {
				heat_colour(v->valuedouble, fill);
			}
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\""
				" stroke=\"#fff\"><title>",
				left + cw * d, y, cw, ch, fill);
			report_svg_text(f, name);
			fputs(", ", f);
			report_svg_text(f, cJSON_IsString(day) ? day->valuestring : NULL);
			if (known) {
				fprintf(f, ": %.1f%%</title></rect>\n", 100 * v->valuedouble);
			} else {
				fputs(": no data</title></rect>\n", f);
			}
		}
	}
	/* legend: the scale, and grey for no data */
	double ly = bottom + 22;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0%%</text>\n", left - 6,
		ly + 11);
	for (int i = 0; i < 10; i++) {
		char fill[32];
		heat_colour(i / 9.0, fill);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"14\" fill=\"%s\"/>",
			left + 16.0 * i, ly, fill);
	}
	fprintf(f,
		"\n<text x=\"%.1f\" y=\"%.1f\">100%%</text>"
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"14\" fill=\"#d0d0d0\"/>"
		"<text x=\"%.1f\" y=\"%.1f\">no data</text>\n",
		left + 166, ly + 11, left + 220, ly, left + 240, ly + 11);
	fputs("</svg>\n", f);
}

static const char *
severity_colour(const char *s)
{
	static const char *const names[] = {"critical", "high", "medium", "low"};
	static const char *const colours[] = {"#8e1b1b", "#d35400", "#d4a017", "#5d8aa8"};
	for (size_t i = 0; s && i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			return colours[i];
		}
	}
	return "#888";
}

void
report_svg_severity(FILE *f, const cJSON *by_severity)
{
	int n = array_len(by_severity);
	const double left = 100, right = W - 80, top = 20, bh = 22, gap = 8;
	double bottom = top + (n ? n : 2) * (bh + gap);
	open_svg(f, "severity", bottom + 30, "Violations by severity");
	long long max = 0;
	for (int i = 0; i < n; i++) {
		long long v = count_or0(cJSON_GetArrayItem(by_severity, i), RK_VALUE);
		max = v > max ? v : max;
	}
	double top_v = nice_max((double)max);
	fprintf(f,
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		left, top - 6, left, bottom, left, bottom, right, bottom);
	for (int i = 0; i <= 2; i++) {
		double x = left + (right - left) * i / 2.0;
		if (top_v * i / 2.0 != floor(top_v * i / 2.0)) {
			continue;
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x,
			bottom + 16, top_v * i / 2.0);
	}
	if (n == 0 || max == 0) {
		no_data(f, (left + right) / 2, top + 14,
			n == 0 ? "no data" : "no data (no violations in the period)");
	}
	for (int i = 0; i < n; i++) {
		const cJSON *row = cJSON_GetArrayItem(by_severity, i);
		const char *key = str(row, RK_KEY);
		long long v = count_or0(row, RK_VALUE), prev = 0;
		bool has_prev = report_svg_count(row, RK_PREVIOUS, &prev);
		double y = top + i * (bh + gap), w = (right - left) * (double)v / top_v;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 15);
		report_svg_text(f, key);
		fprintf(f,
			"</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
			" fill=\"%s\"><title>",
			left, y, w, bh, severity_colour(key));
		report_svg_text(f, key);
		fprintf(f, ": %lld", v);
		if (has_prev) {
			fprintf(f, " (previous period %lld)", prev);
		}
		fprintf(f, "</title></rect><text x=\"%.1f\" y=\"%.1f\">%lld</text>\n", left + w + 6,
			y + 15, v);
	}
	fputs("</svg>\n", f);
}

static const char *const zones[] = {"secure",    "outside_secure", "staging",
				    "removable", "sync",           "world_readable"};
static const char *const zone_colour[] = {"#2e8b57", "#c0392b", "#e67e22", "#8e44ad",
					  "#2a6fb0", "#7b241c", "#888"};
#define NZONES 6

struct level_row {
	const char *scheme, *level;
	long long z[NZONES + 1]; /* the last: a zone of no known name */
};

static bool
same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void
report_svg_holdings(FILE *f, const cJSON *by_level_zone)
{
	int n = array_len(by_level_zone);
	AUTOFREE struct level_row *rows = lw_new(struct level_row, n ? n : 1);
	int nrows = 0;
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(by_level_zone, i);
		const char *scheme = str(e, RK_SCHEME), *level = str(e, RK_LEVEL);
		const char *zone = str(e, RK_ZONE);
		int r = 0;
		while (r < nrows && !(same(rows[r].scheme, scheme) && same(rows[r].level, level))) {
			r++;
		}
		if (r == nrows) {
			rows[nrows++] = (struct level_row){.scheme = scheme, .level = level};
		}
		size_t z = 0;
		while (z < NZONES && !same(zones[z], zone)) {
			z++;
		}
		rows[r].z[z] += count_or0(e, RK_COUNT);
	}
	const double left = 170, right = W - 60, top = 40, bh = 22, gap = 8;
	double bottom = top + (nrows ? nrows : 2) * (bh + gap);
	open_svg(f, "holdings", bottom + 30, "Classified files held, by level and zone");
	long long max = 0;
	for (int r = 0; r < nrows; r++) {
		long long t = 0;
		for (size_t z = 0; z <= NZONES; z++) {
			t += rows[r].z[z];
		}
		max = t > max ? t : max;
	}
	double top_v = nice_max((double)max);
	double lx = 10;
	for (size_t z = 0; z <= NZONES; z++) {
		const char *name = z < NZONES ? zones[z] : "other";
		fprintf(f,
			"<rect x=\"%.1f\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"15\">%s</text>\n",
			lx, zone_colour[z], lx + 14, name);
		lx += LEGEND_GAP + LEGEND_CHAR_W * (double)strlen(name); /* after this label */
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		left, top - 6, left, bottom, left, bottom, right, bottom);
	for (int i = 0; i <= 2; i++) {
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
			left + (right - left) * i / 2.0, bottom + 16, top_v * i / 2.0);
	}
	if (nrows == 0 || max == 0) {
		no_data(f, (left + right) / 2, top + 24,
			nrows == 0 ? "no data (no classified files held)"
				   : "no data (every count is 0)");
	}
	for (int r = 0; r < nrows; r++) {
		double y = top + r * (bh + gap), x = left;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 15);
		report_svg_text(f, rows[r].scheme);
		fputc(' ', f);
		report_svg_text(f, rows[r].level);
		fputs("</text>\n", f);
		long long t = 0;
		for (size_t z = 0; z <= NZONES; z++) {
			if (rows[r].z[z] == 0) {
				continue;
			}
			double w = (right - left) * (double)rows[r].z[z] / top_v;
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\""
				" stroke=\"#fff\"><title>",
				x, y, w, bh, zone_colour[z]);
			report_svg_text(f, rows[r].level);
			fprintf(f, ", %s: %lld</title></rect>\n", z < NZONES ? zones[z] : "other",
				rows[r].z[z]);
			x += w;
			t += rows[r].z[z];
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%lld</text>\n", x + 6, y + 15, t);
	}
	fputs("</svg>\n", f);
}
