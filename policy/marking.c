/* marking.c — classification markings where markings really sit (marking.h).
 *
 * Pure computation on a caller's text_doc; any thread.
 *
 * Cost model: the text is walked once, line by line with memchr(). Only a
 * few lines are parsed as banners (the first and last non-empty line of each
 * page, header/footer lines, metadata values); every other line costs a look
 * at its first bytes (portion mark? "Classified By:" block?). Long lines are
 * never banners and are rejected before any normalisation. No regex engine:
 * the marking grammar is small and fixed, and a hand-written matcher on a
 * normalised line is both simpler and faster than a pattern set.
 *
 * Normalisation of a candidate line: Latin diacritics folded (TRÈS -> TRES),
 * typographic dashes/quotes/spaces mapped to ASCII, decoration stripped at
 * both ends, letter-spaced text ("N A T O  S E C R E T") closed up, spaces
 * collapsed and removed around '/'. Case is kept: markings are upper case. */
#include "marking.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mem.h"

/* Lines longer than this (bytes) are never banners. */
#define BANNER_MAX 320
/* A previous line at most this long ends a paragraph (a heading). */
#define HEADING_MAX 48

/* ------------------------------------------------------------------------ */
/* Normalised line                                                           */

struct norm {
	char c[BANNER_MAX + 1];
	uint16_t off[BANNER_MAX + 2]; /* byte offset in the source per char */
	size_t n;
};

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return is_upper(c) || is_lower(c);
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static char
to_upper(char c)
{
	return is_lower(c) ? (char)(c - 32) : c;
}

/* Latin-1 letters U+00C0..U+00FF folded to ASCII, keeping case. */
static const char latin1_fold[64] = "AAAAAAACEEEEIIIIDNOOOOO?OUUUUYTs"
				     "aaaaaaaceeeeiiiidnooooo?ouuuuyty";

