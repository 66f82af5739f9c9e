/*
 * nodes.h: this project's own node builders. Each lives in its own file under
 * generators/, indicators/ or transforms/ (the Makefile compiles every .c there
 * into build/strategy.so) and is called from setup() in strategy.c.
 *
 * Builders only declare nodes, so call them from setup(). They return the node
 * handle (> 0) or a negative QMTL_E* code with 'err' filled, like the host's own.
 */
#ifndef PROJECT_NODES_H
#define PROJECT_NODES_H

#include <qmtl/qmtl.h>

/*
 * generators/price_stream.c: where data enters the strategy. A stream of one-minute
 * bars for 'symbol' (the tag a data source in qmtl.yml carries), named 'name'.
 */
qmtl_node price_stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                       const char *symbol, struct qmtl_err *err);

/*
 * indicators/momentum.c: a custom indicator computed in this plugin. Outputs
 * close[now] / close[lookback bars ago] - 1 once 'lookback' + 1 values have arrived.
 * 'tags' (NULL-terminated, may be NULL) let tag queries of any strategy find it.
 */
qmtl_node momentum(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                   qmtl_node input, int lookback, const char *const *tags,
                   struct qmtl_err *err);

/*
 * transforms/hysteresis.c: turns a number into a trading signal with hysteresis.
 * Flat -> long when the input rises above 'enter', long -> flat when it falls below
 * 'exit' (and the mirror image for shorts unless 'long_only'). Emits a signal only
 * when the wanted position changes; its target is +-'size' or 0. The position is kept
 * in the node's state between ticks. 'p' is read at every tick: keep it in the
 * strategy's state (host->strategy_state, sized by the descriptor's state_size), which
 * the host owns and keeps as long as the strategy; never in a static of the plugin.
 */
struct hysteresis_params {
    double enter;  /* > exit */
    double exit;
    double size;   /* target magnitude, in (0, 1] */
    int long_only;
};
qmtl_node hysteresis_signal(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                            qmtl_node input, const struct hysteresis_params *p,
                            struct qmtl_err *err);

#endif
