#!/usr/bin/env python3
"""The agent's outbox and reporter against the real collector, over real
mutual TLS with certificates from packaging/leakwatch-certs: violations
arrive within seconds, heartbeats make the agent visible, nothing is lost
or doubled while the collector is down or the agent restarts, the chain
verifies at the collector, and a bounded outbox drops the least severe
events loudly instead of stopping."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from lwtest import wait_until, Agent, LEAKWATCH, ok, done, write
from lwcollector import CA, Collector

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "packaging", "policy.json")
SECRET = "NATO SECRET\n\nSubject: %s\n\nThe plan follows.\n\nNATO SECRET\n"


def admin_get(col, path):
    c = col.client("boss")
    st, body = c.get(path)
    return body if st == 200 else {}


def collector_violations(col):
    return admin_get(col, "/v1/violations?agent=ws-01").get("violations", [])


base = tempfile.mkdtemp(prefix="lw-report.")
ca = CA(base)
ca.issue("agent", "ws-01").issue("admin", "boss")
col = Collector(base, ca, os.path.join(base, "collector.db")).start()

agent = Agent("report")
root = agent.root
os.makedirs(os.path.join(root, "staging"))
with open(SHIPPED) as f:
    pol = json.load(f)
pol["zones"] = {"staging": [root + "/staging/**"], "secure": [root + "/secure/**"]}
write(os.path.join(agent.base, "policy.json"), json.dumps(pol))
with open(agent.config) as f:
    cfg = json.load(f)
cfg["policy"] = "policy.json"
cfg["collector"] = {"url": "https://localhost:%d" % col.port, "ca": ca.ca,
                    "cert": ca.crt("ws-01"), "key": ca.key("ws-01"), "heartbeat_s": 1}
with open(agent.config, "w") as f:
    json.dump(cfg, f)

# a bad collector section is refused with the key named
bad_cfg = os.path.join(agent.base, "bad.json")
bad = dict(cfg, collector=dict(cfg["collector"], url="http://localhost:1"))
write(bad_cfg, json.dumps(bad))
r = subprocess.run([os.environ.get("LEAKWATCHD", "leakwatchd"), "-c", bad_cfg,
                    "--check-config"], stderr=subprocess.PIPE)
ok(r.returncode == 2 and b"/collector/url: must start with https://" in r.stderr,
   "a plain-http collector URL is refused naming the key", r.stderr)

agent.start()
agent.wait_ready()

# heartbeats: the collector knows the agent and its coverage
agents = wait_until(lambda: [a for a in admin_get(col, "/v1/agents").get("agents", [])
                             if a.get("agent") == "ws-01" and a.get("coverage") is not None])
ok(len(agents) == 1 and agents[0]["coverage"] == 1 and agents[0]["outbox_backlog"] == 0
   and agents[0]["version"],
   "heartbeats make the agent visible with its coverage and backlog", agents)

# a violation reaches the collector within seconds
t0 = time.time()
write(os.path.join(root, "staging", "a.txt"), SECRET % "alpha")
got = wait_until(lambda: [v for v in collector_violations(col)
                          if v.get("rule") == "classified-in-staging"])
took = time.time() - t0
ok(len(got) == 1 and got[0]["agent"] == "ws-01"
   and got[0]["file"]["path"] == os.path.join(root, "staging", "a.txt")
   and got[0]["file"]["classification"]["marking"] == "NATO SECRET",
   "a violation arrives at the collector (%.1f s after the write)" % took,
   got or col.log_text()[-2000:] + agent.log_text()[-2000:])

# a hostile file name (not UTF-8, control characters) travels losslessly
odd = os.path.join(os.fsencode(root), b"staging", b"caf\xe9\n\x01.txt")
with open(odd, "wb") as f:
    f.write((SECRET % "odd name").encode())
got = wait_until(lambda: [v for v in collector_violations(col)
                          if v["file"]["path"].startswith(os.path.join(root, "staging", "caf"))])
ok(len(got) == 1 and os.fsencode(got[0]["file"]["path"]) == odd,
   "a non-UTF-8 file name arrives at the collector byte for byte", got)

# the collector goes away: events wait in the outbox, nothing is lost
col.stop()
for i in range(5):
    write(os.path.join(root, "staging", "down%d.txt" % i), SECRET % ("down %d" % i))
s, seen = agent.wait_status(lambda s: s.get("violations", 0) >= 7
                            and s.get("collector", {}).get("outbox_backlog", 0) >= 5
                            and s["collector"].get("error"), timeout=30)
ok(seen, "with the collector down the backlog grows and status says why",
   s.get("collector") if s else None)
time.sleep(1)
col.start()
want = len(agent.violations())
got = wait_until(lambda: len(collector_violations(col)) >= want and collector_violations(col),
                 timeout=90)
uuids = [v["id"] for v in collector_violations(col)]
ok(len(uuids) == want == 7 and len(set(uuids)) == want,
   "after the collector returns every violation arrives exactly once (%d)" % len(uuids))
s, drained = agent.wait_status(lambda s: s.get("collector", {}).get("outbox_backlog") == 0
                               and s["collector"].get("error") is None, timeout=30)
ok(drained, "the outbox drains and the error clears", s.get("collector") if s else None)

# an agent restart re-sends nothing twice and keeps the chain
ok(agent.stop() == 0, "agent stops")
write(os.path.join(root, "staging", "offline.txt"), SECRET % "offline")
agent.start()
agent.wait_ready()
got = wait_until(lambda: len(collector_violations(col)) >= 8 and collector_violations(col))
uuids = [v["id"] for v in collector_violations(col)]
alerts = admin_get(col, "/v1/alerts?agent=ws-01").get("alerts", [])
ag = [a for a in admin_get(col, "/v1/agents").get("agents", []) if a["agent"] == "ws-01"]
ok("policy: unchanged since the inventory was last evaluated" in agent.log_text(),
   "a restart under the same policy does not re-evaluate the inventory")
ok(len(uuids) == 8 and len(set(uuids)) == 8 and not alerts and ag and ag[0]["chain_ok"],
   "after a restart: the baseline violation arrives, no duplicates, the chain verifies",
   {"n": len(uuids), "alerts": alerts, "agent": ag})

# the fleet CLI sees the same
r = subprocess.run([LEAKWATCH, "--collector", "https://localhost:%d" % col.port, "--cert",
                    ca.crt("boss"), "--key", ca.key("boss"), "--ca", ca.ca, "violations",
                    "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lines = [json.loads(l) for l in r.stdout.decode().splitlines()]
ok(r.returncode == 0 and len(lines) == 8, "leakwatch --collector violations lists them",
   r.stderr)

# sightings: where has this content been?
a = os.path.join(root, "staging", "a.txt")
sha = hashlib.sha256(open(a, "rb").read()).hexdigest()
moved = os.path.join(root, "moved-a.txt")
os.rename(a, moved)


def trace(what):
    r = subprocess.run([LEAKWATCH, "--collector", "https://localhost:%d" % col.port,
                        "--cert", ca.crt("boss"), "--key", ca.key("boss"), "--ca", ca.ca,
                        "trace", what, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def trace_done():
    t = trace(sha)
    paths = {(x["path"], x["deleted"]) for x in t}
    return t if (a, True) in paths and (moved, False) in paths else None


t = wait_until(trace_done)
ok(t and all(x["agent"] == "ws-01" and x["sha256"] == sha for x in t),
   "trace SHA256: the old path (deleted) and the new one, on this host", trace(sha))

# what the fleet's compliance report counts: where to and from a rename
# went, the owner, the zones and the mode
body = admin_get(col, "/v1/trace?sha256=" + sha).get("sightings", [])
gone = [x for x in body if x["path"] == a and x["deleted"]]
came = [x for x in body if x["path"] == moved and not x["deleted"]]
ok(gone and gone[-1].get("moved_to") == moved and came and came[-1].get("moved_from") == a
   and came[-1].get("owner") and isinstance(came[-1].get("zones"), list)
   and isinstance(came[-1].get("mode"), int),
   "sightings of a rename say where to and from, with owner, zones and mode", body)

# the heartbeats carry the start and the policy; a reload is a new policy
# the collector notes
def span():
    return "since=%s&until=%s" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
                                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))


def report_agent():
    r = [x for x in admin_get(col, "/v1/report/agents?" + span()).get("agents", [])
         if x["agent"] == "ws-01"]
    return r[0] if r else {}


first = wait_until(lambda: report_agent().get("policy_sha256"))
ra = report_agent()
ok(first and len(first) == 64 and ra.get("started") and not ra.get("silent_now")
   and ra.get("events", 0) >= 2 and ra.get("head"),
   "report agents: the real agent's policy digest, start, events and chain head", ra)
# counted at the agent's first status (at most a minute old afterwards)
ra = wait_until(lambda: report_agent() if report_agent().get("inventory_files") is not None
                else None, timeout=20) or {}
ok(isinstance(ra.get("inventory_files"), int) and
   sorted((ra.get("unexamined") or {}).keys()) ==
   ["encrypted", "other", "permission", "size_cap", "timeout"],
   "report agents: the real agent's inventory size and unexamined files by cause", ra)
pol["rules"][-1]["message"] += " (reworded)"
write(os.path.join(agent.base, "policy.json"), json.dumps(pol))
agent.cli("reload")
second = wait_until(lambda: report_agent().get("policy_sha256") != first
                    and report_agent().get("policy_sha256"))
notes = admin_get(col, "/v1/report/notes?" + span()).get("notes", [])
kinds = [(n["kind"], n["detail"].split()[-1]) for n in notes if n["agent"] == "ws-01"]
ok(second and ("start", ra.get("started")) in kinds and ("policy", first) in kinds
   and ("policy", second) in kinds,
   "report notes: the start, the first policy and the reloaded one", kinds)

# the file at the new path is rewritten with nothing sensitive: that
# content is no longer there
write(moved, "shopping list: bread, milk\n")
t = wait_until(lambda: [x for x in trace(sha) if x["path"] == moved and x["deleted"]],
               timeout=30)
ok(t, "trace: content overwritten with something plain is reported gone from its path",
   trace(sha))
orig = os.path.join(agent.base, "opord.txt")
text = " ".join("Paragraph %d of the order covers fuel point %d and the relief of company %d."
                % (i, i * 3, i % 7) for i in range(80))
write(orig, text)
r = agent.cli("fingerprint", "add", "--id", "opord-9", "--label", "NATO SECRET", orig)
time.sleep(3)
excerpt = os.path.join(root, "notes.txt")
write(excerpt, "my notes: " + " ".join(text.split()[100:400]))
t = wait_until(lambda: [x for x in trace("opord-9") if x["path"] == excerpt], timeout=40)
ok(t and t[0]["matches"][0]["id"] == "opord-9",
   "trace REGISTERED-ID finds a derivative of the registered document", trace("opord-9"))

# kill -9 of the collector in the middle of a batch, then of the agent in
# the middle of a send: nothing lost, nothing doubled


def same_at_both_ends(prefix, timeout=120):
    # both ends agree only once the agent has classified every file of the
    # burst: under ASan it may still be working through them while the
    # collector already holds all it was sent
    def check():
        vs = agent.violations()
        local = {v["id"] for v in vs}
        burst = {v["file"]["path"] for v in vs if v["file"]["path"].startswith(prefix)}
        remote = [v["id"] for v in admin_get(col, "/v1/violations?agent=ws-01&limit=100000")
                  .get("violations", [])]
        return (local, remote) if len(burst) == 200 and local == set(remote) else None
    return wait_until(check, timeout=timeout)


k9 = os.path.join(root, "staging", "k9")
os.makedirs(k9)
for i in range(200):
    write(os.path.join(k9, "c%03d.txt" % i), SECRET % ("collector kill %d" % i))
    if i == 60:
        col.proc.kill()  # SIGKILL while batches are in flight
        col.proc.wait()
        col.proc = None
col.start()
res = same_at_both_ends(os.path.join(k9, "c"))
ok(res and len(res[1]) == len(set(res[1])) and len(res[0]) > 200,
   "collector killed mid-batch: every violation arrives once (%d)" % (len(res[1]) if res else -1))
for i in range(200):
    write(os.path.join(k9, "a%03d.txt" % i), SECRET % ("agent kill %d" % i))
    if i == 100:
        agent.kill9()
agent.start()
agent.wait_ready()
res = same_at_both_ends(os.path.join(k9, "a"))
al = [a for a in admin_get(col, "/v1/alerts?agent=ws-01").get("alerts", [])]
ok(res and len(res[1]) == len(set(res[1])) and len(res[0]) > 400 and not al,
   "agent killed mid-send: every violation arrives once, the chain intact (%d)"
   % (len(res[1]) if res else -1), al)

# an event the collector refuses for good (here: its body was damaged in the
# agent's database) is isolated and skipped; it does not block the others
col.stop()
write(os.path.join(root, "staging", "r1.txt"), SECRET % "refused one")
write(os.path.join(root, "staging", "r2.txt"), SECRET % "refused two")
agent.wait_status(lambda s: s.get("collector", {}).get("outbox_backlog", 0) >= 2, timeout=30)
ok(agent.stop() == 0, "agent stops with events in its outbox")
db = os.path.join(agent.state, "agent.db")
bad_seq, bad_path = subprocess.run(
    ["sqlite3", db, "SELECT e.seq, CAST(v.path AS TEXT) FROM events e JOIN violations v"
     " ON v.seq = e.seq WHERE e.acked IS NULL ORDER BY e.seq LIMIT 1"],
    stdout=subprocess.PIPE).stdout.decode().strip().split("|")
# the other file's violation must still arrive (the workers may have
# recorded r2 before r1)
other = "/r1.txt" if bad_path.endswith("/r2.txt") else "/r2.txt"
subprocess.run(["sqlite3", db, "UPDATE events SET body = '{}' WHERE seq = %s" % bad_seq],
               check=True)
col.start()
agent.start()
agent.wait_ready()
res = wait_until(lambda: [v for v in collector_violations(col)
                          if v["file"]["path"].endswith(other)], timeout=60)
q = subprocess.run(["sqlite3", "file:%s?mode=ro" % db, "SELECT seq FROM events WHERE acked = -1"],
                   stdout=subprocess.PIPE).stdout.decode().split()
ok(res and q == [bad_seq] and "refused event %s for good" % bad_seq in agent.log_text(),
   "a refused event is set aside (acked = -1), logged, and the rest still arrives",
   {"refused": q, "want": bad_seq, "arrived": bool(res),
    "log": agent.log_text()[-2500:], "status": agent.status()})

# a second machine presenting the same identity (a cloned VM, a copied
# key): its events conflict with the first one's sequence numbers; the
# collector stores them flagged and raises replay alerts, it does not merge
clone = Agent("report-clone")
os.makedirs(os.path.join(clone.root, "staging"))
ccfg = dict(cfg, watch=[clone.root], state_dir=clone.state, policy=os.path.join(agent.base,
                                                                                 "policy.json"))
ccfg["collector"] = dict(cfg["collector"])
with open(clone.config, "w") as f:
    json.dump(ccfg, f)
clone.start()
clone.wait_ready()
write(os.path.join(clone.root, "staging", "clone.txt"), SECRET % "clone")
rep = wait_until(lambda: [a for a in admin_get(col, "/v1/alerts?agent=ws-01").get("alerts", [])
                          if a.get("kind") == "replay"], timeout=40)
ag = [a for a in admin_get(col, "/v1/agents").get("agents", []) if a["agent"] == "ws-01"]
ok(rep and "two machines with this identity" in rep[0]["detail"] and ag
   and not ag[0]["chain_ok"],
   "a cloned identity is reported as replay and marks the chain broken", rep or ag)
ok(clone.stop() == 0, "the clone stops")
clone.cleanup()

# a bounded outbox: over the bound the least severe go, loudly
ok(agent.stop() == 0, "agent stops for the bounded-outbox run")
cfg["collector"]["outbox_max"] = 20
with open(agent.config, "w") as f:
    json.dump(cfg, f)
col.stop()
agent.start()
agent.wait_ready()
bulk = os.path.join(root, "staging", "bulk")
os.makedirs(bulk)
for i in range(60):
    write(os.path.join(bulk, "b%02d.txt" % i), "NATO RESTRICTED\n\nItem %d.\n\nNATO RESTRICTED\n" % i)
s, full = agent.wait_status(lambda s: s.get("violations", 0) >= 60, timeout=60)
log = agent.log_text()
ok("over the bound of 20" in log, "the agent says loudly that it drops events",
   log[-1500:])
db = os.path.join(agent.state, "agent.db")
q = subprocess.run(["sqlite3", "file:%s?mode=ro" % db,
                    "SELECT count(*) FROM events WHERE acked IS NULL"], stdout=subprocess.PIPE)
ok(int(q.stdout or b"0") <= 30, "the outbox stays near its bound (%s)" % q.stdout.strip())
# the bulk violation (critical) outranks per-file ones (high): it survived
q = subprocess.run(["sqlite3", "file:%s?mode=ro" % db,
                    "SELECT count(*) FROM events e JOIN violations v ON v.seq = e.seq"
                    " WHERE e.acked IS NULL AND v.rule = 'bulk-staging'"],
                   stdout=subprocess.PIPE)
ok(q.stdout.strip() == b"1", "the most severe event is kept", q.stdout)
col.start()
gap = wait_until(lambda: [a for a in admin_get(col, "/v1/alerts?agent=ws-01")
                          .get("alerts", []) if a.get("kind") == "gap"], timeout=60)
ok(gap, "the collector reports the dropped events as a gap in the chain")
ok(agent.stop() == 0, "agent stops cleanly")
col.stop()
agent.cleanup()
if not os.environ.get("LW_KEEP_TMP"):
    shutil.rmtree(base, ignore_errors=True)
done()
