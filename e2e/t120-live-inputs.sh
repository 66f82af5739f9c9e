#!/bin/bash
# Live data into a running host: a TCP and a Unix-socket listener with several publishers at
# once (qmtl feed and raw sockets), bad lines counted and logged with source and line while
# the host keeps running, /metrics and /health scraped while it runs, SIGTERM ends it with
# a summary; then standard input (qmtl feed --to - | qmtl run --data -).
. "$(dirname "$0")/lib.sh"
command -v curl > /dev/null || { echo "# skipped: curl not installed"; exit 77; }
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD"/plugins/sma_crossover.so "$P/"   # reads the tag BTC
python3 - "$E2E_TMP" <<'PY'
import sys
d = sys.argv[1]
for name, n, t0 in (("btc.csv", 3000, 1704067200), ("eth.csv", 2000, 1704067200)):
    with open(f"{d}/{name}", "w") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        for i in range(n):
            c = 100 + (i * 7919 % 23) - 11
            f.write(f"{t0 + 60 * i},{c},{c + 1},{c - 1},{c + 0.5},{10 + i % 5}\n")
PY
PORT=$(free_port)
MPORT=$(free_port)
SOCK=$E2E_TMP/feed.sock
"$QMTL" run --offline --plugins "$P" --data "tcp:127.0.0.1:$PORT" --data "unix:$SOCK" \
    --metrics-port "$MPORT" --json > "$E2E_TMP/run.json" 2> "$E2E_TMP/run.err" &
HOST=$!
check "host listens on TCP and the Unix socket" wait_for 20 grep -q "unix:$SOCK: listening" "$E2E_TMP/run.err"
check "the socket file is owner-only" test $((0$(stat -c %a "$SOCK") & 077)) -eq 0

# two publishers at once on TCP (BTC and ETH), one on the Unix socket (ETH again, late)
"$QMTL" feed --to "tcp:127.0.0.1:$PORT" --tags BTC "$E2E_TMP/btc.csv" 2> "$E2E_TMP/f1.err" &
F1=$!
"$QMTL" feed --to "tcp:127.0.0.1:$PORT" --tags ETH --rate 20000 "$E2E_TMP/eth.csv" 2> "$E2E_TMP/f2.err" &
F2=$!
"$QMTL" feed --to "unix:$SOCK" --tags ETH "$E2E_TMP/eth.csv" 2> "$E2E_TMP/f3.err" &
F3=$!
# a raw publisher with bad lines between good ones (TCP), another on the Unix socket
python3 - "$PORT" "$SOCK" <<'PY'
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
t = socket.create_connection(("127.0.0.1", port))
t.sendall(b'{"tags":["SOL"],"ts":1704067200,"close":10}\n'
          b'{"tags":["SOL"],"ts":1704067260,"clsoe":11}\n'
          b'{"tags":["SOL"],"ts":1704067320000,"price":12}\n'
          b'{"tags":["SOL"],"ts":1704067380,"close":-1}\n'
          b'{"tags":["SOL"],"ts":"2024-01-01T00:05:00Z","close":14}\n')
t.close()
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.connect(path)
u.sendall(b'not json at all\n{"tags":["SOL"],"ts":1704067500,"close":15}\n')
u.close()
PY
wait $F1; R1=$?; wait $F2; R2=$?; wait $F3; R3=$?
check "the publishers sent everything" test "$R1$R2$R3" = 000
check "qmtl feed reports what it sent" grep -q "3000 line(s) sent to tcp:127.0.0.1:$PORT" "$E2E_TMP/f1.err"

metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
all_in() { [ "$(metric qmtl_host_events_total)" = 7004 ]; }
check "every good line arrived (/metrics while running)" wait_for 30 all_in
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$E2E_TMP/metrics.txt"
check "events in by source" grep -q "^qmtl_host_events_in_total{source=\"tcp:127.0.0.1:$PORT\"} 5003$" "$E2E_TMP/metrics.txt"
check "events in on the Unix socket" grep -q "^qmtl_host_events_in_total{source=\"unix:$SOCK\"} 2001$" "$E2E_TMP/metrics.txt"
check "bad lines counted by source" grep -q "^qmtl_host_bad_lines_total{source=\"tcp:127.0.0.1:$PORT\"} 2$" "$E2E_TMP/metrics.txt"
check "bad line on the Unix socket counted" grep -q "^qmtl_host_bad_lines_total{source=\"unix:$SOCK\"} 1$" "$E2E_TMP/metrics.txt"
check "publishers counted" grep -q "^qmtl_host_live_connections_total{source=\"tcp:127.0.0.1:$PORT\"} 3$" "$E2E_TMP/metrics.txt"
check "node computations per strategy" grep -Eq '^node_processed_total\{strategy="sma_crossover"\} [1-9]' "$E2E_TMP/metrics.txt"
check "gate state per strategy and side" grep -q '^qmtl_host_gate_open{strategy="sma_crossover",side="buy"} 0$' "$E2E_TMP/metrics.txt"
check "lag of live input measured" grep -Eq "^qmtl_host_live_lag_seconds\{source=\"tcp:127.0.0.1:$PORT\"\} [0-9]+\.[0-9]+$" "$E2E_TMP/metrics.txt"
check "Prometheus types declared" grep -q "^# TYPE qmtl_host_events_in_total counter$" "$E2E_TMP/metrics.txt"
curl -sf "http://127.0.0.1:$MPORT/health" > "$E2E_TMP/health.json"
check "/health: ok, the strategy running, per-source counts" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "ok", h
assert h["strategies"] == {"sma_crossover": "running"}, h
s = h["sources"]["unix:" + sys.argv[2]]
assert s["events"] == 2001 and s["bad_lines"] == 1, s
' "$E2E_TMP/health.json" "$SOCK"
check "unknown path is 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope")" = 404
check "a bad line is logged with source, publisher and line number" \
    grep -q "live input tcp:127.0.0.1:$PORT: publisher 127.0.0.1:[0-9]* line 2: unknown key 'clsoe'" "$E2E_TMP/run.err"
