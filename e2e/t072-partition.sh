#!/bin/bash
# A silent network partition between a trading host and its gateway. The host reaches the
# gateway's event stream through a loopback TCP proxy (gateway.public_url points there);
# at a moment the test chooses the proxy stops forwarding in both directions without
# closing any socket, as a partition would. With the default heartbeat settings (gateway
# pings every 1 s, host receive timeout 2.5 s) the host must close every gate within 3 s
# of the blackhole, send no live order afterwards (the gateway's order list), and the
# gateway must drop the silent stream on its side. When the proxy forwards again the host
# reconnects, re-confirms the activation and trades again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"

attached_prereqs
HOST_PID=
PROXY_PID=
cleanup() {
    kill_wait "$HOST_PID" "$PROXY_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# The proxy: forwards 127.0.0.1:LISTEN <-> 127.0.0.1:UPSTREAM. SIGUSR1: blackhole (every
# open connection, and every one accepted meanwhile, is swallowed silently from then on;
# nothing is closed or forwarded); SIGUSR2: new connections are forwarded again. Each
# switch is logged with a UTC millisecond timestamp in the format of qmtl's log lines,
# taken before the switch (so measured latencies can only be overstated).
cat > "$E2E_TMP/proxy.py" <<'PY'
import datetime, signal, socket, sys, threading

listen_port, up_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
blocked = False
conns = []
lock = threading.Lock()

def stamp():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)

def note(what):
    with open(log_path, "a") as f:
        f.write("%s %s\n" % (stamp(), what))

def pump(src, dst, conn):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if conn["dead"]:
                continue  # the partition: swallowed, never forwarded
            dst.sendall(data)
    except OSError:
        pass
    if not conn["dead"]:  # a partition tells nobody that a peer went away
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

def handle(c):
    conn = {"dead": blocked}
    with lock:
        conns.append(conn)
    if conn["dead"]:
        threading.Thread(target=pump, args=(c, None, conn), daemon=True).start()
        return
    try:
        u = socket.create_connection(("127.0.0.1", up_port))
    except OSError:
        c.close()
        return
    threading.Thread(target=pump, args=(c, u, conn), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, conn), daemon=True).start()

def on_block(sig, frm):
    global blocked
    note("blackhole")
    blocked = True
    with lock:
        for conn in conns:
            conn["dead"] = True

def on_unblock(sig, frm):
    global blocked
    blocked = False
    note("forwarding")

signal.signal(signal.SIGUSR1, on_block)
signal.signal(signal.SIGUSR2, on_unblock)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(64)
note("listening")
while True:
    try:
        c, _ = srv.accept()
    except InterruptedError:
        continue
    handle(c)
PY

PPORT=$(free_port)
PLOG="$E2E_TMP/proxy.log"
# default heartbeat settings: no test mode, no ws_ping_interval_s, no ws_receive_timeout_s
gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789" \
    "public_url: http://127.0.0.1:$PPORT"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
