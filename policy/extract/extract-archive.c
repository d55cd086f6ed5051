/* extract-archive.c — archives (zip, tar, 7z; gzip, bzip2, xz filters and
 * single compressed files) and zip-based documents (OOXML docx/xlsx/pptx,
 * ODF odt/ods/odp) with libarchive, reading from memory.
 *
 * Only built-in formats and filters are enabled: libarchive falls back to
 * running an external program for a filter it was built without, which the
 * sandboxed helper must never do, so a filter that is not ARCHIVE_OK is left
 * out. Only regular entries are read (symlinks, devices and directories are
 * skipped; names are labels, never opened). Every chunk read counts towards
 * the ratio and expanded-bytes limits; members are buffered up to
 * max_member_bytes and recursed into through extract_node().
 * Runs on the caller's thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "extract-private.h"
#include "extract-xml.h"
#include "mem.h"

#define CHUNK ((size_t)64 << 10)

static bool
magic_is_filter(const unsigned char *p, size_t len)
{
	return (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	       (len >= 3 && !memcmp(p, "BZh", 3)) ||
	       (len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6));
}

static struct archive *
open_mem(const unsigned char *buf, size_t len, bool zip_only)
{
	struct archive *a = archive_read_new();
	if (!a) {
		abort();
	}
	archive_read_support_format_zip(a);
	if (!zip_only) {
		archive_read_support_format_tar(a);
		archive_read_support_format_gnutar(a);
		archive_read_support_format_7zip(a);
		/* gzip/bzip2/xz: built in (zlib, libbz2, liblzma) in Debian's
		 * libarchive; a warning means "would run a program": drop. */
		if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
		    archive_read_support_filter_bzip2(a) != ARCHIVE_OK ||
		    archive_read_support_filter_xz(a) != ARCHIVE_OK) {
			archive_read_free(a);
			a = archive_read_new();
			archive_read_support_format_zip(a);
			archive_read_support_format_tar(a);
		}
		if (magic_is_filter(buf, len)) {
			archive_read_support_format_raw(a);
		}
	}
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		return a; /* caller sees the error on the first header */
	}
	return a;
}

static const char *
entry_name(struct archive_entry *e)
{
	const char *s = archive_entry_pathname(e);
	if (!s) {
		s = archive_entry_pathname_utf8(e);
	}
	return s ? s : "?";
}

/* Type of a generic archive after its first header was read. */
static void
archive_type(struct archive *a, char *type)
{
	int fmt = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;
	int filt = archive_filter_count(a) > 1 ? archive_filter_code(a, 0)
					       : ARCHIVE_FILTER_NONE;
	const char *f = filt == ARCHIVE_FILTER_GZIP    ? "gz"
			: filt == ARCHIVE_FILTER_BZIP2 ? "bz2"
			: filt == ARCHIVE_FILTER_XZ    ? "xz"
						       : NULL;
	if (fmt == ARCHIVE_FORMAT_ZIP) {
		snprintf(type, EXTRACT_TYPE_MAX, "zip");
	} else if (fmt == ARCHIVE_FORMAT_7ZIP) {
		snprintf(type, EXTRACT_TYPE_MAX, "7z");
	} else if (fmt == ARCHIVE_FORMAT_TAR) {
		snprintf(type, EXTRACT_TYPE_MAX, f ? "tar.%s" : "tar", f);
	} else if (fmt == ARCHIVE_FORMAT_RAW && f) {
		snprintf(type, EXTRACT_TYPE_MAX, "%s", f);
	}
}

/* Reads the current entry into a buffer of at most max_member_bytes.
 * Returns the buffer (caller wipes and frees) or NULL with nothing read. */
static unsigned char *
read_member(struct xnode *n, struct archive *a, const char *mpath,
	    size_t *len_out)
{
	struct xctx *x = n->x;
	size_t cap = 0, len = 0, max = x->lim.max_member_bytes;
	unsigned char *b = NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				extract_fail(x, EXTRACT_STOP_MEMBER_SIZE,
					     "limit: member size (%zu bytes) in %s",
					     max, mpath);
				break;
			}
			size_t nc = cap ? cap * 2 : CHUNK;
			if (nc > max) {
				nc = max;
			}
			unsigned char *nb = lw_malloc(nc);
			if (b) {
				memcpy(nb, b, len);
				extract_free_wipe(b, cap);
			}
			b = nb;
			cap = nc;
		}
		size_t want = cap - len < CHUNK ? cap - len : CHUNK;
		la_ssize_t r = archive_read_data(a, b + len, want);
		if (r < 0) {
			extract_fail(x, EXTRACT_STOP_MALFORMED, "archive: %s: %s", mpath,
				     archive_error_string(a) ? archive_error_string(a)
							     : "read error");
			break;
		}
		if (r == 0) {
			break;
		}
		len += (size_t)r;
		if (!extract_account(x, (size_t)r)) {
			break;
		}
	}
	*len_out = len;
	return b;
}

