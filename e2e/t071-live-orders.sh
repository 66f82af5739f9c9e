#!/bin/bash
# Live order path end to end: a real gateway and a real attached host in a live world.
# Orders that pass the host's gate are stored by the gateway's POST /orders (one per
# client_order_id: the count equals the host's "sent"), a resubmission gives no
# duplicate, a connector can list and ack them, and the gateway's own gate refuses
# orders (409 E_GATE_CLOSED) for a frozen activation however they arrive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"

PLUG="$QMTL_BUILD/plugins/sma_crossover.so"
[ -f "$PLUG" ] || { echo "# $PLUG not built"; exit 77; }
command -v curl > /dev/null || { echo "# curl missing"; exit 77; }

HOST_PID=
cleanup() {
    [ -n "$HOST_PID" ] && kill_tree "$HOST_PID" && wait "$HOST_PID" 2>/dev/null
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

mkdir -p "$E2E_TMP/plugins"
cp "$PLUG" "$E2E_TMP/plugins/"
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1

LIVE='X-Allow-Live: true'
expect_code 201 "create world LV (mode live)" POST /worlds '{"id":"LV","mode":"live"}' \
    -H "$OP_AUTH" -H "$LIVE"
expect_code 200 "LV decides sma_crossover" POST /worlds/LV/decisions \
    '{"strategies":["sma_crossover"]}' -H "$OP_AUTH" -H "$LIVE"
for side in long short; do
    expect_code 200 "LV activation $side active" PUT /worlds/LV/activation \
        "{\"strategy_id\":\"sma_crossover\",\"side\":\"$side\",\"active\":true}" \
        -H "$OP_AUTH" -H "$LIVE"
done

cat > "$E2E_TMP/host.yml" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
test:
  test_mode: true
YAML
HLOG="$E2E_TMP/host.log"
HOUT="$E2E_TMP/host.out"
# history replayed into a live world needs the explicit flag: without it nothing runs
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id LV --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=600,seed=11' > "$HOUT" 2> "$HLOG"; rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--allow-live-replay" "$HLOG" && ! grep -q "^live orders" "$HOUT" &&
    ok "a live world refuses replayed history without --allow-live-replay (exit 1)" ||
    { not_ok "replay into a live world without the flag (exit $rc)"; sed 's/^/#   /' "$HLOG"; }
# 600 bars at 300 per second: about 2 s of paced live feed
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id LV --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=600,seed=11' --pace 300 --allow-live-replay > "$HOUT" 2> "$HLOG" &
HOST_PID=$!
wait "$HOST_PID"; rc=$?
HOST_PID=
[ "$rc" -eq 0 ] && grep -q "effective_mode 'live' -> domain live" "$HLOG" &&
    ok "host ran attached in the live domain" ||
    { not_ok "host ran attached in the live domain (exit $rc)"; sed 's/^/#   /' "$HOUT" "$HLOG"; }
sent=$(sed -n 's/^live orders: \([0-9]*\) sent to the gateway, \([0-9]*\) refused by its gate, \([0-9]*\) failed$/\1/p' "$HOUT")
rf=$(sed -n 's/^live orders: \([0-9]*\) sent to the gateway, \([0-9]*\) refused by its gate, \([0-9]*\) failed$/\2 \3/p' "$HOUT")
gsent=$(sed -n 's/^gate: \([0-9]*\) order(s) sent, 0 blocked by the gate (domain live)$/\1/p' "$HOUT")
[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$rf" = "0 0" ] && [ "$gsent" = "$sent" ] &&
    ok "host summary: $sent live order(s) sent, none refused or failed" ||
    { not_ok "host summary (sent '$sent', refused/failed '$rf', gate '$gsent')"; sed 's/^/#   /' "$HOUT"; }

# a broker connector's view
expect_code 200 "GET /orders (operator)" GET "/orders?world_id=LV&limit=1000" "" -H "$OP_AUTH"
n=$(jget 'len(j["orders"])')
[ "$n" = "$sent" ] && ok "gateway stored exactly the host's sent count ($n)" ||
    not_ok "gateway stored $n orders, host sent $sent"
jget 'all(o["client_order_id"] == "sma_crossover-%d-%d" % (o["ts"], i + 1) and o["status"] == "new" and o["world_id"] == "LV" for i, o in enumerate(j["orders"]))' |
    grep -qx True && ok "orders carry the host's client_order_ids (sma_crossover-<ts>-<seq>), status new" ||
    { not_ok "client_order_ids"; head -c 600 "$E2E_TMP/body" | sed 's/^/#   /'; echo; }
jget 'len(set(o["client_order_id"] for o in j["orders"])) == len(j["orders"]) and all(o["side"] in ("buy","sell") and o["quantity"] > 0 and o["symbol"] == "BTC" for o in j["orders"])' |
    grep -qx True && ok "one order per client_order_id, with side, quantity and symbol" ||
    not_ok "order fields"
first=$(jget 'json.dumps({k: j["orders"][0][k] for k in ("world_id","strategy_id","strategy","client_order_id","symbol","side","quantity","price","ts")})')
fid=$(jget 'j["orders"][0]["id"]')
expect_code 401 "GET /orders without a token" GET "/orders?world_id=LV"
expect_code 200 "GET /orders (connector)" GET "/orders?world_id=LV&limit=1000" "" -H "$CONN_AUTH"
expect_code 403 "a live order with the submission token is refused" POST /orders "$first" \
    -H "$SUB_AUTH"
expect_code 403 "a live order with the operator token is refused" POST /orders "$first" \
    -H "$OP_AUTH"

# the host's retry path: the same client_order_id again gives the stored order, no duplicate
expect_code 200 "resubmitting an order (same client_order_id)" POST /orders "$first" -H "$HOST_AUTH"
[ "$(jget 'j["id"]')" = "$fid" ] && ok "resubmission returns the stored order (id $fid)" ||
    not_ok "resubmission returned another order"
expect_code 200 "GET /orders again" GET "/orders?world_id=LV&limit=1000" "" -H "$OP_AUTH"
[ "$(jget 'len(j["orders"])')" = "$sent" ] && ok "no duplicate after the resubmission" ||
    not_ok "duplicate after the resubmission"

# ack: the connector took the first order
expect_code 403 "operators do not ack orders" POST "/orders/$fid/ack" "" -H "$OP_AUTH"
expect_code 200 "POST /orders/$fid/ack (connector)" POST "/orders/$fid/ack" "" -H "$CONN_AUTH"
expect_code 200 "GET /orders?status=new" GET "/orders?world_id=LV&status=new&limit=1000" "" -H "$OP_AUTH"
[ "$(jget 'len(j["orders"])')" = "$((sent - 1))" ] && ok "acked order no longer listed as new" ||
    not_ok "status=new after ack"

# the gateway's own gate: frozen -> 409 for a new order sent by anyone
expect_code 200 "freeze the long side" PUT /worlds/LV/activation \
    '{"strategy_id":"sma_crossover","side":"long","active":true,"freeze":true}' \
    -H "$OP_AUTH" -H "$LIVE"
ORDER='{"world_id":"LV","strategy":"sma_crossover","client_order_id":"manual-1","symbol":"BTC","side":"buy","quantity":1,"price":100,"ts":1700000000}'
expect_code 409 "POST /orders with the activation frozen" POST /orders "$ORDER" -H "$HOST_AUTH"
[ "$(jget 'j["error"]["code"]')" = "E_GATE_CLOSED" ] && jget 'j["error"]["message"]' | grep -q frozen &&
    ok "409 E_GATE_CLOSED names the reason (frozen)" ||
    { not_ok "409 body"; sed 's/^/#   /' "$E2E_TMP/body"; echo; }
expect_code 201 "the unfrozen short side still takes orders" POST /orders \
    '{"world_id":"LV","strategy":"sma_crossover","client_order_id":"manual-2","symbol":"BTC","side":"sell","quantity":1,"price":100,"ts":1700000000}' -H "$HOST_AUTH"
expect_code 422 "invalid order names the field" POST /orders \
    '{"world_id":"LV","strategy":"sma_crossover","client_order_id":"m3","symbol":"BTC","side":"buy","quantity":-1,"price":100,"ts":1}' -H "$HOST_AUTH"
jget 'j["error"]["message"]' | grep -q "'quantity'" && ok "422 names 'quantity'" || not_ok "422 message"

expect_code 200 "GET /metrics" GET /metrics
grep -q "^qmtl_gateway_orders_accepted_total $((sent + 1))$" "$E2E_TMP/body" &&
    grep -q '^qmtl_gateway_orders_refused_total 2$' "$E2E_TMP/body" &&
    ok "order metrics ($((sent + 1)) accepted, 2 refused)" ||
    { not_ok "order metrics"; grep orders "$E2E_TMP/body" | sed 's/^/#   /'; }

# durability: the orders survive a gateway restart
gw_stop > /dev/null
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw2.log" || exit 1
expect_code 200 "GET /orders after a restart" GET "/orders?world_id=LV&limit=1000" "" -H "$OP_AUTH"
[ "$(jget 'len(j["orders"])')" = "$((sent + 1))" ] && ok "orders survive the restart" ||
    not_ok "orders after the restart"
gw_stop > /dev/null
finish
