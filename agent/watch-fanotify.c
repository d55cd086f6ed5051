/* watch-fanotify.c — the fanotify backend (see watch-backend.h).
 *
 * One fanotify group in FAN_REPORT_DFID_NAME mode with a filesystem mark
 * (FAN_MARK_FILESYSTEM) on every file system that holds a watched
 * directory. The kernel then reports every create, delete, rename,
 * close-after-write and attribute change on those file systems, each with
 * the file handle of the directory it happened in and the entry's name.
 * There is no watch per directory, so no watch limit and no window
 * between a directory's creation and its watch: "adding a watch" only
 * registers the directory's handle here, under a wd of our own, and events
 * in directories that are not registered (outside the roots, excluded,
 * the agent's own state) are dropped as soon as they are read.
 *
 * The watcher speaks inotify: each fanotify event becomes one or two
 * watch_events with IN_* bits. A rename (FAN_RENAME: old and new
 * directory and name in one event) becomes IN_MOVED_FROM then IN_MOVED_TO
 * with a cookie of our own; a half whose directory is not registered is
 * left out, which the watcher reads as a move in from or out to elsewhere.
 * The kernel merges events on the same entry, so one event may say create
 * and delete: for a directory both are passed on, the delete first (a
 * walk then finds whether it exists); for a file any change is one event,
 * because the watcher stats the path anyway. A directory's DELETE_SELF is
 * followed by IN_IGNORED, as inotify does, and its registration goes.
 *
 * Overflow (FAN_Q_OVERFLOW: fs.fanotify.max_queued_events) is passed on as
 * inotify's, and leads to the same reconciling rescan. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "watch-backend.h"

#define FA_MASK                                                                    \
	(FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB |    \
	 FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR)
#define FA_BUF (256 * 1024)
#define FA_HANDLE_MAX 128 /* MAX_HANDLE_SZ */
#define FA_BUCKETS 4096   /* grows by doubling */

/* A registered directory: its file handle (with its file system's id) and
 * the wd the watcher knows it by. */
struct fa_dir {
	struct fa_dir *by_key_next, *by_wd_next;
	int wd;
	uint64_t fsid;
	int type;
	unsigned len;
	unsigned char handle[];
};

struct fa_state {
	int fd;
	struct fa_dir **by_key, **by_wd;
	size_t nbuckets, count;
	int next_wd;
	uint32_t next_cookie;
	uint64_t *marked; /* file systems marked */
	size_t nmarked;
	char *buf;
	size_t len, off;  /* events read, and how far they are handed out */
	/* up to three watch_events made from one fanotify event */
	struct watch_event pend[3];
	char names[3][NAME_MAX + 1];
	int npend, ipend;
};

static uint64_t
key_hash(uint64_t fsid, int type, const unsigned char *h, unsigned len)
{
	uint64_t x = 1469598103934665603ull ^ fsid ^ ((uint64_t)(unsigned)type << 32);
	for (unsigned i = 0; i < len; i++) {
		x = (x ^ h[i]) * 1099511628211ull;
	}
	return x;
}

static struct fa_dir *
find_key(struct fa_state *s, uint64_t fsid, int type, const unsigned char *h, unsigned len)
{
	struct fa_dir *d = s->by_key[key_hash(fsid, type, h, len) & (s->nbuckets - 1)];
	for (; d; d = d->by_key_next) {
		if (d->fsid == fsid && d->type == type && d->len == len &&
		    memcmp(d->handle, h, len) == 0) {
			return d;
		}
	}
	return NULL;
}

static struct fa_dir **
wd_slot(struct fa_state *s, int wd)
{
	struct fa_dir **p = &s->by_wd[(unsigned)wd & (s->nbuckets - 1)];
	while (*p && (*p)->wd != wd) {
		p = &(*p)->by_wd_next;
	}
	return p;
}

