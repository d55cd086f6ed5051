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
 * One connection per store, owned by the thread that uses it (ingest.h);
 * a lost connection is reset at the next request (which answers 503
 * meanwhile). Tables carry an lw_ prefix: the database may be shared with
 * other applications. */
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
	/* 2: what compliance reports read (cstore.h, "what a compliance
	 * report reads"): the heartbeat facts whose changes become notes,
	 * contact intervals, and the body members reports group by. The
	 * (kind, received) index gains id, the second key of the violation
	 * rows' keyset (SQLite's indexes end in the rowid by themselves). */
	"ALTER TABLE lw_agents ADD COLUMN policy_sha256 TEXT,"
	" ADD COLUMN started TEXT, ADD COLUMN overflows BIGINT,"
	" ADD COLUMN rescans BIGINT, ADD COLUMN unwatched_dirs BIGINT,"
	" ADD COLUMN inventory_files BIGINT, ADD COLUMN unexamined TEXT;"
	"ALTER TABLE lw_events ADD COLUMN marking TEXT, ADD COLUMN owner TEXT,"
	" ADD COLUMN action TEXT, ADD COLUMN path_key TEXT,"
	" ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE,"
	" ADD COLUMN moved BOOLEAN NOT NULL DEFAULT FALSE,"
	" ADD COLUMN scheme TEXT, ADD COLUMN level TEXT,"
	" ADD COLUMN zones INTEGER NOT NULL DEFAULT 0,"
	" ADD COLUMN registered BOOLEAN NOT NULL DEFAULT FALSE,"
	" ADD COLUMN excerpt BOOLEAN NOT NULL DEFAULT FALSE;"
	/* covering (INCLUDE): the report's aggregates are answered from the
	 * indexes, not from rows made wide by their bodies */
	"CREATE INDEX lw_events_sighting_report ON lw_events (agent, path_key, id)"
	" INCLUDE (received, deleted, moved, marking, scheme, level, zones, registered,"
	" excerpt, sha256) WHERE kind = 'sighting';"
	"CREATE INDEX lw_events_violation_report ON lw_events (received, id)"
	" INCLUDE (agent, severity, rule, owner, action) WHERE kind = 'violation';"
	"CREATE INDEX lw_events_agent_seq_received ON lw_events (agent, seq, received);"
	/* the few candidates of the holdings and excerpt lists, in id order */
	"CREATE INDEX lw_events_outside ON lw_events (id) WHERE kind = 'sighting'"
	" AND NOT deleted AND marking <> '' AND (zones & 1) = 0;"
	"CREATE INDEX lw_events_excerpt ON lw_events (id) WHERE kind = 'sighting'"
	" AND NOT deleted AND excerpt;"
	"DROP INDEX lw_events_agent_seq;"
	"CREATE INDEX lw_events_kind_received_id ON lw_events (kind, received, id);"
	"DROP INDEX lw_events_kind_received;"
	/* the same for content, the custody rows' keyset (sha256, id); only
	 * sightings carry a sha256 column, so trace is served by it too */
	"CREATE INDEX lw_events_sighting_content ON lw_events (sha256, id)"
	" INCLUDE (agent, received, marking, registered) WHERE kind = 'sighting';"
	"DROP INDEX lw_events_sha256;"
	"CREATE TABLE lw_contacts ("
	" id BIGSERIAL PRIMARY KEY, agent TEXT NOT NULL,"
	" since TEXT NOT NULL, until TEXT NOT NULL);"
	"CREATE INDEX lw_contacts_agent ON lw_contacts (agent, id);"
	"CREATE TABLE lw_notes ("
	" id BIGSERIAL PRIMARY KEY, agent TEXT NOT NULL, time TEXT NOT NULL,"
	" kind TEXT NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX lw_notes_time ON lw_notes (time);",
};

enum {
	Q_REGISTER_AGENT,
	Q_KNOWN,
	Q_LOCK_AGENT,
	Q_INSERT_ALERT,
	Q_COMMIT_AGENT,
	Q_HEARTBEAT,
	Q_AGENTS,
	Q_VIOLATIONS,
	Q_ALERTS,
	Q_TRACE,
	Q_AGENT_STATE,
	Q_INSERT_NOTE,
	Q_CONTACT_EXTEND,
	Q_CONTACT_START,
	Q_PERIOD_AGENTS,
	Q_CONTACTS,
	Q_NOTES,
	Q_COUNTS,
	Q_ROW_RECEIVED,
	Q_ROW_SHA256,
	Q_ROWS_VIOLATIONS,
	Q_ROWS_HOLDINGS,
	Q_ROWS_EXCERPTS,
	Q_ROWS_CUSTODY,
	Q_CUSTODY_TOTAL,
	Q_COUNT,
};

