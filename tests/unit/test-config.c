/* test-config.c — located config errors (common/config.c) and the agent's
 * schema (agent/agent-config.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
#include "classify-limits.h"
#include "config.h"
#include "harness.h"
#include "mem.h"

static const struct {
	const char *name;
	const char *text;
	const char *want_err; /* substring; NULL: parses */
} parse_cases[] = {
	{"object", "{\"a\": 1}", NULL},
	{"syntax line 2", "{\"a\": 1,\n \"b\" 2}", "f.json:2:6: syntax error"},
	{"trailing text", "{} {}", "f.json:1:4: syntax error: text after the end"},
	{"trailing space ok", "{}\n\n  ", NULL},
	{"unterminated", "{\"a\": [1, 2", "syntax error"},
	{"empty", "", "f.json:1:1: syntax error"},
	/* issue 11: nothing silently ignored, nothing infinite */
	{"duplicate key", "{\"workers\": 2,\n \"workers\": 9}",
	 "f.json: /: duplicate key \"workers\""},
	{"duplicate nested key", "{\"classify\": {\"timeout_ms\": 1, \"timeout_ms\": 2}}",
	 "f.json: /classify: duplicate key \"timeout_ms\""},
	{"infinite number", "{\"queue_size\":\n 1e999}", "f.json:2:2: syntax error: number out of range"},
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void
test_parse(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(parse_cases); i++) {
		struct cfg_ctx ctx = {.file = "f.json"};
		cJSON *root = NULL;
		int r = cfg_parse_buffer(&ctx, parse_cases[i].text, strlen(parse_cases[i].text),
					 &root);
		if (parse_cases[i].want_err) {
			th_ok(r < 0 && strstr(ctx.err, parse_cases[i].want_err),
			      "parse %s: error \"%s\" (got \"%s\")", parse_cases[i].name,
			      parse_cases[i].want_err, ctx.err);
		} else {
			th_ok(r == 0 && root, "parse %s: ok", parse_cases[i].name);
		}
		cJSON_Delete(root);
	}
}

/* typed getters name the JSON pointer */
static void
test_getters(void)
{
	struct cfg_ctx ctx = {.file = "g.json"};
	cJSON *o = cJSON_Parse("{\"n\": \"x\", \"list\": [\"a\", 2], \"b\": 1}");
	long long v = 0;
	th_ok(cfg_get_int(&ctx, o, "/", "n", true, 0, 9, &v) < 0 &&
		      strcmp(ctx.err, "g.json: /n: must be a whole number") == 0,
	      "int getter: wrong type named (%s)", ctx.err);
	ctx.err[0] = '\0';
	/* found by fuzz-common: a huge number must not reach a cast to long long */
	cJSON *h = cJSON_Parse("{\"n\": 7.77778e+67, \"f\": 2.5}");
	th_ok(cfg_get_int(&ctx, h, "/", "n", true, 0, 9, &v) < 0 &&
		      strcmp(ctx.err, "g.json: /n: must be between 0 and 9") == 0,
	      "int getter: a huge number is out of range (%s)", ctx.err);
	ctx.err[0] = '\0';
	th_ok(cfg_get_int(&ctx, h, "/", "f", true, 0, 9, &v) < 0 &&
		      strcmp(ctx.err, "g.json: /f: must be a whole number") == 0,
	      "int getter: a fraction is not a whole number (%s)", ctx.err);
	ctx.err[0] = '\0';
	cJSON_Delete(h);
	const char **arr = NULL;
	size_t n = 0;
	th_ok(cfg_get_string_array(&ctx, o, "/", "list", true, &arr, &n) < 0 &&
		      strcmp(ctx.err, "g.json: /list/1: must be a non-empty string") == 0,
	      "array getter: element named (%s)", ctx.err);
	ctx.err[0] = '\0';
	bool b = false;
	th_ok(cfg_get_bool(&ctx, o, "/", "b", true, &b) < 0 &&
		      strstr(ctx.err, "/b: must be true or false"),
	      "bool getter (%s)", ctx.err);
	ctx.err[0] = '\0';
	static const char *const allowed[] = {"n", "list", NULL};
	th_ok(cfg_check_keys(&ctx, o, "/", allowed) < 0 &&
		      strcmp(ctx.err, "g.json: /b: unknown key") == 0,
	      "unknown key named (%s)", ctx.err);
	cJSON_Delete(o);
}

