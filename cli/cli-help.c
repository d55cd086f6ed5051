/* cli-help.c — the command table of `leakwatch`: every command and
 * subcommand, its synopsis, what it does, each option it takes and its exit
 * status where that is special. cli.c dispatches from it; `leakwatch --help`
 * and `leakwatch [--collector URL] COMMAND [SUBCOMMAND] --help` are printed
 * from it. Each option row mirrors the getopt table of the command's
 * cli-*.c (tests/integration/test_cli_help.py checks both, and that
 * packaging/bash-completion/leakwatch completes exactly these).
 * Static data; single-threaded. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "lw-paths.h" /* LW_SYSCONFDIR: the configured installation */
#include "mem.h"

/* An option: "-o, --output" or "--json"; @arg its value (NULL: none);
 * @help lines of at most 54 columns; @values the fixed set it takes, if
 * any (printed as "one of: ...", the completion's list). */
struct cli_option {
	const char *flags;
	const char *arg;
	const char *help;
	const char *values;
};

#define OPT_COL 24 /* where an option's help starts */
#define WIDTH 79   /* synopsis lines wrap before this */

#define SEVERITIES "low, medium, high, critical" /* policy.c severity_names */
#define LEVELS "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP SECRET" /* store_rank_of() */

/* (clang-format would take these initializers for blocks) */
/* clang-format off */
#define OPT_JSON(what) {"--json", NULL, what, NULL}
#define OPT_SEVERITY                                                                          \
	{"--severity", "LEVEL", "only violations of this severity or higher", SEVERITIES}
#define OPT_RULE {"--rule", "ID", "only this rule's violations", NULL}
#define OPT_AGENT(what) {"--agent", "NAME", what, NULL}
#define OPT_LIMIT(what)                                                                       \
	{"--limit", "N", "the newest N " what ", still oldest first\n(1 to 100000; default 1000)",  \
	 NULL}
#define OPT_FLEET_SINCE                                                                       \
	{"--since", "DURATION|TIME",                                                           \
	 "only those the collector received since then: a\n"                                  \
	 "duration back from now (24h, 7d) or an RFC 3339 time",                              \
	 NULL}

/* `report` and `report render`: where and how a report is written */
#define OPTS_REPORT_OUTPUT                                                                    \
	{"--format", "FORMAT",                                                                 \
	 "html: one self-contained page (the default);\n"                                      \
	 "json: the canonical document (doc/report-schema.json);\n"                           \
	 "csv: one RFC 4180 file per table, in a directory",                                  \
	 "html, json, csv"},                                                                   \
		{"-o, --output", "FILE|DIR",                                                   \
		 "write there (default: standard output; csv needs\n"                           \
		 "it); an existing directory gets a file named after\n"                         \
		 "the scope and the period. Files are mode 0600",                               \
		 NULL},                                                                         \
		{"--sign-key", "KEY",                                                          \
		 "sign the FILE.sig written beside the report with\n"                           \
		 "this PEM private key (RSA, EC or Ed25519)",                                   \
		 NULL}

/* `report`, local and fleet */
#define OPTS_REPORT_BUILD                                                                     \
	{"--period", "PERIOD",                                                                 \
	 "the last complete one, in UTC: day (yesterday), week\n"                              \
	 "(the ISO week; the default), month or quarter",                                     \
	 "day, week, month, quarter"},                                                         \
		{"--since", "T",                                                               \
		 "a period of its own from T: an RFC 3339 time, a date\n"                       \
		 "YYYY-MM-DD (its midnight) or a duration back from\n"                          \
		 "now (24h, 7d); not with --period",                                            \
		 NULL},                                                                         \
		{"--until", "T", "the end of that period, excluded (default: now)", NULL},     \
		OPTS_REPORT_OUTPUT,                                                            \
		{"--redact-paths", NULL, "show each path as its directory and SHA-256", NULL}, \
		{"--row-limit", "N",                                                           \
		 "at most N rows per list (1 to 10000000; default\n"                            \
		 "5000); totals and aggregates count everything",                               \
		 NULL}

#define EXIT_REPORT                                                                           \
	"0 written; 2 a period that does not parse, --since not before\n"                      \
	"--until, an unreadable database, a collector that refuses the\n"                       \
	"certificate or the query, or another error."
/* clang-format on */

