/* cli-violations.c — `leakwatch violations` (what the policy raised, from
 * the agent's database) and `leakwatch quarantine list|restore` (the files
 * it moved aside, and back). Single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "quarantine.h"
#include "vstore.h"
#include "wire.h"

static int
parse_since(const char *s, int64_t *out)
{
	char *end = NULL;
	long long n = strtoll(s, &end, 10);
	if (end != s && n >= 0 && end[0] && !end[1] && strchr("smhd", end[0])) {
		long long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
		*out = clock_wall_ns() - n * unit * 1000000000ll;
		return 0;
	}
	static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
					   "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
	for (size_t i = 0; i < LW_ARRAY_SIZE(fmts); i++) {
		struct tm tm = {0};
		const char *rest = strptime(s, fmts[i], &tm);
		if (rest && !*rest) {
			*out = (int64_t)timegm(&tm) * 1000000000;
			return 0;
		}
	}
	return -EINVAL;
}

struct vctx {
	bool json;
	long n;
};

static const char *
str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int
print_violation(int64_t id, int64_t time, const char *body, void *arg)
{
	struct vctx *x = arg;
	x->n++;
	if (x->json) {
		printf("%s\n", body);
		return 0;
	}
	/* \udcXX escapes of names as bytes (json.h), shown as \xNN */
	cJSON *o = NULL;
	struct lw_json_error je;
	if (lw_json_parse(body, strlen(body), LW_JSON_BYTES, &o, &je) < 0) {
		printf("(violation %lld: unreadable body)\n", (long long)id);
		return 0;
	}
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_EVENT);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_FILE);
	char when[32];
	cli_format_time(time, when, sizeof(when));
	AUTOFREE char *path = cli_escape(str_of(f, WIRE_KEY_PATH), "?");
	AUTOFREE char *from = cli_escape(str_of(ev, WIRE_KEY_FROM), NULL);
	AUTOFREE char *sev = cli_escape(str_of(o, WIRE_KEY_SEVERITY), "?");
	AUTOFREE char *rule = cli_escape(str_of(o, WIRE_KEY_RULE), "?");
	AUTOFREE char *kind = cli_escape(str_of(ev, WIRE_KEY_KIND), "?");
	AUTOFREE char *action = cli_escape(str_of(o, WIRE_KEY_ACTION), NULL);
	AUTOFREE char *result = cli_escape(str_of(o, WIRE_KEY_ACTION_RESULT), "?");
	AUTOFREE char *msg = cli_escape(str_of(o, WIRE_KEY_MESSAGE), "");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_COUNT);
	printf("%s  %-8s  %-26s %-8s %s", when, sev, rule, kind, path);
	if (str_of(ev, WIRE_KEY_FROM)) {
		printf(" (from %s)", from);
	}
	if (cJSON_IsNumber(count)) {
		printf(" (%d files)", count->valueint);
	}
	if (str_of(o, WIRE_KEY_ACTION) && strcmp(action, "alert") != 0) {
		printf(" [%s: %s]", action, result);
	}
	printf("\n    %s\n", msg);
	cJSON_Delete(o);
	return 0;
}

int
cli_violations(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'},
		{"severity", required_argument, NULL, 'S'},
		{"rule", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{0},
	};
	int64_t since = 0;
	int sev = 0;
	const char *rule = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (parse_since(optarg, &since) < 0) {
				fprintf(stderr, "leakwatch: --since: '%s' is not a duration (24h, "
						"30m, 7d) or a UTC time (2026-11-23T05:10:00Z)\n",
					optarg);
				return 2;
			}
			break;
		case 'S':
			if ((sev = policy_severity_from_name(optarg)) < 0) {
				fprintf(stderr, "leakwatch: --severity: low, medium, high or critical\n");
				return 2;
			}
			break;
		case 'r':
			rule = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		default:
			fprintf(stderr, "usage: leakwatch violations [--since 24h] [--severity LEVEL]"
					" [--rule ID] [--json]\n");
			return 2;
		}
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	struct vstore *vs = vstore_new(st);
	struct vctx x = {.json = c->json};
	int r = vstore_violation_foreach(vs, since, sev, rule, print_violation, &x);
	vstore_free(vs);
	store_close(st);
	if (r < 0) {
		fprintf(stderr, "leakwatch: cannot read the violations\n");
		return 2;
	}
	if (!c->json && x.n == 0) {
		printf("no violations\n");
	}
	return 0;
}

