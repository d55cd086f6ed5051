/* cli-policy.c — `leakwatch policy check FILE` (validate and explain) and
 * `leakwatch reload` (have the running agent load its policy again).
 * Single-threaded. */
#include <errno.h>
#include <fcntl.h>
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

/* The enforce object of the agent's status, or NULL (the caller frees). */
static cJSON *
enforce_status(struct store *st, int *pid)
{
	int64_t updated = 0;
	char *json = NULL;
	if (store_status_get(st, pid, &updated, &json) != 1) {
		return NULL;
	}
	cJSON *o = cJSON_Parse(json);
	free(json);
	cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(o, "enforce");
	cJSON_Delete(o);
	return e;
}

static void
print_enforce(const cJSON *e)
{
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(e, "state"));
	printf("enforcement: %s\n", state ? state : "unknown");
	static const char *const keys[] = {"protected_files", "allowed", "denied", "timeouts",
					   "unreported"};
	for (size_t i = 0; i < LW_ARRAY_SIZE(keys); i++) {
		const cJSON *v = cJSON_GetObjectItem(e, keys[i]);
		if (cJSON_IsNumber(v)) {
			printf("  %-16s %.0f\n", keys[i], v->valuedouble);
		}
	}
}

/* `leakwatch enforce off|on|status`. Off is a flag file in the state
 * directory: it holds across restarts, and the agent looks for it every
 * second, so it works even if the signal is missed; a wedged agent's
 * opens are allowed by its guard after the deadline anyway (enforce.h). */
int
cli_enforce(struct cli *c, int argc, char **argv)
{
	const char *sub = argc == 2 ? argv[1] : NULL;
	if (!sub || (strcmp(sub, "off") != 0 && strcmp(sub, "on") != 0 &&
		     strcmp(sub, "status") != 0)) {
		fprintf(stderr, "usage: leakwatch enforce off|on|status\n");
		return 2;
	}
	if (!cli_db_path(c, false) || !c->cfg) {
		if (c->db) {
			fprintf(stderr, "leakwatch: enforce needs the agent's configuration (-c), "
					"not -d\n");
		}
		return 2;
	}
	AUTOFREE char *flag = lw_asprintf("%s/enforce.off", c->cfg->state_dir);
	if (strcmp(sub, "off") == 0) {
		int fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", flag, strerror(errno));
			return 2;
		}
		close(fd);
	} else if (strcmp(sub, "on") == 0 && unlink(flag) < 0 && errno != ENOENT) {
		fprintf(stderr, "leakwatch: %s: %s\n", flag, strerror(errno));
		return 2;
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	int pid = 0;
	cJSON *e = enforce_status(st, &pid);
	bool running = pid > 0 && kill(pid, 0) == 0;
	if (strcmp(sub, "status") != 0 && running) {
		/* wait (at most 5 s) for the agent to say it has done it */
		bool want_off = strcmp(sub, "off") == 0;
		for (int i = 0; i < 100; i++) {
			const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(e, "state"));
			if (s && (want_off ? strcmp(s, "on") != 0 : strcmp(s, "switched off") != 0)) {
				break;
			}
			usleep(50000);
			cJSON_Delete(e);
			e = enforce_status(st, &pid);
		}
	}
	store_close(st);
	if (!running) {
		printf("the agent is not running%s\n",
		       strcmp(sub, "status") == 0 ? ""
		       : strcmp(sub, "off") == 0 ? "; enforcement stays off when it starts"
						 : "; enforcement is allowed when it starts");
	}
	if (e) {
		print_enforce(e);
	}
	cJSON_Delete(e);
	return 0;
}
