/* test-config.c — located config errors (common/config.c) and the agent's
 * schema (agent/agent-config.c). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
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
	return th_done();
}