/* Name for a raw-format member (a single compressed file): the container's
 * name without its compression extension. */
static char *
raw_member_name(const char *name)
{
	const char *base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name;
	if (!base || !*base) {
		return lw_strdup("data");
	}
	char *s = lw_strdup(base);
	char *dot = strrchr(s, '.');
	if (dot && dot != s) {
		if (!strcasecmp(dot, ".tgz")) {
			strcpy(dot, ".tar");
		} else {
			*dot = '\0';
		}
	}
	return s;
}

static int
walk_generic(struct xnode *n)
{
	struct xctx *x = n->x;
	struct archive *a = open_mem(n->buf, n->len, false);
	struct archive_entry *e;
	int r = 0;
	bool first = true;
	for (;;) {
		if (extract_should_stop(x, true)) {
			break;
		}
		int h = archive_read_next_header(a, &e);
		if (h == ARCHIVE_EOF) {
			break;
		}
		if (h < ARCHIVE_WARN) {
			extract_fail(x, EXTRACT_STOP_MALFORMED, "archive: %s%s%s",
				     n->path, *n->path ? ": " : "",
				     archive_error_string(a) ? archive_error_string(a)
							     : "cannot read");
			break;
		}
		if (first) {
			archive_type(a, n->type);
			first = false;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			continue;
		}
		bool raw = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) ==
			   ARCHIVE_FORMAT_RAW;
		AUTOFREE char *mname = raw ? raw_member_name(n->name)
					   : lw_strdup(entry_name(e));
		AUTOFREE char *mpath = extract_join_path(n->path, mname);
		if (x->out->members >= x->lim.max_members) {
			extract_fail(x, EXTRACT_STOP_MEMBERS,
				     "limit: members (%u) at %s", x->lim.max_members,
				     mpath);
			break;
		}
		if (n->depth + 1 > x->lim.max_depth) {
			extract_fail(x, EXTRACT_STOP_DEPTH,
				     "limit: archive depth (%u) at %s",
				     x->lim.max_depth, mpath);
			break;
		}
		size_t mlen = 0;
		unsigned char *m = read_member(n, a, mpath, &mlen);
		if (!x->abort || mlen > 0) {
			r = extract_node(x, m ? (const void *)m : "", mlen, mname,
					 mpath, n->depth + 1, NULL);
		}
		extract_free_wipe(m, mlen);
		if (r < 0 || x->abort) {
			break;
		}
	}
	archive_read_free(a);
	return r;
}

/* ---- zip-based documents ---- */

enum zdoc {
	ZDOC_ZIP,
	ZDOC_DOCX,
	ZDOC_XLSX,
	ZDOC_PPTX,
	ZDOC_ODF,
};

static bool
name_matches(const char *s, const char *prefix, const char *suffix)
{
	size_t ls = strlen(s), lp = strlen(prefix), lx = strlen(suffix);
	return ls >= lp + lx && !strncmp(s, prefix, lp) &&
	       !strcmp(s + ls - lx, suffix) && !strchr(s + lp, '/');
}

