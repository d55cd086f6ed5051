/* test-filetype.c — content sniffing. */
#include <string.h>

#include "filetype.h"
#include "harness.h"

static const struct {
	const char *name;
	const char *head;
	size_t len;
	const char *want;
} cases[] = {
	{"empty", "", 0, "empty"},
	{"plain text", "hello world\nsecond line\n", 24, "text"},
	{"latin-1 text", "caf\xe9 cr\xe8me\n", 11, "text"},
	{"utf-16le bom", "\xff\xfeh\0i\0", 6, "text"},
	{"binary with nul", "ab\0cd\x01\x02", 7, "binary"},
	{"pdf", "%PDF-1.7\n", 9, "pdf"},
	{"gzip", "\x1f\x8b\x08\0", 4, "gzip"},
	{"rtf", "{\\rtf1\\ansi", 11, "rtf"},
	{"html doctype", "  <!DOCTYPE html><html>", 23, "html"},
	{"html tag", "<html><body>x", 13, "html"},
	{"mail", "From: a@b\nTo: c@d\nSubject: x\n\nbody", 34, "eml"},
	{"not mail", "From here on we talk\nabout things\n", 34, "text"},
	{"xml", "<?xml version=\"1.0\"?><a/>", 25, "xml"},
	{"elf", "\x7f" "ELF\x02\x01", 6, "elf"},
	{"png", "\x89PNG\r\n\x1a\n", 8, "png"},
	{"zip", "PK\x03\x04" "\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05\0\0\0" "a.txt", 35,
	 "zip"},
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = filetype_sniff((const unsigned char *)cases[i].head,
						 cases[i].len, cases[i].len, NULL);
		th_streq(got, cases[i].want, "sniff %s", cases[i].name);
	}
	/* OOXML: a zip whose parts live under word/ */
	static const char docx[] = "PK\x03\x04....................[Content_Types].xml"
				   "....PK\x03\x04....word/document.xml";
	th_streq(filetype_sniff((const unsigned char *)docx, sizeof(docx) - 1, 100, NULL),
		 "docx", "sniff docx");
	unsigned char odt[128] = "PK\x03\x04";
	memcpy(odt + 30, "mimetypeapplication/vnd.oasis.opendocument.text", 47);
	th_streq(filetype_sniff(odt, sizeof(odt), 1000, NULL), "odt", "sniff odt");
	unsigned char tar[600] = "file.txt";
	memcpy(tar + 257, "ustar", 5);
	th_streq(filetype_sniff(tar, sizeof(tar), 10240, NULL), "tar", "sniff tar");
	th_streq(filetype_sniff((const unsigned char *)"hello", 5, 5, "page.html"), "html",
		 "extension breaks a tie for text");
	return th_done();
}
