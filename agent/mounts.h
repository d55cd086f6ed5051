/* mounts.h — the mount table (/proc/self/mountinfo), for following file
 * systems mounted and unmounted below the watched roots after start-up.
 *
 * inotify watches directories, not file systems: a USB stick mounted on a
 * watched directory hides that directory and its watch, and nothing is
 * reported about the mounted file system until it is watched itself. The
 * watcher reads this table again whenever the kernel says it changed
 * (POLLPRI on the open mountinfo file) and compares. No state of its own:
 * the caller owns the tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mount_entry {
	int id;              /* the kernel's mount id, unique while mounted */
	unsigned major, minor;
	char *root;          /* the directory of the file system that is mounted */
	char *point;         /* where, unescaped */
	char *fstype;
	char *source;
};

struct mount_table {
	struct mount_entry *v;
	size_t n;
};

/* Parses mountinfo text (proc(5)). Lines that do not parse are skipped.
 * Returns 0; *out is replaced (free with mounts_free). */
int mounts_parse(const char *text, size_t len, struct mount_table *out);
void mounts_free(struct mount_table *t);

/* /proc/self/mountinfo, open for polling; -errno on failure. */
int mounts_open(void);
/* Reads the whole table from @fd (from offset 0). 0 or -errno. */
int mounts_read(int fd, struct mount_table *out);
/* True when the table changed since the last read (POLLPRI); never waits. */
bool mounts_changed(int fd);

/* The entry with mount id @id, or NULL. */
const struct mount_entry *mounts_find(const struct mount_table *t, int id);
/* Whether a file system of this kind holds files worth following: not a
 * kernel interface (proc, sysfs, cgroup, ...) and not an overlay, whose
 * files are another directory's seen twice. */
bool mounts_followed(const struct mount_entry *e);
/* A bind mount of something already watched: the directory @e mounts is
 * also reachable through another entry of @t (same device, a root above
 * it) at a path for which @visible() is true. Its files are then watched
 * where they really are, and following @e would record them twice. */
bool mounts_is_bind_of_visible(const struct mount_table *t, const struct mount_entry *e,
			       bool (*visible)(const char *path, void *ctx), void *ctx);
