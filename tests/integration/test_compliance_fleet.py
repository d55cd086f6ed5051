#!/usr/bin/env python3
"""`leakwatch report` for the fleet, against a real collector over mutual
TLS on one store:  test_compliance_fleet.py sqlite | postgresql

Three agents send what real agents send (heartbeats with their start,
policy digest and counters; chained violation and sighting events): one
changes its policy and overflows, one falls silent for a while and breaks
its chain, one falls silent for good. Every section's figures are checked
against what the test sent; bad input must give exit status 2."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from lwcollector import CA, Chain, Collector, Postgres, keep, violation_body
from lwtest import done, ok, skip_all, validate_report

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
LEAKWATCH = os.environ["LEAKWATCH"]
SILENT_AFTER = 2
LIMITS = {"rate_per_minute": 600000, "rate_burst": 100000, "silent_after_s": SILENT_AFTER}
P1, P2, PB = "a1" * 32, "a2" * 32, "b0" * 32
SHA_A, SHA_B1, SHA_B2, SHA_C, SHA_X = ("0a" * 32, "1b" * 32, "2b" * 32, "0c" * 32,
                                       "0e" * 32)


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def sighting(path, sha, marking=None, level=None, zones=(), deleted=False, matches=(),
             mode=0o600, **extra):
    b = {"path": path, "sha256": sha, "size": 4096, "type": "pdf",
         "classification": ({"scheme": "NATO", "level": level, "marking": marking}
                            if marking else None),
         "pii": [], "matches": [{"id": i, "kind": k, "coverage": 0.4} for i, k in matches],
         "first_seen": now(), "last_seen": now(), "deleted": deleted,
         "zones": list(zones), "owner": "alice", "mode": mode}
    b.update(extra)
    return b


class Agent:
    def __init__(self, col, name, policy):
        self.client = col.client(name)
        self.name = name
        self.chain = Chain()
        self.started = now()
        self.policy = policy
        self.overflows = 0
        self.rescans = 0
        self.inventory = None  # (files, {cause: n}) or None: not sent

    def heartbeat(self):
        hb = {"version": "0.1.0", "coverage": 1.0, "queue_depth": 0, "outbox_backlog": 0,
              "started": self.started, "policy_sha256": self.policy,
              "overflows": self.overflows, "rescans": self.rescans, "unwatched_dirs": 0}
        if self.inventory:
            hb["inventory_files"], hb["unexamined"] = self.inventory
        st, body = self.client.post("/v1/heartbeat", hb)
        assert st == 200, (st, body)

    def send(self, evs):
        st, body = self.client.post("/v1/events", {"events": evs})
        assert st == 200, (st, body)

    def violation(self, **kw):
        self.send([self.chain.next("violation", violation_body(**kw))])

    def sighting(self, *a, **kw):
        self.send([self.chain.next("sighting", sighting(*a, **kw))])


def wait_heard(agents, seconds):
    """Sleeps @seconds while @agents keep heartbeating (a real agent does
    every heartbeat_s); the others fall silent."""
    end = time.time() + seconds
    while time.time() < end:
        for x in agents:
            x.heartbeat()
        time.sleep(min(0.4, max(0, end - time.time())))


def populate(col):
    """What the report must show; returns the agents."""
    a = Agent(col, "ws-a", P1)
    b = Agent(col, "ws-b", PB)
    c = Agent(col, "ws-c", PB)
    a.inventory = (1234, {"permission": 3, "size_cap": 2, "timeout": 1, "encrypted": 4,
                          "other": 0})
    for x in (a, b, c):
        x.heartbeat()
    # ws-a: three violations, one quarantined
    a.violation(rule="nato-secret-offsite", severity="high")
    a.violation(rule="nato-secret-offsite", severity="high", path="/home/alice/y.docx")
    a.violation(rule="registered-copy", severity="critical", action="quarantine",
                action_result="ok")
    # its holdings: a.pdf outside the secure zone, then renamed into a home;
    # b.pdf in the secure zone, changed once; c.pdf seen and deleted
    a.sighting("/srv/share/a.pdf", SHA_A, "NATO SECRET", "SECRET",
               matches=[("doc-1", "exact")], mode=0o644)
    a.sighting("/secure/b.pdf", SHA_B1, "NATO CONFIDENTIAL", "CONFIDENTIAL", zones=["secure"])
    a.sighting("/secure/b.pdf", SHA_B2, "NATO CONFIDENTIAL", "CONFIDENTIAL", zones=["secure"])
    a.sighting("/tmp/c.pdf", SHA_C, "NATO SECRET", "SECRET")
    a.sighting("/tmp/c.pdf", SHA_C, "NATO SECRET", "SECRET", deleted=True)
    t = now()
    a.send([a.chain.next("sighting", sighting("/srv/share/a.pdf", SHA_A, "NATO SECRET",
                                              "SECRET", matches=[("doc-1", "exact")],
                                              deleted=True, moved_to="/home/alice/a.pdf",
                                              last_seen=t)),
            a.chain.next("sighting", sighting("/home/alice/a.pdf", SHA_A, "NATO SECRET",
                                              "SECRET", matches=[("doc-1", "exact")],
                                              mode=0o644, moved_from="/srv/share/a.pdf"))])
    # a policy reload, and a queue overflow that caused a rescan
    a.policy, a.overflows, a.rescans = P2, 2, 1
    a.heartbeat()
    # ws-b: an excerpt of doc-1, a violation, then silent, then a gap
    b.sighting("/home/bob/excerpt.txt", SHA_X, matches=[("doc-1", "partial")])
    b.violation(rule="pii-bulk", severity="medium", path="/home/bob/list.csv")
    wait_heard([a], SILENT_AFTER + 1.5)
    b.chain.next("violation", violation_body(rule="pii-bulk", severity="low"))  # never sent
    b.send([b.chain.next("violation", violation_body(rule="pii-bulk", severity="low"))])
    b.heartbeat()
    wait_heard([a, b], SILENT_AFTER + 0.5)  # ws-c: silent since its first heartbeat
    a.heartbeat()
    b.heartbeat()
    return a, b, c


def run(col, ca, *args, cert="boss"):
    base = [LEAKWATCH, "--collector", "https://localhost:%d" % col.port, "--cert",
            ca.crt(cert), "--key", ca.key(cert), "--ca", ca.ca, "report"]
    return subprocess.run(base + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)


def by(rows, key="agent"):
    return {r[key]: r for r in rows}


def check_report(doc, a, b, c):
    env = doc["envelope"]
    ok(env["scope"] == "fleet" and env["agents"] == ["ws-a", "ws-b", "ws-c"]
       and not env["empty"], "envelope: the fleet's three agents", json.dumps(env)[:600])
    inf = {p["sha256"]: sorted(p["agents"]) for p in env["policy"]["in_force"]}
    ok(inf == {P2: ["ws-a"], PB: ["ws-b", "ws-c"]},
       "envelope: the policies in force and who runs them", inf)
    ch = [(x["agent"], x["sha256"]) for x in env["policy"]["changes"]]
    ok([s for g, s in ch if g == "ws-a"] == [P1, P2] and ("ws-b", PB) in ch,
       "envelope: every policy load of the period, in order", ch)
    ok(env["marking"]["banner"].startswith("NATO SECRET"),
       "envelope: the banner is the highest marking mentioned", env["marking"])

    cov = by(doc["coverage"]["agents"])
    ca_, cb, cc = cov["ws-a"], cov["ws-b"], cov["ws-c"]
    ok(not ca_["silent_now"] and ca_["silent"] == [] and ca_["chain"] == "ok",
       "coverage: ws-a heard throughout, chain ok", ca_)
    ok(ca_["overflows"] == 2 and ca_["rescans"] == 1,
       "coverage: ws-a's overflows and the rescan they caused", ca_)
    ok(len(cb["silent"]) == 1 and cb["silent"][0]["seconds"] >= SILENT_AFTER + 1
       and not cb["silent_now"], "coverage: ws-b's silence is listed", cb["silent"])
    ok(cb["chain"] == "broken" and cb["sequence_gaps"] == 1 and cb["alerts"] == 1,
       "coverage: ws-b's chain is broken by one gap", cb)
    ok(cc["silent_now"] and len(cc["silent"]) == 1, "coverage: ws-c is silent now", cc)
    ok(0 < cc["coverage"] < ca_["coverage"] <= 1 and cb["coverage"] < ca_["coverage"],
       "coverage: the silent agents cover less", [x["coverage"] for x in (ca_, cb, cc)])
    ok(cc["unexamined"] is None and cc["inventory_files"] is None,
       "coverage: what an agent did not say is null, not 0", cc)
    ok(ca_["inventory_files"] == 1234 and ca_["unexamined"] == {
        "permission": 3, "size_cap": 2, "timeout": 1, "encrypted": 4, "other": 0},
       "coverage: inventory size and files not examined, by cause, from heartbeats", ca_)
    ok(all(len(x["daily"]) == len(doc["coverage"]["days"]) for x in cov.values()),
       "coverage: a heat-map cell per agent and day")

    s = doc["summary"]
    ok(s["violations"] == {"value": 5, "previous": 0}, "summary: 5 violations, none before",
       s["violations"])
    sev = {x["key"]: x["value"] for x in s["by_severity"]}
    ok(sev == {"critical": 1, "high": 2, "medium": 1, "low": 1}, "summary: by severity", sev)
    ok(s["by_state"] == {"open": 4, "quarantined": 1, "restored": 0}, "summary: by state",
       s["by_state"])
    f = {k: v["value"] for k, v in s["files"].items()}
    # new: a.pdf, b.pdf, c.pdf and ws-b's excerpt (sensitive: it matches doc-1)
    ok(f == {"new": 4, "changed": 1, "moved": 1, "removed": 1},
       "summary: sensitive files new, changed, moved, removed", f)
    ok(s["classified"] == {"value": 2, "previous": 0}, "summary: 2 classified files held",
       s["classified"])
    bym = {x["key"]: x["value"] for x in s["classified_by_marking"]}
    ok(bym == {"NATO SECRET": 1, "NATO CONFIDENTIAL": 1}, "summary: held by marking", bym)
    ok([x["key"] for x in s["top_agents"]] == ["ws-a", "ws-b"]
       and s["top_rules"][0] == {"key": "nato-secret-offsite", "value": 2, "previous": 0},
       "summary: top agents and rules", (s["top_agents"], s["top_rules"]))
    ok(sum(d["violations"] for d in s["daily"]) == 5 and
       sum(d["new"] for d in s["daily"]) == 4, "summary: the daily series adds up",
       s["daily"])

    h = doc["holdings"]
    lz = {(x["level"], x["zone"]): x["count"] for x in h["by_level_zone"]}
    ok(lz == {("CONFIDENTIAL", "secure"): 1, ("SECRET", "outside_secure"): 1,
              ("SECRET", "world_readable"): 1},
       "holdings: by level and zone, as held at the end", lz)
    rows = h["outside_secure"]["rows"]
    ok(h["outside_secure"]["total"] == 1 and rows[0]["path"] == "/home/alice/a.pdf"
       and rows[0]["owner"] == "alice" and rows[0]["agent"] == "ws-a",
       "holdings: the classified file outside the secure zone, where it is now", rows)

    v = doc["violations"]
    ok(v["total"] == 5 and len(v["rows"]) == 5, "violations: every row", v["total"])
    ok({r["agent"] for r in v["rows"]} == {"ws-a", "ws-b"} and
       any(r["action"] == "quarantine" for r in v["rows"]),
       "violations: rows name agent and action")
    ok({x["key"]: x["count"] for x in v["by_agent"]} == {"ws-a": 3, "ws-b": 2},
       "violations: by agent", v["by_agent"])

    docs = by(doc["custody"]["documents"], "sha256")
    da = docs.get(SHA_A)
    ok(da is not None and da["registered"] == ["doc-1"], "custody: a.pdf, registered doc-1",
       da)
    if da:
        places = {p["path"]: p["deleted"] for p in da["places"]}
        ok(places == {"/srv/share/a.pdf": True, "/home/alice/a.pdf": False},
           "custody: every place a.pdf was, and where it still is", places)
        ok(da["copies"] == 0 and da["deletions"] == 1, "custody: no copy, one place left",
           da)
        ok([(x["agent"], x["path"]) for x in da["excerpts"]] ==
           [("ws-b", "/home/bob/excerpt.txt")], "custody: the excerpt on another machine",
           da["excerpts"])
    ok(SHA_C in docs and docs[SHA_C]["deletions"] == 1, "custody: c.pdf deleted")
    b1 = [p["deleted"] for p in docs.get(SHA_B1, {}).get("places", [])]
    b2 = [p["deleted"] for p in docs.get(SHA_B2, {}).get("places", [])]
    ok(b1 == [True] and b2 == [False],
       "custody: content replaced at its path is gone from there, the new one is there",
       (b1, b2))
    ok(SHA_X not in docs and doc["custody"]["total"] == 4,
       "custody: an excerpt is listed under its document, not as one",
       sorted(docs))

    chains = by(doc["integrity"]["chains"])
    ok(chains["ws-a"]["head"] == a.chain.prev and chains["ws-a"]["last_seq"] == a.chain.seq
       and chains["ws-a"]["events"] == a.chain.seq and chains["ws-a"]["status"] == "ok",
       "integrity: ws-a's chain head is its last event's hash", chains["ws-a"])
    ok(chains["ws-b"]["status"] == "broken" and chains["ws-b"]["events"] == 3,
       "integrity: ws-b's chain is broken", chains["ws-b"])
    ok(chains["ws-c"]["events"] == 0 and chains["ws-c"]["head"] is None,
       "integrity: ws-c sent no event", chains["ws-c"])
    ctl = {x["control"]: x["evidence"] for x in doc["controls"]}
    ok(ctl.get("NIST SP 800-53 AU-9", ctl.get("AU-9")) in ("present", "absent") and len(ctl) == 13,
       "controls: the appendix is there", ctl)


def test_fleet(base, col, ca, agents):
    out = os.path.join(base, "fleet.json")
    r = run(col, ca, "--since", "10m", "--format", "json", "-o", out)
    ok(r.returncode == 0, "fleet report: exit 0", r.stderr.decode())
    if r.returncode != 0:
        return
    with open(out) as f:
        doc = json.load(f)
    validate_report(doc, "fleet report: valid against doc/report-schema.json")
    check_report(doc, *agents)

    r = run(col, ca, "--since", "10m", "--format", "json", "--row-limit", "2")
    d = json.loads(r.stdout)
    ok(r.returncode == 0 and d["violations"]["total"] == 5 and len(d["violations"]["rows"]) == 2
       and d["custody"]["total"] == 4 and len(d["custody"]["documents"]) == 2,
       "--row-limit: two rows listed, all counted", r.stderr.decode())

    r = run(col, ca, "--since", "10m", "--format", "json", "--agent", "ws-b")
    d = json.loads(r.stdout) if r.returncode == 0 else {}
    ok(r.returncode == 0 and d["envelope"]["agents"] == ["ws-b"]
       and d["summary"]["violations"]["value"] == 2 and d["holdings"]["outside_secure"]["total"] == 0,
       "--agent: one agent's report", r.stderr.decode())
    r = run(col, ca, "--since", "10m", "--format", "json", "--agent", "ws-a", "--agent", "ws-c")
    d = json.loads(r.stdout) if r.returncode == 0 else {}
    ok(r.returncode == 0 and d["envelope"]["agents"] == ["ws-a", "ws-c"]
       and d["summary"]["violations"]["value"] == 3 and d["custody"]["total"] == 4,
       "--agent twice: those two",
       r.stderr.decode())
    r = run(col, ca, "--since", "10m", "--agent", "nosuch")
    ok(r.returncode == 2 and b"nosuch" in r.stderr, "--agent unknown: exit 2 naming it",
       r.stderr.decode())

    r = run(col, ca, "--since", "10m", "--format", "json", "--redact-paths")
    ok(r.returncode == 0 and b"/home/alice/a.pdf" not in r.stdout and b"/home/alice/" in r.stdout,
       "--redact-paths: directories kept, names hidden")

    html = os.path.join(base, "fleet.html")
    r = run(col, ca, "--since", "10m", "-o", html)
    text = open(html).read() if r.returncode == 0 else ""
    ok(r.returncode == 0 and "ws-b" in text and "<svg" in text and "NATO SECRET" in text,
       "HTML: written, with the agents, charts and banner", r.stderr.decode())
    cdir = os.path.join(base, "fleet-csv")
    r = run(col, ca, "--since", "10m", "--format", "csv", "-o", cdir)
    rows = []
    if r.returncode == 0:
        with open(os.path.join(cdir, "coverage_agents.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    ok(r.returncode == 0 and [x["agent"] for x in rows] == ["ws-a", "ws-b", "ws-c"],
       "CSV: the coverage table parses", r.stderr.decode())
    key = os.path.join(base, "officer.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    signed = os.path.join(base, "signed.json")
    r = run(col, ca, "--since", "10m", "--format", "json", "-o", signed, "--sign-key", key)
    v = subprocess.run([LEAKWATCH, "report", "verify", signed], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    ok(r.returncode == 0 and v.returncode == 0, "signed fleet report verifies",
       r.stderr.decode() + v.stderr.decode())


def test_endpoints(col):
    """The report endpoints refuse what they do not take, with 400 naming it."""
    admin = col.client("boss")
    span = "since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z"
    for path, want in (("/v1/report/counts?since=1h", "since and until"),
                       ("/v1/report/counts?%s&limit=5" % span, "unknown parameter"),
                       ("/v1/report/rows?%s" % span, "rows:"),
                       ("/v1/report/rows?rows=everything&%s" % span, "rows:"),
                       ("/v1/report/notes?%s&limit=0" % span, "limit"),
                       ("/v1/report/notes?%s&after=-1" % span, "after"),
                       ("/v1/report/agents?since=2027-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
                        "before until"),
                       ("/v1/report/agents?since=yesterday&until=2027-01-01T00:00:00Z", "since")):
        st, body = admin.get(path)
        ok(st == 400 and want in (body.get("error", "") if isinstance(body, dict) else ""),
           "report endpoint refuses %s" % path.split("?")[0] + " (" + want + ")", (st, body))
    for bad in ({"unexamined": {"permission": "3"}}, {"unexamined": [1, 2]},
                {"inventory_files": "many"}, {"policy_sha256": "abc"}, {"started": "monday"}):
        st, body = col.client("ws-c").post("/v1/heartbeat", bad)
        ok(st == 400 and list(bad)[0] in body.get("error", ""),
           "heartbeat refuses a malformed %s" % list(bad)[0], (st, body))
    st, body = col.client("ws-a").get("/v1/report/agents?" + span)
    ok(st == 403, "report endpoints: administrators only", (st, body))
    st, body = admin.get("/v1/report/rows?rows=violations&%s&limit=2" % span)
    st2, body2 = admin.get("/v1/report/rows?rows=violations&%s&limit=2&after=%d"
                           % (span, body.get("next") or 0))
    rows = [r["row"] for r in body.get("rows", []) + body2.get("rows", [])]
    ok(st == 200 and st2 == 200 and len(rows) == 4 and len(set(rows)) == 4,
       "paging: two pages, no row twice", (body.get("next"), rows))


def test_errors(base, col, ca, other):
    r = run(col, ca, "--period", "fortnight")
    ok(r.returncode == 2 and b"fortnight" in r.stderr, "a period that does not parse: exit 2",
       r.stderr.decode())
    r = run(col, ca, "--since", "2026-12-01", "--until", "2026-11-01")
    ok(r.returncode == 2, "--since after --until: exit 2", r.stderr.decode())
    r = run(col, ca, "--since", "10m", cert="ws-a")
    ok(r.returncode == 2 and b"403" in r.stderr, "an agent's certificate may not: exit 2",
       r.stderr.decode())
    bad = [LEAKWATCH, "--collector", "https://localhost:%d" % col.port, "--cert",
           other.crt("intruder"), "--key", other.key("intruder"), "--ca", ca.ca, "report",
           "--since", "10m", "--format", "json"]
    r = subprocess.run(bad, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    ok(r.returncode == 2 and r.stdout == b"" and b"collector" in r.stderr,
       "a collector that refuses the certificate: exit 2, nothing written",
       r.stderr.decode())


def test_empty(base, ca, database):
    col = Collector(base, ca, database, limits=LIMITS, name="empty").start()
    try:
        r = run(col, ca, "--period", "week", "--format", "json")
        d = json.loads(r.stdout) if r.returncode == 0 else {}
        ok(r.returncode == 0 and d["envelope"]["empty"] and d["coverage"]["figure"] == 1
           and d["summary"]["violations"]["value"] == 0,
           "an empty fleet: a valid report that says so", r.stderr.decode())
        if d:
            validate_report(d, "empty fleet report: valid against the schema")
    finally:
        col.stop()


def main():
    if BACKEND not in ("sqlite", "postgresql"):
        skip_all("unknown backend " + BACKEND)
    pg = None
    if BACKEND == "postgresql":
        pg = Postgres()
        if not pg.available():
            skip_all("PostgreSQL server binaries (postgresql-15) not installed")
    base = tempfile.mkdtemp(prefix="lw-fleet-report.")
    os.chmod(base, 0o755)
    col = None
    try:
        ca = CA(base)
        other = CA(base, name="other", cn="someone else's CA")
        other.issue("admin", "intruder")
        for n in ("ws-a", "ws-b", "ws-c"):
            ca.issue("agent", n)
        ca.issue("admin", "boss")
        if pg:
            pg.start()
            pg.createdb("empty")
            database, empty_db = pg.uri(), pg.uri("empty")
        else:
            database = os.path.join(base, "collector.db")
            empty_db = os.path.join(base, "empty.db")
        col = Collector(base, ca, database, limits=LIMITS).start()
        agents = populate(col)
        test_fleet(base, col, ca, agents)
        test_endpoints(col)
        test_errors(base, col, ca, other)
        test_empty(base, ca, empty_db)
    except Exception:  # noqa: BLE001 - a crash is a failed check with its story
        import traceback
        ok(False, "test ran to the end", traceback.format_exc() +
           ("\ncollector log:\n" + col.log_text()[-3000:] if col else ""))
    finally:
        if col:
            col.stop()
        if pg and pg.base:
            pg.stop()
        if not keep():
            shutil.rmtree(base, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
