/* mem.c — allocation wrappers that abort on exhaustion (see mem.h). */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
oom(size_t n)
{
	/* No allocation here: stderr is unbuffered and fprintf of a short
	 * format does not need the heap on glibc. */
	fprintf(stderr, "leakwatch: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
lw_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		oom(n);
	}
	return p;
}

void *
lw_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p) {
		oom(nmemb * size);
	}
	return p;
}

void *
lw_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		oom(n);
	}
	return q;
}

char *
lw_strdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		oom(strlen(s));
	}
	return p;
}

/* Callers pass buffers that are not NUL-terminated (SQLite blobs, inotify
 * names, BIO memory), so this must never read past s[n-1]. strndup() does
 * not either, but ASan's strict_string_checks (which CI uses) makes its
 * interceptor check strlen(s) + 1 bytes and report an overflow; memchr()
 * bounded by n says the same thing without that ambiguity. */
char *
lw_strndup(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	size_t len = nul ? (size_t)(nul - s) : n;
	char *p = lw_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
lw_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = NULL;
	int r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0) {
		oom(strlen(fmt));
	}
	return p;
}
