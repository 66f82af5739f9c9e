/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> momentum (15) -> raw_signal (built-in thresholds) \
 *                        -> returns -> volatility (stddev, 30) ----------------> risk_gate
 *                                                                               -> orders
 *
 * The order path in full: a built-in signal node turns momentum into a wanted
 * position; the risk gate (a custom node with state) lets a change of position
 * through only after a cooldown since the previous one, and goes flat while
 * volatility is above a cap; the order publisher turns what passes into orders. The
 * host then applies its own gate (world activation; offline everything goes to the
 * simulated broker), and reports fills back through on_fill.
 */
#include <qmtl/qmtl.h>

#include <math.h>
#include <stdio.h>

#include "nodes.h"

struct gate_params {
    int64_t cooldown_s; /* minimum time between two changes of position */
    double vol_cap;     /* per-bar volatility above which the gate goes flat */
};

struct gate_state {
    double target;      /* last target let through */
    int64_t changed_at; /* bucket time of that change */
    int32_t started;
    int32_t reserved;
};

static int gate_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    const struct gate_params *p = view->user;
    struct gate_state *st = view->state;
    const struct qmtl_value *sig = qmtl_window_latest(&view->inputs[0]);
    double vol = qmtl_window_number(&view->inputs[1], 0);
    if (!sig || sig->type != QMTL_T_SIGNAL || isnan(vol))
        return QMTL_OK;
    double want = vol > p->vol_cap ? 0.0 : sig->as.signal.target;
    if (st->started && want == st->target)
        return QMTL_OK; /* nothing changes */
    if (!st->started && want == 0.0)
        return QMTL_OK; /* already flat */
    if (st->started && view->ts - st->changed_at < p->cooldown_s && want != 0.0)
        return QMTL_OK; /* too soon after the last change (going flat is always allowed) */
    st->started = 1;
    st->target = want;
    st->changed_at = view->ts;
    *out = qmtl_signal_value(want > 0 ? QMTL_BUY : want < 0 ? QMTL_SELL : QMTL_HOLD, want);
    return QMTL_OK;
}

static void on_fill(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_fill *f)
{
    h->log(ctx, QMTL_LOG_DEBUG, "fill %s %s %.6g @ %.2f (fee %.4f)",
           f->side > 0 ? "buy" : "sell", f->symbol, f->quantity, f->price, f->fee);
}

static void on_activation(struct qmtl_ctx *ctx, const struct qmtl_host *h,
                          const struct qmtl_activation *a)
{
    h->log(ctx, QMTL_LOG_INFO, "activation %s: %s%s", a->side > 0 ? "buy" : "sell",
           a->active ? "active" : "inactive", a->frozen ? " (frozen)" : "");
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct gate_params *gate = h->strategy_state(ctx);
    gate->cooldown_s = (int64_t)h->config_number(ctx, "cooldown_s", 15 * 60);
    gate->vol_cap = h->config_number(ctx, "vol_cap", 0.01);

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    qmtl_node mom = momentum(ctx, h, "momentum", price, 15, NULL, err);
    if (mom < 0)
        return mom;
    struct qmtl_signal_spec sig_spec = {
        QMTL_SPEC(qmtl_signal_spec),
        .name = "raw_signal",
        .input = mom,
        .buy_above = h->config_number(ctx, "buy_above", 0.002),
        .sell_below = h->config_number(ctx, "sell_below", -0.002),
        .target_size = 1.0,
    };
    qmtl_node raw = h->signal(ctx, &sig_spec, err);
    if (raw < 0)
        return raw;
    struct qmtl_indicator_spec ret_spec = {
        QMTL_SPEC(qmtl_indicator_spec), .kind = "returns", .name = "returns", .inputs = {price},
        .window = 1,
    };
    qmtl_node ret = h->indicator(ctx, &ret_spec, err);
    if (ret < 0)
        return ret;
    struct qmtl_indicator_spec vol_spec = {
        QMTL_SPEC(qmtl_indicator_spec), .kind = "stddev", .name = "volatility", .inputs = {ret},
        .window = 30,
    };
    qmtl_node vol = h->indicator(ctx, &vol_spec, err);
    if (vol < 0)
        return vol;
    char json[96];
    snprintf(json, sizeof(json), "{\"cooldown_s\":%lld,\"vol_cap\":%.17g}",
             (long long)gate->cooldown_s, gate->vol_cap);
    struct qmtl_node_spec gate_spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "risk_gate",
        .inputs = {raw, vol},
        .period = 1,
        /* raw_signal speaks only when it changes its mind, volatility every minute:
         * re-evaluate on either, reading the latest of both */
        .flags = QMTL_FIRE_ON_ANY,
        .compute = gate_compute,
        .state_size = sizeof(struct gate_state),
        .user = gate,
        .params_json = json,
    };
    qmtl_node gated = h->node(ctx, &gate_spec, err);
    if (gated < 0)
        return gated;
    struct qmtl_order_spec orders = {
        QMTL_SPEC(qmtl_order_spec),
        .name = "orders",
        .signal = gated,
        .price = price,
        .symbol = symbol,
        .quantity = h->config_number(ctx, "quantity", 1.0),
    };
    qmtl_node o = h->order_publisher(ctx, &orders, err);
    return o < 0 ? o : QMTL_OK;
}

QMTL_PLUGIN(.name = "@PROJECT@", .version = "0.1.0",
            .description = "signal -> risk gate -> orders", .setup = setup,
            .on_fill = on_fill, .on_activation = on_activation,
            .state_size = sizeof(struct gate_params));
