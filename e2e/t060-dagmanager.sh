#!/bin/bash
# qmtl service dagmanager server: a real server on 127.0.0.1 with a temp config and store.
# Diffs with overlapping DAGs (reuse -> global), tag queries, inspection, bad input keeps
# the server serving, metrics, and a restart keeps every registration.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }

PID=
SERVER_RC=
stop_server() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        SERVER_RC=$?
        PID=
    fi
}
trap 'stop_server; rm -rf "$E2E_TMP"' EXIT

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
cat >"$E2E_TMP/qmtl.yml" <<EOF
dagmanager:
  host: 127.0.0.1
  port: $PORT
  store_path: dm.db
  token: e2e-dm-token
EOF

# req.py METHOD PATH [JSON-BODY | @FILE]: prints "<status>" then the body on one line
cat >"$E2E_TMP/req.py" <<'EOF'
import os, sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
# $DM_AUTH: the Authorization header ("none" = no header); default the configured token
auth = os.environ.get("DM_AUTH", "Bearer e2e-dm-token")
headers = {"Content-Type": "application/json"}
if auth != "none":
    headers["Authorization"] = auth
data = None
if len(sys.argv) > 3:
    a = sys.argv[3]
    data = open(a[1:], "rb").read() if a.startswith("@") else a.encode()
