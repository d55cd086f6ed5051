/* test-sightings.c — the agent's side of the fleet's trace
 * (agent/sightings.c): a sighting event when sensitive content appears at a
 * path or changes there, one when it leaves (also for a whole tree),
 * nothing when nothing changed; the findings copied as counts and ids,
 * never values. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "harness.h"
#include "mem.h"
#include "sightings.h"
#include "store.h"
#include "vstore.h"
#include "wire.h"

struct fixture {
	struct store *st;
	struct vstore *vs;
};

static bool
fixture_init(struct fixture *fx)
{
	*fx = (struct fixture){0};
	char db[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", th_tmpdir());
	if (!th_ok(store_open(db, DB_MODE_WRITER, &fx->st, err, sizeof(err)) == 0,
		   "inventory opens (%s)", err)) {
		return false;
	}
	fx->vs = vstore_new(fx->st);
	return true;
}

static void
fixture_fini(struct fixture *fx)
{
	vstore_free(fx->vs);
	store_close(fx->st);
}

/* The events in the outbox, and the body of the last one (caller frees). */
static int
events(struct fixture *fx, char **last_body)
{
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(store_db(fx->st), "SELECT count(*), (SELECT body FROM events ORDER BY"
					     " seq DESC LIMIT 1) FROM events", -1, &s, NULL);
	int n = -1;
	if (s && sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
		const unsigned char *b = sqlite3_column_text(s, 1);
		*last_body = b ? lw_strdup((const char *)b) : NULL;
	}
	sqlite3_finalize(s);
	return n;
}

static const struct sighting_where nowhere = {0};

static struct file_rec
rec(uint8_t tag)
{
	struct file_rec r = {.kind = FILE_KIND_REGULAR, .size = 10, .mode = 0100600,
			     .has_sha = true};
	memset(r.sha256, tag, sizeof(r.sha256));
	return r;
}

static const char findings_text[] =
	"{\"classification\":{\"level\":\"SECRET\",\"scheme\":\"NATO\"},"
	"\"pii\":[{\"type\":\"iban\",\"count\":3,\"values\":[\"PT50000201231234567890154\"]}],"
	"\"matches\":[],\"rules\":[\"kw\"]}";

