#!/usr/bin/env python3
"""Classification through the real sandboxed helper: leakwatch scan's JSON
contract and exit status, registration of documents, the agent storing
findings and re-classifying when registered documents change, the sandbox
itself (seccomp, no new privileges, unprivileged), and hostile files: a
crafted file that trips the helper's memory limit crashes only that
file's classification, and a decompression bomb stops at its limit."""
import io
import json
import os
import subprocess
import tempfile
import time
import zipfile

from lwtest import Agent, LEAKWATCH, ok, done, write

KEYS = ["path", "sha256", "size", "type", "classification", "pii", "matches", "error"]
base = tempfile.mkdtemp(prefix="lw-classify.")


def scan(*args, db=None, timeout=120):
    cmd = [LEAKWATCH] + (["-d", db] if db else []) + ["scan", "--json"] + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = [json.loads(l) for l in r.stdout.decode().splitlines()]
    return r.returncode, lines, r.stderr.decode()


secret = os.path.join(base, "memo.txt")
write(secret, "NATO SECRET\n\nSubject: exercise plan\n\nThe plan follows.\n\nNATO SECRET\n")
clean = os.path.join(base, "minutes.txt")
write(clean, "Minutes of the budget meeting. Nothing of note.\n")
prose = os.path.join(base, "news.txt")
write(prose, "Newspapers reported that secret NATO documents and other classified\n"
      "material had leaked; officials said the NATO SECRET papers were old.\n")
cards = os.path.join(base, "cards.csv")
write(cards, "name,card\nA,4111 1111 1111 1111\nB,5105-1051-0510-5100\n")

rc, lines, err = scan(secret)
ok(rc == 1 and len(lines) == 1 and list(lines[0].keys()) == KEYS,
   "scan: a marked file gives one line with exactly the documented keys, exit 1",
   "rc=%d %r %s" % (rc, lines, err))
ok(lines and lines[0]["classification"] == {"scheme": "NATO", "level": "SECRET",
                                            "marking": "NATO SECRET"},
   "scan: the marking as found", repr(lines))
rc, lines, _ = scan(clean, prose)
ok(rc == 0 and all(l["classification"] is None and not l["pii"] for l in lines),
   "scan: clean files and prose about secrets give nothing, exit 0", repr(lines))
rc, lines, _ = scan(cards)
ok(rc == 1 and lines[0]["pii"] == [{"type": "credit_card", "count": 2}],
   "scan: Luhn-valid cards counted", repr(lines))
ok(b"4111" not in json.dumps(lines).encode(), "scan: card numbers are never printed")
rc, lines, err = scan(os.path.join(base, "absent"))
ok(rc == 2 and "absent" in err, "scan: a missing path is an error, exit 2", err)

# a directory is scanned recursively; symlinks are not followed
os.makedirs(os.path.join(base, "tree/sub"))
write(os.path.join(base, "tree/sub/a.txt"), "RESTREINT UE/EU RESTRICTED\n\nbody\n")
os.symlink(secret, os.path.join(base, "tree/link.txt"))
rc, lines, _ = scan(os.path.join(base, "tree"))
ok(rc == 1 and [os.path.basename(l["path"]) for l in lines] == ["a.txt"]
   and lines[0]["classification"]["scheme"] == "EU",
   "scan: directories recursively, symlinks not followed", repr(lines))

# registration: an excerpt of a registered document found in a larger file
db = os.path.join(base, "fp.db")
words = ("logistics convoy rotation schedule for the northern sector requires fuel "
         "resupply at the forward depot before the exercise window opens and the "
         "signal units must confirm frequencies with the headquarters staff").split()
import random
rng = random.Random(7)
original = "\n\n".join(" ".join(rng.choice(words) + ("s" if rng.random() < .2 else "")
                                for _ in range(120)) for _ in range(12))
reg = os.path.join(base, "plan-original.txt")
write(reg, original)
r = subprocess.run([LEAKWATCH, "-d", db, "fingerprint", "add", "--id", "plan-7",
                    "--label", "NATO SECRET", reg], stdout=subprocess.PIPE)
ok(r.returncode == 0 and b"plan-7" in r.stdout, "fingerprint add registers a document")
r = subprocess.run([LEAKWATCH, "-d", db, "fingerprint", "list", "--json"],
                   stdout=subprocess.PIPE)
