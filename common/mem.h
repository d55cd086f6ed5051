/* mem.h — allocation that aborts on exhaustion, and scope-bound cleanup.
 *
 * lw_malloc() and friends never return NULL: a daemon that cannot get a few
 * bytes cannot do anything useful, and unchecked NULLs are worse than an
 * abort with a message. Usable from any thread. */
#pragma once

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *lw_malloc(size_t n);
void *lw_calloc(size_t nmemb, size_t size);
void *lw_realloc(void *p, size_t n);
char *lw_strdup(const char *s);
char *lw_strndup(const char *s, size_t n);
/* Like asprintf(); aborts on exhaustion. Caller frees. */
char *lw_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define lw_new(type, n) ((type *)lw_calloc((n), sizeof(type)))

/* Overwrites @n bytes at @p with zeros in a way the compiler may not drop:
 * for text extracted from sensitive files before its memory is freed.
 * explicit_bzero is glibc's vectorised memset behind a barrier, several
 * times faster than OPENSSL_cleanse's word loop on large buffers. */
static inline void
lw_wipe(void *p, size_t n)
{
	if (p && n) {
		explicit_bzero(p, n);
	}
}

static inline void
lw_freep(void *p)
{
	free(*(void **)p);
}

static inline void
lw_closep(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
	}
}

#define CLEANUP(fn) __attribute__((cleanup(fn)))
#define AUTOFREE CLEANUP(lw_freep)
#define AUTOCLOSE CLEANUP(lw_closep)

/* Hand a scope-bound pointer or fd to someone else. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) take_tmp_ = (p);                                 \
		(p) = NULL;                                                    \
		take_tmp_;                                                     \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int take_fd_ = (fd);                                           \
		(fd) = -1;                                                     \
		take_fd_;                                                      \
	})

#define LW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Built with AddressSanitizer (gcc defines __SANITIZE_ADDRESS__, clang
 * answers __has_feature): some confinement must make room for it. */
#if defined(__SANITIZE_ADDRESS__)
#define LW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LW_ASAN 1
#endif
#endif
#ifndef LW_ASAN
#define LW_ASAN 0
#endif
