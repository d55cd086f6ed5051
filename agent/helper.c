/* helper.c — spawning and talking to leakwatch-classify (see helper.h).
 * Owns the child process and the socket; one thread per struct helper. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "ipc.h"
#include "log.h"
#include "mem.h"
#include "wire.h"

#ifndef LW_LIBEXECDIR
#define LW_LIBEXECDIR "/usr/libexec"
#endif
/* After this many consecutive failed starts, calls fail fast for
 * HELPER_RETRY_NS instead of spawning a process per file (a broken
 * installation). A single failure is retried at once: it must not cost
 * every file for seconds. */
#define HELPER_START_TRIES 3
#define HELPER_RETRY_NS (5 * 1000000000ll)
/* Time to start and load fingerprints. */
#define HELPER_START_TIMEOUT_NS (60 * 1000000000ll)

extern char **environ;

/* A request submitted and not yet answered. */
struct pending {
	uint32_t type;
	int fd;        /* the caller's; open until collected */
	char *name;
	char *sha_hex; /* NULL: the helper hashes */
	int64_t size;  /* the caller's fstat(); -1: the helper's own */
	void *tag;
};

struct helper {
	struct helper_opts o;
	char *db_path;
	char *detectors; /* NULL: none */
	pid_t pid;
	int sock;
	int64_t fp_gen;
	int64_t failed_at;   /* when the last of HELPER_START_TRIES failed */
	int failures;        /* consecutive failed starts */
	/* requests in order; ring[head] is the oldest */
	struct pending ring[HELPER_WINDOW];
	unsigned head, n;
	unsigned sent;       /* of them, sent to the running process */
	unsigned solo;       /* of them, to be sent one at a time (see exchange) */
	int64_t head_since;  /* when that process could start on the oldest */
	struct ipc_batch out; /* requests being sent */
	struct ipc_reader rd; /* its replies */
};

_Static_assert(HELPER_WINDOW <= IPC_MAX_FDS, "a window's requests go in one write");

/* helper_submit() sends at once while the process has fewer requests than
 * this; beyond, requests wait for the next collect and go together, with
 * their descriptors, in one write. */
#define HELPER_SEND_EARLY (HELPER_WINDOW / 4)

static struct log_ratelimit helper_rl = LOG_RATELIMIT_INIT(10, 5);

void
helper_set_detectors(struct helper *h, const char *json)
{
	free(h->detectors);
	h->detectors = json && strcmp(json, "[]") != 0 ? lw_strdup(json) : NULL;
	h->o.detectors_json = h->detectors;
	helper_restart(h);
}

const char *
helper_binary(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("LEAKWATCH_CLASSIFY");
	if (env && env[0]) {
		return env;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* beside us when installed; in the build tree each
			 * program has its folder (agent/, cli/, classify/) */
			static const char *const where[] = {"/leakwatch-classify",
							    "/../classify/leakwatch-classify"};
			for (size_t i = 0; i < LW_ARRAY_SIZE(where); i++) {
				snprintf(path, sizeof(path), "%s%s", self, where[i]);
				if (access(path, X_OK) == 0) {
					return path;
				}
			}
		}
	}
	return LW_LIBEXECDIR "/leakwatch/leakwatch-classify";
}

struct helper *
helper_new(const struct helper_opts *o)
{
	struct helper *h = lw_new(struct helper, 1);
	h->o = *o;
	h->db_path = o->db_path ? lw_strdup(o->db_path) : NULL;
	h->o.db_path = h->db_path;
	if (o->detectors_json && strcmp(o->detectors_json, "[]") != 0) {
		h->detectors = lw_strdup(o->detectors_json);
	}
	h->o.detectors_json = h->detectors;
	h->pid = -1;
	h->sock = -1;
	h->fp_gen = -1;
	for (size_t i = 0; i < HELPER_WINDOW; i++) {
		h->ring[i].fd = -1;
	}
	return h;
}

/* Kills and reaps the process; returns a description of how it ended. */
static void
stop(struct helper *h, char *why, size_t whylen)
{
	if (h->sock >= 0) {
		close(h->sock);
		h->sock = -1;
	}
	if (h->pid > 0) {
		int status = 0;
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == 0) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &status, 0);
			if (why) {
				snprintf(why, whylen, "killed");
			}
		} else if (why && r == h->pid) {
			if (WIFSIGNALED(status)) {
				snprintf(why, whylen, "died of signal %d (%s)", WTERMSIG(status),
					 strsignal(WTERMSIG(status)));
			} else {
				snprintf(why, whylen, "exited with status %d", WEXITSTATUS(status));
			}
		}
	}
	h->pid = -1;
	h->fp_gen = -1;
	h->sent = 0; /* a new process is sent every outstanding request */
	ipc_reader_reset(&h->rd);
}

