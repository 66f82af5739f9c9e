/*
 * lagged_correlation: two symbols joined by an aligned fan-in.
 *
 *   leader price   -> ret_leader   --\
 *                                     > lagcorr (custom, both inputs, once per bar) --\
 *   follower price -> ret_follower --/                                                 > follow ->
 * orders ret_leader ------------------------------------------------------------------------/
 * (follower)
 *
 * lagcorr is the Pearson correlation between the leader's return one bar earlier and
 * the follower's return, over the last 'window' bars. It runs once per bar, when both
 * symbols have delivered that bar (aligned fan-in), never twice. 'follow' trades the
 * follower in the direction of the leader's latest return while the correlation is
 * above 'threshold', and stays flat otherwise.
 *
 * Parameters: leader ("AAA"), follower ("BBB"), interval ("1m"), window (20),
 * threshold (0.3), quantity (1).
 */
#include <math.h>
#include <qmtl/qmtl.h>
#include <stdio.h>

static double threshold;

/* inputs[0]: leader returns, inputs[1]: follower returns, each window + 1 long */
static int lagcorr(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct qmtl_window *a = &v->inputs[0], *b = &v->inputs[1];
    if (!qmtl_window_full(a) || !qmtl_window_full(b))
        return QMTL_OK;
    uint32_t n = a->cap - 1; /* pairs (a[i + 1], b[i]) for i = 0 .. n-1, offsets from newest */
    double sa = 0, sb = 0;
    for (uint32_t i = 0; i < n; i++) {
        sa += qmtl_window_number(a, i + 1);
        sb += qmtl_window_number(b, i);
    }
    double ma = sa / n, mb = sb / n, cov = 0, va = 0, vb = 0;
    for (uint32_t i = 0; i < n; i++) {
        double da = qmtl_window_number(a, i + 1) - ma, db = qmtl_window_number(b, i) - mb;
        cov += da * db;
        va += da * da;
        vb += db * db;
    }
    if (!(va > 0 && vb > 0))
        return QMTL_OK; /* flat series: correlation undefined, no value */
    *out = qmtl_number(cov / sqrt(va * vb));
    return QMTL_OK;
}

/* inputs[0]: lagcorr, inputs[1]: leader returns */
static int follow(const struct qmtl_view *v, struct qmtl_value *out)
{
    double c = qmtl_window_number(&v->inputs[0], 0);
    double r = qmtl_window_number(&v->inputs[1], 0);
    if (isnan(c) || isnan(r))
        return QMTL_OK;
    double t = c > threshold ? (r > 0 ? 1.0 : r < 0 ? -1.0 : 0.0) : 0.0;
    *out = qmtl_signal_value(t > 0 ? QMTL_BUY : t < 0 ? QMTL_SELL : QMTL_HOLD, t);
    out->as.signal.strength = c;
    return QMTL_OK;
}

static qmtl_node stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                        const char *tag, const char *interval, struct qmtl_err *err)
{
    const char *tags[] = {tag, NULL};
    return h->stream_input(ctx,
                           &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = name,
                                                      .tags = tags, .interval = interval,
                                                      .period = 1},
                           err);
}

static qmtl_node returns(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                         qmtl_node in, struct qmtl_err *err)
{
    return h->indicator(ctx,
                        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                      .kind = "returns", .name = name,
                                                      .inputs = {in}, .window = 1},
                        err);
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *leader = h->config_string(ctx, "leader", "AAA");
    const char *follower = h->config_string(ctx, "follower", "BBB");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double window = h->config_number(ctx, "window", 20);
    threshold = h->config_number(ctx, "threshold", 0.3);
    if (!(window >= 3 && window < 10000 && threshold > -1 && threshold < 1)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "need 3 <= window < 10000 and -1 < threshold < 1");
        return QMTL_EINVAL;
    }
    qmtl_node pa = stream(ctx, h, "leader_price", leader, interval, err);
    if (pa < 0)
        return pa;
    qmtl_node pb = stream(ctx, h, "follower_price", follower, interval, err);
    if (pb < 0)
        return pb;
    qmtl_node ra = returns(ctx, h, "ret_leader", pa, err);
    if (ra < 0)
        return ra;
    qmtl_node rb = returns(ctx, h, "ret_follower", pb, err);
    if (rb < 0)
        return rb;
    char cparams[64];
    snprintf(cparams, sizeof(cparams), "{\"lag\":1,\"window\":%d}", (int)window);
    qmtl_node lc =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "lagcorr",
                                         .inputs = {ra, rb}, .period = (int32_t)window + 1,
                                         .compute = lagcorr, .params_json = cparams},
                err);
    if (lc < 0)
        return lc;
    char fparams[64];
    snprintf(fparams, sizeof(fparams), "{\"threshold\":%.17g}", threshold);
    qmtl_node fo = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "follow",
                                                    .inputs = {lc, ra}, .period = 1,
                                                    .compute = follow, .params_json = fparams},
                           err);
    if (fo < 0)
        return fo;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = fo,
                                  .price = pb, .symbol = follower,
                                  .quantity = h->config_number(ctx, "quantity", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "lagged_correlation", .version = "1.0.0",
            .description = "trade the follower when it tracks the leader's previous return",
            .setup = setup);
