/* guard.c — connection admission and deadlines (see guard.h).
 *
 * Owns one struct guard_conn per TLS object, found through the object's
 * ex_data; its free callback is how the guard learns that evhttp has freed
 * a connection. The ex_data index is the one process-wide value here: it is
 * taken once and never changes. Event-loop thread. */
#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/bufferevent_ssl.h>

#include "log.h"
#include "mem.h"

/* Descriptors kept for the store, the listener, logs and TLS files. */
#define GUARD_FD_RESERVE 64
/* After accept(2) failed for want of descriptors or memory. */
#define GUARD_ACCEPT_PAUSE_MS 100

enum conn_state {
	CONN_NEW,       /* attached; evhttp has not yet given it its socket */
	CONN_HANDSHAKE, /* admitted; TLS handshake under way */
	CONN_READING,   /* authenticated; the next request under way */
	CONN_BUSY,      /* a request is being answered */
	CONN_ENDED,     /* shut down; evhttp will free it */
};

struct guard_conn {
	struct guard *g;
	struct bufferevent *bev;
	struct event *timer;
	enum conn_state state;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool in_handshake_list;
	struct guard_conn *prev, *next; /* the handshake list, oldest first */
};

struct guard {
	struct event_base *base;
	int cap;
	int max_per_address;
	int deadline_s;
	int64_t open;   /* attached: every connection evhttp has */
	int64_t live;   /* admitted and not ended: what the cap counts */
	struct guard_conn *hs_head, *hs_tail; /* connections in their handshake */
	struct guard_stats st;
	struct log_ratelimit rl_cap, rl_addr;
};

static int conn_index = -1;
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;

static void hs_unlink(struct guard_conn *c);

static bool
is_live(const struct guard_conn *c)
{
	return c->state == CONN_HANDSHAKE || c->state == CONN_READING || c->state == CONN_BUSY;
}

/* OpenSSL calls this for every TLS object freed, ours or not. */
static void
conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct guard_conn *c = ptr;
	if (!c) {
		return;
	}
	hs_unlink(c);
	c->g->open--;
	if (is_live(c)) {
		c->g->live--;
	}
	event_free(c->timer);
	free(c);
}

static void
init_index(void)
{
	conn_index = SSL_get_ex_new_index(0, (void *)"leakwatch guard", NULL, NULL, conn_free);
}

static int
raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		return 1024;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
			rl.rlim_cur = rl.rlim_max;
		}
	}
	return rl.rlim_cur > (rlim_t)(1 << 30) ? 1 << 30 : (int)rl.rlim_cur;
}

int
guard_new(struct event_base *base, int max_conns, int max_per_address, int deadline_s,
	  struct guard **out)
{
	pthread_once(&conn_index_once, init_index);
	if (conn_index < 0) {
		return -ENOMEM;
	}
	struct guard *g = lw_new(struct guard, 1);
	g->base = base;
	g->max_per_address = max_per_address;
	g->deadline_s = deadline_s;
	int nofile = raise_nofile();
	int room = nofile > 2 * GUARD_FD_RESERVE ? nofile - GUARD_FD_RESERVE : nofile / 2;
	g->cap = max_conns < room ? max_conns : room;
	if (g->cap < max_conns) {
		log_warn("collector: the open-file limit (%d) allows %d connections, not the"
			 " %d configured",
			 nofile, g->cap, max_conns);
	}
	g->rl_cap = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 2);
	g->rl_addr = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 2);
	*out = g;
	return 0;
}

void
guard_free(struct guard *g)
{
	free(g);
}

static void
hs_unlink(struct guard_conn *c)
{
	if (!c->in_handshake_list) {
		return;
	}
	struct guard *g = c->g;
	if (c->prev) {
		c->prev->next = c->next;
	} else {
		g->hs_head = c->next;
	}
	if (c->next) {
		c->next->prev = c->prev;
	} else {
		g->hs_tail = c->prev;
	}
	c->prev = c->next = NULL;
	c->in_handshake_list = false;
}

static void
hs_append(struct guard_conn *c)
{
	struct guard *g = c->g;
	c->prev = g->hs_tail;
	c->next = NULL;
	if (g->hs_tail) {
		g->hs_tail->next = c;
	} else {
		g->hs_head = c;
	}
	g->hs_tail = c;
	c->in_handshake_list = true;
}

static void
addr_text(const struct guard_conn *c, char *buf, size_t len)
{
	const void *a = NULL;
	if (c->addr.ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)&c->addr)->sin_addr;
	} else if (c->addr.ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)&c->addr)->sin6_addr;
	}
	if (!a || !inet_ntop(c->addr.ss_family, a, buf, (socklen_t)len)) {
		snprintf(buf, len, "?");
	}
}

static bool
same_address(const struct guard_conn *a, const struct guard_conn *b)
{
	if (a->addr.ss_family != b->addr.ss_family) {
		return false;
	}
	if (a->addr.ss_family == AF_INET) {
		return memcmp(&((const struct sockaddr_in *)&a->addr)->sin_addr,
			      &((const struct sockaddr_in *)&b->addr)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	}
	if (a->addr.ss_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)&a->addr)->sin6_addr,
			      &((const struct sockaddr_in6 *)&b->addr)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	}
	return false;
}

