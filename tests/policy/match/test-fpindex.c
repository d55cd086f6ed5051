/* test-fpindex.c — the registered-document index: exact copies, reformatted
 * copies, excerpts pasted into larger text, short quotes, boilerplate shared
 * by the registered documents, the benign corpus, unrelated text on the
 * same topic, and the API's errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fpindex.h"
#include "harness.h"
#include "mem.h"
#include "prose.h"
#include "winnow.h"

#define NDOCS 10
#define DOC_WORDS 2500

static char *docs[NDOCS];
static size_t doc_len[NDOCS];
static char *boiler;
static size_t boiler_len;

static void
sha256(const char *s, size_t n, unsigned char md[32])
{
	unsigned l = 0;
	EVP_Digest(s, n, md, &l, EVP_sha256(), NULL);
}

static size_t
hashes_of(const char *s, size_t n, uint64_t **h)
{
	struct winnow_set set;
	winnow_text(s, n, NULL, &set);
	size_t m = winnow_set_hashes(&set, h);
	winnow_set_fini(&set);
	return m;
}

static void
add_doc(struct fpindex *idx, const char *id, const char *s, size_t n)
{
	unsigned char md[32];
	sha256(s, n, md);
	AUTOFREE uint64_t *h = NULL;
	size_t m = hashes_of(s, n, &h);
	int r = fpindex_add(idx, id, "NATO SECRET", md, h, m);
	if (r < 0) {
		th_ok(false, "add %s: %s", id, strerror(-r));
	}
}

/* Queries @s (with its SHA-256 when @with_sha); returns the match count and
 * fills @m. */
static int
query(const struct fpindex *idx, const char *s, size_t n, bool with_sha,
      struct fpindex_match *m, size_t max)
{
	unsigned char md[32];
	sha256(s, n, md);
	struct winnow_set set;
	winnow_text(s, n, NULL, &set);
	int r = fpindex_query(idx, with_sha ? md : NULL, set.fps, set.n, m, max);
	winnow_set_fini(&set);
	return r;
}

/* Words [a, b) of registered document @d, as a new string. */
static char *
words_of(int d, size_t a, size_t b)
{
	size_t x = prose_word_offset(docs[d], doc_len[d], a);
	size_t y = prose_word_offset(docs[d], doc_len[d], b);
	return lw_strndup(docs[d] + x, y - x);
}

/* @insert pasted in the middle of 3,000 words of unrelated prose. */
static char *
pasted(const char *insert)
{
	struct prose_buf b = {0};
	prose_append(&b, 5000, 1500);
	prose_puts(&b, insert);
	prose_puts(&b, "\n\n");
	prose_append(&b, 5001, 1500);
	return b.s;
}

static char *
upper_wrapped(const char *s)
{
	struct prose_buf b = {0};
	size_t col = 0;
	for (const char *p = s; *p; p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		if (c == '\n') {
			c = ' ';
		}
		if (c == ' ' && col > 60) {
			prose_puts(&b, "\n");
			col = 0;
			continue;
		}
		prose_put(&b, &c, 1);
		col++;
	}
	return b.s;
}

/* Every @step-th paragraph of document @d (a non-contiguous excerpt). */
static char *
paragraphs(int d, unsigned step, unsigned phase)
{
	struct prose_buf b = {0};
	const char *p = docs[d], *end = docs[d] + doc_len[d];
	unsigned i = 0;
	while (p < end) {
		const char *q = strstr(p, "\n\n");
		q = q ? q + 2 : end;
		if (i++ % step == phase) {
			prose_put(&b, p, (size_t)(q - p));
		}
		p = q;
	}
	return b.s;
}

/* Document @d's paragraphs in reverse order. */
static char *
reversed(int d)
{
	struct prose_buf b = {0};
	const char *end = docs[d] + doc_len[d];
	const char *q = end;
	while (q > docs[d]) {
		const char *p = q - 2;
		while (p > docs[d] && !(p[-1] == '\n' && p[-2] == '\n')) {
			p--;
		}
		prose_put(&b, p, (size_t)(q - p));
		q = p;
	}
	return b.s;
}

/* Document @d cut into 5-word chunks, reordered: the same vocabulary and
 * short phrases, no passage longer than ~30 characters in common. */
static char *
chunked(int d)
{
	struct prose_buf b = {0};
	size_t nw = DOC_WORDS / 5;
	for (size_t c = 0; c < nw; c++) {
		size_t k = (c * 37) % nw;
		AUTOFREE char *w = words_of(d, k * 5, k * 5 + 5);
		prose_puts(&b, w);
		prose_puts(&b, c % 7 == 6 ? ".\n\n" : " ");
	}
	return b.s;
}

struct row {
	const char *name;
	char *text;
	bool with_sha;
	const char *want; /* expected id, NULL: no match */
	enum classify_match_kind kind;
	double min_cov, max_cov;
};

