/* report-fleet.c — the fleet's report from the collector's report endpoints
 * (doc/protocol.md, "Report queries"; see report.h).
 *
 * What each section is made of:
 * - coverage: /v1/report/agents (contact intervals, silences, the chain
 *   state) and the notes the collector took from heartbeats (overflows,
 *   rescans, directories without a watch, policy changes);
 * - summary, violations: /v1/report/counts, once for the period and once
 *   for the previous one (the database counts every event), and the
 *   violation rows (paged, at most row_limit kept);
 * - holdings: the classified files held at the end of the period (the
 *   newest sighting of each path), paged through once;
 * - custody: every sighting of the content that arrived or left somewhere
 *   in the period, paged through once.
 * The period is the collector's receive time, its own clock: an enrolled
 * machine cannot move its events into another period by its clock.
 *
 * What the fleet cannot say, and the document says so (integrity.note):
 * files the agents could not examine and their inventory sizes are not
 * sent to the collector (null); restorations from quarantine happen on the
 * workstation (restored is 0 here); file counts are of sensitive files,
 * the only ones the agents report.
 *
 * Memory: the fleet's agents, the aggregates, the listed rows (row_limit
 * each) and one page of an answer; never all events. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "http-client.h"
#include "json.h"
#include "mem.h"
#include "rfc3339.h"
#include "wire.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define DAY_NS (86400LL * NS_PER_S)
#define PAGE 5000         /* rows per request */
#define BUSY_RETRIES 120  /* 429 answers waited out, a second each */

struct fleet {
	struct lw_http_client *http;
	const struct report_options *o;
	char since[RFC3339_LEN], until[RFC3339_LEN], prev[RFC3339_LEN];
	int64_t t_since, t_until, t_prev;
	long row_limit;
	char *err;
	size_t errlen;
	cJSON *agents;   /* agent name -> its /v1/report/agents row, in scope only */
	const char **names; /* their names, sorted: in_scope() is asked per row */
	size_t nnames;
	cJSON *acc;      /* agent name -> {overflows, rescans, unwatched, alerts...} */
	cJSON *changes;  /* envelope.policy.changes */
	/* tallies: key -> [this period, previous period] */
	cJSON *by_marking, *by_rule, *by_sev, *by_agent, *by_day, *by_owner, *files;
	long long violations[2], classified[2], quarantined;
	cJSON *daily;
	cJSON *v_rows;
	cJSON *holdings;     /* "scheme\tlevel\tzone" -> count */
	cJSON *outside_rows;
	long long outside_total;
	cJSON *partials;     /* [{"id","agent","path","coverage"}] of reg_ids */
	/* custody: the rows come by content, so one document is built at a
	 * time (cur) and then listed (row_limit of them) or only counted */
	cJSON *docs;         /* the listed documents */
	long long docs_total;
	cJSON *cur;          /* the document being built, or NULL */
	cJSON *cur_places;   /* its places' raw "agent\npath" keys, same order */
	cJSON *reg_ids;      /* id -> true: registered ids of listed documents */
	int64_t custody_known; /* the collector's count of documents, or -1 */
};

static const char *
get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
get_num(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* ns since the epoch of an RFC 3339 string, or @dflt. */
static int64_t
time_ns(const char *s, int64_t dflt)
{
	long long ms = 0;
	return s && rfc3339_parse_ms(s, 0, &ms) == 0 ? (int64_t)ms * NS_PER_MS : dflt;
}

static cJSON *
time_or_null(const char *s)
{
	return s ? report_time(time_ns(s, 0)) : cJSON_CreateNull();
}

/* GET @path; 0 and the parsed answer (bytes kept as they are: paths), or
 * -errno with a message. A collector that is busy (429) is waited for. */
static int
fetch(struct fleet *f, const char *path, cJSON **out)
{
	for (int attempt = 0;; attempt++) {
		long status = 0;
		AUTOFREE char *resp = NULL;
		int r = lw_http_request(f->http, "GET", path, NULL, 0, &status, &resp, NULL);
		if (r < 0) {
			snprintf(f->err, f->errlen, "the collector: %s", lw_http_client_error(f->http));
			return r;
		}
		if (status == 429 && attempt < BUSY_RETRIES) {
			sleep(1);
			continue;
		}
		struct lw_json_error je;
		cJSON *doc = NULL;
		if (resp && lw_json_parse(resp, strlen(resp), LW_JSON_BYTES, &doc, &je) < 0) {
			doc = NULL;
		}
		if (status != 200) {
			const char *m = get_str(doc, WIRE_KEY_ERROR);
			AUTOFREE char *msg = m ? wire_escape_line(m, strlen(m)) : NULL;
			snprintf(f->err, f->errlen, "the collector answered %ld to %.*s: %s", status,
				 (int)strcspn(path, "?"), path, msg ? msg : "no reason given");
			cJSON_Delete(doc);
			return status == 403 ? -EACCES : -EIO;
		}
		if (!cJSON_IsObject(doc)) {
			snprintf(f->err, f->errlen, "the collector's answer to %.*s is not a JSON object",
				 (int)strcspn(path, "?"), path);
			cJSON_Delete(doc);
			return -EPROTO;
		}
		*out = doc;
		return 0;
	}
}

/* An array member of an answer, or an error. */
static const cJSON *
answer_array(struct fleet *f, const cJSON *doc, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, key);
	if (!cJSON_IsArray(a)) {
		snprintf(f->err, f->errlen, "the collector's answer has no \"%s\" list", key);
	}
	return cJSON_IsArray(a) ? a : NULL;
}

