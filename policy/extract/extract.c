/* extract.c — entry point of policy/extract: limits, type detection and
 * dispatch to the format extractors, the member callback, plain text, and
 * the small helpers (bounded string buffer, paths) the extractors share.
 * Runs on the caller's thread; no global state. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif


#include "clock.h"
#include "extract-private.h"
#include "mem.h"

void
extract_limits_default(struct extract_limits *lim)
{
	*lim = (struct extract_limits){
		.max_text_bytes = TEXT_DEFAULT_MAX_BYTES,
		.max_depth = 5,
		.max_members = 10000,
		.max_ratio = 200.0,
		.max_member_bytes = (size_t)64 << 20,
		.max_expanded_bytes = (size_t)1 << 30,
		.max_xml_depth = 256,
		.deadline_ns = 0,
	};
}

const char *
extract_stop_name(enum extract_stop stop)
{
	switch (stop) {
	case EXTRACT_STOP_NONE:
		return "none";
	case EXTRACT_STOP_TEXT:
		return "text";
	case EXTRACT_STOP_DEPTH:
		return "depth";
	case EXTRACT_STOP_MEMBERS:
		return "members";
	case EXTRACT_STOP_RATIO:
		return "ratio";
	case EXTRACT_STOP_MEMBER_SIZE:
		return "member-size";
	case EXTRACT_STOP_EXPANDED:
		return "expanded";
	case EXTRACT_STOP_XML_DEPTH:
		return "xml-depth";
	case EXTRACT_STOP_TIME:
		return "time";
	case EXTRACT_STOP_MALFORMED:
		return "malformed";
	case EXTRACT_STOP_CALLBACK:
		return "callback";
	}
	return "unknown";
}

static bool
stop_is_global(enum extract_stop stop)
{
	switch (stop) {
	case EXTRACT_STOP_TEXT:
	case EXTRACT_STOP_MEMBERS:
	case EXTRACT_STOP_RATIO:
	case EXTRACT_STOP_EXPANDED:
	case EXTRACT_STOP_TIME:
	case EXTRACT_STOP_CALLBACK:
		return true;
	case EXTRACT_STOP_NONE:
	case EXTRACT_STOP_DEPTH:
	case EXTRACT_STOP_MEMBER_SIZE:
	case EXTRACT_STOP_XML_DEPTH:
	case EXTRACT_STOP_MALFORMED:
		return false;
	}
	return true;
}

void
extract_fail(struct xctx *x, enum extract_stop stop, const char *fmt, ...)
{
	if (stop_is_global(stop)) {
		x->abort = true;
	}
	if (x->out->stop != EXTRACT_STOP_NONE) {
		return;
	}
	x->out->stop = stop;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->out->error, sizeof(x->out->error), fmt, ap);
	va_end(ap);
}

bool
extract_should_stop(struct xctx *x, bool now)
{
	if (x->abort) {
		return true;
	}
	if (x->lim.deadline_ns <= 0) {
		return false;
	}
	if (!now && (++x->checks & 63) != 0) {
		return false;
	}
	if (clock_mono_ns() >= x->lim.deadline_ns) {
		extract_fail(x, EXTRACT_STOP_TIME, "limit: time (deadline passed)");
		return true;
	}
	return false;
}

bool
extract_account(struct xctx *x, size_t n)
{
	struct extract_result *o = x->out;
	o->expanded_bytes += n;
	if (o->expanded_bytes > x->lim.max_expanded_bytes) {
		extract_fail(x, EXTRACT_STOP_EXPANDED,
			     "limit: expanded bytes (%zu)",
			     x->lim.max_expanded_bytes);
		return false;
	}
	if (o->expanded_bytes > EXTRACT_RATIO_FLOOR &&
	    (double)o->expanded_bytes >
		    x->lim.max_ratio * (double)(x->input_len ? x->input_len : 1)) {
		extract_fail(x, EXTRACT_STOP_RATIO,
			     "limit: expansion ratio (%.0f)", x->lim.max_ratio);
		return false;
	}
	return !extract_should_stop(x, false);
}

size_t
extract_text_budget(const struct xctx *x)
{
	size_t used = x->out->text_bytes;
	if (used >= x->lim.max_text_bytes) {
		return 1;
	}
	return x->lim.max_text_bytes - used;
}

void
extract_fail_text(struct xctx *x)
{
	extract_fail(x, EXTRACT_STOP_TEXT, "limit: text bytes (%zu)", x->lim.max_text_bytes);
}

void
extract_add(struct xctx *x, struct text_doc *doc, enum text_kind kind,
	    const char *name, const char *text, size_t len)
{
	if (len == 0) {
		return;
	}
	int r = text_doc_add(doc, kind, name, text, len);
	if (r == -E2BIG) {
		extract_fail_text(x);
	}
}

void
extract_add_sbuf(struct xctx *x, struct text_doc *doc, enum text_kind kind,
		 const char *name, struct sbuf *b)
{
	if (b->len == 0) {
		return;
	}
	int r = text_doc_add_owned(doc, kind, name, b->p, b->len, b->cap_alloc);
	*b = (struct sbuf){.cap = b->cap};
	if (r == -E2BIG) {
		extract_fail_text(x);
	}
}

int
extract_emit(struct xctx *x, const char *path, const char *type,
	     struct text_doc *doc, unsigned depth)
{
	x->out->text_bytes += text_doc_bytes(doc);
	if (text_doc_truncated(doc)) {
		extract_fail_text(x);
	}
	if (depth > 0) {
		x->out->members++;
	}
	if (!x->fn) {
		return 0;
	}
	int r = x->fn(x->fn_ctx, path, type, doc);
	if (r < 0) {
		x->cb_error = r;
		extract_fail(x, EXTRACT_STOP_CALLBACK, "callback stopped (%s)",
			     strerror(-r));
		return r;
	}
	return 0;
}

char *
extract_join_path(const char *parent, const char *child)
{
	if (!parent || !*parent) {
		return lw_strdup(child ? child : "");
	}
	return lw_asprintf("%s/%s", parent, child ? child : "");
}

bool
extract_name_has_ext(const char *name, const char *ext)
{
	if (!name) {
		return false;
	}
	size_t n = strlen(name), e = strlen(ext);
	return n > e + 1 && name[n - e - 1] == '.' &&
	       !strcasecmp(name + n - e, ext);
}

void
extract_free_wipe(void *p, size_t n)
{
	if (p) {
		lw_wipe(p, n);
		free(p);
	}
}

/* ---- sbuf ---- */

