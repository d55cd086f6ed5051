/* report-doc.c — pieces every report builder shares (see report.h): times,
 * paths, the banner and the control mapping. */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "hash.h"
#include "json.h"
#include "mem.h"
#include "store.h"

const char *
report_period_name(enum report_period_name n)
{
	switch (n) {
	case REPORT_PERIOD_DAY:
		return "day";
	case REPORT_PERIOD_WEEK:
		return "week";
	case REPORT_PERIOD_MONTH:
		return "month";
	case REPORT_PERIOD_QUARTER:
		return "quarter";
	case REPORT_PERIOD_CUSTOM:
		return "custom";
	}
	return "custom";
}

char *
report_canonical(const cJSON *doc)
{
	/* lw_json_print: names that are not UTF-8 keep their \udcXX escapes,
	 * numbers in their shortest exact form; the same tree always gives
	 * the same bytes. */
	AUTOFREE char *s = lw_json_print(doc);
	size_t n = strlen(s);
	char *out = lw_malloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

cJSON *
report_time(int64_t ns)
{
	char t[CHAIN_TIME_LEN + 1];
	chain_time(ns, t);
	return cJSON_CreateString(t);
}

static const char *
str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *
report_process_by(const cJSON *p)
{
	if (!cJSON_IsObject(p)) {
		return cJSON_CreateNull();
	}
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(p, "uid");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(p, "pid");
	const char *user = str_of(p, "user"), *login = str_of(p, "login_user");
	const char *exe = str_of(p, "exe");
	const cJSON *parents = cJSON_GetObjectItemCaseSensitive(p, "parents");
	const char *parent = str_of(cJSON_GetArrayItem(parents, 0), "exe");
	char who[256] = "", what[1024];
	if (cJSON_IsNumber(uid)) {
		snprintf(who, sizeof(who), "%s (uid %.0f%s%s)", user ? user : "?", uid->valuedouble,
			 login && (!user || strcmp(login, user) != 0) ? ", login " : "",
			 login && (!user || strcmp(login, user) != 0) ? login : "");
	}
	if (exe) {
		snprintf(what, sizeof(what), "%s%s%s%s%s", who, *who ? ": " : "", exe,
			 parent ? ", from " : "", parent ? parent : "");
	} else {
		snprintf(what, sizeof(what), "%s%spid %.0f, exited", who, *who ? ": " : "",
			 cJSON_IsNumber(pid) ? pid->valuedouble : 0.0);
	}
	return cJSON_CreateString(what);
}

void
report_day(int64_t ns, char out[11])
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

cJSON *
report_path(const char *path, size_t len, bool redact)
{
	AUTOFREE char *s = NULL;
	if (!redact) {
		s = lw_malloc(len + 1);
		memcpy(s, path, len);
		s[len] = '\0';
		return cJSON_CreateString(s);
	}
	/* The directory stays readable (where it was), the name does not:
	 * the digest still lets an officer who has the full path confirm it. */
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_sha256_hex(path, len, hex);
	size_t dir = len;
	while (dir > 0 && path[dir - 1] != '/') {
		dir--;
	}
	s = lw_malloc(dir + 8 + sizeof(hex));
	memcpy(s, path, dir);
	snprintf(s + dir, 8 + sizeof(hex), "sha256:%s", hex);
	return cJSON_CreateString(s);
}

/* --- the banner --- */

struct banner {
	int rank;
	char text[256];
};

/* The rank of a marking's level words (store_rank_of() names): markings
 * are shown as the document carried them, so the level is read from the
 * text, the longest name first ("TOP SECRET" before "SECRET"). */
static int
marking_rank(const char *m)
{
	static const char *const levels[] = {"TOP SECRET", "SECRET", "CONFIDENTIAL",
					     "RESTRICTED", "UNCLASSIFIED"};
	for (size_t i = 0; i < LW_ARRAY_SIZE(levels); i++) {
		if (strstr(m, levels[i])) {
			return store_rank_of(levels[i]);
		}
	}
	return 0;
}

static void
note(struct banner *b, const char *marking, int rank)
{
	if (!marking || rank <= 0 || rank < b->rank) {
		return;
	}
	if (rank > b->rank) {
		b->rank = rank;
		b->text[0] = '\0';
	}
	if (strstr(b->text, marking)) {
		return;
	}
	/* several schemes at the same level: each is named */
	size_t n = strlen(b->text);
	snprintf(b->text + n, sizeof(b->text) - n, "%s%s", n ? " / " : "", marking);
}

static void
note_rows(struct banner *b, const cJSON *rows, const char *key)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, rows)
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, key);
		if (cJSON_IsString(m)) {
			note(b, m->valuestring, marking_rank(m->valuestring));
		}
	}
}

