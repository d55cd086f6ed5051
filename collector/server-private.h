/* server-private.h — shared by server.c (transport, routing, responses)
 * and handlers.c (the endpoints). Event-loop thread only. */
#pragma once

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "collector-config.h"
#include "ratelimit.h"
#include "cstore.h"
#include "ingest.h"
#include "wire.h"

/* The HTTP statuses we answer with, for /metrics. */
enum srv_code {
	SRV_CODE_200,
	SRV_CODE_400,
	SRV_CODE_403,
	SRV_CODE_404,
	SRV_CODE_405,
	SRV_CODE_413,
	SRV_CODE_429,
	SRV_CODE_500,
	SRV_CODE_503,
	SRV_CODE_COUNT,
};

struct srv_metrics {
	uint64_t responses[SRV_CODE_COUNT];
	uint64_t events_stored;
	uint64_t events_duplicate;
	uint64_t chain_alerts[3]; /* by enum cevent_alert_kind */
	uint64_t batches;
	uint64_t heartbeats;
	uint64_t store_errors;
	uint64_t tls_reloads;
	long long started_ms;
};

struct server {
	const struct collector_config *cfg;
	struct cstore *store;   /* the loop's: heartbeats and queries */
	struct ingest *ingest;  /* batches, on the storage workers */
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl_ctx;
	struct ratelimit *rl;
	struct guard *guard;
	struct event *sig_term, *sig_int, *sig_hup;
	struct srv_metrics m;
};

/* Who is asking, from the verified client certificate. */
struct srv_caller {
	char cn[256];
	bool admin;
};

/* Sends @body (a JSON document, or Prometheus text when @text) with @code;
 * counts it for /metrics. */
void srv_reply(struct server *srv, struct evhttp_request *req, int code,
	       const struct wire_buf *body, bool text);
/* Sends {"error": @msg} with @code. */
void srv_error(struct server *srv, struct evhttp_request *req, int code, const char *msg);

void handlers_events(struct server *srv, struct evhttp_request *req,
		   const struct srv_caller *who);
/* A batch or heartbeat stored (or not) by a storage worker: answers it
 * and frees the job (ingest_done_fn). */
void handlers_job_done(struct ingest_job *job, void *arg);
void handlers_heartbeat(struct server *srv, struct evhttp_request *req,
		      const struct srv_caller *who);
void handlers_query(struct server *srv, struct evhttp_request *req, const char *what);
void handlers_metrics(struct server *srv, struct evhttp_request *req);
/* creport.c: GET /v1/report/{agents,counts,notes,rows} */
void handlers_report(struct server *srv, struct evhttp_request *req, const char *what);
