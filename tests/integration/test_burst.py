#!/usr/bin/env python3
"""Bursts: 20,000+ files extracted by tar; a kernel queue overflow forced by
stopping the agent while files are created; kill -9 in the middle of a
burst and a restart. Each time the inventory must equal find + sha256sum
exactly."""
import os
import random
import signal
import subprocess
import tarfile
import time

from lwtest import Agent, ok, done, run

N = int(os.environ.get("LW_BURST_FILES", "20000"))


def make_source(base, name, n, seed):
    """A tree of n small files in nested directories, and its tarball."""
    rng = random.Random(seed)
    src = os.path.join(base, name)
    dirs = [src]
    os.makedirs(src)
    for i in range(max(1, n // 40)):
        parent = rng.choice(dirs)
        if parent.count("/") - src.count("/") < 6:
            d = os.path.join(parent, "d%d" % i)
            os.mkdir(d)
            dirs.append(d)
    for i in range(n):
        d = rng.choice(dirs)
        with open(os.path.join(d, "f%d.txt" % i), "wb") as f:
            f.write(("file %d %s\n" % (i, "x" * rng.randrange(0, 300))).encode())
    tar = os.path.join(base, name + ".tar")
    run(["tar", "-C", base, "-cf", tar, name])
    return src, tar


# The overflow phase creates more files than the kernel queue holds. A
# machine tuned to a large queue (262144 is common) would make that a quarter
# of a million files; the queue is sized when the agent opens its watch, so
# the test sets the kernel default for its own agent and puts it back.
QUEUE_SYSCTLS = ["/proc/sys/fs/inotify/max_queued_events",
                 "/proc/sys/fs/fanotify/max_queued_events"]
saved = {}
for path in QUEUE_SYSCTLS:
    try:
        with open(path) as f:
            saved[path] = f.read().strip()
        if int(saved[path]) > 16384:
            with open(path, "w") as f:
                f.write("16384")
    except (OSError, ValueError):
        pass  # not root, or no fanotify: the machine's own limit is used


def restore_queues():
    for path, value in saved.items():
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError:
            pass


# classification has its own tests; this one is about the inventory
a = Agent("burst", extra_config={"classify": {"enabled": False}}).start()
try:
    src, tar = make_source(a.base, "src", N, 1)
    a.wait_ready()
    run(["tar", "-C", a.root, "-xf", tar])
    a.converge("tar -x of %d files: inventory equals the tree" % N, timeout=300)

    # Overflow: the agent is stopped while more events arrive than the
    # kernel queue holds (fs.inotify.max_queued_events, 16384 by default).
    queue = max(int(open(p).read()) for p in QUEUE_SYSCTLS if os.path.exists(p))
    src2, tar2 = make_source(a.base, "src2", max(N, queue + 4000), 2)
    # Directories first, watched, so that copying the files into them makes
    # events (files in directories not yet watched make none).
    os.makedirs(os.path.join(a.root, "copied"))
    run("cd %s && find . -type d -print0 | (cd %s && xargs -0 mkdir -p)"
        % (src2, os.path.join(a.root, "copied")))
    a.converge("directory skeleton watched")
    before = a.status()["overflows"]
    a.proc.send_signal(signal.SIGSTOP)
    run(["cp", "-r", src2 + "/.", os.path.join(a.root, "copied")])
    run("rm -rf %s/src/d1*" % a.root)           # deletions lost in the overflow
    a.proc.send_signal(signal.SIGCONT)
    a.converge("after a queue overflow the inventory is exact again", timeout=300)
    s, seen = a.wait_status(lambda s: s["overflows"] > before)
    ok(seen, "the overflow was seen and counted", repr(s))

    # kill -9 in the middle of a burst, then restart
    p = subprocess.Popen(["tar", "-C", os.path.join(a.root), "--transform",
                          "s/^src/killed/", "-xf", tar])
    time.sleep(0.3)
    a.kill9()
    p.wait()
    run("rm -rf %s/copied/d2*" % a.root)        # changes while the agent is down
    with open(os.path.join(a.root, "killed", "late.txt"), "w") as f:
        f.write("written while the agent was dead\n")
    a.start()
    a.wait_ready(timeout=300)
    a.converge("kill -9 mid-burst + restart: the inventory is exact", timeout=300)
    ok(a.stop() == 0, "the agent stops cleanly")
finally:
    a.cleanup()
    restore_queues()
done()
