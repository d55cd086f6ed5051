#!/usr/bin/env python3
"""recall.py — checks `leakwatch scan --json` output against a make-tree
manifest (relpath, size, kind, markings|-, ncards): every planted marking
must come back as a classification, every file with planted cards must
report credit_card PII, and no file without a plant may report either.

usage: recall.py TREE MANIFEST.tsv SCAN.ndjson
Prints one summary line; exit 1 if anything was missed or invented."""
import json
import os
import sys

tree, manifest, results = sys.argv[1:4]
tree = os.path.abspath(tree)
got = {}
for line in open(results, encoding="utf-8", errors="surrogateescape"):
    o = json.loads(line)
    got[os.path.relpath(o["path"], tree)] = o
marked = cards = miss_m = miss_c = fp_m = fp_c = missing = 0
examples = []
for line in open(manifest):
    rel, size, kind, marks, ncards = line.rstrip("\n").split("\t")
    o = got.get(rel)
    if o is None:
        missing += 1
        continue
    has_m = o["classification"] is not None
    has_c = any(p["type"] == "credit_card" for p in o["pii"])
    if marks != "-":
        marked += 1
        if not has_m:
            miss_m += 1
            examples.append("missed marking %s in %s" % (marks, rel))
    elif has_m:
        fp_m += 1
        examples.append("invented marking %s in %s" % (o["classification"], rel))
    if int(ncards):
        cards += 1
        if not has_c:
            miss_c += 1
            examples.append("missed %s cards in %s" % (ncards, rel))
    elif has_c:
        fp_c += 1
        examples.append("invented cards in %s" % rel)
print("markings found %d/%d (false %d); card files found %d/%d (false %d); files without a"
      " result %d" % (marked - miss_m, marked, fp_m, cards - miss_c, cards, fp_c, missing))
for e in examples[:10]:
    print("  " + e)
sys.exit(1 if miss_m or miss_c or fp_m or fp_c or missing else 0)
