/* reporter.c — see reporter.h. Owns: its read connection, the HTTPS
 * client and the send position. */
#include "reporter.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "clock.h"
#include "http-client.h"
#include "ipc.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "wire.h"

/* how often the outbox is looked at when nothing kicks the reporter */
#define REPORTER_POLL_MS 250
#define REPORTER_BACKOFF_MIN_MS 500
#define REPORTER_BACKOFF_MAX_MS 60000
/* below the collector's 4 MiB request limit, with room for the wrapping */
#define REPORTER_BATCH_BYTES (3u << 20)

struct reporter {
	int heartbeat_s, batch_max;
	struct writer *wr;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping, kicked;
	char *heartbeat; /* under lock */
	struct reporter_stats stats; /* under lock */
	/* reporter thread only */
	struct lw_http_client *http;
	struct store *st;
	sqlite3_stmt *next_batch, *count;
	int64_t sent_upto; /* sent and acknowledged, ack handed to the writer */
	/* A batch the collector refused as malformed is sent again one event
	 * at a time up to here, to find the event it refuses. */
	int64_t single_until;
	int64_t last_heartbeat_ns;
};

/* Sleeps up to @ms unless kicked or stopping. Returns false when stopping. */
static bool
nap(struct reporter *r, long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->stopping && !r->kicked &&
	       pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0) {
	}
	r->kicked = false;
	bool go = !r->stopping;
	pthread_mutex_unlock(&r->lock);
	return go;
}

static void
note_failure(struct reporter *r, const char *what)
{
	pthread_mutex_lock(&r->lock);
	r->stats.failures++;
	snprintf(r->stats.error, sizeof(r->stats.error), "%s", what);
	int n = r->stats.failures;
	pthread_mutex_unlock(&r->lock);
	/* loud on the first failure, then every tenth */
	if (n == 1 || n % 10 == 0) {
		log_warn("reporter: %s (attempt %d; events stay in the outbox)", what, n);
	}
}

static void
note_success(struct reporter *r, int64_t acked)
{
	pthread_mutex_lock(&r->lock);
	if (r->stats.failures) {
		log_info("reporter: the collector answers again after %d failed attempts",
			 r->stats.failures);
	}
	r->stats.failures = 0;
	r->stats.error[0] = '\0';
	r->stats.sent += acked;
	r->stats.last_ok_ns = clock_wall_ns();
	pthread_mutex_unlock(&r->lock);
}

static long
backoff_ms(int failures)
{
	long ms = REPORTER_BACKOFF_MIN_MS;
	for (int i = 1; i < failures && ms < REPORTER_BACKOFF_MAX_MS; i++) {
		ms *= 2;
	}
	if (ms > REPORTER_BACKOFF_MAX_MS) {
		ms = REPORTER_BACKOFF_MAX_MS;
	}
	/* jitter: between half and all of it, so that a fleet that lost its
	 * collector does not come back in lockstep */
	unsigned short j = 0;
	RAND_bytes((unsigned char *)&j, sizeof(j));
	return ms / 2 + (long)((unsigned long)ms / 2 * j / 65535);
}

static int64_t
backlog(struct reporter *r)
{
	int64_t n = 0;
	if (sqlite3_step(r->count) == SQLITE_ROW) {
		n = sqlite3_column_int64(r->count, 0);
	}
	sqlite3_reset(r->count);
	return n;
}

/* Builds the next batch after sent_upto: {"events": [...]}. *last gets the
 * highest seq in it; 0 events: NULL. */
static char *
next_batch(struct reporter *r, int64_t *last, int *n)
{
	sqlite3_stmt *s = r->next_batch;
	sqlite3_bind_int64(s, 1, r->sent_upto);
	sqlite3_bind_int(s, 2, r->sent_upto < r->single_until ? 1 : r->batch_max);
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, WIRE_KEY_EVENTS);
	size_t bytes = 0;
	*n = 0;
	while (bytes < REPORTER_BATCH_BYTES && sqlite3_step(s) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		*last = sqlite3_column_int64(s, 0);
		cJSON_AddNumberToObject(e, WIRE_KEY_SEQ, (double)*last);
		static const char *const keys[] = {WIRE_KEY_UUID, WIRE_KEY_TIME, WIRE_KEY_KIND,
						   WIRE_KEY_PREV, WIRE_KEY_HASH, WIRE_KEY_BODY};
		for (int i = 0; i < 6; i++) {
			const char *v = (const char *)sqlite3_column_text(s, i + 1);
			cJSON_AddStringToObject(e, keys[i], v ? v : "");
			bytes += v ? strlen(v) + 16 : 16;
		}
		cJSON_AddItemToArray(arr, e);
		(*n)++;
	}
	sqlite3_reset(s);
	char *out = NULL;
	if (*n) {
		char *t = cJSON_PrintUnformatted(root);
		out = lw_strdup(t);
		cJSON_free(t);
	}
	cJSON_Delete(root);
	return out;
}

