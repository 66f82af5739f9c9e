/* orders_api: the plugin's view of its book and its own orders (ABI 1.2; see orders.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/orders/orders.h"

static int fail(struct qmtl_err *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

static struct host_strategy *strategy_of(struct qmtl_ctx *ctx)
{
    return ctx && ctx->h && ctx->strat < ctx->h->n_st ? ctx->h->st[ctx->strat] : NULL;
}

int orders_api_position(struct qmtl_ctx *ctx, const char *symbol, struct qmtl_position *out)
{
    struct host_strategy *st = strategy_of(ctx);
    if (!st || !out)
        return QMTL_EINVAL;
    const struct book *bk = broker_book(st->broker);
    struct book_line l;
    int rc = symbol ? book_get(bk, symbol, &l) : -1;
    memset(out, 0, sizeof(*out));
    out->size = sizeof(*out);
    out->cash = book_cash(bk);
    out->equity = book_equity(bk);
    out->mark = NAN;
    if (rc)
        return QMTL_ENOENT;
    out->position = l.position;
    out->avg_cost = l.avg_cost;
    out->open_quantity = l.open_buy - l.open_sell;
    out->realized_pnl = l.realized;
    out->unrealized_pnl = l.position ? l.position * (l.mark - l.avg_cost) : 0;
    out->mark = l.mark;
    return QMTL_OK;
}

int64_t orders_api_submit(struct qmtl_ctx *ctx, const struct qmtl_order_request *req,
                          struct qmtl_err *err)
{
    struct host_strategy *st = strategy_of(ctx);
    if (!st || !req)
        return fail(err, QMTL_EINVAL, "submit_order: no context or request");
    struct host *h = ctx->h;
    if (!h->finalized || ctx->in_setup)
        return fail(err, QMTL_ESTATE, "submit_order: not inside setup()");
    if (st->stopped)
        return fail(err, QMTL_ESTATE, "submit_order: the strategy is stopped");
    /* a request built against an older header: the fields it lacks read as zero */
    struct qmtl_order_request rq;
    uint32_t size = req->size < sizeof(rq) ? req->size : (uint32_t)sizeof(rq);
    if (size < offsetof(struct qmtl_order_request, limit_price))
        return fail(err, QMTL_EINVAL, "submit_order: request size %u too small", req->size);
    memset(&rq, 0, sizeof(rq));
    memcpy(&rq, req, size);
    if (rq.publisher <= 0 || (size_t)rq.publisher > ctx->n)
        return fail(err, QMTL_EINVAL, "submit_order: unknown publisher handle %d",
                    (int)rq.publisher);
    struct graph_node *n = graph_node(h->g, ctx->nodes[rq.publisher - 1]);
    if (!n || n->kind != GRAPH_ORDER || n->order_strategy != ctx->strat)
        return fail(err, QMTL_EINVAL, "submit_order: handle %d is not an order publisher",
                    (int)rq.publisher);
    if (rq.side != QMTL_SIDE_BUY && rq.side != QMTL_SIDE_SELL)
        return fail(err, QMTL_EINVAL, "submit_order: side %d is not +1 or -1", (int)rq.side);
    if (!isfinite(rq.quantity) || rq.quantity <= 0)
        return fail(err, QMTL_EINVAL, "submit_order: quantity %g is not > 0", rq.quantity);
    if (rq.type < QMTL_ORDER_MARKET || rq.type > QMTL_ORDER_STOP)
        return fail(err, QMTL_EINVAL, "submit_order: unknown order type %d", (int)rq.type);
    if (rq.tif < QMTL_TIF_GTC || rq.tif > QMTL_TIF_IOC)
        return fail(err, QMTL_EINVAL, "submit_order: unknown time in force %d", (int)rq.tif);
    double lvl = rq.type == QMTL_ORDER_LIMIT ? rq.limit_price : rq.stop_price;
    if (rq.type != QMTL_ORDER_MARKET && !(isfinite(lvl) && lvl > 0))
        return fail(err, QMTL_EINVAL, "submit_order: %s price %g is not > 0",
                    rq.type == QMTL_ORDER_LIMIT ? "limit" : "stop", lvl);
    if (h->opt.domain == HOST_LIVE && rq.type != QMTL_ORDER_MARKET)
        return fail(err, QMTL_ESTATE, "submit_order: limit and stop orders are simulated only");
    struct book *bk = broker_book(st->broker);
    const char *sym = n->order_symbol;
    double price = book_mark_price(bk, sym);
    if (!(price > 0))
        return fail(err, QMTL_EAGAIN, "submit_order: no price of '%s' yet", sym);
    int64_t ts = h->s ? sched_now(h->s) : 0;
    double pos = book_position(bk, sym) + book_open(bk, sym);
    double delta = rq.side * rq.quantity;
    const char *why;
    int refused = orders_check(h, st, sym, ts, pos, delta, price, &why);
    if (refused)
        return fail(err, QMTL_EAGAIN, "submit_order: %s", why);
    struct orders_req o = {.symbol = sym,
                           .side = rq.side,
                           .quantity = rq.quantity,
                           .price = price,
                           .type = rq.type,
                           .limit_price = rq.limit_price,
                           .stop_price = rq.stop_price,
                           .tif = rq.tif,
                           .ts = ts};
    char coid[160];
    if (orders_send(h, st, &o, coid, sizeof(coid)))
        return fail(err, QMTL_EAGAIN, "submit_order: not sent (see the order log)");
    orders_sent(st, ts);
    return st->order_seq;
}

/* The sequence number at the end of a client_order_id ("<name>-<ts>-<seq>"). */
static long seq_of(const char *coid)
{
    const char *dash = strrchr(coid, '-');
    return dash ? strtol(dash + 1, NULL, 10) : -1;
}

int orders_api_cancel(struct qmtl_ctx *ctx, int64_t order_id)
{
    struct host_strategy *st = strategy_of(ctx);
    if (!st)
        return QMTL_EINVAL;
    if (ctx->h->opt.domain == HOST_LIVE)
        return QMTL_ESTATE;
    struct book *bk = broker_book(st->broker);
    for (size_t i = 0; i < book_open_orders(bk); i++) {
        const struct book_order *o = book_order_at(bk, i);
        if (seq_of(o->client_order_id) != order_id)
            continue;
        char coid[160];
        snprintf(coid, sizeof(coid), "%s", o->client_order_id);
        if (broker_cancel(st->broker, coid))
            return QMTL_ENOENT;
        book_order_canceled(bk, coid);
        st->expired++;
        return QMTL_OK;
    }
    return QMTL_ENOENT;
}
