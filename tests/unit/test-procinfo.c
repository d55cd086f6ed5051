/* test-procinfo.c — the process behind an event (procinfo.c), read from a
 * fake /proc in a private directory: stat (with a hostile command name),
 * status, loginuid, cmdline and the exe link; the parents up to the session
 * leader; the caps; the pidfd check against this process (alive) and a
 * reaped child (gone); the cache by pid and start time; one-slot
 * collisions; and the records' reference counts.
 *
 * Each case has a fake root of its own, so that this process's pid (the
 * only one with a pidfd that is surely alive) can describe a different
 * process in each. Parents are numbered above the kernel's largest
 * pid_max: no real process (and no exec event) ever has their pids. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "json.h"
#include "procinfo.h"

#define NO_UID 4294967295u
#define FAKE_PID 5000000 /* above PID_MAX_LIMIT (4194304) */

/* One fake /proc/PID. */
struct fproc {
	int32_t pid;
	const char *comm;
	char state; /* 0: 'S' */
	int32_t ppid, sid;
	unsigned long long start;
	unsigned uid, euid, loginuid;
	bool no_status;
	const char *cmdline; /* NUL-separated, @cmdlen bytes */
	size_t cmdlen;
	const char *exe; /* NULL: no link */
};

/* a NUL-separated command line, its last NUL included */
#define ARGV(s) .cmdline = (s), .cmdlen = sizeof(s)

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0) {
		perror(path);
		exit(99);
	}
}

/* Writes (or rewrites) @root/@p->pid. */
static void
mkproc(const char *root, const struct fproc *p)
{
	char dir[512], buf[4096];
	snprintf(dir, sizeof(dir), "%s/%d", root, p->pid);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		exit(99);
	}
	/* pgrp is the pid itself, never the session: a parser that took
	 * field 5 for field 6 would not stop at the session leader */
	int n = snprintf(buf, sizeof(buf),
			 "%d (%s) %c %d %d %d 34817 %d 4194560 1234 0 7 0 15 3 0 0 20 0 1 0 %llu "
			 "12345678 900 18446744073709551615 1 1 0 0 0 0 0 3670020 1266777851 0 0 0 "
			 "17 3 0 0 0 0 0\n",
			 p->pid, p->comm ? p->comm : "fake", p->state ? p->state : 'S', p->ppid,
			 p->pid, p->sid, p->pid, p->start);
	write_file(dir, "stat", buf, (size_t)n);
	char status[600];
	snprintf(status, sizeof(status), "%s/status", dir);
	if (p->no_status) {
		unlink(status);
	} else {
		n = snprintf(buf, sizeof(buf),
			     "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\n"
			     "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\n"
			     "Gid:\t%u\t%u\t%u\t%u\nFDSize:\t64\n",
			     p->comm ? p->comm : "fake", p->pid, p->pid, p->ppid, p->uid, p->euid,
			     p->euid, p->euid, p->uid, p->euid, p->euid, p->euid);
		write_file(dir, "status", buf, (size_t)n);
	}
	n = snprintf(buf, sizeof(buf), "%u", p->loginuid);
	write_file(dir, "loginuid", buf, (size_t)n);
	write_file(dir, "cmdline", p->cmdline ? p->cmdline : "", p->cmdline ? p->cmdlen : 0);
	char exe[600];
	snprintf(exe, sizeof(exe), "%s/exe", dir);
	unlink(exe);
	if (p->exe && symlink(p->exe, exe) != 0) {
		perror(exe);
		exit(99);
	}
}

/* A fresh fake root under the test's directory. */
static const char *
mkroot(const char *name)
{
	static char path[32][512];
	static int next;
	if (next == 32) {
		fprintf(stderr, "too many fake roots\n");
		exit(99);
	}
	char *r = path[next++];
	snprintf(r, 512, "%s/%s", th_tmpdir(), name);
	if (mkdir(r, 0755) != 0) {
		perror(r);
		exit(99);
	}
	return r;
}

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The record's JSON as a tree (bytes kept: LW_JSON_BYTES), or NULL. */
static cJSON *
parse(const struct lw_proc *p)
{
	if (!p) {
		return NULL;
	}
	cJSON *o = NULL;
	struct lw_json_error err;
	if (lw_json_parse(p->json, strlen(p->json), LW_JSON_BYTES, &o, &err) != 0) {
		printf("# bad JSON (%s at %zu): %s\n", err.msg, err.offset, p->json);
		return NULL;
	}
	return o;
}

static bool
has(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* a number, -1 when absent or not a number */
static long long
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const cJSON *
parents(const cJSON *o)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "parents");
	return cJSON_IsArray(a) ? a : NULL;
}

static int
nparents(const cJSON *o)
{
	const cJSON *a = parents(o);
	return a ? cJSON_GetArraySize(a) : -1;
}

