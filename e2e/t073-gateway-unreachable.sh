#!/bin/bash
# 'qmtl run --world-id W --gateway-url URL' when nobody answers at URL: the host retries
# the submission with backoff for the start-up retry budget, then exits 1 with one line
# naming the URL, the request, the attempts and the budget (no summary: nothing ran).
# The same for a peer that accepts connections but never answers (each attempt times out).
# A gateway that comes up while the host is still retrying is used normally.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"

attached_prereqs
HOST_PID=
MUTE_PID=
cleanup() {
    kill_wait "$HOST_PID" "$MUTE_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# test mode: start-up retry budget 3 s, HTTP timeout 1.5 s
cat > "$E2E_TMP/host.yml" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
test:
  test_mode: true
YAML

# check_unanswered URL WHAT WHY: run against URL, expect the failure line giving WHY
check_unanswered() {
    local url=$1 what=$2 why=$3
    timeout 30 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$url" \
        --data 'BTC=gbm:count=100' > "$E2E_TMP/out" 2> "$E2E_TMP/err"; local rc=$?
    [ "$rc" -eq 1 ] && ok "$what: exit 1" || not_ok "$what: exit $rc, wanted 1"
    local line; line=$(grep '^qmtl run:' "$E2E_TMP/err")
    local n; n=$(printf '%s\n' "$line" | grep -c .)
    local attempts; attempts=$(printf '%s' "$line" | sed -n 's/.*; \([0-9]*\) attempt(s) in .*/\1/p')
    if [ "$n" -eq 1 ] && printf '%s' "$line" | grep -qF "qmtl run: gateway $url never answered: POST /strategies: $why;" &&
        printf '%s' "$line" | grep -q 'start-up retry budget 3 s' && [ "${attempts:-0}" -gt 1 ]; then
        ok "$what: one line naming the URL, the request, why, $attempts attempts and the budget"
    else
        not_ok "$what: failure line"; sed 's/^/#   /' "$E2E_TMP/err"
    fi
    grep -q 'retrying for up to 3 s' "$E2E_TMP/err" && ok "$what: the retrying is announced" ||
        not_ok "$what: retrying not announced"
    [ ! -s "$E2E_TMP/out" ] && ok "$what: no summary (nothing ran)" ||
        { not_ok "$what: a summary was printed"; sed 's/^/#   /' "$E2E_TMP/out"; }
}

# 1. nothing listens: every attempt is refused
DEAD=$(free_port)
check_unanswered "http://127.0.0.1:$DEAD" "refused" "cannot connect to 127.0.0.1:$DEAD: Connection refused"

# 2. a peer that accepts connections and never says a word: every attempt times out
MPORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$MPORT" > "$E2E_TMP/mute.out" &
MUTE_PID=$!
wait_for 30 grep -q ready "$E2E_TMP/mute.out"
check_unanswered "http://127.0.0.1:$MPORT" "silent peer" "timed out after 1.5 s"
kill_wait "$MUTE_PID"; MUTE_PID=

# 3. the gateway starts while the host is retrying: the run goes ahead
PORT=$(free_port)
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
sed -i "s/^  port: 0$/  port: $PORT/" "$E2E_TMP/gw.yml"
printf '  start_retry_total_s: 20\n' >> "$E2E_TMP/host.yml"
HLOG="$E2E_TMP/host.log"
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W \
    --gateway-url "http://127.0.0.1:$PORT" --data 'BTC=gbm:count=200' \
    > "$E2E_TMP/host.out" 2> "$HLOG" &
HOST_PID=$!
wait_for 10 grep -q 'does not answer' "$HLOG" && ok "host waits for the gateway, retrying" ||
    { not_ok "host did not retry"; sed 's/^/#   /' "$HLOG"; }
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
wait "$HOST_PID"; rc=$?
HOST_PID=
[ "$rc" -eq 0 ] && grep -q "strategy 'sma_crossover' submitted" "$HLOG" &&
    grep -q '^run: 200 events' "$E2E_TMP/host.out" &&
    ok "gateway up within the budget: submitted, ran, exit 0" ||
    { not_ok "late gateway (exit $rc)"; sed 's/^/#   /' "$HLOG" "$E2E_TMP/host.out"; }
gw_stop > /dev/null
finish
