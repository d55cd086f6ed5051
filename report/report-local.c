/* report-local.c — one workstation's report from its inventory (see
 * report.h), read through the stores' own query functions (store.h,
 * vstore.h) on a read-only connection inside one read transaction, so
 * every section describes the same snapshot.
 *
 * What the inventory can say, and what it cannot (stated in the report's
 * notes and in doc/leakwatch.1):
 * - files keep one row per path with first_seen, updated, deleted_at and
 *   moved_from, so new, changed, moved and removed are counted from the
 *   last thing that happened to each path (a file changed twice in the
 *   period counts once);
 * - the agent's status (coverage, overflows, rescans) is its last
 *   published one: counters since the agent started, not per period;
 * - the local event log keeps only unacknowledged events and the chain
 *   head, so the chain cannot be verified here: status "unknown" (the
 *   collector verifies it; the fleet report says "ok" or "broken");
 * - policy changes come from the agent's journal of loads (store
 *   migration 5), so inventories older than it show none before it.
 * Memory: the aggregates, the listed rows (row_limit) and the classified
 * files (for custody) — not the inventory. */
#include "report.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "hash.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "store.h"
#include "vstore.h"
#include "wire.h"

#define NS_PER_S 1000000000LL
#define DAY_NS (86400LL * NS_PER_S)
/* The agent publishes its status every second: older than this and it is
 * not running (a stopped or crashed agent). */
#define SILENT_AFTER_NS (120LL * NS_PER_S)

/* --- the state of one build --- */

struct local {
	const struct report_local_source *src;
	const struct report_options *o;
	int64_t since, until, prev;
	long row_limit;
	/* files */
	long long files_new[2], files_changed[2], files_moved[2], files_removed[2];
	long long classified[2], inventory;
	int64_t first_seen_min;
	int64_t unexamined[STORE_UNEXAMINED_KINDS]; /* store_unexamined() */
	cJSON *by_marking;       /* tally */
	cJSON *holdings;         /* "scheme\tlevel\tzone" -> count */
	cJSON *outside_rows;
	long long outside_total;
	cJSON *docs;             /* sha256 hex -> custody document being built */
	cJSON *partials;         /* [{"id","path","coverage"}] */
	size_t ndays;
	cJSON *daily;            /* day -> {violations,new,changed,moved,removed} */
	/* violations */
	long long violations[2];
	cJSON *v_rows, *by_rule, *by_sev, *by_agent, *by_day, *by_owner;
	long long v_total;
	long long st_open, st_quarantined, st_restored;
	cJSON *restored;         /* violation id -> true */
	cJSON *changes;          /* envelope.policy.changes */
	int64_t first_seq, last_seq, nseq;
};

static int
period_of(const struct local *l, int64_t t)
{
	if (t >= l->since && t < l->until) {
		return 0;
	}
	if (t >= l->prev && t < l->since) {
		return 1;
	}
	return -1;
}

static void
daily_add(struct local *l, int64_t t, const char *what)
{
	if (t < l->since || t >= l->until) {
		return;
	}
	char day[11];
	report_day(t, day);
	cJSON *d = cJSON_GetObjectItemCaseSensitive(l->daily, day);
	if (d) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(d, what);
		cJSON_SetNumberValue(c, c->valuedouble + 1);
	}
}

static const char *
owner_of(uint32_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res) {
		snprintf(buf, len, "%s", res->pw_name);
	} else {
		snprintf(buf, len, "%u", uid);
	}
	return buf;
}

static const char *
get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
present_at(const struct store_row *r, int64_t t)
{
	return r->first_seen < t && (r->deleted_at == 0 || r->deleted_at >= t);
}

static void
note_holding(struct local *l, const char *scheme, const char *level, const char *zone)
{
	char key[256];
	snprintf(key, sizeof(key), "%s\t%s\t%s", scheme, level, zone);
	report_tally(l->holdings, key, 0, 1);
}

