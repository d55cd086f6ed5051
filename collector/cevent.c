/* cevent.c — event parsing and hash-chain rules (see chain.h). Stateless. */
#include "cevent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "rfc3339.h"
#include "wire.h"

static const char *const severity_names[] = {NULL, "low", "medium", "high", "critical"};

int
cevent_severity_rank(const char *s)
{
	for (int i = 1; i < (int)LW_ARRAY_SIZE(severity_names); i++) {
		if (s && strcmp(s, severity_names[i]) == 0) {
			return i;
		}
	}
	return 0;
}

const char *
cevent_severity_name(int rank)
{
	return rank >= 1 && rank <= 4 ? severity_names[rank] : "unknown";
}

const char *
cevent_alert_kind_name(enum cevent_alert_kind k)
{
	switch (k) {
	case CEVENT_ALERT_EDIT:
		return WIRE_ALERT_EDIT;
	case CEVENT_ALERT_GAP:
		return WIRE_ALERT_GAP;
	case CEVENT_ALERT_REPLAY:
		return WIRE_ALERT_REPLAY;
	}
	return "?";
}

bool
cevent_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = p[i] ? wire_utf8_seq_len(p + i, len - i) : 0;
		if (!n) {
			return false;
		}
		i += n;
	}
	return true;
}

void
cevent_fini(struct cevent *ev)
{
	if (!ev) {
		return;
	}
	free(ev->match_ids);
	ev->match_ids = NULL;
}

static bool
is_uuid(const char *s)
{
	if (strlen(s) != CHAIN_UUID_LEN) {
		return false;
	}
	for (int i = 0; i < CHAIN_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];
		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

static const char *
str_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* UTF-8 without control characters: what may go into an indexed column
 * (PostgreSQL's text refuses bytes that are not UTF-8, and a newline would
 * let one id match across the "\nid\n" list of match_ids). */
bool
cevent_plain_text(const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			return false;
		}
	}
	return cevent_text_ok(s, strlen(s));
}

/* Keys the collector writes into its answers beside a body's own. */
static const char *const reserved_keys[] = {WIRE_KEY_AGENT, WIRE_KEY_SEQ, WIRE_KEY_RECEIVED};

int
cevent_body_parse(const char *body, size_t len, cJSON **out, char *err, size_t errlen)
{
	struct lw_json_error je;
	cJSON *b = NULL;
	if (lw_json_parse(body, len, LW_JSON_BYTES, &b, &je) < 0) {
		if (je.offset == SIZE_MAX) {
			snprintf(err, errlen, "body: %s: %s", je.where, je.msg);
		} else {
			snprintf(err, errlen, "body: byte %zu: %s", je.offset, je.msg);
		}
		return -EPROTO;
	}
	if (!cJSON_IsObject(b)) {
		cJSON_Delete(b);
		snprintf(err, errlen, "body is not a JSON object");
		return -EPROTO;
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(reserved_keys); i++) {
		if (cJSON_GetObjectItemCaseSensitive(b, reserved_keys[i])) {
			cJSON_Delete(b);
			snprintf(err, errlen, "body must not carry \"%s\" (the collector sets it)",
				 reserved_keys[i]);
			return -EPROTO;
		}
	}
	*out = b;
	return 0;
}

/* @v into @out (size @n) if it is plain text that fits; else "". */
static void
copy_plain(char *out, size_t n, const char *v)
{
	out[0] = '\0';
	if (v && strlen(v) < n && cevent_plain_text(v)) {
		memcpy(out, v, strlen(v) + 1);
	}
}

/* What the report's queries group by: indexing only, the body stays the
 * record. Absent or odd values leave the column empty, never refuse the
 * event (the protocol does not require them). */
