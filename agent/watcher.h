/* watcher.h — the watcher thread: inotify events and directory walks.
 *
 * Owns the event backend (every libinotifytools call happens on this thread),
 * the directory map, the walks (start-up baseline, new and moved-in
 * directories, overflow and periodic reconciliation, rescans of directories
 * left unwatched at the watch limit) and the pairing of renames. It turns all
 * of that into paths for the work queue and into directory-level operations
 * for the writer. Other threads talk to it only through the functions below. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "agent-config.h"
#include "queue.h"
#include "watch-backend.h"
#include "writer.h"

struct watcher;

struct watcher_stats {
	int64_t watches;          /* directories with a live watch */
	int64_t unwatched;        /* directories covered only by rescans */
	int64_t overflows;        /* kernel queue overflows seen */
	int64_t walks;            /* walks in progress or awaiting their sweep */
	int64_t full_scans_done;  /* completed full reconciliations since start */
	int64_t roots_missing;
	int64_t max_user_watches; /* from /proc/sys/fs/inotify */
	bool limit_hit;           /* the watch limit was reached at least once */
	const char *backend;      /* watch_backend.id, static */
	bool attribution;         /* changes name their process (procinfo.h) */
};

/* Starts the thread; the first thing it does is a full scan of every root.
 * @epoch is the last epoch used by the inventory. @be must be initialised
 * (by the main thread, before it opens many fds); from then on only the
 * watcher thread calls it, and watcher_stop() finalises it. */
int watcher_start(const struct agent_config *cfg, const struct watch_backend *be,
		  void *bectx, struct wq *q, struct writer *w, int64_t epoch,
		  struct watcher **out);
/* Thread-safe requests; the watcher acts on them promptly. */
void watcher_request_full_scan(struct watcher *w);
void watcher_request_degraded_scan(struct watcher *w);
void watcher_get_stats(struct watcher *w, struct watcher_stats *out);
/* Runs the payload of a barrier the watcher queued (a walk's deletion
 * sweep); called by the worker that pops it, then frees @payload. */
void watcher_barrier(void *payload);
/* Stops and joins the thread; walks in progress are abandoned (the next
 * start-up's full scan reconciles). */
void watcher_stop(struct watcher *w);
