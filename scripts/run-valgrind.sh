#!/bin/bash
# Run each unit-test binary under valgrind, unforked, and fail on any error or leak.
# Two at a time (QMTL_VALGRIND_JOBS to change).
# Usage: scripts/run-valgrind.sh BUILD_DIR TEST_BIN...
set -u
B=$1; shift
one() {
    t=$1; log="$t.valgrind.log"
    # each binary in its own session: a test that signals its supervisor or children
    # (check_supervisor) must not reach make's process group
    if CK_FORK=no QMTL_BUILD="$B" QMTL_NO_DLCLOSE=1 QMTL_VALGRIND=1 setsid -w valgrind -q --error-exitcode=1 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        --suppressions=tests/valgrind.supp "$t" > "$log" 2>&1; then
        echo "  valgrind $(basename "$t"): clean"
    else
        cat "$log"; echo "FAIL: valgrind $(basename "$t")"; return 1
    fi
}
rc=0
jobs=${QMTL_VALGRIND_JOBS:-2}
running=0
for t in "$@"; do
    one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n 2>/dev/null || rc=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n 2>/dev/null || rc=1
    running=$((running - 1))
done
exit $rc
