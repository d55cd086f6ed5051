/* fpindex.c — registered-document index and matching (fpindex.h).
 *
 * Layout after fpindex_finalize(): an open-addressing hash table (linear
 * probing, load <= 1/2) from fingerprint hash to a slice of one postings
 * array of document numbers, and a sorted array of (SHA-256, document) for
 * exact copies. Fingerprint hashes are already mixed 64-bit values
 * (winnow.c), so their low bits index the table directly.
 *
 * Parameter choices (defaults in fpindex_options_default()):
 *
 *  - Boilerplate: a fingerprint is dropped when at least
 *    max(3, ceil(5 % of the documents)) registered documents share it.
 *    A passage repeated in a large share of the registered documents is a
 *    template, a distribution/handling notice or a disclaimer; matching it
 *    would report every one of those documents at once. The share is low
 *    enough to catch templates used by one department of a large
 *    registry (250 documents of 5,000), and the floor of 3 keeps paragraphs
 *    shared by two related documents (a report and its summary), which are
 *    real content. The research note (detection.md 4.2) measured that a
 *    df >= 3 cut in a 400-document corpus lost genuine excerpts; at that
 *    size this rule cuts at 20. Boilerplate below the cut is what the benign
 *    corpus is for.
 *
 *  - Runs: inside a copied passage every window of w consecutive k-grams
 *    selects a fingerprint, the same one in both documents, so consecutive
 *    hits are at most w characters apart (w + k at a paragraph seam of a
 *    reordered copy). A gap allowance of 2 w also bridges one fingerprint
 *    lost to boilerplate or benign dropping. Requiring two hits per run
 *    discards isolated 50-character phrases shared by documents written on
 *    the same topic, which are the main source of false hits.
 *
 *  - "About 300 words pasted into something larger": the prose of the
 *    development corpus has 5.6 normalised characters (letters and digits)
 *    per word, so 300 words are ~1,700 normalised characters. Winnowing
 *    selects 2 / (w + 1) of the k-grams, and the k-grams whose windows lie
 *    wholly inside the passage number 1,700 - k - w + 2 = 1,552 at k = 50,
 *    w = 100: ~31 fingerprints expected. Measured (match-bench --sweep over
 *    the 12 development documents, 200 random excerpts per length pasted
 *    into an unrelated document on the same topics): 300 words give 23-38
 *    in-run hits (mean 31.5), 200 words 16-30 (20.3), 150 words 9-22
 *    (15.4), 100 words 6-16 (9.9), one sentence of 25 words 0-5 (1.0).
 *    The default minimum of 18 is ~170 words expected: every 300-word
 *    excerpt is found with a margin of 5 hits, 87 % of 200-word ones,
 *    18 % of 150-word ones, and no quote of a sentence or a short
 *    paragraph.
 *
 *  - min_fps 6: the 15 % rule alone would let a one-sentence quote (up to 5
 *    hits) match a short registered document; 6 in-run hits is about 60
 *    contiguous words at least, a paragraph.
 *
 * Threads: building and finalising need exclusive access; fpindex_query()
 * only reads the index and keeps its scratch on the heap per call. */
#include "fpindex.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "mem.h"

struct doc {
	char *id;
	char *label;
	unsigned char sha[FPINDEX_SHA256_LEN];
	bool has_sha;
	uint64_t *h; /* distinct hashes, sorted */
	size_t n;
	uint32_t total; /* kept after finalisation */
};

struct slot {
	uint64_t hash;
	uint32_t start; /* into postings */
	uint32_t count; /* 0: empty slot */
};

struct sha_ent {
	unsigned char sha[FPINDEX_SHA256_LEN];
	uint32_t doc;
};

struct fpindex {
	struct fpindex_options opt;
	struct doc *docs;
	size_t ndocs, capdocs;
	uint64_t *benign;
	size_t nbenign, capbenign;
	bool final;
	struct slot *table;
	size_t mask;
	uint32_t *postings;
	struct sha_ent *shas;
	size_t nshas;
	struct fpindex_stats stats;
};

void
fpindex_options_default(struct fpindex_options *opt)
{
	*opt = (struct fpindex_options){
		.boiler_share = 0.05,
		.boiler_min_docs = 3,
		.min_coverage = 0.15,
		.min_excerpt_fps = 18,
		.min_fps = 6,
		.min_run = 2,
	};
	winnow_params_default(&opt->winnow);
}

