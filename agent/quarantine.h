/* quarantine.h — moving a file into the root-only quarantine directory
 * (state_dir/quarantine, mode 0700) and back, keeping its bytes, mode,
 * owner and times. A sidecar ID.json beside each quarantined file says
 * where it came from, so that nothing in quarantine is ever anonymous even
 * if the database row that lists it is lost. */
#pragma once

#include "store.h"
#include "vstore.h"

/* Creates @qdir (0700) if missing. */
int quarantine_dir_prepare(const char *qdir);
/* Moves @path, which must still be the file @rec describes (same device,
 * inode, size and mtime), to @qdir/@id, following no symlink on the way and
 * checking that what arrived is that file. *stored gets the new path
 * (caller frees). Returns 0, or -errno with the file left where it was
 * (-ESTALE: it is not the file judged any more). */
int quarantine_move(const char *qdir, const char *id, const char *violation,
		    const char *path, const struct file_rec *rec, char **stored);
/* Opens the directory holding the last component of the absolute @path
 * (@len bytes), walking from "/" with O_NOFOLLOW|O_DIRECTORY, so that no
 * symlink on the way is followed. Returns an O_PATH descriptor and *leaf
 * (the last component; caller frees), or -errno: -ELOOP or -ENOTDIR where
 * a symlink stands for a directory, -EINVAL for "..", "." or an empty
 * last component. */
int quarantine_open_parent(const char *path, size_t len, char **leaf);
/* Moves quarantined @q back to its path with its owner and times, and a
 * mode no wider than recorded nor than the quarantined file's, without
 * setuid or setgid. -EEXIST when something is at the path now, -ELOOP or
 * -ENOTDIR when a directory on the way was replaced by a symlink. */
int quarantine_restore(const struct vstore_quarantine *q);
