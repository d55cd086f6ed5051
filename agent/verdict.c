/* verdict.c — see verdict.h.
 *
 * For each change: what the file is comes from its stored findings, where
 * it is from the policy's zones, how it got there from the change itself
 * (a new row, a new hash, a new mode, a rename, or the same content at
 * another live path: a copy). Each rule that holds is checked against the
 * de-duplication state — (path, rule) with a signature over the rule, the
 * content and, for rules that look at it, the world-readable bit — so that
 * a file raises a rule again only when one of those changed. */
#include "verdict.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "clock.h"
#include "enforce.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "mem.h"
#include "quarantine.h"
#include "sightings.h"
#include "vstore.h"
#include "wire.h"

#define VERDICT_HITS_MAX 64
#define VERDICT_COPY_SOURCES 8
#define OWNER_CACHE 16

struct verdict {
	struct store *st;
	struct vstore *vs;
	struct policy *policy;
	struct policy_volume *volume;
	struct media *media; /* removable devices, for the "removable" zone */
	char *qdir;
	bool baseline_done;
	bool sightings; /* report sensitive files to the collector */
	struct enforcer *enforcer; /* block rules' marks; NULL: none (borrowed) */
	int64_t raised;
	sqlite3_stmt *same_sha;
	struct {
		uint32_t uid;
		char name[64];
	} owners[OWNER_CACHE];
	unsigned nowners, owner_next;
	/* Quarantine moves made in the batch being written. A batch that
	 * fails and is retried must not lose track of a file it moved the
	 * first time: the retry finds the move here and records it again. */
	struct qmove {
		char *path;
		size_t len;
		char uuid[CHAIN_UUID_LEN + 1];
		char *stored;
		struct qmove *next;
	} *qmoves;
};

/* What the file is, from its findings JSON (borrowing from @root). */
struct facts {
	cJSON *root;
	bool sensitive;
	struct policy_file f;
	struct policy_match m[16];
	struct policy_pii pii[8];
	const char *det[32];
};

static bool
facts_load(struct facts *fa, const char *path, size_t len, const struct file_rec *rec)
{
	*fa = (struct facts){0};
	fa->f.path = path;
	fa->f.len = len;
	fa->f.mode = rec->mode;
	fa->f.uid = rec->uid;
	fa->f.rank = rec->rank;
	fa->root = rec->findings ? cJSON_Parse(rec->findings) : NULL;
	const cJSON *cl = cJSON_GetObjectItem(fa->root, WIRE_KEY_CLASSIFICATION);
	fa->f.scheme = cJSON_GetStringValue(cJSON_GetObjectItem(cl, WIRE_KEY_SCHEME));
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(fa->root, WIRE_KEY_MATCHES))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(e, WIRE_KEY_MATCH_ID));
		const cJSON *cov = cJSON_GetObjectItem(e, WIRE_KEY_COVERAGE_SHARE);
		if (id && fa->f.n_matches < LW_ARRAY_SIZE(fa->m)) {
			fa->m[fa->f.n_matches++] = (struct policy_match){
				id, cJSON_IsNumber(cov) ? cov->valuedouble : 1.0};
		}
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(fa->root, WIRE_KEY_PII))
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(e, WIRE_KEY_PII_TYPE));
		long long n;
		/* the helper's output is untrusted: it parsed a hostile file */
		if (t && wire_json_int(cJSON_GetObjectItem(e, WIRE_KEY_COUNT), 0, UINT_MAX, &n) &&
		    fa->f.n_pii < LW_ARRAY_SIZE(fa->pii)) {
			fa->pii[fa->f.n_pii++] = (struct policy_pii){t, (unsigned)n};
		}
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(fa->root, WIRE_KEY_RULES))
	{
		if (cJSON_IsString(e) && fa->f.n_detectors < LW_ARRAY_SIZE(fa->det)) {
			fa->det[fa->f.n_detectors++] = e->valuestring;
		}
	}
	fa->f.matches = fa->m;
	fa->f.pii = fa->pii;
	fa->f.detectors = fa->det;
	fa->sensitive = fa->f.rank > 0 || fa->f.n_matches || fa->f.n_pii || fa->f.n_detectors;
	return fa->sensitive;
}

/* For CLEANUP(): the facts' tree goes with them on every exit. */
static void
facts_fini(struct facts *fa)
{
	cJSON_Delete(fa->root);
}

void
verdict_set_sightings(struct verdict *vd, bool on)
{
	vd->sightings = on;
}

