/* extract-private.h — internals shared by the extractors of policy/extract:
 * the per-call context (limits, counters, first error), a bounded string
 * buffer, and the per-format entry points. One thread per context. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "text.h"

/* Decompression ratio is only judged past this many expanded bytes. */
#define EXTRACT_RATIO_FLOOR ((size_t)4 << 20)

struct xctx {
	struct extract_limits lim;
	extract_member_fn fn;
	void *fn_ctx;
	struct extract_result *out;
	size_t input_len;
	int cb_error;     /* callback's value once it asked to stop */
	bool abort;       /* a global limit was hit: unwind everything */
	unsigned checks;  /* cheap counter so the clock is read rarely */
};

/* Records @stop with a message (first one wins). A global stop (time,
 * ratio, expanded, members, text, callback) also sets x->abort. */
/* extract_fail() for the text cap (max_text_bytes), in one wording. */
void extract_fail_text(struct xctx *x);
void extract_fail(struct xctx *x, enum extract_stop stop, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* True (and records EXTRACT_STOP_TIME) once the deadline passed or an abort
 * is pending. Cheap: reads the clock every 64th call unless @now. */
bool extract_should_stop(struct xctx *x, bool now);

/* Accounts @n bytes decompressed (for ratio and expanded limits). Returns
 * false (limit recorded, x->abort set) when a limit is exceeded. */
bool extract_account(struct xctx *x, size_t n);

/* Remaining text budget for a new document (>= 1). */
size_t extract_text_budget(const struct xctx *x);

/* Handles one document at @depth under @path: detects its type, extracts,
 * recurses into members and calls the callback. @name is the member's own
 * name (for the extension hint), may be NULL. Returns 0 or the callback's
 * negative value. */
int extract_node(struct xctx *x, const void *buf, size_t len,
		 const char *name, const char *path, unsigned depth,
		 char type_out[EXTRACT_TYPE_MAX]);

/* Passes a finished document to the callback and counts it. */
int extract_emit(struct xctx *x, const char *path, const char *type,
		 struct text_doc *doc, unsigned depth);

/* Adds a segment, recording EXTRACT_STOP_TEXT on -E2BIG. */
void extract_add(struct xctx *x, struct text_doc *doc, enum text_kind kind,
		 const char *name, const char *text, size_t len);
struct sbuf;
/* Like extract_add() with @b's text, handed to @doc rather than copied when
 * it can be; @b is left empty (same cap). */
void extract_add_sbuf(struct xctx *x, struct text_doc *doc, enum text_kind kind,
		      const char *name, struct sbuf *b);

/* "parent/child" (or "child" when parent is ""); caller frees. */
char *extract_join_path(const char *parent, const char *child);

/* A growable UTF-8 buffer with a hard cap: appends past @cap are dropped
 * and set @full. Always NUL-terminated once anything was appended. */
struct sbuf {
	char *p;
	size_t len, cap_alloc, cap;
	bool full;
};
void extract_sbuf_init(struct sbuf *b, size_t cap);
/* Allocates room for @n bytes (at most the cap) up front: growing copies
 * everything so far (no stale text is left in freed memory). */
void extract_sbuf_reserve(struct sbuf *b, size_t n);
void extract_sbuf_fini(struct sbuf *b); /* wipes the text */
void extract_sbuf_reset(struct sbuf *b);
void extract_sbuf_add(struct sbuf *b, const char *s, size_t n);
void extract_sbuf_addc(struct sbuf *b, char c);
void extract_sbuf_add_cp(struct sbuf *b, uint32_t cp); /* as UTF-8; bad -> U+FFFD */
/* Drops trailing spaces and tabs (before ending a line). */
void extract_sbuf_rtrim(struct sbuf *b);
bool extract_sbuf_ends_with_nl(const struct sbuf *b);

/* Format handlers: fill @doc (the node's own document) and recurse through
 * extract_node() for members. They record problems with extract_fail() and
 * return 0 or the callback's negative value. */
struct xnode {
	struct xctx *x;
	const unsigned char *buf;
	size_t len;
	const char *name;   /* own name, may be NULL */
	const char *path;   /* member path, "" for the file */
	unsigned depth;
	struct text_doc *doc;
	char *type;         /* EXTRACT_TYPE_MAX bytes; handlers may refine */
};

int extract_text(struct xnode *n);
int extract_html(struct xnode *n);
int extract_rtf(struct xnode *n);
int extract_pdf(struct xnode *n);
int extract_mail(struct xnode *n);
/* Archives and zip-based documents (OOXML, ODF). */
int extract_archive(struct xnode *n);

/* HTML to text into @doc: BODY plus title/meta PROPERTY segments. Used by
 * extract_html() and by the mail extractor for text/html parts. @s is
 * UTF-8 (invalid bytes tolerated). */
void extract_html_utf8(struct xctx *x, struct text_doc *doc, const char *s,
		       size_t len);

/* Case-insensitive check of the name's extension (without dot). */
bool extract_name_has_ext(const char *name, const char *ext);

/* Wipes and frees. */
void extract_free_wipe(void *p, size_t n);