static bool
selected(const struct fleet *f, const char *agent)
{
	if (!f->o->nagents) {
		return true;
	}
	for (size_t i = 0; i < f->o->nagents; i++) {
		if (strcmp(f->o->agents[i], agent) == 0) {
			return true;
		}
	}
	return false;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
in_scope(const struct fleet *f, const char *agent)
{
	return agent && f->nnames &&
	       bsearch(&agent, f->names, f->nnames, sizeof(*f->names), cmp_name) != NULL;
}

static cJSON *
acc_of(struct fleet *f, const char *agent)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(f->acc, agent);
	if (!a) {
		a = cJSON_AddObjectToObject(f->acc, agent);
		static const char *const keys[] = {RK_OVERFLOWS, RK_RESCANS, RK_UNWATCHED_DIRS,
						   RK_ALERTS, RK_SEQUENCE_GAPS};
		for (size_t i = 0; i < LW_ARRAY_SIZE(keys); i++) {
			cJSON_AddNumberToObject(a, keys[i], 0);
		}
	}
	return a;
}

static void
acc_add(struct fleet *f, const char *agent, const char *key, double n, bool set)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(acc_of(f, agent), key);
	cJSON_SetNumberValue(v, set ? n : v->valuedouble + n);
}

/* --- the agents --- */

static int
load_agents(struct fleet *f)
{
	AUTOFREE char *path = lw_asprintf("/v1/report/agents?since=%s&until=%s", f->since, f->until);
	AUTOJSON cJSON *doc = NULL;
	int r = fetch(f, path, &doc);
	if (r < 0) {
		return r;
	}
	const cJSON *list = answer_array(f, doc, WIRE_KEY_AGENTS);
	if (!list) {
		return -EPROTO;
	}
	const cJSON *a;
	cJSON_ArrayForEach(a, list)
	{
		const char *name = get_str(a, WIRE_KEY_AGENT);
		/* an agent that first called after the period did not exist in it */
		if (!name || !selected(f, name) ||
		    time_ns(get_str(a, WIRE_KEY_FIRST_CONTACT), 0) >= f->t_until) {
			continue;
		}
		cJSON_AddItemToObject(f->agents, name, cJSON_Duplicate(a, true));
		acc_of(f, name);
	}
	f->nnames = (size_t)cJSON_GetArraySize(f->agents);
	f->names = lw_calloc(f->nnames ? f->nnames : 1, sizeof(*f->names));
	size_t i = 0;
	cJSON_ArrayForEach(a, f->agents)
	{
		f->names[i++] = a->string;
	}
	qsort(f->names, f->nnames, sizeof(*f->names), cmp_name);
	for (i = 0; i < f->o->nagents; i++) {
		if (!in_scope(f, f->o->agents[i])) {
			AUTOFREE char *n = wire_escape_line(f->o->agents[i], strlen(f->o->agents[i]));
			snprintf(f->err, f->errlen,
				 "--agent %s: the collector has no such agent in this period", n);
			return -ENOENT;
		}
	}
	return 0;
}

/* --- counts --- */

static void
daily_add(struct fleet *f, const char *day, const char *what, double n)
{
	cJSON *d = cJSON_GetObjectItemCaseSensitive(f->daily, day);
	cJSON *c = d ? cJSON_GetObjectItemCaseSensitive(d, what) : NULL;
	if (c) {
		cJSON_SetNumberValue(c, c->valuedouble + n);
	}
}

static void
note_holding(struct fleet *f, const char *scheme, const char *level, const char *zone, long n)
{
	char key[256];
	snprintf(key, sizeof(key), "%s\t%s\t%s", scheme, level, zone);
	report_tally(f->holdings, key, 0, n);
}

/* "marking\tscheme\tlevel\tzones" (cevent_zone bits) held by an agent:
 * the summary by marking, and (this period) the holdings by level and
 * zone, a file counting in every zone it is in. */
static void
held(struct fleet *f, const char *key, int which, long n)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", key);
	char *scheme = strchr(buf, '\t');
	char *level = scheme ? strchr(scheme + 1, '\t') : NULL;
	char *zones = level ? strchr(level + 1, '\t') : NULL;
	if (!zones) {
		return;
	}
	*scheme++ = *level++ = *zones++ = '\0';
	f->classified[which] += n;
	report_tally(f->by_marking, buf, which, n);
	if (which != 0) {
		return;
	}
	unsigned bits = (unsigned)strtoul(zones, NULL, 10);
	static const struct {
		unsigned bit;
		const char *zone;
	} named[] = {{1, "secure"}, {2, "staging"}, {4, "removable"}, {8, "sync"},
		     {16, "world_readable"}};
	scheme = scheme[0] ? scheme : "-";
	for (size_t i = 0; i < LW_ARRAY_SIZE(named); i++) {
		if (bits & named[i].bit) {
			note_holding(f, scheme, level, named[i].zone, n);
		}
	}
	if (!(bits & 1)) {
		note_holding(f, scheme, level, "outside_secure", n);
		f->outside_total += n;
	}
}

