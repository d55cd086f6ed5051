/* cli.c — `leakwatch`: option parsing and dispatch to the subcommands.
 * Single-threaded. Exit status: 0 success, 1 "nothing found" where a
 * command says so, 2 usage or runtime error. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lw-paths.h" /* LW_SYSCONFDIR: the configured installation */
#include "log.h"
#include "mem.h"
#include "wire.h"

/* Every command: where it runs, what it takes, what it does. The global
 * usage and `leakwatch COMMAND --help` are printed from here, so a new
 * command is one row. Fleet rows run against the collector (--collector),
 * the others on this workstation's database. */
struct cli_command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	bool fleet;
	const char *args; /* after the name */
	const char *help; /* one or two lines */
};

static const struct cli_command commands[] = {
	{"status", cli_status, false, "", "the agent's coverage, inventory and backlog"},
	{"files", cli_files, false, "[--under PATH] [--all] [--label LEVEL]",
	 "files present now (--all: deleted ones too; --label: classified at least LEVEL)"},
	{"find", cli_find, false, "FILE|SHA256", "every place the same content is stored"},
	{"scan", cli_scan, false,
	 "[--jobs N] [--timeout-ms N] [--memory-mb N] [--policy FILE] PATH...",
	 "classify files once (markings, personal data, registered documents); no daemon"
	 " needed"},
	{"fingerprint", cli_fingerprint, false,
	 "add --id ID --label MARKING FILE | add --benign FILE... | list | remove ID",
	 "registered sensitive documents, and boilerplate that must never match"},
	{"violations", cli_violations, false, "[--since 24h] [--severity LEVEL] [--rule ID]",
	 "policy violations, oldest first"},
	{"quarantine", cli_quarantine, false, "list | restore ID",
	 "files the policy moved aside, and back"},
	{"policy", cli_policy, false, "check FILE", "validate a policy and explain it"},
	{"reload", cli_reload, false, "", "make the running agent reload its policy"},
	{"report", cli_report, false,
	 "[--period day|week|month|quarter | --since T [--until T]] [--format html|json|csv]"
	 " [-o FILE|DIR] [--sign-key KEY] [--redact-paths] [--row-limit N]"
	 " | render FILE.json [...] | verify FILE [--trust PEM]",
	 "a compliance report of this workstation (default: last week, HTML); render one"
	 " again; verify one"},
	{"agents", cli_fleet, true, "", "every enrolled agent: last contact, coverage, chain"},
	{"violations", cli_fleet, true,
	 "[--since 24h|7d|TIME] [--severity LEVEL] [--rule ID] [--agent NAME] [--limit N]",
	 "the fleet's violations, oldest first"},
	{"alerts", cli_fleet, true, "[--since ...] [--agent NAME]",
	 "chain alerts: edited, missing or replayed events"},
	{"trace", cli_fleet, true, "SHA256|REGISTERED-ID",
	 "every machine and path where that content has been seen"},
	{"report", cli_report, true,
	 "[same options as above] [--agent ID]... | render ... | verify ...",
	 "the fleet's compliance report, from the collector"},
};

static void
print_command(FILE *f, const struct cli_command *k)
{
	fprintf(f, "  %s%s%s\n      %s\n", k->name, k->args[0] ? " " : "", k->args, k->help);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: leakwatch [-c agent.json] [-d DB] [--json] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
		if (!commands[i].fleet) {
			print_command(f, &commands[i]);
		}
	}
	fprintf(f, "\n"
		   "  -c, --config FILE   agent configuration (default " LW_SYSCONFDIR "/leakwatch/agent.json)\n"
		   "  -d, --db FILE       inventory database (default: state_dir/agent.db)\n"
		   "  --json              one JSON object per line\n"
		   "  -V, --version       print the version\n"
		   "  leakwatch COMMAND --help   that command alone\n"
		   "\n"
		   "The fleet, from the collector (an admin certificate):\n"
		   "  leakwatch --collector URL --cert FILE --key FILE --ca FILE [--crl FILE]"
		   " COMMAND [--json]\n\n");
	for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
		if (commands[i].fleet) {
			print_command(f, &commands[i]);
		}
	}
	fprintf(f, "\nExit status: 0 success (scan: nothing sensitive), 1 nothing found (find)\n"
		   "or something sensitive found (scan), 2 error.\n");
}

