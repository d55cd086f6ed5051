/* classify.c — runs the detectors over one document and folds container
 * members (see classify.h). Pure computation; any thread. */
#include "classify.h"

#include <errno.h>
#include <string.h>

#include "rules.h"

int
classify_document(const struct text_doc *doc,
		  const struct classify_options *opt,
		  struct classify_result *out)
{
	static const struct classify_options defaults = {0};
	if (!opt) {
		opt = &defaults;
	}
	memset(out, 0, sizeof(*out));
	out->truncated = text_doc_truncated(doc);
	if (!opt->skip_markings) {
		marking_detect(doc, &out->marking);
	}
	if (!opt->skip_pii) {
		pii_scan(doc, &out->pii);
	}
	if (opt->rules) {
		out->n_rules_hit = (size_t)rules_eval(opt->rules, doc,
						      out->rules_hit,
						      CLASSIFY_RULES_MAX);
	}
	if (opt->matcher && opt->matcher->match) {
		return opt->matcher->match(opt->matcher->userdata, doc, out);
	}
	return 0;
}

int
classify_add_match(struct classify_result *res, const char *id,
		   enum classify_match_kind kind, double coverage)
{
	size_t len = id ? strlen(id) : 0;
	if (len == 0 || len >= CLASSIFY_ID_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < res->n_matches; i++) {
		struct classify_match *m = &res->matches[i];
		if (strcmp(m->id, id) != 0) {
			continue;
		}
		if (kind == CLASSIFY_MATCH_EXACT) {
			m->kind = CLASSIFY_MATCH_EXACT;
		}
		if (coverage > m->coverage) {
			m->coverage = coverage;
		}
		return 0;
	}
	if (res->n_matches == CLASSIFY_MATCHES_MAX) {
		return -ENOSPC;
	}
	struct classify_match *m = &res->matches[res->n_matches++];
	memcpy(m->id, id, len + 1);
	m->kind = kind;
	m->coverage = coverage;
	return 0;
}

void
classify_merge(struct classify_result *into,
	       const struct classify_result *member)
{
	if (member->marking.scheme != MARKING_SCHEME_NONE &&
	    (into->marking.scheme == MARKING_SCHEME_NONE ||
	     member->marking.level > into->marking.level)) {
		into->marking = member->marking;
	}
	for (size_t t = 0; t < PII_TYPE_COUNT; t++) {
		into->pii.count[t] += member->pii.count[t];
	}
	for (size_t i = 0; i < member->n_matches; i++) {
		const struct classify_match *m = &member->matches[i];
		classify_add_match(into, m->id, m->kind, m->coverage);
	}
	for (size_t i = 0; i < member->n_rules_hit; i++) {
		bool have = false;
		for (size_t j = 0; j < into->n_rules_hit && !have; j++) {
			have = into->rules_hit[j] == member->rules_hit[i];
		}
		if (!have && into->n_rules_hit < CLASSIFY_RULES_MAX) {
			into->rules_hit[into->n_rules_hit++] = member->rules_hit[i];
		}
	}
	into->truncated |= member->truncated;
}

bool
classify_is_sensitive(const struct classify_result *res)
{
	/* Any marking counts, NATO UNCLASSIFIED included: it is still the
	 * alliance's information, not for public release. */
	if (res->marking.scheme != MARKING_SCHEME_NONE) {
		return true;
	}
	for (size_t t = 0; t < PII_TYPE_COUNT; t++) {
		if (res->pii.count[t]) {
			return true;
		}
	}
	return res->n_matches > 0 || res->n_rules_hit > 0;
}

const char *
classify_match_kind_name(enum classify_match_kind kind)
{
	switch (kind) {
	case CLASSIFY_MATCH_EXACT:
		return "exact";
	case CLASSIFY_MATCH_PARTIAL:
		return "partial";
	}
	return "?";
}