/* The newest sighting of its (agent, path) received before $2 (every
 * query using it has the period's end as $2). */
#define PG_NEWEST_AT_UNTIL                                                                 \
	" NOT EXISTS (SELECT 1 FROM lw_events n WHERE n.kind = 'sighting'"                 \
	" AND n.agent = e.agent AND n.path_key = e.path_key AND n.id > e.id"               \
	" AND n.received < $2::text)"
#define PG_VIOLATIONS_IN                                                                   \
	" FROM lw_events WHERE kind = 'violation' AND received >= $1::text"                \
	" AND received < $2::text"
#define PG_HELD                                                                            \
	" FROM lw_events e WHERE e.kind = 'sighting' AND e.received < $2::text"            \
	" AND NOT e.deleted AND" PG_NEWEST_AT_UNTIL

static const struct {
	const char *sql;
	int nparams;
} queries[Q_COUNT] = {
	[Q_REGISTER_AGENT] = {"INSERT INTO lw_agents (agent, first_contact, last_contact)"
			      " VALUES ($1, $2, $2) ON CONFLICT (agent) DO NOTHING", 2},
	/* What one batch's verification needs, in one round trip: which of
	 * its uuids are stored ('u'), and the first stored event of each of
	 * its seqs and their predecessors ('s'). $2 and $3 are arrays. */
	[Q_KNOWN] = {"SELECT 'u', 0::bigint, NULL, uuid FROM lw_events"
		     " WHERE agent = $1 AND uuid = ANY($2::text[])"
		     " UNION ALL SELECT 's', seq, hash, uuid FROM (SELECT DISTINCT ON (seq)"
		     " seq, hash, uuid FROM lw_events WHERE agent = $1 AND seq = ANY($3::bigint[])"
		     " ORDER BY seq, id) f", 3},
	[Q_LOCK_AGENT] = {"SELECT last_seq FROM lw_agents WHERE agent = $1 FOR UPDATE", 1},
	[Q_INSERT_ALERT] = {"INSERT INTO lw_alerts (agent, kind, seq, detail, time)"
			    " VALUES ($1, $2, $3, $4, $5)", 5},
	[Q_COMMIT_AGENT] = {"UPDATE lw_agents SET last_seq = $2, last_contact = $3,"
			    " chain_ok = chain_ok AND NOT $4::boolean WHERE agent = $1", 4},
	[Q_HEARTBEAT] = {"INSERT INTO lw_agents (agent, first_contact, last_contact, version,"
			 " coverage, queue_depth, last_scan, outbox_backlog, policy_sha256,"
			 " started, overflows, rescans, unwatched_dirs, inventory_files, unexamined)"
			 " VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
			 " ON CONFLICT (agent) DO UPDATE SET last_contact = $2,"
			 " version = $3, coverage = $4, queue_depth = $5, last_scan = $6,"
			 " outbox_backlog = $7, policy_sha256 = $8, started = $9,"
			 " overflows = $10, rescans = $11, unwatched_dirs = $12,"
			 " inventory_files = $13, unexamined = $14", 14},
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
	[Q_AGENT_STATE] = {"SELECT policy_sha256, started, overflows, rescans, unwatched_dirs"
			   " FROM lw_agents WHERE agent = $1::text", 1},
	[Q_INSERT_NOTE] = {"INSERT INTO lw_notes (agent, time, kind, detail)"
			   " VALUES ($1, $2, $3, $4)", 4},
	/* $3: the oldest end that still counts as the same contact */
	[Q_CONTACT_EXTEND] = {"UPDATE lw_contacts SET until = $2::text"
			      " WHERE id = (SELECT max(id) FROM lw_contacts WHERE agent = $1::text)"
			      " AND until >= $3::text AND until <= $2::text", 3},
	[Q_CONTACT_START] = {"INSERT INTO lw_contacts (agent, since, until)"
			     " VALUES ($1, $2, $2)", 2},
	/* the head (newest event received before $2) by index (agent, seq),
	 * once per agent */
	[Q_PERIOD_AGENTS] = {
		"SELECT a.agent, a.last_contact, a.last_seq, a.version, a.coverage,"
		" a.queue_depth, a.last_scan, a.outbox_backlog, a.chain_ok, a.first_contact,"
		" a.policy_sha256, a.started, p.n, p.f, p.l, h.seq, h.hash, a.inventory_files,"
		" a.unexamined FROM lw_agents a LEFT JOIN (SELECT agent, count(*) n, min(seq) f, max(seq) l"
		"  FROM lw_events WHERE kind IN ('violation', 'sighting')"
		"  AND received >= $1::text AND received < $2::text GROUP BY agent) p"
		"  ON p.agent = a.agent"
		" LEFT JOIN LATERAL (SELECT seq, hash FROM lw_events"
		"  WHERE agent = a.agent AND received < $2::text"
		"  ORDER BY seq DESC, id DESC LIMIT 1) h ON TRUE"
		" ORDER BY a.agent", 2},
	[Q_CONTACTS] = {"SELECT since, until FROM lw_contacts WHERE agent = $1::text"
			" AND until >= $2::text AND since < $3::text ORDER BY id", 3},
	[Q_NOTES] = {"SELECT id, agent, time, kind, detail FROM lw_notes"
		     " WHERE time >= $1::text AND time < $2::text AND id > $3::bigint"
		     " ORDER BY id LIMIT $4::bigint", 4},
	/* One pass per aggregate; each reads the (kind, received) range of
	 * the period, "held" every sighting before $2 once. A rename is two
	 * sightings (moved_to at the old path, moved_from at the new): one
	 * move, not a removal and an arrival. */
	[Q_COUNTS] = {
		"SELECT agent, 'severity', CASE severity WHEN 4 THEN 'critical' WHEN 3 THEN"
		" 'high' WHEN 2 THEN 'medium' ELSE 'low' END, count(*)" PG_VIOLATIONS_IN
		" GROUP BY agent, severity"
		" UNION ALL SELECT agent, 'rule', rule, count(*)" PG_VIOLATIONS_IN
		" GROUP BY agent, rule"
		" UNION ALL SELECT agent, 'day', substr(received, 1, 10), count(*)"
		PG_VIOLATIONS_IN " GROUP BY agent, substr(received, 1, 10)"
		" UNION ALL SELECT agent, 'owner', owner, count(*)" PG_VIOLATIONS_IN
		" AND owner <> '' GROUP BY agent, owner"
		" UNION ALL SELECT agent, 'action', action, count(*)" PG_VIOLATIONS_IN
		" AND action <> '' GROUP BY agent, action"
		" UNION ALL SELECT agent, 'alert', kind, count(*) FROM lw_alerts"
		" WHERE time >= $1::text AND time < $2::text GROUP BY agent, kind"
		" UNION ALL SELECT agent, w, d, count(*) FROM (SELECT e.agent,"
		"  substr(e.received, 1, 10) d,"
		"  CASE WHEN e.moved THEN (CASE WHEN e.deleted THEN NULL ELSE 'moved' END)"
		"  WHEN e.deleted THEN 'removed'"
		"  WHEN EXISTS (SELECT 1 FROM lw_events o WHERE o.kind = 'sighting'"
		"   AND o.agent = e.agent AND o.path_key = e.path_key AND o.id < e.id"
		"   AND NOT o.deleted) THEN 'changed' ELSE 'new' END w"
		"  FROM lw_events e WHERE e.kind = 'sighting' AND e.received >= $1::text"
		"  AND e.received < $2::text) c WHERE w IS NOT NULL GROUP BY agent, w, d"
		" UNION ALL SELECT e.agent, 'held', e.marking || E'\\t' || coalesce(e.scheme, '')"
		" || E'\\t' || coalesce(e.level, '') || E'\\t' || e.zones, count(*)" PG_HELD
		" AND e.marking <> '' AND coalesce(e.level, '') <> ''"
		" GROUP BY e.agent, e.marking, e.scheme, e.level, e.zones", 2},
	[Q_ROW_RECEIVED] = {"SELECT received FROM lw_events WHERE id = $1::bigint", 1},
	/* Parameters differ per rows query: PostgreSQL cannot prepare one
	 * that leaves a parameter unused. Keyset on (received, id), the
	 * order of the (kind, received, id) index: $1 is the received of
	 * row $3, the last one the caller has (the period's start if none). */
	[Q_ROWS_VIOLATIONS] = {"SELECT id, agent, seq, received, body FROM lw_events"
			       " WHERE kind = 'violation'"
			       " AND (received, id) > ($1::text, $3::bigint)"
			       " AND received < $2::text"
			       " AND ($4::text IS NULL OR agent = $4::text)"
			       " ORDER BY received, id LIMIT $5::bigint", 5},
	/* $1 after, $2 until, $3 agent, $4 limit: classified, held outside
	 * the secure zone */
	[Q_ROWS_HOLDINGS] = {"SELECT id, agent, seq, received, body" PG_HELD
			     " AND e.id > $1::bigint AND e.marking <> ''"
			    " AND coalesce(e.level, '') <> '' AND (e.zones & 1) = 0"
			     " AND ($3::text IS NULL OR e.agent = $3::text)"
			     " ORDER BY e.id LIMIT $4::bigint", 4},
	/* the same parameters: excerpts of registered documents, held */
	[Q_ROWS_EXCERPTS] = {"SELECT id, agent, seq, received, body" PG_HELD
			     " AND e.id > $1::bigint AND e.excerpt"
			     " AND ($3::text IS NULL OR e.agent = $3::text)"
			     " ORDER BY e.id LIMIT $4::bigint", 4},
	[Q_CUSTODY_TOTAL] = {"SELECT count(DISTINCT sha256) FROM lw_events WHERE kind = 'sighting'"
			     " AND received >= $1::text AND received < $2::text"
			     " AND (marking <> '' OR registered)"
			     " AND ($3::text IS NULL OR agent = $3::text)", 3},
	/* $1 since, $2 until, $3 after, $4 agent, $5 limit, $6 the sha256
	 * of row $3 ('' if none): by content, then id, as in SQLite */
	[Q_ROWS_CUSTODY] = {"SELECT id, agent, seq, received, body,"
			    " EXISTS (SELECT 1 FROM lw_events n WHERE n.kind = 'sighting'"
			    "  AND n.agent = e.agent AND n.path_key = e.path_key AND n.id > e.id"
			    "  AND n.sha256 <> e.sha256 AND n.received < $2::text)"
			    " FROM lw_events e"
			    " WHERE e.kind = 'sighting' AND (e.sha256, e.id) > ($6::text, $3::bigint)"
			    " AND e.received < $2::text"
			    " AND ($4::text IS NULL OR e.agent = $4::text) AND EXISTS (SELECT 1"
			    "  FROM lw_events t WHERE t.sha256 = e.sha256 AND t.kind = 'sighting'"
			    "  AND t.received >= $1::text AND t.received < $2::text"
			    "  AND (t.marking <> '' OR t.registered))"
			    " ORDER BY e.sha256, e.id LIMIT $5::bigint", 6},
	[Q_ROW_SHA256] = {"SELECT sha256 FROM lw_events WHERE id = $1::bigint", 1},
};

