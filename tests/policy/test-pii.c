/* test-pii.c — validators (Luhn + brands, IBAN, NIF), the scanner on text
 * with separators, boundaries and keywords, and masking. */
#include <string.h>

#include "harness.h"
#include "mem.h"
#include "pii.h"
#include "text.h"

static const struct {
	const char *name, *digits;
	bool ok;
} cards[] = {
	{"visa 16", "4123456700000001", true},
	{"visa 13", "4123456700000", true},
	{"visa 19", "4123456700000000000", true},
	{"mastercard 51", "5112345670000002", true},
	{"mastercard 2221", "2221123456700003", true},
	{"mastercard 2720", "2720123456700009", true},
	{"amex 34", "341234567000008", true},
	{"amex 37", "371234567000001", true},
	{"discover 6011", "6011123456700008", true},
	{"discover 65", "6512345670000006", true},
	{"discover 644", "6441234567000004", true},
	{"jcb 3528", "3528123456700001", true},
	{"jcb 3589 19", "3589123456700000008", true},
	{"luhn ok no brand 9636", "9636123456700007", false},
	{"luhn ok diners not listed", "36123456700002", false},
	{"luhn ok 2721 not mastercard", "2721123456700008", false},
	{"visa wrong length 15", "412345670000000", false},
	{"visa luhn fails", "4123456700000002", false},
	{"mastercard luhn fails", "5182697411300902", false},
	{"amex wrong length", "3412345670000080", false},
	{"too short", "411111111111", false},
};

static const struct {
	const char *name, *iban;
	bool ok;
} ibans[] = {
	{"pt", "PT50003597604070832267316", true},
	{"de", "DE89370400440532013000", true},
	{"gb letters in bban", "GB29NWBK60161331926819", true},
	{"be", "BE68539007547034", true},
	{"no shortest", "NO9386011117947", true},
	{"fr letter", "FR1420041010050500013M02606", true},
	{"pt bad checksum", "PT50003597604070832267317", false},
	{"de bad check digits", "DE88370400440532013000", false},
	{"pt too long", "PT500035976040708322673160", false},
	{"unknown country", "ZZ89370400440532013000", false},
	{"lower case", "de89370400440532013000", false},
};

static const struct {
	const char *name, *nif;
	bool ok;
} nifs[] = {
	{"123456789", "123456789", true},
	{"500000000", "500000000", true},
	{"987654322", "987654322", true},
	{"corpus 554980223", "554980223", true},
	{"wrong check", "123456788", false},
	{"leading zero", "012345678", false},
	{"eight digits", "12345678", false},
};

static void
test_validators(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(cards); i++) {
		const char *d = cards[i].digits;
		bool ok = pii_luhn_ok(d, strlen(d)) &&
			  pii_card_brand_ok(d, strlen(d));
		th_ok(ok == cards[i].ok, "card %s", cards[i].name);
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(ibans); i++) {
		bool ok = pii_iban_ok(ibans[i].iban, strlen(ibans[i].iban));
		th_ok(ok == ibans[i].ok, "iban %s", ibans[i].name);
	}
	for (size_t i = 0; i < LW_ARRAY_SIZE(nifs); i++) {
		bool ok = pii_nif_ok(nifs[i].nif, strlen(nifs[i].nif));
		th_ok(ok == nifs[i].ok, "nif %s", nifs[i].name);
	}
	th_inteq(pii_iban_length("PT"), 25, "iban length PT");
	th_inteq(pii_iban_length("QQ"), 0, "iban length unknown");
}

static const struct {
	const char *name, *text;
	unsigned cc, iban, nif;
} scans[] = {
	{"card spaces", "Card number: 4123 4567 0000 0001\n", 1, 0, 0},
	{"card dashes", "1000,Daniel Hughes,5112-3456-7000-0002,53.74\n", 1, 0, 0},
	{"card plain", "pay with 4123456700000001 today", 1, 0, 0},
	{"card amex 4-6-5", "Amex 3412 345670 00008 exp", 1, 0, 0},
	{"card csv first column", "1,4123456700000001,shipped\n", 1, 0, 0},
	{"card then expiry", "4123 4567 0000 0001 12/26", 1, 0, 0},
	{"card at start and end", "4123456700000001", 1, 0, 0},
	{"two cards", "5112345670000002 and 6011123456700008", 2, 0, 0},
	{"card luhn fails", "Card: 4123 4567 0000 0002", 0, 0, 0},
	{"card no brand", "ref 9636 1234 5670 0007", 0, 0, 0},
	{"card inside longer run", "99994123456700000001", 0, 0, 0},
	{"card glued to letters", "ID X4123456700000001", 0, 0, 0},
	{"card decimal", "pi 3.4123456700000001", 0, 0, 0},
	{"card mixed separators", "4123 4567-0000 0001", 0, 0, 0},
	{"card bad grouping", "41 23 45 67 00 00 00 01", 0, 0, 0},
	{"iban print", "IBAN: PT50 0035 9760 4070 8322 6731 6\n", 0, 1, 0},
	{"iban electronic", "IBAN: DE89370400440532013000.", 0, 1, 0},
	{"iban gb", "GB29 NWBK 6016 1331 9268 19", 0, 1, 0},
	{"iban csv", "Papelaria,BE68 5390 0754 7034,BANKPTPL\n", 0, 1, 0},
	{"iban bad checksum", "PT50 0035 9760 4070 8322 6731 7", 0, 0, 0},
	{"iban wrong length", "PT500035976040708322673160", 0, 0, 0},
	{"iban print too short", "BE68 5390 0754 703", 0, 0, 0},
	{"iban digits are not cards",
	 "PT50 0000 0000 4123 4567 0000 0001", 0, 0, 0},
	{"iban glued word", "XDE89370400440532013000", 0, 0, 0},
	{"nif keyword before", "NIF: 123456789\n", 0, 0, 1},
	{"nif contribuinte", "N.\xc2\xba de contribuinte: 554980223", 0, 0, 1},
	{"nif long keyword", "N\xc3\xbamero de identifica\xc3\xa7\xc3\xa3o fiscal 500000000", 0, 0, 1},
	{"nif nipc", "NIPC 500000000", 0, 0, 1},
	{"nif pt prefix", "NIF PT123456789", 0, 0, 1},
	{"nif keyword after", "123456789 (NIF)", 0, 0, 1},
	{"nif csv header", "NIF;Nome\n123456789;Marta\n", 0, 0, 1},
	{"nif no keyword", "Lot 123456789 received", 0, 0, 0},
	{"nif keyword far", "NIF is mandatory for invoices, please read the guide first. Lot 123456789", 0, 0, 0},
	{"nif invalid with keyword", "NIF: 123456788", 0, 0, 0},
	{"nif second number not bound", "NIF 123456789\n\nLote: 500000000", 0, 0, 1},
	{"nif keyword inside word", "UNIFORM 123456789", 0, 0, 0},
	{"nif ten digits", "NIF 1234567890", 0, 0, 0},
	{"phone grouped", "NIF: 912 345 678", 0, 0, 0},
	{"all three",
	 "Cart\xc3\xa3o 4123 4567 0000 0001, IBAN PT50 0035 9760 4070 8322 6731 6, contribuinte 123456789",
	 1, 1, 1},
	{"prose with numbers", "In 2024, 17 units moved 1,250 km in 3.5 days.", 0, 0, 0},
};

