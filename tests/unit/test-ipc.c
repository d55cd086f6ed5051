/* test-ipc.c — the helper protocol's framing on a real socketpair:
 * several messages and their descriptors in one write, each descriptor
 * given to its own message, however the stream arrives. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "ipc.h"
#include "mem.h"

/* A file whose content names it, so a descriptor shows where it came from. */
static int
named_file(const char *dir, int i)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/f%d", dir, i);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char body[32];
	int n = snprintf(body, sizeof(body), "file %d", i);
	if (write(fd, body, (size_t)n) != n) {
		abort();
	}
	return fd;
}

static int
file_number(int fd)
{
	char body[32] = "";
	ssize_t n = pread(fd, body, sizeof(body) - 1, 0);
	int i = -1;
	if (n > 0 && sscanf(body, "file %d", &i) != 1) {
		i = -1;
	}
	return i;
}

static int
open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++) {
		n += fcntl(fd, F_GETFD) >= 0;
	}
	return n;
}

/* A socket pair, [0] the sending end and [1] the receiving one, with a
 * reader on [1]; th_tmpdir() for the named files. */
struct fixture {
	const char *dir;
	int sv[2];
	struct ipc_reader rd;
};

static void
fixture_init(struct fixture *fx)
{
	*fx = (struct fixture){.dir = th_tmpdir()};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fx->sv) < 0) {
		abort();
	}
}

static void
fixture_fini(struct fixture *fx)
{
	ipc_reader_reset(&fx->rd);
	for (int i = 0; i < 2; i++) {
		if (fx->sv[i] >= 0) {
			close(fx->sv[i]);
		}
	}
}

/* A write of mixed messages: descriptors go, in order, to the messages
 * that carry one; the others get none. */
static void
test_mixed_batch(void)
{
	struct fixture fx;
	fixture_init(&fx);
	struct ipc_batch b = {0};
	int files[IPC_MAX_FDS];
	for (int i = 0; i < 8; i++) {
		files[i] = named_file(fx.dir, i);
		char payload[32];
		snprintf(payload, sizeof(payload), "request %d", i);
		th_inteq(ipc_batch_add(&b, 2, payload, strlen(payload), files[i]), 0,
			 "add request %d", i);
		if (i % 3 == 0) {
			th_inteq(ipc_batch_add(&b, 3, "plain", 5, -1), 0, "add plain %d", i);
		}
	}
	th_inteq(ipc_batch_flush(fx.sv[0], &b), 0, "flush mixed");
	for (int i = 0; i < 8; i++) {
		close(files[i]); /* the receiver has its own */
	}
	th_ok(ipc_reader_ready(fx.sv[1], &fx.rd), "ready after a write");
	for (int i = 0; i < 8; i++) {
		uint32_t type = 0;
		char *p = NULL;
		size_t len = 0;
		int fd = -2;
		th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, &fd), 0, "recv %d",
			 i);
		char want[32];
		snprintf(want, sizeof(want), "request %d", i);
		th_streq(p, want, "payload %d", i);
		th_inteq(type, 2, "type %d without the descriptor bit", i);
		th_inteq(file_number(fd), i, "descriptor of request %d", i);
		th_ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "close-on-exec %d", i);
		close(fd);
		free(p);
		if (i % 3 == 0) {
			th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, &fd), 0,
				 "recv plain %d", i);
			th_inteq(fd, -1, "plain message %d has no descriptor", i);
			th_streq(p, "plain", "plain payload %d", i);
			free(p);
		}
	}
	th_ok(!ipc_reader_pending(&fx.rd), "nothing left");
	th_ok(!ipc_reader_ready(fx.sv[1], &fx.rd), "not ready when nothing is queued");
	ipc_batch_fini(&b);
	fixture_fini(&fx);
}

/* Two writes, the second while the first's last message is not taken,
 * received through a small socket buffer: the stream arrives cut
 * anywhere, descriptors ahead of their messages. */
