/* cli.c — `leakwatch`: option parsing and dispatch to the subcommands
 * (the command table and every usage: cli-help.c). Single-threaded.
 * Exit status: 0 success, 1 "nothing found" where a command says so,
 * 2 usage or runtime error. */
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
			cli_usage(stdout);
			return 0;
		default:
			cli_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		cli_usage(stderr);
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
	const struct cli_command *k = cli_command_find(cmd, c.collector != NULL);
	if (!k) {
		if (cli_command_find(cmd, c.collector == NULL)) {
			fprintf(stderr, "leakwatch: '%s' %s\n", cmd,
				c.collector ? "runs on the workstation, not with --collector"
					    : "is a fleet command: it needs --collector");
		} else {
			fprintf(stderr, "leakwatch: unknown command '%s'\n", cmd);
		}
		cli_usage(stderr);
		r = 2;
	} else if ((r = cli_help(k, sub_argc, sub_argv)) < 0) {
		r = k->run(&c, sub_argc, sub_argv);
	}
	agent_config_free(c.cfg);
	return r;
}
