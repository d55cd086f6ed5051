/* quarantine.c — see quarantine.h.
 *
 * The agent runs as root and the directories it quarantines from belong to
 * users, who may rename or replace any of them at any moment. So nothing
 * here works by path below "/": every directory on the way is opened with
 * O_NOFOLLOW|O_DIRECTORY from the one before it (the watched roots are
 * canonical, agent-config.c), the file is renamed relative to the
 * descriptor of its own directory, and what arrives in the root-only
 * quarantine directory is checked to be the object that was judged
 * (device, inode) before it is kept. A directory swapped for a symlink
 * makes the walk fail with ELOOP or ENOTDIR; a file swapped at the last
 * moment is moved back where it was found. Restores do the same in the
 * other direction, and set owner, mode and times on the file while it is
 * still inside the quarantine directory, with the mode never wider than
 * the one recorded nor the one the quarantined file has, and without
 * setuid or setgid. */
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

#include "log.h"
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

int
quarantine_open_parent(const char *path, size_t len, char **leaf)
{
	if (len < 2 || path[0] != '/' || memchr(path, '\0', len)) {
		return -EINVAL;
	}
	AUTOFREE char *copy = lw_strndup(path, len);
	for (const char *d = strstr(copy, "/.."); d; d = strstr(d + 1, "/..")) {
		if (d[3] == '/' || d[3] == '\0') {
			return -EINVAL; /* inventory paths are canonical */
		}
	}
	char *last = strrchr(copy, '/');
	if (!last[1] || strcmp(last + 1, ".") == 0 || strcmp(last + 1, "..") == 0) {
		return -EINVAL;
	}
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	*last = '\0';
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0) {
			return -e;
		}
		fd = next;
	}
	*leaf = lw_strdup(last + 1);
	return fd;
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

/* Copies the open file @in to @out. */
static int
copy_fd(int in, int out)
{
	for (;;) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (k == 0) {
			return 0;
		}
		if (k > 0) {
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL) {
			return -errno;
		}
		/* a plain copy where the kernel cannot do it */
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			int r = write_all(out, buf, (size_t)n);
			if (r < 0) {
				return r;
			}
		}
		return n < 0 ? -errno : 0;
	}
}

/* Owner, then mode (chown clears setuid bits), then times, on an open file. */
static int
set_attrs(int fd, uid_t uid, gid_t gid, mode_t mode, const struct timespec *mtime)
{
	struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, *mtime};
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || futimens(fd, times) < 0) {
		return -errno;
	}
	return 0;
}

/* Moves @from_dir/@from to @to_dir/@to, which must not exist: 0 when it
 * was renamed (the same inode, which the caller checks), 1 when copied.
 * Across file systems the file is copied and the original unlinked;
 * @expect (the source's device and inode) is checked on the open source
 * and again just before the unlink, which then removes only a name in a
 * directory whose owner could remove it anyway. */