/* the integer table reader both configuration loaders use */
static void
test_int_table(void)
{
	struct ints {
		int a;
		long long b;
	} x = {.a = 7, .b = 8};
	static const struct cfg_int_field f[] = {
		CFG_INT(struct ints, a, "a", 0, 10),
		CFG_LL(struct ints, b, "b", 0, 1LL << 40),
	};
	struct cfg_ctx ctx = {.file = "t.json"};
	cJSON *o = NULL;
	const char *t1 = "{\"b\": 1099511627776}";
	th_ok(cfg_parse_buffer(&ctx, t1, strlen(t1), &o) == 0, "parsed");
	th_ok(cfg_get_ints(&ctx, o, "/x", &x, f, 2) == 0 && x.a == 7 && x.b == 1LL << 40,
	      "cfg_get_ints: an absent key keeps its default, a long long takes 2^40");
	cJSON_Delete(o);
	o = NULL;
	const char *t2 = "{\"a\": 11, \"b\": 1}";
	th_ok(cfg_parse_buffer(&ctx, t2, strlen(t2), &o) == 0, "parsed");
	th_ok(cfg_get_ints(&ctx, o, "/x", &x, f, 2) < 0 && x.a == 7 && x.b == 1LL << 40,
	      "cfg_get_ints: the first bad key stops the read and changes nothing");
	th_streq(ctx.err, "t.json: /x/a: must be between 0 and 10", "the message names it");
	cJSON_Delete(o);
}

/* a scratch agent configuration: a watched root, a state dir, the file */
struct fixture {
	char root[300], state[300], file[300], err[1024];
};

static void
fixture_init(struct fixture *fx)
{
	const char *dir = th_tmpdir();
	snprintf(fx->root, sizeof(fx->root), "%s/root", dir);
	snprintf(fx->state, sizeof(fx->state), "%s/state", dir);
	snprintf(fx->file, sizeof(fx->file), "%s/agent.json", dir);
	mkdir(fx->root, 0755);
}

/* Writes {"watch": [root], "state_dir": state, @extra} and loads it. */
static int
fixture_load(struct fixture *fx, const char *extra, struct agent_config **cfg)
{
	char text[1500];
	snprintf(text, sizeof(text), "{\"watch\": [\"%s\"], \"state_dir\": \"%s\"%s%s}", fx->root,
		 fx->state, extra[0] ? ", " : "", extra);
	write_file(fx->file, text);
	*cfg = NULL;
	fx->err[0] = '\0';
	return agent_config_load(fx->file, true, cfg, fx->err, sizeof(fx->err));
}

/* the agent's schema, end to end through a file */
static void
test_agent_schema(void)
{
	struct fixture fx;
	fixture_init(&fx);
	struct agent_config *cfg = NULL;
	int r = fixture_load(&fx, "\"exclude\": [\"*.tmp\"], \"workers\": 3, \"log_level\": "
				  "\"debug\", \"rescan_interval\": 0", &cfg);
	th_ok(r == 0, "agent config loads (%s)", r ? fx.err : "ok");
	if (cfg) {
		th_inteq(cfg->workers, 3, "workers taken");
		th_inteq((long long)cfg->nexclude, 1, "exclude taken");
		th_inteq(cfg->rescan_interval, 0, "rescan_interval 0 = never");
		th_inteq(cfg->degraded_rescan_interval, 60, "degraded rescan default");
		th_ok(cfg->log_level == LOG_LEVEL_DEBUG, "log level parsed");
		char want_db[400];
		snprintf(want_db, sizeof(want_db), "%s/agent.db", fx.state);
		th_streq(cfg->db_path, want_db, "database lives in the state dir");
		struct stat st;
		th_ok(stat(fx.state, &st) == 0 && (st.st_mode & 0777) == 0700,
		      "state dir created 0700");
		agent_config_free(cfg);
	}
	r = fixture_load(&fx, "\"workers\": 0", &cfg);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	th_ok(r == 0 && cfg && cfg->workers == (cores * 8 > 64 ? 64 : cores * 8),
	      "workers 0 means eight per core, at most 64");
	agent_config_free(cfg);
	char text[1200];
	snprintf(text, sizeof(text), "{\"watch\": [\"/\"], \"state_dir\": \"%s\"}", fx.state);
	write_file(fx.file, text);
	cfg = NULL;
	r = agent_config_load(fx.file, true, &cfg, fx.err, sizeof(fx.err));
	th_ok(r < 0 && strstr(fx.err, "/watch/0: watching / is not supported"),
	      "/ refused (%s)", fx.err);
}

/* the agent's integers: each key is read with its own range, and the
 * message names the key */
