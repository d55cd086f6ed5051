#!/usr/bin/env python3
"""Policy, zones and violations with the real agent, real inotify and real
files: the shipped default rules with the zones pointed into a temporary
tree. Each check waits for the violation the agent must raise (or, for the
negative ones, for the agent to have recorded the file, then checks that
nothing was raised)."""
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time

from lwtest import Agent, LEAKWATCH, ok, done, write

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")

SECRET = ("NATO SECRET\n\nSubject: convoy routes for exercise STEADFAST\n\n"
          "1. The convoy leaves at dawn and follows the northern route.\n\n"
          "NATO SECRET\n")
NEWS = ("Newspapers reported that secret NATO documents had leaked; officials said the\n"
        "NATO SECRET papers were old and that classified material was recovered.\n")
REGISTERED = " ".join(
    "Paragraph %d of the operations order describes the logistics of the brigade, "
    "the fuel points at kilometre %d and the relief of the forward company by the "
    "reserve platoon before nightfall on day %d." % (i, i * 7, i % 5) for i in range(60))


def make_policy(path, root, rules=None, detectors=()):
    with open(SHIPPED) as f:
        pol = json.load(f)
    pol["zones"] = {
        "secure": [root + "/secure/**"],
        "removable": [root + "/media/**"],
        "sync": [root + "/sync/**"],
        "staging": [root + "/staging/**", "**/Drafts/**"],
    }
    pol["detectors"] = [{"id": "nightjar", "keywords": ["Project Nightjar"],
                         "patterns": ["NJ-[0-9]{4}"], "min_count": 2}] + list(detectors)
    pol["rules"].append({"id": "nightjar-out", "severity": "medium",
                         "match": {"detectors": ["nightjar"]},
                         "where": {"in": ["staging"]}})
    if rules is not None:
        pol["rules"] = rules
    with open(path, "w") as f:
        json.dump(pol, f)


