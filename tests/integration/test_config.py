#!/usr/bin/env python3
"""Malformed configurations: each is refused with exit status 2, nothing
started, and one message naming the file and the place."""
import json
import os
import subprocess
import tempfile

from lwtest import LEAKWATCHD, LEAKWATCH, ok, done

base = tempfile.mkdtemp(prefix="lw-config.")
root = os.path.join(base, "root")
os.mkdir(root)
state = os.path.join(base, "state")
cfgfile = os.path.join(base, "agent.json")

cases = [
    # (name, file text, what the message must contain)
    ("syntax error", '{"watch": ["%s"],\n "state_dir": "%s"\n "workers": 2}' % (root, state),
     "agent.json:3:2: syntax error"),
    ("trailing garbage", '{"watch": ["%s"]} x' % root, "text after the end"),
    ("unknown key", json.dumps({"watch": [root], "state_dir": state, "wokers": 2}),
     "/wokers: unknown key"),
    ("missing watch", json.dumps({"state_dir": state}), "/watch: required key missing"),
    ("empty watch", json.dumps({"watch": [], "state_dir": state}), "/watch: must name"),
    ("relative root", json.dumps({"watch": ["rel/dir"], "state_dir": state}),
     "/watch/0: not an absolute path"),
    ("missing root", json.dumps({"watch": [root + "/nope"], "state_dir": state}),
     "/watch/0: %s/nope: No such file or directory" % root),
    ("root is a file", json.dumps({"watch": ["/etc/hostname"], "state_dir": state}),
     "/watch/0: not a directory"),
    ("wrong type", json.dumps({"watch": root, "state_dir": state}),
     "/watch: must be an array of strings"),
    ("bad element", json.dumps({"watch": [root, 3], "state_dir": state}),
     "/watch/1: must be a non-empty string"),
    ("overlapping roots", json.dumps({"watch": [root, root + "/.."], "state_dir": state}),
     "/watch/1:"),
    ("bad workers", json.dumps({"watch": [root], "state_dir": state, "workers": -1}),
     "/workers: must be between 0 and 256"),
    ("fractional workers", json.dumps({"watch": [root], "state_dir": state, "workers": 1.5}),
     "/workers: must be a whole number"),
    ("bad log level", json.dumps({"watch": [root], "state_dir": state, "log_level": "loud"}),
     "/log_level: must be one of"),
    ("relative state dir", json.dumps({"watch": [root], "state_dir": "state"}),
     "/state_dir: not an absolute path"),
    ("root inside state dir", json.dumps({"watch": [state + "/x"], "state_dir": state}),
     None),
    ("not an object", "[1, 2]", "/: must be an object"),
    ("empty file", "", "syntax error"),
]
os.makedirs(state + "/x", exist_ok=True)
for name, text, want in cases:
    with open(cfgfile, "w") as f:
        f.write(text)
    r = subprocess.run([LEAKWATCHD, "-c", cfgfile], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    msg = r.stderr.decode()
    ok(r.returncode == 2 and cfgfile in msg and (want is None or want in msg),
       "config %s: exit 2 and a located message" % name,
       "rc=%s msg=%r want=%r" % (r.returncode, msg, want))
    ok(not os.path.exists(os.path.join(state, "agent.db")),
       "config %s: nothing started" % name)

r = subprocess.run([LEAKWATCHD, "-c", os.path.join(base, "absent.json")],
                   stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"absent.json: cannot open" in r.stderr, "a missing config file",
   r.stderr)

with open(cfgfile, "w") as f:
    json.dump({"watch": [root], "state_dir": state}, f)
r = subprocess.run([LEAKWATCHD, "-c", cfgfile, "--check-config"], stdout=subprocess.PIPE,
                   timeout=20)
ok(r.returncode == 0 and
   r.stdout.decode().strip() == "%s: ok (1 watched root; no collector: events stay on this"
   " machine)" % cfgfile, "--check-config accepts a good config and says what it will do",
   r.stdout)

# the CLI: clear errors for a missing or foreign database
r = subprocess.run([LEAKWATCH, "-c", cfgfile, "status"], stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"no inventory there" in r.stderr,
   "CLI: a missing database is a clear error", r.stderr)
foreign = os.path.join(base, "foreign.db")
subprocess.run(["sqlite3", foreign, "create table t(x); insert into t values(1);"], check=True)
r = subprocess.run([LEAKWATCH, "-d", foreign, "files"], stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"not a leakwatch database" in r.stderr,
   "CLI: a foreign SQLite file is refused", r.stderr)
notdb = os.path.join(base, "text.db")
with open(notdb, "w") as f:
    f.write("this is not sqlite at all, just some text\n" * 10)
r = subprocess.run([LEAKWATCH, "-d", notdb, "files"], stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"not a SQLite database" in r.stderr,
   "CLI: a non-database file is refused", r.stderr)
r = subprocess.run([LEAKWATCH, "-c", cfgfile, "frobnicate"], stderr=subprocess.PIPE,
                   timeout=20)
ok(r.returncode == 2 and b"unknown command" in r.stderr, "CLI: unknown command")
# every command answers --help from the command table, without a database
for cmd in ["status", "files", "find", "scan", "fingerprint", "violations", "quarantine",
            "policy", "reload"]:
    r = subprocess.run([LEAKWATCH, "-d", notdb, cmd, "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    ok(r.returncode == 0 and r.stdout.startswith(b"usage: leakwatch " + cmd.encode()),
       "CLI: %s --help" % cmd, r.stdout + r.stderr)
for cmd in ["agents", "violations", "alerts", "trace"]:
    r = subprocess.run([LEAKWATCH, "--collector", "https://127.0.0.1:1", cmd, "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    ok(r.returncode == 0 and b"--collector" in r.stdout and (b" " + cmd.encode()) in r.stdout,
       "CLI: fleet %s --help" % cmd, r.stdout + r.stderr)
r = subprocess.run([LEAKWATCH, "-d", notdb, "agents"], stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"needs --collector" in r.stderr,
   "CLI: a fleet command without --collector says so", r.stderr)
r = subprocess.run([LEAKWATCH, "--collector", "https://127.0.0.1:1", "scan", "/tmp"],
                   stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 2 and b"not with --collector" in r.stderr,
   "CLI: a local command with --collector says so", r.stderr)
subprocess.run(["rm", "-rf", base])
done()
