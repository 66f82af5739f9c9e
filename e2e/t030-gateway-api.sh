#!/bin/bash
# qmtl service gateway: start on a free 127.0.0.1 port with a temporary config, drive the
# HTTP API with curl, stop with SIGTERM, restart on the same store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
command -v curl >/dev/null || { echo "# curl missing"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
trap 'gw_kill; rm -rf "$E2E_TMP"' EXIT

CFG=$E2E_TMP/qmtl.yml
gw_config "$CFG" "$E2E_TMP/gw.db"
gw_start "$CFG" "$E2E_TMP/gw.log" || { not_ok "gateway starts"; finish; exit 1; }
ok "gateway starts and logs its URL ($GW_URL)"

expect_code 200 "GET /status" GET /status
check "status is ok" test "$(jget "j['status']")" = ok
expect_code 200 "GET /health" GET /health
expect_code 404 "unknown path is a JSON 404" GET /no/such/path "" -H "$OP_AUTH"
check "404 body has error.code" test "$(jget "j['error']['code']")" = E_NOT_FOUND

# operator auth
expect_code 401 "POST /worlds without a token" POST /worlds '{"id":"w1"}'
expect_code 401 "POST /worlds with a wrong token" POST /worlds '{"id":"w1"}' -H "Authorization: Bearer nope"
expect_code 201 "POST /worlds with the operator token" POST /worlds '{"id":"w1","mode":"paper"}' -H "$OP_AUTH"
expect_code 409 "creating it again conflicts" POST /worlds '{"id":"w1"}' -H "$OP_AUTH"
expect_code 200 "GET /worlds lists it" GET /worlds "" -H "$OP_AUTH"
check "one world" test "$(jget "len(j)")" = 1
check "secret never logged" bash -c "! grep -q e2e-operator-token '$E2E_TMP/gw.log'"

# activation with ETag
expect_code 200 "PUT activation" PUT /worlds/w1/activation \
    '{"strategy_id":"s1","side":"long","active":true,"weight":0.5}' -H "$OP_AUTH"
check "etag of version 1" test "$(jget "j['etag']")" = "act:w1:s1:long:1"
expect_code 200 "GET activation" GET "/worlds/w1/activation?strategy_id=s1&side=long" "" -H "$OP_AUTH"
check "ETag header" grep -qi '^etag: "act:w1:s1:long:1"' "$E2E_TMP/headers"
expect_code 304 "GET activation If-None-Match" GET "/worlds/w1/activation?strategy_id=s1&side=long" "" \
    -H 'If-None-Match: "act:w1:s1:long:1"' -H "$OP_AUTH"
expect_code 404 "unknown activation" GET "/worlds/w1/activation?strategy_id=zz&side=long" "" -H "$OP_AUTH"

# decisions, decide, apply, audit
expect_code 200 "POST decisions" POST /worlds/w1/decisions '{"strategies":["s1"]}' -H "$OP_AUTH"
expect_code 200 "GET decide" GET /worlds/w1/decide "" -H "$OP_AUTH"
check "decide: paper while active" test "$(jget "j['effective_mode']")" = paper
check "decide: ttl" test "$(jget "j['ttl']")" = 300s
expect_code 200 "POST apply" POST /worlds/w1/apply \
    '{"run_id":"r1","plan":{"activate":["s2"],"deactivate":["s1"]}}' -H "$OP_AUTH"
check "apply completed" test "$(jget "j['phase']")" = completed
expect_code 200 "apply with the same run_id is idempotent" POST /worlds/w1/apply \
    '{"run_id":"r1","plan":{"activate":["zz"]}}' -H "$OP_AUTH"
check "same ack" test "$(jget "j['active']")" = "['s2']"
expect_code 200 "full activation state" GET /worlds/w1/activation "" -H "$OP_AUTH"
check "s2 active after apply" test "$(jget "j['state']['s2']['long']['active']")" = True
check "s1 inactive after apply" test "$(jget "j['state']['s1']['long']['active']")" = False
expect_code 200 "GET audit" GET /worlds/w1/audit "" -H "$OP_AUTH"
check "audit has apply_completed" grep -q apply_completed "$E2E_TMP/body"

# live guard
expect_code 403 "live world without X-Allow-Live" POST /worlds '{"id":"lw","mode":"live"}' -H "$OP_AUTH"
expect_code 201 "live world with X-Allow-Live" POST /worlds '{"id":"lw","mode":"live"}' \
    -H "$OP_AUTH" -H "X-Allow-Live: true"
expect_code 403 "decisions of a live world without X-Allow-Live" POST /worlds/lw/decisions \
    '{"strategies":["s1"]}' -H "$OP_AUTH"
expect_code 403 "bindings of a live world without X-Allow-Live" POST /worlds/lw/bindings \
    '{"strategies":["s1"]}' -H "$OP_AUTH"
expect_code 200 "decisions of a live world with X-Allow-Live" POST /worlds/lw/decisions \
    '{"strategies":["s1"]}' -H "$OP_AUTH" -H "X-Allow-Live: true"

# credentials: authenticate before any lookup, each route its own kind
expect_code 401 "unknown world without a token: 401, not 404" GET /worlds/ghost/activation
expect_code 404 "unknown world with a token: 404" GET /worlds/ghost/activation "" -H "$OP_AUTH"
expect_code 401 "a world read without a token" GET /worlds/w1/decide
expect_code 200 "a world read with the submission token" GET /worlds/w1/decide "" -H "$SUB_AUTH"
expect_code 403 "submitting with the host token" POST /strategies '{}' -H "$HOST_AUTH"
expect_code 403 "a live order with the submission token" POST /orders '{}' -H "$SUB_AUTH"
expect_code 401 "subscribing without a token" POST /events/subscribe '{}'
expect_code 422 "audit limit over the cap" GET "/worlds/w1/audit?limit=100000" "" -H "$OP_AUTH"

# strategy submission with the golden node ids
python3 - "$E2E_TMP" <<'EOF'
import base64, json, sys, zlib
v = json.load(open("tests/data/vectors/nodeid.json"))
nodes = []
for x in v["vectors"]:
    n = dict(x["node"])
    if not n.get("schema_compat_id"):
        continue
    n["node_id"] = x["node_id"]; n["config_hash"] = "c"; n["schema_hash"] = "s"
    nodes.append(n)
crc = 0
for n in nodes:
    crc = zlib.crc32(n["node_id"].encode(), crc)
dag = json.dumps({"nodes": nodes})
ok = {"dag_json": base64.b64encode(dag.encode()).decode(), "node_ids_crc32": crc, "world_id": "w1"}
open(sys.argv[1] + "/submit.json", "w").write(json.dumps(ok))
ok["node_ids_crc32"] = crc ^ 1
open(sys.argv[1] + "/badcrc.json", "w").write(json.dumps(ok))
nodes[0]["period"] = 11
bad = {"dag_json": json.dumps({"nodes": nodes}), "node_ids_crc32": crc}
open(sys.argv[1] + "/badid.json", "w").write(json.dumps(bad))
EOF
expect_code 202 "POST /strategies" POST /strategies "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
SID=$(jget "j['strategy_id']")
check "ack has the StrategyAck fields" python3 -c "
import json; j=json.load(open('$E2E_TMP/body'))
assert set(j) >= {'strategy_id','queue_map','sentinel_id','node_ids_crc32','downgraded','downgrade_reason','safe_mode'}
assert j['downgraded'] and j['downgrade_reason'] == 'dagmanager_unavailable', j"
expect_code 202 "resubmission" POST /strategies "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
check "resubmission keeps the strategy_id" test "$(jget "j['strategy_id']")" = "$SID"
expect_code 200 "GET /strategies/{id}/status" GET "/strategies/$SID/status" "" -H "$SUB_AUTH"
expect_code 400 "CRC mismatch" POST /strategies "$(cat "$E2E_TMP/badcrc.json")" -H "$SUB_AUTH"
check "E_CHECKSUM_MISMATCH" test "$(jget "j['detail']['code']")" = E_CHECKSUM_MISMATCH
expect_code 400 "node id mismatch" POST /strategies "$(cat "$E2E_TMP/badid.json")" -H "$SUB_AUTH"
check "E_NODE_ID_MISMATCH at index 0" test "$(jget "j['detail']['node_id_mismatch'][0]['index']")" = 0
expect_code 200 "POST /strategies/dry-run" POST /strategies/dry-run "$(cat "$E2E_TMP/submit.json")" -H "$SUB_AUTH"
expect_code 200 "GET /queues/by_tag without a DAG manager" GET "/queues/by_tag?tags=btc&interval=60" "" -H "$SUB_AUTH"
check "degraded flag" test "$(jget "j['degraded']")" = True

# limits
head -c 1100000 /dev/zero | tr '\0' a > "$E2E_TMP/big"
code=$(curl -s -m 5 -o "$E2E_TMP/body" -w '%{http_code}' --data-binary @"$E2E_TMP/big" "$GW_URL/worlds")
check "body over the limit: 413 ($code)" test "$code" = 413
check "413 is JSON" test "$(jget "j['error']['code']")" = E_BODY_TOO_LARGE
code=$(curl -s -m 5 -o "$E2E_TMP/body" -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "$GW_URL/status")
check "headers over the limit: 431 ($code)" test "$code" = 431
check "431 is JSON" test "$(jget "j['error']['code']")" = E_HEADERS_TOO_LARGE

expect_code 200 "GET /metrics" GET /metrics
check "metrics: request counter" grep -q 'qmtl_gateway_requests_total{route="/worlds/{id}/activation",method="PUT",code="200"} 1' "$E2E_TMP/body"
check "metrics: auth failures" grep -q '^qmtl_gateway_auth_failures_total 7$' "$E2E_TMP/body"
check "metrics: latency histogram" grep -q 'qmtl_gateway_request_duration_seconds_bucket{route="/status",le="+Inf"}' "$E2E_TMP/body"

gw_stop; rc=$?
check "SIGTERM: clean exit ($rc)" test "$rc" -eq 0
check "shutdown logged" grep -q "stopped" "$E2E_TMP/gw.log"

# restart on the same store: state is still there
gw_start "$CFG" "$E2E_TMP/gw2.log" || not_ok "gateway restarts"
expect_code 200 "after restart: activation kept" GET "/worlds/w1/activation?strategy_id=s2&side=long" "" -H "$OP_AUTH"
expect_code 200 "after restart: strategy kept" GET "/strategies/$SID/status" "" -H "$SUB_AUTH"
expect_code 200 "after restart: status" GET /status
check "after restart: event sequence kept" python3 -c "
import json; assert json.load(open('$E2E_TMP/body'))['last_seq_no'] >= 5"
expect_rc 1 "a second gateway on the same store is refused" "$QMTL" service gateway --config "$CFG"
check "it says the store is in use" grep -q "another gateway is using it" "$E2E_TMP/err"
expect_code 200 "the first one still serves" GET /status
gw_stop

# default store: gateway.db in the state directory (created 0700), nothing in the working dir
mkdir -p "$E2E_TMP/cwd"
gw_config "$E2E_TMP/cwd/qmtl.yml" '""'
pushd "$E2E_TMP/cwd" > /dev/null
export XDG_STATE_HOME="$E2E_TMP/xdg"
check "default store: the gateway starts" gw_start qmtl.yml "$E2E_TMP/gw-default.log"
check "default store: \$XDG_STATE_HOME/qmtl/gateway.db" test -f "$E2E_TMP/xdg/qmtl/gateway.db"
check "default store: its directory is 0700" test "$(stat -c %a "$E2E_TMP/xdg/qmtl")" = 700
check "default store: the log names it" grep -q "store '$E2E_TMP/xdg/qmtl/gateway.db'" "$E2E_TMP/gw-default.log"
gw_stop
unset XDG_STATE_HOME
HOME="$E2E_TMP/home" expect_rc 0 "config validate without XDG_STATE_HOME" \
    "$QMTL" config validate --config qmtl.yml --target gateway
check "... probes ~/.local/state/qmtl/gateway.db" \
    grep -q "'$E2E_TMP/home/.local/state/qmtl/gateway.db' will be created" "$E2E_TMP/out"
HOME="$E2E_TMP/home" gw_start qmtl.yml "$E2E_TMP/gw-home.log" && gw_stop
check "... where the gateway puts it" test -f "$E2E_TMP/home/.local/state/qmtl/gateway.db"
env -u HOME -u XDG_STATE_HOME "$QMTL" service gateway --config qmtl.yml > /dev/null 2> "$E2E_TMP/err"
check "no HOME and no XDG_STATE_HOME: refused, asking for store_path" \
    grep -q "gateway.store_path is not set and there is no state directory" "$E2E_TMP/err"
check "default store: no database in the working directory" \
    test -z "$(find . -name '*.db*')"
popd > /dev/null

# failures to start
expect_rc 2 "unknown service" "$QMTL" service frobnicate
expect_rc 1 "missing config file" "$QMTL" service gateway --config "$E2E_TMP/none.yml"
expect_rc 2 "unknown flag" "$QMTL" service gateway --frob
: > "$E2E_TMP/plainfile"
printf 'gateway:\n  host: 127.0.0.1\n  port: 0\n  store_path: %s/plainfile/x/gw.db\n  operator_token: t\n' "$E2E_TMP" > "$E2E_TMP/bad.yml"
expect_rc 1 "unwritable store" "$QMTL" service gateway --config "$E2E_TMP/bad.yml"
check "store error names the path" grep -q "store_path .*/plainfile/x/gw.db.: cannot create directory" "$E2E_TMP/err"

# fail closed: the shipped defaults (no token) refuse to start and say how to set them
printf 'gateway:\n  host: 127.0.0.1\n  port: 0\n  store_path: ":memory:"\n' > "$E2E_TMP/notok.yml"
expect_rc 1 "no credential configured: refuses to start" "$QMTL" service gateway \
    --config "$E2E_TMP/notok.yml"
check "the refusal shows the commands to set them" grep -q "export QMTL__GATEWAY__OPERATOR_TOKEN=" \
    "$E2E_TMP/err"
expect_rc 1 "config/qmtl.yml as shipped does not open the gateway" "$QMTL" service gateway \
    --config ../config/qmtl.yml
printf 'gateway:\n  host: 0.0.0.0\n  port: 0\n  store_path: ":memory:"\n  insecure_allow_anonymous: true\n' \
    > "$E2E_TMP/anon.yml"
expect_rc 1 "insecure_allow_anonymous off loopback: refuses to start" "$QMTL" service gateway \
    --config "$E2E_TMP/anon.yml"
check "the refusal says loopback" grep -q "loopback" "$E2E_TMP/err"
# ... and on loopback: anonymous access with a WARN line at start
printf 'gateway:\n  host: 127.0.0.1\n  port: 0\n  store_path: ":memory:"\n  dagmanager_url: ""\n  insecure_allow_anonymous: true\n' \
    > "$E2E_TMP/anon2.yml"
gw_start "$E2E_TMP/anon2.yml" "$E2E_TMP/anon.log" && ok "insecure mode on loopback starts" ||
    not_ok "insecure mode on loopback starts"
check "WARN INSECURE at start" grep -q "WARN.*INSECURE: gateway.insecure_allow_anonymous is on" \
    "$E2E_TMP/anon.log"
expect_code 201 "anonymous POST /worlds in insecure mode" POST /worlds '{"id":"a"}'
expect_code 401 "a wrong token is still refused in insecure mode" GET /worlds "" \
    -H "Authorization: Bearer nope"
gw_stop
finish
