/* test-text.c — encoding sniffing and decoding to UTF-8, the byte cap, and
 * the segment model. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "mem.h"
#include "text.h"

/* Inputs are byte strings with explicit lengths (they hold NULs). */
#define B(s) s, sizeof(s) - 1

static const struct {
	const char *name;
	const char *in;
	size_t len;
	enum text_encoding enc;
	const char *out;
} rows[] = {
	{"ascii", B("NATO SECRET\n"), TEXT_ENCODING_UTF8, "NATO SECRET\n"},
	{"utf-8", B("TR\xc3\x88S SECRET UE"), TEXT_ENCODING_UTF8, "TR\xc3\x88S SECRET UE"},
	{"utf-8 bom", B("\xef\xbb\xbfRESERVADO"), TEXT_ENCODING_UTF8_BOM, "RESERVADO"},
	{"utf-16le bom", B("\xff\xfeN\0S\0\r\0\n\0"), TEXT_ENCODING_UTF16LE, "NS\r\n"},
	{"utf-16be bom", B("\xfe\xff\0S\0E\0C\0R\0E\0T"), TEXT_ENCODING_UTF16BE, "SECRET"},
	{"utf-16le accents", B("\xff\xfe\xc8\0\xe7\0"), TEXT_ENCODING_UTF16LE, "\xc3\x88\xc3\xa7"},
	{"utf-16le surrogate pair", B("\xff\xfe\x3d\xd8\x00\xde"), TEXT_ENCODING_UTF16LE, "\xf0\x9f\x98\x80"},
	{"utf-16le lone surrogate", B("\xff\xfe\x3d\xd8" "A\0"), TEXT_ENCODING_UTF16LE, "\xef\xbf\xbd" "A"},
	{"utf-16le odd trailing byte", B("\xff\xfe" "A\0B"), TEXT_ENCODING_UTF16LE, "A"},
	{"utf-16le no bom", B("N\0A\0T\0O\0 \0S\0E\0C\0R\0E\0T\0\n\0"), TEXT_ENCODING_UTF16LE, "NATO SECRET\n"},
	{"utf-16be no bom", B("\0N\0A\0T\0O\0 \0S\0E\0C\0R\0E\0T\0\n"), TEXT_ENCODING_UTF16BE, "NATO SECRET\n"},
	{"latin-1", B("Relat\xf3rio confid\xeancial\n"), TEXT_ENCODING_CP1252, "Relat\xc3\xb3rio confid\xc3\xaa" "ncial\n"},
	{"cp1252 quotes euro", B("\x93" "x\x94 \x80"), TEXT_ENCODING_CP1252, "\xe2\x80\x9cx\xe2\x80\x9d \xe2\x82\xac"},
	{"cp1252 undefined byte", B("a\x81" "b"), TEXT_ENCODING_CP1252, "a\xef\xbf\xbd" "b"},
	{"mixed utf-8 + stray byte", B("a\xc3\xa7\xc3\xa3o \xe9 b \xc3\xa9"), TEXT_ENCODING_MIXED, "a\xc3\xa7\xc3\xa3o \xc3\xa9 b \xc3\xa9"},
	{"nul bytes dropped", B("NATO\0 SECRET\0\0\n"), TEXT_ENCODING_UTF8, "NATO SECRET\n"},
	{"overlong is invalid", B("\xc0\xaf"), TEXT_ENCODING_CP1252, "\xc3\x80\xc2\xaf"},
	{"utf-8 surrogate is invalid", B("\xed\xa0\x80"), TEXT_ENCODING_CP1252, "\xc3\xad\xc2\xa0\xe2\x82\xac"},
	{"truncated sequence", B("ok \xe2\x82"), TEXT_ENCODING_CP1252, "ok \xc3\xa2\xe2\x80\x9a"},
	{"empty", B(""), TEXT_ENCODING_UTF8, ""},
	{"long ascii fast path", B("0123456789abcdef0123456789abcdef!"), TEXT_ENCODING_UTF8, "0123456789abcdef0123456789abcdef!"},
};

