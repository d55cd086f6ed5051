/* rules.c — keyword/regex rules with counts and proximity (see rules.h).
 *
 * Owns the compiled rules. Every term of every rule goes into one
 * Vectorscan database, so a document is scanned once whatever the number
 * of rules and terms; each match is then credited to its rule. Where
 * Vectorscan cannot take the set (a CPU without SSSE3, or a POSIX pattern
 * outside its dialect, such as a back-reference), each term is searched
 * on its own with libc's regexec() and a literal matcher: same results,
 * one pass per term. */
#include "rules.h"

#include <errno.h>
#include <hs.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
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

/* Where a Vectorscan pattern id points: rule and term. */
struct term_ref {
	unsigned rule, term;
};

struct rules_set {
	struct rule *rules;
	size_t n, cap;
	/* rules_prepare(): the database of every term, or NULL (the per-term
	 * search). Built once; rules_eval() prepares a set that was not. */
	pthread_mutex_t lock;
	bool prepared;
	hs_database_t *db;
	hs_scratch_t *scratch; /* used under scratch_lock; others clone it */
	pthread_mutex_t scratch_lock;
	struct term_ref *refs;
};

struct rules_set *
rules_new(void)
{
	struct rules_set *set = lw_new(struct rules_set, 1);
	pthread_mutex_init(&set->lock, NULL);
	pthread_mutex_init(&set->scratch_lock, NULL);
	return set;
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
	hs_free_scratch(set->scratch);
	hs_free_database(set->db);
	free(set->refs);
	pthread_mutex_destroy(&set->lock);
	pthread_mutex_destroy(&set->scratch_lock);
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
	if (set->prepared) {
		rule_fini(&r);
		return -EINVAL; /* a caller bug: add everything, then prepare */
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

/* A keyword or a POSIX ERE as a Vectorscan pattern. Keywords become
 * escaped literals (word boundaries are checked on each match, as
 * find_keyword does). Regexes keep their text: the two dialects agree on
 * ERE; where they do not, compiling fails and the set falls back. */
static char *
hs_pattern(const struct term *t)
{
	if (t->regex) {
		return lw_strdup(t->pattern);
	}
	char *p = lw_malloc(t->len * 4 + 1);
	size_t k = 0;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->pattern[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			p[k++] = (char)c;
		} else {
			k += (size_t)snprintf(p + k, 5, "\\x%02x", c);
		}
	}
	p[k] = '\0';
	return p;
}

/* Builds the database; NULL in set->db when Vectorscan cannot take it. */
static void
prepare_locked(struct rules_set *set)
{
	set->prepared = true;
	size_t n = 0;
	for (size_t ri = 0; ri < set->n; ri++) {
		n += set->rules[ri].n_terms;
	}
	if (n == 0 || hs_valid_platform() != HS_SUCCESS) {
		return;
	}
	char **pats = lw_new(char *, n);
	unsigned *flags = lw_new(unsigned, n), *ids = lw_new(unsigned, n);
	set->refs = lw_new(struct term_ref, n);
	size_t k = 0;
	for (size_t ri = 0; ri < set->n; ri++) {
		const struct rule *r = &set->rules[ri];
		for (size_t ti = 0; ti < r->n_terms; ti++, k++) {
			const struct term *t = &r->terms[ti];
			pats[k] = hs_pattern(t);
			/* leftmost starts, for counting and proximity; '.' takes
			 * a newline as in regexec() without REG_NEWLINE */
			flags[k] = HS_FLAG_SOM_LEFTMOST | HS_FLAG_DOTALL |
				   (t->cs ? 0 : HS_FLAG_CASELESS);
			ids[k] = (unsigned)k;
			set->refs[k] = (struct term_ref){(unsigned)ri, (unsigned)ti};
		}
	}
	hs_compile_error_t *err = NULL;
	if (hs_compile_multi((const char *const *)pats, flags, ids, (unsigned)n, HS_MODE_BLOCK,
			     NULL, &set->db, &err) != HS_SUCCESS) {
		hs_free_compile_error(err);
		set->db = NULL;
	} else if (hs_alloc_scratch(set->db, &set->scratch) != HS_SUCCESS) {
		hs_free_database(set->db);
		set->db = NULL;
	}
	if (!set->db) {
		free(set->refs);
		set->refs = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		free(pats[i]);
	}
	free(pats);
	free(flags);
	free(ids);
}

void
rules_prepare(struct rules_set *set)
{
	pthread_mutex_lock(&set->lock);
	if (!set->prepared) {
		prepare_locked(set);
	}
	pthread_mutex_unlock(&set->lock);
}

const char *
rules_engine(const struct rules_set *set)
{
	return set->db ? "vectorscan" : "regexec";
}

/* One segment's scan: where its text is, and where it sits for each
 * rule's proximity (segments are apart by that rule's window). */
struct scan_ctx {
	const struct rules_set *set;
	const char *s;
	size_t n;
	size_t seg_index, seg_start; /* bytes of the segments before */
	struct hits *hits;           /* one per rule */
	size_t *last_end;            /* per term: where its last counted match ended */
	size_t *term_base;           /* per rule: index of its first term */
};

static int
on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
	 void *ctx)
{
	struct scan_ctx *c = ctx;
	const struct term_ref *ref = &c->set->refs[id];
	const struct rule *r = &c->set->rules[ref->rule];
	const struct term *t = &r->terms[ref->term];
	size_t *last = &c->last_end[c->term_base[ref->rule] + ref->term];
	/* matches of a term are counted without overlap, as the per-term
	 * search does; Vectorscan reports them by end */
	if (from < *last) {
		return 0;
	}
	if (!t->regex) {
		const char *s = c->s;
		size_t i = (size_t)from, k = t->len;
		if ((i > 0 && word_char(s[i - 1]) && word_char(t->pattern[0])) ||
		    (i + k < c->n && word_char(s[i + k]) && word_char(t->pattern[k - 1]))) {
			return 0;
		}
	}
	*last = to > from ? (size_t)to : (size_t)from + 1;
	size_t base = c->seg_start + c->seg_index * (r->proximity + 1);
	hit_add(&c->hits[ref->rule], base + (size_t)from, ref->term);
	return 0;
}

