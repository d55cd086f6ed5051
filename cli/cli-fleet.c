/* cli-fleet.c — `leakwatch --collector URL --cert F --key F --ca F COMMAND`:
 * the fleet, asked of the collector over mutual TLS (doc/protocol.md).
 *
 *   agents                       every agent and its last contact
 *   violations [filters]         violations across the fleet, oldest first
 *   alerts [--since] [--agent]   the collector's hash-chain alerts
 *   trace SHA256|REGISTERED-ID   every machine and path where that content,
 *                                or a derivative of that registered
 *                                document, has been seen, oldest first
 *
 * The answer is parsed strictly and whole before a line is printed; one
 * that does not parse is an error (exit 2), never a shorter table. --json
 * prints each object written again from its parsed value, one a line, so
 * file names that are not UTF-8 keep their \udcXX escapes (wire.h).
 * Single-threaded. Exit status: 0, 1 when trace finds nothing, 2 errors. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "hash.h"
#include "http-client.h"
#include "json.h"
#include "mem.h"
#include "wire.h"

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "-";
}

static void
num(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%g", v->valuedouble);
	} else {
		snprintf(buf, len, "-");
	}
}

/* A value for a table cell: control characters and bytes that are not
 * UTF-8 (file names, wire.h) escaped, as the local commands show them. */
static void
cell(const char *s, int width)
{
	AUTOFREE char *e = wire_escape_line(s, strlen(s));
	if (width) {
		printf("%-*s  ", width, e);
	} else {
		fputs(e, stdout);
	}
}

static void
print_agent(const cJSON *o)
{
	char seq[32], cov[32], qd[32], ob[32];
	num(o, WIRE_KEY_LAST_SEQ, seq, sizeof(seq));
	num(o, WIRE_KEY_COVERAGE, cov, sizeof(cov));
	num(o, WIRE_KEY_QUEUE_DEPTH, qd, sizeof(qd));
	num(o, WIRE_KEY_OUTBOX_BACKLOG, ob, sizeof(ob));
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_CHAIN_OK);
	cell(str(o, WIRE_KEY_AGENT), 20);
	cell(str(o, WIRE_KEY_LAST_CONTACT), 24);
	printf("%8s  %-6s  %8s  %6s  %7s  ", seq, cJSON_IsFalse(ok) ? "BROKEN" : "ok", cov, qd, ob);
	cell(str(o, WIRE_KEY_VERSION), 0);
}

static void
print_violation(const cJSON *o)
{
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_FILE);
	char seq[32];
	num(o, WIRE_KEY_SEQ, seq, sizeof(seq));
	cell(str(o, WIRE_KEY_RECEIVED), 24);
	cell(str(o, WIRE_KEY_AGENT), 16);
	printf("%6s  ", seq);
	cell(str(o, WIRE_KEY_SEVERITY), 8);
	cell(str(o, WIRE_KEY_RULE), 24);
	cell(file ? str(file, WIRE_KEY_PATH) : "-", 0);
}

static void
print_alert(const cJSON *o)
{
	char seq[32];
	num(o, WIRE_KEY_SEQ, seq, sizeof(seq));
	cell(str(o, WIRE_KEY_TIME), 24);
	cell(str(o, WIRE_KEY_AGENT), 16);
	cell(str(o, WIRE_KEY_KIND), 6);
	printf("%6s  ", seq);
	cell(str(o, WIRE_KEY_DETAIL), 0);
}

static void
print_sighting(const cJSON *o)
{
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_CLASSIFICATION);
	const cJSON *del = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_DELETED);
	cell(str(o, WIRE_KEY_FIRST_SEEN), 24);
	cell(str(o, WIRE_KEY_LAST_SEEN), 24);
	cell(str(o, WIRE_KEY_AGENT), 16);
	cell(cJSON_IsObject(cls) ? str(cls, WIRE_KEY_MARKING) : "-", 14);
	cell(str(o, WIRE_KEY_PATH), 0);
	if (cJSON_IsTrue(del)) {
		printf("  (deleted)");
	}
}

/* A row whose stored body the collector could not read (render.c). */
static bool
print_malformed(const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_BODY_ERROR);
	if (!cJSON_IsString(e)) {
		return false;
	}
	char seq[32];
	num(o, WIRE_KEY_SEQ, seq, sizeof(seq));
	cell(str(o, WIRE_KEY_RECEIVED), 24);
	cell(str(o, WIRE_KEY_AGENT), 16);
	printf("%6s  (stored body unreadable: ", seq);
	cell(e->valuestring, 0);
	printf("; see --json)");
	return true;
}

