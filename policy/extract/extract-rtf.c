/* extract-rtf.c — RTF to text, hand-written (there is no well-kept RTF
 * library in Debian): one pass over the bytes with an explicit group stack
 * (no recursion; nesting beyond RTF_MAX_GROUPS is tracked by a counter only).
 *
 * Body text goes to one BODY segment (\page becomes \f, a page break);
 * {\header...}/{\footer...} groups (and their l/r/f variants) become HEADER /
 * FOOTER segments; {\footnote} and {\annotation} AUX; {\info {\title}...}
 * fields and {\*\userprops {\propname X}{\staticval Y}} custom properties
 * PROPERTY segments. \'hh bytes are read in Windows-1252 (\ansicpg other
 * than 1252 is read the same way: an approximation), \uN with the \ucN
 * fallback skipping and surrogate pairs; \binN data and non-text
 * destinations (font/colour/style tables, pictures, objects, field
 * instructions, unknown \* destinations) are skipped. Runs on the caller's
 * thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extract-private.h"
#include "mem.h"

#define RTF_MAX_GROUPS 1024

enum rdest {
	RD_BODY,
	RD_HEADER,
	RD_FOOTER,
	RD_AUX,
	RD_INFO,      /* inside {\info}: text only inside fields */
	RD_FIELD,     /* an \info field: title, subject, ... */
	RD_USERPROPS, /* inside {\*\userprops} */
	RD_PROPNAME,
	RD_PROPVAL,
	RD_SKIP,
};

struct rstate {
	enum rdest dest;
	unsigned uc;
	bool owner; /* this group opened dest */
	char field[16];
};

struct rtf {
	struct xctx *x;
	struct text_doc *doc;
	struct rstate st[RTF_MAX_GROUPS];
	unsigned depth, overflow;
	bool group_start, star;
	unsigned skip; /* \uN fallback characters still to skip */
	uint32_t high; /* pending high surrogate */
	struct sbuf body, hf, aux, field, pname, pval;
};

static const uint16_t cp1252[32] = {
	0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
	0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
};

static struct rstate *
cur(struct rtf *r)
{
	return &r->st[r->depth];
}

static struct sbuf *
sink(struct rtf *r)
{
	switch (cur(r)->dest) {
	case RD_BODY:
		return &r->body;
	case RD_HEADER:
	case RD_FOOTER:
		return &r->hf;
	case RD_AUX:
		return &r->aux;
	case RD_FIELD:
		return &r->field;
	case RD_PROPNAME:
		return &r->pname;
	case RD_PROPVAL:
		return &r->pval;
	case RD_INFO:
	case RD_USERPROPS:
	case RD_SKIP:
		return NULL;
	}
	return NULL;
}

static void
emit_cp(struct rtf *r, uint32_t cp)
{
	if (r->skip > 0) {
		r->skip--;
		return;
	}
	struct sbuf *b = sink(r);
	if (b) {
		extract_sbuf_add_cp(b, cp);
	}
}

static void
emit_byte(struct rtf *r, unsigned char c)
{
	emit_cp(r, c >= 0x80 && c < 0xa0 ? cp1252[c - 0x80] : c);
}

static void
emit_str(struct rtf *r, const char *s)
{
	struct sbuf *b = sink(r);
	if (b) {
		extract_sbuf_add(b, s, strlen(s));
	}
}

static void
seg(struct rtf *r, struct sbuf *b, enum text_kind kind, const char *name)
{
	size_t s = 0, e = b->len;
	while (s < e && (b->p[s] == ' ' || b->p[s] == '\n' || b->p[s] == '\t')) {
		s++;
	}
	while (e > s && (b->p[e - 1] == ' ' || b->p[e - 1] == '\n' ||
			 b->p[e - 1] == '\t' || b->p[e - 1] == '\f')) {
		e--;
	}
	if (e > s) {
		extract_add(r->x, r->doc, kind, name, b->p + s, e - s);
	}
	if (b->full) {
		extract_fail_text(r->x);
	}
	extract_sbuf_reset(b);
}

/* A group that opened a destination closes. */
static void
close_dest(struct rtf *r, struct rstate *s)
{
	switch (s->dest) {
	case RD_HEADER:
		seg(r, &r->hf, TEXT_KIND_HEADER, NULL);
		break;
	case RD_FOOTER:
		seg(r, &r->hf, TEXT_KIND_FOOTER, NULL);
		break;
	case RD_FIELD:
		seg(r, &r->field, TEXT_KIND_PROPERTY, s->field);
		break;
	case RD_PROPVAL:
		if (r->pname.len) {
			seg(r, &r->pval, TEXT_KIND_PROPERTY, r->pname.p);
		}
		extract_sbuf_reset(&r->pval);
		break;
	case RD_USERPROPS:
		extract_sbuf_reset(&r->pname);
		break;
	case RD_BODY:
	case RD_AUX:
	case RD_INFO:
	case RD_PROPNAME:
	case RD_SKIP:
		break;
	}
}

static bool
word_in(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(w, list[i])) {
			return true;
		}
	}
	return false;
}

