#!/bin/bash
# A full offline backtest checked against an independent computation: the sma_crossover
# example on a CSV, with fees and slippage; trades, fees, PnL, Sharpe and max drawdown
# recomputed here from the same CSV (SMA, crossover, long-only signal, fills, equity curve).
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
        f.write("%d,%.6f,%.6f,%.6f,%.6f,%d\n" % (1700000040 + 60 * i, p, max(p, q) + 0.01, min(p, q) - 0.01, q, 1000 + i % 7))
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
check "trades, fees, pnl, sharpe, drawdown match an independent computation" python3 - "$E2E_TMP/BTC.csv" "$E2E_TMP/run.json" <<'PY'
import csv, json, math, sys
c = [float(r["close"]) for r in csv.DictReader(open(sys.argv[1]))]
FAST, SLOW, QTY, CASH, FEE, SLIP = 4, 12, 25.0, 50000.0, 7.5e-4, 3e-4
sma = lambda t, w: sum(c[t - w + 1:t + 1]) / w
cash, pos, target, fees, trades, eq = CASH, 0.0, 0.0, 0.0, 0, []
for t in range(len(c)):
    if t >= SLOW:
        d0 = sma(t - 1, FAST) - sma(t - 1, SLOW)
        d1 = sma(t, FAST) - sma(t, SLOW)
        assert abs(d1) > 1e-9, "tie at bar %d" % t
        cross = 1 if d0 <= 0 < d1 else -1 if d0 >= 0 > d1 else 0
        want = 1.0 if cross > 0 else 0.0 if cross < 0 else target
        if want != target:
            target = want
            delta = want * QTY - pos
            side = 1 if delta > 0 else -1
            px = c[t] * (1 + side * SLIP)
            notional = abs(delta) * px
            cash -= side * notional + notional * FEE
            fees += notional * FEE
            pos += delta
            trades += 1
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
PY
finish
