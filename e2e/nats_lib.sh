# Helpers for e2e scripts that need a NATS server. Source after lib.sh and gw_lib.sh.
#   nats_require          skip the script (exit 77) without nats-server or curl
#   nats_start [-js]      nats-server on 127.0.0.1: NPORT (chosen on the first start, kept
#                         on a restart), its monitoring port MON, with -js its store in
#                         $E2E_TMP/js; NATS_PID set; waits (10 s) until it answers
#   nats_kill             SIGKILL it (and reap it)
nats_require() {
    NATS=$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null)
    [ -n "$NATS" ] || { echo "# skipped: nats-server is not installed (apt-get install nats-server)"; exit 77; }
    command -v curl > /dev/null || { echo "# skipped: curl missing"; exit 77; }
}
nats_up() { curl -sf "http://127.0.0.1:$MON/healthz" > /dev/null; }
nats_start() {
    : "${NPORT:=$(free_port)}" "${MON:=$(free_port)}"
    local js=()
    if [ "${1:-}" = -js ]; then mkdir -p "$E2E_TMP/js"; js=(-js -sd "$E2E_TMP/js"); fi
    "$NATS" -a 127.0.0.1 -p "$NPORT" -m "$MON" "${js[@]}" >> "$E2E_TMP/nats.log" 2>&1 &
    NATS_PID=$!
    wait_for 10 nats_up
}
nats_kill() { kill_wait "$NATS_PID"; NATS_PID=; }
