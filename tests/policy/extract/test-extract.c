/* test-extract.c — policy/extract on small documents built here, in memory
 * (zip/tar/gzip written with libarchive, XML parts, MIME, RTF, HTML and a
 * minimal PDF written by hand), one table row per case: detected type,
 * what stopped extraction, and substrings that must and must not appear in
 * the dump of every document passed to the callback. The dump has one
 * "[path|type]" line per document, then "kind(name): text" per segment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "extract.h"
#include "harness.h"
#include "mem.h"
#include "text.h"

struct buf {
	char *p;
	size_t len;
};

/* ---- builders ---- */

struct ent {
	const char *name;
	const char *data;
	size_t len; /* 0: strlen(data) */
};

enum afmt { AF_ZIP, AF_TARGZ, AF_GZ };

static struct buf
mkarc(enum afmt fmt, const struct ent *e, size_t n)
{
	size_t total = 1 << 16;
	for (size_t i = 0; i < n; i++) {
		total += (e[i].len ? e[i].len : strlen(e[i].data)) + 512;
	}
	struct buf b = { lw_malloc(total), 0 };
	struct archive *a = archive_write_new();
	switch (fmt) {
	case AF_ZIP:
		archive_write_set_format_zip(a);
		break;
	case AF_TARGZ:
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
		break;
	case AF_GZ:
		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
		break;
	}
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, b.p, total, &b.len);
	for (size_t i = 0; i < n; i++) {
		size_t len = e[i].len ? e[i].len : strlen(e[i].data);
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, e[i].name);
		archive_entry_set_size(en, (la_int64_t)len);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		archive_write_header(a, en);
		archive_write_data(a, e[i].data, len);
		archive_entry_free(en);
	}
	archive_write_close(a);
	archive_write_free(a);
	return b;
}

#define CT "[Content_Types].xml"
#define CT_XML "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"
#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\""

