/* cstore.h — the collector's fleet storage behind one small interface, with
 * two implementations: cstore-sqlite.c (embedded default) and cstore-pg.c
 * (PostgreSQL, for several collectors in front of one database).
 *
 * A store belongs to the thread that uses it: the event loop has one for
 * queries, each storage worker (ingest.h) one for batches and heartbeats.
 * Ingestion is a transaction per agent batch: begin() locks that agent's
 * chain state (row lock in PostgreSQL, the write lock in SQLite), the batch
 * is verified and inserted, commit() makes it durable; only then are the
 * events acknowledged. Every function returns 0 (or a count/boolean where
 * said) or -errno: -EIO for a database failure (the caller answers 503 and
 * the agent retries), -EAGAIN for a conflict worth retrying at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cevent.h"
#include "wire.h"

struct cstore;

struct cstore_heartbeat {
	const char *version;      /* or NULL */
	bool has_coverage;
	double coverage;
	long long queue_depth;    /* -1: not given */
	const char *last_scan;    /* or NULL */
	long long outbox_backlog; /* -1: not given */
	/* what the compliance report's coverage section is made of */
	const char *policy_sha256; /* or NULL */
	const char *started;      /* when the agent started; or NULL */
	long long overflows;      /* since it started; -1: not given */
	long long rescans;        /* full reconciliations since it started; -1 */
	long long unwatched_dirs; /* directories without a watch now; -1 */
	long long inventory_files; /* files in its inventory; -1 */
	const char *unexamined;   /* "permission,size_cap,timeout,encrypted,other"
				   * counts, written by the collector; or NULL */
};

/* The agent's last heartbeat facts, to notice what changed (cstore.c). */
struct cstore_agent_state {
	char policy_sha256[LW_SHA256_HEX_LEN + 1]; /* "" unknown */
	char started[CEVENT_TIME_MAX + 1];         /* "" unknown */
	int64_t overflows, rescans, unwatched_dirs; /* -1 unknown */
};

/* Filters of the GET endpoints; NULL / 0 means "any". */
struct cstore_query {
	const char *since;   /* canonical RFC 3339 (rfc3339_parse_since) */
	int min_severity;    /* cevent_severity_rank */
	const char *rule;
	const char *agent;
	const char *sha256;  /* trace */
	const char *match_id;/* trace: registered document id */
	long limit;          /* > 0 */
};

/* One agent as stored. Strings may be NULL where not known. */
struct cstore_agent_row {
	const char *agent;
	const char *last_contact;
	int64_t last_seq;
	const char *version;
	bool has_coverage;
	double coverage;
	bool has_queue_depth;
	int64_t queue_depth;
	const char *last_scan;
	bool has_outbox_backlog;
	int64_t outbox_backlog;
	bool chain_ok;
};

/* One stored event: the agent's body text exactly as it arrived (the hash
 * chain covers it), with what the collector adds. */
struct cstore_event_row {
	int64_t id; /* the store's row id: the key of paged report queries */
	const char *agent;
	int64_t seq;
	const char *received;
	const char *body;
	size_t body_len;
	/* custody rows: a later sighting at the same path has other content
	 * (this content is no longer there) */
	bool superseded;
};

struct cstore_alert_row {
	const char *agent;
	const char *kind;
	int64_t seq;
	const char *detail;
	const char *time;
};

/* --- what a compliance report reads (collector/creport.c) --- */

/* One agent and what it sent in a report period [since, until), by the
 * time the collector received it (its own clock: an agent cannot move its
 * events into another period). */
struct cstore_period_agent {
	struct cstore_agent_row a;
	const char *first_contact;
	const char *policy_sha256, *started;
	bool has_inventory_files;
	int64_t inventory_files;
	const char *unexamined;   /* as in cstore_heartbeat, or NULL */
	int64_t events;           /* events received in the period */
	int64_t first_seq, last_seq; /* of those; 0 if none */
	int64_t head_seq;         /* the newest event received before until */
	const char *head_hash;    /* its hash; NULL if none */
};

/* One interval in which the agent was in contact (heartbeats or batches
 * no further apart than the collector's silent_after_s). */
struct cstore_contact {
	const char *since, *until;
};

