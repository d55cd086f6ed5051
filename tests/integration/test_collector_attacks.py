"""The collector against an enrolled but malicious agent and against
unauthenticated peers (issue 11), over real mutual TLS, one store:
    test_collector_attacks.py sqlite | postgresql

Forged records: bodies with text after them, duplicate keys, keys the
collector sets, non-finite numbers, impossible times, seq above 2^53,
control characters in query parameters, repeated Content-Length; rows
stored before those checks existed must still give valid answers, and the
fleet CLI must fail loudly on an answer it cannot parse.
Denial of service before authentication (SQLite run only; the transport
does not depend on the store): trickled handshakes and headers, and 1,100
hostile connections against a collector whose open-file limit is 1,024."""
import json
import os
import resource
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from lwcollector import CA, Chain, Collector, Postgres, keep, violation_body, sighting_body
from lwtest import done, ok, skip_all

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
LEAKWATCH = os.environ.get("LEAKWATCH")
LIMITS = {"timeout_s": 2, "rate_per_minute": 600000, "rate_burst": 100000}


def strict_loads(text):
    """json.loads that refuses duplicate keys (Python keeps the last)."""
    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key in %r" % keys)
        return dict(items)
    return json.loads(text, object_pairs_hook=pairs,
                      parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def get_strict(client, path):
    """(status, parsed) of an answer that must be strict JSON."""
    conn = client._conn()
    conn.request("GET", path)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    client.conn = None
    return resp.status, strict_loads(data.decode())


def fleet(col, ca, *args):
    return subprocess.run([LEAKWATCH, "--collector", "https://localhost:%d" % col.port,
                           "--cert", ca.crt("boss"), "--key", ca.key("boss"), "--ca", ca.ca]
                          + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


def test_forged_bodies(col, admin):
    """An agent pasting another agent's record after its own is refused;
    nothing of it reaches the answers."""
    a = col.client("ws-a")
    ch = Chain()
    st, _ = a.post("/v1/events", {"events": [ch.next()]})
    ok(st == 200, "ws-a's honest event stored")
    forged_v = ('{"rule":"r2","severity":"low"},{"agent":"ws-b","seq":99,'
                '"rule":"forged","severity":"critical","file":{"path":"/secret/x"}}')
    forged_s = ('{"sha256":"%s","path":"/media/usb/x"},{"agent":"ws-b","sha256":"%s",'
                '"path":"/media/usb/forged"}' % ("ee" * 32, "ee" * 32))
    cases = [
        ("a second violation after the body", "violation", forged_v, "text after the end"),
        ("a second sighting after the body", "sighting", forged_s, "text after the end"),
        ("garbage after the body", "violation",
         '{"rule":"r","severity":"low"}]} GARBAGE', "text after the end"),
        ("the agent key in the body", "violation",
         '{"rule":"r","severity":"critical","agent":"ws-b"}', 'must not carry \\"agent\\"'),
        ("seq in the body", "violation", '{"rule":"r","severity":"low","seq":5}',
         'must not carry \\"seq\\"'),
        ("a duplicate severity", "violation",
         '{"rule":"r","severity":"low","severity":"critical"}', 'duplicate key'),
        ("a duplicate nested path", "violation",
         '{"rule":"r","severity":"low","file":{"path":"/a","path":"/b"}}', 'duplicate key'),
        ("an infinite size", "violation", '{"rule":"r","severity":"low","size":1e999}',
         "number out of range"),
    ]
    for name, kind, body, want in cases:
        c = Chain()
        c.seq, c.prev = ch.seq, ch.prev
        ev = c.next(kind, body=body)
        st, resp = a.post("/v1/events", {"events": [ev]})
        ok(st == 400 and want in json.dumps(resp), "refused: " + name, (st, resp))
    st, body = get_strict(admin, "/v1/violations")
    ok(st == 200 and not any(v.get("agent") == "ws-b" or v.get("rule") == "forged"
                             for v in body["violations"]),
       "no violation by ws-b in /v1/violations", body)
    st, body = get_strict(admin, "/v1/trace?sha256=" + "ee" * 32)
    ok(st == 200 and body["sightings"] == [], "no forged sighting in /v1/trace", body)
    # the envelope too: a duplicate key there is refused whole
    ev = Chain().next()
    text = json.dumps({"events": [ev]})[:-1] + ', "events": []}'
    st, resp = a.post("/v1/events", text)
    ok(st == 400 and "duplicate key" in resp.get("error", ""),
       "a batch with a duplicate key is refused", (st, resp))
    return ch


def test_protocol_values(col, admin):
    a = col.client("ws-values")
    c = Chain()
    ev = c.next(time="2026-13-45T99:99:99Z")
    st, resp = a.post("/v1/events", {"events": [ev]})
    ok(st == 400 and "time must be" in resp["error"], "impossible time refused", resp)
    c = Chain()
    ev = c.next(time="2026-02-30T10:00:00.000Z")
    st, resp = a.post("/v1/events", {"events": [ev]})
    ok(st == 400, "30 February refused", resp)
    c = Chain()
    ev = c.next()
    text = json.dumps({"events": [ev]}).replace('"seq": 1,', '"seq": 9007199254740993,')
    st, resp = a.post("/v1/events", text)
    ok(st == 400 and "seq" in resp["error"], "seq above 2^53 refused", (st, resp))
    st, resp = a.post("/v1/heartbeat", '{"version":"0.1.0","coverage":1e999}')
    ok(st == 400, "heartbeat with coverage 1e999 refused", (st, resp))
    st, resp = a.post("/v1/heartbeat", '{"coverage":7.5}')
    ok(st == 400, "heartbeat with coverage 7.5 refused", (st, resp))
    st, resp = a.post("/v1/heartbeat", '{"last_scan":"2026-13-45T99:99:99Z"}')
    ok(st == 400, "heartbeat with an impossible last_scan refused", (st, resp))
    st, resp = a.post("/v1/heartbeat", '{"version":"a\\u001b[2Jb"}')
    ok(st == 400, "heartbeat with a terminal escape in version refused", (st, resp))
    for q in ("/v1/trace?id=a%0Ab", "/v1/violations?rule=r%0D", "/v1/violations?agent=%1b[31m",
              "/v1/trace?id=%ff"):
        st, resp = admin.get(q)
        ok(st == 400, "query %s refused" % q, (st, resp))


def raw_request(col, name, data, wait=5):
    """Sends @data over a fresh mutual-TLS connection; returns (all bytes
    read until the server closed or @wait passed, closed?)."""
    raw = socket.create_connection(("127.0.0.1", col.port))
    s = col.context(name).wrap_socket(raw, server_hostname="localhost")
    s.sendall(data)
    s.settimeout(wait)
    got = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    except socket.timeout:
        pass
    except (ConnectionError, ssl.SSLError, OSError):
        closed = True
    s.close()
    return got, closed


def test_content_length(col, admin):
    body = json.dumps({"events": [Chain().next()]}).encode()
    req = (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body))) + body
    got, closed = raw_request(col, "ws-cl", req)
    ok(got.startswith(b"HTTP/1.1 400") and closed,
       "repeated Content-Length: 400 and the connection closed", got[:200])
    smuggle = b"GET /v1/agents HTTP/1.1\r\nHost: x\r\n\r\n"
    req = (b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
           b"Content-Length: %d\r\n\r\n{}" % (2 + len(smuggle))) + smuggle
    got, closed = raw_request(col, "ws-cl", req)
    ok(got.count(b"HTTP/1.1 ") == 1 and closed,
       "the bytes after a repeated Content-Length are not read as a second request", got)
    req = (b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    got, closed = raw_request(col, "ws-cl", req)
    ok(got.startswith(b"HTTP/1.1 400") and closed,
       "Content-Length with Transfer-Encoding: 400 and closed", got[:200])


def insert_old_row(col, pg, database, agent, seq, body):
    """A row as a collector before issue 11 would have stored it."""
    rec = "2026-11-01T00:00:00.000Z"
    args = (agent, seq, "00000000-0000-4000-8000-%012d" % seq, rec, "violation", "0" * 64,
            "0" * 64, body, rec, 0, "old", 4)
    if pg:
        esc = [("'" + str(x).replace("'", "''") + "'") if isinstance(x, str) else str(x)
               for x in args]
        pg.psql("INSERT INTO lw_events (agent, seq, uuid, time, kind, prev, hash, body,"
                " received, flags, rule, severity) VALUES (%s)" % ", ".join(esc))
    else:
        db = sqlite3.connect(database, timeout=30)
        db.execute("INSERT INTO events (agent, seq, uuid, time, kind, prev, hash, body,"
                   " received, flags, rule, severity) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", args)
        db.commit()
        db.close()


def test_old_rows(col, admin, ca, pg, database):
    """Rows stored before the checks cannot shape an answer: it stays
    valid JSON with one value per key, later rows still come, and the CLI
    shows the bad row as unreadable."""
    insert_old_row(col, pg, database, "ws-old", 1,
                   '{"rule":"r2","severity":"low"},{"agent":"ws-b","seq":99,'
                   '"severity":"critical"}')
    insert_old_row(col, pg, database, "ws-old", 2, '{"rule":"r","severity":"low"}]} GARBAGE')
    insert_old_row(col, pg, database, "ws-old", 3,
                   '{"rule":"r","severity":"low","agent":"ws-b"}')
    insert_old_row(col, pg, database, "ws-old", 4,
                   '{"rule":"late","severity":"low","file":{"path":"/after"}}')
    try:
        st, body = get_strict(admin, "/v1/violations?agent=ws-old")
        rows = body["violations"]
    except ValueError as e:
        st, rows = "invalid JSON", [repr(e)]
    ok(st == 200 and len(rows) == 4, "old forged rows: the answer is strict JSON", rows)
    ok(all(r.get("agent") == "ws-old" for r in rows), "each row names its own agent once", rows)
    ok([("body_error" in r) for r in rows] == [True, True, True, False],
       "the forged rows are marked unreadable, the honest one is whole", rows)
    ok(rows[-1:] and rows[-1].get("rule") == "late", "the row after them is there", rows)
    if LEAKWATCH:
        r = fleet(col, ca, "violations", "--agent", "ws-old")
        out = r.stdout.decode()
        ok(r.returncode == 0 and out.count("stored body unreadable") == 3 and "/after" in out
           and "ws-b" not in out, "fleet CLI: forged rows shown as unreadable", out)


class BadCollector:
    """A TLS peer with the collector's certificate that answers garbage, as
    a collector with rows from before the fix once did."""

    def __init__(self, ca, answer):
        self.answer = answer
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca.crt("localhost"), ca.key("localhost"))
        ctx.load_verify_locations(ca.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
                s = self.ctx.wrap_socket(c, server_side=True)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += s.recv(4096)
                body = self.answer.encode()
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
                s.close()
            except OSError:
                return


def test_cli_fails_loudly(ca):
    if not LEAKWATCH:
        return
    answers = [
        ("truncated", '{"violations":[{"agent":"ws-a","seq":1,"rule":"r"},{"agent":"ws-c"'),
        ("garbage after", '{"violations":[{"agent":"ws-a","seq":1}]} GARBAGE'),
        ("duplicate keys", '{"violations":[{"agent":"ws-a","agent":"ws-b","seq":1}]}'),
        ("rows not objects", '{"violations":[1,2]}'),
    ]
    for name, answer in answers:
        bad = BadCollector(ca, answer)
        for fmt in ([], ["--json"]):
            r = subprocess.run([LEAKWATCH, "--collector", "https://localhost:%d" % bad.port,
                                "--cert", ca.crt("boss"), "--key", ca.key("boss"), "--ca",
                                ca.ca, "violations"] + fmt, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            ok(r.returncode == 2 and b"malformed answer" in r.stderr and b"ws-a" not in r.stdout,
               "fleet CLI %s: a %s answer is an error, and nothing is printed"
               % (" ".join(fmt) or "table", name), (r.returncode, r.stdout, r.stderr))
        bad.sock.close()


def clienthello(ca):
    ctx = ssl.create_default_context(cafile=ca.ca)
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inb, outb, server_hostname="localhost")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outb.read()


def trickle(socks, data, seconds, step=0.5):
    """Sends @data a byte per @step to every socket; returns when each was
    closed by the server (seconds after the start, or None)."""
    t0 = time.time()
    closed = [None] * len(socks)
    i = 0
    while time.time() - t0 < seconds and None in closed:
        for k, s in enumerate(socks):
            if closed[k] is not None:
                continue
            try:
                s.send(data[i:i + 1] if i < len(data) else b" ")
            except OSError:
                closed[k] = round(time.time() - t0, 1)
        i += 1
        time.sleep(step)
    return closed


def test_slow_peers(col, ca):
    """Bytes arriving do not extend a deadline (timeout_s is 2 here)."""
    hello = clienthello(ca)
    socks = [socket.create_connection(("127.0.0.1", col.port)) for _ in range(5)]
    closed = trickle(socks, hello, 20)
    ok(all(c is not None and c <= 8 for c in closed),
       "a ClientHello trickled a byte every 0.5 s: closed at the deadline, not held", closed)
    for s in socks:
        s.close()
    socks = []
    for _ in range(3):
        raw = socket.create_connection(("127.0.0.1", col.port))
        socks.append(col.context("ws-slow").wrap_socket(raw, server_hostname="localhost"))
    closed = trickle(socks, b"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100,
                     20)
    ok(all(c is not None and c <= 8 for c in closed),
       "authenticated headers trickled: closed at the deadline", closed)
    for s in socks:
        s.close()
    # a request that is being answered is not cut: a normal client is fine
    st, _ = col.client("ws-a").get("/health")
    ok(st == 200, "a normal request is served after them")


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_heartbeat(col):
    t = time.time()
    st, _ = col.client("ws-good").post("/v1/heartbeat", {"version": "0.1.0"})
    return st, time.time() - t


def test_connection_flood(base, ca):
    """1,100 hostile connections against an open-file limit of 1,024: the
    collector stays responsive, its CPU and log stay small."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096
    if hard != resource.RLIM_INFINITY and hard < want:
        ok(False, "the test can open 4,096 descriptors (hard limit %d)" % hard)
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    db = os.path.join(base, "flood.db")
    col = Collector(base, ca, db, name="flood",
                    limits={"timeout_s": 10, "rate_per_minute": 600000, "rate_burst": 100000})

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    logf = open(col.log, "ab")
    col.proc = subprocess.Popen([os.environ["LEAKWATCH_COLLECTOR"], "-c", col.config],
                                stdout=logf, stderr=logf, preexec_fn=low_limit)
    logf.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", col.port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    socks = []
    try:
        hello = clienthello(ca)
        # one attacker address, then many: the per-address cap, then the
        # connection cap, both reached
        for i in range(1100):
            src = "127.0.0.2" if i < 100 else "127.0.%d.%d" % (1 + i // 200, 2 + i % 200)
            s = socket.socket()
            s.setblocking(False)
            s.bind((src, 0))
            try:
                s.connect(("127.0.0.1", col.port))
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(1.5)
        log_before = len(col.log_text().splitlines())
        cpu_before = proc_cpu(col.proc.pid)
        t0 = time.time()
        lat = []
        for k in range(10):
            for s in socks:
                try:
                    s.send(hello[k:k + 1])
                except OSError:
                    pass
            st, dt = timed_heartbeat(col)
            lat.append((st, round(dt, 3)))
            time.sleep(0.4)
        wall = time.time() - t0
        cpu = proc_cpu(col.proc.pid) - cpu_before
        log_lines = len(col.log_text().splitlines()) - log_before
        # Not a speed test: before the guard the agent waited for a hostile
        # connection's timeout (10 s); half of it is far from both.
        ok(all(st == 200 and d < 5 for st, d in lat),
           "under 1,100 hostile connections a well-behaved agent is served at once"
           " (latencies %s s)" % [d for _, d in lat], lat)
        # CPU time, not wall time: load from elsewhere does not inflate it.
        # Before, accept(2) failing in a loop cost 0.7 CPU-s a second.
        ok(cpu < 0.35 * wall, "the collector is not spinning: %.2f CPU-s in %.1f s"
           % (cpu, wall))
        ok(log_lines < 10 * wall, "the log grows by a few lines a second: %d lines in %.1f s"
           % (log_lines, wall), col.log_text()[-3000:])
        st, text = col.client("ws-good").get("/metrics")
        m = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
        ok(float(m.get("leakwatch_collector_connections_max", 0)) <= 1024 - 64
           and float(m.get('leakwatch_collector_connections_ended_total{reason="address"}', 0)) > 0
           and float(m.get('leakwatch_collector_connections_ended_total{reason="cap"}', 0)) > 0,
           "the cap fits the open-file limit; per-address and cap refusals counted", m)
        ok(col.proc.poll() is None, "the collector is still running")
    finally:
        for s in socks:
            s.close()
        rc = col.stop()
        ok(rc == 0, "the flooded collector stops cleanly", col.log_text()[-2000:])


def main():
    if BACKEND not in ("sqlite", "postgresql"):
        skip_all("unknown backend " + BACKEND)
    pg = None
    if BACKEND == "postgresql":
        pg = Postgres()
        if not pg.available():
            skip_all("PostgreSQL server binaries not installed")
    base = tempfile.mkdtemp(prefix="lw-attacks.")
    os.chmod(base, 0o755)
    col = None
    try:
        ca = CA(base)
        for n in ("ws-a", "ws-b", "ws-values", "ws-cl", "ws-slow", "ws-good"):
            ca.issue("agent", n)
        ca.issue("admin", "boss")
        ca.issue("collector", "localhost", "--san", "DNS:localhost,IP:127.0.0.1")
        if pg:
            pg.start()
            database = pg.uri()
        else:
            database = os.path.join(base, "collector.db")
        col = Collector(base, ca, database, limits=LIMITS).start()
        admin = col.client("boss")
        test_forged_bodies(col, admin)
        test_protocol_values(col, admin)
        test_content_length(col, admin)
        test_old_rows(col, admin, ca, pg, database)
        test_cli_fails_loudly(ca)
        if not pg:
            test_slow_peers(col, ca)
            test_connection_flood(base, ca)
    except Exception:  # noqa: BLE001 - a crash is a failed check with its story
        import traceback
        ok(False, "test ran to the end", traceback.format_exc() +
           ("\ncollector log:\n" + col.log_text()[-3000:] if col else ""))
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
