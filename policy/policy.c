/* policy.c — parsing, validation and evaluation of the policy (policy.h).
 * The policy keeps its own copy of the JSON tree; every string in it is
 * borrowed from that copy. */
#include "policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "mem.h"
#include "policy-default.h" /* generated from packaging/policy.json */
#include "rules.h"

/* Policies are small; these bounds keep a hostile or mistaken file from
 * making evaluation (which runs for every file) expensive. */
#define POLICY_MAX_BYTES (4u << 20)
#define POLICY_RULES_MAX 256
#define POLICY_LIST_MAX 64

struct zone {
	const char *name;
	const char **globs; /* NULL-terminated; borrowed strings */
	size_t n;
};

struct rule {
	struct policy_rule_info info;
	bool has_match, match_all;
	/* classification */
	bool m_class;
	int class_min;
	unsigned schemes; /* bit per scheme name index; 0: any */
	/* registered */
	bool m_reg;
	const char **reg_ids; /* NULL: any registered document */
	size_t n_reg;
	double min_coverage;
	/* pii */
	bool m_pii;
	const char **pii_types; /* NULL: any type */
	size_t n_pii;
	unsigned pii_min;
	/* detectors */
	const char **det_ids;
	size_t n_det;
	/* where */
	uint64_t in, not_in;
	/* how */
	unsigned events; /* bit per enum policy_event; 0: any */
	uint64_t from;
	int world_readable; /* -1 any, 0 not, 1 world-readable */
};

struct policy {
	cJSON *root; /* owns every borrowed string */
	struct zone zones[POLICY_ZONES_MAX];
	size_t nzones;
	struct rule *rules;
	size_t nrules;
	char *detectors_json;
	bool plain_files;
};

static const char *const scheme_names[] = {"NATO", "EU", "US", "PT"};
static const char *const level_names[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL",
					  "SECRET", "TOP SECRET"};
static const char *const severity_names[] = {"low", "medium", "high", "critical"};
static const char *const event_names[POLICY_EV_COUNT] = {
	[POLICY_EV_BASELINE] = "baseline", [POLICY_EV_CREATED] = "created",
	[POLICY_EV_MODIFIED] = "modified", [POLICY_EV_MOVED] = "moved",
	[POLICY_EV_COPIED] = "copied",     [POLICY_EV_CHMOD] = "chmod",
};

/* Defaults for a defence workstation. Mail drafts and attachments count as
 * staging: that is where a document waits before it leaves by mail. */
static const char *const default_secure[] = {"/srv/classified/**", NULL};
static const char *const default_removable[] = {"/media/**", "/run/media/**", "/mnt/**",
						NULL};
static const char *const default_sync[] = {
	"**/Dropbox/**", "**/Nextcloud/**", "**/ownCloud/**", "**/OneDrive/**",
	"**/OneDrive - */**", "**/Google Drive/**", "**/GoogleDrive/**", "**/pCloudDrive/**",
	"**/MEGA/**", "**/Seafile/**", NULL};
static const char *const default_staging[] = {
	"/home/*/Downloads/**", "/root/Downloads/**", "/tmp/**", "/var/tmp/**",
	"/home/*/.thunderbird/**", "/home/*/.mozilla-thunderbird/**",
	"/home/*/.local/share/evolution/mail/**", "/home/*/Maildir/**", "/home/*/Mail/**",
	"**/Drafts/**", "**/Attachments/**", NULL};
static const struct {
	const char *name;
	const char *const *globs;
} builtin_zones[] = {
	{"secure", default_secure},
	{"removable", default_removable},
	{"sync", default_sync},
	{"staging", default_staging},
};

const char *
policy_severity_name(enum policy_severity s)
{
	return s >= POLICY_SEV_LOW && s <= POLICY_SEV_CRITICAL ? severity_names[s - 1] : "?";
}

int
policy_severity_from_name(const char *name)
{
	for (int i = 0; name && i < 4; i++) {
		if (strcmp(name, severity_names[i]) == 0) {
			return i + 1;
		}
	}
	return -1;
}

const char *
policy_action_name(enum policy_action a)
{
	return a == POLICY_ACTION_QUARANTINE ? "quarantine"
	       : a == POLICY_ACTION_BLOCK    ? "block"
					     : "alert";
}

const char *
policy_event_name(enum policy_event e)
{
	return e < POLICY_EV_COUNT ? event_names[e] : "?";
}

