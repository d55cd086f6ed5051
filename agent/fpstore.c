/* fpstore.c — registered-document storage (see fpstore.h). */
#include "fpstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "winnow.h"

/* The winnowing that made a fingerprint set: its hashes are only
 * comparable with hashes made the same way (winnow.h). */
static const char *
current_params(void)
{
	static char buf[48];
	struct winnow_params p;
	winnow_params_default(&p);
	snprintf(buf, sizeof(buf), "winnow-v%d-k%u-w%u", WINNOW_VERSION, p.k, p.w);
	return buf;
}

static int
bump_generation(sqlite3 *db)
{
	return sqlite3_exec(db,
			    "INSERT INTO meta(key, value) VALUES('fp_gen', 1)"
			    " ON CONFLICT(key) DO UPDATE SET value = value + 1",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -EIO;
}

static int
put(sqlite3 *db, const char *sql, const struct fpstore_doc *d, int64_t now, bool benign)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("fpstore: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	int r = -EIO;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		goto out;
	}
	int i = 1;
	if (!benign) {
		sqlite3_bind_text(s, i++, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, i++, d->label, -1, SQLITE_STATIC);
	}
	sqlite3_bind_blob(s, i++, d->sha256, 32, SQLITE_STATIC);
	if (d->source) {
		sqlite3_bind_blob(s, i, d->source, (int)d->source_len, SQLITE_STATIC);
	}
	i++;
	sqlite3_bind_int64(s, i++, now);
	sqlite3_bind_blob(s, i++, d->fps, (int)d->fps_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, i++, (int64_t)d->nfps);
	sqlite3_bind_text(s, i++, current_params(), -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE && bump_generation(db) == 0) {
		r = 0;
	}
out:
	if (r < 0) {
		log_err("fpstore: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	sqlite3_exec(db, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int
fpstore_put(sqlite3 *db, const struct fpstore_doc *d, int64_t now)
{
	return put(db,
		   "INSERT OR REPLACE INTO registered(id, label, sha256, source, added, fps, nfps,"
		   " params) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		   d, now, false);
}

int
fpstore_put_benign(sqlite3 *db, const struct fpstore_doc *d, int64_t now)
{
	return put(db,
		   "INSERT OR REPLACE INTO benign(sha256, source, added, fps, nfps, params)"
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		   d, now, true);
}

int
fpstore_remove(sqlite3 *db, const char *id)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = -EIO;
	if (sqlite3_prepare_v2(db, "DELETE FROM registered WHERE id = ?1", -1, &s, NULL) ==
		    SQLITE_OK &&
	    (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC), sqlite3_step(s) == SQLITE_DONE)) {
		r = sqlite3_changes(db) > 0 ? 1 : 0;
		if (r == 1 && bump_generation(db) < 0) {
			r = -EIO;
		}
	}
	sqlite3_finalize(s);
	sqlite3_exec(db, r >= 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int64_t
fpstore_generation(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int64_t g = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'fp_gen'", -1, &s,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		g = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return g;
}

int
fpstore_label(sqlite3 *db, const char *id, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT label FROM registered WHERE id = ?1", -1, &s, NULL) !=
	    SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int r = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		r = 1;
	}
	sqlite3_finalize(s);
	return r;
}

int
fpstore_list(sqlite3 *db, fpstore_list_fn fn, void *ctx)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, label, sha256, source, fps, nfps, added, params"
			       " FROM registered ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		return -EIO;
	}
	int r = 0;
	while (r == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct fpstore_doc d = {
			.id = (const char *)sqlite3_column_text(s, 0),
			.label = (const char *)sqlite3_column_text(s, 1),
			.sha256 = sqlite3_column_blob(s, 2),
			.source = sqlite3_column_blob(s, 3),
			.source_len = (size_t)sqlite3_column_bytes(s, 3),
			.fps = sqlite3_column_blob(s, 4),
			.fps_len = (size_t)sqlite3_column_bytes(s, 4),
			.nfps = (size_t)sqlite3_column_int64(s, 5),
			.params = (const char *)sqlite3_column_text(s, 7),
		};
		if (sqlite3_column_bytes(s, 2) != 32) {
			continue;
		}
		r = fn(&d, sqlite3_column_int64(s, 6), ctx);
	}
	sqlite3_finalize(s);
	return r;
}

static int
load_one(const struct fpstore_doc *d, int64_t added, void *ctx)
{
	(void)added;
	struct fpindex *idx = ctx;
	if (!d->params || strcmp(d->params, current_params()) != 0) {
		log_warn("fpstore: %s: fingerprinted with %s, this version uses %s: skipped;"
			 " register it again with leakwatch fingerprint add",
			 d->id, d->params ? d->params : "?", current_params());
		return 0;
	}
	uint64_t *fps = NULL;
	size_t n = 0;
	int r = winnow_unpack(d->fps, d->fps_len, &fps, &n);
	if (r < 0) {
		log_warn("fpstore: %s: damaged fingerprints, skipped", d->id);
		return 0;
	}
	r = fpindex_add(idx, d->id, d->label, d->sha256, fps, n);
	free(fps);
	if (r < 0) {
		log_warn("fpstore: %s: cannot index: %s", d->id, strerror(-r));
	}
	return 0;
}

int
fpstore_load_index(sqlite3 *db, struct fpindex **out, int64_t *gen)
{
	*out = NULL;
	*gen = fpstore_generation(db);
	struct fpindex_options opt;
	fpindex_options_default(&opt);
	struct fpindex *idx = NULL;
	int r = fpindex_new(&opt, &idx);
	if (r < 0) {
		return r;
	}
	if ((r = fpstore_list(db, load_one, idx)) < 0) {
		fpindex_free(idx);
		return r;
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT fps FROM benign WHERE params = ?1", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(s, 1, current_params(), -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW) {
			uint64_t *fps = NULL;
			size_t n = 0;
			if (winnow_unpack(sqlite3_column_blob(s, 0),
					  (size_t)sqlite3_column_bytes(s, 0), &fps, &n) == 0) {
				fpindex_add_benign(idx, fps, n);
				free(fps);
			}
		}
	}
	sqlite3_finalize(s);
	if (fpindex_count(idx) == 0) {
		fpindex_free(idx);
		return 0;
	}
	if ((r = fpindex_finalize(idx)) < 0) {
		fpindex_free(idx);
		return r;
	}
	*out = idx;
	return 0;
}
