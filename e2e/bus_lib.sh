# Helpers for the scale-out e2e scripts (t130-bus, t133-bus-three), sourced after lib.sh and
# gw_lib.sh. The caller's cleanup kills NATS_PID and DM_PID (kill_wait) and the gateway.

# bus_prereqs FIXTURE...: skip (exit 77) without nats-server, curl or one of the fixtures
bus_prereqs() {
    NATS=$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null)
    [ -n "$NATS" ] || { echo "# skipped: nats-server is not installed (apt-get install nats-server)"; exit 77; }
    command -v curl > /dev/null || { echo "# skipped: curl missing"; exit 77; }
    F="$QMTL_BUILD/fixtures"
    local p
    for p in "$@"; do
        [ -f "$F/$p.so" ] || { echo "# skipped: $F/$p.so not built (make $F/$p.so)"; exit 77; }
    done
}

# bus_up: nats-server with JetStream on a free loopback port (its store in $E2E_TMP/js), a
# DAG manager owning the streams (bus_retention_s 3600), a gateway using that DAG manager,
# and $E2E_TMP/host.yml for the hosts (tokens, host.bus). Sets BUS, NPORT (the client
# port), MPORT (monitoring), DM_PORT, NATS_PID, DM_PID, GW_URL. 1 when a piece does not start.
bus_up() {
    mkdir -p "$E2E_TMP/js"
    NPORT=$(free_port)
    MPORT=$(free_port)
    BUS="nats://127.0.0.1:$NPORT"
    "$NATS" -a 127.0.0.1 -p "$NPORT" -m "$MPORT" -js -sd "$E2E_TMP/js" > "$E2E_TMP/nats.log" 2>&1 &
    NATS_PID=$!
    nats_up() { curl -sf "http://127.0.0.1:$MPORT/healthz?js-enabled-only=true" > /dev/null; }
    wait_for 10 nats_up && ok "nats-server with JetStream on $BUS" || { not_ok "nats-server starts"; return 1; }
    DM_PORT=$(free_port)
    cat > "$E2E_TMP/dm.yml" <<YAML
dagmanager:
  host: 127.0.0.1
  port: $DM_PORT
  store_path: $E2E_TMP/dm.db
  token: e2e-dm-token
  bus: "$BUS"
  bus_retention_s: 3600
YAML
    "$QMTL" service dagmanager server --config "$E2E_TMP/dm.yml" 2> "$E2E_TMP/dm.log" &
    DM_PID=$!
    dm_up() { curl -sf "http://127.0.0.1:$DM_PORT/health" > /dev/null; }
    wait_for 10 dm_up && ok "DAG manager on the bus" || { not_ok "DAG manager starts"; return 1; }
    curl -s "http://127.0.0.1:$DM_PORT/status" | grep -q '"bus":"nats"' && ok "DAG manager status: bus nats" ||
        not_ok "DAG manager status names the bus"
    gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db"
    sed -i "s|dagmanager_url: \"\"|dagmanager_url: \"http://127.0.0.1:$DM_PORT\"\n  dagmanager_token: e2e-dm-token|" "$E2E_TMP/gw.yml"
    gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || return 1
    cat > "$E2E_TMP/host.yml" <<YAML
host:
  submit_token: e2e-submit-token
  host_token: e2e-host-token
  bus: "$BUS"
test:
  test_mode: true
YAML
}

# bus_jsz: the server's JetStream report (streams and consumers) into $E2E_TMP/jsz.json
bus_jsz() { curl -sf "http://127.0.0.1:$MPORT/jsz?streams=true&consumers=true" > "$E2E_TMP/jsz.json"; }

# bus_outputs STREAM: the outputs the stream holds (a message carries a batch of them), one
# JSON line {messages, outputs, first, last, in_order} (e2e/bus_outputs.py)
bus_outputs() { python3 "$(dirname "${BASH_SOURCE[0]}")/bus_outputs.py" "$NPORT" "$1"; }

# bus_node_report ID FILE: the DAG manager's GET /nodes/ID (its queues, with the bus report)
bus_node_report() {
    curl -s -H 'Authorization: Bearer e2e-dm-token' "http://127.0.0.1:$DM_PORT/nodes/$1" > "$2"
}

# bus_stream_whole FILE WORLD N: the stream of WORLD's queue in the DAG manager's report FILE
# holds N outputs (N < 0: any number) numbered 1..N, each once; prints "outputs first last"
bus_stream_whole() {
    local stream
    stream=$(python3 -c '
import json, sys
print([q for q in json.load(open(sys.argv[1]))["queues"] if q["world_id"] == sys.argv[2]][0]["bus"]["stream"])'         "$1" "$2") || return 1
    bus_outputs "$stream" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
print(o["outputs"], o["first"], o["last"])
n = int(sys.argv[1])
sys.exit(0 if o["in_order"] and o["first"] == 1 and o["outputs"] > 0 and (n < 0 or o["outputs"] == n) else 1)' "$3"
}

# bus_node_id LOG LABEL: the NodeID a host's log names for node LABEL
bus_node_id() { grep -o "node '$2' (blake3:[0-9a-f]*)" "$1" | head -1 | grep -o 'blake3:[0-9a-f]*'; }

# The hosts of a bus test (t133-bus-three, t137-bus-instances); DATA, GW_URL as set by the
# caller and bus_up.
# run_host DIR LOG ARGS...: an attached host on the bus, in the background (its pid in $!),
# until a signal
run_host() {
    local dir=$1 log=$2; shift 2
    "$QMTL" run --config "$E2E_TMP/host.yml" --gateway-url "$GW_URL" --plugins "$dir" --data "$DATA" \
        --follow "$@" > /dev/null 2> "$log" &
}
# count LOG PATTERN, at_least LOG PATTERN N: lines of a host's log
count() { grep -c "$2" "$1" 2>/dev/null; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }
# stop_host PID: SIGTERM, and its exit status
stop_host() { kill -TERM "$1" 2>/dev/null; wait "$1"; }
# same_echo LOG REF WHAT: the "WHAT ts=..." lines of LOG are those of REF
same_echo() { grep -o "$3 ts=.*" "$1" > "$1.$3"; cmp -s "$2" "$1.$3"; }
