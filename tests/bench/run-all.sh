#!/bin/bash
# run-all.sh — every benchmark of BENCHMARKS.md, one after the other on a
# quiet machine, results as markdown in OUT (default /tmp/bench/results).
#   tests/bench/run-all.sh [-r RUNS] [-q]     (-q: skip the 25-minute peer run)
# Trees (made once, reused): ../shared/bench/make-tree with the reference
# arguments of ../shared/bench/README.md, into /tmp/bench.
set -u
RUNS=3 PEERS=1
while getopts "r:q" o; do
	case $o in r) RUNS=$OPTARG ;; q) PEERS=0 ;; *) sed -n '2,6p' "$0"; exit 2 ;; esac
done
cd "$(dirname "$0")/../.."
SHARED=$(cd ../shared/bench && pwd)
OUT=${OUT:-/tmp/bench/results}
mkdir -p "$OUT" /tmp/bench
[ -d /tmp/bench/mixed ] || python3 "$SHARED/make-tree" /tmp/bench/mixed --files 50000 --seed 1 \
	--manifest /tmp/bench/mixed.tsv
[ -d /tmp/bench/large ] || python3 "$SHARED/make-tree" /tmp/bench/large --files 900 --seed 1 \
	--profile large --manifest /tmp/bench/large.tsv
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
host() { echo "host: $(nproc) cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) | $(uname -r) | $(date -u +%FT%TZ)"; }
{
	host
	echo
	echo "## baseline pass, hash and inventory only"
	tests/bench/baseline.sh -r "$RUNS" -c /tmp/bench/mixed /tmp/bench/large
	echo
	echo "## baseline pass with classification"
	tests/bench/baseline.sh -r "$RUNS" -k /tmp/bench/mixed
	echo
	echo "## leakwatch scan beside yara and rg"
	tests/bench/scan.sh -r "$RUNS" /tmp/bench/mixed /tmp/bench/mixed.tsv /tmp/bench/large /tmp/bench/large.tsv
	echo
	echo "## live bursts"
	python3 tests/bench/live.py -r 1 /tmp/bench/mixed
} 2>&1 | tee "$OUT/leakwatch.md"
if [ "$PEERS" = 1 ]; then
	bash "$SHARED/peers.sh" -r "$RUNS" -c -I -o "$OUT/peers" /tmp/bench/mixed /tmp/bench/large \
		2>&1 | tee "$OUT/peers.md"
fi
