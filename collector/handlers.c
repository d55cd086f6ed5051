/* handlers.c — the collector's endpoints (doc/protocol.md, "Endpoints").
 * Called by server.c once the caller is authenticated, authorised and
 * within its rate. Event-loop thread. */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "guard.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "render.h"
#include "rfc3339.h"
#include "server-private.h"
#include "cevent.h"

/* The request body as one NUL-terminated string (the NUL is ours; a NUL
 * inside the body makes it malformed). NULL and a 400 sent if empty. */
static char *
request_body(struct server *srv, struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (n == 0) {
		srv_error(srv, req, 400, "empty body");
		return NULL;
	}
	char *buf = lw_malloc(n + 1);
	evbuffer_copyout(in, buf, n);
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		srv_error(srv, req, 400, "NUL byte in body");
		return NULL;
	}
	*len = n;
	return buf;
}

/* Parses the whole body strictly (common/json.h) as one JSON object;
 * sends 400 saying what is wrong on failure. */
static cJSON *
parse_object(struct server *srv, struct evhttp_request *req, const char *buf, size_t len)
{
	struct lw_json_error je;
	cJSON *root = NULL;
	char err[300];
	if (lw_json_parse(buf, len, 0, &root, &je) < 0) {
		if (je.offset == SIZE_MAX) {
			snprintf(err, sizeof(err), "body: %s: %s", je.where, je.msg);
		} else {
			snprintf(err, sizeof(err), "body: byte %zu: %s", je.offset, je.msg);
		}
		srv_error(srv, req, 400, err);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		srv_error(srv, req, 400, "body is not a JSON object");
		return NULL;
	}
	return root;
}

void
handlers_events(struct server *srv, struct evhttp_request *req, const struct srv_caller *who)
{
	size_t len = 0;
	AUTOFREE char *buf = request_body(srv, req, &len);
	if (!buf) {
		return;
	}
	AUTOJSON cJSON *root = parse_object(srv, req, buf, len);
	if (!root) {
		return;
	}
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, WIRE_KEY_EVENTS);
	char err[512];
	struct cevent *evs = NULL;
	size_t n = 0, parsed = 0;
	if (!cJSON_IsArray(arr)) {
		srv_error(srv, req, 400, "\"events\" must be an array");
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > (size_t)srv->cfg->max_events) {
		snprintf(err, sizeof(err), "more than %d events in one batch",
			 srv->cfg->max_events);
		srv_error(srv, req, 413, err);
		goto out;
	}
	/* Every event is checked before anything is stored: a malformed
	 * batch is refused whole, and the agent learns which event. */
	evs = lw_new(struct cevent, n ? n : 1);
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (cevent_parse(it, &evs[parsed], err, sizeof(err)) < 0) {
			srv_error(srv, req, 400, err);
			goto out;
		}
		parsed++;
	}
	if (n == 0) {
		struct wire_buf out = {0};
		static const char empty[] = "{\"" WIRE_KEY_ACKED "\":[]}";
		wire_buf_put(&out, empty, sizeof(empty) - 1);
		srv->m.batches++;
		srv_reply(srv, req, 200, &out, false);
		wire_buf_fini(&out);
		goto out;
	}
	/* verified and committed by a storage worker; answered by
	 * events_done() */
	struct ingest_job *job = lw_new(struct ingest_job, 1);
	snprintf(job->agent, sizeof(job->agent), "%s", who->cn);
	job->evs = evs;
	job->n = n;
	job->root = root; /* the bodies point into it */
	root = NULL;
	job->arg = req;
	evs = NULL;
	parsed = 0;
	ingest_submit(srv->ingest, job);
out:
	for (size_t i = 0; i < parsed; i++) {
		cevent_fini(&evs[i]);
	}
	free(evs);
}

