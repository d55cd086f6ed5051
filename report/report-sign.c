/* report-sign.c — digests and detached signatures (see report-sign.h).
 *
 * The .sig file:
 *   {"format":"leakwatch-report-signature/1",
 *    "statement":"{\"id\":..,\"period\":{..},\"generated_at\":..,
 *                  \"canonical_sha256\":..,\"files\":[{\"name\",\"sha256\"}],
 *                  \"chains\":[..]}",
 *    "algorithm":"rsa-sha256"|"ecdsa-sha256"|"ed25519"|null,
 *    "signature":BASE64|null, "public_key":PEM|null, "key_sha256":HEX|null}
 * The signature covers the exact bytes of the statement string, so the
 * verifier never has to reproduce a serialisation. OpenSSL 3 EVP only.
 * Single thread, no state. */
#include "report-sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hash.h"
#include "json.h"
#include "mem.h"
#include "readfile.h"
#include "report-keys.h"
#include "report.h"
#include "wire.h"

/* Keys of the signature file and its statement (not part of the report
 * document, so not in report-keys.h). */
#define SIG_FORMAT "leakwatch-report-signature/1"
#define SK_FORMAT "format"
#define SK_STATEMENT "statement"
#define SK_ALGORITHM "algorithm"
#define SK_SIGNATURE "signature"
#define SK_PUBLIC_KEY "public_key"
#define SK_KEY_SHA256 "key_sha256"
#define SK_CANONICAL_SHA256 "canonical_sha256"

#define SIG_MAX_BYTES (16u << 20) /* a .sig is small; refuse anything huge */

static void
evp_pkey_freep(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
}
static void
bio_freep(BIO **p)
{
	BIO_free(*p);
}
static void
md_ctx_freep(EVP_MD_CTX **p)
{
	EVP_MD_CTX_free(*p);
}
#define AUTOPKEY CLEANUP(evp_pkey_freep)
#define AUTOBIO CLEANUP(bio_freep)
#define AUTOMDCTX CLEANUP(md_ctx_freep)

/* Never prompt on the terminal for a passphrase: a report run from cron
 * would hang. An encrypted key is refused instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The algorithm name for @pkey, or NULL when we do not sign with it. */
static const char *
algorithm_of(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		return "rsa-sha256";
	case EVP_PKEY_EC:
		return "ecdsa-sha256";
	case EVP_PKEY_ED25519:
		return "ed25519";
	default:
		return NULL;
	}
}

/* Ed25519 hashes internally (PureEdDSA): no digest; the others SHA-256. */
static const EVP_MD *
md_of(EVP_PKEY *pkey)
{
	return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

/* The DER SubjectPublicKeyInfo of @pkey: length, *der (caller frees with
 * OPENSSL_free), or -1. */
static int
pubkey_der(EVP_PKEY *pkey, unsigned char **der)
{
	*der = NULL;
	return i2d_PUBKEY(pkey, der);
}

/* Hex SHA-256 of @pkey's DER public key; false if it cannot be encoded. */
static bool
key_fingerprint(EVP_PKEY *pkey, char hex[LW_SHA256_HEX_LEN + 1])
{
	unsigned char *der = NULL;
	int n = pubkey_der(pkey, &der);
	if (n <= 0) {
		return false;
	}
	lw_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	return true;
}

/* Hashes the file at @path. Returns 0 or -errno. */
static int
file_sha256(const char *path, char hex[LW_SHA256_HEX_LEN + 1])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL; /* never read a FIFO or a device named in a .sig */
	}
	size_t bufsz = 1 << 16;
	AUTOFREE char *buf = lw_malloc(bufsz);
	uint8_t d[LW_SHA256_LEN];
	struct lw_sha256 *h = lw_sha256_new();
	long long n = lw_sha256_fd(h, fd, buf, bufsz, d);
	lw_sha256_free(h);
	close(fd);
	if (n < 0) {
		return (int)n;
	}
	lw_hex(d, sizeof(d), hex);
	return 0;
}

static cJSON *
dup_or_null(const cJSON *v)
{
	cJSON *d = v ? cJSON_Duplicate(v, true) : NULL;
	return d ? d : cJSON_CreateNull();
}

