#!/bin/sh
# Make sure the Debian packages qmtl builds and tests with are installed.
# As root, installs what is missing with apt-get; otherwise prints the exact
# command to run and exits 1. Prints nothing when everything is present.
#
# Usage: scripts/ensure-deps.sh [--quiet]
set -u

PKGS="build-essential pkg-config libevent-dev libyaml-dev libjansson-dev check \
libsubunit-dev libsqlite3-dev libssl-dev libwslay-dev librust-blake3-dev \
python3 python3-websockets valgrind clang libclang-rt-14-dev openssl chromium curl \
nats-server libnats-dev"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "qmtl: missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "qmtl: run as root:  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "qmtl: installing them with apt-get (as root)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q $missing >&2; then
    apt-get update -q >&2 && apt-get install -y -q $missing >&2 || {
        echo "qmtl: apt-get failed; run: apt-get update && apt-get install -y$missing" >&2
        exit 1
    }
fi
exit 0
