/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> fast_ema (5)  \
 *                        -> slow_ema (20)  > score -> position -> signal -> orders
 *                        -> rsi (14)      /
 *
 * Three built-in indicators from one stream, combined by a custom node: the gap
 * between the fast and slow ema, kept only when the rsi agrees with its direction.
 * The score node has three inputs; the host computes it once per minute, when all
 * three have delivered that minute (aligned fan-in).
 */
#include <qmtl/qmtl.h>

#include <math.h>

#include "nodes.h"

static int score_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    double fast = qmtl_window_number(&view->inputs[0], 0);
    double slow = qmtl_window_number(&view->inputs[1], 0);
    double rsi = qmtl_window_number(&view->inputs[2], 0);
    if (!isfinite(fast) || !isfinite(rsi) || !(slow > 0))
        return QMTL_OK;
    double trend = fast / slow - 1.0;
    int agrees = (trend > 0 && rsi > 50) || (trend < 0 && rsi < 50);
    *out = qmtl_number(agrees ? trend : 0.0);
    return QMTL_OK;
}

static qmtl_node builtin(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *kind,
                         const char *name, qmtl_node input, int window, struct qmtl_err *err)
{
    struct qmtl_indicator_spec spec = {
        QMTL_SPEC(qmtl_indicator_spec),
        .kind = kind,
        .name = name,
        .inputs = {input},
        .window = window,
    };
    return h->indicator(ctx, &spec, err);
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct hysteresis_params *signal_params = h->strategy_state(ctx);
    signal_params->size = 1.0;
    signal_params->enter = h->config_number(ctx, "enter", 0.0015);
    signal_params->exit = h->config_number(ctx, "exit", 0.0002);

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    qmtl_node fast = builtin(ctx, h, "ema", "fast_ema", price, 5, err);
    if (fast < 0)
        return fast;
    qmtl_node slow = builtin(ctx, h, "ema", "slow_ema", price, 20, err);
    if (slow < 0)
        return slow;
    qmtl_node rsi = builtin(ctx, h, "rsi", "rsi", price, 14, err);
    if (rsi < 0)
        return rsi;
    struct qmtl_node_spec score_spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "score",
        .inputs = {fast, slow, rsi},
        .period = 1,
        .compute = score_compute,
        .params_json = "{}",
    };
    qmtl_node score = h->node(ctx, &score_spec, err);
    if (score < 0)
        return score;
    qmtl_node position = hysteresis_signal(ctx, h, "position", score, signal_params, err);
    if (position < 0)
        return position;
    /* the built-in signal node passes the decisions on, counts them and reports them
     * to on_signal */
    struct qmtl_signal_spec signal_spec = {
        QMTL_SPEC(qmtl_signal_spec), .name = "signal", .input = position,
    };
    qmtl_node signal = h->signal(ctx, &signal_spec, err);
    if (signal < 0)
        return signal;
    struct qmtl_order_spec orders = {
        QMTL_SPEC(qmtl_order_spec),
        .name = "orders",
        .signal = signal,
        .price = price,
        .symbol = symbol,
        .quantity = h->config_number(ctx, "quantity", 1.0),
    };
    qmtl_node o = h->order_publisher(ctx, &orders, err);
    return o < 0 ? o : QMTL_OK;
}

QMTL_PLUGIN(.name = "@PROJECT@", .version = "0.1.0",
            .description = "price -> fast ema, slow ema, rsi -> score -> orders", .setup = setup,
            .state_size = sizeof(struct hysteresis_params));
