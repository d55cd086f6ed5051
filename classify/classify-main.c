/* classify-main.c — leakwatch-classify, the sandboxed classify helper.
 *
 * Parsing documents is the dangerous part of leakwatch: the files are
 * attacker-controlled and the agent runs as root. So extraction and
 * detection run here, in a separate process that receives each file as an
 * already-open descriptor over a socket (fd 3), has loaded the registered
 * fingerprints before it confines itself (sandbox.c: no privileges, no
 * files, no new processes, memory limit, seccomp), and answers each request
 * with one framed message (common/wire.h, common/ipc.h). A crash or a hang
 * here costs the caller one file; the caller restarts the helper.
 *
 * Single-threaded. Started by the agent's workers (one helper each) and by
 * `leakwatch scan`. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "classify-limits.h"
#include "classify.h"
#include "clock.h"
#include "db.h"
#include "extract.h"
#include "filetype.h"
#include "marking.h"
#include "fpindex.h"
#include "fpstore.h"
#include "hash.h"
#include "ipc.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "rules.h"
#include "match.h"
#include "mem.h"
#include "sandbox.h"
#include "store.h"
#include "winnow.h"
#include "wire.h"

#define HELPER_SOCK_FD 3

struct helper_ctx {
	struct fpindex *index;
	struct rules_set *rules; /* the policy's custom detectors; NULL: none */
	size_t max_file_bytes;
	int64_t timeout_ns;
	struct extract_limits limits; /* deadline set per file */
	unsigned char *buf;
	size_t cap;
	struct lw_sha256 *sha;
	/* per request */
	struct classify_result total;
	bool have_total;
	const uint8_t *file_sha;
	unsigned members;
	/* fingerprint requests */
	bool fingerprinting;
	uint64_t *hashes;
	size_t nhashes;
};

#define HEAD_BYTES 65536
#define REPLY_BATCH 8
#define IDLE_TRIM_MS 1000
#define REPLY_HOLD_NS (10 * 1000000ll)
#define CHUNK_BYTES (256 * 1024)

/* Reads @len bytes at @off, fewer at the end of the file. Reaching @size
 * (the file's size when it was opened) counts as the end: that saves the
 * read returning 0 on every small file. A file growing meanwhile is read
 * as it was; the agent's worker sees the change afterwards and reads it
 * again. */
