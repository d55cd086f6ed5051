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

int
main(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
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

	/* typed getters name the JSON pointer */
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

	/* the agent's schema, end to end through a file */
	const char *dir = th_tmpdir();
	char root[300], state[300], file[300], text[1200], err[1024];
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/agent.json", dir);
	mkdir(root, 0755);
	snprintf(text, sizeof(text),
		 "{\"watch\": [\"%s\"], \"state_dir\": \"%s\", \"exclude\": [\"*.tmp\"],"
		 " \"workers\": 3, \"log_level\": \"debug\", \"rescan_interval\": 0}",
		 root, state);
	write_file(file, text);
	struct agent_config *cfg = NULL;
	int r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r == 0, "agent config loads (%s)", r ? err : "ok");
	if (cfg) {
		th_inteq(cfg->workers, 3, "workers taken");
		th_inteq((long long)cfg->nexclude, 1, "exclude taken");
		th_inteq(cfg->rescan_interval, 0, "rescan_interval 0 = never");
		th_inteq(cfg->degraded_rescan_interval, 60, "degraded rescan default");
		th_ok(cfg->log_level == LOG_LEVEL_DEBUG, "log level parsed");
		char want_db[400];
		snprintf(want_db, sizeof(want_db), "%s/agent.db", state);
		th_streq(cfg->db_path, want_db, "database lives in the state dir");
		struct stat st;
		th_ok(stat(state, &st) == 0 && (st.st_mode & 0777) == 0700,
		      "state dir created 0700");
		agent_config_free(cfg);
	}
	snprintf(text, sizeof(text), "{\"watch\": [\"%s\"], \"workers\": 0, \"state_dir\": \"%s\"}",
		 root, state);
	write_file(file, text);
	cfg = NULL;
	r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r == 0 && cfg && cfg->workers == (sysconf(_SC_NPROCESSORS_ONLN) * 8 > 64 ? 64 : sysconf(_SC_NPROCESSORS_ONLN) * 8),
	      "workers 0 means eight per core, at most 64");
	agent_config_free(cfg);
	snprintf(text, sizeof(text), "{\"watch\": [\"/\"], \"state_dir\": \"%s\"}", state);
	write_file(file, text);
	cfg = NULL;
	r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r < 0 && strstr(err, "/watch/0: watching / is not supported"), "/ refused (%s)",
	      err);
	/* the classify limits: one table, options spelled from the keys */
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
	{
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
	/* the agent's configuration reads them by key, with their ranges */
	snprintf(text, sizeof(text),
		 "{\"watch\": [\"%s\"], \"state_dir\": \"%s\", \"classify\": {\"max_depth\": 7,"
		 " \"timeout_ms\": 1000}}", root, state);
	write_file(file, text);
	cfg = NULL;
	r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r == 0 && cfg && cfg->classify_limits.v[CLASSIFY_MAX_DEPTH] == 7 &&
	      cfg->classify_limits.v[CLASSIFY_TIMEOUT_MS] == 1000 &&
	      cfg->classify_limits.v[CLASSIFY_MAX_RATIO] == 200, "classify limits read (%s)", err);
	agent_config_free(cfg);
	snprintf(text, sizeof(text),
		 "{\"watch\": [\"%s\"], \"state_dir\": \"%s\", \"classify\": {\"max_depth\": 65}}",
		 root, state);
	write_file(file, text);
	cfg = NULL;
	r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r < 0 && strstr(err, "/classify") && strstr(err, "max_depth"),
	      "max_depth 65 refused, naming the place (%s)", err);
	snprintf(text, sizeof(text),
		 "{\"watch\": [\"%s\"], \"state_dir\": \"%s\", \"classify\": {\"max_dept\": 5}}",
		 root, state);
	write_file(file, text);
	cfg = NULL;
	r = agent_config_load(file, true, &cfg, err, sizeof(err));
	th_ok(r < 0 && strstr(err, "max_dept"), "unknown classify key refused (%s)", err);
	return th_done();
}
