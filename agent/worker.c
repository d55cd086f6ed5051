/* worker.c — worker threads (see worker.h).
 * Owns: per worker, a read-only inventory connection, a SHA-256 context and
 * a read buffer, reused across files (a fresh buffer per file costs page
 * faults; doc/benchmarking.md). */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "filetype.h"
#include "fpstore.h"
#include "marking.h"
#include "helper.h"
#include "wire.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "watcher.h"

#define WORKER_BUF_SIZE (256 * 1024)
/* Lookups share one read transaction until this many were made, or until the
 * worker runs out of work (see worker_main). */
#define WORKER_READ_TXN_LOOKUPS 64
/* A file that keeps changing while it is read is tried this many times,
 * then recorded as read, with an error saying it was unstable; its next
 * close-after-write event starts over. */
#define WORKER_MAX_RETRIES 3

/* A file handed to the classify helper, finished when its answer comes
 * (finish()). */
struct inflight {
	struct wq_item *it;
	int fd;
	struct stat fst;     /* when it was opened */
	struct file_rec rec;
	bool helper_hashes;  /* the helper computes the hash (one read) */
	int64_t dir_gen;     /* writer_dir_gen() when the path was looked at */
	int64_t gen, tag;    /* registered documents, detectors when sent */
	int64_t used_gen;    /* the registered documents the helper had */
};

struct worker {
	pthread_t thread;
	struct worker_pool *pool;
	struct store *st;
	struct lw_sha256 *sha;
	unsigned char *buf;
	bool in_read_txn;
	unsigned txn_lookups;
	int64_t dir_gen; /* writer_dir_gen() when the current path was looked at */
	/* files with the classify helper, up to its window */
	struct inflight slots[HELPER_WINDOW];
	struct inflight *free_slots[HELPER_WINDOW];
	size_t nfree;
	int hi; /* the helper this worker holds, or -1 */
	unsigned sent_since_borrow;
};

struct worker_pool {
	struct wq *q;
	struct writer *wr;
	int n;
	struct worker *workers;
	atomic_bool lookups; /* false while the inventory was empty at start */
	bool classify;       /* send new content to the classify helper */
	struct helper_opts hopts;
	atomic_llong fp_gen; /* registered documents' generation */
	/* A tag of the custom detectors in force. Stored findings depend on
	 * the registered documents and on the detectors, so a row records
	 * both (row_gen()) and is classified again when either changed. */
	atomic_llong det_tag;
	char *detectors;       /* under hlock */
	unsigned det_version;  /* under hlock */
	unsigned *hdet;        /* per helper: the det_version it runs */
	/* Classify helpers, one per core, lent to workers one request at a
	 * time: workers outnumber cores (they mostly wait for the disk), and a
	 * helper costs tens of MiB. */
	pthread_mutex_t hlock;
	pthread_cond_t hfree;
	atomic_int hwaiters; /* workers waiting for a helper */
	struct helper **helpers;
	bool *hbusy;
	int nhelpers;
};

static struct log_ratelimit worker_rl = LOG_RATELIMIT_INIT(10, 5);

#define GEN_BITS 40

/* The generation a row's findings were computed under: registered
 * documents in the low bits, the detectors' tag above. */
static int64_t
row_gen(int64_t fp_gen, int64_t det_tag)
{
	return (det_tag << GEN_BITS) | (fp_gen & (((int64_t)1 << GEN_BITS) - 1));
}

static int64_t
detectors_tag(const char *json)
{
	if (!json || strcmp(json, "[]") == 0) {
		return 0; /* rows from before detectors existed stay valid */
	}
	uint8_t d[LW_SHA256_LEN];
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	lw_sha256_update(h, json, strlen(json));
	lw_sha256_final(h, d);
	lw_sha256_free(h);
	return ((int64_t)d[0] << 14 | (int64_t)d[1] << 6 | d[2] >> 2) | 1; /* 22 bits, never 0 */
}

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void
rec_from_stat(struct file_rec *rec, const struct stat *st)
{
	rec->kind = file_kind_from_mode(st->st_mode);
	rec->dev = st->st_dev;
	rec->ino = st->st_ino;
	rec->size = st->st_size;
	rec->mode = st->st_mode;
	rec->uid = st->st_uid;
	rec->gid = st->st_gid;
	rec->mtime_ns = ts_ns(&st->st_mtim);
	rec->ctime_ns = ts_ns(&st->st_ctim);
}