static void
test_matching(void)
{
	struct fpindex *idx;
	th_inteq(fpindex_new(NULL, &idx), 0, "new");
	for (int i = 0; i < NDOCS; i++) {
		char id[16];
		snprintf(id, sizeof(id), "reg-%03d", i);
		add_doc(idx, id, docs[i], doc_len[i]);
	}
	struct fpindex_match m[CLASSIFY_MATCHES_MAX];
	th_inteq(query(idx, docs[0], doc_len[0], true, m, 16), -EAGAIN,
		 "query before finalize");
	th_inteq(fpindex_finalize(idx), 0, "finalize");
	struct fpindex_stats st;
	fpindex_get_stats(idx, &st);
	th_ok(st.boiler_df == 3 && st.dropped_boiler >= 20,
	      "boilerplate: df >= %u, %zu fingerprints dropped", st.boiler_df,
	      st.dropped_boiler);

	AUTOFREE char *w300 = words_of(5, 1000, 1300);
	AUTOFREE char *w500 = words_of(1, 200, 700);
	AUTOFREE char *w25 = words_of(6, 1000, 1025);
	AUTOFREE char *w100 = words_of(6, 500, 600);
	struct prose_buf other = {0};
	prose_append(&other, 7000, DOC_WORDS);
	AUTOFREE char *boiler_unrelated = pasted(boiler);

	struct row rows[] = {
		{"exact copy (same bytes)", lw_strdup(docs[3]), true, "reg-003",
		 CLASSIFY_MATCH_EXACT, 1.0, 1.0},
		{"full text, same bytes, no sha given", lw_strdup(docs[3]), false,
		 "reg-003", CLASSIFY_MATCH_PARTIAL, 0.99, 1.0},
		{"full text upper-cased and re-wrapped", upper_wrapped(docs[4]),
		 true, "reg-004", CLASSIFY_MATCH_PARTIAL, 0.99, 1.0},
		{"paragraphs in reverse order", reversed(8), true, "reg-008",
		 CLASSIFY_MATCH_PARTIAL, 0.8, 1.0},
		{"300 words pasted into 3,000 unrelated", pasted(w300), true,
		 "reg-005", CLASSIFY_MATCH_PARTIAL, 0.05, 0.2},
		{"500 words pasted into 3,000 unrelated", pasted(w500), true,
		 "reg-001", CLASSIFY_MATCH_PARTIAL, 0.1, 0.3},
		{"every 5th paragraph (20 %)", paragraphs(7, 5, 2), true,
		 "reg-007", CLASSIFY_MATCH_PARTIAL, 0.15, 0.3},
		{"one sentence (25 words) quoted", pasted(w25), true, NULL, 0, 0, 0},
		{"100 words quoted", pasted(w100), true, NULL, 0, 0, 0},
		{"the shared boilerplate alone", lw_strdup(boiler), true, NULL, 0,
		 0, 0},
		{"boilerplate in unrelated text", lw_strdup(boiler_unrelated), true,
		 NULL, 0, 0, 0},
		{"unrelated text, same vocabulary", lw_strdup(other.s), true, NULL,
		 0, 0, 0},
		{"same words and phrases, reordered in 5-word chunks", chunked(2),
		 true, NULL, 0, 0, 0},
	};
	free(other.s);
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		const struct row *rw = &rows[i];
		int n = query(idx, rw->text, strlen(rw->text), rw->with_sha, m, 16);
		if (!rw->want) {
			th_inteq(n, 0, "%s: no match%s%s", rw->name,
				 n > 0 ? ", got " : "", n > 0 ? m[0].id : "");
		} else {
			bool ok = n == 1 && !strcmp(m[0].id, rw->want) &&
				  m[0].kind == rw->kind &&
				  m[0].coverage >= rw->min_cov &&
				  m[0].coverage <= rw->max_cov;
			th_ok(ok, "%s: %s %s coverage %.3f (%d matches, %u/%u)",
			      rw->name, n > 0 ? m[0].id : "-",
			      n > 0 ? classify_match_kind_name(m[0].kind) : "-",
			      n > 0 ? m[0].coverage : 0.0, n,
			      n > 0 ? m[0].matched : 0, n > 0 ? m[0].total : 0);
		}
		free(rw->text);
	}

	/* removal */
	th_inteq(fpindex_remove(idx, "reg-003"), 0, "remove");
	th_inteq(fpindex_remove(idx, "reg-003"), -ENOENT, "remove twice");
	fpindex_finalize(idx);
	th_inteq(query(idx, docs[3], doc_len[3], true, m, 16), 0,
		 "removed document no longer matches");
	th_inteq((long long)fpindex_count(idx), NDOCS - 1, "count after remove");
	fpindex_free(idx);
}

