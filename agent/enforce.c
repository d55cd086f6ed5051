/* enforce.c — block rules through fanotify permission events (see
 * enforce.h). */
#include "enforce.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "glob.h"
#include "log.h"
#include "mem.h"
#include "procinfo.h"

#define ENF_BUCKETS 1024 /* grows by doubling */
#define ENF_RING 64      /* denials waiting for the reporter */
#define ENF_BUF 4096

/* A block rule as the verdict thread needs it: interned by signature and
 * kept until the enforcer is freed, so a policy reload never frees what
 * the verdict thread is reading. */
struct erule {
	struct erule *next;
	uint8_t sig[LW_SHA256_LEN];
	char *id;
	char **allow;
	size_t nallow;
};

struct eentry {
	struct eentry *next;
	uint64_t dev, ino;
	const struct erule *rule;
};

/* Shared with the guard process (MAP_SHARED): written by one side each. */
struct eshared {
	_Atomic int64_t alive_ns; /* the verdict thread, each turn */
	_Atomic int64_t timeouts; /* the guard */
};

struct enforcer {
	unsigned deadline_ms;
	void (*report)(void *arg, struct enforce_denial *d);
	void *report_arg;
	pthread_mutex_t mu; /* active, rules, the group's lifetime */
	bool active;
	struct erule *rules;
	pthread_rwlock_t tl; /* the table */
	struct eentry **buckets;
	size_t nbuckets, count;
	int fd, stop_fd;
	pthread_t verdict, reporter;
	pid_t guard;
	pid_t self; /* the agent's pid: its own opens always proceed */
	struct eshared *sh;
	struct procinfo *procs; /* the verdict thread's */
	/* denials, verdict thread -> reporter */
	pthread_mutex_t rmu;
	pthread_cond_t rcv;
	struct enforce_denial ring[ENF_RING];
	size_t rhead, rn;
	bool rstop;
	atomic_llong allowed, denied, dropped, timeouts_before;
};

static uint64_t
ekey(uint64_t dev, uint64_t ino)
{
	return (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);
}

static struct eentry **
eslot(struct enforcer *e, uint64_t dev, uint64_t ino)
{
	struct eentry **p = &e->buckets[ekey(dev, ino) & (e->nbuckets - 1)];
	while (*p && ((*p)->dev != dev || (*p)->ino != ino)) {
		p = &(*p)->next;
	}
	return p;
}

static void
table_clear(struct enforcer *e)
{
	for (size_t i = 0; i < e->nbuckets; i++) {
		for (struct eentry *x = e->buckets[i], *n; x; x = n) {
			n = x->next;
			free(x);
		}
		e->buckets[i] = NULL;
	}
	e->count = 0;
}

struct enforcer *
enforcer_new(unsigned deadline_ms, void (*report)(void *arg, struct enforce_denial *d), void *arg)
{
	struct enforcer *e = lw_new(struct enforcer, 1);
	e->deadline_ms = deadline_ms ? deadline_ms : 1;
	e->report = report;
	e->report_arg = arg;
	pthread_mutex_init(&e->mu, NULL);
	pthread_rwlock_init(&e->tl, NULL);
	pthread_mutex_init(&e->rmu, NULL);
	pthread_cond_init(&e->rcv, NULL);
	e->nbuckets = ENF_BUCKETS;
	e->buckets = lw_new(struct eentry *, e->nbuckets);
	e->fd = e->stop_fd = -1;
	return e;
}

/* --- the verdict thread ------------------------------------------------ */

static ssize_t
readlink_rel(const char *path, char *buf, size_t cap)
{
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0 || (size_t)n >= cap - 1) {
		return -1;
	}
	buf[n] = '\0';
	return n;
}

