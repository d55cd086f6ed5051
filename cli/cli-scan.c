/* cli-scan.c — `leakwatch scan`: classify files once, no daemon.
 *
 * Every file goes to leakwatch-classify helpers (helper.h): the CLI itself
 * never parses document formats (it does not link the extractors). One
 * thread per job, each with its own helper; output lines are written whole
 * under a mutex. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "fpstore.h"
#include "hash.h"
#include "json.h"
#include "helper.h"
#include "mem.h"
#include "policy.h"
#include "wire.h"

/* A file to scan: its path, where its name starts, and which directory
 * listing it came from (0: named on the command line). */
struct scan_file {
	char *path;
	size_t name_off;
	unsigned dir;
};

/* The files to scan, filled by the walk while the scan threads take them:
 * the walk of a large tree overlaps the scan instead of preceding it. */
struct file_list {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct scan_file *files;
	size_t n, cap;
	size_t next;     /* the first not yet taken */
	unsigned waiters;
	unsigned dirs;   /* directories listed so far (the walk's) */
	bool walked;     /* no more will come */
};

static void
list_add(struct file_list *l, const char *p, size_t name_off, unsigned dir)
{
	char *copy = lw_strdup(p);
	pthread_mutex_lock(&l->lock);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->files = lw_realloc(l->files, l->cap * sizeof(*l->files));
	}
	l->files[l->n++] = (struct scan_file){.path = copy, .name_off = name_off, .dir = dir};
	if (l->waiters) {
		pthread_cond_signal(&l->more);
	}
	pthread_mutex_unlock(&l->lock);
}

static void
list_walked(struct file_list *l)
{
	pthread_mutex_lock(&l->lock);
	l->walked = true;
	pthread_cond_broadcast(&l->more);
	pthread_mutex_unlock(&l->lock);
}

/* The next file: 1 (*f set; a copy, as the walk may move the array),
 * 0 none yet (only when not @wait), -1 no more. The paths live until the
 * list is freed. */
static int
list_take(struct file_list *l, bool wait, struct scan_file *f)
{
	pthread_mutex_lock(&l->lock);
	while (l->next == l->n && !l->walked && wait) {
		l->waiters++;
		pthread_cond_wait(&l->more, &l->lock);
		l->waiters--;
	}
	int r = l->next < l->n ? 1 : l->walked ? -1 : 0;
	if (r == 1) {
		*f = l->files[l->next++];
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* Regular files under @path (symbolic links are not followed; special
 * files are skipped). Returns -errno if @path itself cannot be read. */
static int
collect(const char *path, struct file_list *l, bool top)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		list_add(l, path, 0, 0);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		return top ? -EINVAL : 0;
	}
	DIR *d = opendir(path);
	if (!d) {
		return top ? -errno : 0;
	}
	unsigned dir = ++l->dirs; /* only the walk writes it */
	size_t plen = strlen(path);
	const char *sep = plen && path[plen - 1] == '/' ? "" : "/";
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			continue;
		}
		/* the entry's type saves a stat per file; the scan's own
		 * open (O_NOFOLLOW) and fstat settle what it is by then */
		if (de->d_type == DT_LNK || (de->d_type != DT_UNKNOWN && de->d_type != DT_REG &&
					     de->d_type != DT_DIR)) {
			continue;
		}
		AUTOFREE char *child = lw_asprintf("%s%s%s", path, sep, de->d_name);
		if (de->d_type == DT_REG) {
			list_add(l, child, plen + strlen(sep), dir);
			continue;
		}
		int r = collect(child, l, false);
		if (r < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", child, strerror(-r));
		}
	}
	closedir(d);
	return 0;
}

struct scan_ctx {
	struct cli *c;
	struct file_list files;
	pthread_mutex_t out;
	struct helper_opts hopts;
	bool with_rules; /* --policy: report the detectors that fired */
	atomic_int sensitive;
	atomic_int errors;
};

/* rules count only when the line shows them (--policy) */
static bool
result_is_sensitive(const cJSON *r, bool with_rules)
{
	return cJSON_IsObject(cJSON_GetObjectItem(r, WIRE_KEY_CLASSIFICATION)) ||
	       cJSON_GetArraySize(cJSON_GetObjectItem(r, WIRE_KEY_PII)) > 0 ||
	       cJSON_GetArraySize(cJSON_GetObjectItem(r, WIRE_KEY_MATCHES)) > 0 ||
	       (with_rules && cJSON_GetArraySize(cJSON_GetObjectItem(r, WIRE_KEY_RULES)) > 0);
}

/* Appends ,"key": and @v as cJSON prints it; @absent when there is none.
 * Most values are null or [] and cost no printing. */
