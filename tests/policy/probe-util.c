/* probe-util.c — see probe-util.h. */
#include "probe-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "wire.h"

int
probe_read_all(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return r;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *b = lw_malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			b = lw_realloc(b, cap);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			int e = -errno;
			free(b);
			close(fd);
			return e;
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

void
probe_json_str(FILE *f, const char *s, size_t n)
{
	struct wire_buf b = {0};
	wire_buf_json_string(&b, s, n);
	fwrite(b.data, 1, b.len, f);
	wire_buf_fini(&b);
}
