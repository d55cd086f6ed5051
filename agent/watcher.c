/* watcher.c — the watcher thread (see watcher.h).
 *
 * Owns: the event backend, the directory map, the walks and the pending
 * renames. Runs on its own thread; the public functions only touch atomics.
 *
 * How nothing is missed (doc/notes/libinotifytools.md §5-7):
 * - Every directory is watched before it is listed, by our own pre-order
 *   walker, so a file created during the listing is either listed or
 *   reported by an event.
 * - A directory that appears (created, moved in) is walked the same way:
 *   files written into it before its watch existed are listed.
 * - Every walk has an epoch; each file confirmed during the walk is stamped
 *   with it by the writer, and when the walk's last file has been written a
 *   barrier sweeps what was not stamped: deleted files whose events were
 *   lost. A queue overflow triggers a full reconciling walk of every root.
 * - A directory that cannot be watched (the per-user watch limit) is still
 *   listed, stays in the map with wd -1, and is listed again periodically.
 * - Events and walk steps are interleaved so the kernel queue keeps draining
 *   while a large tree is walked.
 */
#include "watcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dirmap.h"
#include "glob.h"
#include "ipc.h"
#include "log.h"
#include "mem.h"
#include "mounts.h"
#include "procinfo.h"

/* Directories listed per turn before events are read again. */
#define WALK_DIRS_PER_TURN 16
/* Events handled per turn before walks get a turn. */
#define EVENTS_PER_TURN 4096
/* How long an unpaired IN_MOVED_FROM waits for its IN_MOVED_TO. The kernel
 * queues both halves within one rename(2), so a short wait suffices. */
#define MOVE_PAIR_WAIT_NS (20 * 1000000ll)
/* libinotifytools never frees its entry for a watch the kernel dropped
 * (IN_IGNORED after rmdir): ~100 bytes each. After this many, re-initialise
 * it and re-watch everything with a full scan. */
#define LIB_STALE_RESYNC 65536

struct walk_entry {
	struct dir_node *parent; /* NULL: a root, whose name is its path */
	char *name;
	size_t len;
	bool recursive;
};

struct walk {
	struct walk *next;
	int64_t epoch;
	char *prefix;            /* the top directory's path, for the sweep */
	size_t prefix_len;
	bool recursive;
	bool full;               /* a full scan of one root */
	int64_t started;         /* monotonic ns */
	struct walk_entry *stack;
	size_t depth, cap;
};

struct pending_move {
	uint32_t cookie;
	struct dir_node *parent;
	char *name;
	size_t len;
	bool is_dir;
	int64_t when;
};

/* Runs on a worker when every file of a walk has been handed to the writer. */
struct walk_barrier {
	struct watcher *w;
	char *prefix;
	size_t prefix_len;
	bool recursive;
	bool full;
	int64_t epoch;
	int64_t started;
};

struct watcher {
	pthread_t thread;
	const struct agent_config *cfg;
	const struct watch_backend *be;
	void *bectx;             /* the backend's state */
	struct wq *q;
	struct writer *wr;
	struct dirmap *map;
	uint64_t state_dev, state_ino;
	int64_t epoch;
	struct walk *walks;
	struct pending_move *moves;
	size_t nmoves, capmoves;
	bool *root_missing;
	bool full_scan_queued;   /* a full scan waits for the running one */
	int full_walks_running;  /* full-scan walks still listing */
	int64_t lib_stale;
	bool limit_logged;
	char *pbuf;              /* scratch for paths */
	size_t pcap;
	/* shared with other threads */
	atomic_bool stop;
	atomic_bool req_full;
	atomic_bool req_degraded;
	atomic_llong st_watches;
	atomic_llong st_unwatched;
	atomic_llong st_overflows;
	atomic_llong st_walks;
	atomic_llong st_full_done;
	atomic_llong st_roots_missing;
	atomic_bool st_limit_hit;
	int64_t max_user_watches;
	/* the mount table as last read: mounts and unmounts below the roots
	 * after start-up are followed (mounts.h) */
	int mounts_fd;
	struct mount_table mounts;
	bool attribution; /* the backend names the process behind events */
};

static struct log_ratelimit watch_rl = LOG_RATELIMIT_INIT(10, 5);

static const char *
proc_json(const struct lw_proc *p)
{
	return p ? p->json : NULL;
}

static bool
path_is_excluded(const struct watcher *w, const char *path, size_t len)
{
	for (size_t i = 0; i < w->cfg->nexclude; i++) {
		if (lw_glob_match(w->cfg->exclude[i], path, len)) {
			return true;
		}
	}
	return false;
}