static void
put_member(struct wire_buf *b, const char *key, const cJSON *v, const char *absent)
{
	wire_buf_put(b, ",\"", 2);
	wire_buf_put(b, key, strlen(key));
	wire_buf_put(b, "\":", 2);
	if (!v) {
		wire_buf_put(b, absent, strlen(absent));
	} else if (cJSON_IsNull(v)) {
		wire_buf_put(b, "null", 4);
	} else if (cJSON_IsArray(v) && !v->child) {
		wire_buf_put(b, "[]", 2);
	} else {
		char *t = cJSON_PrintUnformatted(v);
		wire_buf_put(b, t, strlen(t));
		cJSON_free(t);
	}
}

/* A string member of @r, or NULL (printed as @absent) when it is not one. */
static const cJSON *
string_member(const cJSON *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(r, key);
	return cJSON_IsString(v) ? v : NULL;
}

/* The doc/design.md line: path, sha256, size, type, classification, pii,
 * matches, error — in that order; with --policy, "rules" (the policy's
 * detectors that fired) after matches. Written out directly rather than
 * through a second cJSON tree: one per file. */
static char *
scan_line(const char *path, struct stat *st, const char *json, bool with_rules,
	  bool *sensitive, bool *error)
{
	/* strictly, as the agent reads it (worker.c): the helper is untrusted */
	cJSON *r = NULL;
	struct lw_json_error je;
	if (lw_json_parse(json, strlen(json), LW_JSON_BYTES, &r, &je) < 0 || !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, WIRE_KEY_ERROR, "classify: the helper's answer is malformed");
	}
	struct wire_buf b = {0};
	wire_buf_put(&b, "{\"" WIRE_KEY_PATH "\":", sizeof(WIRE_KEY_PATH) + 3);
	wire_buf_json_string(&b, path, strlen(path));
	put_member(&b, WIRE_KEY_SHA256, string_member(r, WIRE_KEY_SHA256), "null");
	char num[32];
	snprintf(num, sizeof(num), "%lld", st ? (long long)st->st_size : 0LL);
	put_member(&b, WIRE_KEY_SIZE, NULL, num);
	put_member(&b, WIRE_KEY_TYPE, string_member(r, WIRE_KEY_TYPE), "\"unknown\"");
	put_member(&b, WIRE_KEY_CLASSIFICATION, cJSON_GetObjectItem(r, WIRE_KEY_CLASSIFICATION),
		   "null");
	put_member(&b, WIRE_KEY_PII, cJSON_GetObjectItem(r, WIRE_KEY_PII), "[]");
	put_member(&b, WIRE_KEY_MATCHES, cJSON_GetObjectItem(r, WIRE_KEY_MATCHES), "[]");
	if (with_rules) {
		put_member(&b, WIRE_KEY_RULES, cJSON_GetObjectItem(r, WIRE_KEY_RULES), "[]");
	}
	const cJSON *err = string_member(r, WIRE_KEY_ERROR);
	put_member(&b, WIRE_KEY_ERROR, err, "null");
	wire_buf_put(&b, "}", 1);
	*sensitive = result_is_sensitive(r, with_rules);
	*error = err != NULL;
	cJSON_Delete(r);
	return b.data;
}

static const char *
str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* One line per file for a person: every value escaped (cli_escape), since
 * markings, member names and errors come from the files themselves. */
static void
print_human(const char *line)
{
	cJSON *o = NULL;
	struct lw_json_error je;
	if (lw_json_parse(line, strlen(line), LW_JSON_BYTES, &o, &je) < 0) {
		printf("(unreadable result)\n");
		return;
	}
	AUTOFREE char *p = cli_escape(str_of(o, WIRE_KEY_PATH), "?");
	printf("%s: ", p);
	bool any = false;
	const cJSON *cl = cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_CLASSIFICATION);
	if (cJSON_IsObject(cl)) {
		AUTOFREE char *scheme = cli_escape(str_of(cl, WIRE_KEY_SCHEME), "?");
		AUTOFREE char *level = cli_escape(str_of(cl, WIRE_KEY_LEVEL), "?");
		AUTOFREE char *marking = cli_escape(str_of(cl, WIRE_KEY_MARKING), "?");
		printf("%s %s (\"%s\")", scheme, level, marking);
		any = true;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_PII))
	{
		long long count = 0;
		wire_json_int(cJSON_GetObjectItemCaseSensitive(it, WIRE_KEY_COUNT), 0, LLONG_MAX,
			      &count);
		AUTOFREE char *type = cli_escape(str_of(it, WIRE_KEY_PII_TYPE), "?");
		printf("%s%s x%lld", any ? "; " : "", type, count);
		any = true;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_MATCHES))
	{
		AUTOFREE char *id = cli_escape(str_of(it, WIRE_KEY_MATCH_ID), "?");
		AUTOFREE char *kind = cli_escape(str_of(it, WIRE_KEY_MATCH_KIND), "?");
		printf("%smatches %s (%s, %.0f%%)", any ? "; " : "", id, kind,
		       cJSON_GetNumberValue(
			       cJSON_GetObjectItemCaseSensitive(it, WIRE_KEY_COVERAGE_SHARE)) *
			       100);
		any = true;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, WIRE_KEY_RULES))
	{
		AUTOFREE char *d = cli_escape(cJSON_GetStringValue(it), "?");
		printf("%sdetector %s", any ? "; " : "", d);
		any = true;
	}
	AUTOFREE char *err = cli_escape(str_of(o, WIRE_KEY_ERROR), NULL);
	printf("%s%s%s\n", any ? "" : "nothing sensitive", err ? "; error: " : "", err ? err : "");
	cJSON_Delete(o);
}

