/* ratelimit.h — one token bucket per certificate name, so that one agent
 * flooding the collector gets 429 while the others go on.
 *
 * In memory, per collector instance (several collectors behind a balancer
 * each grant the rate). Event-loop thread only. */
#pragma once

#include <stdbool.h>

struct ratelimit;

/* @per_minute tokens refill per minute, up to @burst. */
struct ratelimit *ratelimit_new(int per_minute, int burst);
void ratelimit_free(struct ratelimit *rl); /* NULL is a no-op */
/* Takes one token for @name at monotonic time @now_ms; false if none is
 * left. Names unseen for a long time are forgotten (their bucket is full
 * again anyway), so memory stays bounded by the active set. */
bool ratelimit_take(struct ratelimit *rl, const char *name, long long now_ms);