static void
test_scan(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(scans); i++) {
		struct pii_result r = {0};
		pii_scan_text(scans[i].text, strlen(scans[i].text), 0, &r);
		th_inteq(r.count[PII_TYPE_CREDIT_CARD], scans[i].cc,
			 "scan %s: credit_card", scans[i].name);
		th_inteq(r.count[PII_TYPE_IBAN], scans[i].iban, "scan %s: iban",
			 scans[i].name);
		th_inteq(r.count[PII_TYPE_PT_NIF], scans[i].nif, "scan %s: pt_nif",
			 scans[i].name);
	}
}

static void
test_doc_and_mask(void)
{
	/* UTF-16LE document through the text model. */
	static const char ascii[] = "Card: 4123 4567 0000 0001\r\n";
	unsigned char buf[2 + 2 * sizeof(ascii)];
	size_t n = 0;
	buf[n++] = 0xFF;
	buf[n++] = 0xFE;
	for (size_t q = 0; q + 1 < sizeof(ascii); q++) {
		buf[n++] = (unsigned char)ascii[q];
		buf[n++] = 0;
	}
	struct text_doc *doc = text_doc_new(0);
	text_doc_add_bytes(doc, TEXT_KIND_BODY, NULL, buf, n, NULL);
	const char *meta = "PT50 0035 9760 4070 8322 6731 6";
	text_doc_add(doc, TEXT_KIND_PROPERTY, "comment", meta, strlen(meta));
	struct pii_result r;
	unsigned total = pii_scan(doc, &r);
	th_inteq(total, 2, "doc: utf-16 card + iban in a property");
	th_inteq(r.n_findings, 2, "doc: two findings");
	if (r.n_findings == 2) {
		const struct text_segment *s = text_doc_segment(doc, r.findings[0].segment);
		char m[64];
		pii_mask(r.findings[0].type, s->text + r.findings[0].offset,
			 r.findings[0].len, m, sizeof(m));
		th_streq(m, "**** **** **** 0001", "mask card");
		s = text_doc_segment(doc, r.findings[1].segment);
		pii_mask(r.findings[1].type, s->text + r.findings[1].offset,
			 r.findings[1].len, m, sizeof(m));
		th_streq(m, "PT** **** **** **** **** *731 6", "mask iban");
	}
	char small[8];
	size_t want = pii_mask(PII_TYPE_CREDIT_CARD, "4123456700000001", 16,
			       small, sizeof(small));
	th_inteq(want, 16, "mask: returns the wanted length");
	th_streq(small, "*******", "mask: truncated output is terminated");
	char tiny[8];
	pii_mask(PII_TYPE_PT_NIF, "1234", 4, tiny, sizeof(tiny));
	th_streq(tiny, "****", "mask: short values fully masked");
	th_streq(pii_type_name(PII_TYPE_PT_NIF), "pt_nif", "type name");
	text_doc_free(doc);
}

static void
test_findings_cap(void)
{
	/* More instances than PII_FINDINGS_MAX: counts go on. */
	size_t reps = PII_FINDINGS_MAX + 8;
	AUTOFREE char *t = lw_malloc(reps * 20 + 1);
	size_t n = 0;
	for (size_t i = 0; i < reps; i++) {
		memcpy(t + n, "4123456700000001\n", 17);
		n += 17;
	}
	struct pii_result r = {0};
	pii_scan_text(t, n, 0, &r);
	th_inteq(r.count[PII_TYPE_CREDIT_CARD], (long long)reps, "cap: all counted");
	th_inteq(r.n_findings, PII_FINDINGS_MAX, "cap: findings capped");
}

int
main(void)
{
	test_validators();
	test_scan();
	test_doc_and_mask();
	test_findings_cap();
	return th_done();
}
