/* vstore.c — see vstore.h. Statements are prepared once per vstore;
 * thread: the owner of the connection. */
#include "vstore.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "log.h"
#include "mem.h"
#include "wire.h"

enum {
	V_STATE_GET,
	V_STATE_PUT,
	V_STATE_CLEAR,
	V_STATE_CLEAR_BELOW,
	V_LAST_EVENT,
	V_EVENT_PUT,
	V_VIOLATION_PUT,
	V_RELEASED,
	V_QUAR_PUT,
	V_QUAR_GET,
	V_QUAR_RESTORED,
	V_ACKED,
	V_PRUNE_ACKED,
	V_UNACKED,
	V_DROP,
	V_SIGHT_GET,
	V_SIGHT_PUT,
	V_COUNT
};

static const char *const vstore_sql[V_COUNT] = {
	[V_STATE_GET] = "SELECT sig FROM vstate WHERE path = ?1 AND rule = ?2",
	[V_STATE_PUT] = "INSERT INTO vstate(path, rule, sig) VALUES(?1, ?2, ?3)"
			" ON CONFLICT(path, rule) DO UPDATE SET sig = excluded.sig",
	[V_STATE_CLEAR] = "DELETE FROM vstate WHERE path = ?1",
	[V_STATE_CLEAR_BELOW] = "DELETE FROM vstate WHERE path >= ?1 AND path < ?2"
				" AND NOT EXISTS (SELECT 1 FROM files f WHERE f.path = vstate.path"
				" AND f.deleted_at IS NULL)",
	[V_LAST_EVENT] = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
	[V_EVENT_PUT] = "INSERT INTO events(seq, uuid, time, kind, prev, hash, body)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[V_VIOLATION_PUT] = "INSERT INTO violations(seq, uuid, time, rule, severity, action,"
			    " action_result, event, path, from_path, sha256, uid, count,"
			    " quarantine, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			    " ?10, ?11, ?12, ?13, ?14, ?15)",
	[V_RELEASED] = "SELECT 1 FROM quarantine WHERE path = ?1 AND sha256 = ?2"
		       " AND restored_at IS NOT NULL LIMIT 1",
	[V_QUAR_PUT] = "INSERT INTO quarantine(id, violation, time, path, stored, sha256, size,"
		       " mode, uid, gid, mtime_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		       " ?10, ?11)",
	[V_QUAR_GET] = "SELECT id, violation, time, path, stored, sha256, size, mode, uid, gid,"
		       " mtime_ns, restored_at FROM quarantine WHERE id = ?1",
	[V_QUAR_RESTORED] = "UPDATE quarantine SET restored_at = ?2 WHERE id = ?1"
			    " AND restored_at IS NULL",
	[V_ACKED] = "UPDATE events SET acked = ?2 WHERE seq = ?1 AND acked IS NULL",
	/* rejected events (acked < 0) stay for the administrator */
	[V_PRUNE_ACKED] = "DELETE FROM events WHERE acked > 0"
			  " AND seq < (SELECT max(seq) FROM events)",
	[V_UNACKED] = "SELECT count(*) FROM events WHERE acked IS NULL",
	/* the newest event is never dropped: the next one chains to it */
	[V_DROP] = "DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e"
		   " LEFT JOIN violations v ON v.seq = e.seq WHERE e.acked IS NULL"
		   " AND e.seq < (SELECT max(seq) FROM events)"
		   " ORDER BY coalesce(v.severity, 0), e.seq LIMIT ?1)",
	[V_SIGHT_GET] = "SELECT sha256, first_seen, deleted, body FROM sightings WHERE path = ?1",
	[V_SIGHT_PUT] = "INSERT INTO sightings(path, sha256, first_seen, deleted, body)"
			" VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(path) DO UPDATE SET"
			" sha256 = excluded.sha256, first_seen = excluded.first_seen,"
			" deleted = excluded.deleted, body = excluded.body",
};

struct vstore {
	sqlite3 *db;
	sqlite3_stmt *stmt[V_COUNT];
	int64_t outbox_max;
};

/* How often (in appended events) the outbox size is checked. */
#define VSTORE_BOUND_EVERY 128

struct vstore *
vstore_new(struct store *st)
{
	struct vstore *vs = lw_new(struct vstore, 1);
	vs->db = store_db(st);
	for (int i = 0; i < V_COUNT; i++) {
		vs->stmt[i] = db_prepare(vs->db, vstore_sql[i]);
	}
	return vs;
}

void
vstore_free(struct vstore *vs)
{
	if (!vs) {
		return;
	}
	for (int i = 0; i < V_COUNT; i++) {
		sqlite3_finalize(vs->stmt[i]);
	}
	free(vs);
}