static const struct cli_command commands[] = {
	/* --- this workstation --------------------------------------------- */
	{"status", NULL, false, false, cli_status, "[--json]",
	 "Show whether the agent runs, its roots and watches, the inventory's\n"
	 "size and errors, the work pending and the last full scan.",
	 (const struct cli_option[]){OPT_JSON("the status as one JSON object"), {0}}, NULL},
	{"files", NULL, false, false, cli_files, "[--under PATH] [--all] [--label LEVEL] [--json]",
	 "List the files of the inventory that are present now, in path order:\n"
	 "SHA-256, size, type, classification and path.",
	 (const struct cli_option[]){
		 {"--under", "PATH", "only the files below this directory", NULL},
		 {"--all", NULL, "the deleted files too, with when they went", NULL},
		 {"--label", "LEVEL",
		  "only files classified at least LEVEL, by their own\n"
		  "marking or as a copy or excerpt of a registered\n"
		  "document with such a label",
		  LEVELS},
		 OPT_JSON("one JSON object per file (doc/leakwatch.1)"),
		 {0}},
	 NULL},
	{"find", NULL, false, false, cli_find, "FILE|SHA256 [--json]",
	 "List every place on this machine where the same content is stored:\n"
	 "FILE is hashed, 64 hex digits are taken as the digest.",
	 (const struct cli_option[]){OPT_JSON("one JSON object per file"), {0}},
	 "0 found; 1 stored nowhere; 2 error."},
	{"scan", NULL, false, false, cli_scan,
	 "[--jobs N] [--timeout-ms N] [--memory-mb N] [--policy FILE] [--json] PATH...",
	 "Classify files once, without the agent: every regular file given or\n"
	 "found below a directory given (symbolic links are not followed), each\n"
	 "in a sandboxed leakwatch-classify helper. Registered documents come\n"
	 "from -d, or from the agent's database when it can be read.",
	 (const struct cli_option[]){
		 {"--jobs", "N", "helpers run in parallel (1 to 256; default: one\nper core)",
		  NULL},
		 {"--timeout-ms", "N",
		  "time allowed per file, in ms (100 to 3600000;\ndefault 30000)", NULL},
		 {"--memory-mb", "N",
		  "memory allowed per helper, in MiB (64 to 65536;\ndefault 1024)", NULL},
		 {"--policy", "FILE",
		  "run this policy's custom detectors too: each line\n"
		  "gains \"rules\", the detectors that fired",
		  NULL},
		 OPT_JSON("one JSON object per file (doc/leakwatch.1)"),
		 {0}},
	 "0 nothing sensitive; 1 something sensitive found; 2 a file that could\n"
	 "not be examined completely, or another error."},
	{"fingerprint", NULL, false, true, cli_fingerprint, "add|list|remove ...",
	 "Manage the registered sensitive documents, and the boilerplate that\n"
	 "must never cause a match. Writes go to the agent's database (-d).",
	 (const struct cli_option[]){{0}}, NULL},
	{"fingerprint", "add", false, false, NULL,
	 "--id ID --label MARKING FILE\n"
	 "--label MARKING FILE...\n"
	 "--benign FILE...",
	 "Register sensitive originals, so that exact copies, copies in other\n"
	 "formats and excerpts are found; or, with --benign, text that must\n"
	 "never cause a match (templates, disclaimers, public documents).",
	 (const struct cli_option[]){
		 {"--id", "ID",
		  "the document's id, 1 to 63 bytes (one FILE only;\n"
		  "default: each file's name without its extension)",
		  NULL},
		 {"--label", "MARKING",
		  "how its copies are labelled, e.g. \"NATO SECRET\"\n(needed unless --benign)",
		  NULL},
		 {"--benign", NULL, "register the FILEs as boilerplate", NULL},
		 {0}},
	 "0 every FILE registered; 2 one could not be, or another error."},
	{"fingerprint", "list", false, false, NULL, "[--json]", "List the registered documents.",
	 (const struct cli_option[]){OPT_JSON("one JSON object per document"), {0}}, NULL},
	{"fingerprint", "remove", false, false, NULL, "ID", "Remove a registered document.",
	 (const struct cli_option[]){{0}}, "0 removed; 1 no document has that id; 2 error."},
	{"violations", NULL, false, false, cli_violations,
	 "[--since DURATION|TIME] [--severity LEVEL] [--rule ID] [--json]",
	 "List the policy violations the agent raised, oldest first.",
	 (const struct cli_option[]){{"--since", "DURATION|TIME",
				      "only those since then: a duration back from now\n"
				      "(24h, 30m, 7d) or a UTC time (2026-11-23T05:10:00Z)",
				      NULL},
				     OPT_SEVERITY,
				     OPT_RULE,
				     OPT_JSON("each violation as it is sent to the collector"),
				     {0}},
	 NULL},
	{"quarantine", NULL, false, true, cli_quarantine, "list|restore ...",
	 "Show the files the policy moved into the quarantine directory, and\n"
	 "put one back.",
	 (const struct cli_option[]){{0}}, NULL},
	{"quarantine", "list", false, false, NULL, "[--json]",
	 "List the quarantined files, the restored ones too.",
	 (const struct cli_option[]){OPT_JSON("one JSON object per file"), {0}}, NULL},
	{"quarantine", "restore", false, false, NULL, "ID",
	 "Put a quarantined file back at its place with its bytes, owner and\n"
	 "mtime, and a mode no wider than before; a symlink on the way back is\n"
	 "refused and the file stays in quarantine.",
	 (const struct cli_option[]){{0}},
	 "0 restored; 2 not restored (no such id, restored already, something\n"
	 "there now, a symlink on the way) or another error."},
	{"policy", NULL, false, true, cli_policy, "check FILE", "Work with policy files.",
	 (const struct cli_option[]){{0}}, NULL},
	{"policy", "check", false, false, NULL, "FILE",
	 "Validate a policy and explain it in a few lines.", (const struct cli_option[]){{0}},
	 "0 valid; 2 invalid (the message names the place) or unreadable."},
	{"enforce", NULL, false, true, cli_enforce, "off|on|status",
	 "Switch block rules off (every open proceeds; it holds across\n"
	 "restarts) or on again, and show what enforcement is doing.",
	 (const struct cli_option[]){{0}}, NULL},
	{"enforce", "off", false, false, NULL, "",
	 "Stop enforcing block rules now and after restarts: the agent closes\n"
	 "its permission group, and every open proceeds. Works within a second\n"
	 "of the flag file appearing in the state directory.",
	 (const struct cli_option[]){{0}}, NULL},
	{"enforce", "on", false, false, NULL, "",
	 "Enforce block rules again (if the policy has any).",
	 (const struct cli_option[]){{0}}, NULL},
	{"enforce", "status", false, false, NULL, "",
	 "Print the state (on, switched off, no block rules, unavailable) and\n"
	 "the counters: protected files, allowed, denied, timeouts.",
	 (const struct cli_option[]){{0}}, NULL},
	{"reload", NULL, false, false, cli_reload, "",
	 "Make the running agent reload its policy (SIGHUP) and print the\n"
	 "outcome; a policy that does not validate is refused and the agent\n"
	 "keeps the one in force.",
	 (const struct cli_option[]){{0}},
	 "0 reloaded; 2 refused (the reason is printed), the agent is not\n"
	 "running, or it did not answer within 10 s."},
	{"report", NULL, false, false, cli_report,
	 "[--period PERIOD | --since T [--until T]] [--format FORMAT] [-o FILE|DIR]"
	 " [--sign-key KEY] [--redact-paths] [--row-limit N]",
	 "Write a compliance report of this workstation from its inventory\n"
	 "(default: the last complete week, as HTML), and FILE.sig beside it.",
	 (const struct cli_option[]){OPTS_REPORT_BUILD, {0}}, EXIT_REPORT},
	{"report", "render", false, false, NULL,
	 "FILE.json [--format FORMAT] [-o FILE|DIR] [--sign-key KEY]",
	 "Render a report's canonical JSON again: in another format, or signed.",
	 (const struct cli_option[]){OPTS_REPORT_OUTPUT, {0}}, NULL},
	{"report", "verify", false, false, NULL, "FILE [--trust PEM]",
	 "Hash again every file a report's .sig lists, check its signature and\n"
	 "print what each chain head covers.",
	 (const struct cli_option[]){{"--trust", "PEM",
				      "the key it must be signed with: a public key\n"
				      "or a certificate",
				      NULL},
				     {0}},
	 "0 verified; 1 unsigned but unchanged; 2 something differs, unsigned\n"
	 "while --trust names a key, or another error."},

	/* --- the fleet, from the collector (--collector) ------------------ */
	{"agents", NULL, true, false, cli_fleet, "[--json]",
	 "List every enrolled agent: last contact, last sequence number,\n"
	 "whether its hash chain is intact, and its last heartbeat.",
	 (const struct cli_option[]){OPT_JSON("one JSON object per agent"), {0}}, NULL},
	{"violations", NULL, true, false, cli_fleet,
	 "[--since DURATION|TIME] [--severity LEVEL] [--rule ID] [--agent NAME] [--limit N]"
	 " [--json]",
	 "List the violations of the whole fleet, oldest first.",
	 (const struct cli_option[]){OPT_FLEET_SINCE,
				     OPT_SEVERITY,
				     OPT_RULE,
				     OPT_AGENT("only this agent's violations"),
				     OPT_LIMIT("violations"),
				     OPT_JSON("one JSON object per violation"),
				     {0}},
	 NULL},
	{"alerts", NULL, true, false, cli_fleet,
	 "[--since DURATION|TIME] [--agent NAME] [--limit N] [--json]",
	 "List the collector's hash-chain alerts (edited, missing or replayed\n"
	 "events), oldest first.",
	 (const struct cli_option[]){OPT_FLEET_SINCE,
				     OPT_AGENT("only this agent's alerts"),
				     OPT_LIMIT("alerts"),
				     OPT_JSON("one JSON object per alert"),
				     {0}},
	 NULL},
	{"trace", NULL, true, false, cli_fleet, "SHA256|REGISTERED-ID [--json]",
	 "List every machine and path where that content, or a derivative of\n"
	 "that registered document, has been seen, oldest first.",
	 (const struct cli_option[]){OPT_JSON("one JSON object per sighting"), {0}},
	 "0 seen; 1 seen nowhere; 2 error."},
	{"report", NULL, true, false, cli_report,
	 "[--period PERIOD | --since T [--until T]] [--format FORMAT] [-o FILE|DIR]"
	 " [--sign-key KEY] [--redact-paths] [--row-limit N] [--agent NAME]...",
	 "Write the fleet's compliance report from the collector's records\n"
	 "(default: the last complete week, as HTML), and FILE.sig beside it.",
	 (const struct cli_option[]){OPTS_REPORT_BUILD,
				     OPT_AGENT("only this agent; repeat it for several\n"
					       "(default: every agent)"),
				     {0}},
	 EXIT_REPORT},
};

