/* cstore-sqlite.c — the embedded fleet store (see cstore.h).
 *
 * One SQLite file in WAL mode, opened through common/db.c (application id,
 * migrations by user_version). One connection per thread that uses it
 * (the event loop's for queries, a storage worker's for writes; the
 * busy timeout orders writers); a batch is one BEGIN IMMEDIATE transaction, so each agent batch
 * costs one commit whatever its size ("batched writes"). */
#include "cstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "mem.h"
#include "rfc3339.h"

#define COLLECTOR_APP_ID 0x4c57434c /* "LWCL" */

static const struct db_migration migrations[] = {
	{"CREATE TABLE agents ("
	 " agent TEXT PRIMARY KEY,"
	 " first_contact TEXT NOT NULL,"
	 " last_contact TEXT NOT NULL,"
	 " last_seq INTEGER NOT NULL DEFAULT 0,"
	 " chain_ok INTEGER NOT NULL DEFAULT 1,"
	 " version TEXT, coverage REAL, queue_depth INTEGER, last_scan TEXT,"
	 " outbox_backlog INTEGER);"
	 "CREATE TABLE events ("
	 " id INTEGER PRIMARY KEY,"
	 " agent TEXT NOT NULL, seq INTEGER NOT NULL, uuid TEXT NOT NULL,"
	 " time TEXT NOT NULL, kind TEXT NOT NULL, prev TEXT NOT NULL,"
	 " hash TEXT NOT NULL, body TEXT NOT NULL, received TEXT NOT NULL,"
	 " flags INTEGER NOT NULL DEFAULT 0,"
	 " rule TEXT, severity INTEGER, sha256 TEXT, match_ids TEXT,"
	 " UNIQUE (agent, uuid));"
	 "CREATE INDEX events_agent_seq ON events (agent, seq);"
	 "CREATE INDEX events_kind_received ON events (kind, received);"
	 "CREATE INDEX events_sha256 ON events (sha256) WHERE sha256 IS NOT NULL;"
	 "CREATE TABLE alerts ("
	 " id INTEGER PRIMARY KEY, agent TEXT NOT NULL, kind TEXT NOT NULL,"
	 " seq INTEGER, detail TEXT NOT NULL, time TEXT NOT NULL);"
	 "CREATE INDEX alerts_time ON alerts (time);"},
	/* 2: what compliance reports read (cstore.h, "what a compliance
	 * report reads"): the heartbeat facts whose changes become notes,
	 * contact intervals, and the body members reports group by */
	{"ALTER TABLE agents ADD COLUMN policy_sha256 TEXT;"
	 "ALTER TABLE agents ADD COLUMN started TEXT;"
	 "ALTER TABLE agents ADD COLUMN overflows INTEGER;"
	 "ALTER TABLE agents ADD COLUMN rescans INTEGER;"
	 "ALTER TABLE agents ADD COLUMN unwatched_dirs INTEGER;"
	 "ALTER TABLE agents ADD COLUMN inventory_files INTEGER;"
	 "ALTER TABLE agents ADD COLUMN unexamined TEXT;"
	 "ALTER TABLE events ADD COLUMN marking TEXT;"
	 "ALTER TABLE events ADD COLUMN owner TEXT;"
	 "ALTER TABLE events ADD COLUMN action TEXT;"
	 "ALTER TABLE events ADD COLUMN path_key TEXT;"
	 "ALTER TABLE events ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE events ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE events ADD COLUMN scheme TEXT;"
	 "ALTER TABLE events ADD COLUMN level TEXT;"
	 "ALTER TABLE events ADD COLUMN zones INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE events ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE events ADD COLUMN excerpt INTEGER NOT NULL DEFAULT 0;"
	 /* Covering indexes: the report's aggregates read these and never
	  * the rows (whose bodies make a table scan slow); the queries name
	  * them (INDEXED BY) because the planner prefers the narrower
	  * (kind, received) range and then visits every row. */
	 "CREATE INDEX events_sighting_report ON events (agent, path_key, id, received,"
	 " deleted, moved, marking, scheme, level, zones, registered, excerpt, sha256)"
	 " WHERE kind = 'sighting';"
	 "CREATE INDEX events_sighting_content ON events (sha256, id, agent, received,"
	 " marking, registered) WHERE kind = 'sighting';"
	 "CREATE INDEX events_violation_report ON events (received, agent, severity, rule,"
	 " owner, action) WHERE kind = 'violation';"
	 /* the few candidates of the holdings and excerpt lists, in id order */
	 "CREATE INDEX events_outside ON events (id) WHERE kind = 'sighting'"
	 " AND deleted = 0 AND marking <> '' AND (zones & 1) = 0;"
	 "CREATE INDEX events_excerpt ON events (id) WHERE kind = 'sighting'"
	 " AND deleted = 0 AND excerpt = 1;"
	 "DROP INDEX events_agent_seq;"
	 "CREATE INDEX events_agent_seq_received ON events (agent, seq, received);"
	 "CREATE TABLE contacts ("
	 " id INTEGER PRIMARY KEY, agent TEXT NOT NULL,"
	 " since TEXT NOT NULL, until TEXT NOT NULL);"
	 "CREATE INDEX contacts_agent ON contacts (agent, id);"
	 "CREATE TABLE notes ("
	 " id INTEGER PRIMARY KEY, agent TEXT NOT NULL, time TEXT NOT NULL,"
	 " kind TEXT NOT NULL, detail TEXT NOT NULL);"
	 "CREATE INDEX notes_time ON notes (time);"},
};

