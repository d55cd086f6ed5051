/* collector-config.c — collector.json (see collector-config.h).
 *
 *   {"listen": "0.0.0.0:8443",
 *    "tls": {"ca": "...", "cert": "...", "key": "...", "crl": "..."},
 *    "database": "/var/lib/leakwatch/collector.db" | "postgresql://...",
 *    "admins": ["alice"],
 *    "log_level": "info",
 *    "limits": {"max_body_bytes": 4194304, "max_events": 1000,
 *               "timeout_s": 30, "rate_per_minute": 600, "rate_burst": 120,
 *               "max_connections": 4096, "max_handshakes_per_address": 64,
 *               "silent_after_s": 90, "store_workers": 1 (SQLite) | 4 (PostgreSQL)}}
 *
 * Unknown keys are errors (a typo must not silently weaken the service);
 * every file named must be readable now, so that a broken deployment fails
 * at start with the key that is wrong, not at the first agent. */
#include "collector-config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"

static const char *const top_keys[] = {
	"listen", "tls", "database", "admins", "log_level", "limits", NULL,
};
static const char *const tls_keys[] = {"ca", "cert", "key", "crl", NULL};

void
collector_config_free(struct collector_config *cfg)
{
	if (!cfg) {
		return;
	}
	for (size_t i = 0; i < cfg->nadmins; i++) {
		free(cfg->admins[i]);
	}
	free(cfg->admins);
	free(cfg->file);
	free(cfg->listen_host);
	free(cfg->tls_ca);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_crl);
	free(cfg->database);
	free(cfg);
}

bool
collector_config_is_admin(const struct collector_config *cfg, const char *cn)
{
	for (size_t i = 0; i < cfg->nadmins; i++) {
		if (strcmp(cfg->admins[i], cn) == 0) {
			return true;
		}
	}
	return false;
}

/* "host:port", "[v6]:port" */
static int
parse_listen(struct cfg_ctx *ctx, const char *s, struct collector_config *cfg)
{
	const char *colon;
	AUTOFREE char *host = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':') {
			return cfg_fail(ctx, "/listen", "must be ADDRESS:PORT or [IPv6]:PORT");
		}
		host = lw_strndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s) {
			return cfg_fail(ctx, "/listen", "must be ADDRESS:PORT");
		}
		host = lw_strndup(s, (size_t)(colon - s));
		if (strchr(host, ':')) {
			return cfg_fail(ctx, "/listen", "IPv6 addresses go in brackets: [::1]:8443");
		}
	}
	char *end = NULL;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		return cfg_fail(ctx, "/listen", "port must be a number from 1 to 65535");
	}
	cfg->listen_host = TAKE_PTR(host);
	cfg->listen_port = (int)port;
	return 0;
}

/* A file that must be readable now; its path is kept. A relative path is
 * relative to the configuration file, as in agent.json, so that the
 * packaged collector.json can name collector/ca.crt whatever the prefix. */
static int
get_file(struct cfg_ctx *ctx, const cJSON *obj, const char *key, bool required,
	 char **out)
{
	const char *name = NULL;
	int r = cfg_get_string(ctx, obj, "/tls", key, required, &name);
	if (r < 0 || !name) {
		return r;
	}
	AUTOFREE char *v = cfg_path_beside(ctx->file, name);
	char at[64];
	snprintf(at, sizeof(at), "/tls/%s", key);
	struct stat st;
	if (stat(v, &st) < 0 || access(v, R_OK) < 0) {
		int e = errno;
		cfg_fail(ctx, at, "%s: %s", v, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		return cfg_fail(ctx, at, "%s: not a regular file", v);
	}
	*out = TAKE_PTR(v);
	return 0;
}

static int
load_tls(struct cfg_ctx *ctx, const cJSON *root, struct collector_config *cfg)
{
	const cJSON *tls = cJSON_GetObjectItemCaseSensitive(root, "tls");
	if (!tls) {
		return cfg_fail(ctx, "/tls", "required key missing");
	}
	int r;
	if ((r = cfg_check_keys(ctx, tls, "/tls", tls_keys)) < 0 ||
	    (r = get_file(ctx, tls, "ca", true, &cfg->tls_ca)) < 0 ||
	    (r = get_file(ctx, tls, "cert", true, &cfg->tls_cert)) < 0 ||
	    (r = get_file(ctx, tls, "key", true, &cfg->tls_key)) < 0 ||
	    (r = get_file(ctx, tls, "crl", false, &cfg->tls_crl)) < 0) {
		return r;
	}
	return 0;
}

static int
load_database(struct cfg_ctx *ctx, const cJSON *root, struct collector_config *cfg)
{
	const char *db = NULL;
	int r = cfg_get_string(ctx, root, "/", "database", true, &db);
	if (r < 0) {
		return r;
	}
	if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0) {
		cfg->database_is_pg = true;
		cfg->database = lw_strdup(db);
		return 0;
	}
	if (strstr(db, "://")) {
		return cfg_fail(ctx, "/database",
				"a file path, or a postgresql:// URI; nothing else");
	}
	if (db[0] != '/') {
		return cfg_fail(ctx, "/database", "not an absolute path: %s", db);
	}
	/* The directory must exist; the file is created on first start. */
	AUTOFREE char *dir = lw_strdup(db);
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return cfg_fail(ctx, "/database", "%s: directory %s does not exist", db, dir);
	}
	cfg->database = lw_strdup(db);
	return 0;
}

