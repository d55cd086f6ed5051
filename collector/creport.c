/* creport.c — the collector's report endpoints (doc/protocol.md, "Report
 * queries"): what `leakwatch report` reads to build a fleet report.
 *
 * Four GET endpoints, administrators only, each over one period
 * [since, until) of the collector's own receive times:
 * - /v1/report/agents: every agent with its figures for the period and
 *   its silent intervals, computed here from the contact intervals;
 * - /v1/report/counts: the aggregates, per agent (the database groups);
 * - /v1/report/notes and /v1/report/rows: lists, paged by row id ("after",
 *   "next"), at most REPORT_PAGE_MAX rows per answer.
 * So an answer is bounded by the page size or by the fleet's size, never
 * by the number of events, and the client's memory likewise. Event-loop
 * thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "json.h"
#include "log.h"
#include "mem.h"
#include "render.h"
#include "rfc3339.h"
#include "server-private.h"

#define REPORT_PAGE_DEFAULT 1000
#define REPORT_PAGE_MAX 20000
#define SILENT_LIST_MAX 100 /* intervals listed per agent; all are counted */

struct report_params {
	char since[RFC3339_LEN], until[RFC3339_LEN];
	const char *agent;
	int64_t after;
	long limit;
	enum cstore_report_rows rows;
	bool has_rows;
};

/* @allowed: the parameters this endpoint takes besides since and until. */
static int
parse_params(struct evhttp_request *req, struct evkeyvalq *kv, const char *const *allowed,
	     struct report_params *p, char *err, size_t errlen)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", kv) < 0) {
		snprintf(err, errlen, "malformed query string");
		return -EINVAL;
	}
	p->limit = REPORT_PAGE_DEFAULT;
	for (struct evkeyval *e = kv->tqh_first; e; e = e->next.tqe_next) {
		const char *k = e->key, *v = e->value;
		if (!cevent_plain_text(k) || !cevent_plain_text(v)) {
			snprintf(err, errlen, "parameter \"%.64s\": control character or not UTF-8",
				 cevent_plain_text(k) ? k : "?");
			return -EINVAL;
		}
		bool known = strcmp(k, WIRE_QUERY_SINCE) == 0 || strcmp(k, WIRE_QUERY_UNTIL) == 0;
		for (const char *const *a = allowed; *a && !known; a++) {
			known = strcmp(k, *a) == 0;
		}
		if (!known) {
			snprintf(err, errlen, "unknown parameter \"%.64s\"", k);
			return -EINVAL;
		}
		if (strcmp(k, WIRE_QUERY_SINCE) == 0 || strcmp(k, WIRE_QUERY_UNTIL) == 0) {
			char *buf = k[0] == 's' ? p->since : p->until;
			if (rfc3339_parse_since(v, buf) < 0) {
				snprintf(err, errlen, "%s: not a time or a duration (24h, 7d)", k);
				return -EINVAL;
			}
		} else if (strcmp(k, WIRE_QUERY_AGENT) == 0) {
			p->agent = v;
		} else if (strcmp(k, WIRE_QUERY_AFTER) == 0 || strcmp(k, WIRE_QUERY_LIMIT) == 0) {
			char *end = NULL;
			long long n = strtoll(v, &end, 10);
			bool lim = k[0] == 'l';
			if (!v[0] || *end || n < (lim ? 1 : 0) || (lim && n > REPORT_PAGE_MAX)) {
				snprintf(err, errlen, lim ? "limit: a number from 1 to 20000"
							  : "after: a row number from a \"next\"");
				return -EINVAL;
			}
			if (lim) {
				p->limit = (long)n;
			} else {
				p->after = n;
			}
		} else if (strcmp(k, WIRE_QUERY_ROWS) == 0) {
			p->has_rows = true;
			if (strcmp(v, WIRE_KEY_VIOLATIONS) == 0) {
				p->rows = CSTORE_ROWS_VIOLATIONS;
			} else if (strcmp(v, WIRE_ROWS_HOLDINGS) == 0) {
				p->rows = CSTORE_ROWS_HOLDINGS;
			} else if (strcmp(v, WIRE_ROWS_EXCERPTS) == 0) {
				p->rows = CSTORE_ROWS_EXCERPTS;
			} else if (strcmp(v, WIRE_ROWS_CUSTODY) == 0) {
				p->rows = CSTORE_ROWS_CUSTODY;
			} else {
				snprintf(err, errlen, "rows: violations, holdings, excerpts or custody");
				return -EINVAL;
			}
		}
	}
	if (!p->since[0] || !p->until[0]) {
		snprintf(err, errlen, "since and until are both needed (the report's period)");
		return -EINVAL;
	}
	if (strcmp(p->since, p->until) >= 0) {
		snprintf(err, errlen, "since must be before until");
		return -EINVAL;
	}
	if (allowed[0] && strcmp(allowed[0], WIRE_QUERY_ROWS) == 0 && !p->has_rows) {
		snprintf(err, errlen, "rows: violations, holdings, excerpts or custody");
		return -EINVAL;
	}
	return 0;
}