static const cJSON *
parent(const cJSON *o, int i)
{
	const cJSON *a = parents(o);
	return a ? cJSON_GetArrayItem(a, i) : NULL;
}

static int32_t self;
static int self_fd; /* pidfd of this process: alive */

/* 1. an ordinary process and its parents up to the session leader */
static void
test_normal(void)
{
	const char *root = mkroot("normal");
	const int32_t p1 = FAKE_PID + 1, p2 = FAKE_PID + 2, p3 = FAKE_PID + 3, p4 = FAKE_PID + 4;
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "cat",
				     .ppid = p1,
				     .sid = p3,
				     .start = 5000,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("cat\0-n\0/etc/passwd"),
				     .exe = "/usr/bin/cat"});
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "sudo-bash",
				     .ppid = p2,
				     .sid = p3,
				     .start = 4000,
				     .uid = 1000,
				     .euid = 0,
				     .loginuid = NO_UID,
				     ARGV("bash\0-i"),
				     .exe = "/usr/bin/bash"});
	mkproc(root, &(struct fproc){.pid = p2,
				     .comm = "tmux",
				     .ppid = p3,
				     .sid = p3,
				     .start = 4000 /* the same tick as its child */,
				     .uid = 0,
				     .euid = 0,
				     .loginuid = 1000,
				     ARGV("tmux"),
				     .exe = "/usr/bin/tmux"});
	mkproc(root, &(struct fproc){.pid = p3,
				     .comm = "bash",
				     .ppid = p4,
				     .sid = p3,
				     .start = 2000,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("-bash"),
				     .exe = "/usr/bin/bash"});
	mkproc(root, &(struct fproc){.pid = p4,
				     .comm = "sshd",
				     .ppid = 1,
				     .sid = p4,
				     .start = 1000,
				     .uid = 0,
				     .euid = 0,
				     .loginuid = NO_UID,
				     ARGV("sshd: ann [priv]"),
				     .exe = "/usr/sbin/sshd"});

	struct procinfo *pi = procinfo_new(root, 64);
	th_ok(pi != NULL, "procinfo_new on a fake root");
	if (!pi) {
		return;
	}
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	th_ok(r != NULL, "a live process resolves");
	if (!r) {
		procinfo_free(pi);
		return;
	}
	printf("# %s\n", r->json);
	th_inteq(r->pid, self, "lw_proc.pid");
	th_ok(!r->exited, "lw_proc.exited is false for a live process");
	AUTOJSON cJSON *o = parse(r);
	th_ok(o != NULL, "the record is strict JSON");
	th_inteq(num(o, "pid"), self, "pid");
	th_inteq(num(o, "uid"), 1000, "uid from the Uid: line (real)");
	th_ok(!has(o, "euid"), "no euid when it equals the uid");
	th_inteq(num(o, "login_uid"), 1000, "login_uid from loginuid");
	th_streq(str(o, "exe"), "/usr/bin/cat", "exe from the link");
	th_streq(str(o, "cmdline"), "cat -n /etc/passwd",
		 "cmdline: NULs become spaces, the last one is dropped");
	th_ok(!has(o, "cmdline_truncated"), "a short command line is not truncated");
	th_ok(!has(o, "exited"), "no exited for a live process");
	th_inteq(nparents(o), 3, "three parents: up to the session leader, not past it");
	const cJSON *a = parent(o, 0), *b = parent(o, 1), *c = parent(o, 2);
	th_inteq(num(a, "pid"), p1, "parents[0] is the parent");
	th_inteq(num(a, "uid"), 1000, "parents[0].uid");
	th_inteq(num(a, "euid"), 0, "parents[0].euid where it differs from the uid");
	th_ok(a && !has(a, "login_uid"), "no login_uid for 4294967295");
	th_streq(str(a, "exe"), "/usr/bin/bash", "parents[0].exe");
	th_streq(str(a, "cmdline"), "bash -i", "parents[0].cmdline");
	th_inteq(num(b, "pid"), p2, "parents[1]: a parent started in the same tick is kept");
	th_inteq(num(b, "uid"), 0, "parents[1].uid 0 is written");
	th_ok(b && !has(b, "euid"), "parents[1] has no euid");
	th_inteq(num(b, "login_uid"), 1000, "parents[1].login_uid");
	th_inteq(num(c, "pid"), p3, "parents[2] is the session leader");
	th_streq(str(c, "cmdline"), "-bash", "parents[2].cmdline");
	th_ok(c && !has(c, "parents") && !has(c, "exited"),
	      "parents hold no parents of their own nor exited");

	/* the connector may be there (root) or not; draining with nothing
	 * of ours to read changes nothing */
	if (procinfo_exec_fd(pi) >= 0) {
		procinfo_exec_drain(pi);
		struct lw_proc *again = procinfo_resolve(pi, self, self_fd);
		th_streq(again->json, r->json, "after procinfo_exec_drain the same record");
		lw_proc_unref(again);
	} else {
		printf("# skipped: no proc connector (exec events) here\n");
	}
	procinfo_no_exec_events(pi);
	th_inteq(procinfo_exec_fd(pi), -1, "procinfo_no_exec_events closes the connector");
	procinfo_no_exec_events(pi); /* twice is harmless */
	lw_proc_unref(r);
	procinfo_free(pi);

	th_ok(procinfo_new("/nonexistent/proc", 4) == NULL, "procinfo_new on a missing root");
	procinfo_free(NULL);
}

