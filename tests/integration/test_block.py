#!/usr/bin/env python3
"""Block rules (issue 12): fanotify permission events deny opens of
protected files by programs the rule does not allow.

A SECRET memo in the secure zone, protected by a block rule that allows
/usr/bin/head: `cat` of it fails with EPERM and raises a violation naming
cat and the user; `head` reads it; an unclassified file beside it is not
protected; the agent's own re-reading of a changed memo is not blocked.
Safety: with the agent stopped (SIGSTOP), an open proceeds after the
deadline and is counted as a timeout; `leakwatch enforce off` lets every
open through and holds across a restart, `enforce on` blocks again; after
kill -9 of the agent nothing stays blocked. Needs root (fanotify)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

from lwtest import wait_until, LEAKWATCH, Agent, done, ok, skip_all, write

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\nNATO SECRET\n")
DEADLINE_MS = 500


def as_nobody(*cmd, timeout=30):
    t0 = time.time()
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "--"] + list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r, time.time() - t0


def enforce(agent):
    return (agent.status() or {}).get("enforce") or {}


def main():
    if os.geteuid() != 0:
        skip_all("fanotify permission events need root")
    if not shutil.which("setpriv"):
        skip_all("setpriv is missing (util-linux)")
    cat = os.path.realpath(shutil.which("cat"))
    head = os.path.realpath(shutil.which("head"))
    tee = os.path.realpath(shutil.which("tee"))  # how the test itself may write the memo
    agent = Agent("block", extra_config={"backend": "fanotify", "policy": "policy.json",
                                         "enforce": {"deadline_ms": DEADLINE_MS}})
    try:
        with open(SHIPPED) as f:
            pol = json.load(f)
        secure = os.path.join(agent.root, "secure")
        pol["zones"]["secure"] = [secure + "/**"]
        pol["rules"].append({"id": "secret-readers", "severity": "high", "action": "block",
                             "message": "Only head may open SECRET documents here",
                             "match": {"classification": {"min": "SECRET"}},
                             "where": {"in": ["secure"]}, "allow": [head, tee]})
        with open(os.path.join(agent.base, "policy.json"), "w") as f:
            json.dump(pol, f)
        os.makedirs(secure)
        os.chmod(secure, 0o755)
        memo = os.path.join(secure, "memo.txt")
        plain = os.path.join(secure, "plain.txt")
        write(memo, SECRET)
        write(plain, "minutes of the canteen committee\n")
        for p in (memo, plain):
            os.chmod(p, 0o644)
        agent.start()
        agent.wait_ready()
        e = wait_until(lambda: (lambda x: x if x.get("protected_files", 0) >= 1 else None)(
            enforce(agent)))
        ok(e and e.get("state") == "on" and e.get("active") is True,
           "status: enforcement on, the memo protected", enforce(agent))

        r, _ = as_nobody(cat, memo)
        ok(r.returncode != 0 and b"Operation not permitted" in r.stderr,
           "cat of the protected memo is denied (EPERM)", r.stderr)
        r, _ = as_nobody(head, "-n", "1", memo)
        ok(r.returncode == 0 and r.stdout == b"NATO SECRET\n", "head, the allowed program, reads it",
           r.stderr)
        r, _ = as_nobody(cat, plain)
        ok(r.returncode == 0 and b"canteen" in r.stdout, "an unclassified file beside it is not"
           " protected", r.stderr)

        hit = wait_until(lambda: [v for v in agent.violations() if v["rule"] == "secret-readers"])
        v = (hit or [{}])[0]
        p = v.get("process") or {}
        ok(v.get("action") == "block" and v.get("action_result") == "denied"
           and v.get("event", {}).get("kind") == "open" and v.get("file", {}).get("path") == memo,
           "the denial is a violation: block, denied, open, the memo", v)
        ok(p.get("exe") == cat and p.get("user") == "nobody", "it names cat and nobody", p)
        ok(len(hit or []) == 1, "head's read raised nothing", hit)
        as_nobody(cat, memo)
        time.sleep(0.5)
        ok(len([v for v in agent.violations() if v["rule"] == "secret-readers"]) == 1,
           "the same program and user again: one violation, counted in status",
           agent.violations())
        e = wait_until(lambda: (lambda x: x if x.get("denied", 0) >= 2 else None)(enforce(agent)), 5)
        ok(e and e.get("allowed", 0) >= 1, "status counts both denials and head's read",
           [enforce(agent), agent.status()])

        # the agent reads a changed memo itself: not blocked, still protected
        # (this test, python, is not allowed to open it either: tee is)
        subprocess.run([tee, "-a", memo], input=b"2. Addendum.\nNATO SECRET\n",
                       stdout=subprocess.DEVNULL, check=True)
        time.sleep(1.5)
        rows = {json.loads(l)["path"]: json.loads(l)
                for l in agent.cli("files", "--json").stdout.decode().splitlines()}
        ok(rows.get(memo, {}).get("size") == os.path.getsize(memo),
           "the agent re-read the changed memo (its own opens are allowed)", rows.get(memo))
        r, _ = as_nobody(cat, memo)
        ok(r.returncode != 0, "and the changed memo is still protected")

        # a stopped agent: the guard answers after the deadline
        agent.proc.send_signal(signal.SIGSTOP)
        try:
            r, took = as_nobody(cat, memo)
        finally:
            agent.proc.send_signal(signal.SIGCONT)
        print("# open with the agent stopped took %.2f s (deadline %d ms)" % (took, DEADLINE_MS))
        ok(r.returncode == 0 and b"convoy" in r.stdout,
           "with the agent stopped, the open proceeds after the deadline", r.stderr)
        e = wait_until(lambda: (lambda x: x if x.get("timeouts", 0) >= 1 else None)(enforce(agent)))
        ok(e is not None, "and is counted as a timeout", enforce(agent))
        ok("verdict thread is not answering" in agent.log_text(), "the guard said so in the log")

        # the kill switch
        t0 = time.time()
        r = subprocess.run([LEAKWATCH, "-c", agent.config, "enforce", "off"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(r.returncode == 0 and b"switched off" in r.stdout, "leakwatch enforce off",
           r.stdout + r.stderr)
        r, _ = as_nobody(cat, memo)
        ok(r.returncode == 0, "switched off, cat reads the memo (%.2f s)" % (time.time() - t0),
           r.stderr)
        agent.stop()
        agent.start()
        agent.wait_ready()
        time.sleep(1)
        r, _ = as_nobody(cat, memo)
        ok(r.returncode == 0 and enforce(agent).get("state") == "switched off",
           "it stays off across a restart", enforce(agent))
        r = subprocess.run([LEAKWATCH, "-c", agent.config, "enforce", "on"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(r.returncode == 0 and b"enforcement: on" in r.stdout, "leakwatch enforce on",
           r.stdout + r.stderr)
        wait_until(lambda: enforce(agent).get("protected_files", 0) >= 1)
        r, _ = as_nobody(cat, memo)
        ok(r.returncode != 0, "on again: cat is denied again")

        # kill -9: nothing stays blocked
        agent.kill9()
        time.sleep(0.5)
        r, took = as_nobody(cat, memo, timeout=10)
        ok(r.returncode == 0, "after kill -9 of the agent the open proceeds (%.2f s)" % took,
           r.stderr)
        guards = subprocess.run(["pgrep", "-f", agent.config], stdout=subprocess.PIPE)
        ok(guards.stdout.strip() == b"", "and no guard process is left", guards.stdout)
    except Exception:  # noqa: BLE001 - a crash is a failed check, not a pass
        ok(False, "the test itself failed", traceback.format_exc())
    finally:
        agent.cleanup()
        done()


if __name__ == "__main__":
    sys.exit(main())
