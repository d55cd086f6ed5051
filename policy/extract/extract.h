/* extract.h — text extraction from real file formats into text_doc
 * (policy/text.h), for the classification engine.
 *
 * A library with no I/O of its own: it works on a memory buffer holding a
 * file's bytes (the sandboxed classify helper reads the file). The input is
 * hostile: every loop is bounded by struct extract_limits, XML DTDs are
 * refused (no entity expansion, no external loading), archives never spawn
 * external programs, and an over-limit file keeps what was read and reports
 * which limit stopped it.
 *
 * Formats: plain text (UTF-8, UTF-16 with BOM or NUL pattern, Windows-1252),
 * HTML, e-mail (MIME, GMime), RTF, OOXML (docx, xlsx, pptx), ODF (odt, ods,
 * odp), PDF (poppler-glib), archives zip, tar, gzip, bzip2, xz (libarchive),
 * recursively. README.md beside this file records the choices.
 *
 * Threads: extract_buffer() may run on several threads at once, each with its
 * own buffer, limits and callback (no state is shared apart from the
 * libraries' one-time initialisation, done under pthread_once). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* Limits against hostile input. Zero in any field selects its default
 * (extract_limits_default()), so `struct extract_limits lim = { 0 }` is
 * safe. */
struct extract_limits {
	/* UTF-8 text kept over the file and all its members together
	 * (default TEXT_DEFAULT_MAX_BYTES, 16 MiB). */
	size_t max_text_bytes;
	/* Container nesting: the file is depth 0, a member of a zip is 1, a
	 * docx inside that zip is 2 (default 5). Members deeper are skipped
	 * with an error. */
	unsigned max_depth;
	/* Member documents over the whole file (default 10000). */
	unsigned max_members;
	/* Bytes decompressed over the whole file divided by the input size
	 * (default 200); checked once more than 4 MiB were decompressed, so
	 * small files of highly compressible text pass. */
	double max_ratio;
	/* Uncompressed bytes of one archive member or decoded attachment
	 * (default 64 MiB). */
	size_t max_member_bytes;
	/* Bytes decompressed over the whole file, whatever the ratio
	 * (default 1 GiB). */
	size_t max_expanded_bytes;
	/* XML element nesting inside one document part (default 256). */
	unsigned max_xml_depth;
	/* Absolute CLOCK_MONOTONIC deadline in ns; 0 means none. Checked in
	 * every loop (archive chunks, XML chunks, PDF pages, RTF/HTML runs),
	 * so it is overrun by at most one unit of work (one PDF page for
	 * poppler, which cannot be interrupted). */
	int64_t deadline_ns;
};

/* What stopped extraction early, if anything. */
enum extract_stop {
	EXTRACT_STOP_NONE,        /* everything was read */
	EXTRACT_STOP_TEXT,        /* max_text_bytes */
	EXTRACT_STOP_DEPTH,       /* max_depth (members skipped) */
	EXTRACT_STOP_MEMBERS,     /* max_members */
	EXTRACT_STOP_RATIO,       /* max_ratio */
	EXTRACT_STOP_MEMBER_SIZE, /* max_member_bytes (member cut) */
	EXTRACT_STOP_EXPANDED,    /* max_expanded_bytes */
	EXTRACT_STOP_XML_DEPTH,   /* max_xml_depth */
	EXTRACT_STOP_TIME,        /* deadline_ns */
	EXTRACT_STOP_MALFORMED,   /* a parse failure (or refused construct
				   * such as an XML DTD) */
	EXTRACT_STOP_CALLBACK,    /* the member callback returned < 0 */
};

#define EXTRACT_TYPE_MAX 16
#define EXTRACT_ERROR_MAX 256

struct extract_result {
	/* Detected type of the file itself: "text", "html", "eml", "rtf",
	 * "docx", "xlsx", "pptx", "odt", "ods", "odp", "pdf", "zip", "tar",
	 * "tar.gz", "tar.bz2", "tar.xz", "gz", "bz2", "xz", "7z", "binary". */
	char type[EXTRACT_TYPE_MAX];
	/* The first thing that stopped or hurt extraction; STOP_NONE and ""
	 * when all went well. @error names the limit or the failure and the
	 * member it happened in, e.g.
	 * "limit: member size (67108864 bytes) in a.zip/big.bin".
	 * Extracted text never appears here. */
	enum extract_stop stop;
	char error[EXTRACT_ERROR_MAX];
	unsigned members;      /* member documents passed to the callback,
				* the file itself excluded */
	size_t text_bytes;     /* UTF-8 bytes over all documents */
	size_t expanded_bytes; /* bytes decompressed from containers */
};

/* Called once for each document, members before the container that holds
 * them, the file itself last. @path is "" for the file itself and
 * "a.zip/b.docx" style for members (member names are untrusted bytes; they
 * are never used to open anything). @type is the member's detected type
 * (see extract_result.type). @doc is borrowed: valid only during the call;
 * the callback may classify it (classify_document()) but not keep it.
 * Containers with no text of their own (zip, tar) still get a call with an
 * empty @doc. Return 0 to go on, < 0 (-errno) to stop extraction
 * (EXTRACT_STOP_CALLBACK; extract_buffer returns that value). */
typedef int (*extract_member_fn)(void *ctx, const char *path,
				 const char *type, const struct text_doc *doc);

/* The extractor's verdict that @len bytes of content are binary (no text
 * format): more than 5 % control bytes in the first 64 KiB, NUL not
 * counted, and not UTF-16. Pure. */
bool extract_looks_binary(const unsigned char *p, size_t len);

/* Fills @lim with the defaults documented on struct extract_limits. */
void extract_limits_default(struct extract_limits *lim);

/* Extracts the text of the @len bytes at @buf (not modified, not kept).
 * @name_hint is the file name (may be NULL): only its extension is used,
 * and only when the content does not identify the format. @lim may be NULL
 * for defaults. @out (required) is filled in every case.
 * Returns 0 when extraction ran (out->stop says whether it was complete:
 * a limit or a malformed file is not an error of the call), or the
 * callback's negative value. */
int extract_buffer(const void *buf, size_t len, const char *name_hint,
		   const struct extract_limits *lim, extract_member_fn fn,
		   void *ctx, struct extract_result *out);

/* Stable lower-case name for logs and JSON ("none", "text", "time", ...). */
const char *extract_stop_name(enum extract_stop stop);