struct verdict *
verdict_new(struct store *st, struct policy *p, const char *qdir)
{
	struct verdict *vd = lw_new(struct verdict, 1);
	vd->st = st;
	vd->vs = vstore_new(st);
	vd->policy = p;
	vd->volume = policy_volume_new();
	vd->qdir = lw_strdup(qdir);
	vd->media = media_new("/sys");
	vd->same_sha = db_prepare(store_db(st), "SELECT path FROM files WHERE sha256 = ?1"
						 " AND deleted_at IS NULL AND path != ?2 LIMIT ?3");
	return vd;
}

void
verdict_free(struct verdict *vd)
{
	if (!vd) {
		return;
	}
	verdict_batch_committed(vd);
	sqlite3_finalize(vd->same_sha);
	vstore_free(vd->vs);
	policy_free(vd->policy);
	policy_volume_free(vd->volume);
	media_free(vd->media);
	free(vd->qdir);
	free(vd);
}

void
verdict_batch_committed(struct verdict *vd)
{
	while (vd->qmoves) {
		struct qmove *m = vd->qmoves;
		vd->qmoves = m->next;
		free(m->path);
		free(m->stored);
		free(m);
	}
}

void
verdict_baseline_done(struct verdict *vd)
{
	vd->baseline_done = true;
}

struct vstore *
verdict_vstore(struct verdict *vd)
{
	return vd->vs;
}

int64_t
verdict_raised(const struct verdict *vd)
{
	return vd->raised;
}

static const char *
owner_name(struct verdict *vd, uint32_t uid)
{
	for (unsigned i = 0; i < vd->nowners; i++) {
		if (vd->owners[i].uid == uid) {
			return vd->owners[i].name;
		}
	}
	unsigned i = vd->owner_next;
	vd->owner_next = (vd->owner_next + 1) % OWNER_CACHE;
	if (vd->nowners < OWNER_CACHE) {
		vd->nowners++;
	}
	vd->owners[i].uid = uid;
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res) {
		snprintf(vd->owners[i].name, sizeof(vd->owners[i].name), "%s", pw.pw_name);
	} else {
		snprintf(vd->owners[i].name, sizeof(vd->owners[i].name), "%u", uid);
	}
	return vd->owners[i].name;
}

static cJSON *
zones_json(const struct policy *p, uint64_t m)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned z = 0; z < policy_zone_count(p); z++) {
		if (m >> z & 1) {
			cJSON_AddItemToArray(a, cJSON_CreateString(policy_zone_name(p, z)));
		}
	}
	return a;
}

/* The policy's zones of @path on device @dev. A file on a removable device
 * (media.h) is in the policy's "removable" zone wherever that device is
 * mounted: a USB stick mounted somewhere the zone's globs do not name is
 * still a USB stick. */
static uint64_t
zones_at(struct verdict *vd, const char *path, size_t len, uint64_t dev)
{
	uint64_t z = policy_zones_of(vd->policy, path, len);
	for (unsigned i = 0; i < policy_zone_count(vd->policy) && i < 64; i++) {
		if (strcmp(policy_zone_name(vd->policy, i), "removable") == 0) {
			if (!(z & (1ull << i)) && media_removable(vd->media, dev, clock_mono_ns())) {
				z |= 1ull << i;
			}
			break;
		}
	}
	return z;
}

/* The sensitive file is at @path (arrived from @moved_from, or NULL): a
 * sighting with the zones and owner the fleet's report counts. */
static int
seen(struct verdict *vd, const char *path, size_t len, const struct file_rec *rec,
     const cJSON *findings, const char *moved_from, const cJSON *process, int64_t now)
{
	AUTOJSON cJSON *zones = zones_json(vd->policy, zones_at(vd, path, len, rec->dev));
	struct sighting_where w = {.zones = zones, .owner = owner_name(vd, rec->uid),
				   .moved_from = moved_from, .process = process};
	return sightings_seen(vd->vs, path, len, rec, findings, &w, now);
}

static const char *
first_zone(const struct policy *p, uint64_t m)
{
	for (unsigned z = 0; z < policy_zone_count(p); z++) {
		if (m >> z & 1) {
			return policy_zone_name(p, z);
		}
	}
	return NULL;
}

static void
add_user(struct verdict *vd, cJSON *o, const char *uid_key, const char *user_key)
{
	long long uid;
	if (wire_json_int(cJSON_GetObjectItemCaseSensitive(o, uid_key), 0, UINT32_MAX, &uid)) {
		cJSON_AddStringToObject(o, user_key, owner_name(vd, (uint32_t)uid));
	}
}

