/* store.c — the inventory schema and its statements (see store.h).
 * Owns: the schema (migrations by user_version) and one set of prepared
 * statements per connection. Thread: whichever owns the connection. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "mem.h"

static const struct db_migration store_schema[] = {
	{"CREATE TABLE files ("
	 " id INTEGER PRIMARY KEY,"
	 " path BLOB NOT NULL UNIQUE,"
	 " kind INTEGER NOT NULL,"
	 " dev INTEGER, ino INTEGER, size INTEGER, mode INTEGER,"
	 " uid INTEGER, gid INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
	 " sha256 BLOB, type TEXT, link_target BLOB, error TEXT,"
	 " first_seen INTEGER NOT NULL,"
	 " updated INTEGER NOT NULL,"
	 " seen INTEGER NOT NULL,"
	 " deleted_at INTEGER,"
	 " moved_from BLOB);"
	 "CREATE INDEX files_inode ON files(dev, ino) WHERE deleted_at IS NULL;"
	 "CREATE INDEX files_sha ON files(sha256) WHERE deleted_at IS NULL;"
	 "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;"
	 "CREATE TABLE status (id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " pid INTEGER, updated INTEGER, json TEXT);"},
	/* 2: classification findings per file; registered documents */
	{"ALTER TABLE files ADD COLUMN findings TEXT;"
	 "ALTER TABLE files ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE files ADD COLUMN fp_gen INTEGER NOT NULL DEFAULT 0;"
	 "CREATE INDEX files_rank ON files(rank) WHERE deleted_at IS NULL AND rank > 0;"
	 /* params: the winnowing that made fps (fpstore.c), which is a
	  * stored format: other parameters give other hashes */
	 "CREATE TABLE registered (id TEXT PRIMARY KEY, label TEXT NOT NULL,"
	 " sha256 BLOB NOT NULL, source BLOB, added INTEGER NOT NULL,"
	 " fps BLOB NOT NULL, nfps INTEGER NOT NULL, params TEXT NOT NULL);"
	 "CREATE TABLE benign (sha256 BLOB PRIMARY KEY, source BLOB,"
	 " added INTEGER NOT NULL, fps BLOB NOT NULL, nfps INTEGER NOT NULL,"
	 " params TEXT NOT NULL);"},
	/* 3: policy violations, the event log (outbox, hash-chained), the
	 * de-duplication state and quarantined files (vstore.c) */
	{"CREATE TABLE events (seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	 " time TEXT NOT NULL, kind TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL,"
	 " body TEXT NOT NULL, acked INTEGER);"
	 "CREATE INDEX events_unacked ON events(seq) WHERE acked IS NULL;"
	 "CREATE TABLE violations (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	 " uuid TEXT NOT NULL, time INTEGER NOT NULL, rule TEXT NOT NULL,"
	 " severity INTEGER NOT NULL, action TEXT NOT NULL, action_result TEXT,"
	 " event TEXT NOT NULL, path BLOB NOT NULL, from_path BLOB, sha256 BLOB,"
	 " uid INTEGER, count INTEGER, quarantine TEXT, body TEXT NOT NULL);"
	 "CREATE INDEX violations_time ON violations(time);"
	 "CREATE TABLE vstate (path BLOB NOT NULL, rule TEXT NOT NULL, sig BLOB NOT NULL,"
	 " PRIMARY KEY(path, rule)) WITHOUT ROWID;"
	 "CREATE TABLE quarantine (id TEXT PRIMARY KEY, violation TEXT NOT NULL,"
	 " time INTEGER NOT NULL, path BLOB NOT NULL, stored TEXT NOT NULL, sha256 BLOB,"
	 " size INTEGER, mode INTEGER, uid INTEGER, gid INTEGER, mtime_ns INTEGER,"
	 " restored_at INTEGER);"},
	/* 4: sensitive files reported to the collector (sightings, vstore.c):
	 * the last report per path, to send only what changed */
	{"CREATE TABLE sightings (path BLOB PRIMARY KEY, sha256 BLOB NOT NULL,"
	 " first_seen INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
	 " body TEXT NOT NULL);"},
	/* 5: every policy the agent loaded (vstore.c), for the compliance
	 * report's "policy changes within the period" */
	{"CREATE TABLE policy_loads (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	 " sha256 TEXT NOT NULL, rules INTEGER NOT NULL);"},
	/* 6: why a row left, when not because it was deleted: "unmounted"
	 * (its file system went away with the medium, watcher.c) */
	{"ALTER TABLE files ADD COLUMN gone TEXT;"},
};

