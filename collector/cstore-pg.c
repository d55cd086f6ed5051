/* cstore-pg.c — the fleet store in PostgreSQL through libpq (see cstore.h),
 * for fleets that outgrow one machine: several collectors may share one
 * database.
 *
 * Why that is safe: a batch runs in one transaction that first locks its
 * agent's row (SELECT ... FOR UPDATE), so two collectors receiving the same
 * agent's events (a re-send through another balancer path, or two
 * machines with one identity) verify and insert one after the other, each
 * seeing what the other committed (READ COMMITTED takes a new snapshot per
 * statement). UNIQUE (agent, uuid) is the last line: should it fire, the
 * batch is retried and finds the rows as duplicates. Schema creation is
 * serialised by an advisory lock, so collectors may start together.
 *
 * One connection, owned by the event-loop thread; a lost connection is
 * reset at the next request (which answers 503 meanwhile). Tables carry an
 * lw_ prefix: the database may be shared with other applications. */
#include "cstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "mem.h"
#include "rfc3339.h"

#define PG_SCHEMA_LOCK 0x4c57434cL /* advisory lock key: "LWCL" */

static const char *const migrations[] = {
	"CREATE TABLE lw_agents ("
	" agent TEXT PRIMARY KEY,"
	" first_contact TEXT NOT NULL,"
	" last_contact TEXT NOT NULL,"
	" last_seq BIGINT NOT NULL DEFAULT 0,"
	" chain_ok BOOLEAN NOT NULL DEFAULT TRUE,"
	" version TEXT, coverage DOUBLE PRECISION, queue_depth BIGINT, last_scan TEXT,"
	" outbox_backlog BIGINT);"
	"CREATE TABLE lw_events ("
	" id BIGSERIAL PRIMARY KEY,"
	" agent TEXT NOT NULL, seq BIGINT NOT NULL, uuid TEXT NOT NULL,"
	" time TEXT NOT NULL, kind TEXT NOT NULL, prev TEXT NOT NULL,"
	" hash TEXT NOT NULL, body TEXT NOT NULL, received TEXT NOT NULL,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" rule TEXT, severity INTEGER, sha256 TEXT, match_ids TEXT,"
	" UNIQUE (agent, uuid));"
	"CREATE INDEX lw_events_agent_seq ON lw_events (agent, seq);"
	"CREATE INDEX lw_events_kind_received ON lw_events (kind, received);"
	"CREATE INDEX lw_events_sha256 ON lw_events (sha256) WHERE sha256 IS NOT NULL;"
	"CREATE TABLE lw_alerts ("
	" id BIGSERIAL PRIMARY KEY, agent TEXT NOT NULL, kind TEXT NOT NULL,"
	" seq BIGINT, detail TEXT NOT NULL, time TEXT NOT NULL);"
	"CREATE INDEX lw_alerts_time ON lw_alerts (time);",
};

enum {
	Q_REGISTER_AGENT,
	Q_LOCK_AGENT,
	Q_HAS_UUID,
	Q_SEQ_EVENT,
	Q_INSERT_EVENT,
	Q_INSERT_ALERT,
	Q_COMMIT_AGENT,
	Q_HEARTBEAT,
	Q_AGENTS,
	Q_VIOLATIONS,
	Q_ALERTS,
	Q_TRACE,
	Q_COUNT,
};