/* 2. a command name with spaces and parentheses */
static void
test_hostile_comm(void)
{
	const char *root = mkroot("hostile");
	const int32_t p1 = FAKE_PID + 11, p2 = FAKE_PID + 12;
	/* a parser that stopped at the first ')' would read state R, ppid 1,
	 * pgrp 1, session 1 */
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "x) R 1 1 1 (y) Z 1 1 1 (z",
				     .ppid = p1,
				     .sid = p2,
				     .start = 700,
				     .uid = 1001,
				     .euid = 0,
				     .loginuid = 1001,
				     ARGV("./a.out\0x"),
				     .exe = "/tmp/a (deleted)"});
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = ") ) )",
				     .ppid = p2,
				     .sid = p2,
				     .start = 600,
				     .uid = 1001,
				     .euid = 1001,
				     .loginuid = 1001,
				     ARGV("sh"),
				     .exe = "/bin/sh"});
	mkproc(root, &(struct fproc){.pid = p2,
				     .comm = "(",
				     .ppid = 1,
				     .sid = p2,
				     .start = 500,
				     .uid = 1001,
				     .euid = 1001,
				     .loginuid = 1001,
				     ARGV("login"),
				     .exe = "/bin/login"});
	mkproc(root, &(struct fproc){.pid = 1,
				     .comm = "init",
				     .ppid = 0,
				     .sid = 1,
				     .start = 1,
				     .uid = 0,
				     .euid = 0,
				     .loginuid = NO_UID,
				     ARGV("/sbin/init"),
				     .exe = "/sbin/init"});
	struct procinfo *pi = procinfo_new(root, 64);
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	printf("# %s\n", r->json);
	AUTOJSON cJSON *o = parse(r);
	th_ok(!r->exited && !has(o, "exited"),
	      "a hostile comm: state S is read after the last ')' (not Z)");
	th_inteq(num(o, "uid"), 1001, "hostile comm: uid");
	th_inteq(num(o, "euid"), 0, "hostile comm: euid where it differs");
	th_streq(str(o, "exe"), "/tmp/a (deleted)", "hostile comm: exe");
	th_inteq(nparents(o), 2, "hostile comm: ppid and session read right (2 parents)");
	th_inteq(num(parent(o, 0), "pid"), p1, "hostile comm: parents[0]");
	th_inteq(num(parent(o, 1), "pid"), p2, "hostile comm: parents[1] is the session leader");
	lw_proc_unref(r);
	procinfo_free(pi);
}