static int
done(struct vstore *vs, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		log_err("vstore: %s", sqlite3_errmsg(vs->db));
		return db_errno(rc) ? db_errno(rc) : -EIO;
	}
	return 0;
}

int
vstore_state_same(struct vstore *vs, const char *path, size_t len, const char *rule,
		  const uint8_t sig[LW_SHA256_LEN])
{
	sqlite3_stmt *s = vs->stmt[V_STATE_GET];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
	int r = 0;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == LW_SHA256_LEN &&
	    memcmp(sqlite3_column_blob(s, 0), sig, LW_SHA256_LEN) == 0) {
		r = 1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
vstore_state_put(struct vstore *vs, const char *path, size_t len, const char *rule,
		 const uint8_t sig[LW_SHA256_LEN])
{
	sqlite3_stmt *s = vs->stmt[V_STATE_PUT];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, sig, LW_SHA256_LEN, SQLITE_STATIC);
	return done(vs, s);
}

int
vstore_state_clear(struct vstore *vs, const char *path, size_t len)
{
	sqlite3_stmt *s = vs->stmt[V_STATE_CLEAR];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	return done(vs, s);
}

int
vstore_state_clear_gone_below(struct vstore *vs, const char *dir, size_t len)
{
	sqlite3_stmt *s = vs->stmt[V_STATE_CLEAR_BELOW];
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	store_bind_below(s, dir, len, &lo, &hi);
	return done(vs, s);
}

void
vstore_set_outbox_max(struct vstore *vs, int64_t max)
{
	vs->outbox_max = max;
}

static int
bound_outbox(struct vstore *vs)
{
	sqlite3_stmt *s = vs->stmt[V_UNACKED];
	int64_t n = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (n <= vs->outbox_max) {
		return 0;
	}
	/* down to 90 % so that this does not run for every event */
	int64_t drop = n - vs->outbox_max * 9 / 10;
	s = vs->stmt[V_DROP];
	sqlite3_bind_int64(s, 1, drop);
	int r = done(vs, s);
	if (r == 0) {
		log_err("outbox: %lld events wait for the collector, over the bound of %lld:"
			" dropped the %lld oldest of the least severe; the collector will"
			" report the gap",
			(long long)n, (long long)vs->outbox_max, (long long)drop);
	}
	return r;
}

int
vstore_sighting_get(struct vstore *vs, const char *path, size_t len, uint8_t sha[LW_SHA256_LEN],
		    int64_t *first_seen, bool *deleted, char **body)
{
	sqlite3_stmt *s = vs->stmt[V_SIGHT_GET];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	int r = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) == LW_SHA256_LEN) {
			memcpy(sha, sqlite3_column_blob(s, 0), LW_SHA256_LEN);
		}
		*first_seen = sqlite3_column_int64(s, 1);
		*deleted = sqlite3_column_int(s, 2) != 0;
		*body = lw_strdup((const char *)sqlite3_column_text(s, 3));
		r = 1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
vstore_sighting_put(struct vstore *vs, const char *path, size_t len,
		    const uint8_t sha[LW_SHA256_LEN], int64_t first_seen, bool deleted,
		    const char *body)
{
	sqlite3_stmt *s = vs->stmt[V_SIGHT_PUT];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, sha, LW_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, first_seen);
	sqlite3_bind_int(s, 4, deleted);
	sqlite3_bind_text(s, 5, body, -1, SQLITE_STATIC);
	return done(vs, s);
}

int
vstore_sightings_gone_below(struct vstore *vs, const char *dir, size_t len, vstore_path_fn fn,
			    void *ctx)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(vs->db,
			       "SELECT path FROM sightings WHERE path >= ?1 AND path < ?2"
			       " AND deleted = 0 AND NOT EXISTS (SELECT 1 FROM files f"
			       " WHERE f.path = sightings.path AND f.deleted_at IS NULL)",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	store_bind_below(s, dir, len, &lo, &hi);
	/* collected first: the callback writes to the table being read */
	struct {
		char *p;
		size_t n;
	} *paths = NULL;
	size_t n = 0, cap = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			paths = lw_realloc(paths, cap * sizeof(*paths));
		}
		paths[n].n = (size_t)sqlite3_column_bytes(s, 0);
		paths[n].p = lw_strndup(sqlite3_column_blob(s, 0), paths[n].n);
		n++;
	}
	sqlite3_finalize(s);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r >= 0) {
			r = fn(paths[i].p, paths[i].n, ctx);
		}
		free(paths[i].p);
	}
	free(paths);
	return r;
}