void
extract_sbuf_init(struct sbuf *b, size_t cap)
{
	*b = (struct sbuf){ .cap = cap ? cap : 1 };
}

void
extract_sbuf_fini(struct sbuf *b)
{
	extract_free_wipe(b->p, b->cap_alloc);
	*b = (struct sbuf){ 0 };
}

/* Room for @need bytes. By copy, so no stale text is left in freed memory. */
static void
grow(struct sbuf *b, size_t need)
{
	size_t na = b->cap_alloc ? b->cap_alloc : 256;
	while (na < need) {
		na *= 2;
	}
	char *np = lw_malloc(na);
	if (b->p) {
		memcpy(np, b->p, b->len);
		extract_free_wipe(b->p, b->cap_alloc);
	}
	b->p = np;
	b->cap_alloc = na;
}

void
extract_sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t want = (n < b->cap ? n : b->cap) + 1;
	if (want > b->cap_alloc) {
		grow(b, want);
	}
}

void
extract_sbuf_reset(struct sbuf *b)
{
	if (b->p) {
		lw_wipe(b->p, b->len);
		b->p[0] = '\0';
	}
	b->len = 0;
}

void
extract_sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t room = b->len < b->cap ? b->cap - b->len : 0;

		b->full = true;
		/* Do not cut inside a UTF-8 sequence: s[room] exists because
		 * room < n (written as a bound GCC -O3 can see). */
		while (room > 0 && room < n && ((unsigned char)s[room] & 0xc0) == 0x80) {
			room--;
		}
		n = room;
	}
	if (n == 0) {
		return;
	}
	if (b->len + n + 1 > b->cap_alloc) {
		grow(b, b->len + n + 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
extract_sbuf_addc(struct sbuf *b, char c)
{
	extract_sbuf_add(b, &c, 1);
}

void
extract_sbuf_add_cp(struct sbuf *b, uint32_t cp)
{
	char u[4];
	if (cp == 0) {
		return;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
		cp = 0xfffd;
	}
	if (cp < 0x80) {
		u[0] = (char)cp;
		extract_sbuf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		extract_sbuf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		extract_sbuf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		extract_sbuf_add(b, u, 4);
	}
}

void
extract_sbuf_rtrim(struct sbuf *b)
{
	while (b->len > 0 && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t')) {
		b->p[--b->len] = '\0';
	}
}

bool
extract_sbuf_ends_with_nl(const struct sbuf *b)
{
	return b->len == 0 || b->p[b->len - 1] == '\n';
}

/* ---- plain text ---- */

int
extract_text(struct xnode *n)
{
	if (n->len == 0) {
		return 0;
	}
	/* n->buf outlives n->doc (both end with extract_node) */
	int r = text_doc_add_borrowed(n->doc, TEXT_KIND_BODY, NULL, n->buf, n->len, NULL);
	if (r == -E2BIG) {
		extract_fail_text(n->x);
	}
	return 0;
}

/* ---- type detection ---- */

enum ftype {
	FTYPE_TEXT,
	FTYPE_BINARY,
	FTYPE_HTML,
	FTYPE_MAIL,
	FTYPE_RTF,
	FTYPE_PDF,
	FTYPE_ARCHIVE,
};

static bool
has_prefix_ci(const unsigned char *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	return len >= n && !strncasecmp((const char *)p, s, n);
}

static const unsigned char *
memmem_ci(const unsigned char *h, size_t hl, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= hl; i++) {
		if (!strncasecmp((const char *)h + i, needle, nl)) {
			return h + i;
		}
	}
	return NULL;
}

/* An RFC 5322 header block at the very start, naming at least two fields
 * that mail has and other text rarely starts with. */
static bool
looks_like_mail(const unsigned char *p, size_t len)
{
	static const char *const fields[] = {
		"from:", "to:", "subject:", "date:", "message-id:",
		"mime-version:", "received:", "return-path:", "content-type:",
		"delivered-to:", "reply-to:", "cc:", "x-",
	};
	size_t lim = len < 8192 ? len : 8192, i = 0;
	unsigned known = 0, lines = 0;
	while (i < lim && lines < 64) {
		size_t s = i;
		while (i < lim && p[i] != '\n') {
			i++;
		}
		size_t e = i > s && p[i - 1] == '\r' ? i - 1 : i;
		i++;
		if (e == s) {
			break; /* end of the header block */
		}
		lines++;
		if (p[s] == ' ' || p[s] == '\t') {
			continue; /* folded */
		}
		if (lines == 1 && has_prefix_ci(p + s, e - s, "from ")) {
			continue; /* mbox separator */
		}
		size_t c = s;
		while (c < e && p[c] > ' ' && p[c] < 0x7f && p[c] != ':') {
			c++;
		}
		if (c == s || c == e || p[c] != ':') {
			return false;
		}
		for (size_t k = 0; k < LW_ARRAY_SIZE(fields); k++) {
			if (has_prefix_ci(p + s, c - s + 1, fields[k])) {
				known++;
				break;
			}
		}
	}
	return known >= 2;
}

static bool
looks_like_html(const unsigned char *p, size_t len)
{
	size_t i = 0;
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		i = 3;
	}
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
			   p[i] == '\n')) {
		i++;
	}
	if (has_prefix_ci(p + i, len - i, "<!doctype html") ||
	    has_prefix_ci(p + i, len - i, "<html") ||
	    has_prefix_ci(p + i, len - i, "<head") ||
	    has_prefix_ci(p + i, len - i, "<body")) {
		return true;
	}
	if (has_prefix_ci(p + i, len - i, "<!--") ||
	    has_prefix_ci(p + i, len - i, "<?xml")) {
		size_t lim = len < 1024 ? len : 1024;
		return memmem_ci(p, lim, "<html") != NULL;
	}
	return false;
}

