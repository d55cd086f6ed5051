/* match.c — the classify_matcher backed by an fpindex (match.h).
 *
 * Pure computation; any thread (one match_scan per thread and file). */
#include "match.h"

#include <errno.h>
#include <stdlib.h>

#include "mem.h"
#include "winnow.h"

static void
set_finip(struct winnow_set *s)
{
	winnow_set_fini(s);
}

int
match_document(struct match_scan *scan, const struct text_doc *doc,
	       struct classify_result *res)
{
	if (!scan->index) {
		return 0;
	}
	CLEANUP(set_finip) struct winnow_set set = {0};
	int r = winnow_doc(doc, fpindex_winnow_params(scan->index), &set);
	if (r < 0) {
		return r;
	}
	scan->fingerprints = set.n;
	scan->truncated = set.truncated;
	struct fpindex_match m[CLASSIFY_MATCHES_MAX];
	r = fpindex_query(scan->index, scan->sha256, set.fps, set.n, m,
			  CLASSIFY_MATCHES_MAX);
	if (r < 0) {
		return r;
	}
	size_t n = (size_t)r < CLASSIFY_MATCHES_MAX ? (size_t)r
						    : CLASSIFY_MATCHES_MAX;
	for (size_t i = 0; i < n; i++) {
		r = classify_add_match(res, m[i].id, m[i].kind, m[i].coverage);
		if (r == -ENOSPC) {
			break; /* best ones are first */
		}
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int
matcher_cb(void *userdata, const struct text_doc *doc,
	   struct classify_result *res)
{
	return match_document(userdata, doc, res);
}

void
match_matcher_init(struct classify_matcher *m, struct match_scan *scan)
{
	m->match = matcher_cb;
	m->userdata = scan;
}
