/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> ema (10) -> ema_slope (momentum of the ema, 5 bars)
 *                        -> position (hysteresis) -> signal -> orders
 *
 * The ema is a built-in indicator computed by the host (shared with every other
 * strategy that declares the same one); its slope is this project's momentum node.
 */
#include <qmtl/qmtl.h>

#include "nodes.h"

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    int window = (int)h->config_number(ctx, "ema_window", 10);
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct hysteresis_params *signal_params = h->strategy_state(ctx);
    signal_params->size = 1.0;
    signal_params->enter = h->config_number(ctx, "enter", 0.0015);
    signal_params->exit = h->config_number(ctx, "exit", 0.0);

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    struct qmtl_indicator_spec ema_spec = {
        QMTL_SPEC(qmtl_indicator_spec),
        .kind = "ema",
        .name = "ema",
        .inputs = {price},
        .window = window,
    };
    qmtl_node ema = h->indicator(ctx, &ema_spec, err);
    if (ema < 0)
        return ema;
    qmtl_node slope = momentum(ctx, h, "ema_slope", ema, 5, NULL, err);
    if (slope < 0)
        return slope;
    qmtl_node position = hysteresis_signal(ctx, h, "position", slope, signal_params, err);
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
            .description = "price -> ema -> ema slope -> orders", .setup = setup,
            .state_size = sizeof(struct hysteresis_params));