/* @dir's path + "/" + @name into a fresh buffer; *len gets its length. */
static char *
join(struct watcher *w, const struct dir_node *dir, const char *name, size_t nlen,
     size_t *len)
{
	size_t dl = dirmap_path(dir, &w->pbuf, &w->pcap);
	char *p = lw_malloc(dl + 1 + nlen + 1);
	memcpy(p, w->pbuf, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nlen);
	p[dl + 1 + nlen] = '\0';
	*len = dl + 1 + nlen;
	return p;
}

/* --- watches ---------------------------------------------------------- */

static void
note_watch_limit(struct watcher *w, const char *path)
{
	atomic_store(&w->st_limit_hit, true);
	if (w->limit_logged) {
		return;
	}
	w->limit_logged = true;
	log_warn("watch: inotify watch limit reached at %s (fs.inotify.max_user_watches"
		 " = %lld); directories beyond it are rescanned every %d s instead of"
		 " watched; raise the limit with `sysctl fs.inotify.max_user_watches=N`"
		 " (see packaging/sysctl.d/60-leakwatch.conf)",
		 path, (long long)w->max_user_watches, w->cfg->degraded_rescan_interval);
}

static void
set_wd(struct watcher *w, struct dir_node *n, int wd)
{
	if (n->wd >= 0 && wd < 0) {
		atomic_fetch_sub(&w->st_watches, 1);
	} else if (n->wd < 0 && wd >= 0) {
		atomic_fetch_add(&w->st_watches, 1);
	}
	dirmap_set_wd(w->map, n, wd);
}

/* Detach callback: drop the node's watch if it is still live (a directory
 * moved out of the tree keeps its watch and would keep reporting). */
static void
drop_live_watch(struct dir_node *n, void *ctx)
{
	struct watcher *w = ctx;
	if (n->wd >= 0) {
		w->be->remove(w->bectx, n->wd);
		set_wd(w, n, -1);
	}
}

/* Detach callback for directories that are gone: the kernel has dropped or
 * will drop their watches itself (IN_IGNORED); removing them through the
 * library would only print errors (notes §2). */
static void
forget_watch(struct dir_node *n, void *ctx)
{
	struct watcher *w = ctx;
	if (n->wd >= 0) {
		set_wd(w, n, -1);
		w->lib_stale++;
	}
}

static void
remove_subtree(struct watcher *w, struct dir_node *n, bool live)
{
	dirmap_remove(w->map, n, live ? drop_live_watch : forget_watch, w);
}

/* --- walks ------------------------------------------------------------ */

static void
walk_push(struct walk *wk, struct dir_node *parent, const char *name, size_t len,
	  bool recursive)
{
	if (wk->depth == wk->cap) {
		wk->cap = wk->cap ? wk->cap * 2 : 16;
		wk->stack = lw_realloc(wk->stack, wk->cap * sizeof(*wk->stack));
	}
	struct walk_entry *e = &wk->stack[wk->depth++];
	e->parent = parent;
	e->name = lw_strndup(name, len);
	e->len = len;
	e->recursive = recursive;
}

/* Starts a walk of directory @name under @parent (NULL: the root @name). */
static void
walk_start(struct watcher *w, struct dir_node *parent, const char *name, size_t len,
	   bool recursive, bool full)
{
	struct walk *wk = lw_new(struct walk, 1);
	wk->epoch = ++w->epoch;
	wk->recursive = recursive;
	wk->full = full;
	wk->started = clock_mono_ns();
	if (parent) {
		wk->prefix = join(w, parent, name, len, &wk->prefix_len);
	} else {
		wk->prefix = lw_strndup(name, len);
		wk->prefix_len = len;
	}
	writer_epoch(w->wr, wk->epoch);
	walk_push(wk, parent, name, len, recursive);
	wk->next = w->walks;
	w->walks = wk;
	if (full) {
		w->full_walks_running++;
	}
	atomic_fetch_add(&w->st_walks, 1);
	log_debug("watch: walk %lld of %s started", (long long)wk->epoch, wk->prefix);
}

static void
start_full_scan(struct watcher *w)
{
	if (w->full_walks_running > 0) {
		w->full_scan_queued = true;
		return;
	}
	w->full_scan_queued = false;
	for (size_t i = 0; i < w->cfg->nroots; i++) {
		struct stat st;
		const char *root = w->cfg->roots[i];
		if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (!w->root_missing[i]) {
				log_warn("watch: %s: root is missing; waiting for it to return",
					 root);
				w->root_missing[i] = true;
				atomic_fetch_add(&w->st_roots_missing, 1);
			}
			continue;
		}
		if (w->root_missing[i]) {
			log_info("watch: %s: root is back", root);
			w->root_missing[i] = false;
			atomic_fetch_sub(&w->st_roots_missing, 1);
		}
		walk_start(w, NULL, root, strlen(root), true, true);
	}
}

