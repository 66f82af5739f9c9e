#!/bin/bash
# The operator's kill switch end to end: `qmtl world kill` on a live world whose host is
# trading through the paper connector. The host flattens its position (the connector fills
# the flattening order) and sends nothing after; the gateway takes only orders that reduce
# a position from then on; --release lets orders through the gateway again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"

attached_prereqs
HOST_PID= CONN_PID=
cleanup() {
    kill_wait "$HOST_PID" "$CONN_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

DATA='BTC=gbm:count=2000,seed=11' # 13 s at 150 bars/s: the kill lands while data flows
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
gw_live_world LV
QMTL_CONNECTOR_TOKEN=e2e-connector-token timeout 120 "$QMTL" connector paper \
    --gateway-url "$GW_URL" --world-id LV --data "$DATA" --poll 0.05 \
    > "$E2E_TMP/conn.out" 2> "$E2E_TMP/conn.log" &
CONN_PID=$!
host_config "$E2E_TMP/host.yml"
timeout 120 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id LV --gateway-url "$GW_URL" \
    --data "$DATA" --pace 150 --allow-live-replay --order-log "$E2E_TMP/host.orders" \
    > "$E2E_TMP/host.out" 2> "$E2E_TMP/host.log" &
HOST_PID=$!

fills() { curl -s -H "$OP_AUTH" "$GW_URL/fills?world_id=LV&limit=1000" > "$E2E_TMP/fills.json"; }
position() { # net position from the gateway's fills
    fills
    python3 -c "import json; print(sum((1 if f['side'] == 'BUY' else -1) * f['quantity'] for f in json.load(open('$E2E_TMP/fills.json'))['fills']))"
}
n_fills() { fills; grep -o '"seq"' "$E2E_TMP/fills.json" | wc -l; }
n_orders() {
    curl -s -H "$OP_AUTH" "$GW_URL/orders?world_id=LV&limit=1000" | grep -o '"client_order_id"' | wc -l
}
some_fills() { [ "$(n_fills)" -ge 2 ]; }
wait_for 60 some_fills && ok "the host trades through the paper connector" ||
    not_ok "no fills before the kill"

# usage errors first
expect_rc 2 "kill --reason with --release is a usage error" \
    "$QMTL" world kill LV --reason x --release --gateway-url "$GW_URL" --token e2e-operator-token
"$QMTL" world kill LV --reason drill --gateway-url "$GW_URL" --token e2e-operator-token \
    > "$E2E_TMP/kill.out" 2>&1; rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--allow-live" "$E2E_TMP/kill.out" &&
    ok "killing a live world needs --allow-live" ||
    { not_ok "kill without --allow-live (exit $rc)"; sed 's/^/#   /' "$E2E_TMP/kill.out"; }
"$QMTL" world kill LV --reason drill --allow-live --gateway-url "$GW_URL" \
    --token e2e-operator-token > "$E2E_TMP/kill.out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "world 'LV' killed at .* (drill)" "$E2E_TMP/kill.out" &&
    ok "qmtl world kill LV --allow-live" ||
    { not_ok "qmtl world kill (exit $rc)"; sed 's/^/#   /' "$E2E_TMP/kill.out"; }
at_kill=$(n_orders)

host_flat() { grep -q "kill switch: drill" "$E2E_TMP/host.log" && [ "$(position)" = "0.0" ]; }
wait_for 30 host_flat && ok "the host flattened: the gateway's position from fills is 0" ||
    { not_ok "not flat after the kill (position $(position))"; grep -a 'kill\|ERROR' "$E2E_TMP/host.log" | sed 's/^/#   /'; }
wait "$HOST_PID"; rc=$?
HOST_PID=
check "host finished its data (exit $rc)" [ "$rc" -eq 0 ]
# after the kill the gateway stores at most the flattening order and the reducing part of
# an order the host decided before it heard of the kill (opening orders are refused)
after=$(n_orders)
[ "$after" -le $((at_kill + 2)) ] &&
    ok "no opening order after the kill ($at_kill orders at the kill, $after at the end)" ||
    not_ok "orders went on after the kill ($at_kill at the kill, $after at the end)"
grep -q 'kill_switch' "$E2E_TMP/host.out" && ok "the host's summary counts orders refused by the kill switch" ||
    { not_ok "summary lacks kill_switch rejections"; sed 's/^/#   /' "$E2E_TMP/host.out"; }

# the gateway itself: a new (opening) order refused, released afterwards
ORDER='{"world_id":"LV","strategy":"sma_crossover","client_order_id":"manual-1","symbol":"BTC","side":"buy","quantity":1,"price":100,"ts":1700000000}'
expect_code 409 "the killed world refuses an opening order" POST /orders "$ORDER" -H "$HOST_AUTH"
jget 'j["error"]["message"]' | grep -q killed && ok "409 says the world is killed" || not_ok "409 reason"
"$QMTL" world kill LV --release --allow-live --gateway-url "$GW_URL" \
    --token e2e-operator-token > "$E2E_TMP/kill.out" 2>&1
grep -q "kill switch released" "$E2E_TMP/kill.out" && ok "qmtl world kill --release" ||
    { not_ok "release"; sed 's/^/#   /' "$E2E_TMP/kill.out"; }
expect_code 201 "after the release the order passes" POST /orders "$ORDER" -H "$HOST_AUTH"
expect_code 200 "GET /worlds/LV/audit" GET "/worlds/LV/audit" "" -H "$OP_AUTH"
jget '[e["event"] for e in j["entries"] if e["event"].startswith("kill")]' | grep -q "'kill', 'kill_released'" &&
    ok "audit log: kill, kill_released" || { not_ok "audit entries"; head -c 600 "$E2E_TMP/body" | sed 's/^/#   /'; echo; }
term_child "$CONN_PID"; wait "$CONN_PID"
CONN_PID=
gw_stop > /dev/null
finish