static int
load_admins(struct cfg_ctx *ctx, const cJSON *root, struct collector_config *cfg)
{
	const char **names = NULL;
	size_t n = 0;
	int r = cfg_get_string_array(ctx, root, "/", "admins", false, &names, &n);
	if (r < 0) {
		return r;
	}
	cfg->admins = lw_new(char *, n + 1);
	for (size_t i = 0; i < n; i++) {
		cfg->admins[cfg->nadmins++] = lw_strdup(names[i]);
	}
	free(names);
	return 0;
}

/* Every integer under "limits", with its bounds; defaults are set in
 * collector_config_load(). */
#define C struct collector_config
static const struct cfg_int_field limits[] = {
	/* 4 MiB is the protocol's batch limit; more is allowed for a fleet
	 * whose events are unusually large, less for a tight front end. */
	CFG_LL(C, max_body_bytes, "max_body_bytes", 4096, 256LL << 20),
	CFG_INT(C, max_events, "max_events", 1, 100000),
	CFG_INT(C, timeout_s, "timeout_s", 1, 3600),
	CFG_INT(C, rate_per_minute, "rate_per_minute", 1, 10000000),
	CFG_INT(C, rate_burst, "rate_burst", 1, 10000000),
	CFG_INT(C, max_connections, "max_connections", 16, 1000000),
	CFG_INT(C, max_handshakes_per_address, "max_handshakes_per_address", 1, 1000000),
	CFG_INT(C, silent_after_s, "silent_after_s", 1, 86400),
	CFG_INT(C, store_workers, "store_workers", 1, 64),
};
#undef C

static int
load_limits(struct cfg_ctx *ctx, const cJSON *root, struct collector_config *cfg)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "limits");
	if (!l) {
		return 0;
	}
	const char *keys[LW_ARRAY_SIZE(limits) + 1];
	for (size_t i = 0; i < LW_ARRAY_SIZE(limits); i++) {
		keys[i] = limits[i].key;
	}
	keys[LW_ARRAY_SIZE(limits)] = NULL;
	int r = cfg_check_keys(ctx, l, "/limits", keys);
	if (r < 0) {
		return r;
	}
	return cfg_get_ints(ctx, l, "/limits", cfg, limits, LW_ARRAY_SIZE(limits));
}

int
collector_config_load(const char *path, struct collector_config **out, char *err,
		      size_t errlen)
{
	struct cfg_ctx ctx = {.file = path};
	cJSON *root = NULL;
	struct collector_config *cfg = lw_new(struct collector_config, 1);
	cfg->file = lw_strdup(path);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->max_body_bytes = 4 << 20;
	cfg->max_events = 1000;
	cfg->timeout_s = 30;
	/* An agent sends a batch when it has events and a heartbeat a
	 * minute; ten requests a second sustained is a flood, and the burst
	 * lets a reconnecting agent drain its outbox quickly. */
	cfg->rate_per_minute = 600;
	cfg->rate_burst = 120;
	/* Sized for a large fleet on one collector; the open-file limit
	 * lowers it at start-up where it must (server.c). */
	cfg->max_connections = 4096;
	/* A handshake takes milliseconds: 64 at once from one address is an
	 * attack, or a NAT or TCP balancer in front, for which it is raised. */
	cfg->max_handshakes_per_address = 64;
	/* Three of the agent's default 30 s heartbeats: one late heartbeat
	 * is the network, three missed ones are a silence the compliance
	 * report lists. Fleets with a longer heartbeat_s raise it. */
	cfg->silent_after_s = 90;
	int r = cfg_parse_file(&ctx, path, 1 << 20, &root);
	if (r < 0) {
		goto fail;
	}
	if ((r = cfg_check_keys(&ctx, root, "/", top_keys)) < 0) {
		goto fail;
	}
	const char *listen = NULL;
	if ((r = cfg_get_string(&ctx, root, "/", "listen", true, &listen)) < 0 ||
	    (r = parse_listen(&ctx, listen, cfg)) < 0 ||
	    (r = load_tls(&ctx, root, cfg)) < 0 || (r = load_database(&ctx, root, cfg)) < 0) {
		goto fail;
	}
	/* SQLite has one writer at a time: more workers would only queue on
	 * its lock. PostgreSQL commits in parallel; four keep a 2-core
	 * collector's database busy without a connection per agent. */
	cfg->store_workers = cfg->database_is_pg ? 4 : 1;
	if ((r = load_admins(&ctx, root, cfg)) < 0 || (r = load_limits(&ctx, root, cfg)) < 0) {
		goto fail;
	}
	if ((r = cfg_get_log_level(&ctx, root, "/", "log_level", &cfg->log_level)) < 0) {
		goto fail;
	}
	cJSON_Delete(root);
	*out = cfg;
	return 0;
fail:
	snprintf(err, errlen, "%s", ctx.err[0] ? ctx.err : strerror(-r));
	cJSON_Delete(root);
	collector_config_free(cfg);
	return r < 0 ? r : -EINVAL;
}
