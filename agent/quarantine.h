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
 * inode, size and mtime), to @qdir/@id. *stored gets the new path (caller
 * frees). Returns 0, or -errno with the file left where it was. */
int quarantine_move(const char *qdir, const char *id, const char *violation,
		    const char *path, const struct file_rec *rec, char **stored);
/* Moves quarantined @q back to its path with its mode, owner and times.
 * -EEXIST when something is at the path now. */
int quarantine_restore(const struct vstore_quarantine *q);
