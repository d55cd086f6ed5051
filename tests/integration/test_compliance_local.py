#!/usr/bin/env python3
"""`leakwatch report` on one workstation: a real agent on a real tree with
the shipped rules builds the inventory; the report's figures are checked
against what the test put there, and bad input must give exit status 2."""
import json
import os
import sqlite3
import subprocess
import time

from lwtest import Agent, LEAKWATCH, ok, done, validate_report, write

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")

SECRET = "NATO SECRET\n\nSubject: convoy routes\n\n1. The convoy leaves at dawn.\n\nNATO SECRET\n"
CONF = "NATO CONFIDENTIAL\n\nSubject: fuel points\n\n1. Fuel at km 7.\n\nNATO CONFIDENTIAL\n"


def put(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, text.encode())
    os.close(fd)
    os.chmod(path, mode)


def report(agent, *args):
    return subprocess.run([LEAKWATCH, "-c", agent.config, "report"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_violations(agent, n, timeout=30):
    end = time.time() + timeout
    while True:
        r = agent.cli("violations", "--json", check=False)
        lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]
        if len(lines) >= n or time.time() >= end:
            return lines
        time.sleep(0.2)


def schedule(agent):
    """packaging/leakwatch-report-run, as leakwatch-report@weekly.service runs
    it: the report lands in the directory, older ones beyond the retention
    count go, and the HTML is piped to the mail command."""
    run = os.path.join(HERE, "..", "..", "packaging", "leakwatch-report-run")
    rdir = os.path.join(agent.base, "reports")
    os.makedirs(rdir)
    old = ["leakwatch-local-week-2020-01-%02d.html" % d for d in (6, 13, 20)]
    for n in old + ["unrelated.txt"]:
        with open(os.path.join(rdir, n), "w") as f:
            f.write("old")
    mail = os.path.join(agent.base, "mail.html")
    env = dict(os.environ, LEAKWATCH=LEAKWATCH, LW_REPORT_DIR=rdir, LW_REPORT_RETAIN="2",
               LW_REPORT_ARGS="-c " + agent.config, LW_REPORT_MAIL="cat > " + mail)
    r = subprocess.run([run, "weekly"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    left = sorted(os.listdir(rdir))
    new = [n for n in left if n.endswith(".html") and n not in old]
    ok(r.returncode == 0 and len(new) == 1 and new[0] + ".sig" in left,
       "leakwatch-report-run weekly writes this week's report and its .sig", (r.stderr, left))
    ok(old[2] in left and old[0] not in left and old[1] not in left and
       "unrelated.txt" in left, "retention 2: the two oldest weekly reports removed", left)
    body = open(mail, "rb").read() if os.path.exists(mail) else b""
    ok(new and body == open(os.path.join(rdir, new[0]), "rb").read(),
       "the HTML went to the mail command", len(body))
    r = subprocess.run([run, "fortnightly"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    ok(r.returncode == 2 and b"fortnightly" in r.stderr, "an unknown period: exit 2",
       r.stderr)


def main():
    agent = Agent("compliance")
    root = agent.root
    with open(SHIPPED) as f:
        pol = json.load(f)
    pol["zones"] = {"secure": [root + "/secure/**"], "staging": [root + "/staging/**"],
                    "sync": [root + "/sync/**"], "removable": [root + "/media/**"]}
    polfile = os.path.join(agent.base, "policy.json")
    with open(polfile, "w") as f:
        json.dump(pol, f)
    cfg = json.load(open(agent.config))
    cfg["policy"] = polfile
    with open(agent.config, "w") as f:
        json.dump(cfg, f)
    try:
        put(root + "/secure/a.txt", SECRET)
        put(root + "/secure/m.txt", SECRET + "moved\n")
        put(root + "/plain.txt", "nothing to see\n")
        agent.start()
        agent.wait_ready()
        put(root + "/staging/b.txt", SECRET + "b\n")
        put(root + "/staging/c.txt", CONF, mode=0o644)
        put(root + "/staging/gone.txt", SECRET + "gone\n")
        os.rename(root + "/secure/m.txt", root + "/staging/m.txt")
        got = wait_violations(agent, 4)
        os.unlink(root + "/staging/gone.txt")
        agent.converge("after the deletion")
        agent.stop()
        want_v = wait_violations(agent, 0, timeout=0)
        out = os.path.join(agent.base, "r.json")
        r = report(agent, "--since", "1h", "--format", "json", "-o", out)
        ok(r.returncode == 0 and os.path.exists(out), "report --format json -o FILE",
           r.stderr.decode())
        doc = json.load(open(out))
        validate_report(doc, "the local report validates against doc/report-schema.json")
        s = doc["summary"]
        ok(s["classified"]["value"] == 4,
           "classified held: a, b, c and m (gone.txt was removed)", s["classified"])
        bym = {x["key"]: x["value"] for x in s["classified_by_marking"]}
        ok(bym == {"NATO SECRET": 3, "NATO CONFIDENTIAL": 1}, "classified by marking", bym)
        rows = [json.loads(x) for x in
                agent.cli("files", "--all", "--json").stdout.decode().splitlines()]
        deleted = sum(1 for x in rows if x["deleted_at"] is not None)
        ok(s["files"]["removed"]["value"] == deleted >= 1,
           "files removed = deleted rows of the inventory (%d)" % deleted, s["files"])
        # m.txt: a rename (one row, moved), or, when the watcher saw its two
        # halves apart, a removal and a new file
        ok(s["files"]["moved"]["value"] + s["files"]["removed"]["value"] == 2 and
           s["files"]["new"]["value"] == len(rows),
           "m.txt counted as moved or as removed; every row is new in the period",
           s["files"])
        ok(s["violations"]["value"] == len(want_v) and len(want_v) >= 4,
           "violations in the summary = leakwatch violations (%d)" % len(want_v),
           s["violations"])
        sev = {x["key"]: x["value"] for x in s["by_severity"]}
        want_sev = {}
        for v in want_v:
            want_sev[v["severity"]] = want_sev.get(v["severity"], 0) + 1
        ok(all(sev.get(k, 0) == n for k, n in want_sev.items()) and
           sum(sev.values()) == len(want_v), "violations by severity", (sev, want_sev))
        v = doc["violations"]
        ok(v["total"] == len(want_v) and len(v["rows"]) == len(want_v),
           "every violation listed", v["total"])
        paths = sorted(x["path"] for x in v["rows"])
        ok(root + "/staging/m.txt" in paths and root + "/staging/b.txt" in paths,
           "the violations name the files", paths)
        h = doc["holdings"]
        hz = {(x["level"], x["zone"]): x["count"] for x in h["by_level_zone"]}
        ok(hz.get(("SECRET", "secure")) == 1, "one SECRET file in the secure zone", hz)
        ok(hz.get(("SECRET", "staging")) == 2 and hz.get(("CONFIDENTIAL", "staging")) == 1,
           "staging holds b, m (SECRET) and c (CONFIDENTIAL)", hz)
        ok(hz.get(("CONFIDENTIAL", "world_readable")) == 1 and
           ("SECRET", "world_readable") not in hz, "only c.txt is world-readable", hz)
        ok(h["outside_secure"]["total"] == 3 and
           sorted(x["path"] for x in h["outside_secure"]["rows"]) ==
           sorted(root + "/staging/" + n for n in ("b.txt", "c.txt", "m.txt")),
           "classified files outside the secure zone are listed", h["outside_secure"])
        docs = {d["sha256"]: d for d in doc["custody"]["documents"]}
        moved = [d for d in docs.values()
                 if any(p["path"] == root + "/secure/m.txt" for p in d["places"])]
        ok(len(moved) == 1 and any(p["path"] == root + "/staging/m.txt" and not p["deleted"]
                                   for p in moved[0]["places"]),
           "custody: m.txt was at secure/ and is now in staging/", moved)
        gone = [d for d in docs.values()
                if any(p["path"] == root + "/staging/gone.txt" for p in d["places"])]
        ok(len(gone) == 1 and gone[0]["deletions"] == 1, "custody: gone.txt deleted", gone)
        ok(doc["envelope"]["marking"]["banner"] == "NATO SECRET", "the banner is NATO SECRET",
           doc["envelope"]["marking"])
        cov = doc["coverage"]["agents"][0]
        ok(cov["inventory_files"] == 5 and cov["silent_now"] is True,
           "coverage: five files held, the agent stopped now", cov)
        ctl = {c["control"]: c["evidence"] for c in doc["controls"]}
        ok(len(ctl) == 13 and ctl["AU-10"] == "absent" and ctl["A.8.12"] == "present",
           "control mapping: 13 controls, unsigned report has no AU-10 evidence", ctl)

        r = report(agent, "--since", "1h", "--redact-paths", "--format", "json")
        red = json.loads(r.stdout)
        rp = [x["path"] for x in red["violations"]["rows"]]
        ok(r.returncode == 0 and all("/staging/sha256:" in p for p in rp) and
           not any("b.txt" in json.dumps(x) for x in red["violations"]["rows"]),
           "--redact-paths: directory and SHA-256 only", rp)

        r = report(agent, "--since", "1h", "--row-limit", "1", "--format", "json")
        lim = json.loads(r.stdout)
        ok(len(lim["violations"]["rows"]) == 1 and lim["violations"]["total"] == len(want_v),
           "--row-limit 1: one row listed, every one counted", lim["violations"]["total"])

        # A period before anything happened: a valid report of nothing.
        r = report(agent, "--since", "2020-01-01", "--until", "2020-01-08", "--format", "json")
        old = json.loads(r.stdout)
        ok(r.returncode == 0 and old["summary"]["violations"]["value"] == 0 and
           old["violations"]["rows"] == [] and len(old["coverage"]["days"]) == 7,
           "a quiet week still gives a report: 0 violations, 7 days", old["summary"]["violations"])

        for args, what in ((["--period", "fortnight"], "a period that does not parse"),
                           (["--since", "2026-12-02", "--until", "2026-12-01"],
                            "--since after --until"),
                           (["--since", "yesterday-ish"], "a --since that does not parse"),
                           (["--format", "pdf"], "an unknown format")):
            r = report(agent, *args, "-o", os.path.join(agent.base, "x"))
            ok(r.returncode == 2 and r.stderr.strip(), "exit 2 and a message: " + what,
               r.stderr.decode())
        bad = os.path.join(agent.base, "bad.db")
        with open(bad, "wb") as f:
            f.write(b"not a database at all" * 100)
        r = subprocess.run([LEAKWATCH, "-d", bad, "report"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        ok(r.returncode == 2 and b"bad.db" in r.stderr, "an unreadable database: exit 2, named",
           r.stderr.decode())
        r = subprocess.run([LEAKWATCH, "-d", os.path.join(agent.base, "none.db"), "report"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(r.returncode == 2, "a missing database: exit 2", r.stderr.decode())
        schedule(agent)

        # a policy reload is a change of policy within the period
        first = [c["sha256"] for c in doc["envelope"]["policy"]["changes"]]
        ok(len(first) == 1 and first[0] == doc["envelope"]["policy"]["in_force"][0]["sha256"],
           "policy changes: the load at start, the policy in force", first)
        agent.start()  # stopped above; the same policy again is no change
        agent.wait_ready()
        pol["rules"][-1]["message"] += " (reworded)"
        with open(polfile, "w") as f:
            json.dump(pol, f)
        agent.cli("reload")
        end = time.time() + 30
        while True:
            r = report(agent, "--since", "1h", "--format", "json")
            ch = json.loads(r.stdout)["envelope"]["policy"] if r.returncode == 0 else {}
            if len(ch.get("changes", [])) >= 2 or time.time() > end:
                break
            time.sleep(0.3)
        shas = [c["sha256"] for c in ch.get("changes", [])]
        ok(len(shas) == 2 and shas[0] == first[0] and shas[1] == ch["in_force"][0]["sha256"]
           and shas[1] != shas[0] and all(c["rules"] == len(pol["rules"]) for c in ch["changes"]),
           "policy changes: the reload is listed with its digest and rule count", ch)
        agent.cli("reload")  # the same file again: not a change
        time.sleep(1)
        r = report(agent, "--since", "1h", "--format", "json")
        ok(len(json.loads(r.stdout)["envelope"]["policy"]["changes"]) == 2,
           "policy changes: reloading the same policy is not one")
    finally:
        agent.cleanup()

    empty = Agent("compliance-empty")
    try:
        empty.start()
        empty.wait_ready()
        empty.stop()
        r = report(empty, "--period", "week", "--format", "json")
        d = json.loads(r.stdout) if r.returncode == 0 else {}
        ok(r.returncode == 0 and d["envelope"]["empty"] is True and
           d["summary"]["violations"]["value"] == 0 and
           d["envelope"]["marking"]["banner"] == "UNCLASSIFIED",
           "an empty inventory gives a valid report that says so", r.stderr.decode())
        validate_report(d, "the empty report validates against the schema")
    finally:
        empty.cleanup()
    done()


main()