GW_PORT=${GW_URL##*:}

python3 "$E2E_TMP/proxy.py" "$PPORT" "$GW_PORT" "$PLOG" 2> "$E2E_TMP/proxy.err" &
PROXY_PID=$!
wait_for 30 grep -q listening "$PLOG" 2>/dev/null && ok "blackholing proxy listening on $PPORT" ||
    { not_ok "proxy did not start"; sed 's/^/#   /' "$E2E_TMP/proxy.err"; exit 1; }

gw_live_world P

cat > "$E2E_TMP/host.yml" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
YAML
HLOG="$E2E_TMP/host.log"
HOUT="$E2E_TMP/host.out"
OLOG="$E2E_TMP/orders.log"
# 30000 bars at 100 per second: up to 300 s of paced live feed (stopped by SIGTERM, or
# killed by the cleanup); a few live orders per second while the gate is open
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id P --gateway-url "$GW_URL" \
    --data 'BTC=gbm:count=30000,seed=11' --pace 100 --allow-live-replay --order-log "$OLOG" > "$HOUT" 2> "$HLOG" &
HOST_PID=$!

# orders the gateway stored for P (at most 1000 listed): "count max_ts" ("0 -1" when none)
gw_orders() {
    req GET "/orders?world_id=P&limit=1000" "" -H "$OP_AUTH" > /dev/null
    jget '"%d %d" % (len(j["orders"]), max([o["ts"] for o in j["orders"]], default=-1))'
}
n_gw_orders() { set -- $(gw_orders); echo "$1"; }
n_stale() { grep -c '(activation stale)' "$OLOG" 2>/dev/null || true; }
has_orders() { [ "$(n_gw_orders)" -gt "${1:-0}" ]; }

wait_for 30 grep -q 'event stream connected' "$HLOG" && ok "host attached, stream through the proxy" ||
    { not_ok "host attached"; sed 's/^/#   /' "$HLOG"; exit 1; }
wait_for 30 has_orders 5 && ok "live orders reach the gateway while the stream is healthy" ||
    { not_ok "no live orders before the partition ($(n_gw_orders))"; sed 's/^/#   /' "$HLOG"; }
[ "$(n_stale)" -eq 0 ] && ok "no order blocked as stale before the partition" ||
    not_ok "stale blocks before the partition ($(n_stale))"

# --- the partition
kill -USR1 "$PROXY_PID"
wait_for 10 grep -q 'gateway lost' "$HLOG" &&
    ok "host noticed the silent stream: $(grep -m1 -o 'gateway lost ([^)]*)' "$HLOG")" ||
    { not_ok "host did not notice the partition"; sed 's/^/#   /' "$HLOG"; }
read -r o_a _ <<< "$(gw_orders)"
s_a=$(n_stale)
t_block=$(sed -n 's/ blackhole$//p' "$PLOG")
t_lost=$(grep -m1 'gateway lost' "$HLOG" | cut -d' ' -f1)
lat=$(python3 -c '
import datetime, sys
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
print("%.3f" % (p(sys.argv[2]) - p(sys.argv[1])).total_seconds())' "$t_block" "$t_lost" 2>/dev/null)
echo "# blackhole at $t_block, every gate closed at $t_lost: $lat s (defaults: ping 1 s, receive timeout 2.5 s)"
python3 -c 'import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 3.0 else 1)' "${lat:-x}" 2>/dev/null &&
    ok "every gate closed within 3 s of the blackhole ($lat s)" ||
    not_ok "gates closed $lat s after the blackhole (bound 3 s)"

# the host keeps computing; orders now stop at its gate
stale_grew() { [ "$(n_stale)" -ge "$((s_a + 3))" ]; }
wait_for 30 stale_grew &&
    ok "host keeps computing, its orders blocked as stale ($(n_stale))" ||
    not_ok "no stale-blocked orders during the partition ($s_a -> $(n_stale))"
read -r o_b max_ts_b <<< "$(gw_orders)"
first_stale=$(grep -m1 '(activation stale)' "$OLOG" | cut -d' ' -f1)
[ "$o_b" -eq "$o_a" ] && [ -n "$first_stale" ] && [ "$max_ts_b" -lt "$first_stale" ] &&
    ok "no live order after the gate closed ($o_b stored, the last for bar $max_ts_b < first stale bar $first_stale)" ||
    not_ok "live orders after the gate closed (stored $o_a -> $o_b, last bar $max_ts_b, first stale bar $first_stale)"

# the gateway's side of the heartbeat: the host's pongs are swallowed too
drops() {
    req GET /metrics > /dev/null
    sed -n 's/^qmtl_gateway_ws_keepalive_drops_total \([0-9]*\)$/\1/p' "$E2E_TMP/body"
}
dropped() { [ "$(drops)" -ge 1 ] 2>/dev/null; }
wait_for 30 dropped && grep -q 'no pong or message for' "$E2E_TMP/gw.log" &&
    ok "gateway dropped the silent stream (keepalive drops: $(drops))" ||
    { not_ok "gateway kept the silent stream (keepalive drops: $(drops))"; sed 's/^/#   /' "$E2E_TMP/gw.log"; }
kill -0 "$HOST_PID" 2>/dev/null && ok "host still running during the partition" ||
    not_ok "host died during the partition"

# --- the network heals
kill -USR2 "$PROXY_PID"
wait_for 30 grep -q 'activation state confirmed' "$HLOG" &&
    ok "host reconnected and re-confirmed the activation" ||
    { not_ok "host did not re-confirm the activation"; sed 's/^/#   /' "$HLOG"; }
wait_for 30 has_orders "$o_b" &&
    ok "live orders flow again after re-confirmation ($o_b -> $(n_gw_orders))" ||
    not_ok "no live orders after the partition healed ($(n_gw_orders))"

kill -TERM "$HOST_PID"
host_gone() { ! kill -0 "$HOST_PID" 2>/dev/null; }
wait_for 30 host_gone || kill -KILL "$HOST_PID"
wait "$HOST_PID"; rc=$?
HOST_PID=
[ "$rc" -eq 0 ] && grep -q 'disconnect(s)' "$HOUT" &&
    ok "host stops cleanly with its summary" ||
    { not_ok "host exit $rc"; sed 's/^/#   /' "$HOUT" "$HLOG"; }
gw_stop > /dev/null
finish
