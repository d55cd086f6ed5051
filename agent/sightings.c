/* sightings.c — see sightings.h. */
#include "sightings.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "mem.h"
#include "wire.h"

/* A copy of object @from with only the members named in @keys that are
 * strings or numbers: the findings come from the helper, which parsed a
 * hostile file, and only what the trace contract names may leave the
 * machine. NULL when @from is not an object. */
static cJSON *
pick(const cJSON *from, const char *const *keys, size_t n)
{
	if (!cJSON_IsObject(from)) {
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, keys[i]);
		if (cJSON_IsString(v) || cJSON_IsNumber(v)) {
			cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, false));
		}
	}
	return o;
}

/* Each element of array @from picked as above (strings kept as they are
 * when @keys is NULL); anything else is left out. */
static cJSON *
pick_each(const cJSON *from, const char *const *keys, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	if (!cJSON_IsArray(from)) {
		return arr;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, from)
	{
		cJSON *c = keys ? pick(e, keys, n)
				: cJSON_IsString(e) ? cJSON_CreateString(e->valuestring) : NULL;
		if (c) {
			cJSON_AddItemToArray(arr, c);
		}
	}
	return arr;
}

void
sightings_findings_copy(cJSON *o, const cJSON *findings, bool rules)
{
	static const char *const cl_keys[] = {WIRE_KEY_SCHEME, WIRE_KEY_LEVEL, WIRE_KEY_MARKING};
	static const char *const pii_keys[] = {WIRE_KEY_PII_TYPE, WIRE_KEY_COUNT};
	static const char *const match_keys[] = {WIRE_KEY_MATCH_ID, WIRE_KEY_MATCH_KIND,
						 WIRE_KEY_COVERAGE_SHARE};
	cJSON *cl = pick(cJSON_GetObjectItemCaseSensitive(findings, WIRE_KEY_CLASSIFICATION),
			 cl_keys, LW_ARRAY_SIZE(cl_keys));
	cJSON_AddItemToObject(o, WIRE_KEY_CLASSIFICATION, cl ? cl : cJSON_CreateNull());
	cJSON_AddItemToObject(o, WIRE_KEY_PII,
			      pick_each(cJSON_GetObjectItemCaseSensitive(findings, WIRE_KEY_PII),
					pii_keys, LW_ARRAY_SIZE(pii_keys)));
	cJSON_AddItemToObject(o, WIRE_KEY_MATCHES,
			      pick_each(cJSON_GetObjectItemCaseSensitive(findings, WIRE_KEY_MATCHES),
					match_keys, LW_ARRAY_SIZE(match_keys)));
	if (rules) {
		cJSON_AddItemToObject(
			o, WIRE_KEY_RULES,
			pick_each(cJSON_GetObjectItemCaseSensitive(findings, WIRE_KEY_RULES), NULL, 0));
	}
}

/* Appends @body as a sighting event and remembers it as @path's report. */
static int
report(struct vstore *vs, const char *path, size_t len, const uint8_t sha[LW_SHA256_LEN],
       int64_t first, bool deleted, cJSON *body, int64_t now)
{
	char *t = cJSON_PrintUnformatted(body);
	char uuid[CHAIN_UUID_LEN + 1];
	chain_uuid(uuid);
	int64_t seq;
	int r = vstore_event_append(vs, uuid, WIRE_EVENT_SIGHTING, t, now, &seq);
	if (r >= 0) {
		r = vstore_sighting_put(vs, path, len, sha, first, deleted, t);
	}
	cJSON_free(t);
	return r;
}

int
sightings_seen(struct vstore *vs, const char *path, size_t len, const struct file_rec *rec,
	       const cJSON *findings, const struct sighting_where *w, int64_t now)
{
	uint8_t sha[LW_SHA256_LEN] = {0};
	int64_t first = now;
	bool deleted = false;
	AUTOFREE char *old = NULL;
	int have = vstore_sighting_get(vs, path, len, sha, &first, &deleted, &old);
	bool same = have == 1 && memcmp(sha, rec->sha256, LW_SHA256_LEN) == 0;
	if (same && !deleted) {
		return 0; /* reported already */
	}
	if (!same || deleted) {
		first = now; /* first seen: this content at this path */
	}
	char t[CHAIN_TIME_LEN + 1], hex[LW_SHA256_HEX_LEN + 1];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes(path, len));
	lw_hex(rec->sha256, LW_SHA256_LEN, hex);
	cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
	cJSON_AddNumberToObject(o, WIRE_KEY_SIZE, (double)rec->size);
	cJSON_AddStringToObject(o, WIRE_KEY_TYPE, rec->type);
	sightings_findings_copy(o, findings, false);
	chain_time(first, t);
	cJSON_AddStringToObject(o, WIRE_KEY_FIRST_SEEN, t);
	chain_time(now, t);
	cJSON_AddStringToObject(o, WIRE_KEY_LAST_SEEN, t);
	cJSON_AddFalseToObject(o, WIRE_KEY_DELETED);
	cJSON_AddItemToObject(o, WIRE_KEY_ZONES, w->zones ? cJSON_Duplicate(w->zones, true)
							   : cJSON_CreateArray());
	if (w->owner) {
		cJSON_AddStringToObject(o, WIRE_KEY_OWNER, w->owner);
	}
	cJSON_AddNumberToObject(o, WIRE_KEY_MODE, rec->mode & 07777);
	if (w->moved_from) {
		cJSON_AddItemToObject(o, WIRE_KEY_MOVED_FROM,
				      wire_json_bytes(w->moved_from, strlen(w->moved_from)));
	}
	if (w->process) {
		cJSON_AddItemToObject(o, WIRE_KEY_PROCESS, cJSON_Duplicate(w->process, true));
	}
	int r = report(vs, path, len, rec->sha256, first, false, o, now);
	cJSON_Delete(o);
	return r;
}

int
sightings_gone(struct vstore *vs, const char *path, size_t len, const char *moved_to,
	       int64_t now)
{
	uint8_t sha[LW_SHA256_LEN];
	int64_t first = 0;
	bool deleted = false;
	AUTOFREE char *old = NULL;
	if (vstore_sighting_get(vs, path, len, sha, &first, &deleted, &old) != 1 || deleted) {
		return 0;
	}
	cJSON *o = cJSON_Parse(old);
	if (!o) {
		return 0;
	}
	char t[CHAIN_TIME_LEN + 1];
	chain_time(now, t);
	cJSON_ReplaceItemInObject(o, WIRE_KEY_LAST_SEEN, cJSON_CreateString(t));
	cJSON_ReplaceItemInObject(o, WIRE_KEY_DELETED, cJSON_CreateTrue());
	/* the report of the arrival said where from; this one says where to */
	cJSON_DeleteItemFromObjectCaseSensitive(o, WIRE_KEY_MOVED_FROM);
	if (moved_to) {
		cJSON_AddItemToObject(o, WIRE_KEY_MOVED_TO,
				      wire_json_bytes(moved_to, strlen(moved_to)));
	}
	int r = report(vs, path, len, sha, first, true, o, now);
	cJSON_Delete(o);
	return r;
}

struct gone_ctx {
	struct vstore *vs;
	int64_t now;
};

static int
gone_path(const char *path, size_t len, void *arg)
{
	struct gone_ctx *g = arg;
	return sightings_gone(g->vs, path, len, NULL, g->now);
}

int
sightings_gone_below(struct vstore *vs, const char *dir, size_t len, int64_t now)
{
	struct gone_ctx g = {vs, now};
	return vstore_sightings_gone_below(vs, dir, len, gone_path, &g);
}