/* Binary: many control bytes in the first 64 KiB, and not UTF-16. NUL
 * bytes do not count: text with NULs between paragraphs is still text
 * (text_doc drops them), and random data has plenty of other controls. */
bool
extract_looks_binary(const unsigned char *p, size_t len)
{
	size_t lim = len < 65536 ? len : 65536, ctl = 0;
	if (lim == 0) {
		return false;
	}
	/* control characters other than NUL, tab, newlines, form feed, ESC */
	static const unsigned char is_ctl[256] = {
		[1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,
		[11] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1,
		[20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1,
		[28] = 1, [29] = 1, [30] = 1, [31] = 1, [127] = 1,
	};
	size_t i = 0;
#if defined(__SSE2__)
	/* the same set, 16 bytes at a time: below 0x20 (unsigned) but not
	 * NUL, tab, LF, FF, CR or ESC; or DEL. Matches (-1) are subtracted
	 * into byte counters, summed every 255 blocks before they wrap. */
	const __m128i lim1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f),
		      zero = _mm_setzero_si128();
	static const char ok_ctl[] = {0, '\t', '\n', '\f', '\r', 0x1b};
	while (lim - i >= 16) {
		__m128i acc = zero;
		for (int blocks = 0; blocks < 255 && lim - i >= 16; blocks++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			__m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, lim1f), v);
			__m128i d = _mm_cmpeq_epi8(v, del);
			if (_mm_movemask_epi8(_mm_or_si128(low, d)) == 0) {
				continue; /* most blocks of text: nothing below 0x20 */
			}
			for (size_t k = 0; k < sizeof(ok_ctl); k++) {
				low = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(ok_ctl[k])),
						       low);
			}
			acc = _mm_sub_epi8(acc, _mm_or_si128(low, d));
		}
		__m128i sums = _mm_sad_epu8(acc, zero);
		ctl += (size_t)_mm_cvtsi128_si64(sums) +
		       (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
	}
