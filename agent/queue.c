/* queue.c — coalescing FIFO with per-path exclusivity (see queue.h).
 * Owns its items; one mutex guards everything; any thread. */
#include "queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct wq {
	pthread_mutex_t lock;
	pthread_cond_t can_pop;
	pthread_cond_t can_push;
	struct wq_item *head, *tail; /* FIFO of queued (not busy) items */
	/* The queued barriers in FIFO order, chained through hnext (they are
	 * never in the path table). */
	struct wq_item *barriers, *barriers_tail;
	struct wq_item **buckets;    /* every path item, queued or busy */
	size_t nbuckets;
	size_t npaths;
	size_t nbusy;
	size_t capacity;
	size_t push_waiters;
	bool closed;
};

static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct wq *
wq_new(size_t capacity)
{
	struct wq *q = lw_new(struct wq, 1);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->can_pop, NULL);
	pthread_cond_init(&q->can_push, NULL);
	q->nbuckets = 1024;
	q->buckets = lw_new(struct wq_item *, q->nbuckets);
	q->capacity = capacity ? capacity : 1;
	return q;
}

static void
item_free(struct wq_item *it)
{
	lw_proc_unref(it->proc);
	free(it->path);
	free(it);
}

void
wq_free(struct wq *q)
{
	if (!q) {
		return;
	}
	for (struct wq_item *it = q->head; it;) {
		struct wq_item *next = it->next;
		if (it->kind == WQ_ITEM_BARRIER) {
			free(it->payload);
		}
		if (it->kind == WQ_ITEM_BARRIER || !it->busy) {
			item_free(it);
		}
		it = next;
	}
	free(q->buckets);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->can_pop);
	pthread_cond_destroy(&q->can_push);
	free(q);
}

static void
fifo_append(struct wq *q, struct wq_item *it)
{
	it->next = NULL;
	it->prev = q->tail;
	if (q->tail) {
		q->tail->next = it;
	} else {
		q->head = it;
	}
	q->tail = it;
}

static void
fifo_unlink(struct wq *q, struct wq_item *it)
{
	if (it->prev) {
		it->prev->next = it->next;
	} else {
		q->head = it->next;
	}
	if (it->next) {
		it->next->prev = it->prev;
	} else {
		q->tail = it->prev;
	}
	it->prev = it->next = NULL;
}

static struct wq_item *
table_find(struct wq *q, const char *path, size_t len, uint64_t h)
{
	for (struct wq_item *it = q->buckets[h & (q->nbuckets - 1)]; it; it = it->hnext) {
		if (it->hash == h && it->len == len && memcmp(it->path, path, len) == 0) {
			return it;
		}
	}
	return NULL;
}

static void
table_insert(struct wq *q, struct wq_item *it)
{
	if (q->npaths + 1 > q->nbuckets) {
		size_t nb = q->nbuckets * 2;
		struct wq_item **b = lw_new(struct wq_item *, nb);
		for (size_t i = 0; i < q->nbuckets; i++) {
			for (struct wq_item *x = q->buckets[i]; x;) {
				struct wq_item *next = x->hnext;
				x->hnext = b[x->hash & (nb - 1)];
				b[x->hash & (nb - 1)] = x;
				x = next;
			}
		}
		free(q->buckets);
		q->buckets = b;
		q->nbuckets = nb;
	}
	struct wq_item **slot = &q->buckets[it->hash & (q->nbuckets - 1)];
	it->hnext = *slot;
	*slot = it;
	q->npaths++;
}

static void
table_remove(struct wq *q, struct wq_item *it)
{
	struct wq_item **p = &q->buckets[it->hash & (q->nbuckets - 1)];
	while (*p != it) {
		p = &(*p)->hnext;
	}
	*p = it->hnext;
	q->npaths--;
}

static void
set_proc(struct wq_item *it, struct lw_proc *proc)
{
	if (!proc || (it->proc && proc->exited && it->proc->pid == proc->pid)) {
		return;
	}
	lw_proc_unref(it->proc);
	it->proc = lw_proc_ref(proc);
}

void
wq_push(struct wq *q, const char *path, size_t len)
{
	wq_push_by(q, path, len, NULL);
}

struct lw_proc *
wq_item_proc(struct wq *q, struct wq_item *it)
{
	pthread_mutex_lock(&q->lock);
	struct lw_proc *p = lw_proc_ref(it->proc);
	pthread_mutex_unlock(&q->lock);
	return p;
}

void
wq_push_by(struct wq *q, const char *path, size_t len, struct lw_proc *proc)
{
	uint64_t h = hash_bytes(path, len);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct wq_item *it = table_find(q, path, len, h);
		if (it) {
			if (it->busy) {
				it->dirty = true;
			}
			set_proc(it, proc);
			it->retries = 0; /* a fresh event: the retry budget starts over */
			break;
		}
		if (q->npaths < q->capacity) {
			it = lw_new(struct wq_item, 1);
			it->kind = WQ_ITEM_PATH;
			it->path = lw_malloc(len + 1);
			memcpy(it->path, path, len);
			it->path[len] = '\0';
			it->len = len;
			it->hash = h;
			set_proc(it, proc);
			table_insert(q, it);
			fifo_append(q, it);
			pthread_cond_signal(&q->can_pop);
			break;
		}
		q->push_waiters++;
		pthread_cond_wait(&q->can_push, &q->lock);
		q->push_waiters--;
	}
	pthread_mutex_unlock(&q->lock);
}

