/* winnow.c — normalisation and winnowing of document text (winnow.h).
 *
 * One pass over the UTF-8, constant memory besides the output: a ring of the
 * last k folded code points for the rolling hash and a ring of the last w
 * k-gram hashes for the window minimum. The minimum is recomputed by a scan
 * of the window only when it leaves the window, which happens about every
 * w / 2 k-grams, so the cost is O(1) amortised per character.
 *
 * Pure computation; any thread. */
#include "winnow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fold-table.h"
#include "marking.h"
#include "mem.h"

/* Base of the polynomial hash (odd, so multiplication mod 2^64 is a
 * bijection) and the per-character table: each code point is first spread
 * over 64 bits with a mixer, so that neighbouring code points do not give
 * neighbouring k-gram hashes. */
#define HASH_BASE UINT64_C(0x100000001b3)

static inline uint64_t
mix64(uint64_t x)
{
	/* splitmix64 finaliser */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

struct hasher {
	unsigned k, w;
	size_t max_chars, max_fps;
	uint64_t base_k1; /* HASH_BASE^(k-1) */
	uint64_t h;       /* rolling hash of the current k-gram */
	uint32_t *chars;  /* ring of the last k character values (k entries) */
	uint64_t *win;    /* ring of the last w k-gram hashes */
	size_t nchars;    /* normalised characters so far */
	size_t nkg;       /* k-grams so far */
	size_t cslot;     /* nchars % k, kept without dividing */
	size_t wslot;     /* nkg % w */
	size_t minpos;    /* k-gram index of the current window minimum */
	uint64_t minval;  /* its hash */
	size_t last_rec;  /* k-gram index recorded last, SIZE_MAX: none */
	bool stop;
	struct winnow_set *out;
	size_t cap;
};

static int
params_check(const struct winnow_params *p, struct winnow_params *q)
{
	if (p) {
		*q = *p;
	} else {
		winnow_params_default(q);
	}
	if (q->k < 8 || q->k > 1024 || q->w < 1 || q->w > 4096) {
		return -EINVAL;
	}
	if (!q->max_chars) {
		q->max_chars = WINNOW_MAX_CHARS_DEFAULT;
	}
	if (q->max_chars > UINT32_MAX) {
		q->max_chars = UINT32_MAX; /* positions are 32-bit */
	}
	if (!q->max_fps) {
		q->max_fps = WINNOW_MAX_FPS_DEFAULT;
	}
	return 0;
}

void
winnow_params_default(struct winnow_params *p)
{
	*p = (struct winnow_params){
		.k = WINNOW_K_DEFAULT,
		.w = WINNOW_W_DEFAULT,
		.max_chars = WINNOW_MAX_CHARS_DEFAULT,
		.max_fps = WINNOW_MAX_FPS_DEFAULT,
	};
}

static void
hasher_init(struct hasher *hs, const struct winnow_params *p,
	    struct winnow_set *out)
{
	*hs = (struct hasher){
		.k = p->k,
		.w = p->w,
		.max_chars = p->max_chars,
		.max_fps = p->max_fps,
		.chars = lw_new(uint32_t, p->k),
		.win = lw_new(uint64_t, p->w),
		.last_rec = SIZE_MAX,
		.out = out,
	};
	hs->base_k1 = 1;
	for (unsigned i = 1; i < p->k; i++) {
		hs->base_k1 *= HASH_BASE;
	}
	*out = (struct winnow_set){0};
}

static void
record(struct hasher *hs, size_t kg)
{
	if (kg == hs->last_rec) {
		return;
	}
	hs->last_rec = kg;
	struct winnow_set *o = hs->out;
	if (o->n >= hs->max_fps) {
		o->truncated = true;
		hs->stop = true;
		return;
	}
	if (o->n == hs->cap) {
		hs->cap = hs->cap ? hs->cap * 2 : 64;
		o->fps = lw_realloc(o->fps, hs->cap * sizeof(*o->fps));
	}
	o->fps[o->n++] = (struct winnow_fp){
		.hash = hs->minval,
		.pos = (uint32_t)kg, /* k-gram i starts at character i */
	};
}

/* One k-gram hash: the window [nkg - w + 1, nkg] slides by one. */
static void
push_kgram(struct hasher *hs, uint64_t hv)
{
	size_t i = hs->nkg++;
	size_t w = hs->w;
	hs->win[hs->wslot] = hv;
	if (++hs->wslot == w) {
		hs->wslot = 0;
	}
	if (i < w) {
		/* filling the first window: rightmost minimum */
		if (i == 0 || hv <= hs->minval) {
			hs->minpos = i;
			hs->minval = hv;
		}
		if (i == w - 1) {
			record(hs, hs->minpos);
		}
		return;
	}
	if (hs->minpos + w <= i) {
		/* the minimum left the window: rightmost minimum of it. The
		 * oldest entry of the ring is at wslot (just past the
		 * newest). */
		size_t slot = hs->wslot, best = 0;
		uint64_t bv = hs->win[slot];
		for (size_t j = 1; j < w; j++) {
			if (++slot == w) {
				slot = 0;
			}
			if (hs->win[slot] <= bv) {
				bv = hs->win[slot];
				best = j;
			}
		}
		hs->minpos = i + 1 - w + best;
		hs->minval = bv;
		record(hs, hs->minpos);
	} else if (hv < hs->minval) {
		hs->minpos = i;
		hs->minval = hv;
		record(hs, i);
	}
	/* equal to the minimum: robust winnowing keeps the one selected */
}

static void
push_char(struct hasher *hs, uint32_t cp)
{
	if (hs->nchars >= hs->max_chars) {
		hs->out->truncated = true;
		hs->stop = true;
		return;
	}
	uint32_t v = (uint32_t)(mix64(cp) >> 32) | 1u;
	size_t slot = hs->cslot;
	if (hs->nchars >= hs->k) {
		hs->h -= (uint64_t)hs->chars[slot] * hs->base_k1;
	}
	hs->h = hs->h * HASH_BASE + v;
	hs->chars[slot] = v;
	if (++hs->cslot == hs->k) {
		hs->cslot = 0;
	}
	hs->nchars++;
	if (hs->nchars >= hs->k) {
		push_kgram(hs, mix64(hs->h ^ UINT64_C(0x9e3779b97f4a7c15)));
	}
}

static void
hasher_finish(struct hasher *hs)
{
	/* a document shorter than one window still gets its minimum */
	if (!hs->stop && hs->nkg > 0 && hs->nkg < hs->w) {
		record(hs, hs->minpos);
	}
	hs->out->chars = hs->nchars;
	free(hs->chars);
	free(hs->win);
	hs->chars = NULL;
	hs->win = NULL;
}

/* Decodes one UTF-8 sequence at s[*i] (len bytes); invalid bytes give
 * U+FFFD, which folds to nothing. */
static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	unsigned n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (*i + n >= len) {
		(*i)++;
		return 0xfffd;
	}
	for (unsigned j = 1; j <= n; j++) {
		unsigned char d = s[*i + j];
		if ((d & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (d & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		(*i)++;
		return 0xfffd;
	}
	*i += n + 1;
	return cp;
}

/* Folds one code point; returns how many code points it becomes (0 to
 * FOLD_MAX_OUT) in @out. */
static unsigned
fold_cp(uint32_t cp, uint32_t out[FOLD_MAX_OUT])
{
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z') {
			out[0] = cp + ('a' - 'A');
			return 1;
		}
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
			out[0] = cp;
			return 1;
		}
		return 0;
	}
	if (cp >= 0x10000) {
		/* Above the BMP: symbols and emoji (U+1F000-U+1FBFF), tags
		 * and private use go; historic scripts and CJK extensions
		 * are letters and stay. Mathematical alphanumerics
		 * (U+1D400-U+1D7FF) would need NFKD; they are rare in prose
		 * and stay as they are. */
		if ((cp >= 0x1f000 && cp <= 0x1fbff) || cp >= 0xe0000) {
			return 0;
		}
		out[0] = cp;
		return 1;
	}
	uint16_t m = fold_blocks[fold_index[cp >> FOLD_BLOCK_SHIFT]]
				[cp & ((1u << FOLD_BLOCK_SHIFT) - 1)];
	if (m == FOLD_IDENTITY) {
		out[0] = cp;
		return 1;
	}
	uint32_t off = fold_maps[m][0], n = fold_maps[m][1];
	for (uint32_t j = 0; j < n; j++) {
		out[j] = fold_pool[off + j];
	}
	return n;
}

