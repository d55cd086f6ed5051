/* test-winnow.c — normalisation and winnowing: what must not change the
 * fingerprints (case, punctuation, wrapping, hyphenation, Unicode forms,
 * markings, headers), the winnowing guarantees, bounds and the storage
 * format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mem.h"
#include "prose.h"
#include "text.h"
#include "winnow.h"

static const struct {
	const char *name, *in, *want;
} norm_rows[] = {
	{"ascii case and punctuation", "Hello, World! 42.", "helloworld42"},
	{"accents folded", "\xc3\x89" "cole caf\xc3\xa9 na\xc3\xafve", "ecolecafenaive"},
	{"combining accent", "cafe\xcc\x81", "cafe"},
	{"ligature", "\xef\xac\x81nance \xef\xac\x82ow", "financeflow"},
	{"typographic quotes and dashes",
	 "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x94 it\xe2\x80\x99s",
	 "quotedits"},
	{"sharp s case-folds", "Stra\xc3\x9f" "e", "strasse"},
	{"full-width forms", "\xef\xbc\xa6\xef\xbc\xb5\xef\xbc\xac\xef\xbc\xac\xef\xbc\x91",
	 "full1"},
	{"superscript digit", "x\xc2\xb2", "x2"},
	{"greek lower-cased", "\xce\xa9mega", "\xcf\x89mega"},
	{"hyphen at line end", "infor-\nmation", "information"},
	{"soft hyphen and nbsp", "infor\xc2\xadmation\xc2\xa0now", "informationnow"},
	{"crlf and tabs", "a\r\nb\tc", "abc"},
	{"invalid utf-8 dropped", "ab\xff\xfe" "cd", "abcd"},
	{"emoji dropped", "ok\xf0\x9f\x98\x80!", "ok"},
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static size_t
set_hashes(const struct winnow_set *s, uint64_t **h)
{
	return winnow_set_hashes(s, h);
}

/* Fingerprints @text (one BODY segment) to a sorted distinct hash list. */
static size_t
fp_text(const char *text, uint64_t **h)
{
	struct winnow_set s;
	winnow_text(text, strlen(text), NULL, &s);
	size_t n = set_hashes(&s, h);
	winnow_set_fini(&s);
	return n;
}

static bool
same_hashes(const char *a, const char *b, size_t *n_out)
{
	AUTOFREE uint64_t *ha = NULL;
	AUTOFREE uint64_t *hb = NULL;
	size_t na = fp_text(a, &ha), nb = fp_text(b, &hb);
	*n_out = na;
	return na == nb && (!na || !memcmp(ha, hb, na * sizeof(*ha)));
}

/* Reformatting transforms: each returns a new string (caller frees). */
static char *
tf_upper(const char *s)
{
	char *o = lw_strdup(s);
	for (char *p = o; *p; p++) {
		if (*p >= 'a' && *p <= 'z') {
			*p = (char)(*p - 'a' + 'A');
		}
	}
	return o;
}

static char *
tf_wrap(const char *s)
{
	/* re-flow at 37 columns, hyphenating a word split at the edge */
	struct prose_buf b = {0};
	size_t col = 0;
	for (const char *p = s; *p; p++) {
		char c = *p == '\n' ? ' ' : *p;
		if (col >= 37 && c != ' ' && p[1] && p[1] != ' ') {
			prose_puts(&b, "-\n");
			col = 0;
		} else if (col >= 37 && c == ' ') {
			prose_puts(&b, "\n");
			col = 0;
			continue;
		}
		prose_put(&b, &c, 1);
		col++;
	}
	return b.s;
}

static char *
tf_punct(const char *s)
{
	struct prose_buf b = {0};
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			prose_puts(&b, ";");
		} else if (*p == ' ' && p[1] == 't') {
			prose_puts(&b, ", ");
		} else {
			prose_put(&b, p, 1);
		}
	}
	return b.s;
}

static char *
tf_space(const char *s)
{
	struct prose_buf b = {0};
	for (const char *p = s; *p; p++) {
		if (*p == ' ') {
			prose_puts(&b, "  \t ");
		} else if (*p == '\n') {
			prose_puts(&b, "\r\n\r\n");
		} else {
			prose_put(&b, p, 1);
		}
	}
	return b.s;
}

