/* hash.h — streaming SHA-256 through OpenSSL EVP (SHA-NI where the CPU has
 * it). One context per thread; contexts are reused across files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_SHA256_LEN 32
#define LW_SHA256_HEX_LEN 64

struct lw_sha256;

struct lw_sha256 *lw_sha256_new(void);
void lw_sha256_free(struct lw_sha256 *h); /* NULL is a no-op */
void lw_sha256_init(struct lw_sha256 *h);
void lw_sha256_update(struct lw_sha256 *h, const void *data, size_t len);
void lw_sha256_final(struct lw_sha256 *h, uint8_t out[LW_SHA256_LEN]);

/* Hashes everything readable from @fd into @out using @buf (@bufsz bytes) as
 * scratch. Returns the byte count hashed, or -errno. */
long long lw_sha256_fd(struct lw_sha256 *h, int fd, void *buf, size_t bufsz,
		       uint8_t out[LW_SHA256_LEN]);

/* Lower-case hex; @hex gets 65 bytes (NUL-terminated). */
void lw_hex(const uint8_t *bin, size_t len, char *hex);
/* The lower-case hex SHA-256 of @len bytes at @data into @hex (65 bytes). */
void lw_sha256_hex(const void *data, size_t len, char hex[LW_SHA256_HEX_LEN + 1]);
/* True if @s is exactly 64 lower-case hex digits (how hashes travel). */
bool lw_is_sha256_hex(const char *s);
/* Parses 64 hex digits; returns 0 or -EINVAL. */
int lw_unhex_sha256(const char *hex, uint8_t out[LW_SHA256_LEN]);