/* What the collector noticed in an agent's heartbeats: "start" (a new
 * start time), "policy" (another policy SHA-256), "overflow" and "rescan"
 * (their counters grew: detail is how many), "watch_limit" (directories
 * without a watch: detail is how many now). */
struct cstore_note_row {
	int64_t id;
	const char *agent, *time, *kind, *detail;
};

/* One count of a report's aggregates: @what is "severity", "rule", "day",
 * "owner", "action" (violations), "alert" (alert kinds), "new",
 * "changed", "moved", "removed" (sensitive files, from sightings; @key
 * the day, YYYY-MM-DD) or "held" (classified files held at until, @key
 * "marking\tscheme\tlevel\tzones" with zones the enum cevent_zone bits). */
struct cstore_count_row {
	const char *agent, *what, *key;
	int64_t n;
};

enum cstore_report_rows {
	/* violations received in [since, until) */
	CSTORE_ROWS_VIOLATIONS,
	/* what is held at until (the newest sighting of each (agent, path)
	 * received before until, if it is not a deletion): classified files
	 * outside the secure zone */
	CSTORE_ROWS_HOLDINGS,
	/* ... and files that are excerpts of a registered document */
	CSTORE_ROWS_EXCERPTS,
	/* every sighting received before until of content that was seen
	 * arriving or leaving somewhere in [since, until), classified or
	 * registered: the chain of custody. Ordered by sha256, then id (one
	 * document's rows together); "after" is still a row id. */
	CSTORE_ROWS_CUSTODY,
};

struct cstore_report_query {
	enum cstore_report_rows rows;
	const char *since, *until; /* canonical RFC 3339 */
	const char *agent;         /* or NULL: all */
	int64_t after;             /* rows with id > after (keyset paging) */
	long limit;
};

typedef int (*cstore_period_agent_fn)(const struct cstore_period_agent *row, void *arg);
typedef int (*cstore_contact_fn)(const struct cstore_contact *row, void *arg);
typedef int (*cstore_note_fn)(const struct cstore_note_row *row, void *arg);
typedef int (*cstore_count_fn)(const struct cstore_count_row *row, void *arg);

typedef int (*cstore_agent_fn)(const struct cstore_agent_row *row, void *arg);
typedef int (*cstore_event_fn)(const struct cstore_event_row *row, void *arg);
typedef int (*cstore_alert_fn)(const struct cstore_alert_row *row, void *arg);