static const cJSON *
at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

void
report_set_banner(cJSON *doc)
{
	struct banner b = {0};
	note_rows(&b, at(doc, RK_SUMMARY, RK_CLASSIFIED_BY_MARKING), RK_KEY);
	note_rows(&b, at(at(doc, RK_HOLDINGS, RK_OUTSIDE_SECURE), RK_ROWS, NULL), RK_MARKING);
	note_rows(&b, at(doc, RK_VIOLATIONS, RK_ROWS), RK_MARKING);
	note_rows(&b, at(doc, RK_CUSTODY, RK_DOCUMENTS), RK_MARKING);
	const cJSON *r;
	cJSON_ArrayForEach(r, at(doc, RK_HOLDINGS, RK_BY_LEVEL_ZONE))
	{
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, RK_LEVEL);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, RK_SCHEME);
		if (cJSON_IsString(l) && cJSON_IsString(s)) {
			char m[160];
			snprintf(m, sizeof(m), "%s %s", s->valuestring, l->valuestring);
			note(&b, m, store_rank_of(l->valuestring));
		}
	}
	cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, RK_ENVELOPE);
	cJSON *mk = cJSON_CreateObject();
	/* Nothing classified mentioned: the report is still about a
	 * monitoring system and says so rather than print no banner. */
	cJSON_AddStringToObject(mk, RK_BANNER, b.rank > 0 ? b.text : "UNCLASSIFIED");
	cJSON_AddNumberToObject(mk, RK_RANK, b.rank);
	cJSON_DeleteItemFromObjectCaseSensitive(env, RK_MARKING);
	cJSON_AddItemToObject(env, RK_MARKING, mk);
}

/* --- the control mapping --- */

enum evidence_test {
	EVIDENCE_AGENTS,     /* something was monitored in the period */
	EVIDENCE_CHAINS_OK,  /* every agent's chain is intact */
	EVIDENCE_CHAINS,     /* chain heads are stated */
	EVIDENCE_SIGNED,
};

struct control {
	const char *framework, *control, *title;
	const char *sections[3];
	enum evidence_test test;
	const char *basis;
};

#define NIST "NIST SP 800-53"
#define ISO "ISO/IEC 27001:2022"

static const struct control controls[] = {
	{NIST, "AU-6", "Audit record review, analysis, and reporting", {RK_SUMMARY, RK_VIOLATIONS},
	 EVIDENCE_AGENTS, "every violation of the period, listed and aggregated for review"},
	{NIST, "AU-7", "Audit record reduction and report generation", {RK_SUMMARY, RK_VIOLATIONS},
	 EVIDENCE_AGENTS, "aggregates by rule, severity, agent and day, with deltas"},
	{NIST, "AU-9", "Protection of audit information", {RK_INTEGRITY, RK_COVERAGE},
	 EVIDENCE_CHAINS_OK, "hash-chained event logs, verified by the collector"},
	{NIST, "AU-10", "Non-repudiation", {RK_INTEGRITY}, EVIDENCE_SIGNED,
	 "the report is signed (--sign-key) over its digest and the chain heads"},
	{NIST, "SI-4", "System monitoring", {RK_COVERAGE}, EVIDENCE_AGENTS,
	 "coverage per agent: contact, silences, unwatched directories, unexamined files"},
	{NIST, "SI-7", "Software, firmware, and information integrity", {RK_INTEGRITY, RK_CUSTODY},
	 EVIDENCE_CHAINS, "chain heads of each agent's event log, content hashes of documents"},
	{NIST, "MP-7", "Media use", {RK_HOLDINGS, RK_VIOLATIONS}, EVIDENCE_AGENTS,
	 "classified files in the removable zone, and violations there"},
	{NIST, "AC-3", "Access enforcement", {RK_HOLDINGS, RK_VIOLATIONS}, EVIDENCE_AGENTS,
	 "world-readable classified files; quarantine actions and their results"},
	{ISO, "A.5.12", "Classification of information", {RK_HOLDINGS, RK_SUMMARY}, EVIDENCE_AGENTS,
	 "classified files held, by scheme, level and zone"},
	{ISO, "A.5.13", "Labelling of information", {RK_HOLDINGS, RK_SUMMARY}, EVIDENCE_AGENTS,
	 "files counted by the marking they carry"},
	{ISO, "A.8.12", "Data leakage prevention", {RK_VIOLATIONS, RK_CUSTODY}, EVIDENCE_AGENTS,
	 "violations, and where each classified document travelled"},
	{ISO, "A.8.15", "Logging", {RK_INTEGRITY, RK_COVERAGE}, EVIDENCE_CHAINS,
	 "tamper-evident event logs and the events each chain head covers"},
	{ISO, "A.8.16", "Monitoring activities", {RK_COVERAGE, RK_SUMMARY}, EVIDENCE_AGENTS,
	 "coverage and completeness of monitoring, before any finding"},
};

