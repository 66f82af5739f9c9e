/* gate: closed by default, opened only by a fresh, active, unfrozen, undrained side. */
#include "host/orders/gate.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"

static struct qmtl_activation act(int side, int active, int64_t ts, const char *etag)
{
    struct qmtl_activation a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.side = side;
    a.active = active;
    a.ts = ts;
    a.etag = etag;
    a.run_id = "r1";
    a.domain = "dryrun";
    a.weight = 1;
    return a;
}

START_TEST(test_rules)
{
    struct gate g;
    gate_init(&g);
    const char *why;
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "activation unknown");
    struct qmtl_activation a = act(QMTL_SIDE_BUY, 1, 100, "e1");
    ck_assert_int_eq(gate_update(&g, &a), 1);
    ck_assert(gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert(gate_allows(&g, 2, QMTL_SIDE_BUY, &why));
    ck_assert(!gate_allows(&g, 0, QMTL_SIDE_BUY, &why));  /* backtest never sends */
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_SELL, &why)); /* the other side is unknown */
    ck_assert_int_eq(gate_update(&g, &a), 0);             /* repeated: no-op */
    struct qmtl_activation older = act(QMTL_SIDE_BUY, 0, 50, "e0");
    ck_assert_int_eq(gate_update(&g, &older), 0); /* older: no-op */
    ck_assert(gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    struct qmtl_activation frozen = act(QMTL_SIDE_BUY, 1, 101, "e2");
    frozen.frozen = 1;
    ck_assert_int_eq(gate_update(&g, &frozen), 1);
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "frozen");
    struct qmtl_activation drain = act(QMTL_SIDE_BUY, 1, 102, "e3");
    drain.draining = 1;
    gate_update(&g, &drain);
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "draining");
    struct qmtl_activation off = act(QMTL_SIDE_BUY, 0, 103, "e4");
    gate_update(&g, &off);
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "not active");
    struct qmtl_activation on = act(QMTL_SIDE_BUY, 1, 104, "e5");
    gate_update(&g, &on);
    gate_mark_stale(&g);
    ck_assert(!gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "activation stale");
    ck_assert_int_eq(gate_update(&g, &on), 1); /* re-confirmed */
    ck_assert(gate_allows(&g, 1, QMTL_SIDE_BUY, &why));
    struct qmtl_activation got;
    ck_assert_int_eq(gate_get(&g, QMTL_SIDE_BUY, &got), QMTL_OK);
    ck_assert_str_eq(got.etag, "e5");
    ck_assert_str_eq(got.domain, "dryrun");
    ck_assert_int_eq(gate_get(&g, QMTL_SIDE_SELL, &got), QMTL_ENOENT);
    struct qmtl_activation bad = act(0, 1, 1, "x");
    ck_assert_int_eq(gate_update(&g, &bad), -1);
}
END_TEST

/* ---- sides are position sides: every row of the table in gate.h / docs/operations.md */

enum { UNKNOWN, STALE, FROZEN, DRAINING, DEACTIVATED, ACTIVE };

static void set_side(struct gate *g, int side, int state, double weight)
{
    if (state == UNKNOWN)
        return;
    struct qmtl_activation a = act(side, state != DEACTIVATED, 10, "t");
    a.frozen = state == FROZEN;
    a.draining = state == DRAINING;
    a.weight = weight;
    ck_assert_int_eq(gate_update(g, &a), 1);
    if (state == STALE)
        gate_mark_stale(g);
}

START_TEST(test_side_table)
{
    static const struct {
        int state;
        int open_passes, reduce_passes;
        const char *why; /* for the refused opening order */
    } rows[] = {
        {UNKNOWN, 0, 0, "activation unknown"}, {STALE, 0, 0, "activation stale"},
        {FROZEN, 0, 0, "frozen"},              {DRAINING, 0, 1, "draining"},
        {DEACTIVATED, 0, 1, "not active"},     {ACTIVE, 1, 1, NULL},
    };
    static const int sides[] = {QMTL_SIDE_BUY, QMTL_SIDE_SELL};
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
        for (int k = 0; k < 2; k++) {
            /* the side under test has the row's state, the other side is active */
            struct gate g;
            gate_init(&g);
            set_side(&g, sides[k], rows[r].state, 1);
            set_side(&g, sides[1 - k], ACTIVE, 1);
            double dir = sides[k]; /* +1 long side, -1 short side */
            const char *why;
            /* opening (from flat) and increasing on the side */
            double got = gate_clip(&g, 2, 0, 3 * dir, &why);
            ck_assert_msg(got == (rows[r].open_passes ? 3 * dir : 0), "row %zu side %d open", r,
                          sides[k]);
            got = gate_clip(&g, 1, 2 * dir, 3 * dir, &why);
            ck_assert(got == (rows[r].open_passes ? 3 * dir : 0));
            if (!rows[r].open_passes)
                ck_assert_str_eq(why, rows[r].why);
            /* reducing a position of the side: an order in the other direction */
            got = gate_clip(&g, 2, 5 * dir, -2 * dir, &why);
            ck_assert_msg(got == (rows[r].reduce_passes ? -2 * dir : 0), "row %zu side %d reduce",
                          r, sides[k]);
            /* crossing flat: the reducing part is this side's, the rest opens on the other
             * (active) side, which passes only after the reducing part did */
            got = gate_clip(&g, 2, 1 * dir, -3 * dir, &why);
            ck_assert(got == (rows[r].reduce_passes ? -3 * dir : 0));
            /* the other direction: flat -> the other side opens (active: passes) */
            ck_assert(gate_clip(&g, 2, 0, -dir, &why) == -dir);
            ck_assert(why == NULL);
        }
    /* a crossing order whose opening side is closed is cut at flat */
    struct gate g;
    gate_init(&g);
    set_side(&g, QMTL_SIDE_BUY, ACTIVE, 1);
    const char *why;
    ck_assert(gate_clip(&g, 2, 1, -3, &why) == -1);
    ck_assert_str_eq(why, "activation unknown");
    /* backtest and shadow pass nothing */
    ck_assert(gate_clip(&g, 0, 0, 1, &why) == 0);
    ck_assert(gate_clip(&g, 3, 0, 1, &why) == 0);
    ck_assert_str_eq(why, "domain does not send orders");
}
END_TEST

