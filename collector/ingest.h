/* ingest.h — agent batches and heartbeats stored off the event loop.
 *
 * TLS, HTTP and parsing stay on the event loop; verifying a batch against
 * the agent's chain and committing it (cstore_ingest) runs on worker
 * threads, each with its own store connection, so a slow or busy database
 * delays only the agents whose batches wait for it: the loop keeps
 * accepting, answering queries and refusing bad requests. A job is
 * answered (the done callback, on the event-loop thread) only after its
 * events are committed, so an acknowledgement still means durable.
 *
 * Ordering: an agent sends its next batch only after the previous one was
 * acknowledged, and the store locks the agent's chain state for each
 * batch (cstore.h), so several workers keep each agent's order.
 *
 * Threads: ingest_new/submit/free and the done callback on the event-loop
 * thread; everything else on the workers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "cevent.h"
#include "cstore.h"

struct ingest;

enum ingest_kind {
	INGEST_EVENTS,    /* a batch: evs, n */
	INGEST_HEARTBEAT, /* hb */
};

struct ingest_job {
	struct ingest_job *next;
	enum ingest_kind kind;
	char agent[256];     /* the certificate's CN */
	struct cevent *evs;  /* parsed; the job's (ingest_job_free) */
	size_t n;
	struct cstore_heartbeat hb;
	char unexamined[5 * 21 + 5]; /* hb.unexamined points here */
	cJSON *root;         /* the request's JSON, which the bodies and the
			      * heartbeat's strings point into; the job's */
	void *arg;           /* the caller's: the request to answer */
	/* set by the worker */
	int r;               /* cstore_ingest_contact's or cstore_heartbeat's */
	struct cstore_ingest_stats st;
};

typedef void (*ingest_done_fn)(struct ingest_job *job, void *arg);

/* Opens @workers connections to @database and starts a thread on each.
 * @done is called on @base's thread for each finished job; it owns the job
 * then. 0, or -errno with a message in @err. */
int ingest_new(struct event_base *base, const char *database, int workers,
	       int silent_after_s, ingest_done_fn done, void *arg, struct ingest **out,
	       char *err, size_t errlen);
/* Queues @job (taken). */
void ingest_submit(struct ingest *in, struct ingest_job *job);
/* Lets each worker finish the batch it is committing, then stops them.
 * Jobs not yet done are freed unanswered: their events were not
 * acknowledged, so the agents send them again (duplicates are dropped by
 * uuid). NULL is a no-op. */
void ingest_free(struct ingest *in);
void ingest_job_free(struct ingest_job *job);
