/* render.h — the collector's answers to GET /v1/agents, /v1/violations,
 * /v1/alerts and /v1/trace, one row at a time.
 *
 * Every answer is built from parsed values and written by lw_json_write(),
 * never by pasting stored text: a stored body is parsed again with the
 * ingest rules (cevent_body_parse) before its members join the row, so
 * whatever was stored (rows from before those rules included) the answer
 * is valid JSON with one value per key. A body that fails is shown as
 * {"agent", "seq", "received", "body_error", "raw_body"} instead, the raw
 * body escaped as wire_escape_line() writes a line (\xNN, \n). Any
 * thread; no state. */
#pragma once

#include <stdbool.h>

#include "cstore.h"
#include "wire.h"

/* Each appends one JSON object to @out. */
void render_agent(struct wire_buf *out, const struct cstore_agent_row *row);
void render_event(struct wire_buf *out, const struct cstore_event_row *row);
void render_alert(struct wire_buf *out, const struct cstore_alert_row *row);