/* Every rule's hits in one scan of each segment. */
static void
collect_hits_db(const struct rules_set *set, const struct text_doc *doc, struct hits *hits)
{
	size_t nterms = 0;
	AUTOFREE size_t *term_base = lw_new(size_t, set->n);
	for (size_t ri = 0; ri < set->n; ri++) {
		term_base[ri] = nterms;
		nterms += set->rules[ri].n_terms;
	}
	AUTOFREE size_t *last_end = lw_new(size_t, nterms);
	struct rules_set *mset = (struct rules_set *)set; /* the scratch only */
	hs_scratch_t *scratch = NULL;
	bool own = pthread_mutex_trylock(&mset->scratch_lock) == 0;
	if (own) {
		scratch = set->scratch;
	} else if (hs_clone_scratch(set->scratch, &scratch) != HS_SUCCESS) {
		abort(); /* out of memory, as lw_malloc would */
	}
	struct scan_ctx c = {.set = set, .hits = hits, .last_end = last_end,
			     .term_base = term_base};
	for (size_t si = 0; si < text_doc_count(doc); si++) {
		const struct text_segment *seg = text_doc_segment(doc, si);
		memset(last_end, 0, nterms * sizeof(*last_end));
		c.s = seg->text;
		c.n = seg->len;
		c.seg_index = si;
		if (seg->len > 0 && seg->len <= UINT32_MAX) {
			hs_scan(set->db, seg->text, (unsigned)seg->len, 0, scratch, on_match, &c);
		}
		c.seg_start += seg->len;
	}
	if (own) {
		pthread_mutex_unlock(&mset->scratch_lock);
	} else {
		hs_free_scratch(scratch);
	}
}

/* The same, one pass per term. */
static void
collect_hits_each(const struct rules_set *set, const struct text_doc *doc, struct hits *hits)
{
	for (size_t ri = 0; ri < set->n; ri++) {
		const struct rule *r = &set->rules[ri];
		size_t base = 0;
		for (size_t si = 0; si < text_doc_count(doc); si++) {
			const struct text_segment *seg = text_doc_segment(doc, si);
			for (size_t ti = 0; ti < r->n_terms; ti++) {
				const struct term *t = &r->terms[ti];
				if (t->regex) {
					find_regex(t, (unsigned)ti, seg->text, seg->len, base,
						   &hits[ri]);
				} else {
					find_keyword(t, (unsigned)ti, seg->text, seg->len, base,
						     &hits[ri]);
				}
			}
			base += seg->len + r->proximity + 1;
		}
	}
}

int
rules_eval(const struct rules_set *set, const struct text_doc *doc,
	   unsigned *hit, size_t max)
{
	if (set->n == 0) {
		return 0;
	}
	/* built once, under the lock, by whichever call comes first */
	rules_prepare((struct rules_set *)set);
	struct hits *hits = lw_new(struct hits, set->n);
	if (set->db) {
		collect_hits_db(set, doc, hits);
	} else {
		collect_hits_each(set, doc, hits);
	}
	size_t fired = 0;
	for (size_t ri = 0; ri < set->n; ri++) {
		const struct rule *r = &set->rules[ri];
		bool ok = hits[ri].total >= r->min_count;
		if (ok && r->proximity > 0) {
			ok = window_ok(&hits[ri], r->n_terms, r->proximity);
		}
		free(hits[ri].h);
		if (ok && fired < max) {
			hit[fired++] = (unsigned)ri;
		}
	}
	free(hits);
	return (int)fired;
}
