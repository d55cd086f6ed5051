/* writer.c — the inventory's writer thread (see writer.h).
 * Owns: the writing store connection and the op backlog. */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ipc.h"
#include "log.h"
#include "mem.h"
#include "verdict.h"
#include "vstore.h"
#include "wire.h"

/* Larger batches amortise the commit (~6 µs a row in one transaction versus
 * ~55 µs with a transaction per row); bounded so that readers see progress
 * during a long baseline. */
#define WRITER_BATCH_MAX 8192
/* Under a burst, committing every few rows rewrites the same B-tree pages to
 * the WAL again and again (measured: ~30 µs a row instead of ~6). When the
 * previous commit was less than WRITER_GATHER_NS ago and the batch is small,
 * wait up to that long for more work. A lone event after a quiet spell is
 * committed at once, so close-to-row latency stays low. */
#define WRITER_GATHER_NS (10 * 1000000ll)
#define WRITER_GATHER_MIN 1024
/* Directory operations remembered for checking late results. A result
 * older than all of them is checked against the file system instead. */
#define WRITER_DIROPS 1024

enum op_kind {
	OP_PUT,
	OP_SEEN,
	OP_GONE,
	OP_RENAME,
	OP_RENAME_DIR,
	OP_GONE_BELOW,
	OP_SWEEP,
	OP_EPOCH,
	OP_FULL_SCAN_DONE,
	OP_STATUS,
	OP_POLICY,
	OP_ACKED,
	OP_BLOCKED,
	OP_ENFORCE,
};

/* One operation; only the members of its kind are set. */
struct writer_op {
	enum op_kind kind;
	char *path;  /* the file or directory; the quarantine directory for
		      * OP_POLICY */
	size_t len;
	char *path2; /* OP_RENAME, OP_RENAME_DIR: where it went */
	size_t len2;
	struct file_rec rec; /* OP_PUT, OP_SEEN; OP_RENAME*: only .process */
	/* OP_PUT, OP_SEEN: the directory-operation generation the worker read
	 * before it looked at the path; OP_RENAME_DIR, OP_GONE_BELOW: the
	 * operation's own */
	int64_t dir_gen;
	union {
		struct {
			bool recursive;
			int64_t epoch;
		} sweep;
		struct enforcer *enforcer; /* OP_ENFORCE */
		int64_t epoch;
		struct {
			int pid;
			char *json;
		} status;
		struct {
			struct policy *policy;
			int64_t outbox_max;
			bool sightings;
			/* its digest and size, kept for a retried batch (the
			 * policy itself has moved to the verdict by then) */
			char sha256[LW_SHA256_HEX_LEN + 1];
			long rules;
		} policy;
		struct {
			char *seqs;
			bool refused;
		} acked;
		const char *gone; /* OP_GONE_BELOW: why (NULL: deleted) */
	} u;
	struct writer_op *next;
};

struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t has_work;
	pthread_cond_t has_room;
	struct writer_op *head, *tail;
	size_t queued;
	size_t inflight;
	size_t backlog;
	bool stopping;
	struct store *st;
	struct enforcer *enforcer; /* borrowed; handed to each verdict */
	int64_t epoch;
	atomic_llong dir_gen;   /* last generation handed out */
	/* writer thread only: directory operations applied, newest last */
	struct dirop {
		int64_t gen;
		char *prefix;
		size_t len;
	} dirops[WRITER_DIROPS];
	size_t ndirops, dirop_next;
	int64_t oldest_gen;     /* of the remembered ones; 0: none yet */
	struct verdict *vd;     /* writer thread only; NULL until a policy */
	void (*rescan)(void *); /* under lock: asks for a reconciling scan */
	void *rescan_arg;
	atomic_llong violations;
	/* the inventory's size and its files not examined, by cause, counted
	 * at most every INVENTORY_COUNT_NS (a pass over every row): for the
	 * heartbeat, which the fleet's compliance report reads */
	atomic_llong inv_files; /* -1: not counted yet */
	atomic_llong inv_unexamined[STORE_UNEXAMINED_KINDS];
	int64_t inv_counted_ns; /* writer thread only */
};

#define INVENTORY_COUNT_NS (60LL * 1000000000LL)

