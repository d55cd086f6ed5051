/* procinfo.c — the process behind a fanotify event (see procinfo.h). */
#include "procinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "json.h"
#include "mem.h"
#include "wire.h"

#define NO_UID 4294967295u /* loginuid of a process outside any login */

/* What /proc says about one process, keyed by pid and start time (the
 * pair names one process for the life of the machine). */
struct pentry {
	int32_t pid; /* 0: empty slot */
	uint64_t start;
	int32_t ppid, sid;
	char state;
	uint32_t uid, euid, loginuid;
	char *exe; /* NULL when unreadable (a zombie, a kernel thread) */
	char *cmdline;
	size_t exe_len, cmd_len;
	bool cmd_truncated;
	struct lw_proc *rec; /* the whole record with parents, once built */
};

struct procinfo {
	int rootfd;
	int exec_fd; /* the proc connector (exec events), or -1 */
	size_t nslots;
	struct pentry *slots;
};

struct lw_proc *
lw_proc_ref(struct lw_proc *p)
{
	if (p) {
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	}
	return p;
}

void
lw_proc_unref(struct lw_proc *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
		free(p);
	}
}

static struct lw_proc *
proc_new(int32_t pid, bool exited, const char *json)
{
	size_t n = strlen(json);
	struct lw_proc *p = lw_malloc(sizeof(*p) + n + 1);
	atomic_init(&p->refs, 1);
	p->pid = pid;
	p->exited = exited;
	memcpy(p->json, json, n + 1);
	return p;
}

static void
pentry_clear(struct pentry *e)
{
	free(e->exe);
	free(e->cmdline);
	lw_proc_unref(e->rec);
	*e = (struct pentry){0};
}

/* The kernel's proc connector, for exec events only (a socket filter drops
 * forks and exits in the kernel). It needs CAP_NET_ADMIN; without it
 * processes are read when their events are, which loses the race against
 * a short-lived program more often. -1 when unavailable. */
static int
exec_open(void)
{
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0) {
		return -1;
	}
	/* "what" of struct proc_event, loaded by BPF in network order */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 NLMSG_LENGTH(0) + offsetof(struct cn_msg, data) +
				 offsetof(struct proc_event, what)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXEC), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	/*
	 * The listen request is a netlink header, a cn_msg and the op. Built in
	 * an aligned byte buffer: a struct with cn_msg (flexible array member)
	 * in the middle is a GNU extension clang rejects.
	 */
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	union {
		char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))];
		struct nlmsghdr align;
	} req;
	memset(&req, 0, sizeof(req));
	struct nlmsghdr *nl = &req.align;
	nl->nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(op));
	nl->nlmsg_type = NLMSG_DONE;
	struct cn_msg *cn = NLMSG_DATA(nl);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req.buf, nl->nlmsg_len, 0) != (ssize_t)nl->nlmsg_len) {
		close(fd);
		return -1;
	}
	return fd;
}

void
procinfo_no_exec_events(struct procinfo *pi)
{
	if (pi->exec_fd >= 0) {
		close(pi->exec_fd);
		pi->exec_fd = -1;
	}
}

int
procinfo_exec_fd(const struct procinfo *pi)
{
	return pi->exec_fd;
}

struct procinfo *
procinfo_new(const char *proc_root, size_t slots)
{
	int fd = open(proc_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	struct procinfo *pi = lw_new(struct procinfo, 1);
	pi->rootfd = fd;
	pi->exec_fd = exec_open();
	pi->nslots = slots ? slots : 1;
	pi->slots = lw_new(struct pentry, pi->nslots);
	return pi;
}

void
procinfo_free(struct procinfo *pi)
{
	if (!pi) {
		return;
	}
	for (size_t i = 0; i < pi->nslots; i++) {
		pentry_clear(&pi->slots[i]);
	}
	free(pi->slots);
	close(pi->rootfd);
	if (pi->exec_fd >= 0) {
		close(pi->exec_fd);
	}
	free(pi);
}

/* Up to @cap bytes of /proc/PID/@name into @buf; the byte count, or -1. */
static ssize_t
read_proc(struct procinfo *pi, int32_t pid, const char *name, char *buf, size_t cap)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "%d/%s", pid, name);
	int fd = openat(pi->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return -1;
	}
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

/* The fields of /proc/PID/stat we need. The command name (field 2) may
 * hold spaces and parentheses, so parsing starts after the last ')'. */
static bool
read_stat(struct procinfo *pi, int32_t pid, struct pentry *e)
{
	char buf[1024];
	ssize_t n = read_proc(pi, pid, "stat", buf, sizeof(buf) - 1);
	if (n <= 0) {
		return false;
	}
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long long start;
	if (!p || sscanf(p + 1,
			 " %c %d %*d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d"
			 " %llu",
			 &e->state, &e->ppid, &e->sid, &start) != 4) {
		return false;
	}
	e->pid = pid;
	e->start = start;
	return true;
}