static void
custody_note(struct local *l, const struct store_row *r, const char *marking,
	     const cJSON *matches)
{
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(r->rec.sha256, LW_SHA256_LEN, hex);
	cJSON *d = cJSON_GetObjectItemCaseSensitive(l->docs, hex);
	if (!d) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, RK_SHA256, hex);
		cJSON_AddItemToObject(d, RK_MARKING,
				      marking ? cJSON_CreateString(marking) : cJSON_CreateNull());
		cJSON_AddArrayToObject(d, RK_REGISTERED);
		cJSON_AddArrayToObject(d, RK_PLACES);
		cJSON_AddNumberToObject(d, RK_COPIES, 0);
		cJSON_AddArrayToObject(d, RK_EXCERPTS);
		cJSON_AddNumberToObject(d, RK_DELETIONS, 0);
		cJSON_AddBoolToObject(d, "touched", false); /* removed before output */
		cJSON_AddItemToObject(l->docs, hex, d);
	}
	cJSON *reg = cJSON_GetObjectItemCaseSensitive(d, RK_REGISTERED);
	const cJSON *m;
	cJSON_ArrayForEach(m, matches)
	{
		const char *id = get_str(m, WIRE_KEY_MATCH_ID);
		const char *kind = get_str(m, WIRE_KEY_MATCH_KIND);
		if (id && kind && strcmp(kind, "exact") == 0) {
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
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, RK_AGENT, l->src->agent);
	cJSON_AddItemToObject(p, RK_PATH, report_path(r->path, r->path_len, l->o->redact_paths));
	cJSON_AddItemToObject(p, RK_FIRST_SEEN, report_time(r->first_seen));
	cJSON_AddItemToObject(p, RK_LAST_SEEN,
			      report_time(r->deleted_at ? r->deleted_at : r->updated));
	cJSON_AddBoolToObject(p, RK_DELETED, r->deleted_at != 0);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, RK_PLACES), p);
	if (r->moved_from) {
		/* A rename keeps one row, at the new path: the old place is
		 * stated from it (left when the row was last updated). */
		cJSON *q = cJSON_CreateObject();
		cJSON_AddStringToObject(q, RK_AGENT, l->src->agent);
		cJSON_AddItemToObject(q, RK_PATH, report_path(r->moved_from, r->moved_from_len,
							      l->o->redact_paths));
		cJSON_AddItemToObject(q, RK_FIRST_SEEN, report_time(r->first_seen));
		cJSON_AddItemToObject(q, RK_LAST_SEEN, report_time(r->updated));
		cJSON_AddBoolToObject(q, RK_DELETED, true);
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, RK_PLACES), q);
	}
	/* It travelled in the period: arrived there (a copy or a move), or
	 * went away. */
	if (period_of(l, r->first_seen) == 0 || period_of(l, r->deleted_at) == 0 ||
	    (r->moved_from && period_of(l, r->updated) == 0)) {
		cJSON_ReplaceItemInObjectCaseSensitive(d, "touched", cJSON_CreateTrue());
	}
	if (r->deleted_at) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(d, RK_DELETIONS);
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	}
}