static int
load_counts(struct fleet *f, int which)
{
	AUTOFREE char *path = lw_asprintf("/v1/report/counts?since=%s&until=%s",
					  which ? f->prev : f->since, which ? f->since : f->until);
	AUTOJSON cJSON *doc = NULL;
	int r = fetch(f, path, &doc);
	if (r < 0) {
		return r;
	}
	const cJSON *list = answer_array(f, doc, WIRE_KEY_COUNTS);
	if (!list) {
		return -EPROTO;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, list)
	{
		const char *agent = get_str(c, WIRE_KEY_AGENT);
		const char *what = get_str(c, WIRE_KEY_WHAT);
		const char *key = get_str(c, WIRE_KEY_KEY);
		double n = get_num(c, WIRE_KEY_N, 0);
		if (!in_scope(f, agent) || !what || !key || n <= 0) {
			continue;
		}
		long cnt = (long)n;
		if (strcmp(what, "severity") == 0) {
			f->violations[which] += cnt;
			report_tally(f->by_sev, key, which, cnt);
			report_tally(f->by_agent, agent, which, cnt);
		} else if (strcmp(what, "rule") == 0) {
			report_tally(f->by_rule, key, which, cnt);
		} else if (strcmp(what, "owner") == 0) {
			report_tally(f->by_owner, key, which, cnt);
		} else if (strcmp(what, "day") == 0 && which == 0) {
			report_tally(f->by_day, key, 0, cnt);
			daily_add(f, key, RK_VIOLATIONS, n);
		} else if (strcmp(what, "action") == 0 && which == 0) {
			if (strcmp(key, "quarantine") == 0) {
				f->quarantined += cnt;
			}
		} else if (strcmp(what, "alert") == 0 && which == 0) {
			acc_add(f, agent, RK_ALERTS, n, false);
			if (strcmp(key, WIRE_ALERT_GAP) == 0) {
				acc_add(f, agent, RK_SEQUENCE_GAPS, n, false);
			}
		} else if (strcmp(what, "held") == 0) {
			held(f, key, which, cnt);
		} else if (strcmp(what, RK_NEW) == 0 || strcmp(what, RK_CHANGED) == 0 ||
			   strcmp(what, RK_MOVED) == 0 || strcmp(what, RK_REMOVED) == 0) {
			report_tally(f->files, what, which, cnt);
			if (which == 0) {
				daily_add(f, key, what, n);
			}
		}
	}
	return 0;
}

/* --- notes --- */

static void
on_note(struct fleet *f, const cJSON *n)
{
	const char *agent = get_str(n, WIRE_KEY_AGENT);
	const char *kind = get_str(n, WIRE_KEY_KIND);
	const char *detail = get_str(n, WIRE_KEY_DETAIL);
	const char *time = get_str(n, WIRE_KEY_TIME);
	if (!in_scope(f, agent) || !kind || !detail || !time) {
		return;
	}
	if (strcmp(kind, WIRE_NOTE_POLICY) == 0) {
		/* "old new": the policy loaded is the second */
		const char *sp = strchr(detail, ' ');
		const char *sha = sp ? sp + 1 : detail;
		if (!lw_is_sha256_hex(sha)) {
			return;
		}
		cJSON *c = cJSON_CreateObject();
		cJSON_AddItemToObject(c, RK_TIME, report_time(time_ns(time, 0)));
		cJSON_AddStringToObject(c, RK_AGENT, agent);
		cJSON_AddStringToObject(c, RK_SHA256, sha);
		cJSON_AddNullToObject(c, RK_RULES); /* not in the heartbeat */
		cJSON_AddNullToObject(c, RK_FILE);
		cJSON_AddItemToArray(f->changes, c);
	} else if (strcmp(kind, WIRE_NOTE_OVERFLOW) == 0) {
		acc_add(f, agent, RK_OVERFLOWS, strtod(detail, NULL), false);
	} else if (strcmp(kind, WIRE_NOTE_RESCAN) == 0) {
		acc_add(f, agent, RK_RESCANS, strtod(detail, NULL), false);
	} else if (strcmp(kind, WIRE_NOTE_WATCH_LIMIT) == 0) {
		acc_add(f, agent, RK_UNWATCHED_DIRS, strtod(detail, NULL), true);
	}
}

/* Pages through @base ("/v1/report/...?...") by "after"/"next", calling
 * @row for each element of the answer's @key list; @row returns false to
 * stop early. *total (when not NULL) gets the first page's "total". */
static int
page_through(struct fleet *f, const char *base, const char *key,
	     bool (*row)(struct fleet *, const cJSON *), int64_t *total)
{
	long long after = 0;
	for (;;) {
		AUTOFREE char *path = lw_asprintf("%s&limit=%d&after=%lld", base, PAGE, after);
		AUTOJSON cJSON *doc = NULL;
		int r = fetch(f, path, &doc);
		if (r < 0) {
			return r;
		}
		const cJSON *list = answer_array(f, doc, key);
		if (!list) {
			return -EPROTO;
		}
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, WIRE_KEY_TOTAL);
		if (total && after == 0 && cJSON_IsNumber(t)) {
			*total = (int64_t)t->valuedouble;
		}
		const cJSON *e;
		cJSON_ArrayForEach(e, list)
		{
			if (!row(f, e)) {
				return 0;
			}
		}
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(doc, WIRE_KEY_NEXT);
		if (!cJSON_IsNumber(next)) {
			return 0;
		}
		/* rows come in the store's order (received or content, then
		 * id), so the next id may be lower; the same one again would
		 * loop for ever */
		if ((long long)next->valuedouble == after) {
			snprintf(f->err, f->errlen, "the collector's paging did not move on");
			return -EPROTO;
		}
		after = (long long)next->valuedouble;
	}
}

static bool
note_row(struct fleet *f, const cJSON *n)
{
	on_note(f, n);
	return true;
}

/* --- violations --- */

static cJSON *
body_path(const struct fleet *f, const cJSON *o, const char *key)
{
	const char *p = get_str(o, key);
	return p ? report_path(p, strlen(p), f->o->redact_paths) : cJSON_CreateNull();
}

static const char *
or_dash(const char *s)
{
	return s ? s : "-";
}

