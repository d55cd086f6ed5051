/* test-reporter.c — the reporter thread (agent/reporter.c) when the
 * collector cannot be reached: it keeps trying, backs off, says why, and
 * the outbox keeps every event. (Delivery to a real collector is
 * tests/integration/test_report.py.) Certificates are made by
 * packaging/leakwatch-certs, as an administrator would. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "harness.h"
#include "reporter.h"
#include "store.h"
#include "vstore.h"
#include "writer.h"

static int
unacked(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM events WHERE acked IS NULL", -1, &s,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

static bool
make_certs(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd),
		 "sh '%s/packaging/leakwatch-certs' -d '%s/ca' init --cn 'test CA' >/dev/null &&"
		 " sh '%s/packaging/leakwatch-certs' -d '%s/ca' issue agent ws-1 >/dev/null",
		 LW_SOURCE_ROOT, dir, LW_SOURCE_ROOT, dir);
	return system(cmd) == 0;
}

/* Three events in the outbox before the agent starts. */
static bool
fill_outbox(const char *db)
{
	struct store *st = NULL;
	char err[512] = "";
	if (!th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0, "open (%s)", err)) {
		return false;
	}
	struct vstore *vs = vstore_new(st);
	store_begin(st);
	for (int i = 0; i < 3; i++) {
		char uuid[CHAIN_UUID_LEN + 1];
		chain_uuid(uuid);
		int64_t seq = 0;
		th_inteq(vstore_event_append(vs, uuid, "violation", "{\"rule\":\"r\"}",
					     1000000000LL * (i + 1), &seq),
			 0, "event %d appended", i);
	}
	store_commit(st);
	vstore_free(vs);
	store_close(st);
	return true;
}

static void
test_unreachable(const char *dir)
{
	char db[400], ca[400], crt[400], key[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", dir);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/ca/ws-1.crt", dir);
	snprintf(key, sizeof(key), "%s/ca/ws-1.key", dir);
	if (!fill_outbox(db)) {
		return;
	}
	th_inteq(unacked(db), 3, "three events wait");
	struct store *st = NULL;
	struct writer *wr = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0 &&
		      writer_start(st, 1024, 0, &wr) == 0,
	      "writer starts (%s)", err);
	/* port 1 on loopback: nothing listens, the connection is refused */
	struct reporter_opts o = {.url = "https://127.0.0.1:1", .ca = ca, .cert = crt, .key = key,
				  .db_path = db, .heartbeat_s = 1, .batch_max = 2};
	struct reporter *r = NULL;
	th_ok(reporter_start(&o, wr, &r, err, sizeof(err)) == 0, "reporter starts (%s)", err);
	struct reporter_stats rs = {0};
	for (int i = 0; r && i < 300; i++) {
		reporter_get_stats(r, &rs);
		if (rs.failures >= 2) {
			break;
		}
		usleep(20000);
	}
	th_ok(rs.failures >= 2, "it tries again after a failure (%d failures)", rs.failures);
	th_ok(rs.error[0] != '\0', "and says why (%s)", rs.error);
	th_inteq(rs.sent, 0, "nothing acknowledged");
	th_inteq(rs.backlog, 3, "the backlog is the three events");
	th_ok(rs.last_ok_ns == 0, "no exchange succeeded");
	reporter_stop(r);
	writer_stop(wr);
	th_inteq(unacked(db), 3, "after the stop, the outbox still has every event");
}

/* A client certificate that does not exist is an error at start, not a
 * silent reporter that never sends. */
static void
test_bad_certificate(const char *dir)
{
	char db[400], ca[400], err[512] = "";
	snprintf(db, sizeof(db), "%s/agent.db", dir);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	struct store *st = NULL;
	struct writer *wr = NULL;
	th_ok(store_open(db, DB_MODE_WRITER, &st, err, sizeof(err)) == 0 &&
		      writer_start(st, 1024, 0, &wr) == 0,
	      "writer starts");
	struct reporter_opts o = {.url = "https://127.0.0.1:1", .ca = ca,
				  .cert = "/nonexistent.crt", .key = "/nonexistent.key",
				  .db_path = db, .heartbeat_s = 1, .batch_max = 2};
	struct reporter *r = NULL;
	err[0] = '\0';
	th_ok(reporter_start(&o, wr, &r, err, sizeof(err)) < 0 && r == NULL && err[0],
	      "a missing certificate fails the start (%s)", err);
	reporter_stop(r);
	writer_stop(wr);
}

int
main(void)
{
	const char *dir = th_tmpdir();
	if (th_ok(make_certs(dir), "certificates made by leakwatch-certs")) {
		test_unreachable(dir);
		test_bad_certificate(dir);
	}
	return th_done();
}