static void
barrier_run(struct walk_barrier *b)
{
	struct watcher *w = b->w;
	writer_sweep(w->wr, b->prefix, b->prefix_len, b->recursive, b->epoch);
	if (b->full) {
		log_info("watch: full scan of %s done in %.3f s", b->prefix,
			 (double)(clock_mono_ns() - b->started) / 1e9);
		atomic_fetch_add(&w->st_full_done, 1);
		writer_full_scan_done(w->wr);
	}
	atomic_fetch_sub(&w->st_walks, 1);
}

void
watcher_barrier(void *payload)
{
	struct walk_barrier *b = payload;
	barrier_run(b);
	free(b->prefix);
	free(b);
}

struct stale_ctx {
	int64_t epoch;
	struct dir_node **nodes;
	size_t n, cap;
};

/* Collects the topmost directories a full walk did not reach. */
static void
collect_stale(struct dir_node *n, void *ctx)
{
	struct stale_ctx *c = ctx;
	if (n->visit_epoch >= c->epoch || n->parent->visit_epoch < c->epoch) {
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->nodes = lw_realloc(c->nodes, c->cap * sizeof(*c->nodes));
	}
	c->nodes[c->n++] = n;
}

static void
walk_finish(struct watcher *w, struct walk *wk)
{
	if (wk->full) {
		/* Directories the full scan did not reach are gone from where
		 * the map thinks they are (their events were lost in an
		 * overflow). Their watches may still be live. */
		struct dir_node *root = dirmap_child(w->map, NULL, wk->prefix, wk->prefix_len);
		if (root && root->visit_epoch >= wk->epoch) {
			struct stale_ctx c = {.epoch = wk->epoch};
			dirmap_foreach_below(root, collect_stale, &c);
			for (size_t i = 0; i < c.n; i++) {
				remove_subtree(w, c.nodes[i], true);
			}
			free(c.nodes);
		}
		w->full_walks_running--;
	}
	struct walk_barrier *b = lw_new(struct walk_barrier, 1);
	b->w = w;
	b->prefix = TAKE_PTR(wk->prefix);
	b->prefix_len = wk->prefix_len;
	b->recursive = wk->recursive;
	b->full = wk->full;
	b->epoch = wk->epoch;
	b->started = wk->started;
	wq_push_barrier(w->q, b);
	log_debug("watch: walk %lld listed", (long long)wk->epoch);
	free(wk->stack);
	free(wk);
	if (w->full_walks_running == 0 && w->full_scan_queued) {
		start_full_scan(w);
	}
}

/* The map's node for the directory @e names, whose inode is @st: the same
 * node if it moved here (a rename the map had not heard of), else a new
 * one replacing whatever had the name before. */
static struct dir_node *
node_for(struct watcher *w, const struct walk_entry *e, const struct stat *st)
{
	struct dir_node *n = dirmap_by_inode(w->map, st->st_dev, st->st_ino);
	if (n && (n->parent != e->parent || n->name_len != e->len ||
		  memcmp(n->name, e->name, e->len) != 0)) {
		if (!e->parent || !n->parent) {
			/* a root seen below another root, or the reverse:
			 * bind mounts; keep them apart */
			n = NULL;
		} else {
			dirmap_relink(w->map, n, e->parent, e->name, e->len);
		}
	}
	if (!n) {
		struct dir_node *old = dirmap_child(w->map, e->parent, e->name, e->len);
		if (old) {
			/* another directory used to have this name */
			remove_subtree(w, old, true);
		}
		n = dirmap_add(w->map, e->parent, e->name, e->len, st->st_dev, st->st_ino);
	}
	return n;
}

/* Adds the watch of @n (open as @fd) unless it has one. */
static void
watch_node(struct watcher *w, struct dir_node *n, int fd, const char *path)
{
	if (n->wd >= 0) {
		return;
	}
	int wd = w->be->add(w->bectx, fd, path);
	if (wd >= 0) {
		struct dir_node *clash = dirmap_by_wd(w->map, wd);
		if (clash && clash != n) {
			/* the kernel reuses wds only after the old watch is
			 * gone; the map has not heard yet */
			set_wd(w, clash, -1);
		}
		set_wd(w, n, wd);
	} else if (wd == -ENOSPC) {
		note_watch_limit(w, path);
	} else {
		log_warn_ratelimit(&watch_rl, "watch: %s: cannot watch: %s", path, strerror(-wd));
	}
}

/* Lists the directory @fd (@path, node @n): subdirectories join the walk
 * (on a flat rescan only those new to the map), everything else goes to
 * the work queue. Takes @fd. */
