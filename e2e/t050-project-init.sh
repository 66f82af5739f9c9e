#!/bin/bash
# qmtl project init: every template is scaffolded with sample data, built, run offline
# (non-empty summary, trades) and tested, with qmtl from the build tree and from a
# 'make install' prefix, with no environment variable set; refusals and exit codes.
. "$(dirname "$0")/lib.sh"
ROOT=$(pwd)
: "${QMTL_VARIANT:=default}"

# Run make in a generated project the way a user would: nothing inherited from the
# 'make check' that runs this script (its QMTL variable, its flags, its jobserver).
pmake() { pmake_path "$PATH" "$@"; }
pmake_path() { local path=$1; shift; env -u QMTL -u QMTL_BUILD -u QMTL_VARIANT -u MAKEFLAGS \
    -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS PATH="$path" make --no-print-directory "$@"; }

quiet() { "$@" >/dev/null; }

# Total of the "fills" column of a run's summary table, strategy rows only (0 when
# there is none).
trades_in() {
    awk '$1 == "strategy" { for (i = 1; i <= NF; i++) if ($i == "fills") col = i; next }
         $1 == "TOTAL" { next }
         col && NF >= col && $col ~ /^[0-9]+$/ { sum += $col }
         /^$/ { col = 0 }
         END { print sum + 0 }' "$1"
}

# init, build, run and test one project; $1 = qmtl binary, $2 = template, $3 = dir
exercise() {
    local q=$1 t=$2 p=$3 label=$4
    expect_rc 0 "$label: init --strategy $t --with-sample-data" \
        "$q" project init --path "$p" --strategy "$t" --with-sample-data
    expect_rc 0 "$label: make ($t)" pmake -C "$p"
    if grep -q 'warning:' "$E2E_TMP/out" "$E2E_TMP/err"; then
        not_ok "$label: $t builds without warnings"; grep 'warning:' "$E2E_TMP/err" | sed 's/^/# /'
    else ok "$label: $t builds without warnings"; fi
    check "$label: $t exports only the descriptor" \
        quiet "$ROOT/scripts/check-exports.sh" "$p/build/strategy.so"
    expect_rc 0 "$label: make run ($t)" pmake -C "$p" run
    cp "$E2E_TMP/out" "$E2E_TMP/run-$t.out"
    check "$label: $t: every data source feeds a stream input" \
        bash -c "! grep -h 'matched no stream input' '$E2E_TMP/out' '$E2E_TMP/err'"
    check "$label: make run ($t) writes report.html next to the project and says where" \
        grep -q "report written to $(cd "$p" && pwd -P)/report.html" "$E2E_TMP/err"
    check "$label: ... a non-empty HTML file" grep -q '<svg class="chart"' "$p/report.html"
    local n; n=$(trades_in "$E2E_TMP/run-$t.out")
    if [ -s "$E2E_TMP/run-$t.out" ] && [ "$n" -gt 0 ]; then
        ok "$label: $t summary shows $n trades"
    else
        not_ok "$label: $t summary shows trades"; sed 's/^/# /' "$E2E_TMP/run-$t.out" "$E2E_TMP/err"
    fi
    expect_rc 0 "$label: make test ($t)" pmake -C "$p" test
}

# ------------------------------------------------------------ listing
expect_rc 0 "--list-templates needs no --path" "$QMTL" project init --list-templates
TEMPLATES=$(awk '{print $1}' "$E2E_TMP/out")
check "seven templates listed" test "$(echo $TEMPLATES)" = \
    "general single_indicator multi_indicator branching state_machine order_pipeline tag_query"
check "every template has a one-line description" \
    test "$(awk 'NF < 3' "$E2E_TMP/out" | wc -l)" -eq 0
check "general is the default" grep -q '^general .*(default)$' "$E2E_TMP/out"

# ------------------------------------------------------------ every template, build tree
for t in $TEMPLATES; do
    exercise "$QMTL" "$t" "$E2E_TMP/build-tree/$t" "build tree"
done
# without --with-sample-data: synthetic sources for the template's symbols only, each
# feeding a stream input (run with the strategy built above)
for t in $TEMPLATES; do
    S=$E2E_TMP/synthetic/$t
    "$QMTL" project init --path "$S" --strategy "$t" > /dev/null &&
        mkdir -p "$S/build" && cp "$E2E_TMP/build-tree/$t/build/strategy.so" "$S/build/"
    expect_rc 0 "synthetic data: run $t" bash -c "cd '$S' && '$QMTL' run --offline --config qmtl.yml"
    check "synthetic data: $t: every source feeds a stream input" \
        bash -c "! grep -h 'matched no stream input' '$E2E_TMP/out' '$E2E_TMP/err'"
