/* json.c — strict parsing and lossless writing of JSON (see json.h).
 *
 * The parse is two passes. A scan over the text checks what cJSON lets
 * through (strings, escapes, numbers, nesting, what follows the value) and,
 * with LW_JSON_BYTES, rewrites \udcXX escapes into raw bytes; cJSON then
 * builds the tree from the text (or from the rewritten copy), and a walk
 * over the tree refuses duplicate keys. Stateless. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static int
fail_at(struct lw_json_error *err, size_t off, const char *msg)
{
	err->offset = off;
	err->where[0] = '\0';
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EPROTO;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9') {
			v |= (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v |= (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			v |= (unsigned)(c - 'A' + 10);
		} else {
			return -1;
		}
	}
	*out = v;
	return 0;
}

bool
lw_json_number_ok(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && s[i] == '-') {
		i++;
	}
	if (i >= len) {
		return false;
	}
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
	} else {
		return false;
	}
	if (i < len && s[i] == '.') {
		size_t d = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return false;
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			i++;
		}
		size_t d = i;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return false;
		}
	}
	return i == len;
}

/* Where the rewritten copy and the original disagree on offsets: each
 * rewritten escape shortens the text by 5 bytes. */
struct shift {
	size_t *at; /* offsets in the copy just after each rewritten byte */
	size_t n, cap;
};

struct scan {
	const char *s;
	size_t len;
	unsigned flags;
	struct wire_buf copy; /* only once a rewrite happens */
	size_t copied;        /* input bytes already in @copy */
	struct shift shift;
};

static void
rewrite_byte(struct scan *sc, size_t at, unsigned char byte)
{
	wire_buf_put(&sc->copy, sc->s + sc->copied, at - sc->copied);
	wire_buf_put(&sc->copy, (const char *)&byte, 1);
	sc->copied = at + 6;
	if (sc->shift.n == sc->shift.cap) {
		sc->shift.cap = sc->shift.cap ? sc->shift.cap * 2 : 16;
		sc->shift.at = lw_realloc(sc->shift.at, sc->shift.cap * sizeof(size_t));
	}
	sc->shift.at[sc->shift.n++] = sc->copy.len;
}

/* A string starting at the quote at @i; returns the offset after its
 * closing quote, or -EPROTO. */
