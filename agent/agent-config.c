/* agent-config.c — agent.json: schema, validation, defaults (see agent-config.h).
 *
 * Keys: watch (required, array of absolute directories), exclude (globs),
 * state_dir (default /var/lib/leakwatch), log_level (error|warn|info|debug,
 * default info), workers (0 = one per core), rescan_interval (s, default
 * 3600), degraded_rescan_interval (s, default 60), queue_size (default
 * 16384), policy (a policy file, relative to this one; default: the built-in
 * policy, packaging/policy.json), collector (url, ca, cert, key, crl;
 * heartbeat_s, batch_max, outbox_max: where events go), backend (auto,
 * inotify or fanotify; default auto: watch-backend.h), process_attribution
 * (default true: name the process behind each change where the backend
 * can; false keeps command lines out of violations), enforce (deadline_ms:
 * how long an open of a file a block rule protects may wait for the
 * verdict before it is allowed; default 1000: enforce.h). Anything else is
 * an error: a typo must not silently disable
 * monitoring. */
#include "agent-config.h"

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

static const char *const agent_keys[] = {
	"watch", "exclude", "state_dir", "log_level", "workers", "rescan_interval",
	"degraded_rescan_interval", "queue_size", "classify", "policy", "collector", "backend",
	"process_attribution", "enforce", NULL,
};

static const char *const collector_keys[] = {
	"url", "ca", "cert", "key", "crl", "heartbeat_s", "batch_max", "outbox_max", NULL,
};

#define A struct agent_config
static const struct cfg_int_field collector_ints[] = {
	CFG_INT(A, heartbeat_s, "heartbeat_s", 1, 86400),
	CFG_INT(A, batch_max, "batch_max", 1, 1000),
	CFG_LL(A, outbox_max, "outbox_max", 10, 100000000),
};

/* top-level integers; defaults set in agent_config_load(); workers 0 is
 * resolved there to eight per core */
static const struct cfg_int_field top_ints[] = {
	CFG_INT(A, workers, "workers", 0, 256),
	CFG_INT(A, rescan_interval, "rescan_interval", 0, 31 * 86400),
	CFG_INT(A, degraded_rescan_interval, "degraded_rescan_interval", 1, 86400),
	CFG_INT(A, queue_size, "queue_size", 64, 1 << 24),
};
#undef A

static int
load_collector(struct cfg_ctx *ctx, const char *path, const cJSON *root,
	       struct agent_config *cfg, bool need_files)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "collector");
	if (!c) {
		return 0;
	}
	int r = cfg_check_keys(ctx, c, "/collector", collector_keys);
	const char *url = NULL, *ca = NULL, *cert = NULL, *key = NULL, *crl = NULL;
	if (r < 0 || (r = cfg_get_string(ctx, c, "/collector", "url", true, &url)) < 0 ||
	    (r = cfg_get_string(ctx, c, "/collector", "ca", true, &ca)) < 0 ||
	    (r = cfg_get_string(ctx, c, "/collector", "cert", true, &cert)) < 0 ||
	    (r = cfg_get_string(ctx, c, "/collector", "key", true, &key)) < 0 ||
	    (r = cfg_get_string(ctx, c, "/collector", "crl", false, &crl)) < 0) {
		return r;
	}
	if (strncmp(url, "https://", 8) != 0) {
		return cfg_fail(ctx, "/collector/url", "must start with https:// (got %s)", url);
	}
	cfg->collector_url = lw_strdup(url);
	cfg->collector_ca = cfg_path_beside(path, ca);
	cfg->collector_cert = cfg_path_beside(path, cert);
	cfg->collector_key = cfg_path_beside(path, key);
	cfg->collector_crl = crl ? cfg_path_beside(path, crl) : NULL;
	static const char *const names[] = {"ca", "cert", "key", "crl"};
	char *files[] = {cfg->collector_ca, cfg->collector_cert, cfg->collector_key,
			 cfg->collector_crl};
	for (int i = 0; need_files && i < 4; i++) {
		if (files[i] && access(files[i], R_OK) < 0) {
			char w[32];
			snprintf(w, sizeof(w), "/collector/%s", names[i]);
			return cfg_fail(ctx, w, "%s: %s", files[i], strerror(errno));
		}
	}
	return cfg_get_ints(ctx, c, "/collector", cfg, collector_ints,
			    LW_ARRAY_SIZE(collector_ints));
}

