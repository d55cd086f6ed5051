#!/usr/bin/env python3
"""Hostile trees: names with spaces, newlines, invalid UTF-8 and leading
dashes; FIFOs (the agent must not block on them), sockets, symlink loops,
unreadable files, files deleted between event and hash; the state
directory inside a root; exclusions. And a restart that re-hashes only
what changed."""
import os
import socket
import subprocess
import threading
import time

from lwtest import Agent, ok, done, write, disk_inventory

r_ = None
a = None
try:
    base_agent = Agent("hostile", extra_config={"exclude": ["*.tmp", "*/cache/**"]})
    a = base_agent
    r = a.root
    # the state directory lives inside the watched root
    a.state = os.path.join(r, "state-inside")
    import json
    cfg = json.load(open(a.config))
    cfg["state_dir"] = a.state
    json.dump(cfg, open(a.config, "w"))
    a.start()
    a.wait_ready()

    names = [b"with space.txt", b"new\nline.txt", b"-leading-dash", b"--",
             b"bad\xff\xfeutf8.txt", b"\xe2\x82\xac-euro.txt", b"tab\there",
             b"back\\slash", b"quote\"d", b" "]
    rb = os.fsencode(r)
    for n in names:
        write(os.path.join(rb, n), b"content of " + n)
    os.mkdir(os.path.join(rb, b"dir\nwith\xffname"))
    write(os.path.join(rb, b"dir\nwith\xffname", b"inner"), b"inner\n")
    a.converge("hostile names are recorded byte for byte")

    # FIFO: recorded, never opened (opening one would block a worker)
    os.mkfifo(os.path.join(r, "pipe"))
    for i in range(20):
        write(os.path.join(r, "after-fifo-%d.txt" % i), "still working %d\n" % i)
    a.converge("a FIFO is recorded and the agent does not block on it")
    row = [o for o in a.rows() if o["path"].endswith(b"/pipe")]
    ok(row and row[0]["kind"] == "fifo" and row[0]["sha256"] is None,
       "the FIFO row says kind fifo, no hash", repr(row))

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(r, "sock"))
    os.symlink("loop-b", os.path.join(r, "loop-a"))
    os.symlink("loop-a", os.path.join(r, "loop-b"))
    os.symlink(".", os.path.join(r, "self-loop"))
    os.symlink("/etc/passwd", os.path.join(r, "outside-link"))
    a.converge("sockets and symlink loops are recorded, not followed")
    links = {o["path"].rsplit(b"/", 1)[1]: o for o in a.rows() if o["kind"] == "symlink"}
    ok(links.get(b"outside-link", {}).get("link_target") == "/etc/passwd"
       and links[b"outside-link"]["sha256"] is None,
       "a symlink's target is recorded, its target's content is not read",
       repr(links.get(b"outside-link")))

    # deleted between event and hash: many short-lived files
    for i in range(2000):
        p = os.path.join(r, "ephemeral-%d" % i)
        write(p, "gone soon %d\n" % i)
        os.remove(p)
    a.converge("files deleted between event and hash leave no rows")

    # exclusions and the state directory
    write(os.path.join(r, "skip.tmp"), "excluded\n")
    os.makedirs(os.path.join(r, "x/cache/y"))
    write(os.path.join(r, "x/cache/y/z.txt"), "excluded too\n")
    write(os.path.join(r, "x/kept.txt"), "kept\n")
    excl = lambda p: p.endswith(b".tmp") or b"/cache/" in p + b"/"
    a.converge("excluded paths are neither watched nor recorded", exclude=excl)
    ok(not any(os.fsencode(a.state) in o["path"] for o in a.rows("--all")),
       "nothing in the agent's own state directory is recorded")

    # a writer that keeps a file changing while it is read
    stop = threading.Event()
    busy = os.path.join(r, "busy.log")

    def churn():
        i = 0
        while not stop.is_set():
            with open(busy, "a") as f:
                f.write("line %d\n" % i)
            i += 1
    t = threading.Thread(target=churn)
    t.start()
    time.sleep(2)
    stop.set()
    t.join()
    a.converge("a file appended to continuously ends with its final hash", exclude=excl)

    # restart: only what changed is re-hashed
    before = {o["path"]: o for o in a.rows()}
    ok(a.stop() == 0, "stopped for the restart test")
    write(os.path.join(r, "changed-while-down.txt"), "new content\n")
    write(os.path.join(r, "with space.txt"), "rewritten while down\n")
    a.start()
    a.wait_ready()
    a.converge("after a restart the inventory is exact", exclude=excl)
    after = {o["path"]: o for o in a.rows()}
    rewritten = os.fsencode(os.path.join(r, "with space.txt"))
    same = [p for p in before if p in after and p != rewritten
            and after[p]["last_change"] != before[p]["last_change"]]
    ok(not same, "unchanged files are not re-hashed on restart",
       "%d rows rewritten, e.g. %r" % (len(same), same[:3]))
    ok(after[rewritten]["last_change"] != before[rewritten]["last_change"]
       and after[rewritten]["sha256"] != before[rewritten]["sha256"],
       "a file changed while the agent was down is re-hashed")
    sock.close()
finally:
    if a:
        a.cleanup()


# Unreadable files: root reads everything, so drop privileges for this part.
b = Agent("unreadable")
try:
    if os.geteuid() == 0:
        os.chown(b.base, 65534, 65534)
        os.chown(b.root, 65534, 65534)
        b.wrapper = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    b.start()
    b.wait_ready()
    secret = os.path.join(b.root, "secret.txt")
    write(secret, "no one may read this\n")
    os.chmod(secret, 0)
    if os.geteuid() == 0:
        write(os.path.join(b.root, "readable.txt"), "fine\n")
        os.chown(os.path.join(b.root, "readable.txt"), 65534, 65534)
    os.utime(secret)
    b.converge("an unreadable file is recorded with its error",
               want={os.fsencode(secret): "unreadable",
                     **({os.fsencode(os.path.join(b.root, "readable.txt")):
                         disk_inventory(b.root)[os.fsencode(os.path.join(b.root, "readable.txt"))]}
                        if os.geteuid() == 0 else {})})
    row = [o for o in b.rows() if o["path"].endswith(b"secret.txt")]
    ok(row and "Permission denied" in (row[0]["error"] or ""),
       "the error names the cause", repr(row))
    s = b.status()
    ok(s["errors"] >= 1, "status counts files with errors", repr(s))
    if os.geteuid() == 0:
        # The CLI run by root must not leave root-owned SQLite side files
        # (-wal, -shm) that would lock an agent running as another user out.
        # SQLite gives files it creates as root to the database's owner; this
        # checks that property, which the deployment relies on.
        ok(b.stop() == 0, "the unprivileged agent stops cleanly")
        b.cli("status")
        b.cli("files", "--json")
        owners = {f: os.stat(os.path.join(b.state, f)).st_uid for f in os.listdir(b.state)}
        ok(all(u == 65534 for u in owners.values()),
           "root's CLI leaves the agent's database files to the agent's user", repr(owners))
        b.start()
        b.wait_ready()
        write(os.path.join(b.root, "later.txt"), "after a root CLI session\n")
        os.chown(os.path.join(b.root, "later.txt"), 65534, 65534)
        end = time.time() + 30
        seen = False
        while time.time() < end and not seen:
            seen = any(o["path"].endswith(b"later.txt") for o in b.rows())
            time.sleep(0.2)
        ok(seen, "and it restarts and writes its inventory afterwards", b.log_text()[-1500:])
finally:
    b.cleanup()
done()