/* The global options (cli.c's getopt table), for `leakwatch --help`. */
static const struct cli_option global_opts[] = {
	{"-c, --config", "FILE",
	 "the agent's configuration\n(default " LW_SYSCONFDIR "/leakwatch/agent.json)", NULL},
	{"-d, --db", "FILE", "the inventory database (default: state_dir/agent.db)", NULL},
	{"--json", NULL, "one JSON object per line (also after the command)", NULL},
	{"--collector", "URL", "ask the collector: the fleet commands", NULL},
	{"--cert", "FILE", "the administrator's certificate (PEM)", NULL},
	{"--key", "FILE", "its private key (PEM)", NULL},
	{"--ca", "FILE", "the CA that signed the collector's certificate", NULL},
	{"--crl", "FILE", "a certificate revocation list (optional)", NULL},
	{"-V, --version", NULL, "print the version", NULL},
	{"-h, --help", NULL, "this help", NULL},
	{0},
};

static const struct cli_option help_opt = {"-h, --help", NULL, "this help", NULL};

#define FLEET_PREFIX "--collector URL --cert FILE --key FILE --ca FILE [--crl FILE]"

/* @text's lines; the first continues the current line, the others start at
 * column @indent. */
static void
put_lines(FILE *f, int indent, const char *text)
{
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		fprintf(f, "%.*s\n", n, p);
		if (!nl) {
			return;
		}
		p = nl + 1;
		fprintf(f, "%*s", indent, "");
	}
}