static const cJSON *
get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* Loads the private key at @key_path. 0 or -errno with @err. */
static int
load_private_key(const char *key_path, EVP_PKEY **out, char *err, size_t errlen)
{
	AUTOFREE char *pem = NULL;
	size_t len = 0;
	int r = lw_read_file(key_path, SIG_MAX_BYTES, &pem, &len);
	if (r < 0) {
		snprintf(err, errlen, "--sign-key %s: %s", key_path, strerror(-r));
		return r;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		abort();
	}
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	lw_wipe(pem, len);
	ERR_clear_error();
	if (!pkey) {
		snprintf(err, errlen,
			 "--sign-key %s: not a PEM private key (or an encrypted"
			 " one: a passphrase is not asked for)",
			 key_path);
		return -EINVAL;
	}
	if (!algorithm_of(pkey)) {
		snprintf(err, errlen,
			 "--sign-key %s: key type %s: reports are signed with RSA,"
			 " EC or Ed25519 keys",
			 key_path, EVP_PKEY_get0_type_name(pkey));
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	*out = pkey;
	return 0;
}

static char *
base64(const unsigned char *data, size_t len)
{
	char *out = lw_malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Strict base64 (no whitespace, padding only at the end). Returns the
 * decoded length, or -1. *out is the caller's. */
static int
unbase64(const char *s, unsigned char **out)
{
	size_t len = strlen(s);
	if (len == 0 || len % 4 != 0 || len > (1u << 20)) {
		return -1;
	}
	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=' && i >= len - 2) {
			pad++;
		} else if (!alnum || pad) {
			return -1;
		}
	}
	unsigned char *buf = lw_malloc(len / 4 * 3 + 1);
	int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return n - (int)pad;
}

