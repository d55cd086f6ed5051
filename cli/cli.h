/* cli.h — shared pieces of the `leakwatch` command-line tool. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "agent-config.h"
#include "store.h"

struct cli {
	const char *config;  /* -c */
	const char *db;      /* -d: overrides the config's database */
	bool json;           /* --json */
	struct agent_config *cfg; /* loaded on demand */
	/* --collector and its credentials: the fleet commands (cli-fleet.c) */
	const char *collector, *cert, *key, *ca, *crl;
};

/* One row of the command table (cli-help.c): a command, or one of its
 * subcommands (@sub set). The dispatch, `leakwatch --help` and every
 * `leakwatch COMMAND [SUBCOMMAND] --help` are made from it, so a new command
 * or option is one row. The struct is opaque beyond these fields. */
struct cli_option;
struct cli_command {
	const char *name;
	const char *sub; /* NULL: the command itself */
	bool fleet;      /* with --collector, asked of the collector */
	bool needs_sub;  /* a command with no form of its own (fingerprint) */
	/* command rows only; a subcommand runs as its command's argv[1] */
	int (*run)(struct cli *c, int argc, char **argv);
	const char *args;              /* the synopsis after the name; '\n' between forms */
	const char *summary;           /* what it does: one sentence */
	const struct cli_option *opts; /* {0}-terminated; --help is implied */
	const char *exit_status;       /* NULL: 0 success, 2 error */
};

/* The command row @name, local or fleet; NULL if there is none. Static data. */
const struct cli_command *cli_command_find(const char *name, bool fleet);
/* The global usage (`leakwatch --help`) on @f. */
void cli_usage(FILE *f);
/* Called with a command's arguments (@argv[0] the command) before it runs.
 * Returns 0 after printing the usage of the command, or of the subcommand
 * @argv[1] names, on stdout when -h or --help is among the arguments (not
 * after "--", not as an option's value); 2 after a message on stderr when
 * @argv[1] is an unknown subcommand of a command that has some; -1 when the
 * command should run. */
int cli_help(const struct cli_command *k, int argc, char **argv);

/* The database: -d, else the configuration's state_dir/agent.db (the
 * configuration is loaded on first use). NULL after printing a message
 * naming the problem when @quiet is false. */
const char *cli_db_path(struct cli *c, bool quiet);
/* Opens the inventory read-only. Prints a message naming the file and
 * returns -errno on failure. */
int cli_open_store(struct cli *c, struct store **out);
/* Opens the inventory for writing (registrations, a restore). Prints a
 * message naming the file and returns -errno on failure. */
int cli_open_writer(struct cli *c, struct store **out);
/* Prints @len bytes of @s for a human (escaped, one line). */
void cli_print_path(const char *s, size_t len);
/* @s escaped for a terminal (wire_escape_line), or a copy of @none (NULL
 * if @none is) when @s is NULL.
 * Every value from a file, a policy or a peer goes through it before it is
 * printed for a person. Caller frees. */
char *cli_escape(const char *s, const char *none);
/* ISO 8601 UTC of a time in ns into @buf (>= 32 bytes). */
void cli_format_time(long long ns, char *buf, size_t len);

int cli_status(struct cli *c, int argc, char **argv);
int cli_files(struct cli *c, int argc, char **argv);
int cli_find(struct cli *c, int argc, char **argv);
int cli_scan(struct cli *c, int argc, char **argv);
int cli_fingerprint(struct cli *c, int argc, char **argv);
int cli_policy(struct cli *c, int argc, char **argv);
int cli_violations(struct cli *c, int argc, char **argv);
int cli_quarantine(struct cli *c, int argc, char **argv);
int cli_reload(struct cli *c, int argc, char **argv);
int cli_enforce(struct cli *c, int argc, char **argv);
/* report, report render, report verify; local or, with --collector, fleet */
int cli_report(struct cli *c, int argc, char **argv);
/* With --collector: agents, violations, alerts, trace (argv[0]). */
int cli_fleet(struct cli *c, int argc, char **argv);
