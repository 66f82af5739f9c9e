#!/bin/bash
# A host attached to a gateway with a live TCP input and its monitoring endpoint: the
# live bars run the strategy, /metrics shows the event stream up and the last seq_no, the
# gate opening on activation and orders sent and refused by reason; when the gateway goes
# away /metrics and /health show it (503 degraded) while the host keeps taking live data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
PLUG="$QMTL_BUILD/plugins/sma_crossover.so"
[ -f "$PLUG" ] || { echo "# skipped: $PLUG not built"; exit 77; }
command -v curl > /dev/null || { echo "# skipped: curl missing"; exit 77; }
HOST_PID=
FEED_PID=
cleanup() {
    [ -n "$FEED_PID" ] && kill -KILL "$FEED_PID" 2> /dev/null
    [ -n "$HOST_PID" ] && kill_tree "$HOST_PID" && wait "$HOST_PID" 2> /dev/null
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT
mkdir -p "$E2E_TMP/plugins"
cp "$PLUG" "$E2E_TMP/plugins/"
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
expect_code 201 "create world W (mode paper)" POST /worlds '{"id":"W","mode":"paper"}' -H "$OP_AUTH"
expect_code 200 "W decides sma_crossover" POST /worlds/W/decisions \
    '{"strategies":["sma_crossover"]}' -H "$OP_AUTH"
PORT=$(free_port)
MPORT=$(free_port)
cat > "$E2E_TMP/host.yml" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
  metrics_port: $MPORT
  data:
    - live: tcp:127.0.0.1:$PORT
test:
  test_mode: true
YAML
HLOG=$E2E_TMP/host.log
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" --json \
    > "$E2E_TMP/host.json" 2> "$HLOG" &
HOST_PID=$!
check "host attached, listening, metrics served" wait_for 20 grep -q "event stream connected" "$HLOG"
check "the live input listens" grep -q "live input tcp:127.0.0.1:$PORT: listening" "$HLOG"
# a steady live feed: 20000 bars at 500 lines/s (40 s at most; stopped at the end)
python3 - "$E2E_TMP/btc.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,close\n")
    for i in range(20000):
        f.write(f"{1704067200 + 60 * i},{100 + (i * 7919 % 29) - 14}\n")
PY
"$QMTL" feed --to "tcp:127.0.0.1:$PORT" --tags BTC --rate 500 "$E2E_TMP/btc.csv" 2> /dev/null &
FEED_PID=$!
metrics() { curl -sf "http://127.0.0.1:$MPORT/metrics"; }
metric() { metrics | awk -v k="$1" '$1 == k {print $2}'; }
gt() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "${v%.*}" -gt "$2" ]; }
check "the stream is up in /metrics" wait_for 10 test "$(metric qmtl_host_stream_connected)" = 1
check "live bars arrive" wait_for 10 gt "qmtl_host_events_in_total{source=\"tcp:127.0.0.1:$PORT\"}" 100
check "inactive: orders refused, counted by reason" wait_for 15 \
    gt 'orders_rejected_total{strategy="sma_crossover",reason="activation_unknown"}' 0
check "inactive: the gate is shut" test "$(metric 'qmtl_host_gate_open{strategy="sma_crossover",side="buy"}')" = 0
check "/health ok while attached" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/health")" = 200
expect_code 200 "PUT activation long active" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"long","active":true}' -H "$OP_AUTH"
expect_code 200 "PUT activation short active" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"short","active":true}' -H "$OP_AUTH"
check "the gate opens on activation" wait_for 10 \
    test "$(metric 'qmtl_host_gate_open{strategy="sma_crossover",side="sell"}')" = 1
check "the stream's last seq_no moved" wait_for 10 gt qmtl_host_stream_last_seq_no 0
check "active: orders are sent" wait_for 15 gt 'orders_published_total{strategy="sma_crossover"}' 0
gw_kill
check "gateway gone: the stream is down in /metrics" wait_for 10 test "$(metric qmtl_host_stream_connected)" = 0
check "gateway gone: /health is 503 degraded" \
    test "$(curl -s -o "$E2E_TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$MPORT/health")" = 503
check "/health says why" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "degraded" and h["stream_connected"] is False, h
' "$E2E_TMP/h.json"
n1=$(metric qmtl_host_events_total)
check "live data keeps flowing without the gateway" wait_for 10 gt qmtl_host_events_total "$n1"
kill -TERM $FEED_PID 2> /dev/null; wait $FEED_PID 2> /dev/null; FEED_PID=
kill -TERM $HOST_PID
wait $HOST_PID; rc=$?
HOST_PID=
check "SIGTERM ends the attached live host (exit 0)" test $rc -eq 0
check "the summary counts the live bars" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["live_events"] > 100 and d["run"]["bad_lines"] == 0, d["run"]
' "$E2E_TMP/host.json"
finish
