/* report.h — compliance reports (doc/report-schema.json is the document).
 *
 * A report is built once, as one cJSON document, from one source: the
 * agent's database (report-local.c) or the collector (report-fleet.c).
 * Everything else (HTML, CSV, the digest and the signature) is rendered
 * from that document, so the three formats cannot disagree. Single
 * thread; no state outside the objects passed in. Returns follow
 * doc/style.md: 0 or -errno, with a message in @err where one is taken. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "report-keys.h"

#define REPORT_SCHEMA "leakwatch-report/1"
#define REPORT_ROW_LIMIT 5000 /* rows per list; aggregates count them all */

enum report_period_name {
	REPORT_PERIOD_DAY,
	REPORT_PERIOD_WEEK,
	REPORT_PERIOD_MONTH,
	REPORT_PERIOD_QUARTER,
	REPORT_PERIOD_CUSTOM,
};

/* [since, until) in ns since the epoch, UTC, and the previous period of the
 * same length, [prev_since, since). */
struct report_period {
	enum report_period_name name;
	int64_t since, until;
	int64_t prev_since;
};

const char *report_period_name(enum report_period_name n);

/* The period of the command line at @now (ns): @period (day, week, month,
 * quarter: the last complete one; NULL with no --since: week), or
 * @since/@until (RFC 3339 UTC, a date YYYY-MM-DD meaning its midnight, or
 * a relative "24h"/"7d" back from @now; @until NULL: @now). Returns 0, or
 * -EINVAL with what is wrong in @err. */
int report_period_parse(const char *period, const char *since, const char *until, int64_t now,
			struct report_period *out, char *err, size_t errlen);

struct report_options {
	struct report_period period;
	int64_t now;        /* generated_at */
	bool redact_paths;  /* paths as their directory + SHA-256 */
	long row_limit;     /* REPORT_ROW_LIMIT when 0 */
	const char *const *agents; /* fleet: only these (NULL: all) */
	size_t nagents;
};

/* The canonical bytes of @doc (what the JSON file holds, and what the
 * digest covers): cJSON's unformatted print and a newline. Caller frees. */
char *report_canonical(const cJSON *doc);

/* --- shared by the builders (report-doc.c) --- */

/* Formats @ns as the report's times ("2026-11-23T05:10:34.123Z"). */
cJSON *report_time(int64_t ns);
/* Who did it, in a line, from a violation body's "process" (agent/
 * procinfo.h): "nobody (uid 65534): /usr/bin/cp, from /usr/bin/bash", or
 * "pid 4242, exited". JSON null when the body has none (inotify, or an
 * agent from before attribution). */
cJSON *report_process_by(const cJSON *process);
/* "YYYY-MM-DD" of @ns, UTC, into @out (11 bytes). */
void report_day(int64_t ns, char out[11]);
/* A path as the report shows it: escaped bytes as wire.h does (\udcXX),
 * or with @redact its directory, '/', and "sha256:" + the SHA-256 of the
 * whole path. */
cJSON *report_path(const char *path, size_t len, bool redact);
/* The control mapping appendix, judged from the sections of @doc (which
 * must have all of them) and whether the report will be signed. */
cJSON *report_controls(const cJSON *doc, bool signed_report);
/* Sets envelope.marking from the highest marking the document mentions. */
void report_set_banner(cJSON *doc);

/* Tallies: an object of key -> [this period, previous period]. Adds @n to
 * @key's count of period @which (0 this, 1 previous). */
void report_tally(cJSON *map, const char *key, int which, long n);
/* The tally as [{"key","value","previous"}] (@keyed) or [{"key","count"}],
 * largest first (or by key with @sort_by_key), at most @top (0: all);
 * entries with nothing in the period are left out of an aggregate. */
cJSON *report_tally_list(const cJSON *map, bool keyed, bool sort_by_key, size_t top);
/* {"value", "previous"} */
cJSON *report_delta(long long value, long long previous);
/* The envelope section (takes @agents, @roots and @policy); its marking is
 * filled in by report_set_banner(). */
cJSON *report_envelope(const struct report_options *o, const char *scope, cJSON *agents,
		       cJSON *roots, cJSON *policy, long row_limit, bool empty);
/* The days of [since, until) (UTC dates) into array @days, and into object
 * @daily an entry per day with zero counts of violations, new, changed,
 * moved and removed. Returns how many. */
size_t report_days(int64_t since, int64_t until, cJSON *days, cJSON *daily);
/* Pieces of the sections both builders make from their tallies: the
 * summary's four severities with deltas, its daily series (from the
 * @daily object of report_days()), the holdings section (@holdings a
 * tally of "scheme\tlevel\tzone"; takes @outside_rows) and the
 * violations section (takes @rows). */
cJSON *report_by_severity(const cJSON *by_sev);
/* The summary's top rules, agents and owners (REPORT_TOP_N each, with
 * deltas) and its daily series, added to @s. */
#define REPORT_TOP_N 10
void report_summary_lists(cJSON *s, const cJSON *by_rule, const cJSON *by_agent,
			  const cJSON *by_owner, const cJSON *daily);
cJSON *report_daily_list(const cJSON *daily);
cJSON *report_holdings_section(const cJSON *holdings, long long outside_total, cJSON *outside_rows);
cJSON *report_violations_section(long long total, cJSON *rows, const cJSON *by_rule,
				 const cJSON *by_sev, const cJSON *by_agent, const cJSON *by_day);

/* --- output (report-output.c) --- */

enum report_format {
	REPORT_FORMAT_HTML,
	REPORT_FORMAT_JSON,
	REPORT_FORMAT_CSV,
};

/* "html", "json", "csv": 0 and *out, or -EINVAL. */
int report_format_parse(const char *s, enum report_format *out);

/* Completes @doc (the control mapping, judged with @sign_key's presence)
 * and writes it as @fmt to @out with its signature file (report-sign.h):
 * - @out an existing directory: inside it, under the report's own name
 *   (leakwatch-SCOPE-PERIOD-YYYY-MM-DD.html|.json, or a directory of that
 *   name for CSV);
 * - otherwise @out itself (for CSV a directory, created);
 * - @out NULL: HTML or JSON on stdout, no signature file (CSV needs @out).
 * Files are written 0600 (the report is as sensitive as what it lists)
 * under a temporary name and renamed into place, so a reader never sees
 * half a report. The path written goes to *written (caller frees; NULL for
 * stdout). Returns 0 or -errno with @err. */
int report_write(cJSON *doc, enum report_format fmt, const char *out, const char *sign_key,
		 char **written, char *err, size_t errlen);

/* @len bytes at @data to @path, mode 0600, under a temporary name that is
 * synced and renamed into place: a reader never sees half a file. Returns
 * 0 or -errno with @err naming the file. Every report file goes through it. */
int report_write_file(const char *path, const char *data, size_t len, char *err,
		      size_t errlen);

/* --- sources --- */

struct store;
struct policy;
struct lw_http_client;

/* One workstation, from its inventory (report-local.c). */
struct report_local_source {
	struct store *st;             /* read-only connection */
	const struct policy *policy;  /* the zones files are counted in */
	const char *agent;            /* the name the report gives this host */
	const char *const *roots;     /* watched roots */
	size_t nroots;
};
int report_build_local(const struct report_local_source *src, const struct report_options *o,
		       cJSON **doc, char *err, size_t errlen);

/* The fleet, from the collector's report endpoints (report-fleet.c). */
int report_build_fleet(struct lw_http_client *http, const struct report_options *o,
		       cJSON **doc, char *err, size_t errlen);
