/* classify.h — the detection entry point: a text_doc in, findings out.
 *
 * classify_document() runs the marking and PII detectors over one document
 * and then, when the caller supplies one, the registered-document matcher
 * (winnowing, added by the fingerprint module) and the custom rules.
 * Containers (archives, e-mails with attachments) classify each member as its
 * own document and fold the results with classify_merge().
 *
 * Pure computation; any thread, one result per thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "marking.h"
#include "pii.h"
#include "text.h"

struct rules_set;

enum classify_match_kind {
	CLASSIFY_MATCH_EXACT,   /* same bytes (SHA-256) */
	CLASSIFY_MATCH_PARTIAL, /* derivative or excerpt (fingerprints) */
};

#define CLASSIFY_ID_MAX 64
#define CLASSIFY_MATCHES_MAX 16
#define CLASSIFY_RULES_MAX 32

struct classify_match {
	char id[CLASSIFY_ID_MAX]; /* registered document id, NUL-terminated */
	enum classify_match_kind kind;
	double coverage; /* share of the registered document's fingerprints */
};

struct classify_result {
	struct marking_result marking; /* scheme NONE: no marking counts */
	struct pii_result pii;
	/* Registered-document matches: filled by the matcher callback (see
	 * struct classify_matcher) or by the caller for exact SHA-256 hits. */
	struct classify_match matches[CLASSIFY_MATCHES_MAX];
	size_t n_matches;
	/* Custom rules that fired (indices into the rules_set). */
	unsigned rules_hit[CLASSIFY_RULES_MAX];
	size_t n_rules_hit;
	bool truncated; /* the document's text hit its byte cap */
};

/* Registered-document lookup, supplied by the fingerprint module. @match
 * reads @doc and adds matches with classify_add_match(); returns 0 or
 * -errno (the error is returned by classify_document, findings kept). */
struct classify_matcher {
	int (*match)(void *userdata, const struct text_doc *doc,
		     struct classify_result *res);
	void *userdata;
};

struct classify_options {
	bool skip_markings;
	bool skip_pii;
	const struct classify_matcher *matcher; /* NULL: no lookup */
	const struct rules_set *rules;          /* NULL: no custom rules */
};

/* Classifies @doc into @out (reset first). @opt may be NULL for defaults.
 * Returns 0, or the matcher's -errno. */
int classify_document(const struct text_doc *doc,
		      const struct classify_options *opt,
		      struct classify_result *out);

/* Folds a member's result into its container's: the highest level wins
 * (ties keep what @into has), PII counts add up (positions are dropped: they
 * belong to the member's document), matches are united by id. */
void classify_merge(struct classify_result *into,
		    const struct classify_result *member);

/* Adds or upgrades a match (exact beats partial, higher coverage wins).
 * Returns 0, -EINVAL for an empty or too long id, -ENOSPC when full. */
int classify_add_match(struct classify_result *res, const char *id,
		       enum classify_match_kind kind, double coverage);

/* True when anything sensitive was found: any classification marking (NATO
 * UNCLASSIFIED included), PII, a registered-document match or a rule. */
bool classify_is_sensitive(const struct classify_result *res);

const char *classify_match_kind_name(enum classify_match_kind kind);
