/* text.c — document segments and plain-text decoding (see text.h).
 *
 * Owns the segment array and every segment's text: copies, buffers
 * handed over (text_doc_add_owned), or, for text_doc_add_borrowed, the
 * caller's bytes left where they are. Pure computation on caller memory;
 * any thread, one document per thread.
 *
 * Decoding is a single pass in the common case (valid UTF-8): an 8-byte
 * ASCII fast path copies runs without NUL or high bytes. Invalid UTF-8 is
 * re-read as Windows-1252 byte by byte ("MIXED") when valid multi-byte
 * sequences dominate, or the whole buffer is re-read as Windows-1252 when
 * they do not (a Latin-1 file). */
#include "text.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


#include "mem.h"

/* A segment, and whether its text is the caller's (text_doc_add_borrowed). */
struct seg {
	struct text_segment pub;
	bool borrowed;
	size_t wipe; /* bytes of the allocation to wipe (>= pub.len) */
};

struct text_doc {
	struct seg *seg;
	size_t n, cap;
	size_t bytes, max_bytes;
	bool truncated;
};

/* Windows-1252 0x80..0x9F; the five unassigned bytes become U+FFFD. */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

struct out {
	char *buf;
	size_t len, cap; /* cap: allocated, without room for the NUL */
	size_t max;      /* bytes allowed, without the NUL */
	bool full;
};

/* Makes room for @n more bytes; false (and full) past the cap. */
static bool
reserve(struct out *o, size_t n)
{
	if (o->len + n > o->max) {
		o->full = true;
		return false;
	}
	if (o->len + n > o->cap) {
		size_t c = o->cap * 2;
		if (c < o->len + n) {
			c = o->len + n;
		}
		if (c > o->max) {
			c = o->max;
		}
		o->buf = lw_realloc(o->buf, c + 1);
		o->cap = c;
	}
	return true;
}

static void
out_init(struct out *o, size_t guess, size_t max_out)
{
	o->max = max_out ? max_out : SIZE_MAX - 1;
	o->cap = guess < o->max ? guess : o->max;
	o->buf = lw_malloc(o->cap + 1);
	o->len = 0;
	o->full = false;
}

static bool
put_cp(struct out *o, uint32_t cp)
{
	char tmp[4];
	size_t n;
	if (cp == 0) {
		return true; /* NUL characters are dropped */
	}
	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xC0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xE0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		tmp[0] = (char)(0xF0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (!reserve(o, n)) {
		return false;
	}
	memcpy(o->buf + o->len, tmp, n);
	o->len += n;
	return true;
}

static bool
put_bytes(struct out *o, const uint8_t *p, size_t n)
{
	if (!reserve(o, n)) {
		return false;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return true;
}

static uint32_t
cp1252_to_cp(uint8_t b)
{
	if (b >= 0x80 && b < 0xA0) {
		return cp1252_c1[b - 0x80];
	}
	return b;
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 when invalid
 * (overlong forms, surrogates, code points above U+10FFFF, truncation). */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80) {
		return 1;
	}
	if (c < 0xC2) {
		return 0;
	}
	if (c < 0xE0) {
		return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	}
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) {
			return 0;
		}
		if (c == 0xE0 && s[1] < 0xA0) {
			return 0; /* overlong */
		}
		if (c == 0xED && s[1] >= 0xA0) {
			return 0; /* surrogate */
		}
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80) {
			return 0;
		}
		if (c == 0xF0 && s[1] < 0x90) {
			return 0;
		}
		if (c == 0xF4 && s[1] >= 0x90) {
			return 0;
		}
		return 4;
	}
	return 0;
}

/* Length of the prefix of @s that is ASCII without NUL: the bytes that can
 * be copied as they are. 16 bytes per step with SSE2. */
static size_t
ascii_run(const uint8_t *s, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i zero = _mm_setzero_si128();
	while (n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned m = (unsigned)_mm_movemask_epi8(v) |
			     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
		if (m) {
			return i + (size_t)__builtin_ctz(m);
		}
		i += 16;
	}
#endif
	while (i < n && s[i] != 0 && s[i] < 0x80) {
		i++;
	}
	return i;
}

/* UTF-8 with Windows-1252 for invalid bytes. Counts what it saw so the
 * caller can decide the input was really a single-byte encoding. */
