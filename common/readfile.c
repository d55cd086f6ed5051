/* readfile.c — see readfile.h. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

int
lw_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		return -EFBIG;
	}
	/* the size may change while we read: read to EOF, within @max */
	size_t cap = (size_t)st.st_size + 1, got = 0;
	char *b = lw_malloc(cap + 1);
	for (;;) {
		if (got == cap) {
			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			b = lw_realloc(b, cap + 1);
		}
		ssize_t n = read(fd, b + got, cap - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = errno;
			free(b);
			return -e;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	if (got > max) {
		free(b);
		return -EFBIG;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}
