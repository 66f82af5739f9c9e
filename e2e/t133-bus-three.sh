#!/bin/bash
# Scale-out on three hosts (docs/scale-out.md): nats-server, a DAG manager owning the
# streams, a gateway, and three attached hosts on 127.0.0.1 with --bus. Host A runs
# bus_producer, host B bus_consumer, host C bus_watcher: B and C declare A's stream, sma
# (sma3) and custom node (diff), plus a node of their own (echo).
#  1. sharing: sma3 and diff are computed once, on A (counted on each host); B's and C's
#     echo see exactly the windows of one host running the strategies; --explain names each
#     node's role and who computes it; a restarted C resumes from its durable consumers
#     and re-processes nothing.
#  2. ownership: A is killed with -9 while B and C run behind it: within the lease TTL the
#     two leases are taken, each once; the consumers' echo still see the one-host windows
#     (no gap, no duplicate) and each stream holds every output once.
#  3. hot reload on the bus: A's plugin becomes bus_producer 2.0.0 (adds mom), then B's
#     becomes bus_consumer 2.0.0 (consumes mom, echoes it): A publishes sma3 and diff on
#     without a gap or a duplicate and publishes mom (every output it computed, those
#     between the reload and the resubmission's answer too); B consumes on, its echo sees
#     the one-host windows, its new echo2 sees mom's one-host windows from the reload on.
# (Tag queries across hosts: t132.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs bus_producer bus_consumer bus_watcher bus_producer_v2 bus_consumer_v2

