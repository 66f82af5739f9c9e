#!/bin/bash
# Hot reload under load (issue 13, "Numbers"), through the real path: 'qmtl run --follow'
# with the plugins-directory watcher, each new version deployed by cp + mv.
#
# Phase 1: a 50-node strategy (rb: stream -> 48 chained built-ins -> custom node) is
# replaced again and again while a paced synthetic feed delivers RATE ticks/s. A second
# strategy (rc) shares the stream and counts every tick it sees in node state, which a
# swap keeps (same NodeID): any tick lost or seen twice breaks the sequence of bar times
# and is logged. We report the swap pauses (the "pause N us" of each reload line:
# p50/p99/max) and the tick check.
# Phase 2: 1,000 reloads in a row on an idle host (the data has ended, the host follows):
# RSS, open fds and mappings after 10, 100, 500 and 1000 reloads.
# Usage: bash bench/bench_reload.sh BUILD_DIR   (RATE, LOAD_S, RELOADS override)
set -u
B=${1:-build}
Q=${QMTL:-$B/bin/qmtl}
CC=${CC:-cc}
RATE=${RATE:-100000}
LOAD_S=${LOAD_S:-12}
RELOADS=${RELOADS:-1000}
T=$(mktemp -d /tmp/qmtl-bench-reload.XXXXXX)
HOST=
trap '[ -n "$HOST" ] && kill -KILL $HOST 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/src" && mkdir -m 700 "$T/p"
export XDG_STATE_HOME=$T/state
CFLAGS="$("$Q" sdk --cflags) -shared -fPIC -fvisibility=hidden -O2"

cat > "$T/src/rb.c" << 'C'
#include <qmtl/qmtl.h>
#define STR2(x) #x
#define STR(x) STR2(x)
static int last(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    static const char *const kinds[] = {"sma", "ema", "stddev", "returns"};
    qmtl_node n = h->stream_input(ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec),
                                       .name = "price", .tags = tags, .interval = "60s"}, err);
    for (int i = 0; i < 48 && n > 0; i++) {
        char name[16] = {'n', (char)('a' + i / 10), (char)('0' + i % 10), 0};
        int w = i == 47 ? 3 + V % 2 : 2 + i % 5; /* the last one differs between versions */
        n = h->indicator(ctx, &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                              .kind = kinds[i % 4], .name = name, .inputs = {n}, .window = w}, err);
    }
    if (n < 0)
        return n;
    n = h->node(ctx, &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "last",
                     .inputs = {n}, .compute = last}, err);
    return n < 0 ? n : QMTL_OK;
}
QMTL_PLUGIN(.name = "rb", .version = STR(V) ".0.0", .setup = setup);
C
cat > "$T/src/rc.c" << 'C'
#include <qmtl/qmtl.h>
struct seen { long long first, last, count; };
static int count(const struct qmtl_view *v, struct qmtl_value *out)
{
    struct seen *s = v->state;
    if (s->count && v->ts != s->last + 60)
        v->host->log(v->ctx, QMTL_LOG_ERROR, "DISCONTINUITY after ts=%lld: ts=%lld", s->last,
                     (long long)v->ts);
    if (!s->count)
        s->first = v->ts;
    s->last = v->ts;
    if (++s->count % 100000 == 0)
        v->host->log(v->ctx, QMTL_LOG_INFO, "COUNT %lld first=%lld ts=%lld", s->count, s->first,
                     s->last);
    *out = qmtl_number(1);
    return QMTL_OK;
}
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    qmtl_node px = h->stream_input(ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec),
                                        .name = "price", .tags = tags, .interval = "60s"}, err);
    if (px < 0)
        return px;
    qmtl_node c = h->node(ctx, &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "count",
                               .inputs = {px}, .compute = count, .state_size = sizeof(struct seen)}, err);
    return c < 0 ? c : QMTL_OK;
}
QMTL_PLUGIN(.name = "rc", .version = "1.0.0", .setup = setup);
C
$CC $CFLAGS -DV=1 -o "$T/src/v1.so" "$T/src/rb.c" && $CC $CFLAGS -DV=2 -o "$T/src/v2.so" "$T/src/rb.c" &&
    $CC $CFLAGS -o "$T/p/rc.so" "$T/src/rc.c" || exit 1
cp "$T/src/v1.so" "$T/p/rb.so"

