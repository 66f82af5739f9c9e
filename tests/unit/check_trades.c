/* trades: round trips from fills, worked out by hand. */
#include "host/orders/trades.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

static void near(double a, double b, const char *what)
{
    ck_assert_msg(fabs(a - b) <= 1e-9 * (1 + fabs(b)), "%s = %.17g, want %.17g", what, a, b);
}
#define NEAR(a, b) near((a), (b), #a)

START_TEST(test_scale_in_partial_exit_flip)
{
    const struct trade_fill f[] = {
        {0, "BTC", +1, 10, 100, 1.0},   /* open long 10 @100 */
        {60, "BTC", +1, 10, 110, 1.1},  /* add 10 @110: average 105 */
        {60, "ETH", +1, 1, 50, 0},      /* another symbol, never closed */
        {120, "BTC", -1, 5, 120, 0.6},  /* reduce 5 @120: +75 */
        {180, "BTC", -1, 25, 100, 2.5}, /* close 15 @100 (-75), open short 10 */
        {300, "BTC", +1, 10, 90, 0.9},  /* cover @90: +100 */
    };
    struct trade_trip *t;
    size_t n;
    ck_assert_int_eq(trades_build(f, 6, 60, &t, &n), 1); /* ETH left open */
    ck_assert_uint_eq(n, 2);

    ck_assert_str_eq(t[0].symbol, "BTC");
    ck_assert_int_eq(t[0].side, 1);
    ck_assert_int_eq(t[0].entry_ts, 0);
    ck_assert_int_eq(t[0].exit_ts, 180);
    NEAR(t[0].qty, 20);
    NEAR(t[0].entry_px, 105);
    NEAR(t[0].exit_px, (5 * 120 + 15 * 100) / 20.0);
    NEAR(t[0].fees, 1.0 + 1.1 + 0.6 + 2.5 * 15 / 25);
    NEAR(t[0].pnl, 0 - 4.2);
    ck_assert_int_eq(t[0].bars, 3);

    ck_assert_int_eq(t[1].side, -1);
    ck_assert_int_eq(t[1].entry_ts, 180);
    ck_assert_int_eq(t[1].exit_ts, 300);
    NEAR(t[1].qty, 10);
    NEAR(t[1].entry_px, 100);
    NEAR(t[1].exit_px, 90);
    NEAR(t[1].fees, 1.0 + 0.9);
    NEAR(t[1].pnl, 100 - 1.9);
    ck_assert_int_eq(t[1].bars, 2);

    /* flat at the end: the trips' PnL is the cash the symbol made */
    double cash = -1000 - 1 - 1100 - 1.1 + 600 - 0.6 + 2500 - 2.5 - 900 - 0.9;
    NEAR(t[0].pnl + t[1].pnl, cash);
    free(t);
}
END_TEST

START_TEST(test_none_and_unknown_interval)
{
    struct trade_trip *t;
    size_t n;
    ck_assert_int_eq(trades_build(NULL, 0, 60, &t, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(t);
    const struct trade_fill f[] = {{10, "X", -1, 2, 10, 0}, {70, "X", +1, 2, 12, 0}};
    ck_assert_int_eq(trades_build(f, 2, 0, &t, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(t[0].bars, 0);
    NEAR(t[0].pnl, -4); /* short 2 from 10 to 12 */
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trades");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scale_in_partial_exit_flip);
    tcase_add_test(tc, test_none_and_unknown_interval);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