static int start_once(struct helper *h);

static int
start(struct helper *h)
{
	if (h->failed_at && clock_mono_ns() - h->failed_at < HELPER_RETRY_NS) {
		return -EAGAIN;
	}
	int r = 0;
	for (int i = 0; i < HELPER_START_TRIES; i++) {
		if ((r = start_once(h)) == 0) {
			h->failures = 0;
			h->failed_at = 0;
			return 0;
		}
		h->failures++;
	}
	h->failed_at = clock_mono_ns();
	return r;
}

/* The helper's command line: the limits, then the fingerprint database and
 * the detectors when there are any. @argv has room for all; @lim holds the
 * numbers' text. */
static void
helper_argv(const struct helper *h, char lim[][16], char **argv)
{
	size_t a = 0;
	argv[a++] = (char *)"leakwatch-classify";
	a += classify_limits_argv(&h->o.lim, lim, argv + a);
	if (h->db_path) {
		argv[a++] = (char *)"--db";
		argv[a++] = h->db_path;
	}
	if (h->detectors) {
		argv[a++] = (char *)"--detectors";
		argv[a++] = h->detectors;
	}
	argv[a] = NULL;
}

/* An ASan build cannot have RLIMIT_AS (sandbox.c): it caps single
 * allocations instead, and skips the exit-time leak check, whose tracer
 * needs system calls the sandbox forbids. Returns an environment to free
 * with asan_env_free(), or NULL outside ASan builds. */
static char **
asan_env_new(int memory_mb)
{
	if (!LW_ASAN) {
		return NULL;
	}
	size_t n = 0;
	while (environ[n]) {
		n++;
	}
	char **env = lw_new(char *, n + 2);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0) {
			env[k++] = environ[i];
		}
	}
	env[k++] = lw_asprintf("ASAN_OPTIONS=detect_leaks=0:max_allocation_size_mb=%d:"
			       "allocator_may_return_null=0",
			       memory_mb);
	env[k] = NULL;
	return env;
}

static void
asan_env_free(char **env)
{
	if (!env) {
		return;
	}
	for (size_t i = 0; env[i]; i++) {
		if (strncmp(env[i], "ASAN_OPTIONS=", 13) == 0) {
			free(env[i]);
		}
	}
	free(env);
}

/* Spawns the helper with @fd as its descriptor 3, every signal unblocked
 * and at its default. Returns 0 or a positive errno (posix_spawn's). */
static int
spawn_helper(struct helper *h, const char *bin, int fd, pid_t *pid)
{
	char *argv[2 * CLASSIFY_LIMIT_COUNT + 6];
	char lim[CLASSIFY_LIMIT_COUNT][16];
	helper_argv(h, lim, argv);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 3); /* dup2 clears CLOEXEC */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char **asan_env = asan_env_new(h->o.lim.v[CLASSIFY_MEMORY_MB]);
	int r = posix_spawn(pid, bin, &fa, &at, argv, asan_env ? asan_env : environ);
	asan_env_free(asan_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return r;
}

/* Waits for the helper's ready message, which carries the fingerprint
 * generation it loaded. Returns 0 or -errno (the helper stopped). */
static int
await_ready(struct helper *h, const char *bin)
{
	uint32_t type = 0;
	char *payload = NULL;
	size_t len = 0;
	int r = ipc_reader_recv(h->sock, &h->rd, clock_mono_ns() + HELPER_START_TIMEOUT_NS, &type,
				&payload, &len, NULL);
	if (r < 0 || type != HELPER_MSG_READY) {
		char why[128] = "no greeting";
		stop(h, why, sizeof(why));
		free(payload);
		log_warn_ratelimit(&helper_rl, "classify: %s did not start: %s", bin, why);
		return r < 0 ? r : -EPROTO;
	}
	cJSON *o = cJSON_Parse(payload);
	long long gen = 0;
	wire_json_int(cJSON_GetObjectItem(o, WIRE_KEY_FP_GEN), LLONG_MIN, LLONG_MAX, &gen);
	h->fp_gen = gen;
	cJSON_Delete(o);
	free(payload);
	return 0;
}

static int
start_once(struct helper *h)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	const char *bin = helper_binary();
	pid_t pid;
	int r = spawn_helper(h, bin, sv[1], &pid);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		log_warn_ratelimit(&helper_rl, "classify: cannot start %s: %s", bin, strerror(r));
		return -r;
	}
	h->pid = pid;
	h->sock = sv[0];
	return await_ready(h, bin);
}

/* {"error": "classify: helper <what>"} */
static char *
error_json(const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "classify: helper %s", what);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, WIRE_KEY_ERROR, msg);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *copy = lw_strdup(s);
	cJSON_free(s);
	return copy;
}