enum {
	Q_BEGIN_AGENT,
	Q_AGENT_SEQ,
	Q_HAS_UUID,
	Q_SEQ_EVENT,
	Q_INSERT_EVENT,
	Q_INSERT_ALERT,
	Q_COMMIT_AGENT,
	Q_HEARTBEAT,
	Q_AGENTS,
	Q_VIOLATIONS,
	Q_VIOLATIONS_AGENT,
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

/* The newest sighting of its (agent, path) received before ?2. */
#define SQ_NEWEST_AT_UNTIL                                                                 \
	" NOT EXISTS (SELECT 1 FROM events n INDEXED BY events_sighting_report"            \
	" WHERE n.kind = 'sighting' AND n.agent = e.agent AND n.path_key = e.path_key"     \
	" AND n.id > e.id AND n.received < ?2)"
#define SQ_VIOLATIONS_IN                                                                   \
	" FROM events INDEXED BY events_violation_report"                                  \
	" WHERE kind = 'violation' AND received >= ?1 AND received < ?2"
/* What is held at ?2: the newest sighting of each path, not a deletion. */
#define SQ_HELD                                                                            \
	" FROM events e INDEXED BY events_sighting_report WHERE e.kind = 'sighting'"       \
	" AND e.received < ?2 AND e.deleted = 0 AND" SQ_NEWEST_AT_UNTIL
/* Content seen arriving or leaving in [?1, ?2), classified or registered. */
#define SQ_TOUCHED(e)                                                                      \
	" EXISTS (SELECT 1 FROM events t INDEXED BY events_sighting_content"               \
	" WHERE t.sha256 = " e ".sha256 AND t.kind = 'sighting'"                           \
	" AND t.received >= ?1 AND t.received < ?2 AND (t.marking <> '' OR t.registered))"

static const char *const sql[Q_COUNT] = {
	[Q_BEGIN_AGENT] = "INSERT INTO agents (agent, first_contact, last_contact)"
			  " VALUES (?1, ?2, ?2) ON CONFLICT (agent) DO NOTHING",
	[Q_AGENT_SEQ] = "SELECT last_seq FROM agents WHERE agent = ?1",
	[Q_HAS_UUID] = "SELECT 1 FROM events WHERE agent = ?1 AND uuid = ?2",
	[Q_SEQ_EVENT] = "SELECT hash, uuid FROM events WHERE agent = ?1 AND seq = ?2"
			" ORDER BY id LIMIT 1",
	[Q_INSERT_EVENT] = "INSERT INTO events (agent, seq, uuid, time, kind, prev, hash,"
			   " body, received, flags, rule, severity, sha256, match_ids,"
			   " marking, owner, action, path_key, deleted, moved, scheme, level,"
			   " zones, registered, excerpt)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			   " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[Q_INSERT_ALERT] = "INSERT INTO alerts (agent, kind, seq, detail, time)"
			   " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_COMMIT_AGENT] = "UPDATE agents SET last_seq = ?2, last_contact = ?3,"
			   " chain_ok = chain_ok AND NOT ?4 WHERE agent = ?1",
	[Q_HEARTBEAT] = "INSERT INTO agents (agent, first_contact, last_contact, version,"
			" coverage, queue_depth, last_scan, outbox_backlog, policy_sha256,"
			" started, overflows, rescans, unwatched_dirs, inventory_files, unexamined)"
			" VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
			" ON CONFLICT (agent) DO UPDATE SET last_contact = ?2,"
			" version = ?3, coverage = ?4, queue_depth = ?5, last_scan = ?6,"
			" outbox_backlog = ?7, policy_sha256 = ?8, started = ?9,"
			" overflows = ?10, rescans = ?11, unwatched_dirs = ?12,"
			" inventory_files = ?13, unexamined = ?14",
	[Q_AGENTS] = "SELECT agent, last_contact, last_seq, version, coverage, queue_depth,"
		     " last_scan, outbox_backlog, chain_ok FROM agents ORDER BY agent",
	/* newest @limit, then returned oldest first */
	[Q_VIOLATIONS] = "SELECT * FROM (SELECT id, agent, seq, received, body FROM events"
			 " WHERE kind = 'violation'"
			 " AND (?1 IS NULL OR received >= ?1)"
			 " AND (?2 IS NULL OR severity >= ?2)"
			 " AND (?3 IS NULL OR rule = ?3)"
			 " AND (?4 IS NULL OR agent = ?4)"
			 " ORDER BY id DESC LIMIT ?5) ORDER BY id",
	/* the same for one agent: "?4 IS NULL OR agent = ?4" cannot use the
	 * (agent, seq) index, and the fleet query scanned every violation */
	[Q_VIOLATIONS_AGENT] = "SELECT * FROM (SELECT id, agent, seq, received, body FROM events"
			       " WHERE agent = ?4 AND kind = 'violation'"
			       " AND (?1 IS NULL OR received >= ?1)"
			       " AND (?2 IS NULL OR severity >= ?2)"
			       " AND (?3 IS NULL OR rule = ?3)"
			       " ORDER BY id DESC LIMIT ?5) ORDER BY id",
	[Q_ALERTS] = "SELECT * FROM (SELECT id, agent, kind, seq, detail, time FROM alerts"
		     " WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR agent = ?2)"
		     " ORDER BY id DESC LIMIT ?3) ORDER BY id",
	[Q_TRACE] = "SELECT * FROM (SELECT id, agent, seq, received, body FROM events"
		    " WHERE kind = 'sighting'"
		    " AND ((?1 IS NOT NULL AND sha256 = ?1) OR"
		    " (?2 IS NOT NULL AND instr(match_ids, char(10) || ?2 || char(10)) > 0))"
		    " AND (?3 IS NULL OR agent = ?3)"
		    " ORDER BY id DESC LIMIT ?4) ORDER BY id",
	[Q_AGENT_STATE] = "SELECT policy_sha256, started, overflows, rescans, unwatched_dirs"
			  " FROM agents WHERE agent = ?1",
	[Q_INSERT_NOTE] = "INSERT INTO notes (agent, time, kind, detail) VALUES (?1, ?2, ?3, ?4)",
	/* ?3: the oldest end that still counts as the same contact */
	[Q_CONTACT_EXTEND] = "UPDATE contacts SET until = ?2"
			     " WHERE id = (SELECT max(id) FROM contacts WHERE agent = ?1)"
			     " AND until >= ?3 AND until <= ?2",
	[Q_CONTACT_START] = "INSERT INTO contacts (agent, since, until) VALUES (?1, ?2, ?2)",
	[Q_PERIOD_AGENTS] =
		"SELECT a.agent, a.last_contact, a.last_seq, a.version, a.coverage,"
		" a.queue_depth, a.last_scan, a.outbox_backlog, a.chain_ok, a.first_contact,"
		" a.policy_sha256, a.started, p.n, p.f, p.l,"
		" (SELECT seq FROM events WHERE agent = a.agent AND received < ?2"
		"  ORDER BY seq DESC, id DESC LIMIT 1),"
		" (SELECT hash FROM events WHERE agent = a.agent AND received < ?2"
		"  ORDER BY seq DESC, id DESC LIMIT 1), a.inventory_files, a.unexamined"
		" FROM agents a LEFT JOIN (SELECT agent, count(*) n, min(seq) f, max(seq) l"
		"  FROM events INDEXED BY events_agent_seq_received"
		"  WHERE received >= ?1 AND received < ?2 GROUP BY agent) p ON p.agent = a.agent"
		" ORDER BY a.agent",
	[Q_CONTACTS] = "SELECT since, until FROM contacts WHERE agent = ?1 AND until >= ?2"
		       " AND since < ?3 ORDER BY id",
	[Q_NOTES] = "SELECT id, agent, time, kind, detail FROM notes"
		    " WHERE time >= ?1 AND time < ?2 AND id > ?3 ORDER BY id LIMIT ?4",
	/* One pass per aggregate; each reads the (kind, received) range of
	 * the period, "held" every sighting before ?2 once. A rename is two
	 * sightings (moved_to at the old path, moved_from at the new): one
	 * move, not a removal and an arrival. */
	[Q_COUNTS] =
		"SELECT agent, 'severity', CASE severity WHEN 4 THEN 'critical' WHEN 3 THEN"
		" 'high' WHEN 2 THEN 'medium' ELSE 'low' END, count(*)" SQ_VIOLATIONS_IN
		" GROUP BY agent, severity"
		" UNION ALL SELECT agent, 'rule', rule, count(*)" SQ_VIOLATIONS_IN
		" GROUP BY agent, rule"
		" UNION ALL SELECT agent, 'day', substr(received, 1, 10), count(*)"
		SQ_VIOLATIONS_IN " GROUP BY agent, substr(received, 1, 10)"
		" UNION ALL SELECT agent, 'owner', owner, count(*)" SQ_VIOLATIONS_IN
		" AND owner <> '' GROUP BY agent, owner"
		" UNION ALL SELECT agent, 'action', action, count(*)" SQ_VIOLATIONS_IN
		" AND action <> '' GROUP BY agent, action"
		" UNION ALL SELECT agent, 'alert', kind, count(*) FROM alerts"
		" WHERE time >= ?1 AND time < ?2 GROUP BY agent, kind"
		" UNION ALL SELECT agent, w, d, count(*) FROM (SELECT e.agent,"
		"  substr(e.received, 1, 10) d,"
		"  CASE WHEN e.moved THEN (CASE WHEN e.deleted THEN NULL ELSE 'moved' END)"
		"  WHEN e.deleted THEN 'removed'"
		"  WHEN EXISTS (SELECT 1 FROM events o INDEXED BY events_sighting_report"
		"   WHERE o.kind = 'sighting' AND o.agent = e.agent AND o.path_key = e.path_key"
		"   AND o.id < e.id AND o.deleted = 0) THEN 'changed' ELSE 'new' END w"
		"  FROM events e INDEXED BY events_sighting_report WHERE e.kind = 'sighting'"
		"  AND e.received >= ?1 AND e.received < ?2) WHERE w IS NOT NULL"
		" GROUP BY agent, w, d"
		/* "marking\tscheme\tlevel\tzones": the summary by marking and
		 * the holdings by level and zone from one pass */
		" UNION ALL SELECT e.agent, 'held', e.marking || char(9) || coalesce(e.scheme, '')"
		" || char(9) || coalesce(e.level, '') || char(9) || e.zones, count(*)" SQ_HELD
		" AND e.marking <> '' AND coalesce(e.level, '') <> ''"
		" GROUP BY e.agent, e.marking, e.scheme, e.level, e.zones",
	[Q_ROW_RECEIVED] = "SELECT received FROM events WHERE id = ?1",
	[Q_ROW_SHA256] = "SELECT sha256 FROM events WHERE id = ?1",
	/* keyset on (received, id), the order of the (kind, received) index:
	 * ?3 is the received of row ?4, the last one the caller has */
	[Q_ROWS_VIOLATIONS] = "SELECT id, agent, seq, received, body FROM events"
			      " WHERE kind = 'violation' AND received >= ?3 AND received < ?2"
			      " AND NOT (received = ?3 AND id <= ?4)"
			      " AND (?5 IS NULL OR agent = ?5)"
			      " ORDER BY received, id LIMIT ?6",
	/* classified files held outside the secure zone */
	[Q_ROWS_HOLDINGS] = "SELECT id, agent, seq, received, body FROM events e"
			    " INDEXED BY events_outside WHERE e.kind = 'sighting'"
			    " AND e.deleted = 0 AND e.marking <> '' AND (e.zones & 1) = 0"
			    " AND e.received < ?2 AND" SQ_NEWEST_AT_UNTIL
			    " AND e.id > ?4 AND coalesce(e.level, '') <> ''"
			    " AND (?5 IS NULL OR e.agent = ?5) ORDER BY e.id LIMIT ?6",
	/* files held that are excerpts of a registered document */
	[Q_ROWS_EXCERPTS] = "SELECT id, agent, seq, received, body FROM events e"
			    " INDEXED BY events_excerpt WHERE e.kind = 'sighting'"
			    " AND e.deleted = 0 AND excerpt = 1"
			    " AND e.received < ?2 AND" SQ_NEWEST_AT_UNTIL
			    " AND e.id > ?4 AND (?5 IS NULL OR e.agent = ?5)"
			    " ORDER BY e.id LIMIT ?6",
	/* by content, then id (the content index's order): one document's
	 * sightings arrive together, so the reader needs one document in
	 * memory, not all; ?3 is the sha256 of row ?4. The last column: a
	 * later sighting at that path has other content. */
	[Q_ROWS_CUSTODY] = "SELECT id, agent, seq, received, body,"
			   " EXISTS (SELECT 1 FROM events n INDEXED BY events_sighting_report"
			   "  WHERE n.kind = 'sighting' AND n.agent = e.agent"
			   "  AND n.path_key = e.path_key AND n.id > e.id"
			   "  AND n.sha256 <> e.sha256 AND n.received < ?2)"
			   " FROM events e INDEXED BY events_sighting_content"
			   " WHERE e.kind = 'sighting' AND e.sha256 >= ?3"
			   " AND NOT (e.sha256 = ?3 AND e.id <= ?4) AND e.received < ?2"
			   " AND (?5 IS NULL OR e.agent = ?5) AND" SQ_TOUCHED("e")
			   " ORDER BY e.sha256, e.id LIMIT ?6",
	[Q_CUSTODY_TOTAL] = "SELECT count(DISTINCT sha256) FROM events"
			    " INDEXED BY events_sighting_content WHERE kind = 'sighting'"
			    " AND received >= ?1 AND received < ?2"
			    " AND (marking <> '' OR registered) AND (?3 IS NULL OR agent = ?3)",
};

struct sq_store {
	struct cstore base;
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
};

static int
sq_fail(struct sq_store *s, const char *what)
{
	log_err("store: sqlite: %s: %s", what, sqlite3_errmsg(s->db));
	return -EIO;
}

/* Steps a statement expected to return no row; resets it. */
static int
sq_done(struct sq_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		return sq_fail(s, what);
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v) {
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, i);
	}
}

