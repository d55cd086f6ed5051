/* extract-html.c — HTML to text, hand-written: a forgiving single-pass
 * tokenizer (no tree, no recursion, O(n), bounded by the text budget).
 * Character references are decoded (numeric and the HTML 4 names),
 * <script> and <style> content is dropped, block elements end lines, table
 * cells are tab-separated, <title> and <meta name/property content> become
 * PROPERTY segments (never BODY: the first body line is a banner position).
 * A tag soup parser is enough for text (libxml2's HTML parser would add a
 * dependency and a DOM for no gain in what we read). Runs on the caller's
 * thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "extract-html-entities.h"
#include "extract-private.h"
#include "mem.h"

static int
ent_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct html_entity *)e)->name);
}

/* Decodes a character reference at s[0] == '&'. Returns the bytes
 * consumed (0: not a reference, emit '&' as is) and sets *cp. */
static size_t
entity(const char *s, size_t len, uint32_t *cp)
{
	size_t i = 1;
	if (i < len && s[i] == '#') {
		i++;
		int base = 10;
		if (i < len && (s[i] == 'x' || s[i] == 'X')) {
			base = 16;
			i++;
		}
		uint32_t v = 0;
		size_t d0 = i;
		for (; i < len && i - d0 < 8; i++) {
			char c = s[i];
			int dv = c >= '0' && c <= '9' ? c - '0'
				 : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
				 : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
								      : -1;
			if (dv < 0) {
				break;
			}
			v = v * (uint32_t)base + (uint32_t)dv;
		}
		if (i == d0) {
			return 0;
		}
		if (i < len && s[i] == ';') {
			i++;
		}
		/* Windows-1252 C1 range, as browsers do. */
		static const uint16_t c1[32] = {
			0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
			0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
			0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
			0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
		};
		*cp = v >= 0x80 && v < 0xa0 ? c1[v - 0x80] : v ? v : 0xfffd;
		return i;
	}
	char name[40];
	size_t k = 0;
	while (i < len && k + 1 < sizeof(name) &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		(s[i] >= '0' && s[i] <= '9'))) {
		name[k++] = s[i++];
	}
	name[k] = '\0';
	if (k == 0) {
		return 0;
	}
	const struct html_entity *e = bsearch(name, html_entities,
					      LW_ARRAY_SIZE(html_entities),
					      sizeof(html_entities[0]), ent_cmp);
	if (!e) {
		return 0;
	}
	if (i < len && s[i] == ';') {
		i++;
	}
	*cp = e->cp;
	return i;
}

/* Appends text with references decoded; whitespace collapsed unless @pre.
 * A run of whitespace that holds a line break becomes a line break, not a
 * space: a browser would join the lines, but a marking standing alone on
 * the first or last source line of a page is a banner to any reader of the
 * file, and only a page's edge lines are ever read as banners. */
static void
add_text(struct sbuf *b, const char *s, size_t len, bool pre)
{
	/* Bytes copied as they are, in runs: one append per run rather than
	 * per byte, which was most of the time spent on HTML. */
	static const bool special[2][256] = {
		{['&'] = true, ['\n'] = true, [' '] = true, ['\t'] = true, ['\r'] = true,
		 ['\f'] = true},
		{['&'] = true, ['\r'] = true}, /* in <pre> */
	};
	const bool *sp = special[pre];
	for (size_t i = 0; i < len; i++) {
		size_t run = i;
#if defined(__SSE2__)
		/* The same rule 16 bytes at a time, from the run's second byte
		 * (whose predecessor is in the run): stop at a special byte, or
		 * at a space after a space. */
		if (run < len && !sp[(unsigned char)s[run]]) {
			run++;
			const __m128i amp = _mm_set1_epi8('&'), cr = _mm_set1_epi8('\r'),
				      lf = _mm_set1_epi8('\n'), tab = _mm_set1_epi8('\t'),
				      ff = _mm_set1_epi8('\f'), spc = _mm_set1_epi8(' ');
			while (len - run >= 16) {
				__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + run));
				__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, cr));
				if (!pre) {
					__m128i prev = _mm_loadu_si128(
						(const __m128i *)(const void *)(s + run - 1));
					m = _mm_or_si128(m, _mm_cmpeq_epi8(v, lf));
					m = _mm_or_si128(m, _mm_cmpeq_epi8(v, tab));
					m = _mm_or_si128(m, _mm_cmpeq_epi8(v, ff));
					m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v, spc),
									  _mm_cmpeq_epi8(prev, spc)));
				}
				unsigned bits = (unsigned)_mm_movemask_epi8(m);
				if (bits) {
					run += (size_t)__builtin_ctz(bits);
					break;
				}
				run += 16;
			}
		}
