/* chain.h — the event log's identity and hash chain (doc/protocol.md):
 * UUIDs, RFC 3339 times and the hash that links each event to the one
 * before it. The agent writes events with these; the collector checks
 * them with the same function, so both ends hash the same bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CHAIN_HEX_LEN 64  /* a SHA-256 in lower-case hex */
#define CHAIN_UUID_LEN 36
#define CHAIN_TIME_LEN 24 /* 2026-11-23T05:10:34.123Z */

/* The prev of the first event: 64 zeros. */
extern const char chain_genesis[CHAIN_HEX_LEN + 1];

/* A random (version 4) UUID from the OpenSSL CSPRNG, NUL-terminated. */
void chain_uuid(char out[CHAIN_UUID_LEN + 1]);
/* @ns since the epoch as RFC 3339 UTC with milliseconds. */
void chain_time(int64_t ns, char out[CHAIN_TIME_LEN + 1]);
/* SHA-256(prev "\n" seq "\n" uuid "\n" time "\n" kind "\n" body) in hex;
 * @body is @body_len bytes (a decoded JSON string may hold NULs). */
void chain_hash(const char *prev, int64_t seq, const char *uuid, const char *time,
		const char *kind, const char *body, size_t body_len,
		char out[CHAIN_HEX_LEN + 1]);
