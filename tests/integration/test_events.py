#!/usr/bin/env python3
"""Live events on a real root: create, modify, rename, move in and out,
delete, mkdir -p with immediate writes, editor-style saves, hard links,
directories renamed twice, deleted and re-created."""
import os
import shutil
import tempfile
import time

from lwtest import Agent, ok, done, write, disk_inventory

a = Agent("events").start()
try:
    r = a.root
    os.makedirs(os.path.join(r, "docs"))
    write(os.path.join(r, "docs/pre.txt"), "present before the agent started\n")
    a.wait_ready()
    a.converge("start-up scan finds existing files")

    write(os.path.join(r, "new.txt"), "created\n")
    a.converge("a created file is inventoried")

    write(os.path.join(r, "new.txt"), "modified contents\n")
    a.converge("a modified file is re-hashed")

    before = {o["path"]: o for o in a.rows()}
    old = os.fsencode(os.path.join(r, "new.txt"))
    os.rename(os.path.join(r, "new.txt"), os.path.join(r, "docs/renamed.txt"))
    a.converge("a renamed file is at its new path only")
    after = {o["path"]: o for o in a.rows()}
    moved = after.get(os.fsencode(os.path.join(r, "docs/renamed.txt")), {})
    ok(moved.get("first_seen") == before[old]["first_seen"]
       and os.fsencode(moved.get("moved_from", "")) == old,
       "a rename moves the row (first_seen kept, moved_from recorded)",
       "%r\n%r" % (before[old], moved))

    os.remove(os.path.join(r, "docs/renamed.txt"))
    a.converge("a deleted file leaves the inventory")
    gone = [o for o in a.rows("--all") if o["path"].endswith(b"docs/renamed.txt")]
    ok(len(gone) == 1 and gone[0]["deleted_at"] is not None,
       "files --all shows the deleted file with when it went", repr(gone))

    # mkdir -p with files written at once into the deepest level, many times
    for i in range(40):
        d = os.path.join(r, "deep%d/a/b/c/d" % i)
        os.makedirs(d)
        write(os.path.join(d, "f.txt"), "deep %d\n" % i)
        write(os.path.join(r, "deep%d/a/b/top.txt" % i), "mid %d\n" % i)
    a.converge("mkdir -p + immediate writes: every deepest file found")

    # a finished tree moved in from outside the root (same file system)
    outside = tempfile.mkdtemp(dir=a.base)
    for i in range(50):
        sub = os.path.join(outside, "tree/s%d" % (i % 5))
        os.makedirs(sub, exist_ok=True)
        write(os.path.join(sub, "m%d.txt" % i), "moved in %d\n" % i)
    os.rename(os.path.join(outside, "tree"), os.path.join(r, "movedin"))
    a.converge("a directory moved into the root is walked")

    # and moved out again: its rows are marked deleted, not left stale
    os.rename(os.path.join(r, "movedin"), os.path.join(outside, "back"))
    a.converge("a directory moved out leaves the inventory")
    write(os.path.join(outside, "back/s1/after.txt"), "written after leaving\n")
    time.sleep(1)
    a.converge("writes in a moved-out directory are not reported")
    dead = [o for o in a.rows("--all") if b"/movedin/" in o["path"]]
    ok(len(dead) == 50 and all(o["deleted_at"] for o in dead),
       "moved-out files are marked deleted", "%d rows" % len(dead))

    # directory renamed twice inside the tree, deepest file path correct
    os.makedirs(os.path.join(r, "a1/a2/a3/a4"))
    write(os.path.join(r, "a1/a2/a3/a4/leaf.txt"), "leaf\n")
    a.converge("nested tree created")
    os.rename(os.path.join(r, "a1"), os.path.join(r, "b1"))
    os.rename(os.path.join(r, "b1"), os.path.join(r, "c1"))
    write(os.path.join(r, "c1/a2/a3/a4/leaf2.txt"), "after two renames\n")
    a.converge("after two renames the deepest files are under the new name")

    # editor-style save: write a temp file, rename over the original
    target = os.path.join(r, "docs/report.txt")
    write(target, "version 1\n")
    for v in range(2, 6):
        tmp = os.path.join(r, "docs/.report.txt.swp")
        write(tmp, "version %d\n" % v)
        os.rename(tmp, target)
    a.converge("write-then-rename saves keep the latest content")

    # hard link into the tree from outside and inside
    write(os.path.join(outside, "linked.txt"), "hard linked\n")
    os.link(os.path.join(outside, "linked.txt"), os.path.join(r, "hard.txt"))
    os.link(os.path.join(r, "hard.txt"), os.path.join(r, "docs/hard2.txt"))
    a.converge("hard links are inventoried (IN_CREATE without close)")

    # rmdir and re-create the same path many times
    for i in range(50):
        d = os.path.join(r, "churn")
        os.mkdir(d)
        write(os.path.join(d, "x.txt"), "round %d\n" % i)
        shutil.rmtree(d)
    os.mkdir(os.path.join(r, "churn"))
    write(os.path.join(r, "churn/final.txt"), "final\n")
    a.converge("a directory deleted and re-created 50 times: the live one counts")
    dirs = sum(1 for _ in os.walk(r))
    s, _ = a.wait_status(lambda s: s["watches"] + s["unwatched_dirs"] == dirs)
    ok(s["watches"] + s["unwatched_dirs"] == dirs,
       "the directory map holds exactly the live directories",
       "map %s+%s, disk %d" % (s["watches"], s["unwatched_dirs"], dirs))

    # a file replaced by a directory and back
    write(os.path.join(r, "flip"), "file\n")
    a.converge("flip is a file")
    os.remove(os.path.join(r, "flip"))
    os.mkdir(os.path.join(r, "flip"))
    write(os.path.join(r, "flip/inner.txt"), "inner\n")
    a.converge("flip is a directory")

    # chmod on a file: row updated without re-reading (same hash)
    os.chmod(os.path.join(r, "docs/report.txt"), 0o604)
    time.sleep(0.5)
    a.converge("chmod keeps the inventory exact")
    row = [o for o in a.rows() if o["path"].endswith(b"docs/report.txt")][0]
    ok(row["mode"] == 0o604, "a mode change is recorded", repr(row))

    rc = a.stop()
    ok(rc == 0, "SIGTERM: the agent drains and exits 0", "rc=%s" % rc)
    s = a.status()
    ok(s is not None and not s["running"], "status says not running after stop", repr(s))
finally:
    a.cleanup()
done()