static int
name_index(const char *s, const char *const *names, size_t n, bool nocase)
{
	for (size_t i = 0; s && i < n; i++) {
		if ((nocase ? strcasecmp(s, names[i]) : strcmp(s, names[i])) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static int
zone_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nzones; i++) {
		if (strcmp(p->zones[i].name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void
policy_release(struct policy *p)
{
	for (size_t i = 0; i < p->nzones; i++) {
		free(p->zones[i].globs);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].reg_ids);
		free(p->rules[i].pii_types);
		free(p->rules[i].det_ids);
		free((void *)p->rules[i].info.allow);
	}
	free(p->rules);
	free(p->detectors_json);
	cJSON_Delete(p->root);
	free(p);
}

void
policy_free(struct policy *p)
{
	if (p) {
		policy_release(p);
	}
}

/* A string array at @key of @obj (pointer @where), each entry non-empty and
 * at most POLICY_LIST_MAX of them. */
static int
get_list(struct cfg_ctx *ctx, const cJSON *obj, const char *where, const char *key,
	 bool required, const char ***out, size_t *n)
{
	int r = cfg_get_string_array(ctx, obj, where, key, required, out, n);
	if (r < 0 || !*out) {
		return r;
	}
	if (*n > POLICY_LIST_MAX) {
		free(*out);
		*out = NULL;
		return cfg_fail(ctx, where, "\"%s\": at most %d entries", key, POLICY_LIST_MAX);
	}
	for (size_t i = 0; i < *n; i++) {
		if (!(*out)[i][0]) {
			free(*out);
			*out = NULL;
			return cfg_fail(ctx, where, "\"%s\"[%zu]: empty string", key, i);
		}
	}
	return 0;
}

static int
add_zone(struct policy *p, struct cfg_ctx *ctx, const char *name, const char **globs,
	 size_t n)
{
	int i = zone_index(p, name);
	if (i < 0) {
		if (p->nzones == POLICY_ZONES_MAX) {
			free(globs);
			return cfg_fail(ctx, "/zones", "at most %d zones", POLICY_ZONES_MAX);
		}
		i = (int)p->nzones++;
	}
	free(p->zones[i].globs);
	p->zones[i] = (struct zone){.name = name, .globs = globs, .n = n};
	return 0;
}

static int
load_zones(struct policy *p, struct cfg_ctx *ctx, const cJSON *root)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(builtin_zones); i++) {
		size_t n = 0;
		while (builtin_zones[i].globs[n]) {
			n++;
		}
		const char **g = lw_new(const char *, n + 1);
		memcpy(g, builtin_zones[i].globs, (n + 1) * sizeof(*g));
		add_zone(p, ctx, builtin_zones[i].name, g, n);
	}
	const cJSON *zones = cJSON_GetObjectItemCaseSensitive(root, "zones");
	if (!zones) {
		return 0;
	}
	if (!cJSON_IsObject(zones)) {
		return cfg_fail(ctx, "/zones", "must be an object mapping names to glob lists");
	}
	const cJSON *z;
	cJSON_ArrayForEach(z, zones)
	{
		const char *name = z->string;
		char where[300];
		snprintf(where, sizeof(where), "/zones/%s", name);
		if (!name[0] || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
					strlen(name)) {
			return cfg_fail(ctx, where,
					"a zone name is lower-case letters, digits, '_' and '-'");
		}
		if (!cJSON_IsArray(z)) {
			return cfg_fail(ctx, where, "must be an array of globs");
		}
		size_t n = (size_t)cJSON_GetArraySize(z);
		const char **g = lw_new(const char *, n + 1);
		size_t k = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, z)
		{
			if (!cJSON_IsString(e) || !e->valuestring[0]) {
				free(g);
				return cfg_fail(ctx, where, "[%zu]: must be a non-empty glob", k);
			}
			g[k++] = e->valuestring;
		}
		int r = add_zone(p, ctx, name, g, n);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static const char *const detector_keys[] = {"id", "keywords", "patterns", "case_sensitive",
					    "min_count", "proximity", NULL};

int
policy_detectors_build(const cJSON *arr, struct cfg_ctx *ctx, const char *where,
		       struct rules_set **out)
{
	struct rules_set *set = rules_new();
	const cJSON *d;
	size_t i = 0;
	if (arr && !cJSON_IsArray(arr)) {
		rules_free(set);
		return cfg_fail(ctx, where, "must be an array");
	}
	cJSON_ArrayForEach(d, arr)
	{
		char w[256];
		snprintf(w, sizeof(w), "%s/%zu", where, i++);
		const char *id = NULL;
		const char **kw = NULL, **re = NULL;
		size_t nkw = 0, nre = 0;
		bool cs = false;
		long long min = 1, prox = 0;
		int r;
		if (!cJSON_IsObject(d)) {
			r = cfg_fail(ctx, w, "must be an object");
		} else if ((r = cfg_check_keys(ctx, d, w, detector_keys)) >= 0 &&
			   (r = cfg_get_string(ctx, d, w, "id", true, &id)) >= 0 &&
			   (r = get_list(ctx, d, w, "keywords", false, &kw, &nkw)) >= 0 &&
			   (r = get_list(ctx, d, w, "patterns", false, &re, &nre)) >= 0 &&
			   (r = cfg_get_bool(ctx, d, w, "case_sensitive", false, &cs)) >= 0 &&
			   (r = cfg_get_int(ctx, d, w, "min_count", false, 1, 1000000, &min)) >= 0 &&
			   (r = cfg_get_int(ctx, d, w, "proximity", false, 0, 1 << 20, &prox)) >= 0) {
			if (nkw + nre == 0) {
				r = cfg_fail(ctx, w, "needs \"keywords\" or \"patterns\"");
			} else {
				for (size_t k = 0; k < rules_count(set); k++) {
					if (strcmp(rules_id(set, (unsigned)k), id) == 0) {
						r = cfg_fail(ctx, w, "\"id\": \"%s\" is defined twice", id);
					}
				}
			}
			if (r >= 0) {
				struct rules_term *t = lw_new(struct rules_term, nkw + nre);
				for (size_t k = 0; k < nkw; k++) {
					t[k] = (struct rules_term){kw[k], false, cs};
				}
				for (size_t k = 0; k < nre; k++) {
					t[nkw + k] = (struct rules_term){re[k], true, cs};
				}
				if (rules_add(set, id, t, nkw + nre, (unsigned)min, (size_t)prox) < 0) {
					r = cfg_fail(ctx, w,
						     "\"patterns\": a pattern is not a valid POSIX "
						     "extended regular expression");
				}
				free(t);
			}
		}
		free(kw);
		free(re);
		if (r < 0) {
			rules_free(set);
			return r;
		}
	}
	*out = set;
	return 0;
}

/* A list of zone names at @key, as a bit mask. */
static int
get_zones(struct policy *p, struct cfg_ctx *ctx, const cJSON *obj, const char *where,
	  const char *key, uint64_t *mask)
{
	const char **names = NULL;
	size_t n = 0;
	int r = get_list(ctx, obj, where, key, false, &names, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int z = zone_index(p, names[i]);
		if (z < 0) {
			r = cfg_fail(ctx, where, "\"%s\": no zone named \"%s\"", key, names[i]);
		} else {
			*mask |= (uint64_t)1 << z;
		}
	}
	free(names);
	return r;
}

static const char *const rule_keys[] = {"id",    "severity", "message", "action", "enabled",
					"match", "where",    "how",     "volume", "allow", NULL};
static const char *const match_keys[] = {"classification", "registered", "pii", "detectors",
					 "all", NULL};
static const char *const class_keys[] = {"min", "schemes", NULL};
static const char *const reg_keys[] = {"ids", "min_coverage", NULL};
static const char *const pii_keys[] = {"types", "min_count", NULL};
static const char *const where_keys[] = {"in", "not_in", NULL};
static const char *const how_keys[] = {"events", "from", "world_readable", NULL};
static const char *const volume_keys[] = {"count", "window_s", "per", NULL};

/* "allow" of a block rule: absolute globs; and what a block rule may not
 * have. */
static int
load_allow(struct cfg_ctx *ctx, const cJSON *obj, const char *w, struct rule *ru)
{
	bool block = ru->info.action == POLICY_ACTION_BLOCK;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, "allow");
	if (!block) {
		return a ? cfg_fail(ctx, w, "\"allow\" is for \"action\": \"block\" only") : 0;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, "how")) {
		return cfg_fail(ctx, w, "a block rule has no \"how\": it judges opens, not events");
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, "volume")) {
		return cfg_fail(ctx, w, "a block rule has no \"volume\": every denial counts");
	}
	const char **list = NULL;
	size_t n = 0;
	int r = cfg_get_string_array(ctx, obj, w, "allow", false, &list, &n);
	if (r < 0) {
		return r;
	}
	ru->info.allow = list;
	ru->info.nallow = n;
	for (size_t i = 0; i < n; i++) {
		if (list[i][0] != '/') {
			char w2[96];
			snprintf(w2, sizeof(w2), "%s/allow/%zu", w, i);
			return cfg_fail(ctx, w2, "not an absolute path or glob: %s", list[i]);
		}
	}
	return 0;
}

