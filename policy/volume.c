/* volume.c — sliding windows for bulk-staging rules (policy.h).
 *
 * Per (rule, key) a ring of the last `count` arrival times: the burst
 * reaches the count when the oldest of them is within the window. Keys are
 * few (one per machine, or one per file owner), so a list per rule is
 * enough. One owner; no locking. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct vol_key {
	unsigned rule;
	uint32_t key;
	int64_t *ring; /* the last `count` times, oldest at ring[head] once full */
	unsigned count, filled, head;
	int64_t last_ms;
	bool raised; /* this burst already produced its violation */
	struct vol_key *next;
};

struct policy_volume {
	struct vol_key *keys;
};

struct policy_volume *
policy_volume_new(void)
{
	return lw_new(struct policy_volume, 1);
}

void
policy_volume_free(struct policy_volume *v)
{
	if (!v) {
		return;
	}
	while (v->keys) {
		struct vol_key *k = v->keys;
		v->keys = k->next;
		free(k->ring);
		free(k);
	}
	free(v);
}

unsigned
policy_volume_add(struct policy_volume *v, unsigned rule, const struct policy_rule_info *ri,
		  uint32_t key, int64_t now_ms)
{
	if (!ri->volume || ri->volume_count == 0) {
		return 0;
	}
	if (ri->volume_per == POLICY_PER_MACHINE) {
		key = 0;
	}
	struct vol_key *k = v->keys;
	while (k && (k->rule != rule || k->key != key)) {
		k = k->next;
	}
	if (!k) {
		k = lw_new(struct vol_key, 1);
		k->rule = rule;
		k->key = key;
		k->count = ri->volume_count;
		k->ring = lw_new(int64_t, k->count);
		k->next = v->keys;
		v->keys = k;
	}
	int64_t window = (int64_t)ri->volume_window_s * 1000;
	if (k->filled && now_ms - k->last_ms > window) {
		/* quiet for a whole window: the burst is over */
		k->filled = 0;
		k->head = 0;
		k->raised = false;
	}
	k->last_ms = now_ms;
	/* the ring keeps the newest `count` arrivals */
	if (k->filled < k->count) {
		k->ring[(k->head + k->filled) % k->count] = now_ms;
		k->filled++;
	} else {
		k->ring[k->head] = now_ms;
		k->head = (k->head + 1) % k->count;
	}
	if (k->raised || k->filled < k->count) {
		return 0;
	}
	if (now_ms - k->ring[k->head] > window) {
		return 0; /* count arrivals, but spread wider than the window */
	}
	k->raised = true;
	return k->count;
}
