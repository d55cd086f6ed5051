/* test-store.c — the inventory: upsert, lookups, renames of files and
 * directories (byte-exact), sweeps, refusing foreign databases. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mem.h"
#include "store.h"

static struct file_rec
rec(uint64_t ino, int64_t size, int64_t mtime, uint8_t fill)
{
	struct file_rec r = {.kind = FILE_KIND_REGULAR, .dev = 1, .ino = ino, .size = size,
			     .mode = 0100644, .mtime_ns = mtime, .ctime_ns = mtime,
			     .has_sha = true};
	memset(r.sha256, fill, sizeof(r.sha256));
	snprintf(r.type, sizeof(r.type), "text");
	return r;
}

static int
collect(const struct store_row *row, void *ctx)
{
	char *buf = ctx;
	strncat(buf, row->path, row->path_len);
	strcat(buf, row->deleted_at ? "(d);" : ";");
	return 0;
}

static const char *
listing(struct store *st, const char *dir, bool all)
{
	static char buf[4096];
	buf[0] = '\0';
	store_foreach(st, dir, dir ? strlen(dir) : 0, all, 0, collect, buf);
	return buf;
}

#define P(s) (s), strlen(s)

/* One inventory file the scenarios below share, in order: each starts
 * from the rows the one before it left. */
struct fixture {
	char path[400], err[512];
	struct store *st;
	struct file_rec r1, r2, r3;
};

/* Creates the inventory with /r/a.txt, /r/d/b.txt, /r/d/e/c.txt and
 * /r/dx/z.txt (the last two with the same record). */
static void
fixture_init(struct fixture *fx)
{
	*fx = (struct fixture){.r1 = rec(10, 5, 100, 0xaa),
			       .r2 = rec(11, 6, 200, 0xbb),
			       .r3 = rec(12, 7, 300, 0xcc)};
	snprintf(fx->path, sizeof(fx->path), "%s/inv.db", th_tmpdir());
	th_ok(store_open(fx->path, DB_MODE_WRITER, &fx->st, fx->err, sizeof(fx->err)) == 0,
	      "create (%s)", fx->err);
	store_begin(fx->st);
	store_put(fx->st, P("/r/a.txt"), &fx->r1, 1, 1000);
	store_put(fx->st, P("/r/d/b.txt"), &fx->r2, 1, 1000);
	store_put(fx->st, P("/r/d/e/c.txt"), &fx->r3, 1, 1000);
	store_put(fx->st, P("/r/dx/z.txt"), &fx->r3, 1, 1000);
	store_commit(fx->st);
}

static void
fixture_fini(struct fixture *fx)
{
	store_close(fx->st);
	fx->st = NULL;
}

static void
test_listing(struct fixture *fx)
{
	th_streq(listing(fx->st, NULL, false), "/r/a.txt;/r/d/b.txt;/r/d/e/c.txt;/r/dx/z.txt;",
		 "rows in path order");
	th_streq(listing(fx->st, "/r/d", false), "/r/d/b.txt;/r/d/e/c.txt;",
		 "below /r/d only (not /r/dx)");
}

static void
test_lookup(struct fixture *fx)
{
	struct file_rec got = {0};
	th_inteq(store_lookup_path(fx->st, P("/r/a.txt"), &got), 1, "lookup by path");
	th_ok(got.has_sha && got.sha256[0] == 0xaa && strcmp(got.type, "text") == 0,
	      "the row's hash and type");
	file_rec_fini(&got);
	th_inteq(store_lookup_inode(fx->st, 1, 11, 6, 200, &got), 1, "lookup by inode stamp");
	file_rec_fini(&got);
	th_inteq(store_lookup_inode(fx->st, 1, 11, 6, 201, &got), 0,
		 "a different mtime is another content");
}

/* renames of a file and of a directory, with a name that is not UTF-8 */
static void
test_rename(struct fixture *fx)
{
	store_begin(fx->st);
	th_inteq(store_rename(fx->st, P("/r/a.txt"), P("/r/d/a2.txt"), false, 0, 2000), 1,
		 "file rename moves one row");
	th_inteq(store_rename(fx->st, P("/r/d"), P("/r/n\xff"), true, 0, 2000), 3,
		 "directory rename moves every row below");
	store_commit(fx->st);
	th_streq(listing(fx->st, NULL, false),
		 "/r/dx/z.txt;/r/n\xff/a2.txt;/r/n\xff/b.txt;/r/n\xff/e/c.txt;",
		 "paths rewritten byte for byte");
}

/* sweep: rows below a directory not stamped with the new epoch */
static void
test_sweep(struct fixture *fx)
{
	store_begin(fx->st);
	store_seen(fx->st, P("/r/n\xff/b.txt"), 5);
	int swept = store_sweep(fx->st, P("/r/n\xff"), false, 5, 3000);
	store_commit(fx->st);
	th_inteq(swept, 1, "a flat sweep takes only the directory's own files");
	store_begin(fx->st);
	swept = store_sweep(fx->st, P("/r/n\xff"), true, 5, 3000);
	store_commit(fx->st);
	th_inteq(swept, 1, "a recursive sweep takes the rest");
	th_streq(listing(fx->st, "/r/n\xff", true),
		 "/r/n\xff/a2.txt(d);/r/n\xff/b.txt;/r/n\xff/e/c.txt(d);",
		 "--all shows the deleted rows");
}

/* A file renamed into a directory whose walk (epoch 8) listed it before
 * it arrived: the walk's sweep, in the same batch, keeps the renamed row
 * (it used to mark it deleted, and the file came back as new without its
 * history). */
