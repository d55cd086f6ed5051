/* cevent.h — one agent event as the collector sees it, and the verification
 * of each agent's hash chain (doc/protocol.md, "Events and the hash chain").
 *
 * Pure functions: parsing and deciding. What is stored already is asked of
 * the store by the caller (collector/cstore.c) and handed in as facts, so
 * the rules can be tested without a database. Any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain.h" /* common: the hash both ends compute, CHAIN_UUID_LEN */
#include "hash.h"

#define CEVENT_TIME_MAX 40

enum cevent_kind {
	CEVENT_KIND_VIOLATION,
	CEVENT_KIND_SIGHTING,
};

/* Flags stored with an event. */
enum cevent_flag {
	CEVENT_FLAG_EDIT = 1,   /* hash does not match the event */
	CEVENT_FLAG_GAP = 2,    /* events before it are missing */
	CEVENT_FLAG_REPLAY = 4, /* seq taken by another uuid, or prev mismatch */
};

enum cevent_alert_kind {
	CEVENT_ALERT_EDIT,
	CEVENT_ALERT_GAP,
	CEVENT_ALERT_REPLAY,
};

struct cevent {
	int64_t seq;
	char uuid[CHAIN_UUID_LEN + 1];
	char time[CEVENT_TIME_MAX + 1];
	enum cevent_kind kind;
	char prev[LW_SHA256_HEX_LEN + 1];
	char hash[LW_SHA256_HEX_LEN + 1];
	const char *body; /* borrowed from the parsed request; valid as long as it */
	size_t body_len;
	/* from the body, for indexing (the body itself is stored verbatim) */
	char rule[128];      /* violation: rule id */
	int severity;        /* violation: 1 low .. 4 critical */
	char sha256[LW_SHA256_HEX_LEN + 1]; /* sighting: file content */
	char *match_ids;     /* sighting: "\nid1\nid2\n" or NULL; owned */
	/* from the body, for the compliance report's queries ("" when the
	 * body has none, or none that is plain UTF-8 text of that size) */
	char marking[128];   /* the classification's marking */
	char owner[64];      /* the file's owner */
	char action[32];     /* violation: what the agent did */
	char path_key[LW_SHA256_HEX_LEN + 1]; /* sighting: SHA-256 of the path */
	bool deleted;        /* sighting: the content left the path */
	bool moved;          /* sighting: by a rename (moved_from / moved_to) */
	char scheme[32], level[64]; /* sighting: the classification's */
	unsigned zones;      /* sighting: CEVENT_ZONE_* bits */
	bool registered;     /* sighting: an exact match of a registered document */
	bool excerpt;        /* sighting: a partial match of one */
};

/* Where a sighting is held, as the compliance report's holdings count it:
 * the zones the agent named, and a mode readable by anyone. */
enum cevent_zone {
	CEVENT_ZONE_SECURE = 1,
	CEVENT_ZONE_STAGING = 2,
	CEVENT_ZONE_REMOVABLE = 4,
	CEVENT_ZONE_SYNC = 8,
	CEVENT_ZONE_WORLD_READABLE = 16,
};

void cevent_fini(struct cevent *ev); /* NULL is a no-op */

/* Fills @ev from one element of a request's "events" array. Returns 0, or
 * -EPROTO with what is wrong in @err (the caller answers 400 and stores
 * nothing of the batch). */
int cevent_parse(const cJSON *obj, struct cevent *ev, char *err,
		      size_t errlen);

/* Parses an event body's text strictly (common/json.h, \udcXX escapes
 * as bytes): one JSON object, nothing after it, no duplicate keys, and none
 * of the keys the collector adds to its answers (agent, seq, received).
 * Used at ingest, and again on every stored body an answer includes, so
 * rows stored before these checks cannot shape an answer either. Returns 0
 * and *out (cJSON_Delete), or -EPROTO with what is wrong in @err. */
int cevent_body_parse(const char *body, size_t len, cJSON **out, char *err, size_t errlen);

/* The event's hash into @hex (65 bytes), as common/chain.c computes it:
 * the agent uses the same function. */
void cevent_hash(const struct cevent *ev, char *hex);

/* True if @len bytes at @s are valid UTF-8 without NULs: what PostgreSQL's
 * text columns accept, so both stores take exactly the same events. */
bool cevent_text_ok(const char *s, size_t len);
/* The same, NUL-terminated, and without control characters (C0, DEL):
 * what a rule id, a query parameter or a report column may hold. */
bool cevent_plain_text(const char *s);

/* 1 low, 2 medium, 3 high, 4 critical; 0 for anything else. */
int cevent_severity_rank(const char *s);
const char *cevent_severity_name(int rank);
const char *cevent_alert_kind_name(enum cevent_alert_kind k);

/* What the store knows when @ev arrives (its uuid is not stored: a
 * duplicate is acknowledged before verification). */
struct cevent_facts {
	int64_t last_seq;   /* highest seq stored for the agent, 0 if none */
	bool seq_taken;     /* an event with this seq is stored (another uuid) */
	char seq_taken_uuid[CHAIN_UUID_LEN + 1];
	bool have_prev;     /* event seq - 1 is stored */
	char prev_hash[LW_SHA256_HEX_LEN + 1]; /* its hash, if have_prev */
};

struct cevent_alert {
	enum cevent_alert_kind kind;
	char detail[200];
};

/* Verifies @ev (whose recomputed hash is @computed) against @facts.
 * Returns the enum cevent_flag bits for the stored event and writes one
 * alert per problem into @alerts (room for 3), their number in *nalerts. */
unsigned cevent_verify(const struct cevent *ev, const char *computed,
		      const struct cevent_facts *facts, struct cevent_alert *alerts,
		      int *nalerts);
