/* test-writer.c — the writer applies operations in order, and drops a
 * worker's result for a path that a newer directory operation moved or
 * removed (the ghost-row race of a directory renamed twice quickly), and
 * puts back a row a walk's sweep removed under a worker's SEEN. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"
#include "writer.h"

static struct file_rec
rec_of(uint8_t fill)
{
	struct file_rec r = {.kind = FILE_KIND_REGULAR, .has_sha = true};
	memset(r.sha256, fill, sizeof(r.sha256));
	return r;
}

static void
put(struct writer *w, const char *path, uint8_t fill, int64_t dir_gen)
{
	struct file_rec r = rec_of(fill);
	writer_put(w, path, strlen(path), &r, dir_gen);
}

static int
has(struct store *st, const char *path)
{
	struct file_rec r = {0};
	int n = store_lookup_path(st, path, strlen(path), &r);
	file_rec_fini(&r);
	return n;
}

static void
count_rescan(void *arg)
{
	(*(int *)arg)++;
}

/* One operation that fails for good (here a trigger's constraint, as a
 * race of renames once made a UNIQUE constraint fail) costs only itself:
 * the rest of its batch and every later batch commit, and a rescan is
 * asked for. Before, the writer retried that batch for ever. */
static void
test_permanent_error(const char *db)
{
	char err[256] = "";
	struct store *st = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open again");
	sqlite3_exec(store_db(st),
		     "CREATE TRIGGER refuse_bad BEFORE INSERT ON files WHEN NEW.path = CAST('/r/bad' AS BLOB)"
		     " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
		     NULL, NULL, NULL);
	struct writer *w = NULL;
	th_ok(writer_start(st, 64, 1, &w) == 0, "writer starts");
	int rescans = 0;
	writer_set_rescan(w, count_rescan, &rescans);
	int64_t g = writer_dir_gen(w);
	put(w, "/r/before", 1, g);
	put(w, "/r/bad", 2, g);
	put(w, "/r/after", 3, g);
	/* a later batch: wait until the first one is through */
	for (int i = 0; i < 500 && writer_backlog(w); i++) {
		usleep(10000);
	}
	put(w, "/r/later", 4, g);
	writer_stop(w);
	th_ok(store_open(db, DB_MODE_READER, &st, err, sizeof(err)) == 0, "reopen");
	th_inteq(has(st, "/r/bad"), 0, "the operation that fails for good is dropped");
	th_inteq(has(st, "/r/before") + has(st, "/r/after"), 2,
		 "the rest of its batch is committed");
	th_inteq(has(st, "/r/later"), 1, "and the next batch too");
	th_inteq(rescans, 1, "a rescan is asked for, once");
	sqlite3_exec(store_db(st), "DROP TRIGGER refuse_bad", NULL, NULL, NULL);
	store_close(st);
}

/* The root cause of the wedge: /r/m/f deleted (its row kept as history),
 * then a directory holding an f renamed onto /r/m. */
static void
test_rename_onto_history(const char *db)
{
	char err[256] = "";
	struct store *st = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open for rename");
	struct writer *w = NULL;
	th_ok(writer_start(st, 64, 1, &w) == 0, "writer starts");
	int rescans = 0;
	writer_set_rescan(w, count_rescan, &rescans);
	int64_t g = writer_dir_gen(w);
	put(w, "/r/m/f", 1, g);
	writer_gone_below(w, "/r/m", 4);
	put(w, "/r/n/f", 2, writer_dir_gen(w));
	writer_rename_dir(w, "/r/n", 4, "/r/m", 4, NULL);
	writer_stop(w);
	th_ok(store_open(db, DB_MODE_READER, &st, err, sizeof(err)) == 0, "reopen");
	struct file_rec r = {0};
	th_ok(store_lookup_path(st, "/r/m/f", 6, &r) == 1 && r.sha256[0] == 2,
	      "a directory renamed onto a name with history takes it over");
	file_rec_fini(&r);
	th_inteq(rescans, 0, "without any operation dropped");
	store_close(st);
}

int
main(void)
{
	char db[400], err[256] = "";
	snprintf(db, sizeof(db), "%s/w.db", th_tmpdir());
	struct store *st = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open");
	struct writer *w = NULL;
	th_ok(writer_start(st, 64, 1, &w) == 0, "writer starts");
	int64_t g0 = writer_dir_gen(w);
	put(w, "/r/b1/x", 1, g0);
	put(w, "/r/d/y", 2, g0);
	writer_rename_dir(w, "/r/b1", 5, "/r/c1", 5, NULL);
	th_ok(writer_dir_gen(w) == g0 + 1, "a directory operation takes a generation");
	/* a worker looked at /r/b1/x before the rename; its result comes late */
	put(w, "/r/b1/x", 3, g0);
	/* an older result for a path no directory operation touched */
	put(w, "/r/d/z", 4, g0);
	/* a result that saw the rename applies normally */
	put(w, "/r/c1/new", 5, writer_dir_gen(w));
	writer_gone_below(w, "/r/d", 4);
	put(w, "/r/d/late", 6, g0 + 1); /* looked before the removal */

	/* A walk (epoch 5) sweeps /r/s while a worker that found /r/s/f
	 * unchanged has its SEEN in flight: the file exists, so the SEEN puts
	 * the row back instead of stamping nothing. */
	g0 = writer_dir_gen(w);
	put(w, "/r/s/f", 7, g0);
	put(w, "/r/s/g", 8, g0);
	writer_epoch(w, 5);
	writer_sweep(w, "/r/s", 4, true, 5);
	struct file_rec sn = rec_of(7);
	writer_seen(w, "/r/s/f", 6, &sn, g0);
	writer_stop(w);

	th_ok(store_open(db, DB_MODE_READER, &st, err, sizeof(err)) == 0, "reopen");
	th_inteq(has(st, "/r/b1/x"), 0, "a late result does not resurrect a renamed path");
	th_inteq(has(st, "/r/c1/x"), 1, "the renamed row is at its new path");
	th_inteq(has(st, "/r/d/z"), 0, "removed below /r/d: z went with its directory");
	th_inteq(has(st, "/r/d/late"), 0, "a late result below a removed directory is dropped");
	th_inteq(has(st, "/r/c1/new"), 1, "a result newer than the rename applies");
	th_inteq(has(st, "/r/s/g"), 0, "a sweep marks what its walk did not see deleted");
	th_inteq(has(st, "/r/s/f"), 1, "a SEEN after the sweep puts its row back");
	struct file_rec r = {0};
	th_ok(store_lookup_path(st, "/r/s/f", 6, &r) == 1 && r.has_sha && r.sha256[0] == 7,
	      "with the hash the worker compared against");
	file_rec_fini(&r);
	store_close(st);
	test_permanent_error(db);
	test_rename_onto_history(db);
	return th_done();
}