/* The filters a query takes */
enum fleet_filter {
	FLEET_SINCE = 1 << 0,
	FLEET_SEVERITY = 1 << 1,
	FLEET_RULE = 1 << 2,
	FLEET_AGENT = 1 << 3,
	FLEET_LIMIT = 1 << 4,
};

/* One fleet command: where it asks, what it takes, how a row prints. */
struct fleet_query {
	const char *cmd;
	const char *path;  /* the collector's endpoint */
	const char *what;  /* the answer's array of rows */
	int nargs;         /* positional arguments */
	unsigned filters;  /* enum fleet_filter */
	bool found_or_1;   /* exit 1 when there is no row (trace: not seen) */
	void (*print)(const cJSON *row);
	const char *header;
};

static const struct fleet_query queries[] = {
	{"agents", "/v1/agents", WIRE_KEY_AGENTS, 0, 0, false, print_agent,
	 "AGENT                 LAST CONTACT              LAST SEQ  CHAIN   "
	 "COVERAGE   QUEUE  BACKLOG  VERSION"},
	{"violations", "/v1/violations", WIRE_KEY_VIOLATIONS, 0,
	 FLEET_SINCE | FLEET_SEVERITY | FLEET_RULE | FLEET_AGENT | FLEET_LIMIT, false,
	 print_violation,
	 "RECEIVED                  AGENT                SEQ  SEVERITY  "
	 "RULE                      PATH"},
	{"alerts", "/v1/alerts", WIRE_KEY_ALERTS, 0, FLEET_SINCE | FLEET_AGENT | FLEET_LIMIT,
	 false, print_alert, "TIME                      AGENT             KIND       SEQ  DETAIL"},
	{"trace", "/v1/trace", WIRE_KEY_SIGHTINGS, 1, 0, true, print_sighting,
	 "FIRST SEEN                LAST SEEN                 AGENT       "
	 "      MARKING         PATH"},
};

static void
print_row(const struct fleet_query *fq, bool json, const cJSON *o)
{
	if (json) {
		/* written again from the parsed value: names keep their bytes
		 * (\udcXX), and nothing but this one object reaches the line */
		AUTOFREE char *t = lw_json_print(o);
		puts(t);
		return;
	}
	if (!print_malformed(o)) {
		fq->print(o);
	}
	putchar('\n');
}

/* Appends "&key=escaped(value)" (or "?..." first) to @q. */
static void
add_param(struct wire_buf *q, const char *key, const char *value)
{
	if (!value) {
		return;
	}
	AUTOFREE char *v = lw_http_escape(value);
	wire_buf_put(q, q->len ? "&" : "?", 1);
	wire_buf_put(q, key, strlen(key));
	wire_buf_put(q, "=", 1);
	wire_buf_put(q, v, strlen(v));
}

static void
fleet_usage(FILE *f)
{
	fprintf(f,
		"usage: leakwatch --collector URL --cert FILE --key FILE --ca FILE [--crl FILE]\n"
		"                 COMMAND [--json]\n"
		"  agents\n"
		"  violations [--since 24h|7d|TIME] [--severity LEVEL] [--rule ID] [--agent NAME]\n"
		"             [--limit N]\n"
		"  alerts [--since ...] [--agent NAME]\n"
		"  trace SHA256|REGISTERED-ID\n");
}