check "a refused price is logged with its line" \
    grep -q "live input tcp:127.0.0.1:$PORT: publisher 127.0.0.1:[0-9]* line 4: non-positive close -1" "$E2E_TMP/run.err"
check "the Unix socket's bad line is logged" \
    grep -q "live input unix:$SOCK: publisher #[0-9]* line 1: expected a JSON object" "$E2E_TMP/run.err"
check "the host is still running" kill -0 $HOST

kill -TERM $HOST
wait $HOST
check "SIGTERM ends a live host cleanly (exit 0)" test $? -eq 0
check "the summary counts live items and bad lines" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["run"]
assert r["live_events"] == 7004 and r["bad_lines"] == 3 and r["events"] == 7004, r
s = {x["name"]: x for x in d["strategies"]}["sma_crossover"]
assert s["status"] == "ok" and s["bars"] == 3000 and s["fills"] > 0, s
' "$E2E_TMP/run.json"
check "the socket file is removed" test ! -e "$SOCK"

# standard input: the run ends with the input
{ "$QMTL" feed --to - --tags BTC "$E2E_TMP/btc.csv" 2> /dev/null; echo '{"tags":["BTC"],"ts":1}'; } |
    "$QMTL" run --offline --plugins "$P" --data - --json > "$E2E_TMP/stdin.json" 2> "$E2E_TMP/stdin.err"
check "stdin: the run ends with the input (exit 0)" test "${PIPESTATUS[1]}" -eq 0
check "stdin: every line routed, the bad one counted" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["live_events"] == 3000 and d["run"]["bad_lines"] == 1, d["run"]
s = d["strategies"][0]
assert s["bars"] == 3000, s
' "$E2E_TMP/stdin.json"
check "stdin: the bad line is logged with its number" grep -q "live input stdin: stdin line 3001: no close (or price)" "$E2E_TMP/stdin.err"
# the same bars replayed from the file give the same results as through stdin
"$QMTL" run --offline --plugins "$P" --data "BTC=$E2E_TMP/btc.csv" --json > "$E2E_TMP/file.json" 2> /dev/null
check "stdin: same results as the file replay" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["strategies"]; b = json.load(open(sys.argv[2]))["strategies"]
assert a == b, (a, b)
' "$E2E_TMP/stdin.json" "$E2E_TMP/file.json"

# refusals
expect_rc 2 "tags on a JSON input are refused" "$QMTL" run --offline --plugins "$P" --data "BTC=tcp:127.0.0.1:$PORT"
check "refusal names the spec" grep -q "a live input takes its tags from each line" "$E2E_TMP/err"
"$QMTL" run --offline --plugins "$P" --data "tcp:127.0.0.1:$PORT" > /dev/null 2> "$E2E_TMP/busy.err" &
B=$!
wait_for 20 grep -q "listening on port $PORT" "$E2E_TMP/busy.err"
expect_rc 1 "a port in use fails the start" "$QMTL" run --offline --plugins "$P" --data "tcp:127.0.0.1:$PORT"
check "the error says which input" grep -q "live input tcp:127.0.0.1:$PORT: cannot listen: Address already in use" "$E2E_TMP/err"
kill -TERM $B; wait $B
expect_rc 2 "qmtl feed without --to is a usage error" "$QMTL" feed "$E2E_TMP/btc.csv"
check "it says what is missing" grep -q -- "--to tcp:HOST:PORT, unix:PATH, nats://HOST:PORT/SUBJECT or - is required" "$E2E_TMP/err"
expect_rc 1 "qmtl feed to nobody fails" "$QMTL" feed --to "unix:$E2E_TMP/nobody.sock" "$E2E_TMP/btc.csv"
check "it names the target" grep -q "cannot connect to unix:$E2E_TMP/nobody.sock" "$E2E_TMP/err"
expect_rc 2 "qmtl feed refuses a bad tag" "$QMTL" feed --to - --tags 'a b' "$E2E_TMP/btc.csv"
finish
