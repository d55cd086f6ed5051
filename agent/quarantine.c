/* quarantine.c — see quarantine.h. */
#define _FILE_OFFSET_BITS 64
#include "quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mem.h"
#include "wire.h"

int
quarantine_dir_prepare(const char *qdir)
{
	if (mkdir(qdir, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	/* an existing directory with a looser mode is tightened */
	return chmod(qdir, 0700) < 0 ? -errno : 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Copies @from to a new file @to with @st's mode, owner and times; for
 * moves across file systems. */
static int
copy_file(const char *from, const char *to, const struct stat *st)
{
	int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		return -errno;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = -errno;
		close(in);
		return e;
	}
	int r = 0;
	for (;;) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (k == 0) {
			break;
		}
		if (k < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EXDEV && errno != ENOSYS && errno != EINVAL) {
				r = -errno;
				break;
			}
			/* a plain copy where the kernel cannot do it */
			char buf[65536];
			ssize_t n;
			while ((n = read(in, buf, sizeof(buf))) > 0) {
				if ((r = write_all(out, buf, (size_t)n)) < 0) {
					break;
				}
			}
			if (n < 0) {
				r = -errno;
			}
			break;
		}
	}
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (r == 0 && (fchown(out, st->st_uid, st->st_gid) < 0 ||
		       fchmod(out, st->st_mode & 07777) < 0 || futimens(out, times) < 0 ||
		       fsync(out) < 0)) {
		r = -errno;
	}
	close(in);
	if (close(out) < 0 && r == 0) {
		r = -errno;
	}
	if (r < 0) {
		unlink(to);
	}
	return r;
}

static int
move_file(const char *from, const char *to, const struct stat *st)
{
	if (rename(from, to) == 0) {
		return 0;
	}
	if (errno != EXDEV) {
		return -errno;
	}
	int r = copy_file(from, to, st);
	if (r == 0 && unlink(from) < 0) {
		r = -errno;
		unlink(to); /* the original stays; no second copy */
	}
	return r;
}

int
quarantine_move(const char *qdir, const char *id, const char *violation, const char *path,
		const struct file_rec *rec, char **stored)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_dev != rec->dev ||
	    (uint64_t)st.st_ino != rec->ino || st.st_size != rec->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != rec->mtime_ns) {
		return -ESTALE; /* not the file that was judged any more */
	}
	char *dst = lw_asprintf("%s/%s", qdir, id);
	char *meta = lw_asprintf("%s/%s.json", qdir, id);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes(path, strlen(path)));
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(rec->sha256, LW_SHA256_LEN, hex);
	cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
	cJSON_AddNumberToObject(o, WIRE_KEY_MODE, st.st_mode & 07777);
	cJSON_AddNumberToObject(o, WIRE_KEY_UID, st.st_uid);
	cJSON_AddNumberToObject(o, WIRE_KEY_GID, st.st_gid);
	cJSON_AddStringToObject(o, WIRE_KEY_VIOLATION, violation);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	int r = 0;
	int fd = open(meta, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		r = -errno;
	}
	if (fd >= 0) {
		close(fd);
	}
	cJSON_free(text);
	if (r == 0) {
		r = move_file(path, dst, &st);
	}
	if (r < 0) {
		unlink(meta);
		free(dst);
	} else {
		*stored = dst;
	}
	free(meta);
	return r;
}

int
quarantine_restore(const struct vstore_quarantine *q)
{
	char *path = lw_strndup(q->path, q->len);
	struct stat st;
	int r = 0;
	if (lstat(path, &st) == 0) {
		r = -EEXIST;
	} else if (lstat(q->stored, &st) < 0) {
		r = -errno;
	} else {
		/* the original owner, mode and mtime, whatever happened to the
		 * quarantined copy meanwhile */
		st.st_uid = q->uid;
		st.st_gid = q->gid;
		st.st_mode = (st.st_mode & ~07777u) | (q->mode & 07777);
		st.st_mtim.tv_sec = q->mtime_ns / 1000000000;
		st.st_mtim.tv_nsec = q->mtime_ns % 1000000000;
		r = move_file(q->stored, path, &st);
		if (r == 0 && (lchown(path, q->uid, q->gid) < 0 || chmod(path, q->mode & 07777) < 0)) {
			r = -errno;
		}
		if (r == 0) {
			struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, st.st_mtim};
			utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
			char *meta = lw_asprintf("%s.json", q->stored);
			unlink(meta);
			free(meta);
		}
	}
	free(path);
	return r;
}
