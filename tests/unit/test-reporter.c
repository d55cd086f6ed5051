/* test-reporter.c — the reporter thread (agent/reporter.c): when the
 * collector cannot be reached it keeps trying, backs off, says why, and the
 * outbox keeps every event; against a scripted collector on loopback (mutual
 * TLS, answers chosen per request) it sends in batches of batch_max, in
 * order, lets events leave the outbox only when the answer acknowledges the
 * whole batch, re-sends the same batch after a failure with a growing
 * back-off, isolates an event refused for good, and keeps the chain going
 * from the newest acknowledged event. (Delivery to the real collector is
 * tests/integration/test_report.py.) Certificates are made by
 * packaging/leakwatch-certs, as an administrator would. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/ssl.h>

#include "chain.h"
#include "clock.h"
#include "harness.h"
#include "mem.h"
#include "policy.h"
#include "reporter.h"
#include "store.h"
#include "tls.h"
#include "vstore.h"
#include "wire.h"
#include "writer.h"

static int
unacked(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM events WHERE acked IS NULL", -1, &s,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

/* Polls @r's stats (up to @timeout_ms) until it has failed @n times in a
 * row; *rs holds the last stats read. */
static void
wait_failures(struct reporter *r, int n, int timeout_ms, struct reporter_stats *rs)
{
	*rs = (struct reporter_stats){0};
	for (int waited = 0; r && waited < timeout_ms; waited += 5) {
		reporter_get_stats(r, rs);
		if (rs->failures >= n) {
			return;
		}
		usleep(5000);
	}
}

static bool
make_certs(const char *dir)
{
	char cmd[2400];
	snprintf(cmd, sizeof(cmd),
		 "sh '%s/packaging/leakwatch-certs' -d '%s/ca' init --cn 'test CA' >/dev/null &&"
		 " sh '%s/packaging/leakwatch-certs' -d '%s/ca' issue agent ws-1 >/dev/null &&"
		 " sh '%s/packaging/leakwatch-certs' -d '%s/ca' issue collector col"
		 " --san IP:127.0.0.1 >/dev/null",
		 LW_SOURCE_ROOT, dir, LW_SOURCE_ROOT, dir, LW_SOURCE_ROOT, dir);
	return system(cmd) == 0;
}

/* Three events in the outbox before the agent starts. */
static bool
fill_outbox(const char *db)
{
	struct store *st = NULL;
	char err[512] = "";
	if (!th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open (%s)", err)) {
		return false;
	}
	struct vstore *vs = vstore_new(st);
	store_begin(st);
	for (int i = 0; i < 3; i++) {
		char uuid[CHAIN_UUID_LEN + 1];
		chain_uuid(uuid);
		int64_t seq = 0;
		th_inteq(vstore_event_append(vs, uuid, "violation", "{\"rule\":\"r\"}",
					     1000000000LL * (i + 1), &seq),
			 0, "event %d appended", i);
	}
	store_commit(st);
	vstore_free(vs);
	store_close(st);
	return true;
}

static void
test_unreachable(const char *dir)
{
	char db[400], ca[400], crt[400], key[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", dir);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/ca/ws-1.crt", dir);
	snprintf(key, sizeof(key), "%s/ca/ws-1.key", dir);
	if (!fill_outbox(db)) {
		return;
	}
	th_inteq(unacked(db), 3, "three events wait");
	struct store *st = NULL;
	struct writer *wr = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0 &&
		      writer_start(st, 1024, 0, &wr) == 0,
	      "writer starts (%s)", err);
	/* port 1 on loopback: nothing listens, the connection is refused */
	struct reporter_opts o = {.url = "https://127.0.0.1:1", .ca = ca, .cert = crt, .key = key,
				  .db_path = db, .heartbeat_s = 1, .batch_max = 2};
	struct reporter *r = NULL;
	th_ok(reporter_start(&o, wr, &r, err, sizeof(err)) == 0, "reporter starts (%s)", err);
	struct reporter_stats rs;
	wait_failures(r, 2, 6000, &rs);
	th_ok(rs.failures >= 2, "it tries again after a failure (%d failures)", rs.failures);
	th_ok(rs.error[0] != '\0', "and says why (%s)", rs.error);
	th_inteq(rs.sent, 0, "nothing acknowledged");
	th_inteq(rs.backlog, 3, "the backlog is the three events");
	th_ok(rs.last_ok_ns == 0, "no exchange succeeded");
	reporter_stop(r);
	writer_stop(wr);
	th_inteq(unacked(db), 3, "after the stop, the outbox still has every event");
}