struct cstore_ops {
	const char *name;
	/* Starts the batch's transaction and locks @agent's chain state,
	 * creating the agent on first contact; *last_seq = highest seq
	 * stored (0 if none). */
	int (*begin)(struct cstore *s, const char *agent, int64_t *last_seq);
	/* Optional (NULL: none): told the whole batch after begin(), a store
	 * may answer has_uuid/seq_event for it from one query and insert its
	 * rows at commit (PostgreSQL: a fixed number of round trips whatever
	 * the batch's size). @evs stay the caller's until commit/rollback. */
	int (*preload)(struct cstore *s, const char *agent, const struct cevent *evs, size_t n);
	/* 1 if (agent, uuid) is stored, 0 if not: rows this transaction
	 * inserted count. */
	int (*has_uuid)(struct cstore *s, const char *agent, const char *uuid);
	/* 1 and the hash and uuid of the first stored event @seq, 0 if none. */
	int (*seq_event)(struct cstore *s, const char *agent, int64_t seq,
			 char hash[LW_SHA256_HEX_LEN + 1], char uuid[CHAIN_UUID_LEN + 1]);
	int (*insert_event)(struct cstore *s, const char *agent,
			    const struct cevent *ev, unsigned flags, const char *received);
	int (*insert_alert)(struct cstore *s, const char *agent, const char *kind, int64_t seq,
			    const char *detail, const char *time);
	/* Records the agent's new state and commits. */
	int (*commit)(struct cstore *s, const char *agent, int64_t last_seq, bool chain_broken,
		      const char *now);
	void (*rollback)(struct cstore *s);
	/* One statement (its own transaction). */
	int (*heartbeat)(struct cstore *s, const char *agent, const struct cstore_heartbeat *hb,
			 const char *now);
	/* Queries call @fn once per row, in answer order, with values
	 * borrowed until @fn returns; a nonzero return from @fn stops the
	 * query and is returned. Otherwise they return the number of rows or
	 * -EIO. Stores return data, never JSON: answers are built by
	 * render.c from parsed values. */
	int (*agents)(struct cstore *s, cstore_agent_fn fn, void *arg);
	int (*violations)(struct cstore *s, const struct cstore_query *q, cstore_event_fn fn,
			  void *arg);
	int (*alerts)(struct cstore *s, const struct cstore_query *q, cstore_alert_fn fn,
		      void *arg);
	int (*trace)(struct cstore *s, const struct cstore_query *q, cstore_event_fn fn,
		     void *arg);
	/* --- heartbeat history (each its own transaction) --- */
	/* 1 and @agent's last heartbeat facts, 0 if it has none. */
	int (*agent_state)(struct cstore *s, const char *agent, struct cstore_agent_state *out);
	int (*insert_note)(struct cstore *s, const char *agent, const char *time, const char *kind,
			   const char *detail);
	/* @agent was in contact at @now: extends its newest contact interval
	 * when that ended at @threshold or later, else starts one. */
	int (*contact)(struct cstore *s, const char *agent, const char *now,
		       const char *threshold);
	/* --- report queries (same conventions as the queries above) --- */
	/* every agent, by name */
	int (*period_agents)(struct cstore *s, const char *since, const char *until,
			     cstore_period_agent_fn fn, void *arg);
	/* @agent's contact intervals that overlap [since, until), oldest first */
	int (*contacts)(struct cstore *s, const char *agent, const char *since, const char *until,
			cstore_contact_fn fn, void *arg);
	/* notes of [since, until) with id > @after, oldest first, at most @limit */
	int (*notes)(struct cstore *s, const char *since, const char *until, int64_t after,
		     long limit, cstore_note_fn fn, void *arg);
	/* the aggregates of [since, until), per agent; "held" at @until */
	int (*counts)(struct cstore *s, const char *since, const char *until, cstore_count_fn fn,
		      void *arg);
	/* rows by id, id > q->after, at most q->limit */
	int (*report_rows)(struct cstore *s, const struct cstore_report_query *q,
			   cstore_event_fn fn, void *arg);
	/* the number of documents CSTORE_ROWS_CUSTODY covers (distinct
	 * classified or registered content seen in [since, until)) */
	int (*custody_total)(struct cstore *s, const char *since, const char *until,
			     const char *agent, int64_t *out);
	void (*close)(struct cstore *s);
};

struct cstore {
	const struct cstore_ops *ops;
};

/* Opens (creating or migrating the schema) the store named by @database:
 * a file path for SQLite, a postgresql:// URI for PostgreSQL. Returns 0 and
 * *out, or -errno with a message in @err. */
int cstore_open(const char *database, struct cstore **out, char *err, size_t errlen);
int cstore_sqlite_open(const char *path, struct cstore **out, char *err, size_t errlen);
int cstore_pg_open(const char *uri, struct cstore **out, char *err, size_t errlen);
void cstore_close(struct cstore *s); /* NULL is a no-op */

struct cstore_ingest_stats {
	int stored;
	int duplicates;
	int alerts[3]; /* by enum cevent_alert_kind */
};

/* Verifies and stores @n parsed events of @agent in one transaction
 * (retrying a conflict a few times). On 0 every event is committed or was
 * stored before, and may be acknowledged. */
int cstore_ingest(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
		  struct cstore_ingest_stats *stats);
/* The same, recording the agent's contact (cstore_contact) in the batch's
 * transaction. */
int cstore_ingest_contact(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
			  int silent_after_s, struct cstore_ingest_stats *stats);

/* @agent was in contact at @now (a heartbeat or a batch). */
int cstore_contact(struct cstore *s, const char *agent, const char *now, int silent_after_s);

/* Records a heartbeat: the agent's row, a note for each change the
 * compliance report shows (cstore_note_row), and the contact. */
int cstore_heartbeat(struct cstore *s, const char *agent, const struct cstore_heartbeat *hb,
		     const char *now, int silent_after_s);
