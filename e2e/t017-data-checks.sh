#!/bin/bash
# Data that lies does not pass: NUL bytes, non-positive or inconsistent prices, a CSV
# sorted newest first (refused in one line, or sorted with --sort / host.data[].sort),
# and the status of the strategies when --csv-errors fail stops the run.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD"/plugins/*.so "$P/"
cd "$E2E_TMP" || exit 1
run() { "$QMTL" run --offline --plugins "$P" "$@"; }
# jcheck FILE PYTHON: assert over the JSON document d
jcheck() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }

python3 - <<'PY'
p = 100.0
rows = []
for i in range(300):
    p *= 1.002 if (i // 20) % 2 == 0 else 0.998
    rows.append((1704067200 + 60 * i, p, p * 1.001, p * 0.999, p * 1.0005, 10 + i % 7))
hdr = "timestamp,open,high,low,close,volume\n"
line = lambda r: "%d,%.6f,%.6f,%.6f,%.6f,%d\n" % r
open("asc.csv", "w").write(hdr + "".join(map(line, rows)))
open("desc.csv", "w").write(hdr + "".join(map(line, reversed(rows))))
open("nul.csv", "wb").write(b"timestamp,close\n1704067200,10\n1704067260,10\x00garbage\n1704067320,11\n")
open("neg.csv", "w").write("timestamp,close\n1704067200,10\n1704067260,-1\n1704067320,0\n1704067380,11\n")
open("liar.csv", "w").write(hdr + "1704067200,10,12,9,11,5\n1704067260,10,9,12,11,5\n"
                            "1704067320,10,12,9,11,-5\n1704067380,10,12,9,13,5\n1704067440,10,12,9,11,5\n")
PY

expect_rc 0 "ascending file" run --json --data BTC=asc.csv
cp out asc.json
jcheck asc.json 'assert d["run"]["events"] == 300 and d["run"]["skipped_rows"] == 0, d["run"]'

# newest first: one line saying so, not hundreds of "malformed" rows
expect_rc 1 "newest-first CSV is refused" run --json --data BTC=desc.csv
check "one line names the file and --sort" grep -q "desc.csv: rows are sorted newest first (line 3 is older than line 2);.*--sort" err
check "exactly one line about the order" test "$(grep -c 'newest first\|goes back in time\|row skipped' err)" -eq 1
jcheck out 'assert d["run"]["events"] == 0 and d["run"]["skipped_rows"] == 0 and all(s["status"] == "failed" for s in d["strategies"]), d'
expect_rc 1 "refused in skip mode and in fail mode alike" run --csv-errors fail --data BTC=desc.csv
check "fail mode: the same line" grep -q "sorted newest first" err

expect_rc 0 "--sort sorts it in memory" run --json --sort --data BTC=desc.csv
check "--sort gives the ascending file's results" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a["strategies"] == b["strategies"], (a["strategies"], b["strategies"])
assert b["run"]["events"] == 300
' asc.json out
printf 'host:\n  plugins_dir: %s\n  data:\n    - tags: [BTC]\n      path: desc.csv\n      sort: true\n' "$P" > sorted.yml
expect_rc 0 "host.data[].sort: true" "$QMTL" run --config sorted.yml --json
jcheck out 'assert d["run"]["events"] == 300 and all(s["status"] == "ok" for s in d["strategies"]), d'

# a NUL byte inside a field is an error, not "10"
expect_rc 1 "NUL byte with --csv-errors fail" run --json --csv-errors fail --data BTC=nul.csv
check "NUL row named" grep -q "nul.csv:3: NUL byte in the row" err
jcheck out 'assert d["strategies"] and all(s["status"] == "failed" for s in d["strategies"]), d["strategies"]'
check "failed status carries the reason" jcheck out 'assert "nul.csv:3" in d["strategies"][0]["error"]'
expect_rc 1 "text report: status failed" run --csv-errors fail --data BTC=nul.csv
check "text status column says failed" grep -q "^sma_crossover  *failed " out
check "text report says why" grep -q "^error: the run stopped early: nul.csv:3: NUL byte" out
expect_rc 0 "NUL byte skipped by default" run --json --data BTC=nul.csv
jcheck out 'assert d["run"]["events"] == 2 and d["run"]["skipped_rows"] == 1, d["run"]'

# non-positive prices: refused by default, accepted when asked for
expect_rc 0 "non-positive prices skipped" run --json --data BTC=neg.csv
jcheck out 'assert d["run"]["events"] == 2 and d["run"]["skipped_rows"] == 2, d["run"]'
check "named with file:line" grep -q "neg.csv:3: non-positive close -1" err
expect_rc 0 "--allow-nonpositive-prices" run --json --csv-errors fail --allow-nonpositive-prices --data BTC=neg.csv
jcheck out 'assert d["run"]["events"] == 4 and d["run"]["skipped_rows"] == 0, d["run"]'
printf 'host:\n  plugins_dir: %s\n  csv_errors: fail\n  data:\n    - tags: [BTC]\n      path: neg.csv\n      allow_nonpositive_prices: true\n' "$P" > neg.yml
expect_rc 0 "host.data[].allow_nonpositive_prices: true" "$QMTL" run --config neg.yml --json
jcheck out 'assert d["run"]["events"] == 4, d["run"]'
sed -i '/allow_nonpositive_prices/d' neg.yml
expect_rc 1 "the same config without the key fails" "$QMTL" run --config neg.yml --json

# bars that contradict themselves
expect_rc 0 "inconsistent bars skipped" run --json --data BTC=liar.csv
jcheck out 'assert d["run"]["events"] == 3 and d["run"]["skipped_rows"] == 2, d["run"]'
check "high < low named" grep -q "liar.csv:3: high 9 below low 12" err
check "negative volume named" grep -q "liar.csv:4: negative volume -5" err
finish