static void
test_decode(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		char *out = NULL;
		size_t n = 0;
		enum text_encoding enc;
		int r = text_decode(rows[i].in, rows[i].len, 0, &out, &n, &enc);
		th_inteq(r, 0, "decode %s: returns 0", rows[i].name);
		th_streq(text_encoding_name(enc), text_encoding_name(rows[i].enc),
			 "decode %s: encoding", rows[i].name);
		th_streq(out, rows[i].out, "decode %s: text", rows[i].name);
		th_inteq((long long)n, (long long)strlen(rows[i].out),
			 "decode %s: length", rows[i].name);
		free(out);
	}
	/* text_sniff agrees with the decoder on plain cases. */
	th_inteq(text_sniff(B("plain")), TEXT_ENCODING_UTF8, "sniff ascii");
	th_inteq(text_sniff(B("\xff\xfe" "a\0")), TEXT_ENCODING_UTF16LE, "sniff utf-16le");
	th_inteq(text_sniff(B("caf\xe9")), TEXT_ENCODING_CP1252, "sniff latin-1");
	/* A few NULs between paragraphs do not make UTF-16. */
	th_inteq(text_sniff(B("NATO RESTRICTED\n\nStaff note\0\0\n\nNext steps\n")),
		 TEXT_ENCODING_UTF8, "sniff text with stray NULs stays 8-bit");
}

static void
test_cap(void)
{
	char *out = NULL;
	size_t n = 0;
	int r = text_decode(B("abcdefghij"), 4, &out, &n, NULL);
	th_inteq(r, -E2BIG, "cap: -E2BIG");
	th_streq(out, "abcd", "cap: ascii cut");
	free(out);
	/* Never cut inside a character: "é" is 2 bytes. */
	r = text_decode(B("ab\xc3\xa9"), 3, &out, &n, NULL);
	th_inteq(r, -E2BIG, "cap utf-8: -E2BIG");
	th_streq(out, "ab", "cap utf-8: cut before the character");
	free(out);
	r = text_decode(B("\xff\xfe" "a\0\xe9\0"), 2, &out, &n, NULL);
	th_streq(out, "a", "cap utf-16: cut before the character");
	free(out);

	struct text_doc *doc = text_doc_new(10);
	th_inteq(text_doc_add(doc, TEXT_KIND_BODY, NULL, "123456", 6), 0,
		 "doc cap: first fits");
	th_inteq(text_doc_add(doc, TEXT_KIND_BODY, NULL, "abcdef", 6), -E2BIG,
		 "doc cap: second truncated");
	th_ok(text_doc_truncated(doc), "doc cap: truncated flag");
	th_inteq((long long)text_doc_bytes(doc), 10, "doc cap: bytes held");
	th_streq(text_doc_segment(doc, 1)->text, "abcd", "doc cap: partial kept");
	th_inteq(text_doc_add(doc, TEXT_KIND_BODY, NULL, "x", 1), -E2BIG,
		 "doc cap: full doc refuses");
	th_inteq((long long)text_doc_count(doc), 2, "doc cap: nothing added when full");
	text_doc_free(doc);
}

static void
test_segments(void)
{
	struct text_doc *doc = text_doc_new(0);
	th_inteq(text_doc_add(doc, TEXT_KIND_PROPERTY, NULL, "x", 1), -EINVAL,
		 "segments: property needs a name");
	th_inteq(text_doc_add(doc, TEXT_KIND_MAIL_HEADER, "", "x", 1), -EINVAL,
		 "segments: mail header needs a name");
	th_inteq(text_doc_add(doc, (enum text_kind)99, NULL, "x", 1), -EINVAL,
		 "segments: unknown kind");
	th_inteq(text_doc_add(doc, TEXT_KIND_HEADER, NULL, "NATO SECRET", 11), 0,
		 "segments: header");
	th_inteq(text_doc_add(doc, TEXT_KIND_PROPERTY, "Classification",
			      "caf\xe9", 4), 0, "segments: property, invalid utf-8");
	enum text_encoding enc;
	th_inteq(text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL,
				    "\xfe\xff\0h\0i", 6, &enc), 0,
		 "segments: body from bytes");
	th_inteq(enc, TEXT_ENCODING_UTF16BE, "segments: body encoding");
	th_inteq((long long)text_doc_count(doc), 3, "segments: count");
	const struct text_segment *s = text_doc_segment(doc, 1);
	th_streq(text_kind_name(s->kind), "property", "segments: kind kept");
	th_streq(s->name, "Classification", "segments: name kept");
	th_streq(s->text, "caf\xc3\xa9", "segments: invalid byte read as cp1252");
	th_streq(text_doc_segment(doc, 0)->name, "", "segments: no name is \"\"");
	th_streq(text_doc_segment(doc, 2)->text, "hi", "segments: decoded body");
	th_ok(text_doc_segment(doc, 3) == NULL, "segments: out of range is NULL");
	th_ok(!text_doc_truncated(doc), "segments: not truncated");
	text_doc_free(doc);
	/* in a child, so that a crash is this check failing, by name, rather
	 * than the program dying before the rest has run */
	pid_t pid = fork();
	if (pid == 0) {
		text_doc_free(NULL);
		_exit(0);
	}
	int status = -1;
	bool exited = pid > 0 && waitpid(pid, &status, 0) == pid;
	th_ok(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "segments: text_doc_free(NULL) is a no-op (child status %#x)", (unsigned)status);
}