int
vstore_events_acked(struct vstore *vs, const char *seqs_json, int64_t now)
{
	/* now < 0: the collector refused them for good (see reporter.c) */
	cJSON *a = cJSON_Parse(seqs_json);
	const cJSON *e;
	int r = 0;
	cJSON_ArrayForEach(e, a)
	{
		long long seq;
		if (r < 0 || !wire_json_int(e, 1, LLONG_MAX, &seq)) {
			continue;
		}
		sqlite3_stmt *s = vs->stmt[V_ACKED];
		sqlite3_bind_int64(s, 1, seq);
		sqlite3_bind_int64(s, 2, now);
		r = done(vs, s);
	}
	cJSON_Delete(a);
	return r < 0 ? r : done(vs, vs->stmt[V_PRUNE_ACKED]);
}

int
vstore_event_append(struct vstore *vs, const char *uuid, const char *kind, const char *body,
		    int64_t now, int64_t *seq)
{
	/* The chain's tail is read inside the writer's transaction rather
	 * than cached: a rolled-back batch then cannot leave a stale tail. */
	sqlite3_stmt *s = vs->stmt[V_LAST_EVENT];
	int64_t last = 0;
	char prev[CHAIN_HEX_LEN + 1];
	memcpy(prev, chain_genesis, sizeof(prev));
	if (sqlite3_step(s) == SQLITE_ROW) {
		last = sqlite3_column_int64(s, 0);
		const unsigned char *h = sqlite3_column_text(s, 1);
		if (h && strlen((const char *)h) == CHAIN_HEX_LEN) {
			memcpy(prev, h, sizeof(prev));
		}
	}
	sqlite3_reset(s);
	char t[CHAIN_TIME_LEN + 1], hash[CHAIN_HEX_LEN + 1];
	chain_time(now, t);
	*seq = last + 1;
	chain_hash(prev, *seq, uuid, t, kind, body, strlen(body), hash);
	/* checked every VSTORE_BOUND_EVERY events, more often for a small bound */
	int64_t every = vs->outbox_max / 10 < VSTORE_BOUND_EVERY ? vs->outbox_max / 10 + 1
								   : VSTORE_BOUND_EVERY;
	if (vs->outbox_max > 0 && *seq % every == 0) {
		int r = bound_outbox(vs);
		if (r < 0) {
			return r;
		}
	}
	s = vs->stmt[V_EVENT_PUT];
	sqlite3_bind_int64(s, 1, *seq);
	sqlite3_bind_text(s, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, body, -1, SQLITE_STATIC);
	return done(vs, s);
}

static void
bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v) {
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	}
}