listed = [json.loads(l) for l in r.stdout.decode().splitlines()]
ok(len(listed) == 1 and listed[0]["id"] == "plan-7" and listed[0]["fingerprints"] > 50,
   "fingerprint list shows it", repr(listed))
excerpt = os.path.join(base, "draft-mail.txt")
paras = original.split("\n\n")
write(excerpt, "Hi all,\n\nplease see below.\n\n" + "\n".join(p.upper() for p in paras[3:7])
      + "\n\nregards\n")
rc, lines, _ = scan(excerpt, reg, clean, db=db)
by = {os.path.basename(l["path"]): l for l in lines}
ok(by["draft-mail.txt"]["matches"] and by["draft-mail.txt"]["matches"][0]["id"] == "plan-7"
   and by["draft-mail.txt"]["matches"][0]["kind"] == "partial",
   "an excerpt (reformatted, upper-cased) matches partially", repr(by["draft-mail.txt"]))
ok(by["plan-original.txt"]["matches"] == [{"id": "plan-7", "kind": "exact", "coverage": 1}],
   "the original matches exactly", repr(by["plan-original.txt"]))
ok(by["minutes.txt"]["matches"] == [], "an unrelated file does not match")

# hostile: a decompression bomb stops at its limit, quickly, with a result
bomb = os.path.join(base, "bomb.zip")
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.txt", b"\0" * (300 << 20))
t0 = time.time()
rc, lines, _ = scan(bomb)
ok(len(lines) == 1 and lines[0]["error"] and "limit" in lines[0]["error"]
   and time.time() - t0 < 60,
   "a zip bomb is cut at a limit and reported (%.1fs)" % (time.time() - t0), repr(lines))

# hostile: a file that needs more memory than the helper may have. The
# helper is killed by its own limit; only that file gets an error.
big = os.path.join(base, "huge.txt")
with open(big, "wb") as f:
    for _ in range(160):
        f.write((b"NATO SECRET filler line of text\n" * 32768))

# scan keeps up to 16 files queued to each helper: when the helper dies on
# one of them, that file alone gets the error and the files queued behind
# it are classified by the next helper
many = os.path.join(base, "many")
os.makedirs(many)
for i in range(40):
    write(os.path.join(many, "f%02d.txt" % i),
          "NATO SECRET\n\nitem %d\n\nNATO SECRET\n" % i if i % 2 else "minutes %d\n" % i)
os.link(big, os.path.join(many, "f20b-huge.txt"))
rc, lines, err = scan("--jobs", "1", "--memory-mb", "96", many)
by = {os.path.basename(o["path"]): o for o in lines}
bad = [n for n, o in by.items() if n != "f20b-huge.txt" and (
    o["error"] or (o["classification"] or {}).get("level") != ("SECRET" if int(n[1:3]) % 2 else None))]
ok(len(lines) == 41 and not bad, "scan: every file queued behind a helper crash is classified",
   "%d lines, wrong: %r" % (len(lines), bad))
ok(by.get("f20b-huge.txt", {}).get("error") and "helper" in by["f20b-huge.txt"]["error"],
   "scan: the file that killed the helper has the error", repr(by.get("f20b-huge.txt")))
ok(rc == 2, "scan: an error makes the exit status 2", "rc %d" % rc)

