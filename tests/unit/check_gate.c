/* gate: closed by default, opened only by a fresh, active, unfrozen, undrained side. */
#include "host/gate.h"

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
    feed(&h, 10, 20);
    /* only buys pass: the position goes +1 once, then sells (to -1) stay blocked */
    ck_assert_int_eq(st->orders, 1); /* the first +1 buys; -1 sells stay blocked */
    ck_assert_int_eq(st->fills, 1);
    ck_assert(broker_position(st->broker, "X") == 1);
    struct qmtl_activation sell = act(QMTL_SIDE_SELL, 1, 1, "b");
    host_set_activation(&h, 0, &sell);
    long before = st->orders;
    feed(&h, 20, 30);
    /* both sides open: every flip trades, except the first (+1 while already long) */
    ck_assert_int_eq(st->orders - before, 9);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_dryrun_orders_wait_for_activation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