enum {
	S_LOOKUP_PATH,
	S_LOOKUP_INODE,
	S_META_GET,
	S_META_SET,
	S_PUT,
	S_SEEN,
	S_GONE,
	S_DELETE_PATH,
	S_DELETE_RENAMED_ONTO,
	S_RENAME_FILE,
	S_GONE_BELOW,
	S_SWEEP_REC,
	S_SWEEP_FLAT,
	S_STATUS_PUT,
	S_COUNT
};

static const char *const store_sql[S_COUNT] = {
	[S_LOOKUP_PATH] = "SELECT kind, dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns,"
			  " sha256, type, link_target, error, findings, rank, fp_gen FROM files"
			  " WHERE path = ?1 AND deleted_at IS NULL",
	[S_LOOKUP_INODE] = "SELECT kind, dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns,"
			   " sha256, type, link_target, error, findings, rank, fp_gen FROM files"
			   " WHERE dev = ?1 AND ino = ?2 AND deleted_at IS NULL"
			   " AND size = ?3 AND mtime_ns = ?4 AND sha256 IS NOT NULL"
			   " AND error IS NULL LIMIT 1",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_PUT] = "INSERT INTO files(path, kind, dev, ino, size, mode, uid, gid, mtime_ns,"
		  " ctime_ns, sha256, type, link_target, error, first_seen, updated, seen,"
		  " findings, rank, fp_gen)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		  " ?15, ?15, ?16, ?17, ?18, ?19)"
		  " ON CONFLICT(path) DO UPDATE SET kind = excluded.kind,"
		  " dev = excluded.dev, ino = excluded.ino, size = excluded.size,"
		  " mode = excluded.mode, uid = excluded.uid, gid = excluded.gid,"
		  " mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,"
		  " sha256 = excluded.sha256, type = excluded.type,"
		  " link_target = excluded.link_target, error = excluded.error,"
		  " findings = excluded.findings, rank = excluded.rank,"
		  " fp_gen = excluded.fp_gen,"
		  " first_seen = CASE WHEN deleted_at IS NULL THEN first_seen"
		  "   ELSE excluded.first_seen END,"
		  " moved_from = CASE WHEN deleted_at IS NULL THEN moved_from ELSE NULL END,"
		  " updated = excluded.updated, seen = excluded.seen, deleted_at = NULL, gone = NULL",
	[S_SEEN] = "UPDATE files SET seen = ?2 WHERE path = ?1 AND deleted_at IS NULL",
	[S_GONE] = "UPDATE files SET deleted_at = ?2, updated = ?2"
		   " WHERE path = ?1 AND deleted_at IS NULL",
	[S_DELETE_PATH] = "DELETE FROM files WHERE path = ?1",
	/* The destination's row goes only when there is a file to rename: a
	 * rename reported twice (the event, then a walk that saw the file
	 * arrive) must not delete the row the first one renamed (the file
	 * then came back as new, its history lost). */
	[S_DELETE_RENAMED_ONTO] = "DELETE FROM files WHERE path = ?2 AND EXISTS (SELECT 1"
				  " FROM files WHERE path = ?1 AND deleted_at IS NULL)",
	/* seen: the epoch of the walks in progress. A walk of the new
	 * directory may have listed it before the file arrived; its sweep,
	 * applied in the same batch, would take the renamed file for a
	 * deleted one, and the file came back as new with its history lost. */
	[S_RENAME_FILE] = "UPDATE files SET path = ?2, moved_from = ?1, updated = ?3,"
			  " seen = max(seen, ?4) WHERE path = ?1 AND deleted_at IS NULL",
	[S_GONE_BELOW] = "UPDATE files SET deleted_at = ?3, updated = ?3, gone = ?4"
			 " WHERE path >= ?1 AND path < ?2 AND deleted_at IS NULL",
	[S_SWEEP_REC] = "UPDATE files SET deleted_at = ?3, updated = ?3"
			" WHERE path >= ?1 AND path < ?2 AND deleted_at IS NULL"
			" AND seen < ?4",
	/* directly in the directory: no '/' after the prefix */
	[S_SWEEP_FLAT] = "UPDATE files SET deleted_at = ?3, updated = ?3"
			 " WHERE path >= ?1 AND path < ?2 AND deleted_at IS NULL"
			 " AND seen < ?4 AND instr(substr(path, length(?1) + 1), x'2f') = 0",
	[S_STATUS_PUT] = "INSERT INTO status(id, pid, updated, json) VALUES(1, ?1, ?2, ?3)"
			 " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,"
			 " updated = excluded.updated, json = excluded.json",
};