static void
list_dir(struct watcher *w, struct walk *wk, const struct walk_entry *e, struct dir_node *n,
	 int fd, const char *path, size_t plen)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) {
			continue;
		}
		size_t nlen = strlen(nm);
		unsigned char type = de->d_type;
		struct stat cst;
		bool have_cst = false;
		if (type == DT_UNKNOWN) {
			if (fstatat(fd, nm, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
				continue;
			}
			have_cst = true;
			type = S_ISDIR(cst.st_mode) ? DT_DIR : DT_REG;
		}
		if (type == DT_DIR) {
			if (!e->recursive) {
				/* flat rescan: only subdirectories new to us */
				if (!have_cst && fstatat(fd, nm, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
					continue;
				}
				if (dirmap_by_inode(w->map, cst.st_dev, cst.st_ino)) {
					continue;
				}
			}
			walk_push(wk, n, nm, nlen, true);
			continue;
		}
		char *child = lw_malloc(plen + 1 + nlen + 1);
		memcpy(child, path, plen);
		child[plen] = '/';
		memcpy(child + plen + 1, nm, nlen + 1);
		if (!path_is_excluded(w, child, plen + 1 + nlen)) {
			wq_push(w->q, child, plen + 1 + nlen);
		}
		free(child);
	}
	closedir(d);
}

/* Opens, watches (if not yet) and lists one directory of a walk. The
 * watch comes before the listing, so that nothing created in between is
 * missed: it is either listed or reported. */
