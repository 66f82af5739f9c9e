/*
 * multi_indicator: trend from two exponential moving averages, filtered by RSI.
 *
 *   price -> ema_fast --\
 *         -> ema_slow ---> score (custom, aligned fan-in of three inputs) -> orders
 *         -> rsi -------/
 *
 * score: long (+1) when ema_fast > ema_slow and rsi < overbought, short (-1) when
 * ema_fast < ema_slow and rsi > oversold, flat (0) otherwise.
 *
 * Parameters: symbol ("BTC"), interval ("1m"), fast (12), slow (26), rsi (14),
 * overbought (70), oversold (30), quantity (1).
 */
#include <qmtl/qmtl.h>
#include <stdio.h>

struct score_params {
    double overbought, oversold;
};

static int score(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct score_params *p = v->host->strategy_state(v->ctx);
    double fast = qmtl_window_number(&v->inputs[0], 0);
    double slow = qmtl_window_number(&v->inputs[1], 0);
    double rsi = qmtl_window_number(&v->inputs[2], 0);
    if (fast != fast || slow != slow || rsi != rsi) /* NaN: an input has no value yet */
        return QMTL_OK;
    if (fast > slow && rsi < p->overbought)
        *out = qmtl_signal_value(QMTL_BUY, 1.0);
    else if (fast < slow && rsi > p->oversold)
        *out = qmtl_signal_value(QMTL_SELL, -1.0);
    else
        *out = qmtl_signal_value(QMTL_HOLD, 0.0);
    return QMTL_OK;
}

static qmtl_node ind(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *kind,
                     const char *name, qmtl_node in, double window, struct qmtl_err *err)
{
    return h->indicator(ctx,
                        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = kind,
                                                      .name = name, .inputs = {in},
                                                      .window = (int32_t)window},
                        err);
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double fast = h->config_number(ctx, "fast", 12);
    double slow = h->config_number(ctx, "slow", 26);
    double rsi_n = h->config_number(ctx, "rsi", 14);
    struct score_params *params = h->strategy_state(ctx); /* host-owned, per strategy */
    params->overbought = h->config_number(ctx, "overbought", 70);
    params->oversold = h->config_number(ctx, "oversold", 30);
    if (!(fast >= 1 && slow > fast && slow <= 10000 && rsi_n >= 1 && rsi_n <= 10000 &&
          params->oversold < params->overbought)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg),
                 "need 1 <= fast < slow <= 10000, rsi >= 1, oversold < overbought");
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
    qmtl_node ef = ind(ctx, h, "ema", "ema_fast", px, fast, err);
    if (ef < 0)
        return ef;
    qmtl_node es = ind(ctx, h, "ema", "ema_slow", px, slow, err);
    if (es < 0)
        return es;
    qmtl_node r = ind(ctx, h, "rsi", "rsi", px, rsi_n, err);
    if (r < 0)
        return r;
    char sparams[96];
    snprintf(sparams, sizeof(sparams), "{\"overbought\":%.17g,\"oversold\":%.17g}",
             params->overbought, params->oversold);
    qmtl_node sc =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "score",
                                         .inputs = {ef, es, r}, .period = 1, .compute = score,
                                         .params_json = sparams},
                err);
    if (sc < 0)
        return sc;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = sc,
                                  .price = px, .symbol = symbol,
                                  .quantity = h->config_number(ctx, "quantity", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "multi_indicator", .version = "1.0.0",
            .description = "fast/slow ema trend filtered by rsi", .setup = setup,
            .state_size = sizeof(struct score_params));
