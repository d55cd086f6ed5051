/* watch-inotifytools.c — the libinotifytools backend (see watch-backend.h).
 *
 * libinotifytools keeps process-global state and is not thread-safe: the
 * watcher thread makes every call. We use only its safe subset
 * (doc/notes/libinotifytools.md §2): initialize, watch_file, next_events
 * with num = 1, remove_watch_by_wd on live watches, error, cleanup. Its own
 * wd/path maps are never consulted; agent/dirmap.c is the truth.
 *
 * Quirks handled here:
 * - inotifytools_initialize() returns 1 on success and opens the fd without
 *   IN_CLOEXEC (3.22.6.0 L318) and never exposes it: we find it in
 *   /proc/self/fd and set FD_CLOEXEC so that helper processes do not inherit
 *   it. It must be initialised before the daemon opens many fds, because
 *   next_events() select()s on it and aborts for fds >= FD_SETSIZE.
 * - We watch "/proc/self/fd/N" of a directory we opened with O_NOFOLLOW: the
 *   kernel resolves the magic link to exactly that inode, so a directory
 *   swapped for another between our open and the watch cannot be watched by
 *   mistake. The library stores that string as the watch's name, which is
 *   harmless since we never ask it for names.
 * - watch_file() returns 1/0, not the wd, and the library's filename map
 *   keeps the first entry when names repeat (create_watch L1111), so
 *   wd_from_filename() cannot be trusted. After watch_file() succeeds we
 *   repeat the identical inotify_add_watch() on the library's fd: for an
 *   inode already watched with the same mask the kernel changes nothing and
 *   returns its wd (inotify_add_watch(2)).
 * - next_events(timeout, 1): timeout is whole seconds; num > 1 busy-loops.
 */
#include "watch-backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>

#include "log.h"

/* What every directory watch asks for. IN_ONLYDIR + IN_DONT_FOLLOW are not
 * used: the fd we name is already an O_NOFOLLOW directory, and the magic
 * link must be followed. */
#define LW_WATCH_MASK                                                          \
	(IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE |    \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK)

/* The library's inotify fd, found in /proc/self/fd after initialisation.
 * Written once by it_init() on the watcher thread. */
static int it_fd = -1;

static int
find_inotify_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		return -errno;
	}
	int found = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d))) {
		char link[300], target[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0) {
			continue;
		}
		target[n] = '\0';
		if (strcmp(target, "anon_inode:inotify") == 0) {
			int fd = atoi(de->d_name);
			int fl = fcntl(fd, F_GETFD);
			/* ours is the one without FD_CLOEXEC: any inotify fd we
			 * open ourselves is created with IN_CLOEXEC */
			if (fl >= 0 && !(fl & FD_CLOEXEC)) {
				fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
				found = fd;
			}
		}
	}
	closedir(d);
	return found;
}

static int
it_init(void **ctx, unsigned flags)
{
	(void)flags; /* inotify events name no process */
	*ctx = NULL;
	if (inotifytools_initialize() != 1) {
		int e = inotifytools_error();
		return -(e ? e : EIO);
	}
	int fd = find_inotify_fd();
	if (fd < 0) {
		log_err("watch: cannot find the library's inotify fd in /proc/self/fd: %s",
			strerror(-fd));
		inotifytools_cleanup();
		return fd;
	}
	it_fd = fd;
	return 0;
}

static void
it_fini(void *ctx)
{
	inotifytools_cleanup();
	it_fd = -1;
}

static int
it_add(void *ctx, int dirfd, const char *path)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	if (inotifytools_watch_file(proc, LW_WATCH_MASK) != 1) {
		int e = inotifytools_error();
		return -(e ? e : EIO);
	}
	/* see the header comment: the idempotent re-add yields the wd */
	int wd = inotify_add_watch(it_fd, proc, LW_WATCH_MASK);
	if (wd < 0) {
		int e = errno;
		log_warn("watch: %s: watched, but its wd is unknown: %s", path, strerror(e));
		return -e;
	}
	return wd;
}

static int
it_remove(void *ctx, int wd)
{
	return inotifytools_remove_watch_by_wd(wd) == 1 ? 0 : -EINVAL;
}

static int
it_next(void *ctx, int timeout_s, struct watch_event *ev)
{
	struct inotify_event *e = inotifytools_next_events(timeout_s, 1);
	if (!e) {
		int err = inotifytools_error();
		if (err == 0) {
			return 0;
		}
		return err == EINTR ? -EINTR : -err;
	}
	ev->wd = e->wd;
	ev->mask = e->mask;
	ev->cookie = e->cookie;
	ev->name = e->len ? e->name : "";
	ev->name_len = e->len ? strnlen(e->name, e->len) : 0;
	ev->proc = NULL;
	return 1;
}

const struct watch_backend watch_backend_inotifytools = {
	.id = "inotify",
	.name = "inotify (libinotifytools)",
	.init = it_init,
	.fini = it_fini,
	.add = it_add,
	.remove = it_remove,
	.next = it_next,
};