static int
on_file(const struct store_row *r, void *arg)
{
	struct local *l = arg;
	if (r->first_seen < l->first_seen_min || !l->first_seen_min) {
		l->first_seen_min = r->first_seen;
	}
	bool live = r->deleted_at == 0;
	int pn = period_of(l, r->first_seen);
	int pd = r->deleted_at ? period_of(l, r->deleted_at) : -1;
	int pu = period_of(l, r->updated);
	if (pn >= 0) {
		l->files_new[pn]++;
		daily_add(l, r->first_seen, RK_NEW);
	}
	if (pd >= 0) {
		l->files_removed[pd]++;
		daily_add(l, r->deleted_at, RK_REMOVED);
	}
	if (pu >= 0 && r->moved_from && pd < 0) {
		l->files_moved[pu]++;
		daily_add(l, r->updated, RK_MOVED);
	} else if (pu >= 0 && pn != pu && pd < 0 && r->updated > r->first_seen) {
		l->files_changed[pu]++;
		daily_add(l, r->updated, RK_CHANGED);
	}
	if (!live && r->deleted_at < l->prev) {
		return 0; /* gone before either period: nothing more to say */
	}
	AUTOJSON cJSON *f = NULL;
	if (r->rec.findings) {
		struct lw_json_error je;
		lw_json_parse(r->rec.findings, strlen(r->rec.findings), LW_JSON_BYTES, &f, &je);
	}
	if (live) {
		l->inventory++;
	}
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(f, WIRE_KEY_CLASSIFICATION);
	const cJSON *matches = cJSON_GetObjectItemCaseSensitive(f, WIRE_KEY_MATCHES);
	const char *marking = get_str(cls, WIRE_KEY_MARKING);
	const char *scheme = get_str(cls, WIRE_KEY_SCHEME);
	const char *level = get_str(cls, WIRE_KEY_LEVEL);
	bool classified = r->rec.rank >= 2 && marking && level;
	bool registered = false;
	const cJSON *m;
	cJSON_ArrayForEach(m, matches)
	{
		const char *id = get_str(m, WIRE_KEY_MATCH_ID);
		const char *kind = get_str(m, WIRE_KEY_MATCH_KIND);
		if (!id || !kind) {
			continue;
		}
		if (strcmp(kind, "exact") == 0) {
			registered = true;
		} else if (strcmp(kind, "partial") == 0 && live) {
			const cJSON *cov = cJSON_GetObjectItemCaseSensitive(m, WIRE_KEY_COVERAGE_SHARE);
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, RK_ID, id);
			cJSON_AddStringToObject(x, RK_AGENT, l->src->agent);
			cJSON_AddItemToObject(x, RK_PATH,
					      report_path(r->path, r->path_len, l->o->redact_paths));
			cJSON_AddNumberToObject(x, RK_COVERAGE,
						cJSON_IsNumber(cov) ? cov->valuedouble : 0);
			cJSON_AddItemToArray(l->partials, x);
		}
	}
	if (classified || registered) {
		custody_note(l, r, marking, matches);
	}
	if (!classified) {
		return 0;
	}
	for (int w = 0; w < 2; w++) {
		if (present_at(r, w == 0 ? l->until : l->since)) {
			l->classified[w]++;
			report_tally(l->by_marking, marking, w, 1);
		}
	}
	if (!present_at(r, l->until)) {
		return 0;
	}
	scheme = scheme ? scheme : "-";
	uint64_t zones = policy_zones_of(l->src->policy, r->path, r->path_len);
	bool secure = false;
	for (unsigned z = 0; z < policy_zone_count(l->src->policy); z++) {
		if (!(zones & (1ULL << z))) {
			continue;
		}
		const char *name = policy_zone_name(l->src->policy, z);
		if (strcmp(name, "secure") == 0) {
			secure = true;
			note_holding(l, scheme, level, "secure");
		} else if (strcmp(name, "staging") == 0 || strcmp(name, "removable") == 0 ||
			   strcmp(name, "sync") == 0) {
			note_holding(l, scheme, level, name);
		}
	}
	if (r->rec.mode & 04) {
		note_holding(l, scheme, level, "world_readable");
	}
	if (!secure) {
		note_holding(l, scheme, level, "outside_secure");
		l->outside_total++;
		if ((long)cJSON_GetArraySize(l->outside_rows) < l->row_limit) {
			char owner[64];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, RK_AGENT, l->src->agent);
			cJSON_AddItemToObject(o, RK_PATH,
					      report_path(r->path, r->path_len, l->o->redact_paths));
			cJSON_AddStringToObject(o, RK_MARKING, marking);
			cJSON_AddStringToObject(o, RK_OWNER, owner_of(r->rec.uid, owner, sizeof(owner)));
			cJSON_AddItemToObject(o, RK_SINCE, report_time(r->first_seen));
			cJSON_AddItemToArray(l->outside_rows, o);
		}
	}
	return 0;
}