static int
load_match(struct cfg_ctx *ctx, const cJSON *m, const char *w0,
	   const cJSON *detectors, struct rule *ru)
{
	char w[256];
	int r = cfg_check_keys(ctx, m, w0, match_keys);
	if (r < 0 || (r = cfg_get_bool(ctx, m, w0, "all", false, &ru->match_all)) < 0) {
		return r;
	}
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "classification");
	if (c) {
		snprintf(w, sizeof(w), "%s/classification", w0);
		const char *min = "UNCLASSIFIED";
		const char **schemes = NULL;
		size_t ns = 0;
		if (!cJSON_IsObject(c)) {
			return cfg_fail(ctx, w, "must be an object like {\"min\": \"SECRET\"}");
		}
		if ((r = cfg_check_keys(ctx, c, w, class_keys)) < 0 ||
		    (r = cfg_get_string(ctx, c, w, "min", false, &min)) < 0 ||
		    (r = get_list(ctx, c, w, "schemes", false, &schemes, &ns)) < 0) {
			return r;
		}
		int lv = name_index(min, level_names, 5, true);
		if (lv < 0) {
			return cfg_fail(ctx, w,
					"\"min\": \"%s\" is not a level (UNCLASSIFIED, RESTRICTED, "
					"CONFIDENTIAL, SECRET, TOP SECRET)",
					min);
		}
		ru->class_min = lv + 1;
		for (size_t i = 0; i < ns; i++) {
			int s = name_index(schemes[i], scheme_names, 4, true);
			if (s < 0) {
				r = cfg_fail(ctx, w, "\"schemes\": \"%s\" is not NATO, EU, US or PT",
					     schemes[i]);
				break;
			}
			ru->schemes |= 1u << s;
		}
		free(schemes);
		if (r < 0) {
			return r;
		}
		ru->m_class = true;
	}
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(m, "registered");
	if (g) {
		snprintf(w, sizeof(w), "%s/registered", w0);
		if (cJSON_IsTrue(g)) {
			ru->m_reg = true;
		} else if (cJSON_IsObject(g)) {
			if ((r = cfg_check_keys(ctx, g, w, reg_keys)) < 0 ||
			    (r = get_list(ctx, g, w, "ids", false, &ru->reg_ids, &ru->n_reg)) < 0) {
				return r;
			}
			const cJSON *cov = cJSON_GetObjectItemCaseSensitive(g, "min_coverage");
			if (cov && (!cJSON_IsNumber(cov) || cov->valuedouble < 0 ||
				    cov->valuedouble > 1)) {
				return cfg_fail(ctx, w, "\"min_coverage\": a number from 0 to 1");
			}
			ru->min_coverage = cov ? cov->valuedouble : 0;
			ru->m_reg = true;
		} else {
			return cfg_fail(ctx, w, "must be true or an object {\"ids\", \"min_coverage\"}");
		}
	}
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(m, "pii");
	if (q) {
		snprintf(w, sizeof(w), "%s/pii", w0);
		long long min = 1;
		if (!cJSON_IsObject(q)) {
			return cfg_fail(ctx, w, "must be an object {\"types\", \"min_count\"}");
		}
		if ((r = cfg_check_keys(ctx, q, w, pii_keys)) < 0 ||
		    (r = get_list(ctx, q, w, "types", false, &ru->pii_types, &ru->n_pii)) < 0 ||
		    (r = cfg_get_int(ctx, q, w, "min_count", false, 1, 1000000000, &min)) < 0) {
			return r;
		}
		static const char *const pii_names[] = {"credit_card", "iban", "pt_nif"};
		for (size_t i = 0; i < ru->n_pii; i++) {
			if (name_index(ru->pii_types[i], pii_names, 3, false) < 0) {
				return cfg_fail(ctx, w,
						"\"types\": \"%s\" is not credit_card, iban or pt_nif",
						ru->pii_types[i]);
			}
		}
		ru->pii_min = (unsigned)min;
		ru->m_pii = true;
	}
	snprintf(w, sizeof(w), "%s/detectors", w0);
	if ((r = get_list(ctx, m, w0, "detectors", false, &ru->det_ids, &ru->n_det)) < 0) {
		return r;
	}
	for (size_t i = 0; i < ru->n_det; i++) {
		bool found = false;
		const cJSON *d;
		cJSON_ArrayForEach(d, detectors)
		{
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(d, "id"));
			found = found || (id && strcmp(id, ru->det_ids[i]) == 0);
		}
		if (!found) {
			return cfg_fail(ctx, w, "no detector with id \"%s\"", ru->det_ids[i]);
		}
	}
	ru->has_match = ru->m_class || ru->m_reg || ru->m_pii || ru->n_det;
	if (!ru->has_match) {
		return cfg_fail(ctx, w0, "names no condition (classification, registered, pii, "
					 "detectors)");
	}
	return 0;
}

