/* media.c — see media.h. */
#include "media.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mem.h"

#define MEDIA_CACHE 16
/* a stick unplugged and another plugged in may get the same numbers */
#define MEDIA_TTL_NS (5 * 1000000000ll)

struct media {
	char *sysfs;
	struct {
		uint64_t dev;
		int64_t at;
		bool removable;
	} cache[MEDIA_CACHE];
	unsigned n, next;
};

struct media *
media_new(const char *sysfs)
{
	struct media *m = lw_new(struct media, 1);
	m->sysfs = lw_strdup(sysfs);
	return m;
}

void
media_free(struct media *m)
{
	if (m) {
		free(m->sysfs);
		free(m);
	}
}

static bool
read_one(const char *dir, const char *name)
{
	AUTOFREE char *p = lw_asprintf("%s/%s", dir, name);
	AUTOCLOSE int fd = open(p, O_RDONLY | O_CLOEXEC);
	char c = 0;
	return fd >= 0 && read(fd, &c, 1) == 1 && c == '1';
}

static bool
probe(const struct media *m, uint64_t dev)
{
	AUTOFREE char *link = lw_asprintf("%s/dev/block/%u:%u", m->sysfs, major((dev_t)dev),
					  minor((dev_t)dev));
	char real[PATH_MAX];
	if (!realpath(link, real)) {
		return false; /* no block device: tmpfs, a network file system */
	}
	if (strstr(real, "/usb")) {
		return true;
	}
	AUTOFREE char *part = lw_asprintf("%s/partition", real);
	if (access(part, F_OK) == 0) {
		char *slash = strrchr(real, '/');
		if (slash) {
			*slash = '\0'; /* the disk the partition is on */
		}
	}
	return read_one(real, "removable");
}

bool
media_removable(struct media *m, uint64_t dev, int64_t now)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->cache[i].dev == dev && now - m->cache[i].at < MEDIA_TTL_NS) {
			return m->cache[i].removable;
		}
	}
	bool r = probe(m, dev);
	unsigned slot = m->next;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->cache[i].dev == dev) {
			slot = i;
		}
	}
	if (slot == m->next) {
		m->next = (m->next + 1) % MEDIA_CACHE;
		if (m->n < MEDIA_CACHE) {
			m->n++;
		}
	}
	m->cache[slot].dev = dev;
	m->cache[slot].at = now;
	m->cache[slot].removable = r;
	return r;
}