static void
events_done(struct ingest_job *job, struct server *srv)
{
	struct evhttp_request *req = job->arg;
	if (job->r < 0) {
		srv->m.store_errors++;
		srv_error(srv, req, 503, "storage unavailable; keep the events and retry");
		return;
	}
	const struct cstore_ingest_stats *st = &job->st;
	srv->m.batches++;
	srv->m.events_stored += (uint64_t)st->stored;
	srv->m.events_duplicate += (uint64_t)st->duplicates;
	for (int k = 0; k < 3; k++) {
		srv->m.chain_alerts[k] += (uint64_t)st->alerts[k];
		if (st->alerts[k]) {
			log_warn("collector: %s: chain alert: %d x %s", job->agent, st->alerts[k],
				 cevent_alert_kind_name((enum cevent_alert_kind)k));
		}
	}
	struct wire_buf out = {0};
	static const char head[] = "{\"" WIRE_KEY_ACKED "\":[";
	wire_buf_put(&out, head, sizeof(head) - 1);
	for (size_t i = 0; i < job->n; i++) {
		char num[32];
		int k = snprintf(num, sizeof(num), "%s%" PRId64, i ? "," : "", job->evs[i].seq);
		wire_buf_put(&out, num, (size_t)k);
	}
	wire_buf_put(&out, "]}", 2);
	srv_reply(srv, req, 200, &out, false);
	wire_buf_fini(&out);
}

/* UTF-8 without control characters. evhttp decodes %0A into a newline;
 * in an id it would match across the "\nid\n" list that trace searches,
 * and in any value it would reach the officer's terminal. */
static bool
query_text_ok(const char *s)
{
	return cevent_plain_text(s);
}

/* A member that must be of one type when present; NULL when absent or null. */
static const cJSON *
typed(const cJSON *o, const char *key, cJSON_bool (*is)(const cJSON *), const char **bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) {
		return NULL;
	}
	if (!is(v)) {
		*bad = key;
		return NULL;
	}
	return v;
}

void
handlers_heartbeat(struct server *srv, struct evhttp_request *req, const struct srv_caller *who)
{
	size_t len = 0;
	AUTOFREE char *buf = request_body(srv, req, &len);
	if (!buf) {
		return;
	}
	AUTOJSON cJSON *root = parse_object(srv, req, buf, len);
	if (!root) {
		return;
	}
	const char *bad = NULL;
	const cJSON *ver = typed(root, WIRE_KEY_VERSION, cJSON_IsString, &bad);
	const cJSON *cov = typed(root, WIRE_KEY_COVERAGE, cJSON_IsNumber, &bad);
	const cJSON *qd = typed(root, WIRE_KEY_QUEUE_DEPTH, cJSON_IsNumber, &bad);
	const cJSON *ls = typed(root, WIRE_KEY_LAST_SCAN, cJSON_IsString, &bad);
	const cJSON *ob = typed(root, WIRE_KEY_OUTBOX_BACKLOG, cJSON_IsNumber, &bad);
	const cJSON *pol = typed(root, WIRE_KEY_POLICY_SHA256, cJSON_IsString, &bad);
	const cJSON *started = typed(root, WIRE_KEY_STARTED, cJSON_IsString, &bad);
	const cJSON *ovf = typed(root, WIRE_KEY_OVERFLOWS, cJSON_IsNumber, &bad);
	const cJSON *resc = typed(root, WIRE_KEY_RESCANS, cJSON_IsNumber, &bad);
	const cJSON *unw = typed(root, WIRE_KEY_UNWATCHED_DIRS, cJSON_IsNumber, &bad);
	const cJSON *inv = typed(root, WIRE_KEY_INVENTORY_FILES, cJSON_IsNumber, &bad);
	const cJSON *unx = typed(root, WIRE_KEY_UNEXAMINED, cJSON_IsObject, &bad);
	/* stored by a storage worker, answered by heartbeat_done();
	 * its strings point into root, which it takes */
	struct ingest_job *job = lw_new(struct ingest_job, 1);
	job->kind = INGEST_HEARTBEAT;
	snprintf(job->agent, sizeof(job->agent), "%s", who->cn);
	job->arg = req;
	/* rewritten from its numbers, never stored as the agent wrote it */
	char *unexamined = job->unexamined;
	const size_t unexamined_cap = sizeof(job->unexamined);
	if (!bad && unx) {
		static const char *const kinds[] = {WIRE_UNEXAMINED_KINDS};
		size_t at = 0;
		for (size_t i = 0; i < LW_ARRAY_SIZE(kinds) && !bad; i++) {
			long long n = -1;
			if (!wire_json_int(cJSON_GetObjectItemCaseSensitive(unx, kinds[i]), 0,
					   LLONG_MAX, &n)) {
				bad = WIRE_KEY_UNEXAMINED;
				break;
			}
			at += (size_t)snprintf(unexamined + at, unexamined_cap - at, "%s%lld",
					       i ? "," : "", n);
		}
	}
	if (!bad && pol && !lw_is_sha256_hex(pol->valuestring)) {
		bad = WIRE_KEY_POLICY_SHA256;
	}
	if (!bad && started &&
	    (strlen(started->valuestring) > CEVENT_TIME_MAX || !rfc3339_is_utc(started->valuestring))) {
		bad = WIRE_KEY_STARTED;
	}
	if (!bad && ver && (strlen(ver->valuestring) > 64 || !query_text_ok(ver->valuestring))) {
		bad = WIRE_KEY_VERSION;
	}
	if (!bad && ls && (strlen(ls->valuestring) > 64 || !rfc3339_is_utc(ls->valuestring))) {
		bad = WIRE_KEY_LAST_SCAN;
	}
	/* a share of directories watched; the parser refused 1e999 already */
	if (!bad && cov && !(cov->valuedouble >= 0 && cov->valuedouble <= 1)) {
		bad = WIRE_KEY_COVERAGE;
	}
	if (bad) {
		char err[128];
		snprintf(err, sizeof(err), "heartbeat: \"%s\" has the wrong type, size or value",
			 bad);
		srv_error(srv, req, 400, err);
		ingest_job_free(job);
		return;
	}
	struct cstore_heartbeat hb = {
		.version = ver ? ver->valuestring : NULL,
		.has_coverage = cov != NULL,
		.coverage = cov ? cov->valuedouble : 0,
		.queue_depth = -1,
		.last_scan = ls ? ls->valuestring : NULL,
		.outbox_backlog = -1,
		.policy_sha256 = pol ? pol->valuestring : NULL,
		.started = started ? started->valuestring : NULL,
		.overflows = -1,
		.rescans = -1,
		.unwatched_dirs = -1,
		.inventory_files = -1,
		.unexamined = unx ? unexamined : NULL,
	};
	/* out of range or fractional: as if not given */
	wire_json_int(qd, 0, LLONG_MAX, &hb.queue_depth);
	wire_json_int(ob, 0, LLONG_MAX, &hb.outbox_backlog);
	wire_json_int(ovf, 0, LLONG_MAX, &hb.overflows);
	wire_json_int(resc, 0, LLONG_MAX, &hb.rescans);
	wire_json_int(unw, 0, LLONG_MAX, &hb.unwatched_dirs);
	wire_json_int(inv, 0, LLONG_MAX, &hb.inventory_files);
	job->hb = hb;
	job->root = root;
	root = NULL;
	ingest_submit(srv->ingest, job);
}