static void
test_agent_ints(void)
{
	static const char *const bad[][2] = {
		{"\"queue_size\": 63", "/queue_size: must be between 64 and 16777216"},
		{"\"workers\": 257", "/workers: must be between 0 and 256"},
		{"\"degraded_rescan_interval\": 0", "/degraded_rescan_interval: must be between 1"},
		{"\"rescan_interval\": 2.5", "/rescan_interval: must be a whole number"},
	};
	struct fixture fx;
	fixture_init(&fx);
	struct agent_config *cfg = NULL;
	for (size_t i = 0; i < LW_ARRAY_SIZE(bad); i++) {
		int r = fixture_load(&fx, bad[i][0], &cfg);
		th_ok(r < 0 && strstr(fx.err, bad[i][1]), "%s refused (%s)", bad[i][0], fx.err);
	}
	int r = fixture_load(&fx, "\"queue_size\": 64, \"degraded_rescan_interval\": 5", &cfg);
	th_ok(r == 0 && cfg && cfg->queue_size == 64 && cfg->degraded_rescan_interval == 5 &&
		      cfg->rescan_interval == 3600,
	      "the limits taken, the others at their defaults (%s)", fx.err);
	agent_config_free(cfg);
}

/* the classify limits: one table, options spelled from the keys */
static void
test_classify_limits(void)
{
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		const struct classify_limit_def *d = &classify_limit_defs[i];
		char want[40];
		snprintf(want, sizeof(want), "--%s", d->key);
		for (char *q = want; *q; q++) {
			*q = *q == '_' ? '-' : *q;
		}
		th_streq(classify_limit_flag((enum classify_limit)i), want, "option of %s", d->key);
		th_ok(d->min <= d->def && d->def <= d->max, "%s: default in range", d->key);
		struct classify_limits l;
		classify_limits_default(&l);
		char num[32];
		snprintf(num, sizeof(num), "%d", d->max);
		th_ok(classify_limits_set_flag(&l, want, num) == 0 && l.v[i] == d->max,
		      "%s: the maximum is taken", want);
		snprintf(num, sizeof(num), "%lld", (long long)d->max + 1);
		th_inteq(classify_limits_set_flag(&l, want + 2, num), -ERANGE, "%s: above refused",
			 want);
		snprintf(num, sizeof(num), "%lld", (long long)d->min - 1);
		th_inteq(classify_limits_set_flag(&l, want, num), -ERANGE, "%s: below refused", want);
		th_inteq(classify_limits_set_flag(&l, want, "12x"), -EINVAL, "%s: junk refused", want);
		th_inteq(l.v[i], d->max, "%s: a refused value changes nothing", want);
	}
	struct classify_limits l;
	classify_limits_default(&l);
	th_inteq(classify_limits_set_flag(&l, "--no-such", "1"), -ENOENT, "unknown limit");
	char buf[CLASSIFY_LIMIT_COUNT][16];
	char *argv[2 * CLASSIFY_LIMIT_COUNT];
	th_inteq((long long)classify_limits_argv(&l, buf, argv), 2 * CLASSIFY_LIMIT_COUNT,
		 "every limit passed on");
	th_streq(argv[0], "--timeout-ms", "first option");
	th_streq(argv[1], "30000", "its default value");
}

/* the agent's configuration reads the classify limits by key, with their
 * ranges */
static void
test_agent_classify(void)
{
	struct fixture fx;
	fixture_init(&fx);
	struct agent_config *cfg = NULL;
	int r = fixture_load(&fx, "\"classify\": {\"max_depth\": 7, \"timeout_ms\": 1000}", &cfg);
	th_ok(r == 0 && cfg && cfg->classify_limits.v[CLASSIFY_MAX_DEPTH] == 7 &&
		      cfg->classify_limits.v[CLASSIFY_TIMEOUT_MS] == 1000 &&
		      cfg->classify_limits.v[CLASSIFY_MAX_RATIO] == 200,
	      "classify limits read (%s)", fx.err);
	agent_config_free(cfg);
	r = fixture_load(&fx, "\"classify\": {\"max_depth\": 65}", &cfg);
	th_ok(r < 0 && strstr(fx.err, "/classify") && strstr(fx.err, "max_depth"),
	      "max_depth 65 refused, naming the place (%s)", fx.err);
	r = fixture_load(&fx, "\"classify\": {\"max_dept\": 5}", &cfg);
	th_ok(r < 0 && strstr(fx.err, "max_dept"), "unknown classify key refused (%s)", fx.err);
}

int
main(void)
{
	test_parse();
	test_getters();
	test_int_table();
	test_agent_schema();
	test_agent_ints();
	test_classify_limits();
	test_agent_classify();
	return th_done();
}
