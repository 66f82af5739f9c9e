#!/bin/bash
# Scale-out through NATS JetStream: nats-server (started here on a free loopback port, its
# own store, killed at the end), a DAG manager that owns the streams (dagmanager.bus), a
# gateway, and two attached hosts on the bus (--bus). Host 1 runs the bus_producer
# strategy; host 2 runs bus_consumer, which declares the same stream, sma and custom node
# plus a node of its own. The shared sma and custom node are computed once, on host 1
# (counted on each host); host 2 consumes them from its durable consumer and its own node
# sees exactly the windows it sees when one host runs both strategies; a restarted host 2
# resumes after what it acknowledged and re-processes nothing; a restarted host 1 with more
# data continues each stream after what it holds (no value twice, no gap downstream); when
# the computing host is killed, the consumer takes its leases and computes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs bus_producer bus_consumer

NATS_PID= DM_PID= H1_PID= H2_PID= A_PID=
cleanup() {
    kill_wait "$H1_PID" "$H2_PID" "$A_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

mkdir -p "$E2E_TMP/p1" "$E2E_TMP/p2" "$E2E_TMP/both"
cp "$F/bus_producer.so" "$E2E_TMP/p1/"
cp "$F/bus_consumer.so" "$E2E_TMP/p2/"
cp "$F/bus_producer.so" "$F/bus_consumer.so" "$E2E_TMP/both/"
DATA='BTC=gbm:count=240,seed=11'

bus_up || { finish; exit 1; }

# reference: one host runs both strategies (offline, no bus)
"$QMTL" run --offline --quiet --plugins "$E2E_TMP/both" --data "$DATA" > /dev/null 2> "$E2E_TMP/one.log"
grep -o 'echo ts=.*' "$E2E_TMP/one.log" > "$E2E_TMP/one.echo"
N_DIFF=$(grep -c 'diff computed' "$E2E_TMP/one.log")
N_ECHO=$(wc -l < "$E2E_TMP/one.echo")
[ "$N_DIFF" -gt 200 ] && [ "$N_ECHO" -gt 200 ] && ok "one host: diff computed $N_DIFF times, echo $N_ECHO" ||
    not_ok "one host reference run (diff $N_DIFF, echo $N_ECHO)"

# host 1 computes and publishes, to the end of its data
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "$DATA" > "$E2E_TMP/h1.out" 2> "$E2E_TMP/h1.log"
rc=$?
[ "$rc" -eq 0 ] && ok "host 1 ran to the end of its data" || { not_ok "host 1 exit $rc"; sed 's/^/#   /' "$E2E_TMP/h1.log"; }
n=$(grep -c 'diff computed' "$E2E_TMP/h1.log")
[ "$n" -eq "$N_DIFF" ] && ok "host 1 computes diff $n times (every bucket)" || not_ok "host 1 diff computed $n times, want $N_DIFF"
grep -q '2 node(s) published' "$E2E_TMP/h1.log" && ok "host 1 publishes sma3 and diff" ||
    { not_ok "host 1 publishes sma3 and diff"; grep bus "$E2E_TMP/h1.log" | sed 's/^/#   /'; }

bus_jsz
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for a in j.get("account_details", []):
    for s in a.get("stream_detail", []):
        if s["name"].startswith("QMTL_Q_"):  # the lease bucket (KV_QMTL_LEASES) aside
            print(s["name"])' "$E2E_TMP/jsz.json" > "$E2E_TMP/streams.names"
while read -r s; do bus_outputs "$s"; done < "$E2E_TMP/streams.names" > "$E2E_TMP/streams.json"
python3 - "$E2E_TMP/streams.json" "$N_DIFF" > "$E2E_TMP/streams.out" <<'PY'
import json, sys
st = [json.loads(l) for l in open(sys.argv[1])]
outs = sorted(s["outputs"] for s in st)
print(len(st), outs)
# stream, sma3, diff: three queues of host 1's strategy; sma3 and diff carry the values,
# each numbered from 1 without a gap or a duplicate
n = int(sys.argv[2])
ok = (len(st) == 3 and outs == [0, n, n + 1]
      and all(s["in_order"] and s["first"] == 1 for s in st if s["outputs"]))
print("ok" if ok else "FAIL")
PY
grep -q '^ok' "$E2E_TMP/streams.out" && ok "streams created by the DAG manager hold host 1's outputs ($(head -1 "$E2E_TMP/streams.out"))" ||
    { not_ok "streams"; sed 's/^/#   /' "$E2E_TMP/streams.out" "$E2E_TMP/dm.log"; }

# a bus that does not answer stops an attached host before it runs
DEAD=$(free_port)
timeout 30 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "$DATA" --bus "nats://127.0.0.1:$DEAD" > /dev/null 2> "$E2E_TMP/dead.log"
rc=$?
[ "$rc" -ne 0 ] && grep -q "bus: cannot connect to 'nats://127.0.0.1:$DEAD'" "$E2E_TMP/dead.log" &&
    ! grep -q 'diff computed' "$E2E_TMP/dead.log" && ok "unreachable bus: the host refuses to run (exit $rc)" ||
    { not_ok "unreachable bus (exit $rc)"; tail -3 "$E2E_TMP/dead.log" | sed 's/^/#   /'; }
timeout 10 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "$DATA" --bus "http://${BUS#nats://}" > /dev/null 2> "$E2E_TMP/bad.log"
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--bus: expected nats://HOST:PORT" "$E2E_TMP/bad.log" &&
    ok "--bus with another scheme: usage error naming --bus" || not_ok "--bus http:// (exit $rc)"

# host 2 consumes sma3 and diff instead of computing them
start_h2() {
    "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
        --plugins "$E2E_TMP/p2" --data "$DATA" --follow > "$E2E_TMP/h2.out" 2> "$1" &
    H2_PID=$!
}
start_h2 "$E2E_TMP/h2.log"
echoes() { [ "$(grep -c 'echo ts=' "$1" 2>/dev/null)" -ge "$2" ]; }
wait_for 20 echoes "$E2E_TMP/h2.log" "$N_ECHO" && ok "host 2's own node ran $N_ECHO times" ||
    not_ok "host 2's own node ran $(grep -c 'echo ts=' "$E2E_TMP/h2.log") times, want $N_ECHO"
kill -TERM "$H2_PID"; wait "$H2_PID"; rc=$?; H2_PID=
[ "$rc" -eq 0 ] && ok "host 2 stops cleanly on SIGTERM" || not_ok "host 2 exit $rc"
[ "$(grep -c 'consumed from' "$E2E_TMP/h2.log")" -eq 2 ] && ok "host 2 consumes sma3 and diff from their queues" ||
    { not_ok "host 2 consumes sma3 and diff"; grep bus "$E2E_TMP/h2.log" | sed 's/^/#   /'; }
n=$(grep -c 'diff computed' "$E2E_TMP/h2.log")
[ "$n" -eq 0 ] && ok "host 2 never computes diff (computed once, on host 1)" || not_ok "host 2 computed diff $n times"
grep -o 'echo ts=.*' "$E2E_TMP/h2.log" > "$E2E_TMP/two.echo"
if cmp -s "$E2E_TMP/one.echo" "$E2E_TMP/two.echo"; then
    ok "host 2's node saw exactly the windows of the one-host run ($N_ECHO lines)"
else
    not_ok "windows differ from the one-host run"; diff "$E2E_TMP/one.echo" "$E2E_TMP/two.echo" | head -5 | sed 's/^/#   /'
fi

# the durable consumers are caught up: nothing pending, nothing unacknowledged
bus_jsz
python3 - "$E2E_TMP/jsz.json" > "$E2E_TMP/consumers.out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
cs = [c for a in j.get("account_details", []) for s in a.get("stream_detail", [])
      for c in (s.get("consumer_detail") or [])]
print(len(cs), [(c["name"], c["num_pending"], c["num_ack_pending"]) for c in cs])
print("ok" if len(cs) == 2 and all(c["num_pending"] == 0 and c["num_ack_pending"] == 0 for c in cs) else "FAIL")
PY
grep -q '^ok' "$E2E_TMP/consumers.out" && ok "two durable consumers, fully acknowledged" ||
    { not_ok "durable consumers"; sed 's/^/#   /' "$E2E_TMP/consumers.out"; }

# the DAG manager reports the queue: its publisher, its messages, its consumer's lag
DIFF_ID=$(grep -o "node 'diff' (blake3:[0-9a-f]*)" "$E2E_TMP/h2.log" | head -1 | grep -o 'blake3:[0-9a-f]*')
curl -s -H 'Authorization: Bearer e2e-dm-token' "http://127.0.0.1:$DM_PORT/nodes/$DIFF_ID" > "$E2E_TMP/node.json"
SID1=$(grep -o "strategy 'bus_producer' submitted as '[^']*'" "$E2E_TMP/h1.log" | head -1 | sed "s/.* as '//; s/'//")
python3 - "$E2E_TMP/node.json" "$N_DIFF" "$SID1" > "$E2E_TMP/report.out" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["queues"][0]
b = q["bus"]
print(q["created_by"], b["messages"], [(c["lag"], c["acknowledged"]) for c in b["consumers"]])
# messages: JetStream messages, each a batch of one or more of the N_DIFF outputs
ok = (q["created_by"] == sys.argv[3] and 1 <= b["messages"] <= int(sys.argv[2])
      and len(b["consumers"]) == 1 and b["consumers"][0]["lag"] == 0
      and b["consumers"][0]["acknowledged"] == b["last_seq"])
print("ok" if ok else "FAIL")
PY
grep -q '^ok' "$E2E_TMP/report.out" && ok "GET /nodes/{diff}: publisher, $(cut -d' ' -f2 "$E2E_TMP/report.out" | head -1) messages, one consumer with lag 0" ||
    { not_ok "DAG manager queue report"; sed 's/^/#   /' "$E2E_TMP/report.out" "$E2E_TMP/node.json"; }

# restarted, host 2 resumes after what it acknowledged: nothing is fed again
start_h2 "$E2E_TMP/h2b.log"
subscribed() { [ "$(grep -c 'consumed from' "$E2E_TMP/h2b.log" 2>/dev/null)" -eq 2 ]; }
wait_for 10 subscribed && ok "restarted host 2 consumes again" || not_ok "restarted host 2 subscribes"
# nothing may arrive: give a redelivery the time it would take, then stop
wait_for 2 echoes "$E2E_TMP/h2b.log" 1
kill -TERM "$H2_PID"; wait "$H2_PID"; H2_PID=
grep -q '2 remote (0 values fed' "$E2E_TMP/h2b.log" && ! grep -q 'echo ts=' "$E2E_TMP/h2b.log" &&
    ok "restarted host 2 re-processes nothing" ||
    { not_ok "restarted host 2 re-processed values"; grep 'bus' "$E2E_TMP/h2b.log" | sed 's/^/#   /'; }

# host 1 restarts with 60 more bars: it recomputes everything, but the stream holds the
# first outputs already, so it publishes only the new ones, numbering on
DATA2='BTC=gbm:count=300,seed=11'
"$QMTL" run --offline --quiet --plugins "$E2E_TMP/both" --data "$DATA2" > /dev/null 2> "$E2E_TMP/one2.log"
grep -o 'echo ts=.*' "$E2E_TMP/one2.log" > "$E2E_TMP/one2.echo"
N_DIFF2=$(grep -c 'diff computed' "$E2E_TMP/one2.log")
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "$DATA2" > /dev/null 2> "$E2E_TMP/h1b.log"
grep -q "'diff' (blake3:[0-9a-f]*): '[^']*' holds outputs up to sequence $N_DIFF " "$E2E_TMP/h1b.log" &&
    ok "restarted host 1 continues diff's stream after sequence $N_DIFF" ||
    { not_ok "restarted host 1 continues the stream"; grep bus "$E2E_TMP/h1b.log" | sed 's/^/#   /'; }
curl -s -H 'Authorization: Bearer e2e-dm-token' "http://127.0.0.1:$DM_PORT/nodes/$DIFF_ID" > "$E2E_TMP/node2.json"
bus_outputs "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["queues"][0]["bus"]["stream"])' \
    "$E2E_TMP/node2.json")" > "$E2E_TMP/diff2.json"
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["outputs"] == int(sys.argv[2]) and o["first"] == 1 and o["in_order"] else 1)' \
    "$E2E_TMP/diff2.json" "$N_DIFF2" && ok "diff's stream: $N_DIFF2 outputs, numbered 1..$N_DIFF2 (nothing twice)" ||
    { not_ok "diff's stream after the restart"; sed 's/^/#   /' "$E2E_TMP/diff2.json" "$E2E_TMP/node2.json"; }
