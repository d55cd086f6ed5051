/* tls.c — OpenSSL contexts with the project's TLS policy (see tls.h).
 * Stateless apart from OpenSSL's per-thread error queue. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "mem.h"

/* How long a server-side TLS session may be resumed (see lw_tls_ctx_new). */
#define LW_TLS_SESSION_S 600

void
lw_tls_last_error(char *buf, size_t buflen)
{
	unsigned long e = ERR_peek_last_error();
	if (!e) {
		snprintf(buf, buflen, "%s", "");
		return;
	}
	/* The reason alone reads best ("no start line", "key values
	 * mismatch"); the library and function add noise for operators. */
	const char *reason = ERR_reason_error_string(e);
	if (reason) {
		snprintf(buf, buflen, "%s", reason);
	} else {
		ERR_error_string_n(e, buf, buflen);
	}
	ERR_clear_error();
}

/* -errno if @path is not a readable file, with a message; 0 if it is. */
static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		return -e;
	}
	return 0;
}

static int
load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
	char why[256];
	if (!lookup || X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
		lw_tls_last_error(why, sizeof(why));
		snprintf(err, errlen, "CRL %s: cannot load: %s", path, why);
		return -EPROTO;
	}
	/* Leaf only: our CA is a single level (leakwatch-certs signs every
	 * certificate with the root), and CRL_CHECK_ALL would demand a CRL
	 * for the root itself, which nobody issues. */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

int
lw_tls_ctx_new(enum lw_tls_role role, const struct lw_tls_files *files,
	       SSL_CTX **out, char *err, size_t errlen)
{
	int r;
	if ((r = readable("CA", files->ca, err, errlen)) < 0 ||
	    (r = readable("certificate", files->cert, err, errlen)) < 0 ||
	    (r = readable("key", files->key, err, errlen)) < 0 ||
	    (files->crl && (r = readable("CRL", files->crl, err, errlen)) < 0)) {
		return r;
	}
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(role == LW_TLS_ROLE_SERVER ? TLS_server_method()
							      : TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "openssl: cannot create a TLS context");
		return -ENOMEM;
	}
	char why[256];
	r = -EPROTO;
	/* TLS 1.2 is the floor (doc/design.md); the maximum stays at the
	 * library's best, so 1.3 is chosen whenever the peer has it. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		snprintf(err, errlen, "openssl: cannot require TLS 1.2");
		goto fail;
	}
	/* No renegotiation (CVE-2009-3555 style games), no compression
	 * (CRIME); tickets are harmless but useless to us. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_load_verify_locations(ctx, files->ca, NULL) != 1) {
		lw_tls_last_error(why, sizeof(why));
		snprintf(err, errlen, "CA %s: cannot load: %s", files->ca, why);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, files->cert) != 1) {
		lw_tls_last_error(why, sizeof(why));
		snprintf(err, errlen, "certificate %s: cannot load: %s", files->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, files->key, SSL_FILETYPE_PEM) != 1) {
		lw_tls_last_error(why, sizeof(why));
		snprintf(err, errlen, "key %s: cannot load: %s", files->key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "key %s does not belong to certificate %s", files->key,
			 files->cert);
		goto fail;
	}
	if (files->crl && (r = load_crl(ctx, files->crl, err, errlen)) < 0) {
		goto fail;
	}
	r = -EPROTO;
	/* Our own certificate must verify against the same CA: a collector
	 * started with the wrong pair would refuse every agent, and the
	 * operator deserves to hear why at start-up, not from the agents. */
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();
	X509 *own = SSL_CTX_get0_certificate(ctx);
	if (!vctx || X509_STORE_CTX_init(vctx, SSL_CTX_get_cert_store(ctx), own, NULL) != 1) {
		X509_STORE_CTX_free(vctx);
		snprintf(err, errlen, "openssl: cannot verify %s", files->cert);
		goto fail;
	}
	int ok = X509_verify_cert(vctx);
	int verr = X509_STORE_CTX_get_error(vctx);
	X509_STORE_CTX_free(vctx);
	ERR_clear_error();
	if (ok != 1) {
		snprintf(err, errlen, "certificate %s: %s (CA %s)", files->cert,
			 X509_verify_cert_error_string(verr), files->ca);
		goto fail;
	}
	if (role == LW_TLS_ROLE_SERVER) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT |
						SSL_VERIFY_CLIENT_ONCE,
				   NULL);
		/* Clients are told which CA we accept, so one holding
		 * several certificates picks the right one. */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(files->ca);
		if (names) {
			SSL_CTX_set_client_CA_list(ctx, names);
		}
		/* Resumption (tickets in TLS 1.3, the session cache in
		 * 1.2): an agent that reconnects skips the certificate
		 * exchange and signatures, which is most of a handshake's
		 * cost when a fleet reconnects at once. It skips the CRL
		 * check too, so a session must not outlive the CRL it was
		 * checked against: every reload (SIGHUP) builds a new
		 * context, with its own cache and its own random ticket
		 * keys, and sessions of the old one resume no more. A
		 * session lasts LW_TLS_SESSION_S at most, so an expired
		 * certificate is noticed within that. The session id
		 * context ties sessions to this service. */
		static const unsigned char sid_ctx[] = "leakwatch-collector";
		SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_set_timeout(ctx, LW_TLS_SESSION_S);
		SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	ERR_clear_error();
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return r;
}

int
lw_tls_peer_cn(SSL *ssl, char *buf, size_t buflen)
{
	if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) {
		return -ENOENT;
	}
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (!peer) {
		return -ENOENT;
	}
	X509_NAME *subj = X509_get_subject_name(peer);
	int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (idx < 0) {
		return -EPROTO;
	}
	/* Exactly one CN: with two, which one is "the" identity would be a
	 * matter of convention an attacker could exploit. */
	if (X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0) {
		return -EPROTO;
	}
	ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
	int len = ASN1_STRING_length(d);
	const unsigned char *p = ASN1_STRING_get0_data(d);
	if (len <= 0 || (size_t)len >= buflen) {
		return -EPROTO;
	}
	for (int i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			return -EPROTO; /* no NULs, no controls, no UTF-8 lookalikes */
		}
	}
	memcpy(buf, p, (size_t)len);
	buf[len] = '\0';
	return len;
}