static void
put(struct worker *wk, struct wq_item *it, struct file_rec *rec)
{
	struct lw_proc *p = wq_item_proc(wk->pool->q, it);
	if (p) {
		free(rec->process);
		rec->process = lw_strdup(p->json);
		lw_proc_unref(p);
	}
	writer_put(wk->pool->wr, it->path, it->len, rec, wk->dir_gen);
}

/* The file is as @rec (its row) says: stamp it. The row goes along in case
 * a sweep removed it meanwhile (see writer_seen()). */
static void
seen(struct worker *wk, const struct wq_item *it, struct file_rec *rec)
{
	writer_seen(wk->pool->wr, it->path, it->len, rec, wk->dir_gen);
}

/* Same kind, identity, content stamp, ctime and ownership as recorded, and
 * recorded without error: nothing can have changed. */
static bool
unchanged(const struct file_rec *old, const struct file_rec *now)
{
	if (old->kind != now->kind || old->dev != now->dev || old->ino != now->ino ||
	    old->size != now->size || old->mtime_ns != now->mtime_ns ||
	    old->ctime_ns != now->ctime_ns || old->mode != now->mode ||
	    old->uid != now->uid || old->gid != now->gid || old->error) {
		return false;
	}
	if (now->kind == FILE_KIND_REGULAR) {
		return old->has_sha;
	}
	if (now->kind == FILE_KIND_SYMLINK) {
		return old->link_len == now->link_len &&
		       (now->link_len == 0 ||
			memcmp(old->link_target, now->link_target, now->link_len) == 0);
	}
	return true;
}

/* Reads and hashes the open regular file. Returns 0, 1 if it changed while
 * being read, or -errno. */