static bool
violation_row(struct fleet *f, const cJSON *row)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, WIRE_KEY_EVENT);
	const char *agent = get_str(b, WIRE_KEY_AGENT);
	if (!in_scope(f, agent)) {
		return true;
	}
	if ((long)cJSON_GetArraySize(f->v_rows) >= f->row_limit) {
		return false; /* the aggregates came from the counts */
	}
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_FILE);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_EVENT);
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(file, WIRE_KEY_CLASSIFICATION);
	const char *t = get_str(b, WIRE_KEY_TIME);
	const char *owner = get_str(file, WIRE_KEY_OWNER);
	const char *marking = get_str(cls, WIRE_KEY_MARKING);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, RK_TIME, report_time(time_ns(t ? t : get_str(b, WIRE_KEY_RECEIVED),
							       0)));
	cJSON_AddStringToObject(o, RK_AGENT, agent);
	cJSON_AddStringToObject(o, RK_RULE, or_dash(get_str(b, WIRE_KEY_RULE)));
	cJSON_AddStringToObject(o, RK_SEVERITY, or_dash(get_str(b, WIRE_KEY_SEVERITY)));
	cJSON_AddStringToObject(o, RK_ACTION, or_dash(get_str(b, WIRE_KEY_ACTION)));
	cJSON_AddStringToObject(o, RK_ACTION_RESULT, or_dash(get_str(b, WIRE_KEY_ACTION_RESULT)));
	cJSON_AddStringToObject(o, RK_EVENT, or_dash(get_str(ev, WIRE_KEY_KIND)));
	cJSON *p = body_path(f, file, WIRE_KEY_PATH);
	if (cJSON_IsNull(p)) {
		cJSON_Delete(p);
		p = cJSON_CreateString("-");
	}
	cJSON_AddItemToObject(o, RK_PATH, p);
	cJSON_AddItemToObject(o, RK_FROM, body_path(f, ev, WIRE_KEY_FROM));
	cJSON_AddItemToObject(o, RK_OWNER, owner ? cJSON_CreateString(owner) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, RK_MARKING,
			      marking ? cJSON_CreateString(marking) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, RK_BY,
			      report_process_by(cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_PROCESS)));
	cJSON_AddItemToArray(f->v_rows, o);
	return true;
}

/* --- holdings --- */


/* A file held that is an excerpt of a registered document the custody
 * section lists. */
static bool
excerpt_row(struct fleet *f, const cJSON *row)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, WIRE_KEY_EVENT);
	const char *agent = get_str(b, WIRE_KEY_AGENT);
	const char *path = get_str(b, WIRE_KEY_PATH);
	if (!in_scope(f, agent) || !path) {
		return true;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_MATCHES))
	{
		const char *id = get_str(m, WIRE_KEY_MATCH_ID);
		const char *kind = get_str(m, WIRE_KEY_MATCH_KIND);
		if (id && kind && strcmp(kind, "partial") == 0 &&
		    cJSON_GetObjectItemCaseSensitive(f->reg_ids, id) &&
		    (long)cJSON_GetArraySize(f->partials) < f->row_limit) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, RK_ID, id);
			cJSON_AddStringToObject(x, RK_AGENT, agent);
			cJSON_AddItemToObject(x, RK_PATH,
					      report_path(path, strlen(path), f->o->redact_paths));
			cJSON_AddNumberToObject(x, RK_COVERAGE, get_num(m, WIRE_KEY_COVERAGE_SHARE, 0));
			cJSON_AddItemToArray(f->partials, x);
		}
	}
	return true;
}

/* A classified file held outside the secure zone (counted by the counts:
 * only row_limit of them are read). */
static bool
outside_row(struct fleet *f, const cJSON *row)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, WIRE_KEY_EVENT);
	const char *agent = get_str(b, WIRE_KEY_AGENT);
	const char *path = get_str(b, WIRE_KEY_PATH);
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_CLASSIFICATION);
	const char *marking = get_str(cls, WIRE_KEY_MARKING);
	if (!in_scope(f, agent) || !path || !marking) {
		return true;
	}
	if ((long)cJSON_GetArraySize(f->outside_rows) >= f->row_limit) {
		return false;
	}
	const char *owner = get_str(b, WIRE_KEY_OWNER);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, RK_AGENT, agent);
	cJSON_AddItemToObject(o, RK_PATH, report_path(path, strlen(path), f->o->redact_paths));
	cJSON_AddStringToObject(o, RK_MARKING, marking);
	cJSON_AddStringToObject(o, RK_OWNER, owner ? owner : "-");
	cJSON_AddItemToObject(o, RK_SINCE, time_or_null(get_str(b, WIRE_KEY_FIRST_SEEN)));
	cJSON_AddItemToArray(f->outside_rows, o);
	return true;
}

/* --- custody --- */

static cJSON *
new_doc(const char *sha)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, RK_SHA256, sha);
	cJSON_AddNullToObject(d, RK_MARKING);
	cJSON_AddArrayToObject(d, RK_REGISTERED);
	cJSON_AddArrayToObject(d, RK_PLACES);
	cJSON_AddNumberToObject(d, RK_COPIES, 0);
	cJSON_AddArrayToObject(d, RK_EXCERPTS);
	cJSON_AddNumberToObject(d, RK_DELETIONS, 0);
	return d;
}

static void
add_registered(cJSON *d, const cJSON *matches)
{
	cJSON *reg = cJSON_GetObjectItemCaseSensitive(d, RK_REGISTERED);
	const cJSON *m;
	cJSON_ArrayForEach(m, matches)
	{
		const char *id = get_str(m, WIRE_KEY_MATCH_ID);
		const char *kind = get_str(m, WIRE_KEY_MATCH_KIND);
		if (!id || !kind || strcmp(kind, "exact") != 0) {
			continue;
		}
		bool have = false;
		const cJSON *x;
		cJSON_ArrayForEach(x, reg)
		{
			have = have || strcmp(x->valuestring, id) == 0;
		}
		if (!have) {
			cJSON_AddItemToArray(reg, cJSON_CreateString(id));
		}
	}
}