static int
scan_string(struct scan *sc, size_t *i, struct lw_json_error *err)
{
	const char *s = sc->s;
	size_t p = *i + 1;
	for (;;) {
		if (p >= sc->len) {
			return fail_at(err, *i, "unterminated string");
		}
		unsigned char c = (unsigned char)s[p];
		if (c == '"') {
			*i = p + 1;
			return 0;
		}
		if (c < 0x20) {
			return fail_at(err, p, "control character in a string (write it as \\u00XX)");
		}
		if (c >= 0x80) {
			size_t n = wire_utf8_seq_len((const unsigned char *)s + p, sc->len - p);
			if (!n) {
				return fail_at(err, p, "not UTF-8");
			}
			p += n;
			continue;
		}
		if (c != '\\') {
			p++;
			continue;
		}
		if (p + 1 >= sc->len) {
			return fail_at(err, p, "unterminated string");
		}
		char e = s[p + 1];
		if (strchr("\"\\/bfnrt", e) && e) {
			p += 2;
			continue;
		}
		unsigned v;
		if (e != 'u' || p + 6 > sc->len || hex4(s + p + 2, &v) < 0) {
			return fail_at(err, p, "invalid escape in a string");
		}
		if (v == 0) {
			return fail_at(err, p, "\\u0000 in a string");
		}
		if (v >= 0xd800 && v <= 0xdbff) {
			unsigned lo;
			if (p + 12 > sc->len || s[p + 6] != '\\' || s[p + 7] != 'u' ||
			    hex4(s + p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
				return fail_at(err, p, "unpaired surrogate in a string");
			}
			p += 12;
			continue;
		}
		if (v >= 0xdc00 && v <= 0xdfff) {
			if (!(sc->flags & LW_JSON_BYTES) || v < 0xdc80 || v > 0xdcff) {
				return fail_at(err, p, "unpaired surrogate in a string");
			}
			rewrite_byte(sc, p, (unsigned char)(v & 0xff));
		}
		p += 6;
	}
}

static int
scan_number(struct scan *sc, size_t *i, struct lw_json_error *err)
{
	size_t start = *i, p = start;
	while (p < sc->len && strchr("+-0123456789.eE", sc->s[p]) && sc->s[p]) {
		p++;
	}
	if (!lw_json_number_ok(sc->s + start, p - start)) {
		return fail_at(err, start, "malformed number");
	}
	char small[64];
	char *text = p - start < sizeof(small) ? small : lw_malloc(p - start + 1);
	memcpy(text, sc->s + start, p - start);
	text[p - start] = '\0';
	double d = strtod(text, NULL);
	if (text != small) {
		free(text);
	}
	if (!isfinite(d)) {
		return fail_at(err, start, "number out of range");
	}
	*i = p;
	return 0;
}

/* The checks cJSON does not make, over the whole text. */
static int
scan_text(struct scan *sc, struct lw_json_error *err)
{
	int depth = 0;
	size_t i = 0;
	bool seen_value = false;
	while (i < sc->len) {
		char c = sc->s[i];
		if (is_ws(c)) {
			i++;
			continue;
		}
		if (seen_value && depth == 0) {
			return fail_at(err, i, "text after the end of the document");
		}
		int r = 0;
		switch (c) {
		case '"':
			r = scan_string(sc, &i, err);
			break;
		case '{':
		case '[':
			if (++depth > LW_JSON_MAX_DEPTH) {
				return fail_at(err, i, "nested too deeply");
			}
			i++;
			break;
		case '}':
		case ']':
			if (--depth < 0) {
				return fail_at(err, i, "syntax error");
			}
			i++;
			break;
		case '-':
		case '0' ... '9':
			r = scan_number(sc, &i, err);
			break;
		case '\0':
			return fail_at(err, i, "NUL byte");
		case 'a' ... 'z':
			/* a literal, whole; cJSON checks which */
			while (i < sc->len && sc->s[i] >= 'a' && sc->s[i] <= 'z') {
				i++;
			}
			break;
		default:
			/* punctuation: cJSON checks it */
			i++;
			break;
		}
		if (r < 0) {
			return r;
		}
		if (depth == 0) {
			seen_value = true;
		}
	}
	return 0;
}

static void
pointer_append(char *where, size_t cap, const char *key)
{
	size_t n = strlen(where);
	if (n + 2 >= cap) {
		return;
	}
	where[n++] = '/';
	for (const char *k = key; *k && n + 3 < cap; k++) {
		if (*k == '~' || *k == '/') {
			where[n++] = '~';
			where[n++] = *k == '~' ? '0' : '1';
		} else {
			where[n++] = *k;
		}
	}
	where[n] = '\0';
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *
duplicate_key(const cJSON *obj)
{
	size_t n = 0;
	for (const cJSON *c = obj->child; c; c = c->next) {
		n++;
	}
	if (n < 2) {
		return NULL;
	}
	if (n <= 8) {
		for (const cJSON *a = obj->child; a; a = a->next) {
			for (const cJSON *b = a->next; b; b = b->next) {
				if (strcmp(a->string, b->string) == 0) {
					return a->string;
				}
			}
		}
		return NULL;
	}
	const char **keys = lw_new(const char *, n);
	size_t k = 0;
	for (const cJSON *c = obj->child; c; c = c->next) {
		keys[k++] = c->string;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	const char *dup = NULL;
	for (size_t i = 1; i < n && !dup; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			dup = keys[i];
		}
	}
	free(keys);
	return dup;
}

/* Refuses duplicate keys anywhere below @v; @where is its JSON pointer. */
static int
check_tree(const cJSON *v, char *where, size_t cap, struct lw_json_error *err)
{
	if (cJSON_IsObject(v)) {
		const char *dup = duplicate_key(v);
		if (dup) {
			err->offset = SIZE_MAX;
			snprintf(err->where, sizeof(err->where), "%s", where[0] ? where : "/");
			snprintf(err->msg, sizeof(err->msg), "duplicate key \"%.60s\"", dup);
			return -EPROTO;
		}
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
		return 0;
	}
	size_t keep = strlen(where);
	int idx = 0;
	for (const cJSON *c = v->child; c; c = c->next, idx++) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			char num[24];
			snprintf(num, sizeof(num), "%d", idx);
			pointer_append(where, cap, cJSON_IsObject(v) ? c->string : num);
			int r = check_tree(c, where, cap, err);
			where[keep] = '\0';
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

int
lw_json_parse(const char *s, size_t len, unsigned flags, cJSON **out,
	      struct lw_json_error *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	struct scan sc = {.s = s, .len = len, .flags = flags};
	int r = scan_text(&sc, err);
	if (r < 0) {
		goto done;
	}
	const char *text = s;
	size_t tlen = len;
	if (sc.copy.data) {
		wire_buf_put(&sc.copy, s + sc.copied, len - sc.copied);
		text = sc.copy.data;
		tlen = sc.copy.len;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, tlen, &end, false);
	size_t off = end && end >= text ? (size_t)(end - text) : 0;
	if (root) {
		while (off < tlen && is_ws(text[off])) {
			off++;
		}
	}
	if (!root || off < tlen) {
		/* back to an offset in the caller's text */
		size_t orig = off;
		for (size_t k = 0; k < sc.shift.n && sc.shift.at[k] <= off; k++) {
			orig += 5;
		}
		cJSON_Delete(root);
		r = fail_at(err, orig > len ? len : orig,
			    root ? "text after the end of the document" : "syntax error");
		goto done;
	}
	char where[sizeof(err->where)] = "";
	r = check_tree(root, where, sizeof(where), err);
	if (r < 0) {
		cJSON_Delete(root);
		goto done;
	}
	*out = root;
done:
	wire_buf_fini(&sc.copy);
	free(sc.shift.at);
	return r;
}

void
lw_json_line_col(const char *s, size_t len, size_t offset, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset && i < len; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void
write_number(struct wire_buf *b, double d)
{
	char num[40];
	if (!isfinite(d)) {
		wire_buf_put(b, "null", 4);
		return;
	}
	if (d == trunc(d) && fabs(d) < 9007199254740992.0) {
		snprintf(num, sizeof(num), "%lld", (long long)d);
	} else {
		/* the shortest of 15 or 17 digits that reads back exactly */
		snprintf(num, sizeof(num), "%.15g", d);
		if (strtod(num, NULL) != d) {
			snprintf(num, sizeof(num), "%.17g", d);
		}
	}
	wire_buf_put(b, num, strlen(num));
}

void
lw_json_write(struct wire_buf *b, const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
		wire_buf_put(b, "null", 4);
	} else if (cJSON_IsFalse(v)) {
		wire_buf_put(b, "false", 5);
	} else if (cJSON_IsTrue(v)) {
		wire_buf_put(b, "true", 4);
	} else if (cJSON_IsNumber(v)) {
		write_number(b, v->valuedouble);
	} else if (cJSON_IsRaw(v)) {
		/* made by us (wire_json_bytes): already JSON */
		const char *raw = v->valuestring ? v->valuestring : "null";
		wire_buf_put(b, raw, strlen(raw));
	} else if (cJSON_IsString(v)) {
		const char *str = v->valuestring ? v->valuestring : "";
		wire_buf_json_string(b, str, strlen(str));
	} else {
		bool obj = cJSON_IsObject(v);
		wire_buf_put(b, obj ? "{" : "[", 1);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child) {
				wire_buf_put(b, ",", 1);
			}
			if (obj) {
				const char *k = c->string ? c->string : "";
				wire_buf_json_string(b, k, strlen(k));
				wire_buf_put(b, ":", 1);
			}
			lw_json_write(b, c);
		}
		wire_buf_put(b, obj ? "}" : "]", 1);
	}
}

char *
lw_json_print(const cJSON *v)
{
	struct wire_buf b = {0};
	lw_json_write(&b, v);
	return b.data;
}
