#!/bin/bash
# Tag queries across hosts: nats-server (started here on a free loopback port, its own
# store, killed at the end), a DAG manager that owns the streams, a gateway, and attached
# hosts on the bus. Host C runs tagq_query (a tag query for "momentum" at 1m -> collect)
# first: nothing matches it anywhere yet. Host A then starts tagq_source, whose node 'mom'
# carries the tag: the DAG manager's diff creates mom's queue, the gateway publishes a
# queue_update event, and C, still running, joins the queue as an input of its query and
# receives every value A computes (no restart). C restarted finds the queue in its
# submission answer and resumes its durable consumer (nothing twice); A restarted with
# more data publishes only the new values, which reach C while it runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs tagq_source tagq_query

NATS_PID= DM_PID= C_PID=
cleanup() {
    kill_wait "$C_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

tagq_plugins
bus_up || { finish; exit 1; }


# host C: the tag query, alone in the world; it keeps running (--follow)
start_c() {
    "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
        --plugins "$E2E_TMP/c" --data 'ETH=gbm:count=30,seed=5' --follow > /dev/null 2> "$1" &
    C_PID=$!
}
start_c "$E2E_TMP/c1.log"
wait_for 15 at_least 'event stream connected' "$E2E_TMP/c1.log" 1 &&
    wait_for 10 at_least 'following until SIGINT' "$E2E_TMP/c1.log" 1 &&
    ok "host C runs its tag query, its stream connected" ||
    { not_ok "host C starts"; sed 's/^/#   /' "$E2E_TMP/c1.log"; }
[ "$(count 'collect ts=' "$E2E_TMP/c1.log")" -eq 0 ] && ! grep -q 'tag query input joined' "$E2E_TMP/c1.log" &&
    ok "nothing matches the query yet: no input joined, nothing collected" ||
    not_ok "host C collected before any source ran"

# host A: the tagged node, computed and published to the end of its data
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/a" --data 'BTC=gbm:count=120,seed=11' > /dev/null 2> "$E2E_TMP/a1.log"
rc=$?
N_MOM=$(count 'mom computed' "$E2E_TMP/a1.log")
[ "$rc" -eq 0 ] && [ "$N_MOM" -gt 100 ] && grep -q '1 node(s) published' "$E2E_TMP/a1.log" &&
    ok "host A computed and published mom ($N_MOM values)" ||
    { not_ok "host A (exit $rc, $N_MOM values)"; grep -e bus -e attached "$E2E_TMP/a1.log" | sed 's/^/#   /'; }

# C joins A's queue while it runs and receives every value
wait_for 20 at_least 'collect ts=' "$E2E_TMP/c1.log" "$N_MOM"
kill -0 "$C_PID" 2>/dev/null && [ "$(count "loaded 'tagq_query'" "$E2E_TMP/c1.log")" -eq 1 ] &&
    ok "host C kept running (loaded once, never restarted)" || not_ok "host C restarted or died"
grep -q "tag query input joined: queue 'w\.[^']*mom[^']*' (blake3:" "$E2E_TMP/c1.log" &&
    ok "a queue_update event made A's queue an input of C's tag query" ||
    { not_ok "host C joins A's queue"; grep -e bus -e queue_update "$E2E_TMP/c1.log" | sed 's/^/#   /'; }
grep -o 'mom computed ts=.*' "$E2E_TMP/a1.log" | sed 's/mom computed/v/' > "$E2E_TMP/a1.vals"
grep -o 'collect ts=.*' "$E2E_TMP/c1.log" | sed 's/collect/v/' > "$E2E_TMP/c1.vals"
if [ "$N_MOM" -gt 0 ] && cmp -s "$E2E_TMP/a1.vals" "$E2E_TMP/c1.vals"; then
    ok "C's collect saw exactly A's $N_MOM mom values, in order"
else
    not_ok "C's values differ from A's ($(wc -l < "$E2E_TMP/c1.vals") collected)"
    diff "$E2E_TMP/a1.vals" "$E2E_TMP/c1.vals" | head -5 | sed 's/^/#   /'
fi
kill -TERM "$C_PID"; wait "$C_PID"; rc=$?; C_PID=
[ "$rc" -eq 0 ] && grep -q "tag queries: 1 queue(s) of other hosts joined, 0 left ($N_MOM values fed, 0 duplicates dropped, 0 gaps, 0 refused)" "$E2E_TMP/c1.log" &&
    ok "host C stops cleanly: 1 queue joined, $N_MOM values fed" ||
    { not_ok "host C stop (exit $rc)"; grep bus "$E2E_TMP/c1.log" | sed 's/^/#   /'; }

# C restarted: its submission answer lists A's queue; the durable consumer resumes
start_c "$E2E_TMP/c2.log"
wait_for 15 at_least 'tag query input joined' "$E2E_TMP/c2.log" 1 &&
    wait_for 10 at_least 'following until SIGINT' "$E2E_TMP/c2.log" 1 &&
    ok "restarted host C joins A's queue from its submission answer" ||
    { not_ok "restarted host C joins"; grep bus "$E2E_TMP/c2.log" | sed 's/^/#   /'; }
# A restarted with 60 more bars publishes only the new values; C gets them while it runs
timeout 60 "$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" \
    --plugins "$E2E_TMP/a" --data 'BTC=gbm:count=180,seed=11' > /dev/null 2> "$E2E_TMP/a2.log"
N_MOM2=$(count 'mom computed' "$E2E_TMP/a2.log")
N_NEW=$((N_MOM2 - N_MOM))
wait_for 20 at_least 'collect ts=' "$E2E_TMP/c2.log" "$N_NEW"
kill -TERM "$C_PID"; wait "$C_PID"; rc=$?; C_PID=
grep -o 'mom computed ts=.*' "$E2E_TMP/a2.log" | sed 's/mom computed/v/' | tail -n "$N_NEW" > "$E2E_TMP/a2.new"
grep -o 'collect ts=.*' "$E2E_TMP/c2.log" | sed 's/collect/v/' > "$E2E_TMP/c2.vals"
if [ "$rc" -eq 0 ] && [ "$N_NEW" -eq 60 ] && cmp -s "$E2E_TMP/a2.new" "$E2E_TMP/c2.vals" &&
    grep -q "1 queue(s) of other hosts joined, 0 left ($N_NEW values fed, 0 duplicates dropped, 0 gaps" "$E2E_TMP/c2.log"; then
    ok "restarted C re-processed nothing and got exactly A's $N_NEW new values"
else
    not_ok "restarted C (exit $rc): $(wc -l < "$E2E_TMP/c2.vals") values, want the $N_NEW new ones"
    grep bus "$E2E_TMP/c2.log" | sed 's/^/#   /'
    diff "$E2E_TMP/a2.new" "$E2E_TMP/c2.vals" | head -5 | sed 's/^/#   /'
fi

# the gateway stored the queue_update event (replayable by seq_no)
sqlite3_count() {
    python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT COUNT(*) FROM events WHERE type = ?", ("queue_update",)).fetchone()[0])' "$E2E_TMP/gw.db" 2>/dev/null
}
gw_stop
n=$(sqlite3_count)
[ "${n:-0}" -ge 1 ] && ok "the gateway's event log holds the queue_update ($n)" || not_ok "queue_update in the event log ($n)"

finish