static int
hash_open_file(struct worker *wk, int fd, const struct stat *before, struct file_rec *rec)
{
	if (before->st_size > 1024 * 1024) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	lw_sha256_init(wk->sha);
	bool first = true;
	long long total = 0;
	for (;;) {
		ssize_t n = read(fd, wk->buf, WORKER_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (first) {
			const char *t = filetype_sniff(wk->buf, (size_t)n < FILETYPE_HEAD_BYTES
							       ? (size_t)n
							       : FILETYPE_HEAD_BYTES,
						       (unsigned long long)before->st_size, NULL);
			snprintf(rec->type, sizeof(rec->type), "%s", t);
			first = false;
		}
		if (n == 0) {
			break;
		}
		lw_sha256_update(wk->sha, wk->buf, (size_t)n);
		total += n;
	}
	lw_sha256_final(wk->sha, rec->sha256);
	rec->has_sha = true;
	struct stat after;
	if (fstat(fd, &after) < 0) {
		return -errno;
	}
	if (after.st_size != before->st_size || total != before->st_size ||
	    ts_ns(&after.st_mtim) != ts_ns(&before->st_mtim) ||
	    ts_ns(&after.st_ctim) != ts_ns(&before->st_ctim)) {
		rec_from_stat(rec, &after);
		return 1;
	}
	return 0;
}

static bool
lookups_begin(struct worker *wk)
{
	if (!atomic_load_explicit(&wk->pool->lookups, memory_order_relaxed)) {
		return false;
	}
	if (wk->in_read_txn && wk->txn_lookups >= WORKER_READ_TXN_LOOKUPS) {
		store_read_end(wk->st);
		wk->in_read_txn = false;
	}
	if (!wk->in_read_txn) {
		wk->in_read_txn = store_read_begin(wk->st) == 0;
		wk->txn_lookups = 0;
	}
	wk->txn_lookups++;
	return true;
}

static void
lookups_end(struct worker *wk)
{
	if (wk->in_read_txn) {
		store_read_end(wk->st);
		wk->in_read_txn = false;
	}
}

static int
helper_borrow(struct worker_pool *p)
{
	pthread_mutex_lock(&p->hlock);
	for (;;) {
		for (int i = 0; i < p->nhelpers; i++) {
			if (!p->hbusy[i]) {
				p->hbusy[i] = true;
				pthread_mutex_unlock(&p->hlock);
				return i;
			}
		}
		atomic_fetch_add(&p->hwaiters, 1);
		pthread_cond_wait(&p->hfree, &p->hlock);
		atomic_fetch_sub(&p->hwaiters, 1);
	}
}

static void
helper_return(struct worker_pool *p, int i)
{
	pthread_mutex_lock(&p->hlock);
	p->hbusy[i] = false;
	pthread_cond_signal(&p->hfree);
	pthread_mutex_unlock(&p->hlock);
}

static bool finish(struct worker *wk, struct inflight *f, char *json);

/* The oldest request of the worker's helper: its file is finished and its
 * queue item done. With @release, the helper goes back to the pool when it
 * has nothing left for this worker. */
static void
collect_one(struct worker *wk, bool release)
{
	struct worker_pool *p = wk->pool;
	void *tag = NULL;
	char *json = NULL;
	helper_collect(p->helpers[wk->hi], &tag, &json);
	struct inflight *f = tag;
	f->used_gen = helper_fp_gen(p->helpers[wk->hi]);
	bool again = finish(wk, f, json);
	wq_done(p->q, f->it, again);
	wk->free_slots[wk->nfree++] = f;
	if (release && helper_pending(p->helpers[wk->hi]) == 0) {
		helper_return(p, wk->hi);
		wk->hi = -1;
	}
}

/* A helper for the next request, running the registered documents and
 * detectors in force: when either changed, its outstanding requests are
 * answered first, then it restarts with the new ones. */
static struct helper *
helper_for_request(struct worker *wk)
{
	struct worker_pool *p = wk->pool;
	if (wk->hi < 0) {
		wk->hi = helper_borrow(p);
		wk->sent_since_borrow = 0;
	}
	wk->sent_since_borrow++;
	struct helper *h = p->helpers[wk->hi];
	pthread_mutex_lock(&p->hlock);
	char *det = NULL;
	bool set = p->hdet[wk->hi] != p->det_version;
	if (set) {
		det = p->detectors ? lw_strdup(p->detectors) : NULL;
		p->hdet[wk->hi] = p->det_version;
	}
	pthread_mutex_unlock(&p->hlock);
	int64_t gen = atomic_load(&p->fp_gen);
	bool restart = helper_fp_gen(h) >= 0 && helper_fp_gen(h) != gen;
	if (set || restart) {
		while (helper_pending(h) > 0) {
			collect_one(wk, false);
		}
		if (restart) {
			helper_restart(h); /* registered documents changed */
		}
		if (set) {
			helper_set_detectors(h, det); /* this thread holds the helper */
		}
	}
	free(det);
	return h;
}

/* Hands the open file to the worker's helper. @f->rec holds the hash when
 * the worker read the file itself (f->helper_hashes false). */
static void
submit(struct worker *wk, struct inflight *f, const char *path)
{
	struct helper *h = helper_for_request(wk);
	f->tag = atomic_load(&wk->pool->det_tag);
	f->gen = atomic_load(&wk->pool->fp_gen);
	char hex[LW_SHA256_HEX_LEN + 1];
	if (!f->helper_hashes) {
		lw_hex(f->rec.sha256, LW_SHA256_LEN, hex);
	}
	helper_submit(h, f->fd, path, f->helper_hashes ? NULL : hex, (int64_t)f->fst.st_size, f);
}

/* Records the helper's findings in @rec. */
static void
apply_findings(struct worker *wk, cJSON *o, int64_t used_gen, int64_t tag,
	       struct file_rec *rec)
{
	/* keep what the inventory needs; type and size are the agent's own */
	cJSON_DeleteItemFromObject(o, WIRE_KEY_SHA256);
	cJSON_DeleteItemFromObject(o, WIRE_KEY_SIZE);
	cJSON_DeleteItemFromObject(o, WIRE_KEY_TYPE);
	const cJSON *cl = cJSON_GetObjectItem(o, WIRE_KEY_CLASSIFICATION);
	int rank = store_rank_of(cJSON_GetStringValue(cJSON_GetObjectItem(cl, WIRE_KEY_LEVEL)));
	/* A copy or excerpt of a registered document carries its label's
	 * level, marked or not: that is what registration is for. */
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(o, WIRE_KEY_MATCHES))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, WIRE_KEY_MATCH_ID));
		char label[128];
		struct marking_line ml;
		if (id && fpstore_label(store_db(wk->st), id, label, sizeof(label)) == 1 &&
		    marking_parse_line(label, strlen(label), MARKING_MODE_METADATA, &ml) !=
			    MARKING_STRENGTH_NONE &&
		    (int)ml.level > rank) {
			rank = (int)ml.level;
		}
	}
	rec->rank = rank > 0 ? rank : 0;
	char *s = cJSON_PrintUnformatted(o);
	free(rec->findings);
	rec->findings = lw_strdup(s);
	cJSON_free(s);
	rec->fp_gen = row_gen(used_gen, tag);
}

