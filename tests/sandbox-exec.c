/* sandbox-exec.c — tests only: runs a program under a system-call allow-list,
 * the way systemd applies a unit's SystemCallFilter= with
 * SystemCallErrorNumber=EPERM and SystemCallArchitectures=native.
 *
 *   sandbox-exec SYSCALLS-FILE PROGRAM [ARGS...]
 *
 * SYSCALLS-FILE holds one system-call name per line (the test expands the
 * unit's @groups with systemd-analyze syscall-filter). Every other call
 * fails with EPERM; names this kernel or libseccomp does not know are
 * skipped, as systemd skips them. libseccomp sets no_new_privs, like the
 * unit's NoNewPrivileges=yes. Used where systemd is not PID 1, so that the
 * agent is still tested under its unit's filter and capabilities. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sandbox-exec SYSCALLS-FILE PROGRAM [ARGS...]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "re");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		fprintf(stderr, "sandbox-exec: seccomp_init failed\n");
		return 2;
	}
	char line[128];
	int allowed = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		int nr = line[0] ? seccomp_syscall_resolve_name(line) : __NR_SCMP_ERROR;
		if (nr == __NR_SCMP_ERROR) {
			continue;
		}
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0 && r != -EEXIST) {
			fprintf(stderr, "sandbox-exec: %s: %s\n", line, strerror(-r));
			return 2;
		}
		allowed++;
	}
	fclose(f);
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		fprintf(stderr, "sandbox-exec: seccomp_load: %s\n", strerror(-r));
		return 2;
	}
	fprintf(stderr, "sandbox-exec: %d system calls allowed\n", allowed);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