START_TEST(test_weight)
{
    struct gate g;
    gate_init(&g);
    ck_assert(gate_weight(&g, QMTL_SIDE_BUY) == 1); /* unknown: the gate decides */
    set_side(&g, QMTL_SIDE_BUY, ACTIVE, 0.25);
    ck_assert(gate_weight(&g, QMTL_SIDE_BUY) == 0.25);
    struct qmtl_activation a = act(QMTL_SIDE_SELL, 1, 10, "w");
    a.weight = 7;
    gate_update(&g, &a);
    ck_assert(gate_weight(&g, QMTL_SIDE_SELL) == 1); /* clamped to [0, 1] */
    a = act(QMTL_SIDE_SELL, 1, 11, "w2");
    a.weight = -3;
    gate_update(&g, &a);
    ck_assert(gate_weight(&g, QMTL_SIDE_SELL) == 0);
    a = act(QMTL_SIDE_SELL, 1, 12, "w3");
    a.weight = __builtin_nan("");
    gate_update(&g, &a);
    ck_assert(gate_weight(&g, QMTL_SIDE_SELL) == 0);
    ck_assert(!gate_deactivated(&g, QMTL_SIDE_BUY));
    a = act(QMTL_SIDE_BUY, 0, 20, "off");
    gate_update(&g, &a);
    ck_assert(gate_deactivated(&g, QMTL_SIDE_BUY));
}
END_TEST

/* ---- through the host: dryrun orders wait for the gate */

static int activations;
static int seen_active;

static int flip(const struct qmtl_view *v, struct qmtl_value *out)
{
    int *k = v->state;
    int buy = *k % 2 == 0; /* +1, -1, +1, ... */
    (*k)++;
    *out = qmtl_signal_value(buy ? QMTL_BUY : QMTL_SELL, buy ? 1.0 : -1.0);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
    qmtl_node f =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "flip", .inputs = {px},
                                         .compute = flip, .state_size = sizeof(int)},
                err);
    qmtl_node o = h->order_publisher(
        ctx, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = f, .quantity = 1},
        err);
    return px < 0 || f < 0 || o < 0 ? QMTL_ERR : QMTL_OK;
}

static void on_activation(struct qmtl_ctx *ctx, const struct qmtl_host *h,
                          const struct qmtl_activation *a)
{
    struct qmtl_activation cur;
    activations++;
    seen_active = h->activation(ctx, a->side, &cur) == QMTL_OK && cur.active;
}

static const struct qmtl_plugin flipper = {QMTL_PLUGIN_HEADER, .name = "flipper", .setup = setup,
                                           .on_activation = on_activation};

static void feed(struct host *h, int from, int to)
{
    const char *tags[] = {"X"};
    for (int i = from; i < to; i++) {
        struct qmtl_value v = qmtl_number(100 + i % 3);
        host_feed(h, tags, 1, 1000 + i, &v);
    }
}

START_TEST(test_dryrun_orders_wait_for_activation)
{
    struct host h;
    struct host_options o;
    host_options_default(&o);
    o.domain = HOST_DRYRUN;
    ck_assert_int_eq(host_init(&h, &o), 0);
    char err[256];
    ck_assert_int_eq(host_add_strategy(&h, &flipper, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    struct host_strategy *st = h.st[0];
    feed(&h, 0, 10);
    ck_assert_int_eq(st->orders, 0); /* closed by default */
    ck_assert_int_eq(st->blocked, 10);
    struct qmtl_activation buy = act(QMTL_SIDE_BUY, 1, 1, "a");
    ck_assert_int_eq(host_set_activation(&h, 0, &buy), 1);
    ck_assert_int_eq(activations, 1);
    ck_assert(seen_active);
    ck_assert_int_eq(host_set_activation(&h, 0, &buy), 0); /* repeated: no hook */
    ck_assert_int_eq(activations, 1);
    long blocked = st->blocked;
    feed(&h, 10, 20);
    /* only the long side is active: every +1 buys, and every -1 sells back to flat (a
     * reducing order of the long side) while its short part stays blocked */
    ck_assert_int_eq(st->orders, 10);
    ck_assert_int_eq(st->blocked - blocked, 5);
    ck_assert_int_eq(st->fills, 9); /* the last sell waits for the next bar's open */
    ck_assert(broker_position(st->broker, "X") == 1);
    ck_assert(book_open(broker_book(st->broker), "X") == -1);
    struct qmtl_activation sell = act(QMTL_SIDE_SELL, 1, 1, "b");
    host_set_activation(&h, 0, &sell);
    long before = st->orders;
    blocked = st->blocked;
    feed(&h, 20, 30);
    /* both sides open: every flip trades (+1 from flat, then -2, +2, ...) */
    ck_assert_int_eq(st->orders - before, 10);
    ck_assert_int_eq(st->blocked, blocked);
    ck_assert(broker_position(st->broker, "X") == 1); /* the last (-2) still open */
    ck_assert(book_open(broker_book(st->broker), "X") == -2);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_side_table);
    tcase_add_test(tc, test_weight);
    tcase_add_test(tc, test_dryrun_orders_wait_for_activation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