/* Carries what an earlier row knew about the same content. */
static void
carry(struct file_rec *rec, const struct file_rec *old)
{
	memcpy(rec->sha256, old->sha256, LW_SHA256_LEN);
	rec->has_sha = true;
	memcpy(rec->type, old->type, sizeof(rec->type));
	free(rec->findings);
	rec->findings = old->findings ? lw_strdup(old->findings) : NULL;
	rec->rank = old->rank;
	rec->fp_gen = old->fp_gen;
}

enum step {
	STEP_DONE,    /* recorded (or nothing to record) */
	STEP_AGAIN,   /* look again: wq_done(..., true) */
	STEP_HELPER,  /* with the classify helper; collect_one() finishes it */
};

/* Files up to what the helper examines (classify.max_file_mb) are hashed
 * by the helper as it reads them (one read); bigger ones by the worker
 * first, so that the helper never reads past its cap and its time limit
 * never has to cover hashing a huge file. */
static int64_t
helper_hash_max(const struct worker_pool *p)
{
	return (int64_t)p->hopts.lim.v[CLASSIFY_MAX_FILE_MB] << 20;
}
/* Files a worker sends to a borrowed helper before it lets a waiting
 * worker have it: workers outnumber helpers, and each waiting worker holds
 * a file that would otherwise wait for the whole burst. */
#define HELPER_SHARE (4 * HELPER_WINDOW)

/* The first look at the path. Returns false when that settles it: gone
 * (or a directory, which is the watcher's), or an error recorded. */
static bool
stat_path(struct worker *wk, struct wq_item *it, struct stat *st)
{
	if (fstatat(AT_FDCWD, it->path, st, AT_SYMLINK_NOFOLLOW) < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR) {
			writer_gone(wk->pool->wr, it->path, it->len);
		} else {
			struct file_rec rec = {.kind = FILE_KIND_REGULAR};
			rec.error = lw_asprintf("stat: %s", strerror(e));
			put(wk, it, &rec);
		}
		return false;
	}
	if (S_ISDIR(st->st_mode)) {
		/* the watcher handles directories; a file row at this path is
		 * stale */
		writer_gone(wk->pool->wr, it->path, it->len);
		return false;
	}
	return true;
}

static void
read_link_target(const char *path, struct file_rec *rec)
{
	char target[4096];
	ssize_t n = readlink(path, target, sizeof(target));
	if (n >= 0) {
		rec->link_target = lw_malloc((size_t)n + 1);
		memcpy(rec->link_target, target, (size_t)n);
		rec->link_target[n] = '\0';
		rec->link_len = (size_t)n;
	}
}

/* What the inventory already knows decides how much work is left: nothing
 * (unchanged), classification only (registered documents or detectors
 * changed since), or reading and hashing too (*need_hash). Returns true
 * when the item is finished: unchanged, not a regular file (FIFOs, sockets,
 * devices are never opened), or content known under another name. */
static bool
use_inventory(struct worker *wk, struct wq_item *it, const struct stat *st,
	      struct file_rec *rec, bool classifying, bool *need_hash)
{
	int64_t gen = row_gen(atomic_load(&wk->pool->fp_gen), atomic_load(&wk->pool->det_tag));
	struct file_rec old = {0};
	bool lookups = lookups_begin(wk);
	*need_hash = true;
	if (lookups && store_lookup_path(wk->st, it->path, it->len, &old) == 1 &&
	    unchanged(&old, rec)) {
		if (!S_ISREG(st->st_mode) || !classifying || old.fp_gen == gen) {
			file_rec_fini(rec);
			seen(wk, it, &old);
			return true;
		}
		carry(rec, &old);
		*need_hash = false;
	}
	file_rec_fini(&old);
	if (!S_ISREG(st->st_mode)) {
		put(wk, it, rec);
		return true;
	}
	/* Same inode and content stamp elsewhere (a rename, a hard link, a
	 * chmod): carry the hash and findings over. */
	if (*need_hash && lookups &&
	    store_lookup_inode(wk->st, st->st_dev, st->st_ino, st->st_size, ts_ns(&st->st_mtim),
			       &old) == 1) {
		carry(rec, &old);
		file_rec_fini(&old);
		*need_hash = false;
		if (!classifying || rec->fp_gen == gen) {
			put(wk, it, rec);
			return true;
		}
	}
	return false;
}