/* 3. the command line caps */
static void
test_caps(void)
{
	const char *root = mkroot("caps");
	const int32_t p1 = FAKE_PID + 21;
	/* NUL-separated words of 8 bytes ("arg0abcd"), 2000 bytes in all;
	 * byte 1023 (the last kept) is a letter, not a NUL */
	char big[2000];
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = i % 9 == 8 ? '\0' : "arg0abcd"[i % 9];
	}
	big[sizeof(big) - 1] = '\0';
	char want[PROCINFO_CMDLINE_MAX + 1];
	for (size_t i = 0; i < PROCINFO_CMDLINE_MAX; i++) {
		want[i] = big[i] ? big[i] : ' ';
	}
	want[PROCINFO_CMDLINE_MAX] = '\0';
	char pbig[600];
	memset(pbig, 'p', sizeof(pbig));
	pbig[sizeof(pbig) - 1] = '\0';
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "big",
				     .ppid = p1,
				     .sid = p1,
				     .start = 100,
				     .uid = 0,
				     .euid = 0,
				     .loginuid = NO_UID,
				     .cmdline = big,
				     .cmdlen = sizeof(big),
				     .exe = "/usr/bin/big"});
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "pbig",
				     .ppid = 1,
				     .sid = p1,
				     .start = 50,
				     .uid = 0,
				     .euid = 0,
				     .loginuid = NO_UID,
				     .cmdline = pbig,
				     .cmdlen = sizeof(pbig),
				     .exe = "/usr/bin/pbig"});
	struct procinfo *pi = procinfo_new(root, 64);
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o = parse(r);
	const char *cmd = str(o, "cmdline");
	th_inteq(cmd ? (long long)strlen(cmd) : -1, PROCINFO_CMDLINE_MAX,
		 "a long command line is cut to PROCINFO_CMDLINE_MAX bytes");
	th_streq(cmd, want, "the kept bytes are the first ones, NULs as spaces");
	th_ok(is_true(o, "cmdline_truncated"), "cmdline_truncated: true");
	th_ok(!has(o, "login_uid"), "no login_uid outside a login");
	const char *pc = str(parent(o, 0), "cmdline");
	th_inteq(pc ? (long long)strlen(pc) : -1, PROCINFO_PARENT_CMDLINE_MAX,
		 "a parent's command line is cut to PROCINFO_PARENT_CMDLINE_MAX bytes");
	th_ok(pc && strspn(pc, "p") == PROCINFO_PARENT_CMDLINE_MAX, "of its first bytes");
	th_ok(parent(o, 0) && !has(parent(o, 0), "cmdline_truncated"),
	      "parents carry no cmdline_truncated");
	lw_proc_unref(r);
	procinfo_free(pi);

	/* the cut right after an argument: its separator is not kept */
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = i % 8 == 7 ? '\0' : "arg0abc"[i % 8];
	}
	const char *cr = mkroot("cut");
	mkproc(cr, &(struct fproc){.pid = self,
				   .comm = "big",
				   .ppid = 0,
				   .sid = self,
				   .start = 100,
				   .uid = 0,
				   .euid = 0,
				   .loginuid = NO_UID,
				   .cmdline = big,
				   .cmdlen = sizeof(big),
				   .exe = "/usr/bin/big"});
	pi = procinfo_new(cr, 4);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *co = parse(r);
	cmd = str(co, "cmdline");
	th_ok(cmd && strlen(cmd) == PROCINFO_CMDLINE_MAX - 1 && cmd[strlen(cmd) - 1] == 'c' &&
		      is_true(co, "cmdline_truncated"),
	      "a cut on a NUL: %d bytes, no trailing space, truncated", PROCINFO_CMDLINE_MAX - 1);
	lw_proc_unref(r);
	procinfo_free(pi);

	/* just under and at the cap: a command line of exactly
	 * PROCINFO_CMDLINE_MAX bytes (NUL included) loses nothing */
	static const struct {
		const char *name;
		size_t chars; /* before the final NUL */
		bool truncated;
		size_t kept;
	} edge[] = {
		{"1023 bytes and a NUL (1024)", PROCINFO_CMDLINE_MAX - 1, false,
		 PROCINFO_CMDLINE_MAX - 1},
		{"1024 bytes and a NUL (1025)", PROCINFO_CMDLINE_MAX, false, PROCINFO_CMDLINE_MAX},
		{"1025 bytes and a NUL (1026)", PROCINFO_CMDLINE_MAX + 1, true,
		 PROCINFO_CMDLINE_MAX},
	};
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		char name[32], line[PROCINFO_CMDLINE_MAX + 2];
		snprintf(name, sizeof(name), "edge%zu", i);
		const char *er = mkroot(name);
		memset(line, 'e', edge[i].chars);
		line[edge[i].chars] = '\0';
		mkproc(er, &(struct fproc){.pid = self,
					   .comm = "e",
					   .ppid = 0,
					   .sid = self,
					   .start = 1,
					   .uid = 0,
					   .euid = 0,
					   .loginuid = NO_UID,
					   .cmdline = line,
					   .cmdlen = edge[i].chars + 1,
					   .exe = "/e"});
		struct procinfo *epi = procinfo_new(er, 4);
		struct lw_proc *er_rec = procinfo_resolve(epi, self, self_fd);
		AUTOJSON cJSON *eo = parse(er_rec);
		const char *ec = str(eo, "cmdline");
		th_inteq(ec ? (long long)strlen(ec) : -1, (long long)edge[i].kept, "%s: bytes kept",
			 edge[i].name);
		th_ok(is_true(eo, "cmdline_truncated") == edge[i].truncated,
		      "%s: cmdline_truncated %s", edge[i].name,
		      edge[i].truncated ? "true" : "absent");
		lw_proc_unref(er_rec);
		procinfo_free(epi);
	}

	/* bytes that are not UTF-8, and empty arguments, survive */
	const char *br = mkroot("bytes");
	mkproc(br, &(struct fproc){.pid = self,
				   .comm = "b",
				   .ppid = 0,
				   .sid = self,
				   .start = 1,
				   .uid = 0,
				   .euid = 0,
				   .loginuid = NO_UID,
				   ARGV("a\xff\0\0b\x1b[31m"),
				   .exe = "/tmp/\xfe\xff"});
	pi = procinfo_new(br, 4);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *bo = parse(r);
	th_streq(str(bo, "cmdline"), "a\xff  b\x1b[31m",
		 "a byte that is not UTF-8, an empty argument and ESC round-trip");
	th_streq(str(bo, "exe"), "/tmp/\xfe\xff", "an exe that is not UTF-8 round-trips");
	th_inteq(nparents(bo), 0, "ppid 0: no parents (an empty array)");
	lw_proc_unref(r);
	procinfo_free(pi);
}

