/* pii.c — payment cards, IBANs and Portuguese NIFs (see pii.h).
 *
 * Pure computation; any thread.
 *
 * One pass per segment: a vectorised search for the next digit (SSE2 on
 * x86-64, a plain loop elsewhere) skips the text between numbers, so prose
 * costs little more than a memchr. Each digit run is classified once: IBAN
 * (two capitals right before it), glued to a word (skipped), a decimal
 * (skipped), or a group sequence tried as a card and, when it is nine lone
 * digits, as a NIF. Keyword proximity is checked only for NIF-valid
 * numbers. */
#include "pii.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mem.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_alpha(char c)
{
	return is_upper(c) || (c >= 'a' && c <= 'z');
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static const char *
next_digit(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i zero = _mm_set1_epi8('0');
	const __m128i nine = _mm_set1_epi8(9);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i t = _mm_sub_epi8(v, zero);
		__m128i le9 = _mm_cmpeq_epi8(_mm_min_epu8(t, nine), t);
		int m = _mm_movemask_epi8(le9);
		if (m) {
			return p + __builtin_ctz((unsigned)m);
		}
		p += 16;
	}
#endif
	for (; p < end; p++) {
		if (is_digit(*p)) {
			return p;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Validators                                                                */

bool
pii_luhn_ok(const char *d, size_t n)
{
	unsigned sum = 0;
	bool dbl = false;
	for (size_t i = n; i-- > 0;) {
		if (!is_digit(d[i])) {
			return false;
		}
		unsigned v = (unsigned)(d[i] - '0');
		if (dbl) {
			v *= 2;
			if (v > 9) {
				v -= 9;
			}
		}
		sum += v;
		dbl = !dbl;
	}
	return n > 0 && sum % 10 == 0;
}

static unsigned
prefix_num(const char *d, size_t k)
{
	unsigned v = 0;
	for (size_t i = 0; i < k; i++) {
		v = v * 10 + (unsigned)(d[i] - '0');
	}
	return v;
}

bool
pii_card_brand_ok(const char *d, size_t n)
{
	if (n < 13 || n > 19) {
		return false;
	}
	unsigned p2 = prefix_num(d, 2), p3 = prefix_num(d, 3),
		 p4 = prefix_num(d, 4);
	if (d[0] == '4') {
		return n == 13 || n == 16 || n == 19; /* Visa */
	}
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) {
		return n == 16; /* Mastercard */
	}
	if (p2 == 34 || p2 == 37) {
		return n == 15; /* Amex */
	}
	if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) {
		return n >= 16; /* Discover */
	}
	if (p4 >= 3528 && p4 <= 3589) {
		return n >= 16; /* JCB */
	}
	return false;
}

/* ISO 13616 registry lengths. */
static const struct {
	char cc[3];
	unsigned char len;
} iban_len[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
	{"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
	{"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
	{"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
	{"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
	{"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
	{"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
	{"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
	{"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
	{"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18},
	{"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25},
	{"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
	{"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23},
	{"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
	{"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

unsigned
pii_iban_length(const char *cc)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(iban_len); i++) {
		if (iban_len[i].cc[0] == cc[0] && iban_len[i].cc[1] == cc[1]) {
			return iban_len[i].len;
		}
	}
	return 0;
}

bool
pii_iban_ok(const char *s, size_t n)
{
	if (n < 5 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) ||
	    !is_digit(s[3]) || pii_iban_length(s) != n) {
		return false;
	}
	unsigned r = 0;
	for (size_t k = 0; k < n; k++) {
		char c = s[(k + 4) % n];
		if (is_digit(c)) {
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		} else if (is_upper(c)) {
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
		} else {
			return false;
		}
	}
	return r == 1;
}

bool
pii_nif_ok(const char *d, size_t n)
{
	if (n != 9 || d[0] == '0') {
		return false;
	}
	unsigned sum = 0;
	for (size_t i = 0; i < 9; i++) {
		if (!is_digit(d[i])) {
			return false;
		}
	}
	for (size_t i = 0; i < 8; i++) {
		sum += (unsigned)(d[i] - '0') * (unsigned)(9 - i);
	}
	unsigned r = sum % 11;
	unsigned check = r < 2 ? 0 : 11 - r;
	return (unsigned)(d[8] - '0') == check;
}

/* ------------------------------------------------------------------------ */
/* Scanner                                                                   */

static void
found(struct pii_result *out, enum pii_type type, size_t seg, size_t off,
      size_t len)
{
	out->count[type]++;
	if (out->n_findings < PII_FINDINGS_MAX) {
		out->findings[out->n_findings++] =
			(struct pii_finding){type, seg, off, len};
	}
}

/* An IBAN-shaped token at @st (two capitals, two digits). Returns the index
 * after it when it is IBAN-shaped (valid or not, so that its digit groups are
 * never read as cards), 0 when the country is unknown. */
static size_t
scan_iban(const char *s, size_t n, size_t st, size_t seg,
	  struct pii_result *out, unsigned *hits)
{
	unsigned want = pii_iban_length(s + st);
	if (!want) {
		return 0;
	}
	char buf[40];
	size_t k = st, c = 0;
	/* Electronic form: one run. */
	while (k < n && (is_upper(s[k]) || is_digit(s[k]))) {
		if (c < sizeof(buf)) {
			buf[c] = s[k];
		}
		c++;
		k++;
	}
	if (k < n && is_alpha(s[k])) {
		return k; /* glued to lower-case letters: a word, not an IBAN */
	}
	if (c == 4) {
		/* Print form: groups of four after a single space. */
		while (c < want && k + 1 < n && s[k] == ' ' &&
		       (is_upper(s[k + 1]) || is_digit(s[k + 1]))) {
			size_t g = k + 1, gl = 0;
			while (g < n && gl < 5 && (is_upper(s[g]) || is_digit(s[g]))) {
				g++;
				gl++;
			}
			if (gl > 4 || (gl < 4 && c + gl != want)) {
				break;
			}
			memcpy(buf + c, s + k + 1, gl);
			c += gl;
			k = g;
		}
	}
	if (c == want && (k >= n || !is_alnum(s[k])) && pii_iban_ok(buf, c)) {
		found(out, PII_TYPE_IBAN, seg, st, k - st);
		(*hits)++;
	}
	return k;
}

static char
fold_lower(const char *s, size_t i)
{
	char c = s[i];
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Case-insensitive keyword at @i with word boundaries; ç and ã in
 * "identificação" are matched as UTF-8 or as their ASCII fold. */
static size_t
keyword_at(const char *s, size_t n, size_t i)
{
	static const char *const kw[] = {
		"nif", "nipc", "contribuinte", "identificacao fiscal",
		"identifica\xc3\xa7\xc3\xa3o fiscal",
		"identifica\xc3\x87\xc3\x83o fiscal",
	};
	if (i > 0 && is_alpha(s[i - 1])) {
		return 0;
	}
	for (size_t k = 0; k < LW_ARRAY_SIZE(kw); k++) {
		size_t l = strlen(kw[k]);
		if (i + l > n) {
			continue;
		}
		size_t j = 0;
		while (j < l && fold_lower(s, i + j) == kw[k][j]) {
			j++;
		}
		if (j == l && (i + l >= n || !is_alpha(s[i + l]))) {
			return l;
		}
	}
	return 0;
}

/* A NIF keyword within 60 bytes before @st (no run of 7+ digits between)
 * or within 24 bytes after @en (no digit between). */
static bool
nif_keyword_near(const char *s, size_t n, size_t st, size_t en)
{
	size_t from = st > 60 ? st - 60 : 0;
	for (size_t i = st; i-- > from;) {
		size_t l = keyword_at(s, n, i);
		if (!l) {
			continue;
		}
		size_t run = 0;
		for (size_t j = i + l; j < st; j++) {
			run = is_digit(s[j]) ? run + 1 : 0;
			if (run >= 7) {
				return false;
			}
		}
		return true;
	}
	size_t to = en + 24 < n ? en + 24 : n;
	for (size_t i = en; i < to; i++) {
		if (is_digit(s[i])) {
			break;
		}
		if (keyword_at(s, n, i)) {
			return true;
		}
	}
	return false;
}

struct group {
	size_t st, len;
	char sep; /* separator before this group, 0 for the first */
};

#define MAX_GROUPS 8

static bool
card_shape_ok(const struct group *g, size_t m)
{
	if (m == 1) {
		return true;
	}
	if (g[0].len != 4) {
		return false;
	}
	for (size_t i = 1; i < m; i++) {
		if (g[i].sep != g[1].sep) {
			return false;
		}
		if (i + 1 < m && (g[i].len < 4 || g[i].len > 6)) {
			return false;
		}
		if (g[i].len > 6) {
			return false;
		}
	}
	return true;
}

/* Cards in the group sequence: the whole run, else its leading groups. */
static bool
try_card(const char *s, const struct group *g, size_t m, size_t seg,
	 struct pii_result *out)
{
	for (size_t b = m; b >= 1; b--) {
		size_t total = 0;
		for (size_t i = 0; i < b; i++) {
			total += g[i].len;
		}
		if (total < 13 || total > 19 || !card_shape_ok(g, b)) {
			continue;
		}
		char d[20];
		size_t k = 0;
		for (size_t i = 0; i < b; i++) {
			memcpy(d + k, s + g[i].st, g[i].len);
			k += g[i].len;
		}
		if (pii_card_brand_ok(d, k) && pii_luhn_ok(d, k)) {
			size_t en = g[b - 1].st + g[b - 1].len;
			found(out, PII_TYPE_CREDIT_CARD, seg, g[0].st, en - g[0].st);
			return true;
		}
	}
	return false;
}

unsigned
pii_scan_text(const char *s, size_t n, size_t seg, struct pii_result *out)
{
	unsigned hits = 0;
	const char *end = s + n;
	const char *p = s;
	while ((p = next_digit(p, end)) != NULL) {
		size_t i = (size_t)(p - s);
		bool pt_prefix = i >= 2 && s[i - 2] == 'P' && s[i - 1] == 'T' &&
				 (i == 2 || !is_alnum(s[i - 3]));
		if (pt_prefix) {
			/* "PT123456789": a NIF in VAT form, not an IBAN. */
			size_t k = i;
			while (k < n && is_digit(s[k])) {
				k++;
			}
			if (k - i == 9 && (k >= n || !is_alnum(s[k]))) {
				if (pii_nif_ok(s + i, 9) &&
				    nif_keyword_near(s, n, i - 2, k)) {
					found(out, PII_TYPE_PT_NIF, seg, i - 2, 11);
					hits++;
				}
				p = s + k;
				continue;
			}
		}
		/* IBAN: "PT50..." with the two capitals starting a word. */
		if (i >= 2 && is_upper(s[i - 2]) && is_upper(s[i - 1]) &&
		    (i == 2 || !is_alnum(s[i - 3])) && i + 1 < n &&
		    is_digit(s[i + 1])) {
			size_t k = scan_iban(s, n, i - 2, seg, out, &hits);
			if (k) {
				p = s + k;
				continue;
			}
		}
		if ((i > 0 && is_alpha(s[i - 1])) ||
		    (i >= 2 && s[i - 1] == '.' && is_digit(s[i - 2]))) {
			/* Part of a word ("FT2024", "A4") or a decimal. */
			while (p < end && is_alnum(*p)) {
				p++;
			}
			continue;
		}
		/* Groups joined by single spaces or dashes. */
		struct group g[MAX_GROUPS];
		size_t m = 0, k = i;
		char sep = 0;
		for (;;) {
			size_t st = k;
			while (k < n && is_digit(s[k])) {
				k++;
			}
			if (m < MAX_GROUPS) {
				g[m++] = (struct group){st, k - st, sep};
			} else {
				m = MAX_GROUPS + 1; /* too long to be anything */
			}
			if (k + 1 < n && (s[k] == ' ' || s[k] == '-') &&
			    is_digit(s[k + 1])) {
				sep = s[k];
				k++;
				continue;
			}
			break;
		}
		p = s + k;
		if (m > MAX_GROUPS || (k < n && is_alpha(s[k]))) {
			while (p < end && is_alnum(*p)) {
				p++;
			}
			continue;
		}
		if (try_card(s, g, m, seg, out)) {
			hits++;
			continue;
		}
		if (m == 1 && g[0].len == 9 && pii_nif_ok(s + i, 9) &&
		    nif_keyword_near(s, n, i, k)) {
			found(out, PII_TYPE_PT_NIF, seg, i, 9);
			hits++;
		}
	}
	return hits;
}

unsigned
pii_scan(const struct text_doc *doc, struct pii_result *out)
{
	memset(out, 0, sizeof(*out));
	unsigned total = 0;
	size_t nseg = text_doc_count(doc);
	for (size_t i = 0; i < nseg; i++) {
		const struct text_segment *seg = text_doc_segment(doc, i);
		total += pii_scan_text(seg->text, seg->len, i, out);
	}
	return total;
}

size_t
pii_mask(enum pii_type type, const char *v, size_t len, char *out,
	 size_t outsz)
{
	size_t alnum = 0;
	for (size_t i = 0; i < len; i++) {
		alnum += is_alnum(v[i]);
	}
	size_t keep_from = alnum > 4 ? alnum - 4 : 0;
	if (alnum <= 4) {
		keep_from = alnum; /* too short to show any of it */
	}
	size_t keep_head = type == PII_TYPE_IBAN ? 2 : 0;
	size_t seen = 0, w = 0;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (is_alnum(c)) {
			if (seen >= keep_head && seen < keep_from) {
				c = '*';
			}
			seen++;
		}
		if (outsz && w + 1 < outsz) {
			out[w] = c;
		}
		w++;
	}
	if (outsz) {
		out[w < outsz ? w : outsz - 1] = '\0';
	}
	return w;
}

const char *
pii_type_name(enum pii_type type)
{
	switch (type) {
	case PII_TYPE_CREDIT_CARD:
		return "credit_card";
	case PII_TYPE_IBAN:
		return "iban";
	case PII_TYPE_PT_NIF:
		return "pt_nif";
	}
	return "?";
}
