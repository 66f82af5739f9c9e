# Shared helpers for e2e scripts (TAP output). Source it: . "$(dirname "$0")/lib.sh"
# Env: QMTL (absolute path of the qmtl binary), QMTL_BUILD (build dir).
set -u
: "${QMTL_BUILD:=build}"
: "${QMTL:=$(pwd)/$QMTL_BUILD/bin/qmtl}"
T_N=0
T_FAIL=0
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_rc WANT DESCRIPTION COMMAND...: run, compare the exit code
expect_rc() {
    local want=$1 d=$2; shift 2
    "$@" > "$E2E_TMP/out" 2> "$E2E_TMP/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$d (exit $rc)"; else
        not_ok "$d (exit $rc, wanted $want)"; sed 's/^/# /' "$E2E_TMP/out" "$E2E_TMP/err"; fi
}
# free_port: an unused TCP port on 127.0.0.1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# wait_for SECONDS COMMAND...: run COMMAND every 0.05 s until it succeeds (0) or SECONDS
# (whole seconds) have passed (1)
wait_for() {
    local end=$(( $(date +%s%N) + ${1%.*} * 1000000000 )); shift
    until "$@"; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
}
# kill_tree PID: SIGKILL PID and its children (a host started as `timeout N qmtl ...` has
# the timeout as PID: killing only that would leave the host running)
kill_tree() {
    local c
    for c in $(grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null); do
        c=${c#/proc/}; kill -KILL "${c%/status}" 2>/dev/null
    done
    kill -KILL "$1" 2>/dev/null
}
finish() { echo "1..$T_N"; echo "# $((T_N - T_FAIL)) passed, $T_FAIL failed"; [ "$T_FAIL" -eq 0 ]; }
E2E_TMP=$(mktemp -d /tmp/qmtl-e2e.XXXXXX)
trap 'rm -rf "$E2E_TMP"' EXIT
