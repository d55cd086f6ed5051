/* sandbox.c — rlimits, privilege drop and a seccomp allow-list for the
 * classify helper (see sandbox.h). Runs once, single-threaded.
 *
 * The allow-list is what the extractors (libarchive, libxml2, expat, GMime,
 * GLib, poppler) need to parse memory buffers: memory management, reading
 * and writing the socket, time, randomness, futexes. Calls a library may
 * try opportunistically (opening a config or font file, stat-ing a path)
 * fail with EACCES instead of killing the process, so a library degrades
 * instead of the file being lost; anything else kills the process. */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "mem.h"

/* The unprivileged identity the helper takes when started as root. */
#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

static int
set_limit(int res, rlim_t v)
{
	struct rlimit rl = {.rlim_cur = v, .rlim_max = v};
	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int
drop_privileges(void)
{
	if (geteuid() != 0) {
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0 ||
	    setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0) {
		return -errno;
	}
	return 0;
}

static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(dup),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(brk), SCMP_SYS(munmap),
	SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getrandom), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(uname),
	SCMP_SYS(ioctl), SCMP_SYS(eventfd2), SCMP_SYS(restart_syscall),
	SCMP_SYS(membarrier), SCMP_SYS(tgkill), /* abort() */
};

/* Opportunistic calls that get an error instead of death. */
static const int refused[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getcwd), SCMP_SYS(socket), SCMP_SYS(mkdir),
	SCMP_SYS(unlink), SCMP_SYS(clone3), /* glibc then tries clone: killed */
};

static int
install_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		return -ENOMEM;
	}
	int r = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]) && r == 0; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), refused[i], 0);
	}
	/* memory, but never executable memory */
	if (r == 0) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	if (r == 0) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	if (r == 0) {
		r = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	return r;
}

int
sandbox_enter(const struct sandbox_limits *lim)
{
	int r;
	/* Privileges first, so that a failure there can still be said: once
	 * RLIMIT_FSIZE is 0, a message to a stderr that is a file (leakwatch
	 * scan 2>log, an agent logging to a file) would kill this process with
	 * SIGXFSZ; with the signal ignored, a later write fails with EFBIG. */
	if ((r = drop_privileges()) < 0) {
		log_err("sandbox: cannot drop privileges: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0) {
		r = -errno;
		log_err("sandbox: prctl: %s", strerror(-r));
		return r;
	}
	signal(SIGXFSZ, SIG_IGN);
	/* AddressSanitizer reserves terabytes of shadow address space, which
	 * RLIMIT_AS forbids; in such test builds the caller passes the cap as
	 * ASan's max_allocation_size_mb instead (helper.c). Lowering a limit
	 * needs no privilege. */
	size_t as = LW_ASAN ? 0 : lim->memory_bytes;
	if ((r = set_limit(RLIMIT_CORE, 0)) < 0 || (r = set_limit(RLIMIT_FSIZE, 0)) < 0 ||
	    (r = set_limit(RLIMIT_NPROC, 0)) < 0 || (r = set_limit(RLIMIT_NOFILE, 32)) < 0 ||
	    (as && (r = set_limit(RLIMIT_AS, as)) < 0) ||
	    (lim->cpu_seconds && (r = set_limit(RLIMIT_CPU, lim->cpu_seconds)) < 0)) {
		log_err("sandbox: setrlimit: %s", strerror(-r));
		return r;
	}
	if ((r = install_seccomp()) < 0) {
		log_err("sandbox: seccomp: %s", strerror(-r));
		return r;
	}
	return 0;
}