/* The document built so far is complete: its copies and deletions are
 * counted from its places, and it is listed if there is room. */
static void
custody_flush(struct fleet *f)
{
	cJSON *d = TAKE_PTR(f->cur);
	cJSON_Delete(TAKE_PTR(f->cur_places));
	if (!d) {
		return;
	}
	/* the section is about classified or registered documents; content
	 * that only resembles one (an excerpt) is listed under it */
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, RK_MARKING)) &&
	    !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, RK_REGISTERED))) {
		cJSON_Delete(d);
		return;
	}
	f->docs_total++;
	if ((long)cJSON_GetArraySize(f->docs) >= f->row_limit) {
		cJSON_Delete(d);
		return;
	}
	long live = 0, gone = 0;
	const cJSON *pl;
	cJSON_ArrayForEach(pl, cJSON_GetObjectItemCaseSensitive(d, RK_PLACES))
	{
		bool del = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pl, RK_DELETED));
		live += !del;
		gone += del;
	}
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(d, RK_COPIES), live > 1 ? live - 1 : 0);
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(d, RK_DELETIONS), gone);
	const cJSON *id;
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(d, RK_REGISTERED))
	{
		if (!cJSON_GetObjectItemCaseSensitive(f->reg_ids, id->valuestring)) {
			cJSON_AddTrueToObject(f->reg_ids, id->valuestring);
		}
	}
	cJSON_AddItemToArray(f->docs, d);
}

/* Rows come by content, oldest first within it: the newest sighting of a
 * place says whether the content is still there; the first since when. */
static bool
custody_row(struct fleet *f, const cJSON *row)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, WIRE_KEY_EVENT);
	const char *agent = get_str(b, WIRE_KEY_AGENT);
	const char *path = get_str(b, WIRE_KEY_PATH);
	const char *sha = get_str(b, WIRE_KEY_SHA256);
	if (!in_scope(f, agent) || !path || !sha) {
		return true;
	}
	if (f->cur && strcmp(get_str(f->cur, RK_SHA256), sha) != 0) {
		custody_flush(f);
	}
	/* a new document when the list is full: the rest are counted by the
	 * collector (custody_known) */
	if (!f->cur && f->custody_known >= 0 && (long)cJSON_GetArraySize(f->docs) >= f->row_limit) {
		return false;
	}
	if (!f->cur) {
		f->cur = new_doc(sha);
		f->cur_places = cJSON_CreateArray();
	}
	cJSON *d = f->cur;
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_CLASSIFICATION);
	const char *marking = get_str(cls, WIRE_KEY_MARKING);
	if (marking) {
		cJSON_ReplaceItemInObjectCaseSensitive(d, RK_MARKING, cJSON_CreateString(marking));
	}
	add_registered(d, cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_MATCHES));
	AUTOFREE char *key = lw_asprintf("%s\n%s", agent, path);
	/* gone from there: deleted, renamed, or replaced by other content */
	bool deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_DELETED)) ||
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, WIRE_KEY_SUPERSEDED));
	const char *last = get_str(b, WIRE_KEY_LAST_SEEN);
	cJSON *places = cJSON_GetObjectItemCaseSensitive(d, RK_PLACES);
	cJSON *pl = NULL;
	int i = 0;
	const cJSON *k;
	cJSON_ArrayForEach(k, f->cur_places)
	{
		if (strcmp(k->valuestring, key) == 0) {
			pl = cJSON_GetArrayItem(places, i);
			break;
		}
		i++;
	}
	if (pl) {
		cJSON_ReplaceItemInObjectCaseSensitive(pl, RK_LAST_SEEN, time_or_null(last));
		cJSON_ReplaceItemInObjectCaseSensitive(pl, RK_DELETED, cJSON_CreateBool(deleted));
	} else if ((long)cJSON_GetArraySize(places) < f->row_limit) {
		pl = cJSON_CreateObject();
		cJSON_AddStringToObject(pl, RK_AGENT, agent);
		cJSON_AddItemToObject(pl, RK_PATH, report_path(path, strlen(path), f->o->redact_paths));
		cJSON_AddItemToObject(pl, RK_FIRST_SEEN, time_or_null(get_str(b, WIRE_KEY_FIRST_SEEN)));
		cJSON_AddItemToObject(pl, RK_LAST_SEEN, time_or_null(last));
		cJSON_AddBoolToObject(pl, RK_DELETED, deleted);
		cJSON_AddItemToArray(places, pl);
		cJSON_AddItemToArray(f->cur_places, cJSON_CreateString(key));
	}
	return true;
}

static cJSON *
custody(struct fleet *f)
{
	cJSON *c = cJSON_CreateObject();
	const cJSON *d;
	cJSON_ArrayForEach(d, f->docs)
	{
		cJSON *ex = cJSON_GetObjectItemCaseSensitive(d, RK_EXCERPTS);
		const cJSON *id;
		cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(d, RK_REGISTERED))
		{
			const cJSON *x;
			cJSON_ArrayForEach(x, f->partials)
			{
				if (strcmp(get_str(x, RK_ID), id->valuestring) == 0) {
					cJSON_AddItemToArray(ex, cJSON_Duplicate(x, true));
				}
			}
		}
	}
	cJSON_AddNumberToObject(c, RK_TOTAL, (double)(f->custody_known >= 0 ? f->custody_known
									       : f->docs_total));
	cJSON_AddItemToObject(c, RK_DOCUMENTS, TAKE_PTR(f->docs));
	return c;
}

/* --- sections --- */

