#!/bin/bash
# Event-stream fan-out: a real gateway, subscribers and the PUT from a second process
# (build/bench/bench_ws) on loopback. Prints the gateway's RSS with 10,000 idle subscribers
# and, per round, how long one activation change takes to reach 50 and 10,000 of them.
# Usage: bash bench/bench_ws.sh BUILD_DIR   (normally through 'make bench')
# Env: WS_BENCH_CLIENTS (10000), WS_BENCH_ROUNDS (5), WS_BENCH_SMALL_ROUNDS (20),
#      WS_BENCH_LOG_LEVEL=debug also prints the gateway's own fan-out time per event,
#      WS_BENCH_BUSY_POLL=0 lets the subscribers sleep in epoll_wait between deliveries.
set -u
B=${1:-build}
QMTL=${QMTL:-$(cd "$B/bin" && pwd)/qmtl}
BENCH=$B/bench/bench_ws
N=${WS_BENCH_CLIENTS:-10000}
R=${WS_BENCH_ROUNDS:-5}
R_SMALL=${WS_BENCH_SMALL_ROUNDS:-20}
BUSY=
[ "${WS_BENCH_BUSY_POLL:-1}" = 0 ] && BUSY=--no-busy-poll
[ -x "$BENCH" ] || { echo "bench_ws: $BENCH not built"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

tmp=$(mktemp -d)
# The store lives in memory (tmpfs) so the numbers measure the event path, not the disk's
# fsync latency (the PUT commits with synchronous=FULL before it publishes).
shm=$(mktemp -d /dev/shm/qmtl-bench-ws.XXXXXX 2>/dev/null || mktemp -d)
gw_pid=
cleanup() {
    [ -n "${WS_BENCH_LOG_LEVEL:-}" ] && grep "handed to" "$tmp/gateway.log" | tail -8
    [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
    rm -rf "$tmp" "$shm"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/qmtl.yml" <<YAML
gateway:
  host: 127.0.0.1
  port: $port
  store_path: $shm/gateway.db
  dagmanager_url: ""
  operator_token: bench-operator
  submit_token: bench-submitter
  event_secret: bench-secret
YAML
QMTL_LOG_LEVEL=${WS_BENCH_LOG_LEVEL:-warn} "$QMTL" service gateway --config "$tmp/qmtl.yml" > "$tmp/gateway.log" 2>&1 &
gw_pid=$!

api() { # METHOD PATH [BODY]; $BEARER (default the operator token)
    python3 - "$port" "$@" <<'PY'
import json, os, sys, urllib.request
port, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=body, method=method,
    headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ.get("BEARER", "bench-operator")})
print(urllib.request.urlopen(req, timeout=5).read().decode())
PY
}
for _ in $(seq 1 100); do api GET /health >/dev/null 2>&1 && break; sleep 0.1; done
api POST /worlds '{"id":"bench"}' > /dev/null || { cat "$tmp/gateway.log"; exit 1; }
token=$(BEARER=bench-submitter api POST /events/subscribe '{"world_id":"bench","strategy_id":"bench","topics":["activation"]}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

echo "gateway pid $gw_pid, RSS at start $(awk '/VmRSS/{printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)"
echo
echo "-- 50 subscribers, $R_SMALL activation changes"
"$BENCH" --port "$port" --token "$token" --operator bench-operator --world bench \
    --clients 50 --rounds "$R_SMALL" --pid "$gw_pid" $BUSY || exit 1
echo
echo "-- $N subscribers, $R activation changes"
"$BENCH" --port "$port" --token "$token" --operator bench-operator --world bench \
    --clients "$N" --rounds "$R" --pid "$gw_pid" $BUSY || exit 1
echo
echo "-- floor: $N plain send() calls to loopback sockets read by another process (no gateway)"
"$BENCH" --floor "$N" || exit 1
