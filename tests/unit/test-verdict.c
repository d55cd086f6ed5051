/* test-verdict.c — the writer's policy step (agent/verdict.c) on a real
 * inventory file and the shipped rules with a staging zone: what is worth
 * judging, a violation raised once per file and rule and recorded with its
 * event, plain files left alone, a quarantine in a retried batch recorded
 * once, and sensitive content leaving a sighted path reported. */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "mem.h"
#include "policy.h"
#include "store.h"
#include "verdict.h"
#include "vstore.h"

struct fixture {
	struct store *st;
	struct verdict *vd;
	char dir[300];
};

static bool
fixture_init(struct fixture *fx)
{
	*fx = (struct fixture){0};
	snprintf(fx->dir, sizeof(fx->dir), "%s", th_tmpdir());
	char db[400], pol[400], q[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", fx->dir);
	snprintf(pol, sizeof(pol), "%s/policy.json", fx->dir);
	snprintf(q, sizeof(q), "%s/quarantine", fx->dir);
	/* the shipped rules, with /s as the secure zone and /d as staging */
	FILE *in = fopen(LW_SOURCE_ROOT "/packaging/policy.json", "r");
	FILE *out = fopen(pol, "w");
	if (!th_ok(in && out, "policy files open")) {
		return false;
	}
	char line[4096];
	while (fgets(line, sizeof(line), in)) {
		if (strstr(line, "\"secure\": [\"/srv/classified/**\"]")) {
			fputs("\"secure\": [\"/s/**\"], \"staging\": [\"/d/**\"]\n", out);
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
	struct cfg_ctx ctx = {.file = pol};
	struct policy *p = NULL;
	if (!th_ok(policy_load(pol, &ctx, &p) == 0, "policy loads (%s)", ctx.err)) {
		return false;
	}
	if (!th_ok(store_open(db, DB_MODE_WRITER, &fx->st, err, sizeof(err)) == 0,
		   "inventory opens (%s)", err)) {
		policy_free(p);
		return false;
	}
	mkdir(q, 0700);
	fx->vd = verdict_new(fx->st, p, q);
	verdict_baseline_done(fx->vd);
	return true;
}

static void
fixture_fini(struct fixture *fx)
{
	verdict_free(fx->vd);
	store_close(fx->st);
}

static struct file_rec
rec(const char *findings, int rank, uint8_t tag)
{
	struct file_rec r = {.kind = FILE_KIND_REGULAR, .dev = 1, .ino = 100 + tag, .size = 49,
			     .mode = 0100600, .has_sha = true, .rank = rank};
	memset(r.sha256, tag, sizeof(r.sha256));
	snprintf(r.type, sizeof(r.type), "text");
	r.findings = findings ? lw_strdup(findings) : NULL;
	return r;
}

#define PLAIN "{\"classification\":null,\"pii\":[],\"matches\":[],\"rules\":[]}"
#define SECRET \
	"{\"classification\":{\"level\":\"SECRET\",\"scheme\":\"NATO\"},\"pii\":[]," \
	"\"matches\":[],\"rules\":[]}"

/* Worth judging is decided from the parsed findings: a string that
 * contains the characters of an empty list does not make a list empty. */
static void
test_wants(struct fixture *fx)
{
	static const struct {
		const char *findings;
		bool want;
		const char *name;
	} rows[] = {
		{PLAIN, false, "plain findings"},
		{NULL, false, "not classified"},
		{"{\"pii\":[{\"type\":\"iban\",\"count\":1}],\"matches\":[],\"rules\":[]}", true,
		 "PII found"},
		{"{\"pii\":[],\"matches\":[{\"id\":\"doc-1\"}],\"rules\":[]}", true, "a match"},
		{"{\"pii\":[],\"matches\":[],\"rules\":[\"kw\"]}", true, "a detector"},
		{"{\"note\":\"\\\"pii\\\":[] \\\"matches\\\":[] \\\"rules\\\":[]\",\"pii\":[{\"type\":"
		 "\"iban\",\"count\":2}]}",
		 true, "PII after a string that reads like empty lists"},
		{"{\"pii\":[],\"matches\":[],\"rules\":[],\"note\":\"\\\"rules\\\":[\\\"x\"}", false,
		 "a string that reads like a rule"},
		{"{\"pii\":[],\"matches\":[],\"rules\":[],\"note\":\"\\\"pii\\\":[]\"}", false,
		 "empty lists and a note quoting an empty list"},
		{"{\"note\":\"\\\"pii\\\":[]\",\"pii\":[{\"type\":\"iban\",\"count\":1}]}", true,
		 "a note quoting an empty list before real PII"},
		{"{\"pii\":{},\"matches\":\"[1]\",\"rules\":3}", false, "lists of the wrong type"},
		{"not json", false, "unparsable findings"},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		struct file_rec r = rec(rows[i].findings, 0, 1);
		th_ok(verdict_wants(fx->vd, &r) == rows[i].want, "wants: %s -> %s", rows[i].name,
		      rows[i].want ? "judged" : "passed over");
		file_rec_fini(&r);
	}
	struct file_rec r = rec(PLAIN, store_rank_of("SECRET"), 1);
	th_ok(verdict_wants(fx->vd, &r), "wants: a classified rank is judged whatever the findings");
	file_rec_fini(&r);
}

/* Puts @r at @path as the writer does (the row, then the verdict, in one
 * transaction). */
static int
put(struct fixture *fx, const char *path, const struct file_rec *old, const struct file_rec *r,
    int64_t now)
{
	store_begin(fx->st);
	int rc = store_put(fx->st, path, strlen(path), r, 1, now);
	if (rc >= 0) {
		rc = verdict_put(fx->vd, path, strlen(path), old, r, now);
	}
	store_commit(fx->st);
	verdict_batch_committed(fx->vd);
	return rc;
}

static void
test_raise_once(struct fixture *fx)
{
	int64_t t = 1000000000LL;
	struct file_rec plain = rec(PLAIN, 0, 2);
	th_inteq(put(fx, "/d/budget.txt", NULL, &plain, t), 0, "a plain file in staging");
	th_inteq(verdict_raised(fx->vd), 0, "raises nothing");
	struct file_rec secret = rec(SECRET, store_rank_of("SECRET"), 3);
	th_inteq(put(fx, "/s/memo.txt", NULL, &secret, t + 1), 0, "a classified file at home");
	th_inteq(verdict_raised(fx->vd), 0, "raises nothing in the secure zone");
	th_inteq(put(fx, "/d/memo-copy.txt", NULL, &secret, t + 2), 0,
		 "the same content in staging");
	int64_t first = verdict_raised(fx->vd);
	th_ok(first >= 1, "raises a violation (%lld)", (long long)first);
	th_inteq(put(fx, "/d/memo-copy.txt", &secret, &secret, t + 3), 0, "recorded again, unchanged");
	th_inteq(verdict_raised(fx->vd), first, "no second violation for the same file and rule");
	file_rec_fini(&plain);
	file_rec_fini(&secret);
}

/* The value of a one-column query on the agent's connection, -1 if none. */
static long long
sql_int(struct fixture *fx, const char *sql, const char *path)
{
	sqlite3_stmt *s = NULL;
	long long n = -1;
	if (sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL) == SQLITE_OK) {
		if (path) {
			sqlite3_bind_blob(s, 1, path, (int)strlen(path), SQLITE_STATIC);
		}
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
			n = sqlite3_column_int64(s, 0);
		}
	}
	sqlite3_finalize(s);
	return n;
}

static char *
sql_text(struct fixture *fx, const char *sql, const char *path)
{
	sqlite3_stmt *s = NULL;
	char *t = NULL;
	if (sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL) == SQLITE_OK) {
		if (path) {
			sqlite3_bind_blob(s, 1, path, (int)strlen(path), SQLITE_STATIC);
		}
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
			t = lw_strndup((const char *)sqlite3_column_blob(s, 0),
				       (size_t)sqlite3_column_bytes(s, 0));
		}
	}
	sqlite3_finalize(s);
	return t;
}