static int
sq_begin(struct cstore *base, const char *agent, int64_t *last_seq)
{
	struct sq_store *s = (struct sq_store *)base;
	if (db_exec(s->db, "BEGIN IMMEDIATE") < 0) {
		return -EIO;
	}
	char now[RFC3339_LEN];
	rfc3339_now(now);
	sqlite3_stmt *st = s->st[Q_BEGIN_AGENT];
	bind_text(st, 1, agent);
	bind_text(st, 2, now);
	if (sq_done(s, st, "register agent") < 0) {
		db_exec(s->db, "ROLLBACK");
		return -EIO;
	}
	st = s->st[Q_AGENT_SEQ];
	bind_text(st, 1, agent);
	int rc = sqlite3_step(st);
	*last_seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		db_exec(s->db, "ROLLBACK");
		return sq_fail(s, "read agent");
	}
	return 0;
}

static int
sq_has_uuid(struct cstore *base, const char *agent, const char *uuid)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_HAS_UUID];
	bind_text(st, 1, agent);
	bind_text(st, 2, uuid);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW) {
		return 1;
	}
	return rc == SQLITE_DONE ? 0 : sq_fail(s, "look up uuid");
}

static int
sq_seq_event(struct cstore *base, const char *agent, int64_t seq, char *hash, char *uuid)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_SEQ_EVENT];
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		snprintf(hash, LW_SHA256_HEX_LEN + 1, "%s", sqlite3_column_text(st, 0));
		snprintf(uuid, CHAIN_UUID_LEN + 1, "%s", sqlite3_column_text(st, 1));
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = sq_fail(s, "look up seq");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int
sq_insert_event(struct cstore *base, const char *agent, const struct cevent *ev,
		unsigned flags, const char *received)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_INSERT_EVENT];
	bool v = ev->kind == CEVENT_KIND_VIOLATION;
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, ev->seq);
	bind_text(st, 3, ev->uuid);
	bind_text(st, 4, ev->time);
	bind_text(st, 5, v ? WIRE_EVENT_VIOLATION : WIRE_EVENT_SIGHTING);
	bind_text(st, 6, ev->prev);
	bind_text(st, 7, ev->hash);
	sqlite3_bind_text(st, 8, ev->body, (int)ev->body_len, SQLITE_STATIC);
	bind_text(st, 9, received);
	sqlite3_bind_int(st, 10, (int)flags);
	bind_text(st, 11, v ? ev->rule : NULL);
	if (v) {
		sqlite3_bind_int(st, 12, ev->severity);
	}
	bind_text(st, 13, v ? NULL : ev->sha256);
	bind_text(st, 14, v ? NULL : ev->match_ids);
	bind_text(st, 15, ev->marking);
	bind_text(st, 16, ev->owner);
	bind_text(st, 17, ev->action);
	bind_text(st, 18, v ? NULL : ev->path_key);
	sqlite3_bind_int(st, 19, ev->deleted);
	sqlite3_bind_int(st, 20, ev->moved);
	bind_text(st, 21, v ? NULL : ev->scheme);
	bind_text(st, 22, v ? NULL : ev->level);
	sqlite3_bind_int(st, 23, (int)ev->zones);
	sqlite3_bind_int(st, 24, ev->registered);
	sqlite3_bind_int(st, 25, ev->excerpt);
	return sq_done(s, st, "insert event");
}

