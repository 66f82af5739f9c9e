#!/bin/bash
# Live socket input benchmark (issue 13): line-delimited JSON bars over loopback TCP into
# one 'qmtl run --data tcp:...' host. The lines are made once (qmtl feed --to -), then
# each run starts a host, writes the whole file into its socket with cat, and waits until
# the host's /metrics counts every line; rate = lines / (last line in - first byte out).
# The host's own CPU time is shown too (lines per CPU-second): on a shared machine the wall
# rate is what the host got, the CPU rate what it can take. Two cases: the bars feed sma_crossover (its whole DAG runs per line), and the same lines
# under a tag no stream reads (parse, check, route only). Prints one table of medians.
# Usage: bash bench/bench_live.sh BUILD_DIR
#        env BENCH_LIVE_LINES (default 1000000), BENCH_LIVE_RUNS (default 5)
set -u
B=${1:-build}
Q=${QMTL:-$B/bin/qmtl}
N=${BENCH_LIVE_LINES:-1000000}
RUNS=${BENCH_LIVE_RUNS:-5}
T=$(mktemp -d /tmp/qmtl-bench.XXXXXX)
HOST=
trap '[ -n "$HOST" ] && kill -TERM $HOST 2> /dev/null; rm -rf "$T"' EXIT
[ -e "$Q" ] && [ -e "$B/plugins/sma_crossover.so" ] || { echo "run make first"; exit 1; }
command -v curl > /dev/null || { echo "curl is needed"; exit 1; }
mkdir -p "$T/p"
cp "$B/plugins/sma_crossover.so" "$T/p/"
. "$(dirname "$0")/lib.sh"
bench_csv "$T/BTC.csv" "$N"
"$Q" feed --to - --tags BTC "$T/BTC.csv" > "$T/btc.jsonl" 2> /dev/null
sed 's/"tags":\["BTC"\]/"tags":["NONE"]/' "$T/btc.jsonl" > "$T/none.jsonl"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one run: lines per second for file $1, or nothing on failure
one() {
    local port mport t0 t1 end
    port=$(free_port); mport=$(free_port)
    "$Q" run --offline --plugins "$T/p" --data "tcp:127.0.0.1:$port" --metrics-port "$mport" \
        > /dev/null 2> "$T/err" &
    HOST=$!
    end=$(( $(date +%s) + 20 ))
    until grep -q "metrics on" "$T/err"; do [ "$(date +%s)" -lt "$end" ] || return; sleep 0.02; done
    t0=$(now)
    cat "$1" > "/dev/tcp/127.0.0.1/$port"
    end=$(( $(date +%s) + 120 ))
    until [ "$(curl -sf "http://127.0.0.1:$mport/metrics" | awk '$1 == "qmtl_host_events_total" {print $2}')" = "$N" ]; do
        [ "$(date +%s)" -lt "$end" ] || { kill -TERM $HOST; wait $HOST; HOST=; return; }
        sleep 0.01
    done
    t1=$(now)
    # the host's own CPU time (user + system, clock ticks): what the lines cost it,
    # whatever else the machine runs
    local ticks hz
    ticks=$(awk '{ print $14 + $15 }' "/proc/$HOST/stat"); hz=$(getconf CLK_TCK)
    kill -TERM $HOST; wait $HOST; HOST=
    echo "$N / ($t1 - $t0)" | bc >> "$2"
    echo "$N * $hz / $ticks" | bc >> "$3"
}
for f in btc none; do
    : > "$T/r_$f"; : > "$T/c_$f"
    for i in $(seq "$RUNS"); do one "$T/$f.jsonl" "$T/r_$f" "$T/c_$f"; done
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-50s %14s %18s %5s\n' "case ($N lines, ~110 bytes, loopback TCP)" "lines/s (wall)" "lines/CPU-second" "runs"
for f in btc none; do
    [ $f = btc ] && d="bars into sma_crossover (its DAG runs per line)" || d="bars under a tag no stream reads (parse + route)"
    printf '%-50s %14s %18s %5s\n' "$d" "$(median < "$T/r_$f")" "$(median < "$T/c_$f")" "$(wc -l < "$T/r_$f")"
done
for f in btc none; do
    printf 'runs (%s): wall %s; per CPU-second %s\n' $f "$(tr '\n' ' ' < "$T/r_$f")" "$(tr '\n' ' ' < "$T/c_$f")"
done
