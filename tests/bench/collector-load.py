#!/usr/bin/env python3
"""collector-load.py — leakwatch-collector under a fleet of agents (issue 5).

usage: tests/bench/collector-load.py [--agents N] [--events E] [--batch B]
           [--store sqlite|postgresql|both] [--runs R] [--procs P]
           [--collector-bin PATH] [--work DIR] [--pg-fsync on|off] [--json]

N agents (default 500), each with its own certificate and key from
packaging/leakwatch-certs (cached in DIR/ca, so reruns skip the 500
openssl runs), each on its own kept-alive mutual-TLS connection to a real
leakwatch-collector on SQLite (a file in DIR) or on a private throw-away
PostgreSQL cluster. Every agent sends a heartbeat, then E correctly chained
violation events (default 200) in batches of B (default 20), waiting for
each acknowledgement before sending the next batch, as leakwatchd's
reporter does.

The agents run in P worker processes (default 2), each an asyncio loop
with one ssl context per agent. All events and request bodies are built
before the clock starts, so the timed phase is only TLS records and HTTP.
Connections are opened and the heartbeats sent before the clock starts,
at most --connect-concurrency at a time (the collector listens with
evhttp's backlog of 128); the events phase runs from the first batch sent
to the last acknowledgement.

Measured per run: events acknowledged per second over that wall clock;
acknowledgement latency per batch (p50, p99, max: from the request's first
byte sent to the whole answer read, including any retries); the CPU time
of the collector, of PostgreSQL and of the generator during the events
phase, and the machine's load. Afterwards the admin endpoints must show
every event stored exactly once (GET /v1/violations: each agent's seqs
1..E, one row each; GET /v1/agents: last_seq E and chain intact;
GET /v1/alerts: none; /metrics: every event stored, no store error): a
run that loses or doubles an event fails and exits 1. Up to 100,000
events this is one query; beyond, one query per agent, each of which
scans the whole events table (see BENCHMARKS.md), so big runs check
slowly.

Rate limits: each agent makes 1 + E/B requests (11 by default), within
the collector's default per-certificate burst of 120, so the benchmark
keeps the defaults (limits {} in the config). A 429 would be retried
after a back-off and counted in the result; so would a 503 or a dropped
connection.

PostgreSQL runs with fsync=on by default (--pg-fsync), so that both stores
commit durably; the integration tests' cluster runs with fsync=off.

One summary line per store and run, then the median per store; --json
prints one JSON document instead.
"""
import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import lwcollector  # noqa: E402
from lwcollector import Chain, violation_body  # noqa: E402

ADMIN = "bench-admin"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# certificates

def make_ca(work, n):
    """The CA and N agent certificates, created once and kept in WORK/ca."""
    cadir = os.path.join(work, "ca")
    if not os.path.exists(os.path.join(cadir, "ca.crt")):
        shutil.rmtree(cadir, ignore_errors=True)
        lwcollector.CA(work, name="ca", cn="leakwatch bench CA")
    ca = lwcollector.CA.__new__(lwcollector.CA)
    ca.dir = cadir
    ca.run("crl")  # valid 30 days from now, whatever the cache's age
    names = ["agent-%05d" % i for i in range(n)]
    todo = [a for a in names if not os.path.exists(ca.crt(a))]
    if todo:
        log("issuing %d agent certificates in %s (cached for reruns)" % (len(todo), cadir))
        t = time.monotonic()
        for i, a in enumerate(todo):
            ca.issue("agent", a)
            if (i + 1) % 100 == 0:
                log("  %d/%d (%.0f s)" % (i + 1, len(todo), time.monotonic() - t))
    ca.issue("admin", ADMIN)
    return ca, names


# ---------------------------------------------------------------------------
# the agents (worker processes)

class HTTPError(Exception):
    pass


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    close = False
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v.strip())
        elif k == "connection" and v.strip().lower() == "close":
            close = True
        elif k == "transfer-encoding":
            raise HTTPError("chunked answers are not expected from the collector")
    if length is None:
        raise HTTPError("answer without Content-Length")
    body = await reader.readexactly(length)
    return status, body, close