struct store {
	sqlite3 *db;
	bool writer;
	sqlite3_stmt *stmt[S_COUNT];
};

int
store_rank_of(const char *level)
{
	static const char *const levels[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL",
					     "SECRET", "TOP SECRET"};
	if (!level || !level[0]) {
		return 0;
	}
	for (int i = 0; i < 5; i++) {
		if (strcasecmp(level, levels[i]) == 0) {
			return i + 1;
		}
	}
	return -1;
}

const char *
file_kind_name(enum file_kind k)
{
	switch (k) {
	case FILE_KIND_REGULAR:
		return "regular";
	case FILE_KIND_SYMLINK:
		return "symlink";
	case FILE_KIND_FIFO:
		return "fifo";
	case FILE_KIND_SOCKET:
		return "socket";
	case FILE_KIND_CHAR:
		return "char-device";
	case FILE_KIND_BLOCK:
		return "block-device";
	}
	return "unknown";
}

enum file_kind
file_kind_from_mode(mode_t mode)
{
	if (S_ISLNK(mode)) {
		return FILE_KIND_SYMLINK;
	}
	if (S_ISFIFO(mode)) {
		return FILE_KIND_FIFO;
	}
	if (S_ISSOCK(mode)) {
		return FILE_KIND_SOCKET;
	}
	if (S_ISCHR(mode)) {
		return FILE_KIND_CHAR;
	}
	if (S_ISBLK(mode)) {
		return FILE_KIND_BLOCK;
	}
	return FILE_KIND_REGULAR;
}

void
file_rec_fini(struct file_rec *rec)
{
	free(rec->link_target);
	free(rec->error);
	free(rec->findings);
	free(rec->process);
	rec->process = NULL;
	rec->link_target = NULL;
	rec->error = NULL;
	rec->findings = NULL;
}

int
store_open(const char *path, enum db_mode mode, struct store **out, char *err,
	   size_t errlen)
{
	sqlite3 *db = NULL;
	int r = db_open(path, mode, STORE_APP_ID, store_schema,
			(int)LW_ARRAY_SIZE(store_schema), &db, err, errlen);
	if (r < 0) {
		return r;
	}
	struct store *st = lw_new(struct store, 1);
	st->db = db;
	st->writer = mode == DB_MODE_WRITER;
	for (int i = 0; i < S_COUNT; i++) {
		/* statements before S_META_SET only read */
		if (i < S_META_SET || st->writer) {
			st->stmt[i] = db_prepare(db, store_sql[i]);
		}
	}
	*out = st;
	return 0;
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

void
store_close(struct store *st)
{
	if (!st) {
		return;
	}
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(st->stmt[i]);
	}
	db_close(st->db);
	free(st);
}

static int
step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		log_err("store: %s", sqlite3_errmsg(st->db));
		return db_errno(rc) ? db_errno(rc) : -EIO;
	}
	return sqlite3_changes(st->db);
}

