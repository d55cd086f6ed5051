/* cli.h — shared pieces of the `leakwatch` command-line tool. */
#pragma once

#include <stdbool.h>

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
/* report, report render, report verify; local or, with --collector, fleet */
int cli_report(struct cli *c, int argc, char **argv);
/* With --collector: agents, violations, alerts, trace (argv[0]). */
int cli_fleet(struct cli *c, int argc, char **argv);