/* classify: "enabled" and the limits of the table in classify-limits.c */
static int
load_classify(struct cfg_ctx *ctx, const cJSON *root, struct agent_config *cfg)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "classify");
	if (!c) {
		return 0;
	}
	const char *keys[CLASSIFY_LIMIT_COUNT + 2] = {"enabled"};
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		keys[i + 1] = classify_limit_defs[i].key;
	}
	int r = cfg_check_keys(ctx, c, "/classify", keys);
	if (r < 0) {
		return r;
	}
	if ((r = cfg_get_bool(ctx, c, "/classify", "enabled", false, &cfg->classify)) < 0) {
		return r;
	}
	for (size_t i = 0; i < CLASSIFY_LIMIT_COUNT; i++) {
		const struct classify_limit_def *d = &classify_limit_defs[i];
		long long v = cfg->classify_limits.v[i];
		if ((r = cfg_get_int(ctx, c, "/classify", d->key, false, d->min, d->max, &v)) < 0) {
			return r;
		}
		cfg->classify_limits.v[i] = (int)v;
	}
	return 0;
}

void
agent_config_free(struct agent_config *cfg)
{
	if (!cfg) {
		return;
	}
	for (size_t i = 0; i < cfg->nroots; i++) {
		free(cfg->roots[i]);
	}
	for (size_t i = 0; i < cfg->nexclude; i++) {
		free(cfg->exclude[i]);
	}
	free(cfg->roots);
	free(cfg->exclude);
	free(cfg->state_dir);
	free(cfg->db_path);
	free(cfg->quarantine_dir);
	free(cfg->policy);
	free(cfg->backend);
	free(cfg->collector_url);
	free(cfg->collector_ca);
	free(cfg->collector_cert);
	free(cfg->collector_key);
	free(cfg->collector_crl);
	free(cfg->file);
	free(cfg);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	AUTOFREE char *p = lw_strdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				return -errno;
			}
			*s = '/';
		}
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

bool
agent_path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0) {
		return true;
	}
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int
load_roots(struct cfg_ctx *ctx, const cJSON *root, bool need_roots,
	   struct agent_config *cfg)
{
	const char **roots = NULL;
	size_t n = 0;
	int r = cfg_get_string_array(ctx, root, "/", "watch", true, &roots, &n);
	if (r < 0) {
		return r;
	}
	if (n == 0) {
		free(roots);
		return cfg_fail(ctx, "/watch", "must name at least one directory");
	}
	cfg->roots = lw_new(char *, n + 1);
	for (size_t i = 0; i < n; i++) {
		char at[64];
		snprintf(at, sizeof(at), "/watch/%zu", i);
		if (roots[i][0] != '/') {
			r = cfg_fail(ctx, at, "not an absolute path: %s", roots[i]);
			free(roots);
			return r;
		}
		char real[PATH_MAX];
		if (!realpath(roots[i], real)) {
			if (need_roots) {
				int e = errno;
				cfg_fail(ctx, at, "%s: %s", roots[i], strerror(e));
				free(roots);
				return -e;
			}
			snprintf(real, sizeof(real), "%s", roots[i]);
		} else {
			struct stat st;
			if (stat(real, &st) == 0 && !S_ISDIR(st.st_mode)) {
				r = cfg_fail(ctx, at, "not a directory: %s", roots[i]);
				free(roots);
				return r;
			}
		}
		for (size_t j = 0; j < cfg->nroots; j++) {
			if (agent_path_is_under(real, cfg->roots[j]) || agent_path_is_under(cfg->roots[j], real)) {
				r = cfg_fail(ctx, at, "%s overlaps /watch/%zu (%s)", real, j,
					     cfg->roots[j]);
				free(roots);
				return r;
			}
		}
		if (strcmp(real, "/") == 0) {
			/* inotify on a whole file system is the fanotify backend's
			 * job; a watch per directory of / would exhaust the limit */
			r = cfg_fail(ctx, at, "watching / is not supported; name the"
				     " directories that hold documents");
			free(roots);
			return r;
		}
		cfg->roots[cfg->nroots++] = lw_strdup(real);
	}
	free(roots);
	return 0;
}