/* The process behind a change (procinfo.h's JSON) with user names added
 * here, through the owner cache: procinfo leaves NSS, which can block on a
 * directory server, off the watcher thread. NULL when none. */
static cJSON *
process_json(struct verdict *vd, const char *process)
{
	if (!process) {
		return NULL;
	}
	cJSON *o = cJSON_Parse(process);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	add_user(vd, o, "uid", "user");
	add_user(vd, o, "login_uid", "login_user");
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "parents")) {
		add_user(vd, (cJSON *)p, "uid", "user");
	}
	return o;
}

/* One change to judge. */
struct change {
	const char *path;
	size_t len;
	const struct file_rec *rec;
	struct facts *fa;
	struct policy_event_ctx ev;
	const char *from; /* NUL-terminated; NULL when none */
	const cJSON *process; /* who did it; NULL when unknown */
	const char *kind;     /* the event's name when not ev.kind's (a denied open) */
};

static void
rule_state_sig(const struct policy_rule_info *ri, const struct change *c,
	       uint8_t out[LW_SHA256_LEN])
{
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	lw_sha256_update(h, ri->sig, LW_SHA256_LEN);
	lw_sha256_update(h, c->rec->sha256, LW_SHA256_LEN);
	unsigned char wr = ri->world_readable ? (unsigned char)(c->rec->mode & 04) : 0;
	lw_sha256_update(h, &wr, 1);
	lw_sha256_final(h, out);
	lw_sha256_free(h);
}

static char *
violation_body(struct verdict *vd, const struct policy_rule_info *ri, const struct change *c,
	       const char *uuid, int64_t now, const char *action_result, unsigned count)
{
	char t[CHAIN_TIME_LEN + 1];
	chain_time(now, t);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, WIRE_KEY_ID, uuid);
	cJSON_AddStringToObject(o, WIRE_KEY_TIME, t);
	cJSON_AddStringToObject(o, WIRE_KEY_RULE, ri->id);
	cJSON_AddStringToObject(o, WIRE_KEY_SEVERITY, policy_severity_name(ri->severity));
	cJSON_AddStringToObject(o, WIRE_KEY_MESSAGE, ri->message);
	cJSON_AddStringToObject(o, WIRE_KEY_ACTION, policy_action_name(ri->action));
	cJSON_AddStringToObject(o, WIRE_KEY_ACTION_RESULT, action_result);
	cJSON *ev = cJSON_AddObjectToObject(o, WIRE_KEY_EVENT);
	cJSON_AddStringToObject(ev, WIRE_KEY_KIND,
				count ? "bulk" : c->kind ? c->kind : policy_event_name(c->ev.kind));
	if (c->from) {
		cJSON_AddItemToObject(ev, WIRE_KEY_FROM, wire_json_bytes(c->from, strlen(c->from)));
		const char *fz = first_zone(vd->policy, c->ev.from_zones);
		cJSON_AddItemToObject(ev, WIRE_KEY_FROM_ZONE,
				      fz ? cJSON_CreateString(fz) : cJSON_CreateNull());
	} else {
		cJSON_AddNullToObject(ev, WIRE_KEY_FROM);
		cJSON_AddNullToObject(ev, WIRE_KEY_FROM_ZONE);
	}
	cJSON_AddItemToObject(o, WIRE_KEY_ZONES, zones_json(vd->policy, c->ev.zones));
	cJSON *f = cJSON_AddObjectToObject(o, WIRE_KEY_FILE);
	cJSON_AddItemToObject(f, WIRE_KEY_PATH, wire_json_bytes(c->path, c->len));
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(c->rec->sha256, LW_SHA256_LEN, hex);
	cJSON_AddStringToObject(f, WIRE_KEY_SHA256, hex);
	cJSON_AddNumberToObject(f, WIRE_KEY_SIZE, (double)c->rec->size);
	cJSON_AddStringToObject(f, WIRE_KEY_TYPE, c->rec->type);
	cJSON_AddNumberToObject(f, WIRE_KEY_UID, c->rec->uid);
	cJSON_AddStringToObject(f, WIRE_KEY_OWNER, owner_name(vd, c->rec->uid));
	cJSON_AddNumberToObject(f, WIRE_KEY_MODE, c->rec->mode & 07777);
	sightings_findings_copy(f, c->fa->root, true);
	if (c->process) {
		cJSON_AddItemToObject(o, WIRE_KEY_PROCESS, cJSON_Duplicate(c->process, true));
	}
	if (count) {
		cJSON_AddNumberToObject(o, WIRE_KEY_COUNT, count);
		cJSON_AddNumberToObject(o, WIRE_KEY_WINDOW_S, ri->volume_window_s);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *r = lw_strdup(s);
	cJSON_free(s);
	return r;
}

