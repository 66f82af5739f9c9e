#!/bin/bash
# Attached host end to end: a real gateway and a real host (qmtl run --world-id --gateway-url)
# trading the in-tree sma_crossover plugin on a paced synthetic feed. No order passes while
# the strategy is inactive; after PUT activation active orders pass (dryrun: the world's
# mode is paper); after freeze they are blocked again; when the gateway is killed the gate
# closes, the host keeps computing and exits cleanly at the end of the data.
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
# a fixed port, so the gateway can come back where the host looks for it
PORT=$(free_port)
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
sed -i "s/^  port: 0$/  port: $PORT/" "$E2E_TMP/gw.yml"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1

expect_code 201 "create world W (mode paper)" POST /worlds '{"id":"W","mode":"paper"}' -H "$OP_AUTH"

# host config: test-mode budgets (HTTP 1.5 s, WS receive 1.5 s, reconnect 5 s, poll 2 s)
cat > "$E2E_TMP/host.yml" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
test:
  test_mode: true
YAML
OLOG="$E2E_TMP/orders.log"
HLOG="$E2E_TMP/host.log"
HOUT="$E2E_TMP/host.out"
# 4400 bars at 200 per second: about 22 s of live feed
timeout 45 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=4400,seed=7' --pace 200 --order-log "$OLOG" > "$HOUT" 2> "$HLOG" &
HOST_PID=$!

for _ in $(seq 1 50); do
    grep -q 'event stream connected' "$HLOG" 2>/dev/null && break
    sleep 0.1
done
if grep -q 'event stream connected' "$HLOG"; then ok "host attached (DAG submitted, stream open)"; else
    not_ok "host attached"; sed 's/^/#   /' "$HLOG"; fi
grep -q "strategy 'sma_crossover' submitted" "$HLOG" && ok "DAG accepted by POST /strategies" ||
    not_ok "DAG accepted by POST /strategies"
# no active strategy yet: /decide says validate -> backtest (orders off)
grep -q "effective_mode 'validate' -> domain backtest" "$HLOG" && ok "decision validate -> backtest" ||
    not_ok "decision validate -> backtest"
expect_code 200 "W decides sma_crossover" POST /worlds/W/decisions \
    '{"strategies":["sma_crossover"]}' -H "$OP_AUTH"
for _ in $(seq 1 40); do
    grep -q "effective_mode 'paper' -> domain dryrun" "$HLOG" && break
    sleep 0.1
done
grep -q "effective_mode 'paper' -> domain dryrun" "$HLOG" &&
    ok "decision re-fetched: paper -> dryrun" || not_ok "decision re-fetched: paper -> dryrun"

n_orders() { grep -c ' order ' "$OLOG" 2>/dev/null || true; }
n_blocked() { grep -c ' blocked ' "$OLOG" 2>/dev/null || true; }

# phase 1: inactive
sleep 2
o1=$(n_orders); b1=$(n_blocked)
[ "$o1" -eq 0 ] && [ "$b1" -gt 0 ] && ok "inactive: no order passes ($b1 blocked)" ||
    not_ok "inactive: no order passes (orders $o1, blocked $b1)"

# phase 2: active on both sides
expect_code 200 "PUT activation long active" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"long","active":true}' -H "$OP_AUTH"
expect_code 200 "PUT activation short active" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"short","active":true}' -H "$OP_AUTH"
sleep 2.5
o2=$(n_orders)
[ "$o2" -gt 0 ] && ok "active: orders pass ($o2 sent)" || not_ok "active: orders pass ($o2)"
grep -q ' fill sma_crossover' "$OLOG" && ok "dryrun orders are filled by the simulated broker" ||
    not_ok "dryrun orders are filled by the simulated broker"

# phase 3: freeze
expect_code 200 "PUT activation long freeze" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"long","active":true,"freeze":true}' -H "$OP_AUTH"
expect_code 200 "PUT activation short freeze" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"short","active":true,"freeze":true}' -H "$OP_AUTH"
sleep 0.3
o3=$(n_orders); b3=$(n_blocked)
sleep 2
o4=$(n_orders); b4=$(n_blocked)
[ "$o4" -eq "$o3" ] && [ "$b4" -gt "$b3" ] && ok "frozen: blocked again ($((b4 - b3)) blocked)" ||
    not_ok "frozen: blocked again (orders $o3 -> $o4, blocked $b3 -> $b4)"
grep -q '(frozen)' "$OLOG" && ok "order log names the reason (frozen)" || not_ok "reason frozen"

# phase 4: unfreeze, then lose the gateway
expect_code 200 "PUT activation long unfreeze" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"long","active":true,"freeze":false}' -H "$OP_AUTH"
expect_code 200 "PUT activation short unfreeze" PUT /worlds/W/activation \
    '{"strategy_id":"sma_crossover","side":"short","active":true,"freeze":false}' -H "$OP_AUTH"
sleep 0.3
gw_kill
sleep 0.5
o5=$(n_orders)
if kill -0 "$HOST_PID" 2>/dev/null; then ok "host keeps running without the gateway"; else
    not_ok "host keeps running without the gateway"; fi
grep -q 'gateway lost' "$HLOG" && ok "host noticed the gateway loss" ||
    { not_ok "host noticed the gateway loss"; sed 's/^/#   /' "$HLOG"; }