static void
test_rename_during_walk(struct fixture *fx)
{
	store_begin(fx->st);
	store_put(fx->st, P("/w/src/m.txt"), &fx->r1, 7, 5000);
	store_put(fx->st, P("/w/dst/b.txt"), &fx->r1, 8, 5000);
	th_inteq(store_rename(fx->st, P("/w/src/m.txt"), P("/w/dst/m.txt"), false, 8, 5100), 1,
		 "renamed into the directory being walked");
	int swept = store_sweep(fx->st, P("/w/dst"), false, 8, 5100);
	store_commit(fx->st);
	th_inteq(swept, 0, "the walk's sweep keeps the renamed file");
	th_streq(listing(fx->st, "/w", false), "/w/dst/b.txt;/w/dst/m.txt;",
		 "both live, at their new paths");
	/* the same rename reported again: nothing to rename, nothing lost */
	store_begin(fx->st);
	th_inteq(store_rename(fx->st, P("/w/src/m.txt"), P("/w/dst/m.txt"), false, 8, 5200), 0,
		 "a second report of the rename changes nothing");
	store_commit(fx->st);
	th_streq(listing(fx->st, "/w", false), "/w/dst/b.txt;/w/dst/m.txt;",
		 "the renamed row is still there");
}

/* a deleted path that comes back is a new row (first_seen reset) */
static void
test_revive(struct fixture *fx)
{
	store_begin(fx->st);
	store_put(fx->st, P("/r/n\xff/a2.txt"), &fx->r1, 6, 4000);
	store_gone_below(fx->st, P("/r/dx"), NULL, 4000);
	store_commit(fx->st);
	th_streq(listing(fx->st, NULL, false), "/r/n\xff/a2.txt;/r/n\xff/b.txt;",
		 "revived row live again, gone_below applied");
	int64_t files = 0, errors = 0;
	store_counts(fx->st, &files, &errors);
	th_inteq(files, 2, "count of live rows");
}

static int
gone_of(const struct store_row *row, void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%.*s=%s;", (int)row->path_len, row->path,
		 row->deleted_at ? (row->gone ? row->gone : "deleted") : "live");
	return 0;
}

/* rows of an unmounted file system leave as "unmounted", not deleted, and
 * are plain live rows again when the medium comes back */
static void
test_unmounted(struct fixture *fx)
{
	store_begin(fx->st);
	store_put(fx->st, P("/u/usb/a.txt"), &fx->r1, 9, 6000);
	store_put(fx->st, P("/u/usb/d/b.txt"), &fx->r2, 9, 6000);
	store_put(fx->st, P("/u/other.txt"), &fx->r1, 9, 6000);
	store_gone(fx->st, P("/u/other.txt"), 6050);
	th_inteq(store_gone_below(fx->st, P("/u/usb"), "unmounted", 6100), 2,
		 "the medium's two rows leave");
	store_commit(fx->st);
	char got[256] = "";
	store_foreach(fx->st, P("/u"), true, 0, gone_of, got);
	th_streq(got, "/u/other.txt=deleted;/u/usb/a.txt=unmounted;/u/usb/d/b.txt=unmounted;",
		 "unmounted rows say so; a deleted one says deleted");
	store_begin(fx->st);
	store_put(fx->st, P("/u/usb/a.txt"), &fx->r1, 10, 6200);
	store_commit(fx->st);
	got[0] = '\0';
	store_foreach(fx->st, P("/u/usb"), true, 0, gone_of, got);
	th_streq(got, "/u/usb/a.txt=live;/u/usb/d/b.txt=unmounted;",
		 "mounted again, a file seen is live, the reason cleared");
}

/* readers: the inventory the writer left, closed */
static void
test_reader(struct fixture *fx)
{
	struct store *st = NULL;
	th_ok(store_open(fx->path, DB_MODE_READER, &st, fx->err, sizeof(fx->err)) == 0,
	      "read-only open");
	store_close(st);
}

/* Up to @cap bytes of @path into @buf; the count read. */
static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap, f) : 0;
	if (f) {
		fclose(f);
	}
	return n;
}

/* databases that are not ours, or not there */
static void
test_refusals(void)
{
	char other[400], err[512] = "";
	snprintf(other, sizeof(other), "%s/other.db", th_tmpdir());
	sqlite3 *db = NULL;
	sqlite3_open(other, &db);
	sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	char before[8192], after[8192];
	size_t nb = slurp(other, before, sizeof(before));
	struct store *st = NULL;
	th_ok(store_open(other, DB_MODE_WRITER, &st, err, sizeof(err)) < 0 &&
		      strstr(err, "not a leakwatch database"),
	      "a foreign SQLite file is refused (%s)", err);
	size_t na = slurp(other, after, sizeof(after));
	th_ok(nb > 0 && na == nb && memcmp(before, after, nb) == 0,
	      "and not written to (%zu bytes before, %zu after)", nb, na);
	th_ok(store_open("/nonexistent/x.db", DB_MODE_READER, &st, err, sizeof(err)) < 0,
	      "a missing database fails read-only open");
}

int
main(void)
{
	struct fixture fx;
	fixture_init(&fx);
	test_listing(&fx);
	test_lookup(&fx);
	test_rename(&fx);
	test_sweep(&fx);
	test_revive(&fx);
	test_unmounted(&fx);
	test_rename_during_walk(&fx);
	fixture_fini(&fx);
	test_reader(&fx);
	test_refusals();
	return th_done();
}
