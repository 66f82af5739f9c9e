#!/bin/bash
# A CSV file followed as it grows (--data TAGS=follow:PATH, host.data[].follow): the rows
# already there, rows appended (a half-written row waits for its newline), a bad row
# counted with its line, rotation by rename (the old file read to its end, the new one from
# its header), truncation in place; counted in /metrics while the host runs.
. "$(dirname "$0")/lib.sh"
command -v curl > /dev/null || { echo "# skipped: curl not installed"; exit 77; }
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD"/plugins/sma_crossover.so "$P/"
F=$E2E_TMP/btc.csv
rows() { # rows FIRST COUNT: CSV rows, one minute apart
    python3 -c 'import sys
a, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, a + n):
    print(f"{1704067200 + 60 * i},{100 + (i * 31 % 17)}")' "$1" "$2"
}
{ echo "timestamp,close"; rows 0 10; } > "$F"
MPORT=$(free_port)
cat > "$E2E_TMP/qmtl.yml" <<YML
host:
  plugins_dir: plugins
  metrics_port: $MPORT
  data:
    - tags: [BTC]
      path: btc.csv
      follow: true
YML
(cd "$E2E_TMP" && exec "$QMTL" run --offline --config qmtl.yml --json) > "$E2E_TMP/run.json" 2> "$E2E_TMP/run.err" &
HOST=$!
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
S=follow:./btc.csv   # the path as the config gives it, resolved against the config's directory
events() { [ "$(metric "qmtl_host_events_in_total{source=\"$S\"}")" = "$1" ]; }
check "the rows already there are read" wait_for 20 events 10
rows 10 5 >> "$F"
printf '1704068100,abc\n17040681' >> "$F"       # a bad row, then half a row
check "appended rows are read" wait_for 20 events 15
printf '60,120\n' >> "$F"                       # the rest of the half-written row
check "a half-written row waits for its newline" wait_for 20 events 16
check "the bad row is counted" test "$(metric "qmtl_host_bad_lines_total{source=\"$S\"}")" = 1
check "the bad row is logged with the file's line number" grep -q "live input $S: line 17: bad close 'abc' (line skipped)" "$E2E_TMP/run.err"
# rotation: a last row into the old file, rename it away, a new file with its header
rows 17 1 >> "$F"
mv "$F" "$F.1"
{ echo "timestamp,open,high,low,close"; rows 18 4 | sed 's/,\(.*\)/,\1,\1,\1,\1/'; } > "$F"
check "rotation: the old file's end and the new file are read" wait_for 20 events 21
# truncation in place (copytruncate)
{ echo "timestamp,close"; rows 22 3; } > "$F.tmp" && cat "$F.tmp" > "$F"
check "truncation: the file is read again from its start" wait_for 20 events 24
check "rotations counted" test "$(metric "qmtl_host_follow_rotations_total{source=\"$S\"}")" = 2
check "the host logged both" test "$(grep -c 'file rotated\|file truncated' "$E2E_TMP/run.err")" = 2
kill -TERM $HOST
wait $HOST
check "SIGTERM ends it (exit 0)" test $? -eq 0
check "the strategy saw every good row once" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["live_events"] == 24 and d["run"]["bad_lines"] == 1, d["run"]
s = d["strategies"][0]
assert s["status"] == "ok" and s["bars"] == 24, s
' "$E2E_TMP/run.json"
# a followed file given before a CSV file: each feeds its own streams
{ echo "timestamp,close"; rows 0 30; } > "$E2E_TMP/eth.csv"
{ echo "timestamp,close"; rows 0 40; } > "$E2E_TMP/b.csv"
M2=$(free_port)
"$QMTL" run --offline --plugins "$P" --data "ETH=follow:$E2E_TMP/eth.csv" --data "BTC=$E2E_TMP/b.csv" \
    --metrics-port "$M2" --json > "$E2E_TMP/mix.json" 2> "$E2E_TMP/mix.err" &
MIX=$!
total() { [ "$(curl -sf "http://127.0.0.1:$M2/metrics" | awk '$1 == "qmtl_host_events_total" {print $2}')" = 70 ]; }
check "followed file and CSV file both read" wait_for 20 total
kill -TERM $MIX; wait $MIX
check "the CSV file's bars reach its strategy, the followed file's its own tag" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["strategies"][0]["bars"] == 40 and d["run"]["unrouted"] == 30, d
' "$E2E_TMP/mix.json"
expect_rc 2 "follow without tags is refused" "$QMTL" run --offline --plugins "$P" --data "follow:$F"
check "the refusal says what to give" grep -q "a followed CSV file needs tags: TAGS=follow:" "$E2E_TMP/err"
expect_rc 1 "a missing file fails at start" "$QMTL" run --offline --plugins "$P" --data "BTC=follow:$E2E_TMP/nope.csv"
check "the error names the file" grep -q "live input follow:$E2E_TMP/nope.csv: cannot open" "$E2E_TMP/err"
finish
