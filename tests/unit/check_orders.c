/* orders: signal fan-out, sizing, sides, weight, next-open fills, limit/stop orders. */
#include "host/orders/orders.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/orders/live_orders.h"

/* ------------------------------------------------------------------ fan-out */

static long heard[3];

static void on_signal(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_signal *s,
                      int64_t ts)
{
    (void)s;
    (void)ts;
    const char *name = h->config_string(ctx, "who", "?");
    heard[name[0] - 'a']++;
}

/* A stream, a shared signal node; 'publish' adds an order publisher on it, 'twice'
 * declares the signal node a second time. */
static int setup_sig(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err,
                     int publish, int twice)
{
    const char *tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
    struct qmtl_signal_spec ss = {QMTL_SPEC(qmtl_signal_spec), .input = px, .buy_above = 100.5,
                                  .sell_below = 100.5};
    qmtl_node sg = h->signal(ctx, &ss, err);
    if (twice) {
        ss.name = "again";
        if (h->signal(ctx, &ss, err) < 0)
            return QMTL_ERR;
    }
    if (publish &&
        h->order_publisher(ctx,
                           &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg,
                                                     .quantity = 1},
                           err) < 0)
        return QMTL_ERR;
    return px < 0 || sg < 0 ? QMTL_ERR : QMTL_OK;
}

static int setup_a(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return setup_sig(c, h, e, 1, 0);
}
static int setup_b(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return setup_sig(c, h, e, 0, 1);
}
static int setup_c(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return setup_sig(c, h, e, 0, 0);
}

static const struct qmtl_plugin plug_a = {QMTL_PLUGIN_HEADER, .name = "a", .setup = setup_a,
                                          .on_signal = on_signal};
static const struct qmtl_plugin plug_b = {QMTL_PLUGIN_HEADER, .name = "b", .setup = setup_b,
                                          .on_signal = on_signal};
static const struct qmtl_plugin plug_c = {QMTL_PLUGIN_HEADER, .name = "c", .setup = setup_c,
                                          .on_signal = on_signal};

static void feed_prices(struct host *h, const double *px, int n, int64_t ts0)
{
    const char *tags[] = {"X"};
    for (int i = 0; i < n; i++) {
        struct qmtl_value v = qmtl_number(px[i]);
        ck_assert_int_ge(host_feed(h, tags, 1, ts0 + i, &v), 1);
    }
}

START_TEST(test_signal_fanout_once_per_strategy)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    char err[256];
    host_set_param(&h, "a", "who", "a");
    host_set_param(&h, "b", "who", "b");
    host_set_param(&h, "c", "who", "c");
    memset(heard, 0, sizeof(heard));
    ck_assert_int_eq(host_add_strategy(&h, &plug_a, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &plug_b, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &plug_c, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    const double px[] = {101, 100, 101, 100};
    feed_prices(&h, px, 4, 1000);
    /* one shared signal node: 'a' hears it through its publisher, 'b' (two declarations)
     * and 'c' through the fan-out, each exactly once per emission */
    ck_assert_int_eq(heard[0], 4);
    ck_assert_int_eq(heard[1], 4);
    ck_assert_int_eq(heard[2], 4);
    ck_assert_int_eq(h.st[1]->signals, 4);
    host_release(&h);
}
END_TEST

/* ------------------------------------------------------------------ live path */

static char sent_coid[8][64];
static double sent_qty[8];
static int n_sent, n_fills_heard;

static int sink(void *arg, const char *strategy, const char *symbol, int64_t ts,
                const struct qmtl_order *o, const char *coid)
{
    (void)arg;
    (void)strategy;
    (void)symbol;
    (void)ts;
    snprintf(sent_coid[n_sent & 7], sizeof(sent_coid[0]), "%s", coid);
    sent_qty[n_sent & 7] = o->side * o->quantity;
    n_sent++;
    return 0;
}

static void on_fill(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_fill *f)
{
    (void)ctx;
    (void)h;
    (void)f;
    n_fills_heard++;
}

/* Every bar: target +1 while the price is above 100.5, else -1. */
static int always(const struct qmtl_view *v, struct qmtl_value *out)
{
    double x = qmtl_window_number(&v->inputs[0], 0);
    *out = qmtl_signal_value(x > 100.5 ? QMTL_BUY : QMTL_SELL, x > 100.5 ? 1 : -1);
    return QMTL_OK;
}

/* A publisher of 10 units on 'always'. */
static int setup_live(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    const char *tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        c, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        e);
    qmtl_node sg = h->node(c,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "always",
                                                    .inputs = {px}, .compute = always},
                           e);
    qmtl_node o = h->order_publisher(
        c, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg, .quantity = 10}, e);
    return px < 0 || sg < 0 || o < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug_live = {QMTL_PLUGIN_HEADER, .name = "lv",
                                             .setup = setup_live, .on_fill = on_fill};