/* Which part kind a zip entry is for this document type; -1: not read. */
static int
part_kind(enum zdoc d, const char *nm)
{
	if (!strcmp(nm, "docProps/core.xml")) {
		return d == ZDOC_ODF ? -1 : XPART_CORE;
	}
	if (!strcmp(nm, "docProps/custom.xml")) {
		return d == ZDOC_ODF ? -1 : XPART_CUSTOM;
	}
	switch (d) {
	case ZDOC_DOCX:
		if (!strcmp(nm, "word/document.xml")) {
			return XPART_WORD_BODY;
		}
		if (name_matches(nm, "word/header", ".xml")) {
			return XPART_WORD_HEADER;
		}
		if (name_matches(nm, "word/footer", ".xml")) {
			return XPART_WORD_FOOTER;
		}
		if (!strcmp(nm, "word/footnotes.xml") ||
		    !strcmp(nm, "word/endnotes.xml") ||
		    !strcmp(nm, "word/comments.xml")) {
			return XPART_WORD_AUX;
		}
		return -1;
	case ZDOC_XLSX:
		if (name_matches(nm, "xl/worksheets/", ".xml")) {
			return XPART_SHEET;
		}
		if (name_matches(nm, "xl/comments", ".xml")) {
			return XPART_WORD_AUX;
		}
		return -1;
	case ZDOC_PPTX:
		if (name_matches(nm, "ppt/slides/", ".xml")) {
			return XPART_SLIDE;
		}
		if (name_matches(nm, "ppt/notesSlides/", ".xml") ||
		    name_matches(nm, "ppt/comments/", ".xml")) {
			return XPART_WORD_AUX;
		}
		return -1;
	case ZDOC_ODF:
		if (!strcmp(nm, "content.xml")) {
			return XPART_ODF_CONTENT;
		}
		if (!strcmp(nm, "styles.xml")) {
			return XPART_ODF_STYLES;
		}
		if (!strcmp(nm, "meta.xml")) {
			return XPART_ODF_META;
		}
		return -1;
	case ZDOC_ZIP:
		return -1;
	}
	return -1;
}

/* Streams the current entry into an XML part parser. */
static void
stream_part(struct xnode *n, struct archive *a, struct xpart *p,
	    const char *nm)
{
	struct xctx *x = n->x;
	size_t total = 0;
	AUTOFREE char *buf = lw_malloc(CHUNK);
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf, CHUNK);
		if (r < 0) {
			extract_fail(x, EXTRACT_STOP_MALFORMED, "archive: %s%s%s: %s",
				     n->path, *n->path ? ":" : "", nm,
				     archive_error_string(a) ? archive_error_string(a)
							     : "read error");
			break;
		}
		if (r == 0) {
			extract_xpart_feed(p, "", 0, true);
			break;
		}
		total += (size_t)r;
		if (total > x->lim.max_member_bytes) {
			extract_fail(x, EXTRACT_STOP_MEMBER_SIZE,
				     "limit: member size (%zu bytes) in %s%s%s",
				     x->lim.max_member_bytes, n->path,
				     *n->path ? ":" : "", nm);
			break;
		}
		if (!extract_account(x, (size_t)r) ||
		    !extract_xpart_feed(p, buf, (size_t)r, false)) {
			break;
		}
	}
}

/* Documents embedded in OOXML/ODF (word/embeddings/x.xlsx, ODF Object
 * subdocuments are XML and not followed). */
static bool
is_embedding(const char *nm)
{
	return strstr(nm, "/embeddings/") &&
	       (extract_name_has_ext(nm, "docx") || extract_name_has_ext(nm, "xlsx") ||
		extract_name_has_ext(nm, "pptx") || extract_name_has_ext(nm, "pdf") ||
		extract_name_has_ext(nm, "odt") || extract_name_has_ext(nm, "ods"));
}

static int
walk_zdoc(struct xnode *n, enum zdoc d, const char *odf_type)
{
	struct xctx *x = n->x;
	struct xsst sst;
	extract_xsst_init(&sst, extract_text_budget(x) + 1);
	int r = 0;
	/* xlsx sheets refer to shared strings, which may come later in the
	 * zip: two passes, shared strings first. */
	for (int pass = d == ZDOC_XLSX ? 0 : 1; pass < 2 && r == 0; pass++) {
		struct archive *a = open_mem(n->buf, n->len, true);
		struct archive_entry *e;
		for (;;) {
			if (extract_should_stop(x, true)) {
				break;
			}
			int h = archive_read_next_header(a, &e);
			if (h == ARCHIVE_EOF) {
				break;
			}
			if (h < ARCHIVE_WARN) {
				extract_fail(x, EXTRACT_STOP_MALFORMED, "%s: %s%s%s",
					     n->type, n->path, *n->path ? ": " : "",
					     archive_error_string(a)
						     ? archive_error_string(a)
						     : "cannot read");
				break;
			}
			if (archive_entry_filetype(e) != AE_IFREG) {
				continue;
			}
			const char *nm = entry_name(e);
			if (pass == 0) {
				if (!strcmp(nm, "xl/sharedStrings.xml")) {
					struct xpart *p = extract_xpart_new(x, n->doc, XPART_SST,
								    NULL, &sst,
								    n->path, nm);
					stream_part(n, a, p, nm);
					extract_xpart_free(p);
				}
				continue;
			}
			if (is_embedding(nm) && n->depth + 1 <= x->lim.max_depth &&
			    x->out->members < x->lim.max_members) {
				AUTOFREE char *mpath = extract_join_path(n->path, nm);
				size_t mlen = 0;
				unsigned char *m = read_member(n, a, mpath, &mlen);
				r = extract_node(x, m ? (const void *)m : "", mlen, nm,
						 mpath, n->depth + 1, NULL);
				extract_free_wipe(m, mlen);
				if (r < 0) {
					break;
				}
				continue;
			}
			int k = part_kind(d, nm);
			if (k < 0) {
				continue;
			}
			struct xpart *p = extract_xpart_new(x, n->doc, (enum xpart_kind)k,
						    odf_type, &sst, n->path, nm);
			stream_part(n, a, p, nm);
			extract_xpart_free(p);
			if (x->abort) {
				break;
			}
		}
		archive_read_free(a);
	}
	extract_xsst_fini(&sst);
	return r;
}