/* A file handed to the helper and not yet reported. */
struct scan_slot {
	const char *path;
	int fd;
	struct stat st;
};

/* The directory a scan thread opens files in: files come in the walk's
 * order, so opening each relative to its directory, kept open while the
 * files are from it, spares the kernel a walk of the whole path per file
 * (__d_lookup_rcu alone was 2 % of a scan's samples on the mixed tree). */
struct dir_cache {
	unsigned dir; /* 0: none open */
	int fd;
};

static int
open_file(struct dir_cache *dc, const struct scan_file *f)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	if (f->dir && f->dir != dc->dir) {
		if (dc->dir) {
			close(dc->fd);
			dc->dir = 0;
		}
		char dpath[PATH_MAX];
		if (f->name_off < sizeof(dpath)) {
			memcpy(dpath, f->path, f->name_off);
			dpath[f->name_off] = '\0';
			dc->fd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			dc->dir = dc->fd >= 0 ? f->dir : 0;
		}
	}
	if (f->dir && f->dir == dc->dir) {
		return openat(dc->fd, f->path + f->name_off, flags);
	}
	return open(f->path, flags); /* named on the command line, or a long path */
}

static void
report(struct scan_ctx *s, const char *path, struct stat *st, const char *json)
{
	bool sensitive = false, error = false;
	AUTOFREE char *line = scan_line(path, st, json, s->with_rules, &sensitive, &error);
	if (sensitive) {
		atomic_store(&s->sensitive, 1);
	}
	if (error) {
		atomic_fetch_add(&s->errors, 1);
	}
	pthread_mutex_lock(&s->out);
	if (s->c->json) {
		puts(line);
	} else {
		print_human(line);
	}
	pthread_mutex_unlock(&s->out);
}

static void
report_open_error(struct scan_ctx *s, const char *path, int e)
{
	cJSON *o = cJSON_CreateObject();
	char msg[160];
	snprintf(msg, sizeof(msg), "open: %s", strerror(e));
	cJSON_AddStringToObject(o, WIRE_KEY_ERROR, msg);
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	report(s, path, NULL, t);
	cJSON_free(t);
}

/* Keeps its helper's window full: the helper works through queued files
 * without waiting for this thread, and this thread wakes once per result
 * instead of twice per file on both sides. */
static void *
scan_thread(void *arg)
{
	struct scan_ctx *s = arg;
	struct helper *h = helper_new(&s->hopts);
	struct scan_slot slots[HELPER_WINDOW];
	struct scan_slot *free_slots[HELPER_WINDOW];
	size_t nfree = 0;
	for (size_t i = 0; i < HELPER_WINDOW; i++) {
		free_slots[nfree++] = &slots[i];
	}
	bool more = true;
	struct dir_cache dc = {0};
	for (;;) {
		while (more && nfree > 0) {
			struct scan_file f;
			/* wait for the walk only with nothing else to do */
			int got = list_take(&s->files, helper_pending(h) == 0, &f);
			if (got <= 0) {
				more = got == 0;
				break;
			}
			struct scan_slot *sl = free_slots[nfree - 1];
			sl->path = f.path;
			sl->fd = open_file(&dc, &f);
			if (sl->fd < 0 || fstat(sl->fd, &sl->st) < 0 || !S_ISREG(sl->st.st_mode)) {
				int e = sl->fd < 0 ? errno : EINVAL;
				if (sl->fd >= 0) {
					close(sl->fd);
				}
				report_open_error(s, sl->path, e);
				continue;
			}
			nfree--;
			helper_submit(h, sl->fd, sl->path, NULL, (int64_t)sl->st.st_size, sl);
		}
		if (helper_pending(h) == 0) {
			break;
		}
		/* every answer already here, then refill: the new files go
		 * to the helper in one write */
		do {
			void *tag = NULL;
			char *json = NULL;
			helper_collect(h, &tag, &json);
			struct scan_slot *sl = tag;
			report(s, sl->path, &sl->st, json);
			close(sl->fd);
			free(json);
			free_slots[nfree++] = sl;
		} while (helper_ready(h));
	}
	if (dc.dir) {
		close(dc.fd);
	}
	helper_free(h);
	return NULL;
}