/* 4. the chain's length and the start-time rule */
static void
test_chain(void)
{
	const char *root = mkroot("chain");
	/* self -> FAKE+31 -> FAKE+32 -> ... -> FAKE+42, session elsewhere */
	const int32_t base = FAKE_PID + 30, sid = FAKE_PID + 99;
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "leaf",
				     .ppid = base + 1,
				     .sid = sid,
				     .start = 10000,
				     .loginuid = NO_UID,
				     ARGV("leaf"),
				     .exe = "/leaf"});
	for (int i = 1; i <= 12; i++) {
		mkproc(root, &(struct fproc){.pid = base + i,
					     .comm = "anc",
					     .ppid = base + i + 1,
					     .sid = sid,
					     .start = 10000 - (unsigned)i * 10,
					     .loginuid = NO_UID,
					     ARGV("anc"),
					     .exe = "/anc"});
	}
	struct procinfo *pi = procinfo_new(root, 64);
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o = parse(r);
	th_inteq(nparents(o), PROCINFO_PARENTS_MAX, "a long chain stops at PROCINFO_PARENTS_MAX");
	bool order = nparents(o) > 0;
	for (int i = 0; i < nparents(o); i++) {
		order &= num(parent(o, i), "pid") == base + i + 1;
	}
	th_ok(order, "the parents in order, the nearest first");
	lw_proc_unref(r);
	procinfo_free(pi);

	/* pid 1 ends the chain even outside the session */
	const char *ir = mkroot("init");
	mkproc(ir, &(struct fproc){.pid = self,
				   .comm = "leaf",
				   .ppid = FAKE_PID + 51,
				   .sid = FAKE_PID + 99,
				   .start = 300,
				   .loginuid = NO_UID,
				   ARGV("leaf"),
				   .exe = "/leaf"});
	mkproc(ir, &(struct fproc){.pid = FAKE_PID + 51,
				   .comm = "d",
				   .ppid = 1,
				   .sid = FAKE_PID + 51,
				   .start = 200,
				   .loginuid = NO_UID,
				   ARGV("daemon"),
				   .exe = "/d"});
	mkproc(ir, &(struct fproc){.pid = 1,
				   .comm = "init",
				   .ppid = FAKE_PID + 52,
				   .sid = 1,
				   .start = 1,
				   .loginuid = NO_UID,
				   ARGV("init"),
				   .exe = "/sbin/init"});
	mkproc(ir, &(struct fproc){.pid = FAKE_PID + 52,
				   .comm = "never",
				   .ppid = 0,
				   .sid = 0,
				   .start = 0,
				   .loginuid = NO_UID,
				   ARGV("never"),
				   .exe = "/never"});
	pi = procinfo_new(ir, 64);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *io = parse(r);
	th_inteq(nparents(io), 2, "the chain stops at pid 1");
	th_inteq(num(parent(io, 1), "pid"), 1, "with pid 1 last");
	lw_proc_unref(r);
	procinfo_free(pi);

	/* a parent that started after its child is another process that
	 * took the pid: neither it nor anything above it is described */
	const char *rr = mkroot("reuse");
	const int32_t q1 = FAKE_PID + 61, q2 = FAKE_PID + 62, q3 = FAKE_PID + 63;
	mkproc(rr, &(struct fproc){.pid = self,
				   .comm = "leaf",
				   .ppid = q1,
				   .sid = q3,
				   .start = 1000,
				   .loginuid = NO_UID,
				   ARGV("leaf"),
				   .exe = "/leaf"});
	mkproc(rr, &(struct fproc){.pid = q1,
				   .comm = "p",
				   .ppid = q2,
				   .sid = q3,
				   .start = 900,
				   .loginuid = NO_UID,
				   ARGV("p"),
				   .exe = "/p"});
	mkproc(rr, &(struct fproc){.pid = q2,
				   .comm = "new",
				   .ppid = q3,
				   .sid = q3,
				   .start = 901 /* later than q1 */,
				   .loginuid = NO_UID,
				   ARGV("new"),
				   .exe = "/new"});
	mkproc(rr, &(struct fproc){.pid = q3,
				   .comm = "s",
				   .ppid = 0,
				   .sid = q3,
				   .start = 1,
				   .loginuid = NO_UID,
				   ARGV("s"),
				   .exe = "/s"});
	pi = procinfo_new(rr, 64);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *ro = parse(r);
	th_inteq(nparents(ro), 1, "a grandparent younger than the parent ends the chain");
	th_inteq(num(parent(ro, 0), "pid"), q1, "after the parent");
	lw_proc_unref(r);
	procinfo_free(pi);

	const char *yr = mkroot("young");
	mkproc(yr, &(struct fproc){.pid = self,
				   .comm = "leaf",
				   .ppid = q1,
				   .sid = q1,
				   .start = 1000,
				   .loginuid = NO_UID,
				   ARGV("leaf"),
				   .exe = "/leaf"});
	mkproc(yr, &(struct fproc){.pid = q1,
				   .comm = "p",
				   .ppid = 0,
				   .sid = q1,
				   .start = 1001,
				   .loginuid = NO_UID,
				   ARGV("p"),
				   .exe = "/p"});
	pi = procinfo_new(yr, 64);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *yo = parse(r);
	th_inteq(nparents(yo), 0, "a parent younger than the process: no parents");
	th_ok(!has(yo, "exited"), "and the process itself is still described");
	lw_proc_unref(r);
	/* a missing parent, too */
	mkproc(yr, &(struct fproc){.pid = self,
				   .comm = "leaf",
				   .ppid = FAKE_PID + 77,
				   .sid = q1,
				   .start = 2000,
				   .loginuid = NO_UID,
				   ARGV("leaf"),
				   .exe = "/leaf"});
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *mo = parse(r);
	th_inteq(nparents(mo), 0, "a parent absent from /proc: no parents");
	lw_proc_unref(r);
	procinfo_free(pi);
}

