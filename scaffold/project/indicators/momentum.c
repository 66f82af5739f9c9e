/* momentum: close now over close 'lookback' bars ago, minus one (a custom indicator). */
#include "nodes.h"

#include <math.h>
#include <stdio.h>

static int momentum_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    const struct qmtl_window *w = &view->inputs[0];
    if (!qmtl_window_full(w))
        return QMTL_OK; /* still warming up: no value yet */
    double now = qmtl_window_number(w, 0);
    double then = qmtl_window_number(w, w->cap - 1);
    if (!isfinite(now) || !(then > 0))
        return QMTL_OK; /* nothing sensible to say: produce no value */
    *out = qmtl_number(now / then - 1.0);
    return QMTL_OK;
}

qmtl_node momentum(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                   qmtl_node input, int lookback, const char *const *tags, struct qmtl_err *err)
{
    if (lookback < 1 || lookback > 9999) {
        err->code = QMTL_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "momentum '%s': lookback must be 1..9999", name);
        return QMTL_EINVAL;
    }
    char params[64];
    snprintf(params, sizeof(params), "{\"lookback\":%d}", lookback);
    struct qmtl_node_spec spec = {
        QMTL_SPEC(qmtl_node_spec),
        .name = name,
        .inputs = {input},
        .period = lookback + 1, /* the window holds lookback + 1 values */
        .compute = momentum_compute,
        .params_json = params, /* part of the node's identity */
        .tags = tags,
    };
    return h->node(ctx, &spec, err);
}
