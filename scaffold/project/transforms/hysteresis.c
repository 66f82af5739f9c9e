/* hysteresis: number -> signal, with separate enter and exit levels. */
#include "nodes.h"

#include <math.h>
#include <stdio.h>

struct hysteresis_state {
    int32_t position; /* -1, 0, +1: kept by the host between ticks */
};

static int hysteresis_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    const struct hysteresis_params *p = view->user;
    struct hysteresis_state *st = view->state;
    double x = qmtl_window_number(&view->inputs[0], 0);
    if (isnan(x))
        return QMTL_OK;
    int32_t pos = st->position;
    if (pos == 0) {
        if (x > p->enter)
            pos = 1;
        else if (x < -p->enter && !p->long_only)
            pos = -1;
    } else if (pos > 0 && x < p->exit) {
        pos = (x < -p->enter && !p->long_only) ? -1 : 0;
    } else if (pos < 0 && x > -p->exit) {
        pos = x > p->enter ? 1 : 0;
    }
    if (pos == st->position)
        return QMTL_OK; /* no change: no signal, nothing downstream runs */
    st->position = pos;
    *out = qmtl_signal_value(pos > 0 ? QMTL_BUY : pos < 0 ? QMTL_SELL : QMTL_HOLD, pos * p->size);
    out->as.signal.strength = fabs(x);
    return QMTL_OK;
}

qmtl_node hysteresis_signal(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                            qmtl_node input, const struct hysteresis_params *p,
                            struct qmtl_err *err)
{
    if (!(p->enter > p->exit) || !(p->size > 0 && p->size <= 1)) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg),
                 "hysteresis '%s': need enter > exit and 0 < size <= 1", name);
        return QMTL_EINVAL;
    }
    char params[160];
    snprintf(params, sizeof(params), "{\"enter\":%.17g,\"exit\":%.17g,\"size\":%.17g,\"long_only\":%d}",
             p->enter, p->exit, p->size, p->long_only ? 1 : 0);
    struct qmtl_node_spec spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = name,
        .inputs = {input},
        .period = 1,
        .compute = hysteresis_compute,
        .state_size = sizeof(struct hysteresis_state),
        .user = p,
        .params_json = params,
    };
    return h->node(ctx, &spec, err);
}