/* Share of [a, b) that is inside none of the agent's silent intervals. */
static double
heard_share(const cJSON *silent, int64_t a, int64_t b)
{
	if (b <= a) {
		return 0;
	}
	int64_t off = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, silent)
	{
		int64_t s0 = time_ns(get_str(s, WIRE_KEY_SINCE), 0);
		int64_t s1 = time_ns(get_str(s, WIRE_KEY_UNTIL), 0);
		s0 = s0 > a ? s0 : a;
		s1 = s1 < b ? s1 : b;
		off += s1 > s0 ? s1 - s0 : 0;
	}
	return 1.0 - (double)off / (double)(b - a);
}

static cJSON *
coverage_agent(struct fleet *f, const char *name, const cJSON *a, size_t ndays)
{
	const cJSON *acc = acc_of(f, name);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, RK_AGENT, name);
	const char *ver = get_str(a, WIRE_KEY_VERSION);
	cJSON_AddItemToObject(o, RK_VERSION, ver ? cJSON_CreateString(ver) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, RK_FIRST_CONTACT, time_or_null(get_str(a, WIRE_KEY_FIRST_CONTACT)));
	cJSON_AddItemToObject(o, RK_LAST_CONTACT, time_or_null(get_str(a, WIRE_KEY_LAST_CONTACT)));
	cJSON_AddBoolToObject(o, RK_SILENT_NOW,
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_SILENT_NOW)));
	const cJSON *silent = cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_SILENT);
	cJSON *sil = cJSON_AddArrayToObject(o, RK_SILENT);
	const cJSON *s;
	cJSON_ArrayForEach(s, silent)
	{
		cJSON *i = cJSON_CreateObject();
		cJSON_AddItemToObject(i, RK_SINCE, time_or_null(get_str(s, WIRE_KEY_SINCE)));
		cJSON_AddItemToObject(i, RK_UNTIL, time_or_null(get_str(s, WIRE_KEY_UNTIL)));
		cJSON_AddNumberToObject(i, RK_SECONDS, get_num(s, WIRE_KEY_SILENT_SECONDS, 0));
		cJSON_AddItemToArray(sil, i);
	}
	double silent_s = get_num(a, WIRE_KEY_SILENT_SECONDS, 0);
	cJSON_AddNumberToObject(o, RK_SILENT_SECONDS, silent_s);
	/* The part of the period this agent existed in, up to now. */
	int64_t from = time_ns(get_str(a, WIRE_KEY_FIRST_CONTACT), f->t_since);
	from = from > f->t_since ? from : f->t_since;
	int64_t to = f->t_until < f->o->now ? f->t_until : f->o->now;
	double span_s = to > from ? (double)(to - from) / NS_PER_S : 0;
	/* the share of directories watched at its last heartbeat; none
	 * received means nothing is known to have been watched */
	double wc = get_num(a, WIRE_KEY_COVERAGE, 0);
	double cov = span_s > 0 ? (1 - silent_s / span_s) * wc : 0;
	cJSON_AddNumberToObject(o, RK_COVERAGE, cov < 0 ? 0 : cov > 1 ? 1 : cov);
	cJSON *daily = cJSON_AddArrayToObject(o, RK_DAILY);
	for (size_t d = 0; d < ndays; d++) {
		int64_t ds = f->t_since + (int64_t)d * DAY_NS;
		int64_t de = ds + DAY_NS < f->t_until ? ds + DAY_NS : f->t_until;
		ds = ds > from ? ds : from;
		de = de < to ? de : to;
		cJSON_AddItemToArray(daily, cJSON_CreateNumber(de > ds ? heard_share(sil, ds, de) * wc
									 : 0));
	}
	cJSON_AddNumberToObject(o, RK_WATCH_COVERAGE, wc);
	cJSON_AddNumberToObject(o, RK_UNWATCHED_DIRS, get_num(acc, RK_UNWATCHED_DIRS, 0));
	cJSON_AddNumberToObject(o, RK_SEQUENCE_GAPS, get_num(acc, RK_SEQUENCE_GAPS, 0));
	bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_CHAIN_OK)) &&
		  get_num(acc, RK_ALERTS, 0) == 0;
	cJSON_AddStringToObject(o, RK_CHAIN, ok ? "ok" : "broken");
	cJSON_AddNumberToObject(o, RK_ALERTS, get_num(acc, RK_ALERTS, 0));
	cJSON_AddNumberToObject(o, RK_OVERFLOWS, get_num(acc, RK_OVERFLOWS, 0));
	cJSON_AddNumberToObject(o, RK_RESCANS, get_num(acc, RK_RESCANS, 0));
	/* from the agent's heartbeats (null from agents that do not say) */
	const cJSON *unx = cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_UNEXAMINED);
	cJSON *u = cJSON_IsObject(unx) ? cJSON_CreateObject() : cJSON_CreateNull();
	static const char *const kinds[] = {RK_PERMISSION, RK_SIZE_CAP, RK_TIMEOUT, RK_ENCRYPTED,
					    RK_OTHER};
	for (size_t k = 0; cJSON_IsObject(unx) && k < LW_ARRAY_SIZE(kinds); k++) {
		cJSON_AddNumberToObject(u, kinds[k], get_num(unx, kinds[k], 0));
	}
	cJSON_AddItemToObject(o, RK_UNEXAMINED, u);
	const cJSON *inv = cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_INVENTORY_FILES);
	cJSON_AddItemToObject(o, RK_INVENTORY_FILES, cJSON_IsNumber(inv)
							     ? cJSON_CreateNumber(inv->valuedouble)
							     : cJSON_CreateNull());
	return o;
}

