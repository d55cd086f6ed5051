/* report-csv.c — the report's tables as CSV files (see report-render.h).
 *
 * One RFC 4180 file per table: UTF-8, CRLF, a header row even when the
 * table is empty. Every cell is read from the document defensively (a
 * missing member or a wrong type is an empty cell, never a crash), since
 * `report render` takes documents from files. Single thread, no state. */
#include "report-render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "report-keys.h"
#include "report.h"
#include "wire.h"

/* The file names, in the order written. */
static const char *const table_names[] = {
	"envelope.csv",
	"policy_changes.csv",
	"policy_in_force.csv",
	"coverage_agents.csv",
	"coverage_silent.csv",
	"coverage_daily.csv",
	"summary_headline.csv",
	"summary_by_marking.csv",
	"summary_by_severity.csv",
	"summary_top_rules.csv",
	"summary_top_agents.csv",
	"summary_top_owners.csv",
	"summary_daily.csv",
	"holdings_by_level_zone.csv",
	"holdings_outside_secure.csv",
	"violations.csv",
	"violations_by_rule.csv",
	"violations_by_severity.csv",
	"violations_by_agent.csv",
	"violations_by_day.csv",
	"custody_places.csv",
	"custody_excerpts.csv",
	"integrity_chains.csv",
	"controls.csv",
};

/* One table being built in memory (written out whole, then renamed). */
struct csv {
	FILE *f;
	bool first; /* no cell yet on this row */
};

static const cJSON *
get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* @v if it is an array, else NULL (cJSON_ArrayForEach would walk an
 * object's members, and the document may have the wrong type). */
static const cJSON *
list(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

static const cJSON *
get2(const cJSON *o, const char *a, const char *b)
{
	return get(get(o, a), b);
}

/* True if @s needs wire_escape_line(): bytes that are not UTF-8, C0
 * controls other than TAB/CR/LF (quoting keeps those), DEL, C1 controls
 * and the bidirectional overrides (a name could reorder what a reader of
 * the spreadsheet sees). */
static bool
needs_escape(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
				return true;
			}
			i++;
			continue;
		}
		size_t n = wire_utf8_seq_len(s + i, len - i);
		if (n == 0) {
			return true;
		}
		unsigned cp = 0;
		if (n == 2) {
			cp = ((c & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
		} else if (n == 3) {
			cp = ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
		}
		if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			return true;
		}
		i += n;
	}
	return false;
}

static void
cell_text(struct csv *c, const char *s, size_t len, bool defuse)
{
	AUTOFREE char *esc = NULL;
	if (needs_escape((const unsigned char *)s, len)) {
		esc = wire_escape_line(s, len);
		s = esc;
		len = strlen(esc);
	}
	if (!c->first) {
		fputc(',', c->f);
	}
	c->first = false;
	/* Formula injection: paths, rule ids, owners and agent names come from
	 * users and hosts, and a spreadsheet opening this file would run a
	 * cell starting with = + - @ (or TAB/CR, which some strip first) as a
	 * formula (DDE, HYPERLINK exfiltration). A leading ' makes it text. */
	bool lead = defuse && len > 0 && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = lead || memchr(s, ',', len) || memchr(s, '"', len) || memchr(s, '\r', len) ||
		     memchr(s, '\n', len);
	if (!quote) {
		fwrite(s, 1, len, c->f);
		return;
	}
	fputc('"', c->f);
	if (lead) {
		fputc('\'', c->f);
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"') {
			fputc('"', c->f);
		}
		fputc(s[i], c->f);
	}
	fputc('"', c->f);
}

static void
cell_str(struct csv *c, const char *s)
{
	cell_text(c, s, strlen(s), true);
}

/* Numbers as the shortest text that reads back the same; whole numbers
 * without a fraction; anything not finite as an empty cell. */
static void
format_num(double d, char buf[64])
{
	buf[0] = '\0';
	if (!isfinite(d)) {
		return;
	}
	if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		snprintf(buf, 64, "%lld", (long long)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 64, "%.*g", prec, d);
		if (strtod(buf, NULL) == d) {
			break;
		}
	}
}

static void
cell_num(struct csv *c, double d)
{
	char buf[64];
	format_num(d, buf);
	cell_text(c, buf, strlen(buf), false);
}