int
report_sign_write(const char *sig_path, const cJSON *doc, const char *canonical_sha256,
		  const struct report_file *files, size_t nfiles, const char *key_path, char *err,
		  size_t errlen)
{
	AUTOPKEY EVP_PKEY *pkey = NULL;
	if (key_path) {
		int r = load_private_key(key_path, &pkey, err, errlen);
		if (r < 0) {
			return r;
		}
	}

	/* The statement. */
	const cJSON *env = get(doc, RK_ENVELOPE);
	const cJSON *period = get(env, RK_PERIOD);
	AUTOJSON cJSON *st = cJSON_CreateObject();
	if (!st) {
		abort();
	}
	cJSON_AddItemToObject(st, RK_ID, dup_or_null(get(env, RK_ID)));
	cJSON *p = cJSON_AddObjectToObject(st, RK_PERIOD);
	cJSON_AddItemToObject(p, RK_SINCE, dup_or_null(get(period, RK_SINCE)));
	cJSON_AddItemToObject(p, RK_UNTIL, dup_or_null(get(period, RK_UNTIL)));
	cJSON_AddItemToObject(st, RK_GENERATED_AT, dup_or_null(get(env, RK_GENERATED_AT)));
	cJSON_AddStringToObject(st, SK_CANONICAL_SHA256, canonical_sha256);
	cJSON *fl = cJSON_AddArrayToObject(st, RK_FILES);
	for (size_t i = 0; i < nfiles; i++) {
		char hex[LW_SHA256_HEX_LEN + 1];
		int r = file_sha256(files[i].path, hex);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", files[i].path, strerror(-r));
			return r;
		}
		cJSON *f = cJSON_CreateObject();
		cJSON_AddItemToObject(f, RK_NAME,
				      wire_json_bytes(files[i].name, strlen(files[i].name)));
		cJSON_AddStringToObject(f, RK_SHA256, hex);
		cJSON_AddItemToArray(fl, f);
	}
	const cJSON *chains = get(get(doc, RK_INTEGRITY), RK_CHAINS);
	cJSON_AddItemToObject(st, RK_CHAINS,
			      cJSON_IsArray(chains) ? cJSON_Duplicate(chains, true)
						    : cJSON_CreateArray());
	AUTOFREE char *statement = lw_json_print(st);

	/* The signature over the statement's bytes. */
	AUTOJSON cJSON *sig = cJSON_CreateObject();
	if (!sig) {
		abort();
	}
	cJSON_AddStringToObject(sig, SK_FORMAT, SIG_FORMAT);
	cJSON_AddStringToObject(sig, SK_STATEMENT, statement);
	if (!pkey) {
		cJSON_AddNullToObject(sig, SK_ALGORITHM);
		cJSON_AddNullToObject(sig, SK_SIGNATURE);
		cJSON_AddNullToObject(sig, SK_PUBLIC_KEY);
		cJSON_AddNullToObject(sig, SK_KEY_SHA256);
	} else {
		AUTOMDCTX EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t slen = 0;
		if (!ctx || EVP_DigestSignInit(ctx, NULL, md_of(pkey), NULL, pkey) != 1 ||
		    EVP_DigestSign(ctx, NULL, &slen, (const unsigned char *)statement,
				   strlen(statement)) != 1) {
			snprintf(err, errlen, "--sign-key %s: OpenSSL cannot sign with this key",
				 key_path);
			return -EINVAL;
		}
		AUTOFREE unsigned char *sb = lw_malloc(slen);
		if (EVP_DigestSign(ctx, sb, &slen, (const unsigned char *)statement,
				   strlen(statement)) != 1) {
			snprintf(err, errlen, "--sign-key %s: signing failed", key_path);
			return -EINVAL;
		}
		AUTOFREE char *b64 = base64(sb, slen);
		AUTOBIO BIO *mem = BIO_new(BIO_s_mem());
		char *pem = NULL;
		long pemlen = 0;
		char fp[LW_SHA256_HEX_LEN + 1];
		if (!mem || PEM_write_bio_PUBKEY(mem, pkey) != 1 ||
		    (pemlen = BIO_get_mem_data(mem, &pem)) <= 0 || !key_fingerprint(pkey, fp)) {
			snprintf(err, errlen, "--sign-key %s: cannot encode its public key",
				 key_path);
			return -EINVAL;
		}
		cJSON_AddStringToObject(sig, SK_ALGORITHM, algorithm_of(pkey));
		cJSON_AddStringToObject(sig, SK_SIGNATURE, b64);
		AUTOFREE char *pemstr = lw_strndup(pem, (size_t)pemlen);
		cJSON_AddStringToObject(sig, SK_PUBLIC_KEY, pemstr);
		cJSON_AddStringToObject(sig, SK_KEY_SHA256, fp);
	}
	AUTOFREE char *text = lw_json_print(sig);
	AUTOFREE char *line = lw_asprintf("%s\n", text);
	return report_write_file(sig_path, line, strlen(line), err, errlen);
}

/* --- verification --- */

/* A public key from PEM text: a SubjectPublicKeyInfo or a certificate. */
static EVP_PKEY *
public_key_from_pem(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		abort();
	}
	EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (!k) {
		(void)BIO_reset(bio);
		X509 *x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (x) {
			k = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	BIO_free(bio);
	ERR_clear_error(); /* the failed first attempt's */
	return k;
}

/* @trusted: a path to a PEM file, or the PEM text itself. */
static int
load_trusted(const char *trusted, EVP_PKEY **out, char *err, size_t errlen)
{
	AUTOFREE char *text = NULL;
	size_t len = 0;
	if (strncmp(trusted, "-----BEGIN", 10) == 0) {
		text = lw_strdup(trusted);
		len = strlen(text);
	} else {
		int r = lw_read_file(trusted, SIG_MAX_BYTES, &text, &len);
		if (r < 0) {
			snprintf(err, errlen, "--trust %s: %s", trusted, strerror(-r));
			return r;
		}
	}
	*out = public_key_from_pem(text, len);
	if (!*out) {
		snprintf(err, errlen,
			 "--trust %s: neither a PEM public key nor a PEM"
			 " certificate",
			 trusted);
		return -EINVAL;
	}
	return 0;
}

static bool
same_key(EVP_PKEY *a, EVP_PKEY *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na = pubkey_der(a, &da), nb = pubkey_der(b, &db);
	bool same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A string member, NULL for JSON null; *bad set when it is neither. */
static const char *
str_or_null(const cJSON *o, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v)) {
		return v->valuestring;
	}
	if (!cJSON_IsNull(v)) {
		*bad = true;
	}
	return NULL;
}

