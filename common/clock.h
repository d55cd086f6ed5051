/* clock.h — the two clocks every process reads, in nanoseconds.
 *
 * Wall time (CLOCK_REALTIME) is what is stored and sent: row stamps, event
 * times, heartbeats. Monotonic time (CLOCK_MONOTONIC) is what deadlines and
 * intervals are measured in, so that a clock step by NTP or an administrator
 * can neither stretch a timeout nor cut one short. Header-only: each is
 * one vDSO call. */
#ifndef LW_CLOCK_H
#define LW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t
clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