/* A client certificate that does not exist is an error at start, not a
 * silent reporter that never sends. */
static void
test_bad_certificate(const char *dir)
{
	char db[400], ca[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", dir);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	struct store *st = NULL;
	struct writer *wr = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0 &&
		      writer_start(st, 1024, 0, &wr) == 0,
	      "writer starts");
	struct reporter_opts o = {.url = "https://127.0.0.1:1", .ca = ca,
				  .cert = "/nonexistent.crt", .key = "/nonexistent.key",
				  .db_path = db, .heartbeat_s = 1, .batch_max = 2};
	struct reporter *r = NULL;
	err[0] = '\0';
	th_ok(reporter_start(&o, wr, &r, err, sizeof(err)) < 0 && r == NULL && err[0],
	      "a missing certificate fails the start (%s)", err);
	reporter_stop(r);
	writer_stop(wr);
}

/* --- a scripted collector: one TLS connection at a time on loopback,
 * answers chosen by the test, every request recorded --- */

#define PEER_REQS 64
#define PEER_SEQS 32

struct peer_req {
	char path[32];
	int status;
	int n; /* events in the batch */
	long long seqs[PEER_SEQS];
	int64_t at_ns; /* when it arrived (monotonic) */
};

struct peer {
	int lfd, port;
	SSL_CTX *ctx;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	/* the script (under lock) */
	int fail_next;        /* answer HTTP 500 to this many event batches */
	int short_ack_next;   /* answer 200 acknowledging one event too few */
	long long refuse_seq; /* answer 400 to any batch holding this event */
	/* what it saw (under lock) */
	struct peer_req req[PEER_REQS];
	int nreq;
	char cn[64];
	char prev[PEER_SEQS][CHAIN_HEX_LEN + 1]; /* per seq, as received */
	char hash[PEER_SEQS][CHAIN_HEX_LEN + 1];
	char *heartbeat;
};

/* Reads what is there (at least one byte) into @buf; 0 at the end of the
 * connection, when stopping, or when the client opened another connection
 * (this one is then idle: the client gave it up). */
static int
peer_read(struct peer *pe, SSL *ssl, int fd, char *buf, int len)
{
	while (!atomic_load(&pe->stop)) {
		if (SSL_pending(ssl) == 0) {
			struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
					      {.fd = pe->lfd, .events = POLLIN}};
			int k = poll(p, 2, 100);
			if (k < 0 && errno != EINTR) {
				return 0;
			}
			if (k <= 0) {
				continue;
			}
			if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    p[1].revents & POLLIN) {
				return 0;
			}
		}
		int n = SSL_read(ssl, buf, len);
		if (n > 0) {
			return n;
		}
		if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) {
			return 0;
		}
	}
	return 0;
}

static size_t
content_length(const char *head)
{
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, "Content-Length:", 15) == 0) {
			return strtoul(l + 17, NULL, 10);
		}
	}
	return 0;
}