static char *
tf_smart(const char *s)
{
	/* typographic quotes around words, accented letters, a ligature */
	struct prose_buf b = {0};
	for (const char *p = s; *p; p++) {
		if (*p == ' ' && p[1] == 'f' && p[2] == 'i') {
			prose_puts(&b, " \xe2\x80\x9c\xef\xac\x81");
			p += 2;
		} else if (*p == 'e' && p[1] == ' ') {
			prose_puts(&b, "\xc3\xa9\xe2\x80\x9d");
		} else {
			prose_put(&b, p, 1);
		}
	}
	return b.s;
}

static const struct {
	const char *name;
	char *(*fn)(const char *);
} tf_rows[] = {
	{"upper case", tf_upper},
	{"re-wrapped with end-of-line hyphens", tf_wrap},
	{"punctuation changed", tf_punct},
	{"whitespace and crlf", tf_space},
	{"smart quotes, accents, ligatures", tf_smart},
};

static void
test_normalise(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(norm_rows); i++) {
		AUTOFREE char *got = winnow_normalize(norm_rows[i].in,
						      strlen(norm_rows[i].in),
						      NULL);
		th_streq(got, norm_rows[i].want, "normalise: %s", norm_rows[i].name);
	}
}

static void
test_reformat(void)
{
	size_t len;
	AUTOFREE char *base = prose_new(1, 1500, &len);
	for (size_t i = 0; i < LW_ARRAY_SIZE(tf_rows); i++) {
		AUTOFREE char *t = tf_rows[i].fn(base);
		size_t n = 0;
		th_ok(same_hashes(base, t, &n) && n > 50,
		      "reformat: %s gives the same %zu fingerprints", tf_rows[i].name,
		      n);
	}
}

static void
test_markings_skipped(void)
{
	size_t len;
	AUTOFREE char *base = prose_new(2, 800, &len);
	AUTOFREE char *banner = lw_asprintf("NATO SECRET\n\n%sNATO SECRET\n", base);
	size_t n;
	th_ok(same_hashes(base, banner, &n), "banner lines are not fingerprinted");

	/* portion marks at paragraph starts */
	struct prose_buf b = {0};
	prose_puts(&b, "(NS) ");
	for (const char *p = base; *p; p++) {
		prose_put(&b, p, 1);
		if (p[0] == '\n' && p[-1] == '\n' && p[1]) {
			prose_puts(&b, "(NS) ");
		}
	}
	th_ok(same_hashes(base, b.s, &n), "portion marks are not fingerprinted");
	free(b.s);

	/* header and footer segments and properties are not read */
	struct text_doc *d1 = text_doc_new(0), *d2 = text_doc_new(0);
	text_doc_add(d1, TEXT_KIND_BODY, NULL, base, len);
	text_doc_add(d2, TEXT_KIND_HEADER, NULL, "NATO SECRET - Copy 3 of 12", 26);
	text_doc_add(d2, TEXT_KIND_BODY, NULL, base, len);
	text_doc_add(d2, TEXT_KIND_FOOTER, NULL, "Page 1 of 9 NATO SECRET", 23);
	text_doc_add(d2, TEXT_KIND_PROPERTY, "title", "A long title that is not body",
		     29);
	struct winnow_set s1, s2;
	winnow_doc(d1, NULL, &s1);
	winnow_doc(d2, NULL, &s2);
	bool same = s1.n == s2.n;
	for (size_t i = 0; same && i < s1.n; i++) {
		same = s1.fps[i].hash == s2.fps[i].hash &&
		       s1.fps[i].pos == s2.fps[i].pos;
	}
	th_ok(same && s1.n > 0, "header, footer, property segments are ignored");

	/* pages: one segment per page gives the same as the flowing text */
	struct text_doc *d3 = text_doc_new(0);
	size_t half = prose_word_offset(base, len, 400);
	text_doc_add(d3, TEXT_KIND_BODY, NULL, base, half);
	text_doc_add(d3, TEXT_KIND_BODY, NULL, base + half, len - half);
	struct winnow_set s3;
	winnow_doc(d3, NULL, &s3);
	same = s1.n == s3.n;
	for (size_t i = 0; same && i < s1.n; i++) {
		same = s1.fps[i].hash == s3.fps[i].hash;
	}
	th_ok(same, "text split over page segments is one stream");
	winnow_set_fini(&s1);
	winnow_set_fini(&s2);
	winnow_set_fini(&s3);
	text_doc_free(d1);
	text_doc_free(d2);
	text_doc_free(d3);
}

