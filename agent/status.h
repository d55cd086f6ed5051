/* status.h — the agent's published status: a JSON object the main loop
 * writes into the inventory every second, for `leakwatch status`. */
#pragma once

#include <stdbool.h>

#include "agent-config.h"
#include "enforce.h"
#include "reporter.h"
#include "watcher.h"

/* The policy in force, for status and `leakwatch reload`. */
struct status_policy {
	const char *file;     /* NULL: the built-in default */
	long long loaded_ns;  /* when the policy in force was loaded */
	long long tried_ns;   /* the last load attempt */
	const char *error;    /* why the last attempt was refused; NULL if it was not */
	long long violations; /* raised since start */
	const struct enforce_stats *enforce; /* NULL: no enforcer */
	const char *enforce_state; /* "on", "switched off", "no block rules", "unavailable" */
};

/* Builds the status JSON (caller frees). @stopping marks the final one. */
char *status_build(const struct agent_config *cfg, const struct watcher_stats *ws,
		   const struct status_policy *pol, const struct reporter_stats *rs,
		   long long pending, long long started_ns, bool stopping);
