/* wire.c — JSON and line escaping of byte strings (see wire.h). Stateless. */
#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

void
wire_buf_put(struct wire_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1) {
			cap *= 2;
		}
		b->data = lw_realloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
wire_buf_fini(struct wire_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

size_t
wire_utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		return 1;
	}
	size_t n;
	unsigned min;
	unsigned cp;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return n;
}

void
wire_buf_json_string(struct wire_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	wire_buf_put(b, "\"", 1);
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		char esc[16];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			wire_buf_put(b, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			wire_buf_put(b, esc, 6);
			i++;
		} else if (c < 0x80) {
			/* a run of plain characters at once: paths are mostly */
			size_t j = i + 1;
			while (j < len && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' &&
			       p[j] != '\\') {
				j++;
			}
			wire_buf_put(b, (const char *)p + i, j - i);
			i = j;
		} else {
			size_t n = wire_utf8_seq_len(p + i, len - i);
			if (n) {
				wire_buf_put(b, (const char *)p + i, n);
				i += n;
			} else {
				snprintf(esc, sizeof(esc), "\\udc%02x", c);
				wire_buf_put(b, esc, 6);
				i++;
			}
		}
	}
	wire_buf_put(b, "\"", 1);
}

cJSON *
wire_json_bytes(const char *s, size_t len)
{
	struct wire_buf b = {0};
	wire_buf_json_string(&b, s, len);
	cJSON *node = cJSON_CreateRaw(b.data);
	wire_buf_fini(&b);
	return node;
}

/* Characters that act on a terminal or on how a line reads rather than
 * show: the C1 controls (U+0080..U+009F; U+009B is CSI on terminals that
 * take 8-bit controls) and the bidirectional overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069), with which "memo\u202Etxt.exe"
 * reads as an innocent name. */
static bool
cp_is_control(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

char *
wire_escape_line(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct wire_buf b = {0};
	wire_buf_put(&b, "", 0);
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		char esc[8];
		if (c == '\\') {
			wire_buf_put(&b, "\\\\", 2);
			i++;
		} else if (c == '\n') {
			wire_buf_put(&b, "\\n", 2);
			i++;
		} else if (c == '\t') {
			wire_buf_put(&b, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			wire_buf_put(&b, esc, 4);
			i++;
		} else if (c < 0x80) {
			wire_buf_put(&b, (const char *)p + i, 1);
			i++;
		} else {
			size_t n = wire_utf8_seq_len(p + i, len - i);
			unsigned cp = n == 2 ? ((c & 0x1fu) << 6) | (p[i + 1] & 0x3fu)
				    : n == 3 ? ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) |
						       (p[i + 2] & 0x3fu)
					     : 0;
			if (n && (cp_is_control(cp))) {
				snprintf(esc, sizeof(esc), "\\u%04x", cp);
				wire_buf_put(&b, esc, 6);
				i += n;
			} else if (n) {
				wire_buf_put(&b, (const char *)p + i, n);
				i += n;
			} else {
				snprintf(esc, sizeof(esc), "\\x%02x", c);
				wire_buf_put(&b, esc, 4);
				i++;
			}
		}
	}
	return b.data;
}

bool
wire_json_int(const cJSON *v, long long min, long long max, long long *out)
{
	if (!cJSON_IsNumber(v)) {
		return false;
	}
	double d = v->valuedouble;
	/* the comparisons are false for NaN; 2^63 bounds the cast */
	if (!(d >= (double)min && d <= (double)max && d > -9.2e18 && d < 9.2e18)) {
		return false;
	}
	long long x = (long long)d;
	if ((double)x != d) {
		return false;
	}
	*out = x;
	return true;
}