static void
test_benign(void)
{
	/* Two registered documents share a disclaimer: too few to be
	 * boilerplate by document frequency; the benign corpus removes it. */
	struct fpindex *plain, *with_benign;
	fpindex_new(NULL, &plain);
	fpindex_new(NULL, &with_benign);
	for (int i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "doc-%d", i);
		add_doc(plain, id, docs[i], doc_len[i]);
		add_doc(with_benign, id, docs[i], doc_len[i]);
	}
	AUTOFREE uint64_t *h = NULL;
	size_t n = hashes_of(boiler, boiler_len, &h);
	fpindex_add_benign(with_benign, h, n);
	fpindex_finalize(plain);
	fpindex_finalize(with_benign);
	struct fpindex_match m[16];
	AUTOFREE char *t = pasted(boiler);
	th_inteq(query(plain, t, strlen(t), true, m, 16), 2,
		 "benign: a disclaimer shared by 2 of 2 documents matches both");
	th_inteq(query(with_benign, t, strlen(t), true, m, 16), 0,
		 "benign: the benign corpus suppresses it");
	struct fpindex_stats st;
	fpindex_get_stats(with_benign, &st);
	th_ok(st.dropped_benign > 20, "benign: %zu fingerprints dropped",
	      st.dropped_benign);
	AUTOFREE char *w = words_of(1, 100, 700);
	int r = query(with_benign, w, strlen(w), true, m, 16);
	th_ok(r == 1 && !strcmp(m[0].id, "doc-1"),
	      "benign: a real excerpt still matches");
	fpindex_free(plain);
	fpindex_free(with_benign);
}

static void
test_boiler_threshold(void)
{
	/* df threshold = max(3, ceil(5 % of documents)) */
	static const struct {
		unsigned docs, df;
		bool dropped;
	} rows[] = {
		{2, 2, false}, {10, 2, false}, {10, 3, true}, {60, 3, true},
		{100, 4, false}, {100, 5, true}, {1000, 49, false},
		{1000, 50, true},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		struct fpindex *idx;
		fpindex_new(NULL, &idx);
		for (unsigned d = 0; d < rows[i].docs; d++) {
			uint64_t h[2] = {UINT64_C(1000) + d, 7};
			char id[16];
			snprintf(id, sizeof(id), "d%u", d);
			fpindex_add(idx, id, NULL, NULL, h, d < rows[i].df ? 2 : 1);
		}
		fpindex_finalize(idx);
		struct fpindex_stats st;
		fpindex_get_stats(idx, &st);
		th_inteq((long long)st.dropped_boiler, rows[i].dropped,
			 "boilerplate threshold: %u of %u documents %s",
			 rows[i].df, rows[i].docs,
			 rows[i].dropped ? "dropped" : "kept");
		fpindex_free(idx);
	}
}

static void
test_errors(void)
{
	struct fpindex *idx;
	struct fpindex_options o;
	fpindex_options_default(&o);
	o.min_coverage = 2;
	th_inteq(fpindex_new(&o, &idx), -EINVAL, "bad options");
	fpindex_new(NULL, &idx);
	uint64_t h = 1;
	th_inteq(fpindex_add(idx, "a", NULL, NULL, &h, 1), 0, "add");
	th_inteq(fpindex_add(idx, "a", NULL, NULL, &h, 1), -EEXIST, "duplicate id");
	th_inteq(fpindex_add(idx, "", NULL, NULL, &h, 1), -EINVAL, "empty id");
	char longid[CLASSIFY_ID_MAX + 1];
	memset(longid, 'x', CLASSIFY_ID_MAX);
	longid[CLASSIFY_ID_MAX] = '\0';
	th_inteq(fpindex_add(idx, longid, NULL, NULL, &h, 1), -EINVAL, "long id");
	th_inteq(fpindex_add(idx, "empty", NULL, NULL, NULL, 0), 0,
		 "a document without fingerprints");
	fpindex_finalize(idx);
	struct fpindex_match m[2];
	struct winnow_fp fp = {1, 0};
	th_inteq(fpindex_query(idx, NULL, &fp, 1, m, 2), 0,
		 "one fingerprint is no match");
	fpindex_free(idx);
	fpindex_free(NULL);
}

int
main(void)
{
	struct prose_buf b = {0};
	prose_append(&b, 999, 300);
	boiler = b.s;
	boiler_len = b.len;
	for (int i = 0; i < NDOCS; i++) {
		struct prose_buf d = {0};
		prose_puts(&d, "Exercise report\n\n");
		prose_append(&d, 100 + (uint64_t)i, DOC_WORDS);
		prose_puts(&d, "DISTRIBUTION AND HANDLING\n\n");
		prose_puts(&d, boiler);
		docs[i] = d.s;
		doc_len[i] = d.len;
	}
	test_matching();
	test_benign();
	test_boiler_threshold();
	test_errors();
	for (int i = 0; i < NDOCS; i++) {
		free(docs[i]);
	}
	free(boiler);
	return th_done();
}