static int
print_quarantined(const struct vstore_quarantine *q, void *arg)
{
	struct cli *c = arg;
	char hex[LW_SHA256_HEX_LEN + 1] = "";
	if (q->sha256) {
		lw_hex(q->sha256, LW_SHA256_LEN, hex);
	}
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, WIRE_KEY_ID, q->id);
		cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes(q->path, q->len));
		cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
		cJSON_AddNumberToObject(o, WIRE_KEY_SIZE, (double)q->size);
		cJSON_AddNumberToObject(o, WIRE_KEY_MODE, q->mode);
		cJSON_AddNumberToObject(o, WIRE_KEY_UID, q->uid);
		cJSON_AddNumberToObject(o, WIRE_KEY_TIME, (double)q->time / 1e9);
		cJSON_AddStringToObject(o, WIRE_KEY_VIOLATION, q->violation);
		cJSON_AddItemToObject(o, WIRE_KEY_RESTORED_AT,
				      q->restored_at ? cJSON_CreateNumber((double)q->restored_at / 1e9)
						     : cJSON_CreateNull());
		char *s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
		return 0;
	}
	char when[32];
	cli_format_time(q->time, when, sizeof(when));
	printf("%s  %s  %s  ", q->id, when, q->restored_at ? "restored   " : "quarantined");
	cli_print_path(q->path, q->len);
	printf("\n");
	return 0;
}

static int
restore(struct cli *c, const char *id)
{
	const char *db = cli_db_path(c, false);
	struct store *st = NULL;
	if (!db || cli_open_writer(c, &st) < 0) {
		return 2;
	}
	struct vstore *vs = vstore_new(st);
	/* The release and the move back commit together, under the write
	 * lock: the agent's writer, judging the file that reappears, waits for
	 * the lock and then sees the release, so it does not quarantine the
	 * file again. */
	int r = db_exec(store_db(st), "BEGIN IMMEDIATE");
	struct vstore_quarantine q;
	int rc = 2;
	if (r < 0) {
		fprintf(stderr, "leakwatch: %s: database busy\n", db);
	} else if (vstore_quarantine_get(vs, id, &q) != 1) {
		fprintf(stderr, "leakwatch: no quarantined file with id %s\n", id);
	} else if (q.restored_at) {
		fprintf(stderr, "leakwatch: %s was restored already\n", id);
	} else {
		struct vstore_quarantine copy = q;
		copy.id = lw_strdup(q.id);
		copy.path = lw_strndup(q.path, q.len);
		copy.stored = lw_strdup(q.stored);
		if ((r = vstore_quarantine_restored(vs, id, clock_wall_ns())) < 0 ||
		    (r = quarantine_restore(&copy)) < 0) {
			AUTOFREE char *shown = cli_escape(copy.path, "?");
			fprintf(stderr, "leakwatch: cannot restore %s to %s: %s\n", id, shown,
				r == -EEXIST		   ? "something is there now"
				: r == -ELOOP || r == -ENOTDIR ? "a directory on the way is a"
								 " symlink now; not followed"
							       : strerror(-r));
		} else {
			AUTOFREE char *shown = cli_escape(copy.path, "?");
			printf("restored %s to %s\n", id, shown);
			rc = 0;
		}
		free((char *)copy.id);
		free((char *)copy.path);
		free((char *)copy.stored);
	}
	db_exec(store_db(st), rc == 0 ? "COMMIT" : "ROLLBACK");
	vstore_free(vs);
	store_close(st);
	return rc;
}

int
cli_quarantine(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0)) {
			fprintf(stderr, "usage: leakwatch quarantine list [--json]\n");
			return 2;
		}
		c->json = c->json || argc == 3;
		struct store *st = NULL;
		if (cli_open_store(c, &st) < 0) {
			return 2;
		}
		struct vstore *vs = vstore_new(st);
		int r = vstore_quarantine_foreach(vs, print_quarantined, c);
		vstore_free(vs);
		store_close(st);
		return r < 0 ? 2 : 0;
	}
	if (argc == 3 && strcmp(argv[1], "restore") == 0) {
		return restore(c, argv[2]);
	}
	fprintf(stderr, "usage: leakwatch quarantine list [--json] | restore ID\n");
	return 2;
}

