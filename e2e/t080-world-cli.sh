#!/bin/bash
# qmtl world: drive every verb against a real gateway (free 127.0.0.1 port, temporary
# config and store), check the output and the exit codes (0 ok, 1 refused, 2 usage,
# 3 unreachable).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
trap 'gw_kill; rm -rf "$E2E_TMP"' EXIT

CFG=$E2E_TMP/qmtl.yml
gw_config "$CFG" "$E2E_TMP/gw.db"
gw_start "$CFG" "$E2E_TMP/gw.log" || { not_ok "gateway starts"; finish; exit 1; }
ok "gateway starts ($GW_URL)"

# The token comes from the config's gateway.operator_token, the URL from --gateway-url.
unset QMTL_OPERATOR_TOKEN QMTL_CONFIG_FILE
W() { "$QMTL" world --config "$CFG" --gateway-url "$GW_URL" --timeout 5 "$@"; }
has() { grep -q -- "$1" "$E2E_TMP/${2:-out}"; }
# jout EXPR: evaluate a python expression on the JSON printed last (as 'j')
jout() { python3 -c "import json; j=json.load(open('$E2E_TMP/out')); print($1)"; }

expect_rc 0 "list with no worlds" W list
check "says no worlds" has "^no worlds$"
expect_rc 0 "create w1 (paper)" W create w1 --name "World one" --mode paper
check "create confirms" has "created world 'w1' (mode paper)"
expect_rc 1 "create w1 again is refused" W create w1
check "conflict code printed" has "^qmtl world: 409 E_CONFLICT: world already exists" err
expect_rc 0 "create w2 (default mode)" W create w2
expect_rc 0 "list" W list
check "list header" has "^ID  NAME       MODE$"
check "list row w1" has "^w1  World one  paper$"
check "list row w2" has "^w2  -          validate$"
expect_rc 0 "list --json" W --json list
check "list --json is the gateway's array" test "$(jout "[w['id'] for w in j]")" = "['w1', 'w2']"
expect_rc 0 "get w1" W get w1
check "get: mode line" has "^mode:  paper$"
check "get: name line" has "^name:  World one$"
expect_rc 1 "get an unknown world" W get nope
check "404 printed" has "^qmtl world: 404 E_NOT_FOUND: world not found" err

# operator token: wrong one via --token, then via the environment
expect_rc 1 "wrong token is refused" W --token wrong create w3
check "401 code and message" has "^qmtl world: 401 E_UNAUTHORIZED: invalid token: this route takes the operator credential" err
expect_rc 1 "wrong token from QMTL_OPERATOR_TOKEN" env QMTL_OPERATOR_TOKEN=wrong \
    "$QMTL" world --config "$CFG" --gateway-url "$GW_URL" delete w2
check "env token is used (401)" has "401 E_UNAUTHORIZED" err
expect_rc 1 "reads need the operator token too" env -u QMTL_OPERATOR_TOKEN \
    "$QMTL" world --gateway-url "$GW_URL" get w2
check "a read without a token: 401" has "401 E_UNAUTHORIZED" err

# decide
expect_rc 0 "decide w1 (no active strategies)" W decide w1
check "decide: validate" has "^effective_mode: *validate$"
check "decide: backtest" has "^execution_domain: *backtest$"
check "decide: reason" has "^reason: *no_active_strategies$"
check "decide: says why" has "^why: no strategy of world 'w1' is decided active"
check "decide: no default policy, and how to set one" \
    has "^  - no default policy: .*(qmtl world policy set w1 FILE)$"
check "decide: nothing bound" has "^  - no strategy is bound: none was submitted for this world"
check "decide: the fixing command" has "^fix: qmtl world apply w1 --run-id RUN --activate STRATEGY"

# activation: set, unchanged, both sides, table
expect_rc 0 "activate s1 long 0.5" W activate w1 s1 --weight 0.5
check "activate prints the entry" has "^w1 s1 long: active weight 0.5 (etag act:w1:s1:long:1)$"
check "a strategy the world never saw: a warning, not an error" \
    has "^qmtl world: WARN: world 'w1' has never seen strategy 's1'" err
