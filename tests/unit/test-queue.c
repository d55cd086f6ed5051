/* test-queue.c — coalescing, per-path exclusivity, re-runs, barriers,
 * re-keying and back-pressure of the work queue. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "queue.h"

static void
push(struct wq *q, const char *p)
{
	wq_push(q, p, strlen(p));
}

struct filler {
	struct wq *q;
	int pushed;
};

static void *
fill(void *arg)
{
	struct filler *f = arg;
	char p[32];
	for (int i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "/b/%d", i);
		push(f->q, p);
		__atomic_add_fetch(&f->pushed, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* coalescing, one worker per path, re-runs and retries */
static void
test_coalesce_and_rerun(void)
{
	struct wq *q = wq_new(100);
	push(q, "/a");
	push(q, "/b");
	push(q, "/a");
	th_inteq((long long)wq_depth(q), 2, "pushing a queued path coalesces");

	struct wq_item *a = wq_pop(q);
	th_streq(a->path, "/a", "FIFO order");
	push(q, "/a"); /* while /a is being processed */
	struct wq_item *b = wq_pop(q);
	th_streq(b->path, "/b", "a busy path is not handed out twice");
	wq_done(q, b, false);
	wq_done(q, a, false); /* dirty: comes back once */
	th_inteq((long long)wq_depth(q), 1, "a path touched while busy runs again");
	a = wq_pop(q);
	th_streq(a->path, "/a", "the re-run");
	th_inteq(a->retries, 0, "a re-run for a new event starts its retries at 0");
	wq_done(q, a, true); /* changed while read */
	a = wq_pop(q);
	th_inteq(a->retries, 1, "wq_done(again) counts retries");
	wq_done(q, a, false);
	th_inteq((long long)wq_depth(q), 0, "done removes the path");
	wq_free(q);
}

/* barrier waits for everything handed out before it */
static void
test_barrier(void)
{
	struct wq *q = wq_new(100);
	push(q, "/x");
	int payload = 42;
	wq_push_barrier(q, &payload);
	push(q, "/y");
	struct wq_item *x = wq_pop(q);
	th_streq(x->path, "/x", "before the barrier");
	/* /x is busy: the barrier at the head holds everything */
	wq_done(q, x, false);
	struct wq_item *bar = wq_pop(q);
	th_ok(bar->kind == WQ_ITEM_BARRIER && bar->payload == &payload,
	      "the barrier comes once /x is done");
	wq_done(q, bar, false);
	struct wq_item *y = wq_pop(q);
	th_streq(y->path, "/y", "after the barrier");
	wq_done(q, y, false);
	wq_free(q);
}

/* A path listed by a walk while a worker holds it (it goes dirty), then
 * the walk's barrier: the re-run must come before the barrier, or the
 * sweep behind it sees the file's old stamp. */
static void
test_rerun_before_barrier(void)
{
	struct wq *q = wq_new(100);
	push(q, "/w");
	struct wq_item *w1 = wq_pop(q);
	push(q, "/w"); /* the walk lists it */
	int walk = 7;
	wq_push_barrier(q, &walk);
	push(q, "/z");
	wq_done(q, w1, false);
	struct wq_item *w2 = wq_pop(q);
	th_ok(w2->kind == WQ_ITEM_PATH && strcmp(w2->path, "/w") == 0,
	      "a re-run goes ahead of a barrier pushed while it was busy");
	wq_done(q, w2, true); /* changed while read: again ahead */
	w2 = wq_pop(q);
	th_ok(w2->kind == WQ_ITEM_PATH && strcmp(w2->path, "/w") == 0,
	      "a retry goes ahead of the barrier too");
	wq_done(q, w2, false);
	struct wq_item *bar = wq_pop(q);
	th_ok(bar->kind == WQ_ITEM_BARRIER && bar->payload == &walk, "then the barrier");
	wq_done(q, bar, false);
	struct wq_item *z = wq_pop(q);
	th_streq(z->path, "/z", "then what was pushed after it");
	wq_done(q, z, false);
	wq_free(q);
}

/* a path rewritten without pause cannot hold a barrier back for ever */
static void
test_barrier_not_starved(void)
{
	struct wq *q = wq_new(100);
	int walk = 7;
	push(q, "/log");
	wq_push_barrier(q, &walk);
	int runs = 0;
	/* bounded, so that a starved barrier fails the check below instead of
	 * hanging the test */
	while (runs < 1000) {
		struct wq_item *it = wq_pop(q);
		if (it->kind == WQ_ITEM_BARRIER) {
			wq_done(q, it, false);
			break;
		}
		runs++;
		push(q, "/log"); /* written again while read */
		wq_done(q, it, false);
	}
	th_ok(runs > 1 && runs < 20, "the barrier passes after a bounded number of re-runs (%d)",
	      runs);
	struct wq_item *lg = wq_pop(q);
	th_streq(lg->path, "/log", "and the path still runs after it");
	wq_done(q, lg, false);
	th_inteq((long long)wq_depth(q), 0, "nothing left");
	wq_free(q);
}

/* re-keying queued items after a directory rename */
static void
test_rekey(void)
{
	struct wq *q = wq_new(100);
	push(q, "/d/one");
	push(q, "/d/sub/two");
	push(q, "/dx/three");
	push(q, "/e/one");
	wq_rekey_below(q, "/d", 2, "/e", 2);
	th_inteq((long long)wq_depth(q), 3, "a re-keyed path merges with one already queued");
	const char *want[] = {"/e/sub/two", "/dx/three", "/e/one"};
	for (int i = 0; i < 3; i++) {
		struct wq_item *it = wq_pop(q);
		th_streq(it->path, want[i], "re-keyed order %d", i);
		wq_done(q, it, false);
	}
	wq_free(q);
}

/* back-pressure: a full queue blocks the pusher until work is done */
static void
test_back_pressure(void)
{
	struct wq *q = wq_new(4);
	struct filler f = {.q = q};
	pthread_t t;
	pthread_create(&t, NULL, fill, &f);
	/* No timing threshold: wait (up to 10 s) for the queue to fill, then
	 * give a pusher that does not block time to overrun it. A slow
	 * machine can only make this check weaker, never make it fail. */
	for (int i = 0; i < 1000 && __atomic_load_n(&f.pushed, __ATOMIC_SEQ_CST) < 4; i++) {
		usleep(10 * 1000);
	}
	usleep(50 * 1000);
	th_inteq(__atomic_load_n(&f.pushed, __ATOMIC_SEQ_CST), 4, "the pusher waits at capacity");
	for (int i = 0; i < 10; i++) {
		struct wq_item *it = wq_pop(q);
		wq_done(q, it, false);
	}
	pthread_join(t, NULL);
	th_inteq(f.pushed, 10, "and continues as paths are done");
	wq_close(q);
	th_ok(wq_pop(q) == NULL, "a closed, empty queue returns NULL");
	wq_free(q);
}

int
main(void)
{
	test_coalesce_and_rerun();
	test_barrier();
	test_rerun_before_barrier();
	test_barrier_not_starved();
	test_rekey();
	test_back_pressure();
	return th_done();
}
