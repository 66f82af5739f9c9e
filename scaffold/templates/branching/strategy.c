/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> momentum (lookback, 10 bars) -------------\
 *                        -> returns -> volatility (stddev, lookback) --> risk_adjusted
 *                                                       -> position -> signal -> orders
 *
 * Two branches computed from the same input, joined again by a custom node: the
 * momentum divided by the volatility expected over the same span, a t-statistic of
 * the move. Trades only moves that are large for the current volatility.
 */
#include <qmtl/qmtl.h>

#include <math.h>
#include <stdio.h>

#include "nodes.h"

/* The join's parameters: read by the compute (through .user) and written into its
 * identity (params_json) from the same struct, so the two cannot disagree. */
struct risk_params {
    int lookback; /* bars of the momentum and of the volatility window */
};

/* Everything setup() reads from the configuration, kept in the strategy's state
 * (host-owned, one per loaded strategy; the descriptor's state_size). */
struct strategy_params {
    struct hysteresis_params signal;
    struct risk_params risk;
};

static int risk_adjusted_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    const struct risk_params *p = view->user;
    double mom = qmtl_window_number(&view->inputs[0], 0);
    double vol = qmtl_window_number(&view->inputs[1], 0);
    if (!isfinite(mom) || !(vol > 0))
        return QMTL_OK; /* no volatility yet (or none at all): no opinion */
    *out = qmtl_number(mom / (vol * sqrt((double)p->lookback)));
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    struct strategy_params *sp = h->strategy_state(ctx);
    struct hysteresis_params *signal_params = &sp->signal;
    struct risk_params *risk = &sp->risk;
    signal_params->size = 1.0;
    signal_params->enter = h->config_number(ctx, "enter", 2.5);
    signal_params->exit = h->config_number(ctx, "exit", 0.25);
    risk->lookback = (int)h->config_number(ctx, "lookback", 10);

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    /* branch 1: momentum over 'lookback' bars (this project's indicator) */
    qmtl_node mom = momentum(ctx, h, "momentum", price, risk->lookback, NULL, err);
    if (mom < 0)
        return mom;
    /* branch 2: volatility of one-bar returns (built-in nodes) */
    struct qmtl_indicator_spec ret_spec = {
        QMTL_SPEC(qmtl_indicator_spec), .kind = "returns", .name = "returns", .inputs = {price},
        .window = 1,
    };
    qmtl_node ret = h->indicator(ctx, &ret_spec, err);
    if (ret < 0)
        return ret;
    struct qmtl_indicator_spec vol_spec = {
        QMTL_SPEC(qmtl_indicator_spec), .kind = "stddev", .name = "volatility", .inputs = {ret},
        .window = risk->lookback,
    };
    qmtl_node vol = h->indicator(ctx, &vol_spec, err);
    if (vol < 0)
        return vol;
    /* join */
    char params[48];
    snprintf(params, sizeof(params), "{\"lookback\":%d}", risk->lookback);
    struct qmtl_node_spec join_spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "risk_adjusted",
        .inputs = {mom, vol},
        .period = 1,
        .compute = risk_adjusted_compute,
        .user = risk,
        .params_json = params,
    };
    qmtl_node adj = h->node(ctx, &join_spec, err);
    if (adj < 0)
        return adj;
    qmtl_node position = hysteresis_signal(ctx, h, "position", adj, signal_params, err);
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
            .description = "price -> momentum, volatility -> risk-adjusted signal -> orders",
            .setup = setup, .state_size = sizeof(struct strategy_params));
