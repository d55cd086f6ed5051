#!/bin/sh
# Installs the Debian packages in packaging/build-deps.txt that are missing.
# Needs root (or sudo) only when something is missing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
want=$(grep -v '^[[:space:]]*#' "$here/packaging/build-deps.txt" | awk 'NF {print $1}')
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