static int
raise_violation(struct verdict *vd, const struct policy_rule_info *ri, const struct change *c,
		int64_t now, unsigned count, bool *changed_under_us)
{
	char uuid[CHAIN_UUID_LEN + 1];
	chain_uuid(uuid);
	const char *action = policy_action_name(ri->action);
	char result[160] = "ok";
	char *stored = NULL;
	if (ri->action == POLICY_ACTION_BLOCK) {
		snprintf(result, sizeof(result), "denied");
	}
	if (ri->action == POLICY_ACTION_QUARANTINE) {
		struct qmove *m = vd->qmoves;
		while (m && (m->len != c->len || memcmp(m->path, c->path, c->len) != 0)) {
			m = m->next;
		}
		int r = 0;
		if (m) {
			memcpy(uuid, m->uuid, sizeof(uuid)); /* a retried batch */
			stored = lw_strdup(m->stored);
		} else if ((r = quarantine_dir_prepare(vd->qdir)) == 0 &&
			   (r = quarantine_move(vd->qdir, uuid, uuid, c->path, c->rec, &stored)) ==
				   0) {
			m = lw_new(struct qmove, 1);
			m->path = lw_strndup(c->path, c->len);
			m->len = c->len;
			memcpy(m->uuid, uuid, sizeof(uuid));
			m->stored = lw_strdup(stored);
			m->next = vd->qmoves;
			vd->qmoves = m;
		}
		if (r < 0) {
			snprintf(result, sizeof(result), "quarantine failed: %s", strerror(-r));
		}
		/* ESTALE: the file was changed (even only touched) since it was
		 * judged. Its change is judged again, and must try again. */
		if (r == -ESTALE && changed_under_us) {
			*changed_under_us = true;
		}
	}
	AUTOFREE char *body = violation_body(vd, ri, c, uuid, now, result, count);
	int64_t seq = 0;
	int r = vstore_event_append(vd->vs, uuid, WIRE_EVENT_VIOLATION, body, now, &seq);
	if (r >= 0 && stored) {
		struct vstore_quarantine q = {
			.id = uuid, .violation = uuid, .time = now, .path = c->path, .len = c->len,
			.stored = stored, .sha256 = c->rec->sha256, .size = c->rec->size,
			.mode = c->rec->mode, .uid = c->rec->uid, .gid = c->rec->gid,
			.mtime_ns = c->rec->mtime_ns};
		r = vstore_quarantine_put(vd->vs, &q);
	}
	if (r >= 0) {
		struct vstore_violation v = {
			.seq = seq, .uuid = uuid, .time = now, .rule = ri->id,
			.severity = (int)ri->severity, .action = action, .action_result = result,
			.event = count	   ? "bulk"
				 : c->kind ? c->kind
					   : policy_event_name(c->ev.kind),
			.path = c->path,
			.len = c->len, .from = c->from, .from_len = c->from ? strlen(c->from) : 0,
			.sha256 = c->rec->sha256, .uid = c->rec->uid, .count = count,
			.quarantine = stored ? uuid : NULL, .body = body};
		r = vstore_violation_put(vd->vs, &v);
	}
	if (r >= 0) {
		vd->raised++;
		AUTOFREE char *shown = wire_escape_line(c->path, c->len);
		if (count) {
			log_warn("violation %s [%s]: %u files within %u s, the last %s: %s", ri->id,
				 policy_severity_name(ri->severity), count, ri->volume_window_s,
				 shown, ri->message);
		} else {
			log_warn("violation %s [%s] %s: %s: %s%s%s", ri->id,
				 policy_severity_name(ri->severity), policy_event_name(c->ev.kind),
				 shown, ri->message, stored ? "; quarantined as " : "",
				 stored ? uuid : "");
		}
	}
	free(stored);
	return r;
}