int
cli_fleet(struct cli *c, int argc, char **argv)
{
	const struct fleet_query *fq = NULL;
	for (size_t i = 0; i < LW_ARRAY_SIZE(queries) && !fq; i++) {
		fq = strcmp(queries[i].cmd, argv[0]) == 0 ? &queries[i] : NULL;
	}
	if (!fq) {
		fprintf(stderr, "leakwatch: '%s' is not a fleet command\n", argv[0]);
		fleet_usage(stderr);
		return 2;
	}
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"since", required_argument, NULL, 's'},
		{"severity", required_argument, NULL, 'v'},
		{"rule", required_argument, NULL, 'r'},
		{"agent", required_argument, NULL, 'a'},
		{"limit", required_argument, NULL, 'l'},
		{0},
	};
	const char *since = NULL, *severity = NULL, *rule = NULL, *agent = NULL, *limit = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c->json = true;
			break;
		case 's':
			since = optarg;
			break;
		case 'v':
			severity = optarg;
			break;
		case 'r':
			rule = optarg;
			break;
		case 'a':
			agent = optarg;
			break;
		case 'l':
			limit = optarg;
			break;
		default:
			fleet_usage(stderr);
			return 2;
		}
	}
	unsigned given = (since ? FLEET_SINCE : 0) | (severity ? FLEET_SEVERITY : 0) |
			 (rule ? FLEET_RULE : 0) | (agent ? FLEET_AGENT : 0) | (limit ? FLEET_LIMIT : 0);
	if (argc - optind != fq->nargs || (given & ~fq->filters)) {
		fleet_usage(stderr);
		return 2;
	}
	if (!c->cert || !c->key || !c->ca) {
		fprintf(stderr, "leakwatch: --collector needs --cert, --key and --ca\n");
		return 2;
	}
	struct wire_buf q = {0};
	add_param(&q, WIRE_QUERY_SINCE, since);
	add_param(&q, WIRE_QUERY_SEVERITY, severity);
	add_param(&q, WIRE_QUERY_RULE, rule);
	add_param(&q, WIRE_QUERY_AGENT, agent);
	add_param(&q, WIRE_QUERY_LIMIT, limit);
	if (fq->nargs == 1) {
		/* a SHA-256 is 64 hex digits; anything else is a registered
		 * document's id */
		uint8_t bin[LW_SHA256_LEN];
		const char *arg = argv[optind];
		add_param(&q, lw_unhex_sha256(arg, bin) == 0 ? WIRE_QUERY_SHA256 : WIRE_QUERY_ID, arg);
	}
	AUTOFREE char *full = lw_asprintf("%s%s", fq->path, q.data ? q.data : "");
	wire_buf_fini(&q);
	struct lw_http_opts o = {.url_base = c->collector, .ca = c->ca, .cert = c->cert,
				 .key = c->key, .crl = c->crl};
	struct lw_http_client *hc = NULL;
	char err[512];
	if (lw_http_client_new(&o, &hc, err, sizeof(err)) < 0) {
		fprintf(stderr, "leakwatch: %s\n", err);
		return 2;
	}
	long status = 0;
	AUTOFREE char *resp = NULL;
	int r = lw_http_request(hc, "GET", full, NULL, 0, &status, &resp, NULL);
	if (r < 0) {
		fprintf(stderr, "leakwatch: %s\n", lw_http_client_error(hc));
		lw_http_client_free(hc);
		return 2;
	}
	lw_http_client_free(hc);
	if (status != 200) {
		cJSON *e = NULL;
		struct lw_json_error je;
		if (!resp || lw_json_parse(resp, strlen(resp), 0, &e, &je) < 0) {
			e = NULL;
		}
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, WIRE_KEY_ERROR);
		AUTOFREE char *msg = cJSON_IsString(m)
					     ? wire_escape_line(m->valuestring, strlen(m->valuestring))
					     : lw_strdup("unexpected answer");
		fprintf(stderr, "leakwatch: %s: %ld: %s\n", c->collector, status, msg);
		cJSON_Delete(e);
		return 2;
	}
	/* The whole answer is parsed before anything is printed: a table cut
	 * short by a malformed answer must never look like the complete one. */
	cJSON *doc = NULL;
	struct lw_json_error je;
	const cJSON *rows = NULL;
	if (lw_json_parse(resp, strlen(resp), LW_JSON_BYTES, &doc, &je) < 0) {
		fprintf(stderr, "leakwatch: %s: malformed answer (%s at byte %zu)\n", c->collector,
			je.msg, je.offset);
		return 2;
	}
	rows = cJSON_GetObjectItemCaseSensitive(doc, fq->what);
	const cJSON *it = NULL;
	bool shaped = cJSON_IsArray(rows);
	for (it = shaped ? rows->child : NULL; it; it = it->next) {
		shaped = shaped && cJSON_IsObject(it);
	}
	if (!shaped) {
		fprintf(stderr, "leakwatch: %s: malformed answer (no array of objects \"%s\")\n",
			c->collector, fq->what);
		cJSON_Delete(doc);
		return 2;
	}
	if (!c->json) {
		printf("%s\n", fq->header);
	}
	int nrows = 0;
	cJSON_ArrayForEach(it, rows)
	{
		print_row(fq, c->json, it);
		nrows++;
	}
	cJSON_Delete(doc);
	if (fflush(stdout) != 0) {
		return 2;
	}
	return fq->found_or_1 && nrows == 0 ? 1 : 0;
}