/* Decodes one UTF-8 code point (input is valid UTF-8: text.c made sure). */
static uint32_t
next_cp(const uint8_t *s, size_t n, size_t *adv)
{
	uint8_t c = s[0];
	if (c < 0x80 || n < 2) {
		*adv = 1;
		return c;
	}
	if (c < 0xE0) {
		*adv = 2;
		return (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (c < 0xF0 && n >= 3) {
		*adv = 3;
		return (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
		       (s[2] & 0x3F);
	}
	if (n >= 4) {
		*adv = 4;
		return (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
		       (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	}
	*adv = 1;
	return 0xFFFD;
}

/* Maps a code point to one ASCII char, 0 to drop it. '?' stands for
 * anything that is neither a Latin letter, digit nor known punctuation. */
static char
fold_cp(uint32_t cp)
{
	if (cp < 0x80) {
		if (cp == '\t' || cp == '\v' || cp == '\f') {
			return ' ';
		}
		if (cp == '\r' || cp < 0x20) {
			return 0;
		}
		return (char)cp;
	}
	if (cp >= 0xC0 && cp <= 0xFF) {
		return latin1_fold[cp - 0xC0];
	}
	switch (cp) {
	case 0xA0:
	case 0x2007:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return ' ';
	case 0x200B:
	case 0x200C:
	case 0x200D:
	case 0x2060:
	case 0xFEFF:
	case 0xAD: /* soft hyphen */
		return 0;
	case 0x2010:
	case 0x2011:
	case 0x2012:
	case 0x2013:
	case 0x2014:
	case 0x2015:
	case 0x2212:
		return '-';
	case 0x2018:
	case 0x2019:
	case 0x201C:
	case 0x201D:
	case 0xAB:
	case 0xBB:
		return '"';
	case 0x2022:
	case 0x25A0:
	case 0x25CF:
	case 0x2605:
		return '*';
	case 0xBA: /* n.º */
		return 'o';
	case 0xAA:
		return 'a';
	}
	if (cp >= 0x2000 && cp <= 0x200A) {
		return ' ';
	}
	return '?';
}

/* Decoration allowed around a banner. */
static bool
is_deco(char c)
{
	return c == ' ' || c == '*' || c == '-' || c == '_' || c == '=' ||
	       c == '#' || c == '~' || c == '[' || c == ']' || c == '(' ||
	       c == ')' || c == '|' || c == '<' || c == '>' || c == '.' ||
	       c == ':' || c == ',' || c == ';' || c == '"' || c == '\'' ||
	       c == '`' || c == '+' || c == '{' || c == '}';
}

/* Normalises @len bytes of @s into @nm. Returns false when too long. */
static bool
normalize(const char *s, size_t len, struct norm *nm)
{
	if (len > BANNER_MAX * 2) {
		return false;
	}
	struct norm raw;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		size_t adv;
		uint32_t cp = next_cp((const uint8_t *)s + i, len - i, &adv);
		char c = fold_cp(cp);
		if (c) {
			if (n >= BANNER_MAX) {
				return false;
			}
			raw.c[n] = c;
			raw.off[n] = (uint16_t)i;
			n++;
		}
		i += adv;
	}
	raw.off[n] = (uint16_t)len;

	/* Strip decoration at both ends. */
	size_t a = 0, b = n;
	while (a < b && is_deco(raw.c[a])) {
		a++;
	}
	while (b > a && is_deco(raw.c[b - 1])) {
		b--;
	}

	/* Letter-spaced? No two non-space chars adjacent, at least 6 of them. */
	size_t nonsp = 0;
	bool spaced = true;
	for (size_t i = a; i < b; i++) {
		if (raw.c[i] != ' ') {
			nonsp++;
			if (i + 1 < b && raw.c[i + 1] != ' ') {
				spaced = false;
				break;
			}
		}
	}
	spaced = spaced && nonsp >= 6;

	nm->n = 0;
	for (size_t i = a; i < b; i++) {
		char c = raw.c[i];
		if (c == ' ') {
			size_t j = i;
			while (j < b && raw.c[j] == ' ') {
				j++;
			}
			bool keep = !spaced || j - i >= 2;
			/* No spaces around '/'. */
			if (nm->n > 0 && nm->c[nm->n - 1] == '/') {
				keep = false;
			}
			if (j < b && raw.c[j] == '/') {
				keep = false;
			}
			if (keep) {
				nm->c[nm->n] = ' ';
				nm->off[nm->n] = raw.off[i];
				nm->n++;
			}
			i = j - 1;
			continue;
		}
		nm->c[nm->n] = c;
		nm->off[nm->n] = raw.off[i];
		nm->n++;
	}
	nm->off[nm->n] = b > a ? raw.off[b] : raw.off[a];
	/* off[n] must be the end of the last kept char in the source. */
	if (nm->n > 0) {
		size_t last = nm->off[nm->n - 1];
		size_t adv;
		next_cp((const uint8_t *)s + last, len - last, &adv);
		nm->off[nm->n] = (uint16_t)(last + adv);
	}
	nm->c[nm->n] = '\0';
	return true;
}

/* ------------------------------------------------------------------------ */
/* Marking grammar                                                           */

/* Matches @pat at @i (spaces in @pat match one space); the char after must
 * not be a letter. Returns the index after the match or 0. */
static size_t
phrase(const char *s, size_t n, size_t i, const char *pat, bool ci)
{
	size_t k = i;
	for (const char *p = pat; *p; p++, k++) {
		if (k >= n) {
			return 0;
		}
		char c = ci ? to_upper(s[k]) : s[k];
		if (c != *p) {
			return 0;
		}
	}
	if (k < n && is_alpha(s[k])) {
		return 0;
	}
	return k;
}

struct form {
	const char *pat;
	enum marking_scheme scheme;
	enum marking_level level;
	bool explicit_scheme; /* names its scheme: case-insensitive in metadata */
};

#define L_TS MARKING_LEVEL_TOP_SECRET
#define L_S MARKING_LEVEL_SECRET
#define L_C MARKING_LEVEL_CONFIDENTIAL
#define L_R MARKING_LEVEL_RESTRICTED
#define L_U MARKING_LEVEL_UNCLASSIFIED

/* Ordered: longer and more specific forms first. */
static const struct form forms[] = {
	{"COSMIC TOP SECRET", MARKING_SCHEME_NATO, L_TS, true},
	{"COSMIC TRES SECRET", MARKING_SCHEME_NATO, L_TS, true},
	{"OTAN SECRET", MARKING_SCHEME_NATO, L_S, true},
	{"OTAN CONFIDENTIEL", MARKING_SCHEME_NATO, L_C, true},
	{"OTAN DIFFUSION RESTREINTE", MARKING_SCHEME_NATO, L_R, true},
	{"OTAN NON CLASSIFIE", MARKING_SCHEME_NATO, L_U, true},
	{"OTAN SANS CLASSIFICATION", MARKING_SCHEME_NATO, L_U, true},
	{"SECRET ATOMAL", MARKING_SCHEME_NATO, L_S, true},
	{"CONFIDENTIAL ATOMAL", MARKING_SCHEME_NATO, L_C, true},
	{"TRES SECRET UE", MARKING_SCHEME_EU, L_TS, true},
	{"SECRET UE", MARKING_SCHEME_EU, L_S, true},
	{"CONFIDENTIEL UE", MARKING_SCHEME_EU, L_C, true},
	{"RESTREINT UE", MARKING_SCHEME_EU, L_R, true},
	{"EU TOP SECRET", MARKING_SCHEME_EU, L_TS, true},
	{"EU SECRET", MARKING_SCHEME_EU, L_S, true},
	{"EU CONFIDENTIAL", MARKING_SCHEME_EU, L_C, true},
	{"EU RESTRICTED", MARKING_SCHEME_EU, L_R, true},
	{"MUITO SECRETO", MARKING_SCHEME_PT, L_TS, false},
	{"SECRETO", MARKING_SCHEME_PT, L_S, false},
	{"CONFIDENCIAL", MARKING_SCHEME_PT, L_C, false},
	{"RESERVADO", MARKING_SCHEME_PT, L_R, false},
	{"TOP SECRET", MARKING_SCHEME_US, L_TS, false},
	{"SECRET", MARKING_SCHEME_US, L_S, false},
	{"CONFIDENTIAL", MARKING_SCHEME_US, L_C, false},
};

static const struct {
	const char *word;
	enum marking_level level;
} nato_levels[] = {
	{"TOP SECRET", L_TS},       {"SECRET", L_S},
	{"CONFIDENTIAL", L_C},      {"RESTRICTED", L_R},
	{"UNCLASSIFIED", L_U},
};

/* NATO[/EAPC][/PfP] LEVEL; returns index after it or 0. */
static size_t
match_nato(const char *s, size_t n, bool ci, enum marking_level *lvl)
{
	size_t i = phrase(s, n, 0, "NATO", ci);
	if (!i) {
		return 0;
	}
	for (;;) {
		size_t j;
		if ((j = phrase(s, n, i, "/EAPC", true)) ||
		    (j = phrase(s, n, i, "/PFP", true))) {
			i = j;
			continue;
		}
		break;
	}
	if (i >= n || s[i] != ' ') {
		return 0;
	}
	i++;
	for (size_t k = 0; k < LW_ARRAY_SIZE(nato_levels); k++) {
		size_t j = phrase(s, n, i, nato_levels[k].word, ci);
		if (j) {
			*lvl = nato_levels[k].level;
			return j;
		}
	}
	return 0;
}

/* After a French EU form, the English half: "/EU SECRET", " - EU SECRET". */
static size_t
eu_english_half(const char *s, size_t n, size_t i, bool ci)
{
	size_t k = i;
	if (k < n && s[k] == '/') {
		k++;
	} else if (k + 2 < n && s[k] == ' ' && s[k + 1] == '-' &&
		   s[k + 2] == ' ') {
		k += 3;
	} else if (k < n && s[k] == ' ') {
		k++;
	} else {
		return i;
	}
	static const char *const en[] = {"EU TOP SECRET", "EU SECRET",
					 "EU CONFIDENTIAL", "EU RESTRICTED"};
	for (size_t e = 0; e < LW_ARRAY_SIZE(en); e++) {
		size_t j = phrase(s, n, k, en[e], ci);
		if (j) {
			return j;
		}
	}
	return i;
}

/* Words allowed after a marking: caveats, annex/page references, the
 * level words of bilingual banners. Anything else reads as prose. */
static const char *const tail_vocab[] = {
	"RELEASABLE", "REL",      "TO",         "ONLY",       "EYES",
	"NOFORN",     "ORCON",    "PROPIN",     "RELIDO",     "FOUO",
	"ATOMAL",     "BOHEMIA",  "BALK",       "ANNEX",      "APPENDIX",
	"ENCLOSURE",  "ATTACHMENT", "ANEXO",    "APENDICE",   "PAGE",
	"PAGINA",     "COPY",     "EXEMPLAR",   "NUMBER",     "PUBLIC",
	"LIMITED",    "LIMDIS",   "EXDIS",      "NODIS",      "SPECIAL",
	"HANDLING",   "PARTNERS", "MEMBERS",    "NATIONS",    "MISSION",
	"COALITION",  "SECRET",   "CONFIDENTIAL", "RESTRICTED", "UNCLASSIFIED",
	"COSMIC",     "CONFIDENTIEL", "RESTREINT", "DIFFUSION", "RESTREINTE",
	"CLASSIFIE",  "CLASSIFICATION", "SANS",  "SECRETO",    "CONFIDENCIAL",
	"RESERVADO",  "MUITO",    "TRES",       "RELEASE",    "AUTHORISED",
	"AUTHORIZED", "DISTRIBUTION", "CAVEAT", "COPIES",
};

static const char *const us_controls[] = {
	"NOFORN", "NF",   "ORCON", "REL",    "RELIDO", "SI",   "TK",
	"HCS",    "SCI",  "FGI",   "PROPIN", "SAR",    "RD",   "FRD",
	"LIMDIS", "EXDIS", "NODIS", "IMCON", "FISA",  "FVEY", "DSEN",
};

static bool
word_in(const char *w, size_t len, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(set[i]) == len && memcmp(set[i], w, len) == 0) {
			return true;
		}
	}
	return false;
}

/* Checks what follows a marking. Sets *us_control when the tail carries
 * US control markings ("//NOFORN", "/NOFORN", "REL TO"). */
static bool
tail_ok(const char *s, size_t n, size_t i, bool ci, bool *us_control)
{
	*us_control = false;
	if (i >= n) {
		return true;
	}
	if (s[i] != ' ' && s[i] != '/' && s[i] != '-' && s[i] != ',' &&
	    s[i] != ':' && s[i] != '(' && s[i] != '[' && !is_digit(s[i])) {
		return false;
	}
	if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
		*us_control = true;
	}
	bool free_words = false;
	size_t k = i;
	while (k < n) {
		char c = s[k];
		if (is_alnum(c)) {
			size_t w = k;
			bool digit = false, lower = false;
			char up[32];
			while (k < n && is_alnum(s[k])) {
				digit |= is_digit(s[k]);
				lower |= is_lower(s[k]);
				if (k - w < sizeof(up)) {
					up[k - w] = to_upper(s[k]);
				}
				k++;
			}
			size_t wl = k - w;
			if (lower && !ci) {
				return false;
			}
			if (wl > sizeof(up)) {
				return false;
			}
			if (word_in(up, wl, us_controls,
				    LW_ARRAY_SIZE(us_controls)) &&
			    w > 0 && s[w - 1] == '/') {
				*us_control = true;
			}
			if ((wl == 3 && memcmp(up, "REL", 3) == 0) ||
			    (wl == 10 && memcmp(up, "RELEASABLE", 10) == 0)) {
				free_words = true;
				if (wl == 3) {
					*us_control = true;
				}
				continue;
			}
			if (free_words || digit || wl <= 4 ||
			    word_in(up, wl, tail_vocab,
				    LW_ARRAY_SIZE(tail_vocab))) {
				continue;
			}
			return false;
		}
		if (c == ' ' || c == '/' || c == '-' || c == ',' || c == ':' ||
		    c == ';' || c == '(' || c == ')' || c == '[' || c == ']' ||
		    c == '.' || c == '#' || c == '&' || c == '+' || c == '*') {
			k++;
			continue;
		}
		return false; /* quotes, '?' (non-Latin), other symbols */
	}
	return true;
}

/* Optional label before a banner: "CLASSIFICATION: NATO SECRET". */
static size_t
skip_label(const char *s, size_t n)
{
	static const char *const labels[] = {
		"SECURITY CLASSIFICATION", "CLASSIFICATION", "CLASSIFICACAO",
		"CLASSIFICACAO DE SEGURANCA", "GRAU DE CLASSIFICACAO",
	};
	for (size_t l = 0; l < LW_ARRAY_SIZE(labels); l++) {
		size_t j = phrase(s, n, 0, labels[l], true);
		if (!j) {
			continue;
		}
		if (j < n && s[j] == ' ') {
			j++;
		}
		if (j < n && s[j] == ':') {
			j++;
			while (j < n && s[j] == ' ') {
				j++;
			}
			return j;
		}
	}
	return 0;
}

static enum marking_strength
parse_norm(const struct norm *nm, enum marking_mode mode,
	   struct marking_line *out)
{
	const char *s = nm->c;
	size_t n = nm->n;
	size_t base = skip_label(s, n);
	s += base;
	n -= base;
	if (n == 0) {
		return MARKING_STRENGTH_NONE;
	}
	bool meta = mode == MARKING_MODE_METADATA;

	enum marking_scheme scheme = MARKING_SCHEME_NONE;
	enum marking_level level = MARKING_LEVEL_NONE;
	size_t end = 0;
	bool explicit_scheme = false;
	/* Case-sensitive first; metadata gets a second, caseless try that only
	 * accepts forms naming their scheme. */
	for (int pass = 0; pass < (meta ? 2 : 1) && !end; pass++) {
		bool ci = pass == 1;
		enum marking_level lvl;
		size_t j = match_nato(s, n, ci, &lvl);
		if (j) {
			scheme = MARKING_SCHEME_NATO;
			level = lvl;
			end = j;
			explicit_scheme = true;
			break;
		}
		for (size_t f = 0; f < LW_ARRAY_SIZE(forms); f++) {
			if (ci && !forms[f].explicit_scheme) {
				continue;
			}
			j = phrase(s, n, 0, forms[f].pat, ci);
			if (!j) {
				continue;
			}
			scheme = forms[f].scheme;
			level = forms[f].level;
			explicit_scheme = forms[f].explicit_scheme;
			if (scheme == MARKING_SCHEME_EU && forms[f].pat[0] != 'E') {
				j = eu_english_half(s, n, j, ci);
			}
			end = j;
			break;
		}
	}
	if (!end) {
		return MARKING_STRENGTH_NONE;
	}
	bool control;
	if (!tail_ok(s, n, end, meta && explicit_scheme, &control)) {
		return MARKING_STRENGTH_NONE;
	}
	enum marking_strength st = MARKING_STRENGTH_NONE;
	switch (scheme) {
	case MARKING_SCHEME_NATO:
	case MARKING_SCHEME_EU:
		st = MARKING_STRENGTH_STRONG;
		break;
	case MARKING_SCHEME_US:
		st = control ? MARKING_STRENGTH_STRONG : MARKING_STRENGTH_WEAK;
		break;
	case MARKING_SCHEME_PT:
		st = MARKING_STRENGTH_PT;
		break;
	case MARKING_SCHEME_NONE:
		return MARKING_STRENGTH_NONE;
	}
	if (out) {
		out->strength = st;
		out->scheme = scheme;
		out->level = level;
		out->start = nm->off[base];
		out->end = nm->off[nm->n];
	}
	return st;
}

enum marking_strength
marking_parse_line(const char *line, size_t len, enum marking_mode mode,
		   struct marking_line *out)
{
	if (out) {
		*out = (struct marking_line){0};
	}
	if (len > BANNER_MAX * 2) {
		return MARKING_STRENGTH_NONE;
	}
	struct norm nm;
	if (!normalize(line, len, &nm)) {
		return MARKING_STRENGTH_NONE;
	}
	return parse_norm(&nm, mode, out);
}

/* ------------------------------------------------------------------------ */
/* Portion marks                                                             */

static const char *const nato_portions[] = {
	"CTS", "CTSA", "CTS-A", "CTS-B", "CTS-BA", "NS", "NSA", "NSAT",
	"NS-A", "NC", "NCA", "NC-A", "NR", "NU",
};

static enum marking_level
nato_portion_level(const char *c, size_t n)
{
	if (n >= 2 && c[0] == 'C' && c[1] == 'T') {
		return L_TS;
	}
	switch (c[1]) {
	case 'S':
		return L_S;
	case 'C':
		return L_C;
	case 'R':
		return L_R;
	case 'U':
		return L_U;
	}
	return MARKING_LEVEL_NONE;
}

static enum marking_level
us_letter_level(const char *c, size_t n)
{
	if (n == 2 && c[0] == 'T' && c[1] == 'S') {
		return L_TS;
	}
	if (n == 1) {
		switch (c[0]) {
		case 'S':
			return L_S;
		case 'C':
			return L_C;
		case 'U':
			return L_U;
		}
	}
	return MARKING_LEVEL_NONE;
}

/* EU portion forms: TS-UE/EU-TS, S-UE/EU-S, ... or either half alone. */
static enum marking_level
eu_portion_level(const char *c, size_t n)
{
	static const struct {
		const char *code;
		enum marking_level level;
	} eu[] = {
		{"TS-UE/EU-TS", L_TS}, {"S-UE/EU-S", L_S}, {"C-UE/EU-C", L_C},
		{"R-UE/EU-R", L_R},    {"TS-UE", L_TS},    {"S-UE", L_S},
		{"C-UE", L_C},         {"R-UE", L_R},      {"EU-TS", L_TS},
		{"EU-S", L_S},         {"EU-C", L_C},      {"EU-R", L_R},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(eu); i++) {
		if (strlen(eu[i].code) == n && memcmp(eu[i].code, c, n) == 0) {
			return eu[i].level;
		}
	}
	return MARKING_LEVEL_NONE;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\r';
}

/* Skips a paragraph number: "1.", "2.3", "2.3.", "a.", "(1)", "(a)", "1)". */
static size_t
skip_para_number(const char *s, size_t n, size_t i)
{
	size_t k = i;
	if (k < n && is_digit(s[k])) {
		while (k < n && (is_digit(s[k]) || s[k] == '.')) {
			k++;
		}
		if (k < n && s[k] == ')') {
			k++;
		}
	} else if (k + 1 < n && is_lower(s[k]) && (s[k + 1] == '.' ||
						   s[k + 1] == ')')) {
		k += 2;
	} else if (k + 2 < n && s[k] == '(' && (is_digit(s[k + 1]) ||
						is_lower(s[k + 1]))) {
		size_t j = k + 1;
		while (j < n && j - k < 5 && (is_digit(s[j]) || is_lower(s[j]))) {
			j++;
		}
		if (j < n && s[j] == ')') {
			k = j + 1;
		}
	}
	if (k == i) {
		return i;
	}
	while (k < n && is_blank(s[k])) {
		k++;
	}
	return k;
}

enum marking_strength
marking_parse_portion(const char *line, size_t len, struct marking_line *out)
{
	if (out) {
		*out = (struct marking_line){0};
	}
	size_t i = 0;
	while (i < len && is_blank(line[i])) {
		i++;
	}
	i = skip_para_number(line, len, i);
	if (i >= len || line[i] != '(') {
		return MARKING_STRENGTH_NONE;
	}
	size_t cs = i + 1, ce = cs;
	while (ce < len && ce - cs < 48 && line[ce] != ')') {
		if (is_lower(line[ce]) || line[ce] == '(' || line[ce] == '\t') {
			return MARKING_STRENGTH_NONE;
		}
		ce++;
	}
	if (ce >= len || line[ce] != ')' || ce == cs) {
		return MARKING_STRENGTH_NONE;
	}
	/* What follows: a blank, then the start of a sentence. */
	size_t k = ce + 1;
	if (k >= len || !is_blank(line[k])) {
		return MARKING_STRENGTH_NONE;
	}
	while (k < len && is_blank(line[k])) {
		k++;
	}
	if (k >= len) {
		return MARKING_STRENGTH_NONE;
	}
	char next = line[k];
	bool sentence = is_upper(next) || is_digit(next) || next == '"' ||
			next == '\'' || (unsigned char)next >= 0xC0;

	const char *c = line + cs;
	size_t cn = ce - cs;
	enum marking_scheme scheme = MARKING_SCHEME_NONE;
	enum marking_level level = MARKING_LEVEL_NONE;
	enum marking_strength st = MARKING_STRENGTH_NONE;

	const char *dbl = memmem(c, cn, "//", 2);
	size_t head = dbl ? (size_t)(dbl - c) : cn;
	if (head == 0 && dbl) {
		/* CAPCO foreign form: (//NS), (//CTS REL ...) */
		size_t w = 2;
		while (w < cn && is_upper(c[w])) {
			w++;
		}
		if (word_in(c + 2, w - 2, nato_portions,
			    LW_ARRAY_SIZE(nato_portions))) {
			scheme = MARKING_SCHEME_NATO;
			level = nato_portion_level(c + 2, w - 2);
			st = MARKING_STRENGTH_STRONG;
		}
	} else if (!dbl && word_in(c, cn, nato_portions,
				   LW_ARRAY_SIZE(nato_portions))) {
		scheme = MARKING_SCHEME_NATO;
		level = nato_portion_level(c, cn);
		st = MARKING_STRENGTH_STRONG;
	} else if (!dbl && (level = eu_portion_level(c, cn))) {
		scheme = MARKING_SCHEME_EU;
		st = MARKING_STRENGTH_STRONG;
	} else if ((level = us_letter_level(c, head))) {
		scheme = MARKING_SCHEME_US;
		if (dbl) {
			/* Control markings must look like them: upper case,
			 * digits, spaces, commas, slashes, dashes. */
			for (size_t q = head; q < cn; q++) {
				char x = c[q];
				if (!(is_upper(x) || is_digit(x) || x == ' ' ||
				      x == ',' || x == '/' || x == '-')) {
					return MARKING_STRENGTH_NONE;
				}
			}
			if (cn - head <= 2) {
				return MARKING_STRENGTH_NONE;
			}
			st = MARKING_STRENGTH_STRONG;
		} else {
			/* (C) 2024 ..., (S) small: a bare letter must be
			 * followed by a capitalised word. */
			if (!is_upper(next)) {
				return MARKING_STRENGTH_NONE;
			}
			st = MARKING_STRENGTH_WEAK;
		}
	}
	if (st == MARKING_STRENGTH_NONE || !sentence) {
		return MARKING_STRENGTH_NONE;
	}
	if (out) {
		out->strength = st;
		out->scheme = scheme;
		out->level = level;
		out->start = cs - 1;
		out->end = ce + 1;
	}
	return st;
}

/* ------------------------------------------------------------------------ */
/* Document scan                                                             */

struct best {
	enum marking_level level;
	enum marking_source source;
	const char *p; /* the marking as found, in the document's text */
	size_t len;
};

struct scan {
	struct best nato, eu, us_strong, pt;
	struct best us_weak_top, us_weak_bottom, us_weak_meta;
	struct best nato_portion, eu_portion, us_portion_strong;
	struct best us_portion_weak; /* highest of (TS) (S) (C) */
	unsigned n_us_portion_weak;  /* incl. (U) */
	bool size_labels;            /* (M)/(L)/(XL): (S) is a T-shirt size */
	bool cab_classified_by, cab_derived_from, cab_declassify_on;
};

static void
best_put(struct best *b, enum marking_level level, enum marking_source src,
	 const char *p, size_t len)
{
	if (level > b->level) {
		b->level = level;
		b->source = src;
		b->p = p;
		b->len = len;
	}
}

enum pos {
	POS_TOP,
	POS_BOTTOM,
	POS_META,
};

/* Records one parsed banner. */
static void
record(struct scan *sc, const struct marking_line *ml, const char *line,
       enum marking_source src, enum pos pos)
{
	const char *p = line + ml->start;
	size_t len = ml->end - ml->start;
	switch (ml->strength) {
	case MARKING_STRENGTH_NONE:
		return;
	case MARKING_STRENGTH_STRONG:
		switch (ml->scheme) {
		case MARKING_SCHEME_NATO:
			best_put(&sc->nato, ml->level, src, p, len);
			return;
		case MARKING_SCHEME_EU:
			best_put(&sc->eu, ml->level, src, p, len);
			return;
		case MARKING_SCHEME_US:
			best_put(&sc->us_strong, ml->level, src, p, len);
			return;
		case MARKING_SCHEME_PT:
		case MARKING_SCHEME_NONE:
			return;
		}
		return;
	case MARKING_STRENGTH_WEAK:
		switch (pos) {
		case POS_TOP:
			best_put(&sc->us_weak_top, ml->level, src, p, len);
			return;
		case POS_BOTTOM:
			best_put(&sc->us_weak_bottom, ml->level, src, p, len);
			return;
		case POS_META:
			best_put(&sc->us_weak_meta, ml->level, src, p, len);
			return;
		}
		return;
	case MARKING_STRENGTH_PT:
		best_put(&sc->pt, ml->level, src, p, len);
		return;
	}
}

static bool
parse_and_record(struct scan *sc, const char *line, size_t len,
		 enum marking_mode mode, enum marking_source src, enum pos pos)
{
	struct marking_line ml;
	if (marking_parse_line(line, len, mode, &ml) == MARKING_STRENGTH_NONE) {
		return false;
	}
	record(sc, &ml, line, src, pos);
	return true;
}

/* Lines that are not content at a page edge: rules, boxes, page numbers. */
static bool
is_filler(const char *s, size_t len)
{
	if (len > 64) {
		return false;
	}
	size_t i = 0;
	while (i < len) {
		char c = s[i];
		if (is_deco(c) || c == '\t' || c == '/' || is_digit(c) ||
		    c == '\r') {
			i++;
			continue;
		}
		if (is_alpha(c)) {
			size_t w = i;
			while (i < len && is_alpha(s[i])) {
				i++;
			}
			size_t wl = i - w;
			char up[8] = {0};
			if (wl >= sizeof(up)) {
				return false;
			}
			for (size_t q = 0; q < wl; q++) {
				up[q] = to_upper(s[w + q]);
			}
			if (strcmp(up, "PAGE") && strcmp(up, "OF") &&
			    strcmp(up, "PAGINA") && strcmp(up, "PAG") &&
			    strcmp(up, "DE") && strcmp(up, "P")) {
				return false;
			}
			continue;
		}
		if ((unsigned char)c == 0xC3 && i + 1 < len) {
			i += 2; /* Página */
			continue;
		}
		return false;
	}
	return true;
}

static bool
prefix_ci(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	if (n < k) {
		return false;
	}
	for (size_t i = 0; i < k; i++) {
		if (to_upper(s[i]) != to_upper(pre[i])) {
			return false;
		}
	}
	return true;
}

/* "Classified By:", "Derived From:", "Declassify On:" at a line start. */
static void
check_cab(struct scan *sc, const char *s, size_t n)
{
	static const struct {
		const char *label;
		int which;
	} cab[] = {
		{"classified by", 0},
		{"classification authority", 0},
		{"derived from", 1},
		{"declassify on", 2},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(cab); i++) {
		if (!prefix_ci(s, n, cab[i].label)) {
			continue;
		}
		size_t k = strlen(cab[i].label);
		while (k < n && s[k] == ' ') {
			k++;
		}
		if (k >= n || s[k] != ':') {
			return;
		}
		k++;
		while (k < n && is_blank(s[k])) {
			k++;
		}
		if (k >= n) {
			return; /* a label with nothing after it is a form */
		}
		switch (cab[i].which) {
		case 0:
			sc->cab_classified_by = true;
			break;
		case 1:
			sc->cab_derived_from = true;
			break;
		case 2:
			sc->cab_declassify_on = true;
			break;
		}
		return;
	}
}

static void
check_portion(struct scan *sc, const char *s, size_t n)
{
	struct marking_line ml;
	enum marking_strength st = marking_parse_portion(s, n, &ml);
	const char *p = s + ml.start;
	size_t len = ml.end - ml.start;
	switch (st) {
	case MARKING_STRENGTH_NONE:
	case MARKING_STRENGTH_PT:
		if (n >= 4 && s[0] == '(' &&
		    (!memcmp(s, "(M)", 3) || !memcmp(s, "(L)", 3) ||
		     !memcmp(s, "(XL)", 4) || !memcmp(s, "(XS)", 4))) {
			sc->size_labels = true;
		}
		return;
	case MARKING_STRENGTH_STRONG:
		switch (ml.scheme) {
		case MARKING_SCHEME_NATO:
			best_put(&sc->nato_portion, ml.level,
				 MARKING_SOURCE_PORTION, p, len);
			return;
		case MARKING_SCHEME_EU:
			best_put(&sc->eu_portion, ml.level,
				 MARKING_SOURCE_PORTION, p, len);
			return;
		case MARKING_SCHEME_US:
			if (ml.level > L_U) {
				best_put(&sc->us_portion_strong, ml.level,
					 MARKING_SOURCE_PORTION, p, len);
			} else {
				sc->n_us_portion_weak++;
			}
			return;
		case MARKING_SCHEME_PT:
		case MARKING_SCHEME_NONE:
			return;
		}
		return;
	case MARKING_STRENGTH_WEAK:
		sc->n_us_portion_weak++;
		if (ml.level > L_U) {
			best_put(&sc->us_portion_weak, ml.level,
				 MARKING_SOURCE_PORTION, p, len);
		}
		return;
	}
}

/* Keeps the last few non-empty lines of a page for the bottom banner. */
#define RING 4
struct page {
	bool top_done;
	const char *top; /* the line taken as the top banner position */
	const char *ring_p[RING];
	size_t ring_n[RING];
	unsigned ring_len, ring_head;
	/* paragraph-start state */
	bool prev_blank;
	size_t prev_len;
	char prev_last;
};

static void
page_reset(struct page *pg)
{
	*pg = (struct page){.prev_blank = true};
}

static void
page_end(struct scan *sc, struct page *pg)
{
	for (unsigned k = 0; k < pg->ring_len; k++) {
		unsigned idx = (pg->ring_head + RING - 1 - k) % RING;
		const char *p = pg->ring_p[idx];
		size_t n = pg->ring_n[idx];
		if (is_filler(p, n)) {
			continue;
		}
		if (p != pg->top) {
			parse_and_record(sc, p, n, MARKING_MODE_LINE,
					 MARKING_SOURCE_BANNER, POS_BOTTOM);
		}
		break;
	}
	page_reset(pg);
}

static bool
ends_paragraph(char c)
{
	return c == '.' || c == ':' || c == ';' || c == '!' || c == '?' ||
	       c == ')' || c == '"' || c == '\'';
}

/* One line of a BODY (banners) or AUX (no banners) segment. */
static void
body_line(struct scan *sc, struct page *pg, const char *s, size_t n,
	  bool banners)
{
	while (n > 0 && is_blank(s[n - 1])) {
		n--;
	}
	size_t i = 0;
	while (i < n && is_blank(s[i])) {
		i++;
	}
	if (i == n) {
		pg->prev_blank = true;
		return;
	}
	const char *t = s + i;
	size_t tn = n - i;

	if (banners) {
		if (!pg->top_done && !is_filler(t, tn)) {
			pg->top_done = true;
			pg->top = t;
			parse_and_record(sc, t, tn, MARKING_MODE_LINE,
					 MARKING_SOURCE_BANNER, POS_TOP);
		}
		pg->ring_p[pg->ring_head] = t;
		pg->ring_n[pg->ring_head] = tn;
		pg->ring_head = (pg->ring_head + 1) % RING;
		if (pg->ring_len < RING) {
			pg->ring_len++;
		}
	}

	char c0 = t[0];
	bool para_start = pg->prev_blank || pg->prev_len <= HEADING_MAX ||
			  ends_paragraph(pg->prev_last);
	if (para_start && (c0 == '(' || is_digit(c0) || is_lower(c0))) {
		check_portion(sc, t, tn);
	}
	if (c0 == 'C' || c0 == 'c' || c0 == 'D' || c0 == 'd') {
		check_cab(sc, t, tn);
	}
	pg->prev_blank = false;
	pg->prev_len = tn;
	pg->prev_last = t[tn - 1];
}

static void
scan_body(struct scan *sc, const struct text_segment *seg, bool banners)
{
	const char *p = seg->text, *end = seg->text + seg->len;
	bool has_ff = memchr(p, '\f', seg->len) != NULL;
	struct page pg;
	page_reset(&pg);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *ff = has_ff ? memchr(p, '\f', (size_t)(le - p)) : NULL;
		if (ff) {
			body_line(sc, &pg, p, (size_t)(ff - p), banners);
			if (banners) {
				page_end(sc, &pg);
			}
			p = ff + 1;
			continue;
		}
		body_line(sc, &pg, p, (size_t)(le - p), banners);
		p = le + 1;
	}
	if (banners) {
		page_end(sc, &pg);
	}
}

