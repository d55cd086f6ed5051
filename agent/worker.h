/* worker.h — the worker threads: turn queued paths into inventory rows.
 *
 * Each worker stats a path, decides from the inventory whether the content
 * can have changed (dev, ino, size, mtime, ctime), and if so reads the file
 * once to hash it and sniff its type; then hands the result to the writer.
 * Special files are recorded, never opened; symbolic links are recorded,
 * never followed. */
#pragma once

#include <stdbool.h>

#include "helper.h"
#include "queue.h"
#include "writer.h"

struct worker_pool;

/* Starts @n workers; each opens its own read-only connection to @db_path
 * (the writer must have created the schema). With @inventory_empty the
 * workers do not consult the inventory (nothing there can match) until
 * worker_pool_enable_lookups() is called, after the first full scan. */
struct worker_classify {
	bool enabled;
	struct helper_opts helper; /* strings borrowed for the pool's life */
	int64_t fp_gen;            /* registered documents' generation now */
};
int worker_pool_start(int n, const char *db_path, bool inventory_empty,
		      const struct worker_classify *cls, struct wq *q, struct writer *w,
		      struct worker_pool **out);
void worker_pool_enable_lookups(struct worker_pool *p);
/* The registered documents changed: files are classified again as they
 * are next seen (the caller requests a full rescan). */
void worker_pool_set_fp_gen(struct worker_pool *p, int64_t gen);
/* The policy's custom detectors changed: helpers restart with them and
 * files are classified again as they are next seen (the caller requests a
 * full rescan). */
void worker_pool_set_detectors(struct worker_pool *p, const char *json);
/* Waits for the workers, which exit once the queue is closed and empty. */
void worker_pool_join(struct worker_pool *p);
