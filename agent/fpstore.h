/* fpstore.h — registered documents and the benign corpus in the agent
 * database (tables `registered`, `benign`; schema in store.c), and loading
 * them into an in-memory index (policy/match/fpindex.h).
 *
 * Written by `leakwatch fingerprint add|remove` (its own connection: SQLite
 * serialises it with the agent's writer), read by each classify helper at
 * its start. Every change bumps the meta key "fp_gen", which tells the agent
 * that files classified before need classifying again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fpindex.h"

struct fpstore_doc {
	const char *id;
	const char *label;
	const uint8_t *sha256; /* 32 bytes */
	const char *source;    /* the file it came from (bytes), may be NULL */
	size_t source_len;
	const unsigned char *fps; /* packed (winnow_pack) */
	size_t fps_len;
	size_t nfps;
	const char *params;       /* how fps were made; set by fpstore on reads */
};

/* Adds or replaces registered document @d. 0 or -errno. */
int fpstore_put(sqlite3 *db, const struct fpstore_doc *d, int64_t now);
/* Adds a benign document (id, label unused). */
int fpstore_put_benign(sqlite3 *db, const struct fpstore_doc *d, int64_t now);
/* 1 removed, 0 no such id, -errno. */
int fpstore_remove(sqlite3 *db, const char *id);
/* The current generation (0 when nothing was ever registered). */
int64_t fpstore_generation(sqlite3 *db);

/* The label registered with @id into @buf: 1, 0 if unknown, -errno. */
int fpstore_label(sqlite3 *db, const char *id, char *buf, size_t len);

typedef int (*fpstore_list_fn)(const struct fpstore_doc *d, int64_t added, void *ctx);
int fpstore_list(sqlite3 *db, fpstore_list_fn fn, void *ctx);

/* Builds a finalised index of everything registered (NULL with 0 when there
 * is nothing). *gen gets the generation it reflects. 0 or -errno. */
int fpstore_load_index(sqlite3 *db, struct fpindex **out, int64_t *gen);
