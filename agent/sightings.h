/* sightings.h — where sensitive content has been: the agent's side of the
 * fleet's `trace` (doc/protocol.md, "Sighting body").
 *
 * A sensitive file (classified, matching a registered document, carrying
 * PII) becomes a sighting event when its content first appears at a path,
 * when it changes there, and when it leaves (deleted: true). The last
 * report per path is kept (vstore) so that only changes are sent. Called by
 * the writer thread, inside its transaction. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "vstore.h"

/* Where a sighting is, beyond its path: what the fleet's compliance report
 * counts holdings by. */
struct sighting_where {
	const cJSON *zones;     /* array of the path's zone names; copied */
	const char *owner;      /* the file owner's name */
	const char *moved_from; /* it arrived by a rename from there; or NULL */
	const cJSON *process;   /* who put it there (procinfo.h), copied; or NULL */
};

/* The sensitive file @rec (its stored findings parsed in @findings) is at
 * @path. */
int sightings_seen(struct vstore *vs, const char *path, size_t len, const struct file_rec *rec,
		   const cJSON *findings, const struct sighting_where *w, int64_t now);
/* Whatever was reported at @path is gone from there (renamed to @moved_to,
 * or NULL: deleted or no longer sensitive). */
int sightings_gone(struct vstore *vs, const char *path, size_t len, const char *moved_to,
		   int64_t now);
/* The same for every reported path below @dir with no live file now. */
int sightings_gone_below(struct vstore *vs, const char *dir, size_t len, int64_t now);

/* Copies the classifier's findings (classification, pii, matches and, with
 * @rules, the detectors that fired) into @o: counts and ids, never values.
 * An allow-list, member by member: whatever else the helper's answer
 * carries (it parsed a hostile file) stays on the machine. Missing ones
 * become null / []. */
void sightings_findings_copy(cJSON *o, const cJSON *findings, bool rules);
