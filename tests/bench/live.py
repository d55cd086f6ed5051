#!/usr/bin/env python3
"""live.py — leakwatchd under live bursts, the workloads of peers.sh -I.

usage: tests/bench/live.py [-b BUILD] [-r RUNS] [--backend inotify|fanotify|both]
                           [--agent-config KEY=JSON]... [--latency-only] TREE

A copy of TREE lands in a watched root four ways: cp -r into an empty root;
tar -x; mv of a finished tree from elsewhere on the same file system; and
cp -r of the files into watched directories while the agent is stopped
(SIGSTOP), then continued: the events wait in the kernel queue, which
overflows if fs.inotify/fs.fanotify.max_queued_events is smaller than the
burst (16,384 by default; the header line prints both). For each: the
time from the start of the operation until the inventory equals the tree
(every path with its SHA-256), files landed per second over that time, the
CPU the agent and its classify helpers used over it (over the whole time
limit if the inventory never became exact), how many files were
missed (0 unless the agent never converged within the time limit) and how
many queue overflows the agent counted. Then the close-to-row latency of
single files written into a quiet root: the writer's commit stamp
(last_change) minus the time the writer process closed the file.

Each scenario runs once per backend before the next scenario starts (cp on
inotify, cp on fanotify, tar on inotify, ...), so that noise on a shared
machine falls on both alike. Every scenario gets an agent of its own, with
an empty state, started before the scenario and stopped after it: the
fanotify backend marks the whole file system, so an agent left running
would see (and drop, at a cost in CPU) every event of the other backend's
scenario, of the staging copy for mv and of the clean-up, and would
compete with the agent being measured. Start-up is outside every figure.

--agent-config KEY=JSON adds KEY to the agent's configuration (the value is
JSON: process_attribution=false, workers=4, log_level='"debug"'), for
comparing a switch across runs. Prints markdown tables.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import lwtest  # noqa: E402

BACKENDS = ("inotify", "fanotify")
SCENARIOS = (("cp", "`cp -r` into the root"),
             ("tar", "`tar -x` into the root"),
             ("mv", "`mv` of a finished tree"),
             ("skelstop", "agent stopped during `cp -r`, then continued"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
HEADER = ("| scenario | backend | write s | until exact s | files/s | agent CPU s | missed | overflows |\n"
          "|---|---|--:|--:|--:|--:|--:|--:|")


def tree_hashes(src):
    """{relative path (bytes, leading /): sha256} of every file under src,
    hashed once and mapped onto each agent's root by tree_inventory()."""
    rel = {}
    srcb = os.fsencode(src)
    for dp, dn, fn in os.walk(srcb):
        for f in fn:
            p = os.path.join(dp, f)
            rel[p[len(srcb):]] = lwtest.sha256_file(p)
    return rel


def tree_inventory(rel, dst_root, name):
    """What the inventory must hold once the tree is at dst_root/name."""
    dst = os.fsencode(os.path.join(dst_root, name))
    return {dst + p: h for p, h in rel.items()}