sleep 1
o5b=$(n_orders)
[ "$o5b" -eq "$o5" ] && ok "no order while the gateway is away" ||
    not_ok "orders while the gateway is away ($o5 -> $o5b)"

# phase 5: the gateway comes back (same store): the host reconnects, re-fetches the
# activation, and orders pass again
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw1.log" || exit 1
for _ in $(seq 1 60); do
    grep -q 'activation state confirmed' "$HLOG" && break
    sleep 0.1
done
grep -q 'activation state confirmed' "$HLOG" && ok "reconnected and re-confirmed the activation" ||
    { not_ok "reconnected and re-confirmed"; sed 's/^/#   /' "$HLOG"; }
sleep 1.5
o5c=$(n_orders)
[ "$o5c" -gt "$o5b" ] && ok "orders pass again after re-confirmation ($((o5c - o5b)))" ||
    not_ok "orders pass again after re-confirmation ($o5b -> $o5c)"
gw_kill
sleep 0.5
o5=$(n_orders)
wait "$HOST_PID"; rc=$?
HOST_PID=
[ "$rc" -eq 0 ] && ok "host exits cleanly at the end of the data" ||
    { not_ok "host exit code $rc"; sed 's/^/#   /' "$HLOG"; }
o6=$(n_orders)
[ "$o6" -eq "$o5" ] && ok "no order after the gateway loss ($o6 in all)" ||
    not_ok "orders after the gateway loss ($o5 -> $o6)"
grep -q '(activation stale)' "$OLOG" && ok "blocked as stale after the loss" ||
    not_ok "blocked as stale after the loss"
grep -q '^run: 4400 events' "$HOUT" && ok "every bar computed (run: 4400 events)" ||
    { not_ok "every bar computed"; sed 's/^/#   /' "$HOUT"; }
sent=$(sed -n 's/^gate: \([0-9]*\) order(s) sent, \([0-9]*\) blocked.*/\1/p' "$HOUT")
blk=$(sed -n 's/^gate: \([0-9]*\) order(s) sent, \([0-9]*\) blocked.*/\2/p' "$HOUT")
[ "$sent" = "$o6" ] && [ "$blk" = "$(n_blocked)" ] &&
    ok "summary gate figures match the order log ($sent sent, $blk blocked)" ||
    { not_ok "summary gate figures ($sent/$blk vs $o6/$(n_blocked))"; sed 's/^/#   /' "$HOUT"; }

# a refused world: unknown world -> backtest + safe_mode, nothing leaves, still computes
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw2.log" || exit 1
timeout 30 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id nosuch --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=300,seed=7' > "$HOUT" 2> "$HLOG"; rc=$?
[ "$rc" -eq 0 ] && grep -q 'gate: 0 order(s) sent, [1-9][0-9]* blocked by the gate (domain backtest, safe_mode' "$HOUT" &&
    ok "unknown world: backtest + safe_mode, every order blocked" ||
    { not_ok "unknown world (exit $rc)"; sed 's/^/#   /' "$HOUT" "$HLOG"; }

# a live world: orders that pass the gate go to the gateway's POST /orders (t071 has more)
expect_code 201 "create world L (mode live)" POST /worlds '{"id":"L","mode":"live"}' \
    -H "$OP_AUTH" -H 'X-Allow-Live: true'
expect_code 200 "L decides sma_crossover" POST /worlds/L/decisions \
    '{"strategies":["sma_crossover"]}' -H "$OP_AUTH" -H 'X-Allow-Live: true'
for side in long short; do
    expect_code 200 "L activation $side active" PUT /worlds/L/activation \
        "{\"strategy_id\":\"sma_crossover\",\"side\":\"$side\",\"active\":true}" \
        -H "$OP_AUTH" -H 'X-Allow-Live: true'
done
timeout 30 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id L --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=300,seed=7' --allow-live-replay > "$HOUT" 2> "$HLOG"; rc=$?
[ "$rc" -eq 0 ] && grep -q 'gate: [1-9][0-9]* order(s) sent, 0 blocked by the gate (domain live)' "$HOUT" &&
    grep -q 'live orders: [1-9][0-9]* sent to the gateway, 0 refused by its gate, 0 failed' "$HOUT" &&
    ok "live world: live orders sent to the gateway" ||
    { not_ok "live world (exit $rc)"; sed 's/^/#   /' "$HOUT" "$HLOG"; }

# --follow: the host stays after the data until SIGTERM, then prints the summary
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=50' --follow > "$HOUT" 2> "$HLOG" &
HOST_PID=$!
for _ in $(seq 1 50); do grep -q 'following until' "$HLOG" && break; sleep 0.1; done
sleep 0.3
if kill -0 "$HOST_PID" 2>/dev/null; then ok "--follow keeps the host after the data"; else
    not_ok "--follow keeps the host after the data"; fi
kill -TERM "$HOST_PID"
wait "$HOST_PID"; rc=$?
HOST_PID=
[ "$rc" -eq 0 ] && grep -q '^run: 50 events' "$HOUT" && ok "SIGTERM ends it with the summary" ||
    { not_ok "SIGTERM ends it with the summary (exit $rc)"; sed 's/^/#   /' "$HOUT" "$HLOG"; }
gw_stop > /dev/null
finish