static void
print_option(FILE *f, const struct cli_option *o)
{
	int n = fprintf(f, "  %s%s%s", o->flags, o->arg ? " " : "", o->arg ? o->arg : "");
	if (n >= OPT_COL) {
		fprintf(f, "\n%*s", OPT_COL, "");
	} else {
		fprintf(f, "%*s", OPT_COL - n, "");
	}
	put_lines(f, OPT_COL, o->help);
	if (!o->values) {
		return;
	}
	/* "one of: a, b, c", wrapped after a comma */
	int col = fprintf(f, "%*sone of:", OPT_COL, "");
	for (const char *p = o->values; *p;) {
		const char *e = strchr(p, ',');
		int w = e ? (int)(e - p) + 1 : (int)strlen(p);
		if (col + 1 + w > WIDTH) {
			col = fprintf(f, "\n%*s", OPT_COL + 7, "") - 1;
		}
		col += fprintf(f, " %.*s", w, p);
		p += w;
		p += *p == ' ';
	}
	fputc('\n', f);
}

/* One synopsis line: @lead, then @words (space separated) wrapped before
 * WIDTH at spaces outside brackets; continuation lines at column @indent. */
static void
put_synopsis(FILE *f, const char *lead, int indent, const char *words)
{
	int col = fprintf(f, "%s", lead);
	bool first = true;
	for (const char *p = words; *p;) {
		/* the next word: up to a space at bracket depth 0 */
		const char *e = p;
		for (int depth = 0; *e && (*e != ' ' || depth > 0); e++) {
			depth += *e == '[' ? 1 : *e == ']' ? -1 : 0;
		}
		int w = (int)(e - p);
		if (!first && col + 1 + w > WIDTH) {
			col = fprintf(f, "\n%*s", indent, "") - 1;
		} else if (!first) {
			col += fprintf(f, " ");
		}
		col += fprintf(f, "%.*s", w, p);
		first = false;
		p = *e ? e + 1 : e;
	}
	fputc('\n', f);
}

