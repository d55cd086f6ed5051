/* test-regressions.c — replays every input saved in tests/fuzz/regressions
 * (each one once crashed, hung or tripped a sanitizer) through extraction
 * and classification. In the sanitizer build a regression aborts the test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "extract.h"
#include "harness.h"

static int
member(void *ctx, const char *path, const char *type, const struct text_doc *doc)
{
	(void)ctx;
	(void)path;
	(void)type;
	struct classify_result r;
	classify_document(doc, NULL, &r);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-regressions DIR\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 2;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f) {
			th_ok(false, "%s: cannot open", de->d_name);
			continue;
		}
		static unsigned char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		struct extract_result xr;
		int r = extract_buffer(buf, n, de->d_name, NULL, member, NULL, &xr);
		th_ok(r == 0, "%s: extracted (type %s%s%s)", de->d_name, xr.type,
		      xr.error[0] ? ", " : "", xr.error);
	}
	closedir(d);
	return th_done();
}
