/* prose.h — deterministic pseudo-prose for the match tests and benchmark.
 *
 * Sentences of 8 to 24 words drawn from one fixed vocabulary of defence and
 * administration words (so every generated document is "on the same
 * topic"), paragraphs of 3 to 7 sentences separated by blank lines. A seed
 * selects the text; the same seed gives the same text. Header-only: static
 * functions, included by each test program. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

static const char *const prose_words[] = {
	"the", "of", "and", "to", "in", "for", "with", "on", "by", "from",
	"at", "as", "that", "which", "under", "within", "between", "through",
	"national", "authorities", "commander", "forces", "logistic",
	"maritime", "patrol", "aircraft", "readiness", "deployment", "staff",
	"division", "planning", "board", "capability", "sensor", "coverage",
	"operating", "area", "exercise", "brigade", "battalion", "support",
	"command", "control", "communications", "information", "systems",
	"security", "assessment", "requirement", "procedure", "review",
	"report", "annex", "directive", "allied", "joint", "headquarters",
	"liaison", "officer", "medical", "evacuation", "chain", "transport",
	"supply", "stocks", "ammunition", "fuel", "maintenance", "training",
	"personnel", "rotation", "interim", "permanent", "regional", "northern",
	"southern", "eastern", "western", "flank", "air", "policing", "naval",
	"submarine", "surface", "acoustic", "intelligence", "surveillance",
	"reconnaissance", "cyber", "defence", "resilience", "infrastructure",
	"budget", "funding", "contract", "delivery", "schedule", "milestone",
	"risk", "mitigation", "approval", "consultation", "nations", "partners",
	"arrangements", "framework", "concept", "doctrine", "posture", "force",
	"structure", "enhanced", "forward", "presence", "reinforcement",
	"mobility", "host", "nation", "agreement", "coordination", "centre",
	"cell", "team", "group", "working", "steering", "committee", "council",
	"secretary", "general", "military", "civilian", "political", "strategic",
	"operational", "tactical", "level", "phase", "transition", "period",
	"months", "weeks", "year", "annual", "quarterly", "shared",
	"responsibility", "collective", "approach", "pressure", "growing",
	"demands", "outstanding", "footprint", "certified", "untested",
	"largely", "half", "procedures", "streamlined", "confirmed", "suggested",
	"exchanges", "favours", "remains", "continues", "places", "additional",
	"delays", "shows", "rests", "intends", "refer", "matter", "suspected",
	"compromise", "where", "when", "should", "must", "will", "may", "not",
	"be", "is", "are", "has", "have", "been", "was", "were", "made",
	"without", "prior", "written", "consent", "originator", "registry",
	"copies", "handling", "storage", "container", "approved", "accredited",
	"classification", "markings", "release", "distribution", "recipients",
	"evaluation", "lessons", "identified", "learned", "capacity", "gaps",
	"shortfalls", "priorities", "targets", "objectives", "tasks", "mission",
	"mandate", "theatre", "port", "airfield", "corridor", "route", "depot",
	"warehouse", "engineering", "repair", "spare", "parts", "vehicles",
	"helicopters", "frigates", "destroyers", "corvettes", "radar", "sonar",
	"towed", "array", "buoys", "satellite", "link", "network", "protection",
	"field", "final", "financial", "first",
};

struct prose_rng {
	uint64_t s;
};

static inline uint64_t
prose_next(struct prose_rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(2685821657736338717);
}

static inline unsigned
prose_below(struct prose_rng *r, unsigned n)
{
	return (unsigned)((prose_next(r) >> 33) % n);
}

struct prose_buf {
	char *s;
	size_t len, cap;
};

static inline void
prose_put(struct prose_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = lw_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static inline void
prose_puts(struct prose_buf *b, const char *s)
{
	prose_put(b, s, strlen(s));
}

/* Appends about @words words of paragraphs generated from @seed. */
static inline void
prose_append(struct prose_buf *b, uint64_t seed, size_t words)
{
	struct prose_rng r = {seed * UINT64_C(0x9e3779b97f4a7c15) + 1};
	size_t n = 0;
	const unsigned nw = (unsigned)(sizeof(prose_words) / sizeof(*prose_words));
	while (n < words) {
		unsigned sentences = 3 + prose_below(&r, 5);
		for (unsigned s = 0; s < sentences && n < words; s++) {
			unsigned len = 8 + prose_below(&r, 17);
			for (unsigned i = 0; i < len; i++, n++) {
				const char *w = prose_words[prose_below(&r, nw)];
				if (i == 0) {
					char c[2] = {(char)(w[0] - 'a' + 'A'), 0};
					prose_puts(b, c);
					prose_puts(b, w + 1);
				} else {
					prose_puts(b, " ");
					prose_puts(b, w);
				}
			}
			prose_puts(b, s + 1 < sentences ? ". " : ".");
		}
		prose_puts(b, "\n\n");
	}
}

/* A new NUL-terminated document of about @words words (caller frees). */
static inline char *
prose_new(uint64_t seed, size_t words, size_t *len)
{
	struct prose_buf b = {0};
	prose_append(&b, seed, words);
	*len = b.len;
	return b.s;
}

/* Byte offset of the start of word @i of @s (or its length). */
static inline size_t
prose_word_offset(const char *s, size_t len, size_t i)
{
	size_t w = 0;
	for (size_t j = 0; j < len; j++) {
		bool start = s[j] != ' ' && s[j] != '\n' &&
			     (j == 0 || s[j - 1] == ' ' || s[j - 1] == '\n');
		if (start) {
			if (w == i) {
				return j;
			}
			w++;
		}
	}
	return len;
}