/* Ends @c: evhttp reads the end of the stream and frees it. */
static void
end(struct guard_conn *c)
{
	if (c->state == CONN_ENDED) {
		return;
	}
	hs_unlink(c);
	evtimer_del(c->timer);
	if (is_live(c)) {
		c->g->live--;
	}
	c->state = CONN_ENDED;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (fd >= 0) {
		shutdown(fd, SHUT_RDWR);
	}
}

static void
arm(struct guard_conn *c, int seconds, size_t extra_bytes)
{
	struct timeval tv = {.tv_sec = seconds + (time_t)(extra_bytes >> 16)};
	evtimer_add(c->timer, &tv);
}

static void
admit(struct guard_conn *c)
{
	struct guard *g = c->g;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	c->addr_len = sizeof(c->addr);
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&c->addr, &c->addr_len) < 0) {
		end(c);
		return;
	}
	char addr[INET6_ADDRSTRLEN];
	int same = 0;
	for (const struct guard_conn *o = g->hs_head; o; o = o->next) {
		same += same_address(o, c);
	}
	if (same >= g->max_per_address) {
		g->st.refused_address++;
		addr_text(c, addr, sizeof(addr));
		log_warn_ratelimit(&g->rl_addr,
				   "collector: %s: %d handshakes under way from this address"
				   " (limits.max_handshakes_per_address); refusing more",
				   addr, same);
		end(c);
		return;
	}
	if (g->live >= g->cap) {
		/* The oldest unauthenticated connection makes room: an
		 * authenticated agent is worth more than a peer that has not
		 * shown a certificate yet, and a newcomer may be an agent. */
		struct guard_conn *victim = g->hs_head;
		g->st.refused_cap++;
		addr_text(victim ? victim : c, addr, sizeof(addr));
		log_warn_ratelimit(&g->rl_cap,
				   "collector: %d connections (limits.max_connections or the"
				   " open-file limit); %s %s",
				   g->cap, victim ? "dropping the oldest handshake, from" : "refusing",
				   addr);
		if (!victim) {
			end(c);
			return;
		}
		end(victim);
	}
	c->state = CONN_HANDSHAKE;
	g->live++;
	hs_append(c);
	arm(c, g->deadline_s, 0);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	switch (c->state) {
	case CONN_NEW:
		admit(c);
		return;
	case CONN_HANDSHAKE:
	case CONN_READING:
		c->g->st.deadline++;
		log_debug("collector: connection ended at its deadline (%s)",
			  c->state == CONN_HANDSHAKE ? "handshake" : "request");
		end(c);
		return;
	case CONN_BUSY:
	case CONN_ENDED:
		return;
	}
}

static void
on_info(const SSL *ssl, int where, int ret)
{
	if (!(where & SSL_CB_HANDSHAKE_DONE)) {
		return;
	}
	struct guard_conn *c = SSL_get_ex_data(ssl, conn_index);
	if (c && c->state == CONN_HANDSHAKE) {
		hs_unlink(c);
		c->state = CONN_READING;
		arm(c, c->g->deadline_s, 0);
	}
}

void
guard_attach(struct guard *g, SSL *ssl, struct bufferevent *bev)
{
	struct guard_conn *c = lw_new(struct guard_conn, 1);
	c->g = g;
	c->bev = bev;
	c->state = CONN_NEW;
	c->timer = evtimer_new(g->base, on_timer, c);
	if (!c->timer || !SSL_set_ex_data(ssl, conn_index, c)) {
		log_err("collector: cannot follow a connection (out of memory)");
		abort();
	}
	g->open++;
	SSL_set_info_callback(ssl, on_info);
	/* evhttp gives the buffer event its socket after this returns:
	 * admission runs next in this loop turn */
	event_active(c->timer, EV_TIMEOUT, 1);
}

static struct guard_conn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	return ssl ? SSL_get_ex_data(ssl, conn_index) : NULL;
}

void
guard_request_begin(struct guard *g, struct evhttp_request *req)
{
	struct guard_conn *c = conn_of(req);
	if (c && c->state != CONN_ENDED) {
		hs_unlink(c);
		evtimer_del(c->timer);
		c->state = CONN_BUSY;
	}
}

void
guard_request_end(struct guard *g, struct evhttp_request *req, size_t bytes)
{
	struct guard_conn *c = conn_of(req);
	if (c && c->state == CONN_BUSY) {
		c->state = CONN_READING;
		arm(c, g->deadline_s, bytes);
	}
}

static void
resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(arg);
}

/* user_data is evhttp's (the listener's callback is evhttp's own), so
 * this needs nothing of the guard. */
static void
on_accept_error(struct evconnlistener *lev, void *user_data)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 1);
	int e = EVUTIL_SOCKET_ERROR();
	log_warn_ratelimit(&rl, "collector: accept: %s; pausing %d ms", strerror(e),
			   GUARD_ACCEPT_PAUSE_MS);
	evconnlistener_disable(lev);
	struct timeval tv = {0, GUARD_ACCEPT_PAUSE_MS * 1000};
	event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, resume_accepting, lev,
			&tv);
}

void
guard_listener(struct guard *g, struct evconnlistener *lev)
{
	evconnlistener_set_error_cb(lev, on_accept_error);
}

void
guard_get_stats(const struct guard *g, struct guard_stats *out)
{
	*out = g->st;
	out->open = g->open;
	out->cap = g->cap;
}