static const struct {
	const char *sql;
	int nparams;
} queries[Q_COUNT] = {
	[Q_REGISTER_AGENT] = {"INSERT INTO lw_agents (agent, first_contact, last_contact)"
			      " VALUES ($1, $2, $2) ON CONFLICT (agent) DO NOTHING", 2},
	[Q_LOCK_AGENT] = {"SELECT last_seq FROM lw_agents WHERE agent = $1 FOR UPDATE", 1},
	[Q_HAS_UUID] = {"SELECT 1 FROM lw_events WHERE agent = $1 AND uuid = $2", 2},
	[Q_SEQ_EVENT] = {"SELECT hash, uuid FROM lw_events WHERE agent = $1 AND seq = $2"
			 " ORDER BY id LIMIT 1", 2},
	[Q_INSERT_EVENT] = {"INSERT INTO lw_events (agent, seq, uuid, time, kind, prev, hash,"
			    " body, received, flags, rule, severity, sha256, match_ids)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
			    " $14)", 14},
	[Q_INSERT_ALERT] = {"INSERT INTO lw_alerts (agent, kind, seq, detail, time)"
			    " VALUES ($1, $2, $3, $4, $5)", 5},
	[Q_COMMIT_AGENT] = {"UPDATE lw_agents SET last_seq = $2, last_contact = $3,"
			    " chain_ok = chain_ok AND NOT $4::boolean WHERE agent = $1", 4},
	[Q_HEARTBEAT] = {"INSERT INTO lw_agents (agent, first_contact, last_contact, version,"
			 " coverage, queue_depth, last_scan, outbox_backlog)"
			 " VALUES ($1, $2, $2, $3, $4, $5, $6, $7)"
			 " ON CONFLICT (agent) DO UPDATE SET last_contact = $2,"
			 " version = $3, coverage = $4, queue_depth = $5, last_scan = $6,"
			 " outbox_backlog = $7", 7},
	[Q_AGENTS] = {"SELECT agent, last_contact, last_seq, version, coverage, queue_depth,"
		      " last_scan, outbox_backlog, chain_ok FROM lw_agents ORDER BY agent", 0},
	[Q_VIOLATIONS] = {"SELECT * FROM (SELECT id, agent, seq, received, body FROM lw_events"
			  " WHERE kind = 'violation'"
			  " AND ($1::text IS NULL OR received >= $1::text)"
			  " AND ($2::integer IS NULL OR severity >= $2::integer)"
			  " AND ($3::text IS NULL OR rule = $3::text)"
			  " AND ($4::text IS NULL OR agent = $4::text)"
			  " ORDER BY id DESC LIMIT $5::bigint) v ORDER BY id", 5},
	[Q_ALERTS] = {"SELECT * FROM (SELECT id, agent, kind, seq, detail, time FROM lw_alerts"
		      " WHERE ($1::text IS NULL OR time >= $1::text)"
		      " AND ($2::text IS NULL OR agent = $2::text)"
		      " ORDER BY id DESC LIMIT $3::bigint) a ORDER BY id", 3},
	[Q_TRACE] = {"SELECT * FROM (SELECT id, agent, seq, received, body FROM lw_events"
		     " WHERE kind = 'sighting'"
		     " AND (($1::text IS NOT NULL AND sha256 = $1::text) OR"
		     " ($2::text IS NOT NULL AND"
		     " strpos(match_ids, E'\\n' || $2::text || E'\\n') > 0))"
		     " AND ($3::text IS NULL OR agent = $3::text)"
		     " ORDER BY id DESC LIMIT $4::bigint) t ORDER BY id", 4},
};

struct pg_store {
	struct cstore base;
	PGconn *conn;
	bool prepared;
};

/* -EAGAIN for conflicts another attempt resolves, -EIO otherwise. */
static int
pg_fail(struct pg_store *s, PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int r = -EIO;
	if (state && (strcmp(state, "23505") == 0 ||   /* unique_violation */
		      strcmp(state, "40001") == 0 ||   /* serialization_failure */
		      strcmp(state, "40P01") == 0)) {  /* deadlock_detected */
		r = -EAGAIN;
		log_debug("store: postgresql: %s: conflict %s, retrying", what, state);
	} else {
		static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 5);
		log_msg_ratelimit(&rl, LOG_LEVEL_ERR, "store: postgresql: %s: %s", what,
				  res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn));
	}
	PQclear(res);
	return r;
}

static int
exec_simple(struct pg_store *s, const char *sql)
{
	PGresult *res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		return pg_fail(s, res, sql);
	}
	PQclear(res);
	return 0;
}