static struct writer_op *
op_new(enum op_kind kind, const char *path, size_t len, const char *path2, size_t len2)
{
	struct writer_op *op = lw_new(struct writer_op, 1);
	op->kind = kind;
	if (path) {
		op->path = lw_malloc(len + 1);
		memcpy(op->path, path, len);
		op->path[len] = '\0';
		op->len = len;
	}
	if (path2) {
		op->path2 = lw_malloc(len2 + 1);
		memcpy(op->path2, path2, len2);
		op->path2[len2] = '\0';
		op->len2 = len2;
	}
	return op;
}

static void
op_free(struct writer_op *op)
{
	free(op->path);
	free(op->path2);
	switch (op->kind) {
	case OP_STATUS:
		free(op->u.status.json);
		break;
	case OP_POLICY:
		policy_free(op->u.policy.policy);
		break;
	case OP_ACKED:
		free(op->u.acked.seqs);
		break;
	case OP_PUT:
	case OP_SEEN:
	case OP_GONE:
	case OP_RENAME:
	case OP_RENAME_DIR:
	case OP_GONE_BELOW:
	case OP_SWEEP:
	case OP_EPOCH:
	case OP_FULL_SCAN_DONE:
	case OP_BLOCKED:
	case OP_ENFORCE:
		break;
	}
	file_rec_fini(&op->rec);
	free(op);
}

static void
remember_dirop(struct writer *w, const struct writer_op *op)
{
	struct dirop *d = &w->dirops[w->dirop_next];
	free(d->prefix);
	d->gen = op->dir_gen;
	d->prefix = lw_malloc(op->len);
	memcpy(d->prefix, op->path, op->len);
	d->len = op->len;
	w->dirop_next = (w->dirop_next + 1) % WRITER_DIROPS;
	if (w->ndirops < WRITER_DIROPS) {
		w->ndirops++;
	}
	w->oldest_gen = w->dirops[w->ndirops < WRITER_DIROPS ? 0 : w->dirop_next].gen;
}

/* Was @op's path moved or removed by a directory operation newer than what
 * the worker saw? */
static bool
overtaken(struct writer *w, const struct writer_op *op)
{
	if (w->ndirops == 0 || op->dir_gen >= atomic_load(&w->dir_gen)) {
		return false;
	}
	if (op->dir_gen + 1 < w->oldest_gen) {
		/* older than what is remembered: ask the file system */
		struct stat st;
		return lstat(op->path, &st) < 0;
	}
	for (size_t i = 0; i < w->ndirops; i++) {
		const struct dirop *d = &w->dirops[i];
		if (d->gen > op->dir_gen && op->len > d->len && op->path[d->len] == '/' &&
		    memcmp(op->path, d->prefix, d->len) == 0) {
			return true;
		}
	}
	return false;
}

/* A put, judged under the policy: the row it replaces tells how the file
 * got there (new, modified, chmod). */
static int
apply_put(struct writer *w, struct writer_op *op, int64_t now)
{
	bool judge = w->vd && (verdict_wants(w->vd, &op->rec) ||
			       verdict_sighted(w->vd, op->path, op->len));
	struct file_rec old = {0};
	int had = judge ? store_lookup_path(w->st, op->path, op->len, &old) : 0;
	int r = store_put(w->st, op->path, op->len, &op->rec, w->epoch, now);
	if (r >= 0 && judge) {
		r = verdict_put(w->vd, op->path, op->len, had == 1 ? &old : NULL, &op->rec, now);
	}
	file_rec_fini(&old);
	return r;
}

/* The status goes out every second; the count, a pass over the
 * inventory, at most once a minute. A failure leaves the last count. */
static void
count_inventory(struct writer *w)
{
	int64_t t = clock_mono_ns();
	if (w->inv_counted_ns && t - w->inv_counted_ns < INVENTORY_COUNT_NS) {
		return;
	}
	w->inv_counted_ns = t;
	int64_t files = 0, u[STORE_UNEXAMINED_KINDS] = {0};
	if (store_unexamined(w->st, &files, u) < 0) {
		return;
	}
	for (int i = 0; i < STORE_UNEXAMINED_KINDS; i++) {
		atomic_store(&w->inv_unexamined[i], u[i]);
	}
	atomic_store(&w->inv_files, files);
}

