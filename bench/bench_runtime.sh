#!/bin/bash
# Runtime benchmarks (issue 5). Prints one table; 'make bench' runs it.
# Usage: bash bench/bench_runtime.sh BUILD_DIR
#   env BENCH_TICKS (chain run, default 10000000), BENCH_STRATEGIES (default 1000)
set -u
B=${1:-build}
Q=${QMTL:-$B/bin/qmtl}
BR=$B/bench/bench_runtime
F=$B/fixtures
N=${BENCH_TICKS:-10000000}
S=${BENCH_STRATEGIES:-1000}
T=$(mktemp -d /tmp/qmtl-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
# the benchmark plugins are test fixtures: build them if 'make bench' did not
[ -e "$F/rt_bench_chain.so" ] && [ -e "$F/rt_bench_shared.so" ] ||
    make -s --no-print-directory "$F/rt_bench_chain.so" "$F/rt_bench_shared.so" >&2
for f in "$BR" "$F/rt_bench_chain.so" "$F/rt_bench_shared.so" "$Q"; do
    [ -e "$f" ] || { echo "missing $f (run make first)"; exit 1; }
done
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
now() { date +%s.%N; }
row() { printf '| %-52s | %-14s | %s\n' "$1" "$2" "$3"; }
jq_run() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["run"][sys.argv[2]])' "$@"; }

"$BR" builtins 3000000 > "$T/b" || exit 1
"$BR" latency 1000000 > "$T/l" || exit 1
"$BR" shared 20000 "$S" > "$T/s" || exit 1
"$BR" memory 10000 100 fanout > "$T/mf" || exit 1
"$BR" memory 10000 100 private > "$T/mp" || exit 1

# End to end through 'qmtl run --offline': the chain plugin on N synthetic 1 s ticks, then
# the same data routed to no stream (generation + replay loop only) to subtract it.
mkdir -p "$T/chain"
cp "$F/rt_bench_chain.so" "$T/chain/"
t0=$(now)
"$Q" run --offline --plugins "$T/chain" --json --data "BTC=gbm:count=$N,interval=1" \
    > "$T/c.json" 2> "$T/c.err" || { cat "$T/c.err"; exit 1; }
t1=$(now)
"$Q" run --offline --plugins "$T/chain" --json --data "NONE=gbm:count=$N,interval=1" \
    > "$T/n.json" 2> /dev/null
t2=$(now)
c_s=$(jq_run "$T/c.json" seconds)
n_s=$(jq_run "$T/n.json" seconds)
trades=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["strategies"][0]["trades"])' "$T/c.json")

# 1,000 strategies in one host vs 1,000 separate hosts (one measured, scaled): real
# processes, real plugin files (copies of one build with unique patched names).
mkdir -p "$T/one" "$T/many"
python3 - "$F/rt_bench_shared.so" "$T/many" "$S" <<'PY'
import sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
ph = b"rtbs_PLACEHOLDER"
assert data.count(ph) == 1
for i in range(n):
    name = ("rtbs_%011d" % i).encode()
    assert len(name) == len(ph)
    open("%s/s%05d.so" % (out, i), "wb").write(data.replace(ph, name))
PY
cp "$T/many/s00000.so" "$T/one/"
SN=20000
DATA="BTC=gbm:count=$SN,interval=1"
best1=999
for i in 1 2 3 4 5; do
    a=$(now); "$Q" run --offline --plugins "$T/one" --data "$DATA" > /dev/null 2>&1; b=$(now)
    best1=$(python3 -c "print(min($best1, $b - $a))")
done
bestn=999
for i in 1 2 3; do
    a=$(now); "$Q" run --offline --plugins "$T/many" --json --data "$DATA" > "$T/m.json" 2>/dev/null; b=$(now)
    bestn=$(python3 -c "print(min($bestn, $b - $a))")
done
m_comp=$(jq_run "$T/m.json" node_computations)
m_nodes=$(jq_run "$T/m.json" nodes)
m_shared=$(jq_run "$T/m.json" shared_nodes)

echo "| measure                                              | target         | result"
echo "|------------------------------------------------------|----------------|-------"
row "built-in node updates/s ($(val builtin_nodes "$T/b") built-ins, hot state)" ">= 10M/s" \
    "$(python3 -c "print('%.1fM/s' % ($(val node_updates_per_s "$T/b")/1e6))")"
row "chain sma(20)->crossover->signal->orders, qmtl run" ">= 3M ticks/s" \
    "$(python3 -c "n=$N; c=$c_s; z=$n_s; print('%.2fM ticks/s end to end incl. data generation (%.2f s); %.2fM ticks/s without it (generation %.2f s); wall %.2f s; %s trades' % (n/c/1e6, c, n/max(c-z,1e-9)/1e6, z, $t1-$t0, '$trades'))")"
row "tick to order intent, in process ($(val orders "$T/l") orders)" "p99 <= 5 us" \
    "p50 $(val order_p50_us "$T/l") us, p99 $(val order_p99_us "$T/l") us, max $(val order_max_us "$T/l") us"
row "$S strategies: sma(20) computations per tick" "1" \
    "$(val sma_computations_per_tick "$T/s") ($(val sma_computations "$T/s") for 20000 ticks; $(val custom_computations "$T/s") custom)"
row "$S strategies, in process: vs $S single hosts" "" \
    "$(val speedup_in_process "$T/s")x (shared replay $(val shared_replay_s "$T/s") s, one host $(val single_replay_s "$T/s") s)"
row "$S strategies, qmtl run processes, $SN ticks" ">= 50x" \
    "$(python3 -c "print('%.1fx: one host %.3f s x %d = %.1f s; shared host %.2f s (%s nodes, %s shared, %s computations)' % ($S*$best1/$bestn, $best1, $S, $S*$best1, $bestn, '$m_nodes', '$m_shared', '$m_comp'))")"
row "10,000 nodes period 100, shared rings (fan-out)" "< 64 MiB RSS" "$(val rss_peak_mib "$T/mf") MiB peak"
row "10,000 nodes period 100, private rings (worst case)" "< 64 MiB RSS" "$(val rss_peak_mib "$T/mp") MiB peak"