static void
decode_utf8(const uint8_t *s, size_t n, struct out *o, size_t *n_invalid,
	    size_t *n_multi)
{
	size_t i = 0, inval = 0, multi = 0;
	while (i < n && !o->full) {
		size_t run = i + ascii_run(s + i, n - i);
		if (run > i) {
			if (!put_bytes(o, s + i, run - i)) {
				/* Fill what fits; ASCII cuts anywhere. */
				size_t room = o->max - o->len;
				o->full = false;
				if (reserve(o, room)) {
					memcpy(o->buf + o->len, s + i, room);
					o->len += room;
				}
				o->full = true;
				break;
			}
			i = run;
			continue;
		}
		if (s[i] == 0) {
			i++;
			continue;
		}
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0) {
			inval++;
			put_cp(o, cp1252_to_cp(s[i]));
			i++;
		} else {
			multi++;
			put_bytes(o, s + i, k);
			i += k;
		}
	}
	if (n_invalid) {
		*n_invalid = inval;
	}
	if (n_multi) {
		*n_multi = multi;
	}
}

static void
decode_cp1252(const uint8_t *s, size_t n, struct out *o)
{
	for (size_t i = 0; i < n && !o->full; i++) {
		put_cp(o, cp1252_to_cp(s[i]));
	}
}

static void
decode_utf16(const uint8_t *s, size_t n, bool be, struct out *o)
{
	for (size_t i = 0; i + 1 < n && !o->full; i += 2) {
		uint32_t u = be ? (uint32_t)(s[i] << 8 | s[i + 1])
				: (uint32_t)(s[i + 1] << 8 | s[i]);
		if (u >= 0xD800 && u < 0xDC00) {
			uint32_t l = 0;
			if (i + 3 < n) {
				l = be ? (uint32_t)(s[i + 2] << 8 | s[i + 3])
				       : (uint32_t)(s[i + 3] << 8 | s[i + 2]);
			}
			if (l >= 0xDC00 && l < 0xE000) {
				u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
				i += 2;
			} else {
				u = 0xFFFD;
			}
		} else if (u >= 0xDC00 && u < 0xE000) {
			u = 0xFFFD;
		}
		put_cp(o, u);
	}
}

/* BOM-less UTF-16: mostly-Latin text has a NUL in every other byte. Needs a
 * clear majority on one side and almost none on the other, so that text with
 * a few stray NULs (or binary junk) stays 8-bit. */
static int
utf16_guess(const uint8_t *s, size_t n)
{
	if (n < 8) {
		return 0;
	}
	size_t lim = n < 4096 ? n : 4096;
	if (!memchr(s, 0, lim)) {
		return 0; /* the common case: no NUL at all */
	}
	lim &= ~(size_t)1;
	size_t even = 0, odd = 0, pairs = lim / 2;
	for (size_t i = 0; i < lim; i += 2) {
		even += s[i] == 0;
		odd += s[i + 1] == 0;
	}
	if (odd * 10 >= pairs * 4 && even * 20 <= pairs) {
		return 1; /* 'A' 00: little-endian */
	}
	if (even * 10 >= pairs * 4 && odd * 20 <= pairs) {
		return 2;
	}
	return 0;
}

bool
text_is_utf16(const void *bytes, size_t len)
{
	const uint8_t *s = bytes;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		return false; /* a UTF-8 BOM, as in text_sniff */
	}
	if (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) {
		return true;
	}
	return utf16_guess(s, len) != 0;
}

enum text_encoding
text_sniff(const void *bytes, size_t len)
{
	const uint8_t *s = bytes;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		return TEXT_ENCODING_UTF8_BOM;
	}
	if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
		return TEXT_ENCODING_UTF16LE;
	}
	if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
		return TEXT_ENCODING_UTF16BE;
	}
	switch (utf16_guess(s, len)) {
	case 1:
		return TEXT_ENCODING_UTF16LE;
	case 2:
		return TEXT_ENCODING_UTF16BE;
	}
	size_t inval = 0, multi = 0;
	for (size_t i = 0; i < len;) {
		/* most text is ASCII: eight bytes at a time while no byte has
		 * its high bit set (memcpy: no alignment assumed) */
		uint64_t w;
		while (i + 8 <= len && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0)) {
			i += 8;
		}
		if (i >= len) {
			break;
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(s + i, len - i);
		if (k == 0) {
			inval++;
			i++;
		} else {
			multi++;
			i += k;
		}
	}
	if (inval == 0) {
		return TEXT_ENCODING_UTF8;
	}
	return multi > inval ? TEXT_ENCODING_MIXED : TEXT_ENCODING_CP1252;
}

