/* wire.h — everything that crosses a process boundary is named here once:
 * the keys of `--json` output lines, of events sent to the collector and of
 * messages to the classify helper. No key string appears anywhere else.
 *
 * File names are bytes, not UTF-8. In JSON they are written losslessly with
 * the "surrogateescape" convention: valid UTF-8 passes through, every byte
 * that is not part of valid UTF-8 becomes the escape \udcXX (XX = the byte).
 * Python's os.fsencode(json.loads(...)) restores the exact bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* file inventory (leakwatch files/find --json) */
#define WIRE_KEY_PATH "path"
#define WIRE_KEY_SHA256 "sha256"
#define WIRE_KEY_SIZE "size"
#define WIRE_KEY_MTIME "mtime"
#define WIRE_KEY_CTIME "ctime"
#define WIRE_KEY_TYPE "type"
#define WIRE_KEY_KIND "kind"
#define WIRE_KEY_MODE "mode"
#define WIRE_KEY_UID "uid"
#define WIRE_KEY_GID "gid"
#define WIRE_KEY_DEV "dev"
#define WIRE_KEY_INO "ino"
#define WIRE_KEY_ERROR "error"
#define WIRE_KEY_FIRST_SEEN "first_seen"
#define WIRE_KEY_LAST_CHANGE "last_change"
#define WIRE_KEY_DELETED_AT "deleted_at"
#define WIRE_KEY_GONE "gone"
#define WIRE_KEY_MOVED_FROM "moved_from"
#define WIRE_KEY_PROCESS "process" /* who did it: agent/procinfo.h */
#define WIRE_KEY_MOVED_TO "moved_to"
#define WIRE_KEY_LINK_TARGET "link_target"

/* leakwatch status --json */
#define WIRE_KEY_AGENT_PID "pid"
#define WIRE_KEY_RUNNING "running"
#define WIRE_KEY_UPDATED "updated"
#define WIRE_KEY_ROOTS "roots"
#define WIRE_KEY_WATCHES "watches"
#define WIRE_KEY_UNWATCHED_DIRS "unwatched_dirs"
#define WIRE_KEY_COVERAGE "coverage"
#define WIRE_KEY_FILES "files"
#define WIRE_KEY_PENDING "pending"
#define WIRE_KEY_LAST_FULL_SCAN "last_full_scan"
#define WIRE_KEY_SCANNING "scanning"
#define WIRE_KEY_ERRORS "errors"
#define WIRE_KEY_OVERFLOWS "overflows"
#define WIRE_KEY_MAX_USER_WATCHES "max_user_watches"
#define WIRE_KEY_POLICY "policy"
#define WIRE_KEY_POLICY_LOADED "loaded"
#define WIRE_KEY_POLICY_TRIED "tried"
#define WIRE_KEY_VIOLATIONS "violations"
#define WIRE_KEY_COLLECTOR "collector"
#define WIRE_KEY_URL "url"
#define WIRE_KEY_SENT "sent"

/* classification (leakwatch scan --json, files --json, helper results) */
#define WIRE_KEY_CLASSIFICATION "classification"
#define WIRE_KEY_SCHEME "scheme"
#define WIRE_KEY_LEVEL "level"
#define WIRE_KEY_MARKING "marking"
#define WIRE_KEY_PII "pii"
#define WIRE_KEY_PII_TYPE "type"
#define WIRE_KEY_COUNT "count"
#define WIRE_KEY_MATCHES "matches"
#define WIRE_KEY_MATCH_ID "id"
#define WIRE_KEY_MATCH_KIND "kind"
#define WIRE_KEY_COVERAGE_SHARE "coverage"
#define WIRE_KEY_RULES "rules"
#define WIRE_KEY_MEMBERS "members"
#define WIRE_KEY_LABEL "label"
#define WIRE_KEY_FINGERPRINTS "fingerprints"
#define WIRE_KEY_FP_GEN "fp_gen" /* the helper's ready message: registered-set generation */

/* violations and the event log (doc/protocol.md; leakwatch violations,
 * quarantine list --json) */
#define WIRE_KEY_ID "id"
#define WIRE_KEY_TIME "time"
#define WIRE_KEY_RULE "rule"
#define WIRE_KEY_SEVERITY "severity"
#define WIRE_KEY_MESSAGE "message"
#define WIRE_KEY_ACTION "action"
#define WIRE_KEY_ACTION_RESULT "action_result"
#define WIRE_KEY_EVENT "event"
#define WIRE_KEY_FROM "from"
#define WIRE_KEY_FROM_ZONE "from_zone"
#define WIRE_KEY_ZONES "zones"
#define WIRE_KEY_FILE "file"
#define WIRE_KEY_OWNER "owner"
#define WIRE_KEY_WINDOW_S "window_s"
#define WIRE_KEY_VIOLATION "violation"
#define WIRE_KEY_RESTORED_AT "restored_at"
#define WIRE_EVENT_VIOLATION "violation"
#define WIRE_EVENT_SIGHTING "sighting"