#endif
	for (; i < lim; i++) {
		ctl += is_ctl[p[i]];
	}
	if (ctl * 20 <= lim) {
		return false; /* 5 % or less */
	}
	/* UTF-16 text is not binary. Only that question: a full sniff would
	 * validate random bytes as UTF-8 one by one, which was a fifth of
	 * the time spent on binary files. */
	return !text_is_utf16(p, lim);
}

static enum ftype
sniff(const unsigned char *p, size_t len, const char *name,
      char type[EXTRACT_TYPE_MAX])
{
	size_t head = len < 1024 ? len : 1024;
	for (size_t i = 0; i + 5 <= head; i++) {
		if (p[i] == '%' && !memcmp(p + i, "%PDF-", 5)) {
			snprintf(type, EXTRACT_TYPE_MAX, "pdf");
			return FTYPE_PDF;
		}
	}
	if ((len >= 4 && p[0] == 'P' && p[1] == 'K' &&
	     ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6) ||
	      (p[2] == 7 && p[3] == 8))) ||
	    (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	    (len >= 3 && !memcmp(p, "BZh", 3)) ||
	    (len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6)) ||
	    (len >= 6 && !memcmp(p, "7z\xbc\xaf\x27\x1c", 6)) ||
	    (len >= 262 && !memcmp(p + 257, "ustar", 5))) {
		snprintf(type, EXTRACT_TYPE_MAX, "archive");
		return FTYPE_ARCHIVE;
	}
	if (len >= 5 && !memcmp(p, "{\\rtf", 5)) {
		snprintf(type, EXTRACT_TYPE_MAX, "rtf");
		return FTYPE_RTF;
	}
	if (looks_like_html(p, len)) {
		snprintf(type, EXTRACT_TYPE_MAX, "html");
		return FTYPE_HTML;
	}
	if (looks_like_mail(p, len) ||
	    (extract_name_has_ext(name, "eml") && !extract_looks_binary(p, len))) {
		snprintf(type, EXTRACT_TYPE_MAX, "eml");
		return FTYPE_MAIL;
	}
	/* The content did not say: the name may. */
	static const char *const pdf_ext[] = { "pdf" };
	static const char *const arc_ext[] = {
		"zip", "docx", "docm", "dotx", "xlsx", "xlsm", "pptx", "pptm",
		"odt", "ods", "odp", "ott", "jar", "tar", "tgz", "gz", "bz2",
		"xz", "7z",
	};
	static const char *const html_ext[] = { "html", "htm", "xhtml" };
	for (size_t i = 0; i < LW_ARRAY_SIZE(pdf_ext); i++) {
		if (extract_name_has_ext(name, pdf_ext[i])) {
			snprintf(type, EXTRACT_TYPE_MAX, "pdf");
			return FTYPE_PDF;
		}
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(arc_ext); i++) {
		if (extract_name_has_ext(name, arc_ext[i])) {
			snprintf(type, EXTRACT_TYPE_MAX, "%s", arc_ext[i]);
			return FTYPE_ARCHIVE;
		}
	}
	if (extract_looks_binary(p, len)) {
		snprintf(type, EXTRACT_TYPE_MAX, "binary");
		return FTYPE_BINARY;
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(html_ext); i++) {
		if (extract_name_has_ext(name, html_ext[i])) {
			snprintf(type, EXTRACT_TYPE_MAX, "html");
			return FTYPE_HTML;
		}
	}
	if (extract_name_has_ext(name, "rtf")) {
		snprintf(type, EXTRACT_TYPE_MAX, "rtf");
		return FTYPE_RTF;
	}
	snprintf(type, EXTRACT_TYPE_MAX, "text");
	return FTYPE_TEXT;
}