static void
link_dir(struct fa_state *s, struct fa_dir *d)
{
	struct fa_dir **k = &s->by_key[key_hash(d->fsid, d->type, d->handle, d->len) &
				       (s->nbuckets - 1)];
	d->by_key_next = *k;
	*k = d;
	struct fa_dir **w = &s->by_wd[(unsigned)d->wd & (s->nbuckets - 1)];
	d->by_wd_next = *w;
	*w = d;
}

static void
grow(struct fa_state *s)
{
	size_t old = s->nbuckets;
	struct fa_dir **keys = s->by_key;
	s->nbuckets = old * 2;
	s->by_key = lw_new(struct fa_dir *, s->nbuckets);
	s->by_wd = (free(s->by_wd), lw_new(struct fa_dir *, s->nbuckets));
	for (size_t i = 0; i < old; i++) {
		for (struct fa_dir *d = keys[i], *next; d; d = next) {
			next = d->by_key_next;
			link_dir(s, d);
		}
	}
	free(keys);
}

static void
unlink_dir(struct fa_state *s, struct fa_dir *d)
{
	struct fa_dir **k = &s->by_key[key_hash(d->fsid, d->type, d->handle, d->len) &
				       (s->nbuckets - 1)];
	while (*k != d) {
		k = &(*k)->by_key_next;
	}
	*k = d->by_key_next;
	struct fa_dir **w = wd_slot(s, d->wd);
	*w = d->by_wd_next;
	s->count--;
	free(d);
}

static int
fa_init(void **ctx)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	/* Unprivileged fanotify (a user namespace) has groups but no
	 * filesystem marks: find out now, not at the first directory. */
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FA_MASK, AT_FDCWD, "/") < 0 ||
	    fanotify_mark(fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, FA_MASK, AT_FDCWD, "/") < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct fa_state *s = lw_new(struct fa_state, 1);
	s->fd = fd;
	s->nbuckets = FA_BUCKETS;
	s->by_key = lw_new(struct fa_dir *, s->nbuckets);
	s->by_wd = lw_new(struct fa_dir *, s->nbuckets);
	s->next_wd = 1;
	s->buf = lw_malloc(FA_BUF);
	*ctx = s;
	return 0;
}

static void
fa_fini(void *ctx)
{
	struct fa_state *s = ctx;
	if (!s) {
		return;
	}
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct fa_dir *d = s->by_key[i], *next; d; d = next) {
			next = d->by_key_next;
			free(d);
		}
	}
	close(s->fd);
	free(s->by_key);
	free(s->by_wd);
	free(s->marked);
	free(s->buf);
	free(s);
}

static uint64_t
fsid_of(const struct statfs *sf)
{
	uint64_t a, b;
	memcpy(&a, &sf->f_fsid, sizeof(uint32_t));
	memcpy(&b, (const char *)&sf->f_fsid + sizeof(uint32_t), sizeof(uint32_t));
	return (a & 0xffffffffu) | (b << 32);
}

/* The kernel's fsid as events carry it (__kernel_fsid_t: two ints). */
static uint64_t
fsid_of_event(const void *p)
{
	uint32_t v[2];
	memcpy(v, p, sizeof(v));
	return (uint64_t)v[0] | ((uint64_t)v[1] << 32);
}

