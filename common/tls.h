/* tls.h — OpenSSL context setup shared by the collector (server) and the
 * clients that talk to it (agent reporter, fleet CLI through libcurl use the
 * same files but their own setup).
 *
 * Policy, in one place: TLS 1.2 minimum (1.3 is negotiated whenever both ends
 * have it, which OpenSSL 3 does by default), peers must present a
 * certificate chaining to the organisation's CA, optional CRL checking of
 * the peer's certificate. Contexts are immutable once built; any thread may
 * create SSL objects from one (OpenSSL reference-counts them). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

enum lw_tls_role {
	LW_TLS_ROLE_SERVER, /* requires and verifies a client certificate */
	LW_TLS_ROLE_CLIENT, /* verifies the server's certificate */
};

struct lw_tls_files {
	const char *ca;   /* PEM CA certificate(s); required */
	const char *cert; /* PEM certificate (chain); required */
	const char *key;  /* PEM private key; required */
	const char *crl;  /* PEM CRL of the CA, or NULL for no revocation check */
};

/* Builds a context for @role from @files. Returns 0 and *out (caller frees
 * with SSL_CTX_free), or -errno with a message naming the file and what is
 * wrong with it in @err: -ENOENT/-EACCES when a file cannot be read,
 * -EPROTO when it is not what it should be (not PEM, key does not match
 * the certificate, certificate not issued by the CA, expired). */
int lw_tls_ctx_new(enum lw_tls_role role, const struct lw_tls_files *files,
		   SSL_CTX **out, char *err, size_t errlen);

/* Copies the subject CN of @ssl's verified peer certificate into @buf.
 * Returns the length, -ENOENT when there is no verified peer certificate,
 * -EPROTO when it has no CN, or a CN that is empty, not printable ASCII or
 * longer than @buflen - 1 (identities are names from leakwatch-certs). */
int lw_tls_peer_cn(SSL *ssl, char *buf, size_t buflen);

/* The most recent OpenSSL error as text ("" if none); clears the queue. */
void lw_tls_last_error(char *buf, size_t buflen);
