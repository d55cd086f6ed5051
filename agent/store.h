/* store.h — the agent's SQLite inventory (state_dir/agent.db).
 *
 * One row per path (the current file, or the last one that was there, with
 * when it went). Paths are BLOBs: file names are bytes. A connection belongs
 * to one thread: the writer thread owns the only writing connection; each
 * worker and the CLI open their own read-only ones. Returns follow doc/style.md:
 * 0 / 1 or -errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db.h"
#include "hash.h"

enum file_kind {
	FILE_KIND_REGULAR,
	FILE_KIND_SYMLINK,
	FILE_KIND_FIFO,
	FILE_KIND_SOCKET,
	FILE_KIND_CHAR,
	FILE_KIND_BLOCK,
};

/* Static name ("regular", "symlink", ...). */
const char *file_kind_name(enum file_kind k);
enum file_kind file_kind_from_mode(mode_t mode);

struct file_rec {
	enum file_kind kind;
	uint64_t dev;
	uint64_t ino;
	int64_t size;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_ns;
	int64_t ctime_ns;
	bool has_sha;
	uint8_t sha256[LW_SHA256_LEN];
	char type[16];
	char *link_target; /* owned; bytes, link_len long */
	size_t link_len;
	char *error;       /* owned; NULL when none */
	/* classification (schema 2) */
	char *findings;    /* owned JSON object: classification, pii, matches,
			    * members, error; NULL when not classified */
	int rank;          /* classification level rank (store_rank_of()) */
	int64_t fp_gen;    /* registered-document generation it was matched
			    * against */
	/* not a column: who wrote it (procinfo.h JSON), owned, NULL when
	 * unknown; carried from the worker to the verdict */
	char *process;
};
void file_rec_fini(struct file_rec *rec);

struct store;

#define STORE_APP_ID 0x4c57414e /* "LWAN": leakwatch agent inventory */

/* DB_MODE_WRITER creates and migrates; DB_MODE_READER needs an up-to-date
 * database. @err gets a message naming the file on failure. */
int store_open(const char *path, enum db_mode mode, struct store **out, char *err,
	       size_t errlen);
void store_close(struct store *st); /* NULL is a no-op */
/* The connection, for sibling modules with tables of their own
 * (fpstore.c); same thread rules. */
sqlite3 *store_db(struct store *st);

/* --- reads (any connection) --- */
/* A read transaction over several lookups: one snapshot and one set of WAL
 * locks instead of one per statement. Keep it short: an open reader stops
 * checkpoints from reclaiming the WAL. */
int store_read_begin(struct store *st);
void store_read_end(struct store *st);
/* 1 if the inventory has no rows at all (a first start). */
int store_is_empty(struct store *st);
/* The live row at @path: 1 and fills @rec (caller finis it), 0 if none. */
int store_lookup_path(struct store *st, const char *path, size_t len,
		      struct file_rec *rec);
/* A live, hashed regular file with this identity and content stamp
 * (dev, ino, size, mtime): 1 and fills @rec, 0 if none. Used to carry a hash
 * across renames and hard links without reading the file again. */
int store_lookup_inode(struct store *st, uint64_t dev, uint64_t ino, int64_t size,
		       int64_t mtime_ns, struct file_rec *rec);
int store_meta_get(struct store *st, const char *key, int64_t *out); /* 1/0/-errno */

/* --- writes (writer thread only), inside store_begin/store_commit --- */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Inserts or replaces the row at @path; @now is the wall clock in ns and
 * @epoch the scan epoch that saw it. */
int store_put(struct store *st, const char *path, size_t len,
	      const struct file_rec *rec, int64_t epoch, int64_t now);
/* The file at @path is still as recorded: only stamp @epoch. Returns 1 if a
 * live row was stamped, 0 if there was none. */
int store_seen(struct store *st, const char *path, size_t len, int64_t epoch);
int store_gone(struct store *st, const char *path, size_t len, int64_t now);
/* A rename of one file (@is_dir false) or of a whole directory (@is_dir
 * true: every row below @from moves below @to). Rows previously at the
 * destination are replaced. The moved rows count as seen in @epoch (the
 * current walks'), so a sweep of the destination does not take them for
 * deleted. */
int store_rename(struct store *st, const char *from, size_t flen, const char *to,
		 size_t tlen, bool is_dir, int64_t epoch, int64_t now);
/* Marks deleted every live row below directory @dir; @reason (NULL:
 * deleted) says why they left otherwise, e.g. "unmounted". */
int store_gone_below(struct store *st, const char *dir, size_t len, const char *reason,
		     int64_t now);
/* Marks deleted the live rows below @dir (directly in it only, unless
 * @recursive) whose epoch is older than @epoch. Returns the count. */
int store_sweep(struct store *st, const char *dir, size_t len, bool recursive,
		int64_t epoch, int64_t now);
int store_meta_set(struct store *st, const char *key, int64_t value);
int store_status_put(struct store *st, int pid, int64_t now, const char *json);

/* --- queries for the CLI --- */
struct store_row {
	const char *path; /* borrowed, valid during the callback */
	size_t path_len;
	struct file_rec rec;
	int64_t first_seen;
	int64_t updated;
	int64_t deleted_at; /* 0 when present */
	const char *moved_from;
	size_t moved_from_len;
	const char *gone;   /* deleted: NULL, or why it left ("unmounted") */
};
typedef int (*store_row_fn)(const struct store_row *row, void *ctx);
/* Rows under @dir (NULL: all), deleted ones too if @all, classified at
 * least @min_rank (0: any); path order.
 * Stops and returns the callback's value if it is non-zero. */
int store_foreach(struct store *st, const char *dir, size_t len, bool all,
		  int min_rank, store_row_fn fn, void *ctx);
int store_foreach_sha(struct store *st, const uint8_t sha[LW_SHA256_LEN],
		      store_row_fn fn, void *ctx);
/* Counts of live rows and of live rows carrying an error. */
/* Live files, and those that could not be examined by cause: permission,
 * size cap, timeout, encrypted, other (in that order). */
#define STORE_UNEXAMINED_KINDS 5
int store_unexamined(struct store *st, int64_t *files, int64_t unexamined[STORE_UNEXAMINED_KINDS]);
int store_counts(struct store *st, int64_t *files, int64_t *errors);
/* The status JSON the agent last published: 1 and *json (caller frees). */
int store_status_get(struct store *st, int *pid, int64_t *updated, char **json);

/* Binds parameters 1 and 2 of @s to the range of paths strictly below
 * directory @dir ("dir/" up to "dir0", '0' being '/' + 1) for a
 * "path >= ?1 AND path < ?2" clause. *lo and *hi hold the bound bytes until
 * the statement is reset; the caller frees them. */
void store_bind_below(sqlite3_stmt *s, const char *dir, size_t len, char **lo, char **hi);

/* Level ranks for ordering and filtering: 0 none, 1 UNCLASSIFIED,
 * 2 RESTRICTED, 3 CONFIDENTIAL, 4 SECRET, 5 TOP SECRET; -1 unknown name. */
int store_rank_of(const char *level);
