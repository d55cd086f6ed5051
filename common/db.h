/* db.h — SQLite helpers shared by the agent and the collector: opening with
 * the project's pragmas and schema migrations by `PRAGMA user_version`.
 * A connection belongs to one thread at a time (SQLITE_OPEN_NOMUTEX). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

enum db_mode {
	DB_MODE_WRITER,   /* create if missing, WAL, migrate */
	DB_MODE_READER,   /* read-only; the file must exist */
};

/* One schema step: SQL run in one transaction, taking user_version from
 * its index to index + 1. */
struct db_migration {
	const char *sql;
};

/* @app_id identifies our databases (PRAGMA application_id) so that a foreign
 * SQLite file is refused with a clear message instead of being written to.
 * Returns 0 or -errno; on failure @err (if not NULL) gets a message. */
int db_open(const char *path, enum db_mode mode, int32_t app_id,
	    const struct db_migration *steps, int nsteps, sqlite3 **out,
	    char *err, size_t errlen);
void db_close(sqlite3 *db); /* NULL is a no-op */

/* Runs SQL without results; logs and returns -EIO on failure. */
int db_exec(sqlite3 *db, const char *sql);
/* An SQLite result code as -errno, sorted by what a retry can do:
 * -EBUSY (busy, locked), -ENOSPC (full), -ENOMEM and -EIO (I/O, and
 * anything else, corruption included: the operator must act, and
 * retrying loses nothing) may pass; -EEXIST (a constraint), -E2BIG (too
 * big) and -EINVAL (mismatch, range, misuse) fail the same way every
 * time. */
int db_errno(int rc);
/* What an error of db_errno() means, for a log line. */
const char *db_error_text(int r);
/* True for the errors db_errno() calls permanent. */
bool db_error_is_permanent(int r);
/* Prepares a statement that lives as long as the connection (the caller
 * finalizes it). Aborts on failure: our SQL is a constant, so a failure is
 * a programming error. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* Reads `PRAGMA user_version`. */
int db_user_version(sqlite3 *db);
