/* ipc.h — framed messages over a stream socket, with descriptors, and a
 * deadline. Used for the classify helper protocol (wire.h). Any thread,
 * one conversation per socket at a time.
 *
 * Both directions gather messages and send them with one write: a caller
 * pipelining files to a helper sends several requests, and their
 * descriptors, in one sendmsg(); the helper answers several at once. Each
 * side then pays one system call per batch instead of one or two per
 * message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Descriptors one write may carry. */
#define IPC_MAX_FDS 32

/* Messages gathered to be sent with one write. */
struct ipc_batch {
	char *buf;
	size_t len, cap;
	unsigned n;        /* messages in buf */
	int64_t first_ns;  /* when the first of them was added */
	int fds[IPC_MAX_FDS]; /* the callers'; they stay open */
	unsigned nfds;
};
/* Frames a message into @b; @fd >= 0 goes with it (HELPER_HDR_FD). 0,
 * -EMSGSIZE, or -ENOSPC when @b already holds IPC_MAX_FDS descriptors. */
int ipc_batch_add(struct ipc_batch *b, uint32_t type, const void *payload, size_t len, int fd);
/* Sends everything gathered and empties @b. 0 or -errno. */
int ipc_batch_flush(int sock, struct ipc_batch *b);
void ipc_batch_fini(struct ipc_batch *b);

/* Buffered reception: one read takes in whatever is queued, several
 * messages at once when the peer batches them. Descriptors received wait
 * here until the message they belong to is taken. */
struct ipc_reader {
	char *buf;
	size_t start, end, cap;
	/* Received, not yet given out: at most a write's worth for messages
	 * not complete yet, and the next write's. */
	int fds[2 * IPC_MAX_FDS];
	unsigned nfds;
	int err; /* descriptors were lost: every receive fails with it */
};
/* Receives one message, waiting until @deadline_ns (CLOCK_MONOTONIC; 0 =
 * forever). *type has HELPER_HDR_FD cleared; *payload is malloc'd (caller
 * frees; NUL-terminated for convenience); *fd_out gets the message's
 * descriptor or -1 (with @fd_out NULL a descriptor is closed). Returns 0,
 * -ETIMEDOUT, -EPIPE when the peer closed, -EPROTO for a malformed header,
 * an oversized payload, a descriptor missing or too many. */
int ipc_reader_recv(int sock, struct ipc_reader *rd, int64_t deadline_ns, uint32_t *type,
		    char **payload, size_t *len, int *fd_out);
/* True if a whole message is buffered: ipc_reader_recv() will not wait. */
bool ipc_reader_pending(const struct ipc_reader *rd);
/* True if a message is buffered, or one read without waiting brought
 * bytes, the peer's close or an error (which ipc_reader_recv() reports). */
bool ipc_reader_ready(int sock, struct ipc_reader *rd);
/* Forgets buffered bytes (the peer was replaced), closes the descriptors
 * waiting and frees the buffer. */
void ipc_reader_reset(struct ipc_reader *rd);

/* True if a message (or the peer's close) is waiting on @sock, or arrives
 * within @timeout_ms. */
bool ipc_readable(int sock, int timeout_ms);
