/* media.h — is a file system on removable media? By its device, so that a
 * USB stick counts as removable wherever it is mounted, not only below the
 * paths the policy's "removable" zone names.
 *
 * A block device is removable when sysfs says so of its disk
 * (/sys/dev/block/MAJ:MIN, the disk of a partition, "removable" = 1) or
 * when it hangs off a USB bus (USB hard disks report removable 0). Answers
 * are cached per device for a few seconds: the verdict asks for every
 * sensitive file. One owner (the writer thread's verdict); not shared. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct media;

/* @sysfs: "/sys", or a test's tree shaped like it. */
struct media *media_new(const char *sysfs);
void media_free(struct media *m); /* NULL is a no-op */
/* @dev: a file's st_dev. @now: monotonic ns (cache expiry). */
bool media_removable(struct media *m, uint64_t dev, int64_t now);
