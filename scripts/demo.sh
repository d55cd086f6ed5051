#!/bin/bash
# Quick start: installs what is missing, builds, creates an organisation CA
# with certificates for a collector, an agent and an administrator, runs
# leakwatch-collector (embedded SQLite) and leakwatchd on a demo directory,
# shows what the agent sees as files arrive, move and leave, and shows the
# violation a classified copy in Downloads raises arriving at the collector.
#   scripts/demo.sh            run the demo and stop
#   LW_DEMO_KEEP=1 scripts/demo.sh   leave both running afterwards
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
ninja -C build >/dev/null

demo=$(mktemp -d /tmp/leakwatch-demo.XXXXXX)
mkdir -p "$demo/watched/Documents"
mkdir -m 0700 "$demo/state"   # the agent refuses or tightens a state dir others can read
certs() { sh packaging/leakwatch-certs -d "$demo/ca" "$@" >/dev/null; }
certs init --cn "leakwatch demo CA"
certs issue collector localhost --san DNS:localhost,IP:127.0.0.1
certs issue agent "$(hostname)"
certs issue admin security-officer
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$demo/collector.json" <<JSON
{
  "listen": "127.0.0.1:$port",
  "tls": {"ca": "$demo/ca/ca.crt", "cert": "$demo/ca/localhost.crt",
          "key": "$demo/ca/localhost.key", "crl": "$demo/ca/crl.pem"},
  "database": "$demo/collector.db",
  "admins": ["security-officer"]
}
JSON
cat > "$demo/agent.json" <<JSON
{
  "watch": ["$demo/watched"],
  "state_dir": "$demo/state",
  "exclude": ["*.swp", "*~"],
  "log_level": "info",
  "policy": "policy.json",
  "collector": {"url": "https://localhost:$port", "ca": "ca/ca.crt",
                "cert": "ca/$(hostname).crt", "key": "ca/$(hostname).key",
                "heartbeat_s": 5}
}
JSON
# The shipped policy, with the demo's Documents as the secure zone and its
# Downloads as staging (the default staging zone includes all of /tmp).
python3 - "$demo" <<'PY'
import json, sys
demo = sys.argv[1]
pol = json.load(open("packaging/policy.json"))
pol["zones"] = {"secure": [demo + "/watched/Documents/**"],
                "staging": [demo + "/watched/Downloads/**"]}
json.dump(pol, open(demo + "/policy.json", "w"), indent=1)
PY
lw() { build/cli/leakwatch -c "$demo/agent.json" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

fleet() {
	build/cli/leakwatch --collector "https://localhost:$port" --ca "$demo/ca/ca.crt" \
		--cert "$demo/ca/security-officer.crt" --key "$demo/ca/security-officer.key" "$@"
}

build/collector/leakwatch-collector -c "$demo/collector.json" 2> "$demo/collector.log" &
collector=$!
echo "quarterly budget review, nothing sensitive" > "$demo/watched/Documents/budget.txt"
build/agent/leakwatchd -c "$demo/agent.json" 2> "$demo/agent.log" &
agent=$!
trap 'kill $agent $collector 2>/dev/null; wait $agent $collector 2>/dev/null; [ -n "${LW_DEMO_KEEP:-}" ] || rm -rf "$demo"' EXIT
# bounded: a demo that cannot start says why instead of waiting forever
for i in $(seq 150); do
	lw status --json 2>/dev/null | grep -q '"full_scans_done":[1-9]' && break
	if [ "$i" -eq 150 ] || ! kill -0 $agent 2>/dev/null; then
		echo "demo: the agent did not finish its first scan; its log:" >&2
		cat "$demo/agent.log" >&2
		exit 1
	fi
	sleep 0.2
done

say "leakwatchd is watching $demo/watched"
lw status

say "a classified memo is saved, a tree is unpacked, a file is renamed"
printf 'NATO SECRET\n\nSubject: exercise plan\n\nNATO SECRET\n' > "$demo/watched/Documents/memo.txt"
mkdir -p "$demo/watched/Downloads/project/a/b/c"
for i in 1 2 3; do echo "draft $i" > "$demo/watched/Downloads/project/a/b/c/draft$i.txt"; done
mv "$demo/watched/Documents/budget.txt" "$demo/watched/Documents/budget-2026.txt"
sleep 1
lw files

say "where else is the memo's content stored?"
cp "$demo/watched/Documents/memo.txt" "$demo/watched/Downloads/copy-of-memo.txt"
sleep 1
lw find "$demo/watched/Documents/memo.txt"

say "the copy left the secure zone for Downloads: the policy's violations"
lw violations

say "... and at the collector, over mutual TLS, seen by the security officer"
arrived=""
for _ in $(seq 50); do
	fleet violations --json 2>/dev/null | grep -q left-secure-zone && arrived=1 && break
	sleep 0.2
done
[ -n "$arrived" ] || { echo "demo: the violation did not reach the collector" >&2; demo_failed=1; }
fleet violations
fleet agents

say "where has the memo's content been? (trace across the fleet)"
fleet trace "$(sha256sum "$demo/watched/Documents/memo.txt" | cut -d' ' -f1)"

say "the inventory as JSON (one object per line), first file"
lw files --json | head -1

say "agent log"
cat "$demo/agent.log"
say "collector log"
cat "$demo/collector.log"
if [ -n "${demo_failed:-}" ]; then
	exit 1
fi
if [ -n "${LW_DEMO_KEEP:-}" ]; then
	trap - EXIT
	echo "agent (pid $agent) and collector (pid $collector) still running; configs in $demo"
fi
