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

#include "mem.h"

int64_t
ipc_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
ipc_send(int sock, uint32_t type, const void *payload, size_t len, int fd)
{
	if (len > HELPER_MAX_PAYLOAD) {
		return -EMSGSIZE;
	}
	struct helper_hdr h = {.magic = HELPER_MAGIC, .type = type, .len = (uint32_t)len};
	/* header and payload in one call: a system call less per message,
	 * and the reader usually finds the whole message at once */
	struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)},
			       {.iov_base = (void *)payload, .iov_len = len}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	size_t sent = (size_t)n;
	if (sent < sizeof(h)) {
		int r = write_all(sock, (char *)&h + sent, sizeof(h) - sent);
		if (r < 0) {
			return r;
		}
		sent = sizeof(h);
	}
	sent -= sizeof(h);
	return sent < len ? write_all(sock, (const char *)payload + sent, len - sent) : 0;
}

static int wait_readable(int sock, int64_t deadline_ns);

/* One receive of what is queued on @sock, waiting (until @deadline_ns)
 * only when nothing is: the byte count, or -errno (-EPIPE when the peer
 * closed). Reading first saves a poll per message when requests or
 * replies are pipelined. */
static ssize_t
recv_some(int sock, struct msghdr *msg, int flags, int64_t deadline_ns)
{
	for (;;) {
		ssize_t n = recvmsg(sock, msg, flags | MSG_DONTWAIT);
		if (n > 0) {
			return n;
		}
		if (n == 0) {
			return -EPIPE;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN) {
			return -errno;
		}
		int r = wait_readable(sock, deadline_ns);
		if (r < 0) {
			return r;
		}
	}
}

int
ipc_reader_recv(int sock, struct ipc_reader *rd, int64_t deadline_ns, uint32_t *type,
		char **payload, size_t *len)
{
	*payload = NULL;
	*len = 0;
	for (;;) {
		size_t have = rd->end - rd->start;
		struct helper_hdr h = {0};
		if (have >= sizeof(h)) {
			memcpy(&h, rd->buf + rd->start, sizeof(h));
			if (h.magic != HELPER_MAGIC || h.len > HELPER_MAX_PAYLOAD) {
				return -EPROTO;
			}
			if (have >= sizeof(h) + h.len) {
				char *p = lw_malloc((size_t)h.len + 1);
				memcpy(p, rd->buf + rd->start + sizeof(h), h.len);
				p[h.len] = '\0';
				rd->start += sizeof(h) + h.len;
				*type = h.type;
				*payload = p;
				*len = h.len;
				return 0;
			}
		}
		/* room for at least the rest of this message, and more */
		size_t need = have >= sizeof(h) ? sizeof(h) + h.len : sizeof(h);
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
		struct iovec iov = {.iov_base = rd->buf + rd->end, .iov_len = rd->cap - rd->end};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recv_some(sock, &msg, 0, deadline_ns);
		if (n < 0) {
			return (int)n;
		}
		rd->end += (size_t)n;
	}
}

void
ipc_reader_reset(struct ipc_reader *rd)
{
	free(rd->buf);
	*rd = (struct ipc_reader){0};
}

int
ipc_batch_add(struct ipc_batch *b, uint32_t type, const void *payload, size_t len)
{
	if (len > HELPER_MAX_PAYLOAD) {
		return -EMSGSIZE;
	}
	struct helper_hdr h = {.magic = HELPER_MAGIC, .type = type, .len = (uint32_t)len};
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
	if (b->n++ == 0) {
		b->first_ns = ipc_mono_ns();
	}
	return 0;
}

int
ipc_batch_flush(int sock, struct ipc_batch *b)
{
	int r = b->len ? write_all(sock, b->buf, b->len) : 0;
	b->len = 0;
	b->n = 0;
	return r;
}

void
ipc_batch_fini(struct ipc_batch *b)
{
	free(b->buf);
	*b = (struct ipc_batch){0};
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
			int64_t left = deadline_ns - ipc_mono_ns();
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

static int
read_full(int sock, void *buf, size_t len, int64_t deadline_ns, int *fd_out)
{
	char *p = buf;
	while (len) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = p, .iov_len = len};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (fd_out) {
			msg.msg_control = ctl.buf;
			msg.msg_controllen = sizeof(ctl.buf);
		}
		ssize_t n = recv_some(sock, &msg, MSG_CMSG_CLOEXEC, deadline_ns);
		if (n < 0) {
			return (int)n;
		}
		if (fd_out) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
					int got;
					memcpy(&got, CMSG_DATA(c), sizeof(int));
					if (*fd_out < 0) {
						*fd_out = got;
					} else {
						close(got);
					}
				}
			}
			fd_out = NULL; /* descriptors come only with the header */
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_recv(int sock, int64_t deadline_ns, uint32_t *type, char **payload, size_t *len,
	 int *fd_out)
{
	int fd = -1;
	struct helper_hdr h;
	*payload = NULL;
	*len = 0;
	if (fd_out) {
		*fd_out = -1;
	}
	int r = read_full(sock, &h, sizeof(h), deadline_ns, &fd);
	if (r < 0) {
		goto fail;
	}
	if (h.magic != HELPER_MAGIC || h.len > HELPER_MAX_PAYLOAD) {
		r = -EPROTO;
		goto fail;
	}
	char *buf = lw_malloc((size_t)h.len + 1);
	r = read_full(sock, buf, h.len, deadline_ns, NULL);
	if (r < 0) {
		free(buf);
		goto fail;
	}
	buf[h.len] = '\0';
	*type = h.type;
	*payload = buf;
	*len = h.len;
	if (fd_out) {
		*fd_out = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	return 0;
fail:
	if (fd >= 0) {
		close(fd);
	}
	return r;
}