static int
load_how(struct policy *p, struct cfg_ctx *ctx, const cJSON *h, const char *w,
	 struct rule *ru)
{
	const char **ev = NULL;
	size_t nev = 0;
	int r;
	if ((r = cfg_check_keys(ctx, h, w, how_keys)) < 0 ||
	    (r = get_list(ctx, h, w, "events", false, &ev, &nev)) < 0) {
		return r;
	}
	for (size_t i = 0; i < nev; i++) {
		int e = name_index(ev[i], event_names, POLICY_EV_COUNT, false);
		if (e < 0) {
			r = cfg_fail(ctx, w,
				     "\"events\": \"%s\" is not baseline, created, modified, moved, "
				     "copied or chmod",
				     ev[i]);
			break;
		}
		ru->events |= 1u << e;
	}
	free(ev);
	if (r < 0 || (r = get_zones(p, ctx, h, w, "from", &ru->from)) < 0) {
		return r;
	}
	if (ru->from) {
		/* a source zone only exists for moves and copies */
		unsigned mc = (1u << POLICY_EV_MOVED) | (1u << POLICY_EV_COPIED);
		if (ru->events & ~mc) {
			return cfg_fail(ctx, w, "\"from\" needs \"events\" limited to moved and "
						"copied (or none)");
		}
		ru->events = ru->events ? ru->events : mc;
	}
	const cJSON *wr = cJSON_GetObjectItemCaseSensitive(h, "world_readable");
	if (wr) {
		if (!cJSON_IsBool(wr)) {
			return cfg_fail(ctx, w, "\"world_readable\": must be true or false");
		}
		ru->world_readable = cJSON_IsTrue(wr);
		ru->info.world_readable = true;
	}
	return 0;
}

