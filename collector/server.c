/* server.c — transport, authentication, routing and responses of the
 * collector (see server.h); the endpoints are in handlers.c.
 *
 * Every connection is TLS from the first byte (OpenSSL bufferevents under
 * evhttp) and must present a client certificate from the organisation's CA:
 * OpenSSL refuses the handshake otherwise (no certificate, another CA,
 * expired, revoked per the CRL), so no request of an unknown peer reaches
 * the handlers. guard.c bounds what a peer can hold before and between
 * requests (absolute deadlines, connection caps); everything is
 * non-blocking, so one slow peer holds nobody up.
 * Storage calls are synchronous on this thread: a batch commits before the
 * answer, which is the protocol's guarantee. */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "clock.h"
#include "guard.h"
#include "log.h"
#include "mem.h"
#include "server-private.h"
#include "tls.h"

static enum srv_code
code_index(int code)
{
	switch (code) {
	case 200:
		return SRV_CODE_200;
	case 400:
		return SRV_CODE_400;
	case 403:
		return SRV_CODE_403;
	case 404:
		return SRV_CODE_404;
	case 405:
		return SRV_CODE_405;
	case 413:
		return SRV_CODE_413;
	case 429:
		return SRV_CODE_429;
	case 503:
		return SRV_CODE_503;
	default:
		return SRV_CODE_500;
	}
}

static const char *
reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

void
srv_reply(struct server *srv, struct evhttp_request *req, int code,
	  const struct wire_buf *body, bool text)
{
	srv->m.responses[code_index(code)]++;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type",
			  text ? "text/plain; version=0.0.4; charset=utf-8" : "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		abort();
	}
	if (body && body->len) {
		evbuffer_add(out, body->data, body->len);
	}
	guard_request_end(srv->guard, req, body ? body->len : 0);
	evhttp_send_reply(req, code, reason(code), out);
	evbuffer_free(out);
}

void
srv_error(struct server *srv, struct evhttp_request *req, int code, const char *msg)
{
	struct wire_buf b = {0};
	static const char head[] = "{\"" WIRE_KEY_ERROR "\":";
	wire_buf_put(&b, head, sizeof(head) - 1);
	wire_buf_json_string(&b, msg, strlen(msg));
	wire_buf_put(&b, "}", 1);
	srv_reply(srv, req, code, &b, false);
	wire_buf_fini(&b);
	if (code == 403 || code == 413 || code == 429) {
		/* what was refused, not the body: bodies are untrusted */
		static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 20);
		const char *peer = NULL;
		ev_uint16_t port = 0;
		evhttp_connection_get_peer(evhttp_request_get_connection(req), (char **)&peer,
					   &port);
		log_warn_ratelimit(&rl, "collector: %s:%u: %s %s: %d %s", peer ? peer : "?",
				   port, evhttp_request_get_command(req) == EVHTTP_REQ_POST ?
				   "POST" : "GET",
				   evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), code,
				   msg);
	}
}

static int
caller_of(struct server *srv, struct evhttp_request *req, struct srv_caller *who)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	int r = lw_tls_peer_cn(ssl, who->cn, sizeof(who->cn));
	if (r < 0) {
		return r;
	}
	who->admin = collector_config_is_admin(srv->cfg, who->cn);
	return 0;
}

/* An answer goes out as two TLS records (headers, body) in two writes;
 * with Nagle's algorithm the second waits for the client's delayed ACK,
 * about 40 ms per request for an agent that waits for each acknowledgement
 * (measured: 434 events/s for one agent, 9,889 with TCP_NODELAY). */