static int
fa_add(void *ctx, int dirfd, const char *path)
{
	struct fa_state *s = ctx;
	struct statfs sf;
	if (fstatfs(dirfd, &sf) < 0) {
		return -errno;
	}
	uint64_t fsid = fsid_of(&sf);
	union {
		struct file_handle fh;
		unsigned char raw[sizeof(struct file_handle) + FA_HANDLE_MAX];
	} u;
	u.fh.handle_bytes = FA_HANDLE_MAX;
	int mount_id;
	if (name_to_handle_at(dirfd, "", &u.fh, &mount_id, AT_EMPTY_PATH) < 0) {
		return -errno; /* a file system without file handles */
	}
	bool marked = false;
	for (size_t i = 0; i < s->nmarked; i++) {
		marked |= s->marked[i] == fsid;
	}
	if (!marked) {
		if (fanotify_mark(s->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FA_MASK, dirfd, NULL) <
		    0) {
			int e = errno;
			log_warn("watch: %s: cannot mark its file system for fanotify: %s", path,
				 strerror(e));
			return -e;
		}
		s->marked = lw_realloc(s->marked, (s->nmarked + 1) * sizeof(*s->marked));
		s->marked[s->nmarked++] = fsid;
	}
	struct fa_dir *d = find_key(s, fsid, u.fh.handle_type, u.fh.f_handle, u.fh.handle_bytes);
	if (d) {
		return d->wd; /* registered already: the same directory */
	}
	if (s->count >= s->nbuckets) {
		grow(s);
	}
	d = lw_malloc(sizeof(*d) + u.fh.handle_bytes);
	*d = (struct fa_dir){.wd = s->next_wd++, .fsid = fsid, .type = u.fh.handle_type,
			     .len = u.fh.handle_bytes};
	if (s->next_wd == INT_MAX) {
		s->next_wd = 1; /* after two thousand million directories */
	}
	memcpy(d->handle, u.fh.f_handle, u.fh.handle_bytes);
	link_dir(s, d);
	s->count++;
	return d->wd;
}

static int
fa_remove(void *ctx, int wd)
{
	struct fa_state *s = ctx;
	struct fa_dir *d = *wd_slot(s, wd);
	if (!d) {
		return -EINVAL;
	}
	unlink_dir(s, d);
	return 0;
}

/* One DFID(_NAME) record: the registered directory and the name (NULL for
 * a self event or "."). */
static struct fa_dir *
read_fid(struct fa_state *s, const char *rec, size_t rlen, uint8_t type, const char **name)
{
	/* Records are packed after each other at whatever alignment the event
	 * before left (events are not padded to 8): copied out, never cast. */
	struct fanotify_event_info_fid fid;
	struct file_handle fh;
	*name = NULL;
	if (rlen < sizeof(fid) + sizeof(fh)) {
		return NULL;
	}
	memcpy(&fid, rec, sizeof(fid));
	memcpy(&fh, rec + sizeof(fid), sizeof(fh));
	const char *handle = rec + sizeof(fid) + sizeof(fh);
	const char *end = rec + rlen;
	const char *nm = handle + fh.handle_bytes;
	if (fh.handle_bytes > FA_HANDLE_MAX || nm > end) {
		return NULL;
	}
	if (type != FAN_EVENT_INFO_TYPE_DFID && nm < end && *nm &&
	    !(nm[0] == '.' && nm[1] == '\0')) {
		*name = nm;
	}
	return find_key(s, fsid_of_event(&fid.fsid), fh.handle_type, (const unsigned char *)handle,
			fh.handle_bytes);
}

static void
push(struct fa_state *s, int wd, uint32_t mask, uint32_t cookie, const char *name)
{
	int i = s->npend++;
	struct watch_event *ev = &s->pend[i];
	size_t n = name ? strnlen(name, NAME_MAX) : 0;
	memcpy(s->names[i], name ? name : "", n);
	s->names[i][n] = '\0';
	*ev = (struct watch_event){.wd = wd, .mask = mask, .cookie = cookie,
				   .name = s->names[i], .name_len = n};
}

/* Turns one fanotify event into pending watch_events (none when it is
 * about directories that are not registered). */
