/* test-classify.c — the entry point: markings + PII together, the matcher
 * slot, container merging and the "sensitive" predicate. */
#include <errno.h>
#include <string.h>

#include "classify.h"
#include "harness.h"
#include "mem.h"
#include "rules.h"
#include "text.h"

static const struct {
	const char *name, *text;
	const char *scheme, *level;
	unsigned cc, iban, nif;
	bool sensitive;
} rows[] = {
	{"marked with card",
	 "NATO SECRET\n\nRefund to card 4123 4567 0000 0001.\n\nNATO SECRET\n",
	 "NATO", "SECRET", 1, 0, 0, true},
	{"pii only", "IBAN: DE89 3704 0044 0532 0130 00\nNIF: 123456789\n",
	 "", "", 0, 1, 1, true},
	{"nothing", "Minutes of the meeting.\n\nThe canteen reopens on Monday.\n",
	 "", "", 0, 0, 0, false},
	{"nato unclassified is still a marking",
	 "NATO UNCLASSIFIED\n\nPublic note.\n", "NATO", "UNCLASSIFIED", 0, 0, 0,
	 true},
};

static int
fake_matcher(void *ud, const struct text_doc *doc, struct classify_result *res)
{
	int *calls = ud;
	(*calls)++;
	classify_add_match(res, "reg-003", CLASSIFY_MATCH_PARTIAL, 0.42);
	return *calls > 1 ? -EIO : 0;
}

int
main(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		struct text_doc *doc = text_doc_new(0);
		text_doc_add(doc, TEXT_KIND_BODY, NULL, rows[i].text,
			     strlen(rows[i].text));
		struct classify_result r;
		th_inteq(classify_document(doc, NULL, &r), 0, "%s: returns 0",
			 rows[i].name);
		th_streq(marking_scheme_name(r.marking.scheme), rows[i].scheme,
			 "%s: scheme", rows[i].name);
		th_streq(marking_level_name(r.marking.level), rows[i].level,
			 "%s: level", rows[i].name);
		th_inteq(r.pii.count[PII_TYPE_CREDIT_CARD], rows[i].cc, "%s: cards",
			 rows[i].name);
		th_inteq(r.pii.count[PII_TYPE_IBAN], rows[i].iban, "%s: ibans",
			 rows[i].name);
		th_inteq(r.pii.count[PII_TYPE_PT_NIF], rows[i].nif, "%s: nifs",
			 rows[i].name);
		th_ok(classify_is_sensitive(&r) == rows[i].sensitive,
		      "%s: sensitive", rows[i].name);
		th_inteq((long long)r.n_matches, 0, "%s: no matches without matcher",
			 rows[i].name);
		text_doc_free(doc);
	}

	/* Options: skipping detectors, the matcher slot and its errors. */
	struct text_doc *doc = text_doc_new(0);
	const char *t = "NATO SECRET\n\nCard 4123456700000001\n";
	text_doc_add(doc, TEXT_KIND_BODY, NULL, t, strlen(t));
	int calls = 0;
	struct classify_matcher m = {fake_matcher, &calls};
	struct classify_options opt = {.skip_pii = true, .matcher = &m};
	struct classify_result r;
	th_inteq(classify_document(doc, &opt, &r), 0, "matcher: returns 0");
	th_inteq(r.pii.count[PII_TYPE_CREDIT_CARD], 0, "options: pii skipped");
	th_streq(marking_level_name(r.marking.level), "SECRET", "options: markings kept");
	th_inteq((long long)r.n_matches, 1, "matcher: one match");
	th_streq(r.matches[0].id, "reg-003", "matcher: id");
	th_streq(classify_match_kind_name(r.matches[0].kind), "partial", "matcher: kind");
	th_inteq(classify_document(doc, &opt, &r), -EIO, "matcher: error returned");
	th_streq(marking_level_name(r.marking.level), "SECRET",
		 "matcher: findings kept on error");
	opt = (struct classify_options){.skip_markings = true};
	classify_document(doc, &opt, &r);
	th_inteq(r.marking.scheme, MARKING_SCHEME_NONE, "options: markings skipped");
	th_inteq(r.pii.count[PII_TYPE_CREDIT_CARD], 1, "options: pii kept");

	/* add_match: upgrade and limits. */
	th_inteq(classify_add_match(&r, "reg-003", CLASSIFY_MATCH_EXACT, 1.0), 0,
		 "add_match: new");
	th_inteq(classify_add_match(&r, "reg-003", CLASSIFY_MATCH_PARTIAL, 0.2), 0,
		 "add_match: same id");
	th_inteq((long long)r.n_matches, 1, "add_match: no duplicate");
	th_streq(classify_match_kind_name(r.matches[0].kind), "exact",
		 "add_match: exact kept");
	th_inteq(classify_add_match(&r, "", CLASSIFY_MATCH_EXACT, 1.0), -EINVAL,
		 "add_match: empty id");
	for (int i = 0; i < CLASSIFY_MATCHES_MAX + 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "r%d", i);
		if (classify_add_match(&r, id, CLASSIFY_MATCH_PARTIAL, 0.5) < 0) {
			th_inteq(i, CLASSIFY_MATCHES_MAX - 1, "add_match: -ENOSPC when full");
			break;
		}
	}

	/* Merge: an archive with two members. */
	struct classify_result arc = {0}, a = {0}, b = {0};
	a.marking = (struct marking_result){MARKING_SCHEME_NATO,
					    MARKING_LEVEL_UNCLASSIFIED,
					    MARKING_SOURCE_BANNER, "NATO UNCLASSIFIED"};
	a.pii.count[PII_TYPE_IBAN] = 2;
	b.marking = (struct marking_result){MARKING_SCHEME_NATO,
					    MARKING_LEVEL_CONFIDENTIAL,
					    MARKING_SOURCE_BANNER, "NATO CONFIDENTIAL"};
	b.pii.count[PII_TYPE_IBAN] = 1;
	classify_add_match(&b, "reg-001", CLASSIFY_MATCH_PARTIAL, 0.3);
	classify_merge(&arc, &a);
	classify_merge(&arc, &b);
	classify_merge(&arc, &a);
	th_streq(arc.marking.found, "NATO CONFIDENTIAL", "merge: highest wins");
	th_inteq(arc.pii.count[PII_TYPE_IBAN], 5, "merge: counts add up");
	th_inteq((long long)arc.n_matches, 1, "merge: matches united");
	text_doc_free(doc);
	return th_done();
}
