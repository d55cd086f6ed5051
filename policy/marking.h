/* marking.h — classification markings (NATO, EU, US, PT) in a text_doc.
 *
 * A marking counts only where markings really sit:
 *  - banner lines: the first or last non-empty line of a BODY segment or of
 *    a form-feed page in it, the marking alone on the line (decoration such
 *    as "***", "---", "**", "[ ]", csv quotes and empty csv fields allowed)
 *    and possibly followed by a releasability caveat, control markings, an
 *    annex reference or a page number; upper case only;
 *  - HEADER/FOOTER segments: any line, or any tab/multi-space field of it;
 *  - metadata: a PROPERTY (or mail header) whose name says classification
 *    ("Classification", "...Classification", "...SecurityLabel"), and
 *    Microsoft sensitivity labels (MSIP_Label_<GUID>_Name counts only with
 *    MSIP_Label_<GUID>_Enabled = true; also inside an msip_labels header);
 *  - portion marks at the start of a paragraph: NATO (CTS) (NS) (NC) (NR)
 *    (NU), EU (S-UE/EU-S)..., US with control markings (S//NF) on their
 *    own; bare US (TS) (S) (C) (U) only in a document with a US banner.
 * Bare TOP SECRET / SECRET / CONFIDENTIAL is US only with corroboration:
 * top and bottom (or header and footer), US portion marks, // control
 * markings, or a "Classified By:" block with "Derived From:" or "Declassify
 * On:". Portuguese markings (MUITO SECRETO, SECRETO, CONFIDENCIAL,
 * RESERVADO) count only in Portuguese prose. The highest level wins; ties go
 * NATO, EU, US, PT.
 *
 * Pure computation; any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

enum marking_scheme {
	MARKING_SCHEME_NONE,
	MARKING_SCHEME_NATO,
	MARKING_SCHEME_EU,
	MARKING_SCHEME_US,
	MARKING_SCHEME_PT,
};

/* Ordered: a larger value is a higher level. */
enum marking_level {
	MARKING_LEVEL_NONE,
	MARKING_LEVEL_UNCLASSIFIED,
	MARKING_LEVEL_RESTRICTED,
	MARKING_LEVEL_CONFIDENTIAL,
	MARKING_LEVEL_SECRET,
	MARKING_LEVEL_TOP_SECRET,
};

/* Where the winning marking was read. */
enum marking_source {
	MARKING_SOURCE_BANNER,
	MARKING_SOURCE_HEADER_FOOTER,
	MARKING_SOURCE_METADATA,
	MARKING_SOURCE_PORTION,
	MARKING_SOURCE_RAW,    /* a long marking string inside binary content */
};

#define MARKING_FOUND_MAX 128

struct marking_result {
	enum marking_scheme scheme; /* MARKING_SCHEME_NONE: no marking */
	enum marking_level level;
	enum marking_source source;
	/* The marking as found (decoration stripped, caveat kept), UTF-8,
	 * cut at MARKING_FOUND_MAX - 1 bytes on a character boundary. */
	char found[MARKING_FOUND_MAX];
};

/* Strength of one line read as a banner (marking_parse_line). */
enum marking_strength {
	MARKING_STRENGTH_NONE,   /* not a marking line */
	MARKING_STRENGTH_STRONG, /* counts on its own: NATO, EU, US with //
				  * control markings */
	MARKING_STRENGTH_WEAK,   /* bare US level: needs corroboration */
	MARKING_STRENGTH_PT,     /* Portuguese level: needs Portuguese prose */
};

struct marking_line {
	enum marking_strength strength;
	enum marking_scheme scheme;
	enum marking_level level;
	size_t start, end; /* byte span of the marking (+caveat) in the line */
};

/* Mode for marking_parse_line(): metadata values may be mixed case when the
 * scheme is explicit ("Nato Secret" as a label name). */
enum marking_mode {
	MARKING_MODE_LINE,
	MARKING_MODE_METADATA,
};

/* Reads @len bytes of UTF-8 @line (no newline) as a stand-alone banner.
 * Returns the strength (also stored in @out, which may be NULL). */
enum marking_strength marking_parse_line(const char *line, size_t len,
					 enum marking_mode mode,
					 struct marking_line *out);

/* Reads a paragraph-start portion mark at the start of @line (after an
 * optional paragraph number such as "1.", "2.3", "a.", "(1)").
 * Returns STRONG (NATO, EU, US with control markings), WEAK (bare US
 * (TS)/(S)/(C); (U) gives WEAK with MARKING_LEVEL_UNCLASSIFIED) or NONE. */
enum marking_strength marking_parse_portion(const char *line, size_t len,
					    struct marking_line *out);

/* Detects the document's classification. Returns 1 and fills @out when a
 * marking counts, 0 (and @out->scheme = NONE) when none does. */
int marking_detect(const struct text_doc *doc, struct marking_result *out);

/* Binary content (no text format recognised) has no lines, pages or
 * properties to judge a marking by, yet legacy and proprietary containers
 * (old .doc/.xls, .msg, application dumps) keep document text as raw runs.
 * There, only the long, unmistakable forms count: "NATO SECRET",
 * "COSMIC TOP SECRET", "RESTREINT UE", "EU CONFIDENTIAL", "SECRET//NOFORN"
 * and the like, upper case, in ASCII or UTF-16LE. Bare levels and
 * Portuguese words never do. Streaming: call with consecutive chunks of
 * one file and the same @state (zero it first); @out keeps the highest level
 * seen. Returns 1 once anything was found. Pure; any thread. */
struct marking_raw_state {
	unsigned char tail[64]; /* the previous chunk's last bytes */
	size_t tail_len;
};
int marking_scan_raw(struct marking_raw_state *state, const void *buf, size_t len,
		     struct marking_result *out);

/* "NATO", "EU", "US", "PT" ("" for NONE). */
const char *marking_scheme_name(enum marking_scheme scheme);
/* "TOP SECRET", "SECRET", "CONFIDENTIAL", "RESTRICTED", "UNCLASSIFIED"
 * ("" for NONE). */
const char *marking_level_name(enum marking_level level);
const char *marking_source_name(enum marking_source source);