#endif
		while (run < len) {
			unsigned char ch = (unsigned char)s[run];
			/* one space after a byte of this run is kept as it is,
			 * exactly what the collapsing below would do */
			if (!sp[ch] || (ch == ' ' && !pre && run > i && s[run - 1] != ' ')) {
				run++;
			} else {
				break;
			}
		}
		if (run > i) {
			extract_sbuf_add(b, s + i, run - i);
			i = run;
			if (i == len) {
				break;
			}
		}
		char c = s[i];
		uint32_t cp;
		size_t n;
		if (c == '&' && (n = entity(s + i, len - i, &cp)) > 0) {
			i += n - 1;
			if (cp == 0xa0 && !pre) {
				c = ' ';
			} else {
				extract_sbuf_add_cp(b, cp);
				continue;
			}
		}
		if (!pre && c == '\n') {
			if (b->len > 0 && b->p[b->len - 1] == ' ') {
				b->p[b->len - 1] = '\n';
			} else if (b->len > 0 && b->p[b->len - 1] != '\n') {
				extract_sbuf_addc(b, '\n');
			}
			continue;
		}
		if (!pre && (c == ' ' || c == '\t' || c == '\r' || c == '\f')) {
			if (b->len > 0 && b->p[b->len - 1] != ' ' &&
			    b->p[b->len - 1] != '\n' && b->p[b->len - 1] != '\t') {
				extract_sbuf_addc(b, ' ');
			}
			continue;
		}
		if (c == '\r') {
			continue;
		}
		extract_sbuf_addc(b, c);
	}
}

/* The tags the text extraction treats specially; looked up once per tag
 * (the names were compared a dozen times per tag with strcmp). */
enum tag_id {
	TAG_OTHER, TAG_SCRIPT, TAG_STYLE, TAG_TITLE, TAG_META, TAG_PRE, TAG_CELL, TAG_BR,
	TAG_BLOCK, /* a line break before and after */
};

static const struct {
	const char *name;
	enum tag_id id;
} known_tags[] = {
	{"script", TAG_SCRIPT}, {"style", TAG_STYLE}, {"title", TAG_TITLE},
	{"meta", TAG_META}, {"pre", TAG_PRE}, {"td", TAG_CELL}, {"th", TAG_CELL},
	{"br", TAG_BR},
	{"address", TAG_BLOCK}, {"article", TAG_BLOCK}, {"aside", TAG_BLOCK},
	{"blockquote", TAG_BLOCK}, {"body", TAG_BLOCK}, {"caption", TAG_BLOCK},
	{"dd", TAG_BLOCK}, {"div", TAG_BLOCK}, {"dl", TAG_BLOCK}, {"dt", TAG_BLOCK},
	{"fieldset", TAG_BLOCK}, {"figcaption", TAG_BLOCK}, {"figure", TAG_BLOCK},
	{"footer", TAG_BLOCK}, {"form", TAG_BLOCK}, {"h1", TAG_BLOCK}, {"h2", TAG_BLOCK},
	{"h3", TAG_BLOCK}, {"h4", TAG_BLOCK}, {"h5", TAG_BLOCK}, {"h6", TAG_BLOCK},
	{"header", TAG_BLOCK}, {"hr", TAG_BLOCK}, {"html", TAG_BLOCK}, {"li", TAG_BLOCK},
	{"main", TAG_BLOCK}, {"nav", TAG_BLOCK}, {"ol", TAG_BLOCK}, {"p", TAG_BLOCK},
	{"section", TAG_BLOCK}, {"table", TAG_BLOCK}, {"tbody", TAG_BLOCK},
	{"tfoot", TAG_BLOCK}, {"thead", TAG_BLOCK}, {"tr", TAG_BLOCK}, {"ul", TAG_BLOCK},
};