static void
walk_visit(struct watcher *w, struct walk *wk, struct walk_entry *e)
{
	if (e->parent && e->parent->detached) {
		return; /* its parent went away meanwhile */
	}
	size_t plen;
	AUTOFREE char *path = e->parent ? join(w, e->parent, e->name, e->len, &plen)
					: lw_strndup(e->name, e->len);
	if (!e->parent) {
		plen = e->len;
	}
	if (e->parent && path_is_excluded(w, path, plen)) {
		return;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (err == ENOTDIR || err == ELOOP) {
			wq_push(w->q, path, plen); /* no longer a directory */
		} else if (err != ENOENT) {
			log_warn_ratelimit(&watch_rl, "watch: %s: cannot open directory: %s",
					   path, strerror(err));
		}
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	if ((uint64_t)st.st_dev == w->state_dev && (uint64_t)st.st_ino == w->state_ino) {
		close(fd); /* our own state: never watched, never recorded */
		return;
	}
	struct dir_node *n = node_for(w, e, &st);
	watch_node(w, n, fd, path);
	n->visit_epoch = wk->epoch;
	list_dir(w, wk, e, n, fd, path, plen);
}

/* Lists up to @budget directories of the newest walks. Returns true if any
 * walk still has work. */
static bool
walk_step(struct watcher *w, int budget)
{
	while (w->walks && budget > 0) {
		struct walk *wk = w->walks;
		while (wk->depth && budget-- > 0) {
			struct walk_entry e = wk->stack[--wk->depth];
			walk_visit(w, wk, &e);
			free(e.name);
		}
		if (wk->depth == 0) {
			w->walks = wk->next;
			walk_finish(w, wk);
		}
	}
	return w->walks != NULL;
}

/* --- events ----------------------------------------------------------- */

static void
move_add(struct watcher *w, struct dir_node *parent, const struct watch_event *ev)
{
	if (w->nmoves == w->capmoves) {
		w->capmoves = w->capmoves ? w->capmoves * 2 : 16;
		w->moves = lw_realloc(w->moves, w->capmoves * sizeof(*w->moves));
	}
	struct pending_move *m = &w->moves[w->nmoves++];
	m->cookie = ev->cookie;
	m->parent = parent;
	m->name = lw_strndup(ev->name, ev->name_len);
	m->len = ev->name_len;
	m->is_dir = (ev->mask & IN_ISDIR) != 0;
	m->when = clock_mono_ns();
}

static void
move_take(struct watcher *w, size_t i, struct pending_move *out)
{
	*out = w->moves[i];
	w->moves[i] = w->moves[--w->nmoves];
}

/* The other half never came: the file or directory left the watched tree. */
static void
moved_out(struct watcher *w, struct pending_move *m)
{
	if (m->parent->detached) {
		free(m->name);
		return;
	}
	size_t len;
	AUTOFREE char *path = join(w, m->parent, m->name, m->len, &len);
	if (m->is_dir) {
		struct dir_node *n = dirmap_child(w->map, m->parent, m->name, m->len);
		if (n) {
			remove_subtree(w, n, true);
		}
		writer_gone_below(w->wr, path, len);
	} else {
		wq_push(w->q, path, len); /* the worker finds it gone */
	}
	free(m->name);
}

static void
expire_moves(struct watcher *w, bool all)
{
	int64_t now = clock_mono_ns();
	for (size_t i = 0; i < w->nmoves;) {
		if (all || now - w->moves[i].when >= MOVE_PAIR_WAIT_NS) {
			struct pending_move m;
			move_take(w, i, &m);
			moved_out(w, &m);
		} else {
			i++;
		}
	}
}

static void
moved_in(struct watcher *w, struct dir_node *dir, const struct watch_event *ev)
{
	struct pending_move from = {0};
	bool paired = false;
	for (size_t i = 0; i < w->nmoves; i++) {
		if (w->moves[i].cookie == ev->cookie) {
			move_take(w, i, &from);
			paired = true;
			break;
		}
	}
	size_t nlen;
	AUTOFREE char *to = join(w, dir, ev->name, ev->name_len, &nlen);
	bool excluded = path_is_excluded(w, to, nlen);
	struct lw_proc *proc = excluded ? NULL : ev->proc;
	if (!paired || from.parent->detached) {
		free(from.name);
		if (excluded) {
			return;
		}
		if (ev->mask & IN_ISDIR) {
			walk_start(w, dir, ev->name, ev->name_len, true, false);
		} else {
			wq_push_by(w->q, to, nlen, proc);
		}
		return;
	}
	size_t olen;
	AUTOFREE char *old = join(w, from.parent, from.name, from.len, &olen);
	if (from.is_dir) {
		struct dir_node *n = dirmap_child(w->map, from.parent, from.name, from.len);
		if (excluded) {
			if (n) {
				remove_subtree(w, n, true);
			}
			writer_gone_below(w->wr, old, olen);
		} else {
			if (n) {
				struct dir_node *clash =
					dirmap_child(w->map, dir, ev->name, ev->name_len);
				if (clash && clash != n) {
					remove_subtree(w, clash, false);
				}
				dirmap_relink(w->map, n, dir, ev->name, ev->name_len);
			}
			writer_rename_dir(w->wr, old, olen, to, nlen, proc_json(proc));
			wq_rekey_below(w->q, old, olen, to, nlen);
			/* Confirms the moved tree cheaply (no re-hash of unchanged
			 * files) and catches writes whose events named the old path
			 * while a worker was reading it. */
			walk_start(w, dir, ev->name, ev->name_len, true, false);
		}
	} else {
		if (!excluded) {
			writer_rename(w->wr, old, olen, to, nlen, proc_json(proc));
			wq_push_by(w->q, to, nlen, proc);
		}
		wq_push(w->q, old, olen);
	}
	free(from.name);
}

static void
root_gone(struct watcher *w, struct dir_node *n, bool unmounted)
{
	for (size_t i = 0; i < w->cfg->nroots; i++) {
		if (strcmp(w->cfg->roots[i], n->name) == 0 && !w->root_missing[i]) {
			log_warn("watch: %s: root was deleted or moved away; waiting for it"
				 " to return",
				 n->name);
			w->root_missing[i] = true;
			atomic_fetch_add(&w->st_roots_missing, 1);
		}
	}
	if (unmounted) {
		writer_unmounted_below(w->wr, n->name, n->name_len);
	} else {
		writer_gone_below(w->wr, n->name, n->name_len);
	}
	remove_subtree(w, n, true);
}

static void
overflow(struct watcher *w)
{
	atomic_fetch_add(&w->st_overflows, 1);
	log_warn_ratelimit(&watch_rl,
			   "watch: kernel event queue overflowed (fs.inotify."
			   "max_queued_events); reconciling every root");
	/* partners of pending moves may be among the lost events; the full
	 * scan covers both ends */
	for (size_t i = 0; i < w->nmoves; i++) {
		free(w->moves[i].name);
	}
	w->nmoves = 0;
	start_full_scan(w);
}

static void
handle_event(struct watcher *w, const struct watch_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		overflow(w);
		return;
	}
	struct dir_node *dir = dirmap_by_wd(w->map, ev->wd);
	if (!dir) {
		return; /* a watch we already dropped */
	}
	if (ev->mask & IN_IGNORED) {
		/* The kernel dropped the watch (directory deleted, file system
		 * unmounted). Still attached: it stays in the map unwatched, and
		 * the next rescan either re-watches it or finds it gone. */
		set_wd(w, dir, -1);
		w->lib_stale++;
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		if (!dir->parent) {
			root_gone(w, dir, (ev->mask & IN_UNMOUNT) != 0);
		}
		/* other directories: the parent's event tells where it went */
		return;
	}
	if (ev->name_len == 0) {
		return; /* IN_ATTRIB etc. on the directory itself */
	}
	if (ev->mask & IN_MOVED_FROM) {
		move_add(w, dir, ev);
		return;
	}
	if (ev->mask & IN_MOVED_TO) {
		moved_in(w, dir, ev);
		return;
	}
	size_t len;
	AUTOFREE char *path = join(w, dir, ev->name, ev->name_len, &len);
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & IN_CREATE) {
			if (!path_is_excluded(w, path, len)) {
				walk_start(w, dir, ev->name, ev->name_len, true, false);
			}
		} else if (ev->mask & IN_DELETE) {
			struct dir_node *n = dirmap_child(w->map, dir, ev->name, ev->name_len);
			if (n) {
				remove_subtree(w, n, false);
			}
			writer_gone_below(w->wr, path, len);
		}
		return;
	}
	if (!path_is_excluded(w, path, len)) {
		wq_push_by(w->q, path, len, ev->proc);
	}
}