static const struct cli_command *
find_command(const char *name, bool fleet)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
		if (commands[i].fleet == fleet && strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

const char *
cli_db_path(struct cli *c, bool quiet)
{
	if (c->db) {
		return c->db;
	}
	if (!c->cfg) {
		char err[1024];
		if (agent_config_load(c->config, false, &c->cfg, err, sizeof(err)) < 0) {
			if (!quiet) {
				fprintf(stderr, "leakwatch: %s\n", err);
			}
			return NULL;
		}
	}
	return c->cfg->db_path;
}

int
cli_open_store(struct cli *c, struct store **out)
{
	char err[1024];
	const char *db = cli_db_path(c, false);
	if (!db) {
		return -EINVAL;
	}
	int r = store_open(db, DB_MODE_READER, out, err, sizeof(err));
	if (r < 0) {
		if (r == -ENOENT) {
			fprintf(stderr,
				"leakwatch: %s: no inventory there (has leakwatchd run with"
				" this configuration?)\n",
				db);
		} else {
			fprintf(stderr, "leakwatch: %s\n", err);
		}
	}
	return r;
}

int
cli_open_writer(struct cli *c, struct store **out)
{
	const char *db = cli_db_path(c, false);
	if (!db) {
		return -EINVAL;
	}
	char err[1024];
	int r = store_open(db, DB_MODE_WRITER, out, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "leakwatch: %s\n", err);
	}
	return r;
}

void
cli_print_path(const char *s, size_t len)
{
	AUTOFREE char *e = wire_escape_line(s, len);
	fputs(e, stdout);
}

char *
cli_escape(const char *s, const char *none)
{
	if (!s) {
		return none ? lw_strdup(none) : NULL;
	}
	return wire_escape_line(s, strlen(s));
}

void
cli_format_time(long long ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
main(int argc, char **argv)
{
	log_init("leakwatch");
	log_set_level(LOG_LEVEL_WARN);
	struct cli c = {.config = LW_SYSCONFDIR "/leakwatch/agent.json"};
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{"collector", required_argument, NULL, 'C'},
		{"cert", required_argument, NULL, 'E'},
		{"key", required_argument, NULL, 'K'},
		{"ca", required_argument, NULL, 'A'},
		{"crl", required_argument, NULL, 'R'},
		{0},
	};
	int opt;
	/* '+': stop at the command; its own options follow it */
	while ((opt = getopt_long(argc, argv, "+c:d:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c.config = optarg;
			break;
		case 'd':
			c.db = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'C':
			c.collector = optarg;
			break;
		case 'E':
			c.cert = optarg;
			break;
		case 'K':
			c.key = optarg;
			break;
		case 'A':
			c.ca = optarg;
			break;
		case 'R':
			c.crl = optarg;
			break;
		case 'V':
			printf("leakwatch %s\n", LW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	int r;
	/* The subcommand parses its own options with getopt. 0, not 1: glibc
	 * then forgets the "+" (stop at the first argument) of the parse above,
	 * so options may follow arguments ("trace SHA256 --json"). */
	optind = 0;
	const struct cli_command *k = find_command(cmd, c.collector != NULL);
	if (!k) {
		if (find_command(cmd, c.collector == NULL)) {
			fprintf(stderr, "leakwatch: '%s' %s\n", cmd,
				c.collector ? "runs on the workstation, not with --collector"
					    : "is a fleet command: it needs --collector");
		} else {
			fprintf(stderr, "leakwatch: unknown command '%s'\n", cmd);
		}
		usage(stderr);
		r = 2;
	} else if (sub_argc == 2 && (strcmp(sub_argv[1], "--help") == 0 ||
				     strcmp(sub_argv[1], "-h") == 0)) {
		fprintf(stdout, "usage: leakwatch%s %s%s%s\n      %s\n",
			k->fleet ? " --collector URL --cert FILE --key FILE --ca FILE" : "",
			k->name, k->args[0] ? " " : "", k->args, k->help);
		r = 0;
	} else {
		r = k->run(&c, sub_argc, sub_argv);
	}
	agent_config_free(c.cfg);
	return r;
}