static ssize_t
pread_full(int fd, unsigned char *buf, size_t len, off_t off, off_t size)
{
	size_t got = 0;
	while (got < len && off + (off_t)got < size) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

struct file_read {
	size_t kept;      /* bytes in c->buf */
	bool truncated;   /* larger than max_file_bytes */
	bool binary;      /* streamed through the raw marking scan instead */
	const char *type; /* for binaries: filetype_sniff's name */
	struct marking_result raw;
};

/* Reads @fd for classification. Text formats: up to max_file_bytes into
 * ctx->buf. Binary content: streamed in chunks through marking_scan_raw(),
 * never held whole. Hashes everything unless @have_sha. 0 or -errno. */
static int
read_file(struct helper_ctx *c, int fd, bool have_sha, uint8_t sha[LW_SHA256_LEN],
	  long long size, struct file_read *fr)
{
	/* The caller's fstat(), when it sent it, saves one here: it opened a
	 * regular file (the type of an open file cannot change), and the
	 * size only says where reading may stop early. */
	struct stat st = {.st_mode = S_IFREG, .st_size = (off_t)size};
	if (size < 0 && fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	memset(fr, 0, sizeof(*fr));
	/* files that say 0 (procfs and the like) are read to their end */
	off_t until = st.st_size > 0 ? st.st_size : (off_t)INT64_MAX;
	if (c->cap < HEAD_BYTES + 1) {
		free(c->buf);
		c->cap = HEAD_BYTES + 1;
		c->buf = lw_malloc(c->cap);
	}
	ssize_t n = pread_full(fd, c->buf, HEAD_BYTES, 0, until);
	if (n < 0) {
		return (int)n;
	}
	if (!have_sha) {
		lw_sha256_init(c->sha);
		lw_sha256_update(c->sha, c->buf, (size_t)n);
	}
	off_t off = n;
	/* Containers and documents (zip, PDF, gzip...) look binary too: only
	 * content no format claims takes the raw path. */
	const char *t = n > 0 ? filetype_sniff(c->buf, (size_t)n, (unsigned long long)st.st_size,
					       NULL)
			      : "empty";
	static const char *const opaque[] = {"binary", "elf", "png", "jpeg", "gif", "sqlite"};
	bool is_opaque = false;
	for (size_t i = 0; i < LW_ARRAY_SIZE(opaque); i++) {
		is_opaque = is_opaque || strcmp(t, opaque[i]) == 0;
	}
	/* the extractor's own rule, on a head that shows random and compiled
	 * data for what they are */
	if (is_opaque && extract_looks_binary(c->buf, (size_t)n < 4096 ? (size_t)n : 4096)) {
		fr->binary = true;
		fr->type = t;
		struct marking_raw_state rs = {0};
		marking_scan_raw(&rs, c->buf, (size_t)n, &fr->raw);
		while (n == (ssize_t)HEAD_BYTES || n == CHUNK_BYTES) {
			if (c->cap < CHUNK_BYTES) {
				free(c->buf);
				c->cap = CHUNK_BYTES + 1;
				c->buf = lw_malloc(c->cap);
			}
			n = pread_full(fd, c->buf, CHUNK_BYTES, off, until);
			if (n <= 0) {
				break;
			}
			off += n;
			marking_scan_raw(&rs, c->buf, (size_t)n, &fr->raw);
			if (!have_sha) {
				lw_sha256_update(c->sha, c->buf, (size_t)n);
			}
		}
		if (n < 0) {
			return (int)n;
		}
		if (!have_sha) {
			lw_sha256_final(c->sha, sha);
		}
		return 0;
	}
	size_t want = (size_t)st.st_size < c->max_file_bytes ? (size_t)st.st_size
							    : c->max_file_bytes;
	if (want < (size_t)n) {
		want = (size_t)n; /* grew since fstat */
	}
	if (want + 1 > c->cap) {
		c->buf = lw_realloc(c->buf, want + 1);
		c->cap = want + 1;
	}
	ssize_t m = n == HEAD_BYTES ? pread_full(fd, c->buf + n, want - (size_t)n, off, until)
				    : 0;
	if (m < 0) {
		return (int)m;
	}
	fr->kept = (size_t)n + (size_t)m;
	off += m;
	if (!have_sha) {
		lw_sha256_update(c->sha, c->buf + n, (size_t)m);
	}
	/* the rest, beyond the cap: hashed (when asked), not examined */
	unsigned char tail[65536];
	for (;;) {
		ssize_t got = pread_full(fd, tail, sizeof(tail), off, until);
		if (got <= 0) {
			break;
		}
		fr->truncated = true;
		if (have_sha) {
			break;
		}
		lw_sha256_update(c->sha, tail, (size_t)got);
		off += got;
	}
	if (!have_sha) {
		lw_sha256_final(c->sha, sha);
	}
	return 0;
}

static int
on_member(void *ctx, const char *path, const char *type, const struct text_doc *doc)
{
	(void)type;
	struct helper_ctx *c = ctx;
	bool top = path[0] == '\0';
	if (!top) {
		c->members++;
	}
	if (c->fingerprinting) {
		struct winnow_set set = {0};
		const struct winnow_params *p = c->index ? fpindex_winnow_params(c->index) : NULL;
		if (winnow_doc(doc, p, &set) == 0) {
			uint64_t *h = NULL;
			size_t n = winnow_set_hashes(&set, &h);
			c->hashes = lw_realloc(c->hashes, (c->nhashes + n) * sizeof(uint64_t) + 1);
			memcpy(c->hashes + c->nhashes, h, n * sizeof(uint64_t));
			c->nhashes += n;
			free(h);
		}
		winnow_set_fini(&set);
		return 0;
	}
	struct match_scan scan = {.index = c->index, .sha256 = top ? c->file_sha : NULL};
	struct classify_matcher m;
	match_matcher_init(&m, &scan);
	struct classify_options opt = {.matcher = c->index ? &m : NULL, .rules = c->rules};
	struct classify_result res;
	classify_document(doc, &opt, &res);
	if (!c->have_total) {
		c->total = res;
		c->have_total = true;
	} else {
		classify_merge(&c->total, &res);
	}
	return 0;
}

static cJSON *
result_json(const struct helper_ctx *c, const struct classify_result *r)
{
	cJSON *o = cJSON_CreateObject();
	if (r->marking.scheme != MARKING_SCHEME_NONE) {
		cJSON *cl = cJSON_AddObjectToObject(o, WIRE_KEY_CLASSIFICATION);
		cJSON_AddStringToObject(cl, WIRE_KEY_SCHEME, marking_scheme_name(r->marking.scheme));
		cJSON_AddStringToObject(cl, WIRE_KEY_LEVEL, marking_level_name(r->marking.level));
		cJSON_AddStringToObject(cl, WIRE_KEY_MARKING, r->marking.found);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_CLASSIFICATION);
	}
	cJSON *pii = cJSON_AddArrayToObject(o, WIRE_KEY_PII);
	for (int t = 0; t < PII_TYPE_COUNT; t++) {
		if (r->pii.count[t]) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, WIRE_KEY_PII_TYPE, pii_type_name((enum pii_type)t));
			cJSON_AddNumberToObject(e, WIRE_KEY_COUNT, r->pii.count[t]);
			cJSON_AddItemToArray(pii, e);
		}
	}
	cJSON *ms = cJSON_AddArrayToObject(o, WIRE_KEY_MATCHES);
	for (size_t i = 0; i < r->n_matches; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, WIRE_KEY_MATCH_ID, r->matches[i].id);
		cJSON_AddStringToObject(e, WIRE_KEY_MATCH_KIND,
					classify_match_kind_name(r->matches[i].kind));
		cJSON_AddNumberToObject(e, WIRE_KEY_COVERAGE_SHARE,
					(double)(long)(r->matches[i].coverage * 1000 + 0.5) / 1000);
		cJSON_AddItemToArray(ms, e);
	}
	cJSON *rs = cJSON_AddArrayToObject(o, WIRE_KEY_RULES);
	for (size_t i = 0; c->rules && i < r->n_rules_hit; i++) {
		cJSON_AddItemToArray(rs, cJSON_CreateString(rules_id(c->rules, r->rules_hit[i])));
	}
	return o;
}