static void
emit(struct wire_buf *out, cJSON *o)
{
	lw_json_write(out, o);
	cJSON_Delete(o);
}

static void
add_text(cJSON *o, const char *key, const char *v)
{
	if (v) {
		cJSON_AddStringToObject(o, key, v);
	} else {
		cJSON_AddNullToObject(o, key);
	}
}

/* --- silent intervals --- */

struct silence {
	long long cursor;  /* contact known up to here (ms) */
	long long end;     /* min(until, now) */
	long long gap_ms;  /* longer than this without contact: silent */
	cJSON *list;
	long long count, total_ms;
};

static void
silent_from_to(struct silence *s, long long a, long long b)
{
	if (b - a <= s->gap_ms) {
		return;
	}
	s->count++;
	s->total_ms += b - a;
	if (cJSON_GetArraySize(s->list) < SILENT_LIST_MAX) {
		char t[RFC3339_LEN];
		cJSON *i = cJSON_CreateObject();
		rfc3339_format(a, t);
		cJSON_AddStringToObject(i, WIRE_KEY_SINCE, t);
		rfc3339_format(b, t);
		cJSON_AddStringToObject(i, WIRE_KEY_UNTIL, t);
		cJSON_AddNumberToObject(i, WIRE_KEY_SILENT_SECONDS, (double)(b - a) / 1000.0);
		cJSON_AddItemToArray(s->list, i);
	}
}

static int
on_contact(const struct cstore_contact *c, void *arg)
{
	struct silence *s = arg;
	long long a = 0, b = 0;
	if (rfc3339_parse_ms(c->since, 0, &a) < 0 || rfc3339_parse_ms(c->until, 0, &b) < 0) {
		return 0; /* not ours: contacts are written by cstore_contact() */
	}
	if (a > s->end) {
		a = s->end;
	}
	if (a > s->cursor) {
		silent_from_to(s, s->cursor, a);
	}
	if (b > s->cursor) {
		s->cursor = b;
	}
	return 0;
}

struct agents_ctx {
	struct server *srv;
	const struct report_params *p;
	long long since_ms, until_ms, now_ms;
	struct wire_buf *out;
	int n;
	cJSON *rows; /* the agents, with their silences filled in after the scan */
};

static int
on_period_agent(const struct cstore_period_agent *r, void *arg)
{
	struct agents_ctx *c = arg;
	cJSON *o = cJSON_CreateObject();
	add_text(o, WIRE_KEY_AGENT, r->a.agent);
	add_text(o, WIRE_KEY_FIRST_CONTACT, r->first_contact);
	add_text(o, WIRE_KEY_LAST_CONTACT, r->a.last_contact);
	add_text(o, WIRE_KEY_VERSION, r->a.version);
	if (r->a.has_coverage) {
		cJSON_AddNumberToObject(o, WIRE_KEY_COVERAGE, r->a.coverage);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_COVERAGE);
	}
	cJSON_AddBoolToObject(o, WIRE_KEY_CHAIN_OK, r->a.chain_ok);
	add_text(o, WIRE_KEY_POLICY_SHA256, r->policy_sha256);
	add_text(o, WIRE_KEY_STARTED, r->started);
	cJSON_AddNumberToObject(o, WIRE_KEY_EVENTS, (double)r->events);
	cJSON_AddNumberToObject(o, WIRE_KEY_FIRST_SEQ, (double)r->first_seq);
	cJSON_AddNumberToObject(o, WIRE_KEY_LAST_SEQ, (double)r->last_seq);
	cJSON_AddNumberToObject(o, WIRE_KEY_HEAD_SEQ, (double)r->head_seq);
	add_text(o, WIRE_KEY_HEAD, r->head_hash);
	if (r->has_inventory_files) {
		cJSON_AddNumberToObject(o, WIRE_KEY_INVENTORY_FILES, (double)r->inventory_files);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_INVENTORY_FILES);
	}
	/* "p,s,t,e,o" as cstore_heartbeat() stored it, back to an object */
	static const char *const kinds[] = {WIRE_UNEXAMINED_KINDS};
	long long n[LW_ARRAY_SIZE(kinds)];
	if (r->unexamined && sscanf(r->unexamined, "%lld,%lld,%lld,%lld,%lld", &n[0], &n[1],
				    &n[2], &n[3], &n[4]) == 5) {
		cJSON *u = cJSON_AddObjectToObject(o, WIRE_KEY_UNEXAMINED);
		for (size_t i = 0; i < LW_ARRAY_SIZE(kinds); i++) {
			cJSON_AddNumberToObject(u, kinds[i], (double)n[i]);
		}
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_UNEXAMINED);
	}
	cJSON_AddItemToArray(c->rows, o);
	return 0;
}

