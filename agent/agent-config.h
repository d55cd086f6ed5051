/* agent-config.h — the agent's configuration (agent.json), parsed into an
 * immutable struct. Loaded by the main thread; after that only read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "classify-limits.h"
#include "log.h"

struct agent_config {
	char *file;          /* the config file as named on the command line */
	char **roots;        /* canonical absolute directories, NULL-terminated */
	size_t nroots;
	char **exclude;      /* globs (see glob.h), NULL-terminated */
	size_t nexclude;
	char *state_dir;     /* canonical; never watched or recorded */
	char *db_path;       /* state_dir/agent.db */
	char *quarantine_dir; /* state_dir/quarantine */
	char *policy;        /* the policy file; NULL: the built-in default */
	char *backend;       /* "auto", "inotify" or "fanotify" (watch-backend.h) */
	bool process_attribution; /* name the process behind changes (procinfo.h) */
	int enforce_deadline_ms;  /* "enforce": {"deadline_ms"}: block rules' answer (enforce.h) */
	/* "collector": where events go; url NULL: the agent works locally */
	char *collector_url, *collector_ca, *collector_cert, *collector_key,
		*collector_crl;
	int heartbeat_s;     /* default 30 */
	int batch_max;       /* events per request, default 500 */
	long long outbox_max;/* events held for the collector, default 100000 */
	enum log_level log_level;
	int workers;         /* resolved: 0 in the file means eight per core */
	int rescan_interval; /* seconds between full reconciling rescans, 0 = never */
	int degraded_rescan_interval; /* seconds between rescans of unwatched dirs */
	int queue_size;      /* pending paths held in memory before the walk waits */
	/* "classify": the sandboxed classify helper */
	bool classify;           /* classify new content (default true) */
	/* classify.timeout_ms, max_file_mb, ...: common/classify-limits.h */
	struct classify_limits classify_limits;
};

/* Loads and validates @path. On failure returns -errno and writes one message
 * naming the file and the place into @err. With @need_roots false (the CLI),
 * roots need not exist and the state dir is not created. */
int agent_config_load(const char *path, bool need_roots, struct agent_config **out,
		      char *err, size_t errlen);
void agent_config_free(struct agent_config *cfg); /* NULL is a no-op */
/* @path is @dir or lies below it (everything is below "/"). */
bool agent_path_is_under(const char *path, const char *dir);
