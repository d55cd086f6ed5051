/* cli-inventory.c — `leakwatch status`, `files` and `find`: read-only views
 * of the inventory that work while the agent runs (WAL readers). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "clock.h"
#include "hash.h"
#include "mem.h"
#include "wire.h"

/* Sub-options shared by the inventory commands; --json is accepted after
 * the command too. */
struct sub_opts {
	const char *under;
	const char *label;
	bool all;
};

static int
parse_sub(struct cli *c, int argc, char **argv, bool allow_filters, struct sub_opts *o)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"under", required_argument, NULL, 'u'},
		{"all", no_argument, NULL, 'a'},
		{"label", required_argument, NULL, 'l'},
		{0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c->json = true;
			break;
		case 'u':
		case 'a':
		case 'l':
			if (!allow_filters) {
				fprintf(stderr, "leakwatch: %s: unexpected option\n", argv[0]);
				return -EINVAL;
			}
			if (opt == 'u') {
				o->under = optarg;
			} else if (opt == 'l') {
				o->label = optarg;
			} else {
				o->all = true;
			}
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void
json_add_time(cJSON *o, const char *key, long long ns)
{
	char num[48];
	snprintf(num, sizeof(num), "%lld.%09lld", ns / 1000000000, ns % 1000000000);
	cJSON_AddRawToObject(o, key, num);
}

static void
print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s) {
		puts(s);
		cJSON_free(s);
	}
	cJSON_Delete(o);
}

/* --- status ----------------------------------------------------------- */

static bool
pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int
cli_status(struct cli *c, int argc, char **argv)
{
	struct sub_opts so = {0};
	if (parse_sub(c, argc, argv, false, &so) < 0 || optind != argc) {
		fprintf(stderr, "usage: leakwatch status [--json]\n");
		return 2;
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	int pid = 0;
	int64_t updated = 0, files = 0, errors = 0, last_full = 0;
	AUTOFREE char *json = NULL;
	int have = store_status_get(st, &pid, &updated, &json);
	int r = store_counts(st, &files, &errors);
	int hf = store_meta_get(st, "last_full_scan", &last_full);
	store_close(st);
	if (have < 0 || r < 0) {
		fprintf(stderr, "leakwatch: cannot read the inventory\n");
		return 2;
	}
	cJSON *o = have == 1 ? cJSON_Parse(json) : cJSON_CreateObject();
	if (!o) {
		o = cJSON_CreateObject();
	}
	cJSON *runflag = cJSON_GetObjectItem(o, WIRE_KEY_RUNNING);
	bool running = cJSON_IsTrue(runflag) && pid_alive(pid) &&
		       clock_wall_ns() - updated < 30ll * 1000000000;
	cJSON_DeleteItemFromObject(o, WIRE_KEY_RUNNING);
	cJSON_AddBoolToObject(o, WIRE_KEY_RUNNING, running);
	json_add_time(o, WIRE_KEY_UPDATED, updated);
	cJSON_AddNumberToObject(o, WIRE_KEY_FILES, (double)files);
	cJSON_AddNumberToObject(o, WIRE_KEY_ERRORS, (double)errors);
	if (hf == 1) {
		json_add_time(o, WIRE_KEY_LAST_FULL_SCAN, last_full);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_LAST_FULL_SCAN);
	}
	if (c->json) {
		print_json(o);
		return 0;
	}
	char t[64];
	printf("agent:          %s", running ? "running" : "not running");
	if (pid) {
		printf(" (pid %d)", pid);
	}
	cli_format_time(updated, t, sizeof(t));
	printf(", status of %s\n", updated ? t : "never");
	printf("roots:         ");
	cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, WIRE_KEY_ROOTS))
	{
		AUTOFREE char *root = cli_escape(cJSON_GetStringValue(it), "?");
		printf(" %s", root);
	}
	printf("\n");
	double w = cJSON_GetNumberValue(cJSON_GetObjectItem(o, WIRE_KEY_WATCHES));
	double uw = cJSON_GetNumberValue(cJSON_GetObjectItem(o, WIRE_KEY_UNWATCHED_DIRS));
	double cov = cJSON_GetNumberValue(cJSON_GetObjectItem(o, WIRE_KEY_COVERAGE));
	if (w != w) { /* NaN: no status yet */
		w = uw = 0;
		cov = 0;
	}
	printf("watches:        %.0f directories watched, %.0f covered by rescans only"
	       " (coverage %.1f%%)%s\n",
	       w, uw, cov * 100,
	       cJSON_IsTrue(cJSON_GetObjectItem(o, "watch_limit_hit"))
		       ? "; inotify watch limit reached"
		       : "");
	printf("files:          %lld in the inventory, %lld with errors\n",
	       (long long)files, (long long)errors);
	double pend = cJSON_GetNumberValue(cJSON_GetObjectItem(o, WIRE_KEY_PENDING));
	printf("pending:        %.0f%s\n", pend == pend ? pend : 0,
	       cJSON_IsTrue(cJSON_GetObjectItem(o, WIRE_KEY_SCANNING)) ? " (scanning)" : "");
	if (hf == 1) {
		cli_format_time(last_full, t, sizeof(t));
	}
	printf("last full scan: %s\n", hf == 1 ? t : "never");
	double ov = cJSON_GetNumberValue(cJSON_GetObjectItem(o, WIRE_KEY_OVERFLOWS));
	printf("overflows:      %.0f\n", ov == ov ? ov : 0);
	cJSON_Delete(o);
	return 0;
}

