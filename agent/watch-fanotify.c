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
 * inotify's, and leads to the same reconciling rescan.
 *
 * With WATCH_PIDS the group also reports a pidfd (FAN_REPORT_PIDFD, Linux
 * 5.15) for the process behind each event, which lets procinfo.c tell
 * whether /proc/PID still describes that process. Kernels without it get
 * no process at all rather than an unverifiable pid.
 *
 * A reader thread of its own drains the fanotify fd and resolves each
 * event's process at once: `cp memo.txt /media/usb/` has exited and been
 * reaped a fraction of a millisecond after its last event, and the
 * watcher thread may be busy walking a directory or handling thousands of
 * events just then. The reader hands whole buffers (with the processes of
 * their events) to next() on the watcher thread, which alone translates
 * them against the registered directories. At most FA_CHUNKS buffers wait;
 * when they are full the reader stops reading and the kernel queue takes
 * the rest, as before (overflow, then a rescan). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "procinfo.h"
#include "watch-backend.h"

#define FA_MASK                                                                    \
	(FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB |    \
	 FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR)
#define FA_BUF (64 * 1024) /* one read */
#define FA_CHUNKS 32       /* reads waiting for the watcher: 2 MiB at most */
#define FA_PROC_SLOTS 4096 /* processes remembered (procinfo.h) */
#define FA_READER_NICE (-20)
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

/* One read() of events, with the process of each (NULL: none). */
struct fa_chunk {
	struct fa_chunk *next;
	size_t len, off;          /* bytes read; how far next() has got */
	size_t nev, iev;          /* events; how many handed out */
	struct lw_proc **procs;   /* nev of them */
	char data[FA_BUF];
};