a = Agent("classify", extra_config={"classify": {"memory_mb": 96, "timeout_ms": 20000}})
try:
    a.start()
    a.wait_ready()
    r = a.root
    write(os.path.join(r, "memo.txt"), open(secret).read())
    os.link(big, os.path.join(r, "huge.txt"))
    write(os.path.join(r, "after.txt"), "NATO CONFIDENTIAL\n\nstill classified after\n")
    a.converge("the agent inventories every file, hostile one included")

    def rows_by_name():
        return {o["path"].rsplit(b"/", 1)[1].decode(): o for o in a.rows()}
    end = time.time() + 60
    while time.time() < end:
        rows = rows_by_name()
        if all(n in rows for n in ("memo.txt", "huge.txt", "after.txt")):
            break
        time.sleep(0.3)
    ok(rows["memo.txt"]["classification"] == {"scheme": "NATO", "level": "SECRET",
                                              "marking": "NATO SECRET"},
       "the agent stores a file's classification", repr(rows["memo.txt"]))
    ok("classify_error" in rows["huge.txt"] and "helper" in rows["huge.txt"]["classify_error"],
       "a file that kills the helper gets an error of its own",
       repr({k: rows["huge.txt"].get(k) for k in ("classification", "classify_error")}))
    ok(rows["after.txt"]["classification"]["level"] == "CONFIDENTIAL",
       "the helper is restarted and the next file classified", repr(rows["after.txt"]))
    ok(a.proc.poll() is None, "the agent is unharmed")

    # the sandbox, as the kernel sees it
    helpers = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                st = open("/proc/%s/status" % pid).read()
            except OSError:
                continue
            if "leakwatch-class" in st.splitlines()[0] and ("PPid:\t%d" % a.proc.pid) in st:
                helpers.append(st)
    ok(helpers and all("Seccomp:\t2" in h and "NoNewPrivs:\t1" in h for h in helpers),
       "helpers run under a seccomp filter with no new privileges", "%d helpers" % len(helpers))
    if os.geteuid() == 0:
        ok(all("Uid:\t65534\t65534\t65534\t65534" in h for h in helpers),
           "helpers started by root run as nobody")

    # --label filters by level; a registered document's copy carries its label
    r2 = a.cli("files", "--label", "SECRET", "--json")
    names = sorted(json.loads(l)["path"].rsplit("/", 1)[1] for l in r2.stdout.decode().splitlines())
    ok(names == ["memo.txt"], "files --label SECRET lists SECRET and above", repr(names))
    subprocess.run([LEAKWATCH, "-d", os.path.join(a.state, "agent.db"), "fingerprint", "add",
                    "--id", "plan-7", "--label", "NATO SECRET", reg], check=True,
                   stdout=subprocess.DEVNULL)
    write(os.path.join(r, "copy-of-plan.txt"), original)
    write(os.path.join(r, "mail-draft.txt"), open(excerpt).read())
    end = time.time() + 60
    while time.time() < end:
        rows = rows_by_name()
        if rows.get("copy-of-plan.txt", {}).get("matches") and \
                rows.get("mail-draft.txt", {}).get("matches"):
            break
        time.sleep(0.3)
    ok(rows.get("copy-of-plan.txt", {}).get("matches", [{}])[0].get("kind") == "exact"
       and rows.get("mail-draft.txt", {}).get("matches", [{}])[0].get("kind") == "partial",
       "the agent finds copies and excerpts of a newly registered document",
       repr({k: rows.get(k, {}).get("matches") for k in ("copy-of-plan.txt", "mail-draft.txt")}))
    r2 = a.cli("files", "--label", "SECRET", "--json")
    names = sorted(json.loads(l)["path"].rsplit("/", 1)[1] for l in r2.stdout.decode().splitlines())
    ok("copy-of-plan.txt" in names and "mail-draft.txt" in names,
       "unmarked copies of a registered NATO SECRET document rank as SECRET", repr(names))
finally:
    a.cleanup()

# Files up to classify.max_file_mb are hashed by the helper as it reads
# them; bigger ones by the worker, the helper examining only the cap. Both
# ways the inventory holds the file's full SHA-256.
a = Agent("classify-cap", extra_config={"classify": {"max_file_mb": 1}})
try:
    a.start()
    a.wait_ready()
    body = b"NATO SECRET\n\n" + b"filler line of the annex, nothing more\n" * 80000
    write(os.path.join(a.root, "big-annex.txt"), body)         # 3.1 MB: over the cap
    write(os.path.join(a.root, "small-annex.txt"), body[:500000])  # under it
    a.converge("over and under the examined size: every file with its full hash")
    end = time.time() + 30
    rows = {}
    while time.time() < end:
        rows = {o["path"].rsplit(b"/", 1)[1].decode(): o for o in a.rows()}
        if all(rows.get(n, {}).get("classification") for n in ("big-annex.txt", "small-annex.txt")):
            break
        time.sleep(0.3)
    big_row, small_row = rows.get("big-annex.txt", {}), rows.get("small-annex.txt", {})
    ok((big_row.get("classification") or {}).get("level") == "SECRET"
       and "limit: file size" in (big_row.get("classify_error") or ""),
       "a file over the cap: classified from what was examined, the limit reported",
       repr({k: big_row.get(k) for k in ("classification", "classify_error", "sha256")}))
    ok((small_row.get("classification") or {}).get("level") == "SECRET"
       and not small_row.get("classify_error"),
       "a file under the cap: classified, no error",
       repr({k: small_row.get(k) for k in ("classification", "classify_error")}))
finally:
    a.cleanup()
    subprocess.run(["rm", "-rf", base])
done()