/* 5. gone: no pidfd, a reaped child's pidfd, no /proc entry */
static void
test_exited(void)
{
	const char *root = mkroot("exited");
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		exit(99);
	}
	if (child == 0) {
		_exit(0);
	}
	int child_fd = pidfd_open(child);
	int st;
	waitpid(child, &st, 0);
	th_ok(child_fd >= 0, "a pidfd for the child, opened before it was reaped");
	mkproc(root, &(struct fproc){.pid = child,
				     .comm = "child",
				     .ppid = self,
				     .sid = self,
				     .start = 100,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("child"),
				     .exe = "/child"});
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "me",
				     .ppid = 0,
				     .sid = self,
				     .start = 50,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("me"),
				     .exe = "/me"});
	struct procinfo *pi = procinfo_new(root, 64);
	char want[64];

	struct lw_proc *r = procinfo_resolve(pi, self, -1);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"exited\":true}", self);
	th_streq(r->json, want, "pidfd -1: only the pid, exited");
	th_ok(r->exited && r->pid == self, "pidfd -1: lw_proc.exited, lw_proc.pid");
	lw_proc_unref(r);

	r = procinfo_resolve(pi, child, child_fd);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"exited\":true}", child);
	th_streq(r->json, want, "a reaped child's pidfd: /proc is not believed");
	th_ok(r->exited && r->pid == child, "reaped: lw_proc.exited, lw_proc.pid");
	lw_proc_unref(r);
	/* again, now that its entry is cached */
	r = procinfo_resolve(pi, child, child_fd);
	th_streq(r->json, want, "a reaped child's pidfd, cached entry: still exited");
	lw_proc_unref(r);

	r = procinfo_resolve(pi, FAKE_PID + 81, self_fd);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"exited\":true}", FAKE_PID + 81);
	th_streq(r->json, want, "a live pidfd but no /proc entry: exited");
	lw_proc_unref(r);

	/* and the live one still resolves fully, with the child's entry
	 * around */
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o = parse(r);
	th_ok(!r->exited && num(o, "uid") == 1000 && has(o, "parents"),
	      "the live process beside them resolves fully");
	lw_proc_unref(r);
	if (child_fd >= 0) {
		close(child_fd);
	}
	procinfo_free(pi);
}

/* 6. exe unreadable (exiting) or a zombie */
static void
test_no_exe(void)
{
	const char *root = mkroot("noexe");
	const int32_t p1 = FAKE_PID + 91;
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "cp",
				     .ppid = p1,
				     .sid = p1,
				     .start = 400,
				     .uid = 1002,
				     .euid = 1002,
				     .loginuid = 1002,
				     .exe = NULL});
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "sh",
				     .ppid = 0,
				     .sid = p1,
				     .start = 300,
				     .uid = 1002,
				     .euid = 1002,
				     .loginuid = 1002,
				     ARGV("sh"),
				     .no_status = true,
				     .exe = "/bin/sh"});
	struct procinfo *pi = procinfo_new(root, 64);
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	printf("# %s\n", r->json);
	AUTOJSON cJSON *o = parse(r);
	th_ok(r->exited, "no exe link: lw_proc.exited");
	th_ok(is_true(o, "exited"), "no exe link: \"exited\": true");
	th_inteq(num(o, "uid"), 1002, "no exe link: the uid is still there");
	th_inteq(num(o, "login_uid"), 1002, "no exe link: the login uid too");
	th_ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "exe")), "exe: null");
	th_ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "cmdline")),
	      "an empty cmdline: null");
	th_inteq(nparents(o), 1, "no exe link: the parents are still there");
	th_inteq(num(parent(o, 0), "pid"), p1, "no exe link: parents[0]");
	th_ok(parent(o, 0) && !has(parent(o, 0), "uid") && !has(parent(o, 0), "euid"),
	      "a parent without status: no uid, no euid");
	lw_proc_unref(r);
	procinfo_free(pi);

	const char *zr = mkroot("zombie");
	mkproc(zr, &(struct fproc){.pid = self,
				   .comm = "z",
				   .state = 'Z',
				   .ppid = 0,
				   .sid = self,
				   .start = 1,
				   .uid = 5,
				   .euid = 5,
				   .loginuid = NO_UID,
				   ARGV("z"),
				   .exe = "/z"});
	pi = procinfo_new(zr, 64);
	r = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *zo = parse(r);
	th_ok(r->exited && is_true(zo, "exited") && num(zo, "uid") == 5,
	      "state Z: exited, the uid kept");
	lw_proc_unref(r);
	procinfo_free(pi);
}