static void
read_rec(sqlite3_stmt *s, int c, struct file_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = (enum file_kind)sqlite3_column_int(s, c + 0);
	rec->dev = (uint64_t)sqlite3_column_int64(s, c + 1);
	rec->ino = (uint64_t)sqlite3_column_int64(s, c + 2);
	rec->size = sqlite3_column_int64(s, c + 3);
	rec->mode = (uint32_t)sqlite3_column_int64(s, c + 4);
	rec->uid = (uint32_t)sqlite3_column_int64(s, c + 5);
	rec->gid = (uint32_t)sqlite3_column_int64(s, c + 6);
	rec->mtime_ns = sqlite3_column_int64(s, c + 7);
	rec->ctime_ns = sqlite3_column_int64(s, c + 8);
	if (sqlite3_column_bytes(s, c + 9) == LW_SHA256_LEN) {
		memcpy(rec->sha256, sqlite3_column_blob(s, c + 9), LW_SHA256_LEN);
		rec->has_sha = true;
	}
	const unsigned char *t = sqlite3_column_text(s, c + 10);
	if (t) {
		snprintf(rec->type, sizeof(rec->type), "%s", t);
	}
	int ll = sqlite3_column_bytes(s, c + 11);
	if (sqlite3_column_type(s, c + 11) != SQLITE_NULL) {
		rec->link_target = lw_malloc((size_t)ll + 1);
		memcpy(rec->link_target, sqlite3_column_blob(s, c + 11), (size_t)ll);
		rec->link_target[ll] = '\0';
		rec->link_len = (size_t)ll;
	}
	const unsigned char *e = sqlite3_column_text(s, c + 12);
	if (e) {
		rec->error = lw_strdup((const char *)e);
	}
	const unsigned char *f = sqlite3_column_text(s, c + 13);
	if (f) {
		rec->findings = lw_strdup((const char *)f);
	}
	rec->rank = sqlite3_column_int(s, c + 14);
	rec->fp_gen = sqlite3_column_int64(s, c + 15);
}