/* Opens the file @st described, and checks that it is still that file.
 * Returns the fd with *fst its status, or -1 with *step saying what
 * became of the item (and @rec consumed). */
static int
open_same(struct worker *wk, struct wq_item *it, const struct stat *st, struct file_rec *rec,
	  struct stat *fst, enum step *step)
{
	int fd = open(it->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM) {
		/* O_NOATIME needs ownership or CAP_FOWNER */
		fd = open(it->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;
		file_rec_fini(rec);
		*step = STEP_DONE;
		if (e == ENOENT || e == ENOTDIR) {
			writer_gone(wk->pool->wr, it->path, it->len);
		} else if (e == ELOOP) {
			*step = STEP_AGAIN; /* replaced by a symlink: look again */
		} else {
			rec_from_stat(rec, st);
			rec->error = lw_asprintf("open: %s", strerror(e));
			put(wk, it, rec);
		}
		return -1;
	}
	if (fstat(fd, fst) < 0 || fst->st_dev != st->st_dev || fst->st_ino != st->st_ino ||
	    !S_ISREG(fst->st_mode)) {
		close(fd);
		file_rec_fini(rec);
		*step = STEP_AGAIN; /* replaced between stat and open */
		return -1;
	}
	rec_from_stat(rec, fst);
	return fd;
}

/* The worker's own read: the type from the head when the helper will hash
 * the file (@helper_hashes), else the whole file hashed when @need_hash.
 * Returns false when that settles the item (*step; @fd closed). */
static bool
read_own_part(struct worker *wk, struct wq_item *it, int fd, const struct stat *fst,
	      struct file_rec *rec, bool need_hash, bool helper_hashes, enum step *step)
{
	if (helper_hashes) {
		ssize_t n = pread(fd, wk->buf, FILETYPE_HEAD_BYTES, 0);
		const char *t = filetype_sniff(wk->buf, n > 0 ? (size_t)n : 0,
					       (unsigned long long)fst->st_size, NULL);
		snprintf(rec->type, sizeof(rec->type), "%s", t);
		return true;
	}
	if (!need_hash) {
		return true;
	}
	int r = hash_open_file(wk, fd, fst, rec);
	if (r < 0) {
		close(fd);
		rec->has_sha = false;
		rec->error = lw_asprintf("read: %s", strerror(-r));
		log_warn_ratelimit(&worker_rl, "worker: %s: read: %s", it->path, strerror(-r));
		put(wk, it, rec);
		*step = STEP_DONE;
		return false;
	}
	if (r == 1) {
		if (it->retries < WORKER_MAX_RETRIES) {
			close(fd);
			file_rec_fini(rec);
			*step = STEP_AGAIN;
			return false;
		}
		rec->error = lw_strdup("unstable: changed while being read");
	}
	return true;
}

/* Looks at the path and records what it can; a regular file whose findings
 * are needed goes to the helper in a free slot and is finished when the
 * answer comes (finish()). */
static enum step
examine(struct worker *wk, struct wq_item *it)
{
	/* before the first look at the path: see writer_dir_gen() */
	wk->dir_gen = writer_dir_gen(wk->pool->wr);
	struct stat st;
	if (!stat_path(wk, it, &st)) {
		return STEP_DONE;
	}
	struct file_rec rec = {0};
	rec_from_stat(&rec, &st);
	if (S_ISLNK(st.st_mode)) {
		read_link_target(it->path, &rec);
	}
	bool classifying = wk->pool->classify;
	bool need_hash;
	if (use_inventory(wk, it, &st, &rec, classifying, &need_hash)) {
		return STEP_DONE;
	}
	enum step step;
	struct stat fst;
	int fd = open_same(wk, it, &st, &rec, &fst, &step);
	if (fd < 0) {
		return step;
	}
	bool helper_hashes = need_hash && classifying && fst.st_size <= helper_hash_max(wk->pool);
	if (!read_own_part(wk, it, fd, &fst, &rec, need_hash, helper_hashes, &step)) {
		return step;
	}
	struct inflight local;
	struct inflight *f = classifying ? wk->free_slots[--wk->nfree] : &local;
	*f = (struct inflight){.it = it, .fd = fd, .fst = fst, .rec = rec,
			       .helper_hashes = helper_hashes, .dir_gen = wk->dir_gen};
	if (classifying) {
		submit(wk, f, it->path);
		return STEP_HELPER;
	}
	return finish(wk, f, NULL) ? STEP_AGAIN : STEP_DONE;
}

/* The rest of a file after its classification (@json: the helper's answer,
 * taken; NULL without classification): the hash from the helper, or from
 * the worker when the helper failed; the checks that the file did not
 * change meanwhile; the record. Closes the file. Returns true if the item
 * must be processed again. */
static bool
finish(struct worker *wk, struct inflight *f, char *json)
{
	struct wq_item *it = f->it;
	struct file_rec *rec = &f->rec;
	wk->dir_gen = f->dir_gen; /* put() reports when the path was looked at */
	int fd = f->fd;
	if (json) {
		/* Strictly: the helper parses hostile files, so its answer is
		 * untrusted too; a duplicate "classification" must not let a
		 * compromised helper show one level and store another. */
		AUTOJSON cJSON *o = NULL;
		struct lw_json_error je;
		bool malformed = lw_json_parse(json, strlen(json), LW_JSON_BYTES, &o, &je) < 0 ||
				 !cJSON_IsObject(o);
		if (malformed) {
			cJSON_Delete(o);
			o = NULL;
		}
		free(json);
		const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(o, WIRE_KEY_SHA256));
		if (f->helper_hashes) {
			rec->has_sha = hex && lw_unhex_sha256(hex, rec->sha256) == 0;
		}
		if (f->helper_hashes && !rec->has_sha) {
			/* the helper failed before hashing (crash, limit): the
			 * inventory still gets the hash */
			int r = hash_open_file(wk, fd, &f->fst, rec);
			if (r < 0) {
				rec->has_sha = false;
				rec->error = lw_asprintf("read: %s", strerror(-r));
			} else if (r == 1 && !rec->error) {
				if (it->retries < WORKER_MAX_RETRIES) {
					close(fd);
					file_rec_fini(rec);
					return true;
				}
				rec->error = lw_strdup("unstable: changed while being read");
			}
		}
		if (malformed && !rec->error) {
			rec->error = lw_strdup("classify: the helper's answer is malformed");
		}
		if (o) {
			int64_t used = f->used_gen >= 0 ? f->used_gen : f->gen;
			apply_findings(wk, o, used, f->tag, rec);
		}
		/* The helper reads the file on its own (after the worker's
		 * hash, when the worker hashed): if the file changed in
		 * between, the findings describe other bytes than the hash
		 * (seen: an empty file's hash with the findings of the text
		 * written into it a moment later). */
		struct stat after;
		if (fstat(fd, &after) == 0 &&
		    (after.st_size != f->fst.st_size ||
		     ts_ns(&after.st_mtim) != ts_ns(&f->fst.st_mtim) ||
		     ts_ns(&after.st_ctim) != ts_ns(&f->fst.st_ctim)) &&
		    !rec->error) {
			if (it->retries < WORKER_MAX_RETRIES) {
				close(fd);
				file_rec_fini(rec);
				return true;
			}
			rec->error = lw_strdup("unstable: changed while being classified");
		}
	}
	close(fd);
	/* Still the file we read at this path? Otherwise its event will or
	 * did requeue the path; recording now could resurrect a renamed path. */
	struct stat now;
	if (fstatat(AT_FDCWD, it->path, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_dev != f->fst.st_dev || now.st_ino != f->fst.st_ino) {
		file_rec_fini(rec);
		return true;
	}
	put(wk, it, rec);
	return false;
}

/* Pops work while its helper has room, and collects answers when it has
 * none or nothing can be popped: a worker keeps up to HELPER_WINDOW files
 * with the helper instead of waiting for each. It blocks on the queue only
 * with nothing outstanding, so a barrier, which waits for every busy item,
 * never waits for a worker that waits for it. */
static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct worker_pool *p = wk->pool;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		bool holding = wk->hi >= 0;
		/* Full window; or other workers wait for a helper and this one
		 * has had its share: finish what it has (and so give the
		 * helper back) before taking more. */
		if (holding && (wk->nfree == 0 || (wk->sent_since_borrow >= HELPER_SHARE &&
						   atomic_load(&p->hwaiters) > 0))) {
			collect_one(wk, true);
			continue;
		}
		struct wq_item *it = wq_trypop(p->q);
		if (!it && holding) {
			collect_one(wk, true);
			continue;
		}
		if (!it) {
			/* going idle: do not hold a snapshot (and the WAL) */
			lookups_end(wk);
			it = wq_pop(p->q);
			if (!it) {
				break;
			}
		}
		if (it->kind == WQ_ITEM_BARRIER) {
			watcher_barrier(it->payload);
			wq_done(p->q, it, false);
			continue;
		}
		enum step r = examine(wk, it);
		if (r != STEP_HELPER) {
			wq_done(p->q, it, r == STEP_AGAIN);
		}
	}
	return NULL;
}

