/* cstore.h — the collector's fleet storage behind one small interface, with
 * two implementations: cstore-sqlite.c (embedded default) and cstore-pg.c
 * (PostgreSQL, for several collectors in front of one database).
 *
 * A store belongs to the thread that opened it (the collector's event loop).
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
	const char *agent;
	int64_t seq;
	const char *received;
	const char *body;
	size_t body_len;
};

struct cstore_alert_row {
	const char *agent;
	const char *kind;
	int64_t seq;
	const char *detail;
	const char *time;
};

typedef int (*cstore_agent_fn)(const struct cstore_agent_row *row, void *arg);
typedef int (*cstore_event_fn)(const struct cstore_event_row *row, void *arg);
typedef int (*cstore_alert_fn)(const struct cstore_alert_row *row, void *arg);

struct cstore_ops {
	const char *name;
	/* Starts the batch's transaction and locks @agent's chain state,
	 * creating the agent on first contact; *last_seq = highest seq
	 * stored (0 if none). */
	int (*begin)(struct cstore *s, const char *agent, int64_t *last_seq);
	/* 1 if (agent, uuid) is stored, 0 if not. */
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
