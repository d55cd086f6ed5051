/* extract-xml.c — expat handlers for the XML parts of OOXML (docx, xlsx,
 * pptx), ODF (odt, ods, odp) and XMP packets. Each part is streamed through
 * one expat parser (chunks straight from libarchive), so memory is bounded
 * by the text kept, not by the part's size. Elements are matched by local
 * name (namespace-aware parser), which covers both the transitional and the
 * strict OOXML namespaces. See extract-xml.h for the hostile-input rules.
 * Runs on the caller's thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "extract-xml.h"
#include "mem.h"

#define NS_SEP '\x01'
#define SST_MAX_STRINGS ((size_t)4 << 20)
#define SHEET_MAX_GAP 256

void
extract_xsst_init(struct xsst *s, size_t max_bytes)
{
	*s = (struct xsst){ 0 };
	extract_sbuf_init(&s->text, max_bytes);
}

void
extract_xsst_fini(struct xsst *s)
{
	extract_sbuf_fini(&s->text);
	free(s->off);
	*s = (struct xsst){ 0 };
}

static const char *
xsst_get(const struct xsst *s, const char *idx)
{
	char *end;
	unsigned long i = strtoul(idx, &end, 10);
	if (end == idx || i >= s->n || !s->text.p) {
		return "";
	}
	return s->text.p + s->off[i];
}

struct xpart {
	XML_Parser p;
	struct xctx *x;
	struct text_doc *doc;
	enum xpart_kind kind;
	const char *odf_type;
	struct xsst *sst;
	char *where;
	unsigned depth;
	bool stopped;
	unsigned skip_depth;  /* > 0: inside a skipped subtree from here */
	bool in_t;            /* collecting character data (OOXML t/v) */
	bool in_r;            /* inside an OOXML run */
	struct sbuf cur;      /* current BODY text */
	struct sbuf aux;      /* notes, annotations */
	unsigned aux_depth;
	/* xlsx sheet */
	struct sbuf cell;
	long col, tabs;
	bool row_has;
	char ctype;
	bool in_cell;
	/* header/footer part inside a bigger part (xlsx, ODF styles) */
	struct sbuf hf;
	unsigned hf_depth;
	enum text_kind hf_kind;
	/* ODF */
	bool in_body;
	unsigned cell_depth;
	unsigned unit_depth;  /* ods sheet / odp page element depth */
	bool in_master;
	/* properties */
	char *prop_name;
	unsigned prop_depth;
	/* XMP: qualified-name stack */
	char **stack;
};

static const char *
local_name(const char *n)
{
	const char *s = strrchr(n, NS_SEP);
	return s ? s + 1 : n;
}

static const char *
attr(const char **atts, const char *local)
{
	for (size_t i = 0; atts[i]; i += 2) {
		if (!strcmp(local_name(atts[i]), local)) {
			return atts[i + 1];
		}
	}
	return NULL;
}

static void
stop(struct xpart *p)
{
	if (!p->stopped) {
		p->stopped = true;
		XML_StopParser(p->p, XML_FALSE);
	}
}

/* Adds trimmed @b as a segment and resets it. */
static void
flush(struct xpart *p, struct sbuf *b, enum text_kind kind, const char *name)
{
	size_t s = 0, e = b->len;
	while (s < e && (b->p[s] == ' ' || b->p[s] == '\n' || b->p[s] == '\t' ||
			 b->p[s] == '\r')) {
		s++;
	}
	while (e > s && (b->p[e - 1] == ' ' || b->p[e - 1] == '\n' ||
			 b->p[e - 1] == '\t' || b->p[e - 1] == '\r')) {
		e--;
	}
	if (e > s) {
		extract_add(p->x, p->doc, kind, name, b->p + s, e - s);
	}
	if (b->full) {
		extract_fail_text(p->x);
	}
	extract_sbuf_reset(b);
}

static void
end_line(struct sbuf *b)
{
	extract_sbuf_rtrim(b);
	extract_sbuf_addc(b, '\n');
}