static void
test_guarantees(void)
{
	size_t len;
	AUTOFREE char *base = prose_new(3, 20000, &len);
	struct winnow_set s;
	winnow_text(base, len, NULL, &s);
	double density = (double)s.n / (double)(s.chars - WINNOW_K_DEFAULT + 1);
	th_ok(density > 0.016 && density < 0.024,
	      "density %.4f is near 2/(w+1) = 0.0198", density);
	bool mono = true;
	for (size_t i = 1; i < s.n; i++) {
		mono = mono && s.fps[i].pos > s.fps[i - 1].pos;
	}
	th_ok(mono, "positions increase");
	/* every window of w k-grams holds a selected fingerprint */
	bool gaps = s.n > 0 && s.fps[0].pos < WINNOW_W_DEFAULT;
	for (size_t i = 1; i < s.n; i++) {
		gaps = gaps && s.fps[i].pos - s.fps[i - 1].pos <= WINNOW_W_DEFAULT;
	}
	th_ok(gaps, "no gap longer than w between fingerprints");

	/* any shared run of k + w - 1 normalised characters shares one */
	AUTOFREE uint64_t *all = NULL;
	size_t nall = set_hashes(&s, &all);
	size_t nnorm = 0;
	AUTOFREE char *norm = winnow_normalize(base, len, &nnorm);
	struct prose_rng r = {42};
	bool guaranteed = true;
	for (int t = 0; t < 200; t++) {
		size_t L = WINNOW_K_DEFAULT + WINNOW_W_DEFAULT - 1;
		size_t at = (size_t)(prose_next(&r) % (nnorm - L));
		struct winnow_set sub;
		winnow_text(norm + at, L, NULL, &sub);
		bool shared = false;
		for (size_t i = 0; i < sub.n && !shared; i++) {
			shared = bsearch(&sub.fps[i].hash, all, nall, sizeof(*all),
					 cmp_u64) != NULL;
		}
		guaranteed = guaranteed && shared;
		winnow_set_fini(&sub);
	}
	th_ok(guaranteed, "every 149-character run shares a fingerprint");
	winnow_set_fini(&s);

	/* short texts */
	static const struct {
		const char *name;
		size_t chars, want;
	} short_rows[] = {
		{"shorter than k", 49, 0},
		{"exactly k", 50, 1},
		{"shorter than one window", 120, 1},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(short_rows); i++) {
		winnow_text(norm, short_rows[i].chars, NULL, &s);
		th_inteq((long long)s.n, (long long)short_rows[i].want,
			 "short text: %s", short_rows[i].name);
		winnow_set_fini(&s);
	}
}

static void
test_bounds(void)
{
	size_t len;
	AUTOFREE char *base = prose_new(4, 5000, &len);
	struct winnow_params p;
	winnow_params_default(&p);
	p.max_chars = 10000;
	struct winnow_set s;
	th_inteq(winnow_text(base, len, &p, &s), 0, "bounded by characters");
	th_ok(s.truncated && s.chars == 10000, "stops at max_chars (%zu)", s.chars);
	winnow_set_fini(&s);
	winnow_params_default(&p);
	p.max_fps = 7;
	winnow_text(base, len, &p, &s);
	th_ok(s.truncated && s.n == 7, "stops at max_fps");
	winnow_set_fini(&s);
	winnow_params_default(&p);
	p.k = 3;
	th_inteq(winnow_text(base, len, &p, &s), -EINVAL, "k out of range");
	p.k = 50;
	p.w = 0;
	th_inteq(winnow_text(base, len, &p, &s), -EINVAL, "w out of range");
}

static void
test_pack(void)
{
	const uint64_t h[] = {UINT64_C(0x0102030405060708), 0, UINT64_MAX};
	AUTOFREE unsigned char *blob = NULL;
	size_t blen = 0;
	winnow_pack(h, 3, &blob, &blen);
	th_inteq((long long)blen, 24, "pack: 8 bytes per hash");
	th_ok(blob[0] == 0x08 && blob[7] == 0x01, "pack: little-endian");
	AUTOFREE uint64_t *back = NULL;
	size_t n = 0;
	th_inteq(winnow_unpack(blob, blen, &back, &n), 0, "unpack");
	th_ok(n == 3 && !memcmp(back, h, sizeof(h)), "unpack round-trips");
	AUTOFREE uint64_t *bad = NULL;
	th_inteq(winnow_unpack(blob, 23, &bad, &n), -EPROTO,
		 "unpack: length not a multiple of 8");
	th_ok(!bad && n == 0, "unpack: nothing on error");
}

int
main(void)
{
	test_normalise();
	test_reformat();
	test_markings_skipped();
	test_guarantees();
	test_bounds();
	test_pack();
	return th_done();
}