static void
no_delay(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

/* RFC 9112 §6.3: a message with Content-Length more than once, or with
 * both Content-Length and Transfer-Encoding, has no trustworthy framing.
 * evhttp reads the body by the first Content-Length and would take the
 * bytes after it for the next request, which is how requests are smuggled
 * past a proxy. Such a request is answered 400 and its connection closed. */
static bool
framing_ok(struct evhttp_request *req)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	int cl = 0, te = 0;
	for (const struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, "Content-Length") == 0) {
			cl++;
		} else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			te++;
		}
	}
	return cl <= 1 && te <= 1 && !(cl && te);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct srv_caller who = {0};
	guard_request_begin(srv->guard, req);
	no_delay(req);
	if (!framing_ok(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		srv_error(srv, req, 400,
			  "Content-Length repeated, or given with Transfer-Encoding (RFC 9112)");
		return;
	}
	if (caller_of(srv, req, &who) < 0) {
		/* the handshake demands a verified certificate, so this is a
		 * certificate without a usable name */
		srv_error(srv, req, 403, "client certificate has no usable common name");
		return;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path) {
		srv_error(srv, req, 400, "malformed request line");
		return;
	}
	if (!ratelimit_take(srv->rl, who.cn, clock_mono_ns() / 1000000)) {
		srv_error(srv, req, 429, "too many requests from this certificate; slow down");
		return;
	}
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	static const struct {
		const char *path;
		enum evhttp_cmd_type cmd;
		enum { WHO_ANY, WHO_AGENT, WHO_ADMIN } who;
		const char *query;
	} routes[] = {
		{"/health", EVHTTP_REQ_GET, WHO_ANY, NULL},
		{"/metrics", EVHTTP_REQ_GET, WHO_ANY, NULL},
		{"/v1/events", EVHTTP_REQ_POST, WHO_AGENT, NULL},
		{"/v1/heartbeat", EVHTTP_REQ_POST, WHO_AGENT, NULL},
		{"/v1/agents", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_AGENTS},
		{"/v1/violations", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_VIOLATIONS},
		{"/v1/alerts", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_ALERTS},
		{"/v1/trace", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_SIGHTINGS},
		/* the compliance report's (creport.c), from index 8 on */
		{"/v1/report/agents", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_AGENTS},
		{"/v1/report/counts", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_COUNTS},
		{"/v1/report/notes", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_NOTES},
		{"/v1/report/rows", EVHTTP_REQ_GET, WHO_ADMIN, WIRE_KEY_ROWS},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(routes); i++) {
		if (strcmp(path, routes[i].path) != 0) {
			continue;
		}
		if (cmd != routes[i].cmd) {
			srv_error(srv, req, 405, "method not allowed here");
			return;
		}
		if (routes[i].who == WHO_ADMIN && !who.admin) {
			srv_error(srv, req, 403, "administrators only");
			return;
		}
		/* An administrator's certificate is not an agent: events
		 * under its name would be an agent nobody runs. */
		if (routes[i].who == WHO_AGENT && who.admin) {
			srv_error(srv, req, 403, "administrator certificates do not submit events");
			return;
		}
		if (i == 0) {
			struct wire_buf b = {0};
			static const char ok[] = "{\"" WIRE_KEY_STATUS "\":\"ok\"}";
			wire_buf_put(&b, ok, sizeof(ok) - 1);
			srv_reply(srv, req, 200, &b, false);
			wire_buf_fini(&b);
		} else if (i == 1) {
			handlers_metrics(srv, req);
		} else if (i == 2) {
			handlers_events(srv, req, &who);
		} else if (i == 3) {
			handlers_heartbeat(srv, req, &who);
		} else if (i < 8) {
			handlers_query(srv, req, routes[i].query);
		} else {
			handlers_report(srv, req, routes[i].query);
		}
		return;
	}
	srv_error(srv, req, 404, "no such endpoint");
}

static struct bufferevent *
on_connection(struct event_base *base, void *arg)
{
	struct server *srv = arg;
	SSL *ssl = SSL_new(srv->ssl_ctx);
	struct bufferevent *bev = ssl ? bufferevent_openssl_socket_new(
						base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE)
				      : NULL;
	if (!bev) {
		/* evhttp (2.1) would fall back to a plain-text bufferevent
		 * when given NULL: never serve without TLS. */
		log_err("collector: cannot create a TLS connection (out of memory)");
		abort();
	}
	/* Peers that hang up without close_notify are not an error worth a
	 * log line; their request, if any, was complete or is discarded. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	guard_attach(srv->guard, ssl, bev);
	return bev;
}

static int
load_tls(struct server *srv)
{
	const struct collector_config *cfg = srv->cfg;
	struct lw_tls_files files = {.ca = cfg->tls_ca, .cert = cfg->tls_cert,
				     .key = cfg->tls_key, .crl = cfg->tls_crl};
	char err[512];
	SSL_CTX *ctx = NULL;
	int r = lw_tls_ctx_new(LW_TLS_ROLE_SERVER, &files, &ctx, err, sizeof(err));
	if (r < 0) {
		log_err("collector: %s: %s", cfg->file, err);
		return r;
	}
	/* SSL objects already made hold their own reference to the old one */
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = ctx;
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	if (sig == SIGHUP) {
		if (load_tls(srv) == 0) {
			srv->m.tls_reloads++;
			log_info("collector: TLS files reloaded (new connections use them)");
		} else {
			log_warn("collector: TLS reload failed; the previous files stay in use");
		}
		return;
	}
	log_info("collector: %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(srv->base, NULL);
}

/* The listening socket, made here rather than by evhttp for its backlog:
 * evhttp's 128 overflowed under a burst of connections, and the kernel
 * then drops further SYNs, which a well-behaved agent retries only after a
 * second. SOMAXCONN is the kernel's own bound (net.core.somaxconn). */
static evutil_socket_t
listen_socket(const char *host, int port)
{
	struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
					.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG};
	struct evutil_addrinfo *ai = NULL;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	if (evutil_getaddrinfo(host, service, &hints, &ai) != 0 || !ai) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		if (fd >= 0) {
			evutil_closesocket(fd);
		}
		evutil_freeaddrinfo(ai);
		errno = e;
		return -1;
	}
	evutil_freeaddrinfo(ai);
	return fd;
}

