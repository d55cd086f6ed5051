/* glob.h — path globs for exclusions and policy zones. Pure functions.
 *
 * `*` matches within one path component, `**` matches any run of components
 * (including none: "a/" "**" "/b" matches "a/b"), `?` one character other than
 * '/', `[...]` a character class as in fnmatch(3). A pattern with no '/' is
 * matched against the last component only ("*.tmp", ".cache"); a pattern
 * with a '/' against the whole path. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

bool lw_glob_match(const char *pattern, const char *path, size_t path_len);
