/* policy.h — the policy: zones, content detectors and rules, and the verdict
 * for one file in one event. Pure computation apart from reading the policy
 * file; the agent supplies the facts (what the file is, where it is, how it
 * got there) and keeps the state (dedup, volume windows, violations).
 *
 * The file format is documented in README.md ("Policy") with a complete
 * example in packaging/policy.json. In short:
 *
 *   zones      name -> globs (glob.h). secure, removable, sync and staging
 *              have built-in defaults; naming one replaces its default.
 *   detectors  custom keyword/regex rules (rules.h) by id.
 *   rules      id, severity, message, action, and conditions:
 *     match    what the file is — classification (min level, schemes),
 *              registered (ids, min_coverage), pii (types, min_count),
 *              detectors (ids). Any one listed condition suffices ("all":
 *              true: every one). No "match": any file.
 *     where    in / not_in zones: the file's current path.
 *     how      events (baseline, created, modified, moved, copied, chmod),
 *              from (zones the file was moved or copied from),
 *              world_readable.
 *     volume   count, window_s, per (machine | owner): the rule raises one
 *              bulk violation when count matching files arrive within
 *              window_s seconds, instead of one per file.
 *     allow    with "action": "block", the programs (globs over the
 *              executable's path) that may still open the files.
 * Every part present must hold.
 *
 * A policy is immutable once loaded; any number of threads may read it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "hash.h"

struct rules_set;

enum policy_severity {
	POLICY_SEV_LOW = 1,
	POLICY_SEV_MEDIUM,
	POLICY_SEV_HIGH,
	POLICY_SEV_CRITICAL,
};

enum policy_action {
	POLICY_ACTION_ALERT,
	POLICY_ACTION_QUARANTINE,
	/* deny opens of the matching files by programs not in "allow"
	 * (agent/enforce.h); no "how" and no "volume": an open is not one of
	 * the events, and each denial is its own */
	POLICY_ACTION_BLOCK,
};

/* How the file came to be where it is. BASELINE: found by a scan, not by a
 * live event (start-up, a reconciling rescan, a policy reload). */
enum policy_event {
	POLICY_EV_BASELINE,
	POLICY_EV_CREATED,
	POLICY_EV_MODIFIED,
	POLICY_EV_MOVED,
	POLICY_EV_COPIED,
	POLICY_EV_CHMOD,
	POLICY_EV_COUNT
};

enum policy_per {
	POLICY_PER_MACHINE,
	POLICY_PER_OWNER,
};

#define POLICY_ZONES_MAX 64

struct policy;

/* What the file is, as the classifier found it. */
struct policy_pii {
	const char *type;
	unsigned count;
};
struct policy_match {
	const char *id;
	double coverage; /* 1.0 for an exact copy */
};
struct policy_file {
	const char *path;
	size_t len;
	int rank;                 /* 0 none, 1 UNCLASSIFIED ... 5 TOP SECRET */
	const char *scheme;       /* "NATO", "EU", "US", "PT"; NULL when none */
	const struct policy_match *matches;
	size_t n_matches;
	const struct policy_pii *pii;
	size_t n_pii;
	const char *const *detectors; /* ids of the detectors that fired */
	size_t n_detectors;
	uint32_t mode;
	uint32_t uid;
};

struct policy_event_ctx {
	enum policy_event kind;
	uint64_t zones;      /* policy_zones_of(path) */
	uint64_t from_zones; /* of the old path (moved) or the source (copied) */
};

/* Loads and validates @path. On failure returns -errno with one message
 * naming the file and the place in ctx->err; nothing is half-loaded. */
int policy_load(const char *path, struct cfg_ctx *ctx, struct policy **out);
/* The same from a parsed tree; ctx->file names it in messages. */
int policy_from_json(const cJSON *root, struct cfg_ctx *ctx, struct policy **out);
/* The shipped default policy (packaging/policy.json, compiled in): what the
 * agent applies when its config names none. Never NULL. */
struct policy *policy_default(void);
void policy_free(struct policy *p); /* NULL is a no-op */

/* A digest of the whole policy as loaded (and of this build, whose
 * built-in defaults it depends on): equal digests judge alike. */
void policy_digest(const struct policy *p, uint8_t out[LW_SHA256_LEN]);

/* --- zones --- */
size_t policy_zone_count(const struct policy *p);
const char *policy_zone_name(const struct policy *p, unsigned idx);
/* Bit i set: @path lies in zone i. */
uint64_t policy_zones_of(const struct policy *p, const char *path, size_t len);

/* --- detectors --- */
/* The detectors as canonical JSON (an array; "[]" when none): the classify
 * helper builds its rules_set from exactly this text. */
const char *policy_detectors_json(const struct policy *p);
/* Builds a rules_set from such an array. On failure -EINVAL with the place
 * in ctx->err (pointer prefix @where). */
int policy_detectors_build(const cJSON *arr, struct cfg_ctx *ctx, const char *where,
			   struct rules_set **out);

/* --- rules --- */
size_t policy_rule_count(const struct policy *p);
struct policy_rule_info {
	const char *id;
	const char *message;
	enum policy_severity severity;
	enum policy_action action;
	bool volume;              /* a bulk rule */
	unsigned volume_count;
	unsigned volume_window_s;
	enum policy_per volume_per;
	bool world_readable;      /* the rule looks at the mode */
	/* block rules: executables (globs, glob.h) that may open the files */
	const char *const *allow;
	size_t nallow;
	/* SHA-256 of the rule's definition and of the zones it names: a new
	 * signature means "the rule itself changed". */
	uint8_t sig[LW_SHA256_LEN];
};
void policy_rule_info(const struct policy *p, unsigned idx, struct policy_rule_info *out);
/* A block rule lets @exe (an absolute path) open its files. */
bool policy_rule_allows(const struct policy_rule_info *ri, const char *exe);
/* Some enabled rule has "action": "block". */
bool policy_has_block_rules(const struct policy *p);
/* True when some rule can hold for a file with no findings at all (a rule
 * without "match"); otherwise callers may skip such files. */
bool policy_wants_plain_files(const struct policy *p);
/* Evaluates every rule for @f in @ev; writes the indices of the rules that
 * hold into @hits (at most @max) and returns how many. Volume rules are
 * reported like the others; the caller counts them (policy_volume). */
size_t policy_eval(const struct policy *p, const struct policy_file *f,
		   const struct policy_event_ctx *ev, unsigned *hits, size_t max);

/* A few lines explaining the policy to an administrator (leakwatch policy
 * check). Caller frees. */
char *policy_explain(const struct policy *p);

/* Names. */
const char *policy_severity_name(enum policy_severity s);
int policy_severity_from_name(const char *name); /* -1 unknown */
const char *policy_action_name(enum policy_action a);
const char *policy_event_name(enum policy_event e);

/* --- volume windows (bulk staging) ---
 * The counting state of a policy's volume rules; one owner (the agent's
 * writer thread). Times are seconds, from the caller's clock. */
struct policy_volume;
struct policy_volume *policy_volume_new(void);
void policy_volume_free(struct policy_volume *v); /* NULL is a no-op */
/* Counts one matching file for rule @rule (its info @ri) and @key (the
 * owner's uid, or 0 per machine) at @now_ms. Returns the burst's count when
 * this file makes the burst reach the rule's count (raise one violation
 * now), else 0 (below the count, or the burst was raised already). A burst
 * ends when window_s passes without a matching file. */
unsigned policy_volume_add(struct policy_volume *v, unsigned rule,
			   const struct policy_rule_info *ri, uint32_t key, int64_t now_ms);