/* Decodes into a fresh buffer; @mode_hint < 0 means "sniff". */
static int
decode(const uint8_t *s, size_t len, size_t max_out, int mode_hint, char **out,
       size_t *out_len, enum text_encoding *enc_out)
{
	enum text_encoding enc;
	if (mode_hint >= 0) {
		enc = (enum text_encoding)mode_hint;
	} else if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		enc = TEXT_ENCODING_UTF8_BOM;
	} else if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
		enc = TEXT_ENCODING_UTF16LE;
	} else if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
		enc = TEXT_ENCODING_UTF16BE;
	} else {
		int g = utf16_guess(s, len);
		enc = g == 1 ? TEXT_ENCODING_UTF16LE
		      : g == 2 ? TEXT_ENCODING_UTF16BE
			       : TEXT_ENCODING_UTF8;
	}

	struct out o = {0};
	switch (enc) {
	case TEXT_ENCODING_UTF16LE:
	case TEXT_ENCODING_UTF16BE: {
		bool be = enc == TEXT_ENCODING_UTF16BE;
		if (len >= 2 && ((!be && s[0] == 0xFF && s[1] == 0xFE) ||
				 (be && s[0] == 0xFE && s[1] == 0xFF))) {
			s += 2;
			len -= 2;
		}
		out_init(&o, len / 2 * 3 + 4, max_out);
		decode_utf16(s, len, be, &o);
		break;
	}
	case TEXT_ENCODING_UTF8:
	case TEXT_ENCODING_UTF8_BOM:
	case TEXT_ENCODING_MIXED: {
		if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
			s += 3;
			len -= 3;
			enc = TEXT_ENCODING_UTF8_BOM;
		}
		out_init(&o, len + 16, max_out);
		size_t inval = 0, multi = 0;
		decode_utf8(s, len, &o, &inval, &multi);
		if (inval == 0) {
			break;
		}
		if (multi > inval || mode_hint >= 0) {
			enc = TEXT_ENCODING_MIXED;
			break;
		}
		/* Mostly invalid: a single-byte file. Start over. */
		o.len = 0;
		o.full = false;
		enc = TEXT_ENCODING_CP1252;
		decode_cp1252(s, len, &o);
		break;
	}
	case TEXT_ENCODING_CP1252:
		out_init(&o, len + len / 8 + 16, max_out);
		decode_cp1252(s, len, &o);
		break;
	}
	o.buf[o.len] = '\0';
	*out = o.buf;
	*out_len = o.len;
	if (enc_out) {
		*enc_out = enc;
	}
	return o.full ? -E2BIG : 0;
}

int
text_decode(const void *bytes, size_t len, size_t max_out, char **out,
	    size_t *out_len, enum text_encoding *enc_out)
{
	return decode(bytes, len, max_out, -1, out, out_len, enc_out);
}

struct text_doc *
text_doc_new(size_t max_bytes)
{
	struct text_doc *d = lw_new(struct text_doc, 1);
	d->max_bytes = max_bytes ? max_bytes : TEXT_DEFAULT_MAX_BYTES;
	return d;
}

void
text_doc_free(struct text_doc *doc)
{
	if (!doc) {
		return;
	}
	for (size_t i = 0; i < doc->n; i++) {
		struct text_segment *t = &doc->seg[i].pub;
		if (!doc->seg[i].borrowed) {
			lw_wipe((void *)t->text, doc->seg[i].wipe);
			free((void *)t->text);
		}
		free((void *)t->name);
	}
	free(doc->seg);
	free(doc);
}

static bool
kind_needs_name(enum text_kind kind, bool *valid)
{
	*valid = true;
	switch (kind) {
	case TEXT_KIND_BODY:
	case TEXT_KIND_HEADER:
	case TEXT_KIND_FOOTER:
	case TEXT_KIND_AUX:
		return false;
	case TEXT_KIND_PROPERTY:
	case TEXT_KIND_MAIL_HEADER:
		return true;
	}
	*valid = false;
	return false;
}

static void
append(struct text_doc *doc, enum text_kind kind, const char *name, const char *text,
       size_t len, bool borrowed, size_t wipe)
{
	if (doc->n == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 8;
		doc->seg = lw_realloc(doc->seg, doc->cap * sizeof(*doc->seg));
	}
	doc->seg[doc->n++] = (struct seg){
		.pub = {.kind = kind, .name = lw_strdup(name ? name : ""), .text = text, .len = len},
		.borrowed = borrowed,
		.wipe = wipe > len ? wipe : len,
	};
	doc->bytes += len;
}

/* True if @kind is known and has the name it needs. */
static bool
name_ok(enum text_kind kind, const char *name)
{
	bool valid;
	bool need = kind_needs_name(kind, &valid);
	return valid && (!need || (name && *name));
}

