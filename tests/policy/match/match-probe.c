/* match-probe.c — development tool: register the corpus's registered
 * documents, then classify plain-text files with registered-document
 * matching and print one JSON line per file in the shape of
 * `leakwatch scan --json` (doc/design.md), for ../shared/corpus/evaluate.
 *
 *   match-probe -r MANIFEST [-b BENIGN]... [-v] [--bench N] FILE...
 *
 * -r MANIFEST   register the "registered" entries of a corpus manifest
 *               (paths relative to the manifest's folder; plain text)
 * -b FILE       add FILE's fingerprints to the benign corpus
 * -v            print per-file fingerprint and match counts on stderr
 * --bench N     after registering, time N queries of each file (stderr)
 *
 * Registration goes through the storage path the agent will use: SHA-256 of
 * the bytes, text_doc_add_bytes(), winnow_doc(), winnow_set_hashes(), then
 * winnow_pack()/winnow_unpack() as if through a SQLite BLOB, fpindex_add().
 * Scanned files are read whole and decoded as plain text into one BODY
 * segment; there is no format extraction here.
 * Exit status: 0 nothing sensitive, 1 something sensitive, 2 an error.
 *
 * JSON keys are spelled here, not in common/wire.h: this is a test tool. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "classify.h"
#include "probe-util.h"
#include "fpindex.h"
#include "match.h"
#include "mem.h"
#include "text.h"
#include "winnow.h"



static void
sha256(const void *buf, size_t len, unsigned char md[32])
{
	unsigned mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
}

/* Fingerprints a plain-text file's bytes as the registration path does:
 * returns the count of distinct hashes in *out (caller frees). */
static int
fingerprint_bytes(const struct winnow_params *wp, const char *buf, size_t len,
		  uint64_t **out, size_t *n)
{
	struct text_doc *doc = text_doc_new(0);
	int r = text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL, buf, len, NULL);
	if (r < 0 && r != -E2BIG) {
		text_doc_free(doc);
		return r;
	}
	struct winnow_set set;
	r = winnow_doc(doc, wp, &set);
	text_doc_free(doc);
	if (r < 0) {
		return r;
	}
	AUTOFREE uint64_t *h = NULL;
	size_t m = winnow_set_hashes(&set, &h);
	winnow_set_fini(&set);
	/* through the storage format and back */
	AUTOFREE unsigned char *blob = NULL;
	size_t blen = 0;
	winnow_pack(h, m, &blob, &blen);
	return winnow_unpack(blob, blen, out, n);
}

