/* watch-backend.h — the event source behind the watcher.
 *
 * A small interface so that the inotify layer (libinotifytools today) can be
 * swapped for a filesystem-wide fanotify backend on privileged hosts without
 * touching the watcher. Every call comes from the watcher thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct watch_event {
	int wd;            /* -1 for queue overflow */
	uint32_t mask;     /* IN_* bits */
	uint32_t cookie;
	const char *name;  /* borrowed until the next call of next() */
	size_t name_len;   /* without the kernel's NUL padding */
};

struct watch_backend {
	const char *name;
	/* 0 or -errno. */
	int (*init)(void);
	void (*fini)(void);
	/* Watches the directory open at @dirfd (@path for messages). Returns
	 * the wd, or -errno (-ENOSPC at the watch limit). */
	int (*add)(int dirfd, const char *path);
	/* Drops a live watch; 0 or -errno. */
	int (*remove)(int wd);
	/* Waits up to @timeout_s seconds (0: poll) for one event. Returns 1 with
	 * @ev filled, 0 on timeout, -EINTR when interrupted by a signal, or
	 * -errno. */
	int (*next)(int timeout_s, struct watch_event *ev);
};

extern const struct watch_backend watch_backend_inotifytools;
