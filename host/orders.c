/* orders: sizing, gate, sinks and the order log (see orders.h). */
#include "host/orders.h"

#include <math.h>
#include <stdio.h>

#include "host/host_api.h"
#include "numfmt.h"

static void notify_signal(struct host_strategy *st, int64_t ts, const struct qmtl_signal *sg)
{
    st->signals++;
    if (st->desc->on_signal)
        st->desc->on_signal(&st->ctx, host_api_table(), sg, ts);
}

/* A signal node emitted: owners without an order publisher on it hear it here. One pass
 * over the node's children stamps the strategies whose publisher reads it (they report
 * the signal themselves), one pass over its owners notifies the others, each once (a
 * strategy that declared the node twice is stamped after its first notification). */
void orders_hook_signal(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_signal *sg)
{
    struct host *h = arg;
    uint64_t stamp = ++h->signal_stamp;
    for (uint32_t e = 0; e < n->n_out; e++) {
        const struct graph_node *c = graph_node(h->g, n->out[e].node);
        if (c->kind == GRAPH_ORDER && n->out[e].slot == 0 && c->order_strategy < h->n_st)
            h->st[c->order_strategy]->signal_stamp = stamp;
    }
    for (uint32_t i = 0; i < n->n_owners; i++) {
        struct host_strategy *st = h->st[n->owners[i]];
        if (st->signal_stamp == stamp || st->stopped)
            continue;
        st->signal_stamp = stamp;
        notify_signal(st, ts, sg);
    }
}

/* Shortest round-trip text of a finite number for the order log ("nan" otherwise). */
static const char *fmt_num(double v, char buf[NUMFMT_DOUBLE_MAX])
{
    if (numfmt_double(v, buf, NUMFMT_DOUBLE_MAX) < 0)
        snprintf(buf, NUMFMT_DOUBLE_MAX, "%g", v);
    return buf;
}

static double read_price(const struct qmtl_window *w)
{
    const struct qmtl_value *v = qmtl_window_latest(w);
    if (!v)
        return NAN;
    return v->type == QMTL_T_BAR ? v->as.bar.close : qmtl_value_number(v);
}

void orders_hook_order(void *arg, struct graph_node *n, int64_t ts, int price_in, int signal_in,
                       struct qmtl_value *out)
{
    struct host *h = arg;
    struct host_strategy *st = h->st[n->order_strategy];
    if (st->stopped)
        return;
    double price = read_price(graph_input(n, 1));
    if (price_in && price > 0 && isfinite(price))
        broker_mark(st->broker, n->order_symbol, ts, price);
    if (!signal_in || !(price > 0) || !isfinite(price))
        return;
    const struct qmtl_value *sv = qmtl_window_latest(graph_input(n, 0));
    double target = sv->type == QMTL_T_SIGNAL ? sv->as.signal.target : qmtl_value_number(sv);
    if (isnan(target))
        return;
    /* every signal reaching a publisher is the strategy's signal (from a signal node or a
     * custom node alike) */
    struct qmtl_signal sg = {.action = target > 0   ? QMTL_BUY
                                       : target < 0 ? QMTL_SELL
                                                    : QMTL_HOLD,
                             .target = target};
    if (sv->type == QMTL_T_SIGNAL)
        sg = sv->as.signal;
    notify_signal(st, ts, &sg);
    if (st->stopped)
        return; /* on_signal may not stop it, but be safe */
    if (target > 1)
        target = 1;
    if (target < -1)
        target = -1;
    double pos = broker_position(st->broker, n->order_symbol);
    double want = n->order_quantity > 0 ? target * n->order_quantity
                                        : target * broker_equity(st->broker) / price;
    double delta = want - pos;
    if (!(fabs(delta) > 1e-9))
        return;
    struct qmtl_order o = {
        .side = delta > 0 ? QMTL_SIDE_BUY : QMTL_SIDE_SELL,
        .quantity = fabs(delta),
        .price = price,
    };
    if (h->opt.domain != HOST_BACKTEST) {
        const char *why = NULL;
        if (!gate_allows(&st->gate, h->opt.domain, o.side, &why)) {
            st->blocked++;
            if (h->order_log) {
                char q[NUMFMT_DOUBLE_MAX];
                fprintf(h->order_log, "%lld blocked %s %s %s qty=%s (%s)\n", (long long)ts,
                        st->name, n->order_symbol, o.side > 0 ? "buy" : "sell",
                        fmt_num(o.quantity, q), why);
            }
            return;
        }
        if (h->opt.domain == HOST_LIVE) {
            if (!h->live_sink ||
                h->live_sink(h->live_arg, st->name, n->order_symbol, ts, &o) != 0) {
                st->blocked++;
                return;
            }
            st->orders++;
            out->type = QMTL_T_ORDER;
            out->as.order = o;
            return;
        }
    }
    st->orders++;
    out->type = QMTL_T_ORDER;
    out->as.order = o;
    struct qmtl_fill fill = {.size = sizeof(fill)};
    char q[NUMFMT_DOUBLE_MAX], pr[NUMFMT_DOUBLE_MAX], fe[NUMFMT_DOUBLE_MAX];
    if (h->order_log)
        fprintf(h->order_log, "%lld order %s %s %s qty=%s price=%s\n", (long long)ts, st->name,
                n->order_symbol, o.side > 0 ? "buy" : "sell", fmt_num(o.quantity, q),
                fmt_num(o.price, pr));
    if (broker_submit(st->broker, n->order_symbol, ts, &o, &fill) == 0) {
        st->fills++;
        if (h->order_log)
            fprintf(h->order_log, "%lld fill %s %s %s qty=%s price=%s fee=%s\n",
                    (long long)fill.ts, st->name, fill.symbol, fill.side > 0 ? "buy" : "sell",
                    fmt_num(fill.quantity, q), fmt_num(fill.price, pr), fmt_num(fill.fee, fe));
        fill.size = sizeof(fill);
        if (st->desc->on_fill)
            st->desc->on_fill(&st->ctx, host_api_table(), &fill);
    }
}