/* An array of strings (agents, registrations, sections) joined by ';'. */
static void
cell_join(struct csv *c, const cJSON *arr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m) {
		abort();
	}
	const cJSON *it;
	bool first = true;
	cJSON_ArrayForEach (it, arr) {
		if (!first) {
			fputc(';', m);
		}
		first = false;
		if (cJSON_IsString(it)) {
			fputs(it->valuestring, m);
		} else if (cJSON_IsNumber(it)) {
			char buf[64];
			format_num(it->valuedouble, buf);
			fputs(buf, m);
		}
	}
	fclose(m);
	cell_text(c, text, len, true);
	free(text);
}

/* Any value: null, missing or a container is an empty cell. */
static void
cell(struct csv *c, const cJSON *v)
{
	if (cJSON_IsString(v) && v->valuestring) {
		cell_str(c, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		cell_num(c, v->valuedouble);
	} else if (cJSON_IsTrue(v)) {
		cell_text(c, "true", 4, false);
	} else if (cJSON_IsFalse(v)) {
		cell_text(c, "false", 5, false);
	} else if (cJSON_IsArray(v)) {
		cell_join(c, v);
	} else {
		cell_text(c, "", 0, false);
	}
}

static void
end_row(struct csv *c)
{
	fputs("\r\n", c->f);
	c->first = true;
}

/* A header row from a NULL-terminated list. */
static void
header(struct csv *c, const char *const *cols)
{
	for (size_t i = 0; cols[i]; i++) {
		cell_text(c, cols[i], strlen(cols[i]), false);
	}
	end_row(c);
}

/* Rows of @arr, one column per key of @cols (NULL-terminated). */
static void
rows(struct csv *c, const cJSON *arr, const char *const *cols)
{
	header(c, cols);
	const cJSON *it;
	cJSON_ArrayForEach (it, list(arr)) {
		for (size_t i = 0; cols[i]; i++) {
			cell(c, get(it, cols[i]));
		}
		end_row(c);
	}
}

/* One row per element of each parent's @child list: the parent's
 * @pcols, then the element's @ccols (both NULL-terminated). The nested
 * tables (custody places and excerpts, silent intervals). */
static void
child_rows(struct csv *c, const cJSON *parents, const char *const *pcols, const char *child,
	   const char *const *ccols)
{
	for (size_t i = 0; pcols[i]; i++) {
		cell_text(c, pcols[i], strlen(pcols[i]), false);
	}
	header(c, ccols);
	const cJSON *par;
	cJSON_ArrayForEach (par, list(parents)) {
		const cJSON *it;
		cJSON_ArrayForEach (it, list(get(par, child))) {
			for (size_t i = 0; pcols[i]; i++) {
				cell(c, get(par, pcols[i]));
			}
			for (size_t i = 0; ccols[i]; i++) {
				cell(c, get(it, ccols[i]));
			}
			end_row(c);
		}
	}
}

/* An aggregate list ({key, count} or {key, value, previous}) with its key
 * column named @keycol; @delta adds value - previous. */
static void
keyed(struct csv *c, const cJSON *arr, const char *keycol, bool with_previous)
{
	if (with_previous) {
		header(c, (const char *const[]){keycol, "value", "previous", "delta", NULL});
	} else {
		header(c, (const char *const[]){keycol, RK_COUNT, NULL});
	}
	const cJSON *it;
	cJSON_ArrayForEach (it, list(arr)) {
		cell(c, get(it, RK_KEY));
		if (!with_previous) {
			cell(c, get(it, RK_COUNT));
			end_row(c);
			continue;
		}
		const cJSON *v = get(it, RK_VALUE), *p = get(it, RK_PREVIOUS);
		cell(c, v);
		cell(c, p);
		if (cJSON_IsNumber(v) && cJSON_IsNumber(p)) {
			cell_num(c, v->valuedouble - p->valuedouble);
		} else {
			cell(c, NULL);
		}
		end_row(c);
	}
}

static void
kv(struct csv *c, const char *key, const cJSON *v)
{
	cell_str(c, key);
	cell(c, v);
	end_row(c);
}

static void
t_envelope(struct csv *c, const cJSON *doc)
{
	const cJSON *e = get(doc, RK_ENVELOPE);
	header(c, (const char *const[]){RK_KEY, RK_VALUE, NULL});
	kv(c, RK_SCHEMA, get(doc, RK_SCHEMA));
	kv(c, RK_ID, get(e, RK_ID));
	kv(c, RK_SCOPE, get(e, RK_SCOPE));
	kv(c, "period_" RK_NAME, get2(e, RK_PERIOD, RK_NAME));
	kv(c, "period_" RK_SINCE, get2(e, RK_PERIOD, RK_SINCE));
	kv(c, "period_" RK_UNTIL, get2(e, RK_PERIOD, RK_UNTIL));
	kv(c, "previous_" RK_SINCE, get2(e, RK_PREVIOUS, RK_SINCE));
	kv(c, "previous_" RK_UNTIL, get2(e, RK_PREVIOUS, RK_UNTIL));
	kv(c, RK_GENERATED_AT, get(e, RK_GENERATED_AT));
	kv(c, RK_GENERATOR, get(e, RK_GENERATOR));
	kv(c, RK_AGENTS, get(e, RK_AGENTS));
	kv(c, RK_ROOTS, get(e, RK_ROOTS));
	kv(c, "marking_" RK_BANNER, get2(e, RK_MARKING, RK_BANNER));
	kv(c, "marking_" RK_RANK, get2(e, RK_MARKING, RK_RANK));
	kv(c, RK_REDACTED_PATHS, get(e, RK_REDACTED_PATHS));
	kv(c, RK_ROW_LIMIT, get(e, RK_ROW_LIMIT));
	kv(c, RK_EMPTY, get(e, RK_EMPTY));
}

static void
t_policy_changes(struct csv *c, const cJSON *doc)
{
	rows(c, get2(get(doc, RK_ENVELOPE), RK_POLICY, RK_CHANGES),
	     (const char *const[]){RK_TIME, RK_AGENT, RK_SHA256, RK_RULES, RK_FILE, NULL});
}

static void
t_policy_in_force(struct csv *c, const cJSON *doc)
{
	rows(c, get2(get(doc, RK_ENVELOPE), RK_POLICY, RK_IN_FORCE),
	     (const char *const[]){RK_SHA256, RK_AGENTS, NULL});
}

static const cJSON *
coverage_agents(const cJSON *doc)
{
	const cJSON *a = get2(doc, RK_COVERAGE, RK_AGENTS);
	return list(a);
}

static void
t_coverage_agents(struct csv *c, const cJSON *doc)
{
	static const char *const scalars[] = {
		RK_AGENT,         RK_VERSION,        RK_FIRST_CONTACT,
		RK_LAST_CONTACT,  RK_SILENT_NOW,     RK_SILENT_SECONDS,
		RK_COVERAGE,      RK_WATCH_COVERAGE, RK_UNWATCHED_DIRS,
		RK_SEQUENCE_GAPS, RK_CHAIN,          RK_ALERTS,
		RK_OVERFLOWS,     RK_RESCANS,        NULL};
	static const char *const unexamined[] = {RK_PERMISSION, RK_SIZE_CAP, RK_TIMEOUT,
						 RK_ENCRYPTED,  RK_OTHER,    NULL};
	for (size_t i = 0; scalars[i]; i++) {
		cell_text(c, scalars[i], strlen(scalars[i]), false);
	}
	for (size_t i = 0; unexamined[i]; i++) {
		char col[64];
		snprintf(col, sizeof(col), RK_UNEXAMINED "_%s", unexamined[i]);
		cell_text(c, col, strlen(col), false);
	}
	cell_text(c, RK_INVENTORY_FILES, strlen(RK_INVENTORY_FILES), false);
	end_row(c);
	const cJSON *it;
	cJSON_ArrayForEach (it, coverage_agents(doc)) {
		for (size_t i = 0; scalars[i]; i++) {
			cell(c, get(it, scalars[i]));
		}
		for (size_t i = 0; unexamined[i]; i++) {
			cell(c, get2(it, RK_UNEXAMINED, unexamined[i]));
		}
		cell(c, get(it, RK_INVENTORY_FILES));
		end_row(c);
	}
}

static void
t_coverage_silent(struct csv *c, const cJSON *doc)
{
	child_rows(c, coverage_agents(doc), (const char *const[]){RK_AGENT, NULL}, RK_SILENT,
		   (const char *const[]){RK_SINCE, RK_UNTIL, RK_SECONDS, NULL});
}

/* daily[i] is the coverage of coverage.days[i]. */
static void
t_coverage_daily(struct csv *c, const cJSON *doc)
{
	header(c, (const char *const[]){RK_AGENT, RK_DAY, RK_COVERAGE, NULL});
	const cJSON *days = get2(doc, RK_COVERAGE, RK_DAYS);
	if (!cJSON_IsArray(days)) {
		days = NULL;
	}
	const cJSON *it;
	cJSON_ArrayForEach (it, coverage_agents(doc)) {
		const cJSON *daily = get(it, RK_DAILY);
		if (!cJSON_IsArray(daily)) {
			continue;
		}
		int n = cJSON_GetArraySize(daily);
		for (int i = 0; i < n; i++) {
			cell(c, get(it, RK_AGENT));
			cell(c, days ? cJSON_GetArrayItem(days, i) : NULL);
			cell(c, cJSON_GetArrayItem(daily, i));
			end_row(c);
		}
	}
}

static void
headline(struct csv *c, const char *figure, const cJSON *d)
{
	const cJSON *v = get(d, RK_VALUE), *p = get(d, RK_PREVIOUS);
	cell_str(c, figure);
	cell(c, v);
	cell(c, p);
	if (cJSON_IsNumber(v) && cJSON_IsNumber(p)) {
		cell_num(c, v->valuedouble - p->valuedouble);
	} else {
		cell(c, NULL);
	}
	end_row(c);
}

static void
t_summary_headline(struct csv *c, const cJSON *doc)
{
	const cJSON *s = get(doc, RK_SUMMARY);
	header(c, (const char *const[]){RK_FIGURE, RK_VALUE, RK_PREVIOUS, "delta", NULL});
	headline(c, RK_CLASSIFIED, get(s, RK_CLASSIFIED));
	headline(c, RK_FILES "_" RK_NEW, get2(s, RK_FILES, RK_NEW));
	headline(c, RK_FILES "_" RK_CHANGED, get2(s, RK_FILES, RK_CHANGED));
	headline(c, RK_FILES "_" RK_MOVED, get2(s, RK_FILES, RK_MOVED));
	headline(c, RK_FILES "_" RK_REMOVED, get2(s, RK_FILES, RK_REMOVED));
	headline(c, RK_VIOLATIONS, get(s, RK_VIOLATIONS));
	/* The states have no previous period. */
	static const char *const states[] = {RK_OPEN, RK_QUARANTINED, RK_RESTORED};
	for (size_t i = 0; i < LW_ARRAY_SIZE(states); i++) {
		char fig[64];
		snprintf(fig, sizeof(fig), RK_VIOLATIONS "_%s", states[i]);
		cell_str(c, fig);
		cell(c, get2(s, RK_BY_STATE, states[i]));
		cell(c, NULL);
		cell(c, NULL);
		end_row(c);
	}
}

static void
t_summary_by_marking(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_SUMMARY, RK_CLASSIFIED_BY_MARKING), RK_MARKING, true);
}