int
fpindex_new(const struct fpindex_options *opt, struct fpindex **out)
{
	struct fpindex_options o;
	if (opt) {
		o = *opt;
	} else {
		fpindex_options_default(&o);
	}
	if (o.winnow.k < 8 || o.winnow.k > 1024 || o.winnow.w < 1 ||
	    o.winnow.w > 4096 || !(o.boiler_share >= 0 && o.boiler_share <= 1) ||
	    !(o.min_coverage >= 0 && o.min_coverage <= 1) || o.min_run < 1) {
		return -EINVAL;
	}
	struct fpindex *idx = lw_new(struct fpindex, 1);
	idx->opt = o;
	*out = idx;
	return 0;
}

static void
lookup_free(struct fpindex *idx)
{
	free(idx->table);
	free(idx->postings);
	free(idx->shas);
	idx->table = NULL;
	idx->postings = NULL;
	idx->shas = NULL;
	idx->nshas = 0;
	idx->mask = 0;
	idx->final = false;
}

void
fpindex_free(struct fpindex *idx)
{
	if (!idx) {
		return;
	}
	for (size_t i = 0; i < idx->ndocs; i++) {
		free(idx->docs[i].id);
		free(idx->docs[i].label);
		free(idx->docs[i].h);
	}
	free(idx->docs);
	free(idx->benign);
	lookup_free(idx);
	free(idx);
}

