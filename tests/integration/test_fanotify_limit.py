#!/usr/bin/env python3
"""The fanotify backend has no per-directory watch (issue 12): with the
inotify watch limit set to 100, an agent on the fanotify backend watches a
tree of 10,000 directories completely, never reports the limit, and sees a
file created in the deepest directory after start-up through an event.
The sysctl is machine-wide: it is restored at the end. Needs root (for
fanotify filesystem marks and the sysctl); skipped otherwise."""
import os
import sys
import time
import traceback

from lwtest import Agent, done, ok, skip_all, write

SYSCTL = "/proc/sys/fs/inotify/max_user_watches"


def main():
    if os.geteuid() != 0:
        skip_all("fanotify filesystem marks and the sysctl need root")
    old = open(SYSCTL).read().strip()
    a = Agent("fanotify-limit", extra_config={"backend": "fanotify"})
    try:
        # 10 x 10 x 100 = 10,000 leaf directories (10,110 in all)
        for i in range(10):
            for j in range(10):
                for k in range(100):
                    os.makedirs(os.path.join(a.root, "a%d" % i, "b%d" % j, "c%d" % k))
        with open(SYSCTL, "w") as f:
            f.write("100")
        a.start()
        a.wait_ready(timeout=300)
        s = a.status()
        print("# status: watches %s, unwatched %s" % (s.get("watches"), s.get("unwatched_dirs")))
        ok(s.get("backend") == "fanotify" and not s.get("watch_limit_hit")
           and s.get("coverage") == 1.0,
           "10,110 directories with max_user_watches = 100: no limit hit, coverage 1.0",
           repr(s))
        ok("watch limit" not in a.log_text() and "backend fanotify" in a.log_text(),
           "the log names the fanotify backend and no watch limit", a.log_text()[-2000:])
        deep = os.path.join(a.root, "a9", "b9", "c99", "late.txt")
        write(deep, "written after start-up\n")
        t0 = time.time()
        seen = False
        while time.time() - t0 < 20 and not seen:
            seen = any(r["path"] == os.fsencode(deep) for r in a.rows())
            time.sleep(0.1)
        ok(seen, "a file created after start in the deepest directory is recorded (%.2f s)"
           % (time.time() - t0))
    except Exception:  # noqa: BLE001 - a crash is a failed check, not a pass
        ok(False, "the test itself failed", traceback.format_exc())
    finally:
        with open(SYSCTL, "w") as f:
            f.write(old)
        a.cleanup()
        done()


if __name__ == "__main__":
    sys.exit(main())
