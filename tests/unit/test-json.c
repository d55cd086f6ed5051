/* test-json.c — strict parsing and lossless writing (common/json.c). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "json.h"
#include "mem.h"

static const struct {
	const char *name;
	const char *in;
	unsigned flags;
	const char *want; /* the document written back, or NULL: refused */
	const char *err;  /* substring of the message when refused */
	size_t err_off;   /* the offset it names (SIZE_MAX: a pointer) */
} cases[] = {
	{"object", "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", 0,
	 "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", NULL, 0},
	{"whitespace around", " \n\t{\"a\":\"b\"}\r\n ", 0, "{\"a\":\"b\"}", NULL, 0},
	{"top-level literal", "true", 0, "true", NULL, 0},
	{"top-level number", "-12.5e3", 0, "-12500", NULL, 0},
	{"top-level string", "\"s\"", 0, "\"s\"", NULL, 0},
	{"fraction kept exactly", "[0.1,1e300,-0]", 0, "[0.1,1e+300,0]", NULL, 0},
	{"2^53-1 exact", "[9007199254740991]", 0, "[9007199254740991]", NULL, 0},
	{"surrogate pair", "\"\\ud83d\\udcc4\"", LW_JSON_BYTES, "\"\xf0\x9f\x93\x84\"", NULL, 0},
	{"escaped byte kept as a byte", "{\"p\":\"a\\udcffb\"}", LW_JSON_BYTES,
	 "{\"p\":\"a\\udcffb\"}", NULL, 0},
	{"two escaped bytes after text", "[\"\\u00e9\\udcc3\\udca9x\"]", LW_JSON_BYTES,
	 "[\"\xc3\xa9\xc3\xa9x\"]", NULL, 0},
	{"escaped byte without the flag", "\"\\udcff\"", 0, NULL, "unpaired surrogate", 1},
	{"lone high surrogate", "\"\\ud83dx\"", LW_JSON_BYTES, NULL, "unpaired surrogate", 1},
	{"low surrogate outside the byte range", "\"\\udc10\"", LW_JSON_BYTES, NULL,
	 "unpaired surrogate", 1},
	{"trailing text", "{\"rule\":\"r\"},{\"agent\":\"b\"}", 0, NULL,
	 "text after the end of the document", 12},
	{"trailing garbage", "{\"a\":1}]} GARBAGE", 0, NULL,
	 "text after the end of the document", 7},
	{"second literal", "true false", 0, NULL, "text after the end of the document", 5},
	{"duplicate key", "{\"agent\":\"a\",\"agent\":\"b\"}", 0, NULL,
	 "duplicate key \"agent\"", SIZE_MAX},
	{"duplicate key among many", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
				     "\"h\":8,\"i\":9,\"e\":10}", 0, NULL,
	 "duplicate key \"e\"", SIZE_MAX},
	{"duplicate key nested", "{\"x\":[{\"y\":{\"k\":1,\"k\":2}}]}", 0, NULL,
	 "duplicate key \"k\"", SIZE_MAX},
	{"1e999", "{\"coverage\":1e999}", 0, NULL, "number out of range", 12},
	{"-1e999", "[-1e999]", 0, NULL, "number out of range", 1},
	{"a long number that overflows", "[1000000000000000000000000000000000000000000000000000"
					 "00000000000000000000000000000000000000000000000000000"
					 "00000000000000000000000000000000000000000000000000000"
					 "00000000000000000000000000000000000000000000000000000"
					 "00000000000000000000000000000000000000000000000000000"
					 "00000000000000000000000000000000000000000000000000000"
					 "0000000000]", 0, NULL, "number out of range", 1},
	{"plus sign", "[+1]", 0, NULL, "syntax error", 1},
	{"leading zero", "[01]", 0, NULL, "malformed number", 1},
	{"bare point", "[1.]", 0, NULL, "malformed number", 1},
	{"hex", "[0x10]", 0, NULL, "syntax error", 2},
	{"control character in a string", "\"a\nb\"", 0, NULL, "control character", 2},
	{"NUL escape", "\"a\\u0000b\"", 0, NULL, "\\u0000", 2},
	{"raw NUL", "[1,\0]", 0, NULL, "NUL byte", 3},
	{"invalid escape", "\"\\x41\"", 0, NULL, "invalid escape", 1},
	{"not UTF-8", "\"\xff\"", 0, NULL, "not UTF-8", 1},
	{"unterminated", "{\"a\":\"b", 0, NULL, "unterminated string", 5},
	{"missing colon", "{\"a\" 1}", 0, NULL, "syntax error", 5},
	{"too deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		     "1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0, NULL,
	 "nested too deeply", 64},
	{"empty", "", 0, NULL, "syntax error", 0},
	{"error offset maps back over rewritten bytes", "[\"\\udcff\\udcff\" 1]", LW_JSON_BYTES,
	 NULL, "syntax error", 16},
};

int
main(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].in);
		if (strcmp(cases[i].name, "raw NUL") == 0) {
			len = 5;
		}
		cJSON *v = NULL;
		struct lw_json_error je;
		int r = lw_json_parse(cases[i].in, len, cases[i].flags, &v, &je);
		if (cases[i].want) {
			AUTOFREE char *out = r == 0 ? lw_json_print(v) : NULL;
			th_streq(out, cases[i].want, "%s (%s)", cases[i].name, r ? je.msg : "ok");
		} else {
			th_ok(r == -EPROTO && !v && strstr(je.msg, cases[i].err) &&
				      je.offset == cases[i].err_off,
			      "%s: refused with \"%s\" at %zu (got %d, \"%s\" at %zu)",
			      cases[i].name, cases[i].err, cases[i].err_off, r, je.msg, je.offset);
		}
		cJSON_Delete(v);
	}

	cJSON *v = NULL;
	struct lw_json_error je;
	const char *doc = "{\"a\":{\"b/c\":{\"k\":1,\"k\":2}}}";
	lw_json_parse(doc, strlen(doc), 0, &v, &je);
	th_streq(je.where, "/a/b~1c", "a duplicate key names its object as a JSON pointer");

	unsigned line, col;
	lw_json_line_col("{\n  \"a\": x}", 11, 9, &line, &col);
	th_ok(line == 2 && col == 8, "line 2, column 8 (got %u:%u)", line, col);

	/* infinity made in memory (not parsed) is written as null */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "inf", 1e308 * 10);
	AUTOFREE char *txt = lw_json_print(o);
	th_streq(txt, "{\"inf\":null}", "non-finite number written as null");
	cJSON_Delete(o);

	th_ok(lw_json_number_ok("-0.5e+10", 8), "number grammar: -0.5e+10");
	th_ok(!lw_json_number_ok("-", 1), "number grammar: a lone minus");
	th_ok(!lw_json_number_ok("1e", 2), "number grammar: exponent without digits");
	return th_done();
}
