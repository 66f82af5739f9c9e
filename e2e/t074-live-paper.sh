#!/bin/bash
# Live trading end to end, offline == live: a real gateway, a host attached to a live
# world and the paper connector, all on the same seeded synthetic data as an offline run.
# The host is killed (SIGKILL) half way and restarted: it rebuilds its book from the
# gateway before its gate opens, does not send again what it sent before, and the run
# ends with the offline run's fills, final position and PnL. (Half way without a race:
# the first host gets the first half of the same series, sends its orders, and is killed
# while it waits for more data; the restarted one gets the whole series.)
#
# Tolerance: the paper connector fills with the simulated broker's model (next bar open,
# slippage against the order, fee on the notional), operation for operation, on the same
# bars, so every fill's quantity, price and fee must be EQUAL (compared as the exact
# decimal text the order logs print: the shortest text that reads back to the same
# double). Fill times are compared by their one-minute bucket: the simulated broker stamps
# a fill with the start of its bar's bucket, a connector with the bar's own time (the
# seeded bars lie 20 s past each minute). Position and PnL are sums of those same fills in the same order: equal too; the
# PnL is compared within 1e-6 only because the summary prints 12 significant digits.
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

DATA='BTC=gbm:count=600,seed=11'
HALF='BTC=gbm:count=300,seed=11' # the first 300 bars of the same series
P="$E2E_TMP/plugins"

# ---- the offline reference
"$QMTL" run --offline --plugins "$P" --data "$DATA" --json --order-log "$E2E_TMP/off.log" \
    > "$E2E_TMP/off.json" 2> "$E2E_TMP/off.err"
check "offline reference run" [ $? -eq 0 ]
grep ' fill ' "$E2E_TMP/off.log" | sed 's/ fill sma_crossover / /' > "$E2E_TMP/off.fills"
n_orders=$(grep -c ' order ' "$E2E_TMP/off.log")
n_fills=$(wc -l < "$E2E_TMP/off.fills")
[ "$n_fills" -gt 10 ] && ok "offline: $n_orders orders, $n_fills fills" ||
    not_ok "offline made too few fills ($n_fills)"

# ---- gateway, live world, paper connector
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
gw_live_world LV
QMTL_CONNECTOR_TOKEN=e2e-connector-token timeout 120 "$QMTL" connector paper \
    --gateway-url "$GW_URL" --world-id LV --data "$DATA" --poll 0.05 \
    > "$E2E_TMP/conn.out" 2> "$E2E_TMP/conn.log" &
CONN_PID=$!

host_config "$E2E_TMP/host.yml"
run_host() { # run_host N DATA: start the host (background), logs host<N>.*
    timeout 120 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id LV --gateway-url "$GW_URL" \
        --data "$2" --pace 200 --follow --allow-live-replay --json \
        --order-log "$E2E_TMP/host$1.orders" > "$E2E_TMP/host$1.json" 2> "$E2E_TMP/host$1.log" &
    HOST_PID=$!
}
gw_orders() { # the world's orders (JSON array) into $E2E_TMP/orders.json
    curl -s -H "$OP_AUTH" "$GW_URL/orders?world_id=LV&limit=1000" > "$E2E_TMP/orders.json"
}
count_orders() { # cheap enough to poll (no interpreter start)
    gw_orders
    grep -o '"client_order_id"' "$E2E_TMP/orders.json" | wc -l
}
at_least_orders() { [ "$(count_orders)" -ge "$1" ]; }

# ---- first run, killed half way
"$QMTL" run --offline --plugins "$P" --data "$HALF" --order-log "$E2E_TMP/half.log" \
    > /dev/null 2>&1
half=$(grep -c ' order ' "$E2E_TMP/half.log")
run_host 1 "$HALF"
host1_done() { grep -q 'data ended after' "$E2E_TMP/host1.log"; }
wait_for 60 host1_done && wait_for 30 at_least_orders "$half" &&
    ok "first host run: its $half orders reached the gateway" ||
    not_ok "first host run: orders did not reach the gateway ($(count_orders) of $half)"
