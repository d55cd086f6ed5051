/* procinfo.h — who did it: the process behind a fanotify event.
 *
 * fanotify names the process (pid, and a pidfd) that created, wrote or
 * renamed a file. The watcher resolves it as soon as it reads the event,
 * while the process most likely still runs: real and effective uid, the
 * audit login uid (which survives sudo), the executable, the command line
 * (capped) and the chain of parents up to the session leader. The result
 * is a small immutable JSON object that travels with the path through the
 * queue, the worker and the writer into the violation and the sighting.
 *
 * Never a guess: /proc/PID is believed only if the event's pidfd still
 * refers to a living (or not yet reaped) process after /proc was read, so
 * a pid the kernel gave to a new process meanwhile is never described.
 * Where the process is gone the record says {"pid": N, "exited": true}.
 * User names are not looked up here (NSS may block for seconds on a
 * directory server, and this runs on the watcher thread): the writer adds
 * them through its owner cache.
 *
 * Owns: a direct-mapped cache of processes by pid and start time (bounded).
 * Thread: the watcher's, except lw_proc_ref/unref (any thread). */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_proc {
	atomic_int refs;
	int32_t pid;
	bool exited;
	char json[]; /* NUL-terminated JSON object */
};

struct lw_proc *lw_proc_ref(struct lw_proc *p); /* NULL passes through */
void lw_proc_unref(struct lw_proc *p);          /* NULL is a no-op */

/* The caps, exposed for the tests. */
#define PROCINFO_CMDLINE_MAX 1024 /* bytes of a command line kept */
#define PROCINFO_PARENT_CMDLINE_MAX 256
#define PROCINFO_PARENTS_MAX 8

struct procinfo;

/* @proc_root: "/proc" (tests may point elsewhere). @slots: cache size. */
struct procinfo *procinfo_new(const char *proc_root, size_t slots);
void procinfo_free(struct procinfo *pi); /* NULL is a no-op */

/* Exec events from the kernel's proc connector (CAP_NET_ADMIN): a program
 * is read as it starts, while /proc still has all of it, so that one that
 * writes a file and exits at once (cp, mv) is still named when its event
 * is read after it began to exit. The fd to poll, or -1 without them; when
 * it is readable, drain it. */
int procinfo_exec_fd(const struct procinfo *pi);
void procinfo_exec_drain(struct procinfo *pi);
/* Closes the connector: for an owner that resolves only live processes. */
void procinfo_no_exec_events(struct procinfo *pi);

/* The process @pid of an event with pidfd @pidfd (the caller keeps and
 * closes it; -1 when the kernel had none: the process was already
 * reaped). A new reference, never NULL for pid > 0. */
struct lw_proc *procinfo_resolve(struct procinfo *pi, int32_t pid, int pidfd);
