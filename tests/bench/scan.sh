#!/bin/bash
# scan.sh — `leakwatch scan` (hash + extract + classify, sandboxed helpers)
# beside the peers of ../../../shared/bench on the same trees: yara -r -p 2
# with dlp.yar (20 patterns, no hashing, zips not opened) and rg -c -f
# dlp.rg (no hashing). Median of RUNS warm runs after one warm-up; then the
# recall of the last leakwatch run against the tree's make-tree manifest.
#
# usage: tests/bench/scan.sh [-r RUNS] [-b BUILD] TREE MANIFEST [TREE MANIFEST...]
set -u
RUNS=3 BUILD=build
while getopts "r:b:" o; do
	case $o in r) RUNS=$OPTARG ;; b) BUILD=$OPTARG ;; *) sed -n '2,10p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '2,10p' "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "$here/../../../shared/bench" && pwd)
LW=$(cd "$BUILD" && pwd)/cli/leakwatch
OUT=$(mktemp -d /tmp/lw-scanbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "| tree | tool | files | MB | s (median) | files/s | MB/s | CPU s | peak RSS MiB |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|"
while [ $# -ge 2 ]; do
	T=$(cd "$1" && pwd)
	M=$2
	shift 2
	read -r NF BYTES < <(find "$T" -type f -printf '%s\n' | awk '{b+=$1} END{print NR, b}')
	for tool in leakwatch yara rg; do
		case $tool in
		leakwatch) cmd=("$LW" scan --json "$T") name="leakwatch scan --json (2 jobs)" ;;
		yara) cmd=(yara -r -p 2 "$SHARED/dlp.yar" "$T") name="yara -r -p 2 (20 patterns)" ;;
		rg) cmd=(rg -c -f "$SHARED/dlp.rg" "$T") name="rg -c -f (20 patterns)" ;;
		esac
		"${cmd[@]}" > "$OUT/stdout" 2>/dev/null
		: > "$OUT/runs"
		for ((i = 0; i < RUNS; i++)); do
			/usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "${cmd[@]}" > "$OUT/stdout" 2>/dev/null
			tail -1 "$OUT/time" >> "$OUT/runs"
		done
		[ $tool = leakwatch ] && cp "$OUT/stdout" "$OUT/leakwatch.ndjson"
		e=$(awk '{print $1}' "$OUT/runs" | median)
		c=$(awk '{print $2+$3}' "$OUT/runs" | median)
		m=$(awk '{print $4}' "$OUT/runs" | median)
		awk -v t="$(basename "$T")" -v n="$name" -v f="$NF" -v b="$BYTES" -v e="$e" \
			-v c="$c" -v m="$m" 'BEGIN{ if (e <= 0) e = 0.01;
			printf "| %s | %s | %d | %.0f | %.2f | %.0f | %.0f | %.2f | %.1f |\n",
			t, n, f, b/1e6, e, f/e, b/1e6/e, c, m/1024 }'
	done
	echo "|  | recall ($(basename "$T")): $(python3 "$here/recall.py" "$T" "$M" "$OUT/leakwatch.ndjson" | head -1) | | | | | | | |"
done
