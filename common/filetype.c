/* filetype.c — content sniffing from magic numbers (see filetype.h). */
#include "filetype.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

static bool
starts(const unsigned char *h, size_t len, const char *magic, size_t mlen)
{
	return len >= mlen && memcmp(h, magic, mlen) == 0;
}

static const unsigned char *
find(const unsigned char *h, size_t len, const char *needle)
{
	return memmem(h, len, needle, strlen(needle));
}

/* Zip containers: ODF puts an uncompressed "mimetype" member first; OOXML
 * has part names under word/, xl/ or ppt/ in its local headers. */
static const char *
sniff_zip(const unsigned char *h, size_t len)
{
	if (len > 38 && memcmp(h + 30, "mimetype", 8) == 0) {
		if (find(h, len > 200 ? 200 : len, "opendocument.text")) {
			return "odt";
		}
		if (find(h, len > 200 ? 200 : len, "opendocument.spreadsheet")) {
			return "ods";
		}
		if (find(h, len > 200 ? 200 : len, "opendocument.presentation")) {
			return "odp";
		}
	}
	if (find(h, len, "[Content_Types].xml") || find(h, len, "_rels/.rels")) {
		if (find(h, len, "word/")) {
			return "docx";
		}
		if (find(h, len, "xl/")) {
			return "xlsx";
		}
		if (find(h, len, "ppt/")) {
			return "pptx";
		}
	}
	return "zip";
}

/* Text or not, judged on the first KiB like file(1): the rest of the head
 * rarely changes the verdict and scanning it cost 3 % of a baseline. */
#define TEXTY_PROBE 1024

static bool
is_texty(const unsigned char *h, size_t len)
{
	if (len > TEXTY_PROBE) {
		len = TEXTY_PROBE;
	}
	if (len >= 2 && ((h[0] == 0xff && h[1] == 0xfe) || (h[0] == 0xfe && h[1] == 0xff))) {
		return true; /* UTF-16 with BOM */
	}
	size_t bad = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = h[i];
		if (c == 0) {
			return false;
		}
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' &&
		    c != 0x1b) {
			bad++;
			i++;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n = wire_utf8_seq_len(h + i, len - i);
		if (n == 0 && len - i < 4) {
			break; /* a sequence cut by the end of the head */
		}
		i += n ? n : 1; /* Latin-1 bytes count as text */
	}
	return bad * 20 < len;
}

static const unsigned char *
skip_space(const unsigned char *h, size_t *len)
{
	if (*len >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf) {
		h += 3;
		*len -= 3;
	}
	while (*len && (*h == ' ' || *h == '\t' || *h == '\r' || *h == '\n')) {
		h++;
		(*len)--;
	}
	return h;
}

static bool
looks_like_mail(const unsigned char *h, size_t len)
{
	static const char *const hdrs[] = {
		"From:", "Received:", "Return-Path:", "MIME-Version:", "Message-ID:",
		"Delivered-To:", "Date:", "Subject:", "To:", "X-", "From ",
	};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		size_t n = strlen(hdrs[i]);
		if (len >= n && strncasecmp((const char *)h, hdrs[i], n) == 0) {
			/* and a second header line to be sure it is a message */
			const unsigned char *nl = memchr(h, '\n', len);
			if (!nl || nl + 1 >= h + len) {
				return false;
			}
			const unsigned char *l2 = nl + 1;
			size_t rest = len - (size_t)(l2 - h);
			const unsigned char *colon = memchr(l2, ':', rest < 80 ? rest : 80);
			const unsigned char *sp = memchr(l2, ' ', rest < 80 ? rest : 80);
			return colon && (!sp || colon < sp || *l2 == ' ' || *l2 == '\t');
		}
	}
	return false;
}

const char *
filetype_sniff(const unsigned char *head, size_t len, unsigned long long size,
	       const char *name)
{
	if (size == 0) {
		return "empty";
	}
	if (starts(head, len, "PK\x03\x04", 4) || starts(head, len, "PK\x05\x06", 4)) {
		return sniff_zip(head, len);
	}
	if (starts(head, len, "%PDF-", 5)) {
		return "pdf";
	}
	if (starts(head, len, "\x1f\x8b", 2)) {
		return "gzip";
	}
	if (starts(head, len, "BZh", 3)) {
		return "bzip2";
	}
	if (starts(head, len, "\xfd" "7zXZ\x00", 6)) {
		return "xz";
	}
	if (starts(head, len, "\x28\xb5\x2f\xfd", 4)) {
		return "zstd";
	}
	if (starts(head, len, "7z\xbc\xaf\x27\x1c", 6)) {
		return "7z";
	}
	if (len >= 262 && memcmp(head + 257, "ustar", 5) == 0) {
		return "tar";
	}
	if (starts(head, len, "\x7f" "ELF", 4)) {
		return "elf";
	}
	if (starts(head, len, "\x89PNG", 4)) {
		return "png";
	}
	if (starts(head, len, "\xff\xd8\xff", 3)) {
		return "jpeg";
	}
	if (starts(head, len, "GIF8", 4)) {
		return "gif";
	}
	if (starts(head, len, "SQLite format 3", 16)) {
		return "sqlite";
	}
	if (starts(head, len, "{\\rtf", 5)) {
		return "rtf";
	}
	if (!is_texty(head, len)) {
		return "binary";
	}
	size_t rest = len;
	const unsigned char *t = skip_space(head, &rest);
	size_t probe = rest < 1024 ? rest : 1024;
	if (rest >= 5 && (strncasecmp((const char *)t, "<!doctype html", 14 < rest ? 14 : rest) == 0 ||
			  strncasecmp((const char *)t, "<html", 5) == 0)) {
		return "html";
	}
	if (looks_like_mail(t, rest)) {
		return "eml";
	}
	if (starts(t, rest, "<?xml", 5)) {
		return memmem(t, probe, "<html", 5) ? "html" : "xml";
	}
	if (name) {
		const char *dot = strrchr(name, '.');
		if (dot && (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0)) {
			return "html";
		}
		if (dot && strcasecmp(dot, ".eml") == 0) {
			return "eml";
		}
	}
	return "text";
}
