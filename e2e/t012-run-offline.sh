#!/bin/bash
# qmtl run --offline: fixture strategies on synthetic and CSV data, report, explain, failures.
. "$(dirname "$0")/lib.sh"
F=$QMTL_BUILD/fixtures
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$F/rt_slice.so" "$F/rt_cross.so" "$P/"

expect_rc 0 "two strategies on synthetic data" "$QMTL" run --offline --plugins "$P" \
    --data BTC=gbm:count=3000,interval=60,seed=7
check "report lists rt_slice" grep -q "^rt_slice  *ok  *3000 " "$E2E_TMP/out"
check "report lists rt_cross" grep -q "^rt_cross  *ok  *3000 " "$E2E_TMP/out"
check "run line counts events" grep -q "^run: 3000 events from 1 source" "$E2E_TMP/out"

expect_rc 0 "--json" "$QMTL" run --offline --plugins "$P" --json \
    --data BTC=gbm:count=3000,interval=60,seed=7
cp "$E2E_TMP/out" "$E2E_TMP/a.json"
check "--json: strategies with fills and shared nodes" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s={x["name"]:x for x in d["strategies"]}
assert s["rt_cross"]["fills"]>0 and s["rt_slice"]["fills"]>0, s
assert s["rt_cross"]["bars"]==3000
assert d["run"]["events"]==3000 and d["run"]["shared_nodes"]==2, d["run"]
' "$E2E_TMP/a.json"
expect_rc 0 "same input again" "$QMTL" run --offline --plugins "$P" --json \
    --data BTC=gbm:count=3000,interval=60,seed=7
check "same results across runs" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a["strategies"]==b["strategies"]
' "$E2E_TMP/a.json" "$E2E_TMP/out"

expect_rc 0 "--explain" "$QMTL" run --offline --plugins "$P" --explain --data BTC=gbm:count=10
check "--explain shows a shared stream" grep -q "strategies: rt_cross, rt_slice (shared)" "$E2E_TMP/out"
check "--explain shows NodeIDs" grep -q "id: blake3:[0-9a-f]\{64\}$" "$E2E_TMP/out"

# CSV data bound by file name stem
printf 'timestamp,open,high,low,close,volume\n' > "$E2E_TMP/BTC.csv"
for i in $(seq 0 59); do
    printf '%d,100,101,99,%d,1\n' $((1700000000 + i * 60)) $((100 + (i % 10))) >> "$E2E_TMP/BTC.csv"
done
expect_rc 0 "CSV by file stem" "$QMTL" run --offline --plugins "$P" --data "$E2E_TMP/BTC.csv"
check "CSV: 60 bars each" grep -q "^rt_cross  *ok  *60 " "$E2E_TMP/out"

# a failing plugin is reported and stopped; the others go on
cp "$F/rt_fail.so" "$P/"
expect_rc 1 "failing compute is reported" "$QMTL" run --offline --plugins "$P" \
    --data BTC=gbm:count=100
check "names plugin and node" grep -q "error: plugin 'rt_fail': node 'boom' (blake3:" "$E2E_TMP/out"
check "others still ran" grep -q "^rt_cross  *ok  *100 " "$E2E_TMP/out"

# duplicate names: both files refused, whichever sorts first
cp "$F/rt_cross.so" "$P/rt_cross_copy.so"
expect_rc 1 "duplicate plugin name" "$QMTL" run --offline --plugins "$P" --data BTC=gbm:count=10
check "duplicate: message" grep -qF "plugin 'rt_cross': duplicate name in $P/rt_cross.so and $P/rt_cross_copy.so; both refused" "$E2E_TMP/out"
check "duplicate: neither ran" sh -c "! grep -q '^rt_cross ' '$E2E_TMP/out'"

# the same from a qmtl.yml: plugins dir, data, broker costs, strategy parameters
cat > "$E2E_TMP/qmtl.yml" <<YML
host:
  plugins_dir: plugins
  data:
    - tags: [BTC]
      synthetic: gbm
      count: 500
      interval_s: 60
      seed: 11
  strategies:
    rt_slice:
      window: 8