static enum tag_id
tag_id(const char *name, size_t len)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(known_tags); i++) {
		const char *k = known_tags[i].name;
		if (k[0] == name[0] && strlen(k) == len && memcmp(k, name, len) == 0) {
			return known_tags[i].id;
		}
	}
	return TAG_OTHER;
}

/* Finds "</name" (case-insensitive) from @i; returns its index or len. */
static size_t
find_close(const char *s, size_t len, size_t i, const char *name)
{
	size_t nl = strlen(name);
	for (; i + 2 + nl <= len; i++) {
		if (s[i] == '<' && s[i + 1] == '/' &&
		    !strncasecmp(s + i + 2, name, nl)) {
			return i;
		}
	}
	return len;
}

struct tag {
	char name[16];
	enum tag_id id;
	bool closing, self_closing;
	const char *meta_name, *content;
	size_t meta_name_len, content_len;
};

/* Parses a tag at s[i] == '<'; returns the index after '>' (or len). */
static size_t
parse_tag(const char *s, size_t len, size_t i, struct tag *t)
{
	*t = (struct tag){ 0 };
	i++;
	if (i < len && s[i] == '/') {
		t->closing = true;
		i++;
	}
	size_t k = 0;
	while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			   (s[i] >= '0' && s[i] <= '9'))) {
		if (k + 1 < sizeof(t->name)) {
			t->name[k++] = (char)(s[i] | 0x20);
		}
		i++;
	}
	t->name[k] = '\0';
	t->id = k ? tag_id(t->name, k) : TAG_OTHER;
	bool meta = t->id == TAG_META;
	while (i < len && s[i] != '>') {
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '>') {
			t->self_closing = true;
			i++;
			continue;
		}
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
		    s[i] == '/') {
			i++;
			continue;
		}
		size_t an = i;
		while (i < len && s[i] != '=' && s[i] != '>' && s[i] != ' ' &&
		       s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
			i++;
		}
		size_t anl = i - an;
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
				   s[i] == '\r')) {
			i++;
		}
		const char *v = NULL;
		size_t vl = 0;
		if (i < len && s[i] == '=') {
			i++;
			while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
					   s[i] == '\r')) {
				i++;
			}
			if (i < len && (s[i] == '"' || s[i] == '\'')) {
				char q = s[i++];
				v = s + i;
				const char *e = memchr(s + i, q, len - i);
				vl = e ? (size_t)(e - v) : len - i;
				i += vl + (e ? 1 : 0);
			} else {
				v = s + i;
				while (i < len && s[i] != '>' && s[i] != ' ' &&
				       s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
					i++;
				}
				vl = (size_t)(s + i - v);
			}
		}
		if (meta && v) {
			if ((anl == 4 && !strncasecmp(s + an, "name", 4)) ||
			    (anl == 8 && !strncasecmp(s + an, "property", 8)) ||
			    (anl == 10 && !strncasecmp(s + an, "http-equiv", 10))) {
				t->meta_name = v;
				t->meta_name_len = vl;
			} else if (anl == 7 && !strncasecmp(s + an, "content", 7)) {
				t->content = v;
				t->content_len = vl;
			}
		}
	}
	return i < len ? i + 1 : len;
}

