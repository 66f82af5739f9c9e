#!/bin/bash
# A full offline backtest checked against an independent computation: the sma_crossover
# example on a CSV, with fees and slippage; trades, fees, PnL, Sharpe and max drawdown
# recomputed here from the same CSV (SMA, crossover, long-only signal, fills, equity curve),
# for both fill models: next_open (the default: an order decided on a bar's close fills at
# the next bar's open) and close (broker.fill_at: close, the decision bar's close).
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD/plugins/sma_crossover.so" "$P/"

python3 - "$E2E_TMP/BTC.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,open,high,low,close,volume\n")
    p, x = 100.0, 12345
    for i in range(3000):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        u = (x >> 11) / 2**53 - 0.5
        q = p * (1 + 0.004 * u + 0.002 * math.sin(i / 17.0))
        g = p * (1 + 0.001 * math.sin(i * 1.7))  # the open gaps away from the last close
        f.write("%d,%.6f,%.6f,%.6f,%.6f,%d\n" % (1700000040 + 60 * i, g, max(g, q) + 0.01, min(g, q) - 0.01, q, 1000 + i % 7))
        p = q
PY
cat > "$E2E_TMP/qmtl.yml" <<YML
host:
  plugins_dir: plugins
  data:
    - tags: [BTC]
      path: BTC.csv
      interval_s: 60
  strategies:
    sma_crossover:
      fast: 4
      slow: 12
      quantity: 25
broker:
  initial_cash: 50000
  fee_bps: 7.5
  slippage_bps: 3
YML
expect_rc 0 "backtest from qmtl.yml" "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml" --json
cp "$E2E_TMP/out" "$E2E_TMP/run.json"
expect_rc 0 "the same with broker.fill_at: close" env QMTL__BROKER__FILL_AT=close \
    "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml" --json
cp "$E2E_TMP/out" "$E2E_TMP/run-close.json"
expect_rc 0 "the text summary" "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml"
check "... names the fill model" grep -q "^fills: market orders at the next bar's open (broker.fill_at next_open)$" "$E2E_TMP/out"
check "... and the orders of the strategy" grep -Eq "^orders sma_crossover: [0-9]+ sent, [0-9]+ filled, 0 blocked by the gate; (position BTC 25|flat)" "$E2E_TMP/out"
for model in next_open close; do
json=$E2E_TMP/run.json; [ "$model" = close ] && json=$E2E_TMP/run-close.json
check "$model: trades, fees, pnl, sharpe, drawdown match an independent computation" python3 - "$E2E_TMP/BTC.csv" "$json" "$model" <<'PY'
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
c = [float(r["close"]) for r in rows]
o = [float(r["open"]) for r in rows]
NEXT_OPEN = sys.argv[3] == "next_open"
FAST, SLOW, QTY, CASH, FEE, SLIP = 4, 12, 25.0, 50000.0, 7.5e-4, 3e-4
sma = lambda t, w: sum(c[t - w + 1:t + 1]) / w
cash, pos, target, fees, trades, eq = CASH, 0.0, 0.0, 0.0, 0, []
waiting = 0.0  # next_open: the order of the previous bar, filled at this bar's open
def fill(delta, ref):
    global cash, pos, fees, trades
    side = 1 if delta > 0 else -1
    px = ref * (1 + side * SLIP)
    notional = abs(delta) * px
    cash -= side * notional + notional * FEE
    fees += notional * FEE
    pos += delta
    trades += 1
for t in range(len(c)):
    if waiting:
        fill(waiting, o[t])
        waiting = 0.0
    if t >= SLOW:
        d0 = sma(t - 1, FAST) - sma(t - 1, SLOW)
        d1 = sma(t, FAST) - sma(t, SLOW)
        assert abs(d1) > 1e-9, "tie at bar %d" % t
        cross = 1 if d0 <= 0 < d1 else -1 if d0 >= 0 > d1 else 0
        want = 1.0 if cross > 0 else 0.0 if cross < 0 else target
        if want != target:
            target = want
            delta = want * QTY - pos
            if NEXT_OPEN:
                waiting = delta
            else:
                fill(delta, c[t])
    eq.append(cash + pos * c[t])
r = [eq[i] / eq[i - 1] - 1 for i in range(1, len(eq))]
m = sum(r) / len(r)
sd = math.sqrt(sum((x - m) ** 2 for x in r) / (len(r) - 1))
sharpe = m / sd * math.sqrt(365 * 86400 / 60)
peak, mdd = CASH, 0.0
for e in eq:
    peak = max(peak, e)
    mdd = max(mdd, (peak - e) / peak)
s = json.load(open(sys.argv[2]))["strategies"][0]
def near(name, got, want):
    assert abs(got - want) <= 1e-7 * (1 + abs(want)), "%s: %r, want %r" % (name, got, want)
assert trades > 20, trades
assert s["name"] == "sma_crossover" and s["fills"] == trades, (s, trades)
near("fees", s["fees"], fees)
near("pnl", s["pnl"], eq[-1] - CASH)
near("return", s["return"], (eq[-1] - CASH) / CASH)
near("sharpe", s["sharpe"], sharpe)
near("max_drawdown", s["max_drawdown"], mdd)
near("final_equity", s["final_equity"], eq[-1])
assert json.load(open(sys.argv[2]))["run"]["fill_at"] == sys.argv[3]
book = s["book"]
assert book["open_orders"] == (1 if waiting else 0), book
assert [p["position"] for p in book["positions"]] == [pos], (book, pos)
PY
done
# risk: a position limit below the strategy's quantity refuses every entry, counted by reason
expect_rc 0 "risk.max_position below the order size" env QMTL__RISK__MAX_POSITION=10 \
    "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml" --json
check "... every entry refused as max_position, nothing filled" python3 - "$E2E_TMP/out" "$E2E_TMP/run.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["strategies"][0]
free = json.load(open(sys.argv[2]))["strategies"][0]
rej = s["book"]["rejections"]
assert s["fills"] == 0 and s["orders"] == 0, s
# every buy signal of the unlimited run (half its orders, rounded up) was refused
assert rej["max_position"] == (free["orders"] + 1) // 2, (rej, free["orders"])
assert all(v == 0 for k, v in rej.items() if k != "max_position"), rej
PY
expect_rc 0 "... the text summary" env QMTL__RISK__MAX_POSITION=10 \
    "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml"
check "... shows the rejections by reason" grep -Eq "^orders sma_crossover: 0 sent, 0 filled, 0 blocked by the gate; rejected: max_position [1-9][0-9]*; flat$" "$E2E_TMP/out"
check "the two models differ (no look-ahead changes the result)" python3 - "$E2E_TMP/run.json" "$E2E_TMP/run-close.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["strategies"][0] for p in sys.argv[1:])
assert a["pnl"] != b["pnl"], (a["pnl"], b["pnl"])
PY
finish