/* --- mounts ---------------------------------------------------------- */

/* inotify says nothing when a file system is mounted on a watched
 * directory: the watch stays on the directory underneath, and files on the
 * new file system are never reported. So the mount table is compared
 * whenever the kernel says it changed (within a second: the backend's
 * wait), and a file system mounted below a root is walked (watched and
 * listed) at once; one unmounted marks its files "unmounted", not deleted,
 * and the directory it covered is walked again. */

/* @path is a watched root or lies below one. */
static bool
under_a_root(const char *path, void *ctx)
{
	const struct watcher *w = ctx;
	for (size_t i = 0; i < w->cfg->nroots; i++) {
		if (agent_path_is_under(path, w->cfg->roots[i])) {
			return true;
		}
	}
	return false;
}

static bool
mount_in_scope(struct watcher *w, const struct mount_entry *e)
{
	return mounts_followed(e) && under_a_root(e->point, w) &&
	       !path_is_excluded(w, e->point, strlen(e->point));
}

/* The deepest directory of the map on the way to @path, and the name of
 * the next component below it (*rest, *rlen), where a walk must start.
 * NULL with *rest = the root when @path is a root itself. */
static struct dir_node *
nearest_node(struct watcher *w, const char *path, const char **rest, size_t *rlen)
{
	for (size_t i = 0; i < w->cfg->nroots; i++) {
		const char *root = w->cfg->roots[i];
		size_t n = strlen(root);
		if (strncmp(path, root, n) != 0 || (path[n] != '\0' && path[n] != '/')) {
			continue;
		}
		struct dir_node *d = dirmap_child(w->map, NULL, root, n);
		if (!d || path[n] == '\0') {
			*rest = root;
			*rlen = n;
			return NULL;
		}
		const char *p = path + n + 1;
		for (;;) {
			const char *slash = strchr(p, '/');
			size_t clen = slash ? (size_t)(slash - p) : strlen(p);
			struct dir_node *c = slash ? dirmap_child(w->map, d, p, clen) : NULL;
			if (!c) {
				*rest = p;
				*rlen = clen;
				return d;
			}
			d = c;
			p = slash + 1;
		}
	}
	*rest = NULL;
	return NULL;
}

/* Walks the directory at @path (a mount point), from the deepest known
 * directory on its way. */
static void
walk_mount_point(struct watcher *w, const char *path)
{
	const char *rest = NULL;
	size_t rlen = 0;
	struct dir_node *d = nearest_node(w, path, &rest, &rlen);
	if (rest) {
		walk_start(w, d, rest, rlen, true, false);
	}
}

static void
mounted(struct watcher *w, const struct mount_entry *e)
{
	if (mounts_is_bind_of_visible(&w->mounts, e, under_a_root, w)) {
		log_info("watch: %s: a bind mount of a watched directory; its files are"
			 " recorded where they are",
			 e->point);
		return;
	}
	log_info("watch: %s: %s file system %s mounted; watching it", e->point, e->fstype,
		 e->source);
	walk_mount_point(w, e->point);
}

static void
unmounted(struct watcher *w, const struct mount_entry *e)
{
	log_info("watch: %s: %s file system %s unmounted; its files are marked unmounted",
		 e->point, e->fstype, e->source);
	size_t len = strlen(e->point);
	writer_unmounted_below(w->wr, e->point, len);
	const char *rest = NULL;
	size_t rlen = 0;
	struct dir_node *d = nearest_node(w, e->point, &rest, &rlen);
	if (!rest) {
		return;
	}
	/* the mount point's node stood for the unmounted file system's root */
	struct dir_node *n = rest + rlen == e->point + len ? dirmap_child(w->map, d, rest, rlen)
							     : NULL;
	if (n) {
		remove_subtree(w, n, true);
	}
	/* what the mount covered is visible again */
	walk_start(w, d, rest, rlen, true, false);
}