static void
translate(struct fa_state *s, const struct fanotify_event_metadata *m, const char *raw)
{
	s->npend = s->ipend = 0;
	if (m->mask & FAN_Q_OVERFLOW) {
		push(s, -1, IN_Q_OVERFLOW, 0, NULL);
		return;
	}
	struct fa_dir *dir = NULL, *from = NULL, *to = NULL;
	const char *name = NULL, *fname = NULL, *tname = NULL;
	const char *p = raw + m->metadata_len, *end = raw + m->event_len;
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		struct fanotify_event_info_header h;
		memcpy(&h, p, sizeof(h));
		if (h.len < sizeof(h) || p + h.len > end) {
			break;
		}
		switch (h.info_type) {
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
		case FAN_EVENT_INFO_TYPE_DFID:
			dir = read_fid(s, p, h.len, h.info_type, &name);
			break;
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
			from = read_fid(s, p, h.len, h.info_type, &fname);
			break;
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			to = read_fid(s, p, h.len, h.info_type, &tname);
			break;
		default:
			break;
		}
		p += h.len;
	}
	uint32_t isdir = (m->mask & FAN_ONDIR) ? IN_ISDIR : 0;
	if (m->mask & FAN_RENAME) {
		uint32_t cookie = ++s->next_cookie ? s->next_cookie : ++s->next_cookie;
		if (from && fname) {
			push(s, from->wd, IN_MOVED_FROM | isdir, cookie, fname);
		}
		if (to && tname) {
			push(s, to->wd, IN_MOVED_TO | isdir, cookie, tname);
		}
		return;
	}
	if (!dir) {
		return; /* not a registered directory: outside what is watched */
	}
	if (!name) {
		/* the directory itself */
		if (m->mask & FAN_DELETE_SELF) {
			int wd = dir->wd;
			push(s, wd, IN_DELETE_SELF, 0, NULL);
			push(s, wd, IN_IGNORED, 0, NULL);
			unlink_dir(s, dir);
		} else if (m->mask & FAN_MOVE_SELF) {
			push(s, dir->wd, IN_MOVE_SELF, 0, NULL);
		}
		return;
	}
	if (isdir) {
		if (m->mask & FAN_DELETE) {
			push(s, dir->wd, IN_DELETE | IN_ISDIR, 0, name);
		}
		if (m->mask & FAN_CREATE) {
			push(s, dir->wd, IN_CREATE | IN_ISDIR, 0, name);
		}
		return; /* attributes of a directory: nothing to record */
	}
	uint32_t mask = (m->mask & FAN_DELETE)	    ? IN_DELETE
			: (m->mask & FAN_CLOSE_WRITE) ? IN_CLOSE_WRITE
			: (m->mask & FAN_CREATE)      ? IN_CREATE
						      : IN_ATTRIB;
	push(s, dir->wd, mask, 0, name);
}

static int
fa_next(void *ctx, int timeout_s, struct watch_event *ev)
{
	struct fa_state *s = ctx;
	for (;;) {
		if (s->ipend < s->npend) {
			*ev = s->pend[s->ipend++];
			return 1;
		}
		if (s->off < s->len) {
			struct fanotify_event_metadata m;
			const char *raw = s->buf + s->off;
			if (s->len - s->off < sizeof(m)) {
				s->off = s->len = 0; /* cannot happen: the kernel writes whole events */
				continue;
			}
			memcpy(&m, raw, sizeof(m)); /* events are 4-byte aligned at best */
			if (m.event_len < sizeof(m) || m.event_len > s->len - s->off ||
			    m.metadata_len > m.event_len) {
				s->off = s->len = 0;
				continue;
			}
			s->off += m.event_len;
			if (m.vers != FANOTIFY_METADATA_VERSION) {
				continue;
			}
			if (m.fd >= 0) {
				close(m.fd); /* not in FID mode, but never leak one */
			}
			translate(s, &m, raw);
			continue;
		}
		ssize_t n = read(s->fd, s->buf, FA_BUF);
		if (n > 0) {
			s->len = (size_t)n;
			s->off = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			return errno == EINTR ? -EINTR : -errno;
		}
		if (timeout_s == 0) {
			return 0;
		}
		struct pollfd pf = {.fd = s->fd, .events = POLLIN};
		int r = poll(&pf, 1, timeout_s * 1000);
		if (r < 0) {
			return errno == EINTR ? -EINTR : -errno;
		}
		if (r == 0) {
			return 0;
		}
		timeout_s = 0; /* readable: one more read, then no more waiting */
	}
}

const struct watch_backend watch_backend_fanotify = {
	.id = "fanotify",
	.name = "fanotify (filesystem marks)",
	.init = fa_init,
	.fini = fa_fini,
	.add = fa_add,
	.remove = fa_remove,
	.next = fa_next,
};