static enum text_kind
word_kind(enum xpart_kind k)
{
	switch (k) {
	case XPART_WORD_HEADER:
		return TEXT_KIND_HEADER;
	case XPART_WORD_FOOTER:
		return TEXT_KIND_FOOTER;
	case XPART_WORD_AUX:
		return TEXT_KIND_AUX;
	case XPART_WORD_BODY:
	case XPART_SLIDE:
	case XPART_SST:
	case XPART_SHEET:
	case XPART_CORE:
	case XPART_CUSTOM:
	case XPART_ODF_CONTENT:
	case XPART_ODF_STYLES:
	case XPART_ODF_META:
	case XPART_XMP:
		return TEXT_KIND_BODY;
	}
	return TEXT_KIND_BODY;
}

/* Column number of an A1 reference ("C7" -> 3), 0 if none. */
static long
a1_col(const char *r)
{
	long c = 0;
	for (; r && *r >= 'A' && *r <= 'Z'; r++) {
		c = c * 26 + (*r - 'A' + 1);
		if (c > 16384) {
			return 16384;
		}
	}
	return c;
}

static struct sbuf *
odf_sink(struct xpart *p)
{
	if (p->hf_depth) {
		return &p->hf;
	}
	if (p->aux_depth) {
		return &p->aux;
	}
	return &p->cur;
}

static void
start_word(struct xpart *p, const char *ln)
{
	if (!strcmp(ln, "Fallback")) {
		p->skip_depth = p->depth; /* mc:AlternateContent duplicate */
	} else if (!strcmp(ln, "t")) {
		p->in_t = true;
	} else if (!strcmp(ln, "r")) {
		p->in_r = true;
	} else if (p->in_r && !strcmp(ln, "tab")) {
		extract_sbuf_addc(&p->cur, '\t');
	} else if (!strcmp(ln, "br") || !strcmp(ln, "cr")) {
		extract_sbuf_addc(&p->cur, '\n');
	} else if (p->in_r && !strcmp(ln, "noBreakHyphen")) {
		extract_sbuf_addc(&p->cur, '-');
	}
}

static void
end_word(struct xpart *p, const char *ln)
{
	if (!strcmp(ln, "t")) {
		p->in_t = false;
	} else if (!strcmp(ln, "r")) {
		p->in_r = false;
	} else if (!strcmp(ln, "p")) {
		end_line(&p->cur);
	}
}

static void
start_sheet(struct xpart *p, const char *ln, const char **atts)
{
	if (!strcmp(ln, "row")) {
		p->tabs = 0;
		p->row_has = false;
	} else if (!strcmp(ln, "c")) {
		const char *r = attr(atts, "r"), *t = attr(atts, "t");
		long c = a1_col(r);
		p->col = c > 0 ? c : p->col + 1;
		p->ctype = !t ? 'n' : !strcmp(t, "s") ? 's' : !strcmp(t, "b") ? 'b'
			 : !strcmp(t, "e") ? 'e' : 'i';
		p->in_cell = true;
		extract_sbuf_reset(&p->cell);
	} else if (p->in_cell && (!strcmp(ln, "v") || !strcmp(ln, "t"))) {
		p->in_t = true;
	} else if (!strcmp(ln, "rPh")) {
		p->skip_depth = p->depth;
	} else if (!strcmp(ln, "oddHeader") || !strcmp(ln, "evenHeader") ||
		   !strcmp(ln, "firstHeader")) {
		p->hf_depth = p->depth;
		p->hf_kind = TEXT_KIND_HEADER;
		p->in_t = true;
	} else if (!strcmp(ln, "oddFooter") || !strcmp(ln, "evenFooter") ||
		   !strcmp(ln, "firstFooter")) {
		p->hf_depth = p->depth;
		p->hf_kind = TEXT_KIND_FOOTER;
		p->in_t = true;
	}
}

