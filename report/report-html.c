/* report-html.c — the report as one self-contained HTML page (see
 * report-render.h): no script, no external resource, inline CSS, charts as
 * inline SVG (report-svg.c), print CSS for A4 with the marking banner on
 * every page. The document may be any JSON with the right "schema" (report
 * render reads files): every member is looked up with its type checked and
 * shown as "-" when missing. Every string is escaped (report_svg_text()).
 * Single thread. */
#include "report-render.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "report-keys.h"
#include "report-svg.h"
#include "wire.h"

#define esc report_svg_text
#define get report_svg_get
#define count report_svg_count

static const char css[] =
	":root{--ink:#1d232a;--muted:#5b6570;--line:#d7dce1;--bg:#f5f6f8;}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 'DejaVu Sans',Arial,Helvetica,sans-serif;color:var(--ink);"
	"background:#fff}\n"
	"main{max-width:1180px;margin:0 auto;padding:8px 24px 24px}\n"
	"h1{font-size:22px;margin:18px 0 4px}\n"
	"h2{font-size:18px;margin:0 0 12px;padding-bottom:4px;border-bottom:2px solid var(--ink)}\n"
	"h3{font-size:15px;margin:18px 0 6px}\n"
	"section{margin:28px 0}\n"
	".sub{color:var(--muted);margin:0 0 10px}\n"
	".banner{text-align:center;font-weight:bold;padding:4px 8px;"
	"color:#fff;font-size:13px;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	".rank0{background:#2e7d32}.rank1{background:#2a6fb0}.rank2{background:#b8860b}"
	".rank3{background:#d35400}.rank4{background:#c0392b}.rank5{background:#7b1010}\n"
	"table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:12.5px}\n"
	"th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}\n"
	"th{background:var(--bg);font-weight:600}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.path{word-break:break-all;font-family:'DejaVu Sans Mono',monospace;font-size:12px}\n"
	"td.t{white-space:nowrap}\n"
	"code{font-family:'DejaVu Sans Mono',monospace;font-size:12px;word-break:break-all}\n"
	"dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}\n"
	"dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}\n"
	".cards{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 14px}\n"
	".card{flex:1 1 150px;border:1px solid var(--line);border-radius:6px;padding:8px 12px;"
	"background:var(--bg)}\n"
	".card .k{color:var(--muted);font-size:12px}.card .v{font-size:22px;font-weight:600}\n"
	".card .d{color:var(--muted);font-size:12px}.card .dl{font-size:14px;font-weight:400;"
	"color:var(--muted)}\n"
	".good{color:#1e6b2a;font-weight:600}.bad{color:#a3241a;font-weight:600}\n"
	".note{border-left:4px solid #2a6fb0;background:#eef4fa;padding:8px 12px;margin:8px 0}\n"
	".alarm{border-left:4px solid #c0392b;background:#fbeeee;padding:8px 12px;margin:8px 0}\n"
	".ok-box{border-left:4px solid #2e7d32;background:#edf7ee;padding:8px 12px;margin:8px 0;"
	"font-weight:600}\n"
	".none{color:var(--muted);font-style:italic}\n"
	".b{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;"
	"-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	".b-critical{background:#8e1b1b;color:#fff}.b-high{background:#d35400;color:#fff}"
	".b-medium{background:#f1c40f;color:#000}.b-low{background:#d6e4f0;color:#000}"
	".b-ok,.b-present{background:#d4edda;color:#155724}"
	".b-broken,.b-absent{background:#f8d7da;color:#721c24}.b-unknown{background:#e2e3e5;"
	"color:#383d41}\n"
	"tr.absent td{background:#fdf3f4}\n"
	".grid2{display:grid;grid-template-columns:1fr 1fr;gap:0 24px}\n"
	".grid4{display:grid;grid-template-columns:repeat(4,1fr);gap:0 16px}\n"
	"svg.chart{display:block;width:100%;max-width:900px;height:auto;margin:8px 0 16px;"
	"font:11px 'DejaVu Sans',Arial,sans-serif;fill:#333}\n"
	"svg.chart .axis,svg.chart .tick{stroke:#555;stroke-width:1}\n"
	"svg.chart .nodata{font-size:15px;fill:#777;font-style:italic}\n"
	"svg.chart .axlabel{fill:#555}\n"
	"table.page{width:100%;border:0;margin:0;font-size:inherit}\n"
	"table.page>*>tr>td{border:0;padding:0}\n"
	"footer.meta{color:var(--muted);font-size:12px;margin-top:24px}\n"
	"@page{size:A4;margin:16mm 12mm 16mm 12mm}\n"
	"@media print{\n"
	" body{font-size:10.5px}\n"
	" main{max-width:none;padding:0}\n"
	" .banner{position:fixed;left:0;right:0;font-size:10px;padding:2px}\n"
	" .banner.top{top:0}.banner.bottom{bottom:0}\n"
	" .page-space{height:9mm}\n"
	" section{break-before:page;margin:0}\n"
	" section#envelope{break-before:auto}\n"
	" table{font-size:9.5px}tr{break-inside:avoid}\n"
	" table.page>tbody>tr{break-inside:auto}\n"
	" thead{display:table-header-group}\n"
	" svg.chart{break-inside:avoid;max-width:100%}\n"
	" h2,h3{break-after:avoid}\n"
	" .grid4{grid-template-columns:1fr 1fr}\n"
	"}\n";

/* --- cells ---------------------------------------------------------------- */

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
put_count(FILE *f, const cJSON *v)
{
	long long n;
	if (wire_json_int(v, LLONG_MIN, LLONG_MAX, &n)) {
		fprintf(f, "%lld", n);
	} else {
		fputc('-', f);
	}
}

static void
put_frac(FILE *f, const cJSON *v)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1) {
		fprintf(f, "%.1f%%", 100 * v->valuedouble);
	} else {
		fputc('-', f);
	}
}

