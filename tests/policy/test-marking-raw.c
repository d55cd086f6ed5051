/* test-marking-raw.c — marking_scan_raw(): long marking forms inside binary
 * content, across chunk seams and in UTF-16LE; bare levels never count. */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "marking.h"

static const struct {
	const char *name;
	const char *data;
	size_t len;
	const char *level; /* NULL: nothing found */
	const char *found;
} cases[] = {
	{"nato secret in noise", "\x01\x02zNATO SECRETq\xff", 15, "SECRET", "NATO SECRET"},
	{"cosmic wins over nato secret", "NATO SECRET\x01" "COSMIC TOP SECRET\x02", 30, "TOP SECRET",
	 "COSMIC TOP SECRET"},
	{"eu restricted", "\x03RESTREINT UE\x04", 14, "RESTRICTED", "RESTREINT UE"},
	{"us control marking", "\x05SECRET//NOFORN\x06", 16, "SECRET", "SECRET"},
	{"bare secret is not enough", "\x01SECRET\x02" "CONFIDENTIAL\x03", 21, NULL, NULL},
	{"lower case is not a marking", "\x01nato secret\x02", 13, NULL, NULL},
	{"portuguese never raw", "\x01MUITO SECRETO\x02", 15, NULL, NULL},
	{"utf-16le", "\x01\0N\0A\0T\0O\0 \0R\0E\0S\0T\0R\0I\0C\0T\0E\0D\0\x02\0", 34,
	 "RESTRICTED", "NATO RESTRICTED"},
	{"anchor at the very start", "SECRET UE\x01", 10, "SECRET", "SECRET UE"},
	{"form cut at the end", "\x01NATO SECR", 10, NULL, NULL},
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct marking_raw_state st = {0};
		struct marking_result r = {0};
		int got = marking_scan_raw(&st, cases[i].data, cases[i].len, &r);
		if (!cases[i].level) {
			th_ok(got == 0 && r.scheme == MARKING_SCHEME_NONE, "raw %s: nothing",
			      cases[i].name);
			continue;
		}
		th_streq(marking_level_name(r.level), cases[i].level, "raw %s: level",
			 cases[i].name);
		th_streq(r.found, cases[i].found, "raw %s: as found", cases[i].name);
	}
	/* a form split across every possible chunk boundary is still found */
	static const char doc[] = "\x01\x02\x03garbage COSMIC TOP SECRET garbage\x04";
	size_t n = sizeof(doc) - 1;
	bool all = true;
	for (size_t cut = 1; cut < n; cut++) {
		struct marking_raw_state st = {0};
		struct marking_result r = {0};
		marking_scan_raw(&st, doc, cut, &r);
		marking_scan_raw(&st, doc + cut, n - cut, &r);
		all = all && r.level == MARKING_LEVEL_TOP_SECRET;
	}
	th_ok(all, "raw: found whatever the chunk boundary");
	/* many tiny chunks */
	struct marking_raw_state st = {0};
	struct marking_result r = {0};
	for (size_t i = 0; i < n; i++) {
		marking_scan_raw(&st, doc + i, 1, &r);
	}
	th_ok(r.level == MARKING_LEVEL_TOP_SECRET, "raw: found in one-byte chunks");

	/* Every form, in ASCII and UTF-16LE, at every offset within the
	 * scanner's 16-byte blocks, in noise: the one-pass letter-pair filter
	 * must see each anchor wherever it falls. */
	static const struct {
		const char *form, *level;
	} forms[] = {
		{"COSMIC TOP SECRET", "TOP SECRET"}, {"NATO SECRET", "SECRET"},
		{"NATO CONFIDENTIAL", "CONFIDENTIAL"}, {"NATO RESTRICTED", "RESTRICTED"},
		{"NATO UNCLASSIFIED", "UNCLASSIFIED"}, {"TRES SECRET UE", "TOP SECRET"},
		{"EU TOP SECRET", "TOP SECRET"}, {"SECRET UE", "SECRET"},
		{"CONFIDENTIEL UE", "CONFIDENTIAL"}, {"EU CONFIDENTIAL", "CONFIDENTIAL"},
		{"RESTREINT UE", "RESTRICTED"}, {"EU RESTRICTED", "RESTRICTED"},
		{"TOP SECRET//SI", "TOP SECRET"}, {"SECRET//REL", "SECRET"},
		{"CONFIDENTIAL//X", "CONFIDENTIAL"},
	};
	unsigned char buf[256];
	uint32_t seed = 12345;
	size_t misses = 0, tries = 0;
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		size_t fl = strlen(forms[f].form);
		for (size_t unit = 1; unit <= 2; unit++) {
			for (size_t off = 0; off < 40; off++) {
				for (size_t k = 0; k < sizeof(buf); k++) {
					seed = seed * 1103515245u + 12345u;
					/* noise without capital letters: no accidental form */
					buf[k] = (unsigned char)(seed >> 24) & 0x9f;
				}
				for (size_t k = 0; k < fl; k++) {
					buf[off + k * unit] = (unsigned char)forms[f].form[k];
					if (unit == 2) {
						buf[off + k * 2 + 1] = 0;
					}
				}
				struct marking_raw_state s2 = {0};
				struct marking_result r2 = {0};
				marking_scan_raw(&s2, buf, sizeof(buf), &r2);
				tries++;
				if (r2.scheme == MARKING_SCHEME_NONE ||
				    strcmp(marking_level_name(r2.level), forms[f].level) != 0) {
					misses++;
				}
			}
		}
	}
	th_ok(misses == 0, "raw: every form in both encodings at every offset (%zu of %zu missed)",
	      misses, tries);
	return th_done();
}