/* "usage: leakwatch [PREFIX] NAME [SUB] ARGS", a line per form. */
static void
print_synopsis(FILE *f, const struct cli_command *k)
{
	const char *form = k->args;
	bool first = true;
	do {
		const char *nl = strchr(form, '\n');
		size_t n = nl ? (size_t)(nl - form) : strlen(form);
		AUTOFREE char *words = lw_asprintf(
			"%s%s%s%s%s%.*s", k->fleet ? FLEET_PREFIX " " : "", k->name,
			k->sub ? " " : "", k->sub ? k->sub : "", n ? " " : "", (int)n, form);
		put_synopsis(f, first ? "usage: leakwatch " : "       leakwatch ", 17, words);
		first = false;
		form = nl ? nl + 1 : NULL;
	} while (form);
}

static bool
same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The row of @name @sub (NULL: the command), local or fleet. A subcommand
 * that has no fleet row of its own (report render, report verify) is the
 * local one: it reads files, not the collector. */
static const struct cli_command *
find_row(const char *name, const char *sub, bool fleet)
{
	for (int pass = 0; pass < (sub ? 2 : 1); pass++) {
		for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
			const struct cli_command *k = &commands[i];
			if (k->fleet == (pass ? !fleet : fleet) && strcmp(k->name, name) == 0 &&
			    same(k->sub, sub)) {
				return k;
			}
		}
	}
	return NULL;
}

const struct cli_command *
cli_command_find(const char *name, bool fleet)
{
	return find_row(name, NULL, fleet);
}

/* Whether @name has subcommands on @side (false: local), and prints their
 * names (", " between, @last before the last one) when @f is given. */
static bool
subs_of(const char *name, bool side, FILE *f, const char *last)
{
	size_t n = 0, total = 0;
	for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
		total += commands[i].fleet == side && commands[i].sub &&
			 strcmp(commands[i].name, name) == 0;
	}
	for (size_t i = 0; f && i < LW_ARRAY_SIZE(commands); i++) {
		const struct cli_command *k = &commands[i];
		if (k->fleet == side && k->sub && strcmp(k->name, name) == 0) {
			n++;
			fprintf(f, "%s%s", n == 1 ? "" : n == total ? last : ", ", k->sub);
		}
	}
	return total > 0;
}

/* The side whose subcommands @k has: its own, else the other (the fleet
 * report's are the local ones). */
static bool
sub_side(const struct cli_command *k)
{
	return subs_of(k->name, k->fleet, NULL, NULL) ? k->fleet : !k->fleet;
}