expect_rc 0 "activate s1 again is a no-op" W activate w1 s1 --weight 0.5
check "reported unchanged" has "unchanged"
check "s1 is known now: no warning" bash -c "! grep -q WARN '$E2E_TMP/err'"
expect_rc 0 "decide: activation alone decides nothing" W decide w1
check "decide: names the activation entries" has "^  - activation entries exist (s1), but"
check "decide: suggests activating s1" has "^fix: qmtl world apply w1 --run-id RUN --activate s1"
expect_rc 0 "activate s2 both sides frozen" W activate w1 s2 --side both --freeze --weight 0.25
check "long side" has "^w1 s2 long: active weight 0.25 frozen"
check "short side" has "^w1 s2 short: active weight 0.25 frozen"
expect_rc 0 "deactivate s1" W activate w1 s1 --inactive --drain
check "s1 inactive, draining" has "^w1 s1 long: inactive weight 0 draining (etag act:w1:s1:long:4)$"
expect_rc 0 "activation table" W activation w1
check "version line" has "^world: w1  version: 4$"
check "table header" has "^STRATEGY  SIDE   ACTIVE  WEIGHT  FREEZE  DRAIN  MODE   RUN_ID  ETAG$"
check "s1 row" has "^s1        long   false   0       false   true   paper  -       act:w1:s1:long:4$"
check "s2 short row" has "^s2        short  true    0.25    true    false  paper  -       act:w1:s2:short:3$"
expect_rc 0 "activation of one strategy --json" W --json activation w1 s1 --side long
check "json entry" test "$(jout "j['etag'], j['drain']")" = "act:w1:s1:long:4 True"
expect_rc 1 "activation of an unknown strategy" W activation w1 zz
check "not found" has "E_NOT_FOUND" err
expect_rc 0 "activation --json (full state)" W --json activation w1
check "state version 4" test "$(jout "j['version']")" = 4
expect_rc 2 "bad --side" W activate w1 s1 --side up
expect_rc 2 "bad --weight" W activate w1 s1 --weight 2

# apply and decide after it
expect_rc 0 "apply a plan" W apply w1 --run-id r1 --activate s3 --deactivate s2
check "apply completed" has "^run 'r1': completed$"
check "apply active list" has "^active: s3$"
expect_rc 0 "same run id again" W --json apply w1 --run-id r1 --activate zz
check "stored ack returned" test "$(jout "j['active']")" = "['s3']"
expect_rc 0 "decide after apply" W decide w1
check "decide: paper while active" has "^effective_mode: *paper$"
check "decide: dryrun" has "^execution_domain: *dryrun$"
echo '{"s4": {"sharpe": 2.0}, "s5": {"sharpe": 0.5}}' > "$E2E_TMP/m.json"
expect_rc 1 "apply metrics without a default policy is refused" \
    W apply w1 --run-id r2 --metrics "$E2E_TMP/m.json"
check "validation error printed" has "422 E_VALIDATION: no policy" err
# policies: set (a new version, made the default) and get, round trip
expect_rc 1 "policy get without a default" W policy get w1
check "... says how to set one" has "world 'w1' has no default policy; set one with: qmtl world policy set w1 FILE" err
echo '{"thresholds": {"sharpe": {"metric": "sharpe", "min": 1.0}}}' > "$E2E_TMP/p.json"
expect_rc 0 "policy set" W policy set w1 "$E2E_TMP/p.json"
check "policy set names the version" has "^world 'w1': policy version 1 is the default$"
expect_rc 0 "policy get" W policy get w1
check "policy get: the version" has "^# world 'w1', policy version 1 (the default)$"
check "policy get: the policy" has '^      "min": 1.0$'
grep -v '^#' "$E2E_TMP/out" > "$E2E_TMP/p2.json"
expect_rc 0 "what policy get prints, policy set takes" W policy set w1 "$E2E_TMP/p2.json"
check "... as version 2" has "^world 'w1': policy version 2 is the default$"
expect_rc 0 "policy get --version 1 --json" W --json policy get w1 --version 1
check "--json: the gateway's document" test "$(jout "j['version'], j['policy']['thresholds']['sharpe']['min']")" = "1 1.0"
expect_rc 1 "policy get of a missing version" W policy get w1 --version 9
check "... 404" has "404 E_NOT_FOUND: policy not found" err
echo '{"thresholds": {"sharpe": {"min": "x"}}}' > "$E2E_TMP/bad.json"
expect_rc 1 "an invalid policy is refused by the gateway" W policy set w1 "$E2E_TMP/bad.json"
check "... naming the field" has "422 E_VALIDATION: field 'policy.thresholds.sharpe'" err
echo '{"thresholds": ' > "$E2E_TMP/bad.json"
expect_rc 1 "a policy file that is not JSON" W policy set w1 "$E2E_TMP/bad.json"
check "... naming the file and position" has "qmtl world: $E2E_TMP/bad.json:[0-9]*:[0-9]*: invalid JSON" err
expect_rc 2 "policy without set/get" W policy w1
expect_rc 2 "policy set without a file" W policy set w1
expect_rc 2 "a missing policy file" W policy set w1 "$E2E_TMP/none.json"
expect_rc 2 "bad --version" W policy get w1 --version 0
expect_rc 0 "apply metrics through the default policy" \
    W apply w1 --run-id r2 --metrics "$E2E_TMP/m.json"