/* The signature: the rule's JSON and the globs of every zone it names. */
static void
rule_sign(const struct policy *p, const cJSON *obj, struct rule *ru)
{
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	char *s = cJSON_PrintUnformatted(obj);
	lw_sha256_update(h, s, strlen(s));
	cJSON_free(s);
	uint64_t used = ru->in | ru->not_in | ru->from;
	for (size_t z = 0; z < p->nzones; z++) {
		if (!(used >> z & 1)) {
			continue;
		}
		lw_sha256_update(h, "\n", 1);
		lw_sha256_update(h, p->zones[z].name, strlen(p->zones[z].name) + 1);
		for (size_t i = 0; i < p->zones[z].n; i++) {
			lw_sha256_update(h, p->zones[z].globs[i], strlen(p->zones[z].globs[i]) + 1);
		}
	}
	lw_sha256_final(h, ru->info.sig);
	lw_sha256_free(h);
}

static int
load_rule(struct policy *p, struct cfg_ctx *ctx, const cJSON *obj, size_t idx,
	  const cJSON *detectors, struct rule *ru)
{
	char w[64], w2[96];
	snprintf(w, sizeof(w), "/rules/%zu", idx);
	if (!cJSON_IsObject(obj)) {
		return cfg_fail(ctx, w, "must be an object");
	}
	const char *sev = NULL, *action = "alert";
	bool enabled = true;
	int r;
	ru->world_readable = -1;
	if ((r = cfg_check_keys(ctx, obj, w, rule_keys)) < 0 ||
	    (r = cfg_get_string(ctx, obj, w, "id", true, &ru->info.id)) < 0 ||
	    (r = cfg_get_string(ctx, obj, w, "severity", true, &sev)) < 0 ||
	    (r = cfg_get_string(ctx, obj, w, "message", false, &ru->info.message)) < 0 ||
	    (r = cfg_get_string(ctx, obj, w, "action", false, &action)) < 0 ||
	    (r = cfg_get_bool(ctx, obj, w, "enabled", false, &enabled)) < 0) {
		return r;
	}
	if (!ru->info.id[0] || strlen(ru->info.id) > 64) {
		return cfg_fail(ctx, w, "\"id\": 1 to 64 characters");
	}
	for (size_t i = 0; i < p->nrules; i++) {
		if (strcmp(p->rules[i].info.id, ru->info.id) == 0) {
			return cfg_fail(ctx, w, "\"id\": \"%s\" is used by /rules/%zu too",
					ru->info.id, i);
		}
	}
	int s = policy_severity_from_name(sev);
	if (s < 0) {
		return cfg_fail(ctx, w, "\"severity\": \"%s\" is not low, medium, high or critical",
				sev);
	}
	ru->info.severity = (enum policy_severity)s;
	if (strcmp(action, "alert") == 0) {
		ru->info.action = POLICY_ACTION_ALERT;
	} else if (strcmp(action, "quarantine") == 0) {
		ru->info.action = POLICY_ACTION_QUARANTINE;
	} else if (strcmp(action, "block") == 0) {
		ru->info.action = POLICY_ACTION_BLOCK;
	} else {
		return cfg_fail(ctx, w, "\"action\": \"%s\" is not alert, quarantine or block",
				action);
	}
	if ((r = load_allow(ctx, obj, w, ru)) < 0) {
		return r;
	}
	if (!ru->info.message) {
		ru->info.message = ru->info.id;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "match");
	if (m) {
		snprintf(w2, sizeof(w2), "%s/match", w);
		if (!cJSON_IsObject(m)) {
			return cfg_fail(ctx, w2, "must be an object");
		}
		if ((r = load_match(ctx, m, w2, detectors, ru)) < 0) {
			return r;
		}
	}
	const cJSON *wh = cJSON_GetObjectItemCaseSensitive(obj, "where");
	if (wh) {
		snprintf(w2, sizeof(w2), "%s/where", w);
		if (!cJSON_IsObject(wh)) {
			return cfg_fail(ctx, w2, "must be an object {\"in\", \"not_in\"}");
		}
		if ((r = cfg_check_keys(ctx, wh, w2, where_keys)) < 0 ||
		    (r = get_zones(p, ctx, wh, w2, "in", &ru->in)) < 0 ||
		    (r = get_zones(p, ctx, wh, w2, "not_in", &ru->not_in)) < 0) {
			return r;
		}
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "how");
	if (h) {
		snprintf(w2, sizeof(w2), "%s/how", w);
		if (!cJSON_IsObject(h)) {
			return cfg_fail(ctx, w2, "must be an object");
		}
		if ((r = load_how(p, ctx, h, w2, ru)) < 0) {
			return r;
		}
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "volume");
	if (v) {
		snprintf(w2, sizeof(w2), "%s/volume", w);
		long long count = 0, win = 0;
		const char *per = "owner";
		if (!cJSON_IsObject(v)) {
			return cfg_fail(ctx, w2, "must be an object {\"count\", \"window_s\", \"per\"}");
		}
		if ((r = cfg_check_keys(ctx, v, w2, volume_keys)) < 0 ||
		    (r = cfg_get_int(ctx, v, w2, "count", true, 2, 1000000, &count)) < 0 ||
		    (r = cfg_get_int(ctx, v, w2, "window_s", true, 1, 86400, &win)) < 0 ||
		    (r = cfg_get_string(ctx, v, w2, "per", false, &per)) < 0) {
			return r;
		}
		if (strcmp(per, "owner") == 0) {
			ru->info.volume_per = POLICY_PER_OWNER;
		} else if (strcmp(per, "machine") == 0) {
			ru->info.volume_per = POLICY_PER_MACHINE;
		} else {
			return cfg_fail(ctx, w2, "\"per\": \"%s\" is not owner or machine", per);
		}
		ru->info.volume = true;
		ru->info.volume_count = (unsigned)count;
		ru->info.volume_window_s = (unsigned)win;
	}
	rule_sign(p, obj, ru);
	return enabled ? 1 : 0;
}

