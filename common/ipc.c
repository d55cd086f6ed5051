/* ipc.c — framing for the helper protocol (see ipc.h). Stateless. */
#include "ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"

static int
write_all(int sock, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_batch_add(struct ipc_batch *b, uint32_t type, const void *payload, size_t len, int fd)
{
	if (len > HELPER_MAX_PAYLOAD) {
		return -EMSGSIZE;
	}
	if (fd >= 0 && b->nfds == IPC_MAX_FDS) {
		return -ENOSPC;
	}
	struct helper_hdr h = {.magic = HELPER_MAGIC,
			       .type = type | (fd >= 0 ? HELPER_HDR_FD : 0),
			       .len = (uint32_t)len};
	size_t need = b->len + sizeof(h) + len;
	if (need > b->cap) {
		b->cap = need > 2 * b->cap ? need : 2 * b->cap;
		b->buf = lw_realloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, &h, sizeof(h));
	if (len) {
		memcpy(b->buf + b->len + sizeof(h), payload, len);
	}
	b->len = need;
	if (fd >= 0) {
		b->fds[b->nfds++] = fd;
	}
	if (b->n++ == 0) {
		b->first_ns = clock_mono_ns();
	}
	return 0;
}

int
ipc_batch_flush(int sock, struct ipc_batch *b)
{
	size_t len = b->len, sent = 0;
	int r = 0;
	if (len) {
		/* The descriptors ride on the first bytes: a receiver has them
		 * no later than the messages they belong to, however the
		 * stream is cut. */
		union {
			char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = b->buf, .iov_len = len};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (b->nfds) {
			memset(&ctl, 0, sizeof(ctl));
			msg.msg_control = ctl.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * b->nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * b->nfds);
			memcpy(CMSG_DATA(c), b->fds, sizeof(int) * b->nfds);
		}
		ssize_t n;
		do {
			n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			r = -errno;
		} else {
			sent = (size_t)n;
			r = write_all(sock, b->buf + sent, len - sent);
		}
	}
	b->len = 0;
	b->n = 0;
	b->nfds = 0;
	return r;
}

void
ipc_batch_fini(struct ipc_batch *b)
{
	free(b->buf);
	*b = (struct ipc_batch){0};
}

static int wait_readable(int sock, int64_t deadline_ns);

/* One read of what is queued on @sock into @rd, descriptors included: the
 * byte count, -EAGAIN (only with !@wait), -errno, -EPIPE when the peer
 * closed, -EPROTO when descriptors had to be dropped. Waits (until
 * @deadline_ns) only when nothing is queued: reading first saves a poll
 * per message when requests or replies are pipelined. */
static ssize_t
read_some(int sock, struct ipc_reader *rd, bool wait, int64_t deadline_ns)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	for (;;) {
		struct iovec iov = {.iov_base = rd->buf + rd->end, .iov_len = rd->cap - rd->end};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n > 0) {
			bool lost = (msg.msg_flags & MSG_CTRUNC) != 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
					continue;
				}
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					if (rd->nfds < LW_ARRAY_SIZE(rd->fds)) {
						rd->fds[rd->nfds++] = fd;
					} else {
						close(fd);
						lost = true;
					}
				}
			}
			rd->end += (size_t)n;
			if (lost) {
				/* which message owns which descriptor is lost too */
				rd->err = -EPROTO;
				return -EPROTO;
			}
			return n;
		}
		if (n == 0) {
			return -EPIPE;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN || !wait) {
			return -errno;
		}
		int r = wait_readable(sock, deadline_ns);
		if (r < 0) {
			return r;
		}
	}
}

/* The buffered message's header, if it is all there. */
static bool
whole_message(const struct ipc_reader *rd, struct helper_hdr *h)
{
	size_t have = rd->end - rd->start;
	if (have < sizeof(*h)) {
		return false;
	}
	memcpy(h, rd->buf + rd->start, sizeof(*h));
	/* a malformed header counts as there: receiving reports it */
	return h->magic != HELPER_MAGIC || h->len > HELPER_MAX_PAYLOAD ||
	       have >= sizeof(*h) + h->len;
}

/* Room for at least the rest of the buffered message, and more. */
static void
make_room(struct ipc_reader *rd)
{
	size_t have = rd->end - rd->start;
	struct helper_hdr h;
	size_t need = sizeof(h);
	if (have >= sizeof(h)) {
		memcpy(&h, rd->buf + rd->start, sizeof(h));
		need += h.len;
	}
	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, have);
		rd->start = 0;
		rd->end = have;
	}
	if (rd->cap < need || rd->cap - have < 4096) {
		size_t cap = rd->cap ? rd->cap : 65536;
		while (cap < need || cap - have < 4096) {
			cap *= 2;
		}
		rd->buf = lw_realloc(rd->buf, cap);
		rd->cap = cap;
	}
}

int
ipc_reader_recv(int sock, struct ipc_reader *rd, int64_t deadline_ns, uint32_t *type,
		char **payload, size_t *len, int *fd_out)
{
	*payload = NULL;
	*len = 0;
	if (fd_out) {
		*fd_out = -1;
	}
	struct helper_hdr h;
	if (rd->err) {
		return rd->err;
	}
	while (!whole_message(rd, &h)) {
		make_room(rd);
		ssize_t n = read_some(sock, rd, true, deadline_ns);
		if (n < 0) {
			return (int)n;
		}
	}
	if (h.magic != HELPER_MAGIC || h.len > HELPER_MAX_PAYLOAD) {
		return -EPROTO;
	}
	int fd = -1;
	if (h.type & HELPER_HDR_FD) {
		/* sent with the message's first bytes, so here by now */
		if (rd->nfds == 0) {
			return -EPROTO;
		}
		fd = rd->fds[0];
		rd->nfds--;
		memmove(rd->fds, rd->fds + 1, rd->nfds * sizeof(int));
	}
	char *p = lw_malloc((size_t)h.len + 1);
	memcpy(p, rd->buf + rd->start + sizeof(h), h.len);
	p[h.len] = '\0';
	rd->start += sizeof(h) + h.len;
	*type = h.type & ~HELPER_HDR_FD;
	*payload = p;
	*len = h.len;
	if (fd_out) {
		*fd_out = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	return 0;
}

bool
ipc_reader_pending(const struct ipc_reader *rd)
{
	struct helper_hdr h;
	return rd->err || whole_message(rd, &h);
}

bool
ipc_reader_ready(int sock, struct ipc_reader *rd)
{
	if (ipc_reader_pending(rd)) {
		return true;
	}
	make_room(rd);
	return read_some(sock, rd, false, 0) != -EAGAIN;
}

void
ipc_reader_reset(struct ipc_reader *rd)
{
	for (unsigned i = 0; i < rd->nfds; i++) {
		close(rd->fds[i]);
	}
	free(rd->buf);
	*rd = (struct ipc_reader){0};
}

bool
ipc_readable(int sock, int timeout_ms)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	int r;
	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Waits for readability until @deadline_ns. */
static int
wait_readable(int sock, int64_t deadline_ns)
{
	for (;;) {
		int timeout = -1;
		if (deadline_ns) {
			int64_t left = deadline_ns - clock_mono_ns();
			if (left <= 0) {
				return -ETIMEDOUT;
			}
			timeout = (int)((left + 999999) / 1000000);
		}
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int r = poll(&p, 1, timeout);
		if (r > 0) {
			return 0;
		}
		if (r == 0) {
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}
