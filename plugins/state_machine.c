/*
 * state_machine: a trend state kept between ticks in the node's own state.
 *
 *   price -> trend (custom, state: FLAT / UP / DOWN) -> orders
 *
 * The node sees the last two closes. It counts consecutive moves in one direction
 * ('run'); 'confirm' moves up switch to UP, 'confirm' moves down switch to DOWN. While
 * UP it tracks the highest close since entry and drops to FLAT when the close falls
 * 'stop' (a fraction) below it; DOWN mirrors that with the lowest close. An unchanged
 * close resets the run. The node outputs a signal only when the state changes (UP ->
 * target 1, DOWN -> -1, FLAT -> 0); on other ticks it outputs nothing, so nothing
 * downstream runs.
 *
 * Parameters: symbol ("BTC"), interval ("1m"), confirm (3), stop (0.02), quantity (1).
 */
#include <qmtl/qmtl.h>
#include <stdio.h>

enum trend { FLAT = 0, UP = 1, DOWN = -1 };

struct trend_state { /* host-owned, zeroed at creation: FLAT, no run */
    int32_t state;
    int32_t run;    /* > 0: consecutive up moves, < 0: down moves */
    double extreme; /* highest close while UP, lowest while DOWN */
};

struct trend_params {
    int confirm;
    double stop;
};

static int trend(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct trend_params *p = v->host->strategy_state(v->ctx);
    struct trend_state *s = v->state;
    const struct qmtl_window *w = &v->inputs[0];
    if (qmtl_window_len(w) < 2)
        return QMTL_OK;
    double close = qmtl_window_number(w, 0), prev = qmtl_window_number(w, 1);
    if (close > prev)
        s->run = s->run > 0 ? s->run + 1 : 1;
    else if (close < prev)
        s->run = s->run < 0 ? s->run - 1 : -1;
    else
        s->run = 0;

    int32_t next = s->state;
    if (s->state == UP) {
        if (close > s->extreme)
            s->extreme = close;
        if (close < s->extreme * (1.0 - p->stop))
            next = FLAT;
    } else if (s->state == DOWN) {
        if (close < s->extreme)
            s->extreme = close;
        if (close > s->extreme * (1.0 + p->stop))
            next = FLAT;
    }
    if (s->run >= p->confirm)
        next = UP;
    else if (s->run <= -p->confirm)
        next = DOWN;
    if (next == s->state)
        return QMTL_OK; /* no change: no output */
    s->state = next;
    s->extreme = close;
    *out = qmtl_signal_value(next == UP     ? QMTL_BUY
                             : next == DOWN ? QMTL_SELL
                                            : QMTL_HOLD,
                             (double)next);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *symbol = h->config_string(ctx, "symbol", "BTC");
    const char *interval = h->config_string(ctx, "interval", "1m");
    double confirm = h->config_number(ctx, "confirm", 3);
    struct trend_params *params = h->strategy_state(ctx); /* host-owned, per strategy */
    params->stop = h->config_number(ctx, "stop", 0.02);
    if (!(confirm >= 1 && confirm <= 1000 && params->stop > 0 && params->stop < 1)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "need 1 <= confirm <= 1000 and 0 < stop < 1");
        return QMTL_EINVAL;
    }
    params->confirm = (int)confirm;
    const char *tags[] = {symbol, NULL};
    qmtl_node px =
        h->stream_input(ctx,
                        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "price",
                                                   .tags = tags, .interval = interval, .period = 1},
                        err);
    if (px < 0)
        return px;
    char tparams[96];
    snprintf(tparams, sizeof(tparams), "{\"confirm\":%d,\"stop\":%.17g}", params->confirm,
             params->stop);
    qmtl_node tr = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "trend",
                                                    .inputs = {px}, .period = 2, .compute = trend,
                                                    .state_size = sizeof(struct trend_state),
                                                    .params_json = tparams},
                           err);
    if (tr < 0)
        return tr;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = tr,
                                  .price = px, .symbol = symbol,
                                  .quantity = h->config_number(ctx, "quantity", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

QMTL_PLUGIN(.name = "state_machine", .version = "1.0.0",
            .description = "trend state (flat/up/down) kept in node state between ticks",
            .setup = setup, .state_size = sizeof(struct trend_params));