static void
pending_clear(struct pending *p)
{
	free(p->name);
	free(p->sha_hex);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

static int
add_request(struct helper *h, const struct pending *p)
{
	/* built here, not with cJSON: it is one per file */
	struct wire_buf b = {0};
	wire_buf_put(&b, "{", 1);
	if (p->name) {
		wire_buf_put(&b, "\"" WIRE_KEY_PATH "\":", sizeof(WIRE_KEY_PATH) + 2);
		wire_buf_json_string(&b, p->name, strlen(p->name));
	}
	if (p->sha_hex) {
		wire_buf_put(&b, b.len > 1 ? "," : "", b.len > 1);
		wire_buf_put(&b, "\"" WIRE_KEY_SHA256 "\":", sizeof(WIRE_KEY_SHA256) + 2);
		wire_buf_json_string(&b, p->sha_hex, strlen(p->sha_hex));
	}
	if (p->size >= 0) {
		char num[48];
		int n = snprintf(num, sizeof(num), "%s\"" WIRE_KEY_SIZE "\":%lld",
				 b.len > 1 ? "," : "", (long long)p->size);
		wire_buf_put(&b, num, (size_t)n);
	}
	wire_buf_put(&b, "}", 1);
	int r = ipc_batch_add(&h->out, p->type, b.data, b.len, p->fd);
	wire_buf_fini(&b);
	return r;
}

/* Sends what the running process has not been sent yet, in order, in one
 * write (HELPER_WINDOW <= IPC_MAX_FDS). */
static int
send_unsent(struct helper *h)
{
	unsigned upto = h->solo ? 1 : h->n;
	unsigned from = h->sent;
	if (from >= upto) {
		return 0;
	}
	for (unsigned i = from; i < upto; i++) {
		int r = add_request(h, &h->ring[(h->head + i) % HELPER_WINDOW]);
		if (r < 0) {
			h->out.len = h->out.n = h->out.nfds = 0;
			return r;
		}
	}
	int r = ipc_batch_flush(h->sock, &h->out);
	if (r < 0) {
		return r;
	}
	if (from == 0) {
		h->head_since = clock_mono_ns();
	}
	h->sent = upto;
	return 0;
}

/* exchange_once(): the helper failed with several requests in flight */
#define EXCHANGE_AGAIN 2
static int exchange_once(struct helper *h, char **reply, size_t *reply_len, char **json);

/* The answer to the oldest request, which stays queued: 1 with *reply, or
 * 0 (-errno when no helper could be started) with *json an error object;
 * then the process has been stopped, and the requests behind the oldest
 * will be sent to the next one.
 *
 * Blame: a helper with several requests may hold finished answers back
 * (REPLY_BATCH in classify-main.c), so when it dies then, the oldest
 * request is not necessarily the one that killed it. The requests it had
 * are sent again one at a time to a fresh helper, and the one it dies on
 * alone gets the error. A hostile file costs two helpers; no innocent
 * file gets its error. */
static int
exchange(struct helper *h, char **reply, size_t *reply_len, char **json)
{
	for (;;) {
		int r = exchange_once(h, reply, reply_len, json);
		if (r != EXCHANGE_AGAIN) {
			return r;
		}
	}
}

static int
exchange_once(struct helper *h, char **reply, size_t *reply_len, char **json)
{
	const struct pending *p = &h->ring[h->head];
	const char *name = p->name;
	uint32_t want = p->type == HELPER_MSG_FINGERPRINT ? HELPER_MSG_FP_RESULT : HELPER_MSG_RESULT;
	*reply = NULL;
	if (h->pid < 0) {
		int r = start(h);
		if (r < 0) {
			char what[160];
			snprintf(what, sizeof(what), "unavailable (%s)", strerror(-r));
			*json = error_json(what);
			return r;
		}
	}
	int r = send_unsent(h);
	uint32_t got = 0;
	if (r == 0) {
		/* The helper stops itself at the timeout; allow it to answer.
		 * It starts on the oldest request when it has answered the one
		 * before, or when that request was sent. With more requests
		 * queued it may hold the answer while it works on the next one
		 * (classify-main.c, REPLY_BATCH), which can take a timeout too. */
		int64_t t = (int64_t)h->o.lim.v[CLASSIFY_TIMEOUT_MS] * 1000000;
		int64_t deadline = h->head_since + (h->sent > 1 ? 2 * t : t * 3 / 2) + 2000000000ll;
		r = ipc_reader_recv(h->sock, &h->rd, deadline, &got, reply, reply_len, NULL);
		if (r == 0 && got != want) {
			r = -EPROTO;
			free(*reply);
			*reply = NULL;
		}
	}
	if (r < 0) {
		char why[128] = "";
		unsigned had = h->sent;
		stop(h, why, sizeof(why));
		if (had > 1) {
			log_debug("classify: helper failed with %u requests; sending them again"
				  " one at a time", had);
			h->solo = had;
			return EXCHANGE_AGAIN;
		}
		char what[200];
		if (r == -ETIMEDOUT) {
			snprintf(what, sizeof(what), "timed out after %d ms and was killed",
				 h->o.lim.v[CLASSIFY_TIMEOUT_MS]);
		} else if (r == -EPROTO) {
			snprintf(what, sizeof(what), "broke the protocol and was killed");
		} else {
			snprintf(what, sizeof(what), "%s", why[0] ? why : strerror(-r));
		}
		*json = error_json(what);
		log_warn_ratelimit(&helper_rl, "classify: %s: helper %s", name ? name : "?", what);
		if (h->solo) {
			h->solo--;
		}
		return 0; /* the file's error is the result */
	}
	h->sent--;
	if (h->solo) {
		h->solo--;
	}
	h->head_since = clock_mono_ns();
	return 1;
}

static void
enqueue(struct helper *h, uint32_t type, int fd, const char *name, const char *sha_hex,
	int64_t size, void *tag)
{
	if (h->n == HELPER_WINDOW) {
		abort(); /* a caller bug: collect before submitting more */
	}
	struct pending *p = &h->ring[(h->head + h->n) % HELPER_WINDOW];
	p->type = type;
	p->fd = fd;
	p->name = name ? lw_strdup(name) : NULL;
	p->sha_hex = sha_hex ? lw_strdup(sha_hex) : NULL;
	p->size = size;
	p->tag = tag;
	h->n++;
}

static void
dequeue(struct helper *h)
{
	pending_clear(&h->ring[h->head]);
	h->head = (h->head + 1) % HELPER_WINDOW;
	h->n--;
}

void
helper_submit(struct helper *h, int fd, const char *name, const char *sha_hex, int64_t size,
	      void *tag)
{
	enqueue(h, HELPER_MSG_CLASSIFY, fd, name, sha_hex, size, tag);
	/* Sent now if the process runs, has everything before it and little
	 * to work on; otherwise with the next collect. A failure here shows
	 * again, and is handled, when collecting. */
	if (h->pid > 0 && h->sent == h->n - 1 && h->sent < HELPER_SEND_EARLY) {
		send_unsent(h);
	}
}

unsigned
helper_pending(const struct helper *h)
{
	return h->n;
}

bool
helper_ready(const struct helper *h)
{
	return h->n > 0 && h->pid > 0 && h->sent > 0 && !h->solo &&
	       ipc_reader_pending(&h->rd);
}

void
helper_collect(struct helper *h, void **tag, char **json)
{
	*tag = h->ring[h->head].tag;
	char *reply = NULL;
	size_t len = 0;
	if (exchange(h, &reply, &len, json) == 1) {
		*json = reply;
	}
	dequeue(h);
}

int
helper_fingerprint(struct helper *h, int fd, const char *name, char **json,
		   unsigned char **fps, size_t *fps_len)
{
	*fps = NULL;
	*fps_len = 0;
	enqueue(h, HELPER_MSG_FINGERPRINT, fd, name, NULL, -1, NULL);
	char *reply = NULL;
	size_t len = 0;
	int r = exchange(h, &reply, &len, json);
	dequeue(h);
	if (r <= 0) {
		return r;
	}
	uint32_t jl = 0;
	if (len < 4 || (memcpy(&jl, reply, 4), (size_t)jl > len - 4) ||
	    (len - 4 - jl) % 8 != 0) {
		free(reply);
		char why[8];
		stop(h, why, sizeof(why));
		*json = error_json("sent a malformed fingerprint reply");
		return 0;
	}
	*json = lw_strndup(reply + 4, jl);
	*fps_len = len - 4 - jl;
	if (*fps_len) {
		*fps = lw_malloc(*fps_len);
		memcpy(*fps, reply + 4 + jl, *fps_len);
	}
	free(reply);
	return 0;
}

int64_t
helper_fp_gen(struct helper *h)
{
	return h->pid > 0 ? h->fp_gen : -1;
}

void
helper_restart(struct helper *h)
{
	stop(h, NULL, 0);
	h->failed_at = 0;
}

void
helper_free(struct helper *h)
{
	if (!h) {
		return;
	}
	stop(h, NULL, 0);
	while (h->n) {
		dequeue(h);
	}
	ipc_batch_fini(&h->out);
	free(h->db_path);
	free(h->detectors);
	free(h);
}
