#!/bin/sh
# Count test results and print one line: "<label>: N passed, M failed, K skipped".
# Each argument is a result file holding pass, fail or skip; a missing file counts as
# failed (the suite did not build or did not run). Lists the failures; exits 1 if any.
# Usage: scripts/test-summary.sh LABEL RESULT_FILE...
label=$1
shift
pass=0 fail=0 skip=0 failed=""
for f in "$@"; do
    r=$(cat "$f" 2>/dev/null)
    case "$r" in
        pass) pass=$((pass + 1)) ;;
        skip) skip=$((skip + 1)) ;;
        *) fail=$((fail + 1)); failed="$failed ${f%.log.result}" ;;
    esac
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$label: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