static const char docx_body[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document " W_NS "><w:body>"
	"<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"100\"/></w:tabs></w:pPr>"
	"<w:r><w:t>NATO </w:t></w:r><w:r><w:t>SECRET</w:t></w:r></w:p>"
	"<w:p><w:r><w:t>left</w:t><w:tab/><w:t>right</w:t><w:br/><w:t>next line</w:t></w:r></w:p>"
	"<w:p><w:r><w:delText>deleted words</w:delText><w:instrText>PAGE</w:instrText></w:r></w:p>"
	"<w:p><mc:AlternateContent><mc:Choice><w:r><w:t>box once</w:t></w:r></mc:Choice>"
	"<mc:Fallback><w:r><w:t>box twice</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"
	"</w:body></w:document>";
static const char docx_header[] =
	"<w:hdr " W_NS "><w:p><w:r><w:t>COSMIC TOP SECRET</w:t></w:r></w:p></w:hdr>";
static const char docx_footer[] =
	"<w:ftr " W_NS "><w:p><w:r><w:t>Page footer</w:t></w:r></w:p></w:ftr>";
static const char docx_custom[] =
	"<?xml version=\"1.0\"?><Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\" "
	"xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">"
	"<property fmtid=\"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}\" pid=\"2\" name=\"Classification\"><vt:lpwstr>NATO SECRET</vt:lpwstr></property>"
	"<property fmtid=\"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}\" pid=\"3\" name=\"MSIP_Label_0a1b_Enabled\"><vt:lpwstr>true</vt:lpwstr></property>"
	"</Properties>";
static const char docx_core[] =
	"<?xml version=\"1.0\"?><cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
	"xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>Quarterly plan</dc:title><dc:subject>Logistics</dc:subject></cp:coreProperties>";

static struct buf
b_docx(void)
{
	const struct ent e[] = {
		{ CT, CT_XML, 0 },
		{ "word/document.xml", docx_body, 0 },
		{ "word/header1.xml", docx_header, 0 },
		{ "word/footer1.xml", docx_footer, 0 },
		{ "docProps/custom.xml", docx_custom, 0 },
		{ "docProps/core.xml", docx_core, 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

#define S_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""

static struct buf
b_xlsx(void)
{
	/* Shared strings after the sheet: read in a first pass. */
	const struct ent e[] = {
		{ CT, CT_XML, 0 },
		{ "xl/workbook.xml", "<workbook " S_NS "/>", 0 },
		{ "xl/worksheets/sheet1.xml",
		  "<worksheet " S_NS "><sheetData>"
		  "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>"
		  "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c><c r=\"C2\"><v>42</v></c>"
		  "<c r=\"D2\" t=\"inlineStr\"><is><t>inline</t></is></c><c r=\"E2\" t=\"b\"><v>1</v></c></row>"
		  "<row r=\"3\"><c r=\"A3\" s=\"1\"/></row>"
		  "</sheetData><headerFooter><oddHeader>&amp;CNATO RESTRICTED</oddHeader>"
		  "<oddFooter>&amp;RPage &amp;P</oddFooter></headerFooter></worksheet>", 0 },
		{ "xl/sharedStrings.xml",
		  "<sst " S_NS "><si><t>NATO SECRET</t></si><si><r><t>Na</t></r><r><t>me</t></r>"
		  "<rPh><t>phonetic</t></rPh></si></sst>", 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

#define P_NS "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\""

static struct buf
b_pptx(void)
{
	const struct ent e[] = {
		{ CT, CT_XML, 0 },
		{ "ppt/presentation.xml", "<p:presentation " P_NS "/>", 0 },
		{ "ppt/slides/slide1.xml",
		  "<p:sld " P_NS "><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>NATO RESTRICTED</a:t></a:r></a:p>"
		  "<a:p><a:r><a:t>Slide one</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>", 0 },
		{ "ppt/slides/slide2.xml",
		  "<p:sld " P_NS "><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>Slide two</a:t></a:r></a:p>"
		  "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>", 0 },
		{ "ppt/notesSlides/notesSlide1.xml",
		  "<p:notes " P_NS "><a:p><a:r><a:t>speaker note</a:t></a:r></a:p></p:notes>", 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

#define O_NS "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" " \
	"xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" " \
	"xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" " \
	"xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\""

static struct buf
b_odt(void)
{
	const struct ent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0 },
		{ "content.xml",
		  "<office:document-content " O_NS "><office:body><office:text>"
		  "<text:sequence-decls><text:sequence-decl text:name=\"Figure\"/></text:sequence-decls>"
		  "<text:h>Title line</text:h><text:p>one<text:s text:c=\"2\"/>two<text:tab/>three"
		  "<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>a footnote</text:p></text:note-body></text:note></text:p>"
		  "<table:table><table:table-row><table:table-cell><text:p>c1</text:p></table:table-cell>"
		  "<table:table-cell><text:p>c2</text:p></table:table-cell></table:table-row></table:table>"
		  "</office:text></office:body></office:document-content>", 0 },
		{ "styles.xml",
		  "<office:document-styles " O_NS "><office:master-styles><style:master-page style:name=\"Standard\">"
		  "<style:header><text:p>NATO CONFIDENTIAL</text:p></style:header>"
		  "<style:footer><text:p>footer text</text:p></style:footer>"
		  "<style:header-left style:display=\"false\"><text:p>hidden left</text:p></style:header-left>"
		  "</style:master-page></office:master-styles></office:document-styles>", 0 },
		{ "meta.xml",
		  "<office:document-meta " O_NS "><office:meta><dc:title>ODF title</dc:title>"
		  "<meta:user-defined meta:name=\"Classification\">NATO RESTRICTED</meta:user-defined>"
		  "</office:meta></office:document-meta>", 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

static struct buf
b_ods(void)
{
	const struct ent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0 },
		{ "content.xml",
		  "<office:document-content " O_NS "><office:body><office:spreadsheet>"
		  "<table:table table:name=\"S1\"><table:table-row><table:table-cell><text:p>a</text:p></table:table-cell>"
		  "<table:table-cell><text:p>b</text:p></table:table-cell><table:table-cell table:number-columns-repeated=\"1000\"/></table:table-row></table:table>"
		  "<table:table table:name=\"S2\"><table:table-row><table:table-cell><text:p>second sheet</text:p></table:table-cell></table:table-row></table:table>"
		  "</office:spreadsheet></office:body></office:document-content>", 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

static struct buf
b_zip_nested(void)
{
	struct buf d = b_docx();
	const struct ent e[] = {
		{ "inner.docx", d.p, d.len },
		{ "dir/a.txt", "plain member\n", 0 },
		{ "../../etc/evil.txt", "traversal name\n", 0 },
	};
	struct buf b = mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
	free(d.p);
	return b;
}

static struct buf
b_targz(void)
{
	const struct ent e[] = { { "dir/b.txt", "tar member text\n", 0 } };
	return mkarc(AF_TARGZ, e, 1);
}

static struct buf
b_gz(void)
{
	const struct ent e[] = { { "data", "gzip member text\n", 0 } };
	return mkarc(AF_GZ, e, 1);
}

static struct buf
b_pdf(void)
{
	const char *c1 = "BT /F1 12 Tf 72 720 Td (NATO ) Tj [(SEC) 0 (RET)] TJ ET";
	const char *c2 = "BT /F1 12 Tf 72 720 Td (Page two) Tj ET";
	char *objs[9];
	objs[1] = lw_asprintf("<< /Type /Catalog /Pages 2 0 R >>");
	objs[2] = lw_asprintf("<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>");
	objs[3] = lw_asprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
			      "/Contents 4 0 R /Resources << /Font << /F1 7 0 R >> >> >>");
	objs[4] = lw_asprintf("<< /Length %zu >>\nstream\n%s\nendstream", strlen(c1), c1);
	objs[5] = lw_asprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
			      "/Contents 6 0 R /Resources << /Font << /F1 7 0 R >> >> >>");
	objs[6] = lw_asprintf("<< /Length %zu >>\nstream\n%s\nendstream", strlen(c2), c2);
	objs[7] = lw_asprintf("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
	objs[8] = lw_asprintf("<< /Title (PDF title) /Classification <FEFF004E00410054004F0020005300450043005200450054> >>");
	size_t cap = 8192, len = 0, off[9];
	char *p = lw_malloc(cap);
	len += (size_t)snprintf(p + len, cap - len, "%%PDF-1.4\n");
	for (int i = 1; i <= 8; i++) {
		off[i] = len;
		len += (size_t)snprintf(p + len, cap - len, "%d 0 obj\n%s\nendobj\n", i, objs[i]);
		free(objs[i]);
	}
	size_t xref = len;
	len += (size_t)snprintf(p + len, cap - len, "xref\n0 9\n0000000000 65535 f \n");
	for (int i = 1; i <= 8; i++) {
		len += (size_t)snprintf(p + len, cap - len, "%010zu 00000 n \n", off[i]);
	}
	len += (size_t)snprintf(p + len, cap - len,
				"trailer\n<< /Size 9 /Root 1 0 R /Info 8 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
				xref);
	return (struct buf){ p, len };
}

static const char eml_text[] =
	"From: a@example.org\r\n"
	"To: b@example.org\r\n"
	"Subject: =?UTF-8?B?UmVsYXTDs3Jpbw==?=\r\n"
	"X-Classification: NATO RESTRICTED\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
	"\r\n"
	"--b2\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"caf=C3=A9 soft=\r\n"
	"break\r\n"
	"--b2\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>html alternative</p>\r\n"
	"--b2--\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"a.txt\"\r\n"
	"\r\n"
	"TkFUTyBTRUNSRVQKUmVsYXTzcmlvCg==\r\n"
	"--b1--\r\n";

static const char html_text[] =
	"<!DOCTYPE html><html><head><title>Page &amp; title</title>"
	"<meta name=\"Classification\" content=\"NATO SECRET\">"
	"<style>p { color: red }</style><script>var x = \"<p>NATO</p>\";</script></head>"
	"<body><!-- a comment --><p>A &amp; B &eacute;&#233;&#x41;&nbsp;z</p>"
	"<table><tr><td>c1</td><td>c2</td></tr></table><div>x &lt; y</div>"
	"<pre>keep   spaces</pre></body></html>";

static const char rtf_text[] =
	"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}"
	"{\\info{\\title The title}{\\author Someone}{\\creatim\\yr2024}}"
	"{\\*\\userprops{\\propname Classification}\\proptype30{\\staticval NATO SECRET}}"
	"{\\header \\pard\\qc NATO RESTRICTED\\par}{\\footer \\pard Page footer\\par}"
	"\\pard\\plain Caf\\'e9 \\u8212? end\\par second\\tab cell\\par"
	"{\\*\\generator Riched20;}{\\pict\\wmetafile8 0102ff}"
	"emoji \\u-10179?\\u-8704?\\par"
	"{\\footnote a note}\\page third page\\par}";

static struct buf
b_zip_deep(unsigned levels)
{
	struct buf in = { lw_strdup("innermost\n"), 10 };
	for (unsigned i = 0; i < levels; i++) {
		const struct ent e[] = { { i == 0 ? "x.txt" : "n.zip", in.p, in.len } };
		struct buf out = mkarc(AF_ZIP, e, 1);
		free(in.p);
		in = out;
	}
	return in;
}

static struct buf b_deep(void) { return b_zip_deep(5); }

static struct buf
b_many(void)
{
	struct ent e[10];
	char names[10][16];
	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d.txt", i);
		e[i] = (struct ent){ names[i], "member\n", 0 };
	}
	return mkarc(AF_ZIP, e, 10);
}

static struct buf
b_bomb(void)
{
	size_t n = (size_t)32 << 20;
	char *z = lw_calloc(1, n);
	const struct ent e[] = { { "zeros.txt", z, n } };
	struct buf b = mkarc(AF_ZIP, e, 1);
	free(z);
	return b;
}

static struct buf
b_big_member(void)
{
	size_t n = 200000;
	char *t = lw_malloc(n);
	for (size_t i = 0; i < n; i++) {
		t[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	}
	const struct ent e[] = { { "big.txt", t, n } };
	struct buf b = mkarc(AF_ZIP, e, 1);
	free(t);
	return b;
}

static struct buf
b_xml_deep(void)
{
	size_t n = 300;
	char *x = lw_malloc(n * 12 + 256);
	size_t len = (size_t)sprintf(x, "<w:document " W_NS "><w:body><w:p><w:r><w:t>before</w:t></w:r></w:p>");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)sprintf(x + len, "<w:x>");
	}
	const struct ent e[] = { { CT, CT_XML, 0 }, { "word/document.xml", x, len } };
	struct buf b = mkarc(AF_ZIP, e, 2);
	free(x);
	return b;
}

static struct buf
b_doctype(void)
{
	const struct ent e[] = {
		{ CT, CT_XML, 0 },
		{ "word/document.xml",
		  "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lollollollol\">"
		  "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><w:document " W_NS "><w:body><w:p><w:r>"
		  "<w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>", 0 },
	};
	return mkarc(AF_ZIP, e, LW_ARRAY_SIZE(e));
}

static struct buf
b_truncated(void)
{
	struct buf b = b_docx();
	b.len /= 2;
	return b;
}

static struct buf
b_binary(void)
{
	struct buf b = { lw_malloc(4096), 4096 };
	unsigned s = 12345;
	for (size_t i = 0; i < b.len; i++) {
		s = s * 1103515245 + 12345;
		b.p[i] = (char)(s >> 16);
	}
	return b;
}

/* ---- limits ---- */

static void l_text(struct extract_limits *l) { l->max_text_bytes = 100; }
static void l_depth(struct extract_limits *l) { l->max_depth = 2; }
static void l_members(struct extract_limits *l) { l->max_members = 3; }
static void l_member_size(struct extract_limits *l) { l->max_member_bytes = 65536; }
static void l_deadline(struct extract_limits *l) { l->deadline_ns = 1; }

#define LIT(s) s, sizeof(s) - 1, NULL

static const struct row {
	const char *name;
	const char *lit;
	size_t lit_len;
	struct buf (*build)(void);
	const char *hint;
	void (*limits)(struct extract_limits *);
	const char *type;
	enum extract_stop stop;
	const char *want[8];
	const char *not[4];
} rows[] = {
	{ "text utf-8", LIT("NATO SECRET\nbody line\n"), "a.txt", NULL, "text",
	  EXTRACT_STOP_NONE, { "[|text]", "body: NATO SECRET\nbody line" }, { NULL } },
	{ "text utf-16le bom", LIT("\xff\xfeN\0S\0\n\0"), NULL, NULL, "text",
	  EXTRACT_STOP_NONE, { "body: NS" }, { NULL } },
	{ "text latin-1", LIT("Relat\xf3rio\n"), NULL, NULL, "text",
	  EXTRACT_STOP_NONE, { "body: Relat\xc3\xb3rio" }, { NULL } },
	{ "text nul bytes", LIT("NATO RESTRICTED\n\0\0\0para\n"), NULL, NULL, "text",
	  EXTRACT_STOP_NONE, { "body: NATO RESTRICTED\n" }, { NULL } },
	{ "html", LIT(html_text), "p.html", NULL, "html", EXTRACT_STOP_NONE,
	  { "property(title): Page & title", "property(Classification): NATO SECRET",
	    "body: A & B \xc3\xa9\xc3\xa9" "A z\nc1\tc2\nx < y\nkeep   spaces" },
	  { "color", "var x", "comment", "body: Page" } },
	{ "html by name", LIT("<p>fragment</p>"), "frag.htm", NULL, "html",
	  EXTRACT_STOP_NONE, { "body: fragment" }, { "<p>" } },
	/* a source line break stays a line break, so a marking alone on the
	 * body's first or last source line stays a banner line */
	{ "html source lines", LIT("<html><body>\nNATO SECRET\nfirst words of the\n"
				   "memo</p>\n<p>last words \nNATO SECRET\n</body></html>"),
	  "m.html", NULL, "html", EXTRACT_STOP_NONE,
	  { "body: NATO SECRET\nfirst words of the\nmemo\nlast words\nNATO SECRET" },
	  { "body: NATO SECRET first" } },
	{ "eml", LIT(eml_text), "m.eml", NULL, "eml", EXTRACT_STOP_NONE,
	  { "mail-header(Subject): Relat\xc3\xb3rio",
	    "mail-header(X-Classification): NATO RESTRICTED",
	    "body: caf\xc3\xa9 softbreak", "[a.txt|text]",
	    "body: NATO SECRET\nRelat\xc3\xb3rio", "[|eml]" },
	  { "html alternative", "Content-Type" } },
	{ "rtf", LIT(rtf_text), NULL, NULL, "rtf", EXTRACT_STOP_NONE,
	  { "property(title): The title", "property(author): Someone",
	    "property(Classification): NATO SECRET", "header: NATO RESTRICTED",
	    "footer: Page footer", "body: Caf\xc3\xa9 \xe2\x80\x94 end\nsecond\tcell\nemoji \xf0\x9f\x98\x80\n\fthird page",
	    "aux: a note" },
	  { "Arial", "Riched", "0102ff", "2024" } },
	{ "docx", NULL, 0, b_docx, "d.docx", NULL, "docx", EXTRACT_STOP_NONE,
	  { "body: NATO SECRET\nleft\tright\nnext line\n\nbox once",
	    "header: COSMIC TOP SECRET", "footer: Page footer",
	    "property(Classification): NATO SECRET",
	    "property(MSIP_Label_0a1b_Enabled): true",
	    "property(title): Quarterly plan", "property(subject): Logistics" },
	  { "deleted", "PAGE", "box twice" } },
	{ "xlsx", NULL, 0, b_xlsx, NULL, NULL, "xlsx", EXTRACT_STOP_NONE,
	  { "body: NATO SECRET\nName\t\t42\tinline\tTRUE\n",
	    "header: &CNATO RESTRICTED", "footer: &RPage &P" },
	  { "phonetic" } },
	{ "pptx", NULL, 0, b_pptx, NULL, NULL, "pptx", EXTRACT_STOP_NONE,
	  { "body: NATO RESTRICTED\nSlide one\n", "body: Slide two\n",
	    "aux: speaker note" },
	  { NULL } },
	{ "odt", NULL, 0, b_odt, NULL, NULL, "odt", EXTRACT_STOP_NONE,
	  { "body: Title line\none  two\tthree\nc1\tc2", "aux: a footnote",
	    "header: NATO CONFIDENTIAL", "footer: footer text",
	    "property(title): ODF title", "property(Classification): NATO RESTRICTED" },
	  { "hidden left", "Figure", "1a footnote" } },
	{ "ods", NULL, 0, b_ods, NULL, NULL, "ods", EXTRACT_STOP_NONE,
	  { "body: a\tb\n", "body: second sheet" }, { NULL } },
	{ "zip nested", NULL, 0, b_zip_nested, "n.zip", NULL, "zip", EXTRACT_STOP_NONE,
	  { "[inner.docx|docx]", "header: COSMIC TOP SECRET", "[dir/a.txt|text]",
	    "body: plain member", "[../../etc/evil.txt|text]", "[|zip]" },
	  { NULL } },
	{ "tar.gz", NULL, 0, b_targz, "t.tar.gz", NULL, "tar.gz", EXTRACT_STOP_NONE,
	  { "[dir/b.txt|text]", "body: tar member text" }, { NULL } },
	{ "gz", NULL, 0, b_gz, "dir/notes.txt.gz", NULL, "gz", EXTRACT_STOP_NONE,
	  { "[notes.txt|text]", "body: gzip member text" }, { NULL } },
	{ "pdf", NULL, 0, b_pdf, NULL, NULL, "pdf", EXTRACT_STOP_NONE,
	  { "property(title): PDF title", "property(Classification): NATO SECRET",
	    "body: NATO SECRET", "body: Page two" },
	  { NULL } },
	{ "binary", NULL, 0, b_binary, "x.bin", NULL, "binary", EXTRACT_STOP_NONE,
	  { "[|binary]" }, { "body:" } },
	{ "random bytes named pdf", NULL, 0, b_binary, "x.pdf", NULL, "pdf",
	  EXTRACT_STOP_MALFORMED, { "[|pdf]" }, { "body:" } },
	{ "limit text", LIT("NATO SECRET\n0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789012345678901234567890123456789"),
	  NULL, l_text, "text", EXTRACT_STOP_TEXT, { "body: NATO SECRET\n0123" }, { NULL } },
	{ "limit depth", NULL, 0, b_deep, "d.zip", l_depth, "zip", EXTRACT_STOP_DEPTH,
	  { "[n.zip|zip]", "[n.zip/n.zip|zip]" }, { "innermost", "n.zip/n.zip/n.zip|" } },
	{ "limit members", NULL, 0, b_many, "m.zip", l_members, "zip",
	  EXTRACT_STOP_MEMBERS, { "[f2.txt|text]" }, { "[f3.txt" } },
	{ "limit ratio (zip bomb)", NULL, 0, b_bomb, "b.zip", NULL, "zip",
	  EXTRACT_STOP_RATIO, { "[zeros.txt|" }, { NULL } },
	{ "limit member size", NULL, 0, b_big_member, "b.zip", l_member_size, "zip",
	  EXTRACT_STOP_MEMBER_SIZE, { "body: abcdefghij" }, { NULL } },
	{ "limit xml depth", NULL, 0, b_xml_deep, "x.docx", NULL, "docx",
	  EXTRACT_STOP_XML_DEPTH, { "body: before" }, { NULL } },
	{ "xml doctype refused", NULL, 0, b_doctype, "x.docx", NULL, "docx",
	  EXTRACT_STOP_MALFORMED, { "[|docx]" }, { "lol" } },
	{ "truncated docx", NULL, 0, b_truncated, "t.docx", NULL, "docx",
	  EXTRACT_STOP_MALFORMED, { "[|" }, { NULL } },
	{ "limit deadline", NULL, 0, b_zip_nested, "n.zip", l_deadline, "zip",
	  EXTRACT_STOP_TIME, { "[|zip]" }, { "inner.docx" } },
	{ "empty", "", 0, NULL, NULL, NULL, "text", EXTRACT_STOP_NONE, { "[|text]" },
	  { "body:" } },
};

/* ---- dump ---- */

static int
dump_doc(void *ctx, const char *path, const char *type,
	 const struct text_doc *doc)
{
	FILE *f = ctx;
	fprintf(f, "[%s|%s]\n", path, type);
	for (size_t i = 0; i < text_doc_count(doc); i++) {
		const struct text_segment *s = text_doc_segment(doc, i);
		/* not NUL-terminated when borrowed (text_doc_add_borrowed) */
		if (*s->name) {
			fprintf(f, "%s(%s): %.*s\n", text_kind_name(s->kind), s->name,
				(int)s->len, s->text);
		} else {
			fprintf(f, "%s: %.*s\n", text_kind_name(s->kind), (int)s->len, s->text);
		}
	}
	return 0;
}

static int
stop_cb(void *ctx, const char *path, const char *type,
	const struct text_doc *doc)
{
	(*(int *)ctx)++;
	return -ECANCELED;
}

/* Extracts one row's document and checks its type, stop, error and dump. */
static void
check_row(const struct row *r)
{
	struct buf in = r->build ? r->build()
				 : (struct buf){ lw_malloc(r->lit_len + 1), r->lit_len };
	if (!r->build) {
		memcpy(in.p, r->lit, r->lit_len);
	}
	struct extract_limits lim;
	extract_limits_default(&lim);
	if (r->limits) {
		r->limits(&lim);
	}
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&dump, &dlen);
	struct extract_result res;
	int rc = extract_buffer(in.p, in.len, r->hint, &lim, dump_doc, f, &res);
	fclose(f);
	th_inteq(rc, 0, "%s: returns 0", r->name);
	th_streq(res.type, r->type, "%s: type", r->name);
	if (!th_streq(extract_stop_name(res.stop), extract_stop_name(r->stop),
		      "%s: stop", r->name)) {
		printf("#   error: %s\n", res.error);
	}
	th_ok((res.stop == EXTRACT_STOP_NONE) == (res.error[0] == '\0'),
	      "%s: error message iff stopped", r->name);
	for (size_t k = 0; k < LW_ARRAY_SIZE(r->want) && r->want[k]; k++) {
		if (!th_ok(strstr(dump, r->want[k]) != NULL, "%s: has \"%.40s\"",
			   r->name, r->want[k])) {
			printf("#   dump:\n#   %s\n", dump);
		}
	}
	for (size_t k = 0; k < LW_ARRAY_SIZE(r->not) && r->not[k]; k++) {
		th_ok(strstr(dump, r->not[k]) == NULL, "%s: lacks \"%s\"",
		      r->name, r->not[k]);
	}
	free(dump);
	free(in.p);
}

static void
test_rows(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(rows); i++) {
		check_row(&rows[i]);
	}
}

/* The callback stops extraction: its value comes back. */
static void
test_callback_stop(void)
{
	struct buf z = b_many();
	int calls = 0;
	struct extract_result res;
	int rc = extract_buffer(z.p, z.len, "m.zip", NULL, stop_cb, &calls, &res);
	th_inteq(rc, -ECANCELED, "callback stop: returns its value");
	th_inteq(calls, 1, "callback stop: no call after the stop");
	th_streq(extract_stop_name(res.stop), "callback", "callback stop: stop");
	free(z.p);
}

/* NULL limits and NULL callback are accepted. */
static void
test_null_args(void)
{
	struct extract_result res;
	int rc = extract_buffer("x", 1, NULL, NULL, NULL, NULL, &res);
	th_inteq(rc, 0, "null limits and callback");
}

/* Binary means more than 5 % control bytes, counted 16 at a time with a
 * tail: exactly at the line, every control that counts and none that does
 * not, at every length around a block. */
static void
test_looks_binary(void)
{
	static const unsigned char counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 16, 17,
					       18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29,
					       30, 31, 127};
	static const unsigned char free_ctl[] = {0, '\t', '\n', '\f', '\r', 0x1b, 0x80, 0xff};
	bool exact = true;
	static unsigned char b[65520];
	for (size_t len = 20; len <= sizeof(b); len += len < 400 ? 20 : 16300) {
		for (size_t k = 0; k < len; k++) {
			b[k] = k % 3 ? free_ctl[k % sizeof(free_ctl)] : (unsigned char)'a';
		}
		size_t at_line = len / 20; /* 5 %: still text */
		for (size_t k = 0; k < at_line; k++) {
			b[(k * 7) % len] = counts[k % sizeof(counts)];
		}
		exact = exact && !extract_looks_binary(b, len);
		for (size_t k = 0; k < len; k++) {
			if (b[k] == 'a' || b[k] >= 0x80) {
				b[k] = counts[k % sizeof(counts)]; /* one more */
				break;
			}
		}
		exact = exact && extract_looks_binary(b, len);
	}
	th_ok(exact, "binary: the 5 %% line, exactly, whatever the length");
}

int
main(void)
{
	test_rows();
	test_callback_stop();
	test_null_args();
	test_looks_binary();
	return th_done();
}
