/* http-client.c — HTTPS requests over libcurl (see http-client.h).
 *
 * Why libcurl: proxies, keep-alive, redirects refused, timeouts and
 * certificate handling are all solved there, and the OpenSSL flavour
 * verifies with the same library as the collector. */
#include "http-client.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mem.h"

struct lw_http_client {
	CURL *curl;
	char *url_base;
	char *ca, *cert, *key, *crl;
	long connect_timeout_ms, timeout_ms;
	struct curl_slist *json_headers;
	long connections;
	char errbuf[CURL_ERROR_SIZE];
	char msg[CURL_ERROR_SIZE + 128];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init_once(void)
{
	/* curl_global_init is not thread-safe; once per process. */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (path && access(path, R_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		return -e;
	}
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? lw_strdup(s) : NULL;
}

int
lw_http_client_new(const struct lw_http_opts *o, struct lw_http_client **out,
		   char *err, size_t errlen)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	if (!o->url_base || strncmp(o->url_base, "https://", 8) != 0 || !o->url_base[8]) {
		snprintf(err, errlen, "collector URL %s: must start with https://",
			 o->url_base ? o->url_base : "(none)");
		return -EINVAL;
	}
	int r;
	if (!o->ca || !o->cert || !o->key) {
		snprintf(err, errlen, "a CA, a certificate and a key are all required");
		return -EINVAL;
	}
	if ((r = readable("CA", o->ca, err, errlen)) < 0 ||
	    (r = readable("certificate", o->cert, err, errlen)) < 0 ||
	    (r = readable("key", o->key, err, errlen)) < 0 ||
	    (r = readable("CRL", o->crl, err, errlen)) < 0) {
		return r;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		snprintf(err, errlen, "libcurl: cannot create a handle");
		return -ENOMEM;
	}
	struct lw_http_client *c = lw_new(struct lw_http_client, 1);
	c->curl = curl;
	c->url_base = lw_strdup(o->url_base);
	size_t n = strlen(c->url_base);
	while (n > 8 && c->url_base[n - 1] == '/') {
		c->url_base[--n] = '\0';
	}
	c->ca = lw_strdup(o->ca);
	c->cert = lw_strdup(o->cert);
	c->key = lw_strdup(o->key);
	c->crl = dup_or_null(o->crl);
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	c->json_headers = curl_slist_append(NULL, "Content-Type: application/json");
	c->json_headers = curl_slist_append(c->json_headers, "Accept: application/json");
	/* "Expect: 100-continue" costs a round trip per large POST. */
	c->json_headers = curl_slist_append(c->json_headers, "Expect:");
	*out = c;
	return 0;
}

void
lw_http_client_free(struct lw_http_client *c)
{
	if (!c) {
		return;
	}
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->json_headers);
	free(c->url_base);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->crl);
	free(c);
}

long
lw_http_client_connections(const struct lw_http_client *c)
{
	return c->connections;
}

const char *
lw_http_client_error(const struct lw_http_client *c)
{
	return c->msg;
}

struct sink {
	char *data;
	size_t len, cap;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct sink *s = user;
	size_t n = size * nmemb;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		while (cap < s->len + n + 1) {
			cap *= 2;
		}
		s->data = lw_realloc(s->data, cap);
		s->cap = cap;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

static int
curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return -EPROTO;
	default:
		return -EIO;
	}
}

int
lw_http_request(struct lw_http_client *c, const char *method, const char *path,
		const char *body, size_t len, long *status, char **resp, size_t *resp_len)
{
	CURL *h = c->curl;
	/* Reset drops per-request options but keeps the connection cache,
	 * so the next request rides the same TLS session. */
	curl_easy_reset(h);
	AUTOFREE char *url = lw_asprintf("%s%s", c->url_base, path);
	struct sink s = {0};
	c->errbuf[0] = '\0';
	c->msg[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* only our CA, not the system's */
	curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	if (c->crl) {
		curl_easy_setopt(h, CURLOPT_CRLFILE, c->crl);
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->json_headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "leakwatch/" LW_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(c->msg, sizeof(c->msg), "%s: %s", url,
			 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		free(s.data);
		/* With TLS 1.3 the server judges our certificate after the
		 * handshake has completed on our side, so a refusal (unknown
		 * CA, expired, revoked) arrives as a TLS alert on the first
		 * read: a receive error for libcurl, not a handshake error.
		 * The caller must not mistake it for network trouble. */
		if ((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) &&
		    strstr(c->errbuf, "SSL routines") && strstr(c->errbuf, "alert")) {
			return -EPROTO;
		}
		return curl_errno(rc);
	}
	long code = 0, fresh = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
	c->connections += fresh;
	*status = code;
	if (!s.data) {
		s.data = lw_strdup("");
	}
	if (resp_len) {
		*resp_len = s.len;
	}
	if (resp) {
		*resp = s.data;
	} else {
		free(s.data);
	}
	return 0;
}

char *
lw_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = lw_malloc(3 * n + 1);
	char *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
