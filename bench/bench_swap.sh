#!/bin/bash
# Mutable DAG benchmark (issue 12): time to replace, add and remove a 50-node strategy on
# a warm DAG of a few hundred nodes, in process. Prints one table; 'make bench' runs it.
# Usage: bash bench/bench_swap.sh BUILD_DIR     env BENCH_SWAP_STRATEGIES (8), BENCH_SWAP_ROUNDS (50)
set -u
B=${1:-build}
BS=$B/bench/bench_swap
S=${BENCH_SWAP_STRATEGIES:-8}
N=${BENCH_SWAP_ROUNDS:-50}
[ -e "$BS" ] || { echo "missing $BS (run make bench)"; exit 1; }
T=$(mktemp /tmp/qmtl-bench-swap.XXXXXX)
trap 'rm -f "$T"' EXIT
"$BS" "$S" "$N" > "$T" || exit 1
val() { awk -v k="$1" '$1 == k { print $2 }' "$T"; }
row() { printf '| %-58s | %-8s | %s\n' "$1" "$2" "$3"; }
echo "| measure ($(val nodes) warm nodes, $(val rounds) rounds)                       | target   | result"
echo "|------------------------------------------------------------|----------|-------"
row "replace a 50-node strategy by itself ($(val replace_kept) kept, $(val replace_added) added)" "< 5 ms" \
    "p50 $(val replace_p50_ms) ms, max $(val replace_max_ms) ms"
row "add a new 50-node strategy ($(val add_added) nodes added)" "< 5 ms" \
    "p50 $(val add_p50_ms) ms, max $(val add_max_ms) ms"
row "remove it ($(val remove_removed) nodes removed)" "< 5 ms" \
    "p50 $(val remove_p50_ms) ms, max $(val remove_max_ms) ms"
