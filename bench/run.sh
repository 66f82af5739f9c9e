#!/bin/bash
# Run every benchmark: bench/bench_*.sh scripts, each printing its own table.
# Usage: bash bench/run.sh BUILD_DIR      (normally through 'make bench')
set -u
B=${1:-build}
export QMTL_BUILD=$B QMTL=$(cd "$(dirname "$B/bin/qmtl")" && pwd)/qmtl
echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date:    $(date -u +%Y-%m-%d)"
rc=0
for s in bench/bench_*.sh; do
    [ -e "$s" ] || continue
    echo; echo "== $s"
    bash "$s" "$B" || rc=1
done
exit $rc
