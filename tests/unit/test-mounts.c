/* test-mounts.c — the mount table (mounts.c) and removable media by device
 * (media.c), on fixed mountinfo text and a sysfs-shaped tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"
#include "media.h"
#include "mem.h"
#include "mounts.h"

static const char MOUNTINFO[] =
	"22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
	"23 22 0:21 / /proc rw,nosuid - proc proc rw\n"
	"30 22 254:3 / /home rw,relatime shared:5 - ext4 /dev/vda3 rw\n"
	/* a stick with a space in its label, no optional fields */
	"44 30 8:17 / /home/ann/media/MY\\040STICK rw - vfat /dev/sdb1 rw,fmask=0022\n"
	/* a bind of a directory of /home onto another place in /home */
	"45 30 254:3 /ann/docs /home/ann/mirror rw shared:5 master:2 - ext4 /dev/vda3 rw\n"
	/* a bind of /srv/data (the root fs, not watched) into /home */
	"46 30 254:1 /srv/data /home/ann/data rw - ext4 /dev/vda1 rw\n"
	"47 30 0:50 / /home/ann/ov rw - overlay overlay rw,lowerdir=/home/ann/l\n"
	"garbage line\n"
	"48 30 0:51 / /home/ann/t rw - tmpfs tmpfs rw\n";

static bool
under_home(const char *path, void *ctx)
{
	(void)ctx;
	return strncmp(path, "/home", 5) == 0 && (path[5] == '\0' || path[5] == '/');
}

static void
test_parse(void)
{
	struct mount_table t = {0};
	th_inteq(mounts_parse(MOUNTINFO, strlen(MOUNTINFO), &t), 0, "mountinfo parses");
	th_inteq((long long)t.n, 8, "eight entries; the garbage line is skipped");
	const struct mount_entry *stick = mounts_find(&t, 44);
	th_ok(stick && strcmp(stick->point, "/home/ann/media/MY STICK") == 0 &&
		      strcmp(stick->fstype, "vfat") == 0 && stick->major == 8 &&
		      stick->minor == 17 && strcmp(stick->source, "/dev/sdb1") == 0,
	      "\\040 is unescaped, fields after the optional ones are read (%s)",
	      stick ? stick->point : "missing");
	th_ok(mounts_followed(stick), "vfat is followed");
	th_ok(!mounts_followed(mounts_find(&t, 23)), "proc is not");
	th_ok(!mounts_followed(mounts_find(&t, 47)), "nor an overlay (its files are seen twice)");
	th_ok(mounts_followed(mounts_find(&t, 48)), "tmpfs is: files are stored there");
	th_ok(mounts_is_bind_of_visible(&t, mounts_find(&t, 45), under_home, NULL),
	      "a bind of /home/ann/docs into /home is a bind of what is watched already");
	th_ok(!mounts_is_bind_of_visible(&t, mounts_find(&t, 46), under_home, NULL),
	      "a bind of /srv/data (not watched) into /home is not: it is followed");
	th_ok(!mounts_is_bind_of_visible(&t, stick, under_home, NULL),
	      "nor is a stick (a device of its own)");
	th_ok(!mounts_find(&t, 99), "an unknown id is not found");
	struct mount_table u = {0};
	const char *one = "50 22 7:0 / /home/x rw - ext4 /dev/loop0 rw";
	mounts_parse(one, strlen(one), &u);
	th_ok(u.n == 1 && strcmp(u.v[0].point, "/home/x") == 0,
	      "a last line without a newline parses");
	mounts_free(&u);
	mounts_free(&t);
	int fd = mounts_open();
	th_ok(fd >= 0 && mounts_read(fd, &t) == 0 && t.n > 0,
	      "this process's own table reads (%zu entries)", t.n);
	bool root = false;
	for (size_t i = 0; i < t.n; i++) {
		root |= strcmp(t.v[i].point, "/") == 0;
	}
	th_ok(root, "and holds /");
	mounts_free(&t);
	if (fd >= 0) {
		close(fd);
	}
}

static void
mkdir_p(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(path, 0755);
			*s = '/';
		}
	}
	mkdir(path, 0755);
}

static void
mk(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static void
test_media(void)
{
	const char *dir = th_tmpdir();
	char p[1024];
	/* sysfs: a SATA disk, a USB stick's partition (removable 0: a USB
	 * hard disk says 0 too), an SD card reader's disk (removable 1) */
	const char *dirs[] = {"/devices", "/devices/pci0/ata1/block/sda",
			      "/devices/pci0/usb1/1-1/host6/block/sdb",
			      "/devices/pci0/usb1/1-1/host6/block/sdb/sdb1",
			      "/devices/platform/mmc0/block/mmcblk0",
			      "/devices/platform/mmc0/block/mmcblk0/mmcblk0p1", "/dev",
			      "/dev/block"};
	for (size_t i = 0; i < LW_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s%s", dir, dirs[i]);
		mkdir_p(p);
	}
	snprintf(p, sizeof(p), "%s/devices/pci0/ata1/block/sda/removable", dir);
	mk(p, "0\n");
	snprintf(p, sizeof(p), "%s/devices/pci0/usb1/1-1/host6/block/sdb/removable", dir);
	mk(p, "0\n");
	snprintf(p, sizeof(p), "%s/devices/pci0/usb1/1-1/host6/block/sdb/sdb1/partition", dir);
	mk(p, "1\n");
	snprintf(p, sizeof(p), "%s/devices/platform/mmc0/block/mmcblk0/removable", dir);
	mk(p, "1\n");
	snprintf(p, sizeof(p), "%s/devices/platform/mmc0/block/mmcblk0/mmcblk0p1/partition",
		 dir);
	mk(p, "1\n");
	struct {
		const char *link, *target;
	} links[] = {{"8:0", "../../devices/pci0/ata1/block/sda"},
		     {"8:17", "../../devices/pci0/usb1/1-1/host6/block/sdb/sdb1"},
		     {"179:1", "../../devices/platform/mmc0/block/mmcblk0/mmcblk0p1"}};
	for (size_t i = 0; i < LW_ARRAY_SIZE(links); i++) {
		snprintf(p, sizeof(p), "%s/dev/block/%s", dir, links[i].link);
		th_ok(symlink(links[i].target, p) == 0, "sysfs link %s", links[i].link);
	}
	struct media *m = media_new(dir);
	th_ok(!media_removable(m, makedev(8, 0), 1), "a SATA disk is not removable");
	th_ok(media_removable(m, makedev(8, 17), 1),
	      "a partition of a USB disk is, though the disk says removable 0");
	th_ok(media_removable(m, makedev(179, 1), 1),
	      "a partition of an SD card is: its disk says removable 1");
	th_ok(!media_removable(m, makedev(0, 50), 1), "tmpfs (no block device) is not");
	/* the cache: the card is gone and its numbers now name a fixed disk */
	snprintf(p, sizeof(p), "%s/dev/block/179:1", dir);
	unlink(p);
	th_ok(symlink("../../devices/pci0/ata1/block/sda", p) == 0, "relink 179:1");
	th_ok(media_removable(m, makedev(179, 1), 2), "within the cache's life the answer stays");
	th_ok(!media_removable(m, makedev(179, 1), 2 + 6000000000ll),
	      "after it, the device is asked again");
	media_free(m);
}

int
main(void)
{
	test_parse();
	test_media();
	return th_done();
}