#define VIOLATIONS_AT "SELECT count(*) FROM violations WHERE path = ?1"

/* What test_raise_once left in the database: the copy into staging raised
 * its rules once each, with an event in the outbox for each; the plain
 * file and the file in the secure zone raised nothing. */
static void
test_recorded(struct fixture *fx)
{
	th_inteq(sql_int(fx, VIOLATIONS_AT, "/d/budget.txt"), 0,
		 "recorded: nothing for a plain file");
	th_inteq(sql_int(fx, VIOLATIONS_AT, "/s/memo.txt"), 0,
		 "recorded: nothing for the file at home in the secure zone");
	th_inteq(sql_int(fx, VIOLATIONS_AT " AND rule = 'classified-in-staging'",
			 "/d/memo-copy.txt"),
		 1, "recorded: classified-in-staging once for the copy in staging");
	th_inteq(sql_int(fx, VIOLATIONS_AT " AND rule = 'left-secure-zone' AND event = 'copied'",
			 "/d/memo-copy.txt"),
		 1, "recorded: left-secure-zone once, as a copy");
	AUTOFREE char *from = sql_text(fx,
				       "SELECT from_path FROM violations WHERE path = ?1 AND"
				       " rule = 'left-secure-zone'",
				       "/d/memo-copy.txt");
	th_streq(from, "/s/memo.txt", "recorded: the copy names its source");
	th_inteq(sql_int(fx, "SELECT count(*) FROM violations", NULL), verdict_raised(fx->vd),
		 "recorded: one row per violation raised");
	th_inteq(sql_int(fx,
			 "SELECT count(*) FROM violations v JOIN events e ON e.seq = v.seq"
			 " WHERE e.kind = 'violation' AND e.uuid = v.uuid AND e.body = v.body",
			 NULL),
		 verdict_raised(fx->vd), "recorded: each violation has its event in the outbox");
	/* new content at the same path is a new violation for the same rule */
	struct file_rec changed = rec(SECRET, store_rank_of("SECRET"), 4);
	struct file_rec old = rec(SECRET, store_rank_of("SECRET"), 3);
	put(fx, "/d/memo-copy.txt", &old, &changed, 2000000000LL);
	th_inteq(sql_int(fx, VIOLATIONS_AT " AND rule = 'classified-in-staging'",
			 "/d/memo-copy.txt"),
		 2, "recorded: changed content raises the rule again");
	file_rec_fini(&changed);
	file_rec_fini(&old);
}

