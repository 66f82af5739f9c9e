/*
 * branching: one price stream feeding two branches that meet again.
 *
 *   price -> momentum (custom: close / close[lag] - 1) ------------------\
 *         -> returns (pct change) -> volatility (stddev of returns) -----> regime -> orders
 *
 * 'regime' is an aligned fan-in: it runs once per bar, after both branches have
 * delivered that bar. It goes long when momentum beats k times the volatility scaled
 * to the lag (vol * sqrt(lag)), short below minus that, and flat in between.
 *
 * Parameters: symbol ("BTC"), interval ("1m"), lag (10), vol_window (10), k (1.0),
 * quantity (1).
 */
#include <math.h>
#include <qmtl/qmtl.h>
#include <stdio.h>

struct regime_params {
    double k, lag;
};

/* close / close 'lag' bars ago - 1; the window holds lag + 1 closes once warm. */
static int momentum(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct qmtl_window *w = &v->inputs[0];
    if (!qmtl_window_full(w))
        return QMTL_OK;
    double now = qmtl_window_number(w, 0);
    double then = qmtl_window_number(w, w->count - 1);
    if (!(then > 0))
        return QMTL_OK; /* no value: nothing downstream */
    *out = qmtl_number(now / then - 1.0);
    return QMTL_OK;
}

static int regime(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct regime_params *p = v->host->strategy_state(v->ctx);
    double mom = qmtl_window_number(&v->inputs[0], 0);
    double vol = qmtl_window_number(&v->inputs[1], 0);
    if (isnan(mom) || isnan(vol))
        return QMTL_OK;
    double band = p->k * vol * sqrt(p->lag);
    if (mom > band)
        *out = qmtl_signal_value(QMTL_BUY, 1.0);
    else if (mom < -band)
        *out = qmtl_signal_value(QMTL_SELL, -1.0);
    else
        *out = qmtl_signal_value(QMTL_HOLD, 0.0);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double lag = h->config_number(ctx, "lag", 10);
    double vol_window = h->config_number(ctx, "vol_window", 10);
    struct regime_params *params = h->strategy_state(ctx); /* host-owned, per strategy */
    params->k = h->config_number(ctx, "k", 1.0);
    params->lag = lag;
    if (!(lag >= 1 && lag < 10000 && vol_window >= 2 && vol_window <= 10000 && params->k >= 0)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "need 1 <= lag < 10000, vol_window >= 2, k >= 0");
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
    char mparams[64];
    snprintf(mparams, sizeof(mparams), "{\"lag\":%d}", (int)lag);
    qmtl_node mom = h->node(ctx,
                            &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "momentum",
                                                     .inputs = {px}, .period = (int32_t)lag + 1,
                                                     .compute = momentum, .params_json = mparams},
                            err);
    if (mom < 0)
        return mom;
    qmtl_node ret = h->indicator(ctx,
                                 &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                               .kind = "returns", .name = "returns",
                                                               .inputs = {px}, .window = 1},
                                 err);
    if (ret < 0)
        return ret;
    qmtl_node vol =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "stddev",
                                                   .name = "volatility", .inputs = {ret},
                                                   .window = (int32_t)vol_window},
                     err);
    if (vol < 0)
        return vol;
    char rparams[96];
    snprintf(rparams, sizeof(rparams), "{\"k\":%.17g,\"lag\":%d}", params->k, (int)lag);
    qmtl_node reg =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "regime",
                                         .inputs = {mom, vol}, .period = 1, .compute = regime,
                                         .params_json = rparams},
                err);
    if (reg < 0)
        return reg;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = reg,
                                  .price = px, .symbol = symbol,
                                  .quantity = h->config_number(ctx, "quantity", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "branching", .version = "1.0.0",
            .description = "momentum vs volatility branches joined by an aligned fan-in",
            .setup = setup, .state_size = sizeof(struct regime_params));