static bool
evidence(const cJSON *doc, enum evidence_test t, bool signed_report, const char **why)
{
	const cJSON *agents = at(doc, RK_COVERAGE, RK_AGENTS);
	const cJSON *chains = at(doc, RK_INTEGRITY, RK_CHAINS);
	switch (t) {
	case EVIDENCE_AGENTS:
		*why = "no agent in scope reported in the period";
		return cJSON_GetArraySize(agents) > 0;
	case EVIDENCE_CHAINS: {
		*why = "no event log covers the period";
		const cJSON *c;
		cJSON_ArrayForEach(c, chains)
		{
			if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, RK_HEAD))) {
				return true;
			}
		}
		return false;
	}
	case EVIDENCE_CHAINS_OK: {
		*why = "no event log covers the period";
		bool any = false;
		const cJSON *c;
		cJSON_ArrayForEach(c, chains)
		{
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, RK_STATUS);
			if (cJSON_IsString(st) && strcmp(st->valuestring, "broken") == 0) {
				*why = "an agent's event chain is broken (see integrity)";
				return false;
			}
			any = any || cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, RK_HEAD));
		}
		return any;
	}
	case EVIDENCE_SIGNED:
		*why = "the report is not signed (--sign-key)";
		return signed_report;
	}
	return false;
}

cJSON *
report_controls(const cJSON *doc, bool signed_report)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < LW_ARRAY_SIZE(controls); i++) {
		const struct control *k = &controls[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, RK_FRAMEWORK, k->framework);
		cJSON_AddStringToObject(o, RK_CONTROL, k->control);
		cJSON_AddStringToObject(o, RK_TITLE, k->title);
		cJSON *secs = cJSON_AddArrayToObject(o, RK_SECTIONS);
		for (size_t j = 0; j < LW_ARRAY_SIZE(k->sections) && k->sections[j]; j++) {
			cJSON_AddItemToArray(secs, cJSON_CreateString(k->sections[j]));
		}
		const char *why = NULL;
		bool ok = evidence(doc, k->test, signed_report, &why);
		cJSON_AddStringToObject(o, RK_EVIDENCE, ok ? "present" : "absent");
		cJSON_AddStringToObject(o, RK_BASIS, ok ? k->basis : why);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* --- tallies: key -> [this period, previous period] --- */

void
report_tally(cJSON *map, const char *key, int which, long n)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
	if (!v) {
		v = cJSON_CreateIntArray((const int[]){0, 0}, 2);
		cJSON_AddItemToObject(map, key, v);
	}
	cJSON *c = cJSON_GetArrayItem(v, which);
	cJSON_SetNumberValue(c, c->valuedouble + (double)n);
}

static int
by_value_desc(const void *a, const void *b)
{
	const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
	double dx = cJSON_GetArrayItem(x, 0)->valuedouble;
	double dy = cJSON_GetArrayItem(y, 0)->valuedouble;
	if (dx != dy) {
		return dx < dy ? 1 : -1;
	}
	return strcmp(x->string, y->string);
}

