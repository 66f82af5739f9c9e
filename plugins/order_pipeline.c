/*
 * order_pipeline: from a signal to sized orders.
 *
 *   price -> z = zscore(price, window) -> sizer (custom) -> orders
 *
 * Mean reversion: the wanted position is -z / 2, clipped to [-1, 1] and rounded to
 * steps of 'step' (0.25). The sizer remembers the target it last asked for (node state)
 * and emits a signal only when the target changes; the order publisher then sends the
 * difference between the new target and the current position, in units of 'quantity'.
 *
 * Parameters: symbol ("BTC"), interval ("1m"), window (20), step (0.25), quantity (10).
 */
#include <math.h>
#include <qmtl/qmtl.h>
#include <stdio.h>

struct sizer_state {
    int32_t started;
    int32_t reserved;
    double target; /* last target emitted */
};

static double step_size;

static int sizer(const struct qmtl_view *v, struct qmtl_value *out)
{
    struct sizer_state *s = v->state;
    double z = qmtl_window_number(&v->inputs[0], 0);
    if (isnan(z))
        return QMTL_OK;
    double t = -z / 2.0;
    if (t > 1)
        t = 1;
    if (t < -1)
        t = -1;
    t = round(t / step_size) * step_size;
    if (t == 0)
        t = 0; /* no negative zero */
    if (s->started && t == s->target)
        return QMTL_OK;
    s->started = 1;
    s->target = t;
    *out = qmtl_signal_value(t > 0 ? QMTL_BUY : t < 0 ? QMTL_SELL : QMTL_HOLD, t);
    out->as.signal.strength = fabs(z);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double window = h->config_number(ctx, "window", 20);
    step_size = h->config_number(ctx, "step", 0.25);
    double qty = h->config_number(ctx, "quantity", 10);
    if (!(window >= 2 && window <= 10000 && step_size > 0 && step_size <= 1 && qty > 0)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg),
                 "need 2 <= window <= 10000, 0 < step <= 1, quantity > 0");
        return QMTL_EINVAL;
    }
    const char *tags[] = {symbol, NULL};
    qmtl_node px =
        h->stream_input(ctx,
                        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "price",
                                                   .tags = tags, .interval = interval, .period = 1},
                        err);
    if (px < 0)
        return px;
    qmtl_node z = h->indicator(
        ctx,
        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "zscore", .name = "z",
                                      .inputs = {px}, .window = (int32_t)window},
        err);
    if (z < 0)
        return z;
    char sparams[64];
    snprintf(sparams, sizeof(sparams), "{\"step\":%.17g}", step_size);
    qmtl_node sz = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "sizer",
                                                    .inputs = {z}, .period = 1, .compute = sizer,
                                                    .state_size = sizeof(struct sizer_state),
                                                    .params_json = sparams},
                           err);
    if (sz < 0)
        return sz;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = sz,
                                  .price = px, .symbol = symbol, .quantity = qty},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "order_pipeline", .version = "1.0.0",
            .description = "z-score mean reversion sized in steps, orders on target changes",
            .setup = setup);
