/* json.h — strict JSON in, lossless JSON out, for every document that
 * crosses a trust boundary: configuration and policy files, request bodies
 * at the collector, the collector's answers to agents and to the CLI, and
 * the classify helper's replies.
 *
 * cJSON alone is lenient in ways an attacker can use: it stops after the
 * first value and ignores what follows, keeps duplicate keys (and lookups
 * return the first, while other readers take the last), turns 1e999 into
 * infinity, accepts control characters inside strings, truncates a string
 * at \u0000 and reads "+1", "01" or "1." as numbers. lw_json_parse()
 * refuses all of that, then lets cJSON build the tree.
 *
 * File names are bytes (wire.h): a lone \udc80..\udcff escape stands for
 * one byte that is not UTF-8. With LW_JSON_BYTES the parser turns each such
 * escape into that byte inside the string value, and lw_json_write() writes
 * it back as the same escape, so a document read and written again keeps
 * every byte of every name. Stateless; any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mem.h"
#include "wire.h"

enum lw_json_flags {
	LW_JSON_BYTES = 1, /* \udc80..\udcff escapes become raw bytes */
};

#define LW_JSON_MAX_DEPTH 64

/* A scope-bound tree: `AUTOJSON cJSON *o = ...;` is deleted on every way
 * out of its block (TAKE_PTR() hands it on). */
static inline void
lw_json_deletep(cJSON **p)
{
	cJSON_Delete(*p);
}
#define AUTOJSON CLEANUP(lw_json_deletep)

struct lw_json_error {
	size_t offset;  /* byte offset of the problem, or SIZE_MAX when it is
			 * a whole value (then @where names it) */
	char where[128]; /* JSON pointer of the object, for duplicate keys */
	char msg[96];
};

/* Parses exactly one JSON value from @len bytes at @s (no NUL needed),
 * with nothing but whitespace around it. Returns 0 and *out (free with
 * cJSON_Delete), or -EPROTO and @err filled. Objects and arrays may nest
 * LW_JSON_MAX_DEPTH deep. */
int lw_json_parse(const char *s, size_t len, unsigned flags, cJSON **out,
		  struct lw_json_error *err);

/* Line and column (from 1) of byte @offset in @s, for messages. */
void lw_json_line_col(const char *s, size_t len, size_t offset, unsigned *line,
		      unsigned *col);

/* Appends @v as compact JSON to @b. Strings are written as wire.h says
 * (bytes that are not UTF-8 as \udcXX); whole numbers below 2^53 without
 * a fraction, others with 17 significant digits, and anything not finite
 * as null (cJSON would write "inf", which is not JSON). */
void lw_json_write(struct wire_buf *b, const cJSON *v);
/* The same into a new string; caller frees. */
char *lw_json_print(const cJSON *v);

/* The JSON-number rules, for checking a number's text: true if @len bytes
 * at @s are exactly one number as RFC 8259 writes it. */
bool lw_json_number_ok(const char *s, size_t len);
