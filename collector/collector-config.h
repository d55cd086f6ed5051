/* collector-config.h — collector.json: schema, validation, defaults.
 *
 * Loaded once by the main thread at start-up (and again for a reload, into
 * a new struct); immutable afterwards. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

struct collector_config {
	char *file;
	char *listen_host;  /* numeric address or host name to bind */
	int listen_port;
	char *tls_ca, *tls_cert, *tls_key, *tls_crl; /* crl may be NULL */
	char *database;     /* SQLite file path or postgresql:// URI */
	bool database_is_pg;
	char **admins;      /* certificate CNs allowed to query; NULL-terminated */
	size_t nadmins;
	enum log_level log_level;
	/* limits */
	long long max_body_bytes;   /* larger request bodies get 413 */
	int max_events;             /* events per batch; more get 413 */
	int timeout_s;              /* deadline of a handshake, of each request
				     * (headers and body), of an idle
				     * connection (see server.c) */
	int rate_per_minute;        /* per certificate name, requests */
	int rate_burst;             /* bucket size */
	int max_connections;        /* open at once, before the file limit */
	int max_handshakes_per_address; /* unauthenticated at once per address */
	int silent_after_s;         /* no contact for longer: a silent interval */
	int store_workers;          /* threads storing batches (ingest.h) */
};

/* Parses and validates @path. Returns 0 and *out (free with
 * collector_config_free), or -errno with one message naming the file and
 * the key ("collector.json: /tls/ca: /x/ca.pem: No such file or directory")
 * in @err. */
int collector_config_load(const char *path, struct collector_config **out, char *err,
			  size_t errlen);
void collector_config_free(struct collector_config *cfg); /* NULL is a no-op */

/* True if @cn is listed in admins. */
bool collector_config_is_admin(const struct collector_config *cfg, const char *cn);
