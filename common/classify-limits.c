/* classify-limits.c — the table of classify limits (see classify-limits.h).
 * The ranges are what a demanding site may need and what stays safe: a
 * timeout of an hour at most, a 16 GiB file, 64 GiB of helper memory; the
 * floors keep a helper able to start (64 MiB) and a file examined at all. */
#include "classify-limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct classify_limit_def classify_limit_defs[CLASSIFY_LIMIT_COUNT] = {
	[CLASSIFY_TIMEOUT_MS] = {"timeout_ms", 30000, 100, 3600000},
	[CLASSIFY_MAX_FILE_MB] = {"max_file_mb", 256, 1, 16384},
	[CLASSIFY_MEMORY_MB] = {"memory_mb", 1024, 64, 65536},
	[CLASSIFY_MAX_TEXT_MB] = {"max_text_mb", 16, 1, 4096},
	[CLASSIFY_MAX_DEPTH] = {"max_depth", 5, 1, 64},
	[CLASSIFY_MAX_MEMBERS] = {"max_members", 10000, 1, 10000000},
	[CLASSIFY_MAX_RATIO] = {"max_ratio", 200, 1, 100000},
};

/* The option of each key: "--" and the key with dashes for underscores
 * (test-classify-limits checks that the two never drift apart). */
static const char *const flags[CLASSIFY_LIMIT_COUNT] = {
	[CLASSIFY_TIMEOUT_MS] = "--timeout-ms",
	[CLASSIFY_MAX_FILE_MB] = "--max-file-mb",
	[CLASSIFY_MEMORY_MB] = "--memory-mb",
	[CLASSIFY_MAX_TEXT_MB] = "--max-text-mb",
	[CLASSIFY_MAX_DEPTH] = "--max-depth",
	[CLASSIFY_MAX_MEMBERS] = "--max-members",
	[CLASSIFY_MAX_RATIO] = "--max-ratio",
};

void
classify_limits_default(struct classify_limits *l)
{
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		l->v[i] = classify_limit_defs[i].def;
	}
}

const char *
classify_limit_flag(enum classify_limit i)
{
	return flags[i];
}

int
classify_limits_set_flag(struct classify_limits *l, const char *flag, const char *value)
{
	if (strncmp(flag, "--", 2) == 0) {
		flag += 2;
	}
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		if (strcmp(flags[i] + 2, flag) != 0) {
			continue;
		}
		char *end = NULL;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (end == value || *end || errno) {
			return -EINVAL;
		}
		if (v < classify_limit_defs[i].min || v > classify_limit_defs[i].max) {
			return -ERANGE;
		}
		l->v[i] = (int)v;
		return 0;
	}
	return -ENOENT;
}

size_t
classify_limits_argv(const struct classify_limits *l, char buf[][16], char **argv)
{
	size_t a = 0;
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%d", l->v[i]);
		argv[a++] = (char *)flags[i];
		argv[a++] = buf[i];
	}
	return a;
}
