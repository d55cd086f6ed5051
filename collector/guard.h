/* guard.h — admission and absolute deadlines for the collector's
 * connections, before and around evhttp.
 *
 * evhttp's own timeouts restart with every byte, so a peer trickling a
 * ClientHello or its headers a byte at a time held a connection for ever,
 * and enough of them used up the file descriptors before any certificate
 * was checked. The guard bounds what an unauthenticated peer can hold:
 * - a deadline: the TLS handshake must finish within the deadline of the
 *   connection's arrival, and every request (headers and body) within the
 *   deadline of the handshake or of the previous answer. Bytes arriving do
 *   not extend it. While a request is being answered there is none;
 * - a cap on connections, below the open-file limit (which guard_new()
 *   raises to its hard limit). At the cap the oldest connection still in
 *   its handshake is dropped for the new one; when every connection is
 *   authenticated, the new one is refused;
 * - a cap on connections in their handshake from one address.
 * A connection is ended by shutdown(2) of its socket: evhttp then sees the
 * end of the stream and frees it as it would any closed connection, so
 * nothing here frees what evhttp owns. Counts and refusals are logged at a
 * bounded rate.
 *
 * Event-loop thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

struct guard;

struct guard_stats {
	int64_t open;            /* connections now */
	int64_t cap;             /* the cap in force */
	int64_t refused_cap;     /* refused or dropped at the cap */
	int64_t refused_address; /* too many handshakes from one address */
	int64_t deadline;        /* ended by the deadline */
};

/* @max_conns is lowered to fit the open-file limit. Returns 0 or -errno. */
int guard_new(struct event_base *base, int max_conns, int max_per_address, int deadline_s,
	      struct guard **out);
/* Frees the guard. Call after evhttp_free(): connections that evhttp frees
 * report to it. NULL is a no-op. */
void guard_free(struct guard *g);

/* A new connection's TLS object and buffer event (evhttp's bevcb, before
 * evhttp gives it its socket): the guard follows it until @ssl is freed. */
void guard_attach(struct guard *g, SSL *ssl, struct bufferevent *bev);
/* Backs off when accept(2) fails for want of descriptors or memory,
 * instead of retrying at once in a loop. */
void guard_listener(struct guard *g, struct evconnlistener *lev);
/* evhttp has read a whole request: no deadline while it is answered. */
void guard_request_begin(struct guard *g, struct evhttp_request *req);
/* The answer (@bytes of body) is on its way: the next request's deadline
 * starts, lengthened for a large answer at 64 KiB/s. */
void guard_request_end(struct guard *g, struct evhttp_request *req, size_t bytes);

void guard_get_stats(const struct guard *g, struct guard_stats *out);
