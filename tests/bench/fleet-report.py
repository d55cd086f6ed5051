#!/usr/bin/env python3
"""fleet-report.py — `leakwatch report` for a large fleet (issue 10).

usage: tests/bench/fleet-report.py [--agents N] [--events E] [--days D]
           [--store sqlite|postgresql|both] [--runs R] [--build DIR] [--work DIR]
           [--pg-slow-ms MS] [--json]

Fills a collector's store with E events (default 1,000,000) of N agents
(default 500) received over the last D days (default 28), then times the
fleet report over all of them (--since Dd) and over the last ISO week,
with the real leakwatch-collector and the real `leakwatch report` over
mutual TLS.

The store is filled directly (SQLite executemany in one transaction;
PostgreSQL COPY), not through the collector's ingest: that is what
collector-load.py measures, and 1,000,000 events through it would take
minutes that say nothing about reports. The schema is the collector's own
(it creates and migrates it at a first start), every row is what ingest
would store: chained events with real hashes, the report columns filled
from the bodies as cevent.c fills them, contact intervals with silences,
heartbeat notes, chain alerts. The mix per agent: 30 % violations (12
rules, four severities, 50 owners, 10 % quarantined), 70 % sightings of
sensitive files (new 60 %, changed 15 %, renamed 10 % (two events),
deleted 10 %, copied 5 %; half classified, half of those in the secure
zone; 5 % registered, 3 % excerpts).

Measured per run: wall time and peak RSS of `leakwatch report` (from
/usr/bin/time), the collector's peak RSS (VmHWM) and its growth over the
run, the report's size. PostgreSQL runs with fsync=on as in
collector-load.py.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
ZERO = "0" * 64
COLUMNS = ("agent", "seq", "uuid", "time", "kind", "prev", "hash", "body", "received", "flags",
           "rule", "severity", "sha256", "match_ids", "marking", "owner", "action",
           "path_key", "deleted", "moved", "scheme", "level", "zones", "registered",
           "excerpt")
RULES = ["nato-secret-offsite", "nato-confidential-usb", "registered-copy", "pii-bulk",
         "eu-restricted-sync", "world-readable-classified", "staging-bulk", "cloud-sync",
         "removable-any", "mail-attachment", "print-spool", "archive-classified"]
SEVERITIES = [("low", 1, 40), ("medium", 2, 30), ("high", 3, 20), ("critical", 4, 10)]
MARKINGS = [("NATO SECRET", "SECRET"), ("NATO CONFIDENTIAL", "CONFIDENTIAL"),
            ("NATO RESTRICTED", "RESTRICTED")]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def chain_hash(prev, seq, uid, t, kind, body):
    data = "%s\n%d\n%s\n%s\n%s\n%s" % (prev, seq, uid, t, kind, body)
    return hashlib.sha256(data.encode()).hexdigest()


def severity(rng):
    x = rng.uniform(0, 100)
    for name, rank, w in SEVERITIES:
        if x < w:
            return name, rank
        x -= w
    return "low", 1


class AgentGen:
    def __init__(self, name, rng):
        self.name = name
        self.rng = rng
        self.seq = 0
        self.prev = ZERO
        self.live = {}  # path -> (sha, sighting body without times)
        self.paths = []  # the keys of live, for a uniform choice in O(1)
        self.pos = {}
        self.n = 0

    def _put(self, path, v):
        if path not in self.live:
            self.pos[path] = len(self.paths)
            self.paths.append(path)
        self.live[path] = v

    def _drop(self, path):
        i = self.pos.pop(path)
        last = self.paths.pop()
        if last != path:
            self.paths[i] = last
            self.pos[last] = i
        del self.live[path]

    def _event(self, kind, body, t, cols):
        self.seq += 1
        uid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        text = json.dumps(body, separators=(",", ":"))
        et = iso(t)
        h = chain_hash(self.prev, self.seq, uid, et, kind, text)
        row = dict(agent=self.name, seq=self.seq, uuid=uid, time=et, kind=kind, prev=self.prev,
                   hash=h, body=text, received=et, flags=0, rule=None, severity=None,
                   sha256=None, match_ids=None, marking="", owner="", action="",
                   path_key=None, deleted=0, moved=0, scheme=None, level=None, zones=0,
                   registered=0, excerpt=0)
        row.update(cols)
        self.prev = h
        return row

    def violation(self, t):
        rng = self.rng
        sev, rank = severity(rng)
        rule = rng.choice(RULES)
        owner = "user%02d" % rng.randrange(50)
        action = "quarantine" if rng.random() < 0.1 else "alert"
        marking, level = rng.choice(MARKINGS)
        path = "/home/%s/Documents/doc-%d.docx" % (owner, rng.randrange(10000))
        body = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "time": iso(t),
                "rule": rule, "severity": sev, "message": "policy", "action": action,
                "action_result": "ok",
                "event": {"kind": rng.choice(["created", "copied", "moved", "modified"]),
                          "from": None, "from_zone": None},
                "zones": ["staging"],
                "file": {"path": path, "sha256": "%064x" % rng.getrandbits(256), "size": 20480,
                         "type": "docx", "uid": 1000, "owner": owner, "mode": 0o644,
                         "classification": {"scheme": "NATO", "level": level,
                                            "marking": marking},
                         "pii": [], "matches": [], "rules": []}}
        return [self._event("violation", body, t, dict(rule=rule, severity=rank,
                                                      marking=marking, owner=owner,
                                                      action=action))]

    def _sighting(self, t, path, sha, base, deleted=False, **extra):
        body = dict(base, path=path, sha256=sha, last_seen=iso(t), deleted=deleted)
        body.setdefault("first_seen", iso(t))
        body.pop("moved_to", None)
        body.pop("moved_from", None)
        body.update(extra)
        cls = body.get("classification")
        ids = [m["id"] for m in body["matches"]]
        return self._event("sighting", body, t, dict(
            sha256=sha, match_ids=("\n" + "\n".join(ids) + "\n") if ids else None,
            marking=cls["marking"] if cls else "", owner=body["owner"],
            path_key=hashlib.sha256(path.encode()).hexdigest(), deleted=int(deleted),
            moved=int("moved_to" in extra or "moved_from" in extra),
            scheme=cls["scheme"] if cls else "", level=cls["level"] if cls else "",
            zones=(1 if "secure" in body["zones"] else 0) | (16 if body["mode"] & 4 else 0),
            registered=int(any(m["kind"] == "exact" for m in body["matches"])),
            excerpt=int(any(m["kind"] == "partial" for m in body["matches"]))))

    def new_base(self):
        rng = self.rng
        cls = None
        zones = []
        if rng.random() < 0.5:
            marking, level = rng.choice(MARKINGS)
            cls = {"scheme": "NATO", "level": level, "marking": marking}
            if rng.random() < 0.5:
                zones = ["secure"]
        matches = []
        x = rng.random()
        if x < 0.05:
            matches = [{"id": "reg-%d" % rng.randrange(200), "kind": "exact", "coverage": 1}]
        elif x < 0.08:
            matches = [{"id": "reg-%d" % rng.randrange(200), "kind": "partial",
                        "coverage": 0.3}]
        return {"size": 4096, "type": "pdf", "classification": cls,
                "pii": [] if cls or matches else [{"type": "iban", "count": 3}],
                "matches": matches, "zones": zones,
                "owner": "user%02d" % rng.randrange(50), "mode": rng.choice([0o600, 0o644])}

    def sighting(self, t):
        rng = self.rng
        x = rng.random()
        if not self.live or x < 0.60:
            path = "/home/user%02d/files/f-%d.pdf" % (rng.randrange(50), self.n)
            self.n += 1
            sha = "%064x" % rng.getrandbits(256)
            base = self.new_base()
            self._put(path, (sha, base))
            return [self._sighting(t, path, sha, base)]
        path = self.paths[rng.randrange(len(self.paths))]
        sha, base = self.live[path]
        if x < 0.75:
            sha = "%064x" % rng.getrandbits(256)
            self._put(path, (sha, base))
            return [self._sighting(t, path, sha, base)]
        if x < 0.85:
            to = path.replace(".pdf", "-m%d.pdf" % self.n)
            self.n += 1
            self._drop(path)
            self._put(to, (sha, base))
            return [self._sighting(t, path, sha, base, deleted=True, moved_to=to),
                    self._sighting(t, to, sha, base, moved_from=path)]
        if x < 0.95:
            self._drop(path)
            return [self._sighting(t, path, sha, base, deleted=True)]
        to = "/home/user%02d/copies/c-%d.pdf" % (rng.randrange(50), self.n)
        self.n += 1
        self._put(to, (sha, base))
        return [self._sighting(t, to, sha, base)]


def generate(agents, events, days, seed=7):
    """Rows of every table, events in receive order (ids ascending)."""
    rng = random.Random(seed)
    gens = [AgentGen("ws-%04d" % i, random.Random(rng.getrandbits(64))) for i in range(agents)]
    end = time.time() - 60
    start = end - days * 86400
    step = (end - start) / events
    rows = []
    t = start
    while len(rows) < events:
        g = gens[rng.randrange(agents)]
        evs = g.violation(t) if g.rng.random() < 0.3 else g.sighting(t)
        rows.extend(evs)
        t += step * len(evs)
    agent_rows, contacts, notes, alerts = [], [], [], []
    for i, g in enumerate(gens):
        pol = hashlib.sha256(("policy-%d" % (i % 3)).encode()).hexdigest()
        agent_rows.append(dict(agent=g.name, first_contact=iso(start), last_contact=iso(end),
                               last_seq=g.seq, chain_ok=0 if i % 50 == 7 else 1,
                               version="0.1.0", coverage=1.0 if i % 20 else 0.97,
                               policy_sha256=pol, started=iso(start), overflows=i % 5,
                               rescans=i % 3, unwatched_dirs=0))
        # contact: every agent heard throughout, with a few silences
        cur = start
        for k in range(rng.randrange(0, 6)):
            gap_at = rng.uniform(cur, end - 7200)
            contacts.append((g.name, iso(cur), iso(gap_at)))
            cur = gap_at + rng.uniform(600, 7200)
        contacts.append((g.name, iso(cur), iso(end)))
        notes.append((g.name, iso(start), "start", iso(start)))
        notes.append((g.name, iso(start), "policy", "- " + pol))
        if i % 5:
            notes.append((g.name, iso(rng.uniform(start, end)), "overflow", str(i % 5)))
            notes.append((g.name, iso(rng.uniform(start, end)), "rescan", "1"))
        if i % 50 == 7:
            alerts.append((g.name, "gap", 5, "seq 5 missing", iso(rng.uniform(start, end))))
    return rows, agent_rows, contacts, notes, alerts


def fill_sqlite(db, data):
    import sqlite3
    rows, agents, contacts, notes, alerts = data
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.executemany("INSERT INTO events (%s) VALUES (%s)" % (
            ",".join(COLUMNS), ",".join("?" * len(COLUMNS))),
            ([r[c] for c in COLUMNS] for r in rows))
        keys = list(agents[0])
        con.executemany("INSERT INTO agents (%s) VALUES (%s)" % (
            ",".join(keys), ",".join("?" * len(keys))), ([a[k] for k in keys] for a in agents))
        con.executemany("INSERT INTO contacts (agent, since, until) VALUES (?,?,?)", contacts)
        con.executemany("INSERT INTO notes (agent, time, kind, detail) VALUES (?,?,?,?)", notes)
        con.executemany("INSERT INTO alerts (agent, kind, seq, detail, time) VALUES (?,?,?,?,?)",
                        alerts)
    con.execute("ANALYZE")
    con.close()


def fill_pg(pg, work, data):
    import csv
    rows, agents, contacts, notes, alerts = data
    files = []

    def copy(table, cols, it):
        path = os.path.join(work, table + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            for r in it:
                w.writerow(["" if v is None else v for v in r])
        os.chmod(path, 0o644)
        files.append(path)
        null = "NULL ''"
        out = pg.psql("\\copy %s (%s) FROM '%s' WITH (FORMAT csv, %s)"
                      % (table, ",".join(cols), path, null))
        if not out.startswith("COPY"):
            raise RuntimeError("COPY %s: %s" % (table, out))

    def b(v):
        return "t" if v else "f"
    cols = list(COLUMNS)
    # an empty marking, owner or action arrives as NULL; the report's
    # queries treat NULL and '' alike (marking <> '')
    copy("lw_events", cols, ([r[c] if c not in ("deleted", "moved", "registered", "excerpt")
                              else b(r[c]) for c in cols] for r in rows))
    keys = list(agents[0])
    copy("lw_agents", keys, ([b(a[k]) if k == "chain_ok" else a[k] for k in keys]
                             for a in agents))
    copy("lw_contacts", ["agent", "since", "until"], contacts)
    copy("lw_notes", ["agent", "time", "kind", "detail"], notes)
    copy("lw_alerts", ["agent", "kind", "seq", "detail", "time"], alerts)
    pg.psql("SELECT setval(pg_get_serial_sequence('lw_events', 'id'),"
            " (SELECT max(id) FROM lw_events))")
    pg.psql("VACUUM ANALYZE")
    for p in files:
        os.unlink(p)


def vm(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def time_report(col, ca, leakwatch, args, out):
    cmd = ["/usr/bin/time", "-f", "%e %M", leakwatch, "--collector",
           "https://localhost:%d" % col.port, "--cert", ca.crt("boss"), "--key", ca.key("boss"),
           "--ca", ca.ca, "report", "--format", "json", "-o", out] + args
    before = vm(col.proc.pid, "VmRSS")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("report failed: " + r.stderr.decode()[-2000:])
    wall, rss_kb = r.stderr.decode().strip().splitlines()[-1].split()
    with open(out) as f:
        doc = json.load(f)
    return {"wall_s": float(wall), "cli_rss_mib": int(rss_kb) // 1024,
            "collector_rss_mib": vm(col.proc.pid, "VmRSS"),
            "collector_hwm_mib": vm(col.proc.pid, "VmHWM"),
            "collector_growth_mib": vm(col.proc.pid, "VmHWM") - before,
            "report_kib": os.path.getsize(out) // 1024,
            "violations": doc["summary"]["violations"]["value"],
            "agents": len(doc["coverage"]["agents"]),
            "classified_held": doc["summary"]["classified"]["value"],
            "custody_documents": doc["custody"]["total"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--pg-slow-ms", type=int, default=0,
                    help="log PostgreSQL statements slower than this and print them")
    a = ap.parse_args()
    os.environ.setdefault("LEAKWATCH_COLLECTOR",
                          os.path.join(a.build, "collector", "leakwatch-collector"))
    os.environ.setdefault("LEAKWATCH_CERTS", os.path.join(ROOT, "packaging", "leakwatch-certs"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from lwcollector import CA, Collector, Postgres  # noqa: E402
    leakwatch = os.path.join(a.build, "cli", "leakwatch")
    work = a.work or tempfile.mkdtemp(prefix="lw-bench-fleet.")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    t0 = time.time()
    data = generate(a.agents, a.events, a.days)
    gen_s = time.time() - t0
    print("generated %d events of %d agents in %.1f s" % (len(data[0]), a.agents, gen_s),
          file=sys.stderr)
    ca = CA(work, name="ca-%d" % os.getpid())
    ca.issue("admin", "boss")
    results = {}
    for store in (["sqlite", "postgresql"] if a.store == "both" else [a.store]):
        pg = None
        if store == "postgresql":
            pg = Postgres(fsync=True)
            if not pg.available():
                print("postgresql: server binaries not installed, skipped", file=sys.stderr)
                continue
            pg.start()
            database = pg.uri()
        else:
            database = os.path.join(work, "fleet.db")
            if os.path.exists(database):
                os.unlink(database)
        try:
            col = Collector(work, ca, database, name="collector-" + store).start()
            col.stop()  # the schema is the collector's own
            t0 = time.time()
            if pg:
                fill_pg(pg, work, data)
                if a.pg_slow_ms:
                    pg.psql("ALTER SYSTEM SET log_min_duration_statement = %d" % a.pg_slow_ms)
                    pg.psql("SELECT pg_reload_conf()")
            else:
                fill_sqlite(database, data)
            print("%s: filled in %.1f s" % (store, time.time() - t0), file=sys.stderr)
            col = Collector(work, ca, database, name="collector-" + store).start()
            runs = {"all": [], "week": []}
            for _ in range(a.runs):
                runs["all"].append(time_report(col, ca, leakwatch, ["--since", "%dd" % a.days],
                                               os.path.join(work, "all.json")))
                runs["week"].append(time_report(col, ca, leakwatch, ["--period", "week"],
                                                os.path.join(work, "week.json")))
            col.stop()
            results[store] = runs
            if pg and a.pg_slow_ms:
                # per statement: how often it was slow, and the total ms
                slow = {}
                for line in pg.log_text().splitlines():
                    if "duration:" in line and "execute" in line:
                        ms = float(line.split("duration:")[1].split()[0])
                        q = line.split("execute", 1)[1][:160]
                        n, t = slow.get(q, (0, 0.0))
                        slow[q] = (n + 1, t + ms)
                for q, (n, t) in sorted(slow.items(), key=lambda x: -x[1][1]):
                    print("%8.0f ms %3d x %s" % (t, n, q), file=sys.stderr)
        finally:
            if pg:
                pg.stop()
    if a.json:
        print(json.dumps({"agents": a.agents, "events": a.events, "days": a.days,
                          "results": results}, indent=1))
        return
    print("%-10s %-5s %8s %8s %10s %10s %10s %9s %8s" % (
        "store", "span", "wall_s", "cli_MiB", "coll_MiB", "coll_grow", "violations",
        "held", "custody"))
    for store, runs in results.items():
        for span, rs in runs.items():
            m = statistics.median(r["wall_s"] for r in rs)
            r = max(rs, key=lambda x: x["cli_rss_mib"])
            print("%-10s %-5s %8.2f %8d %10d %10d %10d %9d %8d" % (
                store, span, m, r["cli_rss_mib"], r["collector_hwm_mib"],
                max(x["collector_growth_mib"] for x in rs), r["violations"],
                r["classified_held"], r["custody_documents"]))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