static void
test_lifecycle(struct fixture *fx)
{
	cJSON *f = cJSON_Parse(findings_text);
	struct file_rec a = rec(0xaa), b = rec(0xbb);
	const char *p = "/d/memo.txt";
	char *body = NULL;
	cJSON *zones = cJSON_CreateStringArray((const char *const[]){"secure"}, 1);
	struct sighting_where w = {.zones = zones, .owner = "alice"};
	store_begin(fx->st);
	th_inteq(sightings_seen(fx->vs, p, strlen(p), &a, f, &w, 1000), 0, "seen");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 1, "first sight: one event");
	th_ok(body && strstr(body, "memo.txt") && strstr(body, "SECRET"),
	      "it names the path and the level (%s)", body ? body : "none");
	th_ok(body && strstr(body, "\"zones\":[\"secure\"]") && strstr(body, "\"owner\":\"alice\"") &&
		      strstr(body, "\"mode\":384"),
	      "it says the zones, the owner and the mode (%s)", body ? body : "none");
	th_ok(body && !strstr(body, "PT50000201231234567890154"),
	      "it carries no value of the personal data");
	free(body);
	uint8_t sha[LW_SHA256_LEN];
	int64_t first = 0;
	bool deleted = true;
	th_inteq(vstore_sighting_get(fx->vs, p, strlen(p), sha, &first, &deleted, &body), 1,
		 "the last report is kept");
	th_ok(!deleted && sha[0] == 0xaa && first == 1000, "present, this content, since 1000");
	free(body);

	store_begin(fx->st);
	th_inteq(sightings_seen(fx->vs, p, strlen(p), &a, f, &w, 2000), 0, "seen again, unchanged");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 1, "no event for nothing new");
	free(body);

	store_begin(fx->st);
	th_inteq(sightings_seen(fx->vs, p, strlen(p), &b, f, &w, 3000), 0, "new content there");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 2, "a change is reported");
	free(body);

	store_begin(fx->st);
	th_inteq(sightings_gone(fx->vs, p, strlen(p), NULL, 4000), 0, "gone");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 3, "leaving is reported");
	th_ok(body && strstr(body, "\"deleted\":true"), "as deleted (%s)", body ? body : "none");
	free(body);
	store_begin(fx->st);
	th_inteq(sightings_gone(fx->vs, p, strlen(p), NULL, 5000), 0, "gone again");
	th_inteq(sightings_gone(fx->vs, "/d/never", 8, NULL, 5000), 0, "a path never reported");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 3, "neither is news");
	free(body);

	/* a rename: the old place says where to, the new one where from */
	const char *q = "/d/moved.txt";
	store_begin(fx->st);
	sightings_seen(fx->vs, p, strlen(p), &a, f, &w, 6000);
	th_inteq(sightings_gone(fx->vs, p, strlen(p), q, 7000), 0, "renamed away");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 5, "the leaving is reported");
	th_ok(body && strstr(body, "\"moved_to\":\"/d/moved.txt\"") && strstr(body, "\"deleted\":true"),
	      "with where it went (%s)", body ? body : "none");
	free(body);
	w.moved_from = p;
	store_begin(fx->st);
	th_inteq(sightings_seen(fx->vs, q, strlen(q), &a, f, &w, 7000), 0, "arrived by the rename");
	store_commit(fx->st);
	th_inteq(events(fx, &body), 6, "the arrival is reported");
	th_ok(body && strstr(body, "\"moved_from\":\"/d/memo.txt\"") && !strstr(body, "moved_to"),
	      "with where it came from (%s)", body ? body : "none");
	free(body);
	cJSON_Delete(zones);
	cJSON_Delete(f);
}

static void
test_findings_copy(void)
{
	cJSON *f = cJSON_Parse(findings_text);
	cJSON *o = cJSON_CreateObject();
	sightings_findings_copy(o, f, false);
	char *s = cJSON_PrintUnformatted(o);
	th_ok(strstr(s, "\"iban\"") && strstr(s, "3"), "the PII type and count (%s)", s);
	th_ok(!strstr(s, "PT5000"), "no PII value");
	th_ok(!strstr(s, "\"kw\""), "without @rules, no detector names");
	free(s);
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	sightings_findings_copy(o, f, true);
	s = cJSON_PrintUnformatted(o);
	th_ok(strstr(s, "\"kw\"") != NULL, "with @rules, the detectors that fired (%s)", s);
	free(s);
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	sightings_findings_copy(o, NULL, false);
	s = cJSON_PrintUnformatted(o);
	th_ok(strstr(s, "\"pii\":[]") && strstr(s, "\"matches\":[]"),
	      "no findings: empty lists (%s)", s);
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(f);
}

static bool
sighting_deleted(struct fixture *fx, const char *path, int64_t *first)
{
	uint8_t sha[LW_SHA256_LEN];
	bool deleted = false;
	AUTOFREE char *body = NULL;
	int64_t f = 0;
	if (vstore_sighting_get(fx->vs, path, strlen(path), sha, &f, &deleted, &body) != 1) {
		return false;
	}
	if (first) {
		*first = f;
	}
	return deleted;
}

/* The string value of @key in JSON @body (caller frees), NULL if none. */
static char *
body_str(const char *body, const char *key)
{
	cJSON *o = body ? cJSON_Parse(body) : NULL;
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
	char *r = v ? lw_strdup(v) : NULL;
	cJSON_Delete(o);
	return r;
}

/* Content that left and came back is first seen again when it returns;
 * the report of its leaving keeps when it was first seen. */
