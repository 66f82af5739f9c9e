#!/bin/bash
# The bus path (docs/scale-out.md) on loopback: starts nats-server (JetStream, its store
# in /dev/shm so the figures measure the path, not the disk), runs build/bench/bench_bus
# once, stops the server. Prints the latency from a publishing host's feed to a consuming
# host's downstream compute (p50 / p99 / max, one output per millisecond), and the
# throughput of one publishing host with two consuming hosts (each a process) and what
# each received (gaps, duplicates). Load average and the server's version come first.
# Usage: bash bench/bench_bus.sh BUILD_DIR   (normally through 'make bench')
# Env: BUS_BENCH_N (1000000) outputs for the throughput case.
set -u
B=${1:-build}
BENCH=$B/bench/bench_bus
[ -x "$BENCH" ] || { echo "bench_bus: $BENCH not built"; exit 1; }
NATS=$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null)
[ -n "$NATS" ] || { echo "bench_bus: nats-server is not installed; skipped"; exit 0; }
store=$(mktemp -d /dev/shm/qmtl-bench-bus.XXXXXX 2>/dev/null || mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$NATS" -a 127.0.0.1 -p "$port" -js -sd "$store" > "$store.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$store" "$store.log"' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $("$NATS" --version)"
"$BENCH" "nats://127.0.0.1:$port" "${BUS_BENCH_N:-1000000}"
