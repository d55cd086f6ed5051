/* dirmap.h — the watcher's map of watched directories.
 *
 * Our source of truth for which directory a watch descriptor stands for
 * (libinotifytools' own maps go stale on renames and deletions, see
 * doc/notes/libinotifytools.md §3). Each node knows its parent and its
 * name, so a directory rename is one relink and paths are rebuilt on demand.
 * Indexed by wd and by (dev, ino). Watcher thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dir_node {
	struct dir_node *parent;   /* NULL for a root */
	char *name;                /* a root's full path, else one component */
	size_t name_len;
	int wd;                    /* -1: not watched (limit reached, or lost) */
	uint64_t dev, ino;
	int64_t visit_epoch;       /* the newest walk that listed it */
	bool detached;             /* removed from the tree; freed later */
	/* private */
	struct dir_node *first_child, *next_sibling, *prev_sibling;
	struct dir_node *wd_next, *ino_next, *grave_next;
};

struct dirmap;

struct dirmap *dirmap_new(void);
void dirmap_free(struct dirmap *m); /* NULL is a no-op; frees every node */

/* Adds a node under @parent (NULL: a root). The map owns it. */
struct dir_node *dirmap_add(struct dirmap *m, struct dir_node *parent,
			    const char *name, size_t len, uint64_t dev, uint64_t ino);
struct dir_node *dirmap_by_wd(struct dirmap *m, int wd);
struct dir_node *dirmap_by_inode(struct dirmap *m, uint64_t dev, uint64_t ino);
struct dir_node *dirmap_child(struct dirmap *m, struct dir_node *parent,
			      const char *name, size_t len);
void dirmap_set_wd(struct dirmap *m, struct dir_node *n, int wd);
/* Moves @n under @parent with a new name. */
void dirmap_relink(struct dirmap *m, struct dir_node *n, struct dir_node *parent,
		   const char *name, size_t len);
/* Detaches @n and its whole subtree, calling @fn on each node first (to drop
 * its watch). Detached nodes stay allocated until dirmap_collect(), so walks
 * holding pointers to them can notice `detached`. */
void dirmap_remove(struct dirmap *m, struct dir_node *n,
		   void (*fn)(struct dir_node *n, void *ctx), void *ctx);
/* Frees detached nodes; call only when no walk holds node pointers. */
void dirmap_collect(struct dirmap *m);
/* Calls @fn on every node below @n (not @n itself), parents first. */
void dirmap_foreach_below(struct dir_node *n, void (*fn)(struct dir_node *n, void *ctx),
			  void *ctx);
/* Calls @fn on every attached node. */
void dirmap_foreach(struct dirmap *m, void (*fn)(struct dir_node *n, void *ctx),
		    void *ctx);
/* The node's full path into @buf (grown as needed); returns its length. */
size_t dirmap_path(const struct dir_node *n, char **buf, size_t *cap);
size_t dirmap_count(const struct dirmap *m);