check "only s4 passes" has "^active: s4$"
echo '{"s5": {"sharpe": 0.1}, "s6": {"sharpe": 0.2}}' > "$E2E_TMP/m0.json"
expect_rc 0 "apply metrics that no strategy passes" W apply w1 --run-id r3 --metrics "$E2E_TMP/m0.json"
check "nothing active" has "^active: (none)$"
expect_rc 0 "decide after it" W decide w1
check "decide: no active strategies" has "^reason: *no_active_strategies$"
check "decide: the policy is there" has "^  - default policy: version 2 (qmtl world policy get w1)$"
check "decide: none passed the thresholds" \
    has "^  - the last apply (run 'r3') evaluated the policy over 2 strategies and none passed its thresholds$"
check "decide: fix with passing metrics" has "^fix: qmtl world apply w1 --run-id RUN --metrics FILE"
if command -v curl >/dev/null; then
    expect_code 200 "bind s7 (curl)" POST /worlds/w1/bindings '{"strategies": ["s7"]}' -H "$OP_AUTH"
    expect_rc 0 "activate a bound strategy" W activate w1 s7
    check "... without a warning" bash -c "! grep -q WARN '$E2E_TMP/err'"
    expect_rc 0 "decide: bound strategies are named" W decide w1
    check "... as bound but not decided" has "^  - bound (submitted) but not decided: s7$"
fi
expect_rc 0 "apply the plan again" W apply w1 --run-id r4 --activate s3
expect_rc 2 "apply without --run-id" W apply w1 --activate s1
expect_rc 2 "apply without a plan" W apply w1 --run-id r3

# audit
expect_rc 0 "audit" W audit w1
check "audit header" has "^ID  *TS  *EVENT  *DETAILS$"
check "audit has apply_completed" has "apply_completed"
check "audit has world_created" has "world_created"
expect_rc 0 "audit --limit 1" W audit w1 --limit 1
check "one entry" test "$(grep -c '^[0-9]' "$E2E_TMP/out")" = 1
expect_rc 1 "audit with a wrong token" W --token nope audit w1

# orders (the world's live orders; none in this world)
expect_rc 0 "orders" W orders w1
check "no orders" has "^no orders in world 'w1'$"
expect_rc 0 "orders --status new --limit 5" W orders w1 --status new --limit 5
check "no new orders" has "^no new orders in world 'w1'$"
expect_rc 0 "orders --json" W --json orders w1
check "--json: the gateway's list" test "$(jout "j['world_id'], j['orders']")" = "w1 []"
expect_rc 1 "orders with a wrong token" W --token nope orders w1
expect_rc 2 "orders --status bogus" W orders w1 --status bogus
expect_rc 2 "orders --version does not apply" W orders w1 --version 1

# live guard
expect_rc 1 "live world without --allow-live is refused" W create lw --mode live
check "403 printed" has "^qmtl world: 403 E_PERMISSION_DENIED: live trading not allowed" err
check "hint printed" has "allow-live" err
expect_rc 0 "live world with --allow-live" W create lw --mode live --allow-live
expect_rc 1 "activate in a live world without --allow-live" W activate lw s1
expect_rc 0 "activate in a live world with --allow-live" W activate lw s1 --allow-live
expect_rc 1 "delete a live world without --allow-live" W delete lw
expect_rc 0 "delete a live world with --allow-live" W delete lw --allow-live
check "delete confirms" has "^deleted world 'lw'$"
expect_rc 1 "it is gone" W get lw

# usage errors
expect_rc 2 "no verb" W
expect_rc 2 "unknown verb" W frobnicate
check "unknown verb named" has "unknown verb 'frobnicate'" err
expect_rc 2 "missing world" W get
expect_rc 2 "option of another verb" W list --limit 3
expect_rc 2 "bad mode" W create w9 --mode turbo
expect_rc 2 "https URL is a usage error" "$QMTL" world --gateway-url https://127.0.0.1:1 list
check "URL named" has "bad URL 'https://127.0.0.1:1'" err

# gateway down: a clear message and exit 3, within the timeout
gw_stop
expect_rc 3 "gateway down" W list
check "clear connect message" has "^qmtl world: gateway $GW_URL unreachable: cannot connect to 127.0.0.1:[0-9]*: Connection refused$" err

# a peer that accepts but never answers: timed out, exit 3
PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
print("ready", flush=True)
c, _ = s.accept(); time.sleep(5)
' "$PORT" > "$E2E_TMP/mute.log" &
MUTE=$!
for _ in $(seq 1 50); do grep -q ready "$E2E_TMP/mute.log" && break; sleep 0.1; done
expect_rc 3 "gateway that never answers" "$QMTL" world --gateway-url "http://127.0.0.1:$PORT" --timeout 0.5 list
check "timeout message" has "timed out after 0.5 s" err
kill "$MUTE" 2>/dev/null; wait "$MUTE" 2>/dev/null
finish
