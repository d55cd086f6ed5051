/* queue.h — the coalescing work queue between the watcher and the workers.
 *
 * Items are paths. Pushing a path that is already queued does nothing (many
 * events, one hash); pushing a path that a worker is processing marks it to
 * run once more afterwards, so a path is never processed by two workers at
 * once and results for one path reach the writer in order. A barrier is
 * handed out only when every item pushed before it has been finished,
 * including the extra runs of items pushed again while in progress (they
 * queue ahead of it), which is how a scan's deletion sweep waits for the
 * scan's files.
 * All functions are thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procinfo.h"

enum wq_item_kind {
	WQ_ITEM_PATH,
	WQ_ITEM_BARRIER,
};

struct wq_item {
	enum wq_item_kind kind;
	char *path;          /* WQ_ITEM_PATH: bytes, NUL-terminated, len long */
	size_t len;
	unsigned retries;    /* consecutive wq_done(..., true) */
	void *payload;       /* WQ_ITEM_BARRIER: the pusher's, freed by the consumer */
	struct lw_proc *proc; /* who changed it last (procinfo.h); wq_item_proc() */
	/* private to queue.c */
	struct wq_item *prev, *next, *hnext;
	uint64_t hash;
	bool busy, dirty;
	unsigned requeued;   /* times put back ahead of a barrier */
};

struct wq;

/* @capacity bounds the distinct paths held (queued or in progress). */
struct wq *wq_new(size_t capacity);
void wq_free(struct wq *q); /* NULL is a no-op; frees remaining items */

/* Queues @path unless present. Blocks while the queue is full (back-pressure
 * on the walker); never blocks for a path already held. */
void wq_push(struct wq *q, const char *path, size_t len);
/* The same, naming the process behind the change (a reference is taken;
 * NULL: unknown). The item keeps the latest process, except that a record
 * saying only that pid N exited does not replace what is known of pid N:
 * its create event was read while it ran, its close after it was gone. */
void wq_push_by(struct wq *q, const char *path, size_t len, struct lw_proc *proc);
/* The process of a popped item: a new reference, or NULL when none. The
 * item keeps its own across runs, so that the exited-pid rule above also
 * holds when the close of a file comes while a worker reads it. */
struct lw_proc *wq_item_proc(struct wq *q, struct wq_item *item);
/* Never blocks. @payload goes to whoever pops the barrier. */
void wq_push_barrier(struct wq *q, void *payload);
/* Blocks until an item is available; NULL once closed and empty. */
struct wq_item *wq_pop(struct wq *q);
/* Like wq_pop() but returns NULL at once when nothing can be handed out. */
struct wq_item *wq_trypop(struct wq *q);
/* Finishes an item from wq_pop. @again: process it once more (the file
 * changed while it was read); the item goes ahead of queued barriers, or
 * to the back if there are none. */
void wq_done(struct wq *q, struct wq_item *item, bool again);
/* Renames queued (not in-progress) paths below directory @from to below @to,
 * after a directory rename, so that they are processed where they are now. */
void wq_rekey_below(struct wq *q, const char *from, size_t flen, const char *to,
		    size_t tlen);
/* Paths queued or in progress. */
size_t wq_depth(struct wq *q);
/* No more work will come: wq_pop returns NULL when the queue is empty. */
void wq_close(struct wq *q);