static int
prepare_all(struct pg_store *s)
{
	for (int i = 0; i < Q_COUNT; i++) {
		char name[16];
		snprintf(name, sizeof(name), "lw%d", i);
		PGresult *res = PQprepare(s->conn, name, queries[i].sql, queries[i].nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			return pg_fail(s, res, "prepare");
		}
		PQclear(res);
	}
	s->prepared = true;
	return 0;
}

/* The connection, reset if it was lost (the database restarted). */
static int
ensure(struct pg_store *s)
{
	if (PQstatus(s->conn) == CONNECTION_OK && s->prepared) {
		return 0;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		PQreset(s->conn);
		if (PQstatus(s->conn) != CONNECTION_OK) {
			static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 2);
			log_msg_ratelimit(&rl, LOG_LEVEL_ERR, "store: postgresql: reconnect: %s",
					  PQerrorMessage(s->conn));
			return -EIO;
		}
		log_info("store: postgresql: reconnected");
	}
	return prepare_all(s);
}

/* Runs prepared query @q; returns the result (tuples or command ok) or NULL
 * after pg_fail() (*r set). */
static PGresult *
run(struct pg_store *s, int q, const char *const *params, int *r)
{
	char name[16];
	snprintf(name, sizeof(name), "lw%d", q);
	PGresult *res = PQexecPrepared(s->conn, name, queries[q].nparams, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		*r = pg_fail(s, res, queries[q].sql);
		if (PQstatus(s->conn) != CONNECTION_OK) {
			s->prepared = false;
		}
		return NULL;
	}
	*r = 0;
	return res;
}

static int
pg_begin(struct cstore *base, const char *agent, int64_t *last_seq)
{
	struct pg_store *s = (struct pg_store *)base;
	int r;
	if ((r = ensure(s)) < 0 || (r = exec_simple(s, "BEGIN")) < 0) {
		return r;
	}
	char now[RFC3339_LEN];
	rfc3339_now(now);
	const char *p[] = {agent, now};
	PGresult *res = run(s, Q_REGISTER_AGENT, p, &r);
	if (!res) {
		exec_simple(s, "ROLLBACK");
		return r;
	}
	PQclear(res);
	res = run(s, Q_LOCK_AGENT, p, &r);
	if (!res) {
		exec_simple(s, "ROLLBACK");
		return r;
	}
	*last_seq = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return 0;
}

static int
pg_has_uuid(struct cstore *base, const char *agent, const char *uuid)
{
	struct pg_store *s = (struct pg_store *)base;
	const char *p[] = {agent, uuid};
	int r;
	PGresult *res = run(s, Q_HAS_UUID, p, &r);
	if (!res) {
		return r;
	}
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

static int
pg_seq_event(struct cstore *base, const char *agent, int64_t seq, char *hash, char *uuid)
{
	struct pg_store *s = (struct pg_store *)base;
	char seqs[24];
	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	const char *p[] = {agent, seqs};
	int r;
	PGresult *res = run(s, Q_SEQ_EVENT, p, &r);
	if (!res) {
		return r;
	}
	r = 0;
	if (PQntuples(res) > 0) {
		snprintf(hash, LW_SHA256_HEX_LEN + 1, "%s", PQgetvalue(res, 0, 0));
		snprintf(uuid, CHAIN_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 1));
		r = 1;
	}
	PQclear(res);
	return r;
}

static int
pg_insert_event(struct cstore *base, const char *agent, const struct cevent *ev,
		unsigned flags, const char *received)
{
	struct pg_store *s = (struct pg_store *)base;
	bool v = ev->kind == CEVENT_KIND_VIOLATION;
	char seqs[24], flagss[16], sevs[16];
	snprintf(seqs, sizeof(seqs), "%" PRId64, ev->seq);
	snprintf(flagss, sizeof(flagss), "%u", flags);
	snprintf(sevs, sizeof(sevs), "%d", ev->severity);
	const char *p[] = {
		agent, seqs, ev->uuid, ev->time,
		v ? WIRE_EVENT_VIOLATION : WIRE_EVENT_SIGHTING,
		ev->prev, ev->hash, ev->body, received, flagss,
		v ? ev->rule : NULL, v ? sevs : NULL, v ? NULL : ev->sha256,
		v ? NULL : ev->match_ids,
	};
	int r;
	PGresult *res = run(s, Q_INSERT_EVENT, p, &r);
	PQclear(res);
	return r;
}