static void
follow_mounts(struct watcher *w)
{
	struct mount_table now = {0};
	int r = mounts_read(w->mounts_fd, &now);
	if (r < 0) {
		log_warn_ratelimit(&watch_rl, "watch: reading the mount table: %s", strerror(-r));
		return;
	}
	struct mount_table old = w->mounts;
	w->mounts = now;
	for (size_t i = 0; i < old.n; i++) {
		if (!mounts_find(&now, old.v[i].id) && mount_in_scope(w, &old.v[i])) {
			unmounted(w, &old.v[i]);
		}
	}
	for (size_t i = 0; i < now.n; i++) {
		const struct mount_entry *e = &now.v[i];
		if (mounts_find(&old, e->id) || !mount_in_scope(w, e)) {
			continue;
		}
		/* a mount inside another new one is walked with it */
		const struct mount_entry *outer = NULL;
		for (size_t j = 0; j < now.n && !outer; j++) {
			size_t n = strlen(now.v[j].point);
			if (j != i && !mounts_find(&old, now.v[j].id) &&
			    mount_in_scope(w, &now.v[j]) && strncmp(e->point, now.v[j].point, n) == 0 &&
			    e->point[n] == '/') {
				outer = &now.v[j];
			}
		}
		if (!outer) {
			mounted(w, e);
		}
	}
	mounts_free(&old);
}

/* --- housekeeping ----------------------------------------------------- */

static void
count_unwatched(struct dir_node *n, void *ctx)
{
	int64_t *c = ctx;
	if (n->wd < 0) {
		(*c)++;
	}
}

struct flat_ctx {
	struct dir_node **nodes;
	size_t n, cap;
};

static void
collect_unwatched(struct dir_node *n, void *ctx)
{
	struct flat_ctx *f = ctx;
	if (n->wd >= 0) {
		return;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->nodes = lw_realloc(f->nodes, f->cap * sizeof(*f->nodes));
	}
	f->nodes[f->n++] = n;
}

/* Lists every unwatched directory again (retrying its watch), which is how
 * they stay covered when the watch limit is reached. */
static void
degraded_scan(struct watcher *w)
{
	struct flat_ctx f = {0};
	dirmap_foreach(w->map, collect_unwatched, &f);
	for (size_t i = 0; i < f.n; i++) {
		struct dir_node *n = f.nodes[i];
		if (n->detached) {
			continue;
		}
		walk_start(w, n->parent, n->name, n->name_len, false, false);
	}
	free(f.nodes);
}

static void
reset_wd(struct dir_node *n, void *ctx)
{
	struct watcher *w = ctx;
	if (n->wd >= 0) {
		set_wd(w, n, -1);
	}
}

static void
resync_backend(struct watcher *w)
{
	log_info("watch: re-initialising libinotifytools to release %lld stale"
		 " watch entries",
		 (long long)w->lib_stale);
	/* every wd dies with the old instance */
	dirmap_foreach(w->map, reset_wd, w);
	w->be->fini(w->bectx);
	w->bectx = NULL;
	int r = w->be->init(&w->bectx, w->cfg->process_attribution ? WATCH_PIDS : 0);
	if (r < 0) {
		log_err("watch: cannot re-initialise inotify: %s", strerror(-r));
	}
	w->lib_stale = 0;
	start_full_scan(w);
}

static void
block_signals_but_wakeup(void)
{
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
}

static void
wakeup_handler(int sig)
{
	(void)sig; /* only interrupts the backend's select() */
}

static void
publish_unwatched(struct watcher *w)
{
	int64_t c = 0;
	dirmap_foreach(w->map, count_unwatched, &c);
	atomic_store(&w->st_unwatched, c);
}

static void *
watcher_main(void *arg)
{
	struct watcher *w = arg;
	block_signals_but_wakeup();
	start_full_scan(w);
	int64_t last_publish = 0;
	while (!atomic_load(&w->stop)) {
		bool walking = w->walks != NULL;
		/* Block (1 s, the backend's granularity) only when idle. */
		int timeout = (walking || w->nmoves) ? 0 : 1;
		for (int i = 0; i < EVENTS_PER_TURN && !atomic_load(&w->stop); i++) {
			struct watch_event ev;
			int r = w->be->next(w->bectx, timeout, &ev);
			if (r <= 0) {
				if (r < 0 && r != -EINTR) {
					log_err("watch: reading events: %s", strerror(-r));
					overflow(w);
				}
				break;
			}
			handle_event(w, &ev);
			timeout = 0;
		}
		if (w->nmoves) {
			expire_moves(w, false);
			if (w->nmoves && !w->walks) {
				struct timespec ts = {0, 2 * 1000000};
				nanosleep(&ts, NULL);
			}
		}
		if (w->mounts_fd >= 0 && mounts_changed(w->mounts_fd)) {
			follow_mounts(w);
		}
		if (atomic_exchange(&w->req_full, false)) {
			start_full_scan(w);
		}
		if (atomic_exchange(&w->req_degraded, false)) {
			for (size_t i = 0; i < w->cfg->nroots; i++) {
				if (w->root_missing[i]) {
					start_full_scan(w);
					break;
				}
			}
			if (w->full_walks_running == 0) {
				degraded_scan(w);
			}
		}
		if (w->lib_stale >= LIB_STALE_RESYNC && !w->walks) {
			resync_backend(w);
		}
		walk_step(w, WALK_DIRS_PER_TURN);
		if (!w->walks && !w->nmoves) {
			dirmap_collect(w->map);
		}
		int64_t now = clock_mono_ns();
		if (now - last_publish > 500 * 1000000ll) {
			publish_unwatched(w);
			last_publish = now;
		}
	}
	expire_moves(w, true);
	return NULL;
}