int
agent_config_load(const char *path, bool need_roots, struct agent_config **out,
		  char *err, size_t errlen)
{
	struct cfg_ctx ctx = {.file = path};
	cJSON *root = NULL;
	struct agent_config *cfg = lw_new(struct agent_config, 1);
	cfg->file = lw_strdup(path);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->rescan_interval = 3600;
	cfg->degraded_rescan_interval = 60;
	cfg->queue_size = 16384;
	cfg->classify = true;
	classify_limits_default(&cfg->classify_limits);
	int r = cfg_parse_file(&ctx, path, 1 << 20, &root);
	if (r < 0) {
		goto fail;
	}
	if ((r = cfg_check_keys(&ctx, root, "/", agent_keys)) < 0 ||
	    (r = load_roots(&ctx, root, need_roots, cfg)) < 0) {
		goto fail;
	}
	const char **ex = NULL;
	size_t nex = 0;
	if ((r = cfg_get_string_array(&ctx, root, "/", "exclude", false, &ex, &nex)) < 0) {
		goto fail;
	}
	cfg->exclude = lw_new(char *, nex + 1);
	for (size_t i = 0; i < nex; i++) {
		cfg->exclude[cfg->nexclude++] = lw_strdup(ex[i]);
	}
	free(ex);
	const char *state = "/var/lib/leakwatch";
	if ((r = cfg_get_string(&ctx, root, "/", "state_dir", false, &state)) < 0) {
		goto fail;
	}
	if (state[0] != '/') {
		r = cfg_fail(&ctx, "/state_dir", "not an absolute path: %s", state);
		goto fail;
	}
	if (need_roots && (r = mkdir_p(state, 0700)) < 0) {
		cfg_fail(&ctx, "/state_dir", "%s: cannot create: %s", state, strerror(-r));
		goto fail;
	}
	char real[PATH_MAX];
	cfg->state_dir = lw_strdup(realpath(state, real) ? real : state);
	cfg->db_path = lw_asprintf("%s/agent.db", cfg->state_dir);
	cfg->quarantine_dir = lw_asprintf("%s/quarantine", cfg->state_dir);
	const char *backend = "auto";
	if ((r = cfg_get_string(&ctx, root, "/", "backend", false, &backend)) < 0) {
		goto fail;
	}
	if (strcmp(backend, "auto") != 0 && strcmp(backend, "inotify") != 0 &&
	    strcmp(backend, "fanotify") != 0) {
		r = cfg_fail(&ctx, "/backend", "must be auto, inotify or fanotify (got %s)",
			     backend);
		goto fail;
	}
	cfg->backend = lw_strdup(backend);
	cfg->enforce_deadline_ms = 1000;
	const cJSON *enf = cJSON_GetObjectItemCaseSensitive(root, "enforce");
	if (enf) {
		static const char *const ekeys[] = {"deadline_ms", NULL};
		long long dl = cfg->enforce_deadline_ms;
		if (!cJSON_IsObject(enf)) {
			r = cfg_fail(&ctx, "/enforce", "must be an object {\"deadline_ms\"}");
			goto fail;
		}
		if ((r = cfg_check_keys(&ctx, enf, "/enforce", ekeys)) < 0 ||
		    (r = cfg_get_int(&ctx, enf, "/enforce", "deadline_ms", false, 50, 60000, &dl)) <
			    0) {
			goto fail;
		}
		cfg->enforce_deadline_ms = (int)dl;
	}
	cfg->process_attribution = true;
	if ((r = cfg_get_bool(&ctx, root, "/", "process_attribution", false,
			      &cfg->process_attribution)) < 0) {
		goto fail;
	}
	const char *pol = NULL;
	if ((r = cfg_get_string(&ctx, root, "/", "policy", false, &pol)) < 0) {
		goto fail;
	}
	if (pol) {
		cfg->policy = cfg_path_beside(path, pol);
	}
	for (size_t i = 0; i < cfg->nroots; i++) {
		if (agent_path_is_under(cfg->roots[i], cfg->state_dir)) {
			r = cfg_fail(&ctx, "/watch", "%s is inside the state directory %s",
				     cfg->roots[i], cfg->state_dir);
			goto fail;
		}
	}
	if ((r = cfg_get_log_level(&ctx, root, "/", "log_level", &cfg->log_level)) < 0) {
		goto fail;
	}
	if ((r = cfg_get_ints(&ctx, root, "/", cfg, top_ints, LW_ARRAY_SIZE(top_ints))) < 0) {
		goto fail;
	}
	if (cfg->workers == 0) {
		/* Eight per core: a worker spends much of its time waiting for the
		 * disk, the queue or the writer, and idle cores are lost time.
		 * Measured on the mixed tree (2 cores): 2 workers 2.02 s warm,
		 * 7.4 s cold; 8: 1.72 s, 4.4 s; 16: 1.6 s, 3.5 s (BENCHMARKS.md).
		 * Classify helpers stay one per core (worker.c). */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		n = n > 0 ? n * 8 : 8;
		cfg->workers = (int)(n > 64 ? 64 : n);
	}
	if ((r = load_classify(&ctx, root, cfg)) < 0) {
		goto fail;
	}
	cfg->heartbeat_s = 30;
	cfg->batch_max = 500;
	cfg->outbox_max = 100000;
	if ((r = load_collector(&ctx, path, root, cfg, need_roots)) < 0) {
		goto fail;
	}
	cJSON_Delete(root);
	*out = cfg;
	return 0;
fail:
	snprintf(err, errlen, "%s", ctx.err[0] ? ctx.err : strerror(-r));
	cJSON_Delete(root);
	agent_config_free(cfg);
	return r < 0 ? r : -EINVAL;
}