/* Silences of one agent within [since, min(until, now)): before its first
 * contact it did not exist yet, which is not a silence. */
static int
agent_silence(struct agents_ctx *c, cJSON *o)
{
	const char *agent = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_AGENT)->valuestring;
	const cJSON *fc = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_FIRST_CONTACT);
	const cJSON *lc = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_LAST_CONTACT);
	long long first = c->since_ms, last = 0;
	if (cJSON_IsString(fc) && rfc3339_parse_ms(fc->valuestring, 0, &first) == 0 &&
	    first < c->since_ms) {
		first = c->since_ms;
	}
	struct silence s = {
		.cursor = first,
		.end = c->until_ms < c->now_ms ? c->until_ms : c->now_ms,
		.gap_ms = (long long)c->srv->cfg->silent_after_s * 1000,
		.list = cJSON_CreateArray(),
	};
	int r = 0;
	if (first < s.end) {
		r = c->srv->store->ops->contacts(c->srv->store, agent, c->p->since, c->p->until,
						 on_contact, &s);
		if (r >= 0) {
			silent_from_to(&s, s.cursor, s.end);
		}
	}
	cJSON_AddItemToObject(o, WIRE_KEY_SILENT, s.list);
	cJSON_AddNumberToObject(o, WIRE_KEY_SILENT_TOTAL, (double)s.count);
	cJSON_AddNumberToObject(o, WIRE_KEY_SILENT_SECONDS, (double)s.total_ms / 1000.0);
	bool now_silent = !cJSON_IsString(lc) || rfc3339_parse_ms(lc->valuestring, 0, &last) < 0 ||
			  c->now_ms - last > s.gap_ms;
	cJSON_AddBoolToObject(o, WIRE_KEY_SILENT_NOW, now_silent);
	return r < 0 ? r : 0;
}

static void
report_agents(struct server *srv, struct evhttp_request *req, const struct report_params *p,
	      struct wire_buf *out, int *r)
{
	struct agents_ctx c = {.srv = srv, .p = p, .out = out, .rows = cJSON_CreateArray()};
	char now[RFC3339_LEN];
	rfc3339_now(now);
	rfc3339_parse_ms(now, 0, &c.now_ms);
	rfc3339_parse_ms(p->since, 0, &c.since_ms);
	rfc3339_parse_ms(p->until, 0, &c.until_ms);
	*r = srv->store->ops->period_agents(srv->store, p->since, p->until, on_period_agent, &c);
	cJSON *o;
	cJSON_ArrayForEach(o, c.rows)
	{
		if (*r < 0) {
			break;
		}
		*r = agent_silence(&c, o);
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, WIRE_KEY_SILENT_AFTER_S, srv->cfg->silent_after_s);
	cJSON_AddStringToObject(doc, WIRE_KEY_SINCE, p->since);
	cJSON_AddStringToObject(doc, WIRE_KEY_UNTIL, p->until);
	cJSON_AddItemToObject(doc, WIRE_KEY_AGENTS, c.rows);
	emit(out, doc);
	(void)req;
}

/* --- lists and counts: one row after another --- */

struct list_ctx {
	struct wire_buf *out;
	int n;
	int64_t last_id;
};

static void
sep(struct list_ctx *l)
{
	if (l->n++) {
		wire_buf_put(l->out, ",", 1);
	}
}

static int
on_count(const struct cstore_count_row *row, void *arg)
{
	struct list_ctx *l = arg;
	sep(l);
	cJSON *o = cJSON_CreateObject();
	add_text(o, WIRE_KEY_AGENT, row->agent);
	add_text(o, WIRE_KEY_WHAT, row->what);
	add_text(o, WIRE_KEY_KEY, row->key);
	cJSON_AddNumberToObject(o, WIRE_KEY_N, (double)row->n);
	emit(l->out, o);
	return 0;
}

static int
on_note(const struct cstore_note_row *row, void *arg)
{
	struct list_ctx *l = arg;
	sep(l);
	l->last_id = row->id;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, WIRE_KEY_ROW, (double)row->id);
	add_text(o, WIRE_KEY_AGENT, row->agent);
	add_text(o, WIRE_KEY_TIME, row->time);
	add_text(o, WIRE_KEY_KIND, row->kind);
	add_text(o, WIRE_KEY_DETAIL, row->detail);
	emit(l->out, o);
	return 0;
}

