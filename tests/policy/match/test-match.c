/* test-match.c — the classify_matcher: classify_document() fills matches
 * from the index (exact by SHA-256, partial by fingerprints), markings and
 * matches come out together, header/footer text does not count, members
 * fold into their container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "classify.h"
#include "fpindex.h"
#include "harness.h"
#include "match.h"
#include "mem.h"
#include "prose.h"
#include "text.h"
#include "winnow.h"

static void
sha256(const char *s, size_t n, unsigned char md[32])
{
	unsigned l = 0;
	EVP_Digest(s, n, md, &l, EVP_sha256(), NULL);
}

/* Registers @text the way the agent does: bytes -> text_doc -> fingerprints
 * -> packed BLOB -> unpacked -> index. */
static void
register_text(struct fpindex *idx, const char *id, const char *text)
{
	size_t len = strlen(text);
	unsigned char md[32];
	sha256(text, len, md);
	struct text_doc *doc = text_doc_new(0);
	text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL, text, len, NULL);
	struct winnow_set set;
	winnow_doc(doc, fpindex_winnow_params(idx), &set);
	text_doc_free(doc);
	AUTOFREE uint64_t *h = NULL;
	size_t n = winnow_set_hashes(&set, &h);
	winnow_set_fini(&set);
	AUTOFREE unsigned char *blob = NULL;
	size_t blen;
	winnow_pack(h, n, &blob, &blen);
	AUTOFREE uint64_t *back = NULL;
	size_t nb;
	winnow_unpack(blob, blen, &back, &nb);
	fpindex_add(idx, id, "NATO SECRET", md, back, nb);
}

struct seg {
	enum text_kind kind;
	const char *name;
	const char *text;
};

struct row {
	const char *name;
	struct seg segs[4];
	bool sha_of_first; /* pass the SHA-256 of segs[0].text */
	const char *want_id;
	enum classify_match_kind kind;
	const char *want_level; /* "" for none */
};

int
main(void)
{
	size_t l1, l2, l3;
	AUTOFREE char *a = prose_new(11, 2000, &l1);
	AUTOFREE char *b = prose_new(12, 2000, &l2);
	AUTOFREE char *unrelated = prose_new(13, 2000, &l3);
	struct fpindex *idx;
	fpindex_new(NULL, &idx);
	register_text(idx, "reg-a", a);
	register_text(idx, "reg-b", b);
	fpindex_finalize(idx);

	size_t half = prose_word_offset(a, l1, 1000);
	AUTOFREE char *a_half = lw_strndup(a, half);
	AUTOFREE char *a_marked = lw_asprintf("NATO SECRET\n\n%s\nNATO SECRET\n",
					      a_half);
	size_t b600 = prose_word_offset(b, l2, 600);
	AUTOFREE char *b_start = lw_strndup(b, b600);

	const struct row rows[] = {
		{"exact copy", {{TEXT_KIND_BODY, NULL, a}}, true, "reg-a",
		 CLASSIFY_MATCH_EXACT, ""},
		{"half of a, with banners",
		 {{TEXT_KIND_BODY, NULL, a_marked}},
		 true, "reg-a", CLASSIFY_MATCH_PARTIAL, "SECRET"},
		{"half of a in pages, marking in the header",
		 {{TEXT_KIND_HEADER, NULL, "NATO SECRET"},
		  {TEXT_KIND_BODY, NULL, a_half},
		  {TEXT_KIND_FOOTER, NULL, "NATO SECRET"}},
		 false, "reg-a", CLASSIFY_MATCH_PARTIAL, "SECRET"},
		{"b's text only in a header part",
		 {{TEXT_KIND_HEADER, NULL, b_start},
		  {TEXT_KIND_BODY, NULL, unrelated}},
		 false, NULL, 0, ""},
		{"b's text in footnotes (aux)",
		 {{TEXT_KIND_BODY, NULL, unrelated}, {TEXT_KIND_AUX, NULL, b_start}},
		 false, "reg-b", CLASSIFY_MATCH_PARTIAL, ""},
		{"unrelated", {{TEXT_KIND_BODY, NULL, unrelated}}, true, NULL, 0, ""},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		const struct row *rw = &rows[i];
		struct text_doc *doc = text_doc_new(0);
		for (size_t s = 0; s < 4 && rw->segs[s].text; s++) {
			text_doc_add(doc, rw->segs[s].kind, rw->segs[s].name,
				     rw->segs[s].text, strlen(rw->segs[s].text));
		}
		unsigned char md[32];
		sha256(rw->segs[0].text, strlen(rw->segs[0].text), md);
		struct match_scan scan = {
			.index = idx,
			.sha256 = rw->sha_of_first ? md : NULL,
		};
		struct classify_matcher m;
		match_matcher_init(&m, &scan);
		struct classify_options opt = {.matcher = &m};
		struct classify_result res;
		int r = classify_document(doc, &opt, &res);
		text_doc_free(doc);
		th_inteq(r, 0, "%s: classify", rw->name);
		if (rw->want_id) {
			th_ok(res.n_matches == 1 &&
				      !strcmp(res.matches[0].id, rw->want_id) &&
				      res.matches[0].kind == rw->kind,
			      "%s: %s %s (%zu matches)", rw->name,
			      res.n_matches ? res.matches[0].id : "-",
			      res.n_matches
				      ? classify_match_kind_name(res.matches[0].kind)
				      : "-",
			      res.n_matches);
			th_ok(classify_is_sensitive(&res), "%s: sensitive", rw->name);
		} else {
			th_inteq((long long)res.n_matches, 0, "%s: no match",
				 rw->name);
		}
		th_streq(marking_level_name(res.marking.level), rw->want_level,
			 "%s: marking level", rw->name);
		th_ok(scan.fingerprints > 0, "%s: fingerprinted", rw->name);
	}

	/* an archive: members fold into the container's result */
	struct classify_result box = {0}, member;
	const char *members[] = {a_half, b_start, unrelated};
	for (size_t i = 0; i < LW_ARRAY_SIZE(members); i++) {
		struct text_doc *doc = text_doc_new(0);
		text_doc_add(doc, TEXT_KIND_BODY, NULL, members[i],
			     strlen(members[i]));
		struct match_scan scan = {.index = idx};
		struct classify_matcher m;
		match_matcher_init(&m, &scan);
		struct classify_options opt = {.matcher = &m};
		classify_document(doc, &opt, &member);
		classify_merge(&box, &member);
		text_doc_free(doc);
	}
	th_inteq((long long)box.n_matches, 2, "archive: both members' matches");

	/* no index: the matcher does nothing */
	struct match_scan none = {0};
	struct classify_matcher m;
	match_matcher_init(&m, &none);
	struct classify_options opt = {.matcher = &m};
	struct text_doc *doc = text_doc_new(0);
	text_doc_add(doc, TEXT_KIND_BODY, NULL, a, l1);
	struct classify_result res;
	th_inteq(classify_document(doc, &opt, &res), 0, "no index: classify");
	th_inteq((long long)res.n_matches, 0, "no index: no matches");

	/* an index not finalised is an error, findings kept */
	struct fpindex *raw;
	fpindex_new(NULL, &raw);
	struct match_scan sraw = {.index = raw};
	match_matcher_init(&m, &sraw);
	th_inteq(classify_document(doc, &opt, &res), -EAGAIN,
		 "index not finalised: -EAGAIN");
	text_doc_free(doc);
	fpindex_free(raw);
	fpindex_free(idx);
	return th_done();
}