static int
register_manifest(struct fpindex *idx, const char *manifest)
{
	AUTOFREE char *buf = NULL;
	size_t len = 0;
	int r = probe_read_all(manifest, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "match-probe: %s: %s\n", manifest, strerror(-r));
		return r;
	}
	cJSON *root = cJSON_ParseWithLength(buf, len);
	if (!root) {
		fprintf(stderr, "match-probe: %s: not JSON\n", manifest);
		return -EPROTO;
	}
	AUTOFREE char *dir = lw_strdup(manifest);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
	} else {
		free(dir);
		dir = lw_strdup(".");
	}
	const cJSON *regs = cJSON_GetObjectItemCaseSensitive(root, "registered");
	const cJSON *e;
	r = 0;
	cJSON_ArrayForEach(e, regs)
	{
		const char *id = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "id"));
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "path"));
		const char *label = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "label"));
		if (!id || !path) {
			r = -EPROTO;
			break;
		}
		AUTOFREE char *full = lw_asprintf("%s/%s", dir, path);
		AUTOFREE char *fb = NULL;
		size_t fl = 0;
		if ((r = probe_read_all(full, &fb, &fl)) < 0) {
			fprintf(stderr, "match-probe: %s: %s\n", full, strerror(-r));
			break;
		}
		unsigned char md[32];
		sha256(fb, fl, md);
		AUTOFREE uint64_t *h = NULL;
		size_t n = 0;
		if ((r = fingerprint_bytes(fpindex_winnow_params(idx), fb, fl, &h,
					   &n)) < 0 ||
		    (r = fpindex_add(idx, id, label, md, h, n)) < 0) {
			fprintf(stderr, "match-probe: %s: %s\n", full, strerror(-r));
			break;
		}
	}
	cJSON_Delete(root);
	return r;
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
	struct fpindex *idx;
	if (fpindex_new(NULL, &idx) < 0) {
		return 2;
	}
	bool verbose = false;
	long bench = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			if (register_manifest(idx, argv[++i]) < 0) {
				fpindex_free(idx);
				return 2;
			}
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			AUTOFREE char *fb = NULL;
			size_t fl = 0;
			AUTOFREE uint64_t *h = NULL;
			size_t n = 0;
			const char *p = argv[++i];
			if (probe_read_all(p, &fb, &fl) < 0 ||
			    fingerprint_bytes(fpindex_winnow_params(idx), fb, fl,
					      &h, &n) < 0) {
				fprintf(stderr, "match-probe: %s: unreadable\n", p);
				fpindex_free(idx);
				return 2;
			}
			fpindex_add_benign(idx, h, n);
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
			bench = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			break;
		}
	}
	fpindex_finalize(idx);
	if (verbose) {
		struct fpindex_stats st;
		fpindex_get_stats(idx, &st);
		fprintf(stderr,
			"match-probe: %zu documents, %zu fingerprints kept, "
			"%zu postings, %zu boilerplate (df >= %u), %zu benign\n",
			st.docs, st.distinct, st.postings, st.dropped_boiler,
			st.boiler_df, st.dropped_benign);
	}
	int status = 0;
	double t_q = 0;
	size_t nq = 0;
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
		sha256(buf, len, md);
		printf(", \"sha256\": \"");
		for (unsigned k = 0; k < 32; k++) {
			printf("%02x", md[k]);
		}
		printf("\", \"size\": %zu, \"type\": \"text\"", len);

		const char *err = NULL;
		struct text_doc *doc = text_doc_new(0);
		r = text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL, buf, len, NULL);
		if (r == -E2BIG) {
			err = "text limit reached: classified the first part only";
		}
		struct match_scan scan = {.index = idx, .sha256 = md};
		struct classify_matcher m;
		match_matcher_init(&m, &scan);
		struct classify_options opt = {.matcher = &m};
		struct classify_result res;
		r = classify_document(doc, &opt, &res);
		if (r < 0) {
			err = strerror(-r);
			status = 2;
		}
		if (verbose || bench > 0) {
			struct winnow_set set;
			winnow_doc(doc, fpindex_winnow_params(idx), &set);
			struct fpindex_match fm[CLASSIFY_MATCHES_MAX];
			double t0 = now();
			int q = 0;
			for (long k = 0; k < (bench > 0 ? bench : 1); k++) {
				q = fpindex_query(idx, NULL, set.fps, set.n, fm,
						  CLASSIFY_MATCHES_MAX);
			}
			t_q += now() - t0;
			nq += (size_t)(bench > 0 ? bench : 1);
			if (verbose) {
				fprintf(stderr, "%s: %zu chars %zu fps", path,
					set.chars, set.n);
				for (int k = 0; k < q && k < CLASSIFY_MATCHES_MAX;
				     k++) {
					fprintf(stderr, " %s=%u/%u/%u(%.3f)",
						fm[k].id, fm[k].matched,
						fm[k].hits, fm[k].total,
						fm[k].coverage);
				}
				fputc('\n', stderr);
			}
			winnow_set_fini(&set);
		}
		text_doc_free(doc);

		printf(", \"classification\": ");
		if (res.marking.scheme == MARKING_SCHEME_NONE) {
			printf("null");
		} else {
			printf("{\"scheme\": \"%s\", \"level\": \"%s\", \"marking\": ",
			       marking_scheme_name(res.marking.scheme),
			       marking_level_name(res.marking.level));
			probe_json_str(stdout, res.marking.found, strlen(res.marking.found));
			printf("}");
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
		printf("], \"matches\": [");
		for (size_t k = 0; k < res.n_matches; k++) {
			printf("%s{\"id\": ", k ? ", " : "");
			probe_json_str(stdout, res.matches[k].id, strlen(res.matches[k].id));
			printf(", \"kind\": \"%s\", \"coverage\": %.3f}",
			       classify_match_kind_name(res.matches[k].kind),
			       res.matches[k].coverage);
		}
		printf("], \"error\": ");
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
	if (bench > 0 && t_q > 0) {
		fprintf(stderr, "match-probe: %zu queries in %.3f s: %.0f queries/s\n",
			nq, t_q, (double)nq / t_q);
	}
	fpindex_free(idx);
	return status;
}