/* Header/footer: a line, or a field of it (tabs, runs of spaces, " | ",
 * spreadsheet &L/&C/&R codes), holding a marking. */
static void
scan_header_footer(struct scan *sc, const struct text_segment *seg,
		   enum pos pos)
{
	const char *p = seg->text, *end = seg->text + seg->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (n > 0 && n <= BANNER_MAX * 2 &&
		    !parse_and_record(sc, p, n, MARKING_MODE_LINE,
				      MARKING_SOURCE_HEADER_FOOTER, pos)) {
			size_t fs = 0;
			for (size_t i = 0; i <= n; i++) {
				bool cut = i == n || p[i] == '\t' || p[i] == '\f' ||
					   (p[i] == ' ' && i + 1 < n &&
					    p[i + 1] == ' ') ||
					   p[i] == '|' ||
					   (p[i] == '&' && i + 1 < n &&
					    (p[i + 1] == 'L' || p[i + 1] == 'C' ||
					     p[i + 1] == 'R'));
				if (!cut) {
					continue;
				}
				if (i > fs) {
					parse_and_record(
						sc, p + fs, i - fs,
						MARKING_MODE_LINE,
						MARKING_SOURCE_HEADER_FOOTER, pos);
				}
				if (i < n && p[i] == '&') {
					i++;
				}
				fs = i + 1;
			}
		}
		p = le + 1;
	}
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                  */