static void
t_summary_by_severity(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_SUMMARY, RK_BY_SEVERITY), RK_SEVERITY, true);
}

static void
t_summary_top_rules(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_SUMMARY, RK_TOP_RULES), RK_RULE, true);
}

static void
t_summary_top_agents(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_SUMMARY, RK_TOP_AGENTS), RK_AGENT, true);
}

static void
t_summary_top_owners(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_SUMMARY, RK_TOP_OWNERS), RK_OWNER, true);
}

static void
t_summary_daily(struct csv *c, const cJSON *doc)
{
	rows(c, get2(doc, RK_SUMMARY, RK_DAILY),
	     (const char *const[]){RK_DAY, RK_VIOLATIONS, RK_NEW, RK_CHANGED, RK_MOVED, RK_REMOVED,
				   NULL});
}

static void
t_holdings_by_level_zone(struct csv *c, const cJSON *doc)
{
	rows(c, get2(doc, RK_HOLDINGS, RK_BY_LEVEL_ZONE),
	     (const char *const[]){RK_SCHEME, RK_LEVEL, RK_ZONE, RK_COUNT, NULL});
}

static void
t_holdings_outside_secure(struct csv *c, const cJSON *doc)
{
	rows(c, get2(get(doc, RK_HOLDINGS), RK_OUTSIDE_SECURE, RK_ROWS),
	     (const char *const[]){RK_AGENT, RK_PATH, RK_MARKING, RK_OWNER, RK_SINCE, NULL});
}