const struct winnow_params *
fpindex_winnow_params(const struct fpindex *idx)
{
	return &idx->opt.winnow;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and de-duplicates @h in place; returns the new count. */
static size_t
sort_unique(uint64_t *h, size_t n)
{
	if (n < 2) {
		return n;
	}
	qsort(h, n, sizeof(*h), cmp_u64);
	size_t m = 1;
	for (size_t i = 1; i < n; i++) {
		if (h[i] != h[m - 1]) {
			h[m++] = h[i];
		}
	}
	return m;
}

static ssize_t
doc_find(const struct fpindex *idx, const char *id)
{
	for (size_t i = 0; i < idx->ndocs; i++) {
		if (!strcmp(idx->docs[i].id, id)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

int
fpindex_add(struct fpindex *idx, const char *id, const char *label,
	    const unsigned char *sha256, const uint64_t *fps, size_t n)
{
	if (!id || !*id || strlen(id) >= CLASSIFY_ID_MAX) {
		return -EINVAL;
	}
	if (doc_find(idx, id) >= 0) {
		return -EEXIST;
	}
	if (idx->ndocs == idx->capdocs) {
		idx->capdocs = idx->capdocs ? idx->capdocs * 2 : 16;
		idx->docs = lw_realloc(idx->docs,
				       idx->capdocs * sizeof(*idx->docs));
	}
	struct doc *d = &idx->docs[idx->ndocs++];
	*d = (struct doc){
		.id = lw_strdup(id),
		.label = lw_strdup(label ? label : ""),
	};
	if (sha256) {
		memcpy(d->sha, sha256, FPINDEX_SHA256_LEN);
		d->has_sha = true;
	}
	if (n) {
		d->h = lw_new(uint64_t, n);
		memcpy(d->h, fps, n * sizeof(*fps));
		d->n = sort_unique(d->h, n);
	}
	lookup_free(idx);
	return 0;
}

int
fpindex_add_benign(struct fpindex *idx, const uint64_t *fps, size_t n)
{
	if (!n) {
		return 0;
	}
	if (idx->nbenign + n > idx->capbenign) {
		idx->capbenign = (idx->nbenign + n) * 2;
		idx->benign = lw_realloc(idx->benign,
					 idx->capbenign * sizeof(*idx->benign));
	}
	memcpy(idx->benign + idx->nbenign, fps, n * sizeof(*fps));
	idx->nbenign += n;
	lookup_free(idx);
	return 0;
}

int
fpindex_remove(struct fpindex *idx, const char *id)
{
	ssize_t i = doc_find(idx, id);
	if (i < 0) {
		return -ENOENT;
	}
	struct doc *d = &idx->docs[i];
	free(d->id);
	free(d->label);
	free(d->h);
	memmove(d, d + 1, (idx->ndocs - (size_t)i - 1) * sizeof(*d));
	idx->ndocs--;
	lookup_free(idx);
	return 0;
}

struct pair {
	uint64_t hash;
	uint32_t doc;
};

static int
cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->hash != y->hash) {
		return x->hash < y->hash ? -1 : 1;
	}
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static int
cmp_sha(const void *a, const void *b)
{
	const struct sha_ent *x = a, *y = b;
	int c = memcmp(x->sha, y->sha, FPINDEX_SHA256_LEN);
	if (c) {
		return c;
	}
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

int
fpindex_finalize(struct fpindex *idx)
{
	lookup_free(idx);
	idx->nbenign = sort_unique(idx->benign, idx->nbenign);
	struct fpindex_stats st = {.docs = idx->ndocs};

	size_t npairs = 0;
	for (size_t i = 0; i < idx->ndocs; i++) {
		npairs += idx->docs[i].n;
		idx->docs[i].total = 0;
	}
	AUTOFREE struct pair *pairs = lw_new(struct pair, npairs ? npairs : 1);
	size_t p = 0;
	for (size_t i = 0; i < idx->ndocs; i++) {
		for (size_t j = 0; j < idx->docs[i].n; j++) {
			pairs[p++] = (struct pair){idx->docs[i].h[j], (uint32_t)i};
		}
	}
	qsort(pairs, npairs, sizeof(*pairs), cmp_pair);

	/* the epsilon keeps 0.05 * 60 (3.0000000000000004) at 3 */
	double t = ceil(idx->opt.boiler_share * (double)idx->ndocs - 1e-9);
	unsigned thr = idx->opt.boiler_min_docs;
	if (t > (double)thr) {
		thr = t > (double)UINT32_MAX ? UINT32_MAX : (unsigned)t;
	}
	if (thr < 1) {
		thr = 1;
	}
	st.boiler_df = thr;

	/* count distinct kept hashes first, to size the table */
	size_t distinct = 0, b = 0;
	for (size_t i = 0; i < npairs;) {
		size_t j = i + 1;
		while (j < npairs && pairs[j].hash == pairs[i].hash) {
			j++;
		}
		while (b < idx->nbenign && idx->benign[b] < pairs[i].hash) {
			b++;
		}
		bool benign = b < idx->nbenign && idx->benign[b] == pairs[i].hash;
		if (benign) {
			st.dropped_benign++;
			pairs[i].doc = UINT32_MAX; /* mark the group dropped */
		} else if (j - i >= thr) {
			st.dropped_boiler++;
			pairs[i].doc = UINT32_MAX;
		} else {
			distinct++;
		}
		i = j;
	}
	size_t cap = 16;
	while (cap < distinct * 2) {
		cap *= 2;
	}
	idx->table = lw_new(struct slot, cap);
	idx->mask = cap - 1;
	idx->postings = lw_new(uint32_t, npairs ? npairs : 1);
	size_t np = 0;
	for (size_t i = 0; i < npairs;) {
		size_t j = i + 1;
		while (j < npairs && pairs[j].hash == pairs[i].hash) {
			j++;
		}
		if (pairs[i].doc != UINT32_MAX) {
			size_t s = (size_t)pairs[i].hash & idx->mask;
			while (idx->table[s].count) {
				s = (s + 1) & idx->mask;
			}
			idx->table[s] = (struct slot){
				.hash = pairs[i].hash,
				.start = (uint32_t)np,
				.count = (uint32_t)(j - i),
			};
			for (size_t q = i; q < j; q++) {
				idx->postings[np++] = pairs[q].doc;
				idx->docs[pairs[q].doc].total++;
			}
		}
		i = j;
	}
	st.distinct = distinct;
	st.postings = np;

	idx->shas = lw_new(struct sha_ent, idx->ndocs ? idx->ndocs : 1);
	for (size_t i = 0; i < idx->ndocs; i++) {
		if (idx->docs[i].has_sha) {
			struct sha_ent *e = &idx->shas[idx->nshas++];
			memcpy(e->sha, idx->docs[i].sha, FPINDEX_SHA256_LEN);
			e->doc = (uint32_t)i;
		}
	}
	qsort(idx->shas, idx->nshas, sizeof(*idx->shas), cmp_sha);
	idx->stats = st;
	idx->final = true;
	return 0;
}

size_t
fpindex_count(const struct fpindex *idx)
{
	return idx->ndocs;
}

void
fpindex_get_stats(const struct fpindex *idx, struct fpindex_stats *st)
{
	*st = idx->stats;
	st->docs = idx->ndocs;
}

static const struct slot *
lookup(const struct fpindex *idx, uint64_t h)
{
	size_t s = (size_t)h & idx->mask;
	for (;;) {
		const struct slot *sl = &idx->table[s];
		if (!sl->count) {
			return NULL;
		}
		if (sl->hash == h) {
			return sl;
		}
		s = (s + 1) & idx->mask;
	}
}

struct hit {
	uint32_t doc;
	uint32_t pos;
	uint64_t hash;
};

static int
cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->doc != y->doc) {
		return x->doc < y->doc ? -1 : 1;
	}
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

struct cand {
	uint32_t doc;
	enum classify_match_kind kind;
	double coverage;
	uint32_t matched, hits;
};

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->kind != y->kind) {
		return x->kind == CLASSIFY_MATCH_EXACT ? -1 : 1;
	}
	if (x->coverage != y->coverage) {
		return x->coverage > y->coverage ? -1 : 1;
	}
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static void
cand_push(struct cand **c, size_t *n, size_t *cap, struct cand v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*c = lw_realloc(*c, *cap * sizeof(**c));
	}
	(*c)[(*n)++] = v;
}

/* Scores one document's hits (sorted by position): distinct hashes hit at
 * all, and distinct hashes hit inside runs. @tmp holds n entries. */
static void
score_doc(const struct fpindex *idx, const struct hit *h, size_t n,
	  uint64_t *tmp, uint32_t *all_out, uint32_t *run_out)
{
	uint32_t gap = 2 * idx->opt.winnow.w;
	for (size_t i = 0; i < n; i++) {
		tmp[i] = h[i].hash;
	}
	*all_out = (uint32_t)sort_unique(tmp, n);
	size_t m = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && h[j].pos - h[j - 1].pos <= gap) {
			j++;
		}
		if (j - i >= idx->opt.min_run) {
			for (size_t q = i; q < j; q++) {
				tmp[m++] = h[q].hash;
			}
		}
		i = j;
	}
	*run_out = (uint32_t)sort_unique(tmp, m);
}