class Agent:
    def __init__(self, name, ca, port, stats):
        self.name = name
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca.ca)
        self.ctx.load_cert_chain(ca.crt(name), ca.key(name))
        self.reader = self.writer = None
        self.stats = stats

    async def connect(self):
        t = time.monotonic()
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.ctx, server_hostname="localhost")
        self.stats["connect_s"].append(time.monotonic() - t)

    def close(self):
        if self.writer:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path, body):
        """One request on the kept-alive connection, retried as the agent's
        reporter would: on a dropped connection (reconnect), 429 and 503
        (back off). Returns the parsed answer of the 200."""
        req = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (path, len(body))).encode() + body
        delay = 0.25
        for attempt in range(12):
            try:
                if self.writer is None:
                    await self.connect()
                    self.stats["reconnects"] += 1
                self.writer.write(req)
                status, data, close = await read_response(self.reader)
                if close:
                    self.close()
            except (OSError, asyncio.IncompleteReadError, ssl.SSLError) as e:
                self.stats["conn_errors"] += 1
                self.stats["last_error"] = repr(e)
                self.close()
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5)
                continue
            if status == 200:
                return json.loads(data)
            if status in (429, 503):
                self.stats["http_%d" % status] += 1
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5)
                continue
            raise HTTPError("%s %s: %d %s" % (self.name, path, status, data[:200]))
        raise HTTPError("%s %s: gave up after 12 attempts (%s)"
                        % (self.name, path, self.stats.get("last_error")))


def build_batches(name, events, batch):
    """The agent's whole outbox as request bodies, chained from seq 1."""
    ch = Chain()
    out = []
    for start in range(0, events, batch):
        evs = []
        for seq in range(start + 1, min(start + batch, events) + 1):
            body = violation_body(path="/home/%s/report-%d.docx" % (name, seq),
                                  sha="%064x" % random.getrandbits(256))
            body["id"] = "%s-%d" % (name, seq)
            evs.append(ch.next(body=body))
        out.append((json.dumps({"events": evs}, separators=(",", ":")).encode(),
                    [e["seq"] for e in evs]))
    return out


HEARTBEAT = json.dumps({"version": "bench", "coverage": 1.0, "queue_depth": 0,
                        "last_scan": "2026-11-23T05:00:00.000Z",
                        "outbox_backlog": 0}).encode()


async def run_agents(names, ca, port, events, batch, conc, ready_q, go, wid):
    stats = {"connect_s": [], "reconnects": 0, "conn_errors": 0, "http_429": 0,
             "http_503": 0, "last_error": None}
    outboxes = {a: build_batches(a, events, batch) for a in names}
    agents = [Agent(a, ca, port, stats) for a in names]
    sem = asyncio.Semaphore(conc)

    async def hello(ag):
        async with sem:
            await ag.connect()
            await ag.post("/v1/heartbeat", HEARTBEAT)

    t = time.monotonic()
    await asyncio.gather(*(hello(ag) for ag in agents))
    setup_s = time.monotonic() - t
    # wait for the other workers: the clock starts for all at once
    loop = asyncio.get_running_loop()
    ready_q.put(("ready", wid))
    await loop.run_in_executor(None, go.wait)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    lat = []
    firsts, lasts = [], []

    async def play(ag):
        first = None
        last = None
        for body, seqs in outboxes[ag.name]:
            t0 = time.monotonic()
            if first is None:
                first = t0
            ans = await ag.post("/v1/events", body)
            last = time.monotonic()
            if ans.get("acked") != seqs:
                raise HTTPError("%s: acked %r, sent %r" % (ag.name, ans.get("acked"), seqs))
            lat.append(last - t0)
        firsts.append(first)
        lasts.append(last)

    await asyncio.gather(*(play(ag) for ag in agents))
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    for ag in agents:
        ag.close()
    return {"lat": lat, "first": min(firsts), "last": max(lasts), "setup_s": setup_s,
            "cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
            "stats": stats}