/* --- files and find --------------------------------------------------- */

/* The classification findings, as `leakwatch scan` reports them:
 * classification, pii, matches; the classifier's own error, if any, as
 * classify_error (error is the inventory's read error). */
static void
add_findings(cJSON *o, const char *findings)
{
	cJSON *f = findings ? cJSON_Parse(findings) : NULL;
	static const char *const keys[] = {WIRE_KEY_CLASSIFICATION, WIRE_KEY_PII,
					   WIRE_KEY_MATCHES};
	for (size_t i = 0; i < LW_ARRAY_SIZE(keys); i++) {
		cJSON *v = f ? cJSON_DetachItemFromObject(f, keys[i]) : NULL;
		if (!v) {
			v = i == 0 ? cJSON_CreateNull() : cJSON_CreateArray();
		}
		cJSON_AddItemToObject(o, keys[i], v);
	}
	const char *err = f ? cJSON_GetStringValue(cJSON_GetObjectItem(f, WIRE_KEY_ERROR)) : NULL;
	if (err) {
		cJSON_AddStringToObject(o, "classify_error", err);
	}
	cJSON_Delete(f);
}

/* "NATO SECRET"-style short label for the plain listing, "-" if none. */
static const char *
level_of(const char *findings)
{
	static char buf[64];
	cJSON *f = findings ? cJSON_Parse(findings) : NULL;
	const cJSON *cl = cJSON_GetObjectItem(f, WIRE_KEY_CLASSIFICATION);
	const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(f, WIRE_KEY_MATCHES), 0);
	const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(f, WIRE_KEY_PII), 0);
	if (cJSON_IsObject(cl)) {
		snprintf(buf, sizeof(buf), "%s %s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(cl, WIRE_KEY_SCHEME)),
			 cJSON_GetStringValue(cJSON_GetObjectItem(cl, WIRE_KEY_LEVEL)));
	} else if (m) {
		snprintf(buf, sizeof(buf), "~%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(m, WIRE_KEY_MATCH_ID)));
	} else if (p) {
		snprintf(buf, sizeof(buf), "pii:%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(p, WIRE_KEY_PII_TYPE)));
	} else {
		snprintf(buf, sizeof(buf), "-");
	}
	cJSON_Delete(f);
	return buf;
}

struct list_ctx {
	struct cli *c;
	long long count;
};

static int
print_row(const struct store_row *row, void *ctx)
{
	struct list_ctx *l = ctx;
	const struct file_rec *rec = &row->rec;
	char hex[LW_SHA256_HEX_LEN + 1] = "-";
	if (rec->has_sha) {
		lw_hex(rec->sha256, LW_SHA256_LEN, hex);
	}
	const char *type = rec->kind == FILE_KIND_REGULAR ? (rec->type[0] ? rec->type : "-")
							  : file_kind_name(rec->kind);
	l->count++;
	if (l->c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes(row->path, row->path_len));
		if (rec->has_sha) {
			cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
		} else {
			cJSON_AddNullToObject(o, WIRE_KEY_SHA256);
		}
		cJSON_AddNumberToObject(o, WIRE_KEY_SIZE, (double)rec->size);
		json_add_time(o, WIRE_KEY_MTIME, rec->mtime_ns);
		json_add_time(o, WIRE_KEY_CTIME, rec->ctime_ns);
		cJSON_AddStringToObject(o, WIRE_KEY_TYPE, type);
		cJSON_AddStringToObject(o, WIRE_KEY_KIND, file_kind_name(rec->kind));
		cJSON_AddNumberToObject(o, WIRE_KEY_MODE, rec->mode & 07777);
		cJSON_AddNumberToObject(o, WIRE_KEY_UID, rec->uid);
		cJSON_AddNumberToObject(o, WIRE_KEY_GID, rec->gid);
		cJSON_AddNumberToObject(o, WIRE_KEY_DEV, (double)rec->dev);
		cJSON_AddNumberToObject(o, WIRE_KEY_INO, (double)rec->ino);
		if (rec->link_target) {
			cJSON_AddItemToObject(o, WIRE_KEY_LINK_TARGET,
					      wire_json_bytes(rec->link_target, rec->link_len));
		}
		if (rec->error) {
			cJSON_AddStringToObject(o, WIRE_KEY_ERROR, rec->error);
		} else {
			cJSON_AddNullToObject(o, WIRE_KEY_ERROR);
		}
		json_add_time(o, WIRE_KEY_FIRST_SEEN, row->first_seen);
		json_add_time(o, WIRE_KEY_LAST_CHANGE, row->updated);
		if (row->moved_from) {
			cJSON_AddItemToObject(o, WIRE_KEY_MOVED_FROM,
					      wire_json_bytes(row->moved_from, row->moved_from_len));
		}
		if (row->deleted_at) {
			json_add_time(o, WIRE_KEY_DELETED_AT, row->deleted_at);
			/* why it left: null (deleted) or "unmounted" (the medium) */
			if (row->gone) {
				cJSON_AddStringToObject(o, WIRE_KEY_GONE, row->gone);
			} else {
				cJSON_AddNullToObject(o, WIRE_KEY_GONE);
			}
		} else {
			cJSON_AddNullToObject(o, WIRE_KEY_DELETED_AT);
		}
		add_findings(o, rec->findings);
		print_json(o);
		return 0;
	}
	AUTOFREE char *level = cli_escape(level_of(rec->findings), "-");
	printf("%s  %12lld  %-8s  %-13s  ", hex, (long long)rec->size, type, level);
	cli_print_path(row->path, row->path_len);
	if (rec->kind == FILE_KIND_SYMLINK && rec->link_target) {
		printf(" -> ");
		cli_print_path(rec->link_target, rec->link_len);
	}
	if (row->deleted_at) {
		char t[64];
		cli_format_time(row->deleted_at, t, sizeof(t));
		printf("  (%s %s)", row->gone ? row->gone : "deleted", t);
	}
	if (rec->error) {
		/* errors quote member names from archives: file content */
		AUTOFREE char *e = cli_escape(rec->error, "");
		printf("  (error: %s)", e);
	}
	printf("\n");
	return 0;
}