static void
heartbeat_done(struct ingest_job *job, struct server *srv)
{
	struct evhttp_request *req = job->arg;
	if (job->r < 0) {
		srv->m.store_errors++;
		srv_error(srv, req, 503, "storage unavailable");
		return;
	}
	srv->m.heartbeats++;
	struct wire_buf out = {0};
	wire_buf_put(&out, "{}", 2);
	srv_reply(srv, req, 200, &out, false);
	wire_buf_fini(&out);
}

void
handlers_job_done(struct ingest_job *job, void *arg)
{
	struct server *srv = arg;
	if (job->kind == INGEST_HEARTBEAT) {
		heartbeat_done(job, srv);
	} else {
		events_done(job, srv);
	}
	ingest_job_free(job);
}

/* Query parameters of one GET endpoint; unknown ones are refused so that
 * a mistyped filter does not silently return everything. */
static int
parse_query(struct evhttp_request *req, const char *what, struct cstore_query *q,
	    char *since_buf, struct evkeyvalq *kv, char *err, size_t errlen)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", kv) < 0) {
		snprintf(err, errlen, "malformed query string");
		return -EINVAL;
	}
	q->limit = 1000;
	bool is_viol = strcmp(what, WIRE_KEY_VIOLATIONS) == 0;
	bool is_alerts = strcmp(what, WIRE_KEY_ALERTS) == 0;
	bool is_trace = strcmp(what, WIRE_KEY_SIGHTINGS) == 0;
	for (struct evkeyval *p = kv->tqh_first; p; p = p->next.tqe_next) {
		const char *k = p->key, *v = p->value;
		if (!query_text_ok(k) || !query_text_ok(v)) {
			snprintf(err, errlen, "parameter \"%.64s\": control character or not UTF-8",
				 query_text_ok(k) ? k : "?");
			return -EINVAL;
		}
		if (strcmp(k, WIRE_QUERY_SINCE) == 0 && (is_viol || is_alerts)) {
			if (rfc3339_parse_since(v, since_buf) < 0) {
				snprintf(err, errlen, "since: not a time or a duration (24h, 7d)");
				return -EINVAL;
			}
			q->since = since_buf;
		} else if (strcmp(k, WIRE_QUERY_SEVERITY) == 0 && is_viol) {
			if (!(q->min_severity = cevent_severity_rank(v))) {
				snprintf(err, errlen, "severity: low, medium, high or critical");
				return -EINVAL;
			}
		} else if (strcmp(k, WIRE_QUERY_RULE) == 0 && is_viol) {
			q->rule = v;
		} else if (strcmp(k, WIRE_QUERY_AGENT) == 0 && (is_viol || is_alerts || is_trace)) {
			q->agent = v;
		} else if (strcmp(k, WIRE_QUERY_SHA256) == 0 && is_trace) {
			uint8_t bin[LW_SHA256_LEN];
			if (lw_unhex_sha256(v, bin) < 0) {
				snprintf(err, errlen, "sha256: 64 hex digits");
				return -EINVAL;
			}
			/* stored lower-case, as hashes are on the wire */
			for (char *c = p->value; *c; c++) {
				if (*c >= 'A' && *c <= 'F') {
					*c = (char)(*c - 'A' + 'a');
				}
			}
			q->sha256 = v;
		} else if (strcmp(k, WIRE_QUERY_ID) == 0 && is_trace) {
			q->match_id = v;
		} else if (strcmp(k, WIRE_QUERY_LIMIT) == 0 && strcmp(what, WIRE_KEY_AGENTS) != 0) {
			char *end = NULL;
			long l = strtol(v, &end, 10);
			if (!v[0] || *end || l < 1 || l > 100000) {
				snprintf(err, errlen, "limit: a number from 1 to 100000");
				return -EINVAL;
			}
			q->limit = l;
		} else {
			snprintf(err, errlen, "unknown parameter \"%.64s\"", k);
			return -EINVAL;
		}
	}
	if (is_trace && !q->sha256 == !q->match_id) {
		snprintf(err, errlen, "trace needs sha256 or id (one of them)");
		return -EINVAL;
	}
	return 0;
}

