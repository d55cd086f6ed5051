#!/usr/bin/env python3
"""A local user against the agent (issue 11): the agent runs as root, the
user without privileges in a directory of the watched tree.

- a directory renamed onto a name that once held the same files, and
  directories and symlinks renamed over each other in a loop: the writer
  must never wedge, and the inventory must be exact afterwards;
- a classified file's directory swapped for a symlink to a root-only decoy
  while the agent quarantines: the decoy is never moved, and a restore
  never follows a symlink nor widens a mode;
- a state directory writable by others is tightened, one owned by someone
  else refused; the database files are 0600;
- hostile file names (escape sequences, newlines, C1 controls, a
  right-to-left override) never reach the officer's terminal raw."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time

from lwtest import Agent, LEAKWATCH, LEAKWATCHD, ok, done, skip_all, write

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\nNATO SECRET\n")
NOBODY = 65534
AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


def as_user(script, timeout=120):
    """Runs a shell script as nobody."""
    return subprocess.run(AS_NOBODY + ["sh", "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def policy_agent(name, rules):
    a = Agent(name)
    with open(SHIPPED) as f:
        pol = json.load(f)
    pol["zones"] = {"secure": [a.root + "/secure/**"], "sync": [a.root + "/**/sync/**"],
                    "staging": [a.root + "/**/staging/**"]}
    pol["rules"] = rules
    with open(os.path.join(a.base, "policy.json"), "w") as f:
        json.dump(pol, f)
    with open(a.config) as f:
        cfg = json.load(f)
    cfg["policy"] = "policy.json"
    with open(a.config, "w") as f:
        json.dump(cfg, f)
    return a


def user_dir(a):
    home = os.path.join(a.root, "home")
    os.makedirs(home)
    os.chown(home, NOBODY, NOBODY)
    return home


def test_writer_never_wedges():
    a = Agent("wedge")
    try:
        home = user_dir(a)
        a.start()
        a.wait_ready()
        # the deterministic case: b/f recorded, deleted (its row kept as
        # history), then a directory with an f moved onto b
        r = as_user("cd %s && mkdir b && echo one > b/f && sleep 1 && rm -r b && sleep 1 &&"
                    " mkdir a && echo two > a/f && sleep 1 && mv a b" % home)
        ok(r.returncode == 0, "user renames a directory onto a name with history", r.stderr)
        a.converge("the inventory is exact after the rename onto old names", timeout=30)
        # the race: directories and symlinks renamed over each other
        r = as_user("""cd %s && i=0; end=$(( $(date +%%s) + 6 ));
            while [ $(date +%%s) -lt $end ]; do
              i=$((i+1)); mkdir -p d/x && echo $i > d/x/f && echo $i > d/g;
              ln -sfn d l; mv -T l d2 2>/dev/null; mv -T d d2 2>/dev/null;
              mv -T d2 d 2>/dev/null; ln -sfn d2 d3; mv -T d3 d 2>/dev/null;
              rm -rf d2 d3 2>/dev/null; mkdir -p d; mv d/x d/y 2>/dev/null;
              mv d/y d/x 2>/dev/null;
            done; echo $i""" % home, timeout=60)
        ok(r.returncode == 0, "user raced renames of directories and symlinks (%s rounds)"
           % r.stdout.decode().strip(), r.stderr)
        later = os.path.join(home, "later.txt")
        write(later, "written after the race\n")
        a.converge("the inventory is exact after the race", timeout=60)
        log = a.log_text()
        ok("retrying" not in log, "no batch was retried for ever", log[-3000:])
    finally:
        a.cleanup()


def test_quarantine_swap():
    rules = [{"id": "classified-in-sync", "severity": "critical", "action": "quarantine",
              "match": {"classification": {"min": "RESTRICTED"}}, "where": {"in": ["sync"]}}]
    a = policy_agent("qswap", rules)
    outside = tempfile.mkdtemp(prefix="lw-outside.")
    try:
        home = user_dir(a)
        # the decoy: a root-only file outside the tree (the "shadow")
        decoy_dir = os.path.join(outside, "sync")
        os.makedirs(decoy_dir)
        os.chmod(outside, 0o755)
        decoy = os.path.join(decoy_dir, "memo.txt")
        write(decoy, SECRET + "decoy\n")
        os.chmod(decoy, 0o640)
        decoy_sha = hashlib.sha256(open(decoy, "rb").read()).hexdigest()
        memo_sha = hashlib.sha256(SECRET.encode()).hexdigest()
        a.start()
        a.wait_ready()
        script = """cd %s && end=$(( $(date +%%s) + 8 )); n=0
            while [ $(date +%%s) -lt $end ]; do
              n=$((n+1)); rm -rf sync sync.real; mkdir -p sync.real;
              printf '%%s' "$SECRET" > sync.real/memo.txt; mv -T sync.real sync;
              mv -T sync sync.real; ln -sfn %s sync; sleep 0.0$((n %% 7));
              rm -f sync; mv -T sync.real sync 2>/dev/null;
            done; echo $n""" % (home, decoy_dir)
        r = subprocess.run(AS_NOBODY + ["env", "SECRET=" + SECRET, "sh", "-c", script],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        time.sleep(2)
        ok(os.path.exists(decoy) and hashlib.sha256(open(decoy, "rb").read()).hexdigest()
           == decoy_sha and stat.S_IMODE(os.stat(decoy).st_mode) == 0o640,
           "the root-only decoy outside the tree is never moved (%s rounds)"
           % r.stdout.decode().strip(), r.stderr)
        qdir = os.path.join(a.state, "quarantine")
        kept = [f for f in os.listdir(qdir) if not f.endswith(".json")] \
            if os.path.isdir(qdir) else []
        shas = {hashlib.sha256(open(os.path.join(qdir, f), "rb").read()).hexdigest()
                for f in kept}
        ok(kept and shas <= {memo_sha}, "the quarantine holds only the user's own memo"
           " (%d files)" % len(kept), shas)
        # restore into a directory that is now a symlink to /outside
        rows = [json.loads(l) for l in a.cli("quarantine", "list", "--json")
                .stdout.decode().splitlines()]
        if rows:
            q = rows[-1]
            as_user("cd %s && rm -rf sync sync.real && ln -s %s sync" % (home, decoy_dir))
            before = sorted(os.listdir(decoy_dir))
            r = a.cli("quarantine", "restore", q["id"], check=False)
            ok(r.returncode == 2 and b"symlink" in r.stderr
               and sorted(os.listdir(decoy_dir)) == before,
               "restore through a symlinked directory is refused; nothing written outside",
               (r.returncode, r.stderr))
            as_user("cd %s && rm -f sync && mkdir sync" % home)
            stored = os.path.join(qdir, q["id"])
            os.chmod(stored, 0o600)  # what sits in quarantine is tighter
            r = a.cli("quarantine", "restore", q["id"], check=False)
            path = q["path"]
            ok(r.returncode == 0 and stat.S_IMODE(os.lstat(path).st_mode) == 0o600
               and os.stat(path).st_uid == NOBODY,
               "restore never widens the mode and gives the file back to its owner",
               (r.returncode, r.stderr, oct(os.lstat(path).st_mode) if os.path.exists(path)
                else None))
        else:
            ok(False, "a memo was quarantined during the race", a.diagnose())
    finally:
        a.cleanup()
        shutil.rmtree(outside, ignore_errors=True)


def test_state_dir():
    a = Agent("state")
    try:
        os.makedirs(a.state)
        os.chmod(a.state, 0o777)
        a.start()
        a.wait_ready()
        ok(stat.S_IMODE(os.stat(a.state).st_mode) == 0o700,
           "a state directory with mode 0777 is tightened to 0700",
           oct(os.stat(a.state).st_mode))
        ok("tightened to 0700" in a.log_text(), "and the agent says so", a.log_text()[-1000:])
        modes = {f: stat.S_IMODE(os.stat(os.path.join(a.state, f)).st_mode)
                 for f in os.listdir(a.state) if f.startswith("agent.db")}
        ok(modes and all(m == 0o600 for m in modes.values()),
           "the database files are 0600", modes)
        ok(a.stop() == 0, "the agent stops")
        db = os.path.join(a.state, "agent.db")
        os.chmod(db, 0o644)
        a.start()
        a.wait_ready()
        ok(stat.S_IMODE(os.stat(db).st_mode) == 0o600, "an old 0644 database is tightened",
           oct(os.stat(db).st_mode))
        ok(a.stop() == 0, "the agent stops again")
        os.chown(a.state, NOBODY, NOBODY)
        r = subprocess.run([LEAKWATCHD, "-c", a.config], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        ok(r.returncode == 2 and b"is owned by uid %d, not by the agent's user" % NOBODY
           in r.stderr, "a state directory owned by another user is refused", r.stderr)
        r = subprocess.run([LEAKWATCHD, "-c", a.config, "--check-config"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        ok(r.returncode == 2, "--check-config refuses it too", r.stderr)
    finally:
        a.cleanup()


def shows_raw_controls(out):
    """Bytes that act on a terminal: C0 controls but newline, DEL, and the
    UTF-8 C1 controls and bidirectional overrides."""
    for b in out:
        if (b < 0x20 and b not in (0x0a, 0x09)) or b == 0x7f:
            return True
    return any(s in out for s in (b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6"))


def test_terminal_escapes():
    rules = [{"id": "classified-in-staging", "severity": "high",
              "match": {"classification": {"min": "RESTRICTED"}},
              "where": {"in": ["staging"]}},
             {"id": "classified-in-sync", "severity": "critical", "action": "quarantine",
              "match": {"classification": {"min": "RESTRICTED"}}, "where": {"in": ["sync"]}}]
    a = policy_agent("escapes", rules)
    try:
        os.makedirs(os.path.join(a.root, "staging"))
        os.makedirs(os.path.join(a.root, "sync"))
        a.start()
        a.wait_ready()
        names = [b"clear\x1b[2J\x1b[31mOK.txt", b"two\nlines.txt", b"csi\xc2\x9b2J.txt",
                 b"memo\xe2\x80\xaetxt.exe", b"bell\x07.txt"]
        for n in names:
            write(os.path.join(os.fsencode(a.root), b"staging", n), SECRET)
        write(os.path.join(os.fsencode(a.root), b"sync", b"q\x1b]0;pwned\x07.txt"), SECRET)
        end = time.time() + 30
        out = b""
        while time.time() < end:
            out = a.cli("violations").stdout
            if out.count(b"classified-in-") >= len(names) + 1:
                break
            time.sleep(0.3)
        ok(out.count(b"classified-in-") >= len(names) + 1,
           "violations raised for every hostile name", out)
        for args in (["violations"], ["files"], ["quarantine", "list"], ["status"],
                     ["scan", os.path.join(a.root, "staging")]):
            r = a.cli(*args, check=False)
            ok(not shows_raw_controls(r.stdout) and not shows_raw_controls(r.stderr),
               "leakwatch %s: no terminal control reaches the screen" % args[0],
               r.stdout[-2000:])
        r = a.cli("violations")
        lines = [l for l in r.stdout.split(b"\n") if b"two" in l]
        ok(lines and b"two\\nlines.txt" in lines[0],
           "a newline in a name shows as \\n on the name's own line", r.stdout)
        ok(b"memo\\u202etxt.exe" in r.stdout, "a right-to-left override shows as \\u202e",
           r.stdout)
    finally:
        a.cleanup()


if os.geteuid() != 0:
    skip_all("needs root: the agent as root against an unprivileged user")
test_writer_never_wedges()
test_quarantine_swap()
test_state_dir()
test_terminal_escapes()
done()
