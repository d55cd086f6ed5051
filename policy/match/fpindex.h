/* fpindex.h — in-memory index of registered documents and matching of a
 * scanned document's fingerprints against it.
 *
 * The index holds, per registered document, an id, a label (the marking it
 * was registered with), the SHA-256 of the original file and its distinct
 * winnowed fingerprint hashes (winnow_set_hashes()); plus the hashes of an
 * administrator-supplied benign corpus (templates, disclaimers, public
 * documents). It does no I/O: the caller loads the records (for example
 * from SQLite, fingerprints unpacked with winnow_unpack()) and adds them.
 *
 * Life cycle: fpindex_new(), any number of fpindex_add() and
 * fpindex_add_benign(), fpindex_finalize(), then fpindex_query() from any
 * number of threads at once. Adding after finalisation is allowed (the
 * index must be finalised again before the next query); building, adding
 * and finalising need exclusive access.
 *
 * Boilerplate: finalisation drops every fingerprint found in the benign
 * corpus, and every fingerprint shared by at least
 * max(boiler_min_docs, ceil(boiler_share * documents)) registered documents
 * (defaults 3 and 5 %: 3 documents up to 60 registered, 250 of 5,000). A
 * document's coverage is counted over its remaining fingerprints.
 *
 * Matching (fpindex_query):
 *  - exact: the scanned file's SHA-256 equals a registered original's;
 *  - partial: the scanned fingerprints that hit a registered document are
 *    taken in the scanned document's order, and grouped into runs in which
 *    consecutive hits are at most 2 w normalised characters apart (inside a
 *    copied passage they are at most w apart: every window of w k-grams
 *    selects one fingerprint, and the same one in both documents). Hits
 *    outside runs of at least min_run are phrases that happen to be shared,
 *    not copied passages, and do not count. With "in runs" counted as
 *    distinct hashes, a document matches when that count is at least
 *    min_fps and either it is at least min_coverage of the document's
 *    fingerprints (15 %) or at least min_excerpt_fps (about 300 words of
 *    copied text, see fpindex.c for the arithmetic).
 * The reported coverage is the share of the registered document's
 * fingerprints found in runs, 1.0 for exact copies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "winnow.h"

#define FPINDEX_SHA256_LEN 32

struct fpindex;

struct fpindex_options {
	/* winnowing parameters of every fingerprint in the index (the
	 * scanned documents must be fingerprinted with the same) */
	struct winnow_params winnow;
	double boiler_share;      /* default 0.05 */
	unsigned boiler_min_docs; /* default 3 */
	double min_coverage;      /* default 0.15 */
	unsigned min_excerpt_fps; /* default 18: finds every 300-word excerpt
				   * at k 50, w 100 (fpindex.c) */
	unsigned min_fps;         /* default 6: about a paragraph */
	unsigned min_run;         /* default 2 */
};

struct fpindex_match {
	const char *id;    /* valid until fpindex_free() */
	const char *label; /* idem; "" when none was given */
	enum classify_match_kind kind;
	double coverage;   /* 0..1 */
	uint32_t matched;  /* distinct registered fingerprints hit, in runs */
	uint32_t hits;     /* distinct registered fingerprints hit at all */
	uint32_t total;    /* the document's fingerprints after boilerplate */
};

struct fpindex_stats {
	size_t docs;
	size_t distinct;      /* distinct fingerprints kept */
	size_t postings;      /* (fingerprint, document) pairs kept */
	size_t dropped_boiler; /* distinct fingerprints dropped as boilerplate */
	size_t dropped_benign; /* distinct fingerprints dropped as benign */
	unsigned boiler_df;   /* the document-frequency threshold used */
};

/* Defaults as above; winnow parameters as winnow_params_default(). */
void fpindex_options_default(struct fpindex_options *opt);

/* A new empty index. @opt may be NULL for the defaults. Returns 0 or
 * -EINVAL for bad options; *out is owned by the caller (fpindex_free()). */
int fpindex_new(const struct fpindex_options *opt, struct fpindex **out);
void fpindex_free(struct fpindex *idx); /* NULL is a no-op */

/* The winnowing parameters to fingerprint documents with, for this index.
 * Valid until fpindex_free(). */
const struct winnow_params *fpindex_winnow_params(const struct fpindex *idx);

/* Registers a document: @id (1..CLASSIFY_ID_MAX-1 bytes, unique), @label
 * (may be NULL), @sha256 (FPINDEX_SHA256_LEN bytes, or NULL when unknown)
 * and @n fingerprint hashes (any order, duplicates allowed; copied).
 * Returns 0, -EINVAL for a bad id, -EEXIST for an id already present. */
int fpindex_add(struct fpindex *idx, const char *id, const char *label,
		const unsigned char *sha256, const uint64_t *fps, size_t n);

/* Adds fingerprint hashes of benign text (copied). Returns 0. */
int fpindex_add_benign(struct fpindex *idx, const uint64_t *fps, size_t n);

/* Removes a registered document. Returns 0 or -ENOENT. */
int fpindex_remove(struct fpindex *idx, const char *id);

/* Builds the lookup structures (drops boilerplate and benign
 * fingerprints). Returns 0. */
int fpindex_finalize(struct fpindex *idx);

size_t fpindex_count(const struct fpindex *idx);
void fpindex_get_stats(const struct fpindex *idx, struct fpindex_stats *st);

/* Matches a scanned document: @sha256 (may be NULL) and its fingerprints
 * @fps (n of them, in stream order, as winnow_doc() gives them). Writes up
 * to @max matches to @out, exact ones first, then by coverage, highest
 * first. Returns the number of matches found (may exceed @max; only @max
 * are written), -EAGAIN when the index is not finalised. Thread-safe on a
 * finalised index. */
int fpindex_query(const struct fpindex *idx, const unsigned char *sha256,
		  const struct winnow_fp *fps, size_t n,
		  struct fpindex_match *out, size_t max);