static void
end_sheet(struct xpart *p, const char *ln)
{
	if (p->hf_depth && p->depth == p->hf_depth) {
		flush(p, &p->hf, p->hf_kind, NULL);
		p->hf_depth = 0;
		p->in_t = false;
	} else if (!strcmp(ln, "v") || !strcmp(ln, "t")) {
		p->in_t = false;
	} else if (!strcmp(ln, "c") && p->in_cell) {
		p->in_cell = false;
		const char *v = p->cell.p ? p->cell.p : "";
		if (p->ctype == 's') {
			v = p->sst ? xsst_get(p->sst, v) : "";
		} else if (p->ctype == 'b') {
			v = !strcmp(v, "1") ? "TRUE" : "FALSE";
		} else if (p->ctype == 'e') {
			v = "";
		}
		if (!*v) {
			return;
		}
		long want = p->col - 1;
		if (want - p->tabs > SHEET_MAX_GAP) {
			want = p->tabs + SHEET_MAX_GAP;
		}
		if (p->row_has && want <= p->tabs) {
			want = p->tabs + 1; /* out-of-order cells */
		}
		for (; p->tabs < want; p->tabs++) {
			extract_sbuf_addc(&p->cur, '\t');
		}
		for (const char *s = v; *s; s++) {
			extract_sbuf_addc(&p->cur, *s == '\t' || *s == '\n' || *s == '\r'
						   ? ' ' : *s);
		}
		p->row_has = true;
	} else if (!strcmp(ln, "row") && p->row_has) {
		end_line(&p->cur);
	}
}

static void
start_odf(struct xpart *p, const char *ln, const char **atts)
{
	if (!strcmp(ln, "body")) {
		p->in_body = true;
	} else if (!strcmp(ln, "master-styles")) {
		p->in_master = true;
	}
	if (!strcmp(ln, "tracked-changes") || !strcmp(ln, "note-citation") ||
	    !strcmp(ln, "sequence-decls") || !strcmp(ln, "variable-decls") ||
	    !strcmp(ln, "user-field-decls") || !strcmp(ln, "forms") ||
	    (p->aux_depth && (!strcmp(ln, "creator") || !strcmp(ln, "date")))) {
		p->skip_depth = p->depth;
		return;
	}
	if (p->kind == XPART_ODF_STYLES && p->in_master && !p->hf_depth) {
		bool h = !strncmp(ln, "header", 6) && strcmp(ln, "header-style");
		bool f = !strncmp(ln, "footer", 6) && strcmp(ln, "footer-style");
		if (h || f) {
			const char *d = attr(atts, "display");
			if (d && !strcmp(d, "false")) {
				p->skip_depth = p->depth;
				return;
			}
			p->hf_depth = p->depth;
			p->hf_kind = h ? TEXT_KIND_HEADER : TEXT_KIND_FOOTER;
		}
		return;
	}
	if (p->kind == XPART_ODF_CONTENT && p->in_body) {
		if (!p->aux_depth && (!strcmp(ln, "note") || !strcmp(ln, "annotation") ||
				      !strcmp(ln, "notes"))) {
			p->aux_depth = p->depth;
		} else if (!p->unit_depth && p->odf_type &&
			   ((!strcmp(p->odf_type, "ods") && !strcmp(ln, "table")) ||
			    (!strcmp(p->odf_type, "odp") && !strcmp(ln, "page")))) {
			p->unit_depth = p->depth;
		} else if (!strcmp(ln, "table-cell") ||
			   !strcmp(ln, "covered-table-cell")) {
			p->cell_depth++;
		}
	}
	struct sbuf *b = odf_sink(p);
	if (!strcmp(ln, "tab")) {
		extract_sbuf_addc(b, '\t');
	} else if (!strcmp(ln, "line-break")) {
		extract_sbuf_addc(b, '\n');
	} else if (!strcmp(ln, "s")) {
		const char *c = attr(atts, "c");
		long k = c ? strtol(c, NULL, 10) : 1;
		for (long i = 0; i < k && i < 64; i++) {
			extract_sbuf_addc(b, ' ');
		}
	}
}

