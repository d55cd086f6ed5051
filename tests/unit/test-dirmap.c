/* test-dirmap.c — the watcher's directory tree: lookups, relinks, paths,
 * subtree removal. */
#include <stdlib.h>
#include <string.h>

#include "dirmap.h"
#include "harness.h"

static int removed;

static void
count_removed(struct dir_node *n, void *ctx)
{
	(void)n;
	(void)ctx;
	removed++;
}

static const char *
path(struct dir_node *n)
{
	static char *buf;
	static size_t cap;
	dirmap_path(n, &buf, &cap);
	return buf;
}

int
main(void)
{
	struct dirmap *m = dirmap_new();
	struct dir_node *root = dirmap_add(m, NULL, "/r", 2, 1, 100);
	struct dir_node *a = dirmap_add(m, root, "a", 1, 1, 101);
	struct dir_node *b = dirmap_add(m, a, "b", 1, 1, 102);
	dirmap_set_wd(m, root, 1);
	dirmap_set_wd(m, a, 2);
	dirmap_set_wd(m, b, 3);
	th_streq(path(b), "/r/a/b", "path from parents");
	th_ok(dirmap_by_wd(m, 3) == b, "by wd");
	th_ok(dirmap_by_inode(m, 1, 101) == a, "by inode");
	th_ok(dirmap_child(m, a, "b", 1) == b, "child by name");
	dirmap_relink(m, a, root, "renamed", 7);
	th_streq(path(b), "/r/renamed/b", "a relink renames the whole subtree");
	dirmap_set_wd(m, b, -1);
	th_ok(dirmap_by_wd(m, 3) == NULL, "a dropped wd is forgotten");
	/* many nodes force the indexes to grow */
	for (int i = 0; i < 5000; i++) {
		char nm[16];
		int len = snprintf(nm, sizeof(nm), "n%d", i);
		struct dir_node *n = dirmap_add(m, b, nm, (size_t)len, 1, 1000 + (uint64_t)i);
		dirmap_set_wd(m, n, 10 + i);
	}
	th_inteq((long long)dirmap_count(m), 5003, "count");
	struct dir_node *n4999 = dirmap_by_wd(m, 10 + 4999);
	th_ok(n4999 && strcmp(path(n4999), "/r/renamed/b/n4999") == 0, "lookups survive growth");
	dirmap_remove(m, a, count_removed, NULL);
	th_inteq(removed, 5002, "removing a directory removes its subtree");
	th_ok(a->detached && dirmap_by_inode(m, 1, 102) == NULL && dirmap_by_wd(m, 15) == NULL,
	      "removed nodes are detached and unindexed");
	th_inteq((long long)dirmap_count(m), 1, "only the root remains");
	dirmap_collect(m);
	dirmap_free(m);
	return th_done();
}
