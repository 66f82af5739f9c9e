# Helpers for the gateway e2e scripts (sourced after lib.sh).
# gw_config FILE STORE [extra yaml lines...]: write a gateway config on 127.0.0.1, port 0
gw_config() {
    local f=$1 store=$2; shift 2
    {
        echo "gateway:"
        echo "  host: 127.0.0.1"
        echo "  port: 0"
        echo "  store_path: $store"
        echo "  operator_token: e2e-operator-token"
        echo "  submit_token: e2e-submit-token"
        echo "  host_token: e2e-host-token"
        echo "  connector_token: e2e-connector-token"
        echo "  dagmanager_url: \"\""
        for l in "$@"; do echo "  $l"; done
    } > "$f"
}

GW_PID=
GW_URL=
# gw_start CONFIG LOG: start the gateway in the background, wait for its URL (10 s max)
gw_start() {
    local cfg=$1 log=$2
    "$QMTL" service gateway --config "$cfg" 2> "$log" &
    GW_PID=$!
    GW_URL=
    for _ in $(seq 1 100); do
        GW_URL=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/listening on //')
        [ -n "$GW_URL" ] && return 0
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "# gateway did not start:"; sed 's/^/#   /' "$log"
    return 1
}

# gw_stop: SIGTERM and wait (10 s max); returns the exit code
gw_stop() {
    [ -n "$GW_PID" ] || return 0
    kill -TERM "$GW_PID" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$GW_PID" 2>/dev/null
    wait "$GW_PID"; local rc=$?
    GW_PID=
    return $rc
}

gw_kill() { [ -n "$GW_PID" ] && kill -KILL "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null; GW_PID=; }

OP_AUTH="Authorization: Bearer e2e-operator-token"
SUB_AUTH="Authorization: Bearer e2e-submit-token"
HOST_AUTH="Authorization: Bearer e2e-host-token"
CONN_AUTH="Authorization: Bearer e2e-connector-token"
# req METHOD PATH [BODY] [extra curl args...]: prints the status code, body in $E2E_TMP/body
req() {
    local m=$1 p=$2 b=${3:-}; shift 2; [ $# -gt 0 ] && shift
    if [ -n "$b" ]; then
        curl -s -m 5 -o "$E2E_TMP/body" -D "$E2E_TMP/headers" -w '%{http_code}' -X "$m" \
            -H 'Content-Type: application/json' --data-binary "$b" "$@" "$GW_URL$p"
    else
        curl -s -m 5 -o "$E2E_TMP/body" -D "$E2E_TMP/headers" -w '%{http_code}' -X "$m" "$@" "$GW_URL$p"
    fi
}
# expect_code WANT DESCRIPTION METHOD PATH [BODY] [curl args...]
expect_code() {
    local want=$1 d=$2; shift 2
    local got; got=$(req "$@")
    if [ "$got" = "$want" ]; then ok "$d ($got)"; else
        not_ok "$d (got $got, wanted $want)"; sed 's/^/#   /' "$E2E_TMP/body"; echo; fi
}
# jget EXPR: evaluate a python expression on the last body (as 'j')
jget() { python3 -c "import json,sys; j=json.load(open('$E2E_TMP/body')); print($1)"; }

# attached_prereqs: the in-tree sma_crossover plugin copied to $E2E_TMP/plugins, and curl;
# skips the script (exit 77) without them
attached_prereqs() {
    local plug="$QMTL_BUILD/plugins/sma_crossover.so"
    [ -f "$plug" ] || { echo "# $plug not built"; exit 77; }
    command -v curl > /dev/null || { echo "# curl missing"; exit 77; }
    mkdir -p "$E2E_TMP/plugins"
    cp "$plug" "$E2E_TMP/plugins/"
}

# kill_wait PID...: SIGKILL the background processes still running (and their children:
# kill_tree) and reap them
kill_wait() {
    local p
    for p in "$@"; do [ -n "$p" ] && kill_tree "$p" && wait "$p" 2>/dev/null; done
    return 0
}

# gw_live_world ID: create a live world that decides sma_crossover, active on both sides
gw_live_world() {
    local w=$1 side live='X-Allow-Live: true'
    expect_code 201 "create world $w (mode live)" POST /worlds "{\"id\":\"$w\",\"mode\":\"live\"}" \
        -H "$OP_AUTH" -H "$live"
    expect_code 200 "$w decides sma_crossover" POST "/worlds/$w/decisions" \
        '{"strategies":["sma_crossover"]}' -H "$OP_AUTH" -H "$live"
    for side in long short; do
        expect_code 200 "$w activation $side active" PUT "/worlds/$w/activation" \
            "{\"strategy_id\":\"sma_crossover\",\"side\":\"$side\",\"active\":true}" \
            -H "$OP_AUTH" -H "$live"
    done
}

# host_config FILE: a host config for an attached run with the e2e submit and host tokens,
# the plugins of attached_prereqs and test mode
host_config() {
    cat > "$1" <<YAML
host:
  plugins_dir: $E2E_TMP/plugins
  submit_token: e2e-submit-token
  host_token: e2e-host-token
test:
  test_mode: true
YAML
}

# term_child PID: SIGTERM the command a 'timeout' wrapper (PID) runs, not the wrapper: a
# wrapper signalled itself signals its child twice (directly and through the group), and
# the second may land while the child reports
term_child() {
    local c
    c=$(pgrep -P "$1" | head -1)
    kill -TERM "${c:-$1}" 2> /dev/null
}