static void
end_odf(struct xpart *p, const char *ln)
{
	if (p->kind == XPART_ODF_STYLES) {
		if (p->hf_depth && p->depth == p->hf_depth) {
			flush(p, &p->hf, p->hf_kind, NULL);
			p->hf_depth = 0;
		} else if (p->hf_depth && (!strcmp(ln, "p") || !strcmp(ln, "h"))) {
			end_line(&p->hf);
		} else if (!strcmp(ln, "master-styles")) {
			p->in_master = false;
		}
		return;
	}
	if (!p->in_body) {
		return;
	}
	if (p->aux_depth && p->depth == p->aux_depth) {
		p->aux_depth = 0;
		end_line(&p->aux);
		return;
	}
	struct sbuf *b = odf_sink(p);
	if (!strcmp(ln, "p") || !strcmp(ln, "h")) {
		if (p->cell_depth && !p->aux_depth) {
			extract_sbuf_addc(b, ' ');
		} else {
			end_line(b);
		}
	} else if (!strcmp(ln, "table-cell") || !strcmp(ln, "covered-table-cell")) {
		if (p->cell_depth) {
			p->cell_depth--;
		}
		extract_sbuf_rtrim(b);
		extract_sbuf_addc(b, '\t');
	} else if (!strcmp(ln, "table-row")) {
		extract_sbuf_rtrim(b);
		if (!extract_sbuf_ends_with_nl(b)) {
			extract_sbuf_addc(b, '\n');
		}
	} else if (p->unit_depth && p->depth == p->unit_depth) {
		p->unit_depth = 0;
		flush(p, &p->cur, TEXT_KIND_BODY, NULL);
	} else if (!strcmp(ln, "body")) {
		p->in_body = false;
	}
}

static void
xmp_attrs(struct xpart *p, const char **atts)
{
	for (size_t i = 0; atts[i]; i += 2) {
		const char *n = atts[i];
		if (!strncmp(n, "xmlns", 5) || !strncmp(n, "rdf:", 4) ||
		    !strncmp(n, "xml:", 4) || !strncmp(n, "x:", 2) || !*atts[i + 1]) {
			continue;
		}
		extract_add(p->x, p->doc, TEXT_KIND_PROPERTY, n, atts[i + 1],
			    strlen(atts[i + 1]));
	}
}

