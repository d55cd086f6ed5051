/* writer.h — the single thread that writes the inventory.
 *
 * Everyone else (watcher, workers, reporter, main loop) hands it operations
 * through one typed function each; it applies them in arrival order, in
 * batched transactions, and is the only user of the writing SQLite
 * connection. What an operation carries is private to writer.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

struct writer;

/* Takes ownership of @st (opened DB_MODE_WRITER) and starts the thread.
 * @epoch is the stamp in force until the first writer_epoch(). */
int writer_start(struct store *st, size_t backlog, int64_t epoch, struct writer **out);
/* @fn is called (on the writer thread) when an operation failed for good
 * and was dropped, to have the inventory put right by a reconciling scan
 * (leakwatchd: watcher_request_full_scan). Thread-safe. */
void writer_set_rescan(struct writer *w, void (*fn)(void *arg), void *arg);
/* The operations, in the order they are applied. Each copies the paths
 * it is given, takes ownership of what it says, and blocks while the
 * backlog is full (back-pressure instead of loss). Thread-safe.
 *
 * A file's row: @rec's owned strings are taken and *rec is zeroed.
 * @dir_gen is writer_dir_gen() read before the path was looked at. */
void writer_put(struct writer *w, const char *path, size_t len, struct file_rec *rec,
		int64_t dir_gen);
/* The file is unchanged from its row @rec: stamp the row with the epoch in
 * force, or put it back if a walk's sweep removed it meanwhile. */
void writer_seen(struct writer *w, const char *path, size_t len, struct file_rec *rec,
		 int64_t dir_gen);
void writer_gone(struct writer *w, const char *path, size_t len);
/* One file renamed (hash and findings go along). @process: who did it
 * (procinfo.h JSON, copied), or NULL. */
void writer_rename(struct writer *w, const char *from, size_t flen, const char *to,
		   size_t tlen, const char *process);
/* A directory renamed: every row below @from moves below @to. */
void writer_rename_dir(struct writer *w, const char *from, size_t flen, const char *to,
		       size_t tlen, const char *process);
/* A directory that went away: every row below it is deleted. */
void writer_gone_below(struct writer *w, const char *dir, size_t len);
/* A file system unmounted at @dir: its rows leave as "unmounted", which
 * says the medium went away, not that anyone deleted the files. */
void writer_unmounted_below(struct writer *w, const char *dir, size_t len);
/* A walk's deletion sweep: rows below @dir (directly, or at any depth when
 * @recursive) not stamped with @epoch are marked deleted. */
void writer_sweep(struct writer *w, const char *dir, size_t len, bool recursive,
		  int64_t epoch);
/* From now on rows are stamped with @epoch (a walk starts). */
void writer_epoch(struct writer *w, int64_t epoch);
void writer_full_scan_done(struct writer *w);
/* The status leakwatch status reads; @json is taken. */
void writer_status(struct writer *w, int pid, char *json);
/* A policy in force from now on (@policy taken), with the quarantine
 * directory, the outbox bound (0: none) and whether sightings are
 * reported; then every live file is judged under it. */
void writer_policy(struct writer *w, struct policy *policy, const char *quarantine_dir,
		   int64_t outbox_max, bool sightings);
/* The collector acknowledged (or, @refused, refused) the events whose
 * sequence numbers @seqs_json lists ("[1,2]"); taken. */
void writer_acked(struct writer *w, char *seqs_json, bool refused);
/* The generation of the newest directory operation submitted
 * (writer_rename_dir(), writer_gone_below()). A worker reads it before it
 * looks at a path and stores it in its PUT or SEEN; the writer then drops
 * that result if a newer directory operation moved or removed a prefix of
 * the path in between, since the result describes a path that no longer
 * exists (the destination's own walk records the file where it is now). */
int64_t writer_dir_gen(struct writer *w);
/* An open of @path was denied under block rule @rule by @process
 * (procinfo.h JSON, copied): raise the violation (enforce.h). */
void writer_blocked(struct writer *w, const char *path, size_t len, const char *rule,
		    const char *process);
/* Block rules' marks go to @e from now on (borrowed for the writer's life;
 * NULL: none); every protected file of the inventory is marked. */
struct enforcer;
void writer_enforcer(struct writer *w, struct enforcer *e);
/* Violations raised since start (0 before the first writer_policy()). */
int64_t writer_violations(struct writer *w);
/* Ops submitted and not yet committed. */
size_t writer_backlog(struct writer *w);
/* The inventory's live files and those not examined by cause (store.h),
 * as last counted (at most a minute old); false before the first count.
 * Any thread. */
bool writer_inventory(struct writer *w, int64_t *files, int64_t unexamined[STORE_UNEXAMINED_KINDS]);
/* Applies everything submitted, commits, joins the thread, closes the store. */
void writer_stop(struct writer *w);