static void
reply_error(struct ipc_batch *out, uint32_t type, const char *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, WIRE_KEY_ERROR, err);
	char *s = cJSON_PrintUnformatted(o);
	if (type == HELPER_MSG_FP_RESULT) {
		size_t n = strlen(s);
		unsigned char *p = lw_malloc(4 + n);
		uint32_t l = (uint32_t)n;
		memcpy(p, &l, 4);
		memcpy(p + 4, s, n);
		ipc_batch_add(out, type, p, 4 + n, -1);
		free(p);
	} else {
		ipc_batch_add(out, type, s, strlen(s), -1);
	}
	cJSON_free(s);
	cJSON_Delete(o);
}

static int
handle(struct helper_ctx *c, struct ipc_batch *out, uint32_t type, const char *payload, int fd)
{
	uint32_t reply = type == HELPER_MSG_FINGERPRINT ? HELPER_MSG_FP_RESULT : HELPER_MSG_RESULT;
	AUTOJSON cJSON *req = cJSON_Parse(payload);
	const char *name = req ? cJSON_GetStringValue(cJSON_GetObjectItem(req, WIRE_KEY_PATH))
			       : NULL;
	uint8_t sha[LW_SHA256_LEN];
	const char *given = req ? cJSON_GetStringValue(cJSON_GetObjectItem(req, WIRE_KEY_SHA256))
				: NULL;
	bool have_sha = given && lw_unhex_sha256(given, sha) == 0;
	long long size = -1;
	if (req && !wire_json_int(cJSON_GetObjectItem(req, WIRE_KEY_SIZE), 0, INT64_MAX, &size)) {
		size = -1;
	}
	struct file_read fr;
	int n = fd >= 0 ? read_file(c, fd, have_sha, sha, size, &fr) : -EBADF;
	if (fd >= 0) {
		close(fd);
	}
	if (n < 0) {
		char err[128];
		snprintf(err, sizeof(err), "read: %s", strerror(-n));
		reply_error(out, reply, err);
		return 0;
	}
	struct extract_limits lim = c->limits;
	lim.deadline_ns = clock_mono_ns() + c->timeout_ns;
	c->have_total = false;
	c->members = 0;
	c->file_sha = sha;
	c->fingerprinting = type == HELPER_MSG_FINGERPRINT;
	c->nhashes = 0;
	struct extract_result xr = {0};
	if (fr.binary) {
		/* no text format: the raw marking scan, and exact copies of
		 * registered documents, are all there is to find */
		snprintf(xr.type, sizeof(xr.type), "%s", fr.type);
		memset(&c->total, 0, sizeof(c->total));
		c->total.marking = fr.raw;
		c->have_total = true;
		if (c->index && !c->fingerprinting) {
			struct fpindex_match m[CLASSIFY_MATCHES_MAX];
			int k = fpindex_query(c->index, sha, NULL, 0, m, CLASSIFY_MATCHES_MAX);
			for (int i = 0; i < k; i++) {
				classify_add_match(&c->total, m[i].id, m[i].kind, m[i].coverage);
			}
		}
	} else {
		extract_buffer(c->buf, fr.kept, name, &lim, on_member, c, &xr);
	}
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(sha, LW_SHA256_LEN, hex);
	char err[EXTRACT_ERROR_MAX + 64] = "";
	if (fr.truncated) {
		snprintf(err, sizeof(err), "limit: file size (%zu bytes examined)", c->max_file_bytes);
	} else if (xr.stop != EXTRACT_STOP_NONE) {
		snprintf(err, sizeof(err), "%s", xr.error);
	}
	cJSON *o;
	if (c->fingerprinting) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, WIRE_KEY_FINGERPRINTS, (double)c->nhashes);
	} else {
		if (!c->have_total) {
			memset(&c->total, 0, sizeof(c->total));
		}
		o = result_json(c, &c->total);
		cJSON_AddNumberToObject(o, WIRE_KEY_MEMBERS, c->members);
	}
	cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
	cJSON_AddStringToObject(o, WIRE_KEY_TYPE, xr.type);
	cJSON_AddNumberToObject(o, WIRE_KEY_SIZE, (double)fr.kept);
	if (err[0]) {
		cJSON_AddStringToObject(o, WIRE_KEY_ERROR, err);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_ERROR);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	int r;
	if (c->fingerprinting) {
		unsigned char *blob = NULL;
		size_t blen = 0;
		winnow_pack(c->hashes, c->nhashes, &blob, &blen);
		size_t jl = strlen(s);
		unsigned char *msg = lw_malloc(4 + jl + blen);
		uint32_t l32 = (uint32_t)jl;
		memcpy(msg, &l32, 4);
		memcpy(msg + 4, s, jl);
		if (blen) {
			memcpy(msg + 4 + jl, blob, blen);
		}
		r = ipc_batch_add(out, reply, msg, 4 + jl + blen, -1);
		free(msg);
		free(blob);
	} else {
		r = ipc_batch_add(out, reply, s, strlen(s), -1);
	}
	cJSON_free(s);
	return r;
}