static void
report_columns(struct cevent *ev, const cJSON *b)
{
	const cJSON *file = ev->kind == CEVENT_KIND_VIOLATION
				    ? cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_FILE)
				    : b;
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(file, WIRE_KEY_CLASSIFICATION);
	copy_plain(ev->marking, sizeof(ev->marking), str_member(cls, WIRE_KEY_MARKING));
	copy_plain(ev->owner, sizeof(ev->owner), str_member(file, WIRE_KEY_OWNER));
	if (ev->kind == CEVENT_KIND_VIOLATION) {
		copy_plain(ev->action, sizeof(ev->action), str_member(b, WIRE_KEY_ACTION));
		return;
	}
	const char *path = str_member(b, WIRE_KEY_PATH);
	if (path) {
		/* bytes (LW_JSON_BYTES): one key per file name, UTF-8 or not */
		lw_sha256_hex(path, strlen(path), ev->path_key);
	}
	ev->deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_DELETED));
	ev->moved = str_member(b, WIRE_KEY_MOVED_FROM) || str_member(b, WIRE_KEY_MOVED_TO);
	copy_plain(ev->scheme, sizeof(ev->scheme), str_member(cls, WIRE_KEY_SCHEME));
	copy_plain(ev->level, sizeof(ev->level), str_member(cls, WIRE_KEY_LEVEL));
	static const struct {
		const char *name;
		unsigned bit;
	} zones[] = {{"secure", CEVENT_ZONE_SECURE},
		     {"staging", CEVENT_ZONE_STAGING},
		     {"removable", CEVENT_ZONE_REMOVABLE},
		     {"sync", CEVENT_ZONE_SYNC}};
	const cJSON *z;
	cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_ZONES))
	{
		for (size_t i = 0; cJSON_IsString(z) && i < LW_ARRAY_SIZE(zones); i++) {
			if (strcmp(z->valuestring, zones[i].name) == 0) {
				ev->zones |= zones[i].bit;
			}
		}
	}
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_MODE);
	if (cJSON_IsNumber(mode) && mode->valuedouble >= 0 && mode->valuedouble < 65536 &&
	    ((unsigned)mode->valuedouble & 04)) {
		ev->zones |= CEVENT_ZONE_WORLD_READABLE;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_MATCHES))
	{
		const char *kind = str_member(m, WIRE_KEY_MATCH_KIND);
		ev->registered = ev->registered || (kind && strcmp(kind, "exact") == 0);
		ev->excerpt = ev->excerpt || (kind && strcmp(kind, "partial") == 0);
	}
}

static int
parse_body(struct cevent *ev, char *err, size_t errlen)
{
	char why[256];
	cJSON *b = NULL;
	if (cevent_body_parse(ev->body, ev->body_len, &b, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "seq %" PRId64 ": %s", ev->seq, why);
		return -EPROTO;
	}
	int r = -EPROTO;
	if (ev->kind == CEVENT_KIND_VIOLATION) {
		const char *rule = str_member(b, WIRE_KEY_RULE);
		const char *sev = str_member(b, WIRE_KEY_SEVERITY);
		if (!rule || !rule[0] || strlen(rule) >= sizeof(ev->rule) || !cevent_plain_text(rule)) {
			snprintf(err, errlen, "seq %" PRId64 ": violation without a rule", ev->seq);
			goto out;
		}
		if (!(ev->severity = cevent_severity_rank(sev))) {
			snprintf(err, errlen,
				 "seq %" PRId64 ": severity must be low, medium, high or critical",
				 ev->seq);
			goto out;
		}
		snprintf(ev->rule, sizeof(ev->rule), "%s", rule);
	} else {
		const char *sha = str_member(b, WIRE_KEY_SHA256);
		if (!sha || !lw_is_sha256_hex(sha)) {
			snprintf(err, errlen, "seq %" PRId64 ": sighting without a sha256", ev->seq);
			goto out;
		}
		snprintf(ev->sha256, sizeof(ev->sha256), "%s", sha);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, WIRE_KEY_MATCHES);
		const cJSON *it;
		struct wire_buf ids = {0};
		cJSON_ArrayForEach(it, m)
		{
			const char *id = str_member(it, WIRE_KEY_MATCH_ID);
			if (id && id[0] && cevent_plain_text(id)) {
				wire_buf_put(&ids, ids.len ? "" : "\n", ids.len ? 0 : 1);
				wire_buf_put(&ids, id, strlen(id));
				wire_buf_put(&ids, "\n", 1);
			}
		}
		ev->match_ids = ids.data;
	}
	report_columns(ev, b);
	r = 0;
out:
	cJSON_Delete(b);
	return r;
}