static int
on_quarantine(const struct vstore_quarantine *q, void *arg)
{
	struct local *l = arg;
	if (q->restored_at && q->violation) {
		cJSON_AddTrueToObject(l->restored, q->violation);
	}
	return 0;
}

/* A violation body's member as a report path (bytes), or NULL. */
static cJSON *
body_path(const struct local *l, const cJSON *o, const char *key)
{
	const char *p = get_str(o, key);
	return p ? report_path(p, strlen(p), l->o->redact_paths) : cJSON_CreateNull();
}

static int
on_violation(int64_t id, int64_t time, const char *body, void *arg)
{
	struct local *l = arg;
	int w = period_of(l, time);
	if (w < 0) {
		return 0;
	}
	AUTOJSON cJSON *b = NULL;
	struct lw_json_error je;
	if (lw_json_parse(body, strlen(body), LW_JSON_BYTES, &b, &je) < 0) {
		b = cJSON_CreateObject(); /* counted, shown as "-" */
	}
	const char *rule = get_str(b, WIRE_KEY_RULE);
	const char *sev = get_str(b, WIRE_KEY_SEVERITY);
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_FILE);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_EVENT);
	const char *owner = get_str(file, WIRE_KEY_OWNER);
	rule = rule ? rule : "-";
	sev = sev ? sev : "low";
	l->violations[w]++;
	report_tally(l->by_rule, rule, w, 1);
	report_tally(l->by_sev, sev, w, 1);
	report_tally(l->by_agent, l->src->agent, w, 1);
	if (owner) {
		report_tally(l->by_owner, owner, w, 1);
	}
	if (w != 0) {
		return 0;
	}
	char day[11];
	report_day(time, day);
	report_tally(l->by_day, day, 0, 1);
	daily_add(l, time, RK_VIOLATIONS);
	const char *action = get_str(b, WIRE_KEY_ACTION);
	const char *vid = get_str(b, WIRE_KEY_ID);
	if (action && strcmp(action, "quarantine") == 0) {
		if (vid && cJSON_GetObjectItemCaseSensitive(l->restored, vid)) {
			l->st_restored++;
		} else {
			l->st_quarantined++;
		}
	} else {
		l->st_open++;
	}
	l->v_total++;
	(void)id;
	if ((long)cJSON_GetArraySize(l->v_rows) >= l->row_limit) {
		return 0;
	}
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(file, WIRE_KEY_CLASSIFICATION);
	const char *marking = get_str(cls, WIRE_KEY_MARKING);
	const char *result = get_str(b, WIRE_KEY_ACTION_RESULT);
	const char *kind = get_str(ev, WIRE_KEY_KIND);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, RK_TIME, report_time(time));
	cJSON_AddStringToObject(o, RK_AGENT, l->src->agent);
	cJSON_AddStringToObject(o, RK_RULE, rule);
	cJSON_AddStringToObject(o, RK_SEVERITY, sev);
	cJSON_AddStringToObject(o, RK_ACTION, action ? action : "-");
	cJSON_AddStringToObject(o, RK_ACTION_RESULT, result ? result : "-");
	cJSON_AddStringToObject(o, RK_EVENT, kind ? kind : "-");
	cJSON *p = body_path(l, file, WIRE_KEY_PATH);
	if (cJSON_IsNull(p)) {
		cJSON_Delete(p);
		p = cJSON_CreateString("-");
	}
	cJSON_AddItemToObject(o, RK_PATH, p);
	cJSON_AddItemToObject(o, RK_FROM, body_path(l, ev, WIRE_KEY_FROM));
	cJSON_AddItemToObject(o, RK_OWNER, owner ? cJSON_CreateString(owner) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, RK_MARKING,
			      marking ? cJSON_CreateString(marking) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, RK_BY,
			      report_process_by(cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_PROCESS)));
	cJSON_AddItemToArray(l->v_rows, o);
	return 0;
}

