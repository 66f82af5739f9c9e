/* stats: every statistic against a series worked out by hand (see docs/backtest.md). */
#include "host/report/stats.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

static void near(double a, double b, const char *what)
{
    ck_assert_msg(fabs(a - b) <= 1e-9 * (1 + fabs(b)), "%s = %.17g, want %.17g", what, a, b);
}
#define NEAR(a, b) near((a), (b), #a)

/*
 * Daily bars, E_0 = 100: equity 110, 99, 99, 118.8 (returns -0.1, 0, +0.2 between
 * points); in the market on bars 1, 2 and 4; benchmark ends at 120.
 */
static const struct stats_point SERIES[] = {
    {86400, 110, 105, 1},
    {2 * 86400, 99, 95, 1},
    {3 * 86400, 99, 100, 0},
    {4 * 86400, 118.8, 120, 1},
};

static const struct trade_trip TRIPS[] = {
    {.pnl = 10}, {.pnl = -4}, {.pnl = -2}, {.pnl = 5}, {.pnl = -1},
};

static void compute(int64_t interval, struct stats_result *r)
{
    struct stats_input in = {.pts = SERIES,
                             .n = 4,
                             .initial = 100,
                             .interval_s = interval,
                             .trips = TRIPS,
                             .n_trips = 5,
                             .fees = 3,
                             .traded_notional = 250};
    stats_compute(&in, r);
}

START_TEST(test_returns_and_ratios)
{
    struct stats_result r;
    compute(0, &r); /* interval inferred: one day */
    ck_assert_int_eq(r.points, 4);
    ck_assert_int_eq(r.interval_s, 86400);
    NEAR(r.final_equity, 118.8);
    NEAR(r.pnl, 18.8);
    NEAR(r.total_return, 0.188);
    /* mean = 0.1 / 3; squared deviations sum to 0.05 - 3 / 900 = 7 / 150; sd^2 = 7 / 300 */
    double ppy = 365;
    NEAR(r.volatility, sqrt(7.0 / 300.0) * sqrt(ppy));
    NEAR(r.sharpe, (1.0 / 30.0) / sqrt(7.0 / 300.0) * sqrt(ppy));
    /* downside deviation: sqrt(0.01 / 3) */
    NEAR(r.sortino, (1.0 / 30.0) / sqrt(0.01 / 3.0) * sqrt(ppy));
    /* four days are 4 / 365 years */
    NEAR(r.cagr, pow(1.188, 365.0 / 4.0) - 1);
    NEAR(r.max_drawdown, 0.1); /* 110 -> 99 */
    ck_assert_int_eq(r.max_dd_bars, 2);
    NEAR(r.calmar, r.cagr / 0.1);
    NEAR(r.exposure, 0.75);
    NEAR(r.turnover, 2.5);
    NEAR(r.fees, 3);
    NEAR(r.bench_return, 0.2);
    NEAR(r.excess_return, -0.012);
}
END_TEST

START_TEST(test_interval_changes_annualization_only)
{
    struct stats_result d, h;
    compute(0, &d);
    compute(3600, &h); /* the same points read as hourly bars */
    NEAR(h.sharpe, d.sharpe * sqrt(24.0));
    NEAR(h.volatility, d.volatility * sqrt(24.0));
    NEAR(h.cagr, pow(1.188, 365.0 * 24 / 4.0) - 1);
    NEAR(h.total_return, d.total_return);
    NEAR(h.max_drawdown, d.max_drawdown);
}
END_TEST

START_TEST(test_round_trip_figures)
{
    struct stats_result r;
    compute(0, &r);
    ck_assert_int_eq(r.round_trips, 5);
    ck_assert_int_eq(r.wins, 2);
    ck_assert_int_eq(r.losses, 3);
    NEAR(r.win_rate, 0.4);
    NEAR(r.profit_factor, 15.0 / 7.0);
    NEAR(r.avg_win, 7.5);
    NEAR(r.avg_loss, -7.0 / 3.0);
    ck_assert_int_eq(r.max_losing_streak, 2);
}
END_TEST

START_TEST(test_undefined_cases)
{
    struct stats_result r;
    struct stats_input in = {.initial = 100};
    stats_compute(&in, &r); /* nothing at all */
    ck_assert_int_eq(r.points, 0);
    ck_assert(r.sharpe == 0 && r.sortino == 0 && r.cagr == 0 && r.calmar == 0);
    NEAR(r.final_equity, 100);
    ck_assert(isnan(r.profit_factor));
    ck_assert(r.win_rate == 0 && r.avg_win == 0 && r.avg_loss == 0);

    /* constant growth: sd 0 -> sharpe 0; no loss -> sortino 0, no drawdown -> calmar 0 */
    const struct stats_point up[] = {{60, 101, 100, 1}, {120, 102.01, 100, 1},
                                     {180, 103.0301, 100, 1}};
    const struct trade_trip win[] = {{.pnl = 3}};
    struct stats_input c = {.pts = up, .n = 3, .initial = 100, .trips = win, .n_trips = 1};
    stats_compute(&c, &r);
    ck_assert(r.sharpe == 0 && r.sortino == 0 && r.calmar == 0);
    NEAR(r.max_drawdown, 0);
    ck_assert(isnan(r.profit_factor)); /* no losing trip */
    NEAR(r.win_rate, 1);

    /* ruin: equity below zero gives a CAGR of -100% */
    const struct stats_point ruin[] = {{60, 50, 100, 1}, {120, -10, 100, 1}};
    struct stats_input z = {.pts = ruin, .n = 2, .initial = 100};
    stats_compute(&z, &r);
    NEAR(r.cagr, -1);
    NEAR(r.max_drawdown, 1.1);
}
END_TEST

START_TEST(test_merge_portfolio)
{
    const struct stats_point a[] = {{60, 110, 100, 1}, {180, 120, 90, 0}};
    const struct stats_point b[] = {{120, 50, 60, 0}, {180, 40, 70, 1}};
    const struct stats_point *s[] = {a, b};
    size_t lens[] = {2, 2};
    double init[] = {100, 50};
    struct stats_point *m;
    size_t n;
    ck_assert_int_eq(stats_merge(s, lens, init, 2, &m, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(m[0].ts, 60); /* b not started: its initial cash */
    NEAR(m[0].equity, 160);
    NEAR(m[0].bench, 150);
    ck_assert_int_eq(m[0].in_market, 1);
    ck_assert_int_eq(m[1].ts, 120);
    NEAR(m[1].equity, 160);
    NEAR(m[1].bench, 160);
    ck_assert_int_eq(m[1].in_market, 1);
    ck_assert_int_eq(m[2].ts, 180);
    NEAR(m[2].equity, 160);
    NEAR(m[2].bench, 160);
    ck_assert_int_eq(m[2].in_market, 1);
    free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_returns_and_ratios);
    tcase_add_test(tc, test_interval_changes_annualization_only);
    tcase_add_test(tc, test_round_trip_figures);
    tcase_add_test(tc, test_undefined_cases);
    tcase_add_test(tc, test_merge_portfolio);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