/* The .sig, parsed and checked for shape. Returns 0 or -EPROTO with @err. */
struct sig_file {
	cJSON *root, *statement;
	const char *statement_text;
	const char *algorithm, *signature, *public_key, *key_sha256;
};

static void
sig_file_fini(struct sig_file *s)
{
	cJSON_Delete(s->root);
	cJSON_Delete(s->statement);
}

static int
sig_file_parse(const char *sig_path, const char *text, size_t len, struct sig_file *s, char *err,
	       size_t errlen)
{
	struct lw_json_error je;
	if (lw_json_parse(text, len, 0, &s->root, &je) < 0) {
		unsigned line = 0, col = 0;
		lw_json_line_col(text, len, je.offset, &line, &col);
		snprintf(err, errlen, "%s:%u:%u: %s", sig_path, line, col, je.msg);
		return -EPROTO;
	}
	if (!cJSON_IsObject(s->root)) {
		snprintf(err, errlen, "%s: not a JSON object", sig_path);
		return -EPROTO;
	}
	static const char *const known[] = {SK_FORMAT,    SK_STATEMENT,  SK_ALGORITHM,
					    SK_SIGNATURE, SK_PUBLIC_KEY, SK_KEY_SHA256};
	const cJSON *it;
	cJSON_ArrayForEach (it, s->root) {
		bool ok = false;
		for (size_t i = 0; i < LW_ARRAY_SIZE(known); i++) {
			ok = ok || strcmp(it->string, known[i]) == 0;
		}
		if (!ok) {
			AUTOFREE char *e = wire_escape_line(it->string, strlen(it->string));
			snprintf(err, errlen, "%s: unknown member \"%s\"", sig_path, e);
			return -EPROTO;
		}
	}
	const cJSON *fmt = get(s->root, SK_FORMAT);
	if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, SIG_FORMAT) != 0) {
		snprintf(err, errlen,
			 "%s: not a leakwatch report signature (\"format\" is not"
			 " \"%s\")",
			 sig_path, SIG_FORMAT);
		return -EPROTO;
	}
	const cJSON *stv = get(s->root, SK_STATEMENT);
	if (!cJSON_IsString(stv)) {
		snprintf(err, errlen, "%s: \"statement\" is not a string", sig_path);
		return -EPROTO;
	}
	s->statement_text = stv->valuestring;
	bool bad = false;
	s->algorithm = str_or_null(s->root, SK_ALGORITHM, &bad);
	s->signature = str_or_null(s->root, SK_SIGNATURE, &bad);
	s->public_key = str_or_null(s->root, SK_PUBLIC_KEY, &bad);
	s->key_sha256 = str_or_null(s->root, SK_KEY_SHA256, &bad);
	int present = !!s->algorithm + !!s->signature + !!s->public_key + !!s->key_sha256;
	if (bad || (present != 0 && present != 4)) {
		snprintf(err, errlen,
			 "%s: \"algorithm\", \"signature\", \"public_key\" and"
			 " \"key_sha256\" must all be strings or all null",
			 sig_path);
		return -EPROTO;
	}
	if (lw_json_parse(s->statement_text, strlen(s->statement_text), LW_JSON_BYTES,
			  &s->statement, &je) < 0 ||
	    !cJSON_IsObject(s->statement)) {
		snprintf(err, errlen, "%s: the statement is not a JSON object", sig_path);
		return -EPROTO;
	}
	const cJSON *files = get(s->statement, RK_FILES);
	if (!cJSON_IsArray(files)) {
		snprintf(err, errlen, "%s: the statement lists no \"files\"", sig_path);
		return -EPROTO;
	}
	cJSON_ArrayForEach (it, files) {
		const cJSON *n = get(it, RK_NAME), *h = get(it, RK_SHA256);
		if (!cJSON_IsString(n) || !cJSON_IsString(h) || !lw_is_sha256_hex(h->valuestring)) {
			snprintf(err, errlen,
				 "%s: a file of the statement has no name or no"
				 " SHA-256",
				 sig_path);
			return -EPROTO;
		}
		const char *name = n->valuestring;
		if (!*name || strchr(name, '/') || strstr(name, "..")) {
			AUTOFREE char *e = wire_escape_line(name, strlen(name));
			snprintf(err, errlen,
				 "%s: file name \"%s\" refused (a name beside the"
				 " signature only)",
				 sig_path, e);
			return -EPROTO;
		}
	}
	const cJSON *chains = get(s->statement, RK_CHAINS);
	if (chains && !cJSON_IsArray(chains)) {
		snprintf(err, errlen, "%s: the statement's \"chains\" is not a list", sig_path);
		return -EPROTO;
	}
	return 0;
}