/* "2026-11-23T05:10:34.123Z" as "2026-11-23 05:10:34 UTC"; anything else
 * as it is. */
static void
put_time(FILE *f, const cJSON *v)
{
	if (!cJSON_IsString(v)) {
		fputc('-', f);
		return;
	}
	const char *s = v->valuestring;
	size_t n = strlen(s);
	if (n >= 20 && s[10] == 'T' && s[n - 1] == 'Z' && strspn(s, "0123456789-T:.Z") == n) {
		fprintf(f, "%.10s %.8s UTC", s, s + 11);
	} else {
		esc(f, s);
	}
}

static void
put_seconds(FILE *f, const cJSON *v)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e12) {
		fputc('-', f);
		return;
	}
	long long s = (long long)v->valuedouble;
	if (s >= 86400) {
		fprintf(f, "%lldd %lldh %lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	} else if (s >= 3600) {
		fprintf(f, "%lldh %lldm", s / 3600, s % 3600 / 60);
	} else {
		fprintf(f, "%lldm %llds", s / 60, s % 60);
	}
}

static void
put_bool(FILE *f, const cJSON *v)
{
	fputs(cJSON_IsTrue(v) ? "yes" : cJSON_IsFalse(v) ? "no" : "-", f);
}

/* The strings of array @v, comma-separated; "-" if none. */
static void
put_list(FILE *f, const cJSON *v)
{
	int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
	if (n == 0) {
		fputs(cJSON_IsArray(v) ? "none" : "-", f);
		return;
	}
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(v, i);
		if (i) {
			fputs(", ", f);
		}
		esc(f, cJSON_IsString(e) ? e->valuestring : NULL);
	}
}

/* A badge for the known values of an enum (severity, chain, evidence);
 * other strings as plain text. */
static void
put_badge(FILE *f, const cJSON *v)
{
	static const char *const known[] = {"critical", "high",    "medium",  "low",   "ok",
					    "broken",   "unknown", "present", "absent"};
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	for (size_t i = 0; s && i < sizeof(known) / sizeof(*known); i++) {
		if (strcmp(s, known[i]) == 0) {
			fprintf(f, "<span class=\"b b-%s\">%s</span>", s, s);
			return;
		}
	}
	esc(f, s);
}

/* "14 (+3)": @v's value and its change from previous. */
static void
put_delta(FILE *f, const cJSON *v)
{
	long long cur, prev;
	if (!count(v, RK_VALUE, &cur)) {
		fputc('-', f);
		return;
	}
	fprintf(f, "%lld", cur);
	if (count(v, RK_PREVIOUS, &prev)) {
		long long d = cur - prev;
		fprintf(f, " (%s%lld)", d > 0 ? "+" : d < 0 ? "" : "\u00b1", d);
	}
}

static void
put_unexamined(FILE *f, const cJSON *v)
{
	static const char *const keys[] = {RK_PERMISSION, RK_SIZE_CAP, RK_TIMEOUT, RK_ENCRYPTED,
					   RK_OTHER};
	if (!cJSON_IsObject(v)) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < 5; i++) {
		fprintf(f, "%s%s\u00a0", i ? ", " : "", keys[i]);
		put_count(f, get(v, keys[i]));
	}
}

