/* extract-pdf.c — PDF with poppler-glib (GPL-2.0-or-later, compatible with
 * our GPL-3.0-or-later): one BODY segment per page in reading order, the
 * Info dictionary's standard fields and the XMP packet as PROPERTY
 * segments, and custom Info keys that carry labels (`/Classification`,
 * `/MSIP_Label_*`, `*SecurityLabel`), which poppler-glib does not expose,
 * from a bounded scan of the raw bytes (they are found when the Info
 * dictionary is not inside a compressed object stream).
 *
 * Poppler handles Flate streams, TJ/Tj text runs, ToUnicode CMaps, object
 * streams and broken xref tables (reconstruction). It cannot be interrupted
 * inside a page, so the deadline is checked between pages; the helper's CPU
 * limit is the backstop. Runs on the caller's thread; poppler documents are
 * not shared.
 *
 * poppler-glib creates poppler's GlobalParams when a document is created
 * and none is alive, and destroys them with the last document: every PDF
 * then re-reads /usr/share/poppler (7 opens, 8 directory reads: 60 % of the
 * time for a small PDF), and inside the sandboxed helper, where opening
 * files is refused, the tables would be missing. One tiny document is
 * therefore kept alive for the life of the process (keeper_doc). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <poppler.h>

#include "extract-private.h"
#include "extract-xml.h"
#include "mem.h"

static const char keeper_pdf[] =
	"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
	"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
	"trailer<</Root 1 0 R>>\n%%EOF\n";
static pthread_once_t keeper_once = PTHREAD_ONCE_INIT;
/* never freed, see above; "used" keeps the store, which nothing reads,
 * so that leak checkers see the document held rather than lost */
static PopplerDocument *keeper_doc __attribute__((used));

static void
keeper_init(void)
{
	GBytes *b = g_bytes_new_static(keeper_pdf, sizeof(keeper_pdf) - 1);
	keeper_doc = poppler_document_new_from_bytes(b, NULL, NULL);
	g_bytes_unref(b);
}

static void
add_prop(struct xnode *n, const char *name, gchar *value)
{
	if (value) {
		extract_add(n->x, n->doc, TEXT_KIND_PROPERTY, name, value,
			    strlen(value));
		g_free(value);
	}
}

/* Decodes a PDF string object at @p (literal "(...)" or hex "<...>") into
 * @out (UTF-8 when it starts with the UTF-16BE BOM, raw PDFDocEncoding
 * bytes otherwise, which text_doc_add reads as Windows-1252). */
static void
pdf_string(const unsigned char *p, const unsigned char *end, struct sbuf *out)
{
	unsigned char raw[1024];
	size_t n = 0;
	if (p < end && *p == '(') {
		int nest = 1;
		for (p++; p < end && n < sizeof(raw); p++) {
			unsigned char c = *p;
			if (c == '\\' && p + 1 < end) {
				c = *++p;
				static const char esc[] = "n\nr\rt\tb\bf\f";
				const char *e = strchr(esc, c);
				if (e && c && ((e - esc) % 2) == 0) {
					c = (unsigned char)e[1];
				} else if (c >= '0' && c <= '7') {
					unsigned v = 0;
					for (int k = 0; k < 3 && p < end && *p >= '0' &&
							*p <= '7'; k++, p++) {
						v = v * 8 + (unsigned)(*p - '0');
					}
					p--;
					c = (unsigned char)v;
				} else if (c == '\r' || c == '\n') {
					continue;
				}
			} else if (c == '(') {
				nest++;
			} else if (c == ')' && --nest == 0) {
				break;
			}
			raw[n++] = c;
		}
	} else if (p < end && *p == '<') {
		int hi = -1;
		for (p++; p < end && *p != '>' && n < sizeof(raw); p++) {
			int v = *p >= '0' && *p <= '9'   ? *p - '0'
				: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
				: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
							 : -1;
			if (v < 0) {
				continue;
			}
			if (hi < 0) {
				hi = v;
			} else {
				raw[n++] = (unsigned char)(hi * 16 + v);
				hi = -1;
			}
		}
	} else {
		return;
	}
	if (n >= 2 && raw[0] == 0xfe && raw[1] == 0xff) {
		for (size_t i = 2; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t)raw[i] << 8 | raw[i + 1];
			if (u >= 0xd800 && u < 0xdc00 && i + 3 < n) {
				uint32_t lo = (uint32_t)raw[i + 2] << 8 | raw[i + 3];
				if (lo >= 0xdc00 && lo < 0xe000) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					i += 2;
				}
			}
			extract_sbuf_add_cp(out, u);
		}
	} else {
		extract_sbuf_add(out, (const char *)raw, n);
	}
}

