/* enforce.h — block rules: deny opens of protected files (opt-in).
 *
 * A fanotify group of its own (FAN_CLASS_CONTENT) holds an FAN_OPEN_PERM
 * mark on each file that a block rule protects; the kernel then holds every
 * open of such a file until the agent answers. The verdict thread answers:
 * the agent itself and its helpers (its children) are always allowed, so
 * are programs the rule's "allow" list names; everything else gets EPERM
 * and a denial record. The verdict thread only reads /proc and fstat()s
 * the file: it never logs, never touches the database and never opens a
 * file. Denials go through a bounded ring to a reporter thread, which hands
 * them to @report (the writer raises the violation).
 *
 * Safety, because a stuck permission group hangs every program that opens
 * a protected file:
 * - A guard process, forked at activation, shares the group. When the
 *   verdict thread has not shown life for the deadline (the agent stopped,
 *   wedged or swapped out), the guard answers every pending open with
 *   allow, counts it and says so once on stderr. It dies with the agent.
 * - Deactivation closes the group: the kernel drops every mark and lets
 *   pending opens through. `leakwatch enforce off` (a flag file in the
 *   state directory, read every second) does that and survives restarts.
 * - Only inode marks: nothing but the protected files costs anything.
 *
 * Threads: enforcer_activate/deactivate/free from the main thread;
 * protect/unprotect from the writer; stats from anyone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct enforcer;

struct enforce_denial {
	char *path;      /* as /proc/self/fd names the opened file */
	char *rule;      /* the block rule's id */
	char *process;   /* procinfo.h JSON of the opener */
};

struct enforce_stats {
	bool active;
	int64_t protected_files;
	int64_t allowed;   /* opens of protected files let through */
	int64_t denied;
	int64_t timeouts;  /* answered allow by the guard after the deadline */
	int64_t dropped;   /* denials not reported: the ring was full */
};

/* @report is called on the reporter thread for each denial (it takes the
 * strings). */
struct enforcer *enforcer_new(unsigned deadline_ms,
			      void (*report)(void *arg, struct enforce_denial *d), void *arg);
/* Frees; deactivates first. NULL is a no-op. */
void enforcer_free(struct enforcer *e);
/* Creates the group, the verdict and reporter threads and the guard.
 * 0 or -errno (no CAP_SYS_ADMIN, no kernel support). Idempotent. */
int enforcer_activate(struct enforcer *e);
/* Closes the group (every open proceeds), stops the threads and the
 * guard, forgets every protected file. Idempotent. */
void enforcer_deactivate(struct enforcer *e);
bool enforcer_active(struct enforcer *e);

/* The file at @path (inode @dev/@ino) is protected by block rule @ri.
 * No-op when inactive. 0 or -errno. */
int enforcer_protect(struct enforcer *e, const char *path, uint64_t dev, uint64_t ino,
		     const struct policy_rule_info *ri);
/* It no longer is (content or place changed). */
void enforcer_unprotect(struct enforcer *e, const char *path, uint64_t dev, uint64_t ino);

void enforcer_stats(struct enforcer *e, struct enforce_stats *out);
