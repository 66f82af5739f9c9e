#!/bin/bash
# Exact takeover (docs/scale-out.md, "Ownership"): nats-server, a DAG manager, a gateway
# and two attached hosts on 127.0.0.1. Host A runs takeover_producer (price -> sma3 -> acc
# -> twice; acc keeps a state and emits every second computation), host B runs takeover
# (the same nodes plus echo of its own): B consumes sma3, acc and twice. B's feed runs
# AHEAD of A's; A is killed with -9. B takes the three leases, recomputes every bucket
# after the last one each stream holds (from its own inputs, which have passed them, and
# from acc's state carried in the stream), and goes on: over the whole run B's echo sees
# exactly what one process running both strategies sees, and each stream holds every
# output once, numbered without a gap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw_lib.sh"
. "$(dirname "$0")/bus_lib.sh"

bus_prereqs takeover takeover_producer

NATS_PID= DM_PID= A_PID= B_PID=
cleanup() {
    kill_wait "$A_PID" "$B_PID" "$DM_PID" "$NATS_PID"
    gw_kill
    rm -rf "$E2E_TMP"
}
trap cleanup EXIT

T=$E2E_TMP
mkdir -p "$T/a" "$T/b" "$T/both"
cp "$F/takeover_producer.so" "$T/a/"
cp "$F/takeover.so" "$T/b/"
cp "$F/takeover_producer.so" "$F/takeover.so" "$T/both/"
DATA='BTC=gbm:count=240,seed=7'

bus_up || { finish; exit 1; }

# the reference: one process runs both strategies (offline, no bus)
"$QMTL" run --offline --quiet --plugins "$T/both" --data "$DATA" > /dev/null 2> "$T/one.log"
grep -o 'echo ts=.*' "$T/one.log" > "$T/one.echo"
N_ECHO=$(wc -l < "$T/one.echo")
N_ACC=$(grep -c 'acc computed' "$T/one.log")
[ "$N_ECHO" -gt 100 ] && [ "$N_ACC" -gt 200 ] && ok "one process: acc computed $N_ACC times, echo $N_ECHO" ||
    not_ok "reference run (acc $N_ACC, echo $N_ECHO)"

run_host() {
    local dir=$1 log=$2; shift 2
    "$QMTL" run --config "$T/host.yml" --gateway-url "$GW_URL" --world-id TK --plugins "$dir" \
        --data "$DATA" --follow "$@" > /dev/null 2> "$log" &
}

# A computes slowly (10 bars/s); B's own feed runs ahead (80 bars/s)
run_host "$T/a" "$T/a.log" --pace 10
A_PID=$!
wait_for 10 at_least 'lease taken; published' "$T/a.log" 3 && ok "host A holds the three leases" ||
    { not_ok "host A takes the leases"; grep bus "$T/a.log" | sed 's/^/#   /'; }
run_host "$T/b" "$T/b.log" --pace 80
B_PID=$!
wait_for 10 at_least 'is computed by another host: consumed from' "$T/b.log" 3 &&
    ok "host B consumes sma3, acc and twice" || { not_ok "host B consumes"; grep bus "$T/b.log" | sed 's/^/#   /'; }
# B's 240 bars take 3 s; A has computed 60 buckets (6 s) by the time it dies
wait_for 20 at_least 'acc computed' "$T/a.log" 60 || not_ok "host A computes"
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null; A_PID=
NA=$(count 'acc computed' "$T/a.log")
took() { at_least 'took the lease its owner left' "$T/b.log" 3; }
wait_for 2 took && ok "host A killed (-9) after $NA buckets: B took the three leases within 2 s" ||
    { not_ok "takeover within 2 s"; grep bus "$T/b.log" | sed 's/^/#   /'; }
wait_for 20 at_least 'echo ts=' "$T/b.log" "$N_ECHO"
kill -TERM "$B_PID"; wait "$B_PID"; rb=$?; B_PID=
[ "$rb" -eq 0 ] && ok "host B stops cleanly" || not_ok "host B exit $rb"

NB=$(count 'acc computed' "$T/b.log")
# B's feed was ahead: acc's missing buckets were recomputed from B's log of its inputs
RW=$(grep -o "node 'acc' ([^)]*): computed here after bucket [0-9]* ([0-9]* wave(s)" "$T/b.log" | grep -o '([0-9]* wave' | tr -dc 0-9)
[ "${RW:-0}" -gt 0 ] && [ "$NB" -gt 0 ] && [ "$NA" -lt "$N_ACC" ] &&
    ok "B recomputed acc from its own inputs, which had passed what A stored ($RW waves replayed; A $NA, B $NB computations)" ||
    { not_ok "recomputation on B (A $NA, B $NB)"; grep bus "$T/b.log" | sed 's/^/#   /'; }
grep -o 'echo ts=.*' "$T/b.log" > "$T/b.echo"
cmp -s "$T/one.echo" "$T/b.echo" && grep -q ' 0 gaps' "$T/b.log" &&
    grep -q '(0 bucket(s) not recomputed)' "$T/b.log" &&
    ok "host B's echo over the whole run equals one process ($N_ECHO buckets, no gap, no duplicate)" ||
    { not_ok "host B's echo differs from one process"; diff "$T/one.echo" "$T/b.echo" | head -5 | sed 's/^/#   /';
      grep bus "$T/b.log" | sed 's/^/#   /'; }

# each stream: every output once, numbered 1..n over the two owners
for spec in "sma3 $N_ACC" "acc $((N_ACC / 2))" "twice $((N_ACC / 2))"; do
    set -- $spec
    id=$(bus_node_id "$T/b.log" "$1")
    bus_node_report "$id" "$T/node_$1.json"
    bus_stream_whole "$T/node_$1.json" TK "$2" > "$T/$1.out" &&
        ok "$1 stream: $2 outputs numbered 1..$2 across the takeover" ||
        { not_ok "$1 stream: $(cat "$T/$1.out"), want $2"; }
done

finish
