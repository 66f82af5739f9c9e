#!/bin/bash
# Tag queries across hosts, what a running host must not miss: nats-server, a DAG manager,
# a gateway (one event stream at a time, gateway.ws_max_connections: 1; the DAG manager's
# dropped queues asked for every 0.2 s) and attached hosts on the bus.
#  1. No update missed at connect: host B holds the only stream slot; host C (a tag query
#     for "momentum") submits, its stream is refused and retried; host A then runs
#     tagq_source, whose node 'mom' carries the tag: the queue_update is published while C
#     has no stream. B stops, C's stream connects and the gateway's queue_update snapshot
#     makes C join A's queue: it collects exactly A's values. C has no host token, so its
#     stream starts from its connect, not from the event it saw at start-up (a host with
#     one has the same gap, shorter: between its submission and that start-up read).
#  2. A queue that goes away leaves: the DAG manager is restarted with a retention of 2 s;
#     A's strategy is gone (no submission, no message, no lease), so its stream is
#     collected and the queue dropped; the gateway publishes the query's list without it
#     and C, still running, removes that input (its collect keeps what it had).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs tagq_source tagq_query

NATS_PID= DM_PID= B_PID= C_PID=
cleanup() {
    kill_wait "$C_PID" "$B_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

tagq_plugins
BUS_GW_EXTRA='  ws_max_connections: 1
  queue_poll_interval_s: 0.2'
bus_up || { finish; exit 1; }
# worlds the gateway knows: their activation answers, so a stream stays open
expect_code 201 "create world W" POST /worlds '{"id":"W","mode":"paper"}' -H "$OP_AUTH"
expect_code 201 "create world W2" POST /worlds '{"id":"W2","mode":"paper"}' -H "$OP_AUTH"

grep -v host_token "$E2E_TMP/host.yml" > "$E2E_TMP/host-c.yml"
host() { # host LOG WORLD PLUGINS DATA [more args] &: an attached host on the bus (exec: $! is it)
    local log=$1 world=$2 plugins=$3 data=$4; shift 4
    exec "$QMTL" run --config "$E2E_TMP/host-c.yml" --world-id "$world" --gateway-url "$GW_URL" \
        --plugins "$plugins" --data "$data" "$@" > /dev/null 2> "$log"
}

# B holds the gateway's only event-stream slot
host "$E2E_TMP/b.log" W2 "$E2E_TMP/c" 'ETH=gbm:count=10,seed=3' --follow &
B_PID=$!
check "host B's stream holds the only slot" wait_for 15 at_least 'event stream connected' "$E2E_TMP/b.log" 1

# C submits its tag query; its stream is refused (429) and retried
host "$E2E_TMP/c.log" W "$E2E_TMP/c" 'ETH=gbm:count=30,seed=5' --follow &
C_PID=$!
wait_for 15 at_least 'following until SIGINT' "$E2E_TMP/c.log" 1 &&
    wait_for 10 at_least 'stream refused with HTTP 429' "$E2E_TMP/c.log" 1 &&
    ok "host C runs its tag query, its stream refused for now" ||
    { not_ok "host C starts without a stream"; sed 's/^/#   /' "$E2E_TMP/c.log"; }

# A computes mom; the DAG manager's diff creates its queue; the queue_update goes out
# while C has no stream
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/a" --data 'BTC=gbm:count=120,seed=11' > /dev/null 2> "$E2E_TMP/a.log"
rc=$?
N_MOM=$(count 'mom computed' "$E2E_TMP/a.log")
[ "$rc" -eq 0 ] && [ "$N_MOM" -gt 100 ] && grep -q '1 node(s) published' "$E2E_TMP/a.log" &&
    ok "host A computed and published mom ($N_MOM values)" ||
    { not_ok "host A (exit $rc, $N_MOM values)"; grep -e bus -e attached "$E2E_TMP/a.log" | sed 's/^/#   /'; }
! grep -q 'event stream connected' "$E2E_TMP/c.log" && ! grep -q 'tag query input joined' "$E2E_TMP/c.log" &&
    ok "the queue_update was published while C had no stream: C has not joined" ||
    not_ok "host C had a stream or joined too early"

# B goes: C's stream connects, the snapshot names A's queue, C joins and collects
kill -TERM "$B_PID"; wait "$B_PID"; B_PID=
wait_for 15 at_least 'event stream connected' "$E2E_TMP/c.log" 1 &&
    wait_for 15 at_least "tag query input joined: queue 'w\.[^']*mom" "$E2E_TMP/c.log" 1 &&
    ok "C's stream connects; the gateway's queue_update snapshot makes A's queue C's input" ||
    { not_ok "host C joins A's queue at connect"; grep -e bus -e attached "$E2E_TMP/c.log" | sed 's/^/#   /'; }
wait_for 20 at_least 'collect ts=' "$E2E_TMP/c.log" "$N_MOM"
grep -o 'mom computed ts=.*' "$E2E_TMP/a.log" | sed 's/mom computed/v/' > "$E2E_TMP/a.vals"
grep -o 'collect ts=.*' "$E2E_TMP/c.log" | sed 's/collect/v/' > "$E2E_TMP/c.vals"
if [ "$N_MOM" -gt 0 ] && cmp -s "$E2E_TMP/a.vals" "$E2E_TMP/c.vals"; then
    ok "C's collect saw exactly A's $N_MOM mom values, in order"
else
    not_ok "C's values differ from A's ($(wc -l < "$E2E_TMP/c.vals") collected)"
    diff "$E2E_TMP/a.vals" "$E2E_TMP/c.vals" | head -5 | sed 's/^/#   /'
fi

# the DAG manager again, collecting what is unused for 2 s: A's strategy is gone
kill_wait "$DM_PID"; DM_PID=
sed -i 's/bus_retention_s: 3600/bus_retention_s: 2\n  bus_gc_interval_s: 1/' "$E2E_TMP/dm.yml"
"$QMTL" service dagmanager server --config "$E2E_TMP/dm.yml" 2> "$E2E_TMP/dm2.log" &
DM_PID=$!
check "the DAG manager collects A's stream and drops its queue from tag queries" \
    wait_for 20 grep -q "queue 'w\.[^']*mom[^']*' dropped from tag queries" "$E2E_TMP/dm2.log"
check "the gateway publishes the query's list without it" \
    wait_for 10 grep -q 'queue_update(s) published: the DAG manager dropped queues' "$E2E_TMP/gw.log"
wait_for 10 at_least "tag query input left: queue 'w\.[^']*mom" "$E2E_TMP/c.log" 1 &&
    ok "host C, still running, removes A's queue from its tag query's inputs" ||
    { not_ok "host C leaves A's queue"; grep -e bus -e attached "$E2E_TMP/c.log" | sed 's/^/#   /'; }
kill -0 "$C_PID" 2>/dev/null && [ "$(count "loaded 'tagq_query'" "$E2E_TMP/c.log")" -eq 1 ] &&
    [ "$(count 'collect ts=' "$E2E_TMP/c.log")" -eq "$N_MOM" ] &&
    ok "host C kept running (loaded once) and kept what it had collected" ||
    not_ok "host C restarted, died or collected more"
kill -TERM "$C_PID"; wait "$C_PID"; rc=$?; C_PID=
[ "$rc" -eq 0 ] && grep -q "tag queries: 0 queue(s) of other hosts joined, 1 left ($N_MOM values fed" "$E2E_TMP/c.log" &&
    ok "host C stops cleanly: the queue joined, then left" ||
    { not_ok "host C stop (exit $rc)"; grep bus "$E2E_TMP/c.log" | sed 's/^/#   /'; }

finish