def worker(wid, names, ca, port, events, batch, conc, ready_q, go, res_q):
    try:
        r = asyncio.run(run_agents(names, ca, port, events, batch, conc, ready_q, go, wid))
        res_q.put(("ok", wid, r))
    except BaseException as e:  # noqa: B902 — reported to the parent, which fails the run
        ready_q.put(("error", wid))
        res_q.put(("error", wid, repr(e)))


# ---------------------------------------------------------------------------
# machine and process accounting

def proc_cpu_s(pid):
    """utime + stime of @pid in seconds (0 if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def pg_cpu_s(pg):
    """CPU of our private PostgreSQL: the postmaster and its children."""
    if pg is None:
        return 0.0
    try:
        with open(os.path.join(pg.data, "postmaster.pid")) as f:
            pm = int(f.readline())
    except (OSError, ValueError):
        return 0.0
    return proc_cpu_s(pm) + sum(proc_cpu_s(p) for p in children_of(pm))


def machine_busy():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def schedstat(pid):
    """(ns on a CPU, ns runnable but waiting for a CPU) of @pid."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            v = f.read().split()
        return int(v[0]), int(v[1])
    except (OSError, IndexError, ValueError):
        return 0, 0


SYSCALLS = {"0": "read", "1": "write", "7": "poll", "17": "pread", "18": "pwrite",
            "45": "recvfrom", "74": "fsync", "75": "fdatasync", "232": "epoll_wait",
            "271": "ppoll", "281": "epoll_pwait", "441": "epoll_pwait2", "202": "futex"}


class StateSampler(threading.Thread):
    """Samples the collector's scheduler state (/proc/PID/stat) every 5 ms:
    R (running or runnable), D (uninterruptible: waiting for the disk) and
    S (sleeping), the last two with the system call they are blocked in:
    fdatasync is SQLite's commit, poll is libpq waiting for PostgreSQL,
    epoll_wait is libevent with nothing to do."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.counts = {}
        self.stop = threading.Event()

    def run(self):
        path = "/proc/%d/stat" % self.pid
        sysc = "/proc/%d/syscall" % self.pid
        while not self.stop.wait(0.005):
            try:
                with open(path) as f:
                    st = f.read().rsplit(")", 1)[1].split()[0]
                if st in ("S", "D"):
                    # the system call it is blocked in (x86-64 numbers)
                    with open(sysc) as f:
                        nr = f.read().split()[0]
                    # "running": it woke up between the two reads
                    st = "R" if nr == "running" else st + " " + SYSCALLS.get(nr, nr)
            except (OSError, IndexError):
                return
            self.counts[st] = self.counts.get(st, 0) + 1

    def shares(self):
        n = sum(self.counts.values()) or 1
        return {k: v / n for k, v in sorted(self.counts.items())}


def cpu_pressure_us():
    """Total µs in which some runnable task waited for a CPU (PSI), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().rsplit("total=", 1)[1])
    except (OSError, IndexError, ValueError):
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------------------
# checks through the admin endpoints

def admin_get(client, path):
    for attempt in range(20):
        status, data = client.get(path)
        if status == 429:
            time.sleep(1)
            continue
        if status != 200:
            raise RuntimeError("GET %s: %d %s" % (path, status, str(data)[:300]))
        return data
    raise RuntimeError("GET %s: still 429" % path)