static int
sq_insert_alert(struct cstore *base, const char *agent, const char *kind, int64_t seq,
		const char *detail, const char *time)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_INSERT_ALERT];
	bind_text(st, 1, agent);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, seq);
	bind_text(st, 4, detail);
	bind_text(st, 5, time);
	return sq_done(s, st, "insert alert");
}

static int
sq_commit(struct cstore *base, const char *agent, int64_t last_seq, bool broken,
	  const char *now)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_COMMIT_AGENT];
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, last_seq);
	bind_text(st, 3, now);
	sqlite3_bind_int(st, 4, broken);
	if (sq_done(s, st, "update agent") < 0) {
		return -EIO;
	}
	return db_exec(s->db, "COMMIT");
}

static void
sq_rollback(struct cstore *base)
{
	struct sq_store *s = (struct sq_store *)base;
	if (!sqlite3_get_autocommit(s->db)) {
		db_exec(s->db, "ROLLBACK");
	}
}

static int
sq_heartbeat(struct cstore *base, const char *agent, const struct cstore_heartbeat *hb,
	     const char *now)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_HEARTBEAT];
	bind_text(st, 1, agent);
	bind_text(st, 2, now);
	bind_text(st, 3, hb->version);
	if (hb->has_coverage) {
		sqlite3_bind_double(st, 4, hb->coverage);
	}
	if (hb->queue_depth >= 0) {
		sqlite3_bind_int64(st, 5, hb->queue_depth);
	}
	bind_text(st, 6, hb->last_scan);
	if (hb->outbox_backlog >= 0) {
		sqlite3_bind_int64(st, 7, hb->outbox_backlog);
	}
	bind_text(st, 8, hb->policy_sha256);
	bind_text(st, 9, hb->started);
	const long long counters[] = {hb->overflows, hb->rescans, hb->unwatched_dirs,
				      hb->inventory_files};
	for (int i = 0; i < 4; i++) {
		if (counters[i] >= 0) {
			sqlite3_bind_int64(st, 10 + i, counters[i]);
		}
	}
	bind_text(st, 14, hb->unexamined);
	return sq_done(s, st, "heartbeat");
}