static void
end_xmp(struct xpart *p)
{
	/* The nearest element that is not RDF plumbing names the value. */
	const char *name = NULL;
	for (unsigned d = p->depth; d > 0; d--) {
		const char *n = p->stack[d - 1];
		if (n && strncmp(n, "rdf:", 4) && strncmp(n, "x:", 2)) {
			name = n;
			break;
		}
	}
	if (name) {
		flush(p, &p->cur, TEXT_KIND_PROPERTY, name);
	}
	extract_sbuf_reset(&p->cur);
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xpart *p = ud;
	p->depth++;
	if (p->stopped) {
		return;
	}
	if (p->depth > p->x->lim.max_xml_depth) {
		extract_fail(p->x, EXTRACT_STOP_XML_DEPTH,
			     "limit: xml depth (%u) in %s", p->x->lim.max_xml_depth,
			     p->where);
		stop(p);
		return;
	}
	if (extract_should_stop(p->x, false)) {
		stop(p);
		return;
	}
	if (p->kind == XPART_XMP) {
		p->stack[p->depth - 1] = lw_strdup(name);
		extract_sbuf_reset(&p->cur);
		xmp_attrs(p, atts);
		return;
	}
	if (p->skip_depth) {
		return;
	}
	const char *ln = local_name(name);
	switch (p->kind) {
	case XPART_WORD_BODY:
	case XPART_WORD_HEADER:
	case XPART_WORD_FOOTER:
	case XPART_WORD_AUX:
	case XPART_SLIDE:
		start_word(p, ln);
		break;
	case XPART_SST:
		if (!strcmp(ln, "t")) {
			p->in_t = true;
		} else if (!strcmp(ln, "rPh")) {
			p->skip_depth = p->depth;
		}
		break;
	case XPART_SHEET:
		start_sheet(p, ln, atts);
		break;
	case XPART_CORE:
		if (p->depth == 2) {
			free(p->prop_name);
			p->prop_name = lw_strdup(ln);
			p->in_t = true;
		}
		break;
	case XPART_CUSTOM:
		if (!strcmp(ln, "property")) {
			const char *nm = attr(atts, "name");
			free(p->prop_name);
			p->prop_name = nm && *nm ? lw_strdup(nm) : NULL;
			p->prop_depth = p->depth;
			p->in_t = true;
		}
		break;
	case XPART_ODF_META:
		if (p->depth == 3) {
			const char *nm = !strcmp(ln, "user-defined") ? attr(atts, "name")
								     : ln;
			free(p->prop_name);
			p->prop_name = nm && *nm ? lw_strdup(nm) : NULL;
			p->in_t = true;
		}
		break;
	case XPART_ODF_CONTENT:
	case XPART_ODF_STYLES:
		start_odf(p, ln, atts);
		break;
	case XPART_XMP:
		break;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct xpart *p = ud;
	unsigned d = p->depth;
	if (p->depth > 0) {
		p->depth--;
	}
	if (p->stopped) {
		return;
	}
	if (p->kind == XPART_XMP) {
		p->depth = d;
		end_xmp(p);
		free(p->stack[d - 1]);
		p->stack[d - 1] = NULL;
		p->depth = d - 1;
		return;
	}
	if (p->skip_depth) {
		if (d == p->skip_depth) {
			p->skip_depth = 0;
		}
		return;
	}
	const char *ln = local_name(name);
	p->depth = d; /* handlers compare with the element's own depth */
	switch (p->kind) {
	case XPART_WORD_BODY:
	case XPART_WORD_HEADER:
	case XPART_WORD_FOOTER:
	case XPART_WORD_AUX:
	case XPART_SLIDE:
		end_word(p, ln);
		break;
	case XPART_SST:
		if (!strcmp(ln, "t")) {
			p->in_t = false;
		} else if (!strcmp(ln, "si") && p->sst &&
			   p->sst->n < SST_MAX_STRINGS) {
			struct xsst *s = p->sst;
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 256;
				s->off = lw_realloc(s->off, s->cap * sizeof(*s->off));
			}
			/* An empty string when the text store is full. */
			size_t at = s->text.len;
			extract_sbuf_add(&s->text, p->cur.p ? p->cur.p : "", p->cur.len);
			extract_sbuf_add(&s->text, "", 1);
			s->off[s->n++] = s->text.full ? 0 : at;
			extract_sbuf_reset(&p->cur);
			if (s->text.full) {
				extract_fail_text(p->x);
			}
		}
		break;
	case XPART_SHEET:
		end_sheet(p, ln);
		break;
	case XPART_CORE:
	case XPART_ODF_META:
		if (d == (p->kind == XPART_CORE ? 2u : 3u)) {
			if (p->prop_name) {
				flush(p, &p->cur, TEXT_KIND_PROPERTY, p->prop_name);
			}
			extract_sbuf_reset(&p->cur);
			p->in_t = false;
		}
		break;
	case XPART_CUSTOM:
		if (d == p->prop_depth && p->prop_name) {
			flush(p, &p->cur, TEXT_KIND_PROPERTY, p->prop_name);
			p->in_t = false;
			p->prop_depth = 0;
		}
		break;
	case XPART_ODF_CONTENT:
	case XPART_ODF_STYLES:
		end_odf(p, ln);
		break;
	case XPART_XMP:
		break;
	}
	p->depth = d - 1;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct xpart *p = ud;
	if (p->stopped || p->skip_depth || len <= 0) {
		return;
	}
	switch (p->kind) {
	case XPART_WORD_BODY:
	case XPART_WORD_HEADER:
	case XPART_WORD_FOOTER:
	case XPART_WORD_AUX:
	case XPART_SLIDE:
	case XPART_SST:
	case XPART_CORE:
	case XPART_CUSTOM:
	case XPART_ODF_META:
		if (p->in_t) {
			extract_sbuf_add(&p->cur, s, (size_t)len);
		}
		break;
	case XPART_SHEET:
		if (p->in_t) {
			extract_sbuf_add(p->hf_depth ? &p->hf : &p->cell, s, (size_t)len);
		}
		break;
	case XPART_ODF_CONTENT:
		if (p->in_body) {
			extract_sbuf_add(odf_sink(p), s, (size_t)len);
		}
		break;
	case XPART_ODF_STYLES:
		if (p->hf_depth) {
			extract_sbuf_add(&p->hf, s, (size_t)len);
		}
		break;
	case XPART_XMP:
		extract_sbuf_add(&p->cur, s, (size_t)len);
		break;
	}
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
	   const XML_Char *pubid, int has_internal_subset)
{
	struct xpart *p = ud;
	extract_fail(p->x, EXTRACT_STOP_MALFORMED,
		     "xml: %s: DOCTYPE refused (no DTDs or entities in documents)",
		     p->where);
	stop(p);
}

