#!/bin/bash
# Crash safety: kill -9 the gateway during a stream of PUT activation requests, restart it
# on the same store, and check that every acknowledged change (2xx received) is present
# with the version and etag the acknowledgement carried.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
command -v curl >/dev/null || { echo "# curl missing"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
CLIENT_PID=
trap '[ -n "$CLIENT_PID" ] && kill $CLIENT_PID 2>/dev/null; gw_kill; rm -rf "$E2E_TMP"' EXIT

CFG=$E2E_TMP/qmtl.yml
gw_config "$CFG" "$E2E_TMP/gw.db"
gw_start "$CFG" "$E2E_TMP/gw.log" || { not_ok "gateway starts"; finish; exit 1; }
ok "gateway starts"
expect_code 201 "world created" POST /worlds '{"id":"cw"}' -H "$OP_AUTH"

# The client: PUTs as fast as it can on one keep-alive connection, alternating new
# strategies (each written once) and updates of one hot entry, and records every ack.
cat > "$E2E_TMP/client.py" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); out = open(sys.argv[2], "w", buffering=1)
hdr = {"Authorization": "Bearer e2e-operator-token", "Content-Type": "application/json"}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
i = 0
while True:
    if i % 2 == 0:
        body = {"strategy_id": "s%d" % i, "side": "long", "active": True, "weight": 0.5}
    else:
        body = {"strategy_id": "hot", "side": "short", "active": True, "weight": (i % 1000) / 1000.0}
    try:
        conn.request("PUT", "/worlds/cw/activation", json.dumps(body), hdr)
        r = conn.getresponse(); data = r.read()
    except Exception:
        break
    if 200 <= r.status < 300:
        j = json.loads(data)
        out.write(json.dumps({"sid": body["strategy_id"], "side": body["side"], "weight": body["weight"],
                              "etag": j["etag"], "version": j["state_version"]}) + "\n")
    i += 1
EOF
python3 "$E2E_TMP/client.py" "$GW_URL" "$E2E_TMP/acks" &
CLIENT_PID=$!
# Kill once the client holds a fixed number of acknowledgements (not after a fixed time:
# on a loaded machine the client may need seconds to start), 60 s at most.
WANT_ACKS=50
for _ in $(seq 1 600); do
    [ "$(wc -l < "$E2E_TMP/acks" 2>/dev/null || echo 0)" -ge "$WANT_ACKS" ] && break
    kill -0 "$CLIENT_PID" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=
N=$(wc -l < "$E2E_TMP/acks")
check "acknowledged changes before the kill ($N)" test "$N" -ge "$WANT_ACKS"

gw_start "$CFG" "$E2E_TMP/gw2.log" || { not_ok "gateway restarts after kill -9"; finish; exit 1; }
ok "gateway restarts after kill -9"
python3 - "$GW_URL" "$E2E_TMP/acks" > "$E2E_TMP/verify" 2>&1 <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
acks = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
hdr = {"Authorization": "Bearer e2e-operator-token"}
bad = 0
last_hot = None
for a in acks:
    if a["sid"] == "hot":
        last_hot = a
        continue
    conn.request("GET", "/worlds/cw/activation?strategy_id=%s&side=%s" % (a["sid"], a["side"]),
                 headers=hdr)
    r = conn.getresponse(); body = r.read()
    if r.status != 200:
        print("missing", a); bad += 1; continue
    j = json.loads(body)
    if j["etag"] != a["etag"] or j["state_version"] != a["version"] or r.getheader("ETag") != '"%s"' % a["etag"]:
        print("differs", a, j); bad += 1
if last_hot:
    conn.request("GET", "/worlds/cw/activation?strategy_id=hot&side=short", headers=hdr)
    r = conn.getresponse(); j = json.loads(r.read())
    # the hot entry holds the last acknowledged write, or a later one whose ack was lost
    if j["state_version"] < last_hot["version"]:
        print("hot entry went back", last_hot, j); bad += 1
    elif j["state_version"] == last_hot["version"] and (j["etag"] != last_hot["etag"] or j["weight"] != last_hot["weight"]):
        print("hot entry differs", last_hot, j); bad += 1
conn.request("GET", "/worlds/cw/activation", headers=hdr)
st = json.loads(conn.getresponse().read())
if acks and st["version"] < max(a["version"] for a in acks):
    print("world version went back", st["version"]); bad += 1
print("checked", len(acks), "acks,", bad, "problems")
sys.exit(1 if bad else 0)
EOF
rc=$?
sed 's/^/# /' "$E2E_TMP/verify" | tail -5
check "every acknowledged change survived kill -9 with its version and etag" test "$rc" -eq 0
# the event log kept up: one event per applied change, seq_no continues after restart
expect_code 200 "status after restart" GET /status
check "event sequence covers every acknowledged change" python3 -c "
import json; s = json.load(open('$E2E_TMP/body'))['last_seq_no']; assert s >= $N, s"
expect_code 200 "a write after restart" PUT /worlds/cw/activation \
    '{"strategy_id":"after","side":"long","active":true}' -H "$OP_AUTH"
gw_stop; rc=$?
check "clean exit after restart ($rc)" test "$rc" -eq 0
finish