static void
test_cut_stream(void)
{
	struct fixture fx;
	fixture_init(&fx);
	int small = 4096;
	setsockopt(fx.sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(fx.sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	AUTOFREE char *big = lw_malloc(20000);
	memset(big, 'x', 20000);
	struct ipc_batch b = {0};
	pid_t pid = fork();
	if (pid == 0) {
		for (int w = 0; w < 2; w++) {
			for (int i = 0; i < 4; i++) {
				int k = w * 4 + i;
				int fd = named_file(fx.dir, 100 + k);
				ipc_batch_add(&b, 4, big, (size_t)(1000 + 3000 * i), fd);
			}
			if (ipc_batch_flush(fx.sv[0], &b) < 0) {
				_exit(1);
			}
		}
		_exit(0);
	}
	close(fx.sv[0]);
	fx.sv[0] = -1;
	for (int k = 0; k < 8; k++) {
		uint32_t type = 0;
		char *p = NULL;
		size_t len = 0;
		int fd = -2;
		int r = ipc_reader_recv(fx.sv[1], &fx.rd, clock_mono_ns() + 10000000000ll, &type,
					&p, &len, &fd);
		th_inteq(r, 0, "cut stream: recv %d", k);
		th_inteq((long long)len, 1000 + 3000 * (k % 4), "cut stream: length %d", k);
		th_inteq(file_number(fd), 100 + k, "cut stream: descriptor %d", k);
		if (fd >= 0) {
			close(fd);
		}
		free(p);
	}
	uint32_t type;
	char *p = NULL;
	size_t len;
	th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, NULL), -EPIPE,
		 "the writer's close is -EPIPE");
	fixture_fini(&fx);
	int st = 0;
	waitpid(pid, &st, 0);
	th_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer wrote everything");
}

/* A message that says it carries a descriptor and does not: a protocol
 * error, and descriptors a receiver does not want are closed. */
static void
test_malformed(void)
{
	struct fixture fx;
	fixture_init(&fx);
	struct helper_hdr h = {.magic = HELPER_MAGIC, .type = 2 | HELPER_HDR_FD, .len = 0};
	th_ok(write(fx.sv[0], &h, sizeof(h)) == sizeof(h), "write a bare header");
	uint32_t type;
	char *p = NULL;
	size_t len;
	int fd;
	th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, &fd), -EPROTO,
		 "descriptor promised, none sent");
	ipc_reader_reset(&fx.rd);

	struct ipc_batch b = {0};
	int f = named_file(fx.dir, 7);
	ipc_batch_add(&b, 3, "x", 1, f);
	ipc_batch_flush(fx.sv[0], &b);
	close(f);
	th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, NULL), 0,
		 "recv without wanting the descriptor");
	free(p);
	h = (struct helper_hdr){.magic = 0x12345678, .type = 2, .len = 0};
	th_ok(write(fx.sv[0], &h, sizeof(h)) == sizeof(h), "write a bad magic");
	th_ok(ipc_reader_ready(fx.sv[1], &fx.rd), "a malformed header counts as ready");
	th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, 0, &type, &p, &len, NULL), -EPROTO, "bad magic");
	ipc_batch_fini(&b);
	fixture_fini(&fx);
}

/* A batch takes at most IPC_MAX_FDS descriptors. */
static void
test_fd_limit(void)
{
	struct ipc_batch b = {0};
	int f = named_file(th_tmpdir(), 9);
	for (int i = 0; i < IPC_MAX_FDS; i++) {
		ipc_batch_add(&b, 2, "", 0, f);
	}
	th_inteq(ipc_batch_add(&b, 2, "", 0, f), -ENOSPC, "descriptor %d refused", IPC_MAX_FDS + 1);
	th_inteq(ipc_batch_add(&b, 3, "", 0, -1), 0, "a message without one still fits");
	close(f);
	ipc_batch_fini(&b);
}

/* A deadline is kept when nothing comes. */
static void
test_deadline(void)
{
	struct fixture fx;
	fixture_init(&fx);
	uint32_t type;
	char *p = NULL;
	size_t len;
	int64_t t0 = clock_mono_ns();
	th_inteq(ipc_reader_recv(fx.sv[1], &fx.rd, t0 + 50000000, &type, &p, &len, NULL),
		 -ETIMEDOUT, "deadline");
	th_ok(clock_mono_ns() - t0 >= 50000000, "waited until the deadline");
	fixture_fini(&fx);
}

int
main(void)
{
	int base_fds = open_fds();
	test_mixed_batch();
	test_cut_stream();
	test_malformed();
	test_fd_limit();
	test_deadline();
	th_inteq(open_fds(), base_fds, "no descriptor leaked");
	return th_done();
}