static void XMLCALL
on_entity_decl(void *ud, const XML_Char *name, int is_param,
	       const XML_Char *value, int value_len, const XML_Char *base,
	       const XML_Char *sysid, const XML_Char *pubid,
	       const XML_Char *notation)
{
	struct xpart *p = ud;
	extract_fail(p->x, EXTRACT_STOP_MALFORMED, "xml: %s: entity refused",
		     p->where);
	stop(p);
}

struct xpart *
extract_xpart_new(struct xctx *x, struct text_doc *doc, enum xpart_kind kind,
	  const char *odf_type, struct xsst *sst, const char *member_path,
	  const char *part)
{
	struct xpart *p = lw_new(struct xpart, 1);
	p->x = x;
	p->doc = doc;
	p->kind = kind;
	p->odf_type = odf_type;
	p->sst = sst;
	p->where = member_path && *member_path
			   ? lw_asprintf("%s:%s", member_path, part)
			   : lw_strdup(part);
	size_t cap = extract_text_budget(x) + 1;
	extract_sbuf_init(&p->cur, cap);
	extract_sbuf_init(&p->aux, cap);
	extract_sbuf_init(&p->cell, 1 << 20);
	extract_sbuf_init(&p->hf, cap);
	if (kind == XPART_XMP) {
		p->stack = lw_new(char *, x->lim.max_xml_depth + 2);
	}
	/* XMP keeps prefixes ("pdfx:MSIP_Label_..."), the rest matches local
	 * names. */
	p->p = kind == XPART_XMP ? XML_ParserCreate("UTF-8")
				 : XML_ParserCreateNS(NULL, NS_SEP);
	if (!p->p) {
		abort(); /* allocation failure, like lw_malloc */
	}
	XML_SetUserData(p->p, p);
	XML_SetElementHandler(p->p, on_start, on_end);
	XML_SetCharacterDataHandler(p->p, on_text);
	XML_SetStartDoctypeDeclHandler(p->p, on_doctype);
	XML_SetEntityDeclHandler(p->p, on_entity_decl);
	XML_SetParamEntityParsing(p->p, XML_PARAM_ENTITY_PARSING_NEVER);
	return p;
}

bool
extract_xpart_feed(struct xpart *p, const void *buf, size_t len, bool final)
{
	while (!p->stopped) {
		int n = len > (1u << 20) ? 1 << 20 : (int)len;
		bool last = final && (size_t)n == len;
		if (XML_Parse(p->p, buf, n, last) != XML_STATUS_OK) {
			if (!p->stopped) {
				extract_fail(p->x, EXTRACT_STOP_MALFORMED,
					     "xml: %s: line %lu: %s", p->where,
					     (unsigned long)XML_GetCurrentLineNumber(p->p),
					     XML_ErrorString(XML_GetErrorCode(p->p)));
			}
			p->stopped = true;
			break;
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
		if (len == 0) {
			break;
		}
	}
	return !p->stopped;
}

void
extract_xpart_free(struct xpart *p)
{
	if (!p) {
		return;
	}
	switch (p->kind) {
	case XPART_WORD_BODY:
	case XPART_WORD_HEADER:
	case XPART_WORD_FOOTER:
	case XPART_WORD_AUX:
	case XPART_SLIDE:
		flush(p, &p->cur, word_kind(p->kind), NULL);
		break;
	case XPART_SHEET:
	case XPART_ODF_CONTENT:
		flush(p, &p->cur, TEXT_KIND_BODY, NULL);
		flush(p, &p->aux, TEXT_KIND_AUX, NULL);
		break;
	case XPART_SST:
	case XPART_CORE:
	case XPART_CUSTOM:
	case XPART_ODF_STYLES:
	case XPART_ODF_META:
	case XPART_XMP:
		break;
	}
	if (p->stack) {
		for (unsigned i = 0; i < p->x->lim.max_xml_depth + 2; i++) {
			free(p->stack[i]);
		}
		free(p->stack);
	}
	XML_ParserFree(p->p);
	extract_sbuf_fini(&p->cur);
	extract_sbuf_fini(&p->aux);
	extract_sbuf_fini(&p->cell);
	extract_sbuf_fini(&p->hf);
	free(p->prop_name);
	free(p->where);
	free(p);
}
