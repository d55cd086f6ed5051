/* extract-probe.c — development tool: extract real files with
 * extract_buffer() (policy/extract), classify every document with
 * classify_document(), fold members into their container with
 * classify_merge(), and print one JSON line per file in the shape of
 * `leakwatch scan --json` (doc/design.md), for ../shared/corpus/evaluate.
 *
 *   extract-probe [-d] [-t MS] [--bench N] FILE...
 *
 *   -d        dump every document's segments to stderr (kind, name, text)
 *   -t MS     deadline per file in milliseconds (default 10000)
 *   --bench N extract (no classify) each file N times and print files/s and
 *             MB/s on stderr
 *
 * "matches" is always [] (the registered-document matcher is not wired
 * here). Exit status: 0 nothing sensitive, 1 something sensitive, 2 an
 * error. JSON keys are spelled here, not in common/wire.h: this is a test
 * tool that must not depend on the agent's in-progress wire module. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "classify.h"
#include "probe-util.h"
#include "extract.h"
#include "mem.h"
#include "text.h"

static bool dump;



static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct acc {
	struct classify_result res;
	bool any;
};

static int
on_doc(void *ctx, const char *path, const char *type,
       const struct text_doc *doc)
{
	struct acc *a = ctx;
	if (dump) {
		fprintf(stderr, "== member \"%s\" type %s, %zu segments\n", path,
			type, text_doc_count(doc));
		for (size_t i = 0; i < text_doc_count(doc); i++) {
			const struct text_segment *s = text_doc_segment(doc, i);
			fprintf(stderr, "-- %s%s%s (%zu bytes)\n%.*s\n",
				text_kind_name(s->kind), *s->name ? " " : "",
				s->name, s->len, (int)s->len, s->text);
		}
	}
	struct classify_result r;
	classify_document(doc, NULL, &r);
	if (!a->any) {
		a->res = r;
		a->any = true;
	} else {
		classify_merge(&a->res, &r);
	}
	return 0;
}

static int
count_doc(void *ctx, const char *path, const char *type,
	  const struct text_doc *doc)
{
	*(size_t *)ctx += text_doc_bytes(doc);
	return 0;
}

int
main(int argc, char **argv)
{
	long bench = 0, timeout_ms = 10000;
	/* libarchive converts zip DOS times with mktime(), and glibc stats
	 * /etc/localtime on every call unless TZ is set (10 stats per docx);
	 * the classify helper should do the same (policy/extract/README.md). */
	setenv("TZ", "UTC", 0);
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-d")) {
			dump = true;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			timeout_ms = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
			bench = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			break;
		}
	}
	int status = 0;
	double t_total = 0;
	size_t bytes_total = 0, files = 0, text_total = 0;
	for (; i < argc; i++) {
		const char *path = argv[i];
		AUTOFREE char *buf = NULL;
		size_t len = 0;
		int r = probe_read_all(path, &buf, &len);
		if (bench > 0) {
			if (r < 0) {
				continue;
			}
			int64_t t0 = now_ns();
			for (long k = 0; k < bench; k++) {
				struct extract_result er;
				extract_buffer(buf, len, path, NULL, count_doc,
					       &text_total, &er);
			}
			t_total += (double)(now_ns() - t0) / 1e9;
			bytes_total += len * (size_t)bench;
			files += (size_t)bench;
			continue;
		}
		printf("{\"path\": ");
		probe_json_str(stdout, path, strlen(path));
		if (r < 0) {
			printf(", \"sha256\": null, \"size\": null, \"type\": null, "
			       "\"classification\": null, \"pii\": [], \"matches\": [], "
			       "\"error\": ");
			const char *e = strerror(-r);
			probe_json_str(stdout, e, strlen(e));
			printf("}\n");
			status = 2;
			continue;
		}
		unsigned char md[32];
		unsigned mdlen = 0;
		EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
		printf(", \"sha256\": \"");
		for (unsigned k = 0; k < mdlen; k++) {
			printf("%02x", md[k]);
		}
		struct extract_limits lim = { 0 };
		extract_limits_default(&lim);
		lim.deadline_ns = now_ns() + (int64_t)timeout_ms * 1000000;
		struct acc a = { 0 };
		struct extract_result er;
		extract_buffer(buf, len, path, &lim, on_doc, &a, &er);
		printf("\", \"size\": %zu, \"type\": \"%s\"", len, er.type);
		struct classify_result *res = &a.res;
		printf(", \"classification\": ");
		if (!a.any || res->marking.scheme == MARKING_SCHEME_NONE) {
			printf("null");
		} else {
			printf("{\"scheme\": \"%s\", \"level\": \"%s\", \"marking\": ",
			       marking_scheme_name(res->marking.scheme),
			       marking_level_name(res->marking.level));
			probe_json_str(stdout, res->marking.found, strlen(res->marking.found));
			printf(", \"source\": \"%s\"}",
			       marking_source_name(res->marking.source));
		}
		printf(", \"pii\": [");
		bool first = true;
		for (size_t t = 0; a.any && t < PII_TYPE_COUNT; t++) {
			if (!res->pii.count[t]) {
				continue;
			}
			printf("%s{\"type\": \"%s\", \"count\": %u}", first ? "" : ", ",
			       pii_type_name((enum pii_type)t), res->pii.count[t]);
			first = false;
		}
		printf("], \"matches\": [], \"members\": %u, \"error\": ", er.members);
		if (er.stop != EXTRACT_STOP_NONE) {
			probe_json_str(stdout, er.error, strlen(er.error));
		} else {
			printf("null");
		}
		printf("}\n");
		fflush(stdout);
		if (a.any && classify_is_sensitive(res) && status == 0) {
			status = 1;
		}
	}
	if (bench > 0 && t_total > 0) {
		fprintf(stderr,
			"extract-probe: %zu extractions, %.1f MB in, %.1f MB text, "
			"%.3f s: %.0f files/s, %.1f MB/s (extract only, one core)\n",
			files, (double)bytes_total / 1e6, (double)text_total / 1e6,
			t_total, (double)files / t_total,
			(double)bytes_total / 1e6 / t_total);
	}
	return status;
}
