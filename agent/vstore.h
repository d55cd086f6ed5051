/* vstore.h — the violation tables of the agent database (schema 3 in
 * store.c): the event log (outbox, hash-chained), violations, the
 * de-duplication state and quarantined files. The writer thread uses one
 * vstore on its connection; the CLI opens its own for queries and for
 * `quarantine restore`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "store.h"

struct vstore;

struct vstore *vstore_new(struct store *st); /* borrows the connection */
void vstore_free(struct vstore *vs);         /* NULL is a no-op */

/* De-duplication: 1 when (@path, @rule) last raised with signature @sig. */
int vstore_state_same(struct vstore *vs, const char *path, size_t len, const char *rule,
		      const uint8_t sig[LW_SHA256_LEN]);
int vstore_state_put(struct vstore *vs, const char *path, size_t len, const char *rule,
		     const uint8_t sig[LW_SHA256_LEN]);
/* The file left @path: what it raised there may be raised again. */
int vstore_state_clear(struct vstore *vs, const char *path, size_t len);
/* The same for every path below directory @dir that has no live file now
 * (after a deleted tree or a sweep). */
int vstore_state_clear_gone_below(struct vstore *vs, const char *dir, size_t len);

/* Appends event @uuid (chain_uuid()) to the log, chained to the last one;
 * *seq gets its sequence number. */
int vstore_event_append(struct vstore *vs, const char *uuid, const char *kind,
			const char *body, int64_t now, int64_t *seq);

/* The collector acknowledged these events (a JSON array of seqs) at
 * @now: they leave the outbox. Acknowledged events are deleted except the
 * newest, whose hash the next event chains to. @now = -1: the collector
 * refused them as malformed; they leave the outbox but stay in the table
 * (acked = -1) for the administrator. */
int vstore_events_acked(struct vstore *vs, const char *seqs_json, int64_t now);
/* Bounds the events waiting for the collector (0: no bound). Over it, the
 * oldest of the least severe (sightings first) are dropped, loudly; the
 * collector sees the gap in the sequence as a chain alert. */
void vstore_set_outbox_max(struct vstore *vs, int64_t max);

/* Sightings: the last report sent for @path. 1 and fills *first_seen,
 * *deleted and *body (caller frees) when there is one, 0 when none. */
int vstore_sighting_get(struct vstore *vs, const char *path, size_t len,
			uint8_t sha[LW_SHA256_LEN], int64_t *first_seen, bool *deleted,
			char **body);
int vstore_sighting_put(struct vstore *vs, const char *path, size_t len,
			const uint8_t sha[LW_SHA256_LEN], int64_t first_seen, bool deleted,
			const char *body);
/* Paths below @dir reported present whose files are gone now. */
typedef int (*vstore_path_fn)(const char *path, size_t len, void *ctx);
int vstore_sightings_gone_below(struct vstore *vs, const char *dir, size_t len,
				vstore_path_fn fn, void *ctx);

struct vstore_violation {
	int64_t seq;
	const char *uuid;
	int64_t time;
	const char *rule;
	int severity;
	const char *action;
	const char *action_result;
	const char *event;
	const char *path;
	size_t len;
	const char *from; /* NULL when none */
	size_t from_len;
	const uint8_t *sha256; /* NULL when none */
	int64_t uid;
	int64_t count;          /* bulk violations; 0 otherwise */
	const char *quarantine; /* the quarantine id, NULL when none */
	const char *body;
};
int vstore_violation_put(struct vstore *vs, const struct vstore_violation *v);

/* 1 when the administrator restored this content to this path from
 * quarantine: quarantining it again would undo their decision. */
int vstore_released(struct vstore *vs, const char *path, size_t len,
		    const uint8_t sha[LW_SHA256_LEN]);

struct vstore_quarantine {
	const char *id;
	const char *violation;
	int64_t time;
	const char *path;
	size_t len;
	const char *stored; /* where the file is now */
	const uint8_t *sha256;
	int64_t size;
	uint32_t mode, uid, gid;
	int64_t mtime_ns;
	int64_t restored_at; /* 0 while quarantined */
};
int vstore_quarantine_put(struct vstore *vs, const struct vstore_quarantine *q);
/* 1 and fills @q (strings valid until the next call on @vs), 0 if none. */
int vstore_quarantine_get(struct vstore *vs, const char *id, struct vstore_quarantine *q);
int vstore_quarantine_restored(struct vstore *vs, const char *id, int64_t now);
typedef int (*vstore_quarantine_fn)(const struct vstore_quarantine *q, void *ctx);
int vstore_quarantine_foreach(struct vstore *vs, vstore_quarantine_fn fn, void *ctx);

/* Violations since @since (ns), at least @min_severity, of @rule (NULL:
 * any), oldest first; the callback gets the stored body. */
typedef int (*vstore_violation_fn)(int64_t id, int64_t time, const char *body, void *ctx);
int vstore_violation_foreach(struct vstore *vs, int64_t since, int min_severity,
			     const char *rule, vstore_violation_fn fn, void *ctx);

/* The newest event of the log (the chain head): 1 and *seq, @hash (65
 * bytes), 0 when the log is empty. Acknowledged events are deleted except
 * this one, so it is all the agent can state; the collector has the rest. */
int vstore_chain_head(struct vstore *vs, int64_t *seq, char hash[LW_SHA256_HEX_LEN + 1]);

/* The policy with digest @sha256 (@rules rules) is in force from @time
 * (ns): recorded unless it is the one recorded last. */
int vstore_policy_loaded(struct vstore *vs, int64_t time, const char *sha256, long rules);
typedef int (*vstore_policy_fn)(int64_t time, const char *sha256, long rules, void *ctx);
/* The loads of [since, until) (ns), oldest first. */
int vstore_policy_foreach(struct vstore *vs, int64_t since, int64_t until, vstore_policy_fn fn,
			  void *ctx);
