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

static struct writer_op *
put(const char *path, uint8_t fill, int64_t dir_gen)
{
	struct writer_op *op = writer_op_new(WRITER_OP_PUT, path, strlen(path), NULL, 0);
	op->rec.kind = FILE_KIND_REGULAR;
	op->rec.has_sha = true;
	memset(op->rec.sha256, fill, sizeof(op->rec.sha256));
	op->dir_gen = dir_gen;
	return op;
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
	char err[256];
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
	writer_submit(w, put("/r/before", 1, g));
	writer_submit(w, put("/r/bad", 2, g));
	writer_submit(w, put("/r/after", 3, g));
	/* a later batch: wait until the first one is through */
	for (int i = 0; i < 500 && writer_backlog(w); i++) {
		usleep(10000);
	}
	writer_submit(w, put("/r/later", 4, g));
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
	char err[256];
	struct store *st = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open for rename");
	struct writer *w = NULL;
	th_ok(writer_start(st, 64, 1, &w) == 0, "writer starts");
	int rescans = 0;
	writer_set_rescan(w, count_rescan, &rescans);
	int64_t g = writer_dir_gen(w);
	writer_submit(w, put("/r/m/f", 1, g));
	writer_submit(w, writer_op_new(WRITER_OP_GONE_BELOW, "/r/m", 4, NULL, 0));
	writer_submit(w, put("/r/n/f", 2, writer_dir_gen(w)));
	writer_submit(w, writer_op_new(WRITER_OP_RENAME_DIR, "/r/n", 4, "/r/m", 4));
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
	char db[400], err[256];
	snprintf(db, sizeof(db), "%s/w.db", th_tmpdir());
	struct store *st = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open");
	struct writer *w = NULL;
	th_ok(writer_start(st, 64, 1, &w) == 0, "writer starts");
	int64_t g0 = writer_dir_gen(w);
	writer_submit(w, put("/r/b1/x", 1, g0));
	writer_submit(w, put("/r/d/y", 2, g0));
	struct writer_op *ren = writer_op_new(WRITER_OP_RENAME_DIR, "/r/b1", 5, "/r/c1", 5);
	writer_submit(w, ren);
	th_ok(writer_dir_gen(w) == g0 + 1, "a directory operation takes a generation");
	/* a worker looked at /r/b1/x before the rename; its result comes late */
	writer_submit(w, put("/r/b1/x", 3, g0));
	/* an older result for a path no directory operation touched */
	writer_submit(w, put("/r/d/z", 4, g0));
	/* a result that saw the rename applies normally */
	writer_submit(w, put("/r/c1/new", 5, writer_dir_gen(w)));
	struct writer_op *gone = writer_op_new(WRITER_OP_GONE_BELOW, "/r/d", 4, NULL, 0);
	writer_submit(w, gone);
	writer_submit(w, put("/r/d/late", 6, g0 + 1)); /* looked before the removal */

	/* A walk (epoch 5) sweeps /r/s while a worker that found /r/s/f
	 * unchanged has its SEEN in flight: the file exists, so the SEEN puts
	 * the row back instead of stamping nothing. */
	g0 = writer_dir_gen(w);
	writer_submit(w, put("/r/s/f", 7, g0));
	writer_submit(w, put("/r/s/g", 8, g0));
	struct writer_op *ep = writer_op_new(WRITER_OP_EPOCH, NULL, 0, NULL, 0);
	ep->value = 5;
	writer_submit(w, ep);
	struct writer_op *sw = writer_op_new(WRITER_OP_SWEEP, "/r/s", 4, NULL, 0);
	sw->flag = true;
	sw->value = 5;
	writer_submit(w, sw);
	struct writer_op *sn = put("/r/s/f", 7, g0);
	sn->kind = WRITER_OP_SEEN;
	writer_submit(w, sn);
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
