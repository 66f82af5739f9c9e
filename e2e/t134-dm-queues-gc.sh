#!/bin/bash
# The DAG manager's queue report and stream collection: nats-server (JetStream, a free
# loopback port, killed at the end) and a DAG manager on it with a retention of 2 s and a
# collector pass every second (dagmanager.bus_retention_s, bus_gc_interval_s). Two
# strategies are submitted; one is resubmitted all along, the other is gone. GET /queues
# reports both (publisher, strategies, stream); the gone one's stream is deleted (logged,
# counted in /metrics), the one in use keeps its stream.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/nats_lib.sh"
nats_require

NATS_PID= DM_PID= KEEP=
cleanup() {
    kill_wait "$KEEP" "$DM_PID" "$NATS_PID"
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

nats_start -js && ok "nats-server with JetStream" || { not_ok "nats-server starts"; finish; exit 1; }

DM_PORT=$(free_port)
cat > "$E2E_TMP/dm.yml" <<YAML
dagmanager:
  host: 127.0.0.1
  port: $DM_PORT
  store_path: $E2E_TMP/dm.db
  token: e2e-dm-token
  bus: "nats://127.0.0.1:$NPORT"
  bus_retention_s: 2
  bus_gc_interval_s: 1
YAML
"$QMTL" service dagmanager server --config "$E2E_TMP/dm.yml" 2> "$E2E_TMP/dm.log" &
DM_PID=$!
dm_up() { curl -sf "http://127.0.0.1:$DM_PORT/health" > /dev/null; }
wait_for 10 dm_up && ok "DAG manager on the bus" || { not_ok "DAG manager starts"; cat "$E2E_TMP/dm.log"; finish; exit 1; }
check "the collector is announced" grep -q "streams of queues unused for 2 s are deleted (looked for every 1 s)" "$E2E_TMP/dm.log"

AUTH='Authorization: Bearer e2e-dm-token'
diff_of() { # diff_of STRATEGY TAG
    curl -sf -H "$AUTH" -d "{\"strategy_id\":\"$1\",\"world_id\":\"w\",\"execution_domain\":\"backtest\",
      \"dag_json\":{\"nodes\":[{\"node_id\":\"node-$2\",\"node_type\":\"StreamInput\",\"code_hash\":\"74234e98aa\",
      \"interval\":60,\"tags\":[\"$2\"]}]}}" "http://127.0.0.1:$DM_PORT/diff" > /dev/null
}
check "strategy s-gone submitted" diff_of s-gone gone
check "strategy s-kept submitted" diff_of s-kept kept
GONE=w.backtest.gone_StreamInput_74234e_v1
KEPT=w.backtest.kept_StreamInput_74234e_v1
( while :; do diff_of s-kept kept; sleep 0.5; done ) &   # s-kept stays in use
KEEP=$!

queues() { curl -sf -H "$AUTH" "http://127.0.0.1:$DM_PORT/queues$1" > "$E2E_TMP/queues.json"; }
check "GET /queues answers" queues ""
check "it reports each queue: publisher, strategies, stream with its last seq and consumers" python3 -c '
import json, sys
q = {e["queue"]: e for e in json.load(open(sys.argv[1]))["queues"]}
e = q[sys.argv[2]]
assert e["publisher"]["strategy"] == "s-gone" and e["publisher"]["host"] is None, e
assert e["strategies"] == ["s-gone"] and isinstance(e["last_submitted"], int), e
s = e["stream"]
assert s["last_seq"] == 0 and s["messages"] == 0 and s["consumers"] == [] and s["last_ts"] == 0, s
assert set(q) == {sys.argv[2], sys.argv[3]}, q.keys()
' "$E2E_TMP/queues.json" "$GONE" "$KEPT"
check "without a token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$DM_PORT/queues")" = 401
queues "?world_id=other" && check "a world filter" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["queues"] == []' "$E2E_TMP/queues.json"

gone_collected() {
    queues "" && python3 -c '
import json, sys
q = {e["queue"]: e for e in json.load(open(sys.argv[1]))["queues"]}
sys.exit(0 if q[sys.argv[2]]["stream"] is None else 1)' "$E2E_TMP/queues.json" "$GONE"
}
check "the gone strategy's stream is deleted after the retention" wait_for 20 gone_collected
check "the deletion is logged" grep -q "\[dm-gc\] stream '.*' of queue '$GONE' deleted: unused for 2 s (strategies: s-gone" "$E2E_TMP/dm.log"
check "the queue in use keeps its stream" python3 -c '
import json, sys
q = {e["queue"]: e for e in json.load(open(sys.argv[1]))["queues"]}
assert q[sys.argv[2]]["stream"] is not None, q[sys.argv[2]]
assert q[sys.argv[3]]["strategies"] == ["s-gone"], "the queue stays in the registry"
' "$E2E_TMP/queues.json" "$KEPT" "$GONE"
metric() { curl -sf "http://127.0.0.1:$DM_PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
check "counted in /metrics" test "$(metric dagmanager_bus_streams_deleted_total)" = 1
check "passes counted" test "$(metric dagmanager_bus_gc_runs_total)" -ge 2
check "no collector errors" test "$(metric dagmanager_bus_gc_errors_total)" = 0
kill_wait "$KEEP"; KEEP=
check "a later diff of the gone strategy brings its stream back" diff_of s-gone gone
has_stream() {
    queues "" && python3 -c '
import json, sys
q = {e["queue"]: e for e in json.load(open(sys.argv[1]))["queues"]}
sys.exit(0 if q[sys.argv[2]]["stream"] is not None else 1)' "$E2E_TMP/queues.json" "$GONE"
}
check "(its stream is there again)" has_stream
finish