/* Checks the signature; prints its line. true if it verifies (and is the
 * trusted key when one is given). */
static bool
check_signature(const struct sig_file *s, EVP_PKEY *trusted, FILE *out)
{
	AUTOFREE char *alg = wire_escape_line(s->algorithm, strlen(s->algorithm));
	AUTOPKEY EVP_PKEY *pub = public_key_from_pem(s->public_key, strlen(s->public_key));
	if (!pub) {
		fprintf(out, "FAIL signature %s: the embedded public key does not parse\n", alg);
		return false;
	}
	char fp[LW_SHA256_HEX_LEN + 1];
	if (!key_fingerprint(pub, fp) || strcmp(fp, s->key_sha256) != 0) {
		fprintf(out,
			"FAIL signature %s: key_sha256 is not the SHA-256 of the embedded"
			" public key\n",
			alg);
		return false;
	}
	const char *want = algorithm_of(pub);
	if (!want || strcmp(want, s->algorithm) != 0) {
		fprintf(out,
			"FAIL signature %s key sha256:%s: the key is not of that"
			" algorithm\n",
			alg, fp);
		return false;
	}
	AUTOFREE unsigned char *sb = NULL;
	int slen = unbase64(s->signature, &sb);
	if (slen <= 0) {
		fprintf(out, "FAIL signature %s key sha256:%s: the signature is not base64\n", alg,
			fp);
		return false;
	}
	AUTOMDCTX EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, md_of(pub), NULL, pub) != 1 ||
	    EVP_DigestVerify(ctx, sb, (size_t)slen, (const unsigned char *)s->statement_text,
			     strlen(s->statement_text)) != 1) {
		fprintf(out,
			"FAIL signature %s key sha256:%s: does not verify (the statement"
			" was changed, or signed by another key)\n",
			alg, fp);
		return false;
	}
	if (trusted && !same_key(pub, trusted)) {
		char tfp[LW_SHA256_HEX_LEN + 1] = "?";
		key_fingerprint(trusted, tfp);
		fprintf(out,
			"FAIL signature %s key sha256:%s: valid, but not the trusted key"
			" sha256:%s\n",
			alg, fp, tfp);
		return false;
	}
	fprintf(out, "ok   signature %s key sha256:%s%s\n", alg, fp,
		trusted ? " (the trusted key)" : "");
	return true;
}

static void
print_str(FILE *out, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		AUTOFREE char *e = wire_escape_line(v->valuestring, strlen(v->valuestring));
		fputs(e, out);
	} else {
		fputs("?", out);
	}
}

static void
print_int(FILE *out, const cJSON *v)
{
	long long n;
	if (wire_json_int(v, 0, INT64_MAX, &n)) {
		fprintf(out, "%lld", n);
	} else {
		fputs("?", out);
	}
}

static void
print_chains(const cJSON *chains, FILE *out)
{
	const cJSON *c;
	cJSON_ArrayForEach (c, chains) {
		fputs("chain ", out);
		print_str(out, get(c, RK_AGENT));
		if (!cJSON_IsString(get(c, RK_HEAD))) {
			/* An agent that sent no event: nothing to anchor. */
			fputs(": no head (", out);
			print_int(out, get(c, RK_EVENTS));
			fputs(" events in the period), status ", out);
			print_str(out, get(c, RK_STATUS));
			fputc('\n', out);
			continue;
		}
		fputs(": head ", out);
		print_str(out, get(c, RK_HEAD));
		fputs(" covers events 1..", out);
		print_int(out, get(c, RK_LAST_SEQ));
		fputs(" (", out);
		print_int(out, get(c, RK_EVENTS));
		fputs(" in the period ", out);
		print_int(out, get(c, RK_FIRST_SEQ));
		fputs("..", out);
		print_int(out, get(c, RK_LAST_SEQ));
		fputs("), status ", out);
		print_str(out, get(c, RK_STATUS));
		fputc('\n', out);
	}
}