static void
read_ids(struct procinfo *pi, int32_t pid, struct pentry *e)
{
	char buf[4096];
	e->uid = e->euid = e->loginuid = NO_UID;
	ssize_t n = read_proc(pi, pid, "status", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		const char *u = strstr(buf, "\nUid:");
		unsigned r, ef;
		if (u && sscanf(u + 5, "%u %u", &r, &ef) == 2) {
			e->uid = r;
			e->euid = ef;
		}
	}
	n = read_proc(pi, pid, "loginuid", buf, 16);
	if (n > 0) {
		buf[n] = '\0';
		e->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	}
}

static void
read_exe(struct procinfo *pi, int32_t pid, struct pentry *e)
{
	char rel[64], buf[4096];
	snprintf(rel, sizeof(rel), "%d/exe", pid);
	ssize_t n = readlinkat(pi->rootfd, rel, buf, sizeof(buf));
	if (n > 0 && (size_t)n < sizeof(buf)) {
		e->exe = lw_strndup(buf, (size_t)n);
		e->exe_len = (size_t)n;
	}
}

/* The command line, arguments joined by spaces, at most @cap bytes. */
static void
read_cmdline(struct procinfo *pi, int32_t pid, struct pentry *e)
{
	/*
	 * Two bytes over the cap: a command line of exactly the cap plus its
	 * terminating NUL is whole. Trailing NULs go before the length is
	 * compared; a full buffer means there may be more, so it is cut.
	 */
	char buf[PROCINFO_CMDLINE_MAX + 2];
	ssize_t n = read_proc(pi, pid, "cmdline", buf, sizeof(buf));
	if (n <= 0) {
		return; /* a zombie or a kernel thread has none */
	}
	size_t len = (size_t)n;
	while (len && buf[len - 1] == '\0') {
		len--;
	}
	e->cmd_truncated = len > PROCINFO_CMDLINE_MAX || (size_t)n == sizeof(buf);
	if (len > PROCINFO_CMDLINE_MAX) {
		len = PROCINFO_CMDLINE_MAX;
		while (len && buf[len - 1] == '\0') {
			len--;
		}
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0') {
			buf[i] = ' ';
		}
	}
	e->cmdline = lw_strndup(buf, len);
	e->cmd_len = len;
}

static void
read_rest(struct procinfo *pi, struct pentry *e)
{
	read_ids(pi, e->pid, e);
	read_exe(pi, e->pid, e);
	read_cmdline(pi, e->pid, e);
}

static bool
exe_changed(struct procinfo *pi, const struct pentry *e)
{
	char rel[64], buf[4096];
	snprintf(rel, sizeof(rel), "%d/exe", e->pid);
	ssize_t n = readlinkat(pi->rootfd, rel, buf, sizeof(buf));
	if (n <= 0 || (size_t)n >= sizeof(buf)) {
		return false; /* exiting: what was read before still holds */
	}
	return !e->exe || e->exe_len != (size_t)n || memcmp(e->exe, buf, (size_t)n) != 0;
}

/* The cached entry of the process @pid (read now if not cached, if the pid
 * now names another process, or with @fresh). An exec keeps the pid and
 * the start time, so a cached entry is checked against the executable.
 * NULL when /proc has no such process. The pointer lasts until the next
 * lookup. */
static struct pentry *
lookup_fresh(struct procinfo *pi, int32_t pid, bool fresh)
{
	struct pentry now = {0};
	if (!read_stat(pi, pid, &now)) {
		return NULL;
	}
	struct pentry *slot = &pi->slots[(uint32_t)pid % pi->nslots];
	if (!fresh && slot->pid == pid && slot->start == now.start && !exe_changed(pi, slot)) {
		slot->state = now.state; /* it may have become a zombie */
		return slot;
	}
	read_rest(pi, &now);
	pentry_clear(slot);
	*slot = now;
	return slot;
}

static struct pentry *
lookup(struct procinfo *pi, int32_t pid)
{
	return lookup_fresh(pi, pid, false);
}

void
procinfo_exec_drain(struct procinfo *pi)
{
	union {
		struct nlmsghdr nl;
		char raw[4096];
	} buf;
	for (;;) {
		ssize_t n = recv(pi->exec_fd, &buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			continue; /* some were lost: those are read at their events */
		}
		if (n <= 0) {
			return;
		}
		for (struct nlmsghdr *h = &buf.nl; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct cn_msg *cn = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)) ||
			    cn->id.idx != CN_IDX_PROC) {
				continue;
			}
			struct proc_event ev;
			memcpy(&ev, cn->data, sizeof(ev));
			if (ev.what == PROC_EVENT_EXEC) {
				lookup_fresh(pi, ev.event_data.exec.process_tgid, true);
			}
		}
	}
}