/* {"row": id, "event": {agent, seq, received, ...body}}: the body keeps
 * every member it has (its own "id" too), the store's row id stays apart. */
static int
on_row(const struct cstore_event_row *row, void *arg)
{
	struct list_ctx *l = arg;
	sep(l);
	l->last_id = row->id;
	char head[64];
	int n = snprintf(head, sizeof(head),
			 "{\"" WIRE_KEY_ROW "\":%" PRId64 "%s,\"" WIRE_KEY_EVENT "\":", row->id,
			 row->superseded ? ",\"" WIRE_KEY_SUPERSEDED "\":true" : "");
	wire_buf_put(l->out, head, (size_t)n);
	render_event(l->out, row);
	wire_buf_put(l->out, "}", 1);
	return 0;
}

/* ,"next": the last row's id when the page is full (there may be more),
 * else null. */
static void
put_next(struct wire_buf *out, const struct list_ctx *l, long limit)
{
	char tail[64];
	int n = l->n >= limit ? snprintf(tail, sizeof(tail), "],\"" WIRE_KEY_NEXT "\":%" PRId64 "}",
					 l->last_id)
			      : snprintf(tail, sizeof(tail), "],\"" WIRE_KEY_NEXT "\":null}");
	wire_buf_put(out, tail, (size_t)n);
}

void
handlers_report(struct server *srv, struct evhttp_request *req, const char *what)
{
	static const char *const none[] = {NULL};
	static const char *const paged[] = {WIRE_QUERY_AFTER, WIRE_QUERY_LIMIT, NULL};
	static const char *const rows[] = {WIRE_QUERY_ROWS, WIRE_QUERY_AFTER, WIRE_QUERY_LIMIT,
					   WIRE_QUERY_AGENT, NULL};
	bool is_agents = strcmp(what, WIRE_KEY_AGENTS) == 0;
	bool is_counts = strcmp(what, WIRE_KEY_COUNTS) == 0;
	bool is_notes = strcmp(what, WIRE_KEY_NOTES) == 0;
	struct report_params p = {0};
	struct evkeyvalq kv = {0};
	kv.tqh_first = NULL;
	kv.tqh_last = &kv.tqh_first;
	char err[256];
	if (parse_params(req, &kv, is_agents || is_counts ? none : is_notes ? paged : rows, &p,
			 err, sizeof(err)) < 0) {
		evhttp_clear_headers(&kv);
		srv_error(srv, req, 400, err);
		return;
	}
	const struct cstore_ops *ops = srv->store->ops;
	struct wire_buf out = {0};
	struct list_ctx l = {.out = &out};
	int r = 0;
	if (is_agents) {
		report_agents(srv, req, &p, &out, &r);
	} else if (is_counts) {
		wire_buf_put(&out, "{\"" WIRE_KEY_COUNTS "\":[", sizeof(WIRE_KEY_COUNTS) + 4);
		r = ops->counts(srv->store, p.since, p.until, on_count, &l);
		wire_buf_put(&out, "]}", 2);
	} else if (is_notes) {
		wire_buf_put(&out, "{\"" WIRE_KEY_NOTES "\":[", sizeof(WIRE_KEY_NOTES) + 4);
		r = ops->notes(srv->store, p.since, p.until, p.after, p.limit, on_note, &l);
		put_next(&out, &l, p.limit);
	} else {
		struct cstore_report_query q = {.rows = p.rows, .since = p.since, .until = p.until,
						.agent = p.agent, .after = p.after,
						.limit = p.limit};
		int64_t total = -1;
		/* the first page of custody says how many documents there are:
		 * a reader that lists a few need not page through them all */
		if (p.rows == CSTORE_ROWS_CUSTODY && p.after == 0) {
			r = ops->custody_total(srv->store, p.since, p.until, p.agent, &total);
		}
		char head[64];
		int hn = total >= 0 ? snprintf(head, sizeof(head), "{\"" WIRE_KEY_TOTAL "\":%" PRId64
								   ",\"" WIRE_KEY_ROWS "\":[", total)
				    : snprintf(head, sizeof(head), "{\"" WIRE_KEY_ROWS "\":[");
		wire_buf_put(&out, head, (size_t)hn);
		if (r >= 0) {
			r = ops->report_rows(srv->store, &q, on_row, &l);
		}
		put_next(&out, &l, p.limit);
	}
	evhttp_clear_headers(&kv);
	if (r < 0) {
		srv->m.store_errors++;
		wire_buf_fini(&out);
		srv_error(srv, req, 503, "storage unavailable");
		return;
	}
	srv_reply(srv, req, 200, &out, false);
	wire_buf_fini(&out);
}