static int
apply(struct writer *w, struct writer_op *op, int64_t now)
{
	if ((op->kind == OP_PUT || op->kind == OP_SEEN) && overtaken(w, op)) {
		log_debug("writer: %s: moved or removed by a directory operation meanwhile;"
			  " result dropped",
			  op->path);
		return 0;
	}
	if (op->kind == OP_RENAME_DIR || op->kind == OP_GONE_BELOW) {
		remember_dirop(w, op);
	}
	int r;
	switch (op->kind) {
	case OP_PUT:
		return apply_put(w, op, now);
	case OP_SEEN:
		r = store_seen(w->st, op->path, op->len, w->epoch);
		/* No live row: a walk's sweep got here first (the worker looked
		 * before the sweep was applied, see queue.h on barriers). The
		 * worker has just seen the file, unchanged from the row it
		 * read, so that row is put back rather than the file lost
		 * until the next full scan. */
		return r != 0 ? r : apply_put(w, op, now);
	case OP_GONE:
		r = store_gone(w->st, op->path, op->len, now);
		return r < 0 || !w->vd ? r : verdict_gone(w->vd, op->path, op->len);
	case OP_RENAME:
	case OP_RENAME_DIR: {
		bool dir = op->kind == OP_RENAME_DIR;
		r = store_rename(w->st, op->path, op->len, op->path2, op->len2, dir, w->epoch, now);
		if (r >= 0 && w->vd) {
			r = verdict_moved(w->vd, op->path, op->len, op->path2, op->len2, dir,
					  op->rec.process, now);
		}
		return r;
	}
	case OP_POLICY:
		/* On a retried batch the policy is in force already; only the
		 * evaluation is repeated. */
		if (op->u.policy.policy) {
			uint8_t d[LW_SHA256_LEN];
			policy_digest(op->u.policy.policy, d);
			lw_hex(d, sizeof(d), op->u.policy.sha256);
			op->u.policy.rules = (long)policy_rule_count(op->u.policy.policy);
		}
		if (op->u.policy.policy && !w->vd) {
			w->vd = verdict_new(w->st, op->u.policy.policy, op->path);
			verdict_set_enforcer(w->vd, w->enforcer);
		} else if (op->u.policy.policy) {
			verdict_set_policy(w->vd, op->u.policy.policy);
		}
		op->u.policy.policy = NULL;
		vstore_set_outbox_max(verdict_vstore(w->vd), op->u.policy.outbox_max);
		verdict_set_sightings(w->vd, op->u.policy.sightings);
		/* the journal of policy loads the local compliance report lists */
		r = vstore_policy_loaded(verdict_vstore(w->vd), now, op->u.policy.sha256,
					 op->u.policy.rules);
		return r < 0 ? r : verdict_reevaluate(w->vd, now);
	case OP_BLOCKED:
		return w->vd ? verdict_blocked(w->vd, op->path, op->len, op->path2, op->rec.process,
					       now)
			     : 0;
	case OP_ENFORCE:
		w->enforcer = op->u.enforcer;
		return w->vd ? verdict_set_enforcer(w->vd, w->enforcer) : 0;
	case OP_ACKED:
		return w->vd ? vstore_events_acked(verdict_vstore(w->vd), op->u.acked.seqs,
						   op->u.acked.refused ? -1 : now)
			     : 0;
	case OP_GONE_BELOW:
		r = store_gone_below(w->st, op->path, op->len, op->u.gone, now);
		return r < 0 || !w->vd ? r : verdict_gone_below(w->vd, op->path, op->len);
	case OP_SWEEP:
		r = store_sweep(w->st, op->path, op->len, op->u.sweep.recursive, op->u.sweep.epoch,
				now);
		if (r > 0) {
			log_debug("writer: sweep: %d rows not seen are marked deleted", r);
			if (w->vd) {
				int k = verdict_gone_below(w->vd, op->path, op->len);
				r = k < 0 ? k : r;
			}
		}
		return r;
	case OP_EPOCH:
		w->epoch = op->u.epoch;
		return store_meta_set(w->st, "epoch", op->u.epoch);
	case OP_FULL_SCAN_DONE:
		if (w->vd) {
			verdict_baseline_done(w->vd);
		}
		return store_meta_set(w->st, "last_full_scan", now);
	case OP_STATUS:
		count_inventory(w);
		return store_status_put(w->st, op->u.status.pid, now, op->u.status.json);
	}
	return -EINVAL;
}

