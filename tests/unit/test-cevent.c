/* test-cevent.c — the collector's event parsing and hash-chain rules
 * (collector/cevent.c), then the same rules through the SQLite store
 * (collector/cstore.c + cstore-sqlite.c) on a file in th_tmpdir(). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "render.h"
#include "cevent.h"
#include "harness.h"
#include "mem.h"
#include "rfc3339.h"
#include "cstore.h"

#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* Builds a valid event JSON for @seq after @prev; its hash into @hash. */
static char *
event_json(int64_t seq, const char *uuid, const char *prev,
	   const char *body, char *hash)
{
	struct cevent ev = {.seq = seq, .kind = CEVENT_KIND_VIOLATION};
	snprintf(ev.uuid, sizeof(ev.uuid), "%s", uuid);
	snprintf(ev.time, sizeof(ev.time), "2026-11-23T05:10:34.123Z");
	snprintf(ev.prev, sizeof(ev.prev), "%s", prev);
	ev.body = body;
	ev.body_len = strlen(body);
	cevent_hash(&ev, hash);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	cJSON_AddStringToObject(o, "uuid", uuid);
	cJSON_AddStringToObject(o, "time", ev.time);
	cJSON_AddStringToObject(o, "kind", "violation");
	cJSON_AddStringToObject(o, "prev", prev);
	cJSON_AddStringToObject(o, "hash", hash);
	cJSON_AddStringToObject(o, "body", body);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static const char body_ok[] = "{\"rule\":\"r1\",\"severity\":\"high\",\"file\":{\"path\":"
			      "\"/a/\\udcff\"}}";

static void
test_known_hash(void)
{
	/* The protocol's formula, computed independently:
	 * printf '%s\n1\n%s\n%s\nviolation\n%s' ZERO UUID TIME BODY | sha256sum */
	struct cevent ev = {.seq = 1, .kind = CEVENT_KIND_VIOLATION};
	snprintf(ev.uuid, sizeof(ev.uuid), "0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
	snprintf(ev.time, sizeof(ev.time), "2026-11-23T05:10:34.123Z");
	snprintf(ev.prev, sizeof(ev.prev), ZERO);
	ev.body = "{}";
	ev.body_len = 2;
	char hex[65];
	cevent_hash(&ev, hex);
	th_streq(hex, "1908c7412560cd0fc1c097ce204c9b0e2f9200f23a471ec014e974b69c0e21ce", "hash follows the protocol's formula");
}

/* an event envelope up to its body (which a case appends) */
#define ENV_V                                                                  \
	"{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","                  \
	"\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","     \
	"\"hash\":\"" ZERO "\","

static const struct {
	const char *name;
	const char *json;
	const char *want_err; /* substring */
} parse_cases[] = {
	{"not an object", "[]", "must be a JSON object"},
	{"seq zero", "{\"seq\":0}", "seq must be a whole number"},
	{"seq fraction", "{\"seq\":1.5}", "seq must be a whole number"},
	{"seq string", "{\"seq\":\"1\"}", "seq must be a whole number"},
	{"bad uuid", "{\"seq\":1,\"uuid\":\"x\"}", "uuid must be a UUID"},
	{"bad time", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
		     "\"time\":\"yesterday\"}", "time must be RFC 3339"},
	{"time with offset", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
			     "\"time\":\"2026-11-23T05:10:34+01:00\"}", "time must be RFC 3339"},
	{"bad kind", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
		     "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"x\"}", "kind must be"},
	{"upper-case prev", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
			    "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"violation\",\"prev\":"
			    "\"" ZERO "A\"}", "prev must be"},
	{"body object not string",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":{}}", "body must be a string"},
	{"body not JSON",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\"}", "body: byte 0: syntax error"},
	/* issue 11: an agent pasting a second record after its own */
	{"body with a second object after it",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r2\\\",\\\"severity\\\":\\\"low\\\"},"
	 "{\\\"agent\\\":\\\"ws-b\\\"}\"}", "text after the end of the document"},
	{"body with garbage after it",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\"}]} GARBAGE\"}",
	 "text after the end of the document"},
	{"body with a duplicate key",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"severity\\\":\\\"critical\\\"}\"}", "duplicate key \"severity\""},
	{"body with a nested duplicate key",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"file\\\":{\\\"path\\\":\\\"/a\\\",\\\"path\\\":\\\"/b\\\"}}\"}",
	 "/file: duplicate key \"path\""},
	{"body carrying the agent key",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"agent\\\":\\\"ws-b\\\"}\"}", "must not carry \"agent\""},
	{"body carrying received",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"received\\\":\\\"x\\\"}\"}", "must not carry \"received\""},
	{"body with an infinite number",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"size\\\":1e999}\"}", "number out of range"},
	{"rule with a newline",
	 ENV_V "\"body\":\"{\\\"rule\\\":\\\"r\\\\nx\\\",\\\"severity\\\":\\\"low\\\"}\"}",
	 "violation without a rule"},
	{"impossible time", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
			    "\"time\":\"2026-13-45T99:99:99Z\"}", "time must be RFC 3339"},
	{"31 February", "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
			"\"time\":\"2026-02-31T10:00:00Z\"}", "time must be RFC 3339"},
	{"29 February of a leap year",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2028-02-29T10:00:00Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\"}\"}",
	 NULL},
	{"29 February of 2100 (not a leap year)",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2100-02-29T10:00:00Z\"}", "time must be RFC 3339"},
	{"seq 2^53", "{\"seq\":9007199254740992}", "seq must be a whole number"},
	{"seq 2^53+1, which reads as 2^53", "{\"seq\":9007199254740993}",
	 "seq must be a whole number"},
	{"violation without severity",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\\\"rule\\\":\\\"r\\\"}\"}", "severity must be"},
	{"sighting without sha256",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"sighting\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\\\"path\\\":\\\"/x\\\"}\"}", "sighting without"},
	{"violation ok",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34.5Z\",\"kind\":\"violation\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\\\"rule\\\":\\\"r\\\",\\\"severity\\\":\\\"low\\\","
	 "\\\"path\\\":\\\"\\\\udcff\\\"}\"}", NULL},
	{"sighting ok with matches",
	 "{\"seq\":1,\"uuid\":\"0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
	 "\"time\":\"2026-11-23T05:10:34Z\",\"kind\":\"sighting\",\"prev\":\"" ZERO "\","
	 "\"hash\":\"" ZERO "\",\"body\":\"{\\\"sha256\\\":\\\"" ZERO "\\\",\\\"matches\\\":"
	 "[{\\\"id\\\":\\\"reg-1\\\"},{\\\"id\\\":\\\"reg-2\\\"}]}\"}", NULL},
};

static void
test_parse(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(parse_cases); i++) {
		/* strictly, as handlers_events() reads a batch */
		cJSON *o = NULL;
		struct lw_json_error je;
		th_ok(lw_json_parse(parse_cases[i].json, strlen(parse_cases[i].json), 0, &o, &je) == 0,
		      "envelope of %s parses (%s)", parse_cases[i].name, je.msg);
		struct cevent ev;
		char err[256] = "";
		int r = cevent_parse(o, &ev, err, sizeof(err));
		if (parse_cases[i].want_err) {
			th_ok(r < 0 && strstr(err, parse_cases[i].want_err), "parse %s: \"%s\" (got %s)",
			      parse_cases[i].name, parse_cases[i].want_err, err);
		} else {
			th_ok(r == 0, "parse %s (%s)", parse_cases[i].name, err);
			if (r == 0 && ev.kind == CEVENT_KIND_SIGHTING) {
				th_streq(ev.match_ids, "\nreg-1\nreg-2\n", "match ids indexed");
			}
			if (r == 0) {
				cevent_fini(&ev);
			}
		}
		cJSON_Delete(o);
	}
	th_ok(!cevent_text_ok("a\xff", 2), "raw invalid UTF-8 refused");
	th_ok(cevent_text_ok("\xe2\x82\xac", 3), "valid UTF-8 accepted");
}

static const struct {
	const char *name;
	int64_t seq;
	bool hash_ok;
	struct cevent_facts facts;
	const char *prev; /* the event's prev */
	unsigned want_flags;
	const char *want_detail; /* substring of the first alert, or NULL */
} verify_cases[] = {
	{"first event", 1, true, {.last_seq = 0}, ZERO, 0, NULL},
	{"first event, prev not zero", 1, true, {.last_seq = 0}, "aa",
	 CEVENT_FLAG_REPLAY, "prev does not match the hash of seq 0"},
	{"next in order", 5, true, {.last_seq = 4, .have_prev = true, .prev_hash = "aa"}, "aa", 0,
	 NULL},
	{"edited", 5, false, {.last_seq = 4, .have_prev = true, .prev_hash = "aa"}, "aa",
	 CEVENT_FLAG_EDIT, "seq 5: hash does not match"},
	{"one missing", 6, true, {.last_seq = 4}, "bb", CEVENT_FLAG_GAP, "seq 5 missing"},
	{"range missing", 9, true, {.last_seq = 4}, "bb", CEVENT_FLAG_GAP, "seq 5-8 missing"},
	{"seq taken", 3, true, {.last_seq = 4, .seq_taken = true,
				.seq_taken_uuid = "11111111-1111-1111-1111-111111111111"},
	 "aa", CEVENT_FLAG_REPLAY, "stored already as event 11111111"},
	{"prev mismatch", 5, true, {.last_seq = 4, .have_prev = true, .prev_hash = "aa"}, "ab",
	 CEVENT_FLAG_REPLAY, "prev does not match the hash of seq 4"},
	{"late arrival into a gap", 3, true, {.last_seq = 6, .have_prev = true,
					      .prev_hash = "aa"}, "aa", 0, NULL},
	{"edited and gap", 9, false, {.last_seq = 4}, "aa", CEVENT_FLAG_EDIT | CEVENT_FLAG_GAP,
	 "hash does not match"},
};

static void
test_verify(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(verify_cases); i++) {
		struct cevent ev = {.seq = verify_cases[i].seq};
		snprintf(ev.hash, sizeof(ev.hash), "%s", "cafe");
		snprintf(ev.prev, sizeof(ev.prev), "%s", verify_cases[i].prev);
		snprintf(ev.uuid, sizeof(ev.uuid), "22222222-2222-2222-2222-222222222222");
		struct cevent_alert al[3];
		int n = -1;
		unsigned f = cevent_verify(&ev, verify_cases[i].hash_ok ? "cafe" : "beef",
					  &verify_cases[i].facts, al, &n);
		th_inteq(f, verify_cases[i].want_flags, "verify %s: flags", verify_cases[i].name);
		int want_n = __builtin_popcount(verify_cases[i].want_flags);
		th_inteq(n, want_n, "verify %s: one alert per problem", verify_cases[i].name);
		if (verify_cases[i].want_detail) {
			th_ok(n > 0 && strstr(al[0].detail, verify_cases[i].want_detail),
			      "verify %s: detail \"%s\" (got \"%s\")", verify_cases[i].name,
			      verify_cases[i].want_detail, n > 0 ? al[0].detail : "");
		}
	}
}

