/* db.c — SQLite open/migrate helpers (see db.h). */
#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int
pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

int
db_user_version(sqlite3 *db)
{
	return pragma_int(db, "PRAGMA user_version");
}

int
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("db: %s: %s", sqlite3_db_filename(db, "main"),
			msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int
db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

const char *
db_error_text(int r)
{
	switch (-r) {
	case EEXIST:
		return "a database constraint failed";
	case E2BIG:
		return "too big for the database";
	case EINVAL:
		return "the database refused the values";
	case EBUSY:
		return "the database is busy";
	default:
		return strerror(-r);
	}
}

bool
db_error_is_permanent(int r)
{
	return r == -EEXIST || r == -E2BIG || r == -EINVAL;
}

sqlite3_stmt *
db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		log_err("db: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(db));
		abort();
	}
	return st;
}

static int fail(sqlite3 *db, char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
fail(sqlite3 *db, char *err, size_t errlen, int r, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	sqlite3_close(db);
	return r;
}

static int open_at(const char *path, enum db_mode mode, int32_t app_id,
		   const struct db_migration *steps, int nsteps, sqlite3 **out, char *err,
		   size_t errlen, bool in_place);

int
db_open(const char *path, enum db_mode mode, int32_t app_id,
	const struct db_migration *steps, int nsteps, sqlite3 **out, char *err,
	size_t errlen)
{
	return open_at(path, mode, app_id, steps, nsteps, out, err, errlen, false);
}

/* A new database is made under a temporary name and renamed into place
 * once it is claimed, migrated and in WAL mode: a reader that opens the
 * path meanwhile (leakwatch status polling a starting agent) must never
 * meet a half-made file. Seen: the writer's first migration failing with
 * "attempt to write a readonly database" after such a reader opened it. */
static int
create_fresh(const char *path, int32_t app_id, const struct db_migration *steps, int nsteps,
	     char *err, size_t errlen)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.new.%ld", path, (long)getpid()) < 0) {
		return -ENOMEM;
	}
	sqlite3 *fresh = NULL;
	int r = open_at(tmp, DB_MODE_WRITER, app_id, steps, nsteps, &fresh, err, errlen, true);
	if (r == 0) {
		db_close(fresh); /* checkpoints and removes tmp's WAL files */
		if (rename(tmp, path) < 0) {
			r = -errno;
			if (err) {
				snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-r));
			}
		}
	}
	if (r < 0) {
		unlink(tmp);
	}
	free(tmp);
	return r;
}

/* Claims a new, empty file for @app_id; anything else with tables is
 * someone else's and is never written to. A schema newer than @nsteps is
 * refused, and a reader also refuses an older one. Returns 0 or -errno
 * (message in @err); does not close @db. */
static int
check_identity(sqlite3 *db, const char *path, enum db_mode mode, int32_t app_id, int nsteps,
	       int *ver, char *err, size_t errlen)
{
	int have_app = pragma_int(db, "PRAGMA application_id");
	if (have_app < 0) {
		snprintf(err, errlen, "%s: not a SQLite database (%s)", path, sqlite3_errmsg(db));
		return -EPROTO;
	}
	*ver = db_user_version(db);
	if (have_app == 0 && *ver == 0 && mode == DB_MODE_WRITER &&
	    pragma_int(db, "SELECT count(*) FROM sqlite_master") == 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", (int)app_id);
		if (db_exec(db, sql) < 0) {
			snprintf(err, errlen, "%s: cannot initialise", path);
			return -EIO;
		}
	} else if (have_app != app_id) {
		snprintf(err, errlen, "%s: not a leakwatch database of this kind", path);
		return -EPROTO;
	}
	if (*ver > nsteps) {
		snprintf(err, errlen,
			 "%s: written by a newer leakwatch (schema %d, this program knows %d)",
			 path, *ver, nsteps);
		return -EPROTO;
	}
	if (mode == DB_MODE_READER && *ver < nsteps) {
		snprintf(err, errlen,
			 "%s: schema is older than this program; start the agent once to"
			 " migrate it",
			 path);
		return -EPROTO;
	}
	return 0;
}