NATS_PID= DM_PID= A_PID= B_PID= C_PID=
cleanup() {
    kill_wait "$A_PID" "$B_PID" "$C_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

T=$E2E_TMP
mkdir -p "$T/a" "$T/b" "$T/c" "$T/both" "$T/both2" "$T/a3" "$T/b3"
cp "$F/bus_producer.so" "$T/a/"
cp "$F/bus_consumer.so" "$T/b/"
cp "$F/bus_watcher.so" "$T/c/"
cp "$F/bus_producer.so" "$F/bus_consumer.so" "$T/both/"
cp "$F/bus_producer_v2.so" "$F/bus_consumer_v2.so" "$T/both2/"
DATA='BTC=gbm:count=240,seed=11'
HOSTNAME_=$(hostname)

bus_up || { finish; exit 1; }

# references: one host runs the strategies (offline, no bus), version 1 and version 2
"$QMTL" run --offline --quiet --plugins "$T/both" --data "$DATA" > /dev/null 2> "$T/one.log"
grep -o 'echo ts=.*' "$T/one.log" > "$T/one.echo"
N_DIFF=$(grep -c 'diff computed' "$T/one.log")
N_ECHO=$(wc -l < "$T/one.echo")
"$QMTL" run --offline --quiet --plugins "$T/both2" --data "$DATA" > /dev/null 2> "$T/one2.log"
grep -o 'echo2 ts=.*' "$T/one2.log" > "$T/one2.echo2"
[ "$N_DIFF" -gt 200 ] && [ "$N_ECHO" -gt 200 ] && [ "$(wc -l < "$T/one2.echo2")" -gt 200 ] &&
    ok "one host: diff computed $N_DIFF times, echo $N_ECHO" || not_ok "reference runs (diff $N_DIFF, echo $N_ECHO)"

# ---------------------------------------------------------------- 1. sharing
run_host "$T/a" "$T/a1.log" --world-id W1
A_PID=$!
wait_for 30 at_least 'diff computed' "$T/a1.log" "$N_DIFF" && ok "host A computed diff $N_DIFF times" ||
    not_ok "host A computed diff $(count 'diff computed' "$T/a1.log") times, want $N_DIFF"
wait_for 10 at_least 'lease taken; published' "$T/a1.log" 2 || not_ok "host A holds the leases"

# --explain, on B's plugins, while A computes: nothing runs, nothing is submitted
"$QMTL" run --config "$T/host.yml" --gateway-url "$GW_URL" --world-id W1 --plugins "$T/b" \
    --data "$DATA" --explain --json > "$T/explain.json" 2> "$T/explain.log"
rc=$?
python3 - "$T/explain.json" "$HOSTNAME_:$A_PID" > "$T/explain.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
roles = {n["name"]: n.get("bus", {}) for n in d["nodes"]}
print({k: (v.get("role"), v.get("holder")) for k, v in roles.items()})
a = sys.argv[2]
ok = (roles["price"]["role"] == "local" and roles["echo"]["role"] == "published"
      and roles["echo"]["holder"] is None and roles["echo"]["queue"]
      and all(roles[n]["role"] == "remote" and roles[n]["holder"] == a and roles[n]["queue"]
              for n in ("sma3", "diff"))
      and d["bus"]["world"] == "W1" and d["bus"]["degraded"] == [])
print("ok" if ok else "FAIL")
PY
[ "$rc" -eq 0 ] && grep -q '^ok' "$T/explain.out" &&
    ok "--explain --json on B: price local, sma3 and diff remote (computed by A), echo published" ||
    { not_ok "--explain --json (exit $rc)"; sed 's/^/#   /' "$T/explain.out" "$T/explain.log"; }
"$QMTL" run --config "$T/host.yml" --gateway-url "$GW_URL" --world-id W1 --plugins "$T/a" \
    --data "$DATA" --explain > "$T/explain.txt" 2> "$T/explain2.log"
grep -q "\] diff: standby, not published: the lease of '[^']*' is held by $HOSTNAME_:$A_PID" "$T/explain.txt" &&
    grep -q "\] price: local" "$T/explain.txt" &&
    ok "--explain on A's own plugins while A runs: diff standby (the lease is A's)" ||
    { not_ok "--explain text"; sed 's/^/#   /' "$T/explain.txt" "$T/explain2.log"; }
# the dry run stored nothing: B's own node (echo) has no queue until B submits
ECHO_ID=$(python3 -c 'import json, sys; print([n["id"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "echo"][0])' "$T/explain.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer e2e-dm-token' "http://127.0.0.1:$DM_PORT/nodes/$ECHO_ID")
[ "$code" = 404 ] && ok "--explain submitted nothing (no queue for B's echo yet)" || not_ok "--explain: GET /nodes/echo answered $code"

run_host "$T/b" "$T/b1.log" --world-id W1
B_PID=$!
run_host "$T/c" "$T/c1.log" --world-id W1
C_PID=$!
wait_for 30 at_least 'echo ts=' "$T/b1.log" "$N_ECHO" || not_ok "host B's echo ran $(count 'echo ts=' "$T/b1.log") times"
wait_for 30 at_least 'echo ts=' "$T/c1.log" "$N_ECHO" || not_ok "host C's echo ran $(count 'echo ts=' "$T/c1.log") times"
stop_host "$B_PID"; rb=$?; B_PID=
stop_host "$C_PID"; rcc=$?; C_PID=
[ "$rb" -eq 0 ] && [ "$rcc" -eq 0 ] && ok "hosts B and C stop cleanly" || not_ok "B exit $rb, C exit $rcc"
for h in b c; do
    H=$(echo $h | tr bc BC)
    nd=$(count 'diff computed' "$T/${h}1.log")
    [ "$nd" -eq 0 ] && [ "$(count 'consumed from' "$T/${h}1.log")" -eq 2 ] &&
        grep -q "2 remote ($((2 * N_DIFF + 1)) values fed, 0 duplicates dropped, 0 gaps" "$T/${h}1.log" &&
        ok "host $H consumes sma3 and diff (each output fed once), never computes diff" ||
        { not_ok "host $H computed diff $nd times"; grep 'remote (' "$T/${h}1.log" | sed 's/^/#   /'; }
    same_echo "$T/${h}1.log" "$T/one.echo" echo && ok "host $H's echo saw the one-host windows ($N_ECHO)" ||
        { not_ok "host $H's windows differ"; diff "$T/one.echo" "$T/${h}1.log.echo" | head -5 | sed 's/^/#   /'; }
done
[ "$(count 'diff computed' "$T/a1.log")" -eq "$N_DIFF" ] && ok "diff computed once per bucket over three hosts (A $N_DIFF, B 0, C 0)" ||
    not_ok "host A computed diff $(count 'diff computed' "$T/a1.log") times"

# restarted, C resumes after what it acknowledged: nothing is fed again
run_host "$T/c" "$T/c1b.log" --world-id W1
C_PID=$!
wait_for 10 at_least 'consumed from' "$T/c1b.log" 2 && ok "restarted host C consumes again" || not_ok "restarted C subscribes"
wait_for 2 at_least 'echo ts=' "$T/c1b.log" 1 # nothing may come: a redelivery would come by then
stop_host "$C_PID"; C_PID=
grep -q '2 remote (0 values fed' "$T/c1b.log" && [ "$(count 'echo ts=' "$T/c1b.log")" -eq 0 ] &&
    ok "restarted host C re-processes nothing (0 values fed)" ||
    { not_ok "restarted host C re-processed values"; grep 'bus' "$T/c1b.log" | sed 's/^/#   /'; }
stop_host "$A_PID"; A_PID=
grep -q "2 node(s) published ($((2 * N_DIFF + 1)) values, 0 not acknowledged)" "$T/a1.log" &&
    ok "host A published sma3 and diff: $((2 * N_DIFF + 1)) values, all acknowledged" ||
    { not_ok "host A's bus summary"; grep 'node(s) published' "$T/a1.log" | sed 's/^/#   /'; }
DIFF_ID=$(bus_node_id "$T/b1.log" diff)
SMA_ID=$(bus_node_id "$T/b1.log" sma3)

# ---------------------------------------------------------------- 2. ownership
# A runs ahead (paced 40 bars/s), B and C behind (15 bars/s); A is killed with -9
run_host "$T/a" "$T/a2.log" --world-id W2 --pace 40
A_PID=$!
wait_for 10 at_least 'lease taken; published' "$T/a2.log" 2 || not_ok "host A takes the W2 leases"
run_host "$T/b" "$T/b2.log" --world-id W2 --pace 15
B_PID=$!
run_host "$T/c" "$T/c2.log" --world-id W2 --pace 15
C_PID=$!
wait_for 15 at_least 'echo ts=' "$T/b2.log" 40 || not_ok "host B consumes while A runs"
wait_for 15 at_least 'echo ts=' "$T/c2.log" 40 || not_ok "host C consumes while A runs"
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null; A_PID=
took() { [ $(($(count 'took the lease its owner left' "$T/b2.log") + $(count 'took the lease its owner left' "$T/c2.log"))) -ge 2 ]; }
wait_for 2 took && ok "host A killed (-9): both leases taken within 2 s" ||
    { not_ok "takeover within 2 s"; grep -h bus "$T/b2.log" "$T/c2.log" | sed 's/^/#   /'; }
wait_for 40 at_least 'echo ts=' "$T/b2.log" "$N_ECHO"
wait_for 40 at_least 'echo ts=' "$T/c2.log" "$N_ECHO"
# counted while both run: the first to stop gives its leases up, and the other takes them
nt=$(($(count 'took the lease its owner left' "$T/b2.log") + $(count 'took the lease its owner left' "$T/c2.log")))
nb=$(count 'diff computed' "$T/b2.log")
nc=$(count 'diff computed' "$T/c2.log")
kill -TERM "$B_PID" "$C_PID"; wait "$B_PID" "$C_PID"; B_PID= C_PID=
[ "$nt" -eq 2 ] && (( (nb > 0) != (nc > 0) )) &&
    ok "each lease taken once; diff computed on one host only (B $nb, C $nc)" ||
    { not_ok "ownership after the kill: $nt takeovers, diff on B $nb, on C $nc"; grep -h bus "$T/b2.log" "$T/c2.log" | sed 's/^/#   /'; }
for h in b c; do
    H=$(echo $h | tr bc BC)
    same_echo "$T/${h}2.log" "$T/one.echo" echo && grep -q ' 0 gaps' "$T/${h}2.log" &&
        ok "host $H's echo saw the one-host windows across the takeover (no gap, no duplicate)" ||
        { not_ok "host $H's windows across the takeover"; diff "$T/one.echo" "$T/${h}2.log.echo" | head -5 | sed 's/^/#   /'; }
done
bus_node_report "$DIFF_ID" "$T/node_diff.json"
bus_node_report "$SMA_ID" "$T/node_sma.json"
bus_stream_whole "$T/node_diff.json" W2 "$N_DIFF" > "$T/w2.out" &&
    bus_stream_whole "$T/node_sma.json" W2 $((N_DIFF + 1)) >> "$T/w2.out" &&
    ok "W2 streams: diff $N_DIFF and sma3 $((N_DIFF + 1)) outputs, each numbered 1..n over two owners" ||
    { not_ok "W2 streams: $(cat "$T/w2.out")"; }

# ---------------------------------------------------------------- 3. hot reload on the bus
cp "$F/bus_producer.so" "$T/a3/"
cp "$F/bus_consumer.so" "$T/b3/"
deploy() { cp "$1" "$2/.next.tmp" && mv "$2/.next.tmp" "$2/$3"; }
run_host "$T/a3" "$T/a3.log" --world-id W3 --pace 20
A_PID=$!
wait_for 10 at_least 'lease taken; published' "$T/a3.log" 2 || not_ok "host A takes the W3 leases"
run_host "$T/b3" "$T/b3.log" --world-id W3 --pace 20
B_PID=$!
wait_for 15 at_least 'echo ts=' "$T/b3.log" 20 || not_ok "host B consumes while A runs"
grep -q 'hot reload is off' "$T/a3.log" && not_ok "hot reload turned off on a bus" || ok "hot reload stays on with a bus"
deploy "$F/bus_producer_v2.so" "$T/a3" bus_producer.so
wait_for 20 at_least "reload: strategy 'bus_producer' 1.0.0 -> 2.0.0" "$T/a3.log" 1 &&
    wait_for 10 at_least "node 'mom' (blake3:[0-9a-f]*): lease taken; published to" "$T/a3.log" 1 &&
    ok "host A reloaded bus_producer 2.0.0: mom published, from its resubmission's answer" ||
    { not_ok "host A's reload"; grep -E 'reload|bus' "$T/a3.log" | sed 's/^/#   /'; }
deploy "$F/bus_consumer_v2.so" "$T/b3" bus_consumer.so
wait_for 20 at_least "reload: strategy 'bus_consumer' 1.0.0 -> 2.0.0" "$T/b3.log" 1 &&
    wait_for 10 at_least "node 'mom' (blake3:[0-9a-f]*) is computed by another host: consumed from" "$T/b3.log" 1 &&
    ok "host B reloaded bus_consumer 2.0.0: mom consumed from A" ||
    { not_ok "host B's reload"; grep -E 'reload|bus' "$T/b3.log" | sed 's/^/#   /'; }
LAST2=$(tail -1 "$T/one2.echo2")
last_echo2() { grep -o 'echo2 ts=.*' "$T/b3.log" | tail -1 | grep -qxF "$LAST2"; }
wait_for 40 last_echo2 || not_ok "host B's echo2 reached the last bucket"
wait_for 10 at_least 'echo ts=' "$T/b3.log" "$N_ECHO"
stop_host "$B_PID"; B_PID=
stop_host "$A_PID"; A_PID=
same_echo "$T/b3.log" "$T/one.echo" echo && ok "host B's echo saw the one-host windows through both reloads" ||
    { not_ok "host B's echo across the reloads"; diff "$T/one.echo" "$T/b3.log.echo" | head -5 | sed 's/^/#   /'; }
grep -o 'echo2 ts=.*' "$T/b3.log" > "$T/b3.echo2"
n2=$(wc -l < "$T/b3.echo2")
tail -n "$n2" "$T/one2.echo2" > "$T/one2.tail"
[ "$n2" -gt 10 ] && cmp -s "$T/one2.tail" "$T/b3.echo2" && grep -q ' 0 gaps' "$T/b3.log" &&
    ok "host B's echo2 saw mom's one-host windows from the reload on ($n2 buckets, no gap, no duplicate)" ||
    { not_ok "host B's echo2 ($n2 lines)"; diff "$T/one2.tail" "$T/b3.echo2" | head -5 | sed 's/^/#   /'; }
[ "$(count 'diff computed' "$T/a3.log")" -eq "$N_DIFF" ] && [ "$(count 'diff computed' "$T/b3.log")" -eq 0 ] &&
    ok "diff computed $N_DIFF times on A through its reload, never on B" ||
    not_ok "diff computed on A $(count 'diff computed' "$T/a3.log"), on B $(count 'diff computed' "$T/b3.log")"
MOM_ID=$(bus_node_id "$T/a3.log" mom)
bus_node_report "$DIFF_ID" "$T/node_diff3.json"
bus_node_report "$MOM_ID" "$T/node_mom3.json"
bus_stream_whole "$T/node_diff3.json" W3 "$N_DIFF" > "$T/w3.out" &&
    ok "W3 diff stream: $N_DIFF outputs numbered 1..$N_DIFF across A's reload" || not_ok "W3 diff stream: $(cat "$T/w3.out")"
# every mom output A computed is in its stream, those computed between the reload and the
# resubmission's answer (held, then published) too
NMOM=$(count 'mom computed' "$T/a3.log")
bus_stream_whole "$T/node_mom3.json" W3 "$NMOM" > "$T/w3m.out" && [ "$NMOM" -gt 10 ] &&
    ok "W3 mom stream: all $NMOM outputs A computed, numbered from 1, none twice" ||
    { not_ok "W3 mom stream: $(cat "$T/w3m.out"), A computed $NMOM"; sed 's/^/#   /' "$T/node_mom3.json"; }

finish
