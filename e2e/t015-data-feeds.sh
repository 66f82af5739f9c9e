#!/bin/bash
# qmtl run --offline with the data feeds: CSV formats and errors (file:line, skip|fail),
# several symbols merged, synthetic sources from qmtl.yml, the in-tree example plugins.
. "$(dirname "$0")/lib.sh"
D=$(pwd)/tests/data
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD"/plugins/*.so "$P/"

# every example strategy on three synthetic symbols: all run, all trade, all deterministic
SYN="--data BTC=gbm:count=5000,seed=3 --data AAA=gbm:count=5000,seed=4 --data BBB=random_walk:count=5000,seed=5"
expect_rc 0 "examples on synthetic data" "$QMTL" run --offline --plugins "$P" --json $SYN
cp "$E2E_TMP/out" "$E2E_TMP/a.json"
check "every example ran and traded" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s={x["name"]:x for x in d["strategies"]}
names={"sma_crossover","branching","multi_indicator","state_machine","order_pipeline","lagged_correlation"}
assert names <= set(s), sorted(s)
for n in names:
    assert s[n]["status"]=="ok", s[n]
    assert s[n]["fills"]>0 and s[n]["signals"]>0, (n, s[n])
assert d["run"]["events"]==15000 and d["run"]["sources"]==3, d["run"]
' "$E2E_TMP/a.json"
expect_rc 0 "same data again" "$QMTL" run --offline --plugins "$P" --json $SYN
check "identical results across runs" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a["strategies"]==b["strategies"]
' "$E2E_TMP/a.json" "$E2E_TMP/out"
expect_rc 0 "another seed" "$QMTL" run --offline --plugins "$P" --json \
    --data BTC=gbm:count=5000,seed=99 --data AAA=gbm:count=5000,seed=4 --data BBB=random_walk:count=5000,seed=5
check "another seed gives other results" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
sa={x["name"]:x for x in a["strategies"]}; sb={x["name"]:x for x in b["strategies"]}
assert sa["branching"]["pnl"]!=sb["branching"]["pnl"]
assert sa["lagged_correlation"]==sb["lagged_correlation"]   # does not read BTC
' "$E2E_TMP/a.json" "$E2E_TMP/out"

# a CSV sample: daily ISO-8601 bars
expect_rc 0 "sample CSV" "$QMTL" run --offline --plugins "$P" --json --data "BTC=$D/sample_ohlcv.csv"
check "sample: 5 events" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["run"]["events"]==5, d["run"]' "$E2E_TMP/out"

# malformed rows: skipped and counted by default, with file:line in the log
expect_rc 0 "malformed rows skipped" "$QMTL" run --offline --plugins "$P" --data "BTC=$D/malformed.csv"
check "skip: bad close named with file:line" grep -q "malformed.csv:3: bad close 'abc' (row skipped)" "$E2E_TMP/err"
check "skip: short row named" grep -q "malformed.csv:4: expected 6 fields, found 5" "$E2E_TMP/err"
check "skip: out-of-order row named" grep -q "malformed.csv:6: timestamp .* goes back in time" "$E2E_TMP/err"
check "skip: 3 events, 3 skipped" grep -q "^run: 3 events" "$E2E_TMP/out"
check "skip: summary counts skipped rows" grep -q "3 malformed row(s) skipped" "$E2E_TMP/out"
expect_rc 1 "malformed rows fail with --csv-errors fail" "$QMTL" run --offline --plugins "$P" \
    --csv-errors fail --data "BTC=$D/malformed.csv"
check "fail: first bad row named" grep -q "malformed.csv:3: bad close 'abc'" "$E2E_TMP/out" "$E2E_TMP/err"

# file-level errors
: > "$E2E_TMP/empty.csv"
expect_rc 1 "empty CSV" "$QMTL" run --offline --plugins "$P" --data "BTC=$E2E_TMP/empty.csv"
check "empty: message" grep -q "empty.csv': empty file" "$E2E_TMP/out" "$E2E_TMP/err"
printf 'timestamp,open,volume\n1700000000,1,2\n' > "$E2E_TMP/noclose.csv"
expect_rc 1 "CSV without close" "$QMTL" run --offline --plugins "$P" --data "BTC=$E2E_TMP/noclose.csv"
check "no close: message" grep -q "noclose.csv:1: no close column" "$E2E_TMP/out" "$E2E_TMP/err"

# two CSV symbols with epoch-ms and ISO timestamps, merged in time order for the fan-in
python3 - "$E2E_TMP" <<'PY'
import math, sys
d = sys.argv[1]
a = open(d + "/AAA.csv", "w"); b = open(d + "/BBB.csv", "w")
a.write("Time,Price\n"); b.write("date,open,high,low,close,volume\n")
pa, pb, prev = 100.0, 50.0, 0.0
for i in range(400):
    ts = 1700000040 + 60 * i
    r = 0.01 * math.sin(i * 1.7) + 0.004 * math.cos(i * 0.3)
    pa *= 1 + r
    pb *= 1 + 0.8 * prev + 0.003 * math.sin(i * 2.9)
    prev = r
    a.write("%d,%.6f\n" % (ts * 1000, pa))
    import datetime
    iso = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.write("%s,%.6f,%.6f,%.6f,%.6f,10\n" % (iso, pb, pb, pb, pb))
PY
expect_rc 0 "two CSV symbols (epoch ms + ISO)" "$QMTL" run --offline --plugins "$P" --json \
    --data "$E2E_TMP/AAA.csv" --data "$E2E_TMP/BBB.csv"
check "fan-in strategy traded the follower" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s={x["name"]:x for x in d["strategies"]}
assert d["run"]["events"]==800, d["run"]
assert s["lagged_correlation"]["fills"]>0, s["lagged_correlation"]
' "$E2E_TMP/out"

# data and broker costs from qmtl.yml
cat > "$E2E_TMP/qmtl.yml" <<YML
host:
  plugins_dir: plugins
  data:
    - tags: [BTC]
      synthetic: gbm
      count: 3000
      seed: 11
    - tags: [AAA]
      path: AAA.csv
    - tags: [BBB]
      path: BBB.csv
  strategies:
    sma_crossover:
      fast: 3
      slow: 9
broker:
  fee_bps: 0
  slippage_bps: 0
YML
expect_rc 0 "qmtl.yml data" "$QMTL" run --offline --config "$E2E_TMP/qmtl.yml" --json
check "qmtl.yml: synthetic + 2 CSV sources" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["run"]["events"]==3800 and d["run"]["sources"]==3, d["run"]
s={x["name"]:x for x in d["strategies"]}
assert s["sma_crossover"]["fees"]==0, s["sma_crossover"]
' "$E2E_TMP/out"
finish