/* 7. the cache: by pid and start time, checked against the exe */
static void
test_cache(void)
{
	enum { SLOTS = 64 };
	const char *root = mkroot("cache");
	int32_t p1 = FAKE_PID + 100;
	while ((uint32_t)p1 % SLOTS == (uint32_t)self % SLOTS) {
		p1++;
	}
	struct fproc me = {.pid = self,
			   .comm = "vi",
			   .ppid = p1,
			   .sid = p1,
			   .start = 800,
			   .uid = 1000,
			   .euid = 1000,
			   .loginuid = 1000,
			   ARGV("vi\0notes"),
			   .exe = "/usr/bin/vi"};
	mkproc(root, &me);
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "sh",
				     .ppid = 0,
				     .sid = p1,
				     .start = 700,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("sh"),
				     .exe = "/bin/sh"});
	struct procinfo *pi = procinfo_new(root, SLOTS);
	struct lw_proc *r1 = procinfo_resolve(pi, self, self_fd);
	struct lw_proc *r2 = procinfo_resolve(pi, self, self_fd);
	th_streq(r2->json, r1->json, "resolved twice: the same JSON");
	th_ok(r1 == r2, "the cached record itself");

	/* not an exec (same exe, same start): the cache answers */
	me.cmdline = "vi\0other";
	me.cmdlen = sizeof("vi\0other");
	mkproc(root, &me);
	struct lw_proc *r3 = procinfo_resolve(pi, self, self_fd);
	th_streq(r3->json, r1->json, "a new cmdline alone (no exec): from the cache");

	/* an exec: same pid and start, another exe */
	me.exe = "/usr/bin/python3";
	me.cmdline = "python3\0x.py";
	me.cmdlen = sizeof("python3\0x.py");
	mkproc(root, &me);
	struct lw_proc *r4 = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o4 = parse(r4);
	th_streq(str(o4, "exe"), "/usr/bin/python3", "after an exec: the new exe");
	th_streq(str(o4, "cmdline"), "python3 x.py", "after an exec: the new cmdline");
	th_inteq(nparents(o4), 1, "after an exec: the parents");
	AUTOJSON cJSON *o1 = parse(r1);
	th_streq(str(o1, "exe"), "/usr/bin/vi", "the record held from before is unchanged");

	/* a new process under the same pid: another start time */
	me.start = 900;
	me.uid = me.euid = 1005;
	me.loginuid = 1005;
	me.cmdline = "rsync\0-a";
	me.cmdlen = sizeof("rsync\0-a");
	mkproc(root, &me); /* the exe stays /usr/bin/python3 */
	struct lw_proc *r5 = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o5 = parse(r5);
	th_streq(str(o5, "cmdline"), "rsync -a", "a new start time: the cmdline read anew");
	th_inteq(num(o5, "uid"), 1005, "a new start time: the uid read anew");
	th_inteq(num(o5, "login_uid"), 1005, "a new start time: the login uid read anew");
	struct lw_proc *r6 = procinfo_resolve(pi, self, self_fd);
	th_streq(r6->json, r5->json, "and cached again");

	/* the new process started before its parent's pid was taken anew */
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "sh",
				     .ppid = 0,
				     .sid = p1,
				     .start = 950,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("sh"),
				     .exe = "/bin/sh"});
	me.start = 960;
	mkproc(root, &me);
	struct lw_proc *r7 = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o7 = parse(r7);
	th_inteq(nparents(o7), 1, "a parent re-read after its start time changed");
	me.start = 940;
	mkproc(root, &me);
	struct lw_proc *r8 = procinfo_resolve(pi, self, self_fd);
	AUTOJSON cJSON *o8 = parse(r8);
	th_inteq(nparents(o8), 0, "a cached parent now younger than the child: dropped");
	struct lw_proc *recs[] = {r1, r2, r3, r4, r5, r6, r7, r8};
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		lw_proc_unref(recs[i]);
	}
	procinfo_free(pi);
}