static int
warm_member(void *ctx, const char *path, const char *type, const struct text_doc *doc)
{
	(void)ctx;
	(void)path;
	(void)type;
	(void)doc;
	return 0;
}

/* The libraries initialise themselves on first use, and that may open files
 * (GLib's charset tables, GMime's iconv, poppler's globals), which the
 * sandbox forbids: use each once before entering it. */
static void
warm_up(void)
{
	static const char pdf[] =
		"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
		"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
		"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]/Contents 4 0 R"
		"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
		"4 0 obj<</Length 35>>stream\nBT /F1 12 Tf 10 50 Td (warm) Tj ET\nendstream endobj\n"
		"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
		"trailer<</Root 1 0 R>>\n%%EOF\n";
	static const char eml[] = "From: a@example.org\r\nTo: b@example.org\r\n"
				  "Subject: warm\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: text/plain; charset=iso-8859-1\r\n"
				  "Content-Transfer-Encoding: quoted-printable\r\n\r\nw=E4rm\r\n";
	static const char html[] = "<html><head><title>w</title></head><body>w&eacute;</body></html>";
	static const char rtf[] = "{\\rtf1\\ansi warm}";
	static const unsigned char zip_empty[22] = {'P', 'K', 5, 6};
	static const struct {
		const void *buf;
		size_t len;
		const char *name;
	} samples[] = {
		{"warm\n", 5, "w.txt"},         {pdf, sizeof(pdf) - 1, "w.pdf"},
		{eml, sizeof(eml) - 1, "w.eml"}, {html, sizeof(html) - 1, "w.html"},
		{rtf, sizeof(rtf) - 1, "w.rtf"}, {zip_empty, sizeof(zip_empty), "w.zip"},
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct extract_result xr;
		extract_buffer(samples[i].buf, samples[i].len, samples[i].name, NULL, warm_member,
			       NULL, &xr);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: leakwatch-classify [--db DB] [--detectors JSON]");
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		fprintf(stderr, "%s[%s N]", i % 4 == 0 ? "\n       " : " ",
			classify_limit_flag((enum classify_limit)i));
	}
	fprintf(stderr, "\n(started by leakwatchd and leakwatch scan with the socket as fd 3)\n");
}