static double
num_at(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Coverage of the one host: the agent's last published status. It was
 * silent from its last status on when that is older than SILENT_AFTER_NS
 * (stopped or crashed); earlier silences leave no trace in the inventory,
 * which the note says. */
static cJSON *
coverage_agent(struct local *l)
{
	AUTOFREE char *json = NULL;
	int pid = 0;
	int64_t updated = 0;
	AUTOJSON cJSON *st = NULL;
	if (store_status_get(l->src->st, &pid, &updated, &json) == 1) {
		struct lw_json_error je;
		lw_json_parse(json, strlen(json), 0, &st, &je);
	}
	bool running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, WIRE_KEY_RUNNING));
	int64_t silent_from = 0;
	if (!st) {
		silent_from = l->since; /* never ran */
	} else if (!running || l->o->now - updated > SILENT_AFTER_NS) {
		silent_from = updated;
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, RK_AGENT, l->src->agent);
	const char *ver = get_str(st, "version");
	cJSON_AddItemToObject(a, RK_VERSION, ver ? cJSON_CreateString(ver) : cJSON_CreateNull());
	cJSON_AddItemToObject(a, RK_FIRST_CONTACT, l->first_seen_min
							   ? report_time(l->first_seen_min)
							   : cJSON_CreateNull());
	cJSON_AddItemToObject(a, RK_LAST_CONTACT,
			      st ? report_time(updated) : cJSON_CreateNull());
	cJSON_AddBoolToObject(a, RK_SILENT_NOW, silent_from != 0);
	cJSON *sil = cJSON_AddArrayToObject(a, RK_SILENT);
	double silent_s = 0;
	int64_t s0 = silent_from ? (silent_from > l->since ? silent_from : l->since) : 0;
	if (silent_from && s0 < l->until) {
		cJSON *i = cJSON_CreateObject();
		cJSON_AddItemToObject(i, RK_SINCE, report_time(s0));
		cJSON_AddItemToObject(i, RK_UNTIL, report_time(l->until));
		silent_s = (double)(l->until - s0) / NS_PER_S;
		cJSON_AddNumberToObject(i, RK_SECONDS, silent_s);
		cJSON_AddItemToArray(sil, i);
	}
	cJSON_AddNumberToObject(a, RK_SILENT_SECONDS, silent_s);
	double watches = num_at(st, WIRE_KEY_WATCHES, 0);
	double unwatched = num_at(st, WIRE_KEY_UNWATCHED_DIRS, 0);
	double wc = watches + unwatched > 0 ? watches / (watches + unwatched) : (st ? 1 : 0);
	double period_s = (double)(l->until - l->since) / NS_PER_S;
	double cov = period_s > 0 ? (1 - silent_s / period_s) * wc : 0;
	cJSON_AddNumberToObject(a, RK_COVERAGE, cov < 0 ? 0 : cov);
	cJSON *daily = cJSON_AddArrayToObject(a, RK_DAILY);
	for (size_t d = 0; d < l->ndays; d++) {
		int64_t ds = l->since + (int64_t)d * DAY_NS;
		int64_t de = ds + DAY_NS < l->until ? ds + DAY_NS : l->until;
		double off = 0;
		if (silent_from) {
			int64_t a0 = s0 > ds ? s0 : ds;
			off = a0 < de ? (double)(de - a0) / (double)(de - ds) : 0;
		}
		cJSON_AddItemToArray(daily, cJSON_CreateNumber((1 - off) * wc));
	}
	cJSON_AddNumberToObject(a, RK_WATCH_COVERAGE, wc);
	cJSON_AddNumberToObject(a, RK_UNWATCHED_DIRS, unwatched);
	cJSON_AddNumberToObject(a, RK_SEQUENCE_GAPS, 0);
	cJSON_AddStringToObject(a, RK_CHAIN, "unknown");
	cJSON_AddNumberToObject(a, RK_ALERTS, 0);
	cJSON_AddNumberToObject(a, RK_OVERFLOWS, num_at(st, WIRE_KEY_OVERFLOWS, 0));
	cJSON_AddNumberToObject(a, RK_RESCANS, num_at(st, "full_scans_done", 0));
	cJSON *u = cJSON_AddObjectToObject(a, RK_UNEXAMINED);
	static const char *const kinds[] = {RK_PERMISSION, RK_SIZE_CAP, RK_TIMEOUT, RK_ENCRYPTED,
					    RK_OTHER};
	for (size_t k = 0; k < LW_ARRAY_SIZE(kinds); k++) {
		cJSON_AddNumberToObject(u, kinds[k], (double)l->unexamined[k]);
	}
	cJSON_AddNumberToObject(a, RK_INVENTORY_FILES, (double)l->inventory);
	return a;
}

