/* mounts.c — see mounts.h. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape(const char *s, size_t len)
{
	char *out = lw_malloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[o++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
					  (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* The next space-separated field of [*p, end); false at the end. */
static bool
field(const char **p, const char *end, const char **f, size_t *flen)
{
	while (*p < end && **p == ' ') {
		(*p)++;
	}
	if (*p >= end) {
		return false;
	}
	*f = *p;
	while (*p < end && **p != ' ') {
		(*p)++;
	}
	*flen = (size_t)(*p - *f);
	return true;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
static bool
parse_line(const char *p, const char *end, struct mount_entry *e)
{
	const char *f[6];
	size_t fl[6];
	for (int i = 0; i < 5; i++) {
		if (!field(&p, end, &f[i], &fl[i])) {
			return false;
		}
	}
	/* optional fields up to the lone "-" */
	const char *sep;
	size_t seplen;
	do {
		if (!field(&p, end, &sep, &seplen)) {
			return false;
		}
	} while (!(seplen == 1 && sep[0] == '-'));
	const char *type, *src;
	size_t tlen, slen;
	if (!field(&p, end, &type, &tlen) || !field(&p, end, &src, &slen)) {
		return false;
	}
	char num[32];
	snprintf(num, sizeof(num), "%.*s", (int)(fl[0] < 31 ? fl[0] : 31), f[0]);
	char *x = NULL;
	long id = strtol(num, &x, 10);
	if (*x || x == num || id < 0 || id > INT_MAX) {
		return false;
	}
	unsigned maj, min;
	snprintf(num, sizeof(num), "%.*s", (int)(fl[2] < 31 ? fl[2] : 31), f[2]);
	if (sscanf(num, "%u:%u", &maj, &min) != 2) {
		return false;
	}
	*e = (struct mount_entry){
		.id = (int)id,
		.major = maj,
		.minor = min,
		.root = unescape(f[3], fl[3]),
		.point = unescape(f[4], fl[4]),
		.fstype = unescape(type, tlen),
		.source = unescape(src, slen),
	};
	return true;
}

int
mounts_parse(const char *text, size_t len, struct mount_table *out)
{
	struct mount_table t = {0};
	size_t cap = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct mount_entry e;
		if (parse_line(p, le, &e)) {
			if (t.n == cap) {
				cap = cap ? cap * 2 : 32;
				t.v = lw_realloc(t.v, cap * sizeof(*t.v));
			}
			t.v[t.n++] = e;
		}
		p = nl ? nl + 1 : end;
	}
	mounts_free(out);
	*out = t;
	return 0;
}

void
mounts_free(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].root);
		free(t->v[i].point);
		free(t->v[i].fstype);
		free(t->v[i].source);
	}
	free(t->v);
	*t = (struct mount_table){0};
}

int
mounts_open(void)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
mounts_read(int fd, struct mount_table *out)
{
	size_t cap = 16384, len = 0;
	AUTOFREE char *buf = lw_malloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = lw_realloc(buf, cap);
		}
		ssize_t r = pread(fd, buf + len, cap - len, (off_t)len);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (r == 0) {
			break;
		}
		len += (size_t)r;
	}
	return mounts_parse(buf, len, out);
}

bool
mounts_changed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLPRI};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR));
}

const struct mount_entry *
mounts_find(const struct mount_table *t, int id)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].id == id) {
			return &t->v[i];
		}
	}
	return NULL;
}

bool
mounts_followed(const struct mount_entry *e)
{
	static const char *const skip[] = {
		"proc",	      "sysfs",	    "devtmpfs",	  "devpts", "cgroup",	 "cgroup2",
		"securityfs", "debugfs",    "tracefs",	  "fusectl", "configfs", "autofs",
		"mqueue",     "hugetlbfs",  "bpf",	  "pstore", "binfmt_misc", "nsfs",
		"efivarfs",   "overlay",    "rpc_pipefs", "selinuxfs",
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(skip); i++) {
		if (strcmp(e->fstype, skip[i]) == 0) {
			return false;
		}
	}
	return true;
}

/* @dir equals @prefix or lies below it ("/" is below everything). */
static size_t
below(const char *dir, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 1 && prefix[0] == '/') {
		return 0;
	}
	return strncmp(dir, prefix, n) == 0 && (dir[n] == '\0' || dir[n] == '/') ? n : (size_t)-1;
}

bool
mounts_is_bind_of_visible(const struct mount_table *t, const struct mount_entry *e,
			  bool (*visible)(const char *path, void *ctx), void *ctx)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct mount_entry *o = &t->v[i];
		if (o->id == e->id || o->major != e->major || o->minor != e->minor) {
			continue;
		}
		/* e's directory, seen through o: o's mount point plus the part
		 * of e's root below o's root */
		size_t k = below(e->root, o->root);
		if (k == (size_t)-1) {
			continue;
		}
		const char *tail = e->root + k;
		bool slash = o->point[strlen(o->point) - 1] == '/';
		AUTOFREE char *path = lw_asprintf("%s%s", o->point, slash && *tail == '/' ? tail + 1
										  : tail);
		if (visible(path, ctx)) {
			return true;
		}
	}
	return false;
}
