/* readfile.h — a whole regular file into memory, bounded. Any thread. */
#pragma once

#include <stddef.h>

/* Reads @path (a regular file, never a FIFO or a device) of at most @max
 * bytes into *buf, NUL-terminated (caller frees), its length in *len.
 * Returns 0, or -errno: -EINVAL not a regular file, -EFBIG over @max. */
int lw_read_file(const char *path, size_t max, char **buf, size_t *len);