static void
print_command_help(FILE *f, const struct cli_command *k)
{
	print_synopsis(f, k);
	fprintf(f, "\n");
	put_lines(f, 0, k->summary);
	if (!k->sub && subs_of(k->name, sub_side(k), NULL, NULL)) {
		fprintf(f, "\nSubcommands:\n");
		for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
			const struct cli_command *s = &commands[i];
			if (s->fleet == sub_side(k) && s->sub && strcmp(s->name, k->name) == 0) {
				fprintf(f, "  %s\n      ", s->sub);
				put_lines(f, 6, s->summary);
			}
		}
		fprintf(f, "\nEach one's options: leakwatch%s %s SUBCOMMAND --help\n",
			k->fleet ? " --collector URL" : "", k->name);
	}
	fprintf(f, "\nOptions:\n");
	for (const struct cli_option *o = k->opts; o->flags; o++) {
		print_option(f, o);
	}
	print_option(f, &help_opt);
	if (k->exit_status) {
		fprintf(f, "\nExit status:\n  ");
		put_lines(f, 2, k->exit_status);
	}
	fprintf(f, "\n%s go before the command: leakwatch --help.\n",
		k->fleet ? "--collector URL and the certificates"
			 : "Global options (-c FILE, -d FILE)");
}

static void
list_commands(FILE *f, bool fleet)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(commands); i++) {
		const struct cli_command *k = &commands[i];
		if (k->fleet != fleet || k->needs_sub) {
			continue; /* such a command shows as its subcommands */
		}
		const char *form = k->args;
		do {
			const char *nl = strchr(form, '\n');
			size_t n = nl ? (size_t)(nl - form) : strlen(form);
			AUTOFREE char *words =
				lw_asprintf("%s%s%s%s%.*s", k->name, k->sub ? " " : "",
					    k->sub ? k->sub : "", n ? " " : "", (int)n, form);
			put_synopsis(f, "  ", 6, words);
			form = nl ? nl + 1 : NULL;
		} while (form);
		fprintf(f, "      ");
		put_lines(f, 6, k->summary);
	}
}

void
cli_usage(FILE *f)
{
	fprintf(f, "usage: leakwatch [-c FILE] [-d FILE] [--json] COMMAND [ARGS]\n"
		   "       leakwatch " FLEET_PREFIX "\n"
		   "                 [--json] COMMAND [ARGS]\n"
		   "\nCommands, on this workstation:\n");
	list_commands(f, false);
	fprintf(f, "\nFleet commands, asked of the collector (with --collector and an\n"
		   "administrator's certificate):\n");
	list_commands(f, true);
	fprintf(f, "\nOptions:\n");
	for (const struct cli_option *o = global_opts; o->flags; o++) {
		print_option(f, o);
	}
	fprintf(f, "\nOne command, its options and exit status:\n"
		   "  leakwatch [--collector URL] COMMAND [SUBCOMMAND] --help\n"
		   "\nExit status: 0 success (scan: nothing sensitive); 1 nothing found (find,\n"
		   "trace, fingerprint remove), something sensitive found (scan), or a report\n"
		   "unsigned but unchanged (report verify); 2 error.\n");
}

/* Whether @a is one of @flags ("-o, --output"). */
static bool
is_flag(const char *flags, const char *a)
{
	size_t n = strlen(a);
	for (const char *p = flags; p;) {
		if (strncmp(p, a, n) == 0 && (p[n] == '\0' || p[n] == ',')) {
			return true;
		}
		p = strchr(p, ',');
		p = p ? p + 2 : NULL;
	}
	return false;
}

/* Whether @a is an option of @k that takes its value from the next word. */
static bool
takes_next(const struct cli_command *k, const char *a)
{
	for (const struct cli_option *o = k->opts; a[0] == '-' && o->flags; o++) {
		if (o->arg && is_flag(o->flags, a)) {
			return true;
		}
	}
	return false;
}

int
cli_help(const struct cli_command *k, int argc, char **argv)
{
	const struct cli_command *row = k;
	bool side = sub_side(k);
	if (argc > 1 && argv[1][0] != '-' && subs_of(k->name, side, NULL, NULL)) {
		row = find_row(k->name, argv[1], k->fleet);
		if (!row) {
			fprintf(stderr, "leakwatch: %s: unknown subcommand '%s' (", k->name,
				argv[1]);
			subs_of(k->name, side, stderr, " or ");
			fprintf(stderr, "); see leakwatch %s --help\n", k->name);
			return 2;
		}
	}
	for (int i = row == k ? 1 : 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			break;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_command_help(stdout, row);
			return fflush(stdout) == 0 ? 0 : 2;
		}
		if (takes_next(row, argv[i])) {
			i++;
		}
	}
	return -1;
}