static int
lookup(struct store *st, sqlite3_stmt *s, struct file_rec *rec)
{
	int rc = sqlite3_step(s);
	int r = 0;
	if (rc == SQLITE_ROW) {
		read_rec(s, 0, rec);
		r = 1;
	} else if (rc != SQLITE_DONE) {
		log_err("store: lookup: %s", sqlite3_errmsg(st->db));
		r = -EIO;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
store_read_begin(struct store *st)
{
	return db_exec(st->db, "BEGIN");
}

void
store_read_end(struct store *st)
{
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

int
store_is_empty(struct store *st)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT EXISTS(SELECT 1 FROM files)", -1, &q, NULL) !=
	    SQLITE_OK) {
		return -EIO;
	}
	int r = -EIO;
	if (sqlite3_step(q) == SQLITE_ROW) {
		r = sqlite3_column_int(q, 0) ? 0 : 1;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_lookup_path(struct store *st, const char *path, size_t len, struct file_rec *rec)
{
	sqlite3_stmt *s = st->stmt[S_LOOKUP_PATH];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	return lookup(st, s, rec);
}

int
store_lookup_inode(struct store *st, uint64_t dev, uint64_t ino, int64_t size,
		   int64_t mtime_ns, struct file_rec *rec)
{
	sqlite3_stmt *s = st->stmt[S_LOOKUP_INODE];
	sqlite3_bind_int64(s, 1, (int64_t)dev);
	sqlite3_bind_int64(s, 2, (int64_t)ino);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_int64(s, 4, mtime_ns);
	return lookup(st, s, rec);
}

int
store_meta_get(struct store *st, const char *key, int64_t *out)
{
	sqlite3_stmt *s = st->stmt[S_META_GET];
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
store_begin(struct store *st)
{
	return db_exec(st->db, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	return db_exec(st->db, "COMMIT");
}

void
store_rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_put(struct store *st, const char *path, size_t len, const struct file_rec *rec,
	  int64_t epoch, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_PUT];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)rec->kind);
	sqlite3_bind_int64(s, 3, (int64_t)rec->dev);
	sqlite3_bind_int64(s, 4, (int64_t)rec->ino);
	sqlite3_bind_int64(s, 5, rec->size);
	sqlite3_bind_int64(s, 6, rec->mode);
	sqlite3_bind_int64(s, 7, rec->uid);
	sqlite3_bind_int64(s, 8, rec->gid);
	sqlite3_bind_int64(s, 9, rec->mtime_ns);
	sqlite3_bind_int64(s, 10, rec->ctime_ns);
	if (rec->has_sha) {
		sqlite3_bind_blob(s, 11, rec->sha256, LW_SHA256_LEN, SQLITE_STATIC);
	}
	if (rec->type[0]) {
		sqlite3_bind_text(s, 12, rec->type, -1, SQLITE_STATIC);
	}
	if (rec->link_target) {
		sqlite3_bind_blob(s, 13, rec->link_target, (int)rec->link_len, SQLITE_STATIC);
	}
	if (rec->error) {
		sqlite3_bind_text(s, 14, rec->error, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 15, now);
	sqlite3_bind_int64(s, 16, epoch);
	if (rec->findings) {
		sqlite3_bind_text(s, 17, rec->findings, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(s, 18, rec->rank);
	sqlite3_bind_int64(s, 19, rec->fp_gen);
	return step_done(st, s);
}

int
store_seen(struct store *st, const char *path, size_t len, int64_t epoch)
{
	sqlite3_stmt *s = st->stmt[S_SEEN];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, epoch);
	return step_done(st, s);
}

int
store_gone(struct store *st, const char *path, size_t len, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_GONE];
	sqlite3_bind_blob(s, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	return step_done(st, s);
}

/* [dir "/", dir "0"): every path strictly below @dir, because '0' follows
 * '/' in byte order and BLOBs compare with memcmp. */
void
store_bind_below(sqlite3_stmt *s, const char *dir, size_t len, char **lo, char **hi)
{
	*lo = lw_malloc(len + 1);
	*hi = lw_malloc(len + 1);
	memcpy(*lo, dir, len);
	memcpy(*hi, dir, len);
	(*lo)[len] = '/';
	(*hi)[len] = '0';
	sqlite3_bind_blob(s, 1, *lo, (int)len + 1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, *hi, (int)len + 1, SQLITE_STATIC);
}

int
store_gone_below(struct store *st, const char *dir, size_t len, const char *reason,
		 int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_GONE_BELOW];
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	store_bind_below(s, dir, len, &lo, &hi);
	sqlite3_bind_int64(s, 3, now);
	if (reason) {
		sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(s, 4);
	}
	return step_done(st, s);
}

int
store_sweep(struct store *st, const char *dir, size_t len, bool recursive,
	    int64_t epoch, int64_t now)
{
	sqlite3_stmt *s = st->stmt[recursive ? S_SWEEP_REC : S_SWEEP_FLAT];
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	store_bind_below(s, dir, len, &lo, &hi);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, epoch);
	return step_done(st, s);
}

static int
rename_one(struct store *st, const char *from, size_t flen, const char *to,
	   size_t tlen, int64_t epoch, int64_t now)
{
	sqlite3_stmt *d = st->stmt[S_DELETE_RENAMED_ONTO];
	sqlite3_bind_blob(d, 1, from, (int)flen, SQLITE_STATIC);
	sqlite3_bind_blob(d, 2, to, (int)tlen, SQLITE_STATIC);
	int r = step_done(st, d);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *s = st->stmt[S_RENAME_FILE];
	sqlite3_bind_blob(s, 1, from, (int)flen, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, to, (int)tlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, epoch);
	return step_done(st, s);
}

int
store_rename(struct store *st, const char *from, size_t flen, const char *to,
	     size_t tlen, bool is_dir, int64_t epoch, int64_t now)
{
	if (!is_dir) {
		return rename_one(st, from, flen, to, tlen, epoch, now);
	}
	/* Rows below the destination are stale: whatever was there is gone. */
	int r = store_gone_below(st, to, tlen, NULL, now);
	if (r < 0) {
		return r;
	}
	/* Collect the ids first: updating rows while a cursor walks the same
	 * index range would revisit moved rows. Paths are rewritten in C so
	 * that bytes stay bytes (SQL string functions work on characters). */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, path FROM files WHERE path >= ?1 AND path < ?2"
			       " AND deleted_at IS NULL",
			       -1, &q, NULL) != SQLITE_OK) {
		return -EIO;
	}
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	store_bind_below(q, from, flen, &lo, &hi);
	struct moved {
		int64_t id;
		char *path;
		size_t len;
	} *rows = NULL;
	size_t n = 0, cap = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = lw_realloc(rows, cap * sizeof(*rows));
		}
		size_t plen = (size_t)sqlite3_column_bytes(q, 1);
		const char *p = sqlite3_column_blob(q, 1);
		rows[n].id = sqlite3_column_int64(q, 0);
		rows[n].len = tlen + plen - flen;
		rows[n].path = lw_malloc(rows[n].len);
		memcpy(rows[n].path, to, tlen);
		memcpy(rows[n].path + tlen, p + flen, plen - flen);
		n++;
	}
	sqlite3_finalize(q);
	sqlite3_stmt *u = NULL;
	r = 0;
	if (n && sqlite3_prepare_v2(st->db,
				    "UPDATE files SET path = ?2, updated = ?3,"
				    " seen = max(seen, ?4) WHERE id = ?1",
				    -1, &u, NULL) != SQLITE_OK) {
		r = -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		if (r >= 0) {
			/* A row of a file deleted there before (deleted_at set,
			 * kept as history) holds the new path: paths are unique,
			 * so it goes, as rename_one() does for one file. Without
			 * this, moving a directory onto a name that once held the
			 * same file names failed every time, and the writer
			 * retried that batch for ever (issue 11). */
			sqlite3_stmt *d = st->stmt[S_DELETE_PATH];
			sqlite3_bind_blob(d, 1, rows[i].path, (int)rows[i].len, SQLITE_STATIC);
			r = step_done(st, d);
		}
		if (r >= 0) {
			sqlite3_bind_int64(u, 1, rows[i].id);
			sqlite3_bind_blob(u, 2, rows[i].path, (int)rows[i].len, SQLITE_STATIC);
			sqlite3_bind_int64(u, 3, now);
			sqlite3_bind_int64(u, 4, epoch); /* as rename_one() */
			int rc = sqlite3_step(u);
			sqlite3_reset(u);
			if (rc != SQLITE_DONE) {
				log_err("store: rename: %s", sqlite3_errmsg(st->db));
				r = db_errno(rc) ? db_errno(rc) : -EIO;
			}
		}
		free(rows[i].path);
	}
	sqlite3_finalize(u);
	free(rows);
	return r < 0 ? r : (int)n;
}