static int
pg_insert_alert(struct cstore *base, const char *agent, const char *kind, int64_t seq,
		const char *detail, const char *time)
{
	struct pg_store *s = (struct pg_store *)base;
	char seqs[24];
	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	const char *p[] = {agent, kind, seqs, detail, time};
	int r;
	PGresult *res = run(s, Q_INSERT_ALERT, p, &r);
	PQclear(res);
	return r;
}

static int
pg_commit(struct cstore *base, const char *agent, int64_t last_seq, bool broken,
	  const char *now)
{
	struct pg_store *s = (struct pg_store *)base;
	char seqs[24];
	snprintf(seqs, sizeof(seqs), "%" PRId64, last_seq);
	const char *p[] = {agent, seqs, now, broken ? "true" : "false"};
	int r;
	PGresult *res = run(s, Q_COMMIT_AGENT, p, &r);
	if (!res) {
		return r;
	}
	PQclear(res);
	return exec_simple(s, "COMMIT");
}

static void
pg_rollback(struct cstore *base)
{
	struct pg_store *s = (struct pg_store *)base;
	if (PQstatus(s->conn) == CONNECTION_OK &&
	    PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		exec_simple(s, "ROLLBACK");
	}
}

static int
pg_heartbeat(struct cstore *base, const char *agent, const struct cstore_heartbeat *hb,
	     const char *now)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char cov[64], qd[24], ob[24];
	snprintf(cov, sizeof(cov), "%.17g", hb->coverage);
	snprintf(qd, sizeof(qd), "%lld", hb->queue_depth);
	snprintf(ob, sizeof(ob), "%lld", hb->outbox_backlog);
	const char *p[] = {
		agent, now, hb->version, hb->has_coverage ? cov : NULL,
		hb->queue_depth >= 0 ? qd : NULL, hb->last_scan,
		hb->outbox_backlog >= 0 ? ob : NULL,
	};
	PGresult *res = run(s, Q_HEARTBEAT, p, &r);
	PQclear(res);
	return r;
}