static void
feed(struct hasher *hs, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < len && !hs->stop) {
		if (s[i] < 0x80) {
			/* ASCII fast path */
			unsigned char c = s[i++];
			if (c >= 'A' && c <= 'Z') {
				push_char(hs, c + ('a' - 'A'));
			} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				push_char(hs, c);
			}
			continue;
		}
		uint32_t f[FOLD_MAX_OUT];
		unsigned n = fold_cp(utf8_next(s, len, &i), f);
		for (unsigned j = 0; j < n; j++) {
			push_char(hs, f[j]);
		}
	}
}

/* Feeds a BODY/AUX segment line by line, leaving out marking lines and
 * paragraph-start portion marks. */
static void
feed_segment(struct hasher *hs, const char *text, size_t len)
{
	size_t i = 0;
	while (i < len && !hs->stop) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		const char *line = text + i;
		size_t ll = e - i;
		i = e + 1;
		/* a form feed starts a page; banners sit on its edge lines */
		const char *ff = memchr(line, '\f', ll);
		if (ff) {
			size_t a = (size_t)(ff - line);
			feed_segment(hs, line, a);
			line += a + 1;
			ll -= a + 1;
			if (memchr(line, '\f', ll)) {
				feed_segment(hs, line, ll);
				continue;
			}
		}
		if (ll == 0) {
			continue;
		}
		if (marking_parse_line(line, ll, MARKING_MODE_LINE, NULL) !=
		    MARKING_STRENGTH_NONE) {
			continue;
		}
		struct marking_line ml;
		if (marking_parse_portion(line, ll, &ml) != MARKING_STRENGTH_NONE) {
			const char *cl = memchr(line + ml.start, ')',
						ll - ml.start);
			if (cl) {
				ll -= (size_t)(cl + 1 - line);
				line = cl + 1;
			}
		}
		feed(hs, line, ll);
	}
}

