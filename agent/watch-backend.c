/* watch-backend.c — choosing the event source (see watch-backend.h).
 *
 * "auto" prefers fanotify: filesystem marks have no per-directory watch,
 * so neither the inotify watch limit nor the race between a directory's
 * creation and its watch applies, and events carry the process.
 * It needs CAP_SYS_ADMIN and FAN_REPORT_DFID_NAME (Linux 5.9; FAN_RENAME
 * 5.17): where fanotify_init() refuses, inotify it is, and the log says
 * which and why. "fanotify" named explicitly is not silently replaced. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "watch-backend.h"

static int
open_one(const struct watch_backend *b, unsigned flags, const struct watch_backend **be,
	 void **ctx)
{
	int r = b->init(ctx, flags);
	if (r == 0) {
		*be = b;
	}
	return r;
}

int
watch_backend_open(const char *choice, unsigned flags, const struct watch_backend **be,
		   void **ctx)
{
	*be = NULL;
	*ctx = NULL;
	int r;
	if (strcmp(choice, "inotify") != 0) {
		r = open_one(&watch_backend_fanotify, flags, be, ctx);
		if (r == 0) {
			log_info("watch: backend %s", (*be)->name);
			return 0;
		}
		if (strcmp(choice, "fanotify") == 0) {
			log_err("watch: backend fanotify: %s%s", strerror(-r),
				r == -EPERM ? " (it needs CAP_SYS_ADMIN)" : "");
			return r;
		}
		log_info("watch: fanotify unavailable (%s); using inotify", strerror(-r));
	}
	r = open_one(&watch_backend_inotifytools, flags, be, ctx);
	if (r < 0) {
		log_err("watch: cannot initialise %s: %s", watch_backend_inotifytools.name,
			strerror(-r));
		return r;
	}
	log_info("watch: backend %s", (*be)->name);
	return 0;
}
