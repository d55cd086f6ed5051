/* cstore.c — the store-independent part of storage: one agent batch,
 * verified against the chain and stored in one transaction (see cstore.h).
 * Runs on a storage worker (ingest.c), on that worker's store. */
#include "cstore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "rfc3339.h"

int
cstore_open(const char *database, struct cstore **out, char *err, size_t errlen)
{
	if (strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0) {
		return cstore_pg_open(database, out, err, errlen);
	}
	return cstore_sqlite_open(database, out, err, errlen);
}

void
cstore_close(struct cstore *s)
{
	if (s) {
		s->ops->close(s);
	}
}

static int
ingest_once(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
	    int silent_after_s, struct cstore_ingest_stats *st)
{
	int64_t last_seq = 0;
	int r = s->ops->begin(s, agent, &last_seq);
	if (r < 0) {
		return r;
	}
	if (s->ops->preload && (r = s->ops->preload(s, agent, evs, n)) < 0) {
		goto fail;
	}
	char now[RFC3339_LEN];
	rfc3339_now(now);
	bool broken = false;
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		struct cevent *ev = &evs[i];
		if ((r = s->ops->has_uuid(s, agent, ev->uuid)) < 0) {
			goto fail;
		}
		if (r == 1) {
			st->duplicates++;
			continue;
		}
		struct cevent_facts f = {.last_seq = last_seq};
		char uuid[CHAIN_UUID_LEN + 1];
		if ((r = s->ops->seq_event(s, agent, ev->seq, f.prev_hash, uuid)) < 0) {
			goto fail;
		}
		if (r == 1) {
			f.seq_taken = true;
			memcpy(f.seq_taken_uuid, uuid, sizeof(uuid));
		}
		if (ev->seq > 1) {
			if ((r = s->ops->seq_event(s, agent, ev->seq - 1, f.prev_hash, uuid)) < 0) {
				goto fail;
			}
			f.have_prev = r == 1;
		}
		char computed[LW_SHA256_HEX_LEN + 1];
		cevent_hash(ev, computed);
		struct cevent_alert alerts[3];
		int nal = 0;
		unsigned flags = cevent_verify(ev, computed, &f, alerts, &nal);
		if ((r = s->ops->insert_event(s, agent, ev, flags, now)) < 0) {
			goto fail;
		}
		for (int a = 0; a < nal; a++) {
			const char *kind = cevent_alert_kind_name(alerts[a].kind);
			if ((r = s->ops->insert_alert(s, agent, kind, ev->seq, alerts[a].detail,
						      now)) < 0) {
				goto fail;
			}
			st->alerts[alerts[a].kind]++;
			broken = true;
		}
		if (ev->seq > last_seq) {
			last_seq = ev->seq;
		}
		st->stored++;
	}
	/* the contact in the same transaction: one commit (one flush to
	 * disk) per batch, not two */
	if (silent_after_s > 0 && (r = cstore_contact(s, agent, now, silent_after_s)) < 0) {
		goto fail;
	}
	if ((r = s->ops->commit(s, agent, last_seq, broken, now)) < 0) {
		goto fail;
	}
	return 0;
fail:
	s->ops->rollback(s);
	return r;
}

int
cstore_ingest_contact(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
		      int silent_after_s, struct cstore_ingest_stats *st)
{
	int r = -EAGAIN;
	/* -EAGAIN: another collector inserted the same (agent, uuid) between
	 * our check and our insert, or a serialisation failure; the whole
	 * batch is rolled back and verified again, and now sees its rows. */
	for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
		r = ingest_once(s, agent, evs, n, silent_after_s, st);
	}
	if (r == -EAGAIN) {
		log_warn("collector: %s: batch kept conflicting; the agent will retry", agent);
		r = -EIO;
	}
	return r;
}

int
cstore_ingest(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
	      struct cstore_ingest_stats *st)
{
	return cstore_ingest_contact(s, agent, evs, n, 0, st);
}

/* Counter @cur against @prev of the same run (same start time): what it
 * grew by; a restart resets the counters, so then all of @cur is new. */
static long long
grew(long long cur, int64_t prev, bool same_run)
{
	if (cur < 0) {
		return 0;
	}
	if (!same_run || prev < 0) {
		return cur;
	}
	return cur > prev ? cur - prev : 0;
}

int
cstore_contact(struct cstore *s, const char *agent, const char *now, int silent_after_s)
{
	long long ms = 0;
	char threshold[RFC3339_LEN];
	if (rfc3339_parse_ms(now, 0, &ms) < 0) {
		return -EINVAL;
	}
	rfc3339_format(ms - (long long)silent_after_s * 1000, threshold);
	return s->ops->contact(s, agent, now, threshold);
}

/* The notes are written before the heartbeat's row, and each is its own
 * statement: a crash in between repeats a note at the next heartbeat
 * rather than losing it. Two collectors taking heartbeats of one agent at
 * the same instant could both write a note; the report shows it twice,
 * which is visible and harmless, where a lock per heartbeat is not. */
int
cstore_heartbeat(struct cstore *s, const char *agent, const struct cstore_heartbeat *hb,
		 const char *now, int silent_after_s)
{
	struct cstore_agent_state prev = {.overflows = -1, .rescans = -1, .unwatched_dirs = -1};
	int r = s->ops->agent_state(s, agent, &prev);
	if (r < 0) {
		return r;
	}
	bool same_run = hb->started && strcmp(prev.started, hb->started) == 0;
	char detail[200];
	if (hb->started && !same_run) {
		/* noted when the collector learns it, as every note: the agent's
		 * own clock (the detail) cannot place it in another period */
		r = s->ops->insert_note(s, agent, now, WIRE_NOTE_START, hb->started);
	}
	if (r >= 0 && hb->policy_sha256 && strcmp(prev.policy_sha256, hb->policy_sha256) != 0) {
		/* detail: "old new" (old "-" at the first heartbeat that says) */
		snprintf(detail, sizeof(detail), "%s %s",
			 prev.policy_sha256[0] ? prev.policy_sha256 : "-", hb->policy_sha256);
		r = s->ops->insert_note(s, agent, now, WIRE_NOTE_POLICY, detail);
	}
	long long n = grew(hb->overflows, prev.overflows, same_run);
	if (r >= 0 && n > 0) {
		snprintf(detail, sizeof(detail), "%lld", n);
		r = s->ops->insert_note(s, agent, now, WIRE_NOTE_OVERFLOW, detail);
	}
	n = grew(hb->rescans, prev.rescans, same_run);
	if (r >= 0 && n > 0) {
		snprintf(detail, sizeof(detail), "%lld", n);
		r = s->ops->insert_note(s, agent, now, WIRE_NOTE_RESCAN, detail);
	}
	if (r >= 0 && hb->unwatched_dirs >= 0 && hb->unwatched_dirs != prev.unwatched_dirs &&
	    (hb->unwatched_dirs > 0 || prev.unwatched_dirs > 0)) {
		snprintf(detail, sizeof(detail), "%lld", hb->unwatched_dirs);
		r = s->ops->insert_note(s, agent, now, WIRE_NOTE_WATCH_LIMIT, detail);
	}
	if (r >= 0) {
		r = s->ops->heartbeat(s, agent, hb, now);
	}
	if (r >= 0) {
		r = cstore_contact(s, agent, now, silent_after_s);
	}
	return r < 0 ? r : 0;
}
