/* test-rules.c — custom keyword/regex rules with counts and proximity. */
#include <errno.h>
#include <string.h>

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
