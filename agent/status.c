/* status.c — builds the status object (see status.h). Main thread. */
#include "status.h"

#include <unistd.h>

#include <cjson/cJSON.h>

#include "mem.h"
#include "wire.h"

char *
status_build(const struct agent_config *cfg, const struct watcher_stats *ws,
	     const struct status_policy *pol, const struct reporter_stats *rs,
	     long long pending, long long started_ns, bool stopping)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *roots = cJSON_AddArrayToObject(o, WIRE_KEY_ROOTS);
	for (size_t i = 0; i < cfg->nroots; i++) {
		cJSON_AddItemToArray(roots, cJSON_CreateString(cfg->roots[i]));
	}
	cJSON_AddStringToObject(o, "version", LW_VERSION);
	cJSON_AddStringToObject(o, "backend", ws->backend ? ws->backend : "inotify");
	cJSON_AddBoolToObject(o, "attribution", ws->attribution);
	cJSON_AddNumberToObject(o, WIRE_KEY_AGENT_PID, getpid());
	cJSON_AddBoolToObject(o, WIRE_KEY_RUNNING, !stopping);
	cJSON_AddNumberToObject(o, "started", (double)started_ns / 1e9);
	cJSON_AddNumberToObject(o, WIRE_KEY_WATCHES, (double)ws->watches);
	cJSON_AddNumberToObject(o, WIRE_KEY_UNWATCHED_DIRS, (double)ws->unwatched);
	double total = (double)(ws->watches + ws->unwatched);
	cJSON_AddNumberToObject(o, WIRE_KEY_COVERAGE,
				total > 0 ? (double)ws->watches / total : 1.0);
	cJSON_AddBoolToObject(o, "watch_limit_hit", ws->limit_hit);
	cJSON_AddNumberToObject(o, WIRE_KEY_MAX_USER_WATCHES, (double)ws->max_user_watches);
	cJSON_AddNumberToObject(o, "roots_missing", (double)ws->roots_missing);
	cJSON_AddNumberToObject(o, WIRE_KEY_OVERFLOWS, (double)ws->overflows);
	cJSON_AddNumberToObject(o, WIRE_KEY_PENDING, (double)pending);
	cJSON_AddBoolToObject(o, WIRE_KEY_SCANNING, ws->walks > 0);
	cJSON_AddNumberToObject(o, "full_scans_done", (double)ws->full_scans_done);
	cJSON *p = cJSON_AddObjectToObject(o, WIRE_KEY_POLICY);
	cJSON_AddItemToObject(p, WIRE_KEY_FILE,
			      pol->file ? cJSON_CreateString(pol->file) : cJSON_CreateNull());
	cJSON_AddNumberToObject(p, WIRE_KEY_POLICY_LOADED, (double)pol->loaded_ns / 1e9);
	cJSON_AddNumberToObject(p, WIRE_KEY_POLICY_TRIED, (double)pol->tried_ns / 1e9);
	cJSON_AddItemToObject(p, WIRE_KEY_ERROR,
			      pol->error ? cJSON_CreateString(pol->error) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, WIRE_KEY_VIOLATIONS, (double)pol->violations);
	if (pol->enforce) {
		cJSON *e = cJSON_AddObjectToObject(o, "enforce");
		cJSON_AddStringToObject(e, "state", pol->enforce_state);
		cJSON_AddBoolToObject(e, "active", pol->enforce->active);
		cJSON_AddNumberToObject(e, "protected_files", (double)pol->enforce->protected_files);
		cJSON_AddNumberToObject(e, "allowed", (double)pol->enforce->allowed);
		cJSON_AddNumberToObject(e, "denied", (double)pol->enforce->denied);
		cJSON_AddNumberToObject(e, "timeouts", (double)pol->enforce->timeouts);
		cJSON_AddNumberToObject(e, "unreported", (double)pol->enforce->dropped);
	}
	if (rs) {
		cJSON *c = cJSON_AddObjectToObject(o, WIRE_KEY_COLLECTOR);
		cJSON_AddStringToObject(c, WIRE_KEY_URL, cfg->collector_url);
		cJSON_AddNumberToObject(c, WIRE_KEY_SENT, (double)rs->sent);
		cJSON_AddNumberToObject(c, WIRE_KEY_OUTBOX_BACKLOG, (double)rs->backlog);
		cJSON_AddNumberToObject(c, WIRE_KEY_LAST_CONTACT, (double)rs->last_ok_ns / 1e9);
		cJSON_AddItemToObject(c, WIRE_KEY_ERROR, rs->error[0] ? cJSON_CreateString(rs->error)
								     : cJSON_CreateNull());
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s) {
		abort();
	}
	char *copy = lw_strdup(s);
	cJSON_free(s);
	return copy;
}