static void
t_violations(struct csv *c, const cJSON *doc)
{
	rows(c, get2(doc, RK_VIOLATIONS, RK_ROWS),
	     (const char *const[]){RK_TIME, RK_AGENT, RK_RULE, RK_SEVERITY, RK_ACTION,
				   RK_ACTION_RESULT, RK_EVENT, RK_PATH, RK_FROM, RK_OWNER,
				   RK_MARKING, RK_BY, NULL});
}

static void
t_violations_by_rule(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_VIOLATIONS, RK_BY_RULE), RK_RULE, false);
}

static void
t_violations_by_severity(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_VIOLATIONS, RK_BY_SEVERITY), RK_SEVERITY, false);
}

static void
t_violations_by_agent(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_VIOLATIONS, RK_BY_AGENT), RK_AGENT, false);
}

static void
t_violations_by_day(struct csv *c, const cJSON *doc)
{
	keyed(c, get2(doc, RK_VIOLATIONS, RK_BY_DAY), RK_DAY, false);
}

static const cJSON *
custody_documents(const cJSON *doc)
{
	const cJSON *d = get2(doc, RK_CUSTODY, RK_DOCUMENTS);
	return list(d);
}

static void
t_custody_places(struct csv *c, const cJSON *doc)
{
	child_rows(c, custody_documents(doc),
		   (const char *const[]){RK_SHA256, RK_MARKING, RK_REGISTERED, NULL}, RK_PLACES,
		   (const char *const[]){RK_AGENT, RK_PATH, RK_FIRST_SEEN, RK_LAST_SEEN, RK_DELETED,
					 NULL});
}

