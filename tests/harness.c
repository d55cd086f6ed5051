/* harness.c — see harness.h. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int th_count;
static int th_failed;
static char th_dir[256];

/* A test's name may quote extracted text; a newline in it would break the
 * TAP line, so control characters are printed escaped. */
__attribute__((format(printf, 2, 0))) static void
report(bool cond, const char *fmt, va_list ap)
{
	th_count++;
	if (!cond) {
		th_failed++;
	}
	char name[1024];
	vsnprintf(name, sizeof(name), fmt, ap);
	printf("%s %d - ", cond ? "ok" : "not ok", th_count);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c == '\n') {
			fputs("\\n", stdout);
		} else if (*c < 0x20) {
			printf("\\x%02x", *c);
		} else {
			putchar(*c);
		}
	}
	printf("\n");
	fflush(stdout);
}

bool
th_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(cond, fmt, ap);
	va_end(ap);
	return cond;
}

bool
th_streq(const char *got, const char *want, const char *fmt, ...)
{
	bool cond = (got == NULL && want == NULL) ||
		    (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_list ap;
	va_start(ap, fmt);
	report(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		       want ? want : "(null)");
	}
	return cond;
}

bool
th_inteq(long long got, long long want, const char *fmt, ...)
{
	bool cond = got == want;
	va_list ap;
	va_start(ap, fmt);
	report(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	}
	return cond;
}

const char *
th_tmpdir(void)
{
	if (!th_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(th_dir, sizeof(th_dir), "%s/lwtest.XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(th_dir)) {
			perror("mkdtemp");
			exit(99);
		}
	}
	return th_dir;
}

int
th_done(void)
{
	printf("1..%d\n", th_count);
	if (th_dir[0] && !getenv("LW_KEEP_TMP")) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", th_dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", th_dir);
		}
	}
	return th_failed ? 1 : 0;
}
