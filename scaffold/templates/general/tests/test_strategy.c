/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include <check.h>
#include <math.h>
#include <qmtl/testkit.h>

extern const struct qmtl_plugin qmtl_plugin_descriptor;

#define T0 1704067200 /* 2024-01-01T00:00:00Z */

static struct qmtl_testkit *start(void)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&qmtl_plugin_descriptor, NULL, &err);
    ck_assert_msg(tk != NULL, "setup failed: %s", err.msg);
    return tk;
}

/* n closes from 'from', each 'step' (a fraction) away from the previous one. */
static void ramp(double *out, size_t n, double from, double step)
{
    for (size_t i = 0; i < n; i++)
        out[i] = from * pow(1.0 + step, (double)i);
}

static void feed(struct qmtl_testkit *tk, int64_t ts0, const double *closes, size_t n)
{
    struct qmtl_err err = {0};
    ck_assert_msg(qmtl_testkit_feed_closes(tk, "BTC", ts0, 60, closes, n, &err) == QMTL_OK,
                  "feed failed: %s", err.msg);
}

START_TEST(momentum_measures_the_move)
{
    struct qmtl_testkit *tk = start();
    double c[30];
    ramp(c, 30, 100.0, 0.001);
    feed(tk, T0, c, 30);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "momentum"), 0);
    /* 20 bars of +0.1 % each */
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "momentum"), pow(1.001, 20) - 1, 1e-9);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(buys_the_uptrend_then_sells_the_downtrend)
{
    struct qmtl_testkit *tk = start();
    double up[40], down[40];
    ramp(up, 40, 100.0, 0.001);
    ramp(down, 40, up[39], -0.001);
    feed(tk, T0, up, 40);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    struct qmtl_order o;
    ck_assert_int_eq(qmtl_testkit_order(tk, 0, NULL, &o), QMTL_OK);
    ck_assert_int_eq(o.side, QMTL_SIDE_BUY);
    ck_assert_double_eq_tol(o.quantity, 1.0, 1e-9);
    size_t before = qmtl_testkit_order_count(tk);
    feed(tk, T0 + 40 * 60, down, 40);
    size_t after = qmtl_testkit_order_count(tk);
    ck_assert_uint_gt(after, before);
    ck_assert_int_eq(qmtl_testkit_order(tk, after - 1, NULL, &o), QMTL_OK);
    ck_assert_int_eq(o.side, QMTL_SIDE_SELL);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(flat_market_trades_nothing)
{
    struct qmtl_testkit *tk = start();
    double c[60];
    ramp(c, 60, 100.0, 0.0);
    feed(tk, T0, c, 60);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "momentum"), 0.0, 1e-12);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "signal"), 0);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("general");
    tcase_add_test(tc, momentum_measures_the_move);
    tcase_add_test(tc, buys_the_uptrend_then_sells_the_downtrend);
    tcase_add_test(tc, flat_market_trades_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