def check_stored(col, names, events):
    """Every event stored exactly once, no chain alert. Returns a list of
    problems (empty when all is well) and the metrics seen."""
    adm = col.client(ADMIN, keepalive=True)
    problems = []
    want = set(range(1, events + 1))
    total = len(names) * events
    seen = {}
    if total <= 100000:
        rows = admin_get(adm, "/v1/violations?limit=100000")["violations"]
        for v in rows:
            seen.setdefault(v["agent"], []).append(v)
    else:
        for a in names:
            q = urllib.parse.urlencode({"agent": a, "limit": min(events + 1, 100000)})
            seen[a] = admin_get(adm, "/v1/violations?" + q)["violations"]
    extra = set(seen) - set(names)
    if extra:
        problems.append("violations of agents nobody played: %s" % sorted(extra)[:5])
    for a in names:
        rows = seen.get(a, [])
        seqs = [v["seq"] for v in rows]
        if len(seqs) != events or set(seqs) != want:
            dup = len(seqs) - len(set(seqs))
            problems.append("%s: %d rows, %d distinct seqs, %d duplicated, %d missing"
                            % (a, len(seqs), len(set(seqs)), dup, len(want - set(seqs))))
        bad = [v for v in rows if v.get("id") != "%s-%d" % (a, v["seq"])]
        if bad:
            problems.append("%s: %d rows with another agent's or seq's body" % (a, len(bad)))
    agents = {x["agent"]: x for x in admin_get(adm, "/v1/agents")["agents"]}
    for a in names:
        x = agents.get(a)
        if not x:
            problems.append("%s: not in /v1/agents" % a)
        elif x.get("last_seq") != events or x.get("chain_ok") is not True:
            problems.append("%s: last_seq %s chain_ok %s" % (a, x.get("last_seq"),
                                                             x.get("chain_ok")))
    alerts = admin_get(adm, "/v1/alerts?limit=100000")["alerts"]
    if alerts:
        problems.append("%d chain alerts, first %r" % (len(alerts), alerts[0]))
    status, text = adm.get("/metrics")
    metrics = {}
    for ln in text.splitlines():
        if ln and not ln.startswith("#"):
            k, _, v = ln.rpartition(" ")
            metrics[k] = float(v)
    stored = metrics.get('leakwatch_collector_events_total{result="stored"}')
    dup = metrics.get('leakwatch_collector_events_total{result="duplicate"}')
    errs = metrics.get("leakwatch_collector_store_errors_total")
    if stored != total:
        problems.append("metrics: %s events stored, want %d" % (stored, total))
    if errs:
        problems.append("metrics: %d store errors" % errs)
    if adm.conn:
        adm.conn.close()
    return problems, {"stored": stored, "duplicate": dup, "store_errors": errs,
                      "responses_429": metrics.get(
                          'leakwatch_collector_responses_total{code="429"}')}


# ---------------------------------------------------------------------------
# one run

def pct(xs, p):
    """Nearest-rank percentile of sorted @xs."""
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, math.ceil(p / 100.0 * len(xs)) - 1))
    return xs[k]