# host 2 again: only the new values arrive, without a gap, and its node sees what one host sees
start_h2 "$E2E_TMP/h2c.log"
N_NEW=$(( $(wc -l < "$E2E_TMP/one2.echo") - N_ECHO - 2 ))
wait_for 20 echoes "$E2E_TMP/h2c.log" "$N_NEW"
kill -TERM "$H2_PID"; wait "$H2_PID"; H2_PID=
grep -o 'echo ts=.*' "$E2E_TMP/h2c.log" > "$E2E_TMP/three.echo"
tail -n "$N_NEW" "$E2E_TMP/one2.echo" > "$E2E_TMP/one2.tail"
if [ "$N_NEW" -gt 0 ] && cmp -s "$E2E_TMP/one2.tail" "$E2E_TMP/three.echo" &&
    grep -q "2 remote (120 values fed, 0 duplicates dropped, 0 gaps" "$E2E_TMP/h2c.log"; then
    ok "host 2 gets the 60 new sma3 and diff values each, no gap, no duplicate; its node's windows match ($N_NEW lines)"
else
    not_ok "host 2 after host 1's restart"; grep 'bus' "$E2E_TMP/h2c.log" | sed 's/^/#   /'
    diff "$E2E_TMP/one2.tail" "$E2E_TMP/three.echo" | head -5 | sed 's/^/#   /'