static int
on_policy_load(int64_t time, const char *sha256, long rules, void *arg)
{
	struct local *l = arg;
	cJSON *c = cJSON_CreateObject();
	cJSON_AddItemToObject(c, RK_TIME, report_time(time));
	cJSON_AddStringToObject(c, RK_AGENT, l->src->agent);
	cJSON_AddStringToObject(c, RK_SHA256, sha256);
	cJSON_AddNumberToObject(c, RK_RULES, (double)rules);
	cJSON_AddNullToObject(c, RK_FILE);
	cJSON_AddItemToArray(l->changes, c);
	return 0;
}

/* In force: the policy this report judged zones by, the one the
 * configuration names (the agent loads the same file). Changes: every
 * load the agent journaled within the period (l->changes). */
static cJSON *
envelope(struct local *l, bool empty)
{
	cJSON *ag = cJSON_CreateArray();
	cJSON_AddItemToArray(ag, cJSON_CreateString(l->src->agent));
	cJSON *roots = cJSON_CreateArray();
	for (size_t i = 0; i < l->src->nroots; i++) {
		cJSON_AddItemToArray(roots, cJSON_CreateString(l->src->roots[i]));
	}
	cJSON *pol = cJSON_CreateObject();
	cJSON *inf = cJSON_AddArrayToObject(pol, RK_IN_FORCE);
	uint8_t d[LW_SHA256_LEN];
	char hex[LW_SHA256_HEX_LEN + 1];
	policy_digest(l->src->policy, d);
	lw_hex(d, sizeof(d), hex);
	cJSON *pi = cJSON_CreateObject();
	cJSON_AddStringToObject(pi, RK_SHA256, hex);
	cJSON *pa = cJSON_AddArrayToObject(pi, RK_AGENTS);
	cJSON_AddItemToArray(pa, cJSON_CreateString(l->src->agent));
	cJSON_AddItemToArray(inf, pi);
	cJSON_AddItemToObject(pol, RK_CHANGES, TAKE_PTR(l->changes));
	return report_envelope(l->o, "local", ag, roots, pol, l->row_limit, empty);
}

static cJSON *
summary(struct local *l)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddItemToObject(s, RK_CLASSIFIED, report_delta(l->classified[0], l->classified[1]));
	cJSON_AddItemToObject(s, RK_CLASSIFIED_BY_MARKING, report_tally_list(l->by_marking, true, false, 0));
	cJSON *f = cJSON_AddObjectToObject(s, RK_FILES);
	cJSON_AddItemToObject(f, RK_NEW, report_delta(l->files_new[0], l->files_new[1]));
	cJSON_AddItemToObject(f, RK_CHANGED, report_delta(l->files_changed[0], l->files_changed[1]));
	cJSON_AddItemToObject(f, RK_MOVED, report_delta(l->files_moved[0], l->files_moved[1]));
	cJSON_AddItemToObject(f, RK_REMOVED, report_delta(l->files_removed[0], l->files_removed[1]));
	cJSON_AddItemToObject(s, RK_VIOLATIONS, report_delta(l->violations[0], l->violations[1]));
	cJSON_AddItemToObject(s, RK_BY_SEVERITY, report_by_severity(l->by_sev));
	cJSON *bs = cJSON_AddObjectToObject(s, RK_BY_STATE);
	cJSON_AddNumberToObject(bs, RK_OPEN, (double)l->st_open);
	cJSON_AddNumberToObject(bs, RK_QUARANTINED, (double)l->st_quarantined);
	cJSON_AddNumberToObject(bs, RK_RESTORED, (double)l->st_restored);
	report_summary_lists(s, l->by_rule, l->by_agent, l->by_owner, l->daily);
	return s;
}

