#!/bin/bash
# A plugin that crashes the host is quarantined at the next start (qmtl run
# --restart-on-crash restarts it); the other strategies come back by themselves; a new
# version of the file lifts the quarantine.
. "$(dirname "$0")/lib.sh"
F=$QMTL_BUILD/fixtures
P=$E2E_TMP/plugins
mkdir -p "$P" && chmod 700 "$P"
cp "$F/rt_crash.so" "$F/rt_cross.so" "$P/"
export XDG_STATE_HOME=$E2E_TMP/state

expect_rc 1 "--restart-on-crash: crash, restart, run without the crashing plugin" \
    "$QMTL" run --offline --restart-on-crash --plugins "$P" --data BTC=gbm:count=100
check "the crash line names plugin and node" grep -q \
    "^qmtl run: plugin 'rt_crash': node 'bad' (blake3:[0-9a-f]*) crashed with signal 11$" "$E2E_TMP/err"
check "the supervisor restarts the host once" test "$(grep -c 'host crashed with signal 11; restarting in 1 s (restart 1)$' "$E2E_TMP/err")" -eq 1
check "the restarted host quarantines the file" grep -q \
    "plugin '$P/rt_crash.so' quarantined: it crashed the host: strategy 'rt_crash', node 'bad' (blake3:[0-9a-f]*), signal 11; drop in a new version" "$E2E_TMP/err"
check "the other strategy ran in full" grep -q "^rt_cross  *ok  *100 " "$E2E_TMP/out"
check "the quarantined one did not run" sh -c "! grep -q '^rt_crash ' '$E2E_TMP/out'"
check "one quarantine list in the state dir" test "$(ls "$XDG_STATE_HOME"/qmtl/host-*.quarantine | wc -l)" -eq 1
check "no crash record left" sh -c "! ls '$XDG_STATE_HOME'/qmtl/host-*.crash 2>/dev/null"

expect_rc 1 "a later start: still quarantined" \
    "$QMTL" run --offline --plugins "$P" --data BTC=gbm:count=100
check "refused as quarantined" grep -q "plugin '$P/rt_crash.so': quarantined (it crashed the host" "$E2E_TMP/err"
check "no crash this time" sh -c "! grep -q 'crashed with signal' '$E2E_TMP/err'"
check "rt_cross runs" grep -q "^rt_cross  *ok  *100 " "$E2E_TMP/out"

# a new version of the file: loaded again
cp "$F/rt_slice.so" "$P/rt_crash.so.new" && mv "$P/rt_crash.so.new" "$P/rt_crash.so"
expect_rc 0 "a new version of the file lifts the quarantine" \
    "$QMTL" run --offline --plugins "$P" --data BTC=gbm:count=100
check "says so" grep -q "plugin '$P/rt_crash.so': a new version replaces the quarantined one" "$E2E_TMP/err"
check "the new version runs" grep -q "^rt_slice  *ok  *100 " "$E2E_TMP/out"
check "list emptied" sh -c "! ls '$XDG_STATE_HOME'/qmtl/host-*.quarantine 2>/dev/null"

# a host that keeps running: the crash, the restart and the quarantine, then a new version
# dropped in while it runs lifts the quarantine by hot reload; SIGTERM to the supervisor
# reaches the host
cp "$F/rt_crash.so" "$P/.c.tmp" && mv "$P/.c.tmp" "$P/rt_crash.so"
MPORT=$(free_port)
"$QMTL" run --offline --restart-on-crash --follow --pace 200 --plugins "$P" --metrics-port "$MPORT" \
    --data BTC=gbm:count=100000 > "$E2E_TMP/f.out" 2> "$E2E_TMP/f.err" &
SUP=$!
seen() { grep -q -- "$1" "$E2E_TMP/f.err"; }
check "follow: crashed and restarted" wait_for 20 seen "host crashed with signal 11; restarting"
check "follow: quarantined at the restart" wait_for 20 seen "plugin '$P/rt_crash.so' quarantined: it crashed the host"
check "follow: the restarted host watches the directory" wait_for 20 seen "watching '$P'"
if command -v curl > /dev/null; then
    check "follow: /metrics counts the quarantine" wait_for 10 sh -c \
        "curl -s -m 2 http://127.0.0.1:$MPORT/metrics | grep -q '^qmtl_host_plugins_quarantined 1$'"
    check "follow: ... and the quarantine made at this start" sh -c \
        "curl -s -m 2 http://127.0.0.1:$MPORT/metrics | grep -q '^qmtl_host_quarantines_total 1$'"
fi
cp "$F/rt_slice.so" "$P/.c.tmp" && mv "$P/.c.tmp" "$P/rt_crash.so"
check "follow: a new version lifts the quarantine while running" wait_for 20 seen \
    "plugin '$P/rt_crash.so': a new version replaces the quarantined one"
check "follow: and joins the running DAG" wait_for 20 seen "reload: strategy 'rt_slice' new -> 1.0.0"
kill -TERM $SUP
wait $SUP; rc=$?
check "follow: SIGTERM to the supervisor stops the host (exit $rc)" test $rc -eq 1
check "follow: the host reported (it got the SIGTERM)" grep -q "interrupted by SIGTERM" "$E2E_TMP/f.err"
check "follow: one restart only" test "$(grep -c 'restarting in' "$E2E_TMP/f.err")" -eq 1

# --restart-on-crash passes a clean exit status on, and does not restart other failures
expect_rc 2 "usage errors are not restarted" \
    "$QMTL" run --offline --restart-on-crash --plugins "$P"
check "no restart" sh -c "! grep -q restarting '$E2E_TMP/err'"

# the systemd unit shipped for this (contrib/qmtl-host.service) is valid
if command -v systemd-analyze > /dev/null; then
    sed "s|/usr/local/bin/qmtl|$QMTL|" "$(dirname "$0")/../contrib/qmtl-host.service" \
        > "$E2E_TMP/qmtl-host.service"
    check "systemd unit: verifies" sh -c "cd '$E2E_TMP' && systemd-analyze verify qmtl-host.service"
    check "systemd unit: restarts after a crash, SIGHUP on reload" sh -c \
        "grep -q '^Restart=on-abnormal$' '$E2E_TMP/qmtl-host.service' && grep -q '^ExecReload=/bin/kill -HUP \\\$MAINPID$' '$E2E_TMP/qmtl-host.service'"
else
    ok "# SKIP systemd-analyze not installed"
fi
finish
