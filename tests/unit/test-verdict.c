/* test-verdict.c — the writer's policy step (agent/verdict.c) on a real
 * inventory file and the shipped rules with a staging zone: what is worth
 * judging, a violation raised once per file and rule, plain files left
 * alone. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "harness.h"
#include "mem.h"
#include "policy.h"
#include "store.h"
#include "verdict.h"

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

int
main(void)
{
	struct fixture fx;
	if (fixture_init(&fx)) {
		test_wants(&fx);
		test_raise_once(&fx);
		fixture_fini(&fx);
	}
	return th_done();
}
