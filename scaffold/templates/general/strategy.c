/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> momentum (20 bars) -> position (hysteresis) -> signal -> orders
 *
 * setup() declares the nodes once; the host then runs them on every bar. Parameters
 * come from qmtl.yml (host.strategies.@PROJECT@.<key>) with the defaults below.
 */
#include <qmtl/qmtl.h>

#include "nodes.h"

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    int lookback = (int)h->config_number(ctx, "lookback", 20);
    /* long above +0.4 % momentum, short below -0.4 %, flat again when it crosses 'exit' */
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct hysteresis_params *signal_params = h->strategy_state(ctx);
    signal_params->size = 1.0;
    signal_params->enter = h->config_number(ctx, "enter", 0.004);
    signal_params->exit = h->config_number(ctx, "exit", 0.0);
    double quantity = h->config_number(ctx, "quantity", 1.0); /* units at full target */

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    qmtl_node mom = momentum(ctx, h, "momentum", price, lookback, NULL, err);
    if (mom < 0)
        return mom;
    qmtl_node position = hysteresis_signal(ctx, h, "position", mom, signal_params, err);
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
        .quantity = quantity,
    };
    qmtl_node o = h->order_publisher(ctx, &orders, err);
    return o < 0 ? o : QMTL_OK;
}

QMTL_PLUGIN(.name = "@PROJECT@", .version = "0.1.0",
            .description = "price -> momentum -> signal -> orders", .setup = setup,
            .state_size = sizeof(struct hysteresis_params));