/* The answer to one request, by the script; records it. Caller frees. */
static char *
peer_answer(struct peer *pe, const char *path, const char *body, int *status)
{
	cJSON *root = cJSON_Parse(body);
	pthread_mutex_lock(&pe->lock);
	struct peer_req *rq = pe->nreq < PEER_REQS ? &pe->req[pe->nreq++] : NULL;
	struct peer_req scratch;
	if (!rq) {
		rq = &scratch;
	}
	*rq = (struct peer_req){.at_ns = clock_mono_ns()};
	snprintf(rq->path, sizeof(rq->path), "%s", path);
	char *resp = NULL;
	if (strcmp(path, "/v1/heartbeat") == 0) {
		free(pe->heartbeat);
		pe->heartbeat = lw_strdup(body);
		*status = 200;
		resp = lw_strdup("{}");
		goto out;
	}
	bool refused = false;
	const cJSON *e;
	cJSON_ArrayForEach (e, cJSON_GetObjectItem(root, WIRE_KEY_EVENTS)) {
		long long seq =
			(long long)cJSON_GetNumberValue(cJSON_GetObjectItem(e, WIRE_KEY_SEQ));
		if (rq->n < PEER_SEQS) {
			rq->seqs[rq->n] = seq;
		}
		rq->n++;
		refused |= seq == pe->refuse_seq;
		if (seq > 0 && seq < PEER_SEQS) {
			const char *pv =
				cJSON_GetStringValue(cJSON_GetObjectItem(e, WIRE_KEY_PREV));
			const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(e, WIRE_KEY_HASH));
			snprintf(pe->prev[seq], sizeof(pe->prev[seq]), "%s", pv ? pv : "");
			snprintf(pe->hash[seq], sizeof(pe->hash[seq]), "%s", h ? h : "");
		}
	}
	if (pe->fail_next > 0) {
		pe->fail_next--;
		*status = 500;
		resp = lw_strdup("{\"error\":\"the test says no\"}");
	} else if (refused) {
		*status = 400;
		resp = lw_strdup("{\"error\":\"malformed event\"}");
	} else {
		int k = rq->n < PEER_SEQS ? rq->n : PEER_SEQS;
		if (pe->short_ack_next > 0) {
			pe->short_ack_next--;
			k--;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON *a = cJSON_AddArrayToObject(o, WIRE_KEY_ACKED);
		for (int i = 0; i < k; i++) {
			cJSON_AddItemToArray(a, cJSON_CreateNumber((double)rq->seqs[i]));
		}
		char *t = cJSON_PrintUnformatted(o);
		resp = lw_strdup(t);
		cJSON_free(t);
		cJSON_Delete(o);
		*status = 200;
	}
out:
	rq->status = *status;
	pthread_mutex_unlock(&pe->lock);
	cJSON_Delete(root);
	return resp;
}

static void
peer_serve(struct peer *pe, int fd)
{
	SSL *ssl = SSL_new(pe->ctx);
	size_t cap = 1 << 16, have = 0;
	char *buf = lw_malloc(cap + 1);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		goto out;
	}
	char cn[64];
	if (lw_tls_peer_cn(ssl, cn, sizeof(cn)) > 0) {
		pthread_mutex_lock(&pe->lock);
		snprintf(pe->cn, sizeof(pe->cn), "%s", cn);
		pthread_mutex_unlock(&pe->lock);
	}
	for (;;) {
		char *end;
		size_t need = 0;
		buf[have] = '\0';
		while (!(end = strstr(buf, "\r\n\r\n")) || have < need) {
			if (end && !need) {
				need = (size_t)(end + 4 - buf) + content_length(buf);
				if (have >= need) {
					break;
				}
			}
			if (have == cap) {
				cap *= 2;
				buf = lw_realloc(buf, cap + 1);
				end = NULL;
				need = 0;
			}
			int n = peer_read(pe, ssl, fd, buf + have, (int)(cap - have));
			if (n <= 0) {
				goto out;
			}
			have += (size_t)n;
			buf[have] = '\0';
		}
		size_t head = (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf);
		size_t clen = content_length(buf);
		char method[8] = "", path[32] = "";
		if (sscanf(buf, "%7s %31s", method, path) != 2) {
			goto out;
		}
		AUTOFREE char *body = lw_strndup(buf + head, clen);
		int status = 500;
		AUTOFREE char *resp = peer_answer(pe, path, body, &status);
		AUTOFREE char *msg =
			lw_asprintf("HTTP/1.1 %d Scripted\r\nContent-Type: application/json"
				    "\r\nContent-Length: %zu\r\n\r\n%s",
				    status, strlen(resp), resp);
		if (SSL_write(ssl, msg, (int)strlen(msg)) <= 0) {
			goto out;
		}
		have -= head + clen;
		memmove(buf, buf + head + clen, have);
	}
