/*
 * @PROJECT@: @DESCRIPTION@
 *
 *   price BTC -> momentum_btc [tags momentum, BTC] ... query_btc (momentum AND BTC) \
 *   price ETH -> momentum_eth [tags momentum, ETH] ... query_eth (momentum AND ETH)  > consensus
 *                                               -> position -> signal -> orders (BTC)
 *
 * A tag query binds a node to the nodes in the host whose tags match, whichever
 * strategy declared them. This strategy publishes its momentum nodes with tags, then
 * reads them back through queries, so another strategy loaded in the same host (its
 * .so in the same plugins dir) can publish or consume the same tags: for example a
 * strategy of its own that only declares the tagged momentum nodes, and this one that
 * only consumes them. The consensus of BTC and ETH momentum decides the BTC position.
 *
 * A query passes on one value per minute: when several nodes match it (say another
 * strategy publishes a momentum of another lookback with the same tags), the consumer
 * sees only one of them. Publish tags precise enough to match one node per query.
 */
#include <qmtl/qmtl.h>

#include <math.h>

#include "nodes.h"

/* The mean of the two markets' momentum, once both have delivered the minute. */
static int consensus_compute(const struct qmtl_view *view, struct qmtl_value *out)
{
    double btc = qmtl_window_number(&view->inputs[0], 0);
    double eth = qmtl_window_number(&view->inputs[1], 0);
    if (!isfinite(btc) || !isfinite(eth))
        return QMTL_OK;
    *out = qmtl_number((btc + eth) / 2.0);
    return QMTL_OK;
}

/* Publish the momentum of 'symbol' tagged {"momentum", symbol}. */
static qmtl_node publish(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                         const char *stream_name, const char *symbol, int lookback,
                         struct qmtl_err *err)
{
    const char *tags[] = {"momentum", symbol, NULL};
    qmtl_node price = price_stream(ctx, h, stream_name, symbol, err);
    if (price < 0)
        return price;
    qmtl_node m = momentum(ctx, h, name, price, lookback, tags, err);
    return m < 0 ? m : price;
}

/* Every node tagged both "momentum" and 'symbol', from any strategy. */
static qmtl_node query(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *name,
                       const char *symbol, struct qmtl_err *err)
{
    const char *tags[] = {"momentum", symbol, NULL};
    struct qmtl_tag_query_spec q = {
        QMTL_SPEC(qmtl_tag_query_spec),
        .name = name,
        .query_tags = tags,
        .match_mode = QMTL_MATCH_ALL,
        .interval = "1m",
        .period = 1,
    };
    return h->tag_query(ctx, &q, err);
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    int lookback = (int)h->config_number(ctx, "lookback", 20);
    /* parameters live in the strategy's state: host-owned, one per loaded strategy */
    struct hysteresis_params *signal_params = h->strategy_state(ctx);
    signal_params->size = 1.0;
    signal_params->enter = h->config_number(ctx, "enter", 0.004);
    signal_params->exit = h->config_number(ctx, "exit", 0.0);

    /* the producing side */
    qmtl_node btc = publish(ctx, h, "momentum_btc", "price_btc", "BTC", lookback, err);
    if (btc < 0)
        return btc;
    qmtl_node eth = publish(ctx, h, "momentum_eth", "price_eth", "ETH", lookback, err);
    if (eth < 0)
        return eth;
    /* the consuming side: by tag only */
    qmtl_node qb = query(ctx, h, "query_btc", "BTC", err);
    if (qb < 0)
        return qb;
    qmtl_node qe = query(ctx, h, "query_eth", "ETH", err);
    if (qe < 0)
        return qe;
    struct qmtl_node_spec consensus = {
        QMTL_SPEC(qmtl_node_spec),
        .name = "consensus",
        .inputs = {qb, qe},
        .period = 1,
        .compute = consensus_compute,
        .params_json = "{}",
    };
    qmtl_node cons = h->node(ctx, &consensus, err);
    if (cons < 0)
        return cons;
    qmtl_node position = hysteresis_signal(ctx, h, "position", cons, signal_params, err);
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
        .price = btc,
        .symbol = "BTC",
        .quantity = h->config_number(ctx, "quantity", 1.0),
    };
    qmtl_node o = h->order_publisher(ctx, &orders, err);
    return o < 0 ? o : QMTL_OK;
}

QMTL_PLUGIN(.name = "@PROJECT@", .version = "0.1.0",
            .description = "momentum of BTC and ETH, read back by tag -> consensus -> orders",
            .setup = setup,
            .state_size = sizeof(struct hysteresis_params));