/* An answer's array, one rendered row after another. */
struct rows {
	struct wire_buf out;
	int n;
};

static void
row_sep(struct rows *rows)
{
	if (rows->n++) {
		wire_buf_put(&rows->out, ",", 1);
	}
}

static int
agent_row(const struct cstore_agent_row *row, void *arg)
{
	row_sep(arg);
	render_agent(&((struct rows *)arg)->out, row);
	return 0;
}

static int
event_row(const struct cstore_event_row *row, void *arg)
{
	row_sep(arg);
	render_event(&((struct rows *)arg)->out, row);
	return 0;
}

static int
alert_row(const struct cstore_alert_row *row, void *arg)
{
	row_sep(arg);
	render_alert(&((struct rows *)arg)->out, row);
	return 0;
}

void
handlers_query(struct server *srv, struct evhttp_request *req, const char *what)
{
	struct cstore_query q = {0};
	char since[RFC3339_LEN];
	char err[256];
	struct evkeyvalq kv = {0};
	kv.tqh_first = NULL;
	kv.tqh_last = &kv.tqh_first;
	if (parse_query(req, what, &q, since, &kv, err, sizeof(err)) < 0) {
		evhttp_clear_headers(&kv);
		srv_error(srv, req, 400, err);
		return;
	}
	struct rows rows = {0};
	wire_buf_put(&rows.out, "{", 1);
	wire_buf_json_string(&rows.out, what, strlen(what));
	wire_buf_put(&rows.out, ":[", 2);
	const struct cstore_ops *ops = srv->store->ops;
	int r;
	if (strcmp(what, WIRE_KEY_AGENTS) == 0) {
		r = ops->agents(srv->store, agent_row, &rows);
	} else if (strcmp(what, WIRE_KEY_VIOLATIONS) == 0) {
		r = ops->violations(srv->store, &q, event_row, &rows);
	} else if (strcmp(what, WIRE_KEY_ALERTS) == 0) {
		r = ops->alerts(srv->store, &q, alert_row, &rows);
	} else {
		r = ops->trace(srv->store, &q, event_row, &rows);
	}
	evhttp_clear_headers(&kv);
	if (r < 0) {
		srv->m.store_errors++;
		wire_buf_fini(&rows.out);
		srv_error(srv, req, 503, "storage unavailable");
		return;
	}
	wire_buf_put(&rows.out, "]}", 2);
	srv_reply(srv, req, 200, &rows.out, false);
	wire_buf_fini(&rows.out);
}

