/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

START_TEST(indicators_agree_on_an_uptrend)
{
    struct qmtl_testkit *tk = start();
    double c[60];
    ramp(c, 60, 100.0, 0.001);
    feed(tk, T0, c, 60);
    double fast = qmtl_testkit_last_number(tk, "fast_ema");
    double slow = qmtl_testkit_last_number(tk, "slow_ema");
    ck_assert_double_gt(fast, slow);
    ck_assert_double_gt(qmtl_testkit_last_number(tk, "rsi"), 99.0); /* only gains */
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "score"), fast / slow - 1, 1e-12);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    ck_assert_int_eq(order_side(tk, 0, NULL), QMTL_SIDE_BUY);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(reverses_on_a_downtrend)
{
    struct qmtl_testkit *tk = start();
    up_then_down(tk, 60, 0.001);
    ck_assert_double_lt(qmtl_testkit_last_number(tk, "rsi"), 5.0); /* mostly losses lately */
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(flat_market_trades_nothing)
{
    struct qmtl_testkit *tk = start();
    double c[60];
    ramp(c, 60, 100.0, 0.0);
    feed(tk, T0, c, 60);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("multi_indicator");
    tcase_add_test(tc, indicators_agree_on_an_uptrend);
    tcase_add_test(tc, reverses_on_a_downtrend);
    tcase_add_test(tc, flat_market_trades_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