kill_tree "$HOST_PID" # the host under its timeout, killed like a crash
wait "$HOST_PID" 2> /dev/null
HOST_PID=
before=$(count_orders)
[ "$before" -lt "$n_orders" ] && ok "host killed mid-run ($before of $n_orders orders sent)" ||
    not_ok "host was not killed mid-run ($before of $n_orders)"

# ---- restart: rebuild, catch up, finish
run_host 2 "$DATA"
data_done() { grep -q 'data ended after' "$E2E_TMP/host2.log"; }
all_final() {
    gw_orders
    python3 - "$E2E_TMP/orders.json" "$n_orders" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))["orders"]
sys.exit(0 if len(o) >= int(sys.argv[2]) and all(x["status"] in ("filled", "expired", "rejected", "canceled") for x in o) else 1)
PY
}
host_has_fills() { [ "$(grep -c ' fill ' "$E2E_TMP/host2.orders" 2> /dev/null)" -ge "$n_fills" ]; }
wait_for 60 data_done && ok "restarted host replayed the data" || not_ok "restarted host did not end its data"
wait_for 30 all_final && ok "every order at the gateway is final" ||
    { not_ok "orders still open at the gateway"; head -c 800 "$E2E_TMP/orders.json" | sed 's/^/#   /'; echo; }
wait_for 30 host_has_fills && ok "the restarted host booked every fill" ||
    not_ok "the restarted host booked $(grep -c ' fill ' "$E2E_TMP/host2.orders") of $n_fills fills"
term_child "$HOST_PID"
wait "$HOST_PID"; rc=$?
HOST_PID=
check "restarted host stopped cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]

# the book was rebuilt before the gate opened, and the re-decided orders were held back
rebuilt=$(grep -n 'book rebuilt from the gateway' "$E2E_TMP/host2.log" | head -1 | cut -d: -f1)
opened=$(grep -n "strategy 'sma_crossover' long: active=1" "$E2E_TMP/host2.log" | head -1 | cut -d: -f1)
[ -n "$rebuilt" ] && [ -n "$opened" ] && [ "$rebuilt" -lt "$opened" ] &&
    ok "book rebuilt (line $rebuilt) before the gate opened (line $opened)" ||
    { not_ok "rebuild before the gate (rebuilt '$rebuilt', opened '$opened')"; sed 's/^/#   /' "$E2E_TMP/host2.log" | head -20; }
grep -q 'caught up with the orders sent before the restart' "$E2E_TMP/host2.log" &&
    ok "the restarted host caught up before sending again" || not_ok "no catch-up line"
python3 - "$E2E_TMP/host2.json" "$before" <<'PY' && ok "summary: book rebuilt from the fills before the kill, re-decided orders held back" || not_ok "summary fills figures"
import json, sys
f = json.load(open(sys.argv[1]))["attached"]["fills"]
print("#", f)
sys.exit(0 if f["rebuilt_fills"] + f["rebuilt_open_orders"] >= int(sys.argv[2]) - 1 and f["orders_held"] > 0 and f["received"] > 0 else 1)
PY

# ---- no order twice: one per bar decided, the client_order_ids of an uninterrupted run
gw_orders
python3 - "$E2E_TMP/orders.json" "$n_orders" <<'PY' && ok "gateway: $n_orders orders, one per decision, ids sma_crossover-<ts>-1..$n_orders" || not_ok "duplicate or missing orders at the gateway"
import json, sys
o = sorted(json.load(open(sys.argv[1]))["orders"], key=lambda x: x["id"])
ok = len(o) == int(sys.argv[2])
ok = ok and len({x["ts"] for x in o}) == len(o)
ok = ok and all(x["client_order_id"] == "sma_crossover-%d-%d" % (x["ts"], i + 1) for i, x in enumerate(o))
if not ok:
    print("#", [(x["client_order_id"], x["status"]) for x in o])
sys.exit(0 if ok else 1)
PY