/* --- tables --------------------------------------------------------------- */

enum col_kind {
	COL_STR,
	COL_PATH,
	COL_CODE,
	COL_COUNT,
	COL_FRAC,
	COL_TIME,
	COL_SECONDS,
	COL_BOOL,
	COL_LIST,
	COL_BADGE,
	COL_DELTA, /* the row's "value" and "previous" */
	COL_UNEXAMINED,
};

struct col {
	const char *title;
	const char *key;
	enum col_kind kind;
};

static const char *
cell_class(enum col_kind k)
{
	switch (k) {
	case COL_PATH:
		return " class=\"path\"";
	case COL_COUNT:
	case COL_FRAC:
	case COL_SECONDS:
	case COL_DELTA:
		return " class=\"n\"";
	case COL_TIME:
		return " class=\"t\"";
	case COL_STR:
	case COL_CODE:
	case COL_BOOL:
	case COL_LIST:
	case COL_BADGE:
	case COL_UNEXAMINED:
		return "";
	}
	return "";
}

static void
cell(FILE *f, const cJSON *row, const struct col *c)
{
	const cJSON *v = get(row, c->key);
	fprintf(f, "<td%s>", cell_class(c->kind));
	switch (c->kind) {
	case COL_STR:
	case COL_PATH:
		esc(f, cJSON_IsString(v) ? v->valuestring : NULL);
		break;
	case COL_CODE:
		fputs("<code>", f);
		esc(f, cJSON_IsString(v) ? v->valuestring : NULL);
		fputs("</code>", f);
		break;
	case COL_COUNT:
		put_count(f, v);
		break;
	case COL_FRAC:
		put_frac(f, v);
		break;
	case COL_TIME:
		put_time(f, v);
		break;
	case COL_SECONDS:
		put_seconds(f, v);
		break;
	case COL_BOOL:
		put_bool(f, v);
		break;
	case COL_LIST:
		put_list(f, v);
		break;
	case COL_BADGE:
		put_badge(f, v);
		break;
	case COL_DELTA:
		put_delta(f, row);
		break;
	case COL_UNEXAMINED:
		put_unexamined(f, v);
		break;
	}
	fputs("</td>", f);
}

static int
len(const cJSON *a)
{
	return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
}

/* The rows of array @rows under a header row; @none when there is none.
 * Rows whose @mark_key equals @mark_val get class "absent". */