static void
copy_col(char *out, size_t n, sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	snprintf(out, n, "%s", v ? v : "");
}

static int
sq_agent_state(struct cstore *base, const char *agent, struct cstore_agent_state *out)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_AGENT_STATE];
	bind_text(st, 1, agent);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		copy_col(out->policy_sha256, sizeof(out->policy_sha256), st, 0);
		copy_col(out->started, sizeof(out->started), st, 1);
		int64_t *c[] = {&out->overflows, &out->rescans, &out->unwatched_dirs};
		for (int i = 0; i < 3; i++) {
			*c[i] = sqlite3_column_type(st, 2 + i) == SQLITE_NULL
					? -1
					: sqlite3_column_int64(st, 2 + i);
		}
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = sq_fail(s, "read agent state");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int
sq_insert_note(struct cstore *base, const char *agent, const char *time, const char *kind,
	       const char *detail)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_INSERT_NOTE];
	bind_text(st, 1, agent);
	bind_text(st, 2, time);
	bind_text(st, 3, kind);
	bind_text(st, 4, detail);
	return sq_done(s, st, "insert note");
}

static int
sq_contact(struct cstore *base, const char *agent, const char *now, const char *threshold)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_CONTACT_EXTEND];
	bind_text(st, 1, agent);
	bind_text(st, 2, now);
	bind_text(st, 3, threshold);
	if (sq_done(s, st, "extend contact") < 0) {
		return -EIO;
	}
	if (sqlite3_changes(s->db) > 0) {
		return 0;
	}
	st = s->st[Q_CONTACT_START];
	bind_text(st, 1, agent);
	bind_text(st, 2, now);
	return sq_done(s, st, "start contact");
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
sq_agents(struct cstore *base, cstore_agent_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_AGENTS];
	int n = 0, rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cstore_agent_row row = {
			.agent = col_text(st, 0),
			.last_contact = col_text(st, 1),
			.last_seq = sqlite3_column_int64(st, 2),
			.version = col_text(st, 3),
			.has_coverage = sqlite3_column_type(st, 4) != SQLITE_NULL,
			.coverage = sqlite3_column_double(st, 4),
			.has_queue_depth = sqlite3_column_type(st, 5) != SQLITE_NULL,
			.queue_depth = sqlite3_column_int64(st, 5),
			.last_scan = col_text(st, 6),
			.has_outbox_backlog = sqlite3_column_type(st, 7) != SQLITE_NULL,
			.outbox_backlog = sqlite3_column_int64(st, 7),
			.chain_ok = sqlite3_column_int(st, 8) != 0,
		};
		n++;
		if ((r = fn(&row, arg)) != 0) {
			break;
		}
	}
	sqlite3_reset(st);
	if (r) {
		return r;
	}
	return rc == SQLITE_DONE ? n : sq_fail(s, "list agents");
}

