/* verdict.h — applying the policy to the inventory: the writer thread calls
 * these around every change it applies, inside the same transaction, so a
 * violation, its event in the outbox and the inventory change it is about
 * are committed together or not at all.
 *
 * Owns: the policy in force, the volume windows, the owner-name cache.
 * Thread: the writer's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

struct verdict;

/* @st is the writer's store (borrowed); @p is taken. @qdir: the quarantine
 * directory (state_dir/quarantine). */
struct verdict *verdict_new(struct store *st, struct policy *p, const char *qdir);
void verdict_free(struct verdict *vd); /* NULL is a no-op */
/* Replaces the policy (taken). */
void verdict_set_policy(struct verdict *vd, struct policy *p);
/* Evaluates every live sensitive file as a baseline (after a new policy);
 * violations already raised under an unchanged rule are not raised again. */
int verdict_reevaluate(struct verdict *vd, int64_t now);
/* Worth judging? A cheap look at @rec before the writer reads the old row. */
bool verdict_wants(const struct verdict *vd, const struct file_rec *rec);
/* True if @path has a live sighting (sensitive content reported there):
 * a put of content that verdict_wants() passes over must still be judged,
 * to report that content gone from the path. */
bool verdict_sighted(const struct verdict *vd, const char *path, size_t len);
/* Report sensitive files (sightings) as events for the collector. */
void verdict_set_sightings(struct verdict *vd, bool on);
/* The start-up walk is over: from now on a new file is "created", not
 * "baseline". */
void verdict_baseline_done(struct verdict *vd);

/* A file was recorded at @path: @old is the live row that was there
 * before (NULL when none), @rec what is there now. Call after the put. */
int verdict_put(struct verdict *vd, const char *path, size_t len, const struct file_rec *old,
		const struct file_rec *rec, int64_t now);
/* A rename, after it was applied (every file below @to for a directory).
 * @process: who renamed it (procinfo.h JSON) or NULL. */
int verdict_moved(struct verdict *vd, const char *from, size_t flen, const char *to,
		  size_t tlen, bool is_dir, const char *process, int64_t now);
/* The file at @path is gone. */
int verdict_gone(struct verdict *vd, const char *path, size_t len);
/* Files below @dir went (a deleted tree, a sweep). */
int verdict_gone_below(struct verdict *vd, const char *dir, size_t len);
/* The writer's batch committed (a failed one is applied again and finds
 * the side effects it had, such as quarantine moves). */
void verdict_batch_committed(struct verdict *vd);
/* Block rules' marks go to @e (borrowed; NULL: none); with @e, every
 * protected file in the inventory is marked now. */
struct enforcer;
int verdict_set_enforcer(struct verdict *vd, struct enforcer *e);
/* An open of @path was denied under block rule @rule; @process: the opener
 * (procinfo.h JSON). Raises the violation (action "block", result
 * "denied", event "open"). */
int verdict_blocked(struct verdict *vd, const char *path, size_t len, const char *rule,
		    const char *process, int64_t now);
/* The event log it writes to (the writer marks acknowledged events and
 * bounds the outbox through it). */
struct vstore *verdict_vstore(struct verdict *vd);
/* Violations raised since start (for status). */
int64_t verdict_raised(const struct verdict *vd);