struct fa_state {
	int fd;
	/* the reader thread and what it hands over (under lock) */
	pthread_t reader;
	bool reader_running;
	int wake_fd;              /* eventfd: a chunk was queued */
	int stop_fd;              /* eventfd: the reader must stop */
	pthread_mutex_t lock;
	pthread_cond_t room;
	struct fa_chunk *head, *tail;
	size_t nchunks;
	bool stopping;
	int read_err;             /* errno of a failed read, reported once */
	struct procinfo *procs;   /* the reader's own; NULL without WATCH_PIDS */
	/* the watcher thread's */
	struct fa_chunk *cur;     /* being translated */
	struct lw_proc *cur_proc; /* of the event pend[] was made from */
	struct fa_dir **by_key, **by_wd;
	size_t nbuckets, count;
	int next_wd;
	uint32_t next_cookie;
	uint64_t *marked; /* file systems marked */
	size_t nmarked;
	/* up to three watch_events made from one fanotify event */
	struct watch_event pend[3];
	char names[3][NAME_MAX + 1];
	int npend, ipend;
	bool pids; /* FAN_REPORT_PIDFD is on */
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

static void
chunk_free(struct fa_chunk *c)
{
	if (!c) {
		return;
	}
	for (size_t i = 0; i < c->nev; i++) {
		lw_proc_unref(c->procs[i]);
	}
	free(c->procs);
	free(c);
}

/* Walks the whole events of @c; calls @fn for each (NULL: just counts). */
static size_t
chunk_events(struct fa_chunk *c, void (*fn)(struct fa_state *, struct fa_chunk *, size_t,
					    const struct fanotify_event_metadata *, const char *),
	     struct fa_state *s)
{
	size_t n = 0;
	for (size_t off = 0; c->len - off >= sizeof(struct fanotify_event_metadata);) {
		struct fanotify_event_metadata m;
		memcpy(&m, c->data + off, sizeof(m)); /* events are 4-byte aligned at best */
		if (m.event_len < sizeof(m) || m.event_len > c->len - off) {
			break; /* cannot happen: the kernel writes whole events */
		}
		if (fn) {
			fn(s, c, n, &m, c->data + off);
		}
		n++;
		off += m.event_len;
	}
	return n;
}

/* The reader's part of one event: close what the kernel opened for us and
 * name its process while it most likely still runs. */
static void
reader_event(struct fa_state *s, struct fa_chunk *c, size_t i,
	     const struct fanotify_event_metadata *m, const char *raw)
{
	if (m->fd >= 0) {
		close(m->fd); /* not in FID mode, but never leak one */
	}
	int pidfd = -1;
	const char *p = raw + m->metadata_len, *end = raw + m->event_len;
	while (m->metadata_len <= m->event_len &&
	       p + sizeof(struct fanotify_event_info_header) <= end) {
		struct fanotify_event_info_header h;
		memcpy(&h, p, sizeof(h));
		if (h.len < sizeof(h) || p + h.len > end) {
			break;
		}
		if (h.info_type == FAN_EVENT_INFO_TYPE_PIDFD &&
		    h.len >= sizeof(struct fanotify_event_info_pidfd)) {
			struct fanotify_event_info_pidfd pf;
			memcpy(&pf, p, sizeof(pf));
			pidfd = pf.pidfd; /* FAN_NOPIDFD: reaped already; FAN_EPIDFD: failed */
		}
		p += h.len;
	}
	if (s->procs && m->pid > 0 && !(m->mask & FAN_Q_OVERFLOW)) {
		c->procs[i] = procinfo_resolve(s->procs, m->pid, pidfd >= 0 ? pidfd : -1);
	}
	if (pidfd >= 0) {
		close(pidfd);
	}
}

/* After a read error: the fd stays readable, and a reader at nice -20
 * retrying at once would spin a core. A tenth of a second, or the stop. */
static void
reader_nap(struct fa_state *s)
{
	struct pollfd pf = {.fd = s->stop_fd, .events = POLLIN};
	poll(&pf, 1, 100);
}

static void *
reader_main(void *arg)
{
	struct fa_state *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	/* Ahead of everything else on the machine when it wakes (measured: a
	 * 150-byte cp had exited and been reaped before a reader at normal
	 * priority read its first event in 1 of 5 copies; at nice -20, 0 of
	 * 30, and 1 of 30 beside two busy loops). It sleeps but for reading,
	 * and stops reading when FA_CHUNKS wait, so it cannot hog a core. Not
	 * real-time: that would starve the machine if anything went wrong.
	 * Best effort: without CAP_SYS_NICE it stays where it is. */
	if (s->procs && setpriority(PRIO_PROCESS, (id_t)gettid(), FA_READER_NICE) < 0) {
		log_info("watch: cannot raise the event reader's priority: %s", strerror(errno));
	}
	for (;;) {
		struct pollfd pf[3] = {{.fd = s->fd, .events = POLLIN},
				       {.fd = s->stop_fd, .events = POLLIN},
				       {.fd = s->procs ? procinfo_exec_fd(s->procs) : -1,
					.events = POLLIN}};
		if (poll(pf, 3, -1) < 0 && errno != EINTR) {
			break;
		}
		if (pf[1].revents) {
			break;
		}
		if (pf[2].revents) {
			procinfo_exec_drain(s->procs); /* programs as they start */
		}
		if (pf[0].revents & ~POLLIN) {
			reader_nap(s); /* an error state poll keeps reporting */
		}
		if (!(pf[0].revents & POLLIN)) {
			continue;
		}
		struct fa_chunk *c = lw_malloc(sizeof(*c));
		ssize_t n = read(s->fd, c->data, FA_BUF);
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(c);
			if (e == EAGAIN || e == EINTR) {
				continue;
			}
			pthread_mutex_lock(&s->lock);
			s->read_err = e;
			pthread_mutex_unlock(&s->lock);
			eventfd_write(s->wake_fd, 1);
			reader_nap(s);
			continue; /* reported by next(); the watcher decides */
		}
		/* not a compound literal: that would clear the data too */
		c->next = NULL;
		c->len = (size_t)n;
		c->off = c->iev = 0;
		c->nev = chunk_events(c, NULL, s);
		c->procs = lw_new(struct lw_proc *, c->nev ? c->nev : 1);
		chunk_events(c, reader_event, s);
		pthread_mutex_lock(&s->lock);
		while (s->nchunks >= FA_CHUNKS && !s->stopping) {
			pthread_cond_wait(&s->room, &s->lock);
		}
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			chunk_free(c);
			break;
		}
		if (s->tail) {
			s->tail->next = c;
		} else {
			s->head = c;
		}
		s->tail = c;
		s->nchunks++;
		pthread_mutex_unlock(&s->lock);
		eventfd_write(s->wake_fd, 1);
	}
	return NULL;
}