static int64_t
read_proc_int(const char *path)
{
	FILE *f = fopen(path, "re");
	long long v = -1;
	if (f) {
		if (fscanf(f, "%lld", &v) != 1) {
			v = -1;
		}
		fclose(f);
	}
	return v;
}

int
watcher_start(const struct agent_config *cfg, const struct watch_backend *be, void *bectx,
	      struct wq *q, struct writer *wr, int64_t epoch, struct watcher **out)
{
	struct watcher *w = lw_new(struct watcher, 1);
	w->cfg = cfg;
	w->be = be;
	w->bectx = bectx;
	w->q = q;
	w->wr = wr;
	w->epoch = epoch;
	w->map = dirmap_new();
	w->root_missing = lw_new(bool, cfg->nroots);
	w->max_user_watches = read_proc_int("/proc/sys/fs/inotify/max_user_watches");
	w->attribution = be->flags && (be->flags(bectx) & WATCH_PIDS);
	struct stat st;
	if (stat(cfg->state_dir, &st) == 0) {
		w->state_dev = st.st_dev;
		w->state_ino = st.st_ino;
	}
	/* read now, so that what is mounted at start-up is the baseline that
	 * the full scan covers; without the table mounts are not followed */
	w->mounts_fd = mounts_open();
	if (w->mounts_fd < 0 || mounts_read(w->mounts_fd, &w->mounts) < 0) {
		log_warn("watch: /proc/self/mountinfo: cannot read it; file systems mounted"
			 " below the roots later are found by the periodic rescan only");
		if (w->mounts_fd >= 0) {
			close(w->mounts_fd);
		}
		w->mounts_fd = -1;
	}
	struct sigaction sa = {.sa_handler = wakeup_handler};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: select() returns EINTR */
	int r = pthread_create(&w->thread, NULL, watcher_main, w);
	if (r != 0) {
		mounts_free(&w->mounts);
		if (w->mounts_fd >= 0) {
			close(w->mounts_fd);
		}
		dirmap_free(w->map);
		free(w->root_missing);
		free(w);
		return -r;
	}
	pthread_setname_np(w->thread, "lw-watcher");
	*out = w;
	return 0;
}

void
watcher_request_full_scan(struct watcher *w)
{
	atomic_store(&w->req_full, true);
	pthread_kill(w->thread, SIGUSR1);
}

void
watcher_request_degraded_scan(struct watcher *w)
{
	atomic_store(&w->req_degraded, true);
	pthread_kill(w->thread, SIGUSR1);
}

void
watcher_get_stats(struct watcher *w, struct watcher_stats *out)
{
	out->watches = atomic_load(&w->st_watches);
	out->unwatched = atomic_load(&w->st_unwatched);
	out->overflows = atomic_load(&w->st_overflows);
	out->walks = atomic_load(&w->st_walks);
	out->full_scans_done = atomic_load(&w->st_full_done);
	out->roots_missing = atomic_load(&w->st_roots_missing);
	out->max_user_watches = w->max_user_watches;
	out->limit_hit = atomic_load(&w->st_limit_hit);
	out->backend = w->be->id; /* immutable after start */
	/* the backend's own answer: read here, its flags never change */
	out->attribution = w->attribution;
}

void
watcher_stop(struct watcher *w)
{
	if (!w) {
		return;
	}
	atomic_store(&w->stop, true);
	pthread_kill(w->thread, SIGUSR1);
	pthread_join(w->thread, NULL);
	while (w->walks) {
		struct walk *wk = w->walks;
		w->walks = wk->next;
		for (size_t i = 0; i < wk->depth; i++) {
			free(wk->stack[i].name);
		}
		free(wk->stack);
		free(wk->prefix);
		free(wk);
	}
	free(w->moves);
	w->be->fini(w->bectx); /* the thread is joined: its state is ours now */
	dirmap_free(w->map);
	mounts_free(&w->mounts);
	if (w->mounts_fd >= 0) {
		close(w->mounts_fd);
	}
	free(w->root_missing);
	free(w->pbuf);
	free(w);
}
