"""The collector end to end over real mutual TLS, against one store:
    test_collector.py sqlite | postgresql

Certificates come from packaging/leakwatch-certs; the real
leakwatch-collector runs on a loopback port; PostgreSQL is a private
cluster started for this test and removed after it."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from lwcollector import (CA, Chain, Collector, Postgres, keep, refused, sighting_body,
                         violation_body)
from lwtest import done, ok, skip_all

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "sqlite"

LIMITS = {"max_body_bytes": 65536, "max_events": 50, "timeout_s": 2,
          "rate_per_minute": 600000, "rate_burst": 100000}


def violations(admin, query=""):
    st, body = admin.get("/v1/violations" + query)
    assert st == 200, (st, body)
    return body["violations"]


def alerts(admin, agent):
    st, body = admin.get("/v1/alerts?agent=" + agent)
    assert st == 200, (st, body)
    return body["alerts"]


def test_config_errors(base, ca, other_ca):
    """Bad configuration: one message naming the file and the key, exit 2."""
    good = {"listen": "127.0.0.1:1", "database": os.path.join(base, "x.db"),
            "tls": {"ca": ca.ca, "cert": ca.crt("localhost"), "key": ca.key("localhost")}}
    cases = [
        ("unknown key", dict(good, listne="x"), "/listne: unknown key"),
        ("wrong type", dict(good, admins="boss"), "/admins: must be an array of strings"),
        ("missing file", dict(good, tls=dict(good["tls"], ca="/nonexistent/ca.pem")),
         "/tls/ca: /nonexistent/ca.pem: No such file or directory"),
        ("bad listen", dict(good, listen="127.0.0.1"), "/listen: must be ADDRESS:PORT"),
        ("missing tls", {k: v for k, v in good.items() if k != "tls"},
         "/tls: required key missing"),
        ("bad limit", dict(good, limits={"max_events": 0}), "/limits/max_events: must be between"),
        ("foreign scheme", dict(good, database="mysql://x"), "/database: a file path"),
        ("key of another certificate", dict(good, tls=dict(good["tls"], key=ca.key("boss"))),
         "key %s: cannot load: key values mismatch" % ca.key("boss")),
        ("certificate of another CA", dict(good, tls=dict(good["tls"], ca=other_ca)),
         "certificate %s: unable to get local issuer certificate" % ca.crt("localhost")),
    ]
    for name, cfg, want in cases:
        path = os.path.join(base, "bad.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        r = subprocess.run([os.environ["LEAKWATCH_COLLECTOR"], "-c", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode()
        ok(r.returncode == 2 and path + ": " + want in err,
           "config %s: exit 2 naming the key" % name, "rc=%d stderr=%s" % (r.returncode, err))
    path = os.path.join(base, "syntax.json")
    with open(path, "w") as f:
        f.write('{"listen": "127.0.0.1:1",\n "tls": }')
    r = subprocess.run([os.environ["LEAKWATCH_COLLECTOR"], "-c", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    ok(r.returncode == 2 and path + ":2:" in r.stderr.decode(),
       "config syntax error: line and column", r.stderr.decode())


def test_tls(col, ca, other):
    ok(col.client("agent-a").tls_version() == "TLSv1.3", "TLS 1.3 negotiated")
    ctx = ssl.create_default_context(cafile=ca.ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(ca.crt("agent-a"), ca.key("agent-a"))
    import http.client
    conn = http.client.HTTPSConnection("localhost", col.port, context=ctx, timeout=10)
    conn.request("GET", "/health")
    ok(conn.getresponse().status == 200, "TLS 1.2 client accepted")
    conn.close()
    for name, ctx in [
        ("no client certificate", col.context(None)),
        ("certificate from another CA", col.context("agent-x", ca=other)),
        ("expired certificate", col.context("expired")),
        ("revoked certificate", col.context("revoked")),
    ]:
        was, why = refused(col, ctx)
        ok(was, "refused: " + name, why)
    st, body = col.client("agent-a").get("/health")
    ok(st == 200 and body == {"status": "ok"}, "health with a valid certificate")


def test_events(col, admin):
    a = col.client("agent-a")
    ch = Chain()
    batch = ch.batch(3) + [ch.next("sighting", sighting_body(matches=["reg-003"]))]
    st, body = a.post("/v1/events", {"events": batch})
    ok(st == 200 and body == {"acked": [1, 2, 3, 4]}, "batch acknowledged", (st, body))
    got = violations(admin, "?agent=agent-a")
    ok([v["seq"] for v in got] == [1, 2, 3] and all(v["agent"] == "agent-a" for v in got),
       "violations stored once, in order, under the certificate's name", got)
    ok(got and got[0]["rule"] == "nato-secret-offsite" and got[0]["file"]["owner"] == "alice"
       and "received" in got[0], "violation carries its body and the time received", got[:1])
    # exactly once: the same batch again (an agent that missed the answer)
    st, body = a.post("/v1/events", {"events": batch})
    ok(st == 200 and body == {"acked": [1, 2, 3, 4]}, "re-sent batch acknowledged again")
    ok(len(violations(admin, "?agent=agent-a")) == 3, "re-sent batch not stored twice")
    ok(alerts(admin, "agent-a") == [], "an intact chain raises no alert",
       alerts(admin, "agent-a"))
    # the next batch continues the chain
    st, body = a.post("/v1/events", {"events": ch.batch(2, body=violation_body(severity="low"))})
    ok(st == 200 and body["acked"] == [5, 6], "next batch acknowledged")
    ok(alerts(admin, "agent-a") == [], "continued chain raises no alert")
    # filters
    ok([v["seq"] for v in violations(admin, "?agent=agent-a&severity=high")] == [1, 2, 3],
       "severity filter is a minimum")
    ok(len(violations(admin, "?agent=agent-a&since=1h")) == 5, "since 1h")
    ok(len(violations(admin, "?agent=agent-a&limit=3")) == 3 and
       violations(admin, "?agent=agent-a&limit=3")[-1]["seq"] == 6,
       "limit keeps the newest, oldest first")
    ok(violations(admin, "?agent=agent-a&since=2999-01-01T00:00:00Z") == [],
       "since in the future: nothing")
    ok(len(violations(admin, "?agent=agent-a&rule=nato-secret-offsite&limit=2")) == 2,
       "rule filter and limit")
    st, body = admin.get("/v1/violations?sevrity=high")
    ok(st == 400, "unknown query parameter refused", body)
    st, body = admin.get("/v1/violations?since=yesterday")
    ok(st == 400, "bad since refused", body)
    # trace by sha256 and by registered document id
    st, body = admin.get("/v1/trace?sha256=" + "cd" * 32)
    ok(st == 200 and len(body["sightings"]) == 1 and body["sightings"][0]["agent"] == "agent-a"
       and body["sightings"][0]["path"] == "/srv/share/report.pdf", "trace by sha256", body)
    st, body = admin.get("/v1/trace?id=reg-003")
    ok(st == 200 and len(body["sightings"]) == 1, "trace by registered id", body)
    # a file name that is not UTF-8 travels as \udcXX (wire.h) and comes back so
    st, body = a.post("/v1/events", {"events": [ch.next(body=violation_body(
        path="/home/alice/\udcffodd.docx", rule="odd-name"))]})
    got = violations(admin, "?rule=odd-name")
    ok(st == 200 and len(got) == 1 and got[0]["file"]["path"] == "/home/alice/\udcffodd.docx",
       "a non-UTF-8 file name comes back byte for byte", got)
    st, body = admin.get("/v1/trace?id=reg-00")
    ok(st == 200 and body["sightings"] == [], "trace id matches whole ids only", body)
    return ch


def test_identity(col, admin):
    """An agent cannot submit as another: the certificate names it."""
    b = col.client("agent-b")
    ch = Chain()
    ev = ch.next()
    ev["agent"] = "agent-c"
    st, body = b.post("/v1/events", {"events": [ev], "agent": "agent-c"})
    ok(st == 200, "event claiming another agent accepted as its sender's", (st, body))
    ok(violations(admin, "?agent=agent-c") == [] and
       len(violations(admin, "?agent=agent-b")) == 1,
       "stored under the certificate's name, not the claimed one")
    return ch


def test_chain_alerts(col, admin):
    g = col.client("agent-gap")
    ch = Chain()
    evs = ch.batch(5)
    st, _ = g.post("/v1/events", {"events": evs[:2] + evs[4:]})
    al = alerts(admin, "agent-gap")
    ok(st == 200 and len(al) == 1 and al[0]["kind"] == "gap" and "3-4 missing" in al[0]["detail"]
       and al[0]["seq"] == 5, "gap: alert names the missing range", al)
    ok(len(violations(admin, "?agent=agent-gap")) == 3, "gap: the event after it is stored")

    e = col.client("agent-edit")
    ch = Chain()
    evs = ch.batch(3)
    evs[1]["body"] = evs[1]["body"].replace("alice", "mallory")  # hash left as it was
    st, _ = e.post("/v1/events", {"events": evs})
    al = alerts(admin, "agent-edit")
    ok(st == 200 and [a["kind"] for a in al] == ["edit"] and al[0]["seq"] == 2,
       "edit: altered event detected", al)
    ok(len(violations(admin, "?agent=agent-edit")) == 3, "edit: the event is stored (flagged)")

    r = col.client("agent-replay")
    ch = Chain()
    evs = ch.batch(3)
    st, _ = r.post("/v1/events", {"events": evs})
    # a second machine with the same identity: its own seq 2, another uuid
    clone = Chain()
    cev = clone.batch(2)
    st, body = r.post("/v1/events", {"events": [cev[1]]})
    al = alerts(admin, "agent-replay")
    ok(st == 200 and body["acked"] == [2] and any(a["kind"] == "replay" and a["seq"] == 2
                                                  for a in al),
       "replay: a second event with a taken seq is detected", al)
    # an old event replayed with a new uuid and a re-computed hash
    fork = dict(evs[2], uuid="00000000-0000-4000-8000-000000000000")
    fork["seq"] = 4
    fork["hash"] = Chain.hash(fork["prev"], 4, fork["uuid"], fork["time"], fork["kind"],
                              fork["body"])
    st, _ = r.post("/v1/events", {"events": [fork]})
    al = alerts(admin, "agent-replay")
    ok(st == 200 and any(a["kind"] == "replay" and a["seq"] == 4 for a in al),
       "replay: prev not matching the stored predecessor is detected", al)
    st, body = admin.get("/v1/agents")
    states = {x["agent"]: x["chain_ok"] for x in body["agents"]}
    ok(states.get("agent-replay") is False and states.get("agent-a") is True,
       "agents list shows whose chain is broken", states)


def test_hostile(col, admin):
    h = col.client("agent-hostile")
    before = len(violations(admin, "?agent=agent-hostile"))
    # malformed JSON, wrong shapes
    for name, body in [("not JSON", "{\"events\": [1, 2"), ("not an object", "[1]"),
                       ("events not an array", {"events": {}}),
                       ("trailing garbage", "{\"events\": []} x"),
                       ("NUL byte", "{\"events\": []}\x00")]:
        st, resp = h.post("/v1/events", body)
        ok(st == 400 and "error" in resp, "malformed body → 400: " + name, (st, resp))
    ch = Chain()
    good = ch.batch(2)
    bad = ch.next(hash="XYZ")
    st, resp = h.post("/v1/events", {"events": good + [bad]})
    ok(st == 400 and "seq 3" in resp["error"], "one malformed event → 400 naming it", resp)
    ch2 = Chain()
    nobody = ch2.next(body={"rule": "r"})
    st, resp = h.post("/v1/events", {"events": [nobody]})
    ok(st == 400, "violation without severity → 400", resp)
    ch3 = Chain()
    st, resp = h.post("/v1/events", {"events": ch3.batch(51)})
    ok(st == 413, "more events than max_events → 413", (st, resp))
    # oversized: the full body sent (over the 64 KiB test limit) ...
    big = {"events": [Chain().next(body=violation_body(message="x" * 70000))]}
    try:
        st, resp = h.post("/v1/events", big)
    except (ConnectionError, OSError) as e:
        st, resp = "closed", repr(e)
    ok(st == 413, "oversized body → 413", (st, resp))
    # ... and only announced, then nothing: dropped at the idle timeout
    with socket.create_connection(("127.0.0.1", col.port)) as raw:
        with col.context("agent-hostile").wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nContent-Length: 500000000\r\n\r\n{\"events\": [")
            s.settimeout(60)
            try:
                first = s.recv(200)
            except (ConnectionError, ssl.SSLError, OSError) as e:
                first = repr(e).encode()
    ok(not first.startswith(b"HTTP/1.1 2"), "announced 500 MB body: refused, never read", first)
    ok(len(violations(admin, "?agent=agent-hostile")) == before, "nothing stored from any of it")
    st, resp = h.get("/v1/nothing")
    ok(st == 404, "unknown endpoint → 404")
    st, resp = h.get("/v1/events")
    ok(st == 405, "wrong method → 405", (st, resp))
    st, resp = h.post("/v1/heartbeat", {"queue_depth": "deep"})
    ok(st == 400, "heartbeat with a wrong type → 400", resp)


def test_slow_client(col):
    """Clients that open a connection and send nothing (before or after the
    TLS handshake) do not hold others up, and are dropped after timeout_s."""
    silent = socket.create_connection(("127.0.0.1", col.port))
    raw = socket.create_connection(("127.0.0.1", col.port))
    handshaken = col.context("agent-slow").wrap_socket(raw, server_hostname="localhost")
    handshaken.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    st, _ = col.client("agent-a").get("/health")
    ok(st == 200, "another agent is served while slow clients hang")
    closed = []
    for name, s in (("silent TCP", silent), ("TLS, half a request", handshaken)):
        s.settimeout(60)
        try:
            data = s.recv(4096)
            closed.append(data == b"" or data.startswith(b"HTTP/1.1 4"))
        except (ConnectionError, ssl.SSLError, OSError):
            closed.append(True)
        except socket.timeout:
            closed.append(False)
        s.close()
    ok(all(closed), "slow clients are disconnected by the server's timeout", closed)


def test_admin(col, admin):
    a = col.client("agent-a")
    for path in ("/v1/agents", "/v1/violations", "/v1/alerts", "/v1/trace?sha256=" + "0" * 64):
        st, _ = a.get(path)
        ok(st == 403, "agent certificate refused on " + path.split("?")[0])
    st, _ = admin.post("/v1/events", {"events": Chain().batch(1)})
    ok(st == 403, "admin certificate cannot submit events")
    st, body = a.post("/v1/heartbeat", {"version": "0.1.0", "coverage": 0.75, "queue_depth": 4,
                                        "last_scan": "2026-11-23T05:00:00.000Z",
                                        "outbox_backlog": 7})
    ok(st == 200 and body == {}, "heartbeat accepted", (st, body))
    st, body = admin.get("/v1/agents")
    mine = [x for x in body["agents"] if x["agent"] == "agent-a"]
    ok(st == 200 and mine and mine[0]["coverage"] == 0.75 and mine[0]["queue_depth"] == 4
       and mine[0]["outbox_backlog"] == 7 and mine[0]["version"] == "0.1.0"
       and mine[0]["last_seq"] == 7 and mine[0]["last_contact"],
       "agents list carries the heartbeat", mine)


def test_metrics(col, stored):
    st, text = col.client("agent-a").get("/metrics")
    lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
    ok(st == 200 and "# TYPE leakwatch_collector_events_total counter" in text,
       "metrics in Prometheus text format", text[:300])
    ok(float(lines.get('leakwatch_collector_events_total{result="stored"}', -1)) == stored,
       "metrics count the stored events (%d)" % stored, lines)
    ok(float(lines.get('leakwatch_collector_responses_total{code="413"}', 0)) >= 1
       and float(lines.get('leakwatch_collector_chain_alerts_total{kind="gap"}', 0)) == 1,
       "metrics count refusals and alerts", lines)


def test_flood(base, ca, database):
    """One agent flooding gets 429 while another gets through."""
    col = Collector(base, ca, database, name="flood",
                    limits={"rate_per_minute": 6, "rate_burst": 5, "timeout_s": 5}).start()
    try:
        f = col.client("agent-flood", keepalive=True)
        codes = [f.get("/health")[0] for _ in range(20)]
        ok(codes[:5] == [200] * 5 and codes.count(429) >= 10,
           "flooding agent gets 429 past its burst", codes)
        st, _ = col.client("agent-b").get("/health")
        ok(st == 200, "another agent gets through during the flood")
    finally:
        col.stop()


def test_http_client(col, ca, admin):
    """common/http-client.c (libcurl), as the agent's reporter will use it:
    POST over one kept-alive connection; refusals reported as errors."""
    probe = os.environ.get("LW_HTTP_PROBE")
    if not probe:
        return
    url = "https://localhost:%d" % col.port

    def run(name, method, path, body=b"", n=1, cert_ca=ca):
        r = subprocess.run([probe, url, ca.ca, cert_ca.crt(name), cert_ca.key(name), ca.crl,
                            method, path, str(n)], input=body, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return r.returncode, r.stdout.decode().splitlines()

    ch = Chain()
    body = json.dumps({"events": ch.batch(3)}).encode()
    rc, lines = run("agent-curl", "POST", "/v1/events", body, n=3)
    ok(rc == 0 and lines[:3] == ['200 {"acked":[1,2,3]}'] * 3,
       "http client: POST acknowledged, re-sends too", lines)
    ok(lines[-1] == "CONNECTIONS 1", "http client: three requests over one connection", lines)
    ok(len(violations(admin, "?agent=agent-curl")) == 3, "http client: stored once")
    rc, lines = run("revoked", "GET", "/health")
    # usually -EPROTO with OpenSSL's "certificate revoked"; when the server's
    # close wins the race with libcurl's read, only "no answer" is certain
    ok(rc == 1 and lines[0].startswith("ERROR -") and len(lines[0]) > 12,
       "http client: a refused certificate is an error with a message, not an answer", lines)
    rc, lines = run("agent-curl", "GET", "/v1/agents")
    ok(rc == 0 and lines[0].startswith("403 "), "http client: HTTP errors are answers", lines)


def tls_health(col, ctx, session=None):
    """GET /health on a fresh TLS connection, offering @session:
    (status or None, the session to resume next time, whether resumed)."""
    raw = socket.create_connection(("localhost", col.port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    except (ssl.SSLError, OSError):
        raw.close()
        return None, None, False
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None
        return status, s.session, s.session_reused
    except (ssl.SSLError, OSError):
        return None, None, False
    finally:
        s.close()


def test_crl_reload(col, ca):
    """A revocation takes effect on SIGHUP, without a restart; a session
    made before it is not resumed after it."""
    ca.issue("agent", "agent-late")
    st, _ = col.client("agent-late").get("/health")
    ok(st == 200, "agent-late accepted before its revocation")
    ctx = col.context("agent-late")
    st, sess, _ = tls_health(col, ctx)
    st2, _, reused = tls_health(col, ctx, sess)
    ok(st == 200 and st2 == 200 and reused, "a reconnection resumes its TLS session",
       (st, st2, reused))
    ca.run("revoke", "agent-late")
    col.proc.send_signal(signal.SIGHUP)
    end = time.time() + 30
    while time.time() < end and "TLS files reloaded" not in col.log_text():
        time.sleep(0.05)
    was, why = refused(col, col.context("agent-late"))
    ok(was, "agent-late refused after revoke + SIGHUP", why)
    st, _, reused = tls_health(col, ctx, sess)
    ok(st is None and not reused, "its session from before the reload is not resumed",
       (st, reused))
    st, _ = col.client("agent-a").get("/health")
    ok(st == 200, "others still accepted after the reload")


def test_restart(col, admin, ch):
    """Stored events survive a restart; a re-send after it is still a
    duplicate; SIGTERM exits 0."""
    rc = col.stop()
    ok(rc == 0, "SIGTERM: clean exit", col.log_text()[-2000:])
    col.start()
    a = col.client("agent-a")
    st, body = a.post("/v1/events", {"events": ch.events[-2:]})
    ok(st == 200 and body["acked"] == [6, 7], "re-send after restart acknowledged")
    ok(len(violations(admin, "?agent=agent-a")) == 6, "and not stored twice")


def test_concurrent_collectors(base, ca, pg):
    """Two collectors on one PostgreSQL database receive the same agent's
    batch at the same time: each event stored once, no false alert."""
    c1 = Collector(base, ca, pg.uri(), name="pg1", limits=LIMITS).start()
    c2 = Collector(base, ca, pg.uri(), name="pg2", limits=LIMITS).start()
    try:
        ch = Chain()
        batches = [ch.batch(20) for _ in range(5)]
        results = []

        def send(col):
            cl = col.client("agent-twin")
            for b in batches:
                results.append(cl.post("/v1/events", {"events": b})[0])

        threads = [threading.Thread(target=send, args=(c,)) for c in (c1, c2, c1, c2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admin = c1.client("boss")
        got = violations(admin, "?agent=agent-twin&limit=1000")
        ok(results == [200] * 20, "every concurrent batch acknowledged", results)
        ok(sorted(v["seq"] for v in got) == list(range(1, 101)),
           "each event stored exactly once across collectors", [v["seq"] for v in got][:20])
        ok(alerts(admin, "agent-twin") == [], "no false chain alert", alerts(admin, "agent-twin"))
        ok(pg.psql("SELECT count(*) FROM lw_events WHERE agent = 'agent-twin'") == "100",
           "the database holds 100 rows")
    finally:
        c1.stop()
        c2.stop()


def test_slow_database(base, ca, pg):
    """Storage runs off the event loop: while PostgreSQL keeps a batch
    waiting (the events table locked by another session), the collector
    still answers queries, stores another agent's heartbeat and refuses a
    malformed batch; the waiting batch is acknowledged once the lock goes,
    and stored once."""
    col = Collector(base, ca, pg.uri(), name="pgwait",
                    limits=dict(LIMITS, timeout_s=60)).start()
    locker = subprocess.Popen(pg._as_owner([os.path.join(pg.bin, "psql"), "-h", "127.0.0.1",
                                            "-p", str(pg.port), "-U", "postgres", "-q",
                                            "leakwatch"]),
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        locker.stdin.write(b"BEGIN; LOCK TABLE lw_events IN EXCLUSIVE MODE;\n")
        locker.stdin.flush()

        def until(pred, timeout=20):
            end = time.time() + timeout
            while time.time() < end:
                if pred():
                    return True
                time.sleep(0.05)
            return False

        held = until(lambda: pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c"
                                     " ON c.oid = l.relation WHERE c.relname = 'lw_events'"
                                     " AND l.mode = 'ExclusiveLock' AND l.granted") == "1")
        ok(held, "another session holds the events table locked")
        ch = Chain()
        batch = ch.batch(5)
        result = []
        t = threading.Thread(target=lambda: result.append(
            col.client("agent-wait").post("/v1/events", {"events": batch})))
        t.start()
        waiting = until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity"
                                        " WHERE wait_event_type = 'Lock'"
                                        " AND query LIKE 'INSERT INTO lw_events%'") == "1")
        ok(waiting, "the batch waits for the lock in the database")
        admin = col.client("boss")
        st, body = admin.get("/v1/agents")
        ok(st == 200 and not result, "a query is answered while the batch waits", (st, result))
        st, body = col.client("agent-b").post("/v1/heartbeat", {"version": "0.1.0"})
        ok(st == 200 and not result, "another agent's heartbeat is stored meanwhile",
           (st, body, result))
        st, body = col.client("agent-a").post("/v1/events", {"events": {}})
        ok(st == 400 and not result, "a malformed batch is refused meanwhile", (st, body))
        locker.stdin.write(b"COMMIT;\n")
        locker.stdin.close()
        locker.wait(timeout=30)
        t.join(timeout=60)
        got = violations(admin, "?agent=agent-wait&limit=100")
        ok(result and result[0][0] == 200 and result[0][1].get("acked") == [1, 2, 3, 4, 5],
           "the batch is acknowledged once the lock goes", result)
        ok(sorted(v["seq"] for v in got) == [1, 2, 3, 4, 5], "and stored once",
           [v["seq"] for v in got])
    finally:
        if locker.poll() is None:
            locker.kill()
            locker.wait()
        col.stop()


def test_fleet_cli(col, ca):
    lw = os.environ.get("LEAKWATCH")
    if not lw:
        return
    base = [lw, "--collector", "https://localhost:%d" % col.port, "--cert", ca.crt("boss"),
            "--key", ca.key("boss"), "--ca", ca.ca]

    def run(*args):
        return subprocess.run(base + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    r = run("agents", "--json")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    ok(r.returncode == 0 and any(x["agent"] == "agent-a" for x in rows),
       "fleet CLI: agents --json", r.stderr.decode())
    r = run("agents")
    ok(r.returncode == 0 and "agent-a" in r.stdout.decode() and "AGENT" in r.stdout.decode(),
       "fleet CLI: agents table", r.stdout.decode())
    r = run("violations", "--json", "--agent", "agent-a", "--severity", "high", "--since", "24h")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    ok(r.returncode == 0 and [x["seq"] for x in rows] == [1, 2, 3, 7],
       "fleet CLI: violations --json with filters", r.stdout.decode() + r.stderr.decode())
    r = run("violations", "--rule", "nato-secret-offsite", "--agent", "agent-a")
    out = r.stdout.decode()
    ok(r.returncode == 0 and out.count("nato-secret-offsite") == 5 and "/home/alice/x.docx" in out,
       "fleet CLI: violations table", out)
    r = run("violations", "--rule", "odd-name")
    ok(r.returncode == 0 and "/home/alice/\\xffodd.docx" in r.stdout.decode(),
       "fleet CLI: a non-UTF-8 byte shows as \\xNN", r.stdout.decode())
    r = run("trace", "cd" * 32)
    ok(r.returncode == 0 and "/srv/share/report.pdf" in r.stdout.decode()
       and "agent-a" in r.stdout.decode(), "fleet CLI: trace SHA256", r.stdout.decode())
    r = run("trace", "--json", "reg-003")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    ok(r.returncode == 0 and len(rows) == 1 and rows[0]["path"] == "/srv/share/report.pdf",
       "fleet CLI: trace REGISTERED-ID --json", r.stdout.decode() + r.stderr.decode())
    r = run("trace", "unknown-doc")
    ok(r.returncode == 1, "fleet CLI: trace finding nothing exits 1", r.returncode)
    r = run("alerts", "--agent", "agent-gap")
    ok(r.returncode == 0 and "gap" in r.stdout.decode(), "fleet CLI: alerts", r.stdout.decode())
    agent = [lw, "--collector", "https://localhost:%d" % col.port, "--cert", ca.crt("agent-a"),
             "--key", ca.key("agent-a"), "--ca", ca.ca, "violations"]
    r = subprocess.run(agent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    ok(r.returncode == 2 and "403" in r.stderr.decode(),
       "fleet CLI: an agent certificate is refused, exit 2", r.stderr.decode())
    r = subprocess.run(base[:1] + ["--collector", "https://localhost:%d" % col.port,
                                   "--cert", ca.crt("boss"), "--key", "/nonexistent",
                                   "--ca", ca.ca, "agents"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    ok(r.returncode == 2 and r.stderr, "fleet CLI: unreadable key → exit 2", r.stderr.decode())


def main():
    if BACKEND not in ("sqlite", "postgresql"):
        skip_all("unknown backend " + BACKEND)
    pg = None
    if BACKEND == "postgresql":
        pg = Postgres()
        if not pg.available():
            skip_all("PostgreSQL server binaries (postgresql-15) not installed")
    base = tempfile.mkdtemp(prefix="lw-collector.")
    os.chmod(base, 0o755)
    col = None
    try:
        ca = CA(base)
        other = CA(base, name="other", cn="someone else's CA")
        other.issue("agent", "agent-x")
        for n in ("agent-a", "agent-b", "agent-gap", "agent-edit", "agent-replay",
                  "agent-hostile", "agent-slow", "agent-flood", "agent-twin", "agent-curl", "agent-wait",
                  "revoked"):
            ca.issue("agent", n)
        ca.issue("agent", "expired", "--start", "20200101000000Z", "--end", "20200201000000Z")
        ca.issue("admin", "boss")
        ca.run("revoke", "revoked")
        ca.issue("collector", "localhost", "--san", "DNS:localhost,IP:127.0.0.1")
        if pg:
            pg.start()
            database = pg.uri()
        else:
            database = os.path.join(base, "collector.db")
        test_config_errors(base, ca, other.ca)
        col = Collector(base, ca, database, limits=LIMITS).start()
        admin = col.client("boss")
        test_tls(col, ca, other)
        ch = test_events(col, admin)
        test_identity(col, admin)
        test_chain_alerts(col, admin)
        test_hostile(col, admin)
        test_slow_client(col)
        test_admin(col, admin)
        # stored: agent-a 4+2+1, agent-b 1, gap 3, edit 3, replay 3+1+1
        test_metrics(col, 7 + 1 + 3 + 3 + 5)
        test_fleet_cli(col, ca)
        test_http_client(col, ca, admin)
        test_crl_reload(col, ca)
        test_restart(col, admin, ch)
        test_flood(base, ca, database)
        if pg:
            test_concurrent_collectors(base, ca, pg)
            test_slow_database(base, ca, pg)
    except Exception:  # noqa: BLE001 - a crash is a failed check with its story
        import traceback
        ok(False, "test ran to the end", traceback.format_exc() +
           ("\ncollector log:\n" + col.log_text()[-3000:] if col else "") +
           ("\npostgres log:\n" + pg.log_text() if pg and pg.base else ""))
    finally:
        if col:
            rc = col.stop()
            ok(rc in (0, None), "collector exits cleanly at the end", col.log_text()[-2000:])
        if pg:
            pg.stop()
        if keep():
            print("# kept %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
