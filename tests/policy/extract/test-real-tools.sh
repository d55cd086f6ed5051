#!/bin/sh
# test-real-tools.sh — documents made by real tools at test time (pandoc,
# LibreOffice), extracted with extract-probe -d: the banner must come out of
# each format, in a BODY segment, and classify as the marking. TAP output;
# exit 77 when neither tool is installed.
#   test-real-tools.sh EXTRACT_PROBE
set -u
probe=$1
have_pandoc=0; have_lo=0
command -v pandoc >/dev/null 2>&1 && have_pandoc=1
command -v soffice >/dev/null 2>&1 && have_lo=1
if [ $have_pandoc = 0 ] && [ $have_lo = 0 ]; then
	echo "1..0 # SKIP neither pandoc nor LibreOffice installed"
	exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/lw-extract-XXXXXX")
trap 'rm -rf "$dir"' EXIT
n=0; failed=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
skip() { n=$((n+1)); echo "ok $n - $1 # SKIP $2"; }

cat > "$dir/src.md" <<'MD'
NATO SECRET

# Logistics review

The working group reviewed the **fuel** plan and the *rotation* schedule
for the second quarter. Café, ação and naïve survive the round trip.

| item | count |
|------|-------|
| trucks | 12 |

NATO SECRET
MD

# check FILE FORMAT: extraction gives a body with the banner and the prose,
# and classification NATO SECRET.
check() {
	f=$1; what=$2
	out=$("$probe" -d "$f" 2>"$dir/dump.txt")
	grep -q '^-- body' "$dir/dump.txt"; ok $? "$what: body segment"
	grep -q 'fuel' "$dir/dump.txt"; ok $? "$what: prose extracted"
	# (words, not the phrase: PDF lines may wrap inside it)
	grep -q 'Café' "$dir/dump.txt" && grep -q 'ação' "$dir/dump.txt" &&
		grep -q 'naïve' "$dir/dump.txt"; ok $? "$what: accents intact"
	echo "$out" | grep -q '"scheme": "NATO", "level": "SECRET"'; ok $? "$what: NATO SECRET"
	echo "$out" | grep -q '"error": null'; ok $? "$what: no error"
}

if [ $have_pandoc = 1 ]; then
	for fmt in docx odt html rtf; do
		if pandoc -s "$dir/src.md" -o "$dir/p.$fmt" 2>/dev/null; then
			check "$dir/p.$fmt" "pandoc $fmt"
		else
			skip "pandoc $fmt" "pandoc failed"
		fi
	done
	# pptx: one BODY per slide
	if pandoc "$dir/src.md" -o "$dir/p.pptx" 2>/dev/null; then
		"$probe" -d "$dir/p.pptx" 2>"$dir/dump.txt" >/dev/null
		grep -q 'fuel' "$dir/dump.txt"; ok $? "pandoc pptx: slide text"
		[ "$(grep -c '^-- body' "$dir/dump.txt")" -ge 2 ]; ok $? "pandoc pptx: one body per slide"
	else
		skip "pandoc pptx" "pandoc failed"
	fi
	# An e-mail carrying the docx as a base64 attachment, zipped and tarred.
	if [ -f "$dir/p.docx" ]; then
		{
			printf 'From: a@example.org\nTo: b@example.org\nSubject: report\n'
			printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XX"\n\n'
			printf -- '--XX\nContent-Type: text/plain\n\nSee attached.\n--XX\n'
			printf 'Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n'
			printf 'Content-Disposition: attachment; filename="p.docx"\n\n'
			base64 "$dir/p.docx"
			printf -- '--XX--\n'
		} > "$dir/m.eml"
		out=$("$probe" "$dir/m.eml")
		echo "$out" | grep -q '"level": "SECRET"'; ok $? "eml with pandoc docx attachment: NATO SECRET"
		(cd "$dir" && tar czf m.tar.gz m.eml p.odt 2>/dev/null)
		out=$("$probe" "$dir/m.tar.gz")
		echo "$out" | grep -q '"type": "tar.gz".*"level": "SECRET"'; ok $? "tar.gz of eml+odt: NATO SECRET"
	fi
else
	skip "pandoc formats" "pandoc not installed"
fi

if [ $have_lo = 1 ] && [ -f "$dir/p.odt" ]; then
	# LibreOffice writes PDF (Flate streams, subset fonts with ToUnicode)
	# and Word's docx from pandoc's odt.
	if (cd "$dir" && HOME="$dir" timeout 180 soffice --headless --norestore \
		--convert-to pdf --outdir "$dir/lo" p.odt >/dev/null 2>&1) && [ -f "$dir/lo/p.pdf" ]; then
		check "$dir/lo/p.pdf" "libreoffice pdf"
	else
		skip "libreoffice pdf" "conversion failed"
	fi
	if (cd "$dir" && HOME="$dir" timeout 180 soffice --headless --norestore \
		--convert-to docx --outdir "$dir/lo" p.odt >/dev/null 2>&1) && [ -f "$dir/lo/p.docx" ]; then
		check "$dir/lo/p.docx" "libreoffice docx"
	else
		skip "libreoffice docx" "conversion failed"
	fi
else
	skip "libreoffice" "LibreOffice or pandoc not installed"
fi

echo "1..$n"
[ $failed = 0 ]