int
cevent_parse(const cJSON *o, struct cevent *ev, char *err, size_t errlen)
{
	memset(ev, 0, sizeof(*ev));
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "an event must be a JSON object");
		return -EPROTO;
	}
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_SEQ);
	/* Below 2^53, where a double stops being exact: 9007199254740993
	 * reads as 2^53, so 2^53 itself is refused too. */
	if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
	    seq->valuedouble >= 9007199254740992.0 ||
	    seq->valuedouble != (double)(int64_t)seq->valuedouble) {
		snprintf(err, errlen, "event: seq must be a whole number >= 1");
		return -EPROTO;
	}
	ev->seq = (int64_t)seq->valuedouble;
	const char *uuid = str_member(o, WIRE_KEY_UUID);
	const char *time = str_member(o, WIRE_KEY_TIME);
	const char *kind = str_member(o, WIRE_KEY_KIND);
	const char *prev = str_member(o, WIRE_KEY_PREV);
	const char *hash = str_member(o, WIRE_KEY_HASH);
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_BODY);
	const char *what = NULL;
	if (!uuid || !is_uuid(uuid)) {
		what = "uuid must be a UUID (8-4-4-4-12 hex digits)";
	} else if (!time || strlen(time) > CEVENT_TIME_MAX || !rfc3339_is_utc(time)) {
		what = "time must be RFC 3339 UTC (2026-11-23T05:10:34.123Z)";
	} else if (!kind || (strcmp(kind, WIRE_EVENT_VIOLATION) != 0 &&
			     strcmp(kind, WIRE_EVENT_SIGHTING) != 0)) {
		what = "kind must be violation or sighting";
	} else if (!prev || !lw_is_sha256_hex(prev)) {
		what = "prev must be 64 lower-case hex digits";
	} else if (!hash || !lw_is_sha256_hex(hash)) {
		what = "hash must be 64 lower-case hex digits";
	} else if (!cJSON_IsString(body)) {
		what = "body must be a string (the event's JSON, serialised once)";
	}
	if (what) {
		snprintf(err, errlen, "seq %" PRId64 ": %s", ev->seq, what);
		return -EPROTO;
	}
	snprintf(ev->uuid, sizeof(ev->uuid), "%s", uuid);
	snprintf(ev->time, sizeof(ev->time), "%s", time);
	ev->kind = strcmp(kind, WIRE_EVENT_VIOLATION) == 0 ? CEVENT_KIND_VIOLATION
							   : CEVENT_KIND_SIGHTING;
	snprintf(ev->prev, sizeof(ev->prev), "%s", prev);
	snprintf(ev->hash, sizeof(ev->hash), "%s", hash);
	ev->body = body->valuestring;
	ev->body_len = strlen(body->valuestring);
	if (!cevent_text_ok(ev->body, ev->body_len)) {
		/* file names that are not UTF-8 travel as \udcXX escapes
		 * inside the body text (wire.h), never as raw bytes */
		snprintf(err, errlen, "seq %" PRId64 ": body is not valid UTF-8", ev->seq);
		return -EPROTO;
	}
	int r = parse_body(ev, err, errlen);
	if (r < 0) {
		cevent_fini(ev);
	}
	return r;
}

void
cevent_hash(const struct cevent *ev, char *hex)
{
	chain_hash(ev->prev, ev->seq, ev->uuid, ev->time,
		   ev->kind == CEVENT_KIND_VIOLATION ? WIRE_EVENT_VIOLATION : WIRE_EVENT_SIGHTING,
		   ev->body, ev->body_len, hex);
}

static const char zero_hash[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

unsigned
cevent_verify(const struct cevent *ev, const char *computed,
	     const struct cevent_facts *f, struct cevent_alert *alerts, int *nalerts)
{
	unsigned flags = 0;
	int n = 0;
	if (strcmp(computed, ev->hash) != 0) {
		flags |= CEVENT_FLAG_EDIT;
		alerts[n].kind = CEVENT_ALERT_EDIT;
		snprintf(alerts[n++].detail, sizeof(alerts[0].detail),
			 "seq %" PRId64 ": hash does not match the event's contents", ev->seq);
	}
	if (f->seq_taken) {
		/* Two events with one seq: a second machine with this
		 * identity (cloned VM, copied key) or a replayed log. */
		flags |= CEVENT_FLAG_REPLAY;
		alerts[n].kind = CEVENT_ALERT_REPLAY;
		snprintf(alerts[n++].detail, sizeof(alerts[0].detail),
			 "seq %" PRId64 ": stored already as event %s; this is %s:"
			 " two machines with this identity?",
			 ev->seq, f->seq_taken_uuid, ev->uuid);
	} else if (ev->seq == 1 ? strcmp(ev->prev, zero_hash) != 0
				: f->have_prev && strcmp(ev->prev, f->prev_hash) != 0) {
		flags |= CEVENT_FLAG_REPLAY;
		alerts[n].kind = CEVENT_ALERT_REPLAY;
		snprintf(alerts[n++].detail, sizeof(alerts[0].detail),
			 "seq %" PRId64 ": prev does not match the hash of seq %" PRId64,
			 ev->seq, ev->seq - 1);
	}
	if (ev->seq > f->last_seq + 1) {
		flags |= CEVENT_FLAG_GAP;
		alerts[n].kind = CEVENT_ALERT_GAP;
		if (ev->seq == f->last_seq + 2) {
			snprintf(alerts[n++].detail, sizeof(alerts[0].detail),
				 "seq %" PRId64 " missing", f->last_seq + 1);
		} else {
			snprintf(alerts[n++].detail, sizeof(alerts[0].detail),
				 "seq %" PRId64 "-%" PRId64 " missing", f->last_seq + 1,
				 ev->seq - 1);
		}
	}
	*nalerts = n;
	return flags;
}
