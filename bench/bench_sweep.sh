#!/bin/bash
# Sweep benchmark (issue 14): one 'qmtl run --sweep' of 100 parameter sets of
# sma_crossover (fast 2..11 x slow 20..65) against 100 separate 'qmtl run' of the same
# sets on the same CSV, with the breakdown of the sweep's cost. Prints one table.
# Usage: bash bench/bench_sweep.sh BUILD_DIR     env BENCH_SWEEP_BARS (default 20000)
set -u
B=${1:-build}
Q=${QMTL:-$B/bin/qmtl}
N=${BENCH_SWEEP_BARS:-20000}
T=$(mktemp -d /tmp/qmtl-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ -e "$Q" ] && [ -e "$B/plugins/sma_crossover.so" ] || { echo "run make first"; exit 1; }
mkdir -p "$T/p"
cp "$B/plugins/sma_crossover.so" "$T/p/"
. "$(dirname "$0")/lib.sh"
bench_csv "$T/BTC.csv" "$N"
FAST=2,3,4,5,6,7,8,9,10,11
SLOW=20,25,30,35,40,45,50,55,60,65
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# the text summary (no --json: the sweep's document would carry 100 equity curves)
run() { "$Q" run --offline --plugins "$T/p" "$@" 2> /dev/null; }
# run: E events from S source(s) in X s (R events/s); N nodes, H shared; C node computations
field() { awk -v k="$2" '$1 == "run:" { f["events"] = $2; f["seconds"] = $8; f["nodes"] = $12;
          f["shared_nodes"] = $14; f["node_computations"] = $16 } END { print f[k] }' "$1"; }

# one data pass: the same file bound to a tag no stream reads
for i in 1 2 3; do
    t0=$(now); run --data "NONE=$T/BTC.csv" > "$T/none.txt"; t1=$(now)
    echo "$t1 - $t0" | bc
done | median > "$T/t_data"
for i in 1 2 3; do
    t0=$(now)
    run --data "BTC=$T/BTC.csv" --sweep sma_crossover.fast=$FAST --sweep sma_crossover.slow=$SLOW \
        > "$T/sweep.txt"
    t1=$(now)
    echo "$t1 - $t0" | bc
done | median > "$T/t_sweep"
comp_sep=0
: > "$T/t_runs"
for f in ${FAST//,/ }; do
    for s in ${SLOW//,/ }; do
        a=$(now)
        run --data "BTC=$T/BTC.csv" --param sma_crossover.fast=$f --param sma_crossover.slow=$s \
            > "$T/one.txt"
        echo "$(now) - $a" | bc >> "$T/t_runs"
        comp_sep=$((comp_sep + $(field "$T/one.txt" node_computations)))
    done
done
t_sep=$(paste -sd+ "$T/t_runs" | bc)
t_one=$(median < "$T/t_runs")
t_sweep=$(cat "$T/t_sweep")
t_data=$(cat "$T/t_data")
sets=$(grep -c '^sma_crossover\[' "$T/sweep.txt")
row() { printf '| %-58s | %14s |\n' "$1" "$2"; }
echo "bars: $N (CSV), sets: $sets"
row "measure" "value"
row "100 separate runs, sum of their wall times (s)" "$t_sep"
row "one separate run, median (s)" "$t_one"
row "sweep of the 100 sets, median of 3 (s)" "$t_sweep"
row "ratio: 100 separate runs / sweep" "$(echo "scale=1; $t_sep / $t_sweep" | bc)"
row "one data pass, no stream fed, median of 3 (s)" "$t_data"
row "sweep replay (DAG + brokers), run.seconds" "$(field "$T/sweep.txt" seconds)"
row "sweep: nodes / shared nodes" "$(field "$T/sweep.txt" nodes) / $(field "$T/sweep.txt" shared_nodes)"
row "node computations: sweep" "$(field "$T/sweep.txt" node_computations)"
row "node computations: 100 separate runs" "$comp_sep"
