/* chain.c — see chain.h. */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "hash.h"

const char chain_genesis[CHAIN_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

void
chain_uuid(char out[CHAIN_UUID_LEN + 1])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1) {
		abort(); /* no randomness: nothing safe to do */
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, CHAIN_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

void
chain_time(int64_t ns, char out[CHAIN_TIME_LEN + 1])
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, CHAIN_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned ms = (unsigned)((ns / 1000000) % 1000);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

void
chain_hash(const char *prev, int64_t seq, const char *uuid, const char *time,
	   const char *kind, const char *body, size_t body_len, char out[CHAIN_HEX_LEN + 1])
{
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)seq);
	const char *parts[] = {prev, num, uuid, time, kind};
	for (size_t i = 0; i < 5; i++) {
		lw_sha256_update(h, parts[i], strlen(parts[i]));
		lw_sha256_update(h, "\n", 1);
	}
	lw_sha256_update(h, body, body_len);
	uint8_t d[LW_SHA256_LEN];
	lw_sha256_final(h, d);
	lw_sha256_free(h);
	lw_hex(d, LW_SHA256_LEN, out);
}