reloads() { grep -c "reload: strategy 'rb'" "$T/err" 2>/dev/null || true; }
# deploy_wait K: deploy the other version and wait (60 s max) for reload line K
deploy_wait() {
    local k=$1 v=$(( $1 % 2 + 1 ))
    cp "$T/src/v$v.so" "$T/p/.rb.tmp" && mv "$T/p/.rb.tmp" "$T/p/rb.so"
    local end=$(( $(date +%s) + 60 ))
    while [ "$(reloads)" -lt "$k" ]; do
        [ "$(date +%s)" -lt "$end" ] || { echo "reload $k did not happen"; tail -5 "$T/err"; exit 1; }
        sleep 0.01
    done
}
start_host() {
    "$Q" run --offline --follow --pace "$1" --plugins "$T/p" --data "BTC=gbm:count=$2,seed=11" \
        > "$T/out" 2> "$T/err" &
    HOST=$!
    local end=$(( $(date +%s) + 30 ))
    until grep -q "watching" "$T/err" && grep -q "loaded 'rc'" "$T/err"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "host did not start"; cat "$T/err"; exit 1; }
        sleep 0.05
    done
}
stop_host() { kill -TERM $HOST; wait $HOST; HOST=; }
pct() { sort -n | awk -v p="$1" '{a[NR] = $1} END {i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i]}'; }

# ---- phase 1: swaps under a paced feed
start_host "$RATE" $(( RATE * (LOAD_S + 30) ))
t_end=$(( $(date +%s) + LOAD_S ))
k=0
while [ "$(date +%s)" -lt "$t_end" ]; do
    k=$((k + 1))
    deploy_wait $k
done
stop_host
grep -o "reload: strategy 'rb' .* pause [0-9]* us, cpu [0-9]* us" "$T/err" > "$T/lines"
sed 's/.*pause \([0-9]*\) us, cpu.*/\1/' "$T/lines" > "$T/pauses"
sed 's/.*cpu \([0-9]*\) us/\1/' "$T/lines" > "$T/cpu"
events=$(sed -n 's/^run: \([0-9]*\) events.*/\1/p' "$T/out")
secs=$(sed -n 's/^run: [0-9]* events from [0-9]* source(s) in \([0-9.]*\) s.*/\1/p' "$T/out")
disc=$(grep -c DISCONTINUITY "$T/err")
bad_counts=$(grep -o "COUNT [0-9]* first=[0-9]* ts=[0-9]*" "$T/err" |
    awk '{split($3, f, "="); split($4, t, "="); if ((t[2] - f[2]) / 60 + 1 != $2) n++} END {print n + 0}')
rc_bars=$(awk '$1 == "rc" {print $3}' "$T/out")
printf '%-44s %s\n' "feed rate asked (ticks/s)" "$RATE"
printf '%-44s %s in %s s (%s/s)\n' "ticks fed to the host" "$events" "$secs" \
    "$(awk -v e="$events" -v s="$secs" 'BEGIN {printf "%.0f", e / s}')"
printf '%-44s %s\n' "swaps of the 50-node strategy" "$(wc -l < "$T/pauses")"
printf '%-44s %s / %s / %s\n' "swap pause us (p50 / p99 / max)" "$(pct 50 < "$T/pauses")" \
    "$(pct 99 < "$T/pauses")" "$(pct 100 < "$T/pauses")"
printf '%-44s %s / %s / %s\n' "swap CPU time us (p50 / p99 / max)" "$(pct 50 < "$T/cpu")" \
    "$(pct 99 < "$T/cpu")" "$(pct 100 < "$T/cpu")"
printf '%-44s %s\n' "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %s\n' "nodes per swap (last line)" \
    "$(grep -o "rb' [0-9.]* -> [0-9.]*: nodes added [0-9]*, kept [0-9]*, removed [0-9]*" "$T/err" | tail -1 | sed 's/.*nodes //')"
printf '%-44s %s\n' "ticks seen by the sharing strategy (rc)" "$rc_bars (of $events)"
printf '%-44s %s\n' "ticks lost or seen twice (sequence breaks)" "$disc"
printf '%-44s %s\n' "count checkpoints off the bar sequence" "$bad_counts"

# ---- phase 2: 1,000 reloads on an idle host
start_host 0 1000
sleep 1 # the 1,000 bars are replayed at once; the host then follows, idle
probe() {
    local rss fds maps
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$HOST/status)
    fds=$(ls /proc/$HOST/fd | wc -l)
    maps=$(wc -l < /proc/$HOST/maps)
    printf '%-10s %10s %8s %9s\n' "$1" "$rss" "$fds" "$maps"
}
base=$(reloads)
printf '\n%-10s %10s %8s %9s\n' "reloads" "RSS KiB" "fds" "mappings"
probe 0
k=0
for stop in 10 100 500 "$RELOADS"; do
    while [ $k -lt "$stop" ]; do
        k=$((k + 1))
        deploy_wait $((base + k))
    done
    probe "$k"
done
stop_host
