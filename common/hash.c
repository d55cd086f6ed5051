/* hash.c — SHA-256 helpers (see hash.h). */
#include "hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mem.h"

struct lw_sha256 {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

struct lw_sha256 *
lw_sha256_new(void)
{
	struct lw_sha256 *h = lw_new(struct lw_sha256, 1);
	h->ctx = EVP_MD_CTX_new();
	/* Fetch once: EVP_sha256() per file would look the algorithm up in the
	 * provider store every time. */
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!h->ctx || !h->md) {
		fprintf(stderr, "leakwatch: openssl: sha256 unavailable\n");
		abort();
	}
	return h;
}

void
lw_sha256_free(struct lw_sha256 *h)
{
	if (!h) {
		return;
	}
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free((EVP_MD *)h->md);
	free(h);
}

void
lw_sha256_init(struct lw_sha256 *h)
{
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		abort();
	}
}

void
lw_sha256_update(struct lw_sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, data, len) != 1) {
		abort();
	}
}

void
lw_sha256_final(struct lw_sha256 *h, uint8_t out[LW_SHA256_LEN])
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != LW_SHA256_LEN) {
		abort();
	}
}

long long
lw_sha256_fd(struct lw_sha256 *h, int fd, void *buf, size_t bufsz,
	     uint8_t out[LW_SHA256_LEN])
{
	long long total = 0;
	lw_sha256_init(h);
	for (;;) {
		ssize_t n = read(fd, buf, bufsz);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			break;
		}
		lw_sha256_update(h, buf, (size_t)n);
		total += n;
	}
	lw_sha256_final(h, out);
	return total;
}

void
lw_hex(const uint8_t *bin, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

int
lw_unhex_sha256(const char *hex, uint8_t out[LW_SHA256_LEN])
{
	if (strlen(hex) != LW_SHA256_HEX_LEN) {
		return -EINVAL;
	}
	for (size_t i = 0; i < LW_SHA256_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			return -EINVAL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
lw_sha256_hex(const void *data, size_t len, char hex[LW_SHA256_HEX_LEN + 1])
{
	uint8_t d[LW_SHA256_LEN];
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	lw_sha256_update(h, data, len);
	lw_sha256_final(h, d);
	lw_sha256_free(h);
	lw_hex(d, sizeof(d), hex);
}

bool
lw_is_sha256_hex(const char *s)
{
	if (strlen(s) != LW_SHA256_HEX_LEN) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
			return false;
		}
	}
	return true;
}