static void
t_custody_excerpts(struct csv *c, const cJSON *doc)
{
	child_rows(c, custody_documents(doc), (const char *const[]){RK_SHA256, RK_MARKING, NULL},
		   RK_EXCERPTS,
		   (const char *const[]){RK_ID, RK_AGENT, RK_PATH, RK_COVERAGE, NULL});
}

static void
t_integrity_chains(struct csv *c, const cJSON *doc)
{
	rows(c, get2(doc, RK_INTEGRITY, RK_CHAINS),
	     (const char *const[]){RK_AGENT, RK_FIRST_SEQ, RK_LAST_SEQ, RK_EVENTS, RK_HEAD,
				   RK_STATUS, NULL});
}

static void
t_controls(struct csv *c, const cJSON *doc)
{
	rows(c, get(doc, RK_CONTROLS),
	     (const char *const[]){RK_FRAMEWORK, RK_CONTROL, RK_TITLE, RK_SECTIONS, RK_EVIDENCE,
				   RK_BASIS, NULL});
}

static void (*const table_fns[])(struct csv *, const cJSON *) = {
	t_envelope,
	t_policy_changes,
	t_policy_in_force,
	t_coverage_agents,
	t_coverage_silent,
	t_coverage_daily,
	t_summary_headline,
	t_summary_by_marking,
	t_summary_by_severity,
	t_summary_top_rules,
	t_summary_top_agents,
	t_summary_top_owners,
	t_summary_daily,
	t_holdings_by_level_zone,
	t_holdings_outside_secure,
	t_violations,
	t_violations_by_rule,
	t_violations_by_severity,
	t_violations_by_agent,
	t_violations_by_day,
	t_custody_places,
	t_custody_excerpts,
	t_integrity_chains,
	t_controls,
};

_Static_assert(LW_ARRAY_SIZE(table_names) == LW_ARRAY_SIZE(table_fns), "one function per table");

static void
free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++) {
		free(names[i]);
	}
	free(names);
}

int
report_csv_write(const cJSON *doc, const char *dir, char ***names, char *err, size_t errlen)
{
	*names = NULL;
	size_t n = LW_ARRAY_SIZE(table_names);
	char **out = lw_calloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		char *text = NULL;
		size_t len = 0;
		struct csv c = {.f = open_memstream(&text, &len), .first = true};
		if (!c.f) {
			abort();
		}
		table_fns[i](&c, doc);
		if (fclose(c.f) != 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", table_names[i], strerror(e));
			free(text);
			free_names(out);
			return -e;
		}
		AUTOFREE char *path = lw_asprintf("%s/%s", dir, table_names[i]);
		int r = report_write_file(path, text, len, err, errlen);
		free(text);
		if (r < 0) {
			free_names(out);
			return r;
		}
		out[i] = lw_strdup(table_names[i]);
	}
	*names = out;
	return 0;
}
