#!/bin/bash
# The gateway talking to a real DAG manager: two overlapping strategy submissions through
# POST /strategies get the DAG manager's queues (shared nodes global on the second one),
# and GET /queues/by_tag on the gateway returns the DAG manager's queues.
# Skips (77) while 'qmtl service gateway' is not built in this tree.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }

DM_PID=
GW_PID=
stop() { # PID
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
trap 'stop "$GW_PID"; stop "$DM_PID"; rm -rf "$E2E_TMP"' EXIT

DM_PORT=$(free_port)
cat >"$E2E_TMP/qmtl.yml" <<EOF
gateway:
  host: 127.0.0.1
  port: 0
  store_path: gw.db
  operator_token: e2e-operator-token
  submit_token: e2e-submit-token
  dagmanager_token: e2e-dm-token
  dagmanager_url: "http://127.0.0.1:$DM_PORT"
dagmanager:
  host: 127.0.0.1
  port: $DM_PORT
  store_path: dm.db
  token: e2e-dm-token
EOF

"$QMTL" service gateway --config "$E2E_TMP/qmtl.yml" 2>"$E2E_TMP/gw.log" &
GW_PID=$!
GW_URL=
for _ in $(seq 100); do
    GW_URL=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$E2E_TMP/gw.log" | head -1 | sed 's/listening on //')
    [ -n "$GW_URL" ] && break
    if ! kill -0 "$GW_PID" 2>/dev/null; then
        wait "$GW_PID"; rc=$?; GW_PID=
        if [ "$rc" -eq 3 ]; then echo "# the gateway is not built in this tree"; exit 77; fi
        sed 's/^/# /' "$E2E_TMP/gw.log"; not_ok "gateway starts"; finish; exit 1
    fi
    sleep 0.1
done
[ -n "$GW_URL" ] && ok "gateway starts" || not_ok "gateway starts"

"$QMTL" service dagmanager server --config "$E2E_TMP/qmtl.yml" 2>"$E2E_TMP/dm.log" &
DM_PID=$!
for _ in $(seq 50); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$DM_PORT/health" 2>/dev/null && break
    sleep 0.1
done
check "dagmanager starts" python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$DM_PORT/health"

# Two submissions with the golden node ids: the second one is a subset of the first.
cat >"$E2E_TMP/drive.py" <<'EOF'
import json, sys, urllib.error, urllib.request, zlib
gw, vectors = sys.argv[1], sys.argv[2]
v = json.load(open(vectors))
nodes = []
for x in v["vectors"]:
    n = dict(x["node"])
    if not n.get("schema_compat_id"):
        continue
    n.update(node_id=x["node_id"], config_hash="c", schema_hash="s", tags=["BTC"])
    nodes.append(n)

def submit(ns):
    crc = 0
    for n in ns:
        crc = zlib.crc32(n["node_id"].encode(), crc)
    body = {"dag_json": json.dumps({"nodes": ns}), "node_ids_crc32": crc, "world_id": "w1"}
    r = urllib.request.Request(gw + "/strategies", data=json.dumps(body).encode(),
                               method="POST", headers={"Content-Type": "application/json",
                                                       "Authorization": "Bearer e2e-submit-token"})
    with urllib.request.urlopen(r, timeout=5) as x:
        return x.status, json.load(x)

def fail(msg, j):
    print("FAIL", msg, json.dumps(j)[:800])
    sys.exit(1)

st, a = submit(nodes)
if st != 202 or set(a["queue_map"]) != {n["node_id"] for n in nodes}:
    fail("first submission maps every node", a)
if any(q[0]["global"] for q in a["queue_map"].values()):
    fail("first submission: nothing global", a)
first = nodes[0]["node_id"]
if not a["queue_map"][first][0]["queue"].startswith("w1."):
    fail("queue names carry the world prefix", a)
print("ok first")
st, b = submit(nodes[:2])
for n in nodes[:2]:
    if b["queue_map"][n["node_id"]] != [{"queue": a["queue_map"][n["node_id"]][0]["queue"], "global": True}]:
        fail("second submission reuses the first one's queues", b)
print("ok second")
with urllib.request.urlopen(urllib.request.Request(
        gw + "/queues/by_tag?tags=BTC&interval=60&match_mode=any&world_id=w1",
        headers={"Authorization": "Bearer e2e-submit-token"}), timeout=5) as x:
    q = json.load(x)
names = [e["queue"] for e in q["queues"]]
if q.get("degraded") or a["queue_map"][first][0]["queue"] not in names:
    fail("by_tag through the gateway", q)
print("ok by_tag")
EOF
python3 "$E2E_TMP/drive.py" "$GW_URL" "tests/data/vectors/nodeid.json" >"$E2E_TMP/drive.out" 2>&1
grep -q '^ok first$' "$E2E_TMP/drive.out" && ok "first submission: DAG manager queues, none global" || not_ok "first submission"
grep -q '^ok second$' "$E2E_TMP/drive.out" && ok "second submission: shared nodes global, same queues" || not_ok "second submission"
grep -q '^ok by_tag$' "$E2E_TMP/drive.out" && ok "gateway /queues/by_tag returns the DAG manager's queues" || not_ok "by_tag via gateway"
grep -q FAIL "$E2E_TMP/drive.out" && sed 's/^/#   /' "$E2E_TMP/drive.out" "$E2E_TMP/dm.log"
finish
