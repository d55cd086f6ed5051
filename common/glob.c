/* glob.c — `**`-aware path matching (see glob.h). */
#include "glob.h"

#include <string.h>

/* Matches one bracket expression at *pp against c; advances *pp past it.
 * Returns 1 match, 0 no match, -1 malformed (treated as a literal '['). */
static int
match_class(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool negate = false;
	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	bool hit = false;
	bool first = true;
	while (*p && (first || *p != ']')) {
		first = false;
		char lo = *p;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			char hi = p[2];
			if (c >= lo && c <= hi) {
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
	if (*p != ']') {
		return -1;
	}
	*pp = p + 1;
	return hit != negate;
}

static bool
match(const char *p, const char *s, const char *end)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			/* A double star spans components, and with the slash after
			 * it may also match none of them. */
			const char *rest = p + 2;
			if (*rest == '\0' && s == end) {
				return true;
			}
			if (*rest == '/') {
				if (match(rest + 1, s, end)) {
					return true;
				}
			}
			for (const char *t = s; t <= end; t++) {
				if (match(rest, t, end)) {
					return true;
				}
			}
			return false;
		}
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (match(p + 1, t, end)) {
					return true;
				}
				if (t == end || *t == '/') {
					return false;
				}
			}
		}
		if (s == end) {
			/* "dir/" + "**" also names "dir" itself */
			return p[0] == '/' && p[1] == '*' && p[2] == '*' && p[3] == '\0';
		}
		if (*p == '?') {
			if (*s == '/') {
				return false;
			}
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			const char *q = p;
			int r = *s == '/' ? 0 : match_class(&q, *s);
			if (r == 1) {
				p = q;
				s++;
				continue;
			}
			if (r == 0) {
				return false;
			}
			/* malformed: literal '[' */
		}
		if (*p == '\\' && p[1]) {
			p++;
		}
		if (*p != *s) {
			return false;
		}
		p++;
		s++;
	}
	return s == end;
}

bool
lw_glob_match(const char *pattern, const char *path, size_t path_len)
{
	const char *end = path + path_len;
	if (!strchr(pattern, '/')) {
		const char *base = path;
		for (const char *t = path; t < end; t++) {
			if (*t == '/') {
				base = t + 1;
			}
		}
		return match(pattern, base, end);
	}
	if (pattern[0] == '/') {
		return match(pattern, path, end);
	}
	for (const char *t = path; t < end; t++) {
		if ((t == path || t[-1] == '/') && match(pattern, t, end)) {
			return true;
		}
	}
	return false;
}
