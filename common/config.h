/* config.h — reading JSON configuration files with errors that name the place.
 *
 * Every error is formatted "<file>: <json-pointer>: <problem>" (or
 * "<file>:<line>:<column>: <problem>" for syntax errors) into the caller's
 * context, so that programs print exactly one precise message. Nothing here
 * keeps state between calls; any thread may use it on its own context. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "log.h"

struct cfg_ctx {
	const char *file;  /* name used in messages; borrowed */
	char err[1024];    /* first error; empty while none */
};

/* Parses @path into *out (caller frees with cJSON_Delete). Files larger than
 * @max_bytes are refused. Returns 0 or -errno (-EPROTO for a syntax error,
 * with line and column in ctx->err). */
int cfg_parse_file(struct cfg_ctx *ctx, const char *path, size_t max_bytes,
		   cJSON **out);
/* Same for a buffer already in memory; @buf need not be NUL-terminated. */
int cfg_parse_buffer(struct cfg_ctx *ctx, const char *buf, size_t len, cJSON **out);

/* @name as an include would be found: unchanged when absolute (or when
 * @config has no directory), else relative to @config's directory, so that
 * a configuration and the files it names can move together. Caller frees. */
char *cfg_path_beside(const char *config, const char *name);

/* Records "<file>: <where>: <problem>" unless an error is already recorded.
 * Always returns -EINVAL so callers can `return cfg_fail(...)`. */
int cfg_fail(struct cfg_ctx *ctx, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fails for any member of object @obj (at pointer @where) whose name is not
 * in the NULL-terminated @allowed list. Returns 0 or -EINVAL. */
int cfg_check_keys(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		   const char *const *allowed);

/* Typed getters. A missing optional member leaves *out untouched and returns
 * 0; a missing required one or a wrong type/value fails with -EINVAL.
 * Strings are borrowed from the cJSON tree. */
int cfg_get_string(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		   const char *key, bool required, const char **out);
int cfg_get_int(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		const char *key, bool required, long long min, long long max,
		long long *out);
/* One optional integer member of a configuration object, stored into the
 * int (or long long, @is_ll) at @offset in the caller's struct: a loader
 * keeps its integers in one table instead of a block per key. */
struct cfg_int_field {
	const char *key;
	size_t offset;
	bool is_ll;
	long long min, max;
};
#define CFG_INT(type, field, key, min, max) \
	{key, offsetof(type, field), false, min, max}
#define CFG_LL(type, field, key, min, max) \
	{key, offsetof(type, field), true, min, max}

/* Reads every field of @fields present in @obj into @base; an absent key
 * keeps the value already there (the default). Stops at the first error. */
int cfg_get_ints(struct cfg_ctx *ctx, const cJSON *obj, const char *where, void *base,
		 const struct cfg_int_field *fields, size_t n);

/* "log_level": error, warn, info or debug; *out untouched when missing. */
int cfg_get_log_level(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		      const char *key, enum log_level *out);
int cfg_get_bool(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
		 const char *key, bool required, bool *out);
/* An array of strings: *out is a NULL-terminated array of borrowed strings
 * (the array itself is the caller's to free), *n its length. */
int cfg_get_string_array(struct cfg_ctx *ctx, const cJSON *obj, const char *where,
			 const char *key, bool required, const char ***out,
			 size_t *n);
