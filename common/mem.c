/* mem.c — allocation wrappers that abort on exhaustion (see mem.h). */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>

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

char *
lw_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p) {
		oom(n);
	}
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
