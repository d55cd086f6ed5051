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

int
main(void)
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

	/* barrier waits for everything handed out before it */
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

	/* re-keying queued items after a directory rename */
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

	/* back-pressure: a full queue blocks the pusher until work is done */
	q = wq_new(4);
	struct filler f = {.q = q};
	pthread_t t;
	pthread_create(&t, NULL, fill, &f);
	usleep(100 * 1000);
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
	return th_done();
}
