#!/bin/bash
# qmtl run with hostile plugins built here: each is refused with one line naming its file
# and what it did, and the host keeps running the good strategies.
. "$(dirname "$0")/lib.sh"
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "# $CC not found"; exit 77; }
SRC=$E2E_TMP/src
P=$E2E_TMP/plugins
mkdir -p "$SRC" "$P"
chmod 755 "$P"
CFLAGS="$("$QMTL" sdk --cflags) -shared -fPIC -fvisibility=hidden -O1"

# plugin NAME DESCRIPTOR-NAME SETUP-BODY [EXTRA-CODE]: build $P/NAME.so
plugin() {
    cat > "$SRC/$1.c" <<C
#include <qmtl/qmtl.h>
#include <stdlib.h>
${4:-}
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    (void)ctx; (void)h; (void)err;
    $3
}
QMTL_PLUGIN(.name = "$2", .version = "6.6.6", .setup = setup);
C
    $CC $CFLAGS -o "$P/$1.so" "$SRC/$1.c" || not_ok "cannot build $1"
}
plugin ctor_exit ctor_exit "return QMTL_OK;" \
    "__attribute__((constructor)) static void grab(void) { exit(3); }"
plugin loops loops "for (volatile int i = 0;; i++) ; return QMTL_OK;"
plugin segv segv "volatile int *p = 0; return *p;"
# name squatting: sorts before the real file and declares its name
plugin aaa sma_crossover "return QMTL_OK;"
cp "$QMTL_BUILD/plugins/sma_crossover.so" "$P/sma_crossover.so"
cp "$QMTL_BUILD/fixtures/rt_cross.so" "$QMTL_BUILD/fixtures/rt_slice.so" \
    "$QMTL_BUILD/fixtures/tag_cycle.so" "$P/"

export QMTL__HOST__PREFLIGHT_TIMEOUT_S=2
run() { "$QMTL" run --offline --plugins "$P" --json --data BTC=gbm:count=500,interval=60,seed=3; }
start=$(date +%s)
expect_rc 1 "the run completes, with refusals (exit 1)" run
took=$(( $(date +%s) - start ))
check "the looping plugin cost at most the preflight limit (took ${took}s)" test "$took" -lt 20
cp "$E2E_TMP/err" "$E2E_TMP/run.err"
has() { check "$1" grep -qF -- "$2" "$E2E_TMP/run.err"; }
has "constructor exit: refused, named" \
    "plugin '$P/ctor_exit.so': refused by preflight: exited with status 3 while loading (in an ELF constructor)"
has "setup loop: killed at the limit" \
    "plugin 'loops' ($P/loops.so): refused by preflight: setup() did not finish within 2 s (killed)"
has "setup segfault: refused" \
    "plugin 'segv' ($P/segv.so): refused by preflight: crashed with signal 11 (Segmentation fault) in setup()"
has "duplicate name: both files named, both refused" \
    "plugin 'sma_crossover': duplicate name in $P/aaa.so and $P/sma_crossover.so; both refused"
has "tag-query cycle: that plugin refused, by name" \
    "plugin 'tag_cycle' ($P/tag_cycle.so): graph: cycle through node"
check "the good strategies ran to the end" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s={x["name"]:x for x in d["strategies"]}
assert set(s)=={"rt_cross","rt_slice"}, s.keys()
assert all(x["status"]=="ok" and x["bars"]==500 for x in s.values()), s
' "$E2E_TMP/out"

# the same checks for one file in qmtl plugin check
expect_rc 1 "plugin check: constructor exit refused" "$QMTL" plugin check "$P/ctor_exit.so"
check "plugin check: one line" test "$(wc -l < "$E2E_TMP/err")" -eq 1

# a sparse 1 GiB plugin is refused without being copied
cp "$QMTL_BUILD/fixtures/ok.so" "$E2E_TMP/big.so" && truncate -s 1G "$E2E_TMP/big.so"
expect_rc 1 "a 1 GiB plugin is refused" "$QMTL" plugin check "$E2E_TMP/big.so"
check "... by its size" grep -qF "file is 1073741824 bytes, larger than the 256 MiB" "$E2E_TMP/err"

# a world-writable plugins directory: nothing loads, the fix is given
rm -f "$P"/ctor_exit.so "$P"/loops.so "$P"/segv.so "$P"/aaa.so "$P"/tag_cycle.so
chmod 777 "$P"
expect_rc 1 "world-writable plugins directory refused" run
check "... with the chmod to run" grep -qF \
    "plugins directory '$P' is writable by everyone; others could replace it: run 'chmod go-w $P'" \
    "$E2E_TMP/err"
chmod 755 "$P"
chmod 666 "$P/rt_slice.so"
expect_rc 1 "a world-writable plugin file is refused, the others run" run
check "... named with the chmod to run" grep -qF \
    "plugin '$P/rt_slice.so' is writable by everyone; others could replace it: run 'chmod go-w $P/rt_slice.so'" \
    "$E2E_TMP/err"
check "... and the others ran" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert {x["name"] for x in d["strategies"]}=={"rt_cross","sma_crossover"}, d["strategies"]
' "$E2E_TMP/out"
chmod 644 "$P/rt_slice.so"

# setup stays linear: 100,000 nodes in one strategy. Measured in CPU seconds (host and
# preflight child), not wall time: a quadratic setup costs well over a minute of CPU.
rm -f "$P"/*.so
cp "$QMTL_BUILD/fixtures/many_nodes.so" "$P/"
limit=10
[ "${QMTL_VARIANT:-default}" = default ] || limit=120 # sanitizers are slower
export QMTL__HOST__PREFLIGHT_TIMEOUT_S=300
few() { "$QMTL" run --offline --plugins "$P" --json --data BTC=gbm:count=5,interval=60; }
expect_rc 0 "100,000 nodes in one strategy" few
cpu=$( { TIMEFORMAT='%U %S'; time few >/dev/null 2>&1; } 2>&1 | awk '{ printf "%d", $1 + $2 }')
check "... cost ${cpu} CPU seconds (< ${limit})" test "$cpu" -lt "$limit"
QMTL__HOST__MAX_NODES_PER_STRATEGY=1000 expect_rc 1 "host.max_nodes_per_strategy caps it" few
check "... with a clear error" grep -qF \
    "more than 1000 nodes in one strategy (host.max_nodes_per_strategy)" "$E2E_TMP/err"
finish