/* text_doc_add_borrowed keeps the caller's bytes only when decoding would
 * not change them; either way the segment reads as text_decode() says. */
static void
test_borrowed(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		struct text_doc *doc = text_doc_new(0);
		enum text_encoding enc;
		int r = text_doc_add_borrowed(doc, TEXT_KIND_BODY, NULL, rows[i].in, rows[i].len,
					      &enc);
		th_inteq(r, 0, "borrowed %s: added", rows[i].name);
		const struct text_segment *sg = text_doc_segment(doc, 0);
		size_t want = strlen(rows[i].out);
		th_ok(sg && sg->len == want && memcmp(sg->text, rows[i].out, want) == 0,
		      "borrowed %s: same text as decoding", rows[i].name);
		th_inteq(enc, rows[i].enc, "borrowed %s: encoding", rows[i].name);
		bool same = rows[i].len > 0 && rows[i].enc == TEXT_ENCODING_UTF8 &&
			    want == rows[i].len;
		th_ok(sg && (sg->text == rows[i].in) == same, "borrowed %s: %s", rows[i].name,
		      same ? "no copy" : "a copy");
		text_doc_free(doc);
	}
	/* over the cap: a copy cut at the cap, as text_doc_add_bytes */
	struct text_doc *doc = text_doc_new(8);
	th_inteq(text_doc_add_borrowed(doc, TEXT_KIND_BODY, NULL, "NATO SECRET", 11, NULL),
		 -E2BIG, "borrowed over the cap: -E2BIG");
	th_streq(text_doc_segment(doc, 0)->text, "NATO SEC", "borrowed over the cap: cut copy");
	th_ok(text_doc_truncated(doc), "borrowed over the cap: truncated");
	th_inteq(text_doc_add_borrowed(doc, TEXT_KIND_PROPERTY, NULL, "x", 1, NULL), -EINVAL,
		 "borrowed: a property needs a name");
	text_doc_free(doc);

	/* text_doc_add_owned: valid text is taken as it is, anything else
	 * copied as text_doc_add would; the buffer is the document's either
	 * way (ASan: no leak, no double free) */
	doc = text_doc_new(24);
	char *mine = lw_strdup("TR\xc3\x88S SECRET");
	th_inteq(text_doc_add_owned(doc, TEXT_KIND_BODY, NULL, mine, strlen(mine), strlen(mine) + 1), 0,
		 "owned: added");
	th_ok(text_doc_segment(doc, 0)->text == mine, "owned: taken, not copied");
	char *bad = lw_strdup("caf\xe9");
	th_inteq(text_doc_add_owned(doc, TEXT_KIND_BODY, NULL, bad, 4, 5), 0,
		 "owned, invalid: added");
	th_streq(text_doc_segment(doc, 1)->text, "caf\xc3\xa9", "owned, invalid: decoded copy");
	char *big = lw_strdup("0123456789");
	th_inteq(text_doc_add_owned(doc, TEXT_KIND_BODY, NULL, big, 10, 11), -E2BIG,
		 "owned over the cap: -E2BIG");
	th_inteq((long long)text_doc_bytes(doc), 24, "owned over the cap: filled to the cap");
	char *noname = lw_strdup("x");
	th_inteq(text_doc_add_owned(doc, TEXT_KIND_PROPERTY, NULL, noname, 1, 2), -EINVAL,
		 "owned: a property needs a name (and the buffer is freed)");
	text_doc_free(doc);
}

int
main(void)
{
	test_decode();
	test_cap();
	test_segments();
	test_borrowed();
	return th_done();
}