def tree_cpu(pid):
    """CPU seconds (user + system) of process pid and its descendants.

    Sums utime+stime+cutime+cstime over pid and every live descendant,
    found through the ppid field of /proc/*/stat. utime/stime of a process
    cover all its threads, dead ones included. A classify helper is a
    long-lived child of leakwatchd (posix_spawn, one per core) that runs
    across many files and may outlive a scenario, so the agent's own
    cutime/cstime alone would miss it: those fields only gain a child's CPU
    once the child has exited and been waited for. Summing the live tree
    counts each process exactly once: a live (or zombie, not yet reaped)
    process by its own utime/stime, a reaped one inside its parent's
    cutime/cstime (the kernel adds the child's own and its cumulative
    children's times there). The total only grows, so the difference of
    two readings is the CPU used in between, including by a helper that
    started or was reaped in between. (A helper reaped in the instant
    between reading its stat and its parent's could be counted twice or
    not at all; helpers seldom exit.)"""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
        except OSError:          # exited since the listing
            continue
        # comm is in parentheses and may hold spaces or ')': split at the last
        f = s[s.rindex(b")") + 2:].split()
        # f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17
        procs[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    total = 0
    todo = [pid]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen or p not in procs:
            continue
        seen.add(p)
        total += procs[p][1]
        todo.extend(c for c, (pp, _) in procs.items() if pp == p)
    return total / CLK_TCK


def wait_exact(a, want, t0, timeout):
    """Seconds from t0 until the inventory equals want; (secs, missed)."""
    end = time.time() + timeout
    n = len(want)
    while time.time() < end:
        if a.proc.poll() is not None:
            raise RuntimeError("agent exited with %s during the scenario:\n%s"
                               % (a.proc.returncode, a.log_text()[-3000:]))
        s = a.status()
        if s and s["files"] == n and s["pending"] == 0 and not s["scanning"]:
            got = a.inventory()
            if got == want:
                return time.time() - t0, 0
        time.sleep(0.1)
    got = a.inventory()
    return None, sum(1 for p, h in want.items() if got.get(p) != h)


def start_agent(backend, extra):
    cfg = {"rescan_interval": 0}
    cfg.update(extra)
    cfg["backend"] = backend   # over LW_BACKEND, which lwtest reads too
    a = lwtest.Agent("live-" + backend, extra_config=cfg)
    a.start()
    try:
        s = a.wait_ready()
    except RuntimeError:
        a.cleanup()
        raise
    if s.get("backend") != backend:
        a.cleanup()
        raise RuntimeError("asked for backend %s, status says %s" % (backend, s.get("backend")))
    return a


def scenario(backend, extra, mode, src, rel, tar, stage_parent, timeout):
    """One scenario on a fresh agent: (write s, until exact s or None,
    missed, overflows, agent CPU s)."""
    name = "burst"
    stage = os.path.join(stage_parent, "stage")
    if mode == "mv":
        # staged before the agent starts: a fanotify agent would otherwise
        # get 100,000 events from the copy (same file system) to drop
        shutil.rmtree(stage, ignore_errors=True)
        shutil.copytree(src, stage)
        subprocess.run(["sync"])
    a = start_agent(backend, extra)
    try:
        root = a.root
        want = tree_inventory(rel, root, name)
        if mode == "skelstop":
            dst = os.path.join(root, name)
            subprocess.run("cd %s && find . -type d -print0 | (mkdir -p %s && cd %s && xargs -0 mkdir -p)"
                           % (src, dst, dst), shell=True, check=True)
            while a.status()["scanning"] or a.status()["pending"]:
                time.sleep(0.1)
            time.sleep(1)
        ov0 = a.status()["overflows"]
        cpu0 = tree_cpu(a.proc.pid)
        if mode == "skelstop":
            a.proc.send_signal(signal.SIGSTOP)
        t0 = time.time()
        if mode == "cp":
            subprocess.run(["cp", "-r", src, os.path.join(root, name)], check=True)
        elif mode == "tar":
            subprocess.run(["tar", "-C", root, "--transform", "s,^[^/]*,%s," % name, "-xf", tar],
                           check=True)
        elif mode == "mv":
            os.rename(stage, os.path.join(root, name))
        elif mode == "skelstop":
            subprocess.run(["cp", "-r", src + "/.", os.path.join(root, name)], check=True)
            a.proc.send_signal(signal.SIGCONT)
        t_write = time.time() - t0
        secs, missed = wait_exact(a, want, t0, timeout)
        cpu = tree_cpu(a.proc.pid) - cpu0
        # status is published once a second: the overflow count of the
        # scenario is in by the time the inventory is exact
        ov = a.status()["overflows"] - ov0
        return t_write, secs, missed, ov, cpu
    finally:
        a.cleanup()
        shutil.rmtree(stage, ignore_errors=True)


def latency(backend, extra, n=300, gap=0.02):
    a = start_agent(backend, extra)
    try:
        lat = []
        d = os.path.join(a.root, "lat")
        os.mkdir(d)
        time.sleep(0.5)
        closes = {}
        for i in range(n):
            p = os.path.join(d, "f%04d.txt" % i)
            with open(p, "wb") as f:
                f.write(b"latency probe %d\n" % i)
            closes[os.fsencode(p)] = time.time_ns()
            time.sleep(gap)
        end = time.time() + 30
        rows = {}
        while time.time() < end:
            rows = {o["path"]: o for o in a.rows("--under", d)}
            if len(rows) == n:
                break
            time.sleep(0.2)
        for p, t in closes.items():
            o = rows.get(p)
            if o:
                # seconds as a JSON number: a float keeps ~0.2 µs here
                lat.append((o["last_change"] * 1e9 - t) / 1e6)
        return lat
    finally:
        a.cleanup()


def agent_config_arg(s):
    key, eq, val = s.partition("=")
    if not eq or not key:
        raise argparse.ArgumentTypeError("want KEY=JSON, got %r" % s)
    try:
        return key, json.loads(val)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(
            "%s: the value must be JSON (a string in double quotes): %s" % (key, e))


def fmt(x, spec="%.2f"):
    return "never" if x is None else spec % x


def sysctl(name):
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return f.read().strip()
    except OSError:
        return "?"


def utc():
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def print_table(res, nfiles, backends):
    """res: {(mode, backend): [results of the runs]}; medians if several."""
    print(HEADER)
    med = {}
    for mode, label in SCENARIOS:
        for be in backends:
            rs = res.get((mode, be))
            if not rs:
                continue
            secs = [r[1] for r in rs if r[1] is not None]
            m = (statistics.median(r[0] for r in rs),
                 statistics.median(secs) if len(secs) == len(rs) else None,
                 statistics.median(r[4] for r in rs))
            med[(mode, be)] = m
            print("| %s | %s | %.2f | %s | %s | %.2f | %s | %s |" % (
                label, be, m[0], fmt(m[1]),
                "{:,.0f}".format(nfiles / m[1]) if m[1] else "—", m[2],
                " / ".join(str(r[2]) for r in rs), " / ".join(str(r[3]) for r in rs)),
                flush=True)
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--build", default="build")
    ap.add_argument("-r", "--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument("--backend", choices=BACKENDS + ("both",), default="both")
    ap.add_argument("--agent-config", metavar="KEY=JSON", type=agent_config_arg,
                    action="append", default=[],
                    help="add KEY to the agent's configuration (repeatable)")
    ap.add_argument("tree")
    o = ap.parse_args()
    extra = dict(o.agent_config)
    if "backend" in extra:
        ap.error("choose the backend with --backend, not --agent-config backend=...")
    backends = BACKENDS if o.backend == "both" else (o.backend,)
    lwtest.LEAKWATCHD = os.path.abspath(os.path.join(o.build, "agent/leakwatchd"))
    lwtest.LEAKWATCH = os.path.abspath(os.path.join(o.build, "cli/leakwatch"))
    src = os.path.abspath(o.tree)
    here = os.path.dirname(os.path.abspath(__file__))
    commit = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True).stdout.strip() or "unknown"
    work = tempfile.mkdtemp(prefix="lw-live.", dir=os.path.dirname(src))
    try:
        print("# live.py: tree %s, build %s (commit %s), backends %s, extra agent config %s"
              % (src, o.build, commit, " and ".join(backends), json.dumps(extra)), flush=True)
        print("# max_queued_events: inotify %s, fanotify %s; %d CPUs; started %s"
              % (sysctl("fs.inotify.max_queued_events"), sysctl("fs.fanotify.max_queued_events"),
                 os.cpu_count(), utc()), flush=True)
        res = {}
        if not o.latency_only:
            rel = tree_hashes(src)
            nfiles = len(rel)
            tar = os.path.join(work, "src.tar")
            subprocess.run(["tar", "-C", os.path.dirname(src), "-cf", tar, os.path.basename(src)],
                           check=True)
            for run in range(o.runs):
                print()
                print("Run %d of %d (%s), %d files land in a watched root:"
                      % (run + 1, o.runs, utc(), nfiles))
                print()
                print(HEADER, flush=True)
                for mode, label in SCENARIOS:
                    for be in backends:
                        r = scenario(be, extra, mode, src, rel, tar, work, o.timeout)
                        res.setdefault((mode, be), []).append(r)
                        print("| %s | %s | %.2f | %s | %s | %.2f | %d | %d |" % (
                            label, be, r[0], fmt(r[1]),
                            "{:,.0f}".format(nfiles / r[1]) if r[1] else "—", r[4], r[2], r[3]),
                            flush=True)
            if o.runs > 1:
                print()
                print("Median of %d runs (missed and overflows: each run):" % o.runs)
                print()
                med = print_table(res, nfiles, backends)
            else:
                med = {k: (v[0][0], v[0][1], v[0][4]) for k, v in res.items()}
            if len(backends) == 2:
                print()
                print("| scenario | until exact, fanotify / inotify | agent CPU, fanotify / inotify |")
                print("|---|--:|--:|")
                for mode, label in SCENARIOS:
                    i, f = med[(mode, "inotify")], med[(mode, "fanotify")]
                    print("| %s | %s | %s |" % (
                        label, "%.2f" % (f[1] / i[1]) if f[1] and i[1] else "—",
                        "%.2f" % (f[2] / i[2]) if i[2] else "—"))
        print()
        print("| single files into a quiet root | backend | n | median ms | p99 ms | max ms |")
        print("|---|---|--:|--:|--:|--:|")
        for be in backends:
            lat = sorted(latency(be, extra))
            if not lat:
                print("| close to committed row | %s | 0 | — | — | — |" % be, flush=True)
                continue
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print("| close to committed row | %s | %d | %.1f | %.1f | %.1f |"
                  % (be, len(lat), statistics.median(lat), p99, lat[-1]), flush=True)
        print()
        print("# finished %s" % utc(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
