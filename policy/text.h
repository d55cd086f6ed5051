/* text.h — the text model of the classification engine, and decoding of raw
 * plain-text bytes into UTF-8.
 *
 * A document is an ordered list of segments. Each segment is UTF-8 text
 * tagged with where it sat in the original file (the "kind") and, for
 * metadata and mail headers, the name of the property or field. Extractors
 * (docx, odt, pdf, html, eml, rtf, archives) fill a text_doc; the detectors
 * (marking.h, pii.h, classify.h) only read it. No I/O happens here.
 *
 * Page model: a BODY segment is one page-like unit whose first and last
 * non-empty lines are banner positions. Add one BODY segment per PDF page,
 * slide or sheet (rows as lines, cells separated by tabs), and one for a
 * flowing body (docx, odt, txt, html, a mail part). A form feed (\f) inside a
 * BODY segment also starts a new page. HEADER/FOOTER segments hold the page
 * header and footer parts (one segment per part is fine; lines are fields).
 *
 * A text_doc is not shared: one thread builds and reads it. The stored text
 * is wiped before it is freed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum text_kind {
	TEXT_KIND_BODY,        /* page, slide, sheet or flowing body */
	TEXT_KIND_HEADER,      /* page/sheet header part */
	TEXT_KIND_FOOTER,      /* page/sheet footer part */
	TEXT_KIND_PROPERTY,    /* metadata property; name required, e.g.
				* "Classification", "MSIP_Label_<GUID>_Name",
				* "dc:subject", "title", "keywords" */
	TEXT_KIND_MAIL_HEADER, /* e-mail header field; name required, e.g.
				* "Subject", "msip_labels", "X-Classification" */
	TEXT_KIND_AUX,         /* footnotes, comments, speaker notes, alt text:
				* searched for PII and portion marks, never
				* banner positions */
};

enum text_encoding {
	TEXT_ENCODING_UTF8,     /* valid UTF-8, no BOM */
	TEXT_ENCODING_UTF8_BOM, /* valid UTF-8 after a BOM */
	TEXT_ENCODING_UTF16LE,  /* BOM or BOM-less heuristic */
	TEXT_ENCODING_UTF16BE,
	TEXT_ENCODING_CP1252,   /* not UTF-8: read as Windows-1252 (Latin-1
				 * superset) */
	TEXT_ENCODING_MIXED,    /* mostly UTF-8 with stray invalid bytes, which
				 * were read as Windows-1252 */
};

/* Default cap on the UTF-8 bytes a text_doc keeps over all its segments. */
#define TEXT_DEFAULT_MAX_BYTES ((size_t)16 << 20)

/* One segment, read-only for users; valid until text_doc_free(). */
struct text_segment {
	enum text_kind kind;
	const char *name; /* "" when the kind carries no name; NUL-terminated */
	const char *text; /* UTF-8, no NUL inside; NUL-terminated unless
			   * added with text_doc_add_borrowed() */
	size_t len;       /* bytes in @text, without the terminator */
};

struct text_doc;

/* A new empty document keeping at most @max_bytes bytes of text (0 selects
 * TEXT_DEFAULT_MAX_BYTES). Never NULL (allocation aborts on exhaustion);
 * release with text_doc_free(). */
struct text_doc *text_doc_new(size_t max_bytes);
void text_doc_free(struct text_doc *doc); /* NULL is a no-op */

/* Appends a segment with a copy of @len bytes of UTF-8 @text. Invalid UTF-8
 * bytes are read as Windows-1252 and NUL bytes are dropped, so the stored
 * text is always valid UTF-8. @name may be NULL for BODY/HEADER/FOOTER/AUX;
 * PROPERTY and MAIL_HEADER need a non-empty name.
 * Returns 0; -EINVAL for a missing name or unknown kind (nothing added);
 * -E2BIG when the document's byte cap was reached: the part that fits was
 * added (possibly nothing) and text_doc_truncated() turns true. */
int text_doc_add(struct text_doc *doc, enum text_kind kind, const char *name,
		 const char *text, size_t len);

/* Like text_doc_add() for raw bytes of unknown encoding (plain-text files,
 * mail parts without a charset): sniffs and decodes with text_decode().
 * @enc_out (may be NULL) receives the encoding used. Same returns. */
int text_doc_add_bytes(struct text_doc *doc, enum text_kind kind,
		       const char *name, const void *bytes, size_t len,
		       enum text_encoding *enc_out);

/* Like text_doc_add_bytes(), but when @bytes are already what decoding
 * would make of them (valid UTF-8 without NUL or BOM) and fit, the segment
 * is @bytes themselves, not NUL-terminated: they must stay unchanged until
 * @doc is freed, and are not wiped with it. */
int text_doc_add_borrowed(struct text_doc *doc, enum text_kind kind,
			  const char *name, const void *bytes, size_t len,
			  enum text_encoding *enc_out);

/* Like text_doc_add(), taking @text (malloc'd, @alloc bytes, all wiped
 * when the document is freed) instead of copying it when it is valid
 * UTF-8 without NUL and fits; otherwise it is copied as text_doc_add()
 * would, then wiped and freed. Either way @text is the document's. */
int text_doc_add_owned(struct text_doc *doc, enum text_kind kind, const char *name,
		       char *text, size_t len, size_t alloc);
/* True if @len bytes are valid UTF-8 without NUL bytes or a BOM: what
 * decoding them would give back unchanged. */
bool text_is_plain_utf8(const void *bytes, size_t len);

size_t text_doc_count(const struct text_doc *doc);
/* The @i-th segment in insertion order, or NULL when out of range. */
const struct text_segment *text_doc_segment(const struct text_doc *doc,
					    size_t i);
/* True once some text was dropped because of the byte cap. */
bool text_doc_truncated(const struct text_doc *doc);
/* Bytes of text held, over all segments. */
size_t text_doc_bytes(const struct text_doc *doc);

/* Sniffs the encoding of @len raw bytes: BOMs (UTF-8, UTF-16 LE/BE), then
 * BOM-less UTF-16 (NUL bytes in alternate positions), then UTF-8 validity;
 * otherwise Windows-1252, or MIXED when valid multi-byte UTF-8 outweighs the
 * invalid bytes. Reads at most the first 4 KiB for the UTF-16 heuristic and
 * the whole buffer for UTF-8 validity. */
enum text_encoding text_sniff(const void *bytes, size_t len);
/* Only the UTF-16 part of text_sniff (BOMs, then NULs in alternate
 * positions in the first 4 KiB): true for UTF-16 in either byte order. */
bool text_is_utf16(const void *bytes, size_t len);

/* Decodes @len raw bytes into NUL-terminated UTF-8 of at most @max_out bytes
 * (0: no limit), dropping BOMs and NUL characters; unpaired surrogates become
 * U+FFFD. *out (caller frees) is set even on -E2BIG, which says the output
 * was cut at @max_out on a character boundary. @enc_out may be NULL.
 * Returns 0 or -E2BIG. */
int text_decode(const void *bytes, size_t len, size_t max_out, char **out,
		size_t *out_len, enum text_encoding *enc_out);

/* Stable lower-case names for logs and JSON ("body", "utf-16le", ...). */
const char *text_kind_name(enum text_kind kind);
const char *text_encoding_name(enum text_encoding enc);
