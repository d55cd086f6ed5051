/* cli-policy.c — `leakwatch policy check FILE` (validate and explain) and
 * `leakwatch reload` (have the running agent load its policy again).
 * Single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "wire.h"

int
cli_policy(struct cli *c, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: leakwatch policy check FILE\n");
		return 2;
	}
	struct cfg_ctx ctx = {.file = argv[2]};
	struct policy *p = NULL;
	int r = policy_load(argv[2], &ctx, &p);
	if (r < 0) {
		fprintf(stderr, "leakwatch: %s\n", ctx.err[0] ? ctx.err : strerror(-r));
		return 2;
	}
	AUTOFREE char *ex = policy_explain(p);
	printf("%s: valid\n%s", argv[2], ex);
	policy_free(p);
	return 0;
}

/* "24h", "30m", "7d", "90s", or a UTC time "2026-11-23[T05:10[:00]][Z]",
 * into ns since the epoch. */
static double
policy_time(const char *json, const char *key)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, WIRE_KEY_POLICY), key);
	double t = cJSON_IsNumber(v) ? v->valuedouble : 0;
	cJSON_Delete(o);
	return t;
}

/* Sends SIGHUP to the running agent and waits for it to publish the
 * outcome of the reload in its status. */
int
cli_reload(struct cli *c, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: leakwatch reload\n");
		return 2;
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	int pid = 0;
	int64_t updated = 0;
	char *json = NULL;
	if (store_status_get(st, &pid, &updated, &json) != 1 || pid <= 0 || kill(pid, 0) < 0) {
		fprintf(stderr, "leakwatch: the agent is not running\n");
		free(json);
		store_close(st);
		return 2;
	}
	double before = policy_time(json, WIRE_KEY_POLICY_TRIED);
	free(json);
	json = NULL;
	if (kill(pid, SIGHUP) < 0) {
		fprintf(stderr, "leakwatch: cannot signal the agent (pid %d): %s\n", pid,
			strerror(errno));
		store_close(st);
		return 2;
	}
	int rc = 2;
	bool answered = false;
	for (int i = 0; i < 200 && !answered; i++) { /* ten seconds */
		usleep(50000);
		if (store_status_get(st, &pid, &updated, &json) == 1 &&
		    policy_time(json, WIRE_KEY_POLICY_TRIED) > before) {
			answered = true;
			cJSON *o = cJSON_Parse(json);
			const cJSON *p = cJSON_GetObjectItem(o, WIRE_KEY_POLICY);
			const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(p, WIRE_KEY_ERROR));
			if (e) {
				fprintf(stderr, "leakwatch: reload refused; the agent keeps its "
						"policy: %s\n",
					e);
			} else {
				printf("policy reloaded\n");
				rc = 0;
			}
			cJSON_Delete(o);
		}
		free(json);
		json = NULL;
	}
	if (!answered) {
		fprintf(stderr, "leakwatch: the agent (pid %d) did not report the reload within "
				"10 s; see its log\n",
			pid);
	}
	store_close(st);
	(void)argv;
	return rc;
}