/* The batch in one transaction, not committed on failure. */
static int
run_batch(struct writer *w, struct writer_op *batch, int64_t now)
{
	int r = store_begin(w->st);
	for (struct writer_op *op = batch; op && r >= 0; op = op->next) {
		r = apply(w, op, now);
	}
	return r >= 0 ? store_commit(w->st) : r;
}

static const char *
op_name(enum op_kind k)
{
	switch (k) {
	case OP_PUT:
		return "record";
	case OP_SEEN:
		return "confirm";
	case OP_GONE:
		return "delete";
	case OP_RENAME:
		return "rename";
	case OP_RENAME_DIR:
		return "rename directory";
	case OP_GONE_BELOW:
		return "delete directory";
	case OP_SWEEP:
		return "sweep";
	case OP_EPOCH:
		return "epoch";
	case OP_FULL_SCAN_DONE:
		return "full scan done";
	case OP_STATUS:
		return "status";
	case OP_POLICY:
		return "policy";
	case OP_ACKED:
		return "acknowledgement";
	case OP_BLOCKED:
		return "denied open";
	case OP_ENFORCE:
		return "enforcement";
	}
	return "?";
}

/* The batch again in one transaction, each operation in a savepoint: one
 * that fails for good is undone alone and counted in *dropped; any other
 * failure fails the batch as before. */
static int
run_isolated(struct writer *w, struct writer_op *batch, int64_t now, int *dropped)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60, 5);
	sqlite3 *db = store_db(w->st);
	int r = store_begin(w->st);
	for (struct writer_op *op = batch; op && r >= 0; op = op->next) {
		if ((r = db_exec(db, "SAVEPOINT op")) < 0) {
			break;
		}
		int a = apply(w, op, now);
		if (a >= 0 || !db_error_is_permanent(a)) {
			r = a < 0 ? a : db_exec(db, "RELEASE op");
			continue;
		}
		r = db_exec(db, "ROLLBACK TO op");
		if (r >= 0) {
			r = db_exec(db, "RELEASE op");
		}
		(*dropped)++;
		AUTOFREE char *p = op->path ? wire_escape_line(op->path, op->len) : NULL;
		AUTOFREE char *p2 = op->path2 ? wire_escape_line(op->path2, op->len2) : NULL;
		log_msg_ratelimit(&rl, LOG_LEVEL_ERR,
				  "writer: %s %s%s%s failed for good (%s); dropped, and the"
				  " roots are scanned again to put the inventory right",
				  op_name(op->kind), p ? p : "", p2 ? " -> " : "", p2 ? p2 : "",
				  db_error_text(a));
	}
	return r >= 0 ? store_commit(w->st) : r;
}

static void
committed(struct writer *w, int64_t *last_commit)
{
	*last_commit = clock_mono_ns();
	if (w->vd) {
		verdict_batch_committed(w->vd);
		atomic_store(&w->violations, verdict_raised(w->vd));
	}
}

