#!/bin/bash
# run-corpus.sh — scores `leakwatch scan --json` on the development corpus
# with its own scorer, exactly as issue 3 asks:
#   register ../shared/corpus/dev/registered/* with their ids and labels,
#   scan every file, run ../shared/corpus/evaluate.
# usage: tests/corpus/run-corpus.sh LEAKWATCH [CORPUS_DIR]
# Prints the scorer's report; exits 0 only when it reports 0 failed.
# Exit 77 (skipped) when the corpus is not beside the checkout.
set -u
LW=$(realpath "$1")
CORPUS=${2:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus}
DEV=$CORPUS/dev
[ -f "$DEV/manifest.json" ] || { echo "1..0 # SKIP no corpus at $DEV"; exit 77; }
work=$(mktemp -d /tmp/lw-corpus.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$DEV/manifest.json" > "$work/registered.tsv" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["registered"]:
    print("%s\t%s\t%s" % (r["id"], r["label"], r["path"]))
PY
while IFS=$'\t' read -r id label path; do
	"$LW" -d "$work/fp.db" fingerprint add --id "$id" --label "$label" "$DEV/$path" >/dev/null ||
		{ echo "cannot register $id"; exit 1; }
done < "$work/registered.tsv"
(cd "$DEV" && "$LW" -d "$work/fp.db" scan --json files) > "$work/results.ndjson"
rc=$?
[ "$rc" -le 2 ] || { echo "scan crashed (exit $rc)"; exit 1; }
out=$(python3 "$CORPUS/evaluate" "$DEV/manifest.json" "$work/results.ndjson" 2>&1)
echo "$out"
[ -n "${LW_CORPUS_KEEP:-}" ] && cp "$work/results.ndjson" "$LW_CORPUS_KEEP"
echo "$out" | grep -Eq '(^|[^0-9])0 failed' 