static bool
ci_contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++) {
		if (prefix_ci(s + i, n - i, needle)) {
			return true;
		}
	}
	return false;
}

static bool
ci_ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && prefix_ci(s + n - k, k, suffix);
}

/* Property name without an XML namespace prefix ("pdfx:MSIP_..."). */
static void
bare_name(const char *name, const char **out, size_t *out_len)
{
	const char *c = strrchr(name, ':');
	*out = c ? c + 1 : name;
	*out_len = strlen(*out);
}

static bool
value_true(const char *v, size_t n)
{
	while (n > 0 && is_blank(v[0])) {
		v++;
		n--;
	}
	while (n > 0 && (is_blank(v[n - 1]) || v[n - 1] == '\n')) {
		n--;
	}
	return (n == 4 && prefix_ci(v, n, "true")) || (n == 1 && v[0] == '1');
}

/* MSIP label key/value pairs, from properties or an msip_labels header. */
struct kv {
	const char *k, *v;
	size_t kn, vn;
};

static void
msip_labels(struct scan *sc, const struct kv *kv, size_t n)
{
	static const char pre[] = "MSIP_Label_";
	const size_t pl = sizeof(pre) - 1;
	for (size_t i = 0; i < n; i++) {
		if (!prefix_ci(kv[i].k, kv[i].kn, pre) ||
		    !ci_ends(kv[i].k, kv[i].kn, "_Name")) {
			continue;
		}
		size_t stem = kv[i].kn - 5; /* "MSIP_Label_<GUID>" */
		if (stem <= pl) {
			continue;
		}
		bool enabled = false;
		for (size_t j = 0; j < n && !enabled; j++) {
			if (kv[j].kn == stem + 8 &&
			    !strncasecmp(kv[j].k, kv[i].k, stem) &&
			    ci_ends(kv[j].k, kv[j].kn, "_Enabled") &&
			    value_true(kv[j].v, kv[j].vn)) {
				enabled = true;
			}
		}
		if (enabled) {
			parse_and_record(sc, kv[i].v, kv[i].vn,
					 MARKING_MODE_METADATA,
					 MARKING_SOURCE_METADATA, POS_META);
		}
	}
}

