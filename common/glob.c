/* glob.c — `**`-aware path matching (see glob.h).
 *
 * Both levels use the classic two-pointer wildcard algorithm with a single
 * backtrack point instead of recursion: within a component `*` is the star,
 * across components a `**` segment is the star and each other pattern segment
 * matches exactly one component.  Remembering only the last star is enough
 * because every other token consumes exactly one unit, so the cost is
 * bounded by pattern length × path length; the recursive matcher this
 * replaced went exponential on a run of stars (found by fuzz-common). */
#include "glob.h"

#include <string.h>

/* Matches the bracket expression at *pp (inside [*pp, pe)) against c and
 * advances *pp past it.  Returns 1 match, 0 no match, -1 malformed (the
 * caller then treats '[' as a literal). */
static int
match_class(const char **pp, const char *pe, char c)
{
	const char *p = *pp + 1;
	bool negate = false;
	if (p < pe && (*p == '!' || *p == '^')) {
		negate = true;
		p++;
	}
	bool hit = false;
	bool first = true;
	while (p < pe && (first || *p != ']')) {
		first = false;
		char lo = *p;
		if (p + 2 < pe && p[1] == '-' && p[2] != ']') {
			if (c >= lo && c <= p[2]) {
				hit = true;
			}
			p += 3;
		} else {
			if (c == lo) {
				hit = true;
			}
			p++;
		}
	}
	if (p >= pe) {
		return -1;
	}
	*pp = p + 1;
	return hit != negate;
}

/* One pattern segment [p, pe) against one path component [s, se). */
static bool
match_component(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star_p = NULL, *star_s = NULL;
	while (s < se) {
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*') {
				p++;
			}
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < pe) {
			const char *next = p + 1;
			bool hit;
			if (*p == '?') {
				hit = true;
			} else if (*p == '[') {
				next = p;
				int r = match_class(&next, pe, *s);
				if (r < 0) {
					next = p + 1;
					hit = *s == '[';
				} else {
					hit = r == 1;
				}
			} else if (*p == '\\' && p + 1 < pe) {
				hit = p[1] == *s;
				next = p + 2;
			} else {
				hit = *p == *s;
			}
			if (hit) {
				p = next;
				s++;
				continue;
			}
		}
		if (!star_p) {
			return false;
		}
		p = star_p;
		s = ++star_s;
	}
	while (p < pe && *p == '*') {
		p++;
	}
	return p == pe;
}

/* A cursor over '/'-separated units of [start, end]: `at` is the start of
 * the current unit, `at > end` once every unit is used. */
static const char *
unit_end(const char *at, const char *end)
{
	const char *slash = memchr(at, '/', (size_t)(end - at));
	return slash ? slash : end;
}

static bool
is_double_star(const char *p, const char *pe)
{
	return pe - p == 2 && p[0] == '*' && p[1] == '*';
}

/* Pattern segments [p, pend] against path components [s, send]; with
 * `floating`, the pattern may start at any component (an implicit leading
 * `**`). */
static bool
match_path(const char *p, const char *pend, const char *s, const char *send, bool floating)
{
	const char *star_p = floating ? p : NULL;
	const char *star_s = s;
	for (;;) {
		if (p > pend) {
			if (s > send) {
				return true;
			}
		} else {
			const char *pe = unit_end(p, pend);
			if (is_double_star(p, pe)) {
				p = pe + 1;
				star_p = p;
				star_s = s;
				continue;
			}
			if (s <= send) {
				const char *se = unit_end(s, send);
				if (match_component(p, pe, s, se)) {
					p = pe + 1;
					s = se + 1;
					continue;
				}
			}
		}
		/* Let the last `**` swallow one more component and retry. */
		if (!star_p || star_s > send) {
			return false;
		}
		star_s = unit_end(star_s, send) + 1;
		p = star_p;
		s = star_s;
	}
}

bool
lw_glob_match(const char *pattern, const char *path, size_t path_len)
{
	const char *end = path + path_len;
	const char *pend = pattern + strlen(pattern);
	if (!strchr(pattern, '/')) {
		const char *base = path;
		for (const char *t = path; t < end; t++) {
			if (*t == '/') {
				base = t + 1;
			}
		}
		return match_component(pattern, pend, base, end);
	}
	return match_path(pattern, pend, path, end, pattern[0] != '/');
}
