/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

/* Closes zig-zagging: 'up' then 'down' (fractions), n bars. */
static void zigzag(double *out, size_t n, double from, double up, double down)
{
    out[0] = from;
    for (size_t i = 1; i < n; i++)
        out[i] = out[i - 1] * (1.0 + ((i & 1) ? up : down));
}

START_TEST(both_branches_compute)
{
    struct qmtl_testkit *tk = start();
    double c[40];
    zigzag(c, 40, 100.0, 0.005, 0.001); /* rising, unevenly */
    feed(tk, T0, c, 40);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "momentum"), 0);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "volatility"), 0);
    double mom = qmtl_testkit_last_number(tk, "momentum");
    double vol = qmtl_testkit_last_number(tk, "volatility");
    ck_assert_double_eq_tol(mom, c[39] / c[29] - 1, 1e-12);
    ck_assert_double_gt(vol, 0.0015); /* returns alternate 0.5 % and 0.1 % */
    ck_assert_double_lt(vol, 0.003);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "risk_adjusted"),
                            mom / (vol * sqrt(10.0)), 1e-9);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    ck_assert_int_eq(order_side(tk, 0, NULL), QMTL_SIDE_BUY);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(sells_a_steady_decline)
{
    struct qmtl_testkit *tk = start();
    double c[40];
    zigzag(c, 40, 100.0, -0.005, -0.001);
    feed(tk, T0, c, 40);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    ck_assert_int_eq(order_side(tk, 0, NULL), QMTL_SIDE_SELL);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(no_volatility_no_opinion)
{
    struct qmtl_testkit *tk = start();
    double c[40];
    ramp(c, 40, 100.0, 0.0);
    feed(tk, T0, c, 40);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "risk_adjusted"), 0);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("branching");
    tcase_add_test(tc, both_branches_compute);
    tcase_add_test(tc, sells_a_steady_decline);
    tcase_add_test(tc, no_volatility_no_opinion);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
