/* orders: signal fan-out, sizing, sides, weight, next-open fills, limit/stop orders. */
#include "host/orders.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"

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

int main(void)
{
    Suite *s = suite_create("orders");
    TCase *tc = tcase_create("fanout");
    tcase_add_test(tc, test_signal_fanout_once_per_strategy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