/* A quarantining rule in a batch that fails and is applied again: the
 * retry finds the move the first attempt made and records it, rather than
 * failing to move a file that is already in quarantine. */
static void
test_quarantine_retried(struct fixture *fx)
{
	char base[PATH_MAX];
	if (!th_ok(realpath(fx->dir, base) != NULL, "quarantine: canonical test directory")) {
		return;
	}
	AUTOFREE char *sync = lw_asprintf("%s/Nextcloud", base);
	AUTOFREE char *path = lw_asprintf("%s/Nextcloud/plan.txt", base);
	mkdir(sync, 0700);
	FILE *f = fopen(path, "w");
	if (!th_ok(f != NULL, "quarantine: file written in a sync folder")) {
		return;
	}
	fputs("NATO SECRET\n", f);
	fclose(f);
	struct stat sb;
	stat(path, &sb);
	struct file_rec r = rec(SECRET, store_rank_of("SECRET"), 9);
	r.dev = sb.st_dev;
	r.ino = sb.st_ino;
	r.size = sb.st_size;
	r.mode = sb.st_mode;
	r.uid = sb.st_uid;
	r.gid = sb.st_gid;
	r.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	int64_t t = 3000000000LL;
	/* the first attempt: judged, moved, then the batch is rolled back */
	store_begin(fx->st);
	store_put(fx->st, path, strlen(path), &r, 1, t);
	int rc = verdict_put(fx->vd, path, strlen(path), NULL, &r, t);
	store_rollback(fx->st);
	th_ok(rc == 0 && access(path, F_OK) != 0, "quarantine: the first attempt moved the file");
	th_inteq(sql_int(fx, VIOLATIONS_AT, path), 0,
		 "quarantine: its rows went with the rollback");
	/* the retry */
	store_begin(fx->st);
	store_put(fx->st, path, strlen(path), &r, 1, t);
	rc = verdict_put(fx->vd, path, strlen(path), NULL, &r, t);
	store_commit(fx->st);
	verdict_batch_committed(fx->vd);
	th_inteq(rc, 0, "quarantine: the retry applies");
	th_inteq(sql_int(fx, VIOLATIONS_AT " AND rule = 'classified-in-sync'", path), 1,
		 "quarantine: one violation");
	AUTOFREE char *result = sql_text(fx,
					 "SELECT action_result FROM violations WHERE"
					 " path = ?1 AND rule = 'classified-in-sync'",
					 path);
	th_streq(result, "ok", "quarantine: recorded as done, not as a failed move");
	AUTOFREE char *stored = sql_text(fx,
					 "SELECT q.stored FROM quarantine q JOIN violations v"
					 " ON v.quarantine = q.id WHERE q.path = ?1",
					 path);
	th_ok(stored && access(stored, F_OK) == 0,
	      "quarantine: the violation names the quarantined file, which is there (%s)",
	      stored ? stored : "none");
	th_inteq(sql_int(fx, "SELECT count(*) FROM quarantine WHERE path = ?1", path), 1,
		 "quarantine: one quarantine record");
	file_rec_fini(&r);
}