# ---- fills: the gateway's and the restarted host's book equal the offline ones
curl -s -H "$OP_AUTH" "$GW_URL/fills?world_id=LV&limit=1000" > "$E2E_TMP/fills.json"
python3 - "$E2E_TMP/fills.json" > "$E2E_TMP/gw.fills" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["fills"]:
    print(f["fill_time"] // 1000, "BTC", f["side"].lower(), "qty=%r" % f["quantity"],
          "price=%r" % f["price"], "fee=%r" % f["commission"])
PY
python3 - "$E2E_TMP/off.fills" "$E2E_TMP/gw.fills" <<'PY' && ok "gateway fills equal the offline fills (time, side, quantity, price, fee)" || not_ok "gateway fills differ from offline"
import sys
def rows(p):
    out = []
    for line in open(p):
        ts, sym, side, q, px, fee = line.split()
        out.append((int(ts) - int(ts) % 60, sym, side, float(q[4:]), float(px[6:]), float(fee[4:])))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    for x, y in zip(a, b):
        if x != y:
            print("# offline", x, "live", y)
            break
    print("# offline %d fills, live %d" % (len(a), len(b)))
sys.exit(0 if a == b else 1)
PY
grep ' fill ' "$E2E_TMP/host2.orders" | sed 's/ fill sma_crossover / /' > "$E2E_TMP/host.fills"
bucketed() { awk '{ $1 = $1 - $1 % 60; print }' "$1"; }
cmp -s <(bucketed "$E2E_TMP/off.fills") <(bucketed "$E2E_TMP/host.fills") &&
    ok "the restarted host's book holds exactly the offline fills (order log text, times by bucket)" ||
    { not_ok "host fills differ from offline"; diff <(bucketed "$E2E_TMP/off.fills") <(bucketed "$E2E_TMP/host.fills") | head -5 | sed 's/^/#   /'; }
for side in buy sell; do
    a=$(grep -c " $side " "$E2E_TMP/off.fills"); b=$(grep -c " $side " "$E2E_TMP/gw.fills")
    [ "$a" = "$b" ] && ok "$side fills: $a offline, $b live" || not_ok "$side fills: $a offline, $b live"
done
python3 - "$E2E_TMP/off.json" "$E2E_TMP/host2.json" "$E2E_TMP/off.fills" "$E2E_TMP/host.fills" <<'PY' && ok "final position and PnL equal the offline run's" || not_ok "position or PnL differ"
import json, sys
off = json.load(open(sys.argv[1]))["strategies"][0]
live = json.load(open(sys.argv[2]))["strategies"][0]
def pos(p):
    return sum((1 if l.split()[2] == "buy" else -1) * float(l.split()[3][4:]) for l in open(p))
po, pl = pos(sys.argv[3]), pos(sys.argv[4])
print("# position offline %r live %r; pnl offline %r live %r; fees %r %r" % (po, pl, off["pnl"], live["pnl"], off["fees"], live["fees"]))
ok = po == pl and abs(off["pnl"] - live["pnl"]) <= 1e-6 and abs(off["fees"] - live["fees"]) <= 1e-6
sys.exit(0 if ok else 1)
PY

expect_code 200 "GET /metrics" GET /metrics
grep -q "^qmtl_gateway_fills_accepted_total $n_fills\$" "$E2E_TMP/body" &&
    ! grep -q '^qmtl_gateway_fills_rejected_total{.*} [1-9]' "$E2E_TMP/body" &&
    ok "gateway metrics: $n_fills fills accepted, none rejected" ||
    { not_ok "fill metrics"; grep fills "$E2E_TMP/body" | sed 's/^/#   /'; }

term_child "$CONN_PID"
wait "$CONN_PID"; rc=$?
CONN_PID=
grep -q "^paper connector: $n_orders claimed, $n_fills filled, 0 rejected, [0-9]* expired, 0 errors\$" \
    "$E2E_TMP/conn.out" && [ "$rc" -eq 0 ] &&
    ok "paper connector: $n_orders claimed, $n_fills filled, no error (exit $rc)" ||
    { not_ok "paper connector summary (exit $rc)"; sed 's/^/#   /' "$E2E_TMP/conn.out"; tail -5 "$E2E_TMP/conn.log" | sed 's/^/#   /'; }
gw_stop > /dev/null
finish
