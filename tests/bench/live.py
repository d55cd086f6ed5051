#!/usr/bin/env python3
"""live.py — leakwatchd under live bursts, the workloads of peers.sh -I.

usage: tests/bench/live.py [-b BUILD] [-r RUNS] TREE

A copy of TREE lands in a watched root four ways: cp -r into an empty root;
tar -x; mv of a finished tree from elsewhere on the same file system; and
cp -r of the files into watched directories while the agent is stopped
(SIGSTOP) so that the kernel queue overflows, then continued. For each: the
time from the start of the operation until the inventory equals the tree
(every path with its SHA-256), and how many files were missed (0 unless the
agent never converged within the time limit). Then the close-to-row latency
of single files written into a quiet root: the writer's commit stamp
(last_change) minus the time the writer process closed the file.
Prints markdown tables.
"""
import argparse
import hashlib
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


def tree_inventory(src, dst_root, name):
    """What the inventory must hold once src is at dst_root/name."""
    want = {}
    srcb = os.fsencode(src)
    dst = os.fsencode(os.path.join(dst_root, name))
    for dp, dn, fn in os.walk(srcb):
        for f in fn:
            p = os.path.join(dp, f)
            want[dst + p[len(srcb):]] = lwtest.sha256_file(p)
    return want


def wait_exact(a, want, t0, timeout):
    """Seconds from t0 until the inventory equals want; (secs, missed)."""
    end = time.time() + timeout
    n = len(want)
    while time.time() < end:
        s = a.status()
        if s and s["files"] == n and s["pending"] == 0 and not s["scanning"]:
            got = a.inventory()
            if got == want:
                return time.time() - t0, 0
        time.sleep(0.1)
    got = a.inventory()
    return None, sum(1 for p, h in want.items() if got.get(p) != h)


def scenario(a, mode, src, tar, stage_parent, timeout):
    root = a.root
    name = "burst"
    if mode == "skelstop":
        dst = os.path.join(root, name)
        subprocess.run("cd %s && find . -type d -print0 | (mkdir -p %s && cd %s && xargs -0 mkdir -p)"
                       % (src, dst, dst), shell=True, check=True)
        while a.status()["scanning"] or a.status()["pending"]:
            time.sleep(0.1)
        time.sleep(1)
    if mode == "mv":
        stage = os.path.join(stage_parent, "stage")
        shutil.copytree(src, stage)
        subprocess.run(["sync"])
    want = tree_inventory(src, root, name)
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
    s = a.status()
    shutil.rmtree(os.path.join(root, name))
    wait_exact(a, {}, time.time(), timeout)
    return t_write, secs, missed, s["overflows"]


def latency(a, n=300, gap=0.02):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--build", default="build")
    ap.add_argument("-r", "--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument("tree")
    o = ap.parse_args()
    lwtest.LEAKWATCHD = os.path.abspath(os.path.join(o.build, "agent/leakwatchd"))
    lwtest.LEAKWATCH = os.path.abspath(os.path.join(o.build, "cli/leakwatch"))
    src = os.path.abspath(o.tree)
    nfiles = sum(len(f) for _, _, f in os.walk(src))
    work = tempfile.mkdtemp(prefix="lw-live.", dir=os.path.dirname(src))
    tar = os.path.join(work, "src.tar")
    subprocess.run(["tar", "-C", os.path.dirname(src), "-cf", tar, os.path.basename(src)],
                   check=True)
    a = lwtest.Agent("live", extra_config={"rescan_interval": 0})
    a.start()
    a.wait_ready()
    print("| scenario | files | write s | until exact s (median) | files missed | overflows |")
    print("|---|--:|--:|--:|--:|--:|")
    try:
        for mode, label in () if o.latency_only else (("cp", "cp -r into the watched root"),
                            ("tar", "tar -x into the watched root"),
                            ("mv", "mv of a finished tree into the root"),
                            ("skelstop", "agent SIGSTOPped during cp -r, then continued")):
            res = [scenario(a, mode, src, tar, work, o.timeout) for _ in range(o.runs)]
            secs = [r[1] for r in res if r[1] is not None]
            print("| %s | %d | %.2f | %s | %s | %d |" % (
                label, nfiles, statistics.median(r[0] for r in res),
                "%.2f" % statistics.median(secs) if secs else "never",
                " / ".join(str(r[2]) for r in res), res[-1][3]), flush=True)
        lat = latency(a)
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print()
        print("| single files into a quiet root | n | median ms | p99 ms | max ms |")
        print("|---|--:|--:|--:|--:|")
        print("| close to committed row | %d | %.1f | %.1f | %.1f |"
              % (len(lat), statistics.median(lat), p99, lat[-1]))
    finally:
        a.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