broker:
  initial_cash: 50000
  fee_bps: 0
  slippage_bps: 0
YML
rm -f "$P/rt_fail.so" "$P/rt_cross_copy.so"
expect_rc 0 "run from qmtl.yml" "$QMTL" run --config "$E2E_TMP/qmtl.yml" --json
check "config: data, params and cash used" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s={x["name"]:x for x in d["strategies"]}
assert s["rt_slice"]["bars"]==500 and d["run"]["events"]==500, d
assert abs(s["rt_slice"]["final_equity"]-50000-s["rt_slice"]["pnl"])<1e-6
assert s["rt_slice"]["fees"]==0
' "$E2E_TMP/out"
expect_rc 0 "explain from qmtl.yml" "$QMTL" run --config "$E2E_TMP/qmtl.yml" --explain
check "window parameter reached setup (sma period 8)" grep -q "sma 'ma' interval=60s period=8" "$E2E_TMP/out"
# a stream nobody feeds: warned (skip) or refused (fail)
expect_rc 0 "unfed stream is a warning" "$QMTL" run --offline --plugins "$P" --data ETH=gbm:count=10
check "warning names the stream" grep -q "stream 'price' (tags BTC) of strategy 'rt_cross': no data source" "$E2E_TMP/err"
expect_rc 1 "unfed stream fails with host.on_missing=fail" env QMTL__HOST__ON_MISSING=fail \
    "$QMTL" run --offline --plugins "$P" --data ETH=gbm:count=10
check "fail names the stream" grep -q "no data source" "$E2E_TMP/err"

# a plugin that crashes in compute: the line names plugin and node, then the signal kills
mkdir -p "$E2E_TMP/crash"
cp "$F/rt_crash.so" "$F/rt_cross.so" "$E2E_TMP/crash/"
"$QMTL" run --offline --plugins "$E2E_TMP/crash" --data BTC=gbm:count=100 \
    > "$E2E_TMP/out" 2> "$E2E_TMP/err"
rc=$?
check "crash: killed by SIGSEGV (exit $rc)" test "$rc" -eq 139
check "crash: names plugin and node" grep -q \
    "^qmtl run: plugin 'rt_crash': node 'bad' (blake3:[0-9a-f]*) crashed with signal 11$" "$E2E_TMP/err"

# SIGINT during the replay: the run stops between two batches, on_finish runs, the report
# covers what was replayed and says why it stopped (exit 1)
"$QMTL" run --offline --plugins "$P" --order-log "$E2E_TMP/int.log" \
    --data BTC=gbm:count=200000000,interval=1,seed=3 > "$E2E_TMP/int.out" 2> "$E2E_TMP/int.err" &
pid=$!
check "SIGINT: the replay is running (orders logged)" wait_for 60 test -s "$E2E_TMP/int.log"
kill -INT $pid
for _ in $(seq 1 600); do kill -0 $pid 2> /dev/null || break; sleep 0.05; done
kill -0 $pid 2> /dev/null && kill -KILL $pid
wait $pid
rc=$?
check "SIGINT: exits 1 (exit $rc)" test "$rc" -eq 1
check "SIGINT: says so" grep -q "^qmtl run: interrupted by SIGINT after [0-9]* event(s)$" "$E2E_TMP/int.err"
check "SIGINT: report of the strategies, marked failed" grep -q "^rt_cross  *failed " "$E2E_TMP/int.out"
check "SIGINT: part of the data" python3 -c '
import re,sys
n=int(re.search(r"^run: (\d+) events", open(sys.argv[1]).read(), re.M).group(1))
assert 0 < n < 200000000, n
' "$E2E_TMP/int.out"

expect_rc 2 "no data is a usage error" "$QMTL" run --offline --plugins "$P"
expect_rc 2 "bad --data" "$QMTL" run --offline --plugins "$P" --data "BTC=gbm:count=x"
expect_rc 1 "missing CSV" "$QMTL" run --offline --plugins "$P" --data "BTC=$E2E_TMP/none.csv"
finish