/* 8. one slot: the parent's lookup evicts the child */
static void
test_one_slot(void)
{
	const char *root = mkroot("oneslot");
	const int32_t p1 = FAKE_PID + 201, p2 = FAKE_PID + 202;
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "leaf",
				     .ppid = p1,
				     .sid = p2,
				     .start = 30,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("leaf\0--flag"),
				     .exe = "/usr/bin/leaf"});
	mkproc(root, &(struct fproc){.pid = p1,
				     .comm = "mid",
				     .ppid = p2,
				     .sid = p2,
				     .start = 20,
				     .uid = 1000,
				     .euid = 0,
				     .loginuid = 1000,
				     ARGV("mid"),
				     .exe = "/usr/bin/mid"});
	mkproc(root, &(struct fproc){.pid = p2,
				     .comm = "top",
				     .ppid = 1,
				     .sid = p2,
				     .start = 10,
				     .uid = 1000,
				     .euid = 1000,
				     .loginuid = 1000,
				     ARGV("top"),
				     .exe = "/usr/bin/top"});
	struct procinfo *wide = procinfo_new(root, 1024);
	struct lw_proc *ref = procinfo_resolve(wide, self, self_fd);
	for (size_t slots = 0; slots <= 1; slots++) {
		struct procinfo *pi = procinfo_new(root, slots);
		struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
		th_streq(r->json, ref->json, "%zu slot(s): the same record as with many", slots);
		AUTOJSON cJSON *o = parse(r);
		th_ok(num(o, "pid") == self && nparents(o) == 2 && num(parent(o, 0), "pid") == p1 &&
			      num(parent(o, 1), "pid") == p2,
		      "%zu slot(s): the process and both parents", slots);
		th_streq(str(o, "exe"), "/usr/bin/leaf", "%zu slot(s): the child's own exe", slots);
		struct lw_proc *again = procinfo_resolve(pi, self, self_fd);
		th_streq(again->json, ref->json, "%zu slot(s): resolved again", slots);
		/* the parent itself, then the child, through the same slot */
		struct lw_proc *par = procinfo_resolve(pi, p1, self_fd);
		AUTOJSON cJSON *po = parse(par);
		th_ok(num(po, "pid") == p1 && num(po, "euid") == 0 && nparents(po) == 1,
		      "%zu slot(s): the parent resolved as a process of its own", slots);
		struct lw_proc *third = procinfo_resolve(pi, self, self_fd);
		th_streq(third->json, ref->json, "%zu slot(s): and the child after it", slots);
		lw_proc_unref(r);
		lw_proc_unref(again);
		lw_proc_unref(par);
		lw_proc_unref(third);
		procinfo_free(pi);
	}
	lw_proc_unref(ref);
	procinfo_free(wide);
}

/* 9. records outlive the resolver */
static void
test_refs(void)
{
	const char *root = mkroot("refs");
	mkproc(root, &(struct fproc){.pid = self,
				     .comm = "r",
				     .ppid = 0,
				     .sid = self,
				     .start = 5,
				     .uid = 7,
				     .euid = 7,
				     .loginuid = 7,
				     ARGV("keep\0me"),
				     .exe = "/r"});
	struct procinfo *pi = procinfo_new(root, 8);
	struct lw_proc *r = procinfo_resolve(pi, self, self_fd);
	struct lw_proc *cached = procinfo_resolve(pi, self, self_fd);
	struct lw_proc *held = lw_proc_ref(r);
	th_ok(held == r, "lw_proc_ref returns its argument");
	th_ok(lw_proc_ref(NULL) == NULL, "lw_proc_ref(NULL) is NULL");
	lw_proc_unref(NULL);
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", r->json);
	lw_proc_unref(r);
	procinfo_free(pi); /* drops the cache's reference */
	th_streq(held->json, copy, "a held record outlives procinfo_free");
	th_streq(cached->json, copy, "so does the second reference to the cached one");
	AUTOJSON cJSON *o = parse(held);
	th_streq(str(o, "cmdline"), "keep me", "and is whole");
	lw_proc_unref(held);
	th_ok(cached->pid == self, "the last reference still reads");
	lw_proc_unref(cached);

	/* an exited record: its own reference only */
	pi = procinfo_new(root, 8);
	struct lw_proc *x = procinfo_resolve(pi, self, -1);
	procinfo_free(pi);
	th_ok(x->exited && x->pid == self, "an exited record outlives procinfo_free");
	lw_proc_unref(x);
}

int
main(void)
{
	self = (int32_t)getpid();
	self_fd = pidfd_open(self);
	if (self_fd < 0) {
		printf("1..0 # SKIP pidfd_open: %s\n", strerror(errno));
		return 0;
	}
	test_normal();
	test_hostile_comm();
	test_caps();
	test_chain();
	test_exited();
	test_no_exe();
	test_cache();
	test_one_slot();
	test_refs();
	close(self_fd);
	return th_done();
}
