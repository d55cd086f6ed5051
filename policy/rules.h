/* rules.h — custom content rules for the policy: keywords and regular
 * expressions with a minimum count and an optional proximity window.
 *
 * A rule fires when its terms match at least @min_count times in total over
 * the document (without proximity the terms are alternatives: a dictionary)
 * and, when @proximity > 0, some window of @proximity bytes also holds a
 * match of every term (all of them, near each other). Keywords match
 * case-insensitively (ASCII) on word boundaries; regexes are POSIX
 * extended (checked with libc regcomp), case-insensitive unless asked
 * otherwise. A term's matches are counted without overlap. Text of all
 * segments is searched; segments are separated for proximity purposes by
 * a gap of @proximity.
 *
 * Engine: all terms of all rules are compiled into one Vectorscan
 * database, so a document is scanned once however many rules there are.
 * When Vectorscan cannot take the set (the CPU lacks SSSE3, or a pattern
 * is valid POSIX but outside Vectorscan's dialect, e.g. a back-reference),
 * every term is searched on its own with regexec() instead, with the same
 * results.
 *
 * Building a rules_set is single-threaded: rules_add() every rule, then
 * rules_prepare(). Once prepared it is read-only and rules_eval() may run
 * from any number of threads at once. */
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

/* Compiles the rules (rules_add() refuses more afterwards). rules_eval()
 * calls it if nobody did; call it before entering a sandbox, since
 * compiling allocates freely. */
void rules_prepare(struct rules_set *set);
/* "vectorscan" or "regexec": which search rules_eval() uses (after
 * rules_prepare()). */
const char *rules_engine(const struct rules_set *set);

/* Evaluates every rule on @doc; writes the indices of the rules that fired
 * to @hit (at most @max) and returns how many fired (capped at @max). */
int rules_eval(const struct rules_set *set, const struct text_doc *doc,
	       unsigned *hit, size_t max);
