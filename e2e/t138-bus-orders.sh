#!/bin/bash
# Orders from a signal computed on another host equal a one-process run (issue 17,
# docs/scale-out.md "Alignment of remote and local inputs"). nats-server, a DAG manager, a
# gateway with a paper world where bus_trader is active on both sides, and two hosts:
# host 1 runs bus_producer (price -> sma3 -> diff, published) on a file it follows; host 2
# runs bus_trader (the same three nodes, then a signal on diff and an order publisher on
# the price), consuming sma3 and diff from host 1. Host 2 gets the whole price series at
# once while host 1 has only its first rows: host 2's price feed runs far ahead of the
# signal it consumes. Then host 1's file grows to the whole series. Host 2's order log
# (every order and fill) must equal, byte for byte, the order log of one offline host
# running bus_trader on the same series.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs bus_producer bus_trader

NATS_PID= DM_PID= H1_PID= H2_PID=
cleanup() {
    kill_wait "$H1_PID" "$H2_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

mkdir -p "$E2E_TMP/p1" "$E2E_TMP/p2"
cp "$F/bus_producer.so" "$E2E_TMP/p1/"
cp "$F/bus_trader.so" "$E2E_TMP/p2/"
N=240
rows() { # rows FIRST COUNT: OHLCV rows one minute apart, a seeded walk
    python3 -c 'import random, sys
a, n = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(5)
px = 100.0
for i in range(a + n):
    o = px
    px = round(px * (1 + r.gauss(0, 0.004)), 4)
    vol = r.randint(1, 9)
    if i >= a:
        print(f"{1704067200 + 60 * i},{o},{max(o, px)},{min(o, px)},{px},{vol}")' "$1" "$2"
}
{ echo "timestamp,open,high,low,close,volume"; rows 0 "$N"; } > "$E2E_TMP/all.csv"
{ echo "timestamp,open,high,low,close,volume"; rows 0 3; } > "$E2E_TMP/h1.csv"

# reference: one host, offline, the whole series
"$QMTL" run --offline --quiet --plugins "$E2E_TMP/p2" --data "BTC=$E2E_TMP/all.csv" \
    --order-log "$E2E_TMP/one.orders" > /dev/null 2> "$E2E_TMP/one.log"
N_ORD=$(grep -c ' order ' "$E2E_TMP/one.orders")
N_FILL=$(grep -c ' fill ' "$E2E_TMP/one.orders")
N_LINES=$(wc -l < "$E2E_TMP/one.orders")
[ "$N_ORD" -gt 20 ] && [ "$N_FILL" -gt 20 ] && ok "one host: $N_ORD orders, $N_FILL fills" ||
    not_ok "one host reference run ($N_ORD orders, $N_FILL fills)"

bus_up || { finish; exit 1; }

# host 1: computes and publishes sma3 and diff from the rows of a file it follows
timeout 120 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id PW --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "BTC=follow:$E2E_TMP/h1.csv" > /dev/null 2> "$E2E_TMP/h1.log" &
H1_PID=$!
published() { grep -q "strategy 'bus_producer' submitted" "$E2E_TMP/h1.log"; }
wait_for 20 published && ok "host 1 submitted bus_producer" ||
    { not_ok "host 1 submits"; sed 's/^/#   /' "$E2E_TMP/h1.log"; }

# host 2: the whole series at once, sma3 and diff from host 1
timeout 120 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id PW --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p2" --data "BTC=$E2E_TMP/all.csv" --follow \
    --order-log "$E2E_TMP/two.orders" > /dev/null 2> "$E2E_TMP/h2.log" &
H2_PID=$!
consuming() {
    grep -q 'data ended after' "$E2E_TMP/h2.log" && [ "$(grep -c 'consumed from' "$E2E_TMP/h2.log")" -eq 2 ]
}
wait_for 30 consuming && ok "host 2: its whole price feed read, sma3 and diff consumed" ||
    { not_ok "host 2 consumes"; grep -v 'diff computed' "$E2E_TMP/h1.log" "$E2E_TMP/h2.log" | sed 's/^/#   /'; }

# The world is made now, after both submissions: it moves both hosts to paper (dryrun:
# the simulated broker) while they run, and activates bus_trader.
expect_code 201 "create world PW (mode paper)" POST /worlds '{"id":"PW","mode":"paper"}' -H "$OP_AUTH"
expect_code 200 "PW decides bus_producer and bus_trader" POST /worlds/PW/decisions \
    '{"strategies":["bus_producer","bus_trader"]}' -H "$OP_AUTH"
for side in long short; do
    expect_code 200 "bus_trader $side active" PUT /worlds/PW/activation \
        "{\"strategy_id\":\"bus_trader\",\"side\":\"$side\",\"active\":true}" -H "$OP_AUTH"
done
ready() {
    grep -q "effective_mode 'paper' -> domain dryrun" "$E2E_TMP/h2.log" &&
        [ "$(grep -c "strategy 'bus_trader' \(long\|short\): active=1" "$E2E_TMP/h2.log")" -ge 2 ]
}
wait_for 30 ready && ok "host 2: paper domain, bus_trader active on both sides" ||
    { not_ok "host 2 ready"; grep -v 'diff computed' "$E2E_TMP/h1.log" "$E2E_TMP/h2.log" | sed 's/^/#   /'; }
grep -q ' order ' "$E2E_TMP/two.orders" && not_ok "host 2 sent orders before the signal's values came" ||
    ok "host 2 holds its bars: no order before host 1 computed the signal's input"

# host 1 gets the rest of the series: host 2's signal now arrives far behind its feed
rows 3 $((N - 3)) >> "$E2E_TMP/h1.csv"
all_lines() { [ "$(wc -l < "$E2E_TMP/two.orders")" -ge "$N_LINES" ]; }
wait_for 60 all_lines && ok "host 2 wrote $N_LINES order log lines" ||
    { not_ok "host 2 wrote $(wc -l < "$E2E_TMP/two.orders") order log lines, want $N_LINES"
      grep -v 'diff computed' "$E2E_TMP/h1.log" "$E2E_TMP/h2.log" | sed 's/^/#   /'; }
term_child "$H2_PID"; wait "$H2_PID"; rc=$?; H2_PID=
[ "$rc" -eq 0 ] && ok "host 2 stops cleanly on SIGTERM" || not_ok "host 2 exit $rc"
n=$(grep -c 'diff computed' "$E2E_TMP/h2.log")
[ "$n" -eq 0 ] && ok "host 2 never computes diff (it is host 1's)" || not_ok "host 2 computed diff $n times"
if cmp -s "$E2E_TMP/one.orders" "$E2E_TMP/two.orders"; then
    ok "host 2's orders and fills equal the one-host run ($N_ORD orders, $N_FILL fills)"
else
    not_ok "orders differ from the one-host run"
    diff "$E2E_TMP/one.orders" "$E2E_TMP/two.orders" | head -80 | sed 's/^/#   /'
fi
grep -q 'no longer held' "$E2E_TMP/h2.log" && not_ok "host 2 fell back to the newest bar" ||
    ok "no signal priced without its bar"

finish
