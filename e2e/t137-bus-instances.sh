#!/bin/bash
# Durable consumers per host instance, and a hot reload dropping a consumed node
# (docs/scale-out.md): nats-server, a DAG manager, a gateway and hosts on 127.0.0.1.
#  1. host A runs bus_producer; two hosts on this one machine run the same bus_consumer in
#     the same world, each from its own directory (B1, B2; B2 also named by host.name):
#     each consumes sma3 and diff through a durable consumer of its own (the queue lists
#     two), each is fed every output once and its echo sees the one-host windows (neither
#     takes the other's values); both restarted re-process nothing (each resumes its own
#     durable consumer); a third host in B1's directory named otherwise (host.name) gets a
#     consumer of its own and every output.
#  2. host A runs bus_producer 2.0.0 (publishes mom), host B bus_consumer 2.0.0 (consumes
#     mom); B reloaded to 1.0.0 (mom dropped): its mom consumer is deleted at once (the
#     queue lists none), while sma3 and diff are consumed on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs bus_producer bus_consumer bus_producer_v2 bus_consumer_v2

NATS_PID= DM_PID= A_PID= B1_PID= B2_PID= B3_PID=
cleanup() {
    kill_wait "$A_PID" "$B1_PID" "$B2_PID" "$B3_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

T=$E2E_TMP
mkdir -p "$T/a" "$T/b1" "$T/b2" "$T/both" "$T/a2" "$T/bw2"
cp "$F/bus_producer.so" "$T/a/"
cp "$F/bus_consumer.so" "$T/b1/"
cp "$F/bus_consumer.so" "$T/b2/"
cp "$F/bus_producer.so" "$F/bus_consumer.so" "$T/both/"
cp "$F/bus_producer_v2.so" "$T/a2/bus_producer.so"
cp "$F/bus_consumer_v2.so" "$T/bw2/bus_consumer.so"
DATA='BTC=gbm:count=240,seed=11'

bus_up || { finish; exit 1; }

"$QMTL" run --offline --quiet --plugins "$T/both" --data "$DATA" > /dev/null 2> "$T/one.log"
grep -o 'echo ts=.*' "$T/one.log" > "$T/one.echo"
N_DIFF=$(grep -c 'diff computed' "$T/one.log")
N_ECHO=$(wc -l < "$T/one.echo")
[ "$N_DIFF" -gt 200 ] && [ "$N_ECHO" -gt 200 ] && ok "one host: diff computed $N_DIFF times, echo $N_ECHO" ||
    not_ok "reference run (diff $N_DIFF, echo $N_ECHO)"
FED=$((2 * N_DIFF + 1)) # sma3 and diff outputs

# consumers_of ID WORLD: the names of the durable consumers of node ID's queue in WORLD
consumers_of() {
    bus_node_report "$1" "$T/node.json"
    python3 -c '
import json, sys
q = [q for q in json.load(open(sys.argv[1]))["queues"] if q["world_id"] == sys.argv[2]][0]
print(" ".join(sorted(c["name"] for c in q["bus"]["consumers"])))' "$T/node.json" "$2"
}

# ---------------------------------------------------------------- 1. two hosts, one machine
run_host "$T/a" "$T/a1.log" --world-id W1
A_PID=$!
wait_for 30 at_least 'diff computed' "$T/a1.log" "$N_DIFF" || not_ok "host A computed diff"
run_host "$T/b1" "$T/b1.log" --world-id W1
B1_PID=$!
QMTL__HOST__NAME=second run_host "$T/b2" "$T/b2.log" --world-id W1
B2_PID=$!
wait_for 30 at_least 'echo ts=' "$T/b1.log" "$N_ECHO" || not_ok "host B1's echo ran $(count 'echo ts=' "$T/b1.log") times"
wait_for 30 at_least 'echo ts=' "$T/b2.log" "$N_ECHO" || not_ok "host B2's echo ran $(count 'echo ts=' "$T/b2.log") times"
DIFF_ID=$(bus_node_id "$T/b1.log" diff)
c1=$(consumers_of "$DIFF_ID" W1)
[ "$(echo "$c1" | wc -w)" -eq 2 ] && ok "diff's queue has two durable consumers, one per host ($c1)" ||
    { not_ok "diff's queue consumers: '$c1'"; sed 's/^/#   /' "$T/node.json"; }
stop_host "$B1_PID"; r1=$?; B1_PID=
stop_host "$B2_PID"; r2=$?; B2_PID=
[ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && ok "hosts B1 and B2 stop cleanly" || not_ok "B1 exit $r1, B2 exit $r2"
for h in b1 b2; do
    H=$(echo $h | tr b B)
    grep -q "2 remote ($FED values fed, 0 duplicates dropped, 0 gaps" "$T/$h.log" &&
        [ "$(count 'diff computed' "$T/$h.log")" -eq 0 ] && same_echo "$T/$h.log" "$T/one.echo" echo &&
        ok "host $H was fed every output once ($FED), its echo saw the one-host windows" ||
        { not_ok "host $H's share"; grep 'remote (' "$T/$h.log" | sed 's/^/#   /'; diff "$T/one.echo" "$T/$h.log.echo" | head -3 | sed 's/^/#   /'; }
done

# restarted, each resumes its own durable consumer: nothing is fed again
run_host "$T/b1" "$T/b1r.log" --world-id W1
B1_PID=$!
QMTL__HOST__NAME=second run_host "$T/b2" "$T/b2r.log" --world-id W1
B2_PID=$!
wait_for 10 at_least 'consumed from' "$T/b1r.log" 2 || not_ok "restarted B1 subscribes"
wait_for 10 at_least 'consumed from' "$T/b2r.log" 2 || not_ok "restarted B2 subscribes"
wait_for 2 at_least 'echo ts=' "$T/b1r.log" 1 # nothing may come: a redelivery would come by then
stop_host "$B1_PID"; B1_PID=
stop_host "$B2_PID"; B2_PID=
for h in b1 b2; do
    H=$(echo $h | tr b B)
    grep -q '2 remote (0 values fed' "$T/${h}r.log" && [ "$(count 'echo ts=' "$T/${h}r.log")" -eq 0 ] &&
        ok "restarted host $H resumes its own consumers (0 values fed)" ||
        { not_ok "restarted host $H"; grep 'bus' "$T/${h}r.log" | sed 's/^/#   /'; }
done
c2=$(consumers_of "$DIFF_ID" W1)
[ "$c2" = "$c1" ] && ok "the restarts made no new consumer" || not_ok "consumers after the restarts: '$c2' (were '$c1')"

# a third host in B1's directory, named otherwise: a consumer of its own, every output
QMTL__HOST__NAME=third run_host "$T/b1" "$T/b3.log" --world-id W1
B3_PID=$!
wait_for 30 at_least 'echo ts=' "$T/b3.log" "$N_ECHO" || not_ok "host B3's echo ran $(count 'echo ts=' "$T/b3.log") times"
stop_host "$B3_PID"; B3_PID=
grep -q "2 remote ($FED values fed, 0 duplicates dropped, 0 gaps" "$T/b3.log" && same_echo "$T/b3.log" "$T/one.echo" echo &&
    [ "$(consumers_of "$DIFF_ID" W1 | wc -w)" -eq 3 ] &&
    ok "host.name 'third' in B1's directory: its own consumer, fed every output ($FED)" ||
    { not_ok "host B3"; grep 'remote (' "$T/b3.log" | sed 's/^/#   /'; }
QMTL__HOST__NAME='two words' "$QMTL" run --config "$T/host.yml" --gateway-url "$GW_URL" --plugins "$T/b1" \
    --data "$DATA" --world-id W1 > /dev/null 2> "$T/badname.log"
rc=$?
[ "$rc" -ne 0 ] && grep -q "host.name: 'two words': printable ASCII without spaces" "$T/badname.log" &&
    ok "a host.name with a space is refused (exit $rc)" || { not_ok "bad host.name (exit $rc)"; sed 's/^/#   /' "$T/badname.log"; }
stop_host "$A_PID"; A_PID=

# ---------------------------------------------------------------- 2. reload drops a consumed node
run_host "$T/a2" "$T/a2.log" --world-id W2 --pace 20
A_PID=$!
wait_for 10 at_least 'lease taken; published' "$T/a2.log" 3 || not_ok "host A takes the W2 leases"
run_host "$T/bw2" "$T/bw2.log" --world-id W2 --pace 20
B1_PID=$!
wait_for 15 at_least 'echo2 ts=' "$T/bw2.log" 10 &&
    ok "host B (bus_consumer 2.0.0) consumes mom" || { not_ok "host B consumes mom"; grep bus "$T/bw2.log" | sed 's/^/#   /'; }
MOM_ID=$(bus_node_id "$T/bw2.log" mom)
[ "$(consumers_of "$MOM_ID" W2 | wc -w)" -eq 1 ] || not_ok "mom's queue has B's consumer"
cp "$F/bus_consumer.so" "$T/bw2/.next.tmp" && mv "$T/bw2/.next.tmp" "$T/bw2/bus_consumer.so"
wait_for 20 at_least "reload: strategy 'bus_consumer' 2.0.0 -> 1.0.0" "$T/bw2.log" 1 &&
    wait_for 5 at_least "node $MOM_ID: not consumed any more; durable consumer" "$T/bw2.log" 1 ||
    { not_ok "host B's reload"; grep -E 'reload|bus' "$T/bw2.log" | sed 's/^/#   /'; }
no_mom_consumer() { [ -z "$(consumers_of "$MOM_ID" W2)" ]; }
wait_for 5 no_mom_consumer && ok "reloaded to 1.0.0: B's mom consumer is deleted" ||
    { not_ok "mom's consumers after the reload: '$(consumers_of "$MOM_ID" W2)'"; }
n=$(count 'echo ts=' "$T/bw2.log")
wait_for 10 at_least 'echo ts=' "$T/bw2.log" $((n + 5)) && [ "$(consumers_of "$DIFF_ID" W2 | wc -w)" -eq 1 ] &&
    ok "B consumes diff on after the reload" || not_ok "B's diff after the reload"
stop_host "$B1_PID"; B1_PID=
stop_host "$A_PID"; A_PID=
grep -q ' 0 gaps' "$T/bw2.log" && ok "host B: no gap" || { not_ok "host B's summary"; grep 'remote (' "$T/bw2.log" | sed 's/^/#   /'; }

finish
