/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

START_TEST(cooldown_spaces_the_orders)
{
    struct qmtl_testkit *tk = start();
    up_then_down(tk, 40, 0.001);
    int64_t t_first = 0, t_last = 0;
    order_side(tk, 0, &t_first);
    order_side(tk, qmtl_testkit_order_count(tk) - 1, &t_last);
    ck_assert_int_ge(t_last - t_first, 15 * 60);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "raw_signal"), 0);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(volatility_cap_blocks_orders)
{
    struct qmtl_testkit *tk = start();
    double c[80];
    c[0] = 100.0;
    for (size_t i = 1; i < 80; i++) /* +-2.5 % swings with an upward drift */
        c[i] = c[i - 1] * ((i & 1) ? 1.03 : 0.98);
    feed(tk, T0, c, 80);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "raw_signal"), 0);
    ck_assert_double_gt(qmtl_testkit_last_number(tk, "volatility"), 0.01);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("order_pipeline");
    tcase_add_test(tc, cooldown_spaces_the_orders);
    tcase_add_test(tc, volatility_cap_blocks_orders);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
