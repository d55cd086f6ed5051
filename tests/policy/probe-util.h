/* probe-util.h — shared pieces of the dev probes (policy-probe,
 * extract-probe, match-probe). */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Reads the regular file @path whole: 0 and *buf (caller frees), or -errno. */
int probe_read_all(const char *path, char **buf, size_t *len);
/* Writes @n bytes as a JSON string (common/wire.c's escaping). */
void probe_json_str(FILE *f, const char *s, size_t n);