def wait_violation(agent, pred, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        hits = [v for v in agent.violations() if pred(v)]
        if hits:
            return hits
        time.sleep(0.2)
    return []


def wait_recorded(agent, path, timeout=20):
    """Until the inventory has @path with its current hash (classified)."""
    want = hashlib.sha256(open(path, "rb").read()).hexdigest()
    end = time.time() + timeout
    while time.time() < end:
        for o in agent.rows("--under", os.path.dirname(path)):
            if o["path"] == os.fsencode(path) and o.get("sha256") == want:
                time.sleep(0.3)  # the writer judges in the same commit
                return True
        time.sleep(0.2)
    return False


def rule_hits(agent, rule, path=None):
    return [v for v in agent.violations() if v["rule"] == rule and
            (path is None or v["file"]["path"] == path)]


agent = Agent("policy")
root = agent.root
for d in ("secure", "media", "sync", "staging", "work", "mail/Drafts"):
    os.makedirs(os.path.join(root, d))
policy = os.path.join(agent.base, "policy.json")
make_policy(policy, root)
with open(agent.config) as f:
    cfg = json.load(f)
cfg["policy"] = "policy.json"  # relative to the config file
with open(agent.config, "w") as f:
    json.dump(cfg, f)

# policy check explains; a broken one names the place
r = subprocess.run([LEAKWATCH, "policy", "check", policy], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
ok(r.returncode == 0 and b"classified-in-staging [high, alert]" in r.stdout,
   "policy check explains a valid policy", r.stdout + r.stderr)
bad = os.path.join(agent.base, "bad.json")
write(bad, '{"rules": [{"id": "x", "severity": "urgent"}]}')
r = subprocess.run([LEAKWATCH, "policy", "check", bad], stderr=subprocess.PIPE)
ok(r.returncode == 2 and b"bad.json: /rules/0: \"severity\"" in r.stderr,
   "policy check names file and place of an error", r.stderr)

# leakwatch scan --policy runs the policy's detectors and reports them
njf = os.path.join(agent.base, "nj-scan.txt")
write(njf, "Project Nightjar, unit NJ-0042.\n")
r = subprocess.run([LEAKWATCH, "scan", "--json", "--policy", policy, njf],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
line = json.loads(r.stdout or b"{}")
ok(r.returncode == 1 and line.get("rules") == ["nightjar"]
   and list(line.keys())[-2:] == ["rules", "error"],
   "scan --policy reports the detectors that fired", r.stdout + r.stderr)
r = subprocess.run([LEAKWATCH, "scan", "--json", njf], stdout=subprocess.PIPE)
ok(r.returncode == 0 and "rules" not in json.loads(r.stdout),
   "without --policy the scan line keeps the doc/design.md keys", r.stdout)

# a baseline finds what was in the wrong place before the agent started
early = os.path.join(root, "staging", "early.txt")
write(early, SECRET)
agent.start()
agent.wait_ready()
hits = wait_violation(agent, lambda v: v["file"]["path"] == early)
ok(len(hits) == 1 and hits[0]["rule"] == "classified-in-staging"
   and hits[0]["event"]["kind"] == "baseline",
   "start-up baseline raises for material already in staging", hits or agent.diagnose())

# NATO SECRET written into staging: a violation within seconds
t0 = time.time()
staged = os.path.join(root, "staging", "plan.txt")
write(staged, SECRET.replace("dawn", "dusk"))
hits = wait_violation(agent, lambda v: v["file"]["path"] == staged)
took = time.time() - t0
ok(len(hits) == 1 and hits[0]["rule"] == "classified-in-staging"
   and hits[0]["severity"] == "high" and hits[0]["event"]["kind"] == "created"
   and hits[0]["file"]["classification"]["marking"] == "NATO SECRET"
   and hits[0]["zones"] == ["staging"] and hits[0]["file"]["sha256"]
   == hashlib.sha256(SECRET.replace("dawn", "dusk").encode()).hexdigest(),
   "NATO SECRET in staging raises classified-in-staging (%.1f s)" % took,
   hits or agent.diagnose())

# the same document in the secure zone: nothing
secure = os.path.join(root, "secure", "plan.txt")
write(secure, SECRET)
os.chmod(secure, 0o600)
ok(wait_recorded(agent, secure) and not [v for v in agent.violations()
                                         if v["file"]["path"] == secure],
   "the same document in the secure zone raises nothing")

# a news article about leaked secrets: nothing
news = os.path.join(root, "staging", "news.txt")
write(news, NEWS)
ok(wait_recorded(agent, news) and not [v for v in agent.violations()
                                       if v["file"]["path"] == news],
   "a news article about leaked secret documents raises nothing")

# chmod o+r on a classified file
os.chmod(secure, 0o644)
hits = wait_violation(agent, lambda v: v["rule"] == "classified-world-readable")
ok(len(hits) == 1 and hits[0]["file"]["path"] == secure and hits[0]["event"]["kind"] == "chmod"
   and hits[0]["file"]["mode"] == 0o644,
   "chmod o+r on a classified file raises classified-world-readable", hits or agent.diagnose())

# moved from secure to removable media: names where it came from
moved = os.path.join(root, "media", "plan.txt")
os.rename(secure, moved)
hits = wait_violation(agent, lambda v: v["rule"] == "left-secure-zone")
ok(len(hits) == 1 and hits[0]["event"]["kind"] == "moved"
   and hits[0]["event"]["from"] == secure and hits[0]["event"]["from_zone"] == "secure"
   and hits[0]["file"]["path"] == moved,
   "secure -> removable raises left-secure-zone naming the origin", hits or agent.diagnose())
ok(len(rule_hits(agent, "classified-on-removable", moved)) == 1,
   "and classified-on-removable for the same file")

# copied out of the secure zone: the copy names its source
secure2 = os.path.join(root, "secure", "annex.txt")
write(secure2, SECRET.replace("northern", "southern"))
wait_recorded(agent, secure2)
copy = os.path.join(root, "work", "annex-copy.txt")
shutil.copy(secure2, copy)
hits = wait_violation(agent, lambda v: v["rule"] == "left-secure-zone"
                      and v["file"]["path"] == copy)
ok(len(hits) == 1 and hits[0]["event"]["kind"] == "copied"
   and hits[0]["event"]["from"] == secure2,
   "a copy out of the secure zone raises left-secure-zone naming the source",
   hits or agent.diagnose())

# a custom detector from the policy, run by the classify helper
nj = os.path.join(root, "staging", "nightjar.txt")
write(nj, "Status of Project Nightjar: trials of unit NJ-1234 are complete.\n")
nj1 = os.path.join(root, "staging", "nightjar-once.txt")
write(nj1, "Lunch menu. Project Nightjar is mentioned once only.\n")
hits = wait_violation(agent, lambda v: v["rule"] == "nightjar-out")
ok(len(hits) == 1 and hits[0]["file"]["path"] == nj and hits[0]["file"]["rules"] == ["nightjar"],
   "a custom detector (keyword + regex, min_count 2) fires its rule", hits or agent.diagnose())
ok(wait_recorded(agent, nj1) and not rule_hits(agent, "nightjar-out", nj1),
   "below the detector's min_count: nothing")

# no floods: touching or re-reading does not raise again; new content does
n_before = len(rule_hits(agent, "classified-in-staging", staged))
os.utime(staged, None)
time.sleep(2)
ok(len(rule_hits(agent, "classified-in-staging", staged)) == n_before,
   "touching a file raises nothing new")
write(staged, SECRET.replace("dawn", "dusk") + "\n2. Annex added.\n")
hits = wait_violation(agent, lambda v: v["file"]["path"] == staged
                      and v["event"]["kind"] == "modified")
ok(len(hits) == 1, "new content raises again (modified)", agent.violations())

# a tree that leaves the watched roots and comes back raises again
tree = os.path.join(root, "staging", "tree")
os.makedirs(tree)
tp = os.path.join(tree, "x.txt")
write(tp, SECRET.replace("convoy", "patrol"))
first = wait_violation(agent, lambda v: v["file"]["path"] == tp)
outside = os.path.join(agent.base, "outside-tree")
os.rename(tree, outside)
time.sleep(1.5)
os.rename(outside, tree)
end = time.time() + 20
while time.time() < end and len(rule_hits(agent, "classified-in-staging", tp)) < 2:
    time.sleep(0.2)
ok(len(first) == 1 and len(rule_hits(agent, "classified-in-staging", tp)) == 2,
   "a tree moved out of the roots and back raises again", agent.violations())

# an excerpt of a registered document pasted into a mail draft
orig = os.path.join(agent.base, "opord.txt")
write(orig, REGISTERED)
r = agent.cli("fingerprint", "add", "--id", "opord-7", "--label", "NATO SECRET", orig)
ok(r.returncode == 0, "register a document", r.stderr)
time.sleep(3)  # the agent notices the new registration within two ticks
draft = os.path.join(root, "mail", "Drafts", "reply.eml")
words = REGISTERED.split()
write(draft, "Hi,\n\nas discussed:\n\n" + " ".join(words[200:500]) + "\n\nCheers\n")
hits = wait_violation(agent, lambda v: v["file"]["path"] == draft
                      and v["rule"] == "registered-outside-secure", timeout=30)
ok(len(hits) == 1 and hits[0]["file"]["matches"]
   and hits[0]["file"]["matches"][0]["id"] == "opord-7",
   "an excerpt pasted into a mail draft names the registered document",
   hits or agent.violations() or agent.diagnose())

# bulk staging: 60 classified files within ten seconds, one violation
bulk = os.path.join(root, "work", "bulk")
os.makedirs(bulk)
for i in range(60):
    write(os.path.join(bulk, "doc%02d.txt" % i),
          "NATO RESTRICTED\n\nItem %d of the stock list.\n\nNATO RESTRICTED\n" % i)
hits = wait_violation(agent, lambda v: v["rule"] == "bulk-staging")
time.sleep(3)
hits = rule_hits(agent, "bulk-staging")
ok(len(hits) == 1 and hits[0]["event"]["kind"] == "bulk" and hits[0]["count"] == 50
   and hits[0]["window_s"] == 10,
   "60 classified files in a few seconds raise one bulk violation", hits or agent.diagnose())

# quarantine: a classified file in a sync folder is moved aside, restorable
syncf = os.path.join(root, "sync", "upload.txt")
write(syncf, SECRET)
os.chmod(syncf, 0o640)
hits = wait_violation(agent, lambda v: v["rule"] == "classified-in-sync")
ok(len(hits) == 1 and hits[0]["action"] == "quarantine" and hits[0]["action_result"] == "ok",
   "classified file in sync is quarantined", hits or agent.diagnose())
time.sleep(0.5)
ok(not os.path.exists(syncf), "the file left the sync folder")
r = agent.cli("quarantine", "list", "--json")
q = [json.loads(l) for l in r.stdout.decode().splitlines()]
ok(len(q) == 1 and q[0]["path"] == syncf and q[0]["restored_at"] is None,
   "quarantine list shows it", q)
qdir = os.path.join(agent.state, "quarantine")
ok(stat.S_IMODE(os.stat(qdir).st_mode) == 0o700, "the quarantine is root-only (0700)")
if q:
    r = agent.cli("quarantine", "restore", q[0]["id"])
    ok(r.returncode == 0 and os.path.exists(syncf)
       and open(syncf).read() == SECRET and stat.S_IMODE(os.stat(syncf).st_mode) == 0o640,
       "restore brings it back byte for byte with its mode", r.stderr)
    time.sleep(3)
    ok(os.path.exists(syncf) and len(rule_hits(agent, "classified-in-sync")) == 1,
       "a restored file is not quarantined again", agent.violations())
    r = agent.cli("quarantine", "restore", q[0]["id"], check=False)
    ok(r.returncode == 2, "a second restore is refused")

# an invalid policy on reload leaves the old one working
shutil.copy(policy, policy + ".good")
write(policy, '{"zones": {"secure": []}, "rules": [{"id": "a", "severity": "low",'
      ' "match": {"classification": {"min": "SECRETT"}}}]}')
r = agent.cli("reload", check=False)
ok(r.returncode == 2 and b"policy.json: /rules/0/match/classification" in r.stderr,
   "reload of an invalid policy is refused with the place", r.stderr)
after = os.path.join(root, "staging", "after.txt")
write(after, SECRET.replace("convoy", "column"))
hits = wait_violation(agent, lambda v: v["file"]["path"] == after)
ok(len(hits) == 1 and hits[0]["rule"] == "classified-in-staging",
   "the old policy still works after a refused reload", hits or agent.diagnose())
# a valid change takes effect at once and re-evaluates the inventory; a new
# detector classifies the files again
kestrel = os.path.join(root, "work", "kestrel.txt")
write(kestrel, "Operation Kestrel starts Monday. Operation Kestrel ends Friday.\n")
ok(wait_recorded(agent, kestrel), "a file for a detector that does not exist yet")
make_policy(policy, root, detectors=[{"id": "kestrel", "keywords": ["Operation Kestrel"],
                                      "min_count": 2}],
            rules=[{"id": "any-classified", "severity": "low",
                    "match": {"classification": {"min": "RESTRICTED"}}},
                   {"id": "kestrel-anywhere", "severity": "low",
                    "match": {"detectors": ["kestrel"]}}])
r = agent.cli("reload", check=False)
ok(r.returncode == 0, "reload of a valid policy", r.stderr)
hits = wait_violation(agent, lambda v: v["rule"] == "any-classified" and
                      v["file"]["path"] == moved)
ok(len(hits) == 1 and hits[0]["event"]["kind"] == "baseline",
   "a new policy re-evaluates the inventory without new events", hits or agent.diagnose())
hits = wait_violation(agent, lambda v: v["rule"] == "kestrel-anywhere", timeout=30)
ok(len(hits) == 1 and hits[0]["file"]["path"] == kestrel
   and hits[0]["file"]["rules"] == ["kestrel"],
   "a detector added by a reload finds a file recorded before it", hits or agent.diagnose())

# the local violations filters
allv = agent.violations()
r_rule = agent.violations("--rule", "classified-in-staging")
r_crit = agent.violations("--severity", "critical")
r_future = agent.violations("--since", "2099-01-01")
r_day = agent.violations("--since", "24h")
ok(r_rule and len(r_rule) == len([v for v in allv if v["rule"] == "classified-in-staging"])
   and all(v["rule"] == "classified-in-staging" for v in r_rule),
   "violations --rule keeps that rule's only")
ok(r_crit and all(v["severity"] == "critical" for v in r_crit)
   and len(r_crit) == len([v for v in allv if v["severity"] == "critical"]),
   "violations --severity critical keeps the critical ones")
ok(r_future == [] and len(r_day) == len(allv), "violations --since filters by time")
r = agent.cli("violations", "--since", "yesterday-ish", check=False)
ok(r.returncode == 2 and b"--since" in r.stderr, "a bad --since is refused", r.stderr)

# the event log is a hash chain without gaps
db = os.path.join(agent.state, "agent.db")
rows = subprocess.run(["sqlite3", "-json", "file:%s?mode=ro" % db,
                       "SELECT seq, uuid, time, kind, prev, hash, body FROM events ORDER BY seq"],
                      stdout=subprocess.PIPE).stdout
events = json.loads(rows or b"[]")
prev = "0" * 64
good = bool(events)
for i, e in enumerate(events):
    h = hashlib.sha256("\n".join([prev, str(e["seq"]), e["uuid"], e["time"], e["kind"],
                                  e["body"]]).encode()).hexdigest()
    good = good and e["seq"] == i + 1 and e["prev"] == prev and e["hash"] == h
    prev = e["hash"]
ok(good and len(events) == len(agent.violations()),
   "every violation is an event in an unbroken hash chain (%d)" % len(events))

# a storm: thousands of classified files; the agent stays responsive
storm = os.path.join(root, "staging", "storm")
os.makedirs(storm)
n = 3000
answered = 0
for i in range(n):
    write(os.path.join(storm, "s%04d.txt" % i),
          "NATO CONFIDENTIAL\n\nStorm file %d.\n\nNATO CONFIDENTIAL\n" % i)
    if i % 500 == 0:
        answered += agent.status() is not None
end = time.time() + 180
while time.time() < end:
    s = agent.status() or {}
    if s.get("pending") == 0 and len(rule_hits(agent, "any-classified")) >= n + 1:
        break
    time.sleep(1)
# A file the walk of the new directory reads while Python is still writing
# it is judged on what it held then, and again when it is complete: two
# contents, two violations. What must never happen is a file missed, or the
# same content at the same place raised twice.
got = [v for v in rule_hits(agent, "any-classified") if v["file"]["path"].startswith(storm)]
final = {os.path.join(storm, "s%04d.txt" % i): hashlib.sha256(
    ("NATO CONFIDENTIAL\n\nStorm file %d.\n\nNATO CONFIDENTIAL\n" % i).encode()).hexdigest()
    for i in range(n)}
pairs = [(v["file"]["path"], v["file"]["sha256"]) for v in got]
# and findings always describe the bytes the hash describes: an empty file
# never carries the marking of the text written into it a moment later
ok(not [v for v in agent.violations() if v["file"]["size"] == 0],
   "no violation pairs an empty file's hash with findings")
ok(set(final.items()) <= set(pairs) and len(set(pairs)) == len(pairs),
   "a storm of %d files: each file's content raised once, none lost (%d violations)"
   % (n, len(got)))
ok(answered == n // 500 and agent.status() is not None,
   "the agent answered status throughout the storm")
r = subprocess.run(["sqlite3", "file:%s?mode=ro" % db, "PRAGMA integrity_check"],
                   stdout=subprocess.PIPE)
ok(r.stdout.strip() == b"ok", "the database is consistent after the storm", r.stdout)

ok(agent.stop() == 0, "agent stops cleanly")

# quarantine onto another file system (state dir on tmpfs, the tree on
# /tmp): the file is copied with its mode and times, then removed
if os.path.isdir("/dev/shm") and os.stat("/dev/shm").st_dev != os.stat(agent.base).st_dev:
    xfs_state = tempfile.mkdtemp(prefix="lw-policy-state.", dir="/dev/shm")
    with open(agent.config) as f:
        xcfg = json.load(f)
    xcfg["state_dir"] = xfs_state
    make_policy(policy, root)
    with open(agent.config, "w") as f:
        json.dump(xcfg, f)
    agent.start()
    agent.wait_ready()
    xf = os.path.join(root, "sync", "cross.txt")
    write(xf, SECRET.replace("convoy", "barge"))
    os.chmod(xf, 0o604)
    os.utime(xf, (1700000000, 1700000000))
    mtime = os.stat(xf).st_mtime
    # chmod and utime may land after the agent judged the file: the
    # quarantine then finds it changed (ESTALE), and its change, judged
    # again, must quarantine it; the file never stays in the sync folder
    hits = wait_violation(agent, lambda v: v["rule"] == "classified-in-sync"
                          and v["file"]["path"] == xf and v["action_result"] == "ok")
    time.sleep(0.5)
    r = agent.cli("quarantine", "list", "--json")
    q = [json.loads(l) for l in r.stdout.decode().splitlines() if xf in l]
    stored = os.path.join(xfs_state, "quarantine", q[0]["id"]) if q else ""
    ok(hits and hits[0]["action_result"] == "ok" and not os.path.exists(xf)
       and os.path.exists(stored) and stat.S_IMODE(os.stat(stored).st_mode) == 0o604
       and os.stat(stored).st_mtime == mtime,
       "quarantine across file systems copies with mode and times, then removes",
       hits or agent.diagnose())
    if q:
        r = agent.cli("quarantine", "restore", q[0]["id"])
        ok(r.returncode == 0 and open(xf).read() == SECRET.replace("convoy", "barge")
           and stat.S_IMODE(os.stat(xf).st_mode) == 0o604 and os.stat(xf).st_mtime == mtime
           and not os.path.exists(stored),
           "and restore brings it back across file systems", r.stderr)
    # touched again and again while it is hashed and judged: each change
    # is judged again, and the file ends in quarantine all the same
    tf = os.path.join(root, "sync", "touched.txt")
    write(tf, SECRET.replace("convoy", "ferry") + "routine logistics line\n" * 100000)
    for i in range(30):
        try:
            os.utime(tf, (1700000000 + i, 1700000000 + i))
        except FileNotFoundError:
            break
        time.sleep(0.01)
    hits = wait_violation(agent, lambda v: v["rule"] == "classified-in-sync"
                          and v["file"]["path"] == tf and v["action_result"] == "ok", timeout=30)
    ok(hits and not os.path.exists(tf),
       "a file touched while it is judged is quarantined all the same",
       [(v["file"]["path"], v["action_result"]) for v in agent.violations()][-6:])
    ok(agent.stop() == 0, "agent with its state on tmpfs stops cleanly")
    shutil.rmtree(xfs_state, ignore_errors=True)
else:
    ok(True, "# SKIP no second file system at /dev/shm for the cross-device quarantine")

# a broken policy at start-up: exit status 2, the place named
write(policy, '{"rules": [{"id": "x", "severity": "low", "where": {"in": ["nowhere"]}}]}')
r = subprocess.run(["leakwatchd" if not os.environ.get("LEAKWATCHD") else
                    os.environ["LEAKWATCHD"], "-c", agent.config], stderr=subprocess.PIPE,
                   timeout=30)
ok(r.returncode == 2 and b"/rules/0/where: \"in\": no zone named \"nowhere\"" in r.stderr,
   "an invalid policy at start-up: exit 2 naming the place", r.stderr)
agent.cleanup()
done()
