/* The testkit drives the real runtime: a strategy linked into the test. */
#include <qmtl/testkit.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
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
    qmtl_node px =
        h->stream_input(ctx,
                        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "price",
                                                   .tags = tags, .interval = "60s", .period = 1},
                        err);
    if (px < 0)
        return px;
    qmtl_node ma =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                                   .name = "ma", .inputs = {px}, .window = 3},
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
    qmtl_node sig =
        h->signal(ctx,
                  &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .name = "sig",
                                             .input = sp, .buy_above = 0.5, .sell_below = -0.5},
                  err);
    if (sig < 0)
        return sig;
    qmtl_node op =
        h->order_publisher(ctx,
                           &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders",
                                                     .signal = sig, .quantity = 10},
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

static void on_signal(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_signal *s,
                      int64_t ts)
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

static const struct qmtl_plugin slice = {
    QMTL_PLUGIN_HEADER,   .name = "slice",        .version = "1",     .setup = slice_setup,
    .on_start = on_start, .on_finish = on_finish, .on_fill = on_fill, .on_signal = on_signal};

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

/* Load the built fixture .so like the host does, with parameters. */
START_TEST(test_load_so_with_params)
{
    const char *b = getenv("QMTL_BUILD");
    char path[512];
    snprintf(path, sizeof(path), "%s/fixtures/rt_slice.so", b && *b ? b : "build");
    struct qmtl_err err = {0};
    struct qmtl_testkit_options opt = {
        .size = sizeof(opt), .initial_cash = 1000, .params_yaml = "window: 2\n"};
    struct qmtl_testkit *tk = qmtl_testkit_load(path, &opt, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    const double closes[] = {10, 12, 11, 11, 13};
    ck_assert_int_eq(qmtl_testkit_feed_closes(tk, "BTC", 0, 60, closes, 5, &err), 0);
    /* sma(2): 11, 11.5, 11, 12 -> dev = close - sma: 1, -0.5, 0, 1 */
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "ma"), 4);
    ck_assert(qmtl_testkit_last_number(tk, "ma") == 12);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "dev"), 4);
    double want[] = {1, -0.5, 0, 1};
    for (size_t i = 0; i < 4; i++) {
        struct qmtl_value v;
        int64_t ts;
        ck_assert_int_eq(qmtl_testkit_output(tk, "dev", i, &ts, &v), QMTL_OK);
        ck_assert(v.as.number == want[i]);
        ck_assert_int_eq(ts, 60 * (int64_t)(i + 1));
    }
    /* signals: +1 (dev 1), -1 (dev -0.5), +1 (dev 1); dev 0 keeps the target */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), 3);
    /* sized by equity: 1000 / 12 units at 12, then to -equity/price, then back */
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 3);
    struct qmtl_order o;
    ck_assert_int_eq(qmtl_testkit_order(tk, 0, NULL, &o), QMTL_OK);
    ck_assert_int_eq(o.side, QMTL_SIDE_BUY);
    ck_assert(fabs(o.quantity - 1000.0 / 12) < 1e-9);
    /* market orders fill at the next bar's open: the last one waits for a bar to come */
    ck_assert_uint_eq(qmtl_testkit_fill_count(tk), 2);
    ck_assert_int_eq(qmtl_testkit_order(tk, 3, NULL, &o), QMTL_ENOENT);
    ck_assert(qmtl_testkit_equity(tk) > 0);
    qmtl_testkit_free(tk);
}
END_TEST

/* JSON results are copied by the host: the plugin's buffer may change afterwards. */
static char json_buf[64];
static int json_node(const struct qmtl_view *v, struct qmtl_value *out)
{
    snprintf(json_buf, sizeof(json_buf), "{\"x\":%g}", qmtl_window_number(&v->inputs[0], 0));
    out->type = QMTL_T_JSON;
    out->as.json = json_buf;
    return QMTL_OK;
}

static int json_reader(const struct qmtl_view *v, struct qmtl_value *out)
{
    const struct qmtl_value *a = qmtl_window_at(&v->inputs[0], 1);
    const struct qmtl_value *b = qmtl_window_at(&v->inputs[0], 0);
    *out = qmtl_number(a && b && a->type == QMTL_T_JSON && strcmp(a->as.json, b->as.json) != 0);
    return QMTL_OK;
}

static int json_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"J", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
    qmtl_node j = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "json",
                                                   .inputs = {px}, .compute = json_node},
                          err);
    qmtl_node r =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "cmp", .inputs = {j},
                                         .period = 2, .compute = json_reader},
                err);
    return px < 0 || j < 0 || r < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin json_plugin = {QMTL_PLUGIN_HEADER, .name = "json",
                                               .setup = json_setup};

START_TEST(test_json_values_copied)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&json_plugin, NULL, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(qmtl_testkit_feed_value(tk, "J", i, i, &err), 0);
    struct qmtl_value v;
    ck_assert_int_eq(qmtl_testkit_output(tk, "json", 2, NULL, &v), QMTL_OK);
    ck_assert_int_eq(v.type, QMTL_T_JSON);
    ck_assert_str_eq(v.as.json, "{\"x\":2}");
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "cmp"), 4);
    ck_assert(qmtl_testkit_last_number(tk, "cmp") == 1); /* the ring kept distinct copies */
    qmtl_testkit_free(tk);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("testkit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_thin_slice);
    tcase_add_test(tc, test_unknown_tag);
    tcase_add_test(tc, test_load_so_with_params);
    tcase_add_test(tc, test_json_values_copied);
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