static int
by_key(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* The tally as [{"key","value","previous"}] (@keyed) or [{"key","count"}],
 * largest first (or by key with @sort_by_key), at most @top (0: all);
 * entries with nothing in the period are left out of an aggregate. */
cJSON *
report_tally_list(const cJSON *map, bool keyed, bool sort_by_key, size_t top)
{
	size_t n = (size_t)cJSON_GetArraySize(map);
	cJSON **v = lw_calloc(n ? n : 1, sizeof(*v));
	size_t i = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, map)
	{
		v[i++] = e;
	}
	qsort(v, n, sizeof(*v), sort_by_key ? by_key : by_value_desc);
	cJSON *out = cJSON_CreateArray();
	size_t kept = 0;
	for (i = 0; i < n && (!top || kept < top); i++) {
		double cur = cJSON_GetArrayItem(v[i], 0)->valuedouble;
		double prev = cJSON_GetArrayItem(v[i], 1)->valuedouble;
		if (!keyed && cur == 0) {
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, RK_KEY, v[i]->string);
		if (keyed) {
			cJSON_AddNumberToObject(o, RK_VALUE, cur);
			cJSON_AddNumberToObject(o, RK_PREVIOUS, prev);
		} else {
			cJSON_AddNumberToObject(o, RK_COUNT, cur);
		}
		cJSON_AddItemToArray(out, o);
		kept++;
	}
	free(v);
	return out;
}

cJSON *
report_delta(long long value, long long previous)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, RK_VALUE, (double)value);
	cJSON_AddNumberToObject(o, RK_PREVIOUS, (double)previous);
	return o;
}

cJSON *
report_envelope(const struct report_options *o, const char *scope, cJSON *agents, cJSON *roots,
		cJSON *policy, long row_limit, bool empty)
{
	cJSON *e = cJSON_CreateObject();
	char uuid[CHAIN_UUID_LEN + 1];
	chain_uuid(uuid);
	cJSON_AddStringToObject(e, RK_ID, uuid);
	cJSON_AddStringToObject(e, RK_SCOPE, scope);
	cJSON *p = cJSON_AddObjectToObject(e, RK_PERIOD);
	cJSON_AddStringToObject(p, RK_NAME, report_period_name(o->period.name));
	cJSON_AddItemToObject(p, RK_SINCE, report_time(o->period.since));
	cJSON_AddItemToObject(p, RK_UNTIL, report_time(o->period.until));
	cJSON *pr = cJSON_AddObjectToObject(e, RK_PREVIOUS);
	cJSON_AddItemToObject(pr, RK_SINCE, report_time(o->period.prev_since));
	cJSON_AddItemToObject(pr, RK_UNTIL, report_time(o->period.since));
	cJSON_AddItemToObject(e, RK_GENERATED_AT, report_time(o->now));
	cJSON_AddStringToObject(e, RK_GENERATOR, "leakwatch " LW_VERSION);
	cJSON_AddItemToObject(e, RK_AGENTS, agents);
	cJSON_AddItemToObject(e, RK_ROOTS, roots);
	cJSON_AddItemToObject(e, RK_POLICY, policy);
	cJSON_AddItemToObject(e, RK_MARKING, cJSON_CreateObject()); /* report_set_banner */
	cJSON_AddBoolToObject(e, RK_REDACTED_PATHS, o->redact_paths);
	cJSON_AddNumberToObject(e, RK_ROW_LIMIT, (double)row_limit);
	cJSON_AddBoolToObject(e, RK_EMPTY, empty);
	return e;
}

size_t
report_days(int64_t since, int64_t until, cJSON *days, cJSON *daily)
{
	size_t n = 0;
	for (int64_t t = since; t < until; t += 86400LL * 1000000000LL) {
		char day[11];
		report_day(t, day);
		cJSON_AddItemToArray(days, cJSON_CreateString(day));
		cJSON *d = cJSON_AddObjectToObject(daily, day);
		cJSON_AddNumberToObject(d, RK_VIOLATIONS, 0);
		cJSON_AddNumberToObject(d, RK_NEW, 0);
		cJSON_AddNumberToObject(d, RK_CHANGED, 0);
		cJSON_AddNumberToObject(d, RK_MOVED, 0);
		cJSON_AddNumberToObject(d, RK_REMOVED, 0);
		n++;
	}
	return n;
}