/* The database holding registered documents: -d, or the agent's if its
 * configuration can be read and the database exists. NULL: none. */
static const char *
fingerprint_db(struct cli *c)
{
	const char *db = cli_db_path(c, true);
	return db && (c->db || access(db, R_OK) == 0) ? db : NULL;
}

int
cli_scan(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"jobs", required_argument, NULL, 'J'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"memory-mb", required_argument, NULL, 'm'},
		{"policy", required_argument, NULL, 'p'},
		{0},
	};
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	struct classify_limits lim;
	classify_limits_default(&lim);
	const char *policy_file = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			c->json = true;
			break;
		case 'J':
			jobs = strtol(optarg, NULL, 10);
			break;
		case 't':
		case 'm': {
			/* the agent's classify.timeout_ms and memory_mb, with
			 * their ranges (common/classify-limits.c) */
			const char *flag = o == 't' ? "timeout-ms" : "memory-mb";
			if (classify_limits_set_flag(&lim, flag, optarg) < 0) {
				enum classify_limit i =
					o == 't' ? CLASSIFY_TIMEOUT_MS : CLASSIFY_MEMORY_MB;
				fprintf(stderr, "leakwatch: scan: --%s: %s: a whole number"
						" from %d to %d\n", flag, optarg,
					classify_limit_defs[i].min, classify_limit_defs[i].max);
				return 2;
			}
			break;
		}
		case 'p':
			policy_file = optarg;
			break;
		default:
			fprintf(stderr, "usage: leakwatch [-d DB] scan [--json] [--jobs N]"
					" [--timeout-ms N] [--memory-mb N] [--policy FILE] PATH...\n");
			return 2;
		}
	}
	if (optind >= argc || jobs < 1 || jobs > 256) {
		fprintf(stderr, "usage: leakwatch [-d DB] scan [--json] [--jobs N]"
				" [--timeout-ms N] [--memory-mb N] [--policy FILE] PATH...\n");
		return 2;
	}
	struct scan_ctx s = {.c = c};
	AUTOFREE char *detectors = NULL;
	if (policy_file) {
		struct cfg_ctx ctx = {.file = policy_file};
		struct policy *p = NULL;
		int r = policy_load(policy_file, &ctx, &p);
		if (r < 0) {
			fprintf(stderr, "leakwatch: %s\n", ctx.err[0] ? ctx.err : strerror(-r));
			return 2;
		}
		detectors = lw_strdup(policy_detectors_json(p));
		policy_free(p);
		s.with_rules = true;
	}
	pthread_mutex_init(&s.out, NULL);
	pthread_mutex_init(&s.files.lock, NULL);
	pthread_cond_init(&s.files.more, NULL);
	s.hopts = (struct helper_opts){.db_path = fingerprint_db(c), .lim = lim,
				       .detectors_json = detectors};
	/* The threads start first and take files as the walk finds them;
	 * a helper starts only when its thread has a file. Files come in
	 * the walk's order (lines are printed as results arrive anyway). */
	pthread_t *t = lw_new(pthread_t, (size_t)jobs);
	for (long i = 0; i < jobs; i++) {
		pthread_create(&t[i], NULL, scan_thread, &s);
	}
	int status = 0;
	for (int i = optind; i < argc; i++) {
		int r = collect(argv[i], &s.files, true);
		if (r < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", argv[i],
				r == -EINVAL ? "not a regular file or directory" : strerror(-r));
			status = 2;
		}
	}
	list_walked(&s.files);
	for (long i = 0; i < jobs; i++) {
		pthread_join(t[i], NULL);
	}
	free(t);
	for (size_t i = 0; i < s.files.n; i++) {
		free(s.files.files[i].path);
	}
	free(s.files.files);
	pthread_cond_destroy(&s.files.more);
	pthread_mutex_destroy(&s.files.lock);
	pthread_mutex_destroy(&s.out);
	/* like grep: an error wins over a finding, a finding over nothing */
	if (status || atomic_load(&s.errors)) {
		return 2;
	}
	return atomic_load(&s.sensitive) ? 1 : 0;
}