static const char *const policy_keys[] = {"zones", "detectors", "rules", "comment", NULL};

int
policy_from_json(const cJSON *root_in, struct cfg_ctx *ctx, struct policy **out)
{
	if (!cJSON_IsObject(root_in)) {
		return cfg_fail(ctx, "", "the policy must be a JSON object");
	}
	struct policy *p = lw_new(struct policy, 1);
	p->root = cJSON_Duplicate(root_in, true);
	if (!p->root) {
		policy_release(p);
		return -ENOMEM;
	}
	const cJSON *root = p->root;
	int r = cfg_check_keys(ctx, root, "", policy_keys);
	if (r >= 0) {
		r = load_zones(p, ctx, root);
	}
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(root, "detectors");
	struct rules_set *set = NULL;
	if (r >= 0 && (r = policy_detectors_build(det, ctx, "/detectors", &set)) >= 0) {
		rules_free(set);
		char *s = det ? cJSON_PrintUnformatted(det) : NULL;
		p->detectors_json = lw_strdup(s ? s : "[]");
		cJSON_free(s);
	}
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
	if (r >= 0 && rules && !cJSON_IsArray(rules)) {
		r = cfg_fail(ctx, "/rules", "must be an array of rules");
	}
	if (r >= 0 && cJSON_GetArraySize(rules) > POLICY_RULES_MAX) {
		r = cfg_fail(ctx, "/rules", "at most %d rules", POLICY_RULES_MAX);
	}
	if (r >= 0) {
		p->rules = lw_new(struct rule, (size_t)cJSON_GetArraySize(rules) + 1);
		const cJSON *o;
		size_t i = 0;
		cJSON_ArrayForEach(o, rules)
		{
			struct rule *ru = &p->rules[p->nrules];
			*ru = (struct rule){0};
			int k = load_rule(p, ctx, o, i++, det, ru);
			if (k < 0) {
				/* the half-loaded rule's lists are freed with it */
				p->nrules++;
				r = k;
				break;
			}
			if (k == 1) {
				p->plain_files = p->plain_files || !ru->has_match;
				p->nrules++;
			} else {
				free(ru->reg_ids);
				free(ru->pii_types);
				free(ru->det_ids);
				free((void *)ru->info.allow);
			}
		}
	}
	if (r < 0) {
		policy_release(p);
		return r;
	}
	*out = p;
	return 0;
}