static void
add_bytes(cJSON *o, const char *key, const char *s, size_t len, size_t cap)
{
	if (!s) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	cJSON_AddItemToObject(o, key, wire_json_bytes(s, len < cap ? len : cap));
}

static void
add_ids(cJSON *o, const struct pentry *e)
{
	cJSON_AddNumberToObject(o, "pid", e->pid);
	if (e->uid != NO_UID) {
		cJSON_AddNumberToObject(o, "uid", e->uid);
	}
	if (e->euid != e->uid && e->euid != NO_UID) {
		cJSON_AddNumberToObject(o, "euid", e->euid);
	}
	if (e->loginuid != NO_UID) {
		cJSON_AddNumberToObject(o, "login_uid", e->loginuid);
	}
}

/* The parents of @leaf up to its session leader (or init), oldest last.
 * An ancestor must have started no later than its child, which rules out
 * a pid reused since /proc named it as the parent. */
static cJSON *
parents_json(struct procinfo *pi, int32_t ppid, int32_t sid, uint64_t child_start)
{
	cJSON *arr = cJSON_CreateArray();
	for (int depth = 0; ppid > 0 && depth < PROCINFO_PARENTS_MAX; depth++) {
		struct pentry *p = lookup(pi, ppid);
		if (!p || p->start > child_start) {
			break;
		}
		cJSON *o = cJSON_CreateObject();
		add_ids(o, p);
		add_bytes(o, "exe", p->exe, p->exe_len, SIZE_MAX);
		add_bytes(o, "cmdline", p->cmdline, p->cmd_len, PROCINFO_PARENT_CMDLINE_MAX);
		cJSON_AddItemToArray(arr, o);
		if (p->pid == sid || p->pid == 1) {
			break;
		}
		child_start = p->start;
		ppid = p->ppid;
	}
	return arr;
}

static struct lw_proc *
exited_rec(int32_t pid)
{
	char json[64];
	snprintf(json, sizeof(json), "{\"pid\":%d,\"exited\":true}", pid);
	return proc_new(pid, true, json);
}

static struct lw_proc *
build(struct procinfo *pi, struct pentry *e)
{
	/* parents_json() may evict @e's slot (and free its strings): its own
	 * fields go into the JSON first, and only scalars are used after */
	struct pentry me = *e;
	AUTOJSON cJSON *o = cJSON_CreateObject();
	add_ids(o, &me);
	add_bytes(o, "exe", me.exe, me.exe_len, SIZE_MAX);
	add_bytes(o, "cmdline", me.cmdline, me.cmd_len, SIZE_MAX);
	if (me.cmd_truncated) {
		cJSON_AddTrueToObject(o, "cmdline_truncated");
	}
	/* A process caught in exit(2) has lost its memory map (no exe, no
	 * command line) before it becomes a zombie: exited too. Kernel
	 * threads, which never have either, do not write files. */
	bool zombie = me.state == 'Z' || me.state == 'X' || !me.exe;
	if (zombie) {
		cJSON_AddTrueToObject(o, "exited");
	}
	cJSON_AddItemToObject(o, "parents", parents_json(pi, me.ppid, me.sid, me.start));
	char *s = cJSON_PrintUnformatted(o);
	struct lw_proc *rec = proc_new(me.pid, zombie, s);
	cJSON_free(s);
	return rec;
}

static bool
pidfd_alive(int pidfd)
{
	/* Signal 0 checks only: it fails with ESRCH once the process was
	 * reaped, so /proc/PID read before this still described it. */
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

struct lw_proc *
procinfo_resolve(struct procinfo *pi, int32_t pid, int pidfd)
{
	if (pidfd < 0 || !pi) { /* no pidfd, or no /proc to read */
		return exited_rec(pid);
	}
	struct pentry *e = lookup(pi, pid);
	if (!e) {
		return exited_rec(pid);
	}
	uint64_t start = e->start;
	struct lw_proc *rec;
	if (e->rec) {
		/* resolved before, perhaps while it still ran: the same process */
		rec = lw_proc_ref(e->rec);
	} else {
		rec = build(pi, e);
		/* build() looked up the parents: find the entry again */
		struct pentry *again = &pi->slots[(uint32_t)pid % pi->nslots];
		if (again->pid == pid && again->start == start && !again->rec) {
			again->rec = lw_proc_ref(rec);
		}
	}
	if (!pidfd_alive(pidfd)) {
		lw_proc_unref(rec);
		return exited_rec(pid);
	}
	return rec;
}
