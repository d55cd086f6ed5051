/* dirmap.c — the watcher's directory tree and its indexes (see dirmap.h).
 * Owns every dir_node. Watcher thread only. */
#include "dirmap.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct dirmap {
	struct dir_node **by_wd;
	struct dir_node **by_ino;
	size_t nbuckets;
	size_t count;        /* attached nodes */
	struct dir_node *roots;
	struct dir_node *grave;
};

static size_t
wd_slot(const struct dirmap *m, int wd)
{
	return (size_t)(unsigned)wd * 2654435761u & (m->nbuckets - 1);
}

static size_t
ino_slot(const struct dirmap *m, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (size_t)(h >> 20) & (m->nbuckets - 1);
}

struct dirmap *
dirmap_new(void)
{
	struct dirmap *m = lw_new(struct dirmap, 1);
	m->nbuckets = 1024;
	m->by_wd = lw_new(struct dir_node *, m->nbuckets);
	m->by_ino = lw_new(struct dir_node *, m->nbuckets);
	return m;
}

static void
free_tree(struct dir_node *n)
{
	while (n) {
		struct dir_node *next = n->next_sibling;
		free_tree(n->first_child);
		free(n->name);
		free(n);
		n = next;
	}
}

void
dirmap_collect(struct dirmap *m)
{
	while (m->grave) {
		struct dir_node *n = m->grave;
		m->grave = n->grave_next;
		free(n->name);
		free(n);
	}
}

void
dirmap_free(struct dirmap *m)
{
	if (!m) {
		return;
	}
	free_tree(m->roots);
	dirmap_collect(m);
	free(m->by_wd);
	free(m->by_ino);
	free(m);
}

static void
unindex(struct dirmap *m, struct dir_node *n)
{
	if (n->wd >= 0) {
		struct dir_node **p = &m->by_wd[wd_slot(m, n->wd)];
		while (*p && *p != n) {
			p = &(*p)->wd_next;
		}
		if (*p) {
			*p = n->wd_next;
		}
	}
	struct dir_node **p = &m->by_ino[ino_slot(m, n->dev, n->ino)];
	while (*p && *p != n) {
		p = &(*p)->ino_next;
	}
	if (*p) {
		*p = n->ino_next;
	}
}

static void
index_node(struct dirmap *m, struct dir_node *n)
{
	if (n->wd >= 0) {
		size_t s = wd_slot(m, n->wd);
		n->wd_next = m->by_wd[s];
		m->by_wd[s] = n;
	}
	size_t s = ino_slot(m, n->dev, n->ino);
	n->ino_next = m->by_ino[s];
	m->by_ino[s] = n;
}

static void
reindex_all(struct dirmap *m, struct dir_node *n)
{
	for (; n; n = n->next_sibling) {
		index_node(m, n);
		reindex_all(m, n->first_child);
	}
}

static void
grow(struct dirmap *m)
{
	free(m->by_wd);
	free(m->by_ino);
	m->nbuckets *= 2;
	m->by_wd = lw_new(struct dir_node *, m->nbuckets);
	m->by_ino = lw_new(struct dir_node *, m->nbuckets);
	reindex_all(m, m->roots);
}

static void
link_child(struct dirmap *m, struct dir_node *parent, struct dir_node *n)
{
	struct dir_node **head = parent ? &parent->first_child : &m->roots;
	n->parent = parent;
	n->prev_sibling = NULL;
	n->next_sibling = *head;
	if (*head) {
		(*head)->prev_sibling = n;
	}
	*head = n;
}

static void
unlink_child(struct dirmap *m, struct dir_node *n)
{
	if (n->prev_sibling) {
		n->prev_sibling->next_sibling = n->next_sibling;
	} else if (n->parent) {
		n->parent->first_child = n->next_sibling;
	} else {
		m->roots = n->next_sibling;
	}
	if (n->next_sibling) {
		n->next_sibling->prev_sibling = n->prev_sibling;
	}
	n->prev_sibling = n->next_sibling = NULL;
}

