/* pii.h — personal and financial data found with validators, not patterns.
 *
 *  - credit_card: 13-19 digits, contiguous or in groups joined by single
 *    spaces or dashes (first group of 4), passing Luhn and starting with a
 *    real brand prefix for its length (Visa 4: 13/16/19; Mastercard 51-55,
 *    2221-2720: 16; Amex 34/37: 15; Discover 6011, 65, 644-649: 16-19;
 *    JCB 3528-3589: 16-19). Digits glued to letters or inside a longer run
 *    (an IBAN, a decimal number) are never cards.
 *  - iban: country code, check digits and BBAN of exactly the country's
 *    length (ISO 13616 registry), contiguous or in groups of four, passing
 *    mod 97.
 *  - pt_nif: nine contiguous digits (optionally "PT"-prefixed) with a valid
 *    mod-11 check digit, counted only when a keyword ("NIF", "NIPC",
 *    "contribuinte", "identificação fiscal") sits within about 50 characters
 *    before it with no other long number in between, or just after it.
 *
 * Values are never copied out: findings hold offsets into the document, and
 * pii_mask() is the only way to render one. Pure computation; any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

enum pii_type {
	PII_TYPE_CREDIT_CARD,
	PII_TYPE_IBAN,
	PII_TYPE_PT_NIF,
};
#define PII_TYPE_COUNT 3

/* Findings kept with their position (counts go on past this). */
#define PII_FINDINGS_MAX 32

struct pii_finding {
	enum pii_type type;
	size_t segment; /* index in the text_doc */
	size_t offset;  /* byte offset in the segment's text */
	size_t len;     /* bytes, separators included */
};

struct pii_result {
	unsigned count[PII_TYPE_COUNT];
	struct pii_finding findings[PII_FINDINGS_MAX];
	size_t n_findings;
};

/* Scans every segment of @doc (metadata included). @out is reset first.
 * Returns the total number of valid instances. */
unsigned pii_scan(const struct text_doc *doc, struct pii_result *out);

/* Scans one UTF-8 buffer, adding to @out (not reset); @segment is recorded
 * in the findings. Returns the number of instances found in @text. */
unsigned pii_scan_text(const char *text, size_t len, size_t segment,
		       struct pii_result *out);

/* Validators on compact values (digits only / IBAN without spaces). */
bool pii_luhn_ok(const char *digits, size_t n);
bool pii_card_brand_ok(const char *digits, size_t n);
bool pii_iban_ok(const char *iban, size_t n);
/* Length of the IBAN of country @cc (two upper-case letters), 0 if unknown. */
unsigned pii_iban_length(const char *cc);
bool pii_nif_ok(const char *digits, size_t n);

/* Writes @value (@len bytes) to @out with every letter and digit replaced by
 * '*' except the last four (and an IBAN's country code); separators stay.
 * Always NUL-terminates when @outsz > 0; returns the length it wanted. */
size_t pii_mask(enum pii_type type, const char *value, size_t len, char *out,
		size_t outsz);

/* "credit_card", "iban", "pt_nif". */
const char *pii_type_name(enum pii_type type);
