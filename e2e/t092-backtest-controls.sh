#!/bin/bash
# Backtest controls: --from/--to, --param over host.strategies, unknown parameter keys and
# strategy names (warning, --strict error), the progress line (terminal only).
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD/plugins/sma_crossover.so" "$P/"
cd "$E2E_TMP" || exit 1
# ten days of hourly bars from 2024-01-01T00:00:00Z
DATA='BTC=gbm:count=240,interval=3600,seed=9,start_ts=1704067200'
cat > qmtl.yml <<YML
host:
  plugins_dir: plugins
  strategies:
    sma_crossover:
      interval: 1h
      fast: 5
      slow: 12
YML

expect_rc 0 "--from/--to dates" "$QMTL" run --offline --config qmtl.yml --data "$DATA" --json \
    --from 2024-01-03 --to 2024-01-04
check "only the bars of Jan 3 and 4 are replayed" python3 - "$E2E_TMP/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["events"] == 48, d["run"]
ts = d["strategies"][0]["equity"]["ts"]
assert ts[0] >= 1704240000 and ts[-1] <= 1704412799, (ts[0], ts[-1])
PY
expect_rc 0 "--from/--to times and seconds" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --json --from 2024-01-05T12:00 --to 1704474000
check "... from 12:00 to 17:00 inclusive: 6 bars" python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); assert d["run"]["events"] == 6, d["run"]' "$E2E_TMP/out"
expect_rc 2 "a bad --from is a usage error" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --from 2024-02-30
expect_rc 2 "--from after --to" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --from 2024-01-05 --to 2024-01-04

# --param wins over host.strategies: the same as the config saying it
expect_rc 0 "--param over the config" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --json --param sma_crossover.fast=3 --param sma_crossover.slow=8
cp "$E2E_TMP/out" param.json
sed 's/fast: 5/fast: 3/; s/slow: 12/slow: 8/' qmtl.yml > qmtl38.yml
expect_rc 0 "the config with those values" "$QMTL" run --offline --config qmtl38.yml \
    --data "$DATA" --json
check "identical strategy results" python3 -c '
import json, sys
a, b = (json.load(open(p))["strategies"] for p in sys.argv[1:3])
assert a == b and a[0]["fills"] > 0, (a[0]["fills"], b[0]["fills"])' param.json "$E2E_TMP/out"
expect_rc 0 "the default config values differ" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --json
check "... so --param had an effect" python3 -c '
import json, sys
a, b = (json.load(open(p))["strategies"] for p in sys.argv[1:3])
assert a != b' param.json "$E2E_TMP/out"
expect_rc 2 "--param without a key" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --param fast=3

expect_rc 0 "an unknown parameter key is a warning" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --param sma_crossover.fsat=3
check "... naming it" grep -q "WARN .*parameter 'sma_crossover.fsat': strategy 'sma_crossover' does not read 'fsat'" "$E2E_TMP/err"
expect_rc 1 "... an error with --strict" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --param sma_crossover.fsat=3 --strict
check "... naming it" grep -q "sma_crossover.fsat.*(--strict)" "$E2E_TMP/err"
cat >> qmtl.yml <<YML
    sma_crossver:
      fast: 4
YML
expect_rc 0 "an unknown strategy name in host.strategies is a warning" "$QMTL" run --offline \
    --config qmtl.yml --data "$DATA"
check "... naming it" grep -q "no strategy named 'sma_crossver' is loaded" "$E2E_TMP/err"
expect_rc 1 "... an error with --strict" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --strict
check "known keys raise nothing" bash -c "! grep -q 'does not read' '$E2E_TMP/err'"

# --order-log numbers are the shortest text that reads back to the same double
expect_rc 0 "--order-log" "$QMTL" run --offline --config qmtl.yml --data "$DATA" \
    --order-log orders.log --fee-bps 7.3 --slippage-bps 3.1
check "order log prices are shortest round-trip decimals" python3 - orders.log <<'PY'
import re, sys
nums = re.findall(r"(?:qty|price|fee)=(\S+)", open(sys.argv[1]).read())
assert len(nums) > 20, len(nums)
for n in nums:
    assert repr(float(n)) == n, n  # Python's repr is the shortest round-trip form
assert any(len(n.split(".")[-1]) > 6 for n in nums)  # real fill prices, not round numbers
PY

# progress: a backtest longer than a second (4 million bars: about 3.5 s at the 1.1 million
# bars/s measured on a quiet machine), on a terminal and not
LONG='BTC=gbm:count=4000000,interval=60,seed=2'
expect_rc 0 "long run, stderr not a terminal" "$QMTL" run --offline --plugins "$P" --data "$LONG"
check "no progress line" bash -c "! grep -q 'ETA' '$E2E_TMP/err'"
if script -qc true /dev/null > /dev/null 2>&1; then
    script -qc "'$QMTL' run --offline --plugins '$P' --data '$LONG' > /dev/null" /dev/null \
        > tty.txt 2>&1
    check "on a terminal: events done/total, rate, ETA" \
        grep -aq 'qmtl run: [0-9]*/4000000 events ( *[0-9]*%), [0-9]* events/s, ETA [0-9]* s' tty.txt
    script -qc "'$QMTL' run --offline --plugins '$P' --data '$LONG' --quiet > /dev/null" /dev/null \
        > tty-quiet.txt 2>&1
    check "--quiet: none" bash -c "! grep -aq 'ETA' tty-quiet.txt"
else
    echo "# script(1) cannot allocate a terminal here: terminal case not run"
fi
finish