static void
table_marked(FILE *f, const cJSON *rows, const struct col *cols, size_t ncols, const char *none,
	     const char *mark_key, const char *mark_val)
{
	int n = len(rows);
	if (n == 0) {
		fprintf(f, "<p class=\"none\">%s</p>\n", cJSON_IsArray(rows) ? none : "-");
		return;
	}
	fputs("<table><thead><tr>", f);
	for (size_t c = 0; c < ncols; c++) {
		const char *cls = cell_class(cols[c].kind);
		fprintf(f, "<th%s>%s</th>", strstr(cls, "\"n\"") ? cls : "", cols[c].title);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (int i = 0; i < n; i++) {
		const cJSON *row = cJSON_GetArrayItem(rows, i);
		const char *m = mark_key ? str(row, mark_key) : NULL;
		fputs(m && strcmp(m, mark_val) == 0 ? "<tr class=\"absent\">" : "<tr>", f);
		for (size_t c = 0; c < ncols; c++) {
			cell(f, row, &cols[c]);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

#define TABLE(f, rows, cols, none) \
	table_marked(f, rows, cols, sizeof(cols) / sizeof(*(cols)), none, NULL, NULL)

/* "N more not listed" when @total counts more rows than @rows holds. */
static void
more(FILE *f, const cJSON *obj, const cJSON *rows, const char *what)
{
	long long total;
	if (count(obj, RK_TOTAL, &total) && total > len(rows)) {
		fprintf(f,
			"<p class=\"note\">%lld %s in total; %lld more not listed (the row limit"
			" of the report; the aggregates count every one).</p>\n",
			total, what, total - len(rows));
	}
}

static void
open_section(FILE *f, const char *id, const char *title, const char *sub)
{
	fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
	if (sub) {
		fprintf(f, "<p class=\"sub\">%s</p>\n", sub);
	}
}

static void
dt(FILE *f, const char *term)
{
	fprintf(f, "<dt>%s</dt><dd>", term);
}

/* --- sections ------------------------------------------------------------- */

static void
section_envelope(FILE *f, const cJSON *doc)
{
	const cJSON *env = get(doc, RK_ENVELOPE);
	const cJSON *period = get(env, RK_PERIOD), *prev = get(env, RK_PREVIOUS);
	open_section(f, "envelope", "Report", NULL);
	if (cJSON_IsTrue(get(env, RK_EMPTY))) {
		fputs("<p class=\"alarm\"><strong>The source held nothing:</strong> no agent"
		      " reported, or the inventory is empty. Every figure below is zero because"
		      " there was nothing to count, not because everything was compliant.</p>\n",
		      f);
	}
	fputs("<dl class=\"kv\">\n", f);
	dt(f, "Report id");
	fputs("<code>", f);
	esc(f, str(env, RK_ID));
	fputs("</code></dd>\n", f);
	dt(f, "Scope");
	esc(f, str(env, RK_SCOPE));
	fputs("</dd>\n", f);
	dt(f, "Period");
	esc(f, str(period, RK_NAME));
	fputs(": ", f);
	put_time(f, get(period, RK_SINCE));
	fputs(" to ", f);
	put_time(f, get(period, RK_UNTIL));
	fputs(" (end excluded)</dd>\n", f);
	dt(f, "Previous period");
	put_time(f, get(prev, RK_SINCE));
	fputs(" to ", f);
	put_time(f, get(prev, RK_UNTIL));
	fputs("</dd>\n", f);
	dt(f, "Generated at");
	put_time(f, get(env, RK_GENERATED_AT));
	fputs("</dd>\n", f);
	dt(f, "Generator");
	esc(f, str(env, RK_GENERATOR));
	fputs("</dd>\n", f);
	dt(f, "Agents");
	fprintf(f, "%d: ", len(get(env, RK_AGENTS)));
	put_list(f, get(env, RK_AGENTS));
	fputs("</dd>\n", f);
	dt(f, "Watched roots");
	put_list(f, get(env, RK_ROOTS));
	fputs("</dd>\n", f);
	dt(f, "Highest marking");
	esc(f, str(get(env, RK_MARKING), RK_BANNER));
	fputs("</dd>\n", f);
	dt(f, "Row limit");
	put_count(f, get(env, RK_ROW_LIMIT));
	fputs(" rows per list</dd>\n", f);
	dt(f, "Paths");
	const cJSON *red = get(env, RK_REDACTED_PATHS);
	fputs(cJSON_IsTrue(red)    ? "redacted: each path is its directory and the SHA-256 of"
				     " the full path"
	      : cJSON_IsFalse(red) ? "shown in full"
				   : "-",
	      f);
	fputs("</dd>\n</dl>\n", f);

	const cJSON *pol = get(env, RK_POLICY);
	static const struct col in_force[] = {{"Policy SHA-256", RK_SHA256, COL_CODE},
					      {"Agents running it", RK_AGENTS, COL_LIST}};
	static const struct col changes[] = {{"Time", RK_TIME, COL_TIME},
					     {"Agent", RK_AGENT, COL_STR},
					     {"Policy SHA-256", RK_SHA256, COL_CODE},
					     {"Rules", RK_RULES, COL_COUNT},
					     {"File", RK_FILE, COL_PATH}};
	fputs("<h3>Policy in force at the end of the period</h3>\n", f);
	TABLE(f, get(pol, RK_IN_FORCE), in_force, "No policy was reported in force.");
	fputs("<h3>Policy changes within the period</h3>\n", f);
	TABLE(f, get(pol, RK_CHANGES), changes, "No policy was loaded or changed in the period.");
}

static void
section_coverage(FILE *f, const cJSON *doc)
{
	const cJSON *cov = get(doc, RK_COVERAGE), *agents = get(cov, RK_AGENTS);
	open_section(f, "coverage", "Coverage",
		     "How much of the period and of the file systems was monitored.");
	fputs("<div class=\"cards\"><div class=\"card\"><div class=\"k\">Fleet coverage</div>"
	      "<div class=\"v\">",
	      f);
	put_frac(f, get(cov, RK_FIGURE));
	fprintf(f,
		"</div><div class=\"d\">mean of the agents</div></div><div class=\"card\">"
		"<div class=\"k\">Agents</div><div class=\"v\">%d</div></div>",
		len(agents));
	int silent = 0;
	for (int i = 0; i < len(agents); i++) {
		silent += cJSON_IsTrue(get(cJSON_GetArrayItem(agents, i), RK_SILENT_NOW));
	}
	fprintf(f,
		"<div class=\"card\"><div class=\"k\">Silent at the end</div>"
		"<div class=\"v %s\">%d</div></div></div>\n",
		silent ? "bad" : "good", silent);

	static const struct col contact[] = {{"Agent", RK_AGENT, COL_STR},
					     {"Version", RK_VERSION, COL_STR},
					     {"First contact", RK_FIRST_CONTACT, COL_TIME},
					     {"Last contact", RK_LAST_CONTACT, COL_TIME},
					     {"Silent now", RK_SILENT_NOW, COL_BOOL},
					     {"Silent", RK_SILENT_SECONDS, COL_SECONDS},
					     {"Coverage", RK_COVERAGE, COL_FRAC},
					     {"Watch coverage", RK_WATCH_COVERAGE, COL_FRAC},
					     {"Unwatched dirs", RK_UNWATCHED_DIRS, COL_COUNT}};
	static const struct col health[] = {{"Agent", RK_AGENT, COL_STR},
					    {"Chain", RK_CHAIN, COL_BADGE},
					    {"Sequence gaps", RK_SEQUENCE_GAPS, COL_COUNT},
					    {"Alerts", RK_ALERTS, COL_COUNT},
					    {"Overflows", RK_OVERFLOWS, COL_COUNT},
					    {"Rescans", RK_RESCANS, COL_COUNT},
					    {"Unexamined files", RK_UNEXAMINED, COL_UNEXAMINED},
					    {"Inventory files", RK_INVENTORY_FILES, COL_COUNT}};
	fputs("<h3>Agents: contact and coverage</h3>\n", f);
	TABLE(f, agents, contact, "No agent in scope.");
	fputs("<h3>Agents: health</h3>\n", f);
	TABLE(f, agents, health, "No agent in scope.");

	fputs("<h3>Silent intervals</h3>\n", f);
	bool any = false;
	for (int i = 0; i < len(agents); i++) {
		const cJSON *a = cJSON_GetArrayItem(agents, i), *s = get(a, RK_SILENT);
		for (int j = 0; j < len(s); j++) {
			const cJSON *iv = cJSON_GetArrayItem(s, j);
			if (!any) {
				fputs("<table><thead><tr><th>Agent</th><th>Since</th><th>Until</th>"
				      "<th class=\"n\">Duration</th></tr></thead><tbody>\n",
				      f);
				any = true;
			}
			fputs("<tr><td>", f);
			esc(f, str(a, RK_AGENT));
			fputs("</td><td class=\"t\">", f);
			put_time(f, get(iv, RK_SINCE));
			fputs("</td><td class=\"t\">", f);
			put_time(f, get(iv, RK_UNTIL));
			fputs("</td><td class=\"n\">", f);
			put_seconds(f, get(iv, RK_SECONDS));
			fputs("</td></tr>\n", f);
		}
	}
	fputs(any ? "</tbody></table>\n"
		  : "<p class=\"ok-box\">No agent was silent in the period.</p>\n",
	      f);
	fputs("<h3>Coverage per agent and day</h3>\n", f);
	report_svg_heatmap(f, get(cov, RK_DAYS), agents);
}

/* A headline figure: "14 (+3)" and the previous period's value. */
static void
card(FILE *f, const char *title, const cJSON *delta)
{
	fprintf(f, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">", title);
	long long v, p;
	bool has_v = count(delta, RK_VALUE, &v), has_p = count(delta, RK_PREVIOUS, &p);
	if (has_v) {
		fprintf(f, "%lld", v);
	} else {
		fputc('-', f);
	}
	if (has_v && has_p) {
		long long d = v - p;
		fprintf(f, " <span class=\"%s\">(%s%lld)</span>", d ? "dl" : "dl same",
			d > 0   ? "+"
			: d < 0 ? ""
				: "\u00b1",
			d);
	}
	fputs("</div><div class=\"d\">", f);
	if (has_p) {
		fprintf(f, "previous period: %lld", p);
	}
	fputs("</div></div>\n", f);
}

static const struct col keyed_cols[] = {{"Key", RK_KEY, COL_STR},
					{"Count (change)", RK_VALUE, COL_DELTA},
					{"Previous", RK_PREVIOUS, COL_COUNT}};

static void
keyed(FILE *f, const char *title, const char *key_title, const cJSON *rows, const char *none)
{
	struct col cols[3];
	memcpy(cols, keyed_cols, sizeof(cols));
	cols[0].title = key_title;
	fprintf(f, "<div><h3>%s</h3>\n", title);
	table_marked(f, rows, cols, 3, none, NULL, NULL);
	fputs("</div>\n", f);
}

static void
section_summary(FILE *f, const cJSON *doc)
{
	const cJSON *s = get(doc, RK_SUMMARY), *files = get(s, RK_FILES);
	const cJSON *viol = get(s, RK_VIOLATIONS);
	open_section(f, "summary", "Summary",
		     "Headline figures of the period; in brackets the change from the previous"
		     " period of the same length.");
	long long nv;
	if (count(viol, RK_VALUE, &nv) && nv == 0) {
		fputs("<p class=\"ok-box\">No violations in the period.</p>\n", f);
	}
	fputs("<div class=\"cards\">\n", f);
	card(f, "Violations", viol);
	card(f, "Classified files held", get(s, RK_CLASSIFIED));
	card(f, "New files", get(files, RK_NEW));
	card(f, "Changed files", get(files, RK_CHANGED));
	card(f, "Moved files", get(files, RK_MOVED));
	card(f, "Removed files", get(files, RK_REMOVED));
	fputs("</div>\n", f);

	const cJSON *st = get(s, RK_BY_STATE);
	fputs("<p>Violations by state at the end of the period: open ", f);
	put_count(f, get(st, RK_OPEN));
	fputs(", quarantined ", f);
	put_count(f, get(st, RK_QUARANTINED));
	fputs(", restored ", f);
	put_count(f, get(st, RK_RESTORED));
	fputs(".</p>\n", f);

	fputs("<h3>Violations by severity</h3>\n", f);
	report_svg_severity(f, get(s, RK_BY_SEVERITY));
	fputs("<h3>Per day</h3>\n", f);
	report_svg_daily(f, get(s, RK_DAILY));
	fputs("<div class=\"grid2\">\n", f);
	keyed(f, "Classified files by marking", "Marking", get(s, RK_CLASSIFIED_BY_MARKING),
	      "No classified files held.");
	keyed(f, "Top rules", "Rule", get(s, RK_TOP_RULES), "No rule matched in the period.");
	keyed(f, "Top agents", "Agent", get(s, RK_TOP_AGENTS), "No agent had a violation.");
	keyed(f, "Top owners", "Owner", get(s, RK_TOP_OWNERS), "No owner had a violation.");
	fputs("</div>\n", f);
}

static void
section_holdings(FILE *f, const cJSON *doc)
{
	const cJSON *h = get(doc, RK_HOLDINGS), *out = get(h, RK_OUTSIDE_SECURE);
	open_section(f, "holdings", "Holdings",
		     "Classified files present at the end of the period, by level and zone (a"
		     " file counts in every zone it is in).");
	report_svg_holdings(f, get(h, RK_BY_LEVEL_ZONE));
	static const struct col lz[] = {{"Scheme", RK_SCHEME, COL_STR},
					{"Level", RK_LEVEL, COL_STR},
					{"Zone", RK_ZONE, COL_STR},
					{"Files", RK_COUNT, COL_COUNT}};
	TABLE(f, get(h, RK_BY_LEVEL_ZONE), lz, "No classified files held.");
	fputs("<h3>Classified files outside secure zones</h3>\n", f);
	long long total;
	if (count(out, RK_TOTAL, &total) && total == 0) {
		fputs("<p class=\"ok-box\">No classified file is held outside the secure"
		      " zones.</p>\n",
		      f);
	} else {
		static const struct col rows[] = {{"Agent", RK_AGENT, COL_STR},
						  {"Path", RK_PATH, COL_PATH},
						  {"Marking", RK_MARKING, COL_STR},
						  {"Owner", RK_OWNER, COL_STR},
						  {"Since", RK_SINCE, COL_TIME}};
		TABLE(f, get(out, RK_ROWS), rows, "None listed.");
		more(f, out, get(out, RK_ROWS), "files");
	}
}

static void
section_violations(FILE *f, const cJSON *doc)
{
	const cJSON *v = get(doc, RK_VIOLATIONS), *rows = get(v, RK_ROWS);
	open_section(f, "violations", "Violations", NULL);
	long long total;
	bool zero = count(v, RK_TOTAL, &total) && total == 0 && len(rows) == 0;
	if (zero) {
		fputs("<p class=\"ok-box\">No violations in the period: no policy rule matched"
		      " any file event.</p>\n",
		      f);
	} else {
		fputs("<p>", f);
		put_count(f, get(v, RK_TOTAL));
		fputs(" violations in the period.</p>\n", f);
		static const struct col cols[] = {
			{"Time", RK_TIME, COL_TIME},     {"Agent", RK_AGENT, COL_STR},
			{"Rule", RK_RULE, COL_STR},      {"Severity", RK_SEVERITY, COL_BADGE},
			{"Action", RK_ACTION, COL_STR},  {"Result", RK_ACTION_RESULT, COL_STR},
			{"Event", RK_EVENT, COL_STR},    {"Path", RK_PATH, COL_PATH},
			{"From", RK_FROM, COL_PATH},     {"Owner", RK_OWNER, COL_STR},
			{"By", RK_BY, COL_STR},          {"Marking", RK_MARKING, COL_STR}};
		TABLE(f, rows, cols, "None listed.");
		more(f, v, rows, "violations");
	}
	static const struct col agg[] = {{"Key", RK_KEY, COL_STR}, {"Count", RK_COUNT, COL_COUNT}};
	static const struct {
		const char *key, *title;
	} aggs[] = {{RK_BY_RULE, "By rule"},
		    {RK_BY_SEVERITY, "By severity"},
		    {RK_BY_AGENT, "By agent"},
		    {RK_BY_DAY, "By day"}};
	fputs("<div class=\"grid4\">\n", f);
	for (size_t i = 0; i < 4; i++) {
		fprintf(f, "<div><h3>%s</h3>\n", aggs[i].title);
		TABLE(f, get(v, aggs[i].key), agg, "None.");
		fputs("</div>\n", f);
	}
	fputs("</div>\n", f);
}

static void
section_custody(FILE *f, const cJSON *doc)
{
	const cJSON *c = get(doc, RK_CUSTODY), *docs = get(c, RK_DOCUMENTS);
	open_section(f, "custody", "Chain of custody",
		     "Registered classified documents: every place each was seen, its copies,"
		     " excerpts found elsewhere, and deletions.");
	if (len(docs) == 0) {
		fputs(cJSON_IsArray(docs) ? "<p class=\"none\">No registered document was seen in"
					    " the period.</p>\n"
					  : "<p class=\"none\">-</p>\n",
		      f);
	}
	static const struct col places[] = {{"Agent", RK_AGENT, COL_STR},
					    {"Path", RK_PATH, COL_PATH},
					    {"First seen", RK_FIRST_SEEN, COL_TIME},
					    {"Last seen", RK_LAST_SEEN, COL_TIME},
					    {"Deleted", RK_DELETED, COL_BOOL}};
	static const struct col excerpts[] = {{"Registration", RK_ID, COL_STR},
					      {"Agent", RK_AGENT, COL_STR},
					      {"Path", RK_PATH, COL_PATH},
					      {"Share of the document", RK_COVERAGE, COL_FRAC}};
	for (int i = 0; i < len(docs); i++) {
		const cJSON *d = cJSON_GetArrayItem(docs, i);
		fputs("<h3>Document <code>", f);
		esc(f, str(d, RK_SHA256));
		fputs("</code></h3>\n<dl class=\"kv\">", f);
		dt(f, "Marking");
		esc(f, str(d, RK_MARKING));
		fputs("</dd>", f);
		dt(f, "Registered as");
		put_list(f, get(d, RK_REGISTERED));
		fputs("</dd>", f);
		dt(f, "Copies");
		put_count(f, get(d, RK_COPIES));
		fputs("</dd>", f);
		dt(f, "Deletions");
		put_count(f, get(d, RK_DELETIONS));
		fputs("</dd></dl>\n<h3>Places</h3>\n", f);
		TABLE(f, get(d, RK_PLACES), places, "Not seen anywhere.");
		fputs("<h3>Excerpts elsewhere</h3>\n", f);
		TABLE(f, get(d, RK_EXCERPTS), excerpts, "No excerpt found elsewhere.");
	}
	more(f, c, docs, "documents");
}

static void
section_integrity(FILE *f, const cJSON *doc, const char *digest)
{
	const cJSON *in = get(doc, RK_INTEGRITY);
	open_section(f, "integrity", "Integrity", NULL);
	fputs("<p>Report digest, SHA-256 of the canonical JSON:<br><code>", f);
	esc(f, digest);
	fputs("</code></p>\n<h3>Event chains</h3>\n", f);
	static const struct col chains[] = {
		{"Agent", RK_AGENT, COL_STR},         {"First seq", RK_FIRST_SEQ, COL_COUNT},
		{"Last seq", RK_LAST_SEQ, COL_COUNT}, {"Events", RK_EVENTS, COL_COUNT},
		{"Head", RK_HEAD, COL_CODE},          {"Status", RK_STATUS, COL_BADGE}};
	TABLE(f, get(in, RK_CHAINS), chains, "No event chain in scope.");
	fputs("<p class=\"note\">", f);
	esc(f, str(in, RK_NOTE));
	fputs("</p>\n", f);
}

static void
section_controls(FILE *f, const cJSON *doc)
{
	open_section(f, "controls", "Control mapping",
		     "Which sections of this report are evidence for which control.");
	static const struct col cols[] = {
		{"Framework", RK_FRAMEWORK, COL_STR}, {"Control", RK_CONTROL, COL_STR},
		{"Title", RK_TITLE, COL_STR},         {"Sections", RK_SECTIONS, COL_LIST},
		{"Evidence", RK_EVIDENCE, COL_BADGE}, {"Basis", RK_BASIS, COL_STR}};
	table_marked(f, get(doc, RK_CONTROLS), cols, sizeof(cols) / sizeof(*cols),
		     "No control is mapped.", RK_EVIDENCE, "absent");
}

/* --- the page ------------------------------------------------------------- */

static void
banner(FILE *f, const cJSON *doc, const char *where)
{
	const cJSON *m = get(get(doc, RK_ENVELOPE), RK_MARKING);
	long long rank = 0;
	if (!wire_json_int(get(m, RK_RANK), 0, 5, &rank)) {
		rank = 5; /* unknown: assume the worst */
	}
	const char *b = str(m, RK_BANNER);
	fprintf(f, "<div class=\"banner %s rank%lld\">", where, rank);
	esc(f, b && *b ? b : "UNMARKED");
	fputs("</div>\n", f);
}

int
report_html_write(const cJSON *doc, const char *digest, FILE *out, char *err, size_t errlen)
{
	const cJSON *env = get(doc, RK_ENVELOPE), *period = get(env, RK_PERIOD);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
	      " style-src 'unsafe-inline'\">\n<title>",
	      out);
	esc(out, str(get(env, RK_MARKING), RK_BANNER));
	fputs(" \u2014 leakwatch compliance report ", out);
	esc(out, str(period, RK_NAME));
	fputc(' ', out);
	esc(out, str(period, RK_SINCE));
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	banner(out, doc, "top");
	/* In print the fixed banners lie over the page area: the head and foot
	 * of this table repeat on every page and keep that space free. */
	fputs("<table class=\"page\"><thead><tr><td><div class=\"page-space\"></div>"
	      "</td></tr></thead>\n<tfoot><tr><td><div class=\"page-space\"></div></td></tr>"
	      "</tfoot>\n<tbody><tr><td>\n",
	      out);
	fputs("<main>\n<h1>leakwatch compliance report</h1>\n<p class=\"sub\">", out);
	esc(out, str(env, RK_SCOPE));
	fputs(" report, ", out);
	esc(out, str(period, RK_NAME));
	fputs(" ", out);
	put_time(out, get(period, RK_SINCE));
	fputs(" to ", out);
	put_time(out, get(period, RK_UNTIL));
	fputs("</p>\n", out);

	section_envelope(out, doc);
	fputs("</section>\n", out);
	section_coverage(out, doc);
	fputs("</section>\n", out);
	section_summary(out, doc);
	fputs("</section>\n", out);
	section_holdings(out, doc);
	fputs("</section>\n", out);
	section_violations(out, doc);
	fputs("</section>\n", out);
	section_custody(out, doc);
	fputs("</section>\n", out);
	section_integrity(out, doc, digest);
	fputs("</section>\n", out);
	section_controls(out, doc);
	fputs("</section>\n", out);

	fputs("<footer class=\"meta\">Report ", out);
	esc(out, str(env, RK_ID));
	fputs(", generated ", out);
	put_time(out, get(env, RK_GENERATED_AT));
	fputs(" by ", out);
	esc(out, str(env, RK_GENERATOR));
	fputs(".</footer>\n</main>\n</td></tr></tbody></table>\n", out);
	banner(out, doc, "bottom");
	fputs("</body>\n</html>\n", out);
	if (ferror(out)) {
		snprintf(err, errlen, "HTML: write error");
		return -EIO;
	}
	return 0;
}
