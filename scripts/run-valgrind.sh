#!/bin/sh
# Run each unit-test binary under valgrind, unforked, and fail on any error or leak.
# Usage: scripts/run-valgrind.sh BUILD_DIR TEST_BIN...
set -u
B=$1; shift
rc=0
for t in "$@"; do
    log="$t.valgrind.log"
    if CK_FORK=no QMTL_BUILD="$B" QMTL_NO_DLCLOSE=1 QMTL_VALGRIND=1 valgrind -q --error-exitcode=1 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        --suppressions=tests/valgrind.supp "$t" > "$log" 2>&1; then
        echo "  valgrind $(basename "$t"): clean"
    else
        cat "$log"; echo "FAIL: valgrind $(basename "$t")"; rc=1
    fi
done
exit $rc
