/* extract-xml.h — the XML parts of OOXML and ODF documents and PDF XMP
 * packets, read with expat in streaming mode into text_doc segments.
 *
 * Hostile XML: any DOCTYPE is refused (OOXML, ODF and XMP never carry one),
 * so no entity is ever declared or expanded and nothing external is loaded;
 * element nesting is capped (max_xml_depth); text is capped by the
 * document's byte budget; the deadline is checked per element. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "extract-private.h"

enum xpart_kind {
	XPART_WORD_BODY,   /* docx word/document.xml: one BODY */
	XPART_WORD_HEADER, /* docx word/header*.xml: HEADER */
	XPART_WORD_FOOTER, /* docx word/footer*.xml: FOOTER */
	XPART_WORD_AUX,    /* footnotes, endnotes, comments, notes: AUX */
	XPART_SLIDE,       /* pptx ppt/slides/slide*.xml: one BODY */
	XPART_SST,         /* xlsx xl/sharedStrings.xml: into struct xsst */
	XPART_SHEET,       /* xlsx worksheet: BODY rows + HEADER/FOOTER */
	XPART_CORE,        /* docProps/core.xml: PROPERTY per field */
	XPART_CUSTOM,      /* docProps/custom.xml: PROPERTY per property */
	XPART_ODF_CONTENT, /* content.xml: BODY (per sheet / per slide) */
	XPART_ODF_STYLES,  /* styles.xml: master-page HEADER/FOOTER */
	XPART_ODF_META,    /* meta.xml: PROPERTY */
	XPART_XMP,         /* XMP packet: PROPERTY per leaf, prefixed names */
};

/* xlsx shared strings, filled by an XPART_SST part and read by sheets. */
struct xsst {
	struct sbuf text; /* strings, each NUL-terminated */
	size_t *off;
	size_t n, cap;
};
void extract_xsst_init(struct xsst *s, size_t max_bytes);
void extract_xsst_fini(struct xsst *s);

struct xpart;

/* A part parser adding to @doc. @odf_type is "odt", "ods" or "odp" for ODF
 * content (decides segment splits), NULL otherwise. @sst is read by sheets
 * and filled by XPART_SST; may be NULL. @part names the part in errors. */
struct xpart *extract_xpart_new(struct xctx *x, struct text_doc *doc,
			enum xpart_kind kind, const char *odf_type,
			struct xsst *sst, const char *member_path,
			const char *part);
/* Feeds @len bytes; @final ends the document. Returns false once parsing
 * stopped (error recorded with extract_fail; what was read is kept). */
bool extract_xpart_feed(struct xpart *p, const void *buf, size_t len, bool final);
/* Flushes pending text into the document and frees. NULL is a no-op. */
void extract_xpart_free(struct xpart *p);