cJSON *
report_by_severity(const cJSON *by_sev)
{
	cJSON *sev = cJSON_CreateArray();
	static const char *const sevs[] = {"critical", "high", "medium", "low"};
	for (size_t i = 0; i < LW_ARRAY_SIZE(sevs); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(by_sev, sevs[i]);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, RK_KEY, sevs[i]);
		cJSON_AddNumberToObject(o, RK_VALUE, v ? cJSON_GetArrayItem(v, 0)->valuedouble : 0);
		cJSON_AddNumberToObject(o, RK_PREVIOUS,
					v ? cJSON_GetArrayItem(v, 1)->valuedouble : 0);
		cJSON_AddItemToArray(sev, o);
	}
	return sev;
}

cJSON *
report_daily_list(const cJSON *daily)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *d;
	cJSON_ArrayForEach(d, daily)
	{
		cJSON *o = cJSON_Duplicate(d, true);
		cJSON_AddStringToObject(o, RK_DAY, d->string);
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

cJSON *
report_holdings_section(const cJSON *holdings, long long outside_total, cJSON *outside_rows)
{
	cJSON *h = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(h, RK_BY_LEVEL_ZONE);
	AUTOJSON cJSON *sorted = report_tally_list(holdings, false, true, 0);
	const cJSON *e;
	cJSON_ArrayForEach(e, sorted)
	{
		char key[256];
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, RK_KEY);
		snprintf(key, sizeof(key), "%s", cJSON_IsString(k) ? k->valuestring : "");
		char *lv = strchr(key, '\t');
		char *zn = lv ? strchr(lv + 1, '\t') : NULL;
		if (!zn) {
			continue;
		}
		*lv++ = '\0';
		*zn++ = '\0';
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, RK_SCHEME, key);
		cJSON_AddStringToObject(o, RK_LEVEL, lv);
		cJSON_AddStringToObject(o, RK_ZONE, zn);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, RK_COUNT);
		cJSON_AddNumberToObject(o, RK_COUNT, cJSON_IsNumber(c) ? c->valuedouble : 0);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON *os = cJSON_AddObjectToObject(h, RK_OUTSIDE_SECURE);
	cJSON_AddNumberToObject(os, RK_TOTAL, (double)outside_total);
	cJSON_AddItemToObject(os, RK_ROWS, outside_rows);
	return h;
}

cJSON *
report_violations_section(long long total, cJSON *rows, const cJSON *by_rule, const cJSON *by_sev,
			  const cJSON *by_agent, const cJSON *by_day)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, RK_TOTAL, (double)total);
	cJSON_AddItemToObject(v, RK_ROWS, rows);
	cJSON_AddItemToObject(v, RK_BY_RULE, report_tally_list(by_rule, false, false, 0));
	cJSON_AddItemToObject(v, RK_BY_SEVERITY, report_tally_list(by_sev, false, false, 0));
	cJSON_AddItemToObject(v, RK_BY_AGENT, report_tally_list(by_agent, false, false, 0));
	cJSON_AddItemToObject(v, RK_BY_DAY, report_tally_list(by_day, false, true, 0));
	return v;
}

void
report_summary_lists(cJSON *s, const cJSON *by_rule, const cJSON *by_agent,
		     const cJSON *by_owner, const cJSON *daily)
{
	cJSON_AddItemToObject(s, RK_TOP_RULES, report_tally_list(by_rule, true, false,
								 REPORT_TOP_N));
	cJSON_AddItemToObject(s, RK_TOP_AGENTS, report_tally_list(by_agent, true, false,
								  REPORT_TOP_N));
	cJSON_AddItemToObject(s, RK_TOP_OWNERS, report_tally_list(by_owner, true, false,
								  REPORT_TOP_N));
	cJSON_AddItemToObject(s, RK_DAILY, report_daily_list(daily));
}
