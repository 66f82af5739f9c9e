#!/bin/bash
# Gateway HTTP throughput and latency: GET /status and GET /worlds/{id}/activation with wrk
# (100 connections, 2 client threads pinned to one core, the gateway pinned to another).
# Prints one row per route: the median of 3 runs of 5 s (req/s, p50, p99).
# Usage: bash bench/bench_gateway.sh BUILD_DIR     (normally through 'make bench')
set -u
B=${1:-build}
QMTL=${QMTL:-$(pwd)/$B/bin/qmtl}
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1
    fi
    command -v wrk >/dev/null || { echo "bench_gateway: wrk not installed (apt-get install wrk), skipped"; exit 0; }
fi
command -v curl >/dev/null || { echo "bench_gateway: curl missing, skipped"; exit 0; }
NCPU=$(nproc)
PIN_GW=""; PIN_WRK=""
if command -v taskset >/dev/null && [ "$NCPU" -ge 2 ]; then PIN_GW="taskset -c 0"; PIN_WRK="taskset -c 1"; fi
T=$(mktemp -d /tmp/qmtl-bench-gw.XXXXXX)
GW=
cleanup() { [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat > "$T/qmtl.yml" <<YML
gateway:
  host: 127.0.0.1
  port: 0
  store_path: $T/gw.db
  operator_token: bench-token
  dagmanager_url: ""
YML
QMTL_LOG_LEVEL=warn $PIN_GW "$QMTL" service gateway --config "$T/qmtl.yml" 2> "$T/log" &
GW=$!
URL=
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$T/log" | head -1); [ -n "$URL" ] && break; sleep 0.1
done
if [ -z "$URL" ]; then
    # the URL is logged at info level; fall back to asking the kernel
    PORT=$(ss -ltnp 2>/dev/null | grep "pid=$GW," | grep -o '127.0.0.1:[0-9]*' | head -1)
    URL=http://$PORT
fi
A="Authorization: Bearer bench-token"
curl -s -o /dev/null -H "$A" -d '{"id":"bench"}' "$URL/worlds"
curl -s -o /dev/null -X PUT -H "$A" -d '{"strategy_id":"s1","side":"long","active":true,"weight":0.5}' \
    "$URL/worlds/bench/activation"
to_ms() { # wrk latency "1.23ms" / "850.00us" / "1.02s" -> ms
    case $1 in *us) echo "${1%us}" | awk '{printf "%.2f", $1/1000}';; *ms) echo "${1%ms}";;
        *s) echo "${1%s}" | awk '{printf "%.2f", $1*1000}';; *) echo "$1";; esac
}
# gateway CPU time (user+system, clock ticks) from /proc: CPU cost per request is robust to
# other load on the machine, unlike req/s and tail latency.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$GW/stat"; }
HZ=$(getconf CLK_TCK)
printf '%-30s %10s %8s %8s %12s %14s\n' "route (100 conns, median of 3)" "req/s" "p50 ms" "p99 ms" \
    "CPU us/req" "1-core req/s"
for path in /status "/worlds/bench/activation?strategy_id=s1&side=long"; do
    rows=()
    for _ in 1 2 3; do
        t0=$(cpu_ticks)
        out=$($PIN_WRK wrk -t2 -c100 -d5s --latency -H "$A" "$URL$path" 2>&1)
        t1=$(cpu_ticks)
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        n=$(echo "$out" | awk '/requests in/ {print $1}')
        p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
        p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
        errs=$(echo "$out" | grep -c "Non-2xx\|Socket errors")
        us=$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$HZ" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
        rows+=("$rps $p50 $p99 $errs $us")
    done
    med=$(printf '%s\n' "${rows[@]}" | sort -n | sed -n 2p)
    set -- $med
    label=${path%%\?*}
    [ "$label" != /status ] && label="/worlds/{id}/activation"
    printf '%-30s %10.0f %8s %8s %12s %14.0f%s\n' "GET $label" "$1" "$2" "$3" "$5" \
        "$(awk -v u="$5" 'BEGIN {print 1e6 / u}')" "$([ "$4" != 0 ] && echo '  (errors!)')"
done
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "gateway RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$GW/status)"