static struct qmtl_activation side_on(int side, double weight)
{
    struct qmtl_activation a = {.size = sizeof(a), .side = side, .active = 1, .weight = weight,
                                .ts = 5, .etag = "e", .run_id = "r", .domain = "live"};
    return a;
}

static void live_host(struct host *h, int domain, double long_weight)
{
    struct host_options o;
    host_options_default(&o);
    o.domain = domain;
    ck_assert_int_eq(host_init(h, &o), 0);
    h->live_sink = sink;
    char err[256];
    ck_assert_int_eq(host_add_strategy(h, &plug_live, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(h, err, sizeof(err)), 0);
    struct qmtl_activation a = side_on(QMTL_SIDE_BUY, long_weight);
    ck_assert_int_eq(host_set_activation(h, 0, &a), 1);
    a = side_on(QMTL_SIDE_SELL, 1);
    ck_assert_int_eq(host_set_activation(h, 0, &a), 1);
    n_sent = n_fills_heard = 0;
}

START_TEST(test_live_sizes_against_open_orders)
{
    struct host h;
    live_host(&h, HOST_LIVE, 1);
    const double up[] = {101, 102, 103};
    feed_prices(&h, up, 3, 1000);
    /* three buy signals, one order: the first is in flight, nothing doubles it */
    ck_assert_int_eq(n_sent, 1);
    ck_assert(sent_qty[0] == 10);
    char want[64];
    live_order_client_id(want, sizeof(want), "lv", 1000, 1);
    ck_assert_str_eq(sent_coid[0], want); /* "<strategy>-<ts>-<seq>" */
    struct book *bk = broker_book(h.st[0]->broker);
    ck_assert(book_open(bk, "X") == 10);
    ck_assert(book_position(bk, "X") == 0);
    /* the fill arrives (in two parts); a repeated delivery changes nothing */
    struct host_fill f = {.client_order_id = sent_coid[0], .order_id = "g1", .symbol = "X",
                          .side = QMTL_SIDE_BUY, .quantity = 4, .price = 101.5,
                          .commission = 0.1, .ts = 1003, .seq = 1};
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), 0);
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), 1);
    ck_assert(book_position(bk, "X") == 4);
    ck_assert(book_open(bk, "X") == 6);
    f.seq = 2;
    f.quantity = 6;
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), 0);
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), 1);
    ck_assert_int_eq(n_fills_heard, 2);
    ck_assert_int_eq(h.st[0]->fills, 2);
    ck_assert(book_position(bk, "X") == 10);
    ck_assert(book_open(bk, "X") == 0);
    ck_assert(fabs(book_cash(bk) - (100000 - 10 * 101.5 - 0.2)) < 1e-9);
    /* invalid fills */
    f.seq = 0;
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), -1);
    f.seq = 3;
    f.client_order_id = NULL;
    f.order_id = NULL;
    ck_assert_int_eq(host_apply_fill(&h, 0, &f), -1);
    ck_assert_int_eq(host_apply_fill(&h, 7, &f), -1);
    /* down: a sell of 20 (reduce 10 on the long side, open 10 on the short) */
    const double down[] = {99};
    feed_prices(&h, down, 1, 1003);
    ck_assert_int_eq(n_sent, 2);
    ck_assert(sent_qty[1] == -20);
    /* rejected by the broker: no longer open, the next signal sends it again */
    struct host_order_update u = {.client_order_id = sent_coid[1],
                                  .status = host_order_status_parse("rejected"),
                                  .reason = "no margin"};
    ck_assert_int_eq(host_order_update(&h, 0, &u), 0);
    ck_assert_int_eq(host_order_update(&h, 0, &u), 1); /* not open any more */
    ck_assert(book_open(bk, "X") == 0);
    ck_assert_int_eq(h.st[0]->rejected_broker, 1);
    feed_prices(&h, down, 1, 1004);
    ck_assert_int_eq(n_sent, 3);
    ck_assert(sent_qty[2] == -20);
    ck_assert_str_ne(sent_coid[2], sent_coid[1]);
    /* accepted: acknowledged under the gateway's id, still open */
    u = (struct host_order_update){.client_order_id = sent_coid[2], .order_id = "g3",
                                   .status = HOST_ORDER_ACCEPTED};
    ck_assert_int_eq(host_order_update(&h, 0, &u), 0);
    const struct book_order *o = book_order_find(bk, NULL, "g3");
    ck_assert(o && o->acked && o->remaining == 20);
    u.status = HOST_ORDER_CANCELED;
    ck_assert_int_eq(host_order_update(&h, 0, &u), 0);
    ck_assert_uint_eq(book_open_orders(bk), 0);
    ck_assert_int_eq(host_order_status_parse("filled"), HOST_ORDER_FILLED);
    ck_assert_int_eq(host_order_status_parse("bogus"), -1);
    host_release(&h);
}
END_TEST