/* "MSIP_Label_x_Enabled=True; MSIP_Label_x_Name=NATO SECRET; ..." */
static size_t
split_kv(const char *s, size_t n, struct kv *kv, size_t max)
{
	size_t count = 0, i = 0;
	while (i < n && count < max) {
		while (i < n && (is_blank(s[i]) || s[i] == '\n' || s[i] == ';')) {
			i++;
		}
		size_t ks = i;
		while (i < n && s[i] != '=' && s[i] != ';') {
			i++;
		}
		if (i >= n || s[i] != '=') {
			continue;
		}
		size_t ke = i++;
		size_t vs = i;
		while (i < n && s[i] != ';') {
			i++;
		}
		kv[count++] = (struct kv){s + ks, s + vs, ke - ks, i - vs};
	}
	return count;
}

static bool
name_is_classification(const char *nm, size_t n)
{
	return ci_contains(nm, n, "classification") ||
	       ci_ends(nm, n, "SecurityLabel") ||
	       ci_contains(nm, n, "classificacao") ||
	       ci_contains(nm, n, "classificação");
}

static void
scan_metadata(struct scan *sc, const struct text_doc *doc)
{
	size_t nseg = text_doc_count(doc);
	size_t nkv = 0, cap = 0;
	struct kv *kv = NULL;
	for (size_t i = 0; i < nseg; i++) {
		const struct text_segment *seg = text_doc_segment(doc, i);
		if (seg->kind != TEXT_KIND_PROPERTY &&
		    seg->kind != TEXT_KIND_MAIL_HEADER) {
			continue;
		}
		const char *nm;
		size_t nn;
		bare_name(seg->name, &nm, &nn);
		if (seg->kind == TEXT_KIND_MAIL_HEADER &&
		    ci_contains(nm, nn, "msip_labels")) {
			struct kv tmp[32];
			size_t t = split_kv(seg->text, seg->len, tmp, 32);
			msip_labels(sc, tmp, t);
			continue;
		}
		if (prefix_ci(nm, nn, "MSIP_Label_")) {
			if (nkv == cap) {
				cap = cap ? cap * 2 : 16;
				kv = lw_realloc(kv, cap * sizeof(*kv));
			}
			kv[nkv++] = (struct kv){nm, seg->text, nn, seg->len};
			continue;
		}
		if (name_is_classification(nm, nn)) {
			parse_and_record(sc, seg->text, seg->len,
					 MARKING_MODE_METADATA,
					 MARKING_SOURCE_METADATA, POS_META);
		}
	}
	if (nkv) {
		msip_labels(sc, kv, nkv);
	}
	free(kv);
}