int
vstore_violation_put(struct vstore *vs, const struct vstore_violation *v)
{
	sqlite3_stmt *s = vs->stmt[V_VIOLATION_PUT];
	sqlite3_bind_int64(s, 1, v->seq);
	sqlite3_bind_text(s, 2, v->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, v->time);
	sqlite3_bind_text(s, 4, v->rule, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, v->severity);
	sqlite3_bind_text(s, 6, v->action, -1, SQLITE_STATIC);
	bind_opt_text(s, 7, v->action_result);
	sqlite3_bind_text(s, 8, v->event, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, v->path, (int)v->len, SQLITE_STATIC);
	if (v->from) {
		sqlite3_bind_blob(s, 10, v->from, (int)v->from_len, SQLITE_STATIC);
	}
	if (v->sha256) {
		sqlite3_bind_blob(s, 11, v->sha256, LW_SHA256_LEN, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 12, v->uid);
	if (v->count) {
		sqlite3_bind_int64(s, 13, v->count);
	}
	bind_opt_text(s, 14, v->quarantine);
	sqlite3_bind_text(s, 15, v->body, -1, SQLITE_STATIC);
	return done(vs, s);
}

int
vstore_released(struct vstore *vs, const char *path, size_t len,
		const uint8_t sha[LW_SHA256_LEN])
{
	sqlite3_stmt *s = vs->stmt[V_RELEASED];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, sha, LW_SHA256_LEN, SQLITE_STATIC);
	int r = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
vstore_quarantine_put(struct vstore *vs, const struct vstore_quarantine *q)
{
	sqlite3_stmt *s = vs->stmt[V_QUAR_PUT];
	sqlite3_bind_text(s, 1, q->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, q->violation, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, q->time);
	sqlite3_bind_blob(s, 4, q->path, (int)q->len, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, q->stored, -1, SQLITE_STATIC);
	if (q->sha256) {
		sqlite3_bind_blob(s, 6, q->sha256, LW_SHA256_LEN, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 7, q->size);
	sqlite3_bind_int64(s, 8, q->mode);
	sqlite3_bind_int64(s, 9, q->uid);
	sqlite3_bind_int64(s, 10, q->gid);
	sqlite3_bind_int64(s, 11, q->mtime_ns);
	return done(vs, s);
}

static void
read_quarantine(sqlite3_stmt *s, struct vstore_quarantine *q)
{
	*q = (struct vstore_quarantine){0};
	q->id = (const char *)sqlite3_column_text(s, 0);
	q->violation = (const char *)sqlite3_column_text(s, 1);
	q->time = sqlite3_column_int64(s, 2);
	q->path = sqlite3_column_blob(s, 3);
	q->len = (size_t)sqlite3_column_bytes(s, 3);
	q->stored = (const char *)sqlite3_column_text(s, 4);
	if (sqlite3_column_bytes(s, 5) == LW_SHA256_LEN) {
		q->sha256 = sqlite3_column_blob(s, 5);
	}
	q->size = sqlite3_column_int64(s, 6);
	q->mode = (uint32_t)sqlite3_column_int64(s, 7);
	q->uid = (uint32_t)sqlite3_column_int64(s, 8);
	q->gid = (uint32_t)sqlite3_column_int64(s, 9);
	q->mtime_ns = sqlite3_column_int64(s, 10);
	q->restored_at = sqlite3_column_int64(s, 11);
}

int
vstore_quarantine_get(struct vstore *vs, const char *id, struct vstore_quarantine *q)
{
	sqlite3_stmt *s = vs->stmt[V_QUAR_GET];
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return 0;
	}
	read_quarantine(s, q); /* valid until the next call resets it */
	return 1;
}

int
vstore_quarantine_restored(struct vstore *vs, const char *id, int64_t now)
{
	sqlite3_reset(vs->stmt[V_QUAR_GET]); /* release its read first */
	sqlite3_stmt *s = vs->stmt[V_QUAR_RESTORED];
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	int r = done(vs, s);
	return r < 0 ? r : sqlite3_changes(vs->db) == 1 ? 0 : -ENOENT;
}

int
vstore_quarantine_foreach(struct vstore *vs, vstore_quarantine_fn fn, void *ctx)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(vs->db,
			       "SELECT id, violation, time, path, stored, sha256, size, mode, uid,"
			       " gid, mtime_ns, restored_at FROM quarantine ORDER BY time",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = 0;
	while (r == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct vstore_quarantine q;
		read_quarantine(s, &q);
		r = fn(&q, ctx);
	}
	sqlite3_finalize(s);
	return r;
}

int
vstore_violation_foreach(struct vstore *vs, int64_t since, int min_severity, const char *rule,
			 vstore_violation_fn fn, void *ctx)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(vs->db,
			       "SELECT id, time, body FROM violations WHERE time >= ?1"
			       " AND severity >= ?2 AND (?3 IS NULL OR rule = ?3) ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int(s, 2, min_severity);
	bind_opt_text(s, 3, rule);
	int r = 0;
	while (r == 0 && sqlite3_step(s) == SQLITE_ROW) {
		r = fn(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
		       (const char *)sqlite3_column_text(s, 2), ctx);
	}
	sqlite3_finalize(s);
	return r;
}

int
vstore_chain_head(struct vstore *vs, int64_t *seq, char hash[LW_SHA256_HEX_LEN + 1])
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(vs->db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		snprintf(hash, LW_SHA256_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 1));
		r = 1;
	}
	sqlite3_finalize(s);
	return r;
}

int
vstore_policy_loaded(struct vstore *vs, int64_t time, const char *sha256, long rules)
{
	sqlite3_stmt *s = NULL;
	/* the same policy again (a reload of an unchanged file, a retried
	 * batch) is not a change */
	if (sqlite3_prepare_v2(vs->db,
			       "INSERT INTO policy_loads (time, sha256, rules) SELECT ?1, ?2, ?3"
			       " WHERE ?2 IS NOT (SELECT sha256 FROM policy_loads"
			       " ORDER BY id DESC LIMIT 1)",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_int64(s, 1, time);
	sqlite3_bind_text(s, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, rules);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_errno(rc) ? db_errno(rc) : -EIO;
}

int
vstore_policy_foreach(struct vstore *vs, int64_t since, int64_t until, vstore_policy_fn fn,
		      void *ctx)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(vs->db,
			       "SELECT time, sha256, rules FROM policy_loads"
			       " WHERE time >= ?1 AND time < ?2 ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = fn(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		       (long)sqlite3_column_int64(s, 2), ctx);
	}
	sqlite3_finalize(s);
	return r;
}
