#!/bin/bash
# Quick start: installs what is missing, builds, and runs leakwatchd on a
# demo directory, then shows what it sees as files arrive, move and leave,
# and the violation a classified copy in Downloads raises.
#   scripts/demo.sh            run the demo and stop
#   LW_DEMO_KEEP=1 scripts/demo.sh   leave the agent running afterwards
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

demo=$(mktemp -d /tmp/leakwatch-demo.XXXXXX)
mkdir -p "$demo/watched/Documents" "$demo/state"
cat > "$demo/agent.json" <<JSON
{
  "watch": ["$demo/watched"],
  "state_dir": "$demo/state",
  "exclude": ["*.swp", "*~"],
  "log_level": "info",
  "policy": "policy.json"
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
lw() { build/agent/leakwatch -c "$demo/agent.json" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

echo "quarterly budget review, nothing sensitive" > "$demo/watched/Documents/budget.txt"
build/agent/leakwatchd -c "$demo/agent.json" 2> "$demo/agent.log" &
agent=$!
trap 'kill $agent 2>/dev/null; wait $agent 2>/dev/null; [ -n "${LW_DEMO_KEEP:-}" ] || rm -rf "$demo"' EXIT
until lw status --json 2>/dev/null | grep -q '"full_scans_done":[1-9]'; do sleep 0.2; done

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

say "the inventory as JSON (one object per line), first file"
lw files --json | head -1

say "agent log"
cat "$demo/agent.log"
if [ -n "${LW_DEMO_KEEP:-}" ]; then
	trap - EXIT
	echo "agent still running (pid $agent); config $demo/agent.json"
fi
