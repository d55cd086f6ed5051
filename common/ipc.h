/* ipc.h — framed messages over a stream socket, with an optional file
 * descriptor, and a deadline. Used for the classify helper protocol
 * (wire.h). Any thread, one conversation per socket at a time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Sends one message; @fd >= 0 is passed along (SCM_RIGHTS). 0 or -errno. */
int ipc_send(int sock, uint32_t type, const void *payload, size_t len, int fd);

/* Receives one message, waiting until @deadline_ns (CLOCK_MONOTONIC; 0 =
 * forever). *payload is malloc'd (caller frees; NUL-terminated for
 * convenience), *fd_out gets a passed descriptor or -1 (if @fd_out is NULL,
 * any passed descriptor is closed). Returns 0, -ETIMEDOUT, -EPIPE when the
 * peer closed, -EPROTO for a malformed header or oversized payload. */
int ipc_recv(int sock, int64_t deadline_ns, uint32_t *type, char **payload,
	     size_t *len, int *fd_out);

/* Buffered reception of messages that carry no descriptors (the helper's
 * replies): one read takes in whatever is queued, several replies at once
 * when the helper batches them. */
struct ipc_reader {
	char *buf;
	size_t start, end, cap;
};
/* Like ipc_recv without descriptors (any passed are discarded). */
int ipc_reader_recv(int sock, struct ipc_reader *rd, int64_t deadline_ns, uint32_t *type,
		    char **payload, size_t *len);
/* Forgets buffered bytes (the peer was replaced) and frees the buffer. */
void ipc_reader_reset(struct ipc_reader *rd);

/* Messages gathered to be sent with one write (no descriptors). */
struct ipc_batch {
	char *buf;
	size_t len, cap;
	unsigned n;        /* messages in buf */
	int64_t first_ns;  /* when the first of them was added */
};
/* Frames a message into @b. 0 or -EMSGSIZE. */
int ipc_batch_add(struct ipc_batch *b, uint32_t type, const void *payload, size_t len);
/* Sends everything gathered and empties @b. 0 or -errno. */
int ipc_batch_flush(int sock, struct ipc_batch *b);
void ipc_batch_fini(struct ipc_batch *b);
/* True if a message (or the peer's close) is waiting on @sock, or arrives
 * within @timeout_ms. */
bool ipc_readable(int sock, int timeout_ms);

int64_t ipc_mono_ns(void);