/* Reads the ODF "mimetype" entry to tell odt/ods/odp apart. */
static void
odf_subtype(struct archive *a, char *type)
{
	char m[128] = { 0 };
	la_ssize_t r = archive_read_data(a, m, sizeof(m) - 1);
	if (r <= 0) {
		return;
	}
	static const struct {
		const char *mime, *type;
	} map[] = {
		{ "application/vnd.oasis.opendocument.text", "odt" },
		{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
		{ "application/vnd.oasis.opendocument.presentation", "odp" },
		{ "application/vnd.oasis.opendocument.text-template", "odt" },
		{ "application/vnd.oasis.opendocument.graphics", "odg" },
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(map); i++) {
		if (!strncmp(m, map[i].mime, strlen(map[i].mime)) &&
		    (m[strlen(map[i].mime)] == '\0' || m[strlen(map[i].mime)] == '\n')) {
			snprintf(type, EXTRACT_TYPE_MAX, "%s", map[i].type);
			return;
		}
	}
}

/* Looks at a zip's entry names (central directory) to tell documents from
 * plain zips. */
static enum zdoc
zip_kind(struct xnode *n, char *type)
{
	struct archive *a = open_mem(n->buf, n->len, true);
	struct archive_entry *e;
	enum zdoc d = ZDOC_ZIP;
	bool content = false;
	unsigned seen = 0;
	while (seen++ < 100000 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *nm = entry_name(e);
		if (!strcmp(nm, "word/document.xml")) {
			d = ZDOC_DOCX;
			snprintf(type, EXTRACT_TYPE_MAX, "docx");
			break;
		}
		if (!strcmp(nm, "xl/workbook.xml")) {
			d = ZDOC_XLSX;
			snprintf(type, EXTRACT_TYPE_MAX, "xlsx");
			break;
		}
		if (!strcmp(nm, "ppt/presentation.xml")) {
			d = ZDOC_PPTX;
			snprintf(type, EXTRACT_TYPE_MAX, "pptx");
			break;
		}
		if (!strcmp(nm, "mimetype")) {
			char t[EXTRACT_TYPE_MAX] = "";
			odf_subtype(a, t);
			if (*t) {
				d = ZDOC_ODF;
				snprintf(type, EXTRACT_TYPE_MAX, "%s", t);
				break;
			}
		}
		if (!strcmp(nm, "content.xml")) {
			content = true;
		}
	}
	if (d == ZDOC_ZIP && content) {
		d = ZDOC_ODF; /* ODF without (or with an odd) mimetype */
		snprintf(type, EXTRACT_TYPE_MAX, "odt");
	}
	archive_read_free(a);
	return d;
}

int
extract_archive(struct xnode *n)
{
	bool zip = n->len >= 4 && n->buf[0] == 'P' && n->buf[1] == 'K';
	if (zip) {
		snprintf(n->type, EXTRACT_TYPE_MAX, "zip");
		enum zdoc d = zip_kind(n, n->type);
		if (d != ZDOC_ZIP) {
			const char *odf = d == ZDOC_ODF ? n->type : NULL;
			return walk_zdoc(n, d, odf);
		}
	}
	return walk_generic(n);
}