int
fpindex_query(const struct fpindex *idx, const unsigned char *sha256,
	      const struct winnow_fp *fps, size_t n, struct fpindex_match *out,
	      size_t max)
{
	if (!idx->final) {
		return -EAGAIN;
	}
	AUTOFREE struct cand *cands = NULL;
	size_t ncand = 0, capcand = 0;

	if (sha256 && idx->nshas) {
		struct sha_ent key = {.doc = 0};
		memcpy(key.sha, sha256, FPINDEX_SHA256_LEN);
		/* lower bound */
		size_t lo = 0, hi = idx->nshas;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (cmp_sha(&idx->shas[mid], &key) < 0) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		for (; lo < idx->nshas &&
		       !memcmp(idx->shas[lo].sha, sha256, FPINDEX_SHA256_LEN);
		     lo++) {
			uint32_t d = idx->shas[lo].doc;
			cand_push(&cands, &ncand, &capcand,
				  (struct cand){d, CLASSIFY_MATCH_EXACT, 1.0,
						idx->docs[d].total,
						idx->docs[d].total});
		}
	}

	AUTOFREE struct hit *hits = NULL;
	size_t nhits = 0, caphits = 0;
	for (size_t i = 0; i < n; i++) {
		const struct slot *sl = lookup(idx, fps[i].hash);
		if (!sl) {
			continue;
		}
		if (nhits + sl->count > caphits) {
			caphits = (nhits + sl->count) * 2;
			hits = lw_realloc(hits, caphits * sizeof(*hits));
		}
		for (uint32_t j = 0; j < sl->count; j++) {
			hits[nhits++] = (struct hit){
				.doc = idx->postings[sl->start + j],
				.pos = fps[i].pos,
				.hash = fps[i].hash,
			};
		}
	}
	if (nhits) {
		qsort(hits, nhits, sizeof(*hits), cmp_hit);
	}
	AUTOFREE uint64_t *tmp = lw_new(uint64_t, nhits ? nhits : 1);
	for (size_t i = 0; i < nhits;) {
		size_t j = i + 1;
		while (j < nhits && hits[j].doc == hits[i].doc) {
			j++;
		}
		uint32_t d = hits[i].doc, all, run;
		score_doc(idx, hits + i, j - i, tmp, &all, &run);
		uint32_t total = idx->docs[d].total;
		double cov = total ? (double)run / total : 0;
		if (cov > 1) {
			cov = 1;
		}
		if (run >= idx->opt.min_fps &&
		    (cov >= idx->opt.min_coverage ||
		     run >= idx->opt.min_excerpt_fps)) {
			bool dup = false;
			for (size_t c = 0; c < ncand; c++) {
				if (cands[c].doc == d) {
					/* exact already: keep it, note counts */
					cands[c].matched = run;
					cands[c].hits = all;
					dup = true;
				}
			}
			if (!dup) {
				cand_push(&cands, &ncand, &capcand,
					  (struct cand){d, CLASSIFY_MATCH_PARTIAL,
							cov, run, all});
			}
		}
		i = j;
	}
	if (ncand > 1) {
		qsort(cands, ncand, sizeof(*cands), cmp_cand);
	}
	for (size_t c = 0; c < ncand && c < max; c++) {
		const struct doc *d = &idx->docs[cands[c].doc];
		out[c] = (struct fpindex_match){
			.id = d->id,
			.label = d->label,
			.kind = cands[c].kind,
			.coverage = cands[c].coverage,
			.matched = cands[c].matched,
			.hits = cands[c].hits,
			.total = d->total,
		};
	}
	return ncand > INT32_MAX ? INT32_MAX : (int)ncand;
}
