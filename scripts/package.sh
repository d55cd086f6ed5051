#!/bin/sh
# Builds the Debian packages leakwatch-agent and leakwatch-collector with
# dpkg-buildpackage -b -us -uc and checks them with lintian (any error, or
# a warning that debian/*.lintian-overrides does not explain, fails).
#   scripts/package.sh [OUTDIR]     default OUTDIR: build-deb
# Installs what is missing first (scripts/deps.sh). The build runs in a
# copy of the tree, because dpkg-buildpackage writes beside the source
# directory and leaves debian/ build files inside it.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build-deb}
sh "$here/scripts/deps.sh"
version=$(sed -n '1s/^leakwatch (\([^)]*\)).*/\1/p' "$here/debian/changelog")
work=$(mktemp -d /tmp/lw-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/leakwatch-$version"
mkdir -p "$src" "$out"
# the source, without build directories, VCS data or earlier packages
tar -C "$here" --exclude='./build*' --exclude=./.git --exclude='./*.log' -cf - . |
	tar -C "$src" -xf -
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/dpkg-buildpackage.log" 2>&1 || {
	tail -50 "$out/dpkg-buildpackage.log"
	echo "package: dpkg-buildpackage failed (all of it: $out/dpkg-buildpackage.log)" >&2
	exit 1
}
rm -f "$out"/*.deb
cp "$work"/*.deb "$out/"
changes=$(ls "$work"/*.changes)
# --fail-on warning: an unexplained warning is a failure too; the
# explained ones are overrides (debian/*.lintian-overrides). The log shows
# them (O:, with the reason); the status comes from a run without
# --show-overrides, which would count them as failures.
status=0
lintian --fail-on error,warning "$changes" >/dev/null 2>&1 || status=$?
lintian --show-overrides "$changes" >"$out/lintian.log" 2>&1 || true
cat "$out/lintian.log"
ls "$out"/*.deb
exit $status
