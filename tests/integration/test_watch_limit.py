#!/usr/bin/env python3
"""The inotify watch limit: inside a user namespace the per-user limit is set
below the number of directories. The agent must say so, keep working, show
the coverage in status, and still find files created in unwatched
directories through its periodic rescans."""
import os
import subprocess
import sys

from lwtest import Agent, ok, done, write, skip_all

LIMIT = 8
if subprocess.run(["unshare", "-U", "-r", "true"], stderr=subprocess.DEVNULL).returncode:
    skip_all("user namespaces are not available here")

a = Agent("limit")
# the root directory, then 3 x 4 subdirectories: 17 directories, 8 watches
for i in range(3):
    for j in range(4):
        os.makedirs(os.path.join(a.root, "d%d/e%d" % (i, j)))
        write(os.path.join(a.root, "d%d/e%d/f.txt" % (i, j)), "file %d %d\n" % (i, j))
# the agent runs as root of a new user namespace whose watch limit is LIMIT
a.wrapper = ["unshare", "-U", "-r", "sh", "-c",
             "echo %d > /proc/sys/user/max_inotify_watches && exec \"$@\"" % LIMIT, "sh"]
try:
    a.start()
    a.wait_ready()
    a.converge("files in watched and unwatched directories are inventoried")
    s, hit = a.wait_status(lambda s: s["watch_limit_hit"] and s["unwatched_dirs"] > 0)
    ok(hit and s["coverage"] < 1.0 and s["watches"] <= LIMIT,
       "status shows the limit and the coverage", repr(s))
    ok("inotify watch limit reached" in a.log_text()
       and "fs.inotify.max_user_watches" in a.log_text(),
       "the limit is logged with the sysctl to raise it", a.log_text()[-2000:])
    ok(a.log_text().count("inotify watch limit reached") == 1, "and logged once")
    # new files in every directory, including the unwatched ones
    for i in range(3):
        for j in range(4):
            write(os.path.join(a.root, "d%d/e%d/new.txt" % (i, j)), "new %d %d\n" % (i, j))
    os.remove(os.path.join(a.root, "d2/e3/f.txt"))
    os.makedirs(os.path.join(a.root, "d2/e3/later"))
    write(os.path.join(a.root, "d2/e3/later/g.txt"), "in a new dir under an unwatched one\n")
    a.converge("changes in unwatched directories are found by rescans", timeout=60)
    r = a.cli("status")
    ok(b"covered by rescans only" in r.stdout and b"watch limit reached" in r.stdout,
       "leakwatch status says so in words", r.stdout)
finally:
    a.cleanup()
done()