int
policy_load(const char *path, struct cfg_ctx *ctx, struct policy **out)
{
	cJSON *root = NULL;
	int r = cfg_parse_file(ctx, path, POLICY_MAX_BYTES, &root);
	if (r < 0) {
		return r;
	}
	r = policy_from_json(root, ctx, out);
	cJSON_Delete(root);
	return r;
}

struct policy *
policy_default(void)
{
	struct cfg_ctx ctx = {.file = "(built-in policy, packaging/policy.json)"};
	cJSON *root = NULL;
	struct policy *p = NULL;
	/* Checked by the unit tests: a build whose shipped policy does not
	 * load fails them, so this cannot fail at run time. */
	if (cfg_parse_buffer(&ctx, policy_default_json, strlen(policy_default_json), &root) < 0 ||
	    policy_from_json(root, &ctx, &p) < 0) {
		fprintf(stderr, "%s\n", ctx.err);
		abort();
	}
	cJSON_Delete(root);
	return p;
}

void
policy_digest(const struct policy *p, uint8_t out[LW_SHA256_LEN])
{
	struct lw_sha256 *h = lw_sha256_new();
	lw_sha256_init(h);
	char *s = cJSON_PrintUnformatted(p->root);
	lw_sha256_update(h, LW_VERSION, strlen(LW_VERSION) + 1);
	lw_sha256_update(h, s, strlen(s));
	cJSON_free(s);
	lw_sha256_final(h, out);
	lw_sha256_free(h);
}

size_t
policy_zone_count(const struct policy *p)
{
	return p->nzones;
}

const char *
policy_zone_name(const struct policy *p, unsigned idx)
{
	return idx < p->nzones ? p->zones[idx].name : NULL;
}

uint64_t
policy_zones_of(const struct policy *p, const char *path, size_t len)
{
	uint64_t m = 0;
	for (size_t z = 0; z < p->nzones; z++) {
		for (size_t i = 0; i < p->zones[z].n; i++) {
			if (lw_glob_match(p->zones[z].globs[i], path, len)) {
				m |= (uint64_t)1 << z;
				break;
			}
		}
	}
	return m;
}

const char *
policy_detectors_json(const struct policy *p)
{
	return p->detectors_json;
}

size_t
policy_rule_count(const struct policy *p)
{
	return p->nrules;
}

void
policy_rule_info(const struct policy *p, unsigned idx, struct policy_rule_info *out)
{
	*out = p->rules[idx].info;
}

bool
policy_rule_allows(const struct policy_rule_info *ri, const char *exe)
{
	for (size_t i = 0; exe && i < ri->nallow; i++) {
		if (lw_glob_match(ri->allow[i], exe, strlen(exe))) {
			return true;
		}
	}
	return false;
}

bool
policy_has_block_rules(const struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		if (p->rules[i].info.action == POLICY_ACTION_BLOCK) {
			return true;
		}
	}
	return false;
}

bool
policy_wants_plain_files(const struct policy *p)
{
	return p->plain_files;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0) {
			return true;
		}
	}
	return false;
}

static bool
what_holds(const struct rule *ru, const struct policy_file *f)
{
	if (!ru->has_match) {
		return true;
	}
	int held = 0, asked = 0;
	if (ru->m_class) {
		asked++;
		int s = name_index(f->scheme, scheme_names, 4, false);
		held += f->rank >= ru->class_min && s >= 0 && (!ru->schemes || (ru->schemes >> s & 1));
	}
	if (ru->m_reg) {
		asked++;
		bool any = false;
		for (size_t i = 0; i < f->n_matches && !any; i++) {
			any = f->matches[i].coverage >= ru->min_coverage &&
			      (!ru->reg_ids || in_list(f->matches[i].id, ru->reg_ids, ru->n_reg));
		}
		held += any;
	}
	if (ru->m_pii) {
		asked++;
		unsigned long total = 0;
		for (size_t i = 0; i < f->n_pii; i++) {
			if (!ru->pii_types || in_list(f->pii[i].type, ru->pii_types, ru->n_pii)) {
				total += f->pii[i].count;
			}
		}
		held += total >= ru->pii_min;
	}
	if (ru->n_det) {
		asked++;
		bool any = false;
		for (size_t i = 0; i < ru->n_det && !any; i++) {
			any = in_list(ru->det_ids[i], f->detectors, f->n_detectors);
		}
		held += any;
	}
	return ru->match_all ? held == asked : held > 0;
}

