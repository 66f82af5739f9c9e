#!/bin/bash
# Setup cost against node count (issue: "setup is linear in its node count, 100,000 nodes
# in under a second"). One strategy declares N custom nodes in a chain (the many_nodes
# fixture); we time a whole 'qmtl run --offline' over 10 bars: file checks, preflight in a
# child (setup once there), setup in the host, scheduling, replay. Median of 5 runs per N;
# the ratio 100k/10k shows linearity (10 = linear, 100 = quadratic).
# Usage: bash bench/bench_setup.sh BUILD_DIR
set -u
B=${1:-build}
Q=${QMTL:-$B/bin/qmtl}
[ -f "$B/fixtures/many_nodes.so" ] || make -s "$B/fixtures/many_nodes.so" >/dev/null
T=$(mktemp -d /tmp/qmtl-bench-setup.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -m 755 "$T/p" && cp "$B/fixtures/many_nodes.so" "$T/p/" && chmod 644 "$T/p/many_nodes.so"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_n() {
    local n=$1
    for _ in 1 2 3 4 5; do
        local s e
        s=$(date +%s.%N)
        "$Q" run --offline --plugins "$T/p" --param "many_nodes.count=$n" \
            --data 'BTC=gbm:count=10' --json > /dev/null 2> "$T/err" || { cat "$T/err"; exit 1; }
        e=$(date +%s.%N)
        awk -v a="$s" -v b="$e" 'BEGIN {printf "%.4f\n", b - a}'
    done | median
}
t10=$(run_n 10000)
t100=$(run_n 100000)
printf '%-28s %12s\n' "nodes in one strategy" "wall s (median of 5)"
printf '%-28s %12.3f\n' 10000 "$t10" 100000 "$t100"
printf '%-28s %12.1f\n' "ratio 100k / 10k" "$(awk -v a="$t10" -v b="$t100" 'BEGIN {print b / a}')"