/* --- the agent <-> collector protocol (doc/protocol.md) ------------------
 * Keys already defined above keep their names: "kind", "path", "sha256",
 * "size", "type", "coverage", "error", "first_seen", "classification",
 * "pii", "matches", "count", "id" (WIRE_KEY_MATCH_ID). */
#define WIRE_KEY_EVENTS "events"
#define WIRE_KEY_SEQ "seq"
#define WIRE_KEY_UUID "uuid"
#define WIRE_KEY_PREV "prev"
#define WIRE_KEY_HASH "hash"
#define WIRE_KEY_BODY "body"
#define WIRE_KEY_ACKED "acked"
#define WIRE_KEY_VERSION "version"
#define WIRE_KEY_QUEUE_DEPTH "queue_depth"
#define WIRE_KEY_LAST_SCAN "last_scan"
#define WIRE_KEY_OUTBOX_BACKLOG "outbox_backlog"
#define WIRE_KEY_AGENTS "agents"
#define WIRE_KEY_AGENT "agent"
#define WIRE_KEY_LAST_CONTACT "last_contact"
#define WIRE_KEY_LAST_SEQ "last_seq"
#define WIRE_KEY_CHAIN_OK "chain_ok"
#define WIRE_KEY_RECEIVED "received"
#define WIRE_KEY_ALERTS "alerts"
#define WIRE_KEY_DETAIL "detail"
#define WIRE_KEY_SIGHTINGS "sightings"
#define WIRE_KEY_LAST_SEEN "last_seen"
#define WIRE_KEY_DELETED "deleted"
#define WIRE_KEY_STATUS "status"
/* heartbeat members the compliance report's coverage section uses */
#define WIRE_KEY_POLICY_SHA256 "policy_sha256"
#define WIRE_KEY_STARTED "started"
#define WIRE_KEY_RESCANS "rescans"
#define WIRE_KEY_INVENTORY_FILES "inventory_files"
#define WIRE_KEY_UNEXAMINED "unexamined"
/* its members, in the order of store_unexamined() */
#define WIRE_UNEXAMINED_KINDS "permission", "size_cap", "timeout", "encrypted", "other"
/* the collector's report endpoints (doc/protocol.md, "Report queries") */
#define WIRE_KEY_FIRST_CONTACT "first_contact"
#define WIRE_KEY_EVENTS "events"
#define WIRE_KEY_FIRST_SEQ "first_seq"
#define WIRE_KEY_HEAD_SEQ "head_seq"
#define WIRE_KEY_HEAD "head"
#define WIRE_KEY_SILENT "silent"
#define WIRE_KEY_SILENT_TOTAL "silent_total"
#define WIRE_KEY_SILENT_SECONDS "silent_seconds"
#define WIRE_KEY_SILENT_NOW "silent_now"
#define WIRE_KEY_SILENT_AFTER_S "silent_after_s"
#define WIRE_KEY_SINCE "since"
#define WIRE_KEY_UNTIL "until"
#define WIRE_KEY_NOTES "notes"
#define WIRE_KEY_COUNTS "counts"
#define WIRE_KEY_WHAT "what"
#define WIRE_KEY_KEY "key"
#define WIRE_KEY_N "n"
#define WIRE_KEY_ROWS "rows"
#define WIRE_KEY_NEXT "next"
#define WIRE_KEY_ROW "row"
#define WIRE_KEY_TOTAL "total"
#define WIRE_KEY_SUPERSEDED "superseded"
/* in an answer row whose stored body does not pass the ingest rules */
#define WIRE_KEY_BODY_ERROR "body_error"
#define WIRE_KEY_RAW_BODY "raw_body"
/* kinds of the notes the collector takes from heartbeats (cstore.h) */
#define WIRE_NOTE_START "start"
#define WIRE_NOTE_POLICY "policy"
#define WIRE_NOTE_OVERFLOW "overflow"
#define WIRE_NOTE_RESCAN "rescan"
#define WIRE_NOTE_WATCH_LIMIT "watch_limit"
/* event kinds ("kind" of an event) and chain alert kinds ("kind" of an alert) */
#define WIRE_ALERT_EDIT "edit"
#define WIRE_ALERT_GAP "gap"
#define WIRE_ALERT_REPLAY "replay"
/* query parameters of the collector's GET endpoints */
#define WIRE_QUERY_SINCE "since"
#define WIRE_QUERY_SEVERITY "severity"
#define WIRE_QUERY_RULE "rule"
#define WIRE_QUERY_AGENT "agent"
#define WIRE_QUERY_LIMIT "limit"
#define WIRE_QUERY_SHA256 "sha256"
#define WIRE_QUERY_ID "id"
#define WIRE_QUERY_UNTIL "until"
#define WIRE_QUERY_AFTER "after"
#define WIRE_QUERY_ROWS "rows"
#define WIRE_ROWS_HOLDINGS "holdings"
#define WIRE_ROWS_CUSTODY "custody"
#define WIRE_ROWS_EXCERPTS "excerpts"

