/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price BTC -> momentum_btc [tag momentum] \
 *   price ETH -> momentum_eth [tag momentum]  > momentum_feed (tag query "momentum")
 *   nodes of other strategies tagged momentum /     -> consensus -> signal -> orders (BTC)
 *
 * A tag query binds a node to every node in the host whose tags match, whichever
 * strategy declared it: here the two momentum nodes this strategy publishes plus any
 * other strategy's nodes tagged "momentum" loaded in the same host. The consensus
 * node averages what the query delivers, and the strategy trades BTC on it.
 */
#include <qmtl/qmtl.h>

#include <math.h>

#include "nodes.h"

static struct hysteresis_params signal_params = {.enter = 0.002, .exit = 0.0, .size = 1.0};

/* The mean of the newest value of every input window (one per matched node). */
static int consensus_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    double sum = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < view->n_inputs; i++) {
        const struct qmtl_window *w = &view->inputs[i];
        for (uint32_t k = 0; k < qmtl_window_len(w); k++) {
            double x = qmtl_window_number(w, k);
            if (isfinite(x)) {
                sum += x;
                n++;
            }
        }
    }
    if (n == 0)
        return QMTL_OK;
    *out = qmtl_number(sum / n);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const momentum_tags[] = {"momentum", NULL};
    int lookback = (int)h->config_number(ctx, "lookback", 20);

    qmtl_node btc = price_stream(ctx, h, "price_btc", "BTC", err);
    if (btc < 0)
        return btc;
    qmtl_node eth = price_stream(ctx, h, "price_eth", "ETH", err);
    if (eth < 0)
        return eth;
    qmtl_node m1 = momentum(ctx, h, "momentum_btc", btc, lookback, momentum_tags, err);
    if (m1 < 0)
        return m1;
    qmtl_node m2 = momentum(ctx, h, "momentum_eth", eth, lookback, momentum_tags, err);
    if (m2 < 0)
        return m2;
    struct qmtl_tag_query_spec q = {
        QMTL_SPEC(qmtl_tag_query_spec),
        .name = "momentum_feed",
        .query_tags = momentum_tags,
        .match_mode = QMTL_MATCH_ANY,
        .interval = "1m",
        .period = 1,
    };
    qmtl_node feed = h->tag_query(ctx, &q, err);
    if (feed < 0)
        return feed;
    struct qmtl_node_spec consensus = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "consensus",
        .inputs = {feed},
        .period = 1,
        .flags = QMTL_FIRE_ON_ANY,
        .compute = consensus_compute,
        .params_json = "{}",
    };
    qmtl_node cons = h->node(ctx, &consensus, err);
    if (cons < 0)
        return cons;
    qmtl_node signal = hysteresis_signal(ctx, h, "signal", cons, &signal_params, err);
    if (signal < 0)
        return signal;
    struct qmtl_order_spec orders = {
        QMTL_SPEC(qmtl_order_spec),
        .name = "orders",
        .signal = signal,
        .price = btc,
        .symbol = "BTC",
        .quantity = h->config_number(ctx, "quantity", 1.0),
    };
    qmtl_node o = h->order_publisher(ctx, &orders, err);
    return o < 0 ? o : QMTL_OK;
}

QMTL_PLUGIN(.name = "@PROJECT@", .version = "0.1.0",
            .description = "momentum of BTC and ETH (and any strategy's) by tag -> orders",
            .setup = setup);