/* ------------------------------------------------------------------------ */
/* Portuguese prose                                                          */

/* Counts function words of Portuguese, Spanish and English in the first
 * 32 KiB of running text. Only called when a Portuguese marking was seen. */
static bool
looks_portuguese(const struct text_doc *doc)
{
	static const char *const pt[] = {
		"nao", "sao", "da", "do", "das", "dos", "pelo", "pela", "ao",
		"aos", "uma", "com", "em", "na", "no", "nas", "foi", "sera",
		"esta", "este", "seu", "sua", "sobre", "ate", "tambem", "os",
		"deve", "devem", "foram", "pelos", "pelas", "entre",
	};
	static const char *const es[] = {
		"el", "los", "del", "las", "y", "es", "por", "con", "una",
		"muy", "fue", "sus", "hay", "pero", "tambien", "entre",
	};
	static const char *const en[] = {
		"the", "and", "of", "to", "is", "in", "for", "with", "that",
		"are", "was", "be", "on", "by", "this", "will",
	};
	size_t hits_pt = 0, hits_es = 0, hits_en = 0, words = 0, budget = 32768;
	size_t nseg = text_doc_count(doc);
	for (size_t si = 0; si < nseg && budget; si++) {
		const struct text_segment *seg = text_doc_segment(doc, si);
		if (seg->kind == TEXT_KIND_PROPERTY ||
		    seg->kind == TEXT_KIND_MAIL_HEADER) {
			continue;
		}
		size_t lim = seg->len < budget ? seg->len : budget;
		budget -= lim;
		const char *s = seg->text;
		for (size_t i = 0; i < lim;) {
			char w[16];
			size_t wl = 0;
			bool over = false;
			while (i < lim) {
				unsigned char c = (unsigned char)s[i];
				char f;
				if (c < 0x80) {
					if (!is_alpha((char)c)) {
						break;
					}
					f = (char)(c | 0x20);
					i++;
				} else if (c == 0xC3 && i + 1 < lim) {
					uint32_t cp = 0xC0 + ((unsigned char)s[i + 1] & 0x3F);
					f = (char)(latin1_fold[cp - 0xC0] | 0x20);
					if (cp == 0xE3 || cp == 0xE7 || cp == 0xF5 ||
					    cp == 0xC3 || cp == 0xC7 || cp == 0xD5) {
						hits_pt++; /* ã ç õ */
					}
					if (cp == 0xF1 || cp == 0xD1) {
						hits_es++; /* ñ */
					}
					i += 2;
				} else {
					break;
				}
				if (wl < sizeof(w)) {
					w[wl++] = f;
				} else {
					over = true;
				}
			}
			if (wl == 0) {
				i++;
				continue;
			}
			words++;
			if (over) {
				continue;
			}
			if (word_in(w, wl, pt, LW_ARRAY_SIZE(pt))) {
				hits_pt++;
			} else if (word_in(w, wl, es, LW_ARRAY_SIZE(es))) {
				hits_es++;
			} else if (word_in(w, wl, en, LW_ARRAY_SIZE(en))) {
				hits_en++;
			}
		}
	}
	if (words < 12) {
		return true; /* too little prose to say it is not Portuguese */
	}
	return hits_pt >= 3 && hits_pt > 2 * hits_es && hits_pt > hits_en;
}