def one_run(args, ca, names, store, run_no):
    rundir = os.path.join(args.work, "run-%s-%d" % (store, run_no))
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    pg = None
    if store == "postgresql":
        pg = lwcollector.Postgres(fsync=args.pg_fsync == "on")
        if not pg.available():
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        pg.start()
        database = pg.uri()
    else:
        database = os.path.join(rundir, "collector.db")
    col = lwcollector.Collector(rundir, ca, database, admins=(ADMIN,), limits={})
    ctx = mp.get_context("fork")
    try:
        col.start()
        ready_q, res_q, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        parts = [names[i::args.procs] for i in range(args.procs)]
        workers = [ctx.Process(target=worker,
                               args=(i, parts[i], ca, col.port, args.events, args.batch,
                                     max(1, args.connect_concurrency // args.procs),
                                     ready_q, go, res_q))
                   for i in range(args.procs)]
        t_setup = time.monotonic()
        for w in workers:
            w.start()
        for _ in workers:
            msg = ready_q.get(timeout=600)
            if msg[0] != "ready":
                go.set()
                break
        setup_s = time.monotonic() - t_setup
        load0 = loadavg()
        busy0 = machine_busy()
        psi0 = cpu_pressure_us()
        c0, p0 = proc_cpu_s(col.proc.pid), pg_cpu_s(pg)
        ss0 = schedstat(col.proc.pid)
        sampler = StateSampler(col.proc.pid)
        sampler.start()
        t_go = time.monotonic()
        go.set()
        results = []
        for _ in workers:
            results.append(res_q.get(timeout=3600))
        busy1 = machine_busy()
        busy_wall = time.monotonic() - t_go
        ss1 = schedstat(col.proc.pid)
        sampler.stop.set()
        sampler.join()
        psi1 = cpu_pressure_us()
        c1, p1 = proc_cpu_s(col.proc.pid), pg_cpu_s(pg)
        load1 = loadavg()
        for w in workers:
            w.join()
        errors = [r for r in results if r[0] != "ok"]
        if errors:
            raise RuntimeError("agents failed: %s" % "; ".join(e[2] for e in errors))
        rs = [r[2] for r in results]
        lat = sorted(x for r in rs for x in r["lat"])
        wall = max(r["last"] for r in rs) - min(r["first"] for r in rs)
        total = len(names) * args.events
        t_check = time.monotonic()
        problems, metrics = check_stored(col, names, args.events)
        check_s = time.monotonic() - t_check
        st = {}
        for r in rs:
            for k, v in r["stats"].items():
                if isinstance(v, int):
                    st[k] = st.get(k, 0) + v
        conn = sorted(x for r in rs for x in r["stats"]["connect_s"])
        ncpu = os.cpu_count() or 1
        machine = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * ncpu
        gen = sum(r["cpu_s"] for r in rs)
        res = {
            "store": store, "run": run_no, "agents": len(names), "events_per_agent": args.events,
            "batch": args.batch, "procs": args.procs,
            "pg_fsync": args.pg_fsync if store == "postgresql" else None,
            "events": total, "wall_s": wall, "events_per_s": total / wall,
            "batches": len(lat),
            "ack_ms": {"p50": pct(lat, 50) * 1e3, "p99": pct(lat, 99) * 1e3,
                       "max": lat[-1] * 1e3, "mean": statistics.fmean(lat) * 1e3},
            "setup_s": setup_s,
            # all connections opened and heartbeats answered (workers in parallel)
            "connect_phase_s": max(r["setup_s"] for r in rs),
            "check_s": check_s,
            "connect_ms": {"p50": pct(conn, 50) * 1e3, "p99": pct(conn, 99) * 1e3,
                           "max": conn[-1] * 1e3},
            "cpu_s": {"collector": c1 - c0, "postgres": p1 - p0, "generator": gen},
            "cpu_busy": {"collector": (c1 - c0) / wall, "postgres": (p1 - p0) / wall,
                         "generator": gen / wall, "machine": machine,
                         "others": machine - (c1 - c0 + p1 - p0 + gen) / wall},
            # the collector's time in the events phase: on a CPU, runnable
            # but waiting for one (the machine is shared), and the rest
            # (blocked in fdatasync, libpq or epoll: see collector_state)
            "collector_sched": {"on_cpu": (ss1[0] - ss0[0]) / 1e9 / busy_wall,
                                "waiting_for_cpu": (ss1[1] - ss0[1]) / 1e9 / busy_wall},
            "collector_state": sampler.shares(),
            "loadavg": [load0, load1],
            # share of the events phase in which some task waited for a CPU
            "cpu_pressure": (None if psi0 is None or psi1 is None
                             else (psi1 - psi0) / 1e6 / (busy_wall)),
            "retries": {k: st.get(k, 0) for k in ("reconnects", "conn_errors", "http_429",
                                                   "http_503")},
            "metrics": metrics,
            "problems": problems,
            "ok": not problems,
        }
        return res
    finally:
        rc = col.stop()
        if rc not in (0, None):
            log("collector exit status %s; log tail:\n%s" % (rc, col.log_text()[-2000:]))
        if pg:
            pg.stop()
        if not args.keep:
            shutil.rmtree(rundir, ignore_errors=True)


def summary(r):
    return ("%-10s run %d: %d agents x %d events, batch %d: %.0f events/s "
            "(%.2f s); ack p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d handshakes + "
            "heartbeats %.1f s; "
            "CPU busy: collector %.2f, postgres %.2f, generator %.2f, others %.2f "
            "of %d cores; collector waiting for a CPU %.0f%%, states %s; "
            "load %.2f->%.2f, CPU pressure %s; retries %s; %s"
            % (r["store"] + ("(fsync %s)" % r["pg_fsync"] if r["pg_fsync"] else ""),
               r["run"], r["agents"], r["events_per_agent"], r["batch"], r["events_per_s"],
               r["wall_s"], r["ack_ms"]["p50"], r["ack_ms"]["p99"], r["ack_ms"]["max"],
               r["agents"], r["connect_phase_s"], r["cpu_busy"]["collector"],
               r["cpu_busy"]["postgres"],
               r["cpu_busy"]["generator"], r["cpu_busy"]["others"], os.cpu_count(),
               100 * r["collector_sched"]["waiting_for_cpu"],
               "/".join("%s %.0f%%" % (k, 100 * v) for k, v in r["collector_state"].items()),
               r["loadavg"][0], r["loadavg"][1],
               "?" if r["cpu_pressure"] is None else "%.0f%%" % (100 * r["cpu_pressure"]),
               ",".join("%s=%d" % kv for kv in r["retries"].items() if kv[1]) or "none",
               "every event stored once, no alert" if r["ok"]
               else "FAILED: " + "; ".join(r["problems"][:5])))


def median_of(runs):
    def med(f):
        return statistics.median(f(r) for r in runs)
    return {"store": runs[0]["store"], "runs": len(runs),
            "events_per_s": med(lambda r: r["events_per_s"]),
            "ack_ms": {k: med(lambda r, k=k: r["ack_ms"][k]) for k in ("p50", "p99", "max")}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--events", type=int, default=200, help="events per agent")
    ap.add_argument("--batch", type=int, default=20, help="events per request")
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--runs", type=int, default=1, help="runs per store (interleaved)")
    ap.add_argument("--procs", type=int, default=2, help="generator processes")
    ap.add_argument("--connect-concurrency", type=int, default=64,
                    help="TLS handshakes in flight before the clock starts")
    ap.add_argument("--collector-bin", default=os.path.join(TOP, "build", "collector",
                                                            "leakwatch-collector"))
    ap.add_argument("--work", default="/tmp/lw-collector-load",
                    help="certificates (kept) and run directories")
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--keep", action="store_true", help="keep run directories")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.agents < 1 or args.events < 1 or args.batch < 1 or args.procs < 1:
        ap.error("--agents, --events, --batch and --procs must be at least 1")
    args.procs = min(args.procs, args.agents)  # no worker without agents

    # N sockets here and N in the collector (which inherits this limit)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.agents + 256
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit("collector-load: open files limit %d < %d needed for %d agents "
                     "(raise the hard limit)" % (hard, need, args.agents))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        log("raised the open files limit from %d to %d" % (soft, need))
    lwcollector.COLLECTOR = os.path.abspath(args.collector_bin)
    if not os.access(lwcollector.COLLECTOR, os.X_OK):
        sys.exit("collector-load: %s: not an executable (build first)" % args.collector_bin)
    os.makedirs(args.work, exist_ok=True)
    ca, names = make_ca(args.work, args.agents)
    stores = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    results = []
    for run_no in range(1, args.runs + 1):
        for store in stores:
            r = one_run(args, ca, names, store, run_no)
            results.append(r)
            if args.json:
                log(summary(r))
            else:
                print(summary(r), flush=True)
    med = [median_of([r for r in results if r["store"] == s]) for s in stores]
    if args.json:
        json.dump({"results": results, "median": med}, sys.stdout, indent=1)
        print()
    else:
        for m in med:
            print("%-10s median of %d: %.0f events/s; ack p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                  % (m["store"], m["runs"], m["events_per_s"], m["ack_ms"]["p50"],
                     m["ack_ms"]["p99"], m["ack_ms"]["max"]))
        if len(med) == 2:
            # each run plays SQLite, then PostgreSQL: compare within a run
            ratios = [a["events_per_s"] / b["events_per_s"]
                      for a, b in zip(results[0::2], results[1::2])]
            print("sqlite/postgresql events/s, per run: %s; median %.2f"
                  % (", ".join("%.2f" % x for x in ratios), statistics.median(ratios)))
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
