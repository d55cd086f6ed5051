#!/bin/sh
# run.sh BUILD_DIR [SECONDS] [CORPUS_DEV] — runs every fuzz-extract-* target
# built in BUILD_DIR (see meson.build here) for SECONDS each (default 60),
# two at a time, seeded from the development corpus (default
# ../shared/corpus/dev next to the repository): raw files by extension, and
# for the zip-part targets the matching XML part unzipped from the corpus
# documents. Findings land in $FUZZ_OUT (default /tmp/lw-fuzz)/artifacts-NAME.
# Exit status 1 when any target found something.
# FUZZ_SEED fixes libFuzzer's random seed (default: a new one each run);
# FUZZ_RUNS caps the inputs tried per target (default: no cap).
# scripts/test.sh fixes it so that CI replays a prefix of the mutations a
# longer local run with the same seed has already been through: a bug found
# by fuzzing then fails a campaign, not an unrelated CI run.
set -u
build=$1
secs=${2:-60}
dev=${3:-$(dirname "$0")/../../../shared/corpus/dev}
out=${FUZZ_OUT:-/tmp/lw-fuzz}
mkdir -p "$out"
# undefined behaviour must stop the target (it only prints otherwise)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

seed_ext() { # NAME EXT...
	d="$out/seeds-$1"; shift
	mkdir -p "$d"
	for ext in "$@"; do
		find "$dev/files" -type f -name "*.$ext" -size -2M -exec cp {} "$d/" \; 2>/dev/null
	done
}
seed_part() { # NAME EXT PART
	d="$out/seeds-$1"
	mkdir -p "$d"
	i=0
	for f in $(find "$dev/files" -type f -name "*.$2" | head -40); do
		i=$((i+1))
		unzip -p "$f" "$3" > "$d/$i.xml" 2>/dev/null || rm -f "$d/$i.xml"
	done
}
seed_ext any txt html eml rtf pdf zip docx odt xlsx gz
seed_ext text txt md csv
seed_ext html html
seed_ext eml eml
seed_ext rtf rtf
seed_ext pdf pdf
seed_ext zip zip gz
seed_part docx docx word/document.xml
seed_part docx-props docx docProps/custom.xml
seed_part xlsx xlsx xl/worksheets/sheet1.xml
seed_part pptx pptx ppt/slides/slide1.xml
seed_part odt odt content.xml
seed_part odt-styles odt styles.xml
seed_common() { # agent.json variants and corpus samples
	d="$out/seeds-common"
	mkdir -p "$d"
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	cp "$repo/packaging/agent.json" "$d/" 2>/dev/null
	printf '{"watch": ["/tmp"], "exclude": ["*.tmp", "a/**/b"], "classify": {"max_depth": 3}}' > "$d/c1.json"
	printf '*.tmp\0/home/u/a.tmp' > "$d/glob1"
	# helper protocol: a READY and a RESULT message ("LWHL" magic, LE)
	printf 'LHWL\001\000\000\000\002\000\000\000{}LHWL\003\000\000\000\015\000\000\000{"error":"x"}' > "$d/ipc1"
	find "$dev/files" -type f -size -64k | head -30 | while read -r f; do cp "$f" "$d/"; done
}
seed_common
seed_collector() { # event batches and collector.json
	d="$out/seeds-collector"
	mkdir -p "$d"
	z=0000000000000000000000000000000000000000000000000000000000000000
	printf '{"events": [{"seq": 1, "uuid": "0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "time": "2026-11-23T05:10:34.123Z", "kind": "violation", "prev": "%s", "hash": "%s", "body": "{\\"rule\\": \\"r\\", \\"severity\\": \\"high\\", \\"file\\": {\\"path\\": \\"/a/\\\\udcff\\"}}"}]}' "$z" "$z" > "$d/batch1"
	printf '{"events": [{"seq": 2, "uuid": "0b8e6f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5c", "time": "2026-11-23T05:10:34Z", "kind": "sighting", "prev": "%s", "hash": "%s", "body": "{\\"sha256\\": \\"%s\\", \\"matches\\": [{\\"id\\": \\"reg-1\\"}]}"}]}' "$z" "$z" "$z" > "$d/batch2"
	printf '{"listen": "127.0.0.1:8443", "tls": {"ca": "/etc/hostname", "cert": "/etc/hostname", "key": "/etc/hostname"}, "database": "/tmp/c.db", "admins": ["a"], "limits": {"max_events": 5}}' > "$d/config1"
	printf '2026-11-23T06:10:34.5+01:00' > "$d/since1"
}
seed_collector
# Inputs that once broke a target are replayed first by every target that
# takes their format (libFuzzer runs its seeds before mutating).
regressions=$(cd "$(dirname "$0")" && pwd)/regressions
for f in "$regressions"/*; do
	[ -f "$f" ] || continue
	ext=${f##*.}
	cp "$f" "$out/seeds-any/"
	[ -d "$out/seeds-$ext" ] && cp "$f" "$out/seeds-$ext/"
done

status=0
run() {
	name=$1
	mkdir -p "$out/work-$name" "$out/artifacts-$name"
	bin="$build/tests/fuzz/fuzz-extract-$name"
	[ "$name" = common ] && bin="$build/tests/fuzz/fuzz-common"
	[ "$name" = collector ] && bin="$build/tests/fuzz/fuzz-collector"
	"$bin" -max_total_time="$secs" -timeout=10 -seed="${FUZZ_SEED:-0}" \
		-runs="${FUZZ_RUNS:--1}" \
		-rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts-$name/" \
		"$out/work-$name" "$out/seeds-$name" > "$out/log-$name.txt" 2>&1
	rc=$?
	execs=$(grep -a 'stat::number_of_executed_units' "$out/log-$name.txt" | awk '{print $2}')
	cov=$(grep -a -o 'cov: [0-9]*' "$out/log-$name.txt" | tail -1)
	if [ $rc = 0 ]; then
		echo "fuzz-$name: ok, ${execs:-?} runs, $cov"
	else
		echo "fuzz-$name: FOUND (exit $rc), see $out/log-$name.txt"
	fi
	return $rc
}
set -- any text html eml rtf pdf zip docx docx-props xlsx pptx odt odt-styles common collector
while [ $# -gt 0 ]; do
	run "$1" & p1=$!
	p2=
	if [ $# -gt 1 ]; then run "$2" & p2=$!; shift; fi
	shift
	wait $p1 || status=1
	[ -n "$p2" ] && { wait $p2 || status=1; }
done
exit $status