static int
move_at(int from_dir, const char *from, int to_dir, const char *to, const struct stat *expect)
{
	if (renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0) {
		return 0;
	}
	if (errno != EXDEV) {
		return -errno;
	}
	AUTOCLOSE int in = openat(from_dir, from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (in < 0) {
		return -errno;
	}
	if (fstat(in, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != expect->st_dev || st.st_ino != expect->st_ino) {
		return -ESTALE;
	}
	AUTOCLOSE int out =
		openat(to_dir, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		return -errno;
	}
	int r = copy_fd(in, out);
	if (r == 0) {
		r = set_attrs(out, st.st_uid, st.st_gid, st.st_mode & 07777, &st.st_mtim);
	}
	if (r == 0 && fsync(out) < 0) {
		r = -errno;
	}
	struct stat now;
	if (r == 0 && (fstatat(from_dir, from, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		       now.st_dev != st.st_dev || now.st_ino != st.st_ino)) {
		r = -ESTALE;
	}
	if (r == 0 && unlinkat(from_dir, from, 0) < 0) {
		r = -errno;
	}
	if (r < 0) {
		unlinkat(to_dir, to, 0); /* the original stays; no second copy */
		return r;
	}
	return 1;
}

static char *
sidecar_json(const char *path, const struct file_rec *rec, const struct stat *st,
	     const char *violation)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, WIRE_KEY_PATH, wire_json_bytes(path, strlen(path)));
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(rec->sha256, LW_SHA256_LEN, hex);
	cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
	cJSON_AddNumberToObject(o, WIRE_KEY_MODE, st->st_mode & 07777);
	cJSON_AddNumberToObject(o, WIRE_KEY_UID, st->st_uid);
	cJSON_AddNumberToObject(o, WIRE_KEY_GID, st->st_gid);
	cJSON_AddStringToObject(o, WIRE_KEY_VIOLATION, violation);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *r = lw_strdup(text);
	cJSON_free(text);
	return r;
}

int
quarantine_move(const char *qdir, const char *id, const char *violation, const char *path,
		const struct file_rec *rec, char **stored)
{
	AUTOFREE char *leaf = NULL;
	AUTOCLOSE int dir = quarantine_open_parent(path, strlen(path), &leaf);
	if (dir < 0) {
		return dir; /* ELOOP, ENOTDIR: a symlink where a directory was */
	}
	struct stat st;
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_dev != rec->dev ||
	    (uint64_t)st.st_ino != rec->ino || st.st_size != rec->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != rec->mtime_ns) {
		return -ESTALE; /* not the file that was judged any more */
	}
	AUTOCLOSE int q = open(qdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (q < 0) {
		return -errno;
	}
	AUTOFREE char *meta = lw_asprintf("%s.json", id);
	AUTOFREE char *text = sidecar_json(path, rec, &st, violation);
	int r = 0;
	AUTOCLOSE int fd =
		openat(q, meta, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		r = -errno;
	}
	if (r == 0) {
		r = move_at(dir, leaf, q, id, &st);
	}
	struct stat got;
	if (r == 1) {
		r = 0; /* copied from the descriptor move_at() checked */
	} else if (r == 0 && (fstatat(q, id, &got, AT_SYMLINK_NOFOLLOW) < 0 ||
		       got.st_dev != st.st_dev || got.st_ino != st.st_ino)) {
		/* Swapped between the check and the rename: whatever this is,
		 * it is not what was judged, and it goes back where it was. */
		if (renameat2(q, id, dir, leaf, RENAME_NOREPLACE) < 0) {
			AUTOFREE char *shown = wire_escape_line(path, strlen(path));
			log_err("quarantine: %s: swapped while being moved; the object found is"
				" kept in %s/%s",
				shown, qdir, id);
			return -ESTALE; /* the sidecar stays beside it */
		}
		r = -ESTALE;
	}
	if (r < 0) {
		unlinkat(q, meta, 0);
		return r;
	}
	*stored = lw_asprintf("%s/%s", qdir, id);
	return 0;
}

int
quarantine_restore(const struct vstore_quarantine *q)
{
	AUTOFREE char *sleaf = NULL;
	AUTOCLOSE int sdir = quarantine_open_parent(q->stored, strlen(q->stored), &sleaf);
	if (sdir < 0) {
		return sdir;
	}
	AUTOCLOSE int in = openat(sdir, sleaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	/* Never wider than recorded, nor than the file has now, and never
	 * setuid or setgid: a restore must not hand out more than was taken. */
	mode_t mode = (q->mode & st.st_mode & 0777) | (q->mode & st.st_mode & S_ISVTX);
	struct timespec mtime = {.tv_sec = q->mtime_ns / 1000000000,
				 .tv_nsec = q->mtime_ns % 1000000000};
	int r = set_attrs(in, q->uid, q->gid, mode, &mtime);
	if (r < 0) {
		return r;
	}
	AUTOFREE char *dleaf = NULL;
	AUTOCLOSE int ddir = quarantine_open_parent(q->path, q->len, &dleaf);
	if (ddir < 0) {
		return ddir; /* a symlink on the way back is never followed */
	}
	if ((r = move_at(sdir, sleaf, ddir, dleaf, &st)) < 0) {
		return r;
	}
	/* what was renamed is what was opened: the quarantine directory is
	 * root's alone */
	AUTOFREE char *meta = lw_asprintf("%s.json", sleaf);
	unlinkat(sdir, meta, 0);
	return 0;
}
