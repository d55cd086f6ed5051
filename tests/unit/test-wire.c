/* test-wire.c — lossless JSON and line escaping of byte strings. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mem.h"
#include "wire.h"

static const struct {
	const char *name;
	const char *in;
	size_t len;
	const char *json;
	const char *line;
} cases[] = {
	{"ascii", "/a/b.txt", 8, "\"/a/b.txt\"", "/a/b.txt"},
	{"quote and backslash", "a\"b\\c", 5, "\"a\\\"b\\\\c\"", "a\"b\\\\c"},
	{"newline and tab", "a\nb\tc", 5, "\"a\\u000ab\\u0009c\"", "a\\nb\\tc"},
	{"valid utf-8", "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"", "\xe2\x82\xac"},
	{"invalid byte", "a\xff" "b", 3, "\"a\\udcffb\"", "a\\xffb"},
	{"truncated sequence", "\xe2\x82", 2, "\"\\udce2\\udc82\"", "\\xe2\\x82"},
	{"overlong slash", "\xc0\xaf", 2, "\"\\udcc0\\udcaf\"", "\\xc0\\xaf"},
	{"encoded surrogate", "\xed\xa0\x80", 3, "\"\\udced\\udca0\\udc80\"",
	 "\\xed\\xa0\\x80"},
	{"nul inside", "a\0b", 3, "\"a\\u0000b\"", "a\\x00b"},
	{"del", "\x7f", 1, "\"\\u007f\"", "\\x7f"},
	{"4-byte", "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80"},
	{"C1 control CSI", "a\xc2\x9b" "2Jb", 6, "\"a\xc2\x9b" "2Jb\"", "a\\u009b2Jb"},
	{"right-to-left override", "memo\xe2\x80\xaetxt.exe", 14,
	 "\"memo\xe2\x80\xaetxt.exe\"", "memo\\u202etxt.exe"},
	{"escape sequence", "\x1b[2J", 4, "\"\\u001b[2J\"", "\\x1b[2J"},
	{"above U+10FFFF", "\xf4\x90\x80\x80", 4, "\"\\udcf4\\udc90\\udc80\\udc80\"",
	 "\\xf4\\x90\\x80\\x80"},
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_buf b = {0};
		wire_buf_json_string(&b, cases[i].in, cases[i].len);
		th_streq(b.data, cases[i].json, "json: %s", cases[i].name);
		wire_buf_fini(&b);
		AUTOFREE char *line = wire_escape_line(cases[i].in, cases[i].len);
		th_streq(line, cases[i].line, "line: %s", cases[i].name);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes("x\xff", 2));
	char *s = cJSON_PrintUnformatted(o);
	th_streq(s, "{\"path\":\"x\\udcff\"}", "raw node inside a cJSON object");
	cJSON_free(s);
	cJSON_Delete(o);

	/* numbers from hostile JSON: never an undefined conversion */
	static const struct {
		const char *json;
		long long min, max;
		bool ok;
		long long want;
	} nums[] = {
		{"42", 0, 100, true, 42},
		{"-1", 0, 100, false, 0},
		{"101", 0, 100, false, 0},
		{"1.5", 0, 100, false, 0},
		{"7.77778e+67", LLONG_MIN, LLONG_MAX, false, 0},
		{"-1e300", LLONG_MIN, LLONG_MAX, false, 0},
		{"9007199254740992", 0, LLONG_MAX, true, 9007199254740992ll},
		{"\"3\"", 0, 100, false, 0},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		cJSON *v = cJSON_Parse(nums[i].json);
		long long got = 0;
		bool r = wire_json_int(v, nums[i].min, nums[i].max, &got);
		th_ok(r == nums[i].ok && (!r || got == nums[i].want), "wire_json_int(%s)",
		      nums[i].json);
		cJSON_Delete(v);
	}
	return th_done();
}