int
report_verify(const char *path, const char *trusted, FILE *out, char *err, size_t errlen)
{
	/* Which .sig, and the report file the user named (if one). */
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	AUTOFREE char *sig_path = NULL;
	AUTOFREE char *dir = NULL;
	const char *named = NULL; /* the report file given, its base name */
	if (S_ISDIR(st.st_mode)) {
		sig_path = lw_asprintf("%s/report.sig", path);
		dir = lw_strdup(path);
	} else {
		sig_path = ends_with(path, ".sig") ? lw_strdup(path) : lw_asprintf("%s.sig", path);
		const char *slash = strrchr(sig_path, '/');
		dir = slash ? lw_strndup(sig_path, (size_t)(slash - sig_path + 1)) : lw_strdup(".");
		if (!ends_with(path, ".sig")) {
			const char *b = strrchr(path, '/');
			named = b ? b + 1 : path;
		}
	}

	AUTOPKEY EVP_PKEY *tkey = NULL;
	if (trusted) {
		int r = load_trusted(trusted, &tkey, err, errlen);
		if (r < 0) {
			return r;
		}
	}

	AUTOFREE char *text = NULL;
	size_t len = 0;
	int r = lw_read_file(sig_path, SIG_MAX_BYTES, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", sig_path, strerror(-r));
		return r;
	}
	struct sig_file s = {0};
	r = sig_file_parse(sig_path, text, len, &s, err, errlen);
	if (r < 0) {
		sig_file_fini(&s);
		return r;
	}

	bool mismatch = false, named_listed = named == NULL;
	const cJSON *f;
	cJSON_ArrayForEach (f, get(s.statement, RK_FILES)) {
		const char *name = get(f, RK_NAME)->valuestring;
		const char *want = get(f, RK_SHA256)->valuestring;
		AUTOFREE char *fpath = lw_asprintf("%s/%s", dir, name);
		AUTOFREE char *ename = wire_escape_line(name, strlen(name));
		char hex[LW_SHA256_HEX_LEN + 1];
		r = file_sha256(fpath, hex);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", fpath, strerror(-r));
			sig_file_fini(&s);
			return r;
		}
		if (named && strcmp(named, name) == 0) {
			named_listed = true;
		}
		if (strcmp(hex, want) == 0) {
			fprintf(out, "ok   file %s sha256 %s\n", ename, hex);
		} else {
			fprintf(out,
				"FAIL file %s: digest differs (file changed after it was"
				" signed)\n",
				ename);
			mismatch = true;
		}
	}
	if (!named_listed) {
		AUTOFREE char *e = wire_escape_line(named, strlen(named));
		fprintf(out, "FAIL file %s: not listed in its signature file\n", e);
		mismatch = true;
	}

	bool is_signed = s.signature != NULL;
	if (is_signed) {
		mismatch |= !check_signature(&s, tkey, out);
	} else if (tkey) {
		/* Asked for a signer, there is none: that does not match. */
		fprintf(out, "FAIL signature: the report is unsigned, and --trust names the"
			     " key that should have signed it\n");
		mismatch = true;
	} else {
		AUTOFREE char *e = wire_escape_line(sig_path, strlen(sig_path));
		fprintf(out,
			"UNSIGNED no signature: the digests show only that the files are"
			" unchanged since %s was written beside them\n",
			e);
	}
	print_chains(get(s.statement, RK_CHAINS), out);
	sig_file_fini(&s);
	if (fflush(out) != 0) {
		int e = errno;
		snprintf(err, errlen, "output: %s", strerror(e));
		return -e;
	}
	return mismatch ? 2 : is_signed ? 0 : 1;
}
