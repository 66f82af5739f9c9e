#!/bin/bash
# qmtl config validate: exit codes 0 / 1 / 2, table and JSON output, discovery, env
# overrides and the probes (a /health endpoint on 127.0.0.1, SQLite store, plugins dir).
set -u
QMTL=${QMTL:-build/bin/qmtl}
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }

T=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
# expect RC DESCRIPTION -- command...
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else
        not_ok "$what: exit $rc, wanted $want"; sed 's/^/#   /' "$T/out" "$T/err"
    fi
}
has() { # FILE TEXT DESCRIPTION
    if grep -qF -- "$2" "$1"; then ok "$3"; else
        not_ok "$3: '$2' not in output"; sed 's/^/#   /' "$1"
    fi
}

mkdir -p "$T/proj/plugins" "$T/proj/data"
chmod 755 "$T/proj/plugins"
printf 'ts,open,high,low,close,volume\n1700000000,1,1,1,1,1\n' >"$T/proj/data/a.csv"
cat >"$T/proj/qmtl.yml" <<'EOF'
gateway:
  host: 127.0.0.1
  port: 0
  store_path: gw.db
  dagmanager_url: ""
  event_secret: a-long-enough-e2e-secret-value
  operator_token: op
  submit_token: sub
dagmanager:
  port: 0
  store_path: dm.db
host:
  plugins_dir: plugins
  data:
    - {tags: [A, 1m], path: data/a.csv}
test:
  test_mode: true
EOF

# 1-3: a good file, offline and with probes (relative paths resolve next to the file)
expect 0 "valid config, --offline" -- "$QMTL" config validate --config "$T/proj/qmtl.yml" --offline
has "$T/out" "skipped (--offline)" "offline probes are reported as skipped"
expect 0 "valid config, probes run" -- "$QMTL" config validate --config "$T/proj/qmtl.yml"
has "$T/out" "$T/proj/plugins' holds 0 plugin(s)" "plugins_dir resolved against the config file's directory"
has "$T/out" "$T/proj/gw.db' will be created" "SQLite store probed beside the config file"
[ ! -e "$T/proj/gw.db" ] && ok "the store probe leaves nothing behind" || not_ok "probe left gw.db"

# missing / malformed / invalid files -> 2
expect 2 "missing file" -- "$QMTL" config validate --config "$T/nope.yml"
has "$T/err" "nope.yml: cannot read config file: No such file or directory" "missing file message"
printf 'gateway:\n  port: [1, 2\n' >"$T/bad.yml"
expect 2 "malformed YAML" -- "$QMTL" config validate --config "$T/bad.yml"
has "$T/err" "bad.yml:3:1: malformed YAML: did not find expected ',' or ']'" "malformed YAML names file:line:col"
printf 'gateway:\n  prot: 1\n' >"$T/typo.yml"
expect 2 "unknown key" -- "$QMTL" config validate --config "$T/typo.yml" --json
has "$T/err" "typo.yml:2:3: unknown key 'gateway.prot' (did you mean 'gateway.port'?)" "did-you-mean on stderr"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="error" and d["error"]=="invalid" and d["line"]==2 and d["key"]=="gateway.prot", d' "$T/out" &&
    ok "--json error object" || not_ok "--json error object"

# check failures -> 1
printf 'host:\n  world_id: w1\n' >"$T/world.yml"
expect 1 "world_id without gateway_url" -- "$QMTL" config validate --config "$T/world.yml" --target host --offline
has "$T/out" "world_id 'w1' is set but gateway_url is empty" "structural error hint"
printf 'host:\n  plugins_dir: nowhere\n' >"$T/noplug.yml"
expect 1 "missing plugins dir" -- "$QMTL" config validate --config "$T/noplug.yml" --target host
expect 0 "missing plugins dir is not probed with --offline" -- "$QMTL" config validate --config "$T/noplug.yml" --target host --offline
chmod 777 "$T/proj/plugins"
expect 1 "world-writable plugins dir" -- "$QMTL" config validate --config "$T/proj/qmtl.yml" --target host
has "$T/out" "world-writable" "world-writable hint"
chmod 755 "$T/proj/plugins"
printf 'not sqlite at all, just some text padding it out to a header.........\n' >"$T/proj/gw.db"
expect 1 "store that is not a SQLite database" -- "$QMTL" config validate --config "$T/proj/qmtl.yml" --target gateway
rm -f "$T/proj/gw.db"

# a gateway /health endpoint on a free loopback port
cat >"$T/health.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200 if self.path == "/health" else 404
        self.send_response(code); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 1
import time; end = time.time() + 60
while time.time() < end: s.handle_request()
EOF
python3 "$T/health.py" "$T/port" &
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port" 2>/dev/null)
if [ -z "$PORT" ]; then not_ok "health server did not start"; else
    printf 'host:\n  plugins_dir: proj/plugins\n  world_id: w1\n  gateway_url: http://127.0.0.1:%s\n' "$PORT" >"$T/attached.yml"
    expect 0 "gateway reachable" -- "$QMTL" config validate --config "$T/attached.yml" --target host --json
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); g=d["results"]["host"]["gateway"]; assert d["status"]=="ok" and g["severity"]=="ok" and "answered 200" in g["hint"], d' "$T/out" &&
        ok "--json reports the gateway probe" || not_ok "--json gateway probe"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
    expect 1 "gateway unreachable" -- "$QMTL" config validate --config "$T/attached.yml" --target host
    has "$T/out" "cannot connect to 127.0.0.1:$PORT" "unreachable hint"
    expect 0 "gateway not probed with --offline" -- "$QMTL" config validate --config "$T/attached.yml" --target host --offline
fi

# discovery and environment
expect 0 "./qmtl.yml discovered" -- env -C "$T/proj" "$QMTL" config validate --offline
grep -qE '^config +source +OK +qmtl\.yml$' "$T/out" && ok "discovered file named in the output" ||
    { not_ok "discovered file named in the output"; sed 's/^/#   /' "$T/out"; }
expect 2 "QMTL_CONFIG_FILE wins over ./qmtl.yml" -- env -C "$T/proj" QMTL_CONFIG_FILE="$T/typo.yml" "$QMTL" config validate --offline
has "$T/err" "typo.yml:2:3" "QMTL_CONFIG_FILE named in the error"
expect 2 "bad env override" -- env -C "$T/proj" QMTL__GATEWAY__PORT=abc "$QMTL" config validate --offline
has "$T/err" "env QMTL__GATEWAY__PORT: gateway.port: expected an integer, got 'abc'" "env error message"
expect 0 "env override shown" -- env -C "$T/proj" QMTL__GATEWAY__PORT=9123 QMTL_TEST_MODE=0 "$QMTL" config show
has "$T/out" "gateway.port = 9123" "env value in config show"
has "$T/out" "runtime.http_timeout_s = 2" "QMTL_TEST_MODE=0 overrides the file"
expect 0 "test mode from the file" -- env -C "$T/proj" "$QMTL" config show --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["runtime"]; assert r["http_timeout_s"]=="1.5" and r["ws_receive_timeout_s"]=="1.5" and r["ws_reconnect_total_s"]=="5" and r["poll_interval_s"]=="2", r' "$T/out" &&
    ok "test-mode budgets in effect" || not_ok "test-mode budgets"

# usage errors
expect 2 "unknown target" -- "$QMTL" config validate --target world
expect 2 "unknown option" -- "$QMTL" config validate --frobnicate
expect 0 "schema lists the keys" -- "$QMTL" config schema
has "$T/out" '`QMTL__GATEWAY__PORT`' "schema names env variables"

echo "1..$n"
[ "$fails" -eq 0 ]
