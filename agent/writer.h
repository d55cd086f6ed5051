/* writer.h — the single thread that writes the inventory.
 *
 * Everyone else (watcher, workers, main loop) hands it operations; it applies
 * them in arrival order, in batched transactions, and is the only user of
 * the writing SQLite connection. Submitting is thread-safe and blocks while
 * the backlog is full (back-pressure instead of loss). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum writer_op_kind {
	WRITER_OP_PUT,         /* path, rec */
	WRITER_OP_SEEN,        /* path, rec: the row found unchanged (put back if gone) */
	WRITER_OP_GONE,        /* path */
	WRITER_OP_RENAME,      /* path -> path2 (one file) */
	WRITER_OP_RENAME_DIR,  /* path -> path2 (everything below) */
	WRITER_OP_GONE_BELOW,  /* path: a directory that went away */
	WRITER_OP_SWEEP,       /* path, flag = recursive, value = epoch */
	WRITER_OP_EPOCH,       /* value: stamp of everything from now on */
	WRITER_OP_FULL_SCAN_DONE,
	WRITER_OP_STATUS,      /* json, value = pid */
	WRITER_OP_POLICY,      /* ptr: a struct policy (taken), path: the
				* quarantine directory, value: the outbox
				* bound (0: none), flag: report sightings;
				* then every live file is judged under it */
	WRITER_OP_ACKED,       /* json: seqs the collector acknowledged;
				* flag: it refused them instead */
};

struct writer_op {
	enum writer_op_kind kind;
	char *path;
	size_t len;
	char *path2;
	size_t len2;
	struct file_rec rec;
	int64_t value;
	bool flag;
	char *json;
	void *ptr;
	/* PUT and SEEN: the directory-operation generation the worker read
	 * (writer_dir_gen) before it looked at the path. */
	int64_t dir_gen;
	struct writer_op *next; /* private */
};

/* Allocates an op; @path/@path2 are copied (NULL allowed). */
struct writer_op *writer_op_new(enum writer_op_kind kind, const char *path,
				size_t len, const char *path2, size_t len2);

struct writer;

/* Takes ownership of @st (opened DB_MODE_WRITER) and starts the thread.
 * @epoch is the stamp in force until the first WRITER_OP_EPOCH. */
int writer_start(struct store *st, size_t backlog, int64_t epoch, struct writer **out);
/* @fn is called (on the writer thread) when an operation failed for good
 * and was dropped, to have the inventory put right by a reconciling scan
 * (leakwatchd: watcher_request_full_scan). Thread-safe. */
void writer_set_rescan(struct writer *w, void (*fn)(void *arg), void *arg);
/* Takes ownership of @op. */
void writer_submit(struct writer *w, struct writer_op *op);
/* The generation of the newest directory operation submitted
 * (WRITER_OP_RENAME_DIR, WRITER_OP_GONE_BELOW). A worker reads it before it
 * looks at a path and stores it in its PUT or SEEN; the writer then drops
 * that result if a newer directory operation moved or removed a prefix of
 * the path in between, since the result describes a path that no longer
 * exists (the destination's own walk records the file where it is now). */
int64_t writer_dir_gen(struct writer *w);
/* Violations raised since start (0 before the first WRITER_OP_POLICY). */
int64_t writer_violations(struct writer *w);
/* Ops submitted and not yet committed. */
size_t writer_backlog(struct writer *w);
/* Applies everything submitted, commits, joins the thread, closes the store. */
void writer_stop(struct writer *w);
