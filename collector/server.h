/* server.h — the collector's HTTPS service: libevent's evhttp over OpenSSL
 * bufferevents, one event-loop thread that owns everything here (the
 * queries' store connection included); batches and heartbeats are stored
 * by the storage workers (ingest.h). */
#pragma once

#include "collector-config.h"
#include "cstore.h"

struct server;

/* Binds the listening socket and loads TLS; returns 0 and *out or -errno
 * after logging why. @cfg and @store stay the caller's and must outlive the
 * server. */
int server_new(const struct collector_config *cfg, struct cstore *store,
	       struct server **out);
/* Runs until SIGTERM or SIGINT; SIGHUP reloads the TLS files (a new CRL).
 * Returns 0 or -errno. */
int server_run(struct server *srv);
void server_free(struct server *srv); /* NULL is a no-op */