static void
add_prop(struct xctx *x, struct text_doc *doc, const char *name, size_t nl,
	 const char *val, size_t vl)
{
	struct sbuf n, v;
	extract_sbuf_init(&n, 256);
	extract_sbuf_init(&v, extract_text_budget(x) + 1);
	add_text(&n, name, nl, false);
	add_text(&v, val, vl, false);
	if (n.len && v.len) {
		extract_add(x, doc, TEXT_KIND_PROPERTY, n.p, v.p, v.len);
	}
	extract_sbuf_fini(&n);
	extract_sbuf_fini(&v);
}

void
extract_html_utf8(struct xctx *x, struct text_doc *doc, const char *s,
		  size_t len)
{
	struct sbuf body;
	extract_sbuf_init(&body, extract_text_budget(x) + 1);
	/* the text is rarely longer than the markup: no growing copies */
	extract_sbuf_reserve(&body, len + 64);
	unsigned pre = 0;
	size_t i = 0, steps = 0;
	while (i < len) {
		if ((++steps & 1023) == 0 && extract_should_stop(x, false)) {
			break;
		}
		if (s[i] != '<') {
			const char *lt = memchr(s + i, '<', len - i);
			size_t e = lt ? (size_t)(lt - s) : len;
			add_text(&body, s + i, e - i, pre > 0);
			i = e;
			continue;
		}
		if (i + 4 <= len && !memcmp(s + i, "<!--", 4)) {
			const char *e = memmem(s + i + 4, len - i - 4, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : len;
			continue;
		}
		if (i + 1 < len && (s[i + 1] == '!' || s[i + 1] == '?')) {
			const char *e = memchr(s + i, '>', len - i);
			i = e ? (size_t)(e - s) + 1 : len;
			continue;
		}
		bool letter = i + 1 < len && ((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z');
		bool close = i + 2 < len && s[i + 1] == '/' &&
			     ((s[i + 2] | 0x20) >= 'a' && (s[i + 2] | 0x20) <= 'z');
		if (!letter && !close) {
			extract_sbuf_addc(&body, '<');
			i++;
			continue;
		}
		struct tag t;
		i = parse_tag(s, len, i, &t);
		if (!t.closing && (t.id == TAG_SCRIPT || t.id == TAG_STYLE)) {
			if (!t.self_closing) {
				i = find_close(s, len, i, t.name);
			}
			continue;
		}
		if (!t.closing && t.id == TAG_TITLE) {
			size_t e = find_close(s, len, i, "title");
			add_prop(x, doc, "title", 5, s + i, e - i);
			i = e;
			continue;
		}
		if (t.id == TAG_META && t.meta_name && t.content) {
			add_prop(x, doc, t.meta_name, t.meta_name_len, t.content,
				 t.content_len);
			continue;
		}
		if (t.id == TAG_PRE) {
			pre = t.closing ? (pre ? pre - 1 : 0) : pre + 1;
		}
		if (t.id == TAG_CELL && t.closing) {
			extract_sbuf_rtrim(&body);
			extract_sbuf_addc(&body, '\t');
		} else if (t.id == TAG_BLOCK || t.id == TAG_BR || t.id == TAG_PRE) {
			extract_sbuf_rtrim(&body);
			if (t.id == TAG_BR || !extract_sbuf_ends_with_nl(&body)) {
				extract_sbuf_addc(&body, '\n');
			}
		}
	}
	if (body.full) {
		extract_fail_text(x);
	}
	extract_add_sbuf(x, doc, TEXT_KIND_BODY, NULL, &body);
	extract_sbuf_fini(&body);
}

int
extract_html(struct xnode *n)
{
	/* most pages are UTF-8 already: parsed where they are */
	if (text_is_plain_utf8(n->buf, n->len)) {
		extract_html_utf8(n->x, n->doc, (const char *)n->buf, n->len);
		return 0;
	}
	char *u = NULL;
	size_t ul = 0;
	text_decode(n->buf, n->len, 0, &u, &ul, NULL);
	if (u) {
		extract_html_utf8(n->x, n->doc, u, ul);
		extract_free_wipe(u, ul);
	}
	return 0;
}