/* --- the classify helper protocol ---------------------------------------
 * A SOCK_STREAM socketpair between a caller (agent worker, leakwatch scan)
 * and one leakwatch-classify process. Every message is a struct
 * helper_hdr followed by @len payload bytes; requests that concern a file
 * carry its descriptor as SCM_RIGHTS ancillary data (HELPER_HDR_FD). One
 * request, one reply, in order. Anything else (unknown type, bad magic, a
 * payload over HELPER_MAX_PAYLOAD) ends the conversation: the caller kills
 * the helper and starts another. */
#define HELPER_MAGIC 0x4c57484cu /* "LWHL" */
#define HELPER_MAX_PAYLOAD ((uint32_t)64 << 20)

enum helper_msg {
	HELPER_MSG_READY = 1,       /* helper -> caller, once, payload: JSON
				     * {"fingerprints": N registered} */
	HELPER_MSG_CLASSIFY = 2,    /* caller -> helper + fd; payload: JSON
				     * {"path": name hint, "sha256": hex or absent,
				     * "size": the caller's fstat() or absent} */
	HELPER_MSG_RESULT = 3,      /* helper -> caller; payload: JSON result
				     * (keys above, plus "type", "sha256", "size",
				     * "error") */
	HELPER_MSG_FINGERPRINT = 4, /* caller -> helper + fd; payload as CLASSIFY */
	HELPER_MSG_FP_RESULT = 5,   /* helper -> caller; payload: u32 LE JSON
				     * length, the JSON ({"sha256", "type",
				     * "error", "fingerprints": n}), then the
				     * packed fingerprints (winnow_pack) */
};

struct helper_hdr {
	uint32_t magic;
	uint32_t type; /* enum helper_msg, | HELPER_HDR_FD */
	uint32_t len;
};
/* In helper_hdr.type: this message carries one descriptor. One write may
 * hold several messages; the descriptors sent with it (SCM_RIGHTS, at
 * most IPC_MAX_FDS) belong, in order, to its messages with this bit. */
#define HELPER_HDR_FD 0x80000000u

/* Appends @len bytes of @s to @out as a quoted JSON string, escaping as
 * described above. @b grows as needed. */
struct wire_buf {
	char *data;
	size_t len;
	size_t cap;
};
void wire_buf_put(struct wire_buf *b, const char *s, size_t len);
void wire_buf_json_string(struct wire_buf *b, const char *s, size_t len);
void wire_buf_fini(struct wire_buf *b);

/* A cJSON "raw" node holding @s (@len bytes) as a JSON string, escaped as
 * above (cJSON itself would mangle invalid UTF-8). NULL on exhaustion. */
cJSON *wire_json_bytes(const char *s, size_t len);

/* @v as a whole number in [@min, @max]: true and *out, or false for
 * anything else (not a number, a fraction, out of range, NaN). Converting
 * a double outside long long's range is undefined behaviour, and numbers
 * come from files and peers that may be hostile. */
bool wire_json_int(const cJSON *v, long long min, long long max, long long *out);

/* Escapes @len bytes for a human-readable single line on a terminal:
 * printable characters pass, backslash and control bytes become C escapes
 * (\n, \t, \\, \xNN), invalid UTF-8 becomes \xNN, and the C1 controls and
 * bidirectional overrides become \uNNNN. Every command that shows a name
 * or a value from a file to a person goes through this. Caller frees. */
char *wire_escape_line(const char *s, size_t len);

/* Returns the length of the valid UTF-8 sequence at @s (1-4), or 0 if the
 * bytes at @s are not valid UTF-8 (overlongs and surrogates are invalid). */
size_t wire_utf8_seq_len(const unsigned char *s, size_t avail);