static void
request_rescan(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	void (*fn)(void *) = w->rescan;
	void *arg = w->rescan_arg;
	pthread_mutex_unlock(&w->lock);
	if (fn) {
		fn(arg);
	}
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	int64_t last_commit = 0;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stopping) {
			pthread_cond_wait(&w->has_work, &w->lock);
		}
		if (w->head && !w->stopping && w->queued < WRITER_GATHER_MIN &&
		    clock_mono_ns() - last_commit < WRITER_GATHER_NS) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += WRITER_GATHER_NS;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			while (w->queued < WRITER_GATHER_MIN && !w->stopping &&
			       pthread_cond_timedwait(&w->has_work, &w->lock, &until) == 0) {
			}
		}
		if (!w->head && w->stopping) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		/* take up to a batch off the front */
		struct writer_op *batch = w->head, *last = w->head;
		size_t n = 1;
		while (last->next && n < WRITER_BATCH_MAX) {
			last = last->next;
			n++;
		}
		w->head = last->next;
		if (!w->head) {
			w->tail = NULL;
		}
		last->next = NULL;
		w->queued -= n;
		w->inflight = n;
		pthread_mutex_unlock(&w->lock);

		/* A failed batch (disk full, I/O error) is retried as a whole:
		 * producers block on the full backlog meanwhile, so nothing is
		 * dropped, and the rescan after a restart would reconcile even
		 * what a crash lost. A batch that fails for good (a
		 * constraint: retrying cannot help) is applied again one
		 * operation at a time, and only the operation at fault is
		 * dropped and re-examined; otherwise one bad operation, which
		 * an unprivileged user could provoke, blinded the agent. */
		int64_t saved_epoch = w->epoch;
		for (unsigned attempt = 0;; attempt++) {
			int64_t now = clock_wall_ns();
			int r = run_batch(w, batch, now);
			if (r >= 0) {
				committed(w, &last_commit);
				break;
			}
			store_rollback(w->st);
			w->epoch = saved_epoch;
			if (db_error_is_permanent(r)) {
				int dropped = 0;
				r = run_isolated(w, batch, now, &dropped);
				if (r >= 0) {
					committed(w, &last_commit);
					if (dropped) {
						request_rescan(w);
					}
					break;
				}
				store_rollback(w->st);
				w->epoch = saved_epoch;
			}
			log_err("writer: batch of %zu operations failed (%s); retrying",
				n, db_error_text(r));
			sleep(attempt < 5 ? 1 : 5);
		}
		while (batch) {
			struct writer_op *next = batch->next;
			op_free(batch);
			batch = next;
		}
		pthread_mutex_lock(&w->lock);
		w->inflight = 0;
		pthread_cond_broadcast(&w->has_room);
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int
writer_start(struct store *st, size_t backlog, int64_t epoch, struct writer **out)
{
	struct writer *w = lw_new(struct writer, 1);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->has_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->has_room, NULL);
	w->backlog = backlog ? backlog : 1;
	w->st = st;
	atomic_init(&w->inv_files, -1);
	w->epoch = epoch;
	int r = pthread_create(&w->thread, NULL, writer_main, w);
	if (r != 0) {
		free(w);
		return -r;
	}
	pthread_setname_np(w->thread, "lw-writer");
	*out = w;
	return 0;
}

void
writer_set_rescan(struct writer *w, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&w->lock);
	w->rescan = fn;
	w->rescan_arg = arg;
	pthread_mutex_unlock(&w->lock);
}

int64_t
writer_dir_gen(struct writer *w)
{
	return atomic_load(&w->dir_gen);
}

static void
submit(struct writer *w, struct writer_op *op)
{
	op->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (op->kind == OP_RENAME_DIR || op->kind == OP_GONE_BELOW) {
		/* under the lock: generations follow submission order */
		op->dir_gen = atomic_fetch_add(&w->dir_gen, 1) + 1;
	}
	while (w->queued >= w->backlog && !w->stopping) {
		pthread_cond_wait(&w->has_room, &w->lock);
	}
	if (w->tail) {
		w->tail->next = op;
	} else {
		w->head = op;
	}
	w->tail = op;
	w->queued++;
	pthread_cond_signal(&w->has_work);
	pthread_mutex_unlock(&w->lock);
}

void
writer_put(struct writer *w, const char *path, size_t len, struct file_rec *rec,
	   int64_t dir_gen)
{
	struct writer_op *op = op_new(OP_PUT, path, len, NULL, 0);
	op->rec = *rec; /* moves the owned strings */
	memset(rec, 0, sizeof(*rec));
	op->dir_gen = dir_gen;
	submit(w, op);
}

void
writer_seen(struct writer *w, const char *path, size_t len, struct file_rec *rec,
	    int64_t dir_gen)
{
	struct writer_op *op = op_new(OP_SEEN, path, len, NULL, 0);
	op->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	op->dir_gen = dir_gen;
	submit(w, op);
}

void
writer_gone(struct writer *w, const char *path, size_t len)
{
	submit(w, op_new(OP_GONE, path, len, NULL, 0));
}