/* libevent's own warnings (a failed accept, a socket error) went to
 * stderr unthrottled: a descriptor shortage wrote 1.2 GB of log a minute.
 * They go through our log now, at a bounded rate; its debug lines not at
 * all. */
static void
on_libevent_log(int severity, const char *msg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 5);
	if (severity >= EVENT_LOG_WARN) {
		log_msg_ratelimit(&rl, severity >= EVENT_LOG_ERR ? LOG_LEVEL_ERR : LOG_LEVEL_WARN,
				  "collector: libevent: %s", msg);
	}
}

int
server_new(const struct collector_config *cfg, struct cstore *store, struct server **out)
{
	event_set_log_callback(on_libevent_log);
	struct server *srv = lw_new(struct server, 1);
	srv->cfg = cfg;
	srv->store = store;
	srv->m.started_ms = clock_wall_ns() / 1000000;
	int r = -ENOMEM;
	/* OpenSSL writes to sockets the peer closed: EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if ((r = load_tls(srv)) < 0) {
		goto fail;
	}
	r = -ENOMEM;
	srv->base = event_base_new();
	srv->http = srv->base ? evhttp_new(srv->base) : NULL;
	if (!srv->http) {
		log_err("collector: libevent: cannot create the HTTP server");
		goto fail;
	}
	char err[512];
	if ((r = ingest_new(srv->base, cfg->database, cfg->store_workers, cfg->silent_after_s,
			    handlers_job_done, srv, &srv->ingest, err, sizeof(err))) < 0) {
		log_err("collector: %s: /database: storage workers: %s", cfg->file, err);
		goto fail;
	}
	srv->rl = ratelimit_new(cfg->rate_per_minute, cfg->rate_burst);
	if ((r = guard_new(srv->base, cfg->max_connections, cfg->max_handshakes_per_address,
			   cfg->timeout_s, &srv->guard)) < 0) {
		log_err("collector: cannot set up connection limits: %s", strerror(-r));
		goto fail;
	}
	evhttp_set_bevcb(srv->http, on_connection, srv);
	evhttp_set_gencb(srv->http, on_request, srv);
	/* evhttp answers 413 itself when a Content-Length or a chunked body
	 * exceeds this; nothing of such a body is kept in memory. Lingering
	 * close: the rest of the body is read and thrown away before the
	 * answer and the close, because closing on a client still sending
	 * makes the kernel reset the connection, and the 413 would be lost
	 * (the agent could not tell "too large" from "network trouble").
	 * A client that only announces a huge body is dropped by the idle
	 * timeout. */
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)cfg->max_body_bytes);
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(srv->http, 16384);
	evhttp_set_timeout(srv->http, cfg->timeout_s);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evutil_socket_t lfd = listen_socket(cfg->listen_host, cfg->listen_port);
	struct evhttp_bound_socket *bound =
		lfd >= 0 ? evhttp_accept_socket_with_handle(srv->http, lfd) : NULL;
	if (!bound) {
		r = -EADDRNOTAVAIL;
		log_err("collector: %s: /listen: cannot listen on %s:%d: %s", cfg->file,
			cfg->listen_host, cfg->listen_port, strerror(errno));
		if (lfd >= 0) {
			evutil_closesocket(lfd);
		}
		goto fail;
	}
	guard_listener(srv->guard, evhttp_bound_socket_get_listener(bound));
	srv->sig_term = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_signal, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->sig_hup ||
	    evsignal_add(srv->sig_term, NULL) < 0 || evsignal_add(srv->sig_int, NULL) < 0 ||
	    evsignal_add(srv->sig_hup, NULL) < 0) {
		log_err("collector: libevent: cannot watch signals");
		goto fail;
	}
	log_info("collector: listening on %s:%d (store %s, %d storage worker%s)",
		 cfg->listen_host, cfg->listen_port, store->ops->name, cfg->store_workers,
		 cfg->store_workers == 1 ? "" : "s");
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return r;
}

int
server_run(struct server *srv)
{
	if (event_base_dispatch(srv->base) < 0) {
		log_err("collector: libevent: event loop failed");
		return -EIO;
	}
	return 0;
}

void
server_free(struct server *srv)
{
	if (!srv) {
		return;
	}
	if (srv->sig_term) {
		event_free(srv->sig_term);
	}
	if (srv->sig_int) {
		event_free(srv->sig_int);
	}
	if (srv->sig_hup) {
		event_free(srv->sig_hup);
	}
	/* First the storage workers: each finishes the batch it is
	 * committing; batches not answered stay unacknowledged at the agents,
	 * which send them again (and duplicates are dropped by uuid). Then
	 * evhttp closes the listener and every connection, freeing the
	 * requests those jobs answered. */
	ingest_free(srv->ingest);
	srv->ingest = NULL;
	if (srv->http) {
		evhttp_free(srv->http);
	}
	guard_free(srv->guard); /* after evhttp_free: its connections report to it */
	if (srv->base) {
		event_base_free(srv->base);
	}
	ratelimit_free(srv->rl);
	SSL_CTX_free(srv->ssl_ctx);
	free(srv);
}