fi

# Ownership: in world W2 host A computes and publishes, host B consumes (A paced faster,
# so B's own data is behind); A is killed with -9. B takes the leases within 2 s, drains
# the queues and computes sma3 and diff itself from the first bucket after the last stored
# one: its node sees the one-host windows (no gap, no duplicate) and diff's stream holds
# every output once.
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id W2 --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p1" --data "$DATA" --pace 40 --follow > /dev/null 2> "$E2E_TMP/hA.log" &
A_PID=$!
leased() { [ "$(grep -c 'lease taken; published' "$E2E_TMP/hA.log")" -eq 2 ]; }
wait_for 10 leased && ok "host A holds the leases of sma3 and diff" || not_ok "host A takes the leases"
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id W2 --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/p2" --data "$DATA" --pace 15 --follow > /dev/null 2> "$E2E_TMP/hB.log" &
H2_PID=$!
wait_for 15 echoes "$E2E_TMP/hB.log" 60 || not_ok "host B consumes while A runs"
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null; A_PID=
took() { [ "$(grep -c 'took the lease its owner left' "$E2E_TMP/hB.log")" -eq 2 ]; }
wait_for 2 took && ok "host A killed (-9): host B took both leases within 2 s" ||
    { not_ok "takeover within 2 s"; grep bus "$E2E_TMP/hB.log" | sed 's/^/#   /'; }