req = urllib.request.Request(url, data=data, method=method, headers=headers)
try:
    r = urllib.request.urlopen(req, timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except Exception as e:
    code, body = 0, str(e).encode()
print(code)
print(body.decode(errors="replace").strip())
EOF
req() { python3 "$E2E_TMP/req.py" "$@" >"$E2E_TMP/resp" 2>&1; STATUS=$(head -1 "$E2E_TMP/resp"); BODY=$(sed -n '2,$p' "$E2E_TMP/resp"); }
# jq-like check with python: json_ok DESCRIPTION PYTHON-EXPR (j = the body)
json_ok() {
    local d=$1 expr=$2
    if python3 -c "import json,sys,zlib; j=json.loads(sys.stdin.read()); sys.exit(0 if ($expr) else 1)" <<<"$BODY" 2>/dev/null; then
        ok "$d"
    else
        not_ok "$d"; echo "#   status $STATUS body: $BODY"
    fi
}

start_server() {
    "$QMTL" service dagmanager server --config "$E2E_TMP/qmtl.yml" >>"$E2E_TMP/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 50); do
        req GET "$URL/health"
        [ "$STATUS" = 200 ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    sed 's/^/#   /' "$E2E_TMP/server.log"
    return 1
}

# DAGs: s1 = A -> B (listed consumer first), s2 = A -> C; A is shared
NA='{"node_id":"A","node_type":"StreamInput","interval":60,"period":10,"tags":["BTC","price"],"code_hash":"74234e98afe7498fb5daf1f36ac2d78a"}'
NB='{"node_id":"B","node_type":"sma","interval":60,"period":5,"tags":[],"code_hash":"b0b0b0b0","inputs":["A"]}'
NC='{"node_id":"C","node_type":"ema","interval":60,"period":5,"code_hash":"c0c0c0c0","inputs":["A"]}'
diff_body() { # STRATEGY NODES...
    local s=$1; shift
    python3 -c 'import json,sys; print(json.dumps({"strategy_id": sys.argv[1], "dag_json": json.dumps({"nodes": [json.loads(n) for n in sys.argv[2:]]}), "world_id": "w", "execution_domain": "live", "as_of": "", "partition": ""}))' "$s" "$@"
}

check "server starts and answers /health" start_server

req POST "$URL/diff" "$(diff_body s1 "$NB" "$NA")"
json_ok "s1 diff: 200, both nodes new, topic naming" "$STATUS == 200 and j['queue_map']['A'] == [{'queue': 'w.live.btc_StreamInput_74234e_v1', 'global': False}] and j['queue_map']['B'][0]['global'] is False and j['sentinel_id'] == 's1-sentinel'"
json_ok "s1 crc32 is over the Kahn order (A before B)" "j['crc32'] == zlib.crc32(b'AB')"
Q_A=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["queue_map"]["A"][0]["queue"])' <<<"$BODY")

req POST "$URL/diff" "$(diff_body s2 "$NA" "$NC")"
json_ok "s2 diff: shared node A is global with s1's queue, C is new" "$STATUS == 200 and j['queue_map']['A'] == [{'queue': '$Q_A', 'global': True}] and j['queue_map']['C'][0]['global'] is False and j['reused_nodes'] == 1 and j['new_nodes'] == 1"

req POST "$URL/diff" "$(diff_body s1 "$NB" "$NA")"
json_ok "s1 resubmitted: same queues, nothing new (idempotent)" "$STATUS == 200 and j['queue_map']['A'][0] == {'queue': '$Q_A', 'global': False} and j['new_nodes'] == 0"

req GET "$URL/queues/by_tag?tags=BTC,ETH&interval=60&match_mode=any&world_id=w"
json_ok "by_tag any finds A's queue" "$STATUS == 200 and [q['queue'] for q in j['queues']] == ['$Q_A']"
req GET "$URL/queues/by_tag?tags=BTC,ETH&interval=60&match_mode=all&world_id=w"
json_ok "by_tag all with a missing tag finds nothing" "$STATUS == 200 and j['queues'] == []"
req GET "$URL/queues/by_tag?tags=price&interval=300"
json_ok "by_tag filters on interval" "$STATUS == 200 and j['queues'] == []"
req GET "$URL/queues/by_tag?tags=BTC&match_mode=some"
json_ok "by_tag with a bad match_mode: 400 JSON error" "$STATUS == 400 and 'match_mode' in j['error']['message']"

DM_AUTH=none req GET "$URL/nodes/nope"
json_ok "no token: 401 before any lookup" "$STATUS == 401 and j['error']['code'] == 'unauthorized'"
DM_AUTH="Bearer wrong" req POST "$URL/diff" "$(diff_body s8 "$NA" "$NB")"
json_ok "wrong token: 401" "$STATUS == 401"
DM_AUTH=none req GET "$URL/health"
json_ok "/health needs no token" "$STATUS == 200"
req GET "$URL/nodes/A"
json_ok "GET /nodes/A: node, queue and both strategies" "$STATUS == 200 and j['node_type'] == 'StreamInput' and j['strategies'] == ['s1', 's2'] and j['queues'][0]['queue'] == '$Q_A'"
req GET "$URL/nodes/nope"
json_ok "GET /nodes/nope: 404 JSON error" "$STATUS == 404 and j['error']['code'] == 'not_found'"

req POST "$URL/diff" '{"strategy_id": "s9", "dag_json": '
json_ok "bad JSON: 400 with a clear message" "$STATUS == 400 and j['error']['code'] == 'bad_json' and 'invalid JSON body at line 1' in j['error']['message']"
req POST "$URL/diff" '{"strategy_id":"s9","dag_json":"{\"nodes\":[{\"node_id\":\"x\",\"node_type\":\"t\"}]}"}'
json_ok "node without code_hash: 400 naming the field" "$STATUS == 400 and \"nodes[0]: field 'code_hash' is required\" in j['error']['message']"
req GET "$URL/diff"
json_ok "GET /diff: 405" "$STATUS == 405 and j['error']['code'] == 'method_not_allowed'"
python3 -c 'import sys; open(sys.argv[1], "w").write("{\"x\": \"" + "a" * (17 * 1024 * 1024) + "\"}")' "$E2E_TMP/big.json"
req POST "$URL/diff" "@$E2E_TMP/big.json"
if [ "$STATUS" = 413 ] || [ "$STATUS" = 0 ]; then ok "a 17 MiB body is refused ($STATUS)"; else not_ok "17 MiB body: status $STATUS"; fi
req GET "$URL/status"
json_ok "still serving after bad input: /status ok with counts" "$STATUS == 200 and j['status'] == 'ok' and j['nodes'] == 3 and j['queues'] == 3 and j['strategies'] == 2"

req GET "$URL/metrics"
if [ "$STATUS" = 200 ] && grep -q '^dagmanager_diff_requests_total 5$' <<<"$BODY" &&
    grep -q '^dagmanager_diff_failures_total 2$' <<<"$BODY" &&
    grep -q '^dagmanager_queues 3$' <<<"$BODY" && grep -q '^dagmanager_store_errors_total 0$' <<<"$BODY"; then
    ok "/metrics: diff, failure, queue and store-error counters"
else
    not_ok "/metrics"; sed 's/^/#   /' <<<"$BODY"
fi

stop_server
if [ "$SERVER_RC" = 0 ] && grep -q 'SIGTERM received, shutting down' "$E2E_TMP/server.log" &&
    grep -q 'stopped' "$E2E_TMP/server.log"; then
    ok "SIGTERM: clean shutdown, exit 0 (no leak report under ASan)"
else
    not_ok "SIGTERM: clean shutdown"; sed 's/^/#   /' "$E2E_TMP/server.log"
fi

check "server restarts on the same store" start_server
req POST "$URL/diff" "$(diff_body s3 "$NA" "$NB")"
json_ok "after restart s3 reuses A and B (global)" "$STATUS == 200 and j['queue_map']['A'] == [{'queue': '$Q_A', 'global': True}] and j['queue_map']['B'][0]['global'] is True and j['new_nodes'] == 0"
req GET "$URL/nodes/B"
json_ok "registrations survived the restart" "$STATUS == 200 and j['strategies'] == ['s1', 's3']"

# a second server on the same port fails cleanly
expect_rc 1 "second server on a busy port" "$QMTL" service dagmanager server --config "$E2E_TMP/qmtl.yml"
grep -q "cannot listen on 127.0.0.1:$PORT" "$E2E_TMP/err" && ok "busy port: message names the address" || not_ok "busy port message"
stop_server
[ "$SERVER_RC" = 0 ] && ok "second shutdown: exit 0" || { not_ok "second shutdown: exit $SERVER_RC"; sed 's/^/#   /' "$E2E_TMP/server.log"; }

# without store_path: dagmanager.db in the state directory, created with mode 0700
printf 'dagmanager:\n  host: 127.0.0.1\n  port: %s\n  token: e2e-dm-token\n' "$PORT" > "$E2E_TMP/qmtl.yml"
export XDG_STATE_HOME="$E2E_TMP/xdg"
check "default store: the server starts" start_server
stop_server
unset XDG_STATE_HOME
check "default store: \$XDG_STATE_HOME/qmtl/dagmanager.db" test -f "$E2E_TMP/xdg/qmtl/dagmanager.db"
check "default store: its directory is 0700" test "$(stat -c %a "$E2E_TMP/xdg/qmtl")" = 700
: > "$E2E_TMP/plainfile"
printf 'dagmanager:\n  port: 0\n  store_path: plainfile/sub/dm.db\n' > "$E2E_TMP/bad.yml"
expect_rc 1 "a store directory that cannot be created" \
    "$QMTL" service dagmanager server --config "$E2E_TMP/bad.yml"
check "... is named with its key" grep -q "dagmanager.store_path '.*plainfile/sub/dm.db': cannot create directory" "$E2E_TMP/err"

expect_rc 2 "unknown dagmanager subcommand" "$QMTL" service dagmanager serve
expect_rc 1 "missing config file" "$QMTL" service dagmanager server --config "$E2E_TMP/nope.yml"

# fail closed: no token refuses to start (naming what to set); anonymous only on loopback
printf 'dagmanager:\n  host: 127.0.0.1\n  port: 0\n  store_path: ":memory:"\n' > "$E2E_TMP/notok.yml"
expect_rc 1 "no dagmanager.token: refuses to start" "$QMTL" service dagmanager server \
    --config "$E2E_TMP/notok.yml"
check "the refusal names QMTL__DAGMANAGER__TOKEN" grep -q "QMTL__DAGMANAGER__TOKEN" "$E2E_TMP/err"
printf 'dagmanager:\n  host: 0.0.0.0\n  port: 0\n  store_path: ":memory:"\n  insecure_allow_anonymous: true\n' \
    > "$E2E_TMP/anon.yml"
expect_rc 1 "insecure_allow_anonymous off loopback: refuses to start" "$QMTL" service dagmanager \
    server --config "$E2E_TMP/anon.yml"
check "the refusal says loopback" grep -q "loopback" "$E2E_TMP/err"
finish
