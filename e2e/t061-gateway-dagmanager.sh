#!/bin/bash
# The gateway talking to a real DAG manager: two overlapping strategy submissions through
# POST /strategies get the queue_map in the reference's shape (nodes the submission
# computes absent, nodes another strategy computes as their topic string; node_queues and
# the dry run carry the full per-node list), GET /queues/by_tag on the gateway returns the
# DAG manager's queues, and reference-style bodies (tests/data/reference_submit.json) get
# the reference's shape, tag queries included.
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
gw, vectors, bodies = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
v = json.load(open(vectors))
nodes = []
for x in v["vectors"]:
    n = dict(x["node"])
    if not n.get("schema_compat_id"):
        continue
    n.update(node_id=x["node_id"], config_hash="c", schema_hash="s", tags=["BTC"])
    nodes.append(n)

def post(path, body):
    r = urllib.request.Request(gw + path, data=json.dumps(body).encode(), method="POST",
                               headers={"Content-Type": "application/json",
                                        "Authorization": "Bearer e2e-submit-token"})
    with urllib.request.urlopen(r, timeout=5) as x:
        return x.status, json.load(x)

def submit(ns):
    crc = 0
    for n in ns:
        crc = zlib.crc32(n["node_id"].encode(), crc)
    return post("/strategies", {"dag_json": json.dumps({"nodes": ns}), "node_ids_crc32": crc,
                                "world_id": "w1"})

def fail(msg, j):
    print("FAIL", msg, json.dumps(j)[:800])
    sys.exit(1)

queries = {n["node_id"] for n in nodes if n["node_type"] == "TagQueryNode"}
st, a = submit(nodes)
if st != 202 or not queries or set(a["queue_map"]) != queries:
    fail("first submission: every node new, so only the tag queries in queue_map", a)
if set(a["node_queues"]) != {n["node_id"] for n in nodes} - queries:
    fail("first submission: node_queues maps every other node", a)
q60 = [n["node_id"] for n in nodes if n["node_id"] in queries and n["interval"] == 60]
stream = nodes[0]  # StreamInput, interval 60, tagged BTC like every node here
if len(q60) != 1 or a["node_queues"][stream["node_id"]] not in [e["queue"] for e in a["queue_map"][q60[0]]]:
    fail("first submission: a tag query lists the BTC queues of its interval", a)
first = nodes[0]["node_id"]
if not a["node_queues"][first].startswith("w1."):
    fail("queue names carry the world prefix", a)
print("ok first")
st, b = submit(nodes[:2])
if b["queue_map"] != {n["node_id"]: a["node_queues"][n["node_id"]] for n in nodes[:2] if n["node_id"] not in queries}:
    fail("second submission: the first one's nodes as their topic strings", b)
print("ok second")
with urllib.request.urlopen(urllib.request.Request(
        gw + "/queues/by_tag?tags=BTC&interval=60&match_mode=any&world_id=w1",
        headers={"Authorization": "Bearer e2e-submit-token"}), timeout=5) as x:
    q = json.load(x)
names = [e["queue"] for e in q["queues"]]
if q.get("degraded") or a["node_queues"][first] not in names:
    fail("by_tag through the gateway", q)
print("ok by_tag")

# Reference-style bodies: the producer computes a stream and a processing node; the
# consumer declares the same stream and a tag query over its tags.
STREAM = "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"
st, p = post("/strategies", bodies["producer"])
if st != 202 or p["queue_map"] != {} or len(p["node_queues"]) != 2:
    fail("producer: both nodes new (absent), both topics in node_queues", p)
topic = p["node_queues"][STREAM]
st, d = post("/strategies/dry-run", bodies["consumer"])
if st != 200 or len(d["queue_map"]) != 2 or d["queue_map"][STREAM] != [{"queue": topic, "global": True}]:
    fail("consumer dry run: the diff's full per-node list", d)
st, c = post("/strategies", bodies["consumer"])
qm = c["queue_map"]
tq = [k for k in qm if k != STREAM]
if st != 202 or qm.get(STREAM) != topic or len(tq) != 1 or qm[tq[0]] != [{"queue": topic, "global": False}]:
    fail("consumer: the stream as its topic string, the tag query as its upstream list", c)
print("ok reference")
EOF
python3 "$E2E_TMP/drive.py" "$GW_URL" "tests/data/vectors/nodeid.json" \
    "tests/data/reference_submit.json" >"$E2E_TMP/drive.out" 2>&1
grep -q '^ok first$' "$E2E_TMP/drive.out" && ok "first submission: DAG manager queues, none global" || not_ok "first submission"
grep -q '^ok second$' "$E2E_TMP/drive.out" && ok "second submission: shared nodes global, same queues" || not_ok "second submission"
grep -q '^ok by_tag$' "$E2E_TMP/drive.out" && ok "gateway /queues/by_tag returns the DAG manager's queues" || not_ok "by_tag via gateway"
grep -q '^ok reference$' "$E2E_TMP/drive.out" && ok "reference bodies: queue_map in the reference's shape (reused topic, tag query upstreams)" || not_ok "reference-style submissions"
grep -q FAIL "$E2E_TMP/drive.out" && sed 's/^/#   /' "$E2E_TMP/drive.out" "$E2E_TMP/dm.log"
finish
