/* watch-backend.h — the event source behind the watcher.
 *
 * A small interface so that the inotify layer (libinotifytools) and the
 * filesystem-wide fanotify backend are interchangeable under the watcher.
 * Events look like inotify's either way (wd, IN_* mask, cookie, name).
 * Every call comes from one thread at a time: the main thread until the
 * watcher starts, the watcher thread after. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct lw_proc;

struct watch_event {
	int wd;            /* -1 for queue overflow */
	uint32_t mask;     /* IN_* bits */
	uint32_t cookie;
	const char *name;  /* borrowed until the next call of next() */
	size_t name_len;   /* without the kernel's NUL padding */
	/* The process that caused it (fanotify with WATCH_PIDS: procinfo.h),
	 * resolved as the event was read; borrowed until the next call of
	 * next(). NULL: not known. */
	struct lw_proc *proc;
};

/* init() flags */
#define WATCH_PIDS 1u /* report the process behind each event where possible */

struct watch_backend {
	const char *id;   /* "inotify", "fanotify": status and configuration */
	const char *name; /* for the log */
	/* 0 and *ctx (the backend's own state), or -errno. @flags: WATCH_*. */
	int (*init)(void **ctx, unsigned flags);
	void (*fini)(void *ctx);
	/* Watches the directory open at @dirfd (@path for messages). Returns
	 * the wd, or -errno (-ENOSPC at the watch limit). */
	int (*add)(void *ctx, int dirfd, const char *path);
	/* Drops a live watch; 0 or -errno. */
	int (*remove)(void *ctx, int wd);
	/* Waits up to @timeout_s seconds (0: poll) for one event. Returns 1 with
	 * @ev filled, 0 on timeout, -EINTR when interrupted by a signal, or
	 * -errno. */
	int (*next)(void *ctx, int timeout_s, struct watch_event *ev);
	/* The WATCH_* flags in effect (a kernel may lack what was asked). */
	unsigned (*flags)(void *ctx);
};

/* inotify through libinotifytools: a watch per directory (the per-user
 * limit applies); no process in the events. Its state is the library's
 * own, global; ctx is unused. */
extern const struct watch_backend watch_backend_inotifytools;
/* fanotify filesystem marks with FAN_REPORT_DFID_NAME (watch-fanotify.c):
 * no per-directory watch, so no watch limit. Needs CAP_SYS_ADMIN. */
extern const struct watch_backend watch_backend_fanotify;

/* The configured backend ("auto", "inotify" or "fanotify"), initialised:
 * auto is fanotify where the kernel and the agent's privileges allow it,
 * else inotify. 0, or -errno with the reason logged. */
int watch_backend_open(const char *choice, unsigned flags, const struct watch_backend **be,
		       void **ctx);
