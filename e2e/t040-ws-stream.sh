#!/bin/bash
# Event stream end to end: a real gateway process and Python's 'websockets' client (strict
# RFC 6455 handshake and frame checks). Subscribe, receive an activation change, ack, ping,
# normal close; reconnect with last_seq_no replays what was missed; a bad token gets 1008.
set -u
: "${QMTL:?QMTL must point at the qmtl binary}"
# Debian's python3-websockets lives in the system interpreter (not in a user's pyenv/venv).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import websockets' 2>/dev/null || { echo "# python3 websockets missing"; exit 77; }

tmp=$(mktemp -d)
gw_pid=
cleanup() {
    [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/qmtl.yml" <<YAML
gateway:
  host: 127.0.0.1
  port: $port
  store_path: $tmp/gateway.db
  dagmanager_url: ""
  operator_token: e2e-operator
  submit_token: e2e-submit
  event_secret: e2e-event-secret
  ws_ping_interval_s: 1
YAML
"$QMTL" service gateway --config "$tmp/qmtl.yml" > "$tmp/gateway.log" 2>&1 &
gw_pid=$!

for _ in $(seq 1 100); do
    "$PY" - "$port" <<'PY' 2>/dev/null && break
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/health" % sys.argv[1], timeout=1).read()
PY
    sleep 0.1
done

timeout 60 "$PY" - "$port" <<'PY'
import asyncio, json, sys, urllib.request
import websockets

PORT = int(sys.argv[1])
BASE = "http://127.0.0.1:%d" % PORT
OP = {"Authorization": "Bearer e2e-operator"}
SUB = {"Authorization": "Bearer e2e-submit"}
n = 0

def ok(cond, what):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what), flush=True)
    if not cond:
        sys.exit(1)

def http(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read() or b"null")

def put_activation(weight):
    return http("PUT", "/worlds/w1/activation",
                {"strategy_id": "s1", "side": "long", "active": True, "weight": weight}, OP)

async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))

async def main():
    st, _ = http("POST", "/worlds", {"id": "w1"}, OP)
    ok(st in (200, 201), "world created")
    st, sub = http("POST", "/events/subscribe",
                   {"world_id": "w1", "strategy_id": "s1", "topics": ["activation"]}, SUB)
    ok(st == 200 and sub["stream_url"] == "ws://127.0.0.1:%d/ws/evt" % PORT,
       "subscribe returns the real stream_url")
    ok(sub["topics"] == ["activation"] and sub["expires_at"].endswith("Z") and sub["token"].count(".") == 2,
       "subscribe returns topics, expires_at and a JWT")
    token = sub["token"]

    async with websockets.connect(sub["stream_url"],
                                  extra_headers={"Authorization": "Bearer " + token}) as ws:
        ok(True, "handshake accepted by the websockets client (Bearer header)")
        loop = asyncio.get_running_loop()
        st, _ = await loop.run_in_executor(None, put_activation, 0.25)
        ok(st == 200, "PUT activation")
        ev = await recv_json(ws)
        ok(ev["specversion"] == "1.0" and ev["type"] == "activation_updated"
           and isinstance(ev["seq_no"], int) and ev["datacontenttype"] == "application/json",
           "CloudEvents envelope with seq_no")
        ok(ev["data"]["world_id"] == "w1" and ev["data"]["weight"] == 0.25
           and ev["data"]["version"] == 1, "activation data reaches the subscriber")
        seq = ev["seq_no"]
        await ws.send(json.dumps({"type": "ack", "last_id": ev["id"]}))
        ack = await recv_json(ws)
        ok(ack["type"] == "ack" and ack["last_id"] == ev["id"], "ack echoed")
        pong = await ws.ping()
        await asyncio.wait_for(pong, 5)
        ok(True, "ping answered with pong")
        await asyncio.sleep(2.5)  # server keepalive pings (interval 1 s) are answered by the client
        ok(not ws.closed, "keepalive pings keep an answering client open")
    ok(ws.close_code == 1000, "normal close completes (code %s)" % ws.close_code)

    # changes while disconnected, then reconnect with last_seq_no (token in the query)
    put_activation(0.5)
    put_activation(0.75)
    url = "%s?token=%s&last_seq_no=%d" % (sub["stream_url"], token, seq)
    async with websockets.connect(url) as ws:
        a = await recv_json(ws)
        b = await recv_json(ws)
        ok(a["seq_no"] == seq + 1 and b["seq_no"] == seq + 2, "replay of missed events in order")
        ok(a["data"]["weight"] == 0.5 and b["data"]["weight"] == 0.75, "replayed data is right")

    # fresh connection: snapshot of the current activation
    async with websockets.connect(sub["stream_url"] + "?token=" + token) as ws:
        s = await recv_json(ws)
        ok(s["type"] == "activation_updated" and s["data"].get("snapshot") is True
           and s["data"]["weight"] == 0.75, "snapshot on connect")

    # bad token: 1008
    try:
        async with websockets.connect(sub["stream_url"] + "?token=not.a.token") as ws:
            await asyncio.wait_for(ws.recv(), 5)
        ok(False, "bad token closes with 1008")
    except websockets.exceptions.ConnectionClosed as e:
        ok(e.code == 1008, "bad token closes with 1008 (got %s)" % e.code)

    # oversized message: 1009
    async with websockets.connect(sub["stream_url"] + "?token=" + token) as ws:
        await recv_json(ws)  # snapshot
        await ws.send("x" * 70000)
        try:
            await asyncio.wait_for(ws.recv(), 5)
            ok(False, "oversized message closes with 1009")
        except websockets.exceptions.ConnectionClosed as e:
            ok(e.code == 1009, "oversized message closes with 1009 (got %s)" % e.code)

asyncio.run(main())
PY
rc=$?
if [ $rc -ne 0 ]; then
    echo "# gateway log:"; sed 's/^/# /' "$tmp/gateway.log"
    exit 1
fi
# shutdown with a stream open: the subscriber is told 1001 (going away), the gateway exits 0
timeout 20 "$PY" - "$port" > "$tmp/shutdown.out" 2>&1 <<'PY' &
import asyncio, json, sys, urllib.request
import websockets
port = int(sys.argv[1])
req = urllib.request.Request("http://127.0.0.1:%d/events/subscribe" % port,
                             data=json.dumps({"world_id": "w1"}).encode(), method="POST",
                             headers={"Content-Type": "application/json",
                                      "Authorization": "Bearer e2e-submit"})
sub = json.loads(urllib.request.urlopen(req, timeout=5).read())
async def main():
    async with websockets.connect(sub["stream_url"] + "?token=" + sub["token"]) as ws:
        print("open", flush=True)
        try:
            while True:
                await ws.recv()
        except websockets.exceptions.ConnectionClosed as e:
            print("closed", e.code, flush=True)
asyncio.run(main())
PY
client=$!
for _ in $(seq 1 100); do grep -q '^open' "$tmp/shutdown.out" 2>/dev/null && break; sleep 0.1; done
kill "$gw_pid"; wait "$gw_pid"; grc=$?
gw_pid=
wait "$client"
[ $grc -eq 0 ] && echo "ok 17 - gateway stopped cleanly with a stream open" || {
    echo "not ok 17 - gateway exit $grc"; sed 's/^/# /' "$tmp/gateway.log"; exit 1; }
if grep -q '^closed 1001' "$tmp/shutdown.out"; then
    echo "ok 18 - the open stream was closed with 1001 at shutdown"
else
    echo "not ok 18 - stream at shutdown: $(tr '\n' ' ' < "$tmp/shutdown.out")"; exit 1
fi
exit 0