/* rows of (id, agent, seq, received, body) */
static int
event_rows(struct sq_store *s, sqlite3_stmt *st, cstore_event_fn fn, void *arg)
{
	int n = 0, rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cstore_event_row row = {
			.id = sqlite3_column_int64(st, 0),
			.agent = col_text(st, 1),
			.seq = sqlite3_column_int64(st, 2),
			.received = col_text(st, 3),
			.body = col_text(st, 4),
			.body_len = (size_t)sqlite3_column_bytes(st, 4),
			.superseded = sqlite3_column_count(st) > 5 && sqlite3_column_int(st, 5),
		};
		n++;
		if ((r = fn(&row, arg)) != 0) {
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r) {
		return r;
	}
	return rc == SQLITE_DONE ? n : sq_fail(s, "query");
}

static int
sq_violations(struct cstore *base, const struct cstore_query *q, cstore_event_fn fn,
	      void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[q->agent ? Q_VIOLATIONS_AGENT : Q_VIOLATIONS];
	bind_text(st, 1, q->since);
	if (q->min_severity) {
		sqlite3_bind_int(st, 2, q->min_severity);
	}
	bind_text(st, 3, q->rule);
	bind_text(st, 4, q->agent);
	sqlite3_bind_int64(st, 5, q->limit);
	return event_rows(s, st, fn, arg);
}

