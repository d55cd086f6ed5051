/* config.c — JSON config parsing with located errors (see config.h). */
#include "config.h"

#include "json.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "readfile.h"

char *
cfg_path_beside(const char *config, const char *name)
{
	const char *slash = strrchr(config, '/');
	return name[0] == '/' || !slash ? lw_strdup(name)
					: lw_asprintf("%.*s/%s", (int)(slash - config), config, name);
}

int
cfg_fail(struct cfg_ctx *ctx, const char *where, const char *fmt, ...)
{
	if (ctx->err[0]) {
		return -EINVAL;
	}
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ctx->err, sizeof(ctx->err), "%s: %s: %s", ctx->file,
		 where && where[0] ? where : "/", what);
	return -EINVAL;
}

int
cfg_parse_buffer(struct cfg_ctx *ctx, const char *buf, size_t len, cJSON **out)
{
	/* Strict (common/json.h): a duplicate key would otherwise be
	 * silently ignored, which is exactly what a configuration must not
	 * do. Paths are bytes, so \udcXX escapes name bytes. */
	struct lw_json_error je;
	cJSON *root = NULL;
	if (lw_json_parse(buf, len, LW_JSON_BYTES, &root, &je) < 0) {
		if (je.offset == SIZE_MAX) {
			snprintf(ctx->err, sizeof(ctx->err), "%s: %s: %s", ctx->file, je.where,
				 je.msg);
			return -EPROTO;
		}
		/* line:column, which is what editors jump to */
		unsigned line, col;
		lw_json_line_col(buf, len, je.offset, &line, &col);
		bool plain = strcmp(je.msg, "syntax error") == 0;
		snprintf(ctx->err, sizeof(ctx->err), "%s:%u:%u: syntax error%s%s", ctx->file, line,
			 col, plain ? "" : ": ", plain ? "" : je.msg);
		return -EPROTO;
	}
	*out = root;
	return 0;
}

int
cfg_parse_file(struct cfg_ctx *ctx, const char *path, size_t max_bytes, cJSON **out)
{
	AUTOFREE char *buf = NULL;
	size_t got = 0;
	int r = lw_read_file(path, max_bytes, &buf, &got);
	if (r == -EINVAL) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: not a regular file", ctx->file);
	} else if (r == -EFBIG) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: larger than %zu bytes", ctx->file,
			 max_bytes);
	} else if (r < 0) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: cannot open: %s", ctx->file,
			 strerror(-r));
	}
	if (r < 0) {
		return r;
	}
	return cfg_parse_buffer(ctx, buf, got, out);
}

int
cfg_check_keys(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
	       const char *const *allowed)
{
	if (!cJSON_IsObject(obj)) {
		return cfg_fail(ctx, where, "must be an object");
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++) {
			if (strcmp(it->string, allowed[i]) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			char at[512];
			snprintf(at, sizeof(at), "%s/%s", where && strcmp(where, "/") ? where : "",
				 it->string);
			return cfg_fail(ctx, at, "unknown key");
		}
	}
	return 0;
}

static const cJSON *
member(const cJSON *obj, const char *where, const char *key, char *at, size_t atlen)
{
	snprintf(at, atlen, "%s/%s", where && strcmp(where, "/") ? where : "", key);
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int
cfg_get_string(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
	       const char *key, bool required, const char **out)
{
	char at[512];
	const cJSON *v = member(obj, where, key, at, sizeof(at));
	if (!v) {
		return required ? cfg_fail(ctx, at, "required key missing") : 0;
	}
	if (!cJSON_IsString(v)) {
		return cfg_fail(ctx, at, "must be a string");
	}
	if (strlen(v->valuestring) == 0) {
		return cfg_fail(ctx, at, "must not be empty");
	}
	*out = v->valuestring;
	return 0;
}

int
cfg_get_int(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
	    const char *key, bool required, long long min, long long max,
	    long long *out)
{
	char at[512];
	const cJSON *v = member(obj, where, key, at, sizeof(at));
	if (!v) {
		return required ? cfg_fail(ctx, at, "required key missing") : 0;
	}
	long long x;
	if (!cJSON_IsNumber(v)) {
		return cfg_fail(ctx, at, "must be a whole number");
	}
	if (!(v->valuedouble >= (double)min && v->valuedouble <= (double)max)) {
		return cfg_fail(ctx, at, "must be between %lld and %lld", min, max);
	}
	if (!wire_json_int(v, min, max, &x)) {
		return cfg_fail(ctx, at, "must be a whole number");
	}
	*out = x;
	return 0;
}

int
cfg_get_ints(struct cfg_ctx *ctx, const cJSON *obj, const char *where, void *base,
	     const struct cfg_int_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *field = (char *)base + fields[i].offset;
		long long v = fields[i].is_ll ? *(long long *)field : *(int *)field;
		int r = cfg_get_int(ctx, obj, where, fields[i].key, false, fields[i].min,
				    fields[i].max, &v);
		if (r < 0) {
			return r;
		}
		if (fields[i].is_ll) {
			*(long long *)field = v;
		} else {
			*(int *)field = (int)v;
		}
	}
	return 0;
}

int
cfg_get_log_level(struct cfg_ctx *ctx, const cJSON *obj, const char *where, const char *key,
		  enum log_level *out)
{
	const char *lvl = NULL;
	int r = cfg_get_string(ctx, obj, where, key, false, &lvl);
	if (r < 0 || !lvl) {
		return r;
	}
	if (!log_level_parse(lvl, out)) {
		char at[512];
		member(obj, where, key, at, sizeof(at));
		return cfg_fail(ctx, at, "must be one of error, warn, info, debug");
	}
	return 0;
}

int
cfg_get_bool(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
	     const char *key, bool required, bool *out)
{
	char at[512];
	const cJSON *v = member(obj, where, key, at, sizeof(at));
	if (!v) {
		return required ? cfg_fail(ctx, at, "required key missing") : 0;
	}
	if (!cJSON_IsBool(v)) {
		return cfg_fail(ctx, at, "must be true or false");
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

int
cfg_get_string_array(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		     const char *key, bool required, const char ***out, size_t *n)
{
	char at[512];
	const cJSON *v = member(obj, where, key, at, sizeof(at));
	if (!v) {
		return required ? cfg_fail(ctx, at, "required key missing") : 0;
	}
	if (!cJSON_IsArray(v)) {
		return cfg_fail(ctx, at, "must be an array of strings");
	}
	size_t cnt = (size_t)cJSON_GetArraySize(v);
	const char **arr = lw_new(const char *, cnt + 1);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			free(arr);
			char ati[540];
			snprintf(ati, sizeof(ati), "%s/%zu", at, i);
			return cfg_fail(ctx, ati, "must be a non-empty string");
		}
		arr[i++] = it->valuestring;
	}
	arr[i] = NULL;
	*out = arr;
	*n = cnt;
	return 0;
}
