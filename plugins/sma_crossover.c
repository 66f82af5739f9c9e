/*
 * sma_crossover: the classic. Long when the fast simple moving average crosses above
 * the slow one, flat when it crosses below.
 *
 *   price (stream) -> fast = sma(price, fast) --\
 *                  -> slow = sma(price, slow) ---> cross -> signal -> orders
 *
 * Parameters (host.strategies.sma_crossover.*): symbol (tag, "BTC"), interval ("1m"),
 * fast (5), slow (20), quantity (units per full position; 0 sizes by equity, default 1).
 * Everything but the wiring is built in, so equal nodes are shared with other strategies.
 */
#include <qmtl/qmtl.h>
#include <stdio.h>

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double fast = h->config_number(ctx, "fast", 5);
    double slow = h->config_number(ctx, "slow", 20);
    if (!(fast >= 1 && slow > fast && slow <= 10000)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "need 1 <= fast < slow <= 10000 (fast %g, slow %g)",
                 fast, slow);
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
    qmtl_node f = h->indicator(
        ctx,
        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma", .name = "fast",
                                      .inputs = {px}, .window = (int32_t)fast},
        err);
    if (f < 0)
        return f;
    qmtl_node s = h->indicator(
        ctx,
        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma", .name = "slow",
                                      .inputs = {px}, .window = (int32_t)slow},
        err);
    if (s < 0)
        return s;
    qmtl_node x = h->indicator(ctx,
                               &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                             .kind = "crossover", .name = "cross",
                                                             .inputs = {f, s}},
                               err);
    if (x < 0)
        return x;
    /* +1 (crossed above) -> long 1.0; -1 (crossed below) -> flat */
    qmtl_node sig =
        h->signal(ctx,
                  &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .name = "signal",
                                             .input = x, .buy_above = 0, .sell_below = 0,
                                             .target_size = 1, .long_only = 1},
                  err);
    if (sig < 0)
        return sig;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = sig,
                                  .price = px, .symbol = symbol,
                                  .quantity = h->config_number(ctx, "quantity", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "sma_crossover", .version = "1.0.0",
            .description = "long when sma(fast) crosses above sma(slow), flat below",
            .setup = setup);
