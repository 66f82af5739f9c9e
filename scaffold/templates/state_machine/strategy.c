/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price (BTC, 1m bars) -> fast (ema 10) \
 *                        -> slow (ema 30)  > trend_state -> signal -> orders
 *
 * trend_state is a small state machine: UP when the fast ema is above the slow one by
 * more than a band, DOWN when below by more than the band, and otherwise it stays
 * where it was. The state lives in the node's host-owned state between ticks; the
 * node emits a signal only when the state changes (long in UP, short in DOWN).
 */
#include <qmtl/qmtl.h>

#include <math.h>
#include <stdio.h>

#include "nodes.h"

enum trend { TREND_NONE = 0, TREND_UP = 1, TREND_DOWN = -1 };

struct trend_state {
    int32_t trend;   /* enum trend */
    int32_t reserved;
    int64_t changes; /* how many times the trend flipped */
    int64_t since;   /* bucket time of the last change */
};

struct trend_params {
    double band; /* relative gap between the emas needed to switch */
};

static int trend_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    const struct trend_params *p = view->user;
    struct trend_state *st = view->state;
    double fast = qmtl_window_number(&view->inputs[0], 0);
    double slow = qmtl_window_number(&view->inputs[1], 0);
    if (!isfinite(fast) || !(slow > 0))
        return QMTL_OK;
    int32_t next = st->trend;
    if (fast > slow * (1.0 + p->band))
        next = TREND_UP;
    else if (fast < slow * (1.0 - p->band))
        next = TREND_DOWN;
    if (next == st->trend)
        return QMTL_OK; /* no transition: no output */
    st->trend = next;
    st->changes++;
    st->since = view->ts;
    *out = qmtl_signal_value(next == TREND_UP ? QMTL_BUY : QMTL_SELL, (double)next);
    out->as.signal.strength = fabs(fast / slow - 1.0);
    return QMTL_OK;
}

static qmtl_node ema(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                     qmtl_node input, int window, struct qmtl_err *err)
{
    struct qmtl_indicator_spec spec = {
        QMTL_SPEC(qmtl_indicator_spec), .kind = "ema", .name = name, .inputs = {input},
        .window = window,
    };
    return h->indicator(ctx, &spec, err);
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct trend_params *params = h->strategy_state(ctx);
    params->band = h->config_number(ctx, "band", 0.0005);

    qmtl_node price = price_stream(ctx, h, "price", symbol, err);
    if (price < 0)
        return price;
    qmtl_node fast = ema(ctx, h, "fast", price, 10, err);
    if (fast < 0)
        return fast;
    qmtl_node slow = ema(ctx, h, "slow", price, 30, err);
    if (slow < 0)
        return slow;
    char json[64];
    snprintf(json, sizeof(json), "{\"band\":%.17g}", params->band);
    struct qmtl_node_spec spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "trend_state",
        .inputs = {fast, slow},
        .period = 1,
        .compute = trend_compute,
        .state_size = sizeof(struct trend_state),
        .user = params,
        .params_json = json,
    };
    qmtl_node state = h->node(ctx, &spec, err);
    if (state < 0)
        return state;
    /* the built-in signal node passes the transitions on, counts them and reports them
     * to on_signal */
    struct qmtl_signal_spec signal_spec = {
        QMTL_SPEC(qmtl_signal_spec), .name = "signal", .input = state,
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
            .description = "price -> fast/slow ema -> trend state machine -> orders",
            .setup = setup, .state_size = sizeof(struct trend_params));