int
winnow_doc(const struct text_doc *doc, const struct winnow_params *p,
	   struct winnow_set *out)
{
	struct winnow_params q;
	int r = params_check(p, &q);
	if (r < 0) {
		return r;
	}
	struct hasher hs;
	hasher_init(&hs, &q, out);
	size_t n = text_doc_count(doc);
	for (size_t i = 0; i < n && !hs.stop; i++) {
		const struct text_segment *sg = text_doc_segment(doc, i);
		if (sg->kind == TEXT_KIND_BODY || sg->kind == TEXT_KIND_AUX) {
			feed_segment(&hs, sg->text, sg->len);
		}
	}
	hasher_finish(&hs);
	return 0;
}

int
winnow_text(const char *text, size_t len, const struct winnow_params *p,
	    struct winnow_set *out)
{
	struct winnow_params q;
	int r = params_check(p, &q);
	if (r < 0) {
		return r;
	}
	struct hasher hs;
	hasher_init(&hs, &q, out);
	feed_segment(&hs, text, len);
	hasher_finish(&hs);
	return 0;
}

void
winnow_set_fini(struct winnow_set *set)
{
	if (set) {
		free(set->fps);
		*set = (struct winnow_set){0};
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

size_t
winnow_set_hashes(const struct winnow_set *set, uint64_t **out)
{
	*out = NULL;
	if (!set->n) {
		return 0;
	}
	uint64_t *h = lw_new(uint64_t, set->n);
	for (size_t i = 0; i < set->n; i++) {
		h[i] = set->fps[i].hash;
	}
	qsort(h, set->n, sizeof(*h), cmp_u64);
	size_t m = 1;
	for (size_t i = 1; i < set->n; i++) {
		if (h[i] != h[m - 1]) {
			h[m++] = h[i];
		}
	}
	*out = h;
	return m;
}

int
winnow_pack(const uint64_t *hashes, size_t n, unsigned char **blob,
	    size_t *blob_len)
{
	*blob = NULL;
	*blob_len = 0;
	if (!n) {
		return 0;
	}
	unsigned char *b = lw_malloc(n * 8);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = hashes[i];
		for (unsigned j = 0; j < 8; j++) {
			b[i * 8 + j] = (unsigned char)(v >> (8 * j));
		}
	}
	*blob = b;
	*blob_len = n * 8;
	return 0;
}

int
winnow_unpack(const void *blob, size_t blob_len, uint64_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (blob_len % 8) {
		return -EPROTO;
	}
	size_t m = blob_len / 8;
	if (!m) {
		return 0;
	}
	const unsigned char *b = blob;
	uint64_t *h = lw_new(uint64_t, m);
	for (size_t i = 0; i < m; i++) {
		uint64_t v = 0;
		for (unsigned j = 0; j < 8; j++) {
			v |= (uint64_t)b[i * 8 + j] << (8 * j);
		}
		h[i] = v;
	}
	*out = h;
	*n = m;
	return 0;
}

static void
put_utf8(char **buf, size_t *len, size_t *cap, uint32_t cp)
{
	if (*len + 5 > *cap) {
		*cap = *cap * 2 + 64;
		*buf = lw_realloc(*buf, *cap);
	}
	char *o = *buf + *len;
	if (cp < 0x80) {
		o[0] = (char)cp;
		*len += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		*len += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		*len += 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		*len += 4;
	}
}

char *
winnow_normalize(const char *text, size_t len, size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t cap = len + 1, n = 0, i = 0;
	char *buf = lw_malloc(cap);
	while (i < len) {
		uint32_t f[FOLD_MAX_OUT];
		unsigned m = fold_cp(utf8_next(s, len, &i), f);
		for (unsigned j = 0; j < m; j++) {
			put_utf8(&buf, &n, &cap, f[j]);
		}
	}
	if (n + 1 > cap) {
		buf = lw_realloc(buf, n + 1);
	}
	buf[n] = '\0';
	if (out_len) {
		*out_len = n;
	}
	return buf;
}
