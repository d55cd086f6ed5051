/* cli-report.c — `leakwatch report`: compliance reports.
 *
 *   report [--period P | --since T [--until T]] [--format F] [-o OUT]
 *          [--sign-key KEY] [--redact-paths] [--row-limit N] [--agent ID...]
 *       one workstation from its database, or with --collector the fleet
 *   report render FILE.json [--format F] [-o OUT] [--sign-key KEY]
 *       a report's canonical JSON rendered again (HTML, CSV), or re-signed
 *   report verify FILE [--trust PEM]
 *       a report's digests and signature, and what its chain heads cover
 *
 * The document is built once (report/); every format is rendered from it.
 * Exit status: 0; 1 verify: unsigned (digests match); 2 errors, and verify
 * finding something that does not match. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "http-client.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "readfile.h"
#include "report-sign.h"
#include "report.h"

#define MAX_AGENTS 1024
/* A report's JSON: row limits keep real ones far below this. */
#define REPORT_JSON_MAX (1u << 30)

struct report_args {
	const char *period, *since, *until, *format, *out, *sign_key, *trust;
	bool seen[128]; /* the options given, by their getopt value */
	bool redact;
	long row_limit;
	const char *agents[MAX_AGENTS];
	size_t nagents;
};

/* Every option of the three forms; each form takes some (form_opts). */
static const struct option opts[] = {
	{"period", required_argument, NULL, 'p'},
	{"since", required_argument, NULL, 's'},
	{"until", required_argument, NULL, 'u'},
	{"format", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"sign-key", required_argument, NULL, 'k'},
	{"trust", required_argument, NULL, 't'},
	{"redact-paths", no_argument, NULL, 'r'},
	{"row-limit", required_argument, NULL, 'l'},
	{"agent", required_argument, NULL, 'a'},
	{0},
};

/* The options of the build form, `render` and `verify` (cli-help.c
 * documents them per form), by their getopt value. */
static const char *const form_opts[] = {"psufokrla", "fok", "t"};

/* The options shared by the forms; -1 on a usage error (said).
 * Positional arguments are left at argv[optind..]. */
static int
parse_args(int argc, char **argv, struct report_args *a)
{
	int opt;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			a->period = optarg;
			break;
		case 's':
			a->since = optarg;
			break;
		case 'u':
			a->until = optarg;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'k':
			a->sign_key = optarg;
			break;
		case 't':
			a->trust = optarg;
			break;
		case 'r':
			a->redact = true;
			break;
		case 'l': {
			char *end = NULL;
			errno = 0;
			a->row_limit = strtol(optarg, &end, 10);
			if (errno || !*optarg || *end || a->row_limit < 1 ||
			    a->row_limit > 10000000) {
				fprintf(stderr, "leakwatch: report: --row-limit '%s': expected a"
						" number from 1 to 10000000\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'a':
			if (a->nagents == MAX_AGENTS) {
				fprintf(stderr, "leakwatch: report: more than %d --agent\n",
					MAX_AGENTS);
				return -1;
			}
			a->agents[a->nagents++] = optarg;
			break;
		default:
			return -1;
		}
		a->seen[opt & 127] = true;
	}
	return 0;
}

/* -1 after a message if an option of another form was given. */
static int
check_form(const struct report_args *a, int form, const char *sub)
{
	for (const struct option *o = opts; o->name; o++) {
		if (a->seen[o->val] && !strchr(form_opts[form], o->val)) {
			fprintf(stderr,
				"leakwatch: report%s%s: --%s does not apply (see leakwatch"
				" report%s%s --help)\n",
				sub ? " " : "", sub ? sub : "", o->name, sub ? " " : "",
				sub ? sub : "");
			return -1;
		}
	}
	return 0;
}

static int
write_report(cJSON *doc, const struct report_args *a)
{
	enum report_format fmt = REPORT_FORMAT_HTML;
	if (a->format && report_format_parse(a->format, &fmt) < 0) {
		fprintf(stderr, "leakwatch: report: --format '%s': expected html, json or csv\n",
			a->format);
		return 2;
	}
	char err[1024];
	AUTOFREE char *written = NULL;
	if (report_write(doc, fmt, a->out, a->sign_key, &written, err, sizeof(err)) < 0) {
		fprintf(stderr, "leakwatch: report: %s\n", err);
		return 2;
	}
	if (written) {
		AUTOFREE char *e = cli_escape(written, NULL);
		fprintf(stderr, "leakwatch: report written to %s\n", e);
	}
	return 0;
}

static int
do_verify(int argc, char **argv, struct report_args *a)
{
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: leakwatch report verify FILE [--trust PEM]\n");
		return 2;
	}
	char err[1024];
	int r = report_verify(argv[optind], a->trust, stdout, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "leakwatch: report verify: %s\n", err);
		return 2;
	}
	return r;
}