struct args {
	const char *db_path;
	const char *detectors; /* JSON: policy_detectors_json() */
	struct classify_limits lim;
};

/* The limits come as the options of common/classify-limits.c, so the
 * agent, the CLI and this helper cannot disagree on a name or a range. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	enum { OPT_DB = 1000, OPT_DETECTORS, OPT_LIMIT };
	struct option opts[CLASSIFY_LIMIT_COUNT + 3] = {
		{"db", required_argument, NULL, OPT_DB},
		{"detectors", required_argument, NULL, OPT_DETECTORS},
	};
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		opts[i + 2] = (struct option){classify_limit_flag((enum classify_limit)i) + 2,
					      required_argument, NULL, OPT_LIMIT + (int)i};
	}
	classify_limits_default(&a->lim);
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == OPT_DB) {
			a->db_path = optarg;
		} else if (o == OPT_DETECTORS) {
			a->detectors = optarg;
		} else if (o >= OPT_LIMIT && o < OPT_LIMIT + CLASSIFY_LIMIT_COUNT) {
			const char *flag = classify_limit_flag((enum classify_limit)(o - OPT_LIMIT));
			if (classify_limits_set_flag(&a->lim, flag, optarg) < 0) {
				log_err("%s %s: out of range", flag, optarg);
				return -EINVAL;
			}
		} else {
			usage();
			return -EINVAL;
		}
	}
	struct stat st;
	if (optind != argc || fstat(HELPER_SOCK_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		usage();
		return -EINVAL;
	}
	return 0;
}

/* The policy's custom detectors, compiled here before the sandbox;
 * policy_load() only validates them, so the agent and the CLI never
 * compile them. */
static int
load_detectors(const char *json, struct rules_set **out)
{
	*out = NULL;
	if (!json) {
		return 0;
	}
	struct cfg_ctx ctx = {.file = "--detectors"};
	cJSON *arr = cJSON_Parse(json);
	int r = arr ? policy_detectors_build(arr, &ctx, "", out) : -EINVAL;
	cJSON_Delete(arr);
	if (r < 0) {
		log_err("%s", ctx.err[0] ? ctx.err : "--detectors: not JSON");
		return r;
	}
	rules_prepare(*out);
	return 0;
}

/* Registered documents, read before the sandbox closes the file system.
 * Returns their generation (0 without a database); a database that cannot
 * be read costs the excerpt detection only, with a warning. */
static int64_t
load_index(const char *db_path, struct fpindex **index)
{
	int64_t gen = 0;
	if (!db_path) {
		return 0;
	}
	struct store *s = NULL;
	char err[512];
	if (store_open(db_path, DB_MODE_READER, &s, err, sizeof(err)) < 0) {
		log_warn("classify: %s; no registered documents", err);
		return 0;
	}
	int r = fpstore_load_index(store_db(s), index, &gen);
	if (r < 0) {
		log_warn("classify: registered documents not loaded: %s", strerror(-r));
	}
	store_close(s);
	return gen;
}

/* Answers requests until the caller goes away or breaks the protocol.
 * Replies wait while more requests are queued (the caller pipelines), up
 * to REPLY_BATCH of them or REPLY_HOLD_NS: the caller then wakes once per
 * batch instead of once per file. A lone request (the agent's workers) is
 * answered at once. Requests come buffered (several per write from a
 * pipelining caller): whether more are queued is known from the buffer or
 * from a read, not a poll. */