void
writer_rename(struct writer *w, const char *from, size_t flen, const char *to, size_t tlen,
	      const char *process)
{
	struct writer_op *op = op_new(OP_RENAME, from, flen, to, tlen);
	op->rec.process = process ? lw_strdup(process) : NULL;
	submit(w, op);
}

void
writer_rename_dir(struct writer *w, const char *from, size_t flen, const char *to,
		  size_t tlen, const char *process)
{
	struct writer_op *op = op_new(OP_RENAME_DIR, from, flen, to, tlen);
	op->rec.process = process ? lw_strdup(process) : NULL;
	submit(w, op);
}

void
writer_gone_below(struct writer *w, const char *dir, size_t len)
{
	submit(w, op_new(OP_GONE_BELOW, dir, len, NULL, 0));
}

void
writer_unmounted_below(struct writer *w, const char *dir, size_t len)
{
	struct writer_op *op = op_new(OP_GONE_BELOW, dir, len, NULL, 0);
	op->u.gone = "unmounted"; /* a literal: nothing to free */
	submit(w, op);
}

void
writer_sweep(struct writer *w, const char *dir, size_t len, bool recursive, int64_t epoch)
{
	struct writer_op *op = op_new(OP_SWEEP, dir, len, NULL, 0);
	op->u.sweep.recursive = recursive;
	op->u.sweep.epoch = epoch;
	submit(w, op);
}

void
writer_epoch(struct writer *w, int64_t epoch)
{
	struct writer_op *op = op_new(OP_EPOCH, NULL, 0, NULL, 0);
	op->u.epoch = epoch;
	submit(w, op);
}

void
writer_full_scan_done(struct writer *w)
{
	submit(w, op_new(OP_FULL_SCAN_DONE, NULL, 0, NULL, 0));
}

void
writer_status(struct writer *w, int pid, char *json)
{
	struct writer_op *op = op_new(OP_STATUS, NULL, 0, NULL, 0);
	op->u.status.pid = pid;
	op->u.status.json = json;
	submit(w, op);
}

void
writer_policy(struct writer *w, struct policy *policy, const char *quarantine_dir,
	      int64_t outbox_max, bool sightings)
{
	struct writer_op *op = op_new(OP_POLICY, quarantine_dir, strlen(quarantine_dir), NULL, 0);
	op->u.policy.policy = policy;
	op->u.policy.outbox_max = outbox_max;
	op->u.policy.sightings = sightings;
	submit(w, op);
}

void
writer_acked(struct writer *w, char *seqs_json, bool refused)
{
	struct writer_op *op = op_new(OP_ACKED, NULL, 0, NULL, 0);
	op->u.acked.seqs = seqs_json;
	op->u.acked.refused = refused;
	submit(w, op);
}

bool
writer_inventory(struct writer *w, int64_t *files, int64_t unexamined[STORE_UNEXAMINED_KINDS])
{
	*files = atomic_load(&w->inv_files);
	for (int i = 0; i < STORE_UNEXAMINED_KINDS; i++) {
		unexamined[i] = atomic_load(&w->inv_unexamined[i]);
	}
	return *files >= 0;
}

int64_t
writer_violations(struct writer *w)
{
	return atomic_load(&w->violations);
}

size_t
writer_backlog(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	size_t n = w->queued + w->inflight;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
writer_stop(struct writer *w)
{
	if (!w) {
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->has_work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	verdict_free(w->vd);
	store_close(w->st);
	for (size_t i = 0; i < w->ndirops; i++) {
		free(w->dirops[i].prefix);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->has_work);
	pthread_cond_destroy(&w->has_room);
	free(w);
}

void
writer_blocked(struct writer *w, const char *path, size_t len, const char *rule,
	       const char *process)
{
	struct writer_op *op = op_new(OP_BLOCKED, path, len, rule, strlen(rule));
	op->rec.process = process ? lw_strdup(process) : NULL;
	submit(w, op);
}

void
writer_enforcer(struct writer *w, struct enforcer *e)
{
	struct writer_op *op = op_new(OP_ENFORCE, NULL, 0, NULL, 0);
	op->u.enforcer = e;
	submit(w, op);
}