static int
do_render(int argc, char **argv, struct report_args *a)
{
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: leakwatch report render FILE.json [--format html|json|csv]"
				" [-o OUT] [--sign-key KEY]\n");
		return 2;
	}
	const char *path = argv[optind];
	AUTOFREE char *text = NULL;
	size_t len = 0;
	int r = lw_read_file(path, REPORT_JSON_MAX, &text, &len);
	if (r < 0) {
		fprintf(stderr, "leakwatch: report render: %s: %s\n", path,
			r == -EINVAL ? "not a regular file" : strerror(-r));
		return 2;
	}
	AUTOJSON cJSON *doc = NULL;
	struct lw_json_error je;
	if (lw_json_parse(text, len, LW_JSON_BYTES, &doc, &je) < 0) {
		unsigned line = 0, col = 0;
		lw_json_line_col(text, len, je.offset, &line, &col);
		fprintf(stderr, "leakwatch: report render: %s:%u:%u: %s\n", path, line, col,
			je.msg);
		return 2;
	}
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, RK_SCHEMA);
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, REPORT_SCHEMA) != 0) {
		fprintf(stderr, "leakwatch: report render: %s: not a leakwatch report (\"schema\""
				" is not \"%s\")\n",
			path, REPORT_SCHEMA);
		return 2;
	}
	return write_report(doc, a);
}

static int
build(struct cli *c, struct report_args *a)
{
	char err[1024];
	struct report_options o = {.redact_paths = a->redact, .row_limit = a->row_limit,
				   .now = clock_wall_ns(), .agents = a->agents,
				   .nagents = a->nagents};
	if (report_period_parse(a->period, a->since, a->until, o.now, &o.period, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "leakwatch: report: %s\n", err);
		return 2;
	}
	if (a->sign_key && access(a->sign_key, R_OK) < 0) {
		fprintf(stderr, "leakwatch: report: --sign-key %s: %s\n", a->sign_key,
			strerror(errno));
		return 2;
	}
	AUTOJSON cJSON *doc = NULL;
	if (c->collector) {
		struct lw_http_opts ho = {.url_base = c->collector, .ca = c->ca, .cert = c->cert,
					  .key = c->key, .crl = c->crl};
		struct lw_http_client *http = NULL;
		if (lw_http_client_new(&ho, &http, err, sizeof(err)) < 0) {
			fprintf(stderr, "leakwatch: %s\n", err);
			return 2;
		}
		int r = report_build_fleet(http, &o, &doc, err, sizeof(err));
		lw_http_client_free(http);
		if (r < 0) {
			fprintf(stderr, "leakwatch: report: %s\n", err);
			return 2;
		}
		return write_report(doc, a);
	}
	if (a->nagents) {
		fprintf(stderr, "leakwatch: report: --agent selects agents of the fleet: it needs"
				" --collector\n");
		return 2;
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	/* The zones: the policy the agent runs (its configuration names it). */
	struct policy *pol = NULL;
	if (c->cfg && c->cfg->policy) {
		struct cfg_ctx ctx = {.file = c->cfg->policy};
		if (policy_load(c->cfg->policy, &ctx, &pol) < 0) {
			fprintf(stderr, "leakwatch: report: %s\n",
				ctx.err[0] ? ctx.err : "the policy does not load");
			store_close(st);
			return 2;
		}
	} else {
		pol = policy_default();
	}
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	struct report_local_source src = {
		.st = st, .policy = pol, .agent = host,
		.roots = c->cfg ? (const char *const *)c->cfg->roots : NULL,
		.nroots = c->cfg ? c->cfg->nroots : 0};
	int r = report_build_local(&src, &o, &doc, err, sizeof(err));
	store_close(st);
	policy_free(pol);
	if (r < 0) {
		fprintf(stderr, "leakwatch: report: %s\n", err);
		return 2;
	}
	return write_report(doc, a);
}

int
cli_report(struct cli *c, int argc, char **argv)
{
	struct report_args a = {0};
	const char *sub = argc > 1 ? argv[1] : NULL;
	bool render = sub && strcmp(sub, "render") == 0;
	bool verify = sub && strcmp(sub, "verify") == 0;
	if (render || verify) {
		argc--;
		argv++;
	}
	int form = verify ? 2 : render ? 1 : 0;
	if (parse_args(argc, argv, &a) < 0 || check_form(&a, form, form ? sub : NULL) < 0) {
		return 2;
	}
	if (verify) {
		return do_verify(argc, argv, &a);
	}
	if (render) {
		return do_render(argc, argv, &a);
	}
	if (optind != argc) {
		fprintf(stderr, "leakwatch: report: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return build(c, &a);
}