static int
add(struct text_doc *doc, enum text_kind kind, const char *name,
    const void *bytes, size_t len, int mode_hint, enum text_encoding *enc_out)
{
	if (!name_ok(kind, name)) {
		return -EINVAL;
	}
	size_t room = doc->max_bytes - doc->bytes;
	if (room == 0) {
		doc->truncated = true;
		return -E2BIG;
	}
	char *txt;
	size_t n;
	int r = decode(bytes, len, room, mode_hint, &txt, &n, enc_out);
	append(doc, kind, name, txt, n, false, n);
	if (r == -E2BIG) {
		doc->truncated = true;
	}
	return r;
}

/* What decode() would give back unchanged. Not UTF-16 either: that has
 * NULs or a BOM that is not valid UTF-8. */
bool
text_is_plain_utf8(const void *bytes, size_t n)
{
	const uint8_t *s = bytes;
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		return false;
	}
	size_t i = 0;
	for (;;) {
		i += ascii_run(s + i, n - i);
		if (i == n) {
			return true;
		}
		size_t k = s[i] ? utf8_seq(s + i, n - i) : 0;
		if (k == 0) {
			return false;
		}
		i += k;
	}
}

/* @bytes can be a segment as they are: decoding would not change them
 * and they fit under the cap. */
static bool
takes_as_is(const struct text_doc *doc, enum text_kind kind, const char *name,
	    const void *bytes, size_t len)
{
	return name_ok(kind, name) && len > 0 && len <= doc->max_bytes - doc->bytes &&
	       text_is_plain_utf8(bytes, len);
}

int
text_doc_add_borrowed(struct text_doc *doc, enum text_kind kind, const char *name,
		      const void *bytes, size_t len, enum text_encoding *enc_out)
{
	/* Plain-text files are mostly this: no decoding to do, so no copy
	 * to make, wipe and free (4 % of a scan's CPU on the mixed tree). */
	if (takes_as_is(doc, kind, name, bytes, len)) {
		append(doc, kind, name, bytes, len, true, 0);
		if (enc_out) {
			*enc_out = TEXT_ENCODING_UTF8;
		}
		return 0;
	}
	return add(doc, kind, name, bytes, len, -1, enc_out);
}

int
text_doc_add(struct text_doc *doc, enum text_kind kind, const char *name,
	     const char *text, size_t len)
{
	return add(doc, kind, name, text, len, TEXT_ENCODING_UTF8, NULL);
}

int
text_doc_add_bytes(struct text_doc *doc, enum text_kind kind, const char *name,
		   const void *bytes, size_t len, enum text_encoding *enc_out)
{
	return add(doc, kind, name, bytes, len, -1, enc_out);
}

int
text_doc_add_owned(struct text_doc *doc, enum text_kind kind, const char *name, char *text,
		   size_t len, size_t alloc)
{
	if (takes_as_is(doc, kind, name, text, len)) {
		append(doc, kind, name, text, len, false, alloc);
		return 0;
	}
	int r = add(doc, kind, name, text, len, TEXT_ENCODING_UTF8, NULL);
	lw_wipe(text, alloc > len ? alloc : len);
	free(text);
	return r;
}

size_t
text_doc_count(const struct text_doc *doc)
{
	return doc->n;
}

const struct text_segment *
text_doc_segment(const struct text_doc *doc, size_t i)
{
	return i < doc->n ? &doc->seg[i].pub : NULL;
}

bool
text_doc_truncated(const struct text_doc *doc)
{
	return doc->truncated;
}

size_t
text_doc_bytes(const struct text_doc *doc)
{
	return doc->bytes;
}

const char *
text_kind_name(enum text_kind kind)
{
	switch (kind) {
	case TEXT_KIND_BODY:
		return "body";
	case TEXT_KIND_HEADER:
		return "header";
	case TEXT_KIND_FOOTER:
		return "footer";
	case TEXT_KIND_PROPERTY:
		return "property";
	case TEXT_KIND_MAIL_HEADER:
		return "mail-header";
	case TEXT_KIND_AUX:
		return "aux";
	}
	return "?";
}

const char *
text_encoding_name(enum text_encoding enc)
{
	switch (enc) {
	case TEXT_ENCODING_UTF8:
		return "utf-8";
	case TEXT_ENCODING_UTF8_BOM:
		return "utf-8-bom";
	case TEXT_ENCODING_UTF16LE:
		return "utf-16le";
	case TEXT_ENCODING_UTF16BE:
		return "utf-16be";
	case TEXT_ENCODING_CP1252:
		return "windows-1252";
	case TEXT_ENCODING_MIXED:
		return "utf-8+windows-1252";
	}
	return "?";
}