wait_for 40 echoes "$E2E_TMP/hB.log" "$N_ECHO"
kill -TERM "$H2_PID"; wait "$H2_PID"; H2_PID=
grep -o 'echo ts=.*' "$E2E_TMP/hB.log" > "$E2E_TMP/takeover.echo"
nb=$(grep -c 'diff computed' "$E2E_TMP/hB.log")
if [ "$nb" -gt 0 ] && cmp -s "$E2E_TMP/one.echo" "$E2E_TMP/takeover.echo"; then
    ok "after the takeover host B computed diff $nb times; its node saw the one-host windows, no gap, no duplicate"
else
    not_ok "takeover: diff computed $nb times on B, windows differ"
    diff "$E2E_TMP/one.echo" "$E2E_TMP/takeover.echo" | head -5 | sed 's/^/#   /'
    grep bus "$E2E_TMP/hB.log" | sed 's/^/#   /'
fi
curl -s -H 'Authorization: Bearer e2e-dm-token' "http://127.0.0.1:$DM_PORT/nodes/$DIFF_ID" > "$E2E_TMP/node3.json"
bus_outputs "$(python3 -c '
import json, sys
print([q for q in json.load(open(sys.argv[1]))["queues"] if q["world_id"] == "W2"][0]["bus"]["stream"])' \
    "$E2E_TMP/node3.json")" > "$E2E_TMP/w2.json"
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
print(o["outputs"], o["first"], o["last"], o["in_order"])
sys.exit(0 if o["outputs"] == int(sys.argv[2]) and o["first"] == 1 and o["in_order"] else 1)' \
    "$E2E_TMP/w2.json" "$N_DIFF" > "$E2E_TMP/w2.out" &&
    ok "W2 diff stream: $N_DIFF outputs numbered 1..$N_DIFF across both owners" ||
    { not_ok "W2 diff stream: $(cat "$E2E_TMP/w2.out")"; }

finish
