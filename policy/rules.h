/* rules.h — custom content rules for the policy: keywords and regular
 * expressions with a minimum count and an optional proximity window.
 *
 * A rule fires when its terms match at least @min_count times in total over
 * the document (without proximity the terms are alternatives: a dictionary)
 * and, when @proximity > 0, some window of @proximity bytes also holds a
 * match of every term (all of them, near each other). Keywords match case-insensitively (ASCII) on
 * word boundaries; regexes are POSIX extended (libc regcomp), case-
 * insensitive unless asked otherwise. Text of all segments is searched;
 * segments are separated for proximity purposes by a gap of @proximity.
 *
 * Building a rules_set is single-threaded; once built it is read-only and
 * rules_eval() may run from any number of threads at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

struct rules_set;

struct rules_term {
	const char *pattern;
	bool regex;
	bool case_sensitive;
};

/* Never NULL; release with rules_free(). */
struct rules_set *rules_new(void);
void rules_free(struct rules_set *set); /* NULL is a no-op */

/* Adds a rule named @id (copied). Returns its index (>= 0), -EINVAL for an
 * empty id, no terms, an empty pattern or a regex that does not compile. */
int rules_add(struct rules_set *set, const char *id,
	      const struct rules_term *terms, size_t n_terms,
	      unsigned min_count, size_t proximity);

size_t rules_count(const struct rules_set *set);
/* The id of rule @idx, valid until rules_free(); NULL when out of range. */
const char *rules_id(const struct rules_set *set, unsigned idx);

/* Evaluates every rule on @doc; writes the indices of the rules that fired
 * to @hit (at most @max) and returns how many fired (capped at @max). */
int rules_eval(const struct rules_set *set, const struct text_doc *doc,
	       unsigned *hit, size_t max);