/* The same rules through the SQLite store, with real hashes. */
static int
collect_event(const struct cstore_event_row *row, void *arg)
{
	render_event(arg, row);
	return 0;
}

static int
collect_alert(const struct cstore_alert_row *row, void *arg)
{
	render_alert(arg, row);
	return 0;
}

static void
test_ingest(void)
{
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/collector.db", th_tmpdir());
	struct cstore *s = NULL;
	th_ok(cstore_open(path, &s, err, sizeof(err)) == 0, "sqlite store opens (%s)", err);
	if (!s) {
		return;
	}
	static const char *const uuids[] = {
		"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
	};
	char prev[65] = ZERO, hash[65];
	cJSON *docs[4];
	struct cevent evs[4];
	for (int i = 0; i < 4; i++) {
		char *js = event_json(i + 1, uuids[i], prev, body_ok, hash);
		docs[i] = cJSON_Parse(js);
		free(js);
		th_ok(cevent_parse(docs[i], &evs[i], err, sizeof(err)) == 0, "event %d parses (%s)",
		      i + 1, err);
		memcpy(prev, hash, sizeof(prev));
	}
	struct cstore_ingest_stats st;
	th_ok(cstore_ingest(s, "a1", evs, 2, &st) == 0 && st.stored == 2 && st.duplicates == 0,
	      "batch 1-2 stored");
	th_ok(cstore_ingest(s, "a1", evs, 2, &st) == 0 && st.stored == 0 && st.duplicates == 2,
	      "batch 1-2 again: duplicates");
	th_ok(cstore_ingest(s, "a1", evs + 3, 1, &st) == 0 && st.stored == 1 &&
		      st.alerts[CEVENT_ALERT_GAP] == 1 && st.alerts[CEVENT_ALERT_EDIT] == 0,
	      "event 4 after 2: gap");
	th_ok(cstore_ingest(s, "a1", evs + 2, 1, &st) == 0 && st.stored == 1 &&
		      st.alerts[CEVENT_ALERT_GAP] + st.alerts[CEVENT_ALERT_REPLAY] == 0,
	      "event 3 arriving late fills the gap silently");
	/* another agent's chain is its own */
	th_ok(cstore_ingest(s, "a2", evs, 1, &st) == 0 && st.stored == 1 &&
		      st.alerts[0] + st.alerts[1] + st.alerts[2] == 0,
	      "same event under another agent is that agent's first");
	struct wire_buf out = {0};
	struct cstore_query q = {.limit = 100, .agent = "a1"};
	int n = s->ops->violations(s, &q, collect_event, &out);
	th_inteq(n, 4, "a1 has four violations");
	th_ok(out.data && strstr(out.data, "\"agent\":\"a1\",\"seq\":1,\"received\":") &&
		      strstr(out.data, "\\udcff"),
	      "violations keep a name's bytes through parse and render (%.120s)", out.data);
	wire_buf_fini(&out);
	n = s->ops->alerts(s, &(struct cstore_query){.limit = 100}, collect_alert, &out);
	th_ok(n == 1 && strstr(out.data, "\"kind\":\"gap\""), "one gap alert (%s)", out.data);
	wire_buf_fini(&out);
	for (int i = 0; i < 4; i++) {
		cevent_fini(&evs[i]);
		cJSON_Delete(docs[i]);
	}
	cstore_close(s);
}

int
main(void)
{
	test_known_hash();
	test_parse();
	test_verify();
	test_ingest();
	return th_done();
}