static cJSON *
coverage(struct fleet *f, cJSON *days, size_t ndays)
{
	cJSON *cov = cJSON_CreateObject();
	cJSON *agents = cJSON_CreateArray();
	double sum = 0;
	int n = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, f->agents)
	{
		cJSON *o = coverage_agent(f, a->string, a, ndays);
		sum += get_num(o, RK_COVERAGE, 0);
		n++;
		cJSON_AddItemToArray(agents, o);
	}
	cJSON_AddNumberToObject(cov, RK_FIGURE, n ? sum / n : 1);
	cJSON_AddItemToObject(cov, RK_DAYS, days);
	cJSON_AddItemToObject(cov, RK_AGENTS, agents);
	return cov;
}

static cJSON *
envelope(struct fleet *f)
{
	cJSON *names = cJSON_CreateArray();
	cJSON *inf = cJSON_CreateArray();
	const cJSON *a;
	cJSON_ArrayForEach(a, f->agents)
	{
		cJSON_AddItemToArray(names, cJSON_CreateString(a->string));
		const char *sha = get_str(a, WIRE_KEY_POLICY_SHA256);
		if (!sha || !lw_is_sha256_hex(sha)) {
			continue;
		}
		cJSON *entry = NULL, *e;
		cJSON_ArrayForEach(e, inf)
		{
			if (strcmp(get_str(e, RK_SHA256), sha) == 0) {
				entry = e;
			}
		}
		if (!entry) {
			entry = cJSON_CreateObject();
			cJSON_AddStringToObject(entry, RK_SHA256, sha);
			cJSON_AddArrayToObject(entry, RK_AGENTS);
			cJSON_AddItemToArray(inf, entry);
		}
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(entry, RK_AGENTS),
				     cJSON_CreateString(a->string));
	}
	cJSON *pol = cJSON_CreateObject();
	cJSON_AddItemToObject(pol, RK_IN_FORCE, inf);
	cJSON_AddItemToObject(pol, RK_CHANGES, TAKE_PTR(f->changes));
	return report_envelope(f->o, "fleet", names, cJSON_CreateArray(), pol, f->row_limit,
			       cJSON_GetArraySize(f->agents) == 0);
}

static cJSON *
tally_delta(const cJSON *map, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
	return report_delta(v ? (long long)cJSON_GetArrayItem(v, 0)->valuedouble : 0,
			    v ? (long long)cJSON_GetArrayItem(v, 1)->valuedouble : 0);
}

static cJSON *
summary(struct fleet *f)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddItemToObject(s, RK_CLASSIFIED, report_delta(f->classified[0], f->classified[1]));
	cJSON_AddItemToObject(s, RK_CLASSIFIED_BY_MARKING,
			      report_tally_list(f->by_marking, true, false, 0));
	cJSON *fl = cJSON_AddObjectToObject(s, RK_FILES);
	static const char *const kinds[] = {RK_NEW, RK_CHANGED, RK_MOVED, RK_REMOVED};
	for (size_t i = 0; i < LW_ARRAY_SIZE(kinds); i++) {
		cJSON_AddItemToObject(fl, kinds[i], tally_delta(f->files, kinds[i]));
	}
	cJSON_AddItemToObject(s, RK_VIOLATIONS, report_delta(f->violations[0], f->violations[1]));
	cJSON_AddItemToObject(s, RK_BY_SEVERITY, report_by_severity(f->by_sev));
	cJSON *bs = cJSON_AddObjectToObject(s, RK_BY_STATE);
	cJSON_AddNumberToObject(bs, RK_OPEN, (double)(f->violations[0] - f->quarantined));
	cJSON_AddNumberToObject(bs, RK_QUARANTINED, (double)f->quarantined);
	cJSON_AddNumberToObject(bs, RK_RESTORED, 0);
	report_summary_lists(s, f->by_rule, f->by_agent, f->by_owner, f->daily);
	return s;
}

static cJSON *
holdings(struct fleet *f)
{
	return report_holdings_section(f->holdings, f->outside_total, TAKE_PTR(f->outside_rows));
}

static cJSON *
violations(struct fleet *f)
{
	return report_violations_section(f->violations[0], TAKE_PTR(f->v_rows), f->by_rule, f->by_sev,
					 f->by_agent, f->by_day);
}

static cJSON *
integrity(struct fleet *f)
{
	cJSON *in = cJSON_CreateObject();
	cJSON *chains = cJSON_AddArrayToObject(in, RK_CHAINS);
	const cJSON *a;
	cJSON_ArrayForEach(a, f->agents)
	{
		const cJSON *acc = acc_of(f, a->string);
		double events = get_num(a, WIRE_KEY_EVENTS, 0);
		double head_seq = get_num(a, WIRE_KEY_HEAD_SEQ, 0);
		const char *head = get_str(a, WIRE_KEY_HEAD);
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, RK_AGENT, a->string);
		cJSON_AddItemToObject(c, RK_FIRST_SEQ,
				      events > 0 ? cJSON_CreateNumber(get_num(a, WIRE_KEY_FIRST_SEQ, 0))
						 : cJSON_CreateNull());
		cJSON_AddItemToObject(c, RK_LAST_SEQ, head_seq > 0 ? cJSON_CreateNumber(head_seq)
								   : cJSON_CreateNull());
		cJSON_AddNumberToObject(c, RK_EVENTS, events);
		cJSON_AddItemToObject(c, RK_HEAD, head && lw_is_sha256_hex(head)
							  ? cJSON_CreateString(head)
							  : cJSON_CreateNull());
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, WIRE_KEY_CHAIN_OK)) &&
			  get_num(acc, RK_ALERTS, 0) == 0;
		cJSON_AddStringToObject(c, RK_STATUS, ok ? "ok" : "broken");
		cJSON_AddItemToArray(chains, c);
	}
	cJSON_AddStringToObject(
		in, RK_NOTE,
		"Fleet report, from the collector. The period is the collector's receive time."
		" For each agent, head is the hash of its newest event received before the end of"
		" the period (seq last_seq); it covers every event from seq 1 to last_seq, and the"
		" collector verified each against the one before it when it arrived. events and"
		" first_seq count the events received in the period. status is broken when the"
		" collector ever found an edited, missing or replayed event in the agent's chain."
		" The files an agent could not examine and its inventory size come from its"
		" heartbeats (counted at most a minute before; null from an agent that does"
		" not send them). Not known at the collector: restorations from quarantine (done"
		" on the workstation),"
		" and the number of rules of a policy change. File counts are of sensitive files,"
		" the only ones agents report. Custody lists at most row_limit places per"
		" document.");
	return in;
}

