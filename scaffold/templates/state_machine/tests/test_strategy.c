/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

START_TEST(state_changes_once_per_trend)
{
    struct qmtl_testkit *tk = start();
    up_then_down(tk, 80, 0.001);
    /* monotone legs: exactly one transition each, remembered between ticks */
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "trend_state"), 2);
    struct qmtl_value v;
    ck_assert_int_eq(qmtl_testkit_output(tk, "trend_state", 0, NULL, &v), QMTL_OK);
    ck_assert_int_eq(v.type, QMTL_T_SIGNAL);
    ck_assert_double_eq(v.as.signal.target, 1.0);
    ck_assert_int_eq(qmtl_testkit_output(tk, "trend_state", 1, NULL, &v), QMTL_OK);
    ck_assert_double_eq(v.as.signal.target, -1.0);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(noise_inside_the_band_keeps_the_state)
{
    struct qmtl_testkit *tk = start();
    double c[100];
    for (size_t i = 0; i < 100; i++)
        c[i] = 100.0 * (1.0 + ((i & 1) ? 0.0001 : -0.0001));
    feed(tk, T0, c, 100);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "trend_state"), 0);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("state_machine");
    tcase_add_test(tc, state_changes_once_per_trend);
    tcase_add_test(tc, noise_inside_the_band_keeps_the_state);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
