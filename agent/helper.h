/* helper.h — the caller's side of the classify helper (leakwatch-classify).
 *
 * One struct helper is one helper process and its socket; one thread uses it
 * at a time (the agent's workers borrow them from a pool, one per core;
 * `leakwatch scan` has one per thread).
 * Requests are answered in order, each with a deadline; they are
 * pipelined (helper_submit, then helper_collect), which keeps the helper
 * busy instead of waking two processes per file, or synchronous
 * (helper_fingerprint). When the helper crashes, hangs, or breaks the
 * protocol, it is killed and reaped, and the file it failed on gets an
 * error result: with one request outstanding that is the oldest; with
 * several, they are sent again one at a time to a fresh helper to find it.
 * The other requests are answered by the next helper. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify-limits.h"

struct helper_opts {
	const char *db_path;  /* registered fingerprints from here; may be NULL */
	/* every limit set (classify_limits_default(), then the caller's) */
	struct classify_limits lim;
	/* the policy's custom detectors (policy_detectors_json()); NULL or
	 * "[]": none */
	const char *detectors_json;
};

struct helper;

/* Prepares a helper; the process starts on first use. Never fails. */
struct helper *helper_new(const struct helper_opts *o);
void helper_free(struct helper *h); /* kills the process; NULL is a no-op */

/* Pipelined classification. Queues a request for the regular file open at
 * @fd, which the caller keeps open until its result is collected (it is
 * sent again if the helper has to be restarted). @name is a hint for the
 * format; @sha_hex may be NULL (the helper hashes); @size is the file's
 * size from the caller's fstat(), which spares the helper its own (-1:
 * the helper looks). @tag comes back with the result. At most
 * HELPER_WINDOW requests may be outstanding. */
#define HELPER_WINDOW 16
void helper_submit(struct helper *h, int fd, const char *name, const char *sha_hex,
		   int64_t size, void *tag);
/* Requests submitted and not yet collected. */
unsigned helper_pending(const struct helper *h);
/* True if the oldest request's answer is here: helper_collect() will not
 * wait. Collecting all those before submitting more lets the submissions
 * go to the process together. */
bool helper_ready(const struct helper *h);
/* Waits for the oldest outstanding request: *tag, and *json the result
 * object (caller frees): keys classification, pii, matches, members,
 * sha256, type, size, error (see wire.h); when the helper failed,
 * {"error": "..."}. Only with helper_pending() > 0. */
void helper_collect(struct helper *h, void **tag, char **json);
/* Fingerprints the file for registration: *json as above (sha256, type,
 * error, fingerprints) and the packed fingerprints (caller frees). */
int helper_fingerprint(struct helper *h, int fd, const char *name, char **json,
		       unsigned char **fps, size_t *fps_len);
/* The registered-fingerprint generation the running helper loaded (-1 when
 * none runs). */
int64_t helper_fp_gen(struct helper *h);
/* Stops the process so that the next request starts a fresh one (to load
 * new registered documents). */
void helper_restart(struct helper *h);
/* New custom detectors (JSON; NULL or "[]": none): the next request starts
 * a helper that runs them. */
void helper_set_detectors(struct helper *h, const char *json);
/* The path of the helper binary (LEAKWATCH_CLASSIFY, else beside this
 * executable, else the installed one). */
const char *helper_binary(void);
