/* extract-mail.c — e-mail (RFC 5322 / MIME) with GMime 3: every header
 * field of the top-level message as a MAIL_HEADER segment (RFC 2047
 * decoded), each inline text/plain or text/html part as one BODY segment
 * (transfer encoding and charset decoded by GMime; for
 * multipart/alternative only the plain-text alternative, so the same text
 * is not read twice), and every attachment and attached message
 * (message/rfc822) decoded and extracted as its own member through
 * extract_node().
 *
 * GMime's parser recurses per multipart level, so a message with absurdly
 * many boundary declarations is refused before parsing (stack safety), and
 * our own walk stops at MIME_MAX_DEPTH. g_mime_init() runs once under
 * pthread_once; after that GMime parsers are per call. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "extract-private.h"
#include "mem.h"

#define MIME_MAX_DEPTH 32
#define MIME_MAX_BOUNDARIES 512

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_setup(void)
{
	g_mime_init();
}

struct mwalk {
	struct xnode *n;
	unsigned attachments;
	int r;
};

static void walk(struct mwalk *w, GMimeObject *obj, unsigned level);

static bool
is_type(GMimeObject *obj, const char *type, const char *sub)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	return ct && g_mime_content_type_is_type(ct, type, sub);
}

static void
member(struct mwalk *w, const void *buf, size_t len, const char *fname)
{
	struct xctx *x = w->n->x;
	w->attachments++;
	AUTOFREE char *nm = fname && *fname ? lw_strdup(fname)
					     : lw_asprintf("part-%u", w->attachments);
	AUTOFREE char *mpath = extract_join_path(w->n->path, nm);
	if (x->out->members >= x->lim.max_members) {
		extract_fail(x, EXTRACT_STOP_MEMBERS, "limit: members (%u) at %s",
			     x->lim.max_members, mpath);
		return;
	}
	if (w->n->depth + 1 > x->lim.max_depth) {
		extract_fail(x, EXTRACT_STOP_DEPTH, "limit: archive depth (%u) at %s",
			     x->lim.max_depth, mpath);
		return;
	}
	if (len > x->lim.max_member_bytes) {
		extract_fail(x, EXTRACT_STOP_MEMBER_SIZE,
			     "limit: member size (%zu bytes) in %s",
			     x->lim.max_member_bytes, mpath);
		len = x->lim.max_member_bytes;
	}
	if (!extract_account(x, len)) {
		return;
	}
	int r = extract_node(x, buf, len, nm, mpath, w->n->depth + 1, NULL);
	if (r < 0) {
		w->r = r;
	}
}

/* Decoded bytes of a leaf part (transfer encoding removed). */
static GByteArray *
part_bytes(GMimePart *part, GMimeStream **keep)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	*keep = NULL;
	if (!dw) {
		return NULL;
	}
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, ms);
	*keep = ms;
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
}

static void
leaf(struct mwalk *w, GMimePart *part)
{
	struct xctx *x = w->n->x;
	GMimeObject *obj = GMIME_OBJECT(part);
	bool text = GMIME_IS_TEXT_PART(part) &&
		    (is_type(obj, "text", "plain") || is_type(obj, "text", "html"));
	if (text && !g_mime_part_is_attachment(part)) {
		char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		if (!t) {
			return;
		}
		size_t tl = strlen(t);
		if (!extract_account(x, 0)) {
			g_free(t);
			return;
		}
		if (is_type(obj, "text", "html")) {
			extract_html_utf8(x, w->n->doc, t, tl);
		} else {
			extract_add(x, w->n->doc, TEXT_KIND_BODY, NULL, t, tl);
		}
		lw_wipe(t, tl);
		g_free(t);
		return;
	}
	GMimeStream *keep;
	GByteArray *ba = part_bytes(part, &keep);
	if (ba) {
		member(w, ba->data, ba->len, g_mime_part_get_filename(part));
		lw_wipe(ba->data, ba->len);
	}
	if (keep) {
		g_object_unref(keep);
	}
}

static void
walk(struct mwalk *w, GMimeObject *obj, unsigned level)
{
	struct xctx *x = w->n->x;
	if (!obj || w->r < 0 || extract_should_stop(x, true)) {
		return;
	}
	if (level > MIME_MAX_DEPTH) {
		extract_fail(x, EXTRACT_STOP_MALFORMED,
			     "mime: %s: multipart nesting deeper than %d",
			     *w->n->path ? w->n->path : "message", MIME_MAX_DEPTH);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (!m) {
			return;
		}
		char *s = g_mime_object_to_string(GMIME_OBJECT(m), NULL);
		if (s) {
			size_t sl = strlen(s);
			member(w, s, sl, "message.eml");
			lw_wipe(s, sl);
			g_free(s);
		}
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int cnt = g_mime_multipart_get_count(mp);
		if (is_type(obj, "multipart", "alternative")) {
			/* Prefer the plain-text alternative; else the last
			 * (richest) one. */
			GMimeObject *pick = NULL;
			for (int i = 0; i < cnt; i++) {
				GMimeObject *c = g_mime_multipart_get_part(mp, i);
				if (is_type(c, "text", "plain")) {
					pick = c;
					break;
				}
			}
			if (!pick && cnt > 0) {
				pick = g_mime_multipart_get_part(mp, cnt - 1);
			}
			walk(w, pick, level + 1);
			return;
		}
		for (int i = 0; i < cnt && w->r == 0; i++) {
			walk(w, g_mime_multipart_get_part(mp, i), level + 1);
		}
		return;
	}
	if (GMIME_IS_PART(obj)) {
		leaf(w, GMIME_PART(obj));
	}
}

static void
headers(struct xnode *n, GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int cnt = hl ? g_mime_header_list_get_count(hl) : 0;
	for (int i = 0; i < cnt && i < 1000; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *value = g_mime_header_get_value(h);
		if (!name || !*name || !value) {
			continue;
		}
		/* The message's own content headers are not text. */
		if (!strncasecmp(name, "Content-", 8)) {
			continue;
		}
		extract_add(n->x, n->doc, TEXT_KIND_MAIL_HEADER, name, value,
			    strlen(value));
	}
}

static size_t
count_ci(const unsigned char *p, size_t len, const char *needle, size_t max)
{
	size_t nl = strlen(needle), c = 0;
	for (size_t i = 0; i + nl <= len && c <= max; i++) {
		if ((p[i] | 0x20) == needle[0] && !strncasecmp((const char *)p + i,
							       needle, nl)) {
			c++;
		}
	}
	return c;
}

int
extract_mail(struct xnode *n)
{
	pthread_once(&gmime_once, gmime_setup);
	if (count_ci(n->buf, n->len, "boundary", MIME_MAX_BOUNDARIES) >
	    MIME_MAX_BOUNDARIES) {
		extract_fail(n->x, EXTRACT_STOP_MALFORMED,
			     "mime: %s: more than %d multipart boundaries",
			     *n->path ? n->path : "message", MIME_MAX_BOUNDARIES);
		return extract_text(n);
	}
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)n->buf,
							   n->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	g_object_unref(s);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (!msg) {
		extract_fail(n->x, EXTRACT_STOP_MALFORMED,
			     "mime: %s: not a message", *n->path ? n->path : "file");
		return extract_text(n);
	}
	headers(n, GMIME_OBJECT(msg));
	struct mwalk w = { .n = n };
	walk(&w, g_mime_message_get_mime_part(msg), 0);
	g_object_unref(msg);
	return w.r;
}
