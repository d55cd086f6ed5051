/* policy-probe.c — development tool: classify plain-text files with the
 * detection core and print one JSON line per file in the shape of
 * `leakwatch scan --json` (doc/design.md), for ../shared/corpus/evaluate.
 *
 *   policy-probe [-m MAX_BYTES] [--bench N] FILE...
 *
 * Every file is read whole and decoded as plain text (UTF-8, UTF-16,
 * Windows-1252) into one BODY segment; there is no format extraction here.
 * "type" is always "text" and "matches" always [] (no fingerprints yet).
 * --bench N classifies each file N times and prints throughput on stderr.
 *
 * A file that starts with the line "#lw-segments" is read as hand-made
 * segments instead, to try header/footer/metadata rules before extractors
 * exist: each line "@@ KIND [NAME]" (KIND: body, header, footer, property,
 * mail-header, aux) starts a segment holding the lines up to the next "@@".
 * Exit status: 0 nothing sensitive, 1 something sensitive, 2 an error.
 *
 * JSON keys are spelled here, not in common/wire.h, because this is a test
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
#include "mem.h"
#include "text.h"



static bool
kind_parse(const char *s, size_t n, enum text_kind *out)
{
	static const enum text_kind kinds[] = {
		TEXT_KIND_BODY, TEXT_KIND_HEADER, TEXT_KIND_FOOTER,
		TEXT_KIND_PROPERTY, TEXT_KIND_MAIL_HEADER, TEXT_KIND_AUX,
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(kinds); i++) {
		const char *nm = text_kind_name(kinds[i]);
		if (strlen(nm) == n && !memcmp(nm, s, n)) {
			*out = kinds[i];
			return true;
		}
	}
	return false;
}

/* "#lw-segments" input: see the header comment. */
static int
add_segments(struct text_doc *doc, const char *buf, size_t len)
{
	const char *p = memchr(buf, '\n', len);
	const char *end = buf + len;
	p = p ? p + 1 : end;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p < 3 || memcmp(p, "@@ ", 3) != 0) {
			return -EPROTO;
		}
		const char *k = p + 3, *ke = k;
		while (ke < le && *ke != ' ') {
			ke++;
		}
		enum text_kind kind;
		if (!kind_parse(k, (size_t)(ke - k), &kind)) {
			return -EPROTO;
		}
		AUTOFREE char *name = ke < le ? lw_strndup(ke + 1, (size_t)(le - ke - 1))
					      : NULL;
		const char *t = le < end ? le + 1 : end, *te = t;
		while (te < end && !(te + 3 <= end && !memcmp(te, "@@ ", 3) &&
				     (te == t || te[-1] == '\n'))) {
			const char *n2 = memchr(te, '\n', (size_t)(end - te));
			te = n2 ? n2 + 1 : end;
		}
		size_t tl = (size_t)(te - t);
		if (tl > 0 && t[tl - 1] == '\n') {
			tl--;
		}
		int r = text_doc_add(doc, kind, name, t, tl);
		if (r < 0 && r != -E2BIG) {
			return r;
		}
		p = te;
	}
	return 0;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	size_t max_bytes = 0;
	long bench = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc) {
			max_bytes = strtoull(argv[++i], NULL, 10);
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
	double t_classify = 0;
	size_t bytes_total = 0, files = 0;
	for (; i < argc; i++) {
		const char *path = argv[i];
		AUTOFREE char *buf = NULL;
		size_t len = 0;
		int r = probe_read_all(path, &buf, &len);
		printf("{\"path\": ");
		probe_json_str(stdout, path, strlen(path));
		if (r < 0) {
			printf(", \"sha256\": null, \"size\": null, \"type\": \"text\", "
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
		printf("\", \"size\": %zu, \"type\": \"text\"", len);

		struct classify_result res;
		const char *err = NULL;
		long reps = bench > 0 ? bench : 1;
		double t0 = now();
		for (long k = 0; k < reps; k++) {
			struct text_doc *doc = text_doc_new(max_bytes);
			if (len >= 13 && !memcmp(buf, "#lw-segments\n", 13)) {
				r = add_segments(doc, buf, len);
				if (r < 0) {
					err = "bad #lw-segments input";
				}
			} else {
				r = text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL,
						       buf, len, NULL);
			}
			if (r == -E2BIG) {
				err = "text limit reached: classified the first "
				      "part only";
			}
			classify_document(doc, NULL, &res);
			text_doc_free(doc);
		}
		t_classify += now() - t0;
		bytes_total += len * (size_t)reps;
		files += (size_t)reps;

		printf(", \"classification\": ");
		if (res.marking.scheme == MARKING_SCHEME_NONE) {
			printf("null");
		} else {
			printf("{\"scheme\": \"%s\", \"level\": \"%s\", \"marking\": ",
			       marking_scheme_name(res.marking.scheme),
			       marking_level_name(res.marking.level));
			probe_json_str(stdout, res.marking.found, strlen(res.marking.found));
			printf(", \"source\": \"%s\"}",
			       marking_source_name(res.marking.source));
		}
		printf(", \"pii\": [");
		bool first = true;
		for (size_t t = 0; t < PII_TYPE_COUNT; t++) {
			if (!res.pii.count[t]) {
				continue;
			}
			printf("%s{\"type\": \"%s\", \"count\": %u}", first ? "" : ", ",
			       pii_type_name((enum pii_type)t), res.pii.count[t]);
			first = false;
		}
		printf("], \"matches\": [], \"error\": ");
		if (err) {
			probe_json_str(stdout, err, strlen(err));
		} else {
			printf("null");
		}
		printf("}\n");
		if (classify_is_sensitive(&res) && status == 0) {
			status = 1;
		}
	}
	if (bench > 0 && t_classify > 0) {
		fprintf(stderr,
			"policy-probe: %zu classifications, %.1f MB, %.3f s: "
			"%.0f files/s, %.1f MB/s (decode + classify, one core)\n",
			files, (double)bytes_total / 1e6, t_classify,
			(double)files / t_classify,
			(double)bytes_total / 1e6 / t_classify);
	}
	return status;
}
