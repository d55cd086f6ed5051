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

#include "log.h"
#include "mem.h"
#include "wire.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: leakwatch [-c agent.json] [-d DB] [--json] COMMAND [ARGS]\n"
		"\n"
		"  status                       the agent's coverage, inventory and backlog\n"
		"  files [--under PATH] [--all] [--label LEVEL]\n"
		"                               files present now (--all: deleted ones too;\n"
		"                               --label: classified at least LEVEL)\n"
		"  find FILE|SHA256             every place the same content is stored\n"
		"  scan [--jobs N] [--policy FILE] PATH...\n"
		"                               classify files once (markings, personal data,\n"
		"                               registered documents); no daemon needed\n"
		"  fingerprint add --id ID --label MARKING FILE\n"
		"  fingerprint add --benign FILE...   boilerplate that must never match\n"
		"  fingerprint list | remove ID registered sensitive documents\n"
		"  violations [--since 24h] [--severity LEVEL] [--rule ID]\n"
		"                               policy violations, oldest first\n"
		"  quarantine list | restore ID files the policy moved aside, and back\n"
		"  policy check FILE            validate a policy and explain it\n"
		"  reload                       make the running agent reload its policy\n"
		"\n"
		"  -c, --config FILE   agent configuration (default /etc/leakwatch/agent.json)\n"
		"  -d, --db FILE       inventory database (default: state_dir/agent.db)\n"
		"  --json              one JSON object per line\n"
		"  -V, --version       print the version\n"
		"\n"
		"The fleet, from the collector (an admin certificate):\n"
		"  leakwatch --collector URL --cert FILE --key FILE --ca FILE [--crl FILE]\n"
		"    agents | violations [--since 24h] [--severity LEVEL] [--rule ID]\n"
		"    [--agent NAME] [--limit N] | alerts | trace SHA256|REGISTERED-ID [--json]\n"
		"\nExit status: 0 success (scan: nothing sensitive), 1 nothing found (find)\n"
		"or something sensitive found (scan), 2 error.\n");
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
	struct cli c = {.config = "/etc/leakwatch/agent.json"};
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
	if (c.collector) {
		r = cli_fleet(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "status") == 0) {
		r = cli_status(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "files") == 0) {
		r = cli_files(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "find") == 0) {
		r = cli_find(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "scan") == 0) {
		r = cli_scan(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "fingerprint") == 0) {
		r = cli_fingerprint(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "policy") == 0) {
		r = cli_policy(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "violations") == 0) {
		r = cli_violations(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "quarantine") == 0) {
		r = cli_quarantine(&c, sub_argc, sub_argv);
	} else if (strcmp(cmd, "reload") == 0) {
		r = cli_reload(&c, sub_argc, sub_argv);
	} else {
		fprintf(stderr, "leakwatch: unknown command '%s'\n", cmd);
		usage(stderr);
		r = 2;
	}
	agent_config_free(c.cfg);
	return r;
}
