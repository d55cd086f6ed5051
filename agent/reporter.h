/* reporter.h — the thread that empties the outbox into the collector.
 *
 * Events (violations, sightings) are in the agent database before anyone
 * sends them (vstore.c writes them in the transaction that records what
 * they report). The reporter reads unacknowledged events in order, POSTs
 * them in batches over one kept-alive mutual-TLS connection, and has the
 * writer mark them acknowledged only when the collector answered that it
 * committed them. Failures back off exponentially with jitter; nothing is
 * dropped (re-sent events are harmless: the collector keeps one of each
 * UUID). Heartbeats tell the collector the agent is alive. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "writer.h"

struct reporter_opts {
	const char *url, *ca, *cert, *key, *crl; /* crl may be NULL */
	const char *db_path;
	int heartbeat_s;  /* seconds between heartbeats */
	int batch_max;    /* events per request */
};

struct reporter;

int reporter_start(const struct reporter_opts *o, struct writer *wr, struct reporter **out,
		   char *err, size_t errlen);
/* The heartbeat's JSON fields the main loop knows (coverage, queue depth,
 * last scan); the reporter adds version and outbox backlog. Copied. */
void reporter_set_heartbeat(struct reporter *r, const char *json);
/* New events may be waiting: send now rather than at the next poll. */
void reporter_kick(struct reporter *r);

struct reporter_stats {
	int64_t sent;        /* events acknowledged since start */
	int64_t backlog;     /* events not yet acknowledged */
	int64_t last_ok_ns;  /* last successful exchange, 0: none */
	int failures;        /* consecutive failed attempts */
	char error[256];     /* the last failure; empty after a success */
};
void reporter_get_stats(struct reporter *r, struct reporter_stats *out);
/* Stops the thread (what is not acknowledged stays in the outbox). */
void reporter_stop(struct reporter *r); /* NULL is a no-op */
