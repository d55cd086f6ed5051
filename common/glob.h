/* glob.h — path globs for exclusions and policy zones. Pure functions.
 *
 * `*` matches within one path component, a `**` segment matches any run of
 * components (including none: "a/" "**" "/b" matches "a/b"); as in gitignore,
 * stars next to other characters ("a**b") are plain stars.  `?` one character other than
 * '/', `[...]` a character class as in fnmatch(3). A pattern with no '/' is
 * matched against the last component only ("*.tmp", ".cache"). A pattern
 * starting with '/' is matched against the whole path; any other pattern
 * with a '/' against every tail of the path that starts at a component
 * ("cache/" "**" matches /home/u/cache/x and /srv/cache/y/z), as in
 * gitignore. A trailing slash-double-star also matches the directory
 * itself, so that an excluded directory is not even watched. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

bool lw_glob_match(const char *pattern, const char *path, size_t path_len);