static bool
label_key(const char *k)
{
	return strstr(k, "Classification") || !strncmp(k, "MSIP_Label_", 11) ||
	       strstr(k, "SecurityLabel");
}

/* Custom Info keys in the raw bytes: "/Key (value)" or "/Key <hex>". */
static void
scan_info_keys(struct xnode *n)
{
	const unsigned char *p = n->buf, *end = n->buf + n->len;
	unsigned found = 0;
	while (p < end && found < 64) {
		const unsigned char *s = memchr(p, '/', (size_t)(end - p));
		if (!s) {
			break;
		}
		p = s + 1;
		if (end - p < 8 || *p < 'A' || *p > 'Z') {
			continue;
		}
		char key[128];
		size_t k = 0;
		while (p < end && k + 1 < sizeof(key) &&
		       ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			key[k++] = (char)*p++;
		}
		key[k] = '\0';
		if (k < 8 || !label_key(key)) {
			continue;
		}
		while (p < end && (*p == ' ' || *p == '\r' || *p == '\n' || *p == '\t')) {
			p++;
		}
		if (p >= end || (*p != '(' && !(*p == '<' && p + 1 < end && p[1] != '<'))) {
			continue;
		}
		struct sbuf v;
		extract_sbuf_init(&v, 4096);
		pdf_string(p, end, &v);
		if (v.len) {
			extract_add(n->x, n->doc, TEXT_KIND_PROPERTY, key, v.p, v.len);
			found++;
		}
		extract_sbuf_fini(&v);
	}
}

int
extract_pdf(struct xnode *n)
{
	struct xctx *x = n->x;
	if (n->len > INT_MAX) {
		extract_fail(x, EXTRACT_STOP_MALFORMED, "pdf: %s: too large",
			     *n->path ? n->path : "file");
		return 0;
	}
	pthread_once(&keeper_once, keeper_init);
	GBytes *bytes = g_bytes_new_static(n->buf, n->len);
	GError *err = NULL;
	PopplerDocument *d = poppler_document_new_from_bytes(bytes, NULL, &err);
	if (!d) {
		extract_fail(x, EXTRACT_STOP_MALFORMED, "pdf: %s%scannot open: %s",
			     n->path, *n->path ? ": " : "",
			     err ? err->message : "unknown error");
		if (err) {
			g_error_free(err);
		}
		g_bytes_unref(bytes);
		return 0;
	}
	add_prop(n, "title", poppler_document_get_title(d));
	add_prop(n, "subject", poppler_document_get_subject(d));
	add_prop(n, "keywords", poppler_document_get_keywords(d));
	add_prop(n, "author", poppler_document_get_author(d));
	gchar *xmp = poppler_document_get_metadata(d);
	if (xmp) {
		struct xpart *p = extract_xpart_new(x, n->doc, XPART_XMP, NULL, NULL,
					    n->path, "XMP");
		extract_xpart_feed(p, xmp, strlen(xmp), true);
		extract_xpart_free(p);
		g_free(xmp);
	}
	scan_info_keys(n);
	int pages = poppler_document_get_n_pages(d);
	for (int i = 0; i < pages; i++) {
		if (extract_should_stop(x, true)) {
			break;
		}
		PopplerPage *pg = poppler_document_get_page(d, i);
		if (!pg) {
			continue;
		}
		gchar *t = poppler_page_get_text(pg);
		if (t) {
			extract_add(x, n->doc, TEXT_KIND_BODY, NULL, t, strlen(t));
			lw_wipe(t, strlen(t));
			g_free(t);
		}
		g_object_unref(pg);
		if (text_doc_truncated(n->doc)) {
			break;
		}
	}
	g_object_unref(d);
	g_bytes_unref(bytes);
	return 0;
}