static int
sq_trace(struct cstore *base, const struct cstore_query *q, cstore_event_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_TRACE];
	bind_text(st, 1, q->sha256);
	bind_text(st, 2, q->match_id);
	bind_text(st, 3, q->agent);
	sqlite3_bind_int64(st, 4, q->limit);
	return event_rows(s, st, fn, arg);
}

static int
sq_alerts(struct cstore *base, const struct cstore_query *q, cstore_alert_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_ALERTS];
	bind_text(st, 1, q->since);
	bind_text(st, 2, q->agent);
	sqlite3_bind_int64(st, 3, q->limit);
	int n = 0, rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cstore_alert_row row = {
			.agent = col_text(st, 1),
			.kind = col_text(st, 2),
			.seq = sqlite3_column_int64(st, 3),
			.detail = col_text(st, 4),
			.time = col_text(st, 5),
		};
		n++;
		if ((r = fn(&row, arg)) != 0) {
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r) {
		return r;
	}
	return rc == SQLITE_DONE ? n : sq_fail(s, "list alerts");
}

/* Steps @st to its end, calling @row for each row; resets it. */
static int
sq_rows(struct sq_store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *), void *arg,
	const char *what)
{
	int n = 0, rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if ((r = row(st, arg)) != 0) {
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r) {
		return r;
	}
	return rc == SQLITE_DONE ? n : sq_fail(s, what);
}

struct fn_arg {
	void *fn;
	void *arg;
};

static int
period_agent_row(sqlite3_stmt *st, void *a)
{
	struct fn_arg *fa = a;
	struct cstore_period_agent row = {
		.a = {
			.agent = col_text(st, 0),
			.last_contact = col_text(st, 1),
			.last_seq = sqlite3_column_int64(st, 2),
			.version = col_text(st, 3),
			.has_coverage = sqlite3_column_type(st, 4) != SQLITE_NULL,
			.coverage = sqlite3_column_double(st, 4),
			.has_queue_depth = sqlite3_column_type(st, 5) != SQLITE_NULL,
			.queue_depth = sqlite3_column_int64(st, 5),
			.last_scan = col_text(st, 6),
			.has_outbox_backlog = sqlite3_column_type(st, 7) != SQLITE_NULL,
			.outbox_backlog = sqlite3_column_int64(st, 7),
			.chain_ok = sqlite3_column_int(st, 8) != 0,
		},
		.first_contact = col_text(st, 9),
		.policy_sha256 = col_text(st, 10),
		.started = col_text(st, 11),
		.events = sqlite3_column_int64(st, 12),
		.first_seq = sqlite3_column_int64(st, 13),
		.last_seq = sqlite3_column_int64(st, 14),
		.head_seq = sqlite3_column_int64(st, 15),
		.head_hash = col_text(st, 16),
		.has_inventory_files = sqlite3_column_type(st, 17) != SQLITE_NULL,
		.inventory_files = sqlite3_column_int64(st, 17),
		.unexamined = col_text(st, 18),
	};
	return ((cstore_period_agent_fn)fa->fn)(&row, fa->arg);
}

static int
sq_period_agents(struct cstore *base, const char *since, const char *until,
		 cstore_period_agent_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_PERIOD_AGENTS];
	bind_text(st, 1, since);
	bind_text(st, 2, until);
	struct fn_arg fa = {(void *)fn, arg};
	return sq_rows(s, st, period_agent_row, &fa, "report agents");
}

static int
contact_row(sqlite3_stmt *st, void *a)
{
	struct fn_arg *fa = a;
	struct cstore_contact row = {.since = col_text(st, 0), .until = col_text(st, 1)};
	return ((cstore_contact_fn)fa->fn)(&row, fa->arg);
}

static int
sq_contacts(struct cstore *base, const char *agent, const char *since, const char *until,
	    cstore_contact_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_CONTACTS];
	bind_text(st, 1, agent);
	bind_text(st, 2, since);
	bind_text(st, 3, until);
	struct fn_arg fa = {(void *)fn, arg};
	return sq_rows(s, st, contact_row, &fa, "contacts");
}

static int
note_row(sqlite3_stmt *st, void *a)
{
	struct fn_arg *fa = a;
	struct cstore_note_row row = {.id = sqlite3_column_int64(st, 0),
				      .agent = col_text(st, 1),
				      .time = col_text(st, 2),
				      .kind = col_text(st, 3),
				      .detail = col_text(st, 4)};
	return ((cstore_note_fn)fa->fn)(&row, fa->arg);
}

static int
sq_notes(struct cstore *base, const char *since, const char *until, int64_t after, long limit,
	 cstore_note_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_NOTES];
	bind_text(st, 1, since);
	bind_text(st, 2, until);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, limit);
	struct fn_arg fa = {(void *)fn, arg};
	return sq_rows(s, st, note_row, &fa, "notes");
}

