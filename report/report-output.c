/* report-output.c — a report document to files (see report.h). */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "mem.h"
#include "report-render.h"
#include "report-sign.h"

int
report_format_parse(const char *s, enum report_format *out)
{
	if (strcmp(s, "html") == 0) {
		*out = REPORT_FORMAT_HTML;
	} else if (strcmp(s, "json") == 0) {
		*out = REPORT_FORMAT_JSON;
	} else if (strcmp(s, "csv") == 0) {
		*out = REPORT_FORMAT_CSV;
	} else {
		return -EINVAL;
	}
	return 0;
}

static const char *
str_at(const cJSON *doc, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, a);
	v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* leakwatch-fleet-week-2026-11-23: scope, period, first day. */
static char *
default_name(const cJSON *doc, const char *ext)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, RK_ENVELOPE);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(env, RK_PERIOD);
	const cJSON *since = cJSON_GetObjectItemCaseSensitive(p, RK_SINCE);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, RK_NAME);
	char day[11] = "undated";
	if (cJSON_IsString(since) && strlen(since->valuestring) >= 10) {
		memcpy(day, since->valuestring, 10);
		day[10] = '\0';
	}
	char *s = NULL;
	if (asprintf(&s, "leakwatch-%s-%s-%s%s", str_at(doc, RK_ENVELOPE, RK_SCOPE),
		     cJSON_IsString(name) ? name->valuestring : "custom", day, ext) < 0) {
		abort();
	}
	return s;
}

int
report_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	AUTOFREE char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0) {
		abort();
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		return -e;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", tmp, strerror(e));
			close(fd);
			unlink(tmp);
			return -e;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}

/* The HTML page in memory (it is hashed and then written atomically). */
static int
html_text(const cJSON *doc, const char *digest, char **text, size_t *len, char *err,
	  size_t errlen)
{
	FILE *f = open_memstream(text, len);
	if (!f) {
		abort();
	}
	int r = report_html_write(doc, digest, f, err, errlen);
	if (fclose(f) != 0 && r == 0) {
		snprintf(err, errlen, "HTML: %s", strerror(errno));
		r = -EIO;
	}
	return r;
}

static int
write_csv(const cJSON *doc, const char *dir, const char *digest, const char *sign_key,
	  char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	char **names = NULL;
	int r = report_csv_write(doc, dir, &names, err, errlen);
	if (r < 0) {
		return r;
	}
	size_t n = 0;
	while (names[n]) {
		n++;
	}
	struct report_file *files = lw_calloc(n, sizeof(*files));
	char **paths = lw_calloc(n, sizeof(*paths));
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s/%s", dir, names[i]) < 0) {
			abort();
		}
		files[i] = (struct report_file){.name = names[i], .path = paths[i]};
	}
	AUTOFREE char *sig = NULL;
	if (asprintf(&sig, "%s/report.sig", dir) < 0) {
		abort();
	}
	r = report_sign_write(sig, doc, digest, files, n, sign_key, err, errlen);
	for (size_t i = 0; i < n; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	free(files);
	return r;
}

int
report_write(cJSON *doc, enum report_format fmt, const char *out, const char *sign_key,
	     char **written, char *err, size_t errlen)
{
	*written = NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(doc, RK_CONTROLS);
	cJSON_AddItemToObject(doc, RK_CONTROLS, report_controls(doc, sign_key != NULL));
	AUTOFREE char *canon = report_canonical(doc);
	size_t clen = strlen(canon);
	char digest[LW_SHA256_HEX_LEN + 1];
	lw_sha256_hex(canon, clen, digest);

	static const char *const ext[] = {
		[REPORT_FORMAT_HTML] = ".html", [REPORT_FORMAT_JSON] = ".json",
		[REPORT_FORMAT_CSV] = ""};
	AUTOFREE char *path = NULL;
	struct stat st;
	if (!out) {
		if (fmt == REPORT_FORMAT_CSV) {
			snprintf(err, errlen, "--format csv writes a directory: name it with -o");
			return -EINVAL;
		}
	} else if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		AUTOFREE char *name = default_name(doc, ext[fmt]);
		if (asprintf(&path, "%s/%s", out, name) < 0) {
			abort();
		}
	} else {
		path = lw_strdup(out);
	}

	int r = 0;
	AUTOFREE char *text = NULL;
	size_t len = 0;
	switch (fmt) {
	case REPORT_FORMAT_CSV:
		r = write_csv(doc, path, digest, sign_key, err, errlen);
		if (r == 0) {
			*written = TAKE_PTR(path);
		}
		return r;
	case REPORT_FORMAT_JSON:
		text = lw_strdup(canon);
		len = clen;
		break;
	case REPORT_FORMAT_HTML:
		r = html_text(doc, digest, &text, &len, err, errlen);
		if (r < 0) {
			return r;
		}
		break;
	}
	if (!path) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
			snprintf(err, errlen, "stdout: %s", strerror(errno));
			return -EIO;
		}
		return 0;
	}
	r = report_write_file(path, text, len, err, errlen);
	if (r < 0) {
		return r;
	}
	AUTOFREE char *sig = NULL;
	if (asprintf(&sig, "%s.sig", path) < 0) {
		abort();
	}
	const char *base = strrchr(path, '/');
	struct report_file f = {.name = base ? base + 1 : path, .path = path};
	r = report_sign_write(sig, doc, digest, &f, 1, sign_key, err, errlen);
	if (r == 0) {
		*written = TAKE_PTR(path);
	}
	return r;
}