/* One exchange: 1 when events went, 0 when there were none, -errno. */
static int
send_events(struct reporter *r)
{
	store_read_begin(r->st);
	int64_t last = 0;
	int n = 0;
	AUTOFREE char *body = next_batch(r, &last, &n);
	/* the backlog as of this attempt, also while the collector cannot be
	 * reached and no heartbeat goes out (status shows it) */
	int64_t b = backlog(r);
	store_read_end(r->st);
	pthread_mutex_lock(&r->lock);
	r->stats.backlog = b;
	pthread_mutex_unlock(&r->lock);
	if (!body) {
		return 0;
	}
	long status = 0;
	AUTOFREE char *resp = NULL;
	int rc = lw_http_request(r->http, "POST", "/v1/events", body, strlen(body), &status, &resp,
				 NULL);
	if (rc < 0) {
		note_failure(r, lw_http_client_error(r->http));
		return rc;
	}
	if ((status == 400 || status == 413) && n > 1) {
		/* one event in the batch is refused: find it */
		r->single_until = last;
		note_failure(r, "POST /v1/events: batch refused; sending it one event at a time");
		return 1;
	}
	if (status == 400 || status == 413) {
		/* Refused for good: retrying cannot help, and holding it would
		 * block every later event. It leaves the outbox but stays in
		 * the database (acked = -1); the collector sees the gap. */
		log_err("reporter: the collector refused event %lld for good (HTTP %ld: %.200s);"
			" kept in the database, skipped",
			(long long)last, status, resp ? resp : "");
		writer_acked(r->wr, lw_asprintf("[%lld]", (long long)last), true);
		r->sent_upto = last;
		return 1;
	}
	if (status != 200) {
		char what[200];
		snprintf(what, sizeof(what), "POST /v1/events: HTTP %ld: %.120s", status,
			 resp ? resp : "");
		note_failure(r, what);
		return -EIO;
	}
	/* Acknowledged means committed by the collector: only now may the
	 * events leave the outbox. */
	cJSON *o = NULL;
	struct lw_json_error je;
	if (!resp || lw_json_parse(resp, strlen(resp), 0, &o, &je) < 0) {
		o = NULL;
	}
	const cJSON *acked = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_ACKED);
	int k = cJSON_GetArraySize(acked);
	if (!cJSON_IsArray(acked) || k != n) {
		cJSON_Delete(o);
		note_failure(r, "POST /v1/events: the answer does not acknowledge the batch");
		return -EPROTO;
	}
	char *t = cJSON_PrintUnformatted(acked);
	writer_acked(r->wr, lw_strdup(t), false);
	cJSON_free(t);
	cJSON_Delete(o);
	r->sent_upto = last;
	note_success(r, n);
	return 1;
}