static const char *
val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t
int_val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int
pg_agents(struct cstore *base, cstore_agent_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	PGresult *res = run(s, Q_AGENTS, NULL, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		const char *ok = val(res, i, 8);
		struct cstore_agent_row row = {
			.agent = val(res, i, 0),
			.last_contact = val(res, i, 1),
			.last_seq = int_val(res, i, 2),
			.version = val(res, i, 3),
			.has_coverage = !PQgetisnull(res, i, 4),
			.coverage = PQgetisnull(res, i, 4) ? 0 : strtod(PQgetvalue(res, i, 4), NULL),
			.has_queue_depth = !PQgetisnull(res, i, 5),
			.queue_depth = int_val(res, i, 5),
			.last_scan = val(res, i, 6),
			.has_outbox_backlog = !PQgetisnull(res, i, 7),
			.outbox_backlog = int_val(res, i, 7),
			.chain_ok = ok && ok[0] == 't',
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

/* rows of (id, agent, seq, received, body) */
static int
event_rows(PGresult *res, cstore_event_fn fn, void *arg)
{
	int n = PQntuples(res), r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		struct cstore_event_row row = {
			.agent = val(res, i, 1),
			.seq = int_val(res, i, 2),
			.received = val(res, i, 3),
			.body = PQgetvalue(res, i, 4),
			.body_len = (size_t)PQgetlength(res, i, 4),
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static int
pg_violations(struct cstore *base, const struct cstore_query *q, cstore_event_fn fn,
	      void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char sev[16], lim[24];
	snprintf(sev, sizeof(sev), "%d", q->min_severity);
	snprintf(lim, sizeof(lim), "%ld", q->limit);
	const char *p[] = {q->since, q->min_severity ? sev : NULL, q->rule, q->agent, lim};
	PGresult *res = run(s, Q_VIOLATIONS, p, &r);
	return res ? event_rows(res, fn, arg) : r;
}

static int
pg_trace(struct cstore *base, const struct cstore_query *q, cstore_event_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char lim[24];
	snprintf(lim, sizeof(lim), "%ld", q->limit);
	const char *p[] = {q->sha256, q->match_id, q->agent, lim};
	PGresult *res = run(s, Q_TRACE, p, &r);
	return res ? event_rows(res, fn, arg) : r;
}

static int
pg_alerts(struct cstore *base, const struct cstore_query *q, cstore_alert_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char lim[24];
	snprintf(lim, sizeof(lim), "%ld", q->limit);
	const char *p[] = {q->since, q->agent, lim};
	PGresult *res = run(s, Q_ALERTS, p, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		struct cstore_alert_row row = {
			.agent = val(res, i, 1),
			.kind = val(res, i, 2),
			.seq = int_val(res, i, 3),
			.detail = val(res, i, 4),
			.time = val(res, i, 5),
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static void
pg_close(struct cstore *base)
{
	struct pg_store *s = (struct pg_store *)base;
	PQfinish(s->conn);
	free(s);
}

static const struct cstore_ops pg_ops = {
	.name = "postgresql",
	.begin = pg_begin,
	.has_uuid = pg_has_uuid,
	.seq_event = pg_seq_event,
	.insert_event = pg_insert_event,
	.insert_alert = pg_insert_alert,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.heartbeat = pg_heartbeat,
	.agents = pg_agents,
	.violations = pg_violations,
	.alerts = pg_alerts,
	.trace = pg_trace,
	.close = pg_close,
};

static int
migrate(struct pg_store *s, char *err, size_t errlen)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%ld)", PG_SCHEMA_LOCK);
	if (exec_simple(s, "BEGIN") < 0 || exec_simple(s, sql) < 0 ||
	    exec_simple(s, "CREATE TABLE IF NOT EXISTS lw_schema (version INTEGER NOT NULL)") <
		    0) {
		goto fail;
	}
	PGresult *res = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM lw_schema");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(s, res, "read schema version");
		goto fail;
	}
	int ver = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	int known = (int)LW_ARRAY_SIZE(migrations);
	if (ver > known) {
		exec_simple(s, "ROLLBACK");
		snprintf(err, errlen, "database schema %d is newer than this collector (%d)", ver,
			 known);
		return -EPROTO;
	}
	for (int v = ver; v < known; v++) {
		snprintf(sql, sizeof(sql), "INSERT INTO lw_schema VALUES (%d)", v + 1);
		if (exec_simple(s, migrations[v]) < 0 || exec_simple(s, "DELETE FROM lw_schema") < 0 ||
		    exec_simple(s, sql) < 0) {
			goto fail;
		}
	}
	if (exec_simple(s, "COMMIT") < 0) {
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot create or migrate the schema: %s", PQerrorMessage(s->conn));
	exec_simple(s, "ROLLBACK");
	return -EIO;
}

int
cstore_pg_open(const char *uri, struct cstore **out, char *err, size_t errlen)
{
	PGconn *conn = PQconnectdb(uri);
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message may quote the URI, password included: say
		 * only what failed. */
		const char *m = PQerrorMessage(conn);
		const char *nl = strchr(m, '\n');
		snprintf(err, errlen, "postgresql: cannot connect: %.*s",
			 nl ? (int)(nl - m) : (int)strlen(m), m);
		PQfinish(conn);
		return -ECONNREFUSED;
	}
	struct pg_store *s = lw_new(struct pg_store, 1);
	s->base.ops = &pg_ops;
	s->conn = conn;
	/* Times and bodies are text in UTF-8, whatever the server's locale. */
	PQsetClientEncoding(conn, "UTF8");
	int r;
	if ((r = exec_simple(s, "SET synchronous_commit = on")) < 0 ||
	    (r = migrate(s, err, errlen)) < 0 || (r = prepare_all(s)) < 0) {
		if (!err[0]) {
			snprintf(err, errlen, "postgresql: cannot prepare statements");
		}
		pg_close(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
