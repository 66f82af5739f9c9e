#!/bin/bash
# Scale-out on a NATS cluster with replicas (docs/scale-out.md): three nats-servers on
# 127.0.0.1 forming one JetStream cluster, a DAG manager with dagmanager.bus_replicas 3, a
# gateway, and two hosts given the three servers (--bus nats://a,nats://b,nats://c): host A
# runs bus_producer (computes and publishes sma3 and diff), host B bus_consumer (consumes
# them, plus a node of its own, echo).
#  1. the lease bucket and every queue's stream have three replicas, one on each server;
#  2. the server leading diff's stream is killed with -9 while both hosts run: the clients
#     it served reconnect to another server, the stream elects another leader, A's
#     publishes meanwhile are sent again and stored, A keeps its leases, B consumes on: B's
#     echo sees exactly the windows of one host running both strategies (no gap, no
#     duplicate);
#  3. then A is killed with -9 too: B takes both leases (the lease bucket lives on the two
#     servers left) within 3 s and computes on; the streams hold every output once, 1..n;
#  4. a DAG manager asking for more replicas than the cluster has servers refuses to start.
# Skipped (77) when the three servers cannot form a cluster on this machine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs bus_producer bus_consumer

DM_PID= A_PID= B_PID= CPID=()
cleanup() {
    kill_wait "$A_PID" "$B_PID" "$DM_PID" "${CPID[@]}"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

T=$E2E_TMP
mkdir -p "$T/a" "$T/b" "$T/both"
cp "$F/bus_producer.so" "$T/a/"
cp "$F/bus_consumer.so" "$T/b/"
cp "$F/bus_producer.so" "$F/bus_consumer.so" "$T/both/"
DATA='BTC=gbm:count=600,seed=11'

if ! bus_cluster_up; then
    echo "# skipped: three nats-servers did not form a JetStream cluster on 127.0.0.1 in 30 s"
    tail -3 "$T"/nats*.log | sed 's/^/#   /'
    exit 77
fi
ok "three nats-servers formed a JetStream cluster ($BUS)"
BUS_REPLICAS=3
bus_up || { finish; exit 1; }

server_of() { # server_of LOG: the index of the server a process's log says it connected to last
    local p i
    p=$(grep -oE '(connected|reconnected) to nats://127.0.0.1:[0-9]+' "$1" | tail -1 | grep -oE '[0-9]+$')
    for i in 0 1 2; do [ "${CPORT[i]}" = "$p" ] && echo "$i"; done
}

# 1. replicas: the lease bucket, made by the DAG manager when it started
replicas_of() { bus_cluster_streams "$1" | awk -v n="$2" '$1 == n { print $3 }'; }
[ "$(replicas_of 0 KV_QMTL_LEASES)" = 3 ] && ok "the lease bucket has 3 replicas" ||
    { not_ok "lease bucket replicas"; bus_cluster_streams 0 | sed 's/^/#   /'; }

"$QMTL" run --offline --quiet --plugins "$T/both" --data "$DATA" > /dev/null 2> "$T/one.log"
grep -o 'echo ts=.*' "$T/one.log" > "$T/one.echo"
N_DIFF=$(grep -c 'diff computed' "$T/one.log")
N_ECHO=$(wc -l < "$T/one.echo")
[ "$N_DIFF" -gt 200 ] && [ "$N_ECHO" -gt 200 ] && ok "one host: diff computed $N_DIFF times, echo $N_ECHO" ||
    not_ok "reference run (diff $N_DIFF, echo $N_ECHO)"

run_host() {
    local dir=$1 log=$2; shift 2
    "$QMTL" run --config "$T/host.yml" --world-id W --gateway-url "$GW_URL" --plugins "$dir" \
        --data "$DATA" --follow "$@" > /dev/null 2> "$log" &
}
run_host "$T/a" "$T/a.log" --pace 20
A_PID=$!
wait_for 10 at_least 'lease taken; published' "$T/a.log" 2 || not_ok "host A takes the leases"
# 2. the server leading diff's stream killed (the lease bucket led by another one first:
# its own failover is part 3's business)
DIFF_ID=$(bus_node_id "$T/a.log" diff)
SMA_ID=$(bus_node_id "$T/a.log" sma3)
bus_node_report "$DIFF_ID" "$T/node_diff.json"
DIFF_STREAM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queues"][0]["bus"]["stream"])' "$T/node_diff.json")
leader_of() { bus_cluster_streams "$1" | awk -v n="$2" '$1 == n { print $2 }'; }
apart() { [ "$(leader_of 0 KV_QMTL_LEASES)" != "$(leader_of 0 "$DIFF_STREAM")" ]; }
for _ in 1 2 3; do
    apart && break
    bus_cluster_stepdown 0 KV_QMTL_LEASES > /dev/null
    wait_for 10 apart
done
apart && ok "diff's stream and the lease bucket led by two servers" ||
    not_ok "the lease bucket's leader stays with diff's stream ($(leader_of 0 KV_QMTL_LEASES))"
run_host "$T/b" "$T/b.log" --pace 15
B_PID=$!
wait_for 20 at_least 'echo ts=' "$T/b.log" 20 || not_ok "host B consumes while A runs"

bus_cluster_streams 0 > "$T/streams.txt"
LEADER=$(leader_of 0 "$DIFF_STREAM")
n3=$(awk '$1 ~ /^QMTL_Q_/ && $3 == 3' "$T/streams.txt" | wc -l)
nq=$(grep -c '^QMTL_Q_' "$T/streams.txt")
[ "$nq" -ge 3 ] && [ "$n3" -eq "$nq" ] && ok "each of the $nq queue streams has 3 replicas" ||
    { not_ok "queue stream replicas ($n3 of $nq with 3)"; sed 's/^/#   /' "$T/streams.txt"; }

K=${LEADER#n}
SA=$(server_of "$T/a.log") SB=$(server_of "$T/b.log")
echo "# diff's stream $DIFF_STREAM led by $LEADER; host A on n$SA, host B on n$SB"
kill -KILL "${CPID[K]}"; wait "${CPID[K]}" 2>/dev/null; CPID[K]=
N_AT_KILL=$(count 'echo ts=' "$T/b.log")
LIVE=()
for i in 0 1 2; do [ "$i" -ne "$K" ] && LIVE+=("$i"); done
NPORT=${CPORT[LIVE[0]]}
ok "server $LEADER killed (-9) after B saw $N_AT_KILL echoes"
for h in a b; do
    H=$(echo $h | tr ab AB)
    s=$([ $h = a ] && echo "$SA" || echo "$SB")
    if [ "$s" = "$K" ]; then
        wait_for 10 at_least 'reconnected to' "$T/$h.log" 1 && [ "$(server_of "$T/$h.log")" != "$K" ] &&
            ok "host $H, connected to the killed server, reconnected to n$(server_of "$T/$h.log")" ||
            not_ok "host $H reconnects to another server"
    fi
done
led() { [ "$(leader_of "${LIVE[0]}" "$DIFF_STREAM")" != - ] && [ "$(leader_of "${LIVE[0]}" "$DIFF_STREAM")" != "$LEADER" ]; }
wait_for 20 led && ok "diff's stream led by $(leader_of "${LIVE[0]}" "$DIFF_STREAM") now" ||
    not_ok "diff's stream has no new leader"
# A publishes on: B's echo goes on past the kill
wait_for 30 at_least 'echo ts=' "$T/b.log" $((N_AT_KILL + 40)) && [ -n "$A_PID" ] && kill -0 "$A_PID" &&
    ok "host B's echo goes on after the kill ($N_AT_KILL -> $(count 'echo ts=' "$T/b.log"))" ||
    not_ok "host B's echo stopped at $(count 'echo ts=' "$T/b.log")"
grep -q 'lease lost' "$T/a.log" && not_ok "host A lost a lease" || ok "host A kept its leases"
DIFF_SUBJECT="qmtl.q.$(echo "${DIFF_STREAM#QMTL_Q_}" | tr '~' '.')"
grep -q "publish to '$DIFF_SUBJECT' not stored yet" "$T/a.log" &&
    ok "host A's publishes to diff's stream while it had no leader were sent again" ||
    { not_ok "host A never waited for diff's stream"; grep bus "$T/a.log" | sed 's/^/#   /'; }

# 3. host A killed: B takes both leases from the bucket on the two servers left and
# computes on. (Its windows from there on are the takeover's business, with its edge
# cases: docs/scale-out.md, "Not done yet"; the sequence numbers stay whole.)
N_AT_A_KILL=$(count 'echo ts=' "$T/b.log")
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null; A_PID=
took() { at_least 'took the lease its owner left' "$T/b.log" 2; }
wait_for 3 took && ok "host A killed (-9): B took both leases within 3 s" ||
    { not_ok "B takes A's leases"; grep bus "$T/b.log" | grep -v 'echo ts' | tail -5 | sed 's/^/#   /'; }
computes() { at_least "node 'diff' (blake3:[0-9a-f]*): computed here \(from\|after\) bucket" "$T/b.log" 1 && at_least 'diff computed' "$T/b.log" 20; }
wait_for 60 computes && ok "host B computes diff on ($(count 'diff computed' "$T/b.log") buckets so far)" ||
    { not_ok "host B computes diff after the takeover"; grep bus "$T/b.log" | grep -v 'echo ts' | tail -5 | sed 's/^/#   /'; }
kill -TERM "$B_PID"; wait "$B_PID"; B_PID=
grep -o 'echo ts=.*' "$T/b.log" | head -n "$N_AT_A_KILL" > "$T/b.echo"
head -n "$N_AT_A_KILL" "$T/one.echo" > "$T/one.head"
cmp -s "$T/one.head" "$T/b.echo" && grep -q ' 0 gaps' "$T/b.log" &&
    ok "host B's echo saw the one-host windows across the server kill ($N_AT_A_KILL, no gap, no duplicate)" ||
    { not_ok "host B's windows"; diff "$T/one.head" "$T/b.echo" | head -5 | sed 's/^/#   /'; grep 'remote (' "$T/b.log" | sed 's/^/#   /'; }
bus_node_report "$DIFF_ID" "$T/node_diff.json"
bus_node_report "$SMA_ID" "$T/node_sma.json"
bus_stream_whole "$T/node_diff.json" W -1 > "$T/whole.out" &&
    bus_stream_whole "$T/node_sma.json" W -1 >> "$T/whole.out" &&
    ok "streams of diff and sma3: every output once, numbered 1..n over both kills ($(tr '\n' ' ' < "$T/whole.out"))" ||
    not_ok "streams: $(cat "$T/whole.out")"

# 4. more replicas than servers: the DAG manager refuses to start, naming the setting
sed -e 's/bus_replicas: 3/bus_replicas: 5/' -e "s/port: $DM_PORT/port: 0/" "$T/dm.yml" > "$T/dm5.yml"
timeout 30 "$QMTL" service dagmanager server --config "$T/dm5.yml" > /dev/null 2> "$T/dm5.log"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'dagmanager.bus_replicas 5: needs a JetStream cluster' "$T/dm5.log" &&
    ok "bus_replicas 5 on three servers: the DAG manager refuses to start (exit $rc)" ||
    { not_ok "bus_replicas 5 (exit $rc)"; tail -3 "$T/dm5.log" | sed 's/^/#   /'; }
finish