int
extract_node(struct xctx *x, const void *buf, size_t len, const char *name,
	     const char *path, unsigned depth, char type_out[EXTRACT_TYPE_MAX])
{
	char type[EXTRACT_TYPE_MAX];
	if (!buf) {
		/* an empty member or MIME part: NULL + 0 is undefined in C (UBSan
		 * pointer-overflow, found by fuzz-extract-eml) */
		buf = "";
		len = 0;
	}
	enum ftype ft = sniff(buf, len, name, type);
	struct text_doc *doc = text_doc_new(extract_text_budget(x));
	struct xnode n = {
		.x = x, .buf = buf, .len = len, .name = name, .path = path,
		.depth = depth, .doc = doc, .type = type,
	};
	int r = 0;
	switch (ft) {
	case FTYPE_TEXT:
		r = extract_text(&n);
		break;
	case FTYPE_BINARY:
		break;
	case FTYPE_HTML:
		r = extract_html(&n);
		break;
	case FTYPE_MAIL:
		r = extract_mail(&n);
		break;
	case FTYPE_RTF:
		r = extract_rtf(&n);
		break;
	case FTYPE_PDF:
		r = extract_pdf(&n);
		break;
	case FTYPE_ARCHIVE:
		r = extract_archive(&n);
		break;
	}
	if (r == 0 && !(x->abort && x->cb_error)) {
		r = extract_emit(x, path, type, doc, depth);
	}
	text_doc_free(doc);
	if (type_out) {
		memcpy(type_out, type, EXTRACT_TYPE_MAX);
	}
	return r;
}

int
extract_buffer(const void *buf, size_t len, const char *name_hint,
	       const struct extract_limits *lim, extract_member_fn fn,
	       void *ctx, struct extract_result *out)
{
	*out = (struct extract_result){ 0 };
	struct xctx x = { .fn = fn, .fn_ctx = ctx, .out = out, .input_len = len };
	extract_limits_default(&x.lim);
	if (lim) {
		/* Zero fields keep their defaults. */
		if (lim->max_text_bytes) {
			x.lim.max_text_bytes = lim->max_text_bytes;
		}
		if (lim->max_depth) {
			x.lim.max_depth = lim->max_depth;
		}
		if (lim->max_members) {
			x.lim.max_members = lim->max_members;
		}
		if (lim->max_ratio > 0) {
			x.lim.max_ratio = lim->max_ratio;
		}
		if (lim->max_member_bytes) {
			x.lim.max_member_bytes = lim->max_member_bytes;
		}
		if (lim->max_expanded_bytes) {
			x.lim.max_expanded_bytes = lim->max_expanded_bytes;
		}
		if (lim->max_xml_depth) {
			x.lim.max_xml_depth = lim->max_xml_depth;
		}
		x.lim.deadline_ns = lim->deadline_ns;
	}
	if (!buf) {
		len = 0;
		buf = "";
	}
	int r = extract_node(&x, buf, len, name_hint, "", 0, out->type);
	return r < 0 ? r : 0;
}