/* The file changes (here only its times) between being judged and being
 * moved: the move refuses (ESTALE), the violation says so, and the change,
 * judged again, quarantines it rather than counting it as raised. */
static void
test_quarantine_changed(struct fixture *fx)
{
	char base[PATH_MAX];
	if (!th_ok(realpath(fx->dir, base) != NULL, "changed: canonical test directory")) {
		return;
	}
	AUTOFREE char *sync = lw_asprintf("%s/Dropbox", base);
	AUTOFREE char *path = lw_asprintf("%s/Dropbox/orders.txt", base);
	mkdir(sync, 0700);
	FILE *f = fopen(path, "w");
	if (!th_ok(f != NULL, "changed: file written in a sync folder")) {
		return;
	}
	fputs("NATO SECRET\n", f);
	fclose(f);
	struct stat sb;
	stat(path, &sb);
	struct file_rec r = rec(SECRET, store_rank_of("SECRET"), 11);
	r.dev = sb.st_dev;
	r.ino = sb.st_ino;
	r.size = sb.st_size;
	r.mode = sb.st_mode;
	r.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec - 1000000000;
	int64_t t = 4000000000LL;
	/* judged as it was a second before: touched since */
	store_begin(fx->st);
	store_put(fx->st, path, strlen(path), &r, 1, t);
	int rc = verdict_put(fx->vd, path, strlen(path), NULL, &r, t);
	store_commit(fx->st);
	verdict_batch_committed(fx->vd);
	th_ok(rc == 0 && access(path, F_OK) == 0, "changed: the move refused; the file is there");
	AUTOFREE char *first = sql_text(fx,
					"SELECT action_result FROM violations WHERE path = ?1"
					" AND rule = 'classified-in-sync' ORDER BY seq LIMIT 1",
					path);
	th_ok(first && strstr(first, "quarantine failed") != NULL,
	      "changed: the violation says the quarantine failed (%s)", first ? first : "none");
	/* its change (the touch), judged with what the file is now */
	struct file_rec old = {0};
	store_lookup_path(fx->st, path, strlen(path), &old);
	r.mtime_ns += 1000000000;
	store_begin(fx->st);
	store_put(fx->st, path, strlen(path), &r, 1, t + 1000);
	rc = verdict_put(fx->vd, path, strlen(path), &old, &r, t + 1000);
	store_commit(fx->st);
	verdict_batch_committed(fx->vd);
	th_ok(rc == 0 && access(path, F_OK) != 0, "changed: judged again, it is quarantined");
	th_inteq(sql_int(fx, "SELECT count(*) FROM quarantine WHERE path = ?1", path), 1,
		 "changed: one quarantine record");
	file_rec_fini(&old);
	file_rec_fini(&r);
}

