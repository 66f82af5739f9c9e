#!/bin/bash
# The bus path (docs/scale-out.md) on loopback: starts nats-server (JetStream, its store
# in /dev/shm so the figures measure the path, not the disk), runs build/bench/bench_bus
# once, stops the server. Prints latency from publish to the consumer's event loop and
# publish / consume throughput with two durable consumers.
# Usage: bash bench/bench_bus.sh BUILD_DIR   (normally through 'make bench')
# Env: BUS_BENCH_N (200000) outputs for the throughput case.
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
"$BENCH" "nats://127.0.0.1:$port" "${BUS_BENCH_N:-200000}"