static void
test_back_after_gone(struct fixture *fx)
{
	cJSON *f = cJSON_Parse(findings_text);
	struct file_rec a = rec(0x11);
	const char *p = "/d/back.txt";
	char t[CHAIN_TIME_LEN + 1];
	char *body = NULL;
	int base = events(fx, &body);
	free(body);
	store_begin(fx->st);
	sightings_seen(fx->vs, p, strlen(p), &a, f, &nowhere, 10000000000LL);
	sightings_gone(fx->vs, p, strlen(p), NULL, 11000000000LL);
	store_commit(fx->st);
	th_inteq(events(fx, &body), base + 2, "back: seen, then gone");
	AUTOFREE char *gfirst = body_str(body, WIRE_KEY_FIRST_SEEN);
	AUTOFREE char *glast = body_str(body, WIRE_KEY_LAST_SEEN);
	free(body);
	chain_time(10000000000LL, t);
	th_streq(gfirst, t, "back: the leaving keeps first_seen");
	chain_time(11000000000LL, t);
	th_streq(glast, t, "back: and its last_seen is when it left");
	store_begin(fx->st);
	sightings_seen(fx->vs, p, strlen(p), &a, f, &nowhere, 12000000000LL);
	store_commit(fx->st);
	th_inteq(events(fx, &body), base + 3, "back: the same content back is news");
	AUTOFREE char *bfirst = body_str(body, WIRE_KEY_FIRST_SEEN);
	free(body);
	chain_time(12000000000LL, t);
	th_streq(bfirst, t, "back: first seen again when it came back");
	int64_t first = 0;
	bool was_deleted = sighting_deleted(fx, p, &first);
	th_ok(!was_deleted && first == 12000000000LL, "back: present since its return (%lld)",
	      (long long)first);
	cJSON_Delete(f);
}

/* A deleted tree: every reported path below it without a live file is
 * reported gone, once; a live file below it, a sibling sharing the prefix
 * and other directories are not. */
static void
test_gone_below(struct fixture *fx)
{
	cJSON *f = cJSON_Parse(findings_text);
	static const char *const paths[] = {"/g/live.txt", "/g/gone.txt", "/g/sub/deep.txt",
					    "/gx/sibling.txt", "/h/other.txt"};
	static const bool gone[] = {false, true, true, false, false};
	struct file_rec r = rec(0x22);
	char *body = NULL;
	int base = events(fx, &body);
	free(body);
	store_begin(fx->st);
	for (size_t i = 0; i < LW_ARRAY_SIZE(paths); i++) {
		store_put(fx->st, paths[i], strlen(paths[i]), &r, 1, 20000);
		sightings_seen(fx->vs, paths[i], strlen(paths[i]), &r, f, &nowhere, 20000);
	}
	store_commit(fx->st);
	th_inteq(events(fx, &body), base + 5, "below: five paths sighted");
	free(body);
	/* the tree /g goes, except /g/live.txt (put back, say, by a restore) */
	store_begin(fx->st);
	store_gone_below(fx->st, "/g", 2, NULL, 30000);
	store_put(fx->st, paths[0], strlen(paths[0]), &r, 1, 30000);
	th_inteq(sightings_gone_below(fx->vs, "/g", 2, 30000), 0, "below: /g swept");
	store_commit(fx->st);
	th_inteq(events(fx, &body), base + 7, "below: two paths reported gone");
	free(body);
	for (size_t i = 0; i < LW_ARRAY_SIZE(paths); i++) {
		th_ok(sighting_deleted(fx, paths[i], NULL) == gone[i], "below: %s %s", paths[i],
		      gone[i] ? "reported gone" : "still present");
	}
	store_begin(fx->st);
	sightings_gone_below(fx->vs, "/g", 2, 40000);
	store_commit(fx->st);
	th_inteq(events(fx, &body), base + 7, "below: a second sweep reports nothing new");
	free(body);
	cJSON_Delete(f);
}

int
main(void)
{
	struct fixture fx;
	if (fixture_init(&fx)) {
		test_lifecycle(&fx);
		test_back_after_gone(&fx);
		test_gone_below(&fx);
		fixture_fini(&fx);
	}
	test_findings_copy();
	return th_done();
}