static int
count_row(sqlite3_stmt *st, void *a)
{
	struct fn_arg *fa = a;
	struct cstore_count_row row = {.agent = col_text(st, 0),
				       .what = col_text(st, 1),
				       .key = col_text(st, 2),
				       .n = sqlite3_column_int64(st, 3)};
	if (!row.key) {
		row.key = "";
	}
	return ((cstore_count_fn)fa->fn)(&row, fa->arg);
}

static int
sq_counts(struct cstore *base, const char *since, const char *until, cstore_count_fn fn,
	  void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_COUNTS];
	bind_text(st, 1, since);
	bind_text(st, 2, until);
	struct fn_arg fa = {(void *)fn, arg};
	return sq_rows(s, st, count_row, &fa, "report counts");
}

static int
sq_report_rows(struct cstore *base, const struct cstore_report_query *q, cstore_event_fn fn,
	       void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	/* the first key of the keyset: received (violations) or sha256
	 * (custody) of the caller's last row */
	char after_key[LW_SHA256_HEX_LEN + 1];
	bool custody = q->rows == CSTORE_ROWS_CUSTODY;
	snprintf(after_key, sizeof(after_key), "%s", custody ? "" : q->since);
	int qi = q->rows == CSTORE_ROWS_VIOLATIONS ? Q_ROWS_VIOLATIONS
		 : q->rows == CSTORE_ROWS_HOLDINGS ? Q_ROWS_HOLDINGS
		 : q->rows == CSTORE_ROWS_EXCERPTS ? Q_ROWS_EXCERPTS
						    : Q_ROWS_CUSTODY;
	bool keyed = qi == Q_ROWS_VIOLATIONS || qi == Q_ROWS_CUSTODY;
	if (keyed && q->after > 0) {
		sqlite3_stmt *st = s->st[custody ? Q_ROW_SHA256 : Q_ROW_RECEIVED];
		sqlite3_bind_int64(st, 1, q->after);
		if (sqlite3_step(st) == SQLITE_ROW) {
			copy_col(after_key, sizeof(after_key), st, 0);
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_stmt *st = s->st[qi];
	bind_text(st, 1, q->since);
	bind_text(st, 2, q->until);
	if (keyed) {
		bind_text(st, 3, after_key);
	}
	sqlite3_bind_int64(st, 4, q->after);
	bind_text(st, 5, q->agent);
	sqlite3_bind_int64(st, 6, q->limit);
	return event_rows(s, st, fn, arg);
}

static int
sq_custody_total(struct cstore *base, const char *since, const char *until, const char *agent,
		 int64_t *out)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[Q_CUSTODY_TOTAL];
	bind_text(st, 1, since);
	bind_text(st, 2, until);
	bind_text(st, 3, agent);
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : sq_fail(s, "custody total");
}

static void
sq_close(struct cstore *base)
{
	struct sq_store *s = (struct sq_store *)base;
	for (int i = 0; i < Q_COUNT; i++) {
		sqlite3_finalize(s->st[i]);
	}
	db_close(s->db);
	free(s);
}

static const struct cstore_ops sq_ops = {
	.name = "sqlite",
	.begin = sq_begin,
	.has_uuid = sq_has_uuid,
	.seq_event = sq_seq_event,
	.insert_event = sq_insert_event,
	.insert_alert = sq_insert_alert,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.heartbeat = sq_heartbeat,
	.agents = sq_agents,
	.violations = sq_violations,
	.alerts = sq_alerts,
	.trace = sq_trace,
	.agent_state = sq_agent_state,
	.insert_note = sq_insert_note,
	.contact = sq_contact,
	.period_agents = sq_period_agents,
	.contacts = sq_contacts,
	.notes = sq_notes,
	.counts = sq_counts,
	.report_rows = sq_report_rows,
	.custody_total = sq_custody_total,
	.close = sq_close,
};

int
cstore_sqlite_open(const char *path, struct cstore **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int r = db_open(path, DB_MODE_WRITER, COLLECTOR_APP_ID, migrations,
			(int)LW_ARRAY_SIZE(migrations), &db, err, errlen);
	if (r < 0) {
		return r;
	}
	/* Acknowledged means committed: the agent deletes what we ack, so a
	 * power loss must not take acknowledged events back. db_open's
	 * NORMAL suits the agent's rebuildable inventory, not this. */
	if (db_exec(db, "PRAGMA synchronous=FULL") < 0) {
		db_close(db);
		snprintf(err, errlen, "%s: cannot set synchronous=FULL", path);
		return -EIO;
	}
	struct sq_store *s = lw_new(struct sq_store, 1);
	s->base.ops = &sq_ops;
	s->db = db;
	for (int i = 0; i < Q_COUNT; i++) {
		s->st[i] = db_prepare(db, sql[i]);
	}
	*out = &s->base;
	return 0;
}