START_TEST(test_weight_scales_target)
{
    struct host h;
    live_host(&h, HOST_LIVE, 0.3);
    const double up[] = {101};
    feed_prices(&h, up, 1, 1000);
    ck_assert_int_eq(n_sent, 1);
    ck_assert(fabs(sent_qty[0] - 3) < 1e-12); /* 10 units at weight 0.3 */
    host_release(&h);
}
END_TEST

START_TEST(test_deactivated_side_flattens)
{
    struct host h;
    live_host(&h, HOST_DRYRUN, 1);
    const double up[] = {101, 102};
    feed_prices(&h, up, 2, 1000);
    struct book *bk = broker_book(h.st[0]->broker);
    ck_assert(book_position(bk, "X") == 10); /* filled at the second bar's open */
    struct qmtl_activation off = side_on(QMTL_SIDE_BUY, 1);
    off.active = 0;
    off.ts = 6;
    ck_assert_int_eq(host_set_activation(&h, 0, &off), 1);
    long blocked = h.st[0]->blocked;
    const double more[] = {103, 104};
    feed_prices(&h, more, 2, 1002);
    /* the strategy still wants long; its side is off: the position is flattened */
    ck_assert_msg(book_position(bk, "X") == 0, "pos %g open %g orders %ld blocked %ld",
                  book_position(bk, "X"), book_open(bk, "X"), h.st[0]->orders, h.st[0]->blocked);
    ck_assert_int_eq(h.st[0]->blocked, blocked + 1); /* and re-entering is blocked */
    /* frozen: nothing at all */
    struct qmtl_activation fr = side_on(QMTL_SIDE_SELL, 1);
    fr.frozen = 1;
    fr.ts = 7;
    host_set_activation(&h, 0, &fr);
    long orders = h.st[0]->orders;
    const double dn[] = {99, 98};
    feed_prices(&h, dn, 2, 1004);
    ck_assert_int_eq(h.st[0]->orders, orders);
    host_release(&h);
}
END_TEST

