/* http-client.h — a small HTTPS client for talking to the collector over
 * mutual TLS (libcurl, OpenSSL flavour).
 *
 * One client keeps one libcurl easy handle, so consecutive requests reuse
 * the TLS connection (keep-alive). A client belongs to one thread at a time;
 * several threads need several clients. lw_http_client_new() may be called
 * from any thread (libcurl's global initialisation is done once, safely). */
#pragma once

#include <stddef.h>

struct lw_http_client;

struct lw_http_opts {
	const char *url_base; /* "https://host:port", no trailing path */
	const char *ca;       /* PEM CA that signed the server's certificate */
	const char *cert;     /* our client certificate (PEM) */
	const char *key;      /* its key (PEM) */
	const char *crl;      /* optional PEM CRL checked against the server */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* whole request; 0: 60 s */
};

/* Returns 0 and *out, or -errno with a message in @err (-EINVAL for a URL
 * that is not https://, -ENOENT/-EACCES for an unreadable file). Strings are
 * copied. */
int lw_http_client_new(const struct lw_http_opts *opts, struct lw_http_client **out,
		       char *err, size_t errlen);
void lw_http_client_free(struct lw_http_client *c); /* NULL is a no-op */

/* Sends @method ("GET", "POST") to url_base + @path (which starts with '/'
 * and carries any query string, already escaped). A POST body of @len bytes
 * is sent as application/json. On a completed exchange returns 0 with the
 * HTTP status in *status and the response body, NUL-terminated, in *resp
 * (caller frees; may be NULL if the caller does not want it) — whatever the
 * status. Returns -errno when no answer came: -ECONNREFUSED, -ETIMEDOUT,
 * -EPROTO for TLS failures where they are recognisable (our certificate
 * refused by the server, or the server's refused by us), -EIO otherwise
 * (with TLS 1.3 a refusal of our certificate may also show as -EIO when the
 * server's close wins the race with our read); lw_http_client_error() then
 * says what happened. Every error is worth a retry later. */
int lw_http_request(struct lw_http_client *c, const char *method, const char *path,
		    const char *body, size_t len, long *status, char **resp,
		    size_t *resp_len);

/* How many connections the client has opened so far (keep-alive shows as
 * one connection for many requests). */
long lw_http_client_connections(const struct lw_http_client *c);

/* The last failure's message; valid until the next call on @c. */
const char *lw_http_client_error(const struct lw_http_client *c);

/* Percent-escapes @s for use in a query string. Caller frees. */
char *lw_http_escape(const char *s);
