/* test-ratelimit.c — the collector's per-name token buckets
 * (collector/ratelimit.c), on an injected clock. */
#include <malloc.h>
#include <stdio.h>

#include "harness.h"
#include "mem.h"
#include "ratelimit.h"

/* Takes up to @max tokens for @name at @now; returns how many were given. */
static int
drain(struct ratelimit *rl, const char *name, long long now, int max)
{
	int n = 0;
	while (n < max && ratelimit_take(rl, name, now)) {
		n++;
	}
	return n;
}

static void
test_burst(void)
{
	struct ratelimit *rl = ratelimit_new(60, 5);
	th_inteq(drain(rl, "ws-a", 1000, 100), 5, "a new name gets its burst, then no more");
	th_ok(!ratelimit_take(rl, "ws-a", 1000), "an empty bucket says no");
	ratelimit_free(rl);
}

/* 60 a minute is one a second; the bucket never holds more than the burst */
static void
test_refill(void)
{
	struct ratelimit *rl = ratelimit_new(60, 5);
	drain(rl, "ws-a", 1000, 100);
	th_ok(!ratelimit_take(rl, "ws-a", 1500), "half a token after 0.5 s is none");
	th_ok(ratelimit_take(rl, "ws-a", 2000), "one token after 1 s");
	th_ok(!ratelimit_take(rl, "ws-a", 2000), "and only one");
	th_inteq(drain(rl, "ws-a", 5000, 100), 3, "three more after 3 s more");
	th_inteq(drain(rl, "ws-a", 3600 * 1000, 100), 5, "an hour later: the burst, not 3,600");
	th_ok(!ratelimit_take(rl, "ws-a", 3599 * 1000), "a clock going back gives nothing");
	ratelimit_free(rl);
}

/* one agent's flood leaves the others their whole burst */
static void
test_independent(void)
{
	struct ratelimit *rl = ratelimit_new(60, 3);
	drain(rl, "ws-flood", 1000, 100);
	th_inteq(drain(rl, "ws-b", 1000, 100), 3, "another name keeps its burst");
	th_inteq(drain(rl, "ws-bb", 1000, 100), 3, "a name sharing a prefix is another name");
	th_ok(!ratelimit_take(rl, "ws-flood", 1000), "the flooder stays limited");
	ratelimit_free(rl);
}

/* Names unseen for long are forgotten; a forgotten name starts full, which
 * is what it would have refilled to anyway, and a busy one is kept. */
static void
test_forgetting(void)
{
	struct ratelimit *rl = ratelimit_new(60, 2);
	char name[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "ws-%d", i);
		drain(rl, name, 1000, 2);
	}
	th_ok(!ratelimit_take(rl, "ws-42", 1000), "drained names are empty");
	/* 2 tokens at 1/s refill in 2 s: after the sweep (every 60 s) the
	 * buckets are gone and each name starts with its burst again */
	th_inteq(drain(rl, "ws-42", 62000, 100), 2, "after a sweep: the burst again, no more");
	th_inteq(drain(rl, "ws-9999", 62000, 100), 2, "the last name too");
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

/* The sweep forgets only buckets that are full again: one still refilling
 * is kept with what it holds, or a flooder would get a fresh burst every
 * minute. */
static void
test_sweep_keeps_refilling(void)
{
	struct ratelimit *rl = ratelimit_new(1, 5); /* one a minute: full after 5 min */
	th_inteq(drain(rl, "ws-slow", 1000, 100), 5, "slow bucket drained");
	/* 61 s later another name triggers a sweep; ws-slow has refilled one
	 * token, not five */
	th_ok(ratelimit_take(rl, "ws-other", 62001), "another name's take runs the sweep");
	th_inteq(drain(rl, "ws-slow", 62001, 100), 1,
		 "a bucket still refilling survives the sweep (one token after 61 s)");
	/* quiet for more than 5 minutes: forgotten, back with exactly the burst */
	th_inteq(drain(rl, "ws-slow", 62001 + 6 * 60000, 100), 5,
		 "forgotten after it would be full: the burst, no more");
	ratelimit_free(rl);
}

/* Memory stays bounded by the active set: a crowd of names that went
 * quiet is freed by the next sweep. Seen through glibc's allocator
 * counters, which AddressSanitizer's allocator does not keep. */
static void
test_sweep_frees(void)
{
	if (LW_ASAN || mallinfo2().uordblks == 0) {
		/* no allocator counters under ASan or Valgrind: nothing to
		 * measure, and no check that could not fail */
		return;
	}
	struct ratelimit *rl = ratelimit_new(600, 10); /* full again after 1 s */
	size_t base = mallinfo2().uordblks;
	char name[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "ws-a-name-long-enough-to-weigh-%d", i);
		ratelimit_take(rl, name, 1000);
	}
	size_t crowd = mallinfo2().uordblks - base;
	th_ok(crowd > 20000 * 32, "20000 names hold memory (%zu bytes)", crowd);
	ratelimit_take(rl, "ws-survivor", 62001);
	size_t left = mallinfo2().uordblks - base;
	th_ok(left < crowd / 100, "a sweep frees the idle names (%zu of %zu bytes left)", left,
	      crowd);
	ratelimit_free(rl);
}

int
main(void)
{
	test_burst();
	test_refill();
	test_independent();
	test_forgetting();
	test_sweep_keeps_refilling();
	test_sweep_frees();
	return th_done();
}