int
store_meta_set(struct store *st, const char *key, int64_t value)
{
	sqlite3_stmt *s = st->stmt[S_META_SET];
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	return step_done(st, s);
}

int
store_status_put(struct store *st, int pid, int64_t now, const char *json)
{
	sqlite3_stmt *s = st->stmt[S_STATUS_PUT];
	sqlite3_bind_int(s, 1, pid);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, json, -1, SQLITE_STATIC);
	return step_done(st, s);
}

static int
foreach(struct store *st, sqlite3_stmt *q, store_row_fn fn, void *ctx)
{
	int r = 0;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_row row = {0};
		row.path = sqlite3_column_blob(q, 0);
		row.path_len = (size_t)sqlite3_column_bytes(q, 0);
		read_rec(q, 1, &row.rec);
		row.first_seen = sqlite3_column_int64(q, 17);
		row.updated = sqlite3_column_int64(q, 18);
		row.deleted_at = sqlite3_column_int64(q, 19);
		row.moved_from = sqlite3_column_blob(q, 20);
		row.moved_from_len = (size_t)sqlite3_column_bytes(q, 20);
		row.gone = (const char *)sqlite3_column_text(q, 21);
		r = fn(&row, ctx);
		file_rec_fini(&row.rec);
		if (r) {
			break;
		}
	}
	if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_err("store: query: %s", sqlite3_errmsg(st->db));
		r = -EIO;
	}
	sqlite3_finalize(q);
	return r;
}