static void
serve(struct helper_ctx *c)
{
	struct ipc_batch out = {0};
	struct ipc_reader in = {0};
	for (;;) {
		bool queued = ipc_reader_ready(HELPER_SOCK_FD, &in);
		if (out.n && (out.n >= REPLY_BATCH || !queued ||
			      clock_mono_ns() - out.first_ns >= REPLY_HOLD_NS) &&
		    ipc_batch_flush(HELPER_SOCK_FD, &out) < 0) {
			break;
		}
		/* idle for a second: give the memory kept for the next file
		 * back (see the mallopt() calls) */
		if (!queued && !ipc_readable(HELPER_SOCK_FD, IDLE_TRIM_MS)) {
			malloc_trim(0);
		}
		uint32_t type;
		char *payload = NULL;
		size_t len;
		int fd = -1;
		int r = ipc_reader_recv(HELPER_SOCK_FD, &in, 0, &type, &payload, &len, &fd);
		if (r < 0) {
			free(payload);
			break; /* the caller went away or spoke nonsense */
		}
		if (type != HELPER_MSG_CLASSIFY && type != HELPER_MSG_FINGERPRINT) {
			free(payload);
			if (fd >= 0) {
				close(fd);
			}
			break;
		}
		r = handle(c, &out, type, payload, fd);
		free(payload);
		if (r < 0) {
			break;
		}
	}
	/* what was answered before a failure is still the caller's */
	ipc_batch_flush(HELPER_SOCK_FD, &out);
	ipc_batch_fini(&out);
	ipc_reader_reset(&in);
}

int
main(int argc, char **argv)
{
	log_init("leakwatch-classify");
	struct args a = {0};
	struct rules_set *rules = NULL;
	if (parse_args(argc, argv, &a) < 0 || load_detectors(a.detectors, &rules) < 0) {
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* libarchive converts member dates with localtime(): without TZ glibc
	 * re-reads /etc/localtime for every docx (and the sandbox refuses it) */
	setenv("TZ", "UTC", 1);
	tzset();
	struct helper_ctx c = {
		.max_file_bytes = (size_t)a.lim.v[CLASSIFY_MAX_FILE_MB] << 20,
		.timeout_ns = (int64_t)a.lim.v[CLASSIFY_TIMEOUT_MS] * 1000000,
		.sha = lw_sha256_new(),
		.rules = rules,
	};
	extract_limits_default(&c.limits);
	c.limits.max_text_bytes = (size_t)a.lim.v[CLASSIFY_MAX_TEXT_MB] << 20;
	c.limits.max_depth = (unsigned)a.lim.v[CLASSIFY_MAX_DEPTH];
	c.limits.max_members = (unsigned)a.lim.v[CLASSIFY_MAX_MEMBERS];
	c.limits.max_ratio = a.lim.v[CLASSIFY_MAX_RATIO];
	int64_t gen = load_index(a.db_path, &c.index);
	/* Buffers for one file are freed before the next: keep that memory
	 * in the heap (up to 32 MiB blocks, 256 MiB in all) instead of giving
	 * it back to the kernel and faulting it in again for every file,
	 * which cost 6-8 % of a scan. An idle helper trims it (serve()). */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	warm_up();
	struct sandbox_limits lim = {.memory_bytes = (size_t)a.lim.v[CLASSIFY_MEMORY_MB] << 20};
	if (sandbox_enter(&lim) < 0) {
		return 1;
	}
	AUTOJSON cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, WIRE_KEY_FINGERPRINTS,
				(double)(c.index ? fpindex_count(c.index) : 0));
	cJSON_AddNumberToObject(o, WIRE_KEY_FP_GEN, (double)gen);
	AUTOFREE char *ready = cJSON_PrintUnformatted(o);
	struct ipc_batch out = {0};
	int r = ipc_batch_add(&out, HELPER_MSG_READY, ready, strlen(ready), -1);
	if (r == 0) {
		r = ipc_batch_flush(HELPER_SOCK_FD, &out);
	}
	ipc_batch_fini(&out);
	if (r == 0) {
		serve(&c);
	}
	fpindex_free(c.index);
	rules_free(c.rules);
	lw_sha256_free(c.sha);
	free(c.buf);
	free(c.hashes);
	return r == 0 ? 0 : 1;
}