static cJSON *
holdings(struct local *l)
{
	return report_holdings_section(l->holdings, l->outside_total, TAKE_PTR(l->outside_rows));
}

static cJSON *
violations(struct local *l)
{
	return report_violations_section(l->v_total, TAKE_PTR(l->v_rows), l->by_rule, l->by_sev,
					 l->by_agent, l->by_day);
}

/* Documents that travelled in the period, with every place they were and
 * the excerpts of the registered ones. */
static cJSON *
custody(struct local *l)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *docs = cJSON_CreateArray();
	long long total = 0;
	cJSON *d = l->docs->child;
	while (d) {
		cJSON *next = d->next;
		bool touched = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "touched"));
		if (touched) {
			total++;
		}
		if (touched && (long)cJSON_GetArraySize(docs) < l->row_limit) {
			cJSON *doc = cJSON_DetachItemViaPointer(l->docs, d);
			cJSON_DeleteItemFromObjectCaseSensitive(doc, "touched");
			/* copies: the places it is held now, beyond the first */
			int live = 0;
			const cJSON *pl;
			cJSON_ArrayForEach(pl, cJSON_GetObjectItemCaseSensitive(doc, RK_PLACES))
			{
				live += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pl, RK_DELETED));
			}
			cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, RK_COPIES),
					     live > 1 ? live - 1 : 0);
			cJSON *ex = cJSON_GetObjectItemCaseSensitive(doc, RK_EXCERPTS);
			const cJSON *id;
			cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(doc, RK_REGISTERED))
			{
				const cJSON *x;
				cJSON_ArrayForEach(x, l->partials)
				{
					if (strcmp(get_str(x, RK_ID), id->valuestring) == 0) {
						cJSON_AddItemToArray(ex, cJSON_Duplicate(x, true));
					}
				}
			}
			free(doc->string);
			doc->string = NULL;
			cJSON_AddItemToArray(docs, doc);
		}
		d = next;
	}
	cJSON_AddNumberToObject(c, RK_TOTAL, (double)total);
	cJSON_AddItemToObject(c, RK_DOCUMENTS, docs);
	return c;
}

static cJSON *
integrity(struct local *l, struct vstore *vs)
{
	cJSON *in = cJSON_CreateObject();
	cJSON *chains = cJSON_AddArrayToObject(in, RK_CHAINS);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, RK_AGENT, l->src->agent);
	int64_t seq = 0;
	char hash[LW_SHA256_HEX_LEN + 1];
	int r = vstore_chain_head(vs, &seq, hash);
	cJSON_AddNullToObject(c, RK_FIRST_SEQ);
	cJSON_AddItemToObject(c, RK_LAST_SEQ, r == 1 ? cJSON_CreateNumber((double)seq)
						       : cJSON_CreateNull());
	cJSON_AddNumberToObject(c, RK_EVENTS, (double)l->v_total);
	cJSON_AddItemToObject(c, RK_HEAD, r == 1 ? cJSON_CreateString(hash) : cJSON_CreateNull());
	cJSON_AddStringToObject(c, RK_STATUS, "unknown");
	cJSON_AddItemToArray(chains, c);
	cJSON_AddStringToObject(
		in, RK_NOTE,
		"Local report: the head is the newest event of this agent's log when the report"
		" was made; it covers every event from seq 1 to last_seq. events counts the"
		" violation events of the period. The agent keeps only the events the collector"
		" has not acknowledged, so the chain is verified by the collector (fleet"
		" report), not here.");
	return in;
}

