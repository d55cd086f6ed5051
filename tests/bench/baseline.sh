#!/bin/bash
# baseline.sh — leakwatchd's start-up pass over a tree, timed like peers.sh
# times the peer tools (../../../shared/bench/peers.sh), so the figures sit
# in one table with theirs.
#
# usage: tests/bench/baseline.sh [-r RUNS] [-c] [-k] [-b BUILD] TREE...
#   -r RUNS   timed warm runs per tree, median reported (default 3; one
#             untimed warm-up run precedes them)
#   -c        also one cold run (sync; echo 3 > /proc/sys/vm/drop_caches)
#   -b BUILD  build directory with agent/leakwatchd (default build)
#   -k        with classification (the agent's default); without -k the
#             pass hashes and inventories only
#
# For each tree: a fresh state directory, leakwatchd watching the tree; the
# pass ends when the agent logs "full scan of TREE done in S s" (every file
# hashed and handed to the writer). Also the re-scan of an unchanged tree
# with the inventory in place (what a restart costs). Peak RSS is the
# agent's VmHWM, CPU its user+system time at the end of the pass.
set -u
RUNS=3 COLD=0 BUILD=build CLASSIFY=false
while getopts "r:cb:k" o; do
	case $o in r) RUNS=$OPTARG ;; c) COLD=1 ;; b) BUILD=$OPTARG ;; k) CLASSIFY=true ;;
	*) sed -n '2,20p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,18p' "$0"; exit 2; }
LWD=$(cd "$BUILD" && pwd)/agent/leakwatchd
[ -x "$LWD" ] || { echo "no $LWD: build first" >&2; exit 2; }
WORK=$(mktemp -d /tmp/lw-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
dropcache() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; }

# one_pass TREE STATE -> "seconds peak_rss_kib cpu_seconds"
one_pass() {
	local tree=$1 state=$2
	cat > "$WORK/agent.json" <<JSON
{"watch": ["$tree"], "state_dir": "$state", "rescan_interval": 0,
 "classify": {"enabled": $CLASSIFY}}
JSON
	"$LWD" -c "$WORK/agent.json" 2> "$WORK/log" &
	local pid=$!
	until grep -q 'full scan of .* done in' "$WORK/log"; do
		kill -0 $pid 2>/dev/null || { cat "$WORK/log" >&2; return 1; }
		sleep 0.02
	done
	local hwm cpu tck
	hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
	tck=$(getconf CLK_TCK)
	cpu=$(awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' /proc/$pid/stat)
	kill $pid; wait $pid
	local secs
	secs=$(sed -n 's/.*full scan of .* done in \([0-9.]*\) s.*/\1/p' "$WORK/log" | tail -1)
	echo "$secs $hwm $cpu"
}

echo "| tree | pass | files | MB | s (median) | files/s | MB/s | CPU s | peak RSS MiB | cold s |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for T in "$@"; do
	T=$(cd "$T" && pwd)
	read -r NF BYTES < <(find "$T" -type f -printf '%s\n' | awk '{b+=$1} END{print NR, b}')
	for mode in baseline rescan; do
		: > "$WORK/runs"
		rm -rf "$WORK/state"
		one_pass "$T" "$WORK/state" > /dev/null || exit 1      # warm-up (and inventory for rescan)
		for ((i = 0; i < RUNS; i++)); do
			[ "$mode" = baseline ] && rm -rf "$WORK/state"
			one_pass "$T" "$WORK/state" >> "$WORK/runs" || exit 1
		done
		cold=-
		if [ "$COLD" = 1 ]; then
			[ "$mode" = baseline ] && rm -rf "$WORK/state"
			dropcache
			cold=$(one_pass "$T" "$WORK/state" | awk '{print $1}')
		fi
		s=$(awk '{print $1}' "$WORK/runs" | median)
		m=$(awk '{print $2}' "$WORK/runs" | median)
		c=$(awk '{print $3}' "$WORK/runs" | median)
		awk -v t="$(basename "$T")" -v p="$mode" -v k="$([ $CLASSIFY = true ] && echo ' +classify')" -v f="$NF" -v b="$BYTES" -v s="$s" \
			-v m="$m" -v c="$c" -v cold="$cold" 'BEGIN{ if (s <= 0) s = 0.001;
			printf "| %s | leakwatchd %s%s | %d | %.0f | %.3f | %.0f | %.0f | %.2f | %.1f | %s |\n",
			t, p, k, f, b/1e6, s, f/s, b/1e6/s, c, m/1024, cold }'
	done
done