int
report_build_fleet(struct lw_http_client *http, const struct report_options *o, cJSON **doc,
		   char *err, size_t errlen)
{
	struct fleet f = {.http = http, .o = o, .err = err, .errlen = errlen,
			  .t_since = o->period.since, .t_until = o->period.until,
			  .t_prev = o->period.prev_since,
			  .row_limit = o->row_limit > 0 ? o->row_limit : REPORT_ROW_LIMIT,
			  .custody_known = -1};
	rfc3339_format(f.t_since / NS_PER_MS, f.since);
	rfc3339_format(f.t_until / NS_PER_MS, f.until);
	rfc3339_format(f.t_prev / NS_PER_MS, f.prev);
	cJSON **objs[] = {&f.agents, &f.acc, &f.by_marking, &f.by_rule, &f.by_sev, &f.by_agent,
			  &f.by_day, &f.by_owner, &f.files, &f.daily, &f.holdings, &f.reg_ids};
	for (size_t i = 0; i < LW_ARRAY_SIZE(objs); i++) {
		*objs[i] = cJSON_CreateObject();
	}
	cJSON **arrs[] = {&f.changes, &f.v_rows, &f.outside_rows, &f.partials, &f.docs};
	for (size_t i = 0; i < LW_ARRAY_SIZE(arrs); i++) {
		*arrs[i] = cJSON_CreateArray();
	}
	cJSON *days = cJSON_CreateArray();
	size_t ndays = report_days(f.t_since, f.t_until, days, f.daily);
	AUTOFREE char *agent_q = NULL;
	if (o->nagents == 1) {
		AUTOFREE char *e = lw_http_escape(o->agents[0]);
		agent_q = lw_asprintf("&agent=%s", e);
	}
	AUTOFREE char *notes = lw_asprintf("/v1/report/notes?since=%s&until=%s", f.since, f.until);
	AUTOFREE char *vrows = lw_asprintf("/v1/report/rows?rows=violations&since=%s&until=%s%s",
					   f.since, f.until, agent_q ? agent_q : "");
	AUTOFREE char *hrows = lw_asprintf("/v1/report/rows?rows=holdings&since=%s&until=%s%s",
					   f.since, f.until, agent_q ? agent_q : "");
	AUTOFREE char *crows = lw_asprintf("/v1/report/rows?rows=custody&since=%s&until=%s%s",
					   f.since, f.until, agent_q ? agent_q : "");
	AUTOFREE char *xrows = lw_asprintf("/v1/report/rows?rows=excerpts&since=%s&until=%s%s",
					   f.since, f.until, agent_q ? agent_q : "");
	int r = load_agents(&f);
	if (r >= 0) {
		r = load_counts(&f, 0);
	}
	if (r >= 0) {
		r = load_counts(&f, 1);
	}
	if (r >= 0) {
		r = page_through(&f, notes, WIRE_KEY_NOTES, note_row, NULL);
	}
	if (r >= 0) {
		r = page_through(&f, vrows, WIRE_KEY_ROWS, violation_row, NULL);
	}
	/* custody before holdings: the holdings pass keeps the excerpts of the
	 * registered documents custody lists */
	/* The collector counts custody's documents for the whole fleet or
	 * one agent; for another selection every row is read and counted. */
	if (r >= 0) {
		r = page_through(&f, crows, WIRE_KEY_ROWS, custody_row,
				 o->nagents <= 1 ? &f.custody_known : NULL);
		custody_flush(&f);
	}
	if (r >= 0) {
		r = page_through(&f, xrows, WIRE_KEY_ROWS, excerpt_row, NULL);
	}
	if (r >= 0) {
		r = page_through(&f, hrows, WIRE_KEY_ROWS, outside_row, NULL);
	}
	cJSON *d = NULL;
	if (r >= 0) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, RK_SCHEMA, REPORT_SCHEMA);
		cJSON_AddItemToObject(d, RK_ENVELOPE, envelope(&f));
		cJSON_AddItemToObject(d, RK_COVERAGE, coverage(&f, days, ndays));
		days = NULL;
		cJSON_AddItemToObject(d, RK_SUMMARY, summary(&f));
		cJSON_AddItemToObject(d, RK_HOLDINGS, holdings(&f));
		cJSON_AddItemToObject(d, RK_VIOLATIONS, violations(&f));
		cJSON_AddItemToObject(d, RK_CUSTODY, custody(&f));
		cJSON_AddItemToObject(d, RK_INTEGRITY, integrity(&f));
		cJSON_AddItemToObject(d, RK_CONTROLS, report_controls(d, false));
		report_set_banner(d);
	}
	cJSON_Delete(days);
	cJSON_Delete(f.cur);
	cJSON_Delete(f.cur_places);
	free(f.names);
	for (size_t i = 0; i < LW_ARRAY_SIZE(objs); i++) {
		cJSON_Delete(*objs[i]);
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(arrs); i++) {
		cJSON_Delete(*arrs[i]);
	}
	*doc = d;
	return r < 0 ? r : 0;
}