done

# identity params follow the real parameter: branching's lookback is both what
# risk_adjusted computes with and what its params (and so its NodeID) say
B=$E2E_TMP/build-tree/branching
# adjusted FIELD: FIELD ("id:", "params:") of the risk_adjusted node in the last --explain
adjusted() { awk -v f="$1" '/^\[[0-9]+\]/ { on = ($0 ~ / '"'"'risk_adjusted'"'"' /) }
    on && $1 == f { print $2; exit }' "$E2E_TMP/out"; }
expect_rc 0 "branching: --explain" bash -c "cd '$B' && '$QMTL' run --offline --config qmtl.yml --explain"
check "branching: risk_adjusted params say lookback 10" test "$(adjusted params:)" = '{"lookback":10}'
ID10=$(adjusted id:)
sed -i 's/^  # strategies:$/  strategies:\n    branching:\n      lookback: 20/' "$B/qmtl.yml"
expect_rc 0 "branching with lookback 20: --explain" \
    bash -c "cd '$B' && '$QMTL' run --offline --config qmtl.yml --explain"
check "branching: risk_adjusted params follow lookback (20)" test "$(adjusted params:)" = '{"lookback":20}'
check "branching: ... and so does its NodeID" test -n "$ID10" -a "$(adjusted id:)" != "$ID10"

P=$E2E_TMP/build-tree/general
check "Makefile records the qmtl that created it" grep -qx "QMTL ?= $QMTL" "$P/Makefile"
check ".gitignore holds build outputs only" test "$(grep -v '^#' "$P/.gitignore")" = "/build/"
check "qmtl.yml is offline by default" bash -c "! grep -Eq '^ *(gateway_url|world_id):' '$P/qmtl.yml'"
check "qmtl.yml shows how to attach (commented)" grep -q '^ *# gateway_url:' "$P/qmtl.yml"
check "sample data: the symbol general reads, and only it" \
    test -f "$P/data/BTC_1m.csv" -a ! -e "$P/data/ETH_1m.csv"
TQ=$E2E_TMP/build-tree/tag_query
check "sample data: tag_query gets both of its symbols" \
    test -f "$TQ/data/BTC_1m.csv" -a -f "$TQ/data/ETH_1m.csv"
check "sample data: BTC is the same file whichever the template" \
    cmp -s "$P/data/BTC_1m.csv" "$TQ/data/BTC_1m.csv"
check "sample data: >= 10,000 one-minute bars each" \
    test "$(wc -l < "$TQ/data/BTC_1m.csv")" -gt 10000 -a "$(wc -l < "$TQ/data/ETH_1m.csv")" -gt 10000
check "sample data: every bar is a valid OHLCV bar with plausible prices" awk -F, '
    NR == 1 { ok = ($0 == "timestamp,open,high,low,close,volume"); next }
    { if ($4 > $2 || $4 > $5 || $3 < $2 || $3 < $5 || $4 <= 0 || $6 <= 0) ok = 0
      if (NR == 2) first = $5
      if ($5 < first / 2 || $5 > first * 2) ok = 0
      if (prev != "" && $2 != prev) ok = 0; prev = $5 }
    END { exit !(ok && NR > 10000) }' "$P/data/BTC_1m.csv"
expect_rc 0 "qmtl config validate accepts the generated qmtl.yml" \
    "$QMTL" config validate --offline --target host --config "$P/qmtl.yml"
expect_rc 0 "make clean" pmake -C "$P" clean
check "make clean removes build/" test ! -e "$P/build"

# the project still builds when the recorded qmtl is gone, using qmtl from PATH
sed -i "s|^QMTL ?= .*|QMTL ?= /nonexistent/qmtl|" "$P/Makefile"
expect_rc 0 "falls back to qmtl on PATH" pmake_path "$(dirname "$QMTL"):$PATH" -C "$P"
expect_rc 2 "without any qmtl, make says so" pmake_path /usr/bin:/bin -C "$P" all
check "... naming the fix" grep -q "make QMTL=/path/to/qmtl" "$E2E_TMP/err"

# ------------------------------------------------------------ two strategies, one host
# A second tag_query project in the same plugins dir: its tagged momentum nodes are the
# same nodes (shared), and both strategies read them by tag.
A=$E2E_TMP/build-tree/tag_query B2=$E2E_TMP/second_tag_query
"$QMTL" project init --path "$B2" --strategy tag_query > /dev/null && pmake -C "$B2" > /dev/null
mkdir -p "$E2E_TMP/host-plugins"
cp "$A/build/strategy.so" "$E2E_TMP/host-plugins/a.so"
cp "$B2/build/strategy.so" "$E2E_TMP/host-plugins/b.so"
expect_rc 0 "two tag_query strategies in one host" "$QMTL" run --offline \
    --plugins "$E2E_TMP/host-plugins" --data "BTC=$A/data/BTC_1m.csv" --data "ETH=$A/data/ETH_1m.csv"
check "... both trade" test "$(awk '$1 == "tag_query" || $1 == "second_tag_query" { if ($5 > 0) n++ } END { print n + 0 }' "$E2E_TMP/out")" -eq 2
check "... sharing their tagged nodes" grep -Eq '[1-9][0-9]* shared' "$E2E_TMP/out"

# ------------------------------------------------------------ make demo
expect_rc 0 "make demo's script: init, build, run offline" \
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash "$ROOT/scripts/demo.sh" "$QMTL_BUILD" "$E2E_TMP/demo"
check "... prints the summary with trades" test "$(trades_in "$E2E_TMP/out")" -gt 0
check "... and where the project is" grep -q "^demo project: $E2E_TMP/demo\$" "$E2E_TMP/out"

# ------------------------------------------------------------ refusals and exit codes
D=$E2E_TMP/refuse
mkdir -p "$D/full" && echo keep > "$D/full/mine.txt"
expect_rc 1 "non-empty directory refused" "$QMTL" project init --path "$D/full"
check "... saying why" grep -q "not empty" "$E2E_TMP/err"
check "... and writing nothing" test ! -e "$D/full/strategy.c"
expect_rc 0 "--force writes into it" "$QMTL" project init --path "$D/full" --force
check "... keeping the user's file" test -f "$D/full/mine.txt" -a -f "$D/full/strategy.c"
expect_rc 2 "unknown template refused" "$QMTL" project init --path "$D/x" --strategy nope
check "... listing the valid ones" grep -q "general, single_indicator, multi_indicator, branching, state_machine, order_pipeline, tag_query" "$E2E_TMP/err"
check "... creating nothing" test ! -e "$D/x"
echo file > "$D/afile"
expect_rc 1 "path under a file refused" "$QMTL" project init --path "$D/afile/p"
check "... saying why" grep -q "cannot create" "$E2E_TMP/err"
expect_rc 1 "uncreatable path refused" "$QMTL" project init --path /proc/qmtl-e2e/p
if [ "$(id -u)" -ne 0 ]; then
    mkdir -m 555 "$D/ro"
    expect_rc 1 "read-only directory refused" "$QMTL" project init --path "$D/ro/p"
else
    ok "read-only directory refused # SKIP running as root"
fi
expect_rc 2 "missing --path is a usage error" "$QMTL" project init
expect_rc 2 "unknown option is a usage error" "$QMTL" project init --path "$D/y" --bogus

# ------------------------------------------------------------ installed
P=$E2E_TMP/prefix
expect_rc 0 "make install PREFIX=tmp" make -s -C "$ROOT" install PREFIX="$P" VARIANT="$QMTL_VARIANT"
check "templates installed" test -f "$P/share/qmtl/templates.list"
expect_rc 0 "installed: qmtl sdk --cflags" "$P/bin/qmtl" sdk --cflags
check "... points at the prefix" grep -qx -- "-I$P/include" "$E2E_TMP/out"
expect_rc 0 "installed: qmtl sdk --libs" "$P/bin/qmtl" sdk --libs
check "... points at the prefix" grep -q -- "-L$P/lib -lqmtl_testkit" "$E2E_TMP/out"
expect_rc 0 "installed: --list-templates" "$P/bin/qmtl" project init --list-templates
for t in general tag_query; do
    exercise "$P/bin/qmtl" "$t" "$E2E_TMP/installed/$t" "installed"
done
check "installed project records the installed qmtl" \
    grep -qx "QMTL ?= $P/bin/qmtl" "$E2E_TMP/installed/general/Makefile"
finish
