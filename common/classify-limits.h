/* classify-limits.h — the limits that bound the classify helper's work on
 * one file: one table, with one name, default and range each.
 *
 * The agent reads them from its configuration as classify.<key>
 * (agent-config.c), `leakwatch scan` takes two of them as options, helper.c
 * passes them all to leakwatch-classify as --<key> (underscores as dashes)
 * and the helper parses them back with the same table, so a new limit is one
 * line in classify-limits.c and nothing can be copied wrong in between. */
#ifndef LW_CLASSIFY_LIMITS_H
#define LW_CLASSIFY_LIMITS_H

#include <stddef.h>

enum classify_limit {
	CLASSIFY_TIMEOUT_MS,  /* per file, then the helper is killed */
	CLASSIFY_MAX_FILE_MB, /* MiB of a file examined; the rest is only hashed */
	CLASSIFY_MEMORY_MB,   /* the helper's address-space limit */
	CLASSIFY_MAX_TEXT_MB, /* extracted text kept over a file and its members */
	CLASSIFY_MAX_DEPTH,   /* container nesting */
	CLASSIFY_MAX_MEMBERS, /* member documents over a file */
	CLASSIFY_MAX_RATIO,   /* decompressed over compressed bytes */
	CLASSIFY_LIMIT_COUNT,
};

struct classify_limit_def {
	const char *key; /* "timeout_ms": the configuration key */
	int def, min, max;
};

extern const struct classify_limit_def classify_limit_defs[CLASSIFY_LIMIT_COUNT];

struct classify_limits {
	int v[CLASSIFY_LIMIT_COUNT];
};

void classify_limits_default(struct classify_limits *l);

/* Sets the limit whose option is @flag ("--timeout-ms" or "timeout-ms")
 * from the decimal @value. Returns 0, -ENOENT for no such limit, -ERANGE
 * (value outside its range) or -EINVAL (not a whole number). */
int classify_limits_set_flag(struct classify_limits *l, const char *flag, const char *value);

/* The option of limit @i: "--timeout-ms". Static storage. */
const char *classify_limit_flag(enum classify_limit i);

/* Appends "--key", "value" for every limit to @argv (2 * CLASSIFY_LIMIT_COUNT
 * slots), the values written into @buf. Returns the slots used. */
size_t classify_limits_argv(const struct classify_limits *l, char buf[][16], char **argv);

#endif