/* A strategy replaced on a running host keeps its client_order_id sequence and its book. */
START_TEST(test_replace_keeps_order_state)
{
    struct host h;
    live_host(&h, HOST_LIVE, 1);
    const double up[] = {101};
    feed_prices(&h, up, 1, 1000);
    ck_assert_int_eq(n_sent, 1);
    char err[256];
    struct host_swap_result res;
    ck_assert_msg(host_replace_strategy(&h, 0, NULL, &plug_live, NULL, &res, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_int_eq(h.st[0]->order_seq, 1);
    ck_assert(book_open(broker_book(h.st[0]->broker), "X") == 10);
    const double down[] = {99};
    feed_prices(&h, down, 1, 1001);
    ck_assert_int_eq(n_sent, 2);
    char want[64];
    live_order_client_id(want, sizeof(want), "lv", 1001, 2); /* not 1 again */
    ck_assert_str_eq(sent_coid[1], want);
    host_release(&h);
}
END_TEST

/* ------------------------------------------------------------------ ABI 1.2 */

struct lim_state {
    qmtl_node pub;
    int bar;
    int64_t id[4];
    int rc_noprice, rc_badpub, rc_badqty, rc_cancel, rc_cancel2, rc_risk, rc_setup;
    struct qmtl_position seen[6];
};

static int ctl(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)out;
    struct lim_state *s = v->host->strategy_state(v->ctx);
    const struct qmtl_host *h = v->host;
    struct qmtl_err e;
    int b = s->bar++;
    if (b < 6)
        h->position(v->ctx, "X", &s->seen[b]);
    struct qmtl_order_request rq = {.size = sizeof(rq), .publisher = s->pub,
                                    .side = QMTL_SIDE_BUY, .type = QMTL_ORDER_LIMIT,
                                    .quantity = 5, .limit_price = 95};
    if (b == 0)
        s->rc_noprice = (int)h->submit_order(v->ctx, &rq, &e);
    if (b == 1) {
        s->id[0] = h->submit_order(v->ctx, &rq, &e);
        rq.limit_price = 90;
        rq.quantity = 1;
        s->id[1] = h->submit_order(v->ctx, &rq, &e);
        s->rc_cancel = h->cancel_order(v->ctx, s->id[1]);
        s->rc_cancel2 = h->cancel_order(v->ctx, s->id[1]);
        rq.publisher = 1; /* the stream, not a publisher */
        s->rc_badpub = (int)h->submit_order(v->ctx, &rq, &e);
        rq.publisher = s->pub;
        rq.quantity = 0;
        s->rc_badqty = (int)h->submit_order(v->ctx, &rq, &e);
    }
    if (b == 4) { /* long 5, limit 6: two more would make 7 */
        rq.quantity = 2;
        rq.type = QMTL_ORDER_MARKET;
        s->rc_risk = (int)h->submit_order(v->ctx, &rq, &e);
    }
    return QMTL_OK;
}

static int setup_lim(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    struct lim_state *s = h->strategy_state(c);
    const char *tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        c, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        e);
    qmtl_node k = h->node(c,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "ctl",
                                                   .inputs = {px}, .compute = ctl},
                          e);
    s->pub = h->order_publisher(
        c, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = k, .price = px}, e);
    struct qmtl_order_request rq = {.size = sizeof(rq), .publisher = s->pub, .side = 1,
                                    .quantity = 1};
    s->rc_setup = (int)h->submit_order(c, &rq, e);
    return px < 0 || k < 0 || s->pub < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug_lim = {QMTL_PLUGIN_HEADER, .name = "lim", .setup = setup_lim,
                                            .state_size = sizeof(struct lim_state)};