static const char *const skip_dests[] = {
	"fonttbl", "colortbl", "stylesheet", "listtable", "listoverridetable",
	"pict", "themedata", "colorschememapping", "datastore", "latentstyles",
	"xmlnstbl", "rsidtbl", "generator", "filetbl", "revtbl", "pgdsctbl",
	"fldinst", "bkmkstart", "bkmkend", "objdata", "objclass", "objname",
	"nonshppict", "sp", "xe", "tc", "private", "blipuid", "panose", "falt",
	"fontemb", "fontfile", "mmathPr", "wgrffmtfilter", "listpicture",
	"docvar", "xmlopen", "xmlattrname", "xmlattrvalue", "template",
	"passwordhash", "protusertbl", "atnid", "atnauthor", "atndate",
	"atnref", "mhtmltag", "background", "defchp", "defpap",
};
static const char *const info_fields[] = {
	"title", "subject", "author", "keywords", "doccomm", "category",
	"company", "operator", "manager", "comment", "hlinkbase",
};

static void
control(struct rtf *r, const char *w, bool has_arg, long arg)
{
	struct rstate *s = cur(r);
	bool first = r->group_start;
	bool star = r->star;
	r->group_start = false;
	r->star = false;
	/* Destinations (only as a group's first word). */
	if (first) {
		enum rdest d = RD_SKIP;
		bool is_dest = true;
		if (s->dest == RD_SKIP) {
			return;
		}
		if (!strcmp(w, "header") || !strcmp(w, "headerl") ||
		    !strcmp(w, "headerr") || !strcmp(w, "headerf")) {
			d = RD_HEADER;
		} else if (!strcmp(w, "footer") || !strcmp(w, "footerl") ||
			   !strcmp(w, "footerr") || !strcmp(w, "footerf")) {
			d = RD_FOOTER;
		} else if (!strcmp(w, "footnote") || !strcmp(w, "annotation")) {
			d = RD_AUX;
		} else if (!strcmp(w, "info")) {
			d = RD_INFO;
		} else if (s->dest == RD_INFO &&
			   word_in(w, info_fields, LW_ARRAY_SIZE(info_fields))) {
			d = RD_FIELD;
			memcpy(s->field, w, strlen(w) + 1);
		} else if (s->dest == RD_INFO) {
			d = RD_SKIP; /* dates, counts, version numbers */
		} else if (!strcmp(w, "userprops")) {
			d = RD_USERPROPS;
		} else if (s->dest == RD_USERPROPS && !strcmp(w, "propname")) {
			extract_sbuf_reset(&r->pname);
			d = RD_PROPNAME;
		} else if (s->dest == RD_USERPROPS && !strcmp(w, "staticval")) {
			d = RD_PROPVAL;
		} else if (word_in(w, skip_dests, LW_ARRAY_SIZE(skip_dests)) || star) {
			d = RD_SKIP;
		} else {
			is_dest = false;
		}
		if (is_dest) {
			if (d == RD_HEADER || d == RD_FOOTER) {
				extract_sbuf_reset(&r->hf);
			}
			s->dest = d;
			s->owner = true;
			return;
		}
	}
	if (s->dest == RD_SKIP) {
		return;
	}
	if (r->skip > 0 && strcmp(w, "u")) {
		r->skip--;
		return;
	}
	if (!strcmp(w, "par") || !strcmp(w, "line") || !strcmp(w, "row") ||
	    !strcmp(w, "sect")) {
		struct sbuf *b = sink(r);
		if (b) {
			extract_sbuf_rtrim(b);
			extract_sbuf_addc(b, '\n');
		}
	} else if (!strcmp(w, "page")) {
		struct sbuf *b = sink(r);
		if (b) {
			extract_sbuf_rtrim(b);
			extract_sbuf_addc(b, s->dest == RD_BODY ? '\f' : '\n');
		}
	} else if (!strcmp(w, "tab") || !strcmp(w, "cell")) {
		emit_str(r, "\t");
	} else if (!strcmp(w, "u") && has_arg) {
		uint32_t cp = (uint32_t)(arg < 0 ? arg + 65536 : arg) & 0xffff;
		unsigned uc = s->uc;
		if (cp >= 0xd800 && cp < 0xdc00) {
			r->high = cp;
		} else {
			if (cp >= 0xdc00 && cp < 0xe000 && r->high) {
				cp = 0x10000 + ((r->high - 0xd800) << 10) + (cp - 0xdc00);
			}
			r->high = 0;
			r->skip = 0;
			emit_cp(r, cp);
		}
		r->skip = uc;
	} else if (!strcmp(w, "uc") && has_arg) {
		s->uc = arg < 0 ? 0 : arg > 8 ? 8 : (unsigned)arg;
	} else if (!strcmp(w, "emdash")) {
		emit_cp(r, 0x2014);
	} else if (!strcmp(w, "endash")) {
		emit_cp(r, 0x2013);
	} else if (!strcmp(w, "bullet")) {
		emit_cp(r, 0x2022);
	} else if (!strcmp(w, "lquote")) {
		emit_cp(r, 0x2018);
	} else if (!strcmp(w, "rquote")) {
		emit_cp(r, 0x2019);
	} else if (!strcmp(w, "ldblquote")) {
		emit_cp(r, 0x201c);
	} else if (!strcmp(w, "rdblquote")) {
		emit_cp(r, 0x201d);
	} else if (!strcmp(w, "emspace") || !strcmp(w, "enspace") ||
		   !strcmp(w, "qmspace")) {
		emit_cp(r, ' ');
	}
}