static int
judge(struct verdict *vd, struct change *c, int64_t now)
{
	unsigned hits[VERDICT_HITS_MAX];
	size_t n = policy_eval(vd->policy, &c->fa->f, &c->ev, hits, VERDICT_HITS_MAX);
	bool protected = false;
	for (size_t i = 0; i < n; i++) {
		struct policy_rule_info ri;
		policy_rule_info(vd->policy, hits[i], &ri);
		if (ri.action == POLICY_ACTION_BLOCK) {
			/* not a violation in itself: the file is protected, and an
			 * open that the rule denies is (verdict_blocked) */
			if (vd->enforcer && !protected) {
				enforcer_protect(vd->enforcer, c->path, c->rec->dev, c->rec->ino, &ri);
			}
			protected = true;
			continue;
		}
		uint8_t sig[LW_SHA256_LEN];
		rule_state_sig(&ri, c, sig);
		int r = vstore_state_same(vd->vs, c->path, c->len, ri.id, sig);
		if (r != 0) {
			continue; /* raised already for this content, place and rule */
		}
		if (ri.action == POLICY_ACTION_QUARANTINE &&
		    vstore_released(vd->vs, c->path, c->len, c->rec->sha256) == 1) {
			continue; /* an administrator restored exactly this here */
		}
		if ((r = vstore_state_put(vd->vs, c->path, c->len, ri.id, sig)) < 0) {
			return r;
		}
		unsigned count = 0;
		if (ri.volume) {
			count = policy_volume_add(vd->volume, hits[i], &ri,
						  ri.volume_per == POLICY_PER_OWNER ? c->rec->uid : 0,
						  now / 1000000);
			if (!count) {
				continue;
			}
		}
		bool retry = false;
		if ((r = raise_violation(vd, &ri, c, now, count, &retry)) < 0) {
			return r;
		}
		/* a quarantine the file escaped by changing: the state says
		 * "not raised", so the next judgment of it quarantines (and
		 * raises) again instead of taking it as done */
		static const uint8_t none[LW_SHA256_LEN];
		if (retry && (r = vstore_state_put(vd->vs, c->path, c->len, ri.id, none)) < 0) {
			return r;
		}
	}
	if (!protected && vd->enforcer) {
		enforcer_unprotect(vd->enforcer, c->path, c->rec->dev, c->rec->ino);
	}
	return 0;
}

