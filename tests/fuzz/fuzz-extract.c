/* fuzz-extract.c — libFuzzer target for policy/extract, compiled once per
 * format (tests/fuzz/meson.build) with:
 *   FUZZ_HINT  the file name passed to extract_buffer() ("x.pdf", "" = none)
 *   FUZZ_PART  when set, the input is the XML of that zip part and is
 *              wrapped into a stored zip with the parts the format needs
 *              (so the fuzzer reaches our expat handlers instead of spending
 *              its time in inflate); for xlsx the input is split at its first
 *              NUL byte into the sheet and the shared strings.
 * Every document the callback receives is also classified, custom
 * detectors included, so the detection entry point is fuzzed on real
 * extractor output. Limits are tight so that a
 * slow or large input is a finding only when a limit is not honoured. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "classify.h"
#include "extract.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Custom detectors too, as a policy would have them: keywords, regexes,
 * counts and proximity, all in one Vectorscan database. Built once. */
static const struct rules_set *
detectors(void)
{
	static struct rules_set *set;
	if (!set) {
		set = rules_new();
		struct rules_term kw[] = {{"secret", false, false}, {"NATO", false, true}};
		struct rules_term re[] = {{"[a-z]+@[a-z]+\\.(org|int)", true, false},
					  {"(ref|op) [0-9]{2,}", true, false}};
		rules_add(set, "words", kw, 2, 1, 0);
		rules_add(set, "near", kw, 2, 1, 64);
		rules_add(set, "regexes", re, 2, 2, 0);
		rules_prepare(set);
	}
	return set;
}

static int
on_doc(void *ctx, const char *path, const char *type,
       const struct text_doc *doc)
{
	struct classify_result r;
	struct classify_options opt = {.rules = detectors()};
	classify_document(doc, &opt, &r);
	(void)ctx;
	return 0;
}

#ifdef FUZZ_PART
static void
add(struct archive *a, const char *name, const void *p, size_t n)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_write_header(a, e);
	archive_write_data(a, p, n);
	archive_entry_free(e);
}

static const char *
marker(void)
{
	const char *part = FUZZ_PART;
	if (!strncmp(part, "word/", 5) || !strncmp(part, "docProps/", 9)) {
		return "word/document.xml";
	}
	if (!strncmp(part, "xl/", 3)) {
		return "xl/workbook.xml";
	}
	if (!strncmp(part, "ppt/", 4)) {
		return "ppt/presentation.xml";
	}
	return "mimetype";
}

static unsigned char *
wrap(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t cap = size * 2 + 4096;
	unsigned char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_set_options(a, "zip:compression=store");
	archive_write_open_memory(a, buf, cap, out_len);
	const char *m = marker();
	if (!strcmp(m, "mimetype")) {
		const char *mt = "application/vnd.oasis.opendocument.text";
		add(a, "mimetype", mt, strlen(mt));
	} else if (strcmp(m, FUZZ_PART)) {
		add(a, m, "<x/>", 4);
	}
	const uint8_t *nul = memchr(data, 0, size);
	if (!strcmp(FUZZ_PART, "xl/worksheets/sheet1.xml") && nul) {
		add(a, FUZZ_PART, data, (size_t)(nul - data));
		add(a, "xl/sharedStrings.xml", nul + 1, size - (size_t)(nul - data) - 1);
	} else {
		add(a, FUZZ_PART, data, size);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct extract_limits lim;
	extract_limits_default(&lim);
	lim.max_text_bytes = 1 << 20;
	lim.max_member_bytes = 8 << 20;
	lim.max_expanded_bytes = 64 << 20;
	lim.max_members = 200;
	lim.deadline_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + 2000000000;
	const char *hint = FUZZ_HINT[0] ? FUZZ_HINT : NULL;
	struct extract_result res;
#ifdef FUZZ_PART
	size_t len = 0;
	unsigned char *z = wrap(data, size, &len);
	extract_buffer(z, len, hint, &lim, on_doc, NULL, &res);
	free(z);
#else
	extract_buffer(data, size, hint, &lim, on_doc, NULL, &res);
#endif
	return 0;
}
