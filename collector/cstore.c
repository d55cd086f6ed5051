/* cstore.c — the store-independent part of storage: one agent batch,
 * verified against the chain and stored in one transaction (see cstore.h).
 * Runs on the collector's event-loop thread. */
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
	    struct cstore_ingest_stats *st)
{
	int64_t last_seq = 0;
	int r = s->ops->begin(s, agent, &last_seq);
	if (r < 0) {
		return r;
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
	if ((r = s->ops->commit(s, agent, last_seq, broken, now)) < 0) {
		goto fail;
	}
	return 0;
fail:
	s->ops->rollback(s);
	return r;
}

int
cstore_ingest(struct cstore *s, const char *agent, struct cevent *evs, size_t n,
	      struct cstore_ingest_stats *st)
{
	int r = -EAGAIN;
	/* -EAGAIN: another collector inserted the same (agent, uuid) between
	 * our check and our insert, or a serialisation failure; the whole
	 * batch is rolled back and verified again, and now sees its rows. */
	for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
		r = ingest_once(s, agent, evs, n, st);
	}
	if (r == -EAGAIN) {
		log_warn("collector: %s: batch kept conflicting; the agent will retry", agent);
		r = -EIO;
	}
	return r;
}
