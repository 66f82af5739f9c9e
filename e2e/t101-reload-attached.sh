#!/bin/bash
# Hot reload of an attached host (real gateway, paper world): the same DAG reloaded keeps
# its strategy id and its activation (orders keep passing); a new version with a different
# DAG is resubmitted, gets a new strategy id, and its gate stays closed (orders blocked,
# also against an activation keyed by the strategy's name) until the activation for the
# new strategy id arrives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
CC=${CC:-cc}
command -v "$CC" > /dev/null || { echo "# skipped: $CC not found"; exit 77; }
command -v curl > /dev/null || { echo "# skipped: curl missing"; exit 77; }

HOST_PID=
cleanup() {
    [ -n "$HOST_PID" ] && kill_tree "$HOST_PID" && wait "$HOST_PID" 2>/dev/null
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

SRC=$E2E_TMP/src
P=$E2E_TMP/plugins
mkdir -p "$SRC" "$P" && chmod 700 "$P"
export XDG_STATE_HOME=$E2E_TMP/state
# rl_x: stream -> sma(5), sma(SLOW) -> crossover -> signal -> orders
cat > "$SRC/rl_x.c" << 'C'
#include <qmtl/qmtl.h>
#define STR2(x) #x
#define STR(x) STR2(x)
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    qmtl_node px = h->stream_input(ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec),
                                        .name = "price", .tags = tags, .interval = "60s"}, err);
    qmtl_node f = h->indicator(ctx, &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                    .kind = "sma", .name = "fast", .inputs = {px}, .window = 3}, err);
    qmtl_node s = h->indicator(ctx, &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                    .kind = "sma", .name = "slow", .inputs = {px}, .window = SLOW}, err);
    if (px < 0 || f < 0 || s < 0)
        return px < 0 ? px : f < 0 ? f : s;
    qmtl_node x = h->indicator(ctx, &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                    .kind = "crossover", .name = "cross", .inputs = {f, s}}, err);
    if (x < 0)
        return x;
    qmtl_node sig = h->signal(ctx, &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec),
                                   .name = "sig", .input = x}, err);
    if (sig < 0)
        return sig;
    qmtl_node o = h->order_publisher(ctx, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec),
                                          .name = "orders", .signal = sig}, err);
    return o < 0 ? o : QMTL_OK;
}
QMTL_PLUGIN(.name = "rl_x", .version = STR(V) ".0.0", .setup = setup);
C
CFLAGS="$("$QMTL" sdk --cflags) -shared -fPIC -fvisibility=hidden -O1"
$CC $CFLAGS -DV=1 -DSLOW=8 -o "$SRC/v1.so" "$SRC/rl_x.c" || not_ok "build v1"
$CC $CFLAGS -DV=2 -DSLOW=9 -o "$SRC/v2.so" "$SRC/rl_x.c" || not_ok "build v2"
cp "$SRC/v1.so" "$P/rl_x.so"
deploy() { cp "$1" "$P/.rl_x.so.tmp" && mv "$P/.rl_x.so.tmp" "$P/rl_x.so"; }

gw_config "$E2E_TMP/gw.yml" "$E2E_TMP/gw.db" "event_secret: e2e-event-secret-0123456789"
gw_start "$E2E_TMP/gw.yml" "$E2E_TMP/gw.log" || exit 1
expect_code 201 "create world W (mode paper)" POST /worlds '{"id":"W","mode":"paper"}' -H "$OP_AUTH"
expect_code 200 "W decides rl_x" POST /worlds/W/decisions '{"strategies":["rl_x"]}' -H "$OP_AUTH"

cat > "$E2E_TMP/host.yml" << YAML
host:
  plugins_dir: $P
  submit_token: e2e-submit-token
  host_token: e2e-host-token
test:
  test_mode: true
YAML
OLOG=$E2E_TMP/orders.log
HLOG=$E2E_TMP/host.log
"$QMTL" run --config "$E2E_TMP/host.yml" --world-id W --gateway-url "$GW_URL" --follow \
    --data 'BTC=gbm:count=1000000,seed=7' --pace 200 --order-log "$OLOG" \
    > "$E2E_TMP/host.out" 2> "$HLOG" &
HOST_PID=$!

seen() { grep -q -- "$1" "$HLOG"; }
n_orders() { grep -c ' order rl_x' "$OLOG" 2>/dev/null || true; }
n_blocked() { grep -c ' blocked rl_x' "$OLOG" 2>/dev/null || true; }
more_orders() { [ "$(n_orders)" -gt "$1" ]; }
more_blocked() { [ "$(n_blocked)" -ge $(($1 + $2)) ]; }
activate() {
    for side in long short; do
        expect_code 200 "activate $1 $side" PUT /worlds/W/activation \
            "{\"strategy_id\":\"$1\",\"side\":\"$side\",\"active\":true}" -H "$OP_AUTH"
    done
}

check "attached and submitted" wait_for 20 seen "strategy 'rl_x' submitted as '"
SID1=$(sed -n "s/.*strategy 'rl_x' submitted as '\([^']*\)'.*/\1/p" "$HLOG" | head -1)
check "stream connected" wait_for 20 seen "event stream connected"
check "paper -> dryrun" wait_for 20 seen "effective_mode 'paper' -> domain dryrun"
activate "$SID1"
check "v1 active: orders pass" wait_for 20 more_orders 0

# the same DAG again (copy of the same file): same strategy id, the activation carries over
deploy "$SRC/v1.so"
check "same DAG: reloaded" wait_for 20 seen "reload: strategy 'rl_x' 1.0.0 -> 1.0.0"
check "same DAG: same strategy id, activation kept" wait_for 20 seen \
    "strategy 'rl_x' resubmitted after the reload: same strategy id '$SID1', its activation carries over"
o=$(n_orders)
check "same DAG: orders keep passing" wait_for 20 more_orders "$o"

# a new version with another DAG: new strategy id, gate closed until its activation
deploy "$SRC/v2.so"
check "v2: reloaded" wait_for 20 seen "reload: strategy 'rl_x' 1.0.0 -> 2.0.0"
check "v2: new strategy id, gate closed" wait_for 20 seen \
    "strategy 'rl_x' submitted after the reload as '[^']*' (was '$SID1'): its gate stays closed until its activation is confirmed"
SID2=$(sed -n "s/.*submitted after the reload as '\([^']*\)'.*/\1/p" "$HLOG" | head -1)
check "v2: the strategy id changed" test -n "$SID2" -a "$SID2" != "$SID1"
o=$(n_orders); b=$(n_blocked)
# an activation keyed by the name is not the new submission's
activate rl_x
check "v2: orders are blocked" wait_for 20 more_blocked "$b" 3
check "v2: none passes before its activation" test "$(n_orders)" -eq "$o"
activate "$SID2"
check "v2: orders pass once its activation is confirmed" wait_for 20 more_orders "$o"

kill -TERM $HOST_PID
wait $HOST_PID; rc=$?
HOST_PID=
check "exit 0 after SIGTERM with --follow (exit $rc)" test $rc -eq 0
check "no leak or sanitizer report" sh -c "! grep -q 'Sanitizer' '$HLOG'"
check "host reports after SIGTERM" grep -q "^rl_x " "$E2E_TMP/host.out"
[ "$T_FAIL" -eq 0 ] || sed 's/^/# /' "$HLOG" | grep -v "DEBUG" | tail -40
finish
