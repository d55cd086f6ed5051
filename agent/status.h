/* status.h — the agent's published status: a JSON object the main loop
 * writes into the inventory every second, for `leakwatch status`. */
#pragma once

#include <stdbool.h>

#include "agent-config.h"
#include "watcher.h"

/* Builds the status JSON (caller frees). @stopping marks the final one. */
char *status_build(const struct agent_config *cfg, const struct watcher_stats *ws,
		   long long pending, long long started_ns, bool stopping);