/* ------------------------------------------------------------------------ */

static void
take(struct marking_result *out, enum marking_scheme scheme,
     const struct best *b)
{
	out->scheme = scheme;
	out->level = b->level;
	out->source = b->source;
	size_t n = b->len < MARKING_FOUND_MAX - 1 ? b->len : MARKING_FOUND_MAX - 1;
	/* Cut on a UTF-8 character boundary. */
	while (n > 0 && n < b->len && ((unsigned char)b->p[n] & 0xC0) == 0x80) {
		n--;
	}
	memcpy(out->found, b->p, n);
	out->found[n] = '\0';
}

static const struct best *
max_best(const struct best *a, const struct best *b)
{
	return b->level > a->level ? b : a;
}

int
marking_detect(const struct text_doc *doc, struct marking_result *out)
{
	struct scan sc = {0};
	*out = (struct marking_result){0};
	size_t nseg = text_doc_count(doc);
	for (size_t i = 0; i < nseg; i++) {
		const struct text_segment *seg = text_doc_segment(doc, i);
		switch (seg->kind) {
		case TEXT_KIND_BODY:
			scan_body(&sc, seg, true);
			break;
		case TEXT_KIND_AUX:
			scan_body(&sc, seg, false);
			break;
		case TEXT_KIND_HEADER:
			scan_header_footer(&sc, seg, POS_TOP);
			break;
		case TEXT_KIND_FOOTER:
			scan_header_footer(&sc, seg, POS_BOTTOM);
			break;
		case TEXT_KIND_PROPERTY:
		case TEXT_KIND_MAIL_HEADER:
			break;
		}
	}
	scan_metadata(&sc, doc);

	/* US: bare banners need corroboration. */
	bool cab = sc.cab_classified_by &&
		   (sc.cab_derived_from || sc.cab_declassify_on);
	unsigned weak_portions = sc.size_labels ? 0 : sc.n_us_portion_weak;
	bool pair = sc.us_weak_top.level && sc.us_weak_bottom.level;
	bool corroborated = pair || cab || weak_portions >= 2 ||
			    sc.us_portion_strong.level || sc.us_strong.level;
	struct best us = sc.us_strong;
	us = *max_best(&us, &sc.us_portion_strong);
	if (corroborated) {
		us = *max_best(&us, &sc.us_weak_top);
		us = *max_best(&us, &sc.us_weak_bottom);
		us = *max_best(&us, &sc.us_weak_meta);
	}
	bool us_banner = sc.us_strong.level ||
			 (corroborated && (sc.us_weak_top.level ||
					   sc.us_weak_bottom.level ||
					   sc.us_weak_meta.level));
	if (us_banner) {
		us = *max_best(&us, &sc.us_portion_weak);
	}

	struct best nato = *max_best(&sc.nato, &sc.nato_portion);
	struct best eu = *max_best(&sc.eu, &sc.eu_portion);
	struct best pt = {0};
	if (sc.pt.level && looks_portuguese(doc)) {
		pt = sc.pt;
	}

	/* Highest level wins; ties go NATO, EU, US, PT. */
	const struct {
		enum marking_scheme scheme;
		const struct best *b;
	} order[] = {
		{MARKING_SCHEME_NATO, &nato},
		{MARKING_SCHEME_EU, &eu},
		{MARKING_SCHEME_US, &us},
		{MARKING_SCHEME_PT, &pt},
	};
	size_t win = SIZE_MAX;
	for (size_t i = 0; i < LW_ARRAY_SIZE(order); i++) {
		if (order[i].b->level == MARKING_LEVEL_NONE) {
			continue;
		}
		if (win == SIZE_MAX || order[i].b->level > order[win].b->level) {
			win = i;
		}
	}
	if (win == SIZE_MAX) {
		return 0;
	}
	take(out, order[win].scheme, order[win].b);
	return 1;
}

const char *
marking_scheme_name(enum marking_scheme scheme)
{
	switch (scheme) {
	case MARKING_SCHEME_NONE:
		return "";
	case MARKING_SCHEME_NATO:
		return "NATO";
	case MARKING_SCHEME_EU:
		return "EU";
	case MARKING_SCHEME_US:
		return "US";
	case MARKING_SCHEME_PT:
		return "PT";
	}
	return "";
}

const char *
marking_level_name(enum marking_level level)
{
	switch (level) {
	case MARKING_LEVEL_NONE:
		return "";
	case MARKING_LEVEL_UNCLASSIFIED:
		return "UNCLASSIFIED";
	case MARKING_LEVEL_RESTRICTED:
		return "RESTRICTED";
	case MARKING_LEVEL_CONFIDENTIAL:
		return "CONFIDENTIAL";
	case MARKING_LEVEL_SECRET:
		return "SECRET";
	case MARKING_LEVEL_TOP_SECRET:
		return "TOP SECRET";
	}
	return "";
}