int
report_build_local(const struct report_local_source *src, const struct report_options *o,
		   cJSON **doc, char *err, size_t errlen)
{
	struct local l = {.src = src, .o = o, .since = o->period.since,
			  .until = o->period.until, .prev = o->period.prev_since,
			  .row_limit = o->row_limit > 0 ? o->row_limit : REPORT_ROW_LIMIT};
	l.by_marking = cJSON_CreateObject();
	l.holdings = cJSON_CreateObject();
	l.outside_rows = cJSON_CreateArray();
	l.docs = cJSON_CreateObject();
	l.partials = cJSON_CreateArray();
	l.daily = cJSON_CreateObject();
	l.v_rows = cJSON_CreateArray();
	l.by_rule = cJSON_CreateObject();
	l.by_sev = cJSON_CreateObject();
	l.by_agent = cJSON_CreateObject();
	l.by_day = cJSON_CreateObject();
	l.by_owner = cJSON_CreateObject();
	l.restored = cJSON_CreateObject();
	l.changes = cJSON_CreateArray();
	cJSON *days = cJSON_CreateArray();
	l.ndays = report_days(l.since, l.until, days, l.daily);
	struct vstore *vs = vstore_new(src->st);
	int r = store_read_begin(src->st);
	bool empty = false;
	if (r >= 0) {
		r = store_is_empty(src->st);
		empty = r == 1;
	}
	if (r >= 0) {
		r = store_foreach(src->st, NULL, 0, true, 0, on_file, &l);
	}
	if (r >= 0) {
		r = vstore_quarantine_foreach(vs, on_quarantine, &l);
	}
	if (r >= 0) {
		r = vstore_violation_foreach(vs, l.prev, 0, NULL, on_violation, &l);
	}
	if (r >= 0) {
		r = vstore_policy_foreach(vs, l.since, l.until, on_policy_load, &l);
	}
	if (r >= 0) {
		int64_t files = 0;
		r = store_unexamined(src->st, &files, l.unexamined); /* as the agent counts */
	}
	cJSON *d = NULL;
	if (r >= 0) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, RK_SCHEMA, REPORT_SCHEMA);
		cJSON_AddItemToObject(d, RK_ENVELOPE, envelope(&l, empty));
		cJSON *cov = cJSON_AddObjectToObject(d, RK_COVERAGE);
		cJSON *agent = coverage_agent(&l);
		cJSON_AddNumberToObject(cov, RK_FIGURE, num_at(agent, RK_COVERAGE, 0));
		cJSON_AddItemToObject(cov, RK_DAYS, days);
		days = NULL;
		cJSON *agents = cJSON_AddArrayToObject(cov, RK_AGENTS);
		cJSON_AddItemToArray(agents, agent);
		cJSON_AddItemToObject(d, RK_SUMMARY, summary(&l));
		cJSON_AddItemToObject(d, RK_HOLDINGS, holdings(&l));
		cJSON_AddItemToObject(d, RK_VIOLATIONS, violations(&l));
		cJSON_AddItemToObject(d, RK_CUSTODY, custody(&l));
		cJSON_AddItemToObject(d, RK_INTEGRITY, integrity(&l, vs));
		cJSON_AddItemToObject(d, RK_CONTROLS, report_controls(d, false));
		report_set_banner(d);
	} else {
		snprintf(err, errlen, "reading the inventory: %s", db_error_text(r));
	}
	store_read_end(src->st);
	vstore_free(vs);
	cJSON *tmp[] = {days, l.by_marking, l.holdings, l.outside_rows, l.docs, l.partials,
			l.daily, l.v_rows, l.by_rule, l.by_sev, l.by_agent, l.by_day, l.by_owner,
			l.restored, l.changes};
	for (size_t i = 0; i < LW_ARRAY_SIZE(tmp); i++) {
		cJSON_Delete(tmp[i]);
	}
	*doc = d;
	return r < 0 ? r : 0;
}
