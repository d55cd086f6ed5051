/* test-rules.c — custom keyword/regex rules with counts and proximity. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hs.h>

#include "harness.h"
#include "mem.h"
#include "rules.h"
#include "text.h"

static const char doc_text[] =
	"Project Bluefin status. The Bluefin budget was approved.\n"
	"Contact: ops@example.org. Operation codename ORCA is on hold.\n"
	"Unrelated paragraph about the canteen and the car park, which is long "
	"enough to separate what comes before from what comes after it.\n"
	"Final note on ORCA.\n";

static const struct {
	const char *name;
	struct rules_term terms[3];
	size_t n_terms;
	unsigned min_count;
	size_t proximity;
	bool fires;
} rows[] = {
	{"keyword once", {{"bluefin", false, false}}, 1, 1, 0, true},
	{"keyword count met", {{"bluefin", false, false}}, 1, 2, 0, true},
	{"keyword count not met", {{"bluefin", false, false}}, 1, 3, 0, false},
	{"case sensitive miss", {{"BLUEFIN", false, true}}, 1, 1, 0, false},
	{"word boundary", {{"blue", false, false}}, 1, 1, 0, false},
	{"regex", {{"[a-z]+@example\\.org", true, false}}, 1, 1, 0, true},
	{"dictionary any of", {{"orca", false, false}, {"narwhal", false, false}}, 2, 2, 0, true},
	{"proximity near", {{"bluefin", false, false}, {"budget", false, false}}, 2, 1, 40, true},
	{"proximity far", {{"bluefin", false, false}, {"car park", false, false}}, 2, 1, 30, false},
	{"proximity needs all terms", {{"orca", false, false}, {"narwhal", false, false}}, 2, 1, 500, false},
	{"absent", {{"submarine", false, false}}, 1, 1, 0, false},
};

int
main(void)
{
	struct rules_set *set = rules_new();
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		int r = rules_add(set, rows[i].name, rows[i].terms, rows[i].n_terms,
				  rows[i].min_count, rows[i].proximity);
		th_inteq(r, (long long)i, "add %s", rows[i].name);
	}
	struct rules_term bad = {"([unclosed", true, false};
	th_inteq(rules_add(set, "bad", &bad, 1, 1, 0), -EINVAL, "add: bad regex refused");
	struct rules_term empty = {"", false, false};
	th_inteq(rules_add(set, "empty", &empty, 1, 1, 0), -EINVAL, "add: empty pattern refused");
	th_inteq(rules_add(set, "", &empty, 1, 1, 0), -EINVAL, "add: empty id refused");
	th_inteq((long long)rules_count(set), (long long)LW_ARRAY_SIZE(rows),
		 "count: failed adds left nothing");

	struct text_doc *doc = text_doc_new(0);
	text_doc_add(doc, TEXT_KIND_BODY, NULL, doc_text, strlen(doc_text));
	unsigned hit[32];
	int n = rules_eval(set, doc, hit, 32);
	bool fired[LW_ARRAY_SIZE(rows)] = {0};
	for (int k = 0; k < n; k++) {
		fired[hit[k]] = true;
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		th_ok(fired[i] == rows[i].fires, "eval %s: %s", rows[i].name,
		      rows[i].fires ? "fires" : "silent");
	}
	if (hs_valid_platform() == HS_SUCCESS) {
		th_streq(rules_engine(set), "vectorscan", "engine: one Vectorscan database");
	}
	th_inteq(rules_add(set, "late", rows[0].terms, 1, 1, 0), -EINVAL,
		 "add after evaluation (prepared) refused");

	/* The same rules searched term by term (a back-reference, valid
	 * POSIX, is outside Vectorscan's dialect): the same rules fire. */
	struct rules_set *each = rules_new();
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		rules_add(each, rows[i].name, rows[i].terms, rows[i].n_terms, rows[i].min_count,
			  rows[i].proximity);
	}
	struct rules_term backref = {"(zq)\\1", true, false};
	th_ok(rules_add(each, "backref", &backref, 1, 1, 0) >= 0, "back-reference accepted");
	rules_prepare(each);
	th_streq(rules_engine(each), "regexec", "engine: per term when Vectorscan cannot");
	unsigned hit2[32];
	int n2 = rules_eval(each, doc, hit2, 32);
	th_inteq(n2, n, "per-term search: as many rules fire");
	for (int k = 0; k < n && k < n2; k++) {
		th_inteq(hit2[k], hit[k], "per-term search: rule %d the same", k);
	}
	rules_free(each);

	/* A large pack: 400 keyword and regex rules over one document, both
	 * engines, the same verdicts (and one scan for the database). */
	struct rules_set *big = rules_new(), *big_each = rules_new();
	char words[400][24];
	for (int i = 0; i < 400; i++) {
		if (i % 2) {
			snprintf(words[i], sizeof(words[i]), "code%dname", i);
		} else {
			snprintf(words[i], sizeof(words[i]), "ref-%d-[0-9]{2}", i);
		}
		struct rules_term t = {words[i], i % 2 == 0, false};
		char id[16];
		snprintf(id, sizeof(id), "r%d", i);
		rules_add(big, id, &t, 1, 1 + (unsigned)(i % 3 == 0), 0);
		rules_add(big_each, id, &t, 1, 1 + (unsigned)(i % 3 == 0), 0);
	}
	rules_add(big_each, "backref", &backref, 1, 1, 0);
	char text[4096] = "";
	for (int i = 0; i < 400; i += 7) {
		char w[48];
		snprintf(w, sizeof(w), i % 2 ? "CODE%dNAME code%dname x " : "ref-%d-42 ref-%d-17 ",
			 i, i);
		strcat(text, w);
	}
	struct text_doc *bd = text_doc_new(0);
	text_doc_add(bd, TEXT_KIND_BODY, NULL, text, strlen(text));
	unsigned bh[400], bh2[400];
	int bn = rules_eval(big, bd, bh, 400), bn2 = rules_eval(big_each, bd, bh2, 400);
	th_ok(bn > 20, "large pack: rules fire (%d)", bn);
	th_inteq(bn, bn2, "large pack: both engines, as many rules");
	th_ok(bn == bn2 && memcmp(bh, bh2, (size_t)bn * sizeof(*bh)) == 0,
	      "large pack: both engines, the same rules");
	text_doc_free(bd);
	rules_free(big);
	rules_free(big_each);

	th_streq(rules_id(set, 0), "keyword once", "id kept");
	th_ok(rules_id(set, 999) == NULL, "id out of range");
	th_inteq(rules_eval(set, doc, hit, 1), 1, "eval: capped at max");
	text_doc_free(doc);
	rules_free(set);

	/* A borrowed segment is not NUL-terminated: a regex sees its bytes
	 * and no further, counts every match, and anchors only at its start. */
	set = rules_new();
	struct rules_term mail = {"[a-z]+@example\\.org", true, false};
	struct rules_term line = {"^id [0-9]+", true, false};
	rules_add(set, "three addresses", &mail, 1, 3, 0);
	rules_add(set, "four addresses", &mail, 1, 4, 0);
	rules_add(set, "anchored twice", &line, 1, 2, 0);
	static const char bytes[] = "id 1 a@example.org b@example.org id 2 c@example.org"
				    "d@example.org";
	size_t len = strlen(bytes) - strlen("d@example.org");
	doc = text_doc_new(0);
	th_inteq(text_doc_add_borrowed(doc, TEXT_KIND_BODY, NULL, bytes, len, NULL), 0,
		 "borrowed: added");
	th_ok(text_doc_segment(doc, 0)->text == bytes, "borrowed: the caller's bytes");
	n = rules_eval(set, doc, hit, 32);
	th_inteq(n, 1, "borrowed: one rule fires");
	th_ok(n == 1 && hit[0] == 0, "borrowed: three addresses inside the length, not four");
	text_doc_free(doc);
	rules_free(set);
	rules_free(NULL);
	return th_done();
}
