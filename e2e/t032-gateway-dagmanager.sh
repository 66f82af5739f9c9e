#!/bin/bash
# The gateway with a real DAG manager: a submission gets its queue map from the DAG
# manager's diff (not downgraded), /queues/by_tag is answered by it, /health reports it;
# when the DAG manager stops, submissions are degraded but still accepted.
# Skipped while 'qmtl service dagmanager server' is not part of the build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
command -v curl >/dev/null || { echo "# curl missing"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
"$QMTL" service dagmanager server --no-such-flag >/dev/null 2>&1
[ $? -eq 3 ] && { echo "# qmtl service dagmanager server is not built: skipped"; exit 77; }

DM_PID=
dm_stop() {
    [ -n "$DM_PID" ] || return 0
    kill -TERM "$DM_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$DM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DM_PID" 2>/dev/null; wait "$DM_PID" 2>/dev/null; DM_PID=
}
trap 'dm_stop; gw_kill; rm -rf "$E2E_TMP"' EXIT

DM_PORT=$(free_port)
printf 'dagmanager:\n  host: 127.0.0.1\n  port: %s\n  store_path: %s/dm.db\n  token: e2e-dm-token\n' \
    "$DM_PORT" "$E2E_TMP" \
    > "$E2E_TMP/dm.yml"
"$QMTL" service dagmanager server --config "$E2E_TMP/dm.yml" 2> "$E2E_TMP/dm.log" &
DM_PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$E2E_TMP/dm.log" 2>/dev/null && break; sleep 0.1; done
check "DAG manager starts" grep -q "listening on" "$E2E_TMP/dm.log"

CFG=$E2E_TMP/qmtl.yml
gw_config "$CFG" "$E2E_TMP/gw.db" "dagmanager_token: e2e-dm-token"
sed -i "s|  dagmanager_url: \"\"|  dagmanager_url: http://127.0.0.1:$DM_PORT|" "$CFG"
gw_start "$CFG" "$E2E_TMP/gw.log" || { not_ok "gateway starts"; finish; exit 1; }
ok "gateway starts with dagmanager_url"

expect_code 201 "world" POST /worlds '{"id":"demo","mode":"paper"}' -H "$OP_AUTH"
expect_code 200 "an active strategy" POST /worlds/demo/decisions '{"strategies":["x"]}' -H "$OP_AUTH"

# a source and a dependent node, sources first (the DAG manager's Kahn order)
python3 - "$E2E_TMP" <<'EOF'
import json, sys, zlib
v = {x["name"]: x for x in json.load(open("tests/data/vectors/nodeid.json"))["vectors"]}
src = dict(v["stream_input_60_10"]["node"], node_id=v["stream_input_60_10"]["node_id"],
           config_hash="c", schema_hash="s", tags=["btc", "price"])
nodes = [src]
crc = 0
for n in nodes:
    crc = zlib.crc32(n["node_id"].encode(), crc)
body = {"dag_json": json.dumps({"nodes": nodes}), "node_ids_crc32": crc, "world_id": "demo"}
open(sys.argv[1] + "/submit.json", "w").write(json.dumps(body))
EOF
expect_code 202 "POST /strategies" POST /strategies "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
check "not downgraded" test "$(jget "j['downgraded']")" = False
check "queue from the DAG manager (new node: absent from queue_map, in node_queues)" python3 -c "
import json; j = json.load(open('$E2E_TMP/body'))
assert j['queue_map'] == {}, j
q = j['node_queues']['blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b']
assert q.startswith('demo.dryrun.'), q"
SID=$(jget "j['strategy_id']")
expect_code 200 "strategy status" GET "/strategies/$SID/status" "" -H "$SUB_AUTH"
check "status completed" test "$(jget "j['status']")" = completed
expect_code 200 "dry-run" POST /strategies/dry-run "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
check "dry-run not downgraded" test "$(jget "j['downgraded']")" = False
check "dry-run: the full per-node list" python3 -c "
import json; j = json.load(open('$E2E_TMP/body'))
q = j['queue_map']['blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b']
assert q[0]['queue'].startswith('demo.dryrun.'), q"
expect_code 200 "GET /queues/by_tag" GET "/queues/by_tag?tags=btc&interval=60&world_id=demo" "" -H "$SUB_AUTH"
check "by_tag answered by the DAG manager" python3 -c "
import json; j = json.load(open('$E2E_TMP/body'))
assert not j['degraded'] and len(j['queues']) == 1, j"
expect_code 200 "GET /health" GET /health
check "health: dagmanager ok" test "$(jget "j['dagmanager']")" = ok

dm_stop
expect_code 202 "DAG manager gone: still accepted" POST /strategies "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
check "downgraded: dagmanager_unavailable" test "$(jget "j['downgrade_reason']")" = dagmanager_unavailable
expect_code 200 "by_tag degraded" GET "/queues/by_tag?tags=btc&interval=60" "" -H "$SUB_AUTH"
check "degraded flag" test "$(jget "j['degraded']")" = True
expect_code 200 "GET /health" GET /health
check "health: dagmanager error" test "$(jget "j['dagmanager']")" = error
gw_stop; rc=$?
check "gateway exits cleanly ($rc)" test "$rc" -eq 0
finish
