/* The testkit drives the real runtime: a strategy linked into the test. */
#include <qmtl/testkit.h>

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a strategy: stream -> sma(3) -> custom "spread" (close - sma) -> signal -> orders */

static int spread(const struct qmtl_view *v, struct qmtl_value *out)
{
    double px = qmtl_window_number(&v->inputs[0], 0);
    double ma = qmtl_window_number(&v->inputs[1], 0);
    int *calls = v->state;
    (*calls)++;
    *out = qmtl_number(px - ma);
    return QMTL_OK;
}

static int fills_seen, signals_seen, started, finished;

static int slice_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "price", .tags = tags,
                                   .interval = "60s", .period = 1},
        err);
    if (px < 0)
        return px;
    qmtl_node ma = h->indicator(ctx,
                                &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                              .kind = "sma", .name = "ma",
                                                              .inputs = {px}, .window = 3},
                                err);
    if (ma < 0)
        return ma;
    qmtl_node sp = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "spread",
                                                    .inputs = {px, ma}, .compute = spread,
                                                    .state_size = sizeof(int)},
                           err);
    if (sp < 0)
        return sp;
    qmtl_node sig = h->signal(ctx,
                              &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec),
                                                         .name = "sig", .input = sp,
                                                         .buy_above = 0.5, .sell_below = -0.5},
                              err);
    if (sig < 0)
        return sig;
    qmtl_node op = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = sig,
                                  .quantity = 10},
        err);
    return op < 0 ? op : QMTL_OK;
}

static void on_fill(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_fill *f)
{
    (void)ctx;
    (void)h;
    (void)f;
    fills_seen++;
}

static void on_signal(struct qmtl_ctx *ctx, const struct qmtl_host *h,
                      const struct qmtl_signal *s, int64_t ts)
{
    (void)ctx;
    (void)h;
    (void)s;
    (void)ts;
    signals_seen++;
}

static void on_start(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx;
    (void)h;
    started++;
}

static void on_finish(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx;
    (void)h;
    finished++;
}

static const struct qmtl_plugin slice = {QMTL_PLUGIN_HEADER, .name = "slice", .version = "1",
                                         .setup = slice_setup, .on_start = on_start,
                                         .on_finish = on_finish, .on_fill = on_fill,
                                         .on_signal = on_signal};

START_TEST(test_thin_slice)
{
    struct qmtl_err err = {0};
    fills_seen = signals_seen = started = finished = 0;
    struct qmtl_testkit *tk = qmtl_testkit_new(&slice, NULL, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    ck_assert_int_eq(started, 1);
    /* closes: sma(3) first at the 3rd bar */
    const double closes[] = {100, 100, 100, 103, 103, 103, 100, 97, 97};
    ck_assert_int_eq(qmtl_testkit_feed_closes(tk, "BTC", 1700000040, 60, closes, 9, &err), 0);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "price"), 9);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "ma"), 7);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "spread"), 7);
    /* spread at bar 4 = 103 - (100+100+103)/3 = 2 > 0.5 -> buy 10; bar 8: 97 - 98... */
    int64_t ts;
    struct qmtl_value v;
    ck_assert_int_eq(qmtl_testkit_output(tk, "spread", 1, &ts, &v), QMTL_OK);
    ck_assert_int_eq(ts, 1700000040 - 1700000040 % 60 + 3 * 60);
    ck_assert(fabs(v.as.number - (103 - 101.0)) < 1e-12);
    /* bar 7: 100 - 102 = -2 -> sell to -10 */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), 2);
    ck_assert_int_eq(signals_seen, 2);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 2);
    struct qmtl_order o;
    ck_assert_int_eq(qmtl_testkit_order(tk, 0, NULL, &o), QMTL_OK);
    ck_assert_int_eq(o.side, QMTL_SIDE_BUY);
    ck_assert(o.quantity == 10);
    ck_assert(o.price == 103);
    ck_assert_int_eq(qmtl_testkit_order(tk, 1, NULL, &o), QMTL_OK);
    ck_assert_int_eq(o.side, QMTL_SIDE_SELL);
    ck_assert(o.quantity == 20);
    ck_assert(o.price == 100);
    ck_assert_uint_eq(qmtl_testkit_fill_count(tk), 2);
    ck_assert_int_eq(fills_seen, 2);
    /* bought 10 @103, sold 20 @100: cash 100000 - 1030 + 2000, short 10 marked at 97 */
    ck_assert(fabs(qmtl_testkit_equity(tk) - (100000 - 1030 + 2000 - 970)) < 1e-9);
    ck_assert_int_eq(qmtl_testkit_finish(tk, &err), 0);
    ck_assert_int_eq(finished, 1);
    ck_assert_int_eq(qmtl_testkit_finish(tk, &err), QMTL_ESTATE);
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "BTC", 1800000000, 1, &err), QMTL_ESTATE);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(test_unknown_tag)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&slice, NULL, &err);
    ck_assert_ptr_nonnull(tk);
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "ETH", 60, 1, &err), QMTL_ENOENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "ETH"));
    ck_assert(isnan(qmtl_testkit_last_number(tk, "nope")));
    ck_assert_int_eq(qmtl_testkit_output(tk, "ma", 0, NULL, NULL), QMTL_ENOENT);
    qmtl_testkit_free(tk);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("testkit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_thin_slice);
    tcase_add_test(tc, test_unknown_tag);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