static int
hexv(unsigned char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static void
run(struct rtf *r, const unsigned char *p, size_t len)
{
	size_t i = 0, steps = 0;
	bool warned = false;
	while (i < len) {
		if ((++steps & 4095) == 0 && extract_should_stop(r->x, false)) {
			return;
		}
		unsigned char c = p[i];
		if (c == '{') {
			i++;
			if (r->depth + 1 >= RTF_MAX_GROUPS) {
				r->overflow++;
				if (!warned) {
					extract_fail(r->x, EXTRACT_STOP_MALFORMED,
						     "rtf: groups nested deeper than %d",
						     RTF_MAX_GROUPS);
					warned = true;
				}
				continue;
			}
			r->st[r->depth + 1] = *cur(r);
			r->st[r->depth + 1].owner = false;
			r->depth++;
			r->group_start = true;
			continue;
		}
		if (c == '}') {
			i++;
			r->group_start = false;
			if (r->overflow) {
				r->overflow--;
				continue;
			}
			if (r->depth == 0) {
				continue; /* unbalanced: ignore */
			}
			struct rstate *s = cur(r);
			if (s->owner) {
				close_dest(r, s);
			}
			r->depth--;
			continue;
		}
		if (c == '\\' && i + 1 < len) {
			unsigned char d = p[i + 1];
			if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')) {
				char w[33];
				size_t k = 0;
				i++;
				while (i < len && ((p[i] >= 'a' && p[i] <= 'z') ||
						   (p[i] >= 'A' && p[i] <= 'Z'))) {
					if (k < sizeof(w) - 1) {
						w[k++] = (char)p[i];
					}
					i++;
				}
				w[k] = '\0';
				bool neg = false, has = false;
				long arg = 0;
				if (i < len && p[i] == '-') {
					neg = true;
					i++;
				}
				while (i < len && p[i] >= '0' && p[i] <= '9') {
					if (arg < 100000000) {
						arg = arg * 10 + (p[i] - '0');
					}
					has = true;
					i++;
				}
				if (neg) {
					arg = -arg;
				}
				if (i < len && p[i] == ' ') {
					i++;
				}
				if (!strcmp(w, "bin") && has && arg > 0) {
					size_t skipn = (size_t)arg;
					i += skipn < len - i ? skipn : len - i;
					continue;
				}
				control(r, w, has, arg);
				continue;
			}
			i += 2;
			if (d == '*') {
				r->star = true;
				continue;
			}
			if (cur(r)->dest == RD_SKIP) {
				if (d == '\'') {
					i += 2;
				}
				continue;
			}
			r->group_start = false;
			if (d == '\'') {
				int h1 = i < len ? hexv(p[i]) : -1;
				int h2 = i + 1 < len ? hexv(p[i + 1]) : -1;
				if (h1 >= 0 && h2 >= 0) {
					emit_byte(r, (unsigned char)(h1 * 16 + h2));
					i += 2;
				}
			} else if (d == '\\' || d == '{' || d == '}') {
				emit_byte(r, d);
			} else if (d == '~') {
				emit_cp(r, ' ');
			} else if (d == '_') {
				emit_cp(r, '-');
			} else if (d == '\n' || d == '\r') {
				control(r, "par", false, 0);
			}
			continue;
		}
		i++;
		if (c == '\r' || c == '\n') {
			continue;
		}
		r->group_start = false;
		if (cur(r)->dest != RD_SKIP) {
			emit_byte(r, c);
		}
	}
}

int
extract_rtf(struct xnode *n)
{
	struct rtf *r = lw_new(struct rtf, 1);
	size_t cap = extract_text_budget(n->x) + 1;
	r->x = n->x;
	r->doc = n->doc;
	r->st[0] = (struct rstate){ .dest = RD_BODY, .uc = 1 };
	extract_sbuf_init(&r->body, cap);
	extract_sbuf_init(&r->hf, cap);
	extract_sbuf_init(&r->aux, cap);
	extract_sbuf_init(&r->field, 64 << 10);
	extract_sbuf_init(&r->pname, 1024);
	extract_sbuf_init(&r->pval, 64 << 10);
	run(r, n->buf, n->len);
	seg(r, &r->body, TEXT_KIND_BODY, NULL);
	seg(r, &r->aux, TEXT_KIND_AUX, NULL);
	extract_sbuf_fini(&r->body);
	extract_sbuf_fini(&r->hf);
	extract_sbuf_fini(&r->aux);
	extract_sbuf_fini(&r->field);
	extract_sbuf_fini(&r->pname);
	extract_sbuf_fini(&r->pval);
	free(r);
	return 0;
}
