#!/bin/bash
# --sweep: one host runs a strategy once per parameter set; each set's results equal a
# separate run with that parameter, the data is read once and shared nodes run once.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD/plugins/sma_crossover.so" "$P/"
cd "$E2E_TMP" || exit 1
DATA='BTC=gbm:count=5000,interval=60,seed=5'
cat > qmtl.yml <<YML
host:
  plugins_dir: plugins
  strategies:
    sma_crossover:
      quantity: 3
YML

expect_rc 0 "--sweep fast x slow (2 x 3 sets)" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --json --sweep sma_crossover.fast=3,5 --sweep sma_crossover.slow=12,20,30
cp "$E2E_TMP/out" sweep.json
expect_rc 0 "the same sweep with --report" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --report sweep.html --sweep sma_crossover.fast=3,5 \
    --sweep sma_crossover.slow=12,20,30
check "every set is one strategy named by its parameters" python3 - sweep.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [s["name"] for s in d["strategies"]]
want = ["sma_crossover[fast=%d,slow=%d]" % (f, s) for f in (3, 5) for s in (12, 20, 30)]
assert sorted(names) == sorted(want), names
assert all(s["status"] == "ok" and s["fills"] > 0 for s in d["strategies"])
assert d["run"]["events"] == 5000, d["run"]  # the data is read once
# shared: the stream and sma(3), sma(5), sma(12), sma(20), sma(30): 6 nodes, not 6 x 5
assert d["run"]["shared_nodes"] == 6, d["run"]
PY
runs=0
for f in 3 5; do
    for s in 12 20 30; do
        "$QMTL" run --offline --config qmtl.yml --data "$DATA" --json \
            --param sma_crossover.fast=$f --param sma_crossover.slow=$s > "single-$f-$s.json" 2> /dev/null &&
            runs=$((runs + 1))
    done
done
check "six separate runs" test "$runs" -eq 6
check "each set's --json equals its separate run (all but the name)" python3 - sweep.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
computations = 0
for s in d["strategies"]:
    f, sl = s["name"][len("sma_crossover["):-1].replace("fast=", "").replace("slow=", "").split(",")
    single = json.load(open("single-%s-%s.json" % (f, sl)))
    one = single["strategies"][0]
    assert one["name"] == "sma_crossover", one["name"]
    a, b = dict(s), dict(one)
    del a["name"], b["name"]
    ja, jb = json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True)
    assert ja == jb, (s["name"], [k for k in a if a[k] != b.get(k)])
    computations += single["run"]["node_computations"]
# shared nodes are computed once in the sweep
assert d["run"]["node_computations"] < computations, (d["run"]["node_computations"], computations)
PY
check "the report ranks the sets and shows the surface" python3 - sweep.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
assert "Sweep: sma_crossover (6 parameter sets)" in h
assert "Ranking by Sharpe" in h and 'data-chart="sweep-sma_crossover"' in h
ranks = re.findall(r'<tr><td data-v="(\d+)"><a href="#s\d+">', h)
assert ranks == [str(i) for i in range(1, 7)], ranks
PY
expect_rc 2 "a bad --sweep value is a usage error" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --sweep 'sma_crossover.fast=3,,5'
check "... naming the value" grep -q "value 2 is not" "$E2E_TMP/err"
expect_rc 2 "--sweep without a key" "$QMTL" run --offline --data "$DATA" --sweep sma_crossover=3
expect_rc 1 "--sweep of a strategy no plugin has" "$QMTL" run --offline --config qmtl.yml \
    --data "$DATA" --sweep sma_crossver.fast=3,5
check "... names it" grep -q "no plugin named 'sma_crossver'" "$E2E_TMP/err"
finish