/* The agent's inventory and the fleet's events are for their owner only;
 * a database made before that rule (0644) is tightened. SQLite gives the
 * WAL and shared-memory files the database's mode. */
static void
tighten_modes(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char f[4096];
		struct stat st;
		snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
		if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
		    st.st_uid == geteuid()) {
			chmod(f, st.st_mode & 0700);
		}
	}
}

static int
set_writer_pragmas(sqlite3 *db)
{
	/* WAL lets the CLI and the workers read while the writer commits;
	 * synchronous=NORMAL is durable against process crashes, and a power
	 * loss costs at most the last commits, which the start-up rescan
	 * reconciles anyway. */
	if (db_exec(db, "PRAGMA journal_mode=WAL") < 0 ||
	    db_exec(db, "PRAGMA synchronous=NORMAL") < 0 ||
	    db_exec(db, "PRAGMA foreign_keys=ON") < 0 ||
	    /* The writer's B-trees (paths, inodes, hashes) outgrow the
	     * default 2 MiB cache at ~20k files, and every miss is a pread;
	     * 32 MiB holds ~150k files' worth of index pages. Memory is
	     * only used as the inventory grows. */
	    db_exec(db, "PRAGMA cache_size=-32768") < 0 ||
	    /* Each checkpoint fsyncs: every ~32 MiB of WAL rather than the
	     * default ~4 MiB, and the WAL file is trimmed back afterwards. */
	    db_exec(db, "PRAGMA wal_autocheckpoint=8192") < 0 ||
	    db_exec(db, "PRAGMA journal_size_limit=67108864") < 0) {
		return -EIO;
	}
	return 0;
}

/* Runs the migrations after schema @ver, each in its own transaction. */
static int
migrate(sqlite3 *db, int ver, const struct db_migration *steps, int nsteps)
{
	for (int v = ver; v < nsteps; v++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (db_exec(db, "BEGIN IMMEDIATE") < 0 || db_exec(db, steps[v].sql) < 0 ||
		    db_exec(db, sql) < 0 || db_exec(db, "COMMIT") < 0) {
			db_exec(db, "ROLLBACK");
			return -EIO;
		}
	}
	return 0;
}

/* @in_place: create @path itself if missing (the temporary file). */
static int
open_at(const char *path, enum db_mode mode, int32_t app_id,
	const struct db_migration *steps, int nsteps, sqlite3 **out, char *err,
	size_t errlen, bool in_place)
{
	char scratch[8];
	if (!err) {
		/* the checks below always write their message somewhere */
		err = scratch;
		errlen = sizeof(scratch);
	}
	int flags = SQLITE_OPEN_NOMUTEX;
	if (mode == DB_MODE_WRITER) {
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else {
		flags |= SQLITE_OPEN_READONLY;
		if (access(path, F_OK) < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			return -e;
		}
	}
	if (mode == DB_MODE_WRITER && !in_place && access(path, F_OK) < 0 && errno == ENOENT) {
		int r = create_fresh(path, app_id, steps, nsteps, err, errlen);
		if (r < 0) {
			return r;
		}
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		return fail(db, err, errlen, -EIO, "%s: cannot open: %s", path,
			    db ? sqlite3_errmsg(db) : "out of memory");
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_extended_result_codes(db, 1);
	int ver = 0;
	int r = check_identity(db, path, mode, app_id, nsteps, &ver, err, errlen);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	if (mode == DB_MODE_WRITER) {
		tighten_modes(path);
		if (set_writer_pragmas(db) < 0) {
			return fail(db, err, errlen, -EIO, "%s: cannot set pragmas", path);
		}
		if (migrate(db, ver, steps, nsteps) < 0) {
			return fail(db, err, errlen, -EIO, "%s: schema migration failed", path);
		}
	}
	*out = db;
	return 0;
}

void
db_close(sqlite3 *db)
{
	if (db) {
		sqlite3_close(db);
	}
}