static int
send_heartbeat(struct reporter *r)
{
	pthread_mutex_lock(&r->lock);
	cJSON *o = r->heartbeat ? cJSON_Parse(r->heartbeat) : NULL;
	pthread_mutex_unlock(&r->lock);
	if (!o) {
		o = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObject(o, WIRE_KEY_VERSION);
	cJSON_AddStringToObject(o, WIRE_KEY_VERSION, LW_VERSION);
	store_read_begin(r->st);
	int64_t b = backlog(r);
	store_read_end(r->st);
	cJSON_AddNumberToObject(o, WIRE_KEY_OUTBOX_BACKLOG, (double)b);
	pthread_mutex_lock(&r->lock);
	r->stats.backlog = b;
	pthread_mutex_unlock(&r->lock);
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	long status = 0;
	int rc = lw_http_request(r->http, "POST", "/v1/heartbeat", t, strlen(t), &status, NULL,
				 NULL);
	cJSON_free(t);
	if (rc < 0) {
		note_failure(r, lw_http_client_error(r->http));
		return rc;
	}
	if (status != 200) {
		char what[64];
		snprintf(what, sizeof(what), "POST /v1/heartbeat: HTTP %ld", status);
		note_failure(r, what);
		return -EIO;
	}
	note_success(r, 0);
	return 0;
}

static void *
reporter_main(void *arg)
{
	struct reporter *r = arg;
	for (;;) {
		int rc = 0;
		int64_t now = clock_mono_ns();
		pthread_mutex_lock(&r->lock);
		bool have_hb = r->heartbeat != NULL; /* the main loop's first view */
		pthread_mutex_unlock(&r->lock);
		if (have_hb && now - r->last_heartbeat_ns >= (int64_t)r->heartbeat_s * 1000000000) {
			rc = send_heartbeat(r);
			if (rc == 0) {
				r->last_heartbeat_ns = now;
			}
		}
		if (rc == 0) {
			rc = send_events(r);
		}
		pthread_mutex_lock(&r->lock);
		int failures = r->stats.failures;
		pthread_mutex_unlock(&r->lock);
		if (rc == 1) {
			continue; /* more may be waiting */
		}
		if (!nap(r, rc < 0 ? backoff_ms(failures) : REPORTER_POLL_MS)) {
			break;
		}
	}
	return NULL;
}

int
reporter_start(const struct reporter_opts *o, struct writer *wr, struct reporter **out,
	       char *err, size_t errlen)
{
	struct reporter *r = lw_new(struct reporter, 1);
	r->wr = wr;
	r->heartbeat_s = o->heartbeat_s > 0 ? o->heartbeat_s : 30;
	r->batch_max = o->batch_max > 0 ? o->batch_max : 500;
	/* the client copies the strings it keeps */
	struct lw_http_opts ho = {.url_base = o->url, .ca = o->ca, .cert = o->cert,
				  .key = o->key, .crl = o->crl, .timeout_ms = 30000};
	int rc = lw_http_client_new(&ho, &r->http, err, errlen);
	if (rc == 0) {
		rc = store_open(o->db_path, DB_MODE_READER, &r->st, err, errlen);
	}
	if (rc < 0) {
		lw_http_client_free(r->http);
		free(r);
		return rc;
	}
	sqlite3 *db = store_db(r->st);
	r->next_batch = db_prepare(db, "SELECT seq, uuid, time, kind, prev, hash, body FROM events"
				       " WHERE acked IS NULL AND seq > ?1 ORDER BY seq LIMIT ?2");
	r->count = db_prepare(db, "SELECT count(*) FROM events WHERE acked IS NULL");
	r->last_heartbeat_ns = clock_mono_ns() - (int64_t)r->heartbeat_s * 1000000000;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&r->thread, NULL, reporter_main, r);
	if (rc != 0) {
		snprintf(err, errlen, "reporter: cannot start: %s", strerror(rc));
		r->stopping = true;
		reporter_stop(r);
		return -rc;
	}
	pthread_setname_np(r->thread, "lw-reporter");
	*out = r;
	return 0;
}

void
reporter_set_heartbeat(struct reporter *r, const char *json)
{
	pthread_mutex_lock(&r->lock);
	free(r->heartbeat);
	r->heartbeat = json ? lw_strdup(json) : NULL;
	pthread_mutex_unlock(&r->lock);
}

void
reporter_kick(struct reporter *r)
{
	pthread_mutex_lock(&r->lock);
	r->kicked = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void
reporter_get_stats(struct reporter *r, struct reporter_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->stats;
	pthread_mutex_unlock(&r->lock);
}

void
reporter_stop(struct reporter *r)
{
	if (!r) {
		return;
	}
	pthread_mutex_lock(&r->lock);
	bool running = !r->stopping;
	r->stopping = true;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (running) {
		pthread_join(r->thread, NULL);
	}
	sqlite3_finalize(r->next_batch);
	sqlite3_finalize(r->count);
	store_close(r->st);
	lw_http_client_free(r->http);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r->heartbeat);
	free(r);
}
