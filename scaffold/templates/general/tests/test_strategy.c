/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

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
    /* long -> flat (momentum below 'exit') -> short (below -'enter'): 2 units sold */
    double sold = 0;
    for (size_t i = before; i < after; i++) {
        ck_assert_int_eq(qmtl_testkit_order(tk, i, NULL, &o), QMTL_OK);
        ck_assert_int_eq(o.side, QMTL_SIDE_SELL);
        sold += o.quantity;
    }
    ck_assert_double_eq_tol(sold, 2.0, 1e-9);
    /* every decision became one order */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_order_count(tk));
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
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), 0);
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
