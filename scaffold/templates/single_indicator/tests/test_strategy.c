/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

START_TEST(ema_of_a_constant_is_the_constant)
{
    struct qmtl_testkit *tk = start();
    double c[40];
    ramp(c, 40, 250.0, 0.0);
    feed(tk, T0, c, 40);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "ema"), 0);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "ema"), 250.0, 1e-9);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "ema_slope"), 0.0, 1e-12);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(ema_lags_a_rising_price)
{
    struct qmtl_testkit *tk = start();
    double c[40];
    ramp(c, 40, 100.0, 0.001);
    feed(tk, T0, c, 40);
    double ema = qmtl_testkit_last_number(tk, "ema");
    ck_assert_double_lt(ema, c[39]);
    ck_assert_double_gt(ema, c[25]);
    ck_assert_double_gt(qmtl_testkit_last_number(tk, "ema_slope"), 0.0);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(trades_the_slope)
{
    struct qmtl_testkit *tk = start();
    up_then_down(tk, 50, 0.001);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("single_indicator");
    tcase_add_test(tc, ema_of_a_constant_is_the_constant);
    tcase_add_test(tc, ema_lags_a_rising_price);
    tcase_add_test(tc, trades_the_slope);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