const char *
marking_source_name(enum marking_source source)
{
	switch (source) {
	case MARKING_SOURCE_BANNER:
		return "banner";
	case MARKING_SOURCE_HEADER_FOOTER:
		return "header-footer";
	case MARKING_SOURCE_METADATA:
		return "metadata";
	case MARKING_SOURCE_RAW:
		return "raw";
	case MARKING_SOURCE_PORTION:
		return "portion";
	}
	return "";
}

/* --- raw scan of binary content (see marking.h) ------------------------ */

static const struct {
	const char *s;
	enum marking_scheme scheme;
	enum marking_level level;
} raw_forms[] = {
	{"COSMIC TOP SECRET", MARKING_SCHEME_NATO, MARKING_LEVEL_TOP_SECRET},
	{"NATO SECRET", MARKING_SCHEME_NATO, MARKING_LEVEL_SECRET},
	{"NATO CONFIDENTIAL", MARKING_SCHEME_NATO, MARKING_LEVEL_CONFIDENTIAL},
	{"NATO RESTRICTED", MARKING_SCHEME_NATO, MARKING_LEVEL_RESTRICTED},
	{"NATO UNCLASSIFIED", MARKING_SCHEME_NATO, MARKING_LEVEL_UNCLASSIFIED},
	{"TRES SECRET UE", MARKING_SCHEME_EU, MARKING_LEVEL_TOP_SECRET},
	{"EU TOP SECRET", MARKING_SCHEME_EU, MARKING_LEVEL_TOP_SECRET},
	{"SECRET UE", MARKING_SCHEME_EU, MARKING_LEVEL_SECRET},
	{"CONFIDENTIEL UE", MARKING_SCHEME_EU, MARKING_LEVEL_CONFIDENTIAL},
	{"EU CONFIDENTIAL", MARKING_SCHEME_EU, MARKING_LEVEL_CONFIDENTIAL},
	{"RESTREINT UE", MARKING_SCHEME_EU, MARKING_LEVEL_RESTRICTED},
	{"EU RESTRICTED", MARKING_SCHEME_EU, MARKING_LEVEL_RESTRICTED},
	{"TOP SECRET//", MARKING_SCHEME_US, MARKING_LEVEL_TOP_SECRET},
	{"SECRET//", MARKING_SCHEME_US, MARKING_LEVEL_SECRET},
	{"CONFIDENTIAL//", MARKING_SCHEME_US, MARKING_LEVEL_CONFIDENTIAL},
};

static void
raw_hit(struct marking_result *out, size_t i)
{
	if (out->scheme != MARKING_SCHEME_NONE && raw_forms[i].level <= out->level) {
		return;
	}
	out->scheme = raw_forms[i].scheme;
	out->level = raw_forms[i].level;
	out->source = MARKING_SOURCE_RAW;
	size_t n = strlen(raw_forms[i].s);
	/* "SECRET//" alone says little: report the form, not a cut caveat */
	if (raw_forms[i].s[n - 1] == '/') {
		n -= 2;
	}
	memcpy(out->found, raw_forms[i].s, n);
	out->found[n] = '\0';
}

/* Every form contains one of these anchors: a pass per anchor (memmem is
 * vectorised) and a check of the forms around each hit, instead of a pass
 * per form: 4 passes per encoding rather than 15. */
static const char *const raw_anchors[] = {"SECRET", "CONFIDENTI", "RESTR", "UNCLASSIFIED"};

/* Checks every form containing anchor @a around an anchor hit at @hit
 * (@unit 1: ASCII, 2: UTF-16LE). */
static void
raw_verify(const unsigned char *p, size_t len, const unsigned char *hit, size_t a,
	   size_t unit, struct marking_result *out)
{
	for (size_t i = 0; i < sizeof(raw_forms) / sizeof(raw_forms[0]); i++) {
		const char *f = raw_forms[i].s;
		const char *at = strstr(f, raw_anchors[a]);
		if (!at || (out->scheme != MARKING_SCHEME_NONE && raw_forms[i].level <= out->level)) {
			continue;
		}
		size_t before = (size_t)(at - f) * unit, flen = strlen(f);
		if ((size_t)(hit - p) < before || (size_t)(hit - p) - before + flen * unit > len) {
			continue;
		}
		const unsigned char *start = hit - before;
		bool same = true;
		for (size_t j = 0; j < flen && same; j++) {
			same = start[j * unit] == (unsigned char)f[j] &&
			       (unit == 1 || start[j * unit + 1] == 0);
		}
		if (same) {
			raw_hit(out, i);
		}
	}
}

/* Each anchor holds one of two letter pairs, "RE" (SECRET, RESTR) or "FI"
 * (CONFIDENTI, UNCLASSIFIED): one pass finds the pair's first letter 16
 * bytes at a time, and the rare places where the pair follows, in ASCII or
 * UTF-16LE, are checked against the anchors and their forms. That is one
 * pass over a binary file instead of eight memmem passes (an anchor per
 * encoding). */
static const struct {
	char pair[3];
	size_t anchor; /* raw_anchors index */
	size_t at;     /* where the pair sits in the anchor */
} raw_pairs[] = {
	{"RE", 0, 3}, /* SECRET */
	{"RE", 2, 0}, /* RESTR */
	{"FI", 1, 3}, /* CONFIDENTI */
	{"FI", 3, 8}, /* UNCLASSIFIED */
};

/* @i holds 'R' or 'F'. */
static void
raw_candidate(const unsigned char *p, size_t len, size_t i, struct marking_result *out)
{
	char second = p[i] == 'R' ? 'E' : 'I';
	for (size_t unit = 1; unit <= 2 && i + unit < len; unit++) {
		if (unit == 2 && p[i + 1] != 0) {
			break;
		}
		if (p[i + unit] != (unsigned char)second) {
			continue;
		}
		for (size_t k = 0; k < LW_ARRAY_SIZE(raw_pairs); k++) {
			size_t back = raw_pairs[k].at * unit;
			if (raw_pairs[k].pair[0] == (char)p[i] && i >= back) {
				raw_verify(p, len, p + i - back, raw_pairs[k].anchor, unit, out);
			}
		}
	}
}

static void
raw_scan(const unsigned char *p, size_t len, struct marking_result *out)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i r = _mm_set1_epi8('R'), f = _mm_set1_epi8('F');
	for (; len - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, r), _mm_cmpeq_epi8(v, f)));
		while (m) {
			raw_candidate(p, len, i + (size_t)__builtin_ctz(m), out);
			m &= m - 1;
		}
	}
#endif
	for (; i < len; i++) {
		if (p[i] == 'R' || p[i] == 'F') {
			raw_candidate(p, len, i, out);
		}
	}
}

int
marking_scan_raw(struct marking_raw_state *state, const void *buf, size_t len,
		 struct marking_result *out)
{
	const unsigned char *p = buf;
	/* forms cut by a chunk boundary: the old tail plus the new head */
	if (state->tail_len) {
		unsigned char seam[128];
		size_t head = len < 64 ? len : 64;
		memcpy(seam, state->tail, state->tail_len);
		memcpy(seam + state->tail_len, p, head);
		raw_scan(seam, state->tail_len + head, out);
	}
	raw_scan(p, len, out);
	size_t keep = len < sizeof(state->tail) ? len : sizeof(state->tail);
	if (len < sizeof(state->tail) && state->tail_len + len <= sizeof(state->tail)) {
		memcpy(state->tail + state->tail_len, p, len);
		state->tail_len += len;
	} else {
		memcpy(state->tail, p + len - keep, keep);
		state->tail_len = keep;
	}
	return out->scheme != MARKING_SCHEME_NONE;
}