struct dir_node *
dirmap_add(struct dirmap *m, struct dir_node *parent, const char *name, size_t len,
	   uint64_t dev, uint64_t ino)
{
	if (m->count + 1 > m->nbuckets) {
		grow(m);
	}
	struct dir_node *n = lw_new(struct dir_node, 1);
	n->name = lw_strndup(name, len);
	n->name_len = len;
	n->wd = -1;
	n->dev = dev;
	n->ino = ino;
	link_child(m, parent, n);
	index_node(m, n);
	m->count++;
	return n;
}

struct dir_node *
dirmap_by_wd(struct dirmap *m, int wd)
{
	for (struct dir_node *n = m->by_wd[wd_slot(m, wd)]; n; n = n->wd_next) {
		if (n->wd == wd) {
			return n;
		}
	}
	return NULL;
}

struct dir_node *
dirmap_by_inode(struct dirmap *m, uint64_t dev, uint64_t ino)
{
	for (struct dir_node *n = m->by_ino[ino_slot(m, dev, ino)]; n; n = n->ino_next) {
		if (n->dev == dev && n->ino == ino) {
			return n;
		}
	}
	return NULL;
}

struct dir_node *
dirmap_child(struct dirmap *m, struct dir_node *parent, const char *name, size_t len)
{
	struct dir_node *n = parent ? parent->first_child : m->roots;
	for (; n; n = n->next_sibling) {
		if (n->name_len == len && memcmp(n->name, name, len) == 0) {
			return n;
		}
	}
	return NULL;
}

void
dirmap_set_wd(struct dirmap *m, struct dir_node *n, int wd)
{
	unindex(m, n);
	n->wd = wd;
	index_node(m, n);
}

void
dirmap_relink(struct dirmap *m, struct dir_node *n, struct dir_node *parent,
	      const char *name, size_t len)
{
	unlink_child(m, n);
	free(n->name);
	n->name = lw_strndup(name, len);
	n->name_len = len;
	link_child(m, parent, n);
}

static void
detach_tree(struct dirmap *m, struct dir_node *n,
	    void (*fn)(struct dir_node *n, void *ctx), void *ctx)
{
	while (n->first_child) {
		detach_tree(m, n->first_child, fn, ctx);
	}
	if (fn) {
		fn(n, ctx);
	}
	unindex(m, n);
	unlink_child(m, n);
	n->detached = true;
	n->parent = NULL;
	n->grave_next = m->grave;
	m->grave = n;
	m->count--;
}

void
dirmap_remove(struct dirmap *m, struct dir_node *n,
	      void (*fn)(struct dir_node *n, void *ctx), void *ctx)
{
	if (!n->detached) {
		detach_tree(m, n, fn, ctx);
	}
}

void
dirmap_foreach_below(struct dir_node *n, void (*fn)(struct dir_node *n, void *ctx),
		     void *ctx)
{
	for (struct dir_node *c = n->first_child; c;) {
		/* @fn may not unlink @c; fetch next first anyway */
		struct dir_node *next = c->next_sibling;
		fn(c, ctx);
		dirmap_foreach_below(c, fn, ctx);
		c = next;
	}
}

void
dirmap_foreach(struct dirmap *m, void (*fn)(struct dir_node *n, void *ctx), void *ctx)
{
	for (struct dir_node *r = m->roots; r;) {
		struct dir_node *next = r->next_sibling;
		fn(r, ctx);
		dirmap_foreach_below(r, fn, ctx);
		r = next;
	}
}

size_t
dirmap_path(const struct dir_node *n, char **buf, size_t *cap)
{
	size_t len = 0;
	for (const struct dir_node *p = n; p; p = p->parent) {
		len += p->name_len + (p->parent ? 1 : 0);
	}
	if (len + 1 > *cap) {
		*cap = len + 256;
		*buf = lw_realloc(*buf, *cap);
	}
	size_t end = len;
	(*buf)[end] = '\0';
	for (const struct dir_node *p = n; p; p = p->parent) {
		end -= p->name_len;
		memcpy(*buf + end, p->name, p->name_len);
		if (p->parent) {
			(*buf)[--end] = '/';
		}
	}
	return len;
}

size_t
dirmap_count(const struct dirmap *m)
{
	return m->count;
}