int
cli_files(struct cli *c, int argc, char **argv)
{
	struct sub_opts so = {0};
	if (parse_sub(c, argc, argv, true, &so) < 0 || optind != argc) {
		fprintf(stderr, "usage: leakwatch files [--under PATH] [--all] [--label LEVEL]"
				" [--json]\n");
		return 2;
	}
	int min_rank = 0;
	if (so.label) {
		min_rank = store_rank_of(so.label);
		if (min_rank <= 0) {
			fprintf(stderr, "leakwatch: --label: %s: not one of UNCLASSIFIED, RESTRICTED,"
					" CONFIDENTIAL, SECRET, TOP SECRET\n",
				so.label);
			return 2;
		}
	}
	char real[PATH_MAX];
	const char *under = NULL;
	size_t ulen = 0;
	if (so.under) {
		under = realpath(so.under, real) ? real : so.under;
		ulen = strlen(under);
		while (ulen > 1 && under[ulen - 1] == '/') {
			ulen--;
		}
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	struct list_ctx l = {.c = c};
	int r = store_foreach(st, under, ulen, so.all, min_rank, print_row, &l);
	store_close(st);
	return r < 0 ? 2 : 0;
}

int
cli_find(struct cli *c, int argc, char **argv)
{
	struct sub_opts so = {0};
	if (parse_sub(c, argc, argv, false, &so) < 0 || optind + 1 != argc) {
		fprintf(stderr, "usage: leakwatch find FILE|SHA256 [--json]\n");
		return 2;
	}
	const char *arg = argv[optind];
	uint8_t sha[LW_SHA256_LEN];
	struct stat sb;
	if (stat(arg, &sb) != 0 && lw_unhex_sha256(arg, sha) == 0) {
		/* a digest, not a file */
	} else {
		int fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", arg, strerror(errno));
			return 2;
		}
		struct lw_sha256 *h = lw_sha256_new();
		AUTOFREE void *buf = lw_malloc(1 << 18);
		long long n = lw_sha256_fd(h, fd, buf, 1 << 18, sha);
		lw_sha256_free(h);
		close(fd);
		if (n < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", arg, strerror((int)-n));
			return 2;
		}
	}
	struct store *st = NULL;
	if (cli_open_store(c, &st) < 0) {
		return 2;
	}
	struct list_ctx l = {.c = c};
	int r = store_foreach_sha(st, sha, print_row, &l);
	store_close(st);
	if (r < 0) {
		return 2;
	}
	return l.count > 0 ? 0 : 1;
}