static void
metric(struct wire_buf *b, const char *name, const char *help, const char *type,
       const char *labels, double value, bool header)
{
	char line[512];
	int n;
	if (header) {
		n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			     type);
		wire_buf_put(b, line, (size_t)n);
	}
	n = snprintf(line, sizeof(line), "%s%s %.17g\n", name, labels ? labels : "", value);
	wire_buf_put(b, line, (size_t)n);
}

void
handlers_metrics(struct server *srv, struct evhttp_request *req)
{
	static const int codes[SRV_CODE_COUNT] = {200, 400, 403, 404, 405, 413, 429, 500, 503};
	struct srv_metrics *m = &srv->m;
	struct wire_buf b = {0};
	char labels[64];
	for (int i = 0; i < SRV_CODE_COUNT; i++) {
		snprintf(labels, sizeof(labels), "{code=\"%d\"}", codes[i]);
		metric(&b, "leakwatch_collector_responses_total",
		       "HTTP responses sent by the handlers, by status code (evhttp answers oversized bodies itself)", "counter", labels,
		       (double)m->responses[i], i == 0);
	}
	metric(&b, "leakwatch_collector_events_total", "events received, by outcome",
	       "counter", "{result=\"stored\"}", (double)m->events_stored, true);
	metric(&b, "leakwatch_collector_events_total", NULL, NULL, "{result=\"duplicate\"}",
	       (double)m->events_duplicate, false);
	for (int k = 0; k < 3; k++) {
		snprintf(labels, sizeof(labels), "{kind=\"%s\"}",
			 cevent_alert_kind_name((enum cevent_alert_kind)k));
		metric(&b, "leakwatch_collector_chain_alerts_total",
		       "hash-chain alerts recorded, by kind", "counter", labels,
		       (double)m->chain_alerts[k], k == 0);
	}
	metric(&b, "leakwatch_collector_batches_total", "event batches committed", "counter",
	       NULL, (double)m->batches, true);
	metric(&b, "leakwatch_collector_heartbeats_total", "heartbeats recorded", "counter",
	       NULL, (double)m->heartbeats, true);
	metric(&b, "leakwatch_collector_store_errors_total",
	       "requests that failed in the database (answered 503)", "counter", NULL,
	       (double)m->store_errors, true);
	metric(&b, "leakwatch_collector_tls_reloads_total", "TLS files reloaded on SIGHUP",
	       "counter", NULL, (double)m->tls_reloads, true);
	struct guard_stats gs;
	guard_get_stats(srv->guard, &gs);
	metric(&b, "leakwatch_collector_connections", "connections open now", "gauge", NULL,
	       (double)gs.open, true);
	metric(&b, "leakwatch_collector_connections_max",
	       "connection cap in force (limits.max_connections within the open-file limit)",
	       "gauge", NULL, (double)gs.cap, true);
	metric(&b, "leakwatch_collector_connections_ended_total",
	       "connections refused or ended by the guard, by reason", "counter",
	       "{reason=\"cap\"}", (double)gs.refused_cap, true);
	metric(&b, "leakwatch_collector_connections_ended_total", NULL, NULL,
	       "{reason=\"address\"}", (double)gs.refused_address, false);
	metric(&b, "leakwatch_collector_connections_ended_total", NULL, NULL,
	       "{reason=\"deadline\"}", (double)gs.deadline, false);
	metric(&b, "leakwatch_collector_start_time_seconds",
	       "when this collector started, seconds since the epoch", "gauge", NULL,
	       (double)m->started_ms / 1000.0, true);
	srv_reply(srv, req, 200, &b, true);
	wire_buf_fini(&b);
}