out:
	free(buf);
	SSL_free(ssl);
	close(fd);
}

static void *
peer_main(void *arg)
{
	struct peer *pe = arg;
	while (!atomic_load(&pe->stop)) {
		struct pollfd p = {.fd = pe->lfd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0) {
			continue;
		}
		int fd = accept4(pe->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			peer_serve(pe, fd);
		}
	}
	return NULL;
}

static bool
peer_start(struct peer *pe, const char *dir)
{
	*pe = (struct peer){.lfd = -1};
	pthread_mutex_init(&pe->lock, NULL);
	char ca[400], crt[400], key[400], err[512] = "";
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/ca/col.crt", dir);
	snprintf(key, sizeof(key), "%s/ca/col.key", dir);
	struct lw_tls_files f = {.ca = ca, .cert = crt, .key = key};
	if (!th_ok(lw_tls_ctx_new(LW_TLS_ROLE_SERVER, &f, &pe->ctx, err, sizeof(err)) == 0,
		   "scripted collector: TLS context (%s)", err)) {
		return false;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	pe->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = pe->lfd >= 0 && bind(pe->lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  listen(pe->lfd, 8) == 0 &&
		  getsockname(pe->lfd, (struct sockaddr *)&a, &alen) == 0 &&
		  pthread_create(&pe->thread, NULL, peer_main, pe) == 0;
	pe->port = ntohs(a.sin_port);
	if (!th_ok(ok, "scripted collector listens on 127.0.0.1:%d", pe->port)) {
		if (pe->lfd >= 0) {
			close(pe->lfd);
		}
		SSL_CTX_free(pe->ctx);
		return false;
	}
	return true;
}

static void
peer_stop(struct peer *pe)
{
	atomic_store(&pe->stop, true);
	pthread_join(pe->thread, NULL);
	close(pe->lfd);
	SSL_CTX_free(pe->ctx);
	free(pe->heartbeat);
	pthread_mutex_destroy(&pe->lock);
}

/* The event batches the peer saw, as "1-3:200 4:500 ...". Caller frees. */
static char *
peer_batches(struct peer *pe)
{
	char out[2048] = "";
	pthread_mutex_lock(&pe->lock);
	for (int i = 0; i < pe->nreq; i++) {
		const struct peer_req *rq = &pe->req[i];
		if (strcmp(rq->path, "/v1/events") != 0) {
			continue;
		}
		size_t l = strlen(out);
		bool contiguous = rq->n > 0 && rq->n <= PEER_SEQS &&
				  rq->seqs[rq->n - 1] - rq->seqs[0] == rq->n - 1;
		if (rq->n == 1) {
			snprintf(out + l, sizeof(out) - l, "%s%lld:%d", l ? " " : "", rq->seqs[0],
				 rq->status);
		} else if (contiguous) {
			snprintf(out + l, sizeof(out) - l, "%s%lld-%lld:%d", l ? " " : "",
				 rq->seqs[0], rq->seqs[rq->n - 1], rq->status);
		} else {
			snprintf(out + l, sizeof(out) - l, "%s(%d events):%d", l ? " " : "", rq->n,
				 rq->status);
		}
	}
	pthread_mutex_unlock(&pe->lock);
	return lw_strdup(out);
}

/* --- the agent's side --- */

static long long
db_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

static bool
wait_unacked(const char *db, int want, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (unacked(db) == want) {
			return true;
		}
		usleep(20000);
	}
	return unacked(db) == want;
}

/* An agent in @sub of @dir: its inventory with @n events waiting, its
 * writer under the shipped policy (which is what applies acknowledgements)
 * and a reporter to the scripted collector. */
struct agent {
	char db[400];
	struct writer *wr;
	struct reporter *rep;
};

static bool
agent_start(struct agent *ag, const char *dir, const char *sub, int n, struct peer *pe,
	    int batch_max, const char *heartbeat)
{
	*ag = (struct agent){0};
	char home[300], qdir[400], ca[400], crt[400], key[400], url[64], err[512] = "";
	snprintf(home, sizeof(home), "%s/%s", dir, sub);
	mkdir(home, 0700);
	snprintf(ag->db, sizeof(ag->db), "%s/agent.db", home);
	snprintf(qdir, sizeof(qdir), "%s/quarantine", home);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/ca/ws-1.crt", dir);
	snprintf(key, sizeof(key), "%s/ca/ws-1.key", dir);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", pe->port);
	struct store *st = NULL;
	if (!th_ok(store_open(ag->db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0,
		   "%s: inventory (%s)", sub, err)) {
		return false;
	}
	struct vstore *vs = vstore_new(st);
	store_begin(st);
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		char uuid[CHAIN_UUID_LEN + 1];
		chain_uuid(uuid);
		int64_t seq = 0;
		AUTOFREE char *body = lw_asprintf("{\"rule\":\"r\",\"n\":%d}", i + 1);
		r = vstore_event_append(vs, uuid, WIRE_EVENT_VIOLATION, body,
					1000000000LL * (i + 1), &seq);
	}
	store_commit(st);
	vstore_free(vs);
	if (!th_ok(r == 0 && writer_start(st, 1024, 0, &ag->wr) == 0,
		   "%s: %d events wait, the writer runs", sub, n)) {
		return false;
	}
	writer_policy(ag->wr, policy_default(), qdir, 0, false);
	struct reporter_opts o = {.url = url,
				  .ca = ca,
				  .cert = crt,
				  .key = key,
				  .db_path = ag->db,
				  .heartbeat_s = 3600,
				  .batch_max = batch_max};
	if (!th_ok(reporter_start(&o, ag->wr, &ag->rep, err, sizeof(err)) == 0,
		   "%s: reporter starts (%s)", sub, err)) {
		writer_stop(ag->wr);
		return false;
	}
	if (heartbeat) {
		reporter_set_heartbeat(ag->rep, heartbeat);
	}
	return true;
}

static void
agent_stop(struct agent *ag)
{
	reporter_stop(ag->rep);
	writer_stop(ag->wr);
}

/* Batches of batch_max, in order, each event once; the outbox keeps only
 * the newest acknowledged event, and the next one chains to it. */
static void
test_batches(const char *dir, struct peer *pe)
{
	struct agent ag;
	if (!agent_start(&ag, dir, "batches", 7, pe, 3, "{\"version\":\"forged\",\"queue\":4}")) {
		return;
	}
	bool all = wait_unacked(ag.db, 0, 20000);
	th_ok(all, "batches: every event acknowledged (%d wait)", unacked(ag.db));
	AUTOFREE char *seen = peer_batches(pe);
	th_streq(seen, "1-3:200 4-6:200 7:200", "batches: at most batch_max, in order, once each");
	struct reporter_stats rs;
	reporter_get_stats(ag.rep, &rs);
	th_inteq(rs.sent, 7, "batches: stats count the acknowledged events");
	th_ok(rs.failures == 0 && rs.error[0] == '\0' && rs.last_ok_ns > 0,
	      "batches: no failure, a last success (%d, \"%s\")", rs.failures, rs.error);
	th_inteq(db_int(ag.db, "SELECT count(*) FROM events"), 1,
		 "batches: acknowledged events leave the table but the newest");
	th_inteq(db_int(ag.db, "SELECT max(seq) FROM events"), 7, "batches: the newest is kept");
	pthread_mutex_lock(&pe->lock);
	th_streq(pe->cn, "ws-1", "batches: the reporter presents the agent's certificate");
	cJSON *hb = pe->heartbeat ? cJSON_Parse(pe->heartbeat) : NULL;
	pthread_mutex_unlock(&pe->lock);
	th_streq(cJSON_GetStringValue(cJSON_GetObjectItem(hb, WIRE_KEY_VERSION)), LW_VERSION,
		 "heartbeat: the reporter's version, not the caller's");
	th_inteq((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(hb, "queue")), 4,
		 "heartbeat: the main loop's fields are kept");
	const cJSON *ob = cJSON_GetObjectItem(hb, WIRE_KEY_OUTBOX_BACKLOG);
	th_ok(cJSON_IsNumber(ob) && ob->valuedouble >= 0 && ob->valuedouble <= 7,
	      "heartbeat: the outbox backlog (%g)", cJSON_GetNumberValue(ob));
	cJSON_Delete(hb);

	/* a violation raised now: event 8, chained to the kept event 7 */
	struct file_rec r = {.kind = FILE_KIND_REGULAR,
			     .size = 12,
			     .mode = 0100600,
			     .has_sha = true,
			     .rank = store_rank_of("SECRET")};
	memset(r.sha256, 0x5e, sizeof(r.sha256));
	snprintf(r.type, sizeof(r.type), "text");
	r.findings = lw_strdup("{\"classification\":{\"level\":\"SECRET\",\"scheme\":\"NATO\"},"
			       "\"pii\":[],\"matches\":[],\"rules\":[]}");
	writer_put(ag.wr, "/tmp/lw-report/memo.txt", 23, &r, writer_dir_gen(ag.wr));
	for (int i = 0; i < 1000 && writer_backlog(ag.wr); i++) {
		usleep(10000);
	}
	reporter_kick(ag.rep);
	th_ok(wait_unacked(ag.db, 0, 20000) && db_int(ag.db, "SELECT max(seq) FROM events") == 8,
	      "chain: a new violation is delivered as event 8");
	pthread_mutex_lock(&pe->lock);
	th_ok(pe->hash[7][0] && strcmp(pe->prev[8], pe->hash[7]) == 0,
	      "chain: event 8 chains to event 7 (prev %.12s, hash of 7 %.12s)", pe->prev[8],
	      pe->hash[7]);
	pthread_mutex_unlock(&pe->lock);
	agent_stop(&ag);
}

/* HTTP 500: the same batch again, after a back-off that grows (between
 * half and all of 0.5 s, 1 s, 2 s); then delivered, and the error clears. */
static void
test_backoff(const char *dir, struct peer *pe)
{
	pthread_mutex_lock(&pe->lock);
	pe->nreq = 0;
	pe->fail_next = 3;
	pthread_mutex_unlock(&pe->lock);
	struct agent ag;
	if (!agent_start(&ag, dir, "backoff", 2, pe, 10, NULL)) {
		return;
	}
	struct reporter_stats rs;
	wait_failures(ag.rep, 1, 5000, &rs);
	th_ok(rs.failures >= 1 && strstr(rs.error, "HTTP 500"),
	      "backoff: the failure says why (%s)", rs.error);
	th_inteq(unacked(ag.db), 2, "backoff: nothing leaves the outbox on a 500");
	th_ok(wait_unacked(ag.db, 0, 30000), "backoff: delivered once the collector answers");
	AUTOFREE char *seen = peer_batches(pe);
	th_streq(seen, "1-2:500 1-2:500 1-2:500 1-2:200", "backoff: the same batch each time");
	pthread_mutex_lock(&pe->lock);
	static const long min_ms[] = {250, 500, 1000};
	for (int i = 0; i < 3 && i + 1 < pe->nreq; i++) {
		long gap = (long)((pe->req[i + 1].at_ns - pe->req[i].at_ns) / 1000000);
		th_ok(gap >= min_ms[i], "backoff: after failure %d waited %ld ms (at least %ld)",
		      i + 1, gap, min_ms[i]);
	}
	pthread_mutex_unlock(&pe->lock);
	reporter_get_stats(ag.rep, &rs);
	th_ok(rs.failures == 0 && rs.error[0] == '\0' && rs.sent == 2,
	      "backoff: a success clears the failures (%d, \"%s\", sent %lld)", rs.failures,
	      rs.error, (long long)rs.sent);
	agent_stop(&ag);
}

/* HTTP 400 for a batch: one event at a time up to its end, the refused
 * one kept in the database (acked = -1) and skipped, then batches again. */
static void
test_refused(const char *dir, struct peer *pe)
{
	pthread_mutex_lock(&pe->lock);
	pe->nreq = 0;
	pe->refuse_seq = 3;
	pthread_mutex_unlock(&pe->lock);
	struct agent ag;
	if (!agent_start(&ag, dir, "refused", 7, pe, 5, NULL)) {
		return;
	}
	bool all = wait_unacked(ag.db, 0, 20000);
	th_ok(all, "refused: the outbox empties (%d wait)", unacked(ag.db));
	AUTOFREE char *seen = peer_batches(pe);
	th_streq(seen, "1-5:400 1:200 2:200 3:400 4:200 5:200 6-7:200",
		 "refused: the batch one at a time, then batches again");
	th_inteq(db_int(ag.db, "SELECT acked FROM events WHERE seq = 3"), -1,
		 "refused: the refused event stays in the database, marked");
	struct reporter_stats rs;
	reporter_get_stats(ag.rep, &rs);
	th_inteq(rs.sent, 6, "refused: the six others count as sent");
	agent_stop(&ag);
	pthread_mutex_lock(&pe->lock);
	pe->refuse_seq = 0;
	pthread_mutex_unlock(&pe->lock);
}

/* A 200 whose answer acknowledges fewer events than were sent takes none
 * of them out of the outbox: the batch goes again. */
static void
test_short_ack(const char *dir, struct peer *pe)
{
	pthread_mutex_lock(&pe->lock);
	pe->nreq = 0;
	pe->short_ack_next = 1;
	pthread_mutex_unlock(&pe->lock);
	struct agent ag;
	if (!agent_start(&ag, dir, "short", 3, pe, 10, NULL)) {
		return;
	}
	struct reporter_stats rs;
	wait_failures(ag.rep, 1, 5000, &rs);
	th_ok(strstr(rs.error, "does not acknowledge") != NULL,
	      "short ack: counted as a failure (%s)", rs.error);
	th_inteq(unacked(ag.db), 3, "short ack: every event stays in the outbox");
	th_ok(wait_unacked(ag.db, 0, 20000), "short ack: delivered by the next attempt");
	AUTOFREE char *seen = peer_batches(pe);
	th_streq(seen, "1-3:200 1-3:200", "short ack: the whole batch again");
	agent_stop(&ag);
}

static void
test_scripted(const char *dir)
{
	struct peer pe;
	if (!peer_start(&pe, dir)) {
		return;
	}
	test_batches(dir, &pe);
	test_backoff(dir, &pe);
	test_refused(dir, &pe);
	test_short_ack(dir, &pe);
	peer_stop(&pe);
}

int
main(void)
{
	const char *dir = th_tmpdir();
	if (th_ok(make_certs(dir), "certificates made by leakwatch-certs")) {
		test_unreachable(dir);
		test_bad_certificate(dir);
		test_scripted(dir);
	}
	return th_done();
}