/* The first stored event of a seq, as verification asks for it. */
struct pg_seq {
	int64_t seq;
	char hash[LW_SHA256_HEX_LEN + 1];
	char uuid[CHAIN_UUID_LEN + 1];
};

/* The event rows of one agent batch: they go to the database in one
 * multi-row INSERT at commit. */
struct pg_row {
	const struct cevent *ev; /* borrowed: the caller's until commit/rollback */
	unsigned flags;
};

/*
 * One batch in its transaction. The batch's verification (cstore.c) asks
 * per event whether its uuid is stored and for the events at its seq and
 * the one before; one query at preload answers all of those for the whole
 * batch, and the events the batch itself adds are added here, so that the
 * answers are what per-event queries inside the transaction would give.
 * The agent's row is locked (begin), so no other collector adds events of
 * this agent meanwhile; a uuid conflict at the insert still rolls back
 * and retries (-EAGAIN).
 */
struct pg_batch {
	bool on;
	const char *received; /* borrowed, as the rows */
	char (*uuids)[CHAIN_UUID_LEN + 1];
	size_t nuuids, capuuids;
	struct pg_seq *seqs;
	size_t nseqs, capseqs;
	struct pg_row *rows;
	size_t nrows, caprows;
};

struct pg_store {
	struct cstore base;
	PGconn *conn;
	bool prepared;
	struct pg_batch batch;
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
	/* The session's settings, at every (re)connection:
	 * - acknowledged means committed, whatever the server's default;
	 * - a plan for each execution: after five runs PostgreSQL may keep a
	 *   generic plan, and for the "$1 IS NULL OR ..." filters and the
	 *   report's correlated queries a generic plan ignores what the values
	 *   say (measured: a fleet report's custody page went from 0.2 to
	 *   2 s, and repeated reports from 8 to 22 s). Planning costs well
	 *   under a millisecond here. */
	int r;
	if ((r = exec_simple(s, "SET synchronous_commit = on")) < 0 ||
	    (r = exec_simple(s, "SET plan_cache_mode = force_custom_plan")) < 0) {
		return r;
	}
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

static void
batch_reset(struct pg_batch *b)
{
	b->on = false;
	b->received = NULL;
	b->nuuids = b->nseqs = b->nrows = 0;
}

static void
batch_free(struct pg_batch *b)
{
	free(b->uuids);
	free(b->seqs);
	free(b->rows);
	*b = (struct pg_batch){0};
}

static int
pg_begin(struct cstore *base, const char *agent, int64_t *last_seq)
{
	struct pg_store *s = (struct pg_store *)base;
	batch_reset(&s->batch);
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

static bool
batch_has_uuid(const struct pg_batch *b, const char *uuid)
{
	for (size_t i = 0; i < b->nuuids; i++) {
		if (strcmp(b->uuids[i], uuid) == 0) {
			return true;
		}
	}
	return false;
}

static void
batch_add_uuid(struct pg_batch *b, const char *uuid)
{
	if (b->nuuids == b->capuuids) {
		b->capuuids = b->capuuids ? b->capuuids * 2 : 64;
		b->uuids = lw_realloc(b->uuids, b->capuuids * sizeof(*b->uuids));
	}
	snprintf(b->uuids[b->nuuids++], CHAIN_UUID_LEN + 1, "%s", uuid);
}

static const struct pg_seq *
batch_seq(const struct pg_batch *b, int64_t seq)
{
	for (size_t i = 0; i < b->nseqs; i++) {
		if (b->seqs[i].seq == seq) {
			return &b->seqs[i];
		}
	}
	return NULL;
}

/* The first event stored at @seq stays the one verification compares
 * with: later ones (replays, conflicts) do not replace it. */
static void
batch_add_seq(struct pg_batch *b, int64_t seq, const char *hash, const char *uuid)
{
	if (batch_seq(b, seq)) {
		return;
	}
	if (b->nseqs == b->capseqs) {
		b->capseqs = b->capseqs ? b->capseqs * 2 : 64;
		b->seqs = lw_realloc(b->seqs, b->capseqs * sizeof(*b->seqs));
	}
	struct pg_seq *x = &b->seqs[b->nseqs++];
	x->seq = seq;
	snprintf(x->hash, sizeof(x->hash), "%s", hash);
	snprintf(x->uuid, sizeof(x->uuid), "%s", uuid);
}

/* "{a,b,c}": uuids are checked to be hex and dashes (cevent.c) and seqs
 * are numbers, so no element needs quoting. */
static char *
array_literal(const struct cevent *evs, size_t n, bool seqs)
{
	size_t cap = 2 + n * (seqs ? 2 * 22 : CHAIN_UUID_LEN + 1) + 1;
	char *out = lw_malloc(cap), *p = out;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (seqs) {
			p += snprintf(p, cap - (size_t)(p - out), "%s%" PRId64 ",%" PRId64, i ? "," : "",
				      evs[i].seq, evs[i].seq - 1);
		} else {
			p += snprintf(p, cap - (size_t)(p - out), "%s%s", i ? "," : "", evs[i].uuid);
		}
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

static int
pg_preload(struct cstore *base, const char *agent, const struct cevent *evs, size_t n)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_batch *b = &s->batch;
	batch_reset(b);
	AUTOFREE char *uuids = array_literal(evs, n, false);
	AUTOFREE char *seqs = array_literal(evs, n, true);
	const char *p[] = {agent, uuids, seqs};
	int r;
	PGresult *res = run(s, Q_KNOWN, p, &r);
	if (!res) {
		return r;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetvalue(res, i, 0)[0] == 'u') {
			batch_add_uuid(b, PQgetvalue(res, i, 3));
		} else {
			batch_add_seq(b, strtoll(PQgetvalue(res, i, 1), NULL, 10),
				      PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		}
	}
	PQclear(res);
	b->on = true;
	return 0;
}

static int
pg_has_uuid(struct cstore *base, const char *agent, const char *uuid)
{
	const struct pg_batch *b = &((struct pg_store *)base)->batch;
	return b->on ? batch_has_uuid(b, uuid) : -EIO; /* preload comes first */
}

static int
pg_seq_event(struct cstore *base, const char *agent, int64_t seq, char *hash, char *uuid)
{
	const struct pg_batch *b = &((struct pg_store *)base)->batch;
	if (!b->on) {
		return -EIO;
	}
	const struct pg_seq *x = batch_seq(b, seq);
	if (!x) {
		return 0;
	}
	snprintf(hash, LW_SHA256_HEX_LEN + 1, "%s", x->hash);
	snprintf(uuid, CHAIN_UUID_LEN + 1, "%s", x->uuid);
	return 1;
}

static int
pg_insert_event(struct cstore *base, const char *agent, const struct cevent *ev,
		unsigned flags, const char *received)
{
	struct pg_batch *b = &((struct pg_store *)base)->batch;
	if (!b->on) {
		return -EIO;
	}
	if (b->nrows == b->caprows) {
		b->caprows = b->caprows ? b->caprows * 2 : 64;
		b->rows = lw_realloc(b->rows, b->caprows * sizeof(*b->rows));
	}
	b->rows[b->nrows++] = (struct pg_row){.ev = ev, .flags = flags};
	b->received = received;
	batch_add_uuid(b, ev->uuid);
	batch_add_seq(b, ev->seq, ev->hash, ev->uuid);
	return 0;
}

#define PG_ROW_PARAMS 25
#define PG_ROWS_PER_INSERT 500 /* 12,500 parameters of the 65,535 allowed */

/* Rows [from, from + n) of the batch in one INSERT. */
static int
insert_rows(struct pg_store *s, const char *agent, size_t from, size_t n)
{
	static const char head[] =
		"INSERT INTO lw_events (agent, seq, uuid, time, kind, prev, hash, body, received,"
		" flags, rule, severity, sha256, match_ids, marking, owner, action, path_key,"
		" deleted, moved, scheme, level, zones, registered, excerpt) VALUES ";
	/* the casts of a row's parameters, by position (1-based) */
	static const char *const cast[PG_ROW_PARAMS + 1] = {
		[2] = "::bigint",   [10] = "::integer", [12] = "::integer", [19] = "::boolean",
		[20] = "::boolean", [23] = "::integer", [24] = "::boolean", [25] = "::boolean",
	};
	struct numbers {
		char seq[24], flags[16], sev[16], zones[16];
	};
	size_t cap = sizeof(head) + n * PG_ROW_PARAMS * 20;
	AUTOFREE char *sql = lw_malloc(cap);
	AUTOFREE const char **p = lw_new(const char *, n * PG_ROW_PARAMS);
	AUTOFREE struct numbers *num = lw_new(struct numbers, n);
	size_t len = (size_t)snprintf(sql, cap, "%s", head);
	for (size_t i = 0; i < n; i++) {
		const struct pg_row *row = &s->batch.rows[from + i];
		const struct cevent *ev = row->ev;
		bool v = ev->kind == CEVENT_KIND_VIOLATION;
		snprintf(num[i].seq, sizeof(num[i].seq), "%" PRId64, ev->seq);
		snprintf(num[i].flags, sizeof(num[i].flags), "%u", row->flags);
		snprintf(num[i].sev, sizeof(num[i].sev), "%d", ev->severity);
		snprintf(num[i].zones, sizeof(num[i].zones), "%u", ev->zones);
		const char *vals[PG_ROW_PARAMS] = {
			agent, num[i].seq, ev->uuid, ev->time,
			v ? WIRE_EVENT_VIOLATION : WIRE_EVENT_SIGHTING,
			ev->prev, ev->hash, ev->body, s->batch.received, num[i].flags,
			v ? ev->rule : NULL, v ? num[i].sev : NULL, v ? NULL : ev->sha256,
			v ? NULL : ev->match_ids, ev->marking, ev->owner, ev->action,
			v ? NULL : ev->path_key, ev->deleted ? "true" : "false",
			ev->moved ? "true" : "false", v ? NULL : ev->scheme, v ? NULL : ev->level,
			num[i].zones, ev->registered ? "true" : "false",
			ev->excerpt ? "true" : "false",
		};
		memcpy(&p[i * PG_ROW_PARAMS], vals, sizeof(vals));
		for (int k = 1; k <= PG_ROW_PARAMS; k++) {
			len += (size_t)snprintf(sql + len, cap - len, "%s$%zu%s%s",
						k == 1 ? (i ? ", (" : "(") : ", ",
						i * PG_ROW_PARAMS + (size_t)k, cast[k] ? cast[k] : "",
						k == PG_ROW_PARAMS ? ")" : "");
		}
	}
	PGresult *res = PQexecParams(s->conn, sql, (int)(n * PG_ROW_PARAMS), NULL, p, NULL, NULL,
				     0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		int r = pg_fail(s, res, "insert events");
		if (PQstatus(s->conn) != CONNECTION_OK) {
			s->prepared = false;
		}
		return r;
	}
	PQclear(res);
	return 0;
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
	int r = 0;
	for (size_t i = 0; i < s->batch.nrows && r == 0; i += PG_ROWS_PER_INSERT) {
		size_t n = s->batch.nrows - i;
		r = insert_rows(s, agent, i, n < PG_ROWS_PER_INSERT ? n : PG_ROWS_PER_INSERT);
	}
	batch_reset(&s->batch);
	if (r < 0) {
		return r; /* cstore.c rolls back */
	}
	char seqs[24];
	snprintf(seqs, sizeof(seqs), "%" PRId64, last_seq);
	const char *p[] = {agent, seqs, now, broken ? "true" : "false"};
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
	batch_reset(&s->batch);
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
	char cov[64], qd[24], ob[24], ovf[24], resc[24], unw[24], inv[24];
	snprintf(cov, sizeof(cov), "%.17g", hb->coverage);
	snprintf(qd, sizeof(qd), "%lld", hb->queue_depth);
	snprintf(ob, sizeof(ob), "%lld", hb->outbox_backlog);
	snprintf(ovf, sizeof(ovf), "%lld", hb->overflows);
	snprintf(resc, sizeof(resc), "%lld", hb->rescans);
	snprintf(unw, sizeof(unw), "%lld", hb->unwatched_dirs);
	snprintf(inv, sizeof(inv), "%lld", hb->inventory_files);
	const char *p[] = {
		agent, now, hb->version, hb->has_coverage ? cov : NULL,
		hb->queue_depth >= 0 ? qd : NULL, hb->last_scan,
		hb->outbox_backlog >= 0 ? ob : NULL, hb->policy_sha256, hb->started,
		hb->overflows >= 0 ? ovf : NULL, hb->rescans >= 0 ? resc : NULL,
		hb->unwatched_dirs >= 0 ? unw : NULL, hb->inventory_files >= 0 ? inv : NULL,
		hb->unexamined,
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

/* columns 0-8: agent, last_contact, last_seq, version, coverage,
 * queue_depth, last_scan, outbox_backlog, chain_ok */
static struct cstore_agent_row
agent_row(const PGresult *res, int i)
{
	const char *ok = val(res, i, 8);
	return (struct cstore_agent_row){
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
		struct cstore_agent_row row = agent_row(res, i);
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
			.id = int_val(res, i, 0),
			.agent = val(res, i, 1),
			.seq = int_val(res, i, 2),
			.received = val(res, i, 3),
			.body = PQgetvalue(res, i, 4),
			.body_len = (size_t)PQgetlength(res, i, 4),
			.superseded = PQnfields(res) > 5 && PQgetvalue(res, i, 5)[0] == 't',
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

static int
pg_agent_state(struct cstore *base, const char *agent, struct cstore_agent_state *out)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {agent};
	PGresult *res = run(s, Q_AGENT_STATE, p, &r);
	if (!res) {
		return r;
	}
	r = 0;
	if (PQntuples(res) > 0) {
		const char *pol = val(res, 0, 0), *started = val(res, 0, 1);
		snprintf(out->policy_sha256, sizeof(out->policy_sha256), "%s", pol ? pol : "");
		snprintf(out->started, sizeof(out->started), "%s", started ? started : "");
		int64_t *c[] = {&out->overflows, &out->rescans, &out->unwatched_dirs};
		for (int i = 0; i < 3; i++) {
			*c[i] = PQgetisnull(res, 0, 2 + i) ? -1 : int_val(res, 0, 2 + i);
		}
		r = 1;
	}
	PQclear(res);
	return r;
}

static int
pg_insert_note(struct cstore *base, const char *agent, const char *time, const char *kind,
	       const char *detail)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {agent, time, kind, detail};
	PGresult *res = run(s, Q_INSERT_NOTE, p, &r);
	PQclear(res);
	return r;
}

static int
pg_contact(struct cstore *base, const char *agent, const char *now, const char *threshold)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {agent, now, threshold};
	PGresult *res = run(s, Q_CONTACT_EXTEND, p, &r);
	if (!res) {
		return r;
	}
	bool extended = atoi(PQcmdTuples(res)) > 0;
	PQclear(res);
	if (extended) {
		return 0;
	}
	res = run(s, Q_CONTACT_START, p, &r);
	PQclear(res);
	return r;
}

static int
pg_period_agents(struct cstore *base, const char *since, const char *until,
		 cstore_period_agent_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {since, until};
	PGresult *res = run(s, Q_PERIOD_AGENTS, p, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		struct cstore_period_agent row = {
			.a = agent_row(res, i),
			.first_contact = val(res, i, 9),
			.policy_sha256 = val(res, i, 10),
			.started = val(res, i, 11),
			.events = int_val(res, i, 12),
			.first_seq = int_val(res, i, 13),
			.last_seq = int_val(res, i, 14),
			.head_seq = int_val(res, i, 15),
			.head_hash = val(res, i, 16),
			.has_inventory_files = !PQgetisnull(res, i, 17),
			.inventory_files = int_val(res, i, 17),
			.unexamined = val(res, i, 18),
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static int
pg_contacts(struct cstore *base, const char *agent, const char *since, const char *until,
	    cstore_contact_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {agent, since, until};
	PGresult *res = run(s, Q_CONTACTS, p, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		struct cstore_contact row = {.since = val(res, i, 0), .until = val(res, i, 1)};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static int
pg_notes(struct cstore *base, const char *since, const char *until, int64_t after, long limit,
	 cstore_note_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char afters[24], lim[24];
	snprintf(afters, sizeof(afters), "%" PRId64, after);
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *p[] = {since, until, afters, lim};
	PGresult *res = run(s, Q_NOTES, p, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		struct cstore_note_row row = {
			.id = int_val(res, i, 0),
			.agent = val(res, i, 1),
			.time = val(res, i, 2),
			.kind = val(res, i, 3),
			.detail = val(res, i, 4),
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static int
pg_counts(struct cstore *base, const char *since, const char *until, cstore_count_fn fn,
	  void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {since, until};
	PGresult *res = run(s, Q_COUNTS, p, &r);
	if (!res) {
		return r;
	}
	int n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		const char *key = val(res, i, 2);
		struct cstore_count_row row = {
			.agent = val(res, i, 0),
			.what = val(res, i, 1),
			.key = key ? key : "",
			.n = int_val(res, i, 3),
		};
		r = fn(&row, arg);
	}
	PQclear(res);
	return r ? r : n;
}

static int
pg_report_rows(struct cstore *base, const struct cstore_report_query *q, cstore_event_fn fn,
	       void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	char after_received[RFC3339_LEN + 8], afters[24], lim[24];
	snprintf(after_received, sizeof(after_received), "%s", q->since);
	snprintf(afters, sizeof(afters), "%" PRId64, q->after);
	snprintf(lim, sizeof(lim), "%ld", q->limit);
	PGresult *res = NULL;
	switch (q->rows) {
	case CSTORE_ROWS_VIOLATIONS: {
		if (q->after > 0) {
			const char *p[] = {afters};
			res = run(s, Q_ROW_RECEIVED, p, &r);
			if (!res) {
				return r;
			}
			if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
				snprintf(after_received, sizeof(after_received), "%s",
					 PQgetvalue(res, 0, 0));
			}
			PQclear(res);
		}
		const char *p[] = {after_received, q->until, afters, q->agent, lim};
		res = run(s, Q_ROWS_VIOLATIONS, p, &r);
		break;
	}
	case CSTORE_ROWS_HOLDINGS:
	case CSTORE_ROWS_EXCERPTS: {
		const char *p[] = {afters, q->until, q->agent, lim};
		res = run(s, q->rows == CSTORE_ROWS_HOLDINGS ? Q_ROWS_HOLDINGS : Q_ROWS_EXCERPTS, p,
			  &r);
		break;
	}
	case CSTORE_ROWS_CUSTODY: {
		char after_sha[LW_SHA256_HEX_LEN + 1] = "";
		if (q->after > 0) {
			const char *p[] = {afters};
			res = run(s, Q_ROW_SHA256, p, &r);
			if (!res) {
				return r;
			}
			if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
				snprintf(after_sha, sizeof(after_sha), "%s", PQgetvalue(res, 0, 0));
			}
			PQclear(res);
		}
		const char *p[] = {q->since, q->until, afters, q->agent, lim, after_sha};
		res = run(s, Q_ROWS_CUSTODY, p, &r);
		break;
	}
	}
	return res ? event_rows(res, fn, arg) : r;
}

static int
pg_custody_total(struct cstore *base, const char *since, const char *until, const char *agent,
		 int64_t *out)
{
	struct pg_store *s = (struct pg_store *)base;
	int r = ensure(s);
	if (r < 0) {
		return r;
	}
	const char *p[] = {since, until, agent};
	PGresult *res = run(s, Q_CUSTODY_TOTAL, p, &r);
	if (!res) {
		return r;
	}
	*out = PQntuples(res) > 0 ? int_val(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

static void
pg_close(struct cstore *base)
{
	struct pg_store *s = (struct pg_store *)base;
	PQfinish(s->conn);
	batch_free(&s->batch);
	free(s);
}

static const struct cstore_ops pg_ops = {
	.name = "postgresql",
	.begin = pg_begin,
	.preload = pg_preload,
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
	.agent_state = pg_agent_state,
	.insert_note = pg_insert_note,
	.contact = pg_contact,
	.period_agents = pg_period_agents,
	.contacts = pg_contacts,
	.notes = pg_notes,
	.counts = pg_counts,
	.report_rows = pg_report_rows,
	.custody_total = pg_custody_total,
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
	if ((r = migrate(s, err, errlen)) < 0 || (r = prepare_all(s)) < 0) {
		if (!err[0]) {
			snprintf(err, errlen, "postgresql: cannot prepare statements");
		}
		pg_close(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
