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
# and $E2E_TMP/host.yml for the hosts (tokens, host.bus); BUS_DM_EXTRA and BUS_GW_EXTRA
# (yaml lines, indented for their section) are appended to the DAG manager's and the
# gateway's settings when set. Sets BUS, NPORT (the client
# port), MPORT (monitoring), DM_PORT, NATS_PID, DM_PID, GW_URL. 1 when a piece does not start.
# With BUS already set (a cluster: bus_cluster_up) no server is started; BUS_REPLICAS (1 by
# default) goes to dagmanager.bus_replicas, and above 1 (a diff creating replicated streams
# takes longer) the gateway waits 8 s for the DAG manager and the hosts 10 s for the gateway.
bus_up() {
    if [ -z "${BUS:-}" ]; then
        mkdir -p "$E2E_TMP/js"
        NPORT=$(free_port)
        MPORT=$(free_port)
        BUS="nats://127.0.0.1:$NPORT"
        "$NATS" -a 127.0.0.1 -p "$NPORT" -m "$MPORT" -js -sd "$E2E_TMP/js" > "$E2E_TMP/nats.log" 2>&1 &
        NATS_PID=$!
        nats_up() { curl -sf "http://127.0.0.1:$MPORT/healthz?js-enabled-only=true" > /dev/null; }
        wait_for 10 nats_up && ok "nats-server with JetStream on $BUS" || { not_ok "nats-server starts"; return 1; }
    fi
    DM_PORT=$(free_port)
    cat > "$E2E_TMP/dm.yml" <<YAML
dagmanager:
  host: 127.0.0.1
  port: $DM_PORT
  store_path: $E2E_TMP/dm.db
  token: e2e-dm-token
  bus: "$BUS"
  bus_retention_s: 3600
  bus_replicas: ${BUS_REPLICAS:-1}
YAML
    [ -z "${BUS_DM_EXTRA:-}" ] || printf '%s\n' "$BUS_DM_EXTRA" >> "$E2E_TMP/dm.yml"
    "$QMTL" service dagmanager server --config "$E2E_TMP/dm.yml" 2> "$E2E_TMP/dm.log" &
    DM_PID=$!
    dm_up() { curl -sf "http://127.0.0.1:$DM_PORT/health" > /dev/null; }
    wait_for 10 dm_up && ok "DAG manager on the bus" || { not_ok "DAG manager starts"; return 1; }
    curl -s "http://127.0.0.1:$DM_PORT/status" | grep -q '"bus":"nats"' && ok "DAG manager status: bus nats" ||
        not_ok "DAG manager status names the bus"
    local slow=()
    [ "${BUS_REPLICAS:-1}" -gt 1 ] && slow=("dagmanager_timeout_s: 8")
    gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "${slow[@]}"
    [ -z "${BUS_GW_EXTRA:-}" ] || printf '%s\n' "$BUS_GW_EXTRA" >> "$E2E_TMP/gw.yml"
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
    [ "${BUS_REPLICAS:-1}" -gt 1 ] && echo "  http_timeout_s: 10" >> "$E2E_TMP/host.yml"
    return 0
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

# bus_cluster_up: three nats-servers with JetStream forming one cluster on 127.0.0.1 (free
# client, route and monitoring ports; each its own store under $E2E_TMP/jsN; server names
# n0 n1 n2). Sets CPORT[i], CMON[i], CPID[i] and BUS (the three URLs). 0 when the cluster
# has formed (every server sees a JetStream meta leader and three peers, 30 s at most).
bus_cluster_up() {
    local i j routes rport=()
    for i in 0 1 2; do CPORT[i]=$(free_port); CMON[i]=$(free_port); rport[i]=$(free_port); done
    for i in 0 1 2; do
        routes=
        for j in 0 1 2; do [ "$j" -ne "$i" ] && routes="$routes${routes:+,}nats://127.0.0.1:${rport[j]}"; done
        mkdir -p "$E2E_TMP/js$i"
        "$NATS" -a 127.0.0.1 -p "${CPORT[i]}" -m "${CMON[i]}" -js -sd "$E2E_TMP/js$i" --server_name "n$i" \
            --cluster_name qmtl-e2e --cluster "nats://127.0.0.1:${rport[i]}" --routes "$routes" \
            > "$E2E_TMP/nats$i.log" 2>&1 &
        CPID[i]=$!
    done
    BUS="nats://127.0.0.1:${CPORT[0]},nats://127.0.0.1:${CPORT[1]},nats://127.0.0.1:${CPORT[2]}"
    wait_for 30 bus_cluster_formed
}

# bus_cluster_formed [I...]: the servers I (default all three, the live ones) each see the
# JetStream meta leader and a cluster of three
bus_cluster_formed() {
    local i ids=("$@")
    [ $# -gt 0 ] || ids=(0 1 2)
    for i in "${ids[@]}"; do
        curl -sf "http://127.0.0.1:${CMON[i]}/jsz" | python3 -c '
import json, sys
m = json.load(sys.stdin).get("meta_cluster") or {}
sys.exit(0 if m.get("leader") and m.get("cluster_size") == 3 else 1)' || return 1
    done
}

# bus_cluster_streams I: the streams server I (a live one) holds, one line each:
# "NAME LEADER REPLICAS" (REPLICAS counts the leader; LEADER n0..n2)
bus_cluster_streams() {
    curl -sf "http://127.0.0.1:${CMON[$1]}/jsz?streams=true" | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("account_details", []):
    for s in a.get("stream_detail", []):
        c = s.get("cluster") or {}
        print(s["name"], c.get("leader") or "-", 1 + len(c.get("replicas") or []))'
}

# bus_cluster_stepdown I STREAM: ask STREAM's leader to step down (another replica leads
# it then), through server I; prints the JetStream API's JSON answer
bus_cluster_stepdown() {
    python3 - "${CPORT[$1]}" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _stepdown.r 1\r\n'
          b"PUB $JS.API.STREAM.LEADER.STEPDOWN.%s _stepdown.r 0\r\n\r\n" % sys.argv[2].encode())
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("connection closed")
    buf += chunk
    if b"MSG " in buf:
        head, _, rest = buf[buf.index(b"MSG "):].partition(b"\r\n")
        size = int(head.split()[-1])
        if len(rest) >= size:
            print(rest[:size].decode())
            break
    if b"PING" in buf:
        s.sendall(b"PONG\r\n")
PY
}

# count PATTERN FILE: lines of FILE matching PATTERN; at_least PATTERN FILE N
count() { grep -c "$1" "$2" 2>/dev/null; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# tagq_plugins: the tag-query fixtures, tagq_source in $E2E_TMP/a, tagq_query in $E2E_TMP/c
tagq_plugins() {
    mkdir -p "$E2E_TMP/a" "$E2E_TMP/c"
    cp "$F/tagq_source.so" "$E2E_TMP/a/"
    cp "$F/tagq_query.so" "$E2E_TMP/c/"
}

# The hosts of a bus test (t133-bus-three, t137-bus-instances); DATA, GW_URL as set by the
# caller and bus_up.
# run_host DIR LOG ARGS...: an attached host on the bus, in the background (its pid in $!),
# until a signal
run_host() {
    local dir=$1 log=$2; shift 2
    "$QMTL" run --config "$E2E_TMP/host.yml" --gateway-url "$GW_URL" --plugins "$dir" --data "$DATA" \
        --follow "$@" > /dev/null 2> "$log" &
}
# stop_host PID: SIGTERM, and its exit status
stop_host() { kill -TERM "$1" 2>/dev/null; wait "$1"; }
# same_echo LOG REF WHAT: the "WHAT ts=..." lines of LOG are those of REF
same_echo() { grep -o "$3 ts=.*" "$1" > "$1.$3"; cmp -s "$2" "$1.$3"; }