static bool
sighted(struct fixture *fx, const char *path)
{
	return verdict_sighted(fx->vd, path, strlen(path));
}

/* With sightings on: sensitive content at a path is reported; rewritten
 * with nothing sensitive, or deleted, it is reported gone; and once gone,
 * the same content coming back raises its rules again. */
static void
test_sightings_gone(struct fixture *fx)
{
	const char *sql_sightings = "SELECT count(*) FROM events WHERE kind = 'sighting'";
	th_ok(!sighted(fx, "/d/report.txt"), "sightings: off, nothing is sighted");
	verdict_set_sightings(fx->vd, true);
	long long before = sql_int(fx, sql_sightings, NULL);
	int64_t t = 4000000000LL;
	struct file_rec secret = rec(SECRET, store_rank_of("SECRET"), 5);
	struct file_rec plain = rec(PLAIN, 0, 6);
	put(fx, "/d/report.txt", NULL, &secret, t);
	th_inteq(sql_int(fx, sql_sightings, NULL), before + 1, "sightings: a sighting is reported");
	th_ok(sighted(fx, "/d/report.txt"), "sightings: the path is sighted");
	th_ok(!verdict_wants(fx->vd, &plain) && sighted(fx, "/d/report.txt"),
	      "sightings: plain new content there is judged only because the path is sighted");
	put(fx, "/d/report.txt", &secret, &plain, t + 1);
	th_inteq(sql_int(fx, sql_sightings, NULL), before + 2,
		 "sightings: rewritten with nothing sensitive, that is reported");
	th_ok(!sighted(fx, "/d/report.txt"), "sightings: and the path is no longer sighted");
	AUTOFREE char *body = NULL;
	uint8_t sha[LW_SHA256_LEN];
	int64_t first = 0;
	bool deleted = false;
	int have = vstore_sighting_get(verdict_vstore(fx->vd), "/d/report.txt", 13, sha, &first,
				       &deleted, &body);
	th_ok(have == 1 && deleted && sha[0] == 5 && body && strstr(body, "\"deleted\":true"),
	      "sightings: the last report is the content leaving (%s)", body ? body : "none");

	/* deleted: gone, and the de-duplication state goes with it */
	const char *p = "/d/other.txt";
	put(fx, p, NULL, &secret, t + 2);
	long long raised = sql_int(fx, VIOLATIONS_AT, p);
	th_ok(raised >= 1 && sighted(fx, p), "sightings: another copy raised and sighted");
	store_begin(fx->st);
	store_gone(fx->st, p, strlen(p), t + 3);
	th_inteq(verdict_gone(fx->vd, p, strlen(p)), 0, "sightings: deleted");
	store_commit(fx->st);
	th_inteq(sql_int(fx, sql_sightings, NULL), before + 4,
		 "sightings: the deletion is reported");
	th_ok(!sighted(fx, p), "sightings: a deleted path is not sighted");
	put(fx, p, NULL, &secret, t + 4);
	th_inteq(sql_int(fx, VIOLATIONS_AT, p), 2 * raised,
		 "sightings: the same content back after a deletion raises again");
	th_inteq(sql_int(fx, sql_sightings, NULL), before + 5, "sightings: and is sighted again");
	verdict_set_sightings(fx->vd, false);
	file_rec_fini(&secret);
	file_rec_fini(&plain);
}

int
main(void)
{
	struct fixture fx;
	if (fixture_init(&fx)) {
		test_wants(&fx);
		test_raise_once(&fx);
		test_recorded(&fx);
		test_quarantine_retried(&fx);
		test_quarantine_changed(&fx);
		test_sightings_gone(&fx);
		fixture_fini(&fx);
	}
	return th_done();
}