/* Zones of the other live paths with the same content, for copies. */
static uint64_t
copy_sources(struct verdict *vd, const char *path, size_t len, const struct file_rec *rec,
	     char **first)
{
	sqlite3_stmt *s = vd->same_sha;
	sqlite3_bind_blob(s, 1, rec->sha256, LW_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, VERDICT_COPY_SOURCES);
	uint64_t zones = 0;
	*first = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *p = sqlite3_column_blob(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		uint64_t z = policy_zones_of(vd->policy, p, n);
		/* name a source in a zone if there is one: that is the news */
		if (!*first || (z && !zones)) {
			free(*first);
			*first = lw_strndup(p, n);
		}
		zones |= z;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return zones;
}

static bool
same_sha(const struct file_rec *a, const struct file_rec *b)
{
	return a->has_sha && b->has_sha && memcmp(a->sha256, b->sha256, LW_SHA256_LEN) == 0;
}

int
verdict_put(struct verdict *vd, const char *path, size_t len, const struct file_rec *old,
	    const struct file_rec *rec, int64_t now)
{
	if (rec->kind != FILE_KIND_REGULAR || !rec->has_sha) {
		return 0;
	}
	CLEANUP(facts_fini) struct facts fa = {0};
	if (!facts_load(&fa, path, len, rec) && !policy_wants_plain_files(vd->policy)) {
		if (vd->enforcer) {
			enforcer_unprotect(vd->enforcer, path, rec->dev, rec->ino);
		}
		/* no longer sensitive (re-classified): not there any more as such */
		return old && vd->sightings ? sightings_gone(vd->vs, path, len, NULL, now) : 0;
	}
	AUTOJSON cJSON *proc = process_json(vd, rec->process);
	int rs = 0;
	if (vd->sightings) {
		/* sensitive: seen here; no longer (the policy judges plain files
		 * too): the sensitive content left this path */
		rs = fa.sensitive ? seen(vd, path, len, rec, fa.root, NULL, proc, now)
		     : old	  ? sightings_gone(vd->vs, path, len, NULL, now)
				  : 0;
	}
	if (rs < 0) {
		return rs;
	}
	struct change c = {.path = path, .len = len, .rec = rec, .fa = &fa, .process = proc};
	c.ev.zones = zones_at(vd, path, len, rec->dev);
	AUTOFREE char *src = NULL;
	if (!old || !same_sha(old, rec)) {
		/* An empty previous version is the file being created: open,
		 * then write, and a walk of a new directory may record the file
		 * in between. Calling that "modified" would hide the creation
		 * from rules on created files (bulk staging). */
		if (!old) {
			c.ev.kind = vd->baseline_done ? POLICY_EV_CREATED : POLICY_EV_BASELINE;
		} else {
			c.ev.kind = old->size == 0 ? POLICY_EV_CREATED : POLICY_EV_MODIFIED;
		}
		/* New content that is live elsewhere too is a copy, also when
		 * the row existed: cp onto an existing file, or a copy whose
		 * first bytes were recorded while it was being written. */
		if (vd->baseline_done) {
			c.ev.from_zones = copy_sources(vd, path, len, rec, &src);
			if (src) {
				c.ev.kind = POLICY_EV_COPIED;
				c.from = src;
			}
		}
	} else if ((old->mode & 07777) != (rec->mode & 07777)) {
		c.ev.kind = POLICY_EV_CHMOD;
	} else {
		c.ev.kind = POLICY_EV_BASELINE; /* re-classified, touched */
	}
	return judge(vd, &c, now);
}

static int
judge_moved(struct verdict *vd, const char *from, const char *to, size_t tlen,
	    const struct file_rec *rec, const char *process, int64_t now)
{
	if (rec->kind != FILE_KIND_REGULAR || !rec->has_sha) {
		return 0;
	}
	CLEANUP(facts_fini) struct facts fa = {0};
	if (!facts_load(&fa, to, tlen, rec) && !policy_wants_plain_files(vd->policy)) {
		return 0;
	}
	AUTOJSON cJSON *proc = process_json(vd, process);
	int rs = 0;
	if (vd->sightings) {
		rs = sightings_gone(vd->vs, from, strlen(from), fa.sensitive ? to : NULL, now);
		if (rs >= 0 && fa.sensitive) {
			rs = seen(vd, to, tlen, rec, fa.root, from, proc, now);
		}
	}
	if (rs < 0) {
		return rs;
	}
	struct change c = {.path = to, .len = tlen, .rec = rec, .fa = &fa, .from = from,
			   .process = proc};
	c.ev.kind = POLICY_EV_MOVED;
	c.ev.zones = zones_at(vd, to, tlen, rec->dev);
	/* a rename stays on its file system: the same device */
	c.ev.from_zones = zones_at(vd, from, strlen(from), rec->dev);
	return judge(vd, &c, now);
}

struct moved_ctx {
	struct verdict *vd;
	const char *process;
	const char *from;
	size_t flen, tlen;
	int64_t now;
};

static int
moved_row(const struct store_row *row, void *arg)
{
	struct moved_ctx *m = arg;
	/* the old path of each file below: old prefix + the same tail */
	size_t tail = row->path_len - m->tlen;
	AUTOFREE char *from = lw_malloc(m->flen + tail + 1);
	memcpy(from, m->from, m->flen);
	memcpy(from + m->flen, row->path + m->tlen, tail);
	from[m->flen + tail] = '\0';
	vstore_state_clear(m->vd->vs, from, m->flen + tail);
	return judge_moved(m->vd, from, row->path, row->path_len, &row->rec, m->process, m->now);
}

int
verdict_moved(struct verdict *vd, const char *from, size_t flen, const char *to, size_t tlen,
	      bool is_dir, const char *process, int64_t now)
{
	if (policy_rule_count(vd->policy) == 0 && !vd->sightings) {
		return 0;
	}
	if (is_dir) {
		struct moved_ctx m = {vd, process, from, flen, tlen, now};
		return store_foreach(vd->st, to, tlen, false, 0, moved_row, &m);
	}
	int r = vstore_state_clear(vd->vs, from, flen);
	struct file_rec rec = {0};
	if (r >= 0 && store_lookup_path(vd->st, to, tlen, &rec) == 1) {
		AUTOFREE char *f = lw_strndup(from, flen);
		r = judge_moved(vd, f, to, tlen, &rec, process, now);
	}
	file_rec_fini(&rec);
	return r;
}

int
verdict_gone(struct verdict *vd, const char *path, size_t len)
{
	int r = vstore_state_clear(vd->vs, path, len);
	return r < 0 || !vd->sightings ? r : sightings_gone(vd->vs, path, len, NULL, clock_wall_ns());
}

int
verdict_gone_below(struct verdict *vd, const char *dir, size_t len)
{
	int r = vstore_state_clear_gone_below(vd->vs, dir, len);
	if (r >= 0 && vd->sightings) {
		r = sightings_gone_below(vd->vs, dir, len, clock_wall_ns());
	}
	return r;
}

struct reeval_ctx {
	struct verdict *vd;
	int64_t now;
	int64_t files;
};

static int
reeval_row(const struct store_row *row, void *arg)
{
	struct reeval_ctx *x = arg;
	if (row->rec.kind != FILE_KIND_REGULAR || !row->rec.has_sha) {
		return 0;
	}
	CLEANUP(facts_fini) struct facts fa = {0};
	if (!facts_load(&fa, row->path, row->path_len, &row->rec) &&
	    !policy_wants_plain_files(x->vd->policy)) {
		return 0;
	}
	x->files++;
	int rs = x->vd->sightings && fa.sensitive
			 ? seen(x->vd, row->path, row->path_len, &row->rec, fa.root, NULL, NULL, x->now)
			 : 0;
	if (rs < 0) {
		return rs;
	}
	struct change c = {.path = row->path, .len = row->path_len, .rec = &row->rec, .fa = &fa};
	c.ev.kind = POLICY_EV_BASELINE;
	c.ev.zones = zones_at(x->vd, row->path, row->path_len, row->rec.dev);
	return judge(x->vd, &c, x->now);
}

void
verdict_set_policy(struct verdict *vd, struct policy *p)
{
	policy_free(vd->policy);
	vd->policy = p;
	/* rule indices changed: the windows start afresh */
	policy_volume_free(vd->volume);
	vd->volume = policy_volume_new();
}

int
verdict_reevaluate(struct verdict *vd, int64_t now)
{
	if (policy_rule_count(vd->policy) == 0 && !vd->sightings) {
		return 0;
	}
	/* Every file in the inventory was judged, as it was recorded, under
	 * the policy the last evaluation stored here: the same policy again
	 * (a restart, a reload of an unchanged file) has nothing to add, and
	 * reading every row at each start would cost seconds on a large
	 * inventory. */
	uint8_t d[LW_SHA256_LEN];
	policy_digest(vd->policy, d);
	uint64_t u = 0;
	for (int i = 0; i < 8; i++) {
		u = u << 8 | d[i];
	}
	/* the lowest bit says whether sightings were reported */
	int64_t key = (int64_t)((u & ~(uint64_t)1) | vd->sightings);
	int64_t last = 0;
	if (store_meta_get(vd->st, "policy_digest", &last) == 1 && last == key) {
		log_info("policy: unchanged since the inventory was last evaluated; not"
			 " evaluated again");
		return 0;
	}
	struct reeval_ctx x = {vd, now, 0};
	int64_t before = vd->raised;
	int r = store_foreach(vd->st, NULL, 0, false, 0, reeval_row, &x);
	log_info("policy: %zu rules; %lld sensitive files evaluated, %lld new violations",
		 policy_rule_count(vd->policy), (long long)x.files,
		 (long long)(vd->raised - before));
	return r < 0 ? r : store_meta_set(vd->st, "policy_digest", key);
}

bool
verdict_sighted(const struct verdict *vd, const char *path, size_t len)
{
	if (!vd->sightings) {
		return false;
	}
	uint8_t sha[LW_SHA256_LEN];
	int64_t first = 0;
	bool deleted = true;
	AUTOFREE char *body = NULL;
	return vstore_sighting_get(vd->vs, path, len, sha, &first, &deleted, &body) == 1 &&
	       !deleted;
}

bool
verdict_wants(const struct verdict *vd, const struct file_rec *rec)
{
	if (rec->kind != FILE_KIND_REGULAR || !rec->has_sha ||
	    (policy_rule_count(vd->policy) == 0 && !vd->sightings)) {
		return false;
	}
	if (rec->rank > 0 || policy_wants_plain_files(vd->policy)) {
		return true;
	}
	/* Parsed, not searched: the findings of a plain file are a few dozen
	 * bytes, and a parse cannot be fooled by the way they happen to be
	 * printed. Any non-empty list is enough to ask the policy; facts_load()
	 * then keeps only well-formed entries. */
	if (!rec->findings) {
		return false;
	}
	cJSON *root = cJSON_Parse(rec->findings);
	bool any = cJSON_GetArraySize(cJSON_GetObjectItem(root, WIRE_KEY_PII)) > 0 ||
		   cJSON_GetArraySize(cJSON_GetObjectItem(root, WIRE_KEY_MATCHES)) > 0 ||
		   cJSON_GetArraySize(cJSON_GetObjectItem(root, WIRE_KEY_RULES)) > 0;
	cJSON_Delete(root);
	return any;
}

/* --- block rules ------------------------------------------------------- */

struct protect_ctx {
	struct verdict *vd;
	int64_t files;
};

static int
protect_row(const struct store_row *row, void *arg)
{
	struct protect_ctx *x = arg;
	struct verdict *vd = x->vd;
	if (row->rec.kind != FILE_KIND_REGULAR || !row->rec.has_sha) {
		return 0;
	}
	CLEANUP(facts_fini) struct facts fa = {0};
	if (!facts_load(&fa, row->path, row->path_len, &row->rec) &&
	    !policy_wants_plain_files(vd->policy)) {
		return 0;
	}
	struct policy_event_ctx ev = {.kind = POLICY_EV_BASELINE,
				      .zones = zones_at(vd, row->path, row->path_len, row->rec.dev)};
	unsigned hits[VERDICT_HITS_MAX];
	size_t n = policy_eval(vd->policy, &fa.f, &ev, hits, VERDICT_HITS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct policy_rule_info ri;
		policy_rule_info(vd->policy, hits[i], &ri);
		if (ri.action == POLICY_ACTION_BLOCK) {
			enforcer_protect(vd->enforcer, row->path, row->rec.dev, row->rec.ino, &ri);
			x->files++;
			break;
		}
	}
	return 0;
}

int
verdict_set_enforcer(struct verdict *vd, struct enforcer *e)
{
	vd->enforcer = e;
	if (!e || !policy_has_block_rules(vd->policy)) {
		return 0;
	}
	/* The marks live as long as the fanotify group: after a start or a
	 * re-activation every protected file is marked again from the
	 * inventory, whether or not the policy changed. */
	struct protect_ctx x = {vd, 0};
	int r = store_foreach(vd->st, NULL, 0, false, 0, protect_row, &x);
	log_info("enforce: %lld files protected by block rules", (long long)x.files);
	return r;
}

int
verdict_blocked(struct verdict *vd, const char *path, size_t len, const char *rule,
		const char *process, int64_t now)
{
	struct policy_rule_info ri = {0};
	bool found = false;
	for (unsigned i = 0; i < policy_rule_count(vd->policy) && !found; i++) {
		policy_rule_info(vd->policy, i, &ri);
		found = ri.action == POLICY_ACTION_BLOCK && strcmp(ri.id, rule) == 0;
	}
	struct file_rec rec = {0};
	if (!found || store_lookup_path(vd->st, path, len, &rec) != 1) {
		/* a reload dropped the rule, or the file is known by another
		 * name (a hard link): the denial stands, counted in status */
		file_rec_fini(&rec);
		return 0;
	}
	CLEANUP(facts_fini) struct facts fa = {0};
	facts_load(&fa, path, len, &rec);
	AUTOJSON cJSON *proc = process_json(vd, process);
	/* One violation per file, rule, user and program: a loop retrying the
	 * open is one attempt, another user or program is news. */
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(proc, "uid");
	const char *exe = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proc, "exe"));
	uint8_t sig[LW_SHA256_LEN];
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	lw_sha256_update(h, ri.sig, LW_SHA256_LEN);
	lw_sha256_update(h, rec.sha256, LW_SHA256_LEN);
	double u = cJSON_IsNumber(uid) ? uid->valuedouble : -1;
	lw_sha256_update(h, &u, sizeof(u));
	if (exe) {
		lw_sha256_update(h, exe, strlen(exe));
	}
	lw_sha256_final(h, sig);
	lw_sha256_free(h);
	int r = vstore_state_same(vd->vs, path, len, ri.id, sig);
	if (r == 0 && (r = vstore_state_put(vd->vs, path, len, ri.id, sig)) >= 0) {
		struct change c = {.path = path, .len = len, .rec = &rec, .fa = &fa,
				   .process = proc, .kind = "open"};
		c.ev.kind = POLICY_EV_BASELINE;
		c.ev.zones = zones_at(vd, path, len, rec.dev);
		r = raise_violation(vd, &ri, &c, now, 0, NULL);
	}
	file_rec_fini(&rec);
	return r < 0 ? r : 0;
}
