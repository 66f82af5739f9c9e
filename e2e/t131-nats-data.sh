#!/bin/bash
# Market data from a NATS subject: nats-server (core NATS, a free loopback port, killed at
# the end), 'qmtl run --data BTC=nats://127.0.0.1:PORT/md.BTC.1m', and 'qmtl feed --to
# nats://...' replaying a CSV file (half paced, one line per message; half as fast as it
# goes, many lines per message). The server is restarted in between: the host reconnects
# (logged, counted in /metrics) and takes the rest. The host's outputs equal an offline run
# on the same CSV. A bad message is counted and logged with its subject; the host.data
# form works; an unreachable server or a wildcard subject fails the start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/nats_lib.sh"
nats_require

NATS_PID= HOST= H2=
cleanup() {
    kill_wait "$HOST" "$H2" "$NATS_PID"
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD"/plugins/sma_crossover.so "$P/"
python3 -c '
import sys
rows = []
for i in range(400):
    c = 100 + (i * 37 % 23) + i * 0.01
    rows.append(f"{1704067200 + 60 * i},{c:.2f},{c + 1:.2f},{c - 1:.2f},{c:.2f},{10 + i}")
head = "timestamp,open,high,low,close,volume"
d = sys.argv[1]
open(d + "/all.csv", "w").write(head + "\n" + "\n".join(rows) + "\n")
open(d + "/first.csv", "w").write(head + "\n" + "\n".join(rows[:150]) + "\n")
open(d + "/rest.csv", "w").write(head + "\n" + "\n".join(rows[150:]) + "\n")
' "$E2E_TMP"

subscribed() { curl -sf "http://127.0.0.1:$MON/subsz" | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["num_subscriptions"] >= 1 else 1)'; }
nats_start && ok "nats-server on 127.0.0.1:$NPORT" || { not_ok "nats-server starts"; finish; exit 1; }

SUBJ="nats://127.0.0.1:$NPORT/md.BTC.1m"
MPORT=$(free_port)
"$QMTL" run --offline --plugins "$P" --data "BTC=$SUBJ" --metrics-port "$MPORT" --json \
    > "$E2E_TMP/run.json" 2> "$E2E_TMP/run.err" &
HOST=$!
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1{source=\"$SUBJ\"}" '$1 == k {print $2}'; }
is() { [ "$(metric "$1")" = "$2" ]; }
check "the host subscribes to the subject" wait_for 10 grep -q "live input $SUBJ: subscribed to 'md.BTC.1m'" "$E2E_TMP/run.err"
check "the server has the subscription" wait_for 10 subscribed

"$QMTL" feed --to "$SUBJ" --tags BTC --rate 3000 "$E2E_TMP/first.csv" 2> "$E2E_TMP/feed1.err"
check "qmtl feed publishes to the subject (paced)" grep -q "150 line(s) sent to $SUBJ" "$E2E_TMP/feed1.err"
check "the host takes every line" wait_for 20 is qmtl_host_events_in_total 150
check "connected to the server" is qmtl_host_live_connections 1

# the server goes away and comes back on the same port
nats_kill
check "the loss is logged" wait_for 10 grep -q "live input $SUBJ: lost the NATS server; reconnecting" "$E2E_TMP/run.err"
check "disconnected in /metrics" wait_for 10 is qmtl_host_live_connections 0
nats_start || not_ok "nats-server restarts"
check "the host reconnects (counted)" wait_for 20 is qmtl_host_live_reconnects_total 1
check "the reconnection is logged" grep -q "live input $SUBJ: reconnected to NATS" "$E2E_TMP/run.err"
check "the subscription is back on the server" wait_for 10 subscribed

"$QMTL" feed --to "$SUBJ" "$E2E_TMP/rest.csv" 2> "$E2E_TMP/feed2.err"   # tags: the stem 'rest'
check "lines tagged otherwise are refused (counted, not routed)" wait_for 20 is qmtl_host_bad_lines_total 250
"$QMTL" feed --to "$SUBJ" --tags BTC "$E2E_TMP/rest.csv" 2> "$E2E_TMP/feed3.err"
check "the rest arrives (many lines per message)" wait_for 20 is qmtl_host_events_in_total 400
check "a line of other tags is logged with subject, message and line" \
    grep -q "live input $SUBJ: subject md.BTC.1m message [0-9]* line 1: tags rest differ from the input's (BTC)" "$E2E_TMP/run.err"
# a raw publisher: one bad message
python3 - "$NPORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nPUB md.BTC.1m 8\r\nnot json\r\nPING\r\n')
buf = b""
while b"PONG" not in buf:
    buf += s.recv(4096)
PY
check "a bad message is counted" wait_for 10 is qmtl_host_bad_lines_total 251
check "and logged with its subject" grep -q "subject md.BTC.1m message [0-9]* line 1: .*(line skipped)" "$E2E_TMP/run.err"
kill -TERM "$HOST"; wait "$HOST"
check "SIGTERM ends the host (exit 0)" test $? -eq 0
HOST=
"$QMTL" run --offline --plugins "$P" --data "BTC=$E2E_TMP/all.csv" --json > "$E2E_TMP/off.json" 2> /dev/null
check "the outputs equal an offline run on the same CSV" python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sa, sb = a["strategies"], b["strategies"]
assert sa[0]["bars"] == 400 and sa[0]["orders"] > 0, sa[0]["bars"]
assert sa == sb, "differ"
assert a["run"]["live_events"] == 400 and a["run"]["bad_lines"] == 251, a["run"]
' "$E2E_TMP/run.json" "$E2E_TMP/off.json"

# the same input as a host.data entry (tags optional there too)
M2=$(free_port)
cat > "$E2E_TMP/qmtl.yml" <<YML
host:
  plugins_dir: plugins
  metrics_port: $M2
  data:
    - live: nats://127.0.0.1:$NPORT/md.ETH.1m
      tags: [BTC]
YML
(cd "$E2E_TMP" && exec "$QMTL" run --offline --config qmtl.yml --json) > "$E2E_TMP/cfg.json" 2> "$E2E_TMP/cfg.err" &
H2=$!
check "host.data: live: nats://... subscribes" wait_for 10 grep -q "subscribed to 'md.ETH.1m'" "$E2E_TMP/cfg.err"
"$QMTL" feed --to "nats://127.0.0.1:$NPORT/md.ETH.1m" --tags BTC "$E2E_TMP/first.csv" 2> /dev/null
cfg_events() { curl -sf "http://127.0.0.1:$M2/metrics" | grep -q "^qmtl_host_events_in_total{source=\"nats://127.0.0.1:$NPORT/md.ETH.1m\"} 150$"; }
check "host.data: the lines arrive" wait_for 20 cfg_events
kill -TERM "$H2"; wait "$H2"; H2=

DEAD=$(free_port)
expect_rc 1 "an unreachable server fails the start" "$QMTL" run --offline --plugins "$P" --data "BTC=nats://127.0.0.1:$DEAD/md.x"
check "naming the input and the server" grep -q "live input nats://127.0.0.1:$DEAD/md.x: cannot connect to nats://127.0.0.1:$DEAD" "$E2E_TMP/err"
expect_rc 1 "a wildcard subject is refused" "$QMTL" run --offline --plugins "$P" --data "nats://127.0.0.1:$NPORT/md.*.1m"
check "saying why" grep -q "wildcards are refused" "$E2E_TMP/err"
expect_rc 1 "qmtl feed to an unreachable server fails" "$QMTL" feed --to "nats://127.0.0.1:$DEAD/md.x" "$E2E_TMP/first.csv"
finish