/* Links @it into the FIFO just before @at. */
static void
fifo_insert_before(struct wq *q, struct wq_item *it, struct wq_item *at)
{
	it->next = at;
	it->prev = at->prev;
	if (at->prev) {
		at->prev->next = it;
	} else {
		q->head = it;
	}
	at->prev = it;
}

/* A path item to run once more. It was first pushed before every barrier
 * now queued (it was past them all when popped), so it goes ahead of the
 * first: a barrier must not pass a file its walk listed while a worker
 * held it, or the walk's sweep would see that file's old stamp and mark it
 * deleted. A file rewritten without pause would hold a barrier back for
 * ever that way; after WQ_REQUEUE_AHEAD it queues at the back, and the
 * writer puts back a row such a sweep removed (writer_seen()). */
#define WQ_REQUEUE_AHEAD 8

static void
requeue(struct wq *q, struct wq_item *it)
{
	if (q->barriers && it->requeued < WQ_REQUEUE_AHEAD) {
		it->requeued++;
		fifo_insert_before(q, it, q->barriers);
	} else {
		fifo_append(q, it);
	}
}

void
wq_push_barrier(struct wq *q, void *payload)
{
	struct wq_item *it = lw_new(struct wq_item, 1);
	it->kind = WQ_ITEM_BARRIER;
	it->payload = payload;
	pthread_mutex_lock(&q->lock);
	if (q->barriers_tail) {
		q->barriers_tail->hnext = it;
	} else {
		q->barriers = it;
	}
	q->barriers_tail = it;
	fifo_append(q, it);
	pthread_cond_signal(&q->can_pop);
	pthread_mutex_unlock(&q->lock);
}

static struct wq_item *
pop(struct wq *q, bool wait)
{
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct wq_item *it = q->head;
		/* A barrier waits at the head until everything before it is done. */
		if (it && (it->kind == WQ_ITEM_PATH || q->nbusy == 0)) {
			fifo_unlink(q, it);
			if (it->kind == WQ_ITEM_PATH) {
				it->busy = true;
				q->nbusy++;
			} else {
				/* barriers leave in order: this is the first */
				q->barriers = it->hnext;
				if (!q->barriers) {
					q->barriers_tail = NULL;
				}
			}
			pthread_mutex_unlock(&q->lock);
			return it;
		}
		if (!wait || (!it && q->closed && q->nbusy == 0)) {
			if (wait) {
				pthread_cond_broadcast(&q->can_pop);
			}
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		pthread_cond_wait(&q->can_pop, &q->lock);
	}
}

struct wq_item *
wq_pop(struct wq *q)
{
	return pop(q, true);
}

struct wq_item *
wq_trypop(struct wq *q)
{
	return pop(q, false);
}

void
wq_done(struct wq *q, struct wq_item *it, bool again)
{
	if (it->kind == WQ_ITEM_BARRIER) {
		free(it);
		return;
	}
	pthread_mutex_lock(&q->lock);
	it->busy = false;
	q->nbusy--;
	if (again || it->dirty) {
		it->retries = again ? it->retries + 1 : 0;
		it->dirty = false;
		requeue(q, it);
		pthread_cond_signal(&q->can_pop);
	} else {
		table_remove(q, it);
		item_free(it);
		if (q->push_waiters) {
			pthread_cond_signal(&q->can_push);
		}
	}
	/* Poppers wait on a barrier at the head only for nbusy to reach 0, and
	 * after close for the queue to drain: wake them all only then. */
	if (q->nbusy == 0 && (q->closed || (q->head && q->head->kind == WQ_ITEM_BARRIER))) {
		pthread_cond_broadcast(&q->can_pop);
	}
	pthread_mutex_unlock(&q->lock);
}

static bool
is_below(const char *path, size_t len, const char *dir, size_t dlen)
{
	return len > dlen && path[dlen] == '/' && memcmp(path, dir, dlen) == 0;
}

void
wq_rekey_below(struct wq *q, const char *from, size_t flen, const char *to, size_t tlen)
{
	pthread_mutex_lock(&q->lock);
	for (struct wq_item *it = q->head; it;) {
		struct wq_item *next = it->next;
		if (it->kind == WQ_ITEM_PATH && is_below(it->path, it->len, from, flen)) {
			size_t nlen = it->len - flen + tlen;
			char *np = lw_malloc(nlen + 1);
			memcpy(np, to, tlen);
			memcpy(np + tlen, it->path + flen, it->len - flen + 1);
			uint64_t h = hash_bytes(np, nlen);
			table_remove(q, it);
			struct wq_item *dup = table_find(q, np, nlen, h);
			if (dup) {
				/* already held under its new name */
				if (dup->busy) {
					dup->dirty = true;
				}
				fifo_unlink(q, it);
				item_free(it);
				free(np);
				if (q->push_waiters) {
					pthread_cond_broadcast(&q->can_push);
				}
			} else {
				free(it->path);
				it->path = np;
				it->len = nlen;
				it->hash = h;
				table_insert(q, it);
			}
		}
		it = next;
	}
	pthread_mutex_unlock(&q->lock);
}

size_t
wq_depth(struct wq *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->npaths;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void
wq_close(struct wq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->can_pop);
	pthread_mutex_unlock(&q->lock);
}