size_t
policy_eval(const struct policy *p, const struct policy_file *f,
	    const struct policy_event_ctx *ev, unsigned *hits, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nrules && n < max; i++) {
		const struct rule *ru = &p->rules[i];
		if ((ru->in && !(ev->zones & ru->in)) || (ev->zones & ru->not_in)) {
			continue;
		}
		if (ru->events && !(ru->events >> ev->kind & 1)) {
			continue;
		}
		if (ru->from && !(ev->from_zones & ru->from)) {
			continue;
		}
		if (ru->world_readable >= 0 && ((f->mode & 04) != 0) != (ru->world_readable == 1)) {
			continue;
		}
		if (!what_holds(ru, f)) {
			continue;
		}
		hits[n++] = (unsigned)i;
	}
	return n;
}

static void
append(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0) {
		abort(); /* out of memory, as lw_malloc */
	}
	*buf = lw_realloc(*buf, *len + (size_t)k + 1);
	memcpy(*buf + *len, s, (size_t)k + 1);
	*len += (size_t)k;
	free(s);
}

static void
append_zones(char **b, size_t *l, const struct policy *p, uint64_t m)
{
	const char *sep = "";
	for (size_t z = 0; z < p->nzones; z++) {
		if (m >> z & 1) {
			append(b, l, "%s%s", sep, p->zones[z].name);
			sep = ", ";
		}
	}
}

char *
policy_explain(const struct policy *p)
{
	char *b = NULL;
	size_t l = 0;
	append(&b, &l, "%zu zones:\n", p->nzones);
	for (size_t z = 0; z < p->nzones; z++) {
		append(&b, &l, "  %-10s", p->zones[z].name);
		for (size_t i = 0; i < p->zones[z].n; i++) {
			append(&b, &l, " %s", p->zones[z].globs[i]);
		}
		append(&b, &l, "\n");
	}
	append(&b, &l, "%zu rules:\n", p->nrules);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *ru = &p->rules[i];
		append(&b, &l, "  %s [%s, %s]: ", ru->info.id, policy_severity_name(ru->info.severity),
		       policy_action_name(ru->info.action));
		if (!ru->has_match) {
			append(&b, &l, "any file");
		}
		const char *join = ru->match_all ? " and " : " or ";
		const char *sep = "";
		if (ru->m_class) {
			append(&b, &l, "classified %s or above", level_names[ru->class_min - 1]);
			sep = join;
		}
		if (ru->m_reg) {
			append(&b, &l, "%sa registered document", sep);
			if (ru->min_coverage > 0) {
				append(&b, &l, " (coverage >= %.2f)", ru->min_coverage);
			}
			sep = join;
		}
		if (ru->m_pii) {
			append(&b, &l, "%sat least %u PII items", sep, ru->pii_min);
			sep = join;
		}
		if (ru->n_det) {
			append(&b, &l, "%sdetector %s", sep, ru->det_ids[0]);
			for (size_t k = 1; k < ru->n_det; k++) {
				append(&b, &l, "/%s", ru->det_ids[k]);
			}
		}
		if (ru->in) {
			append(&b, &l, "; in ");
			append_zones(&b, &l, p, ru->in);
		}
		if (ru->not_in) {
			append(&b, &l, "; not in ");
			append_zones(&b, &l, p, ru->not_in);
		}
		if (ru->info.action == POLICY_ACTION_BLOCK) {
			append(&b, &l, "; opens denied but by");
			for (size_t k = 0; k < ru->info.nallow; k++) {
				append(&b, &l, " %s", ru->info.allow[k]);
			}
			append(&b, &l, ru->info.nallow ? " and the agent" : " the agent");
		}
		if (ru->events) {
			append(&b, &l, "; on");
			for (int e = 0; e < POLICY_EV_COUNT; e++) {
				if (ru->events >> e & 1) {
					append(&b, &l, " %s", event_names[e]);
				}
			}
		}
		if (ru->from) {
			append(&b, &l, " from ");
			append_zones(&b, &l, p, ru->from);
		}
		if (ru->world_readable >= 0) {
			append(&b, &l, "; %s", ru->world_readable ? "world-readable" : "not world-readable");
		}
		if (ru->info.volume) {
			append(&b, &l, "; one violation per burst of %u within %u s per %s",
			       ru->info.volume_count, ru->info.volume_window_s,
			       ru->info.volume_per == POLICY_PER_OWNER ? "owner" : "machine");
		}
		append(&b, &l, "\n");
	}
	return b;
}