#define ROW_COLUMNS                                                            \
	"path, kind, dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns, sha256,"  \
	" type, link_target, error, findings, rank, fp_gen, first_seen, updated,"  \
	" deleted_at, moved_from, gone"

int
store_foreach(struct store *st, const char *dir, size_t len, bool all, int min_rank,
	      store_row_fn fn, void *ctx)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " ROW_COLUMNS " FROM files WHERE 1%s%s%s ORDER BY path",
		 dir ? " AND ((path >= ?1 AND path < ?2) OR path = ?3)" : "",
		 all ? "" : " AND deleted_at IS NULL", min_rank > 0 ? " AND rank >= ?4" : "");
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_err("store: query: %s", sqlite3_errmsg(st->db));
		return -EIO;
	}
	AUTOFREE char *lo = NULL;
	AUTOFREE char *hi = NULL;
	if (dir) {
		store_bind_below(q, dir, len, &lo, &hi);
		sqlite3_bind_blob(q, 3, dir, (int)len, SQLITE_STATIC);
	}
	if (min_rank > 0) {
		sqlite3_bind_int(q, 4, min_rank);
	}
	return foreach(st, q, fn, ctx);
}

int
store_foreach_sha(struct store *st, const uint8_t sha[LW_SHA256_LEN],
		  store_row_fn fn, void *ctx)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " ROW_COLUMNS " FROM files WHERE sha256 = ?1"
			       " AND deleted_at IS NULL ORDER BY path",
			       -1, &q, NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_blob(q, 1, sha, LW_SHA256_LEN, SQLITE_STATIC);
	return foreach(st, q, fn, ctx);
}

int
store_counts(struct store *st, int64_t *files, int64_t *errors)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT count(*), count(error) FROM files"
			       " WHERE deleted_at IS NULL",
			       -1, &q, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = -EIO;
	if (sqlite3_step(q) == SQLITE_ROW) {
		*files = sqlite3_column_int64(q, 0);
		*errors = sqlite3_column_int64(q, 1);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_unexamined(struct store *st, int64_t *files, int64_t unexamined[STORE_UNEXAMINED_KINDS])
{
	/* The cause from the error's words, as worker.c and the extractors
	 * write them: the file's own error, or the classifier's. */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT count(*), coalesce(sum(k = 0), 0), coalesce(sum(k = 1), 0),"
		    " coalesce(sum(k = 2), 0), coalesce(sum(k = 3), 0), coalesce(sum(k = 4), 0)"
		    " FROM (SELECT CASE WHEN e IS NULL THEN NULL"
		    " WHEN e LIKE '%Permission denied%' OR e LIKE '%Operation not permitted%' THEN 0"
		    " WHEN e LIKE '%too large%' OR e LIKE '%size cap%' THEN 1"
		    " WHEN e LIKE '%timed out%' OR e LIKE '%timeout%' THEN 2"
		    " WHEN e LIKE '%encrypt%' OR e LIKE '%password%' THEN 3 ELSE 4 END k"
		    " FROM (SELECT coalesce(error, CASE WHEN json_valid(findings)"
		    " THEN json_extract(findings, '$.error') END) e FROM files"
		    " WHERE deleted_at IS NULL))",
		    -1, &q, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = -EIO;
	if (sqlite3_step(q) == SQLITE_ROW) {
		*files = sqlite3_column_int64(q, 0);
		for (int i = 0; i < STORE_UNEXAMINED_KINDS; i++) {
			unexamined[i] = sqlite3_column_int64(q, 1 + i);
		}
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_status_get(struct store *st, int *pid, int64_t *updated, char **json)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT pid, updated, json FROM status WHERE id = 1",
			       -1, &q, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = 0;
	if (sqlite3_step(q) == SQLITE_ROW) {
		*pid = sqlite3_column_int(q, 0);
		*updated = sqlite3_column_int64(q, 1);
		const unsigned char *t = sqlite3_column_text(q, 2);
		*json = lw_strdup(t ? (const char *)t : "{}");
		r = 1;
	}
	sqlite3_finalize(q);
	return r;
}
