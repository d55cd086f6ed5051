/* match-bench.c — index build and lookup throughput, and the excerpt sweep
 * behind the default thresholds (fpindex.c).
 *
 *   match-bench [-n DOCS] [-w WORDS]
 *	registers DOCS synthetic documents (default 5,000) of WORDS words
 *	(default 2,500, about 5 pages) sharing one 300-word boilerplate
 *	paragraph, and reports fingerprinting MB/s, finalisation time, memory,
 *	raw fingerprint lookups/s and whole-document queries/s (an unrelated
 *	5-page document and one holding a 500-word excerpt).
 *
 *   match-bench --sweep REGISTERED... FILLER
 *	registers the REGISTERED plain-text files, pastes 200 random excerpts
 *	of 25 to 500 words (the last 400 words of each, where the corpus keeps
 *	its boilerplate, are avoided) into the middle of FILLER, and prints per
 *	length the in-run hits (min/mean/max) and the share detected with the
 *	default options.
 *
 * One thread; figures on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpindex.h"
#include "mem.h"
#include "prose.h"
#include "winnow.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		return NULL;
	}
	struct prose_buf b = {0};
	char tmp[65536];
	size_t r;
	while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		prose_put(&b, tmp, r);
	}
	fclose(f);
	*n = b.len;
	return b.s ? b.s : lw_strdup("");
}

static size_t
count_words(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t j = 0; j < len; j++) {
		bool sp = s[j] == ' ' || s[j] == '\n' || s[j] == '\t' ||
			  s[j] == '\r';
		bool prev = j == 0 || s[j - 1] == ' ' || s[j - 1] == '\n' ||
			    s[j - 1] == '\t' || s[j - 1] == '\r';
		w += !sp && prev;
	}
	return w;
}

static int
sweep(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: match-bench --sweep REGISTERED... FILLER\n");
		return 2;
	}
	int nd = argc - 1;
	struct fpindex_options o;
	fpindex_options_default(&o);
	/* report every document hit in runs, decide below */
	o.min_fps = 1;
	o.min_excerpt_fps = 1;
	o.min_coverage = 1.0;
	struct fpindex *idx;
	fpindex_new(&o, &idx);
	char **txt = lw_new(char *, (size_t)nd);
	size_t *len = lw_new(size_t, (size_t)nd);
	for (int i = 0; i < nd; i++) {
		txt[i] = slurp(argv[i], &len[i]);
		if (!txt[i]) {
			fprintf(stderr, "match-bench: %s: %s\n", argv[i],
				strerror(errno));
			return 2;
		}
		struct winnow_set s;
		winnow_text(txt[i], len[i], NULL, &s);
		AUTOFREE uint64_t *h = NULL;
		size_t m = winnow_set_hashes(&s, &h);
		char id[16];
		snprintf(id, sizeof(id), "d%d", i);
		fpindex_add(idx, id, NULL, NULL, h, m);
		size_t nc = s.chars, w = count_words(txt[i], len[i]);
		printf("%s: %zu words, %.2f normalised chars/word, %zu fps\n",
		       argv[i], w, w ? (double)nc / (double)w : 0.0, m);
		winnow_set_fini(&s);
	}
	fpindex_finalize(idx);
	size_t fl;
	AUTOFREE char *fill = slurp(argv[argc - 1], &fl);
	if (!fill) {
		return 2;
	}
	struct fpindex_options def;
	fpindex_options_default(&def);
	static const size_t sizes[] = {25, 50, 100, 150, 200, 250, 300, 400, 500};
	struct prose_rng rng = {1};
	for (size_t si = 0; si < LW_ARRAY_SIZE(sizes); si++) {
		size_t W = sizes[si];
		unsigned tot = 0, det = 0, mn = UINT32_MAX, mx = 0;
		double sum = 0;
		for (int t = 0; t < 200; t++) {
			int d = (int)prose_below(&rng, (unsigned)nd);
			size_t nw = count_words(txt[d], len[d]);
			if (nw < W + 450) {
				continue;
			}
			size_t st = prose_below(&rng, (unsigned)(nw - W - 400));
			size_t a = prose_word_offset(txt[d], len[d], st);
			size_t b = prose_word_offset(txt[d], len[d], st + W);
			struct prose_buf buf = {0};
			prose_put(&buf, fill, fl / 2);
			prose_puts(&buf, "\n");
			prose_put(&buf, txt[d] + a, b - a);
			prose_puts(&buf, "\n");
			prose_put(&buf, fill + fl / 2, fl - fl / 2);
			struct winnow_set s;
			winnow_text(buf.s, buf.len, NULL, &s);
			struct fpindex_match m[16];
			int q = fpindex_query(idx, NULL, s.fps, s.n, m, 16);
			char id[16];
			snprintf(id, sizeof(id), "d%d", d);
			unsigned got = 0, total = 1;
			for (int k = 0; k < q && k < 16; k++) {
				if (!strcmp(m[k].id, id)) {
					got = m[k].matched;
					total = m[k].total;
				}
			}
			double cov = (double)got / total;
			bool hit = got >= def.min_fps &&
				   (cov >= def.min_coverage ||
				    got >= def.min_excerpt_fps);
			tot++;
			det += hit;
			sum += got;
			mn = got < mn ? got : mn;
			mx = got > mx ? got : mx;
			winnow_set_fini(&s);
			free(buf.s);
		}
		printf("%3zu words: in-run hits min %u mean %.1f max %u; "
		       "detected %u/%u\n",
		       W, tot ? mn : 0, tot ? sum / tot : 0.0, mx, det, tot);
	}
	for (int i = 0; i < nd; i++) {
		free(txt[i]);
	}
	free(txt);
	free(len);
	fpindex_free(idx);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--sweep")) {
		return sweep(argc - 2, argv + 2);
	}
	size_t ndocs = 5000, words = 2500;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-n")) {
			ndocs = strtoul(argv[i + 1], NULL, 10);
		} else if (!strcmp(argv[i], "-w")) {
			words = strtoul(argv[i + 1], NULL, 10);
		}
	}
	size_t blen;
	AUTOFREE char *boiler = prose_new(999, 300, &blen);
	struct fpindex *idx;
	fpindex_new(NULL, &idx);
	double t_gen = 0, t_fp = 0, bytes = 0;
	size_t fps = 0;
	for (size_t d = 0; d < ndocs; d++) {
		double t0 = now();
		struct prose_buf b = {0};
		prose_append(&b, 100 + d, words);
		prose_puts(&b, boiler);
		double t1 = now();
		struct winnow_set s;
		winnow_text(b.s, b.len, NULL, &s);
		AUTOFREE uint64_t *h = NULL;
		size_t m = winnow_set_hashes(&s, &h);
		double t2 = now();
		char id[32];
		snprintf(id, sizeof(id), "reg-%05zu", d);
		fpindex_add(idx, id, "NATO SECRET", NULL, h, m);
		t_gen += t1 - t0;
		t_fp += t2 - t1;
		bytes += (double)b.len;
		fps += m;
		winnow_set_fini(&s);
		free(b.s);
	}
	double t0 = now();
	fpindex_finalize(idx);
	double t_fin = now() - t0;
	struct fpindex_stats st;
	fpindex_get_stats(idx, &st);
	printf("registered %zu documents of %zu words: %.1f MB of text, "
	       "%zu fingerprints (%.0f per document)\n",
	       ndocs, words, bytes / 1e6, fps, (double)fps / (double)ndocs);
	printf("fingerprinting (normalise + winnow + sort): %.1f MB/s\n",
	       bytes / 1e6 / t_fp);
	printf("finalize: %.3f s; kept %zu distinct, %zu postings; boilerplate "
	       "df >= %u dropped %zu\n",
	       t_fin, st.distinct, st.postings, st.boiler_df, st.dropped_boiler);
	size_t tcap = 16;
	while (tcap < st.distinct * 2) {
		tcap *= 2;
	}
	printf("index memory: table %.1f MB + postings %.1f MB + per-document "
	       "hash lists %.1f MB\n",
	       (double)tcap * 16 / 1e6, (double)st.postings * 4 / 1e6,
	       (double)fps * 8 / 1e6);

	/* raw lookups: hashes half present (registered), half absent */
	size_t nl = 2000000;
	struct winnow_fp *probe = lw_new(struct winnow_fp, nl);
	struct prose_rng r = {7};
	for (size_t i = 0; i < nl; i++) {
		probe[i].hash = prose_next(&r);
		probe[i].pos = (uint32_t)(i * 1000); /* far apart: no runs */
	}
	{
		/* put some registered hashes in: fingerprint one document */
		struct prose_buf b = {0};
		prose_append(&b, 100 + ndocs / 2, words);
		struct winnow_set s;
		winnow_text(b.s, b.len, NULL, &s);
		for (size_t i = 0; i < nl; i += 2) {
			probe[i].hash = s.fps[(i / 2) % s.n].hash;
		}
		winnow_set_fini(&s);
		free(b.s);
	}
	struct fpindex_match m[16];
	size_t chunk = 1000;
	t0 = now();
	for (size_t i = 0; i < nl; i += chunk) {
		fpindex_query(idx, NULL, probe + i, chunk, m, 16);
	}
	double t_l = now() - t0;
	printf("lookups (queries of 1,000 fingerprints, half registered): "
	       "%.1f M fingerprints/s\n",
	       (double)nl / t_l / 1e6);
	free(probe);

	/* whole documents: unrelated, and with a 500-word excerpt */
	struct prose_buf un = {0}, ex = {0};
	prose_append(&un, 777777, words);
	prose_append(&ex, 777778, words - 500);
	{
		struct prose_buf src = {0};
		prose_append(&src, 100 + 42, words);
		size_t a = prose_word_offset(src.s, src.len, 1000);
		size_t b = prose_word_offset(src.s, src.len, 1500);
		prose_put(&ex, src.s + a, b - a);
		free(src.s);
	}
	const struct {
		const char *name;
		struct prose_buf *b;
	} qs[] = {{"unrelated 5-page document", &un},
		  {"5-page document with a 500-word excerpt", &ex}};
	for (size_t i = 0; i < LW_ARRAY_SIZE(qs); i++) {
		struct winnow_set s;
		winnow_text(qs[i].b->s, qs[i].b->len, NULL, &s);
		int reps = 2000, q = 0;
		t0 = now();
		for (int k = 0; k < reps; k++) {
			q = fpindex_query(idx, NULL, s.fps, s.n, m, 16);
		}
		double tq = now() - t0;
		t0 = now();
		for (int k = 0; k < 200; k++) {
			struct winnow_set s2;
			winnow_text(qs[i].b->s, qs[i].b->len, NULL, &s2);
			fpindex_query(idx, NULL, s2.fps, s2.n, m, 16);
			winnow_set_fini(&s2);
		}
		double tw = now() - t0;
		printf("%s (%zu fps): %d match%s%s; query %.0f/s; "
		       "fingerprint + query %.0f/s\n",
		       qs[i].name, s.n, q, q == 1 ? " " : "es",
		       q > 0 ? m[0].id : "", reps / tq, 200 / tw);
		winnow_set_fini(&s);
	}
	free(un.s);
	free(ex.s);
	fpindex_free(idx);
	(void)t_gen;
	return 0;
}