static void
fa_fini(void *ctx)
{
	struct fa_state *s = ctx;
	if (!s) {
		return;
	}
	if (s->reader_running) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_broadcast(&s->room);
		pthread_mutex_unlock(&s->lock);
		eventfd_write(s->stop_fd, 1);
		pthread_join(s->reader, NULL);
	}
	for (struct fa_chunk *c = s->head, *next; c; c = next) {
		next = c->next;
		chunk_free(c);
	}
	chunk_free(s->cur);
	procinfo_free(s->procs);
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct fa_dir *d = s->by_key[i], *next; d; d = next) {
			next = d->by_key_next;
			free(d);
		}
	}
	if (s->wake_fd >= 0) {
		close(s->wake_fd);
	}
	if (s->stop_fd >= 0) {
		close(s->stop_fd);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->room);
	close(s->fd);
	free(s->by_key);
	free(s->by_wd);
	free(s->marked);
	free(s);
}

static int
fa_init(void **ctx, unsigned flags)
{
	unsigned base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME;
	bool pids = (flags & WATCH_PIDS) != 0;
	int fd = pids ? fanotify_init(base | FAN_REPORT_PIDFD, O_RDONLY | O_LARGEFILE | O_CLOEXEC)
		      : -1;
	if (fd < 0) {
		if (pids && errno == EINVAL) {
			log_warn("watch: this kernel has no FAN_REPORT_PIDFD (Linux 5.15): events"
				 " will name no process");
		}
		pids = false;
		fd = fanotify_init(base, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	}
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
	s->pids = pids;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->room, NULL);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pids) {
		s->procs = procinfo_new("/proc", FA_PROC_SLOTS);
		if (s->procs && procinfo_exec_fd(s->procs) < 0) {
			log_info("watch: no exec events from the proc connector (it needs"
				 " CAP_NET_ADMIN); a program that exits right after its change"
				 " may be named only as exited");
		}
	}
	int e = 0;
	if (s->wake_fd < 0 || s->stop_fd < 0) {
		e = errno;
	} else if ((e = pthread_create(&s->reader, NULL, reader_main, s)) == 0) {
		s->reader_running = true;
	}
	if (e) {
		fa_fini(s);
		return -e;
	}
	*ctx = s;
	return 0;
}

static unsigned
fa_flags(void *ctx)
{
	const struct fa_state *s = ctx;
	return s && s->procs ? WATCH_PIDS : 0;
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
				   .name = s->names[i], .name_len = n, .proc = s->cur_proc};
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

/* The next chunk from the reader, or NULL; *err: a read error to report. */
static struct fa_chunk *
take_chunk(struct fa_state *s, int *err)
{
	pthread_mutex_lock(&s->lock);
	struct fa_chunk *c = s->head;
	if (c) {
		s->head = c->next;
		if (!s->head) {
			s->tail = NULL;
		}
		s->nchunks--;
		pthread_cond_signal(&s->room);
	}
	*err = c ? 0 : s->read_err;
	if (!c) {
		s->read_err = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return c;
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
		struct fa_chunk *c = s->cur;
		if (c && c->off < c->len && c->iev < c->nev) {
			struct fanotify_event_metadata m;
			const char *raw = c->data + c->off;
			memcpy(&m, raw, sizeof(m)); /* whole events: chunk_events() counted them */
			c->off += m.event_len;
			s->cur_proc = c->procs[c->iev++];
			if (m.vers == FANOTIFY_METADATA_VERSION && m.metadata_len <= m.event_len) {
				translate(s, &m, raw);
			}
			continue;
		}
		/* the caller is done with the last event: its chunk can go */
		s->cur_proc = NULL;
		chunk_free(s->cur);
		int err;
		s->cur = take_chunk(s, &err);
		if (s->cur) {
			continue;
		}
		if (err) {
			return err == EINTR ? -EINTR : -err;
		}
		if (timeout_s == 0) {
			return 0;
		}
		struct pollfd pf = {.fd = s->wake_fd, .events = POLLIN};
		int r = poll(&pf, 1, timeout_s * 1000);
		if (r < 0) {
			return errno == EINTR ? -EINTR : -errno;
		}
		if (r == 0) {
			return 0;
		}
		eventfd_t v;
		eventfd_read(s->wake_fd, &v);
		timeout_s = 0; /* a chunk came: take it, then no more waiting */
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
	.flags = fa_flags,
};