START_TEST(test_plugin_orders_and_book)
{
    struct host h;
    struct host_options o;
    host_options_default(&o);
    o.risk.max_position = 6;
    ck_assert_int_eq(host_init(&h, &o), 0);
    char err[256];
    ck_assert_int_eq(host_add_strategy(&h, &plug_lim, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    const char *tags[] = {"X"};
    const struct qmtl_bar bars[] = {
        {100, 100, 100, 100, 0}, {100, 100, 100, 100, 0}, {99, 100, 94, 96, 3},
        {96, 97, 94.5, 96, 10},  {97, 98, 96, 97, 10},    {97, 98, 96, 98, 10},
    };
    for (int i = 0; i < 6; i++) {
        struct qmtl_value v = {.type = QMTL_T_BAR, .as.bar = bars[i]};
        ck_assert_int_eq(host_feed(&h, tags, 1, 1000 + i, &v), 1);
    }
    struct lim_state *s = h.st[0]->state;
    ck_assert_int_eq(s->rc_setup, QMTL_ESTATE);
    ck_assert_int_eq(s->rc_noprice, QMTL_EAGAIN); /* nothing marked yet */
    ck_assert(s->id[0] == 1 && s->id[1] == 2);
    ck_assert_int_eq(s->rc_cancel, QMTL_OK);
    ck_assert_int_eq(s->rc_cancel2, QMTL_ENOENT);
    ck_assert_int_eq(s->rc_badpub, QMTL_EINVAL);
    ck_assert_int_eq(s->rc_badqty, QMTL_EINVAL);
    /* bar 2 (seen at bar 2, before its fills): nothing filled yet, 5 open */
    ck_assert(s->seen[2].position == 0 && s->seen[2].open_quantity == 5);
    /* bar 2 traded 3 (its volume) at the limit; bar 3 the other 2 */
    ck_assert(s->seen[3].position == 3 && s->seen[3].open_quantity == 2);
    ck_assert(s->seen[3].avg_cost == 95);
    ck_assert(s->seen[4].position == 5 && s->seen[4].open_quantity == 0);
    ck_assert(fabs(s->seen[4].cash - (100000 - 5 * 95)) < 1e-9);
    ck_assert(fabs(s->seen[4].equity - (100000 - 5 * 95 + 5 * 96)) < 1e-9);
    ck_assert(fabs(s->seen[4].unrealized_pnl - 5) < 1e-9);
    ck_assert_int_eq(s->rc_risk, QMTL_EAGAIN);
    struct orders_counters c;
    ck_assert_int_eq(host_order_counters(&h, 0, &c), 0);
    ck_assert_int_eq(c.rejected[RISK_MAX_POSITION], 1);
    ck_assert_int_eq(c.orders, 2);
    ck_assert_int_eq(c.fills, 2);
    ck_assert_int_eq(c.expired, 1); /* the canceled one */
    ck_assert_uint_eq(c.open_orders, 0);
    host_release(&h);
}
END_TEST

/* ------------------------------------------------------------------ kill switch */

START_TEST(test_kill_switch)
{
    struct host h;
    live_host(&h, HOST_DRYRUN, 1);
    const double up[] = {101, 102};
    feed_prices(&h, up, 2, 1000);
    struct book *bk = broker_book(h.st[0]->broker);
    ck_assert(book_position(bk, "X") == 10);
    ck_assert_int_eq(host_kill(&h, "operator"), 1);
    ck_assert_int_eq(host_kill(&h, "again"), 0);
    ck_assert(book_open(bk, "X") == -10); /* the flattening sell waits for the next open */
    const double more[] = {103, 104, 99, 98};
    feed_prices(&h, more, 4, 1002);
    ck_assert(book_position(bk, "X") == 0);
    ck_assert(book_open(bk, "X") == 0);
    struct orders_counters c;
    host_order_counters(&h, 0, &c);
    ck_assert_int_ge(c.rejected[RISK_KILL_SWITCH], 3); /* every later signal */
    ck_assert_int_eq(c.orders, 2);
    host_release(&h);
}
END_TEST

/* ------------------------------------------------------------------ risk checks */

START_TEST(test_risk_checks)
{
    struct risk r;
    struct risk_limits l = {.max_position = 10, .max_position_notional = 1500,
                            .max_order_notional = 800, .max_orders_per_minute = 2,
                            .max_daily_loss = 100};
    ck_assert_int_eq(risk_init(&r, &l), 0);
    /* position in units: 8 + 5 > 10; a reduction always passes it */
    ck_assert_int_eq(risk_check(&r, 8, 5, 10, 0, 0), RISK_MAX_POSITION);
    ck_assert_int_eq(risk_check(&r, 12, -1, 10, 0, 0), RISK_OK);
    ck_assert_int_eq(risk_check(&r, -8, -5, 10, 0, 0), RISK_MAX_POSITION);
    /* notional of the position: 9 * 200 > 1500 */
    ck_assert_int_eq(risk_check(&r, 5, 4, 200, 0, 0), RISK_MAX_POSITION_NOTIONAL);
    /* notional of the order: 5 * 170 > 800 (a reduction too) */
    ck_assert_int_eq(risk_check(&r, 10, -5, 170, 0, 0), RISK_MAX_ORDER_NOTIONAL);
    /* rate: two orders in 60 s, the third waits until the first is 60 s old */
    ck_assert_int_eq(risk_check(&r, 0, 1, 10, 100, 0), RISK_OK);
    risk_sent(&r, 100);
    risk_sent(&r, 130);
    ck_assert_int_eq(risk_check(&r, 0, 1, 10, 159, 0), RISK_MAX_ORDERS_PER_MINUTE);
    ck_assert_int_eq(risk_check(&r, 0, 1, 10, 160, 0), RISK_OK);
    /* kill switch before everything */
    ck_assert_int_eq(risk_check(&r, 0, 1, 10, 160, 1), RISK_KILL_SWITCH);
    /* daily loss: from the day's first equity; a new day starts over */
    ck_assert_int_eq(risk_mark(&r, 86400, 1000), 0);
    ck_assert_int_eq(risk_mark(&r, 86460, 901), 0);
    ck_assert_int_eq(risk_mark(&r, 86520, 899), 1);
    ck_assert_int_eq(risk_mark(&r, 86580, 800), 0); /* reported once */
    ck_assert_int_eq(risk_check(&r, 0, 1, 10, 86580, 0), RISK_MAX_DAILY_LOSS);
    ck_assert_int_eq(r.rejected[RISK_MAX_POSITION], 2);
    ck_assert_int_eq(r.rejected[RISK_MAX_ORDERS_PER_MINUTE], 1);
    ck_assert_str_eq(risk_reason_name(RISK_MAX_DAILY_LOSS), "max_daily_loss");
    risk_release(&r);
    struct risk_limits z = {0};
    ck_assert_int_eq(risk_limit_set(&z, "max_position", "25"), 0);
    ck_assert(z.max_position == 25);
    ck_assert_int_eq(risk_limit_set(&z, "max_position", "-1"), -1);
    ck_assert_int_eq(risk_limit_set(&z, "max_positon", "1"), -1);
    ck_assert_int_eq(risk_limit_set(&z, "max_orders_per_minute", "x"), -1);
    /* no limits: everything passes */
    ck_assert_int_eq(risk_init(&r, &z), 0);
    z.max_position = 0;
    ck_assert_int_eq(risk_init(&r, &(struct risk_limits){0}), 0);
    ck_assert_int_eq(risk_check(&r, 0, 1e9, 1e9, 0, 0), RISK_OK);
    ck_assert_int_eq(risk_mark(&r, 0, -1e9), 0);
    risk_release(&r);
}
END_TEST

/* The daily loss stops the strategy, with the reason. */
START_TEST(test_daily_loss_stops)
{
    struct host h;
    struct host_options o;
    host_options_default(&o);
    o.risk.max_daily_loss = 15;
    ck_assert_int_eq(host_init(&h, &o), 0);
    h.live_sink = sink;
    char err[256];
    ck_assert_int_eq(host_add_strategy(&h, &plug_live, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    const double px[] = {101, 101, 100.6, 99.5, 99};
    feed_prices(&h, px, 5, 1000);
    /* long 10 from 101: at 99.5 the loss is 15 (not more), at 99 it is 20: stopped */
    ck_assert(h.st[0]->stopped);
    ck_assert_msg(strstr(h.st[0]->error, "risk.max_daily_loss"), "%s", h.st[0]->error);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("orders");
    TCase *tc = tcase_create("fanout");
    tcase_add_test(tc, test_signal_fanout_once_per_strategy);
    tcase_add_test(tc, test_live_sizes_against_open_orders);
    tcase_add_test(tc, test_weight_scales_target);
    tcase_add_test(tc, test_deactivated_side_flattens);
    tcase_add_test(tc, test_plugin_orders_and_book);
    tcase_add_test(tc, test_replace_keeps_order_state);
    tcase_add_test(tc, test_kill_switch);
    tcase_add_test(tc, test_risk_checks);
    tcase_add_test(tc, test_daily_loss_stops);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