static int32_t
ppid_of(int32_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return -1;
	}
	buf[n] = '\0';
	const char *c = strrchr(buf, ')');
	int ppid;
	return c && sscanf(c + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

static bool
rule_allows(const struct erule *r, const char *exe)
{
	for (size_t i = 0; i < r->nallow; i++) {
		if (lw_glob_match(r->allow[i], exe, strlen(exe))) {
			return true;
		}
	}
	return false;
}

/* Queues a denial for the reporter; never blocks. */
static void
note_denial(struct enforcer *e, const struct fanotify_event_metadata *m, const struct erule *r)
{
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
	if (readlink_rel(link, path, sizeof(path)) < 0) {
		snprintf(path, sizeof(path), "?");
	}
	/* The opener waits for our answer, so it is alive and /proc is its. */
	int pidfd = (int)syscall(SYS_pidfd_open, m->pid, 0);
	struct lw_proc *proc = procinfo_resolve(e->procs, m->pid, pidfd);
	if (pidfd >= 0) {
		close(pidfd);
	}
	pthread_mutex_lock(&e->rmu);
	if (e->rn == ENF_RING) {
		atomic_fetch_add(&e->dropped, 1);
	} else {
		struct enforce_denial *d = &e->ring[(e->rhead + e->rn++) % ENF_RING];
		d->path = lw_strdup(path);
		d->rule = lw_strdup(r->id);
		d->process = lw_strdup(proc->json);
		pthread_cond_signal(&e->rcv);
	}
	pthread_mutex_unlock(&e->rmu);
	lw_proc_unref(proc);
}

static uint32_t
decide(struct enforcer *e, const struct fanotify_event_metadata *m)
{
	if (m->pid == e->self) {
		return FAN_ALLOW; /* workers hashing, quarantine: the agent itself */
	}
	struct stat st;
	if (fstat(m->fd, &st) < 0) {
		return FAN_ALLOW;
	}
	pthread_rwlock_rdlock(&e->tl);
	struct eentry *x = *eslot(e, st.st_dev, st.st_ino);
	const struct erule *r = x ? x->rule : NULL;
	pthread_rwlock_unlock(&e->tl);
	if (!r) {
		return FAN_ALLOW; /* a mark left on a file no longer protected */
	}
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/exe", m->pid);
	if ((readlink_rel(link, exe, sizeof(exe)) >= 0 && rule_allows(r, exe)) ||
	    ppid_of(m->pid) == e->self) {
		/* an allowed program, or the agent's own classify helper */
		atomic_fetch_add(&e->allowed, 1);
		return FAN_ALLOW;
	}
	atomic_fetch_add(&e->denied, 1);
	note_denial(e, m, r);
	return FAN_DENY;
}

static void
answer(int fd, const struct fanotify_event_metadata *m, uint32_t verdict)
{
	struct fanotify_response resp = {.fd = m->fd, .response = verdict};
	if (write(fd, &resp, sizeof(resp)) < 0) {
		/* nothing to do: the group is closing, the kernel allows */
	}
	close(m->fd);
}

/*
 * The next whole event in a read buffer of @n bytes at *@off, copied out
 * (the buffer is not aligned for the struct). False at the end or at a
 * torn record. Used by the verdict thread and by the guard process, so it
 * calls nothing but memcpy.
 */
static bool
next_event(const char *buf, ssize_t n, ssize_t *off, struct fanotify_event_metadata *m)
{
	if (n - *off < (ssize_t)sizeof(*m)) {
		return false;
	}
	memcpy(m, buf + *off, sizeof(*m));
	if (m->event_len < sizeof(*m) || (ssize_t)m->event_len > n - *off) {
		return false;
	}
	*off += m->event_len;
	return true;
}

static void *
verdict_main(void *arg)
{
	struct enforcer *e = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	char buf[ENF_BUF];
	for (;;) {
		atomic_store(&e->sh->alive_ns, clock_mono_ns());
		struct pollfd pf[2] = {{.fd = e->fd, .events = POLLIN},
				       {.fd = e->stop_fd, .events = POLLIN}};
		int pr = poll(pf, 2, (int)(e->deadline_ms / 4 ? e->deadline_ms / 4 : 1));
		if (pr < 0 && errno != EINTR) {
			break;
		}
		if (pf[1].revents) {
			break;
		}
		ssize_t n = read(e->fd, buf, sizeof(buf));
		struct fanotify_event_metadata m;
		for (ssize_t off = 0; n > 0 && next_event(buf, n, &off, &m);) {
			if (m.fd >= 0) {
				answer(e->fd, &m, m.vers == FANOTIFY_METADATA_VERSION ? decide(e, &m)
										   : FAN_ALLOW);
			}
		}
	}
	return NULL;
}

/* --- the reporter thread ---------------------------------------------- */

static void *
reporter_main(void *arg)
{
	struct enforcer *e = arg;
	pthread_mutex_lock(&e->rmu);
	for (;;) {
		while (!e->rn && !e->rstop) {
			pthread_cond_wait(&e->rcv, &e->rmu);
		}
		if (!e->rn) {
			break;
		}
		struct enforce_denial d = e->ring[e->rhead];
		e->rhead = (e->rhead + 1) % ENF_RING;
		e->rn--;
		pthread_mutex_unlock(&e->rmu);
		e->report(e->report_arg, &d); /* may block on the writer: not our verdicts */
		free(d.path);
		free(d.rule);
		free(d.process);
		pthread_mutex_lock(&e->rmu);
	}
	pthread_mutex_unlock(&e->rmu);
	return NULL;
}

/* --- the guard process ------------------------------------------------- */

/* The child of fork() in a threaded program: system calls only. */
static _Noreturn void
guard_main(int fd, struct eshared *sh, unsigned deadline_ms, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) {
		_exit(0);
	}
	if (fd != 3) {
		dup2(fd, 3);
	}
	close_range(4, ~0u, 0); /* sockets and databases stay the agent's alone */
	int64_t deadline_ns = (int64_t)deadline_ms * 1000000;
	struct timespec nap = {.tv_sec = deadline_ms / 4000,
			       .tv_nsec = (long)(deadline_ms / 4 % 1000) * 1000000 + 1000000};
	bool stalled = false;
	char buf[ENF_BUF];
	for (;;) {
		nanosleep(&nap, NULL);
		if (getppid() != parent) {
			_exit(0);
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		if (now - atomic_load(&sh->alive_ns) <= deadline_ns) {
			stalled = false;
			continue;
		}
		if (!stalled) {
			static const char msg[] = "leakwatchd: enforce: the verdict thread is not"
						  " answering; allowing opens until it does\n";
			if (write(2, msg, sizeof(msg) - 1) < 0) {
				/* no stderr: the counter still says it */
			}
			stalled = true;
		}
		ssize_t n;
		while ((n = read(3, buf, sizeof(buf))) > 0) {
			struct fanotify_event_metadata m;
			for (ssize_t off = 0; next_event(buf, n, &off, &m);) {
				if (m.fd >= 0) {
					struct fanotify_response r = {.fd = m.fd, .response = FAN_ALLOW};
					if (write(3, &r, sizeof(r)) == sizeof(r)) {
						atomic_fetch_add(&sh->timeouts, 1);
					}
					close(m.fd);
				}
			}
		}
	}
}

/* --- activation -------------------------------------------------------- */

static void
stop_locked(struct enforcer *e)
{
	if (!e->active) {
		return;
	}
	eventfd_write(e->stop_fd, 1);
	pthread_join(e->verdict, NULL);
	if (e->guard > 0) {
		kill(e->guard, SIGKILL);
		waitpid(e->guard, NULL, 0);
		e->guard = 0;
	}
	atomic_fetch_add(&e->timeouts_before, atomic_load(&e->sh->timeouts));
	/* the last fd of the group: the kernel drops every mark and answers
	 * whatever is still pending with allow */
	close(e->fd);
	close(e->stop_fd);
	e->fd = e->stop_fd = -1;
	pthread_mutex_lock(&e->rmu);
	e->rstop = true;
	pthread_cond_signal(&e->rcv);
	pthread_mutex_unlock(&e->rmu);
	pthread_join(e->reporter, NULL);
	e->rstop = false;
	munmap(e->sh, sizeof(*e->sh));
	e->sh = NULL;
	procinfo_free(e->procs);
	e->procs = NULL;
	pthread_rwlock_wrlock(&e->tl);
	table_clear(e);
	e->active = false;
	pthread_rwlock_unlock(&e->tl);
}

int
enforcer_activate(struct enforcer *e)
{
	pthread_mutex_lock(&e->mu);
	if (e->active) {
		pthread_mutex_unlock(&e->mu);
		return 0;
	}
	int r = 0;
	e->fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
			      O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->sh = mmap(NULL, sizeof(*e->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (e->fd < 0 || e->stop_fd < 0 || e->sh == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	atomic_store(&e->sh->alive_ns, clock_mono_ns());
	e->procs = procinfo_new("/proc", 256);
	if (e->procs) {
		procinfo_no_exec_events(e->procs); /* openers are alive: no race */
	}
	pid_t parent = e->self = getpid();
	pid_t g = fork();
	if (g < 0) {
		r = -errno;
		goto fail;
	}
	if (g == 0) {
		guard_main(e->fd, e->sh, e->deadline_ms, parent);
	}
	e->guard = g;
	if ((r = -pthread_create(&e->verdict, NULL, verdict_main, e)) < 0) {
		goto fail;
	}
	if ((r = -pthread_create(&e->reporter, NULL, reporter_main, e)) < 0) {
		eventfd_write(e->stop_fd, 1);
		pthread_join(e->verdict, NULL);
		goto fail;
	}
	e->active = true;
	pthread_mutex_unlock(&e->mu);
	log_info("enforce: block rules active (verdict deadline %u ms)", e->deadline_ms);
	return 0;
fail:
	if (e->guard > 0) {
		kill(e->guard, SIGKILL);
		waitpid(e->guard, NULL, 0);
		e->guard = 0;
	}
	if (e->fd >= 0) {
		close(e->fd);
	}
	if (e->stop_fd >= 0) {
		close(e->stop_fd);
	}
	if (e->sh && e->sh != MAP_FAILED) {
		munmap(e->sh, sizeof(*e->sh));
	}
	e->sh = NULL;
	e->fd = e->stop_fd = -1;
	procinfo_free(e->procs);
	e->procs = NULL;
	pthread_mutex_unlock(&e->mu);
	return r;
}

void
enforcer_deactivate(struct enforcer *e)
{
	pthread_mutex_lock(&e->mu);
	bool was = e->active;
	stop_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (was) {
		log_info("enforce: block rules inactive; every open proceeds");
	}
}

bool
enforcer_active(struct enforcer *e)
{
	pthread_mutex_lock(&e->mu);
	bool a = e->active;
	pthread_mutex_unlock(&e->mu);
	return a;
}

void
enforcer_free(struct enforcer *e)
{
	if (!e) {
		return;
	}
	enforcer_deactivate(e);
	for (struct erule *r = e->rules, *n; r; r = n) {
		n = r->next;
		for (size_t i = 0; i < r->nallow; i++) {
			free(r->allow[i]);
		}
		free(r->allow);
		free(r->id);
		free(r);
	}
	free(e->buckets);
	pthread_mutex_destroy(&e->mu);
	pthread_rwlock_destroy(&e->tl);
	pthread_mutex_destroy(&e->rmu);
	pthread_cond_destroy(&e->rcv);
	free(e);
}

/* --- the protected files (writer thread) ------------------------------- */

static const struct erule *
intern_rule(struct enforcer *e, const struct policy_rule_info *ri)
{
	for (struct erule *r = e->rules; r; r = r->next) {
		if (memcmp(r->sig, ri->sig, LW_SHA256_LEN) == 0 && strcmp(r->id, ri->id) == 0) {
			return r;
		}
	}
	struct erule *r = lw_new(struct erule, 1);
	memcpy(r->sig, ri->sig, LW_SHA256_LEN);
	r->id = lw_strdup(ri->id);
	r->allow = lw_new(char *, ri->nallow ? ri->nallow : 1);
	for (size_t i = 0; i < ri->nallow; i++) {
		r->allow[i] = lw_strdup(ri->allow[i]);
	}
	r->nallow = ri->nallow;
	r->next = e->rules;
	e->rules = r;
	return r;
}

static void
grow(struct enforcer *e)
{
	size_t old = e->nbuckets;
	struct eentry **ob = e->buckets;
	e->nbuckets = old * 2;
	e->buckets = lw_new(struct eentry *, e->nbuckets);
	for (size_t i = 0; i < old; i++) {
		for (struct eentry *x = ob[i], *n; x; x = n) {
			n = x->next;
			struct eentry **p = &e->buckets[ekey(x->dev, x->ino) & (e->nbuckets - 1)];
			x->next = *p;
			*p = x;
		}
	}
	free(ob);
}

int
enforcer_protect(struct enforcer *e, const char *path, uint64_t dev, uint64_t ino,
		 const struct policy_rule_info *ri)
{
	pthread_mutex_lock(&e->mu);
	if (!e->active) {
		pthread_mutex_unlock(&e->mu);
		return 0;
	}
	const struct erule *rule = intern_rule(e, ri);
	int r = 0;
	pthread_rwlock_rdlock(&e->tl);
	struct eentry *x = *eslot(e, dev, ino);
	bool marked = x && x->rule == rule;
	pthread_rwlock_unlock(&e->tl);
	if (!marked) {
		/* the entry first, so the first open after the mark finds it */
		pthread_rwlock_wrlock(&e->tl);
		struct eentry **p = eslot(e, dev, ino);
		if (!*p) {
			if (e->count >= e->nbuckets) {
				grow(e);
				p = eslot(e, dev, ino);
			}
			*p = lw_new(struct eentry, 1);
			(*p)->dev = dev;
			(*p)->ino = ino;
			e->count++;
		}
		(*p)->rule = rule;
		pthread_rwlock_unlock(&e->tl);
		if (fanotify_mark(e->fd, FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW, FAN_OPEN_PERM, AT_FDCWD,
				  path) < 0) {
			r = -errno;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return r;
}

void
enforcer_unprotect(struct enforcer *e, const char *path, uint64_t dev, uint64_t ino)
{
	pthread_mutex_lock(&e->mu);
	if (e->active) {
		pthread_rwlock_wrlock(&e->tl);
		struct eentry **p = eslot(e, dev, ino);
		struct eentry *x = *p;
		if (x) {
			*p = x->next;
			free(x);
			e->count--;
		}
		pthread_rwlock_unlock(&e->tl);
		if (x) {
			/* a mark on another inode at @path now fails harmlessly */
			fanotify_mark(e->fd, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, FAN_OPEN_PERM,
				      AT_FDCWD, path);
		}
	}
	pthread_mutex_unlock(&e->mu);
}

void
enforcer_stats(struct enforcer *e, struct enforce_stats *out)
{
	pthread_mutex_lock(&e->mu);
	out->active = e->active;
	pthread_rwlock_rdlock(&e->tl);
	out->protected_files = (int64_t)e->count;
	pthread_rwlock_unlock(&e->tl);
	out->timeouts = atomic_load(&e->timeouts_before) +
			(e->sh ? atomic_load(&e->sh->timeouts) : 0);
	pthread_mutex_unlock(&e->mu);
	out->allowed = atomic_load(&e->allowed);
	out->denied = atomic_load(&e->denied);
	out->dropped = atomic_load(&e->dropped);
}
