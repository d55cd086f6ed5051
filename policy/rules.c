/* rules.c — keyword/regex rules with counts and proximity (see rules.h).
 *
 * Owns the compiled rules. Matching is per term, one pass per term over the
 * text; fine for a handful of administrator rules. A large rule pack would
 * want a multi-pattern engine (Vectorscan) instead; see the report in
 * policy/README.md. */
#include "rules.h"

#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Hits kept per term and rule evaluation; more are only counted. */
#define HITS_MAX 4096

struct term {
	char *pattern;
	size_t len;
	bool regex, cs;
	regex_t re;
};

struct rule {
	char *id;
	struct term *terms;
	size_t n_terms;
	unsigned min_count;
	size_t proximity;
};

struct rules_set {
	struct rule *rules;
	size_t n, cap;
};

struct rules_set *
rules_new(void)
{
	return lw_new(struct rules_set, 1);
}

static void
rule_fini(struct rule *r)
{
	for (size_t i = 0; i < r->n_terms; i++) {
		if (r->terms[i].regex) {
			regfree(&r->terms[i].re);
		}
		free(r->terms[i].pattern);
	}
	free(r->terms);
	free(r->id);
}

void
rules_free(struct rules_set *set)
{
	if (!set) {
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		rule_fini(&set->rules[i]);
	}
	free(set->rules);
	free(set);
}

int
rules_add(struct rules_set *set, const char *id, const struct rules_term *terms,
	  size_t n_terms, unsigned min_count, size_t proximity)
{
	if (!id || !*id || !terms || n_terms == 0) {
		return -EINVAL;
	}
	struct rule r = {
		.terms = lw_new(struct term, n_terms),
		.min_count = min_count ? min_count : 1,
		.proximity = proximity,
	};
	for (size_t i = 0; i < n_terms; i++) {
		struct term *t = &r.terms[i];
		if (!terms[i].pattern || !*terms[i].pattern) {
			rule_fini(&r);
			return -EINVAL;
		}
		t->regex = terms[i].regex;
		t->cs = terms[i].case_sensitive;
		if (t->regex) {
			int fl = REG_EXTENDED | (t->cs ? 0 : REG_ICASE);
			if (regcomp(&t->re, terms[i].pattern, fl) != 0) {
				t->regex = false; /* nothing to regfree */
				rule_fini(&r);
				return -EINVAL;
			}
		}
		t->pattern = lw_strdup(terms[i].pattern);
		t->len = strlen(t->pattern);
		r.n_terms = i + 1;
	}
	r.id = lw_strdup(id);
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->rules = lw_realloc(set->rules, set->cap * sizeof(*set->rules));
	}
	set->rules[set->n] = r;
	return (int)set->n++;
}

size_t
rules_count(const struct rules_set *set)
{
	return set->n;
}

const char *
rules_id(const struct rules_set *set, unsigned idx)
{
	return idx < set->n ? set->rules[idx].id : NULL;
}

struct hit {
	size_t pos;
	unsigned term;
};

struct hits {
	struct hit *h;
	size_t n, cap;
	unsigned long total;
};

static void
hit_add(struct hits *hs, size_t pos, unsigned term)
{
	hs->total++;
	if (hs->n == HITS_MAX) {
		return;
	}
	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? hs->cap * 2 : 64;
		hs->h = lw_realloc(hs->h, hs->cap * sizeof(*hs->h));
	}
	hs->h[hs->n++] = (struct hit){pos, term};
}

static bool
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || (unsigned char)c >= 0x80;
}

static char
low(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static void
find_keyword(const struct term *t, unsigned ti, const char *s, size_t n,
	     size_t base, struct hits *hs)
{
	size_t k = t->len;
	if (k > n) {
		return;
	}
	char f = low(t->pattern[0]);
	for (size_t i = 0; i + k <= n; i++) {
		if (low(s[i]) != f) {
			continue;
		}
		size_t j = 1;
		if (t->cs) {
			while (j < k && s[i + j] == t->pattern[j]) {
				j++;
			}
			if (s[i] != t->pattern[0]) {
				continue;
			}
		} else {
			while (j < k && low(s[i + j]) == low(t->pattern[j])) {
				j++;
			}
		}
		if (j < k) {
			continue;
		}
		if ((i > 0 && word_char(s[i - 1]) && word_char(t->pattern[0])) ||
		    (i + k < n && word_char(s[i + k]) &&
		     word_char(t->pattern[k - 1]))) {
			continue;
		}
		hit_add(hs, base + i, ti);
		i += k - 1;
	}
}

static void
find_regex(const struct term *t, unsigned ti, const char *s, size_t n,
	   size_t base, struct hits *hs)
{
	/* REG_STARTEND (glibc, the BSDs): the segment need not be
	 * NUL-terminated (text_doc_add_borrowed); offsets are from @s. */
	size_t off = 0;
	int flags = REG_STARTEND;
	while (off <= n && hs->total < HITS_MAX * 4) {
		regmatch_t m = {.rm_so = (regoff_t)off, .rm_eo = (regoff_t)n};
		if (regexec(&t->re, s, 1, &m, flags) != 0) {
			return;
		}
		hit_add(hs, base + (size_t)m.rm_so, ti);
		off = (size_t)(m.rm_eo > m.rm_so ? m.rm_eo : m.rm_so + 1);
		flags = REG_STARTEND | REG_NOTBOL;
	}
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Some window of @prox bytes holding a hit of each of @n_terms terms? */
static bool
window_ok(struct hits *hs, size_t n_terms, size_t prox)
{
	if (n_terms <= 1) {
		return hs->n > 0;
	}
	qsort(hs->h, hs->n, sizeof(*hs->h), cmp_hit);
	AUTOFREE unsigned *inwin = lw_new(unsigned, n_terms);
	size_t have = 0, lo = 0;
	for (size_t hi = 0; hi < hs->n; hi++) {
		if (inwin[hs->h[hi].term]++ == 0) {
			have++;
		}
		while (hs->h[hi].pos - hs->h[lo].pos > prox) {
			if (--inwin[hs->h[lo].term] == 0) {
				have--;
			}
			lo++;
		}
		if (have == n_terms) {
			return true;
		}
	}
	return false;
}

int
rules_eval(const struct rules_set *set, const struct text_doc *doc,
	   unsigned *hit, size_t max)
{
	size_t fired = 0;
	for (size_t ri = 0; ri < set->n && fired < max; ri++) {
		const struct rule *r = &set->rules[ri];
		struct hits hs = {0};
		size_t base = 0;
		for (size_t si = 0; si < text_doc_count(doc); si++) {
			const struct text_segment *seg = text_doc_segment(doc, si);
			for (size_t ti = 0; ti < r->n_terms; ti++) {
				const struct term *t = &r->terms[ti];
				if (t->regex) {
					find_regex(t, (unsigned)ti, seg->text,
						   seg->len, base, &hs);
				} else {
					find_keyword(t, (unsigned)ti, seg->text,
						     seg->len, base, &hs);
				}
			}
			base += seg->len + r->proximity + 1;
		}
		bool ok = hs.total >= r->min_count;
		if (ok && r->proximity > 0) {
			ok = window_ok(&hs, r->n_terms, r->proximity);
		}
		free(hs.h);
		if (ok) {
			hit[fired++] = (unsigned)ri;
		}
	}
	return (int)fired;
}
