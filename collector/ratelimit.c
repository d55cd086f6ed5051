/* ratelimit.c — per-name token buckets in a chained hash table (see
 * ratelimit.h). */
#include "ratelimit.h"

#include <stdint.h>
#include <string.h>

#include "mem.h"

#define NBUCKETS 4096

struct bucket {
	struct bucket *next;
	double tokens;
	long long last_ms;
	char name[];
};

struct ratelimit {
	double per_ms;
	double burst;
	long long last_sweep_ms;
	struct bucket *table[NBUCKETS];
};

struct ratelimit *
ratelimit_new(int per_minute, int burst)
{
	struct ratelimit *rl = lw_new(struct ratelimit, 1);
	rl->per_ms = per_minute / 60000.0;
	rl->burst = burst;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (!rl) {
		return;
	}
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct bucket *b = rl->table[i];
		while (b) {
			struct bucket *next = b->next;
			free(b);
			b = next;
		}
	}
	free(rl);
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h = (h ^ (unsigned char)*s) * 16777619u;
	}
	return h;
}

/* A bucket refilled to full is the same as no bucket. */
static void
sweep(struct ratelimit *rl, long long now_ms)
{
	long long full_after = (long long)(rl->burst / rl->per_ms) + 1;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct bucket **pp = &rl->table[i];
		while (*pp) {
			struct bucket *b = *pp;
			if (now_ms - b->last_ms > full_after) {
				*pp = b->next;
				free(b);
			} else {
				pp = &b->next;
			}
		}
	}
	rl->last_sweep_ms = now_ms;
}

bool
ratelimit_take(struct ratelimit *rl, const char *name, long long now_ms)
{
	if (now_ms - rl->last_sweep_ms > 60000) {
		sweep(rl, now_ms);
	}
	struct bucket **head = &rl->table[fnv1a(name) % NBUCKETS];
	struct bucket *b = *head;
	while (b && strcmp(b->name, name) != 0) {
		b = b->next;
	}
	if (!b) {
		size_t n = strlen(name) + 1;
		b = lw_calloc(1, sizeof(*b) + n);
		memcpy(b->name, name, n);
		b->tokens = rl->burst;
		b->last_ms = now_ms;
		b->next = *head;
		*head = b;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->per_ms;
		if (b->tokens > rl->burst) {
			b->tokens = rl->burst;
		}
		b->last_ms = now_ms;
	}
	if (b->tokens < 1.0) {
		return false;
	}
	b->tokens -= 1.0;
	return true;
}