void
worker_pool_set_fp_gen(struct worker_pool *p, int64_t gen)
{
	atomic_store(&p->fp_gen, gen);
}

void
worker_pool_set_detectors(struct worker_pool *p, const char *json)
{
	pthread_mutex_lock(&p->hlock);
	free(p->detectors);
	p->detectors = json ? lw_strdup(json) : NULL;
	p->det_version++;
	atomic_store(&p->det_tag, detectors_tag(json));
	pthread_mutex_unlock(&p->hlock);
}

void
worker_pool_enable_lookups(struct worker_pool *p)
{
	atomic_store(&p->lookups, true);
}

int
worker_pool_start(int n, const char *db_path, bool inventory_empty,
		  const struct worker_classify *cls, struct wq *q, struct writer *w,
		  struct worker_pool **out)
{
	struct worker_pool *p = lw_new(struct worker_pool, 1);
	atomic_init(&p->lookups, !inventory_empty);
	p->classify = cls && cls->enabled;
	if (cls) {
		p->hopts = cls->helper;
		atomic_init(&p->fp_gen, cls->fp_gen);
		atomic_init(&p->det_tag, detectors_tag(cls->helper.detectors_json));
		p->detectors = cls->helper.detectors_json ? lw_strdup(cls->helper.detectors_json)
							  : NULL;
	}
	pthread_mutex_init(&p->hlock, NULL);
	pthread_cond_init(&p->hfree, NULL);
	if (p->classify) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		p->nhelpers = (int)(cores < 1 ? 1 : cores > n ? n : cores);
		p->helpers = lw_new(struct helper *, (size_t)p->nhelpers);
		p->hbusy = lw_new(bool, (size_t)p->nhelpers);
		p->hdet = lw_new(unsigned, (size_t)p->nhelpers);
		for (int i = 0; i < p->nhelpers; i++) {
			p->helpers[i] = helper_new(&p->hopts);
		}
	}
	p->q = q;
	p->wr = w;
	p->workers = lw_new(struct worker, (size_t)n);
	for (int i = 0; i < n; i++) {
		struct worker *wk = &p->workers[i];
		char err[512];
		int r = store_open(db_path, DB_MODE_READER, &wk->st, err, sizeof(err));
		if (r < 0) {
			log_err("worker: %s", err);
			p->n = i;
			wq_close(q);
			worker_pool_join(p);
			return r;
		}
		wk->pool = p;
		wk->hi = -1;
		for (size_t k = 0; k < HELPER_WINDOW; k++) {
			wk->free_slots[wk->nfree++] = &wk->slots[k];
		}
		wk->sha = lw_sha256_new();
		wk->buf = lw_malloc(WORKER_BUF_SIZE);
		r = pthread_create(&wk->thread, NULL, worker_main, wk);
		if (r != 0) {
			store_close(wk->st);
			lw_sha256_free(wk->sha);
			free(wk->buf);
			p->n = i;
			wq_close(q);
			worker_pool_join(p);
			return -r;
		}
		char name[16];
		snprintf(name, sizeof(name), "lw-worker%d", i % 1000);
		pthread_setname_np(wk->thread, name);
		p->n = i + 1;
	}
	*out = p;
	return 0;
}

void
worker_pool_join(struct worker_pool *p)
{
	if (!p) {
		return;
	}
	for (int i = 0; i < p->n; i++) {
		struct worker *wk = &p->workers[i];
		pthread_join(wk->thread, NULL);
		lookups_end(wk);
		store_close(wk->st);
		lw_sha256_free(wk->sha);
		free(wk->buf);
	}
	free(p->workers);
	for (int i = 0; i < p->nhelpers; i++) {
		helper_free(p->helpers[i]);
	}
	free(p->helpers);
	free(p->hbusy);
	free(p->hdet);
	free(p->detectors);
	pthread_mutex_destroy(&p->hlock);
	pthread_cond_destroy(&p->hfree);
	free(p);
}
