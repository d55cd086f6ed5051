/* render.c — answer rows from stored values (see render.h). */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "cevent.h"

static void
add_text(cJSON *o, const char *key, const char *v)
{
	/* bytes as they are; lw_json_write escapes what is not UTF-8 */
	if (v) {
		cJSON_AddStringToObject(o, key, v);
	} else {
		cJSON_AddNullToObject(o, key);
	}
}

static void
add_int(cJSON *o, const char *key, bool has, int64_t v)
{
	if (has) {
		cJSON_AddNumberToObject(o, key, (double)v);
	} else {
		cJSON_AddNullToObject(o, key);
	}
}

static void
emit(struct wire_buf *out, cJSON *o)
{
	lw_json_write(out, o);
	cJSON_Delete(o);
}

void
render_agent(struct wire_buf *out, const struct cstore_agent_row *row)
{
	cJSON *o = cJSON_CreateObject();
	add_text(o, WIRE_KEY_AGENT, row->agent);
	add_text(o, WIRE_KEY_LAST_CONTACT, row->last_contact);
	add_int(o, WIRE_KEY_LAST_SEQ, true, row->last_seq);
	add_text(o, WIRE_KEY_VERSION, row->version);
	/* a non-finite coverage stored before heartbeats were checked
	 * becomes null in lw_json_write */
	if (row->has_coverage) {
		cJSON_AddNumberToObject(o, WIRE_KEY_COVERAGE, row->coverage);
	} else {
		cJSON_AddNullToObject(o, WIRE_KEY_COVERAGE);
	}
	add_int(o, WIRE_KEY_QUEUE_DEPTH, row->has_queue_depth, row->queue_depth);
	add_text(o, WIRE_KEY_LAST_SCAN, row->last_scan);
	add_int(o, WIRE_KEY_OUTBOX_BACKLOG, row->has_outbox_backlog, row->outbox_backlog);
	cJSON_AddBoolToObject(o, WIRE_KEY_CHAIN_OK, row->chain_ok);
	emit(out, o);
}

void
render_event(struct wire_buf *out, const struct cstore_event_row *row)
{
	cJSON *o = cJSON_CreateObject();
	add_text(o, WIRE_KEY_AGENT, row->agent);
	add_int(o, WIRE_KEY_SEQ, true, row->seq);
	add_text(o, WIRE_KEY_RECEIVED, row->received);
	char err[256];
	cJSON *body = NULL;
	if (cevent_body_parse(row->body ? row->body : "", row->body ? row->body_len : 0, &body,
			     err, sizeof(err)) < 0) {
		add_text(o, WIRE_KEY_BODY_ERROR, err);
		/* escaped as a terminal line (\xNN, \n): a NUL or a control
		 * byte in it stays readable and cannot end a string early in
		 * whoever reads the answer (found by fuzz-collector) */
		char *raw = wire_escape_line(row->body ? row->body : "",
					     row->body ? row->body_len : 0);
		add_text(o, WIRE_KEY_RAW_BODY, raw);
		free(raw);
		emit(out, o);
		return;
	}
	/* the body's members move over; none can repeat ours (checked) */
	while (body->child) {
		cJSON *c = cJSON_DetachItemViaPointer(body, body->child);
		/* cJSON copies the key before it frees the node's own */
		cJSON_AddItemToObject(o, c->string, c);
	}
	cJSON_Delete(body);
	emit(out, o);
}

void
render_alert(struct wire_buf *out, const struct cstore_alert_row *row)
{
	cJSON *o = cJSON_CreateObject();
	add_text(o, WIRE_KEY_AGENT, row->agent);
	add_text(o, WIRE_KEY_KIND, row->kind);
	add_int(o, WIRE_KEY_SEQ, true, row->seq);
	add_text(o, WIRE_KEY_DETAIL, row->detail);
	add_text(o, WIRE_KEY_TIME, row->time);
	emit(out, o);
}
