/* match.h — registered-document matching plugged into classify_document().
 *
 * Usage, per scanned file (any thread; the index is shared read-only):
 *
 *	struct match_scan scan = { .index = idx, .sha256 = file_sha256 };
 *	struct classify_matcher m;
 *	match_matcher_init(&m, &scan);
 *	struct classify_options opt = { .matcher = &m };
 *	classify_document(doc, &opt, &res);   // res.matches filled
 *
 * The matcher fingerprints the document's BODY/AUX text with the index's
 * winnowing parameters (winnow_doc) and adds the matches of fpindex_query()
 * with classify_add_match(): exact copies (SHA-256) as kind exact with
 * coverage 1.0, derivatives and excerpts as kind partial with their
 * coverage. Archive or mail members each get their own match_scan (with
 * the member's SHA-256) and are folded with classify_merge(). */
#pragma once

#include <stdint.h>

#include "classify.h"
#include "fpindex.h"
#include "text.h"

struct match_scan {
	const struct fpindex *index;  /* finalised; NULL: no matching */
	const unsigned char *sha256;  /* FPINDEX_SHA256_LEN bytes of the
				       * scanned bytes, or NULL */
	/* filled by the matcher, for the caller's information */
	size_t fingerprints; /* fingerprints of the scanned document */
	bool truncated;      /* fingerprinting hit its work bound */
};

/* Points @m at match_document() with @scan as its userdata. @scan must
 * outlive the classify_document() call. */
void match_matcher_init(struct classify_matcher *m, struct match_scan *scan);

/* The matcher itself, also usable directly: fingerprints @doc, queries the
 * index, adds matches to @res. Returns 0, or -EAGAIN when the index is not
 * finalised. A full match list (-ENOSPC from classify_add_match) keeps the
 * best CLASSIFY_MATCHES_MAX matches and returns 0. */
int match_document(struct match_scan *scan, const struct text_doc *doc,
		   struct classify_result *res);
