#include "host/orders/broker.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void near(double a, double b, const char *what)
{
    ck_assert_msg(fabs(a - b) <= 1e-9 * (1 + fabs(b)), "%s = %.17g, want %.17g", what, a, b);
}
#define NEAR(a, b) near((a), (b), #a)

static struct qmtl_order order(int side, double qty, double price)
{
    struct qmtl_order o;
    memset(&o, 0, sizeof(o));
    o.side = side;
    o.quantity = qty;
    o.price = price;
    return o;
}

/* Round trip with fees and slippage, every number worked out by hand. */
START_TEST(test_round_trip_by_hand)
{
    struct broker *b = broker_new(10000, 10, 5); /* fee 0.1%, slippage 0.05% */
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(broker_mark(b, "BTC", 0, 100), 0);
    struct qmtl_order o = order(QMTL_SIDE_BUY, 10, 100);
    struct qmtl_fill f;
    ck_assert_int_eq(broker_submit(b, "BTC", 0, &o, &f), 0);
    /* buy 10 @ 100 * 1.0005 = 100.05; notional 1000.5; fee 1.0005 */
    ck_assert_uint_eq(f.size, sizeof(f));
    ck_assert_int_eq(f.side, QMTL_SIDE_BUY);
    ck_assert_str_eq(f.symbol, "BTC");
    NEAR(f.quantity, 10);
    NEAR(f.price, 100.05);
    NEAR(f.fee, 1.0005);
    ck_assert_int_eq(f.ts, 0);
    NEAR(broker_cash(b), 8998.4995);
    NEAR(broker_position(b, "BTC"), 10);
    NEAR(broker_equity(b), 9998.4995);

    ck_assert_int_eq(broker_mark(b, "BTC", 60, 110), 0);
    NEAR(broker_equity(b), 10098.4995);
    o = order(QMTL_SIDE_SELL, 10, 0); /* price 0: use the mark, 110 */
    ck_assert_int_eq(broker_submit(b, "BTC", 60, &o, &f), 0);
    /* sell 10 @ 110 * 0.9995 = 109.945; notional 1099.45; fee 1.09945 */
    NEAR(f.price, 109.945);
    NEAR(f.fee, 1.09945);
    NEAR(broker_cash(b), 10096.85005);
    ck_assert(broker_position(b, "BTC") == 0);
    NEAR(broker_equity(b), 10096.85005);

    struct broker_stats st;
    broker_stats(b, &st);
    ck_assert_int_eq(st.trades, 2);
    NEAR(st.fees, 2.09995);
    NEAR(st.turnover, 2099.95);
    NEAR(st.pnl, 96.85005);
    NEAR(st.ret, 0.009685005);
    ck_assert_int_eq(st.bars, 2);          /* one point per timestamp */
    NEAR(st.max_drawdown, 1.5005 / 10000); /* below the initial cash right after the buy */
    ck_assert(st.sharpe == 0);             /* a single return: undefined, reported 0 */
    ck_assert_int_eq(st.interval_s, 60);
    broker_free(b);
}
END_TEST

/*
 * Fully invested in one unit-priced asset: equity follows the price 100, 110, 99,
 * 108.9 daily. Returns +10%, -10%, +10%: mean 1/30, sample sd sqrt(12)/30, so the
 * daily Sharpe is 1/sqrt(12) and the annual one sqrt(365/12). Drawdown 110 -> 99 = 10%.
 */
START_TEST(test_sharpe_and_drawdown_by_hand)
{
    struct broker *b = broker_new(1000, 0, 0);
    ck_assert_int_eq(broker_mark(b, "X", 0, 100), 0);
    struct qmtl_order o = order(QMTL_SIDE_BUY, 10, 0);
    ck_assert_int_eq(broker_submit(b, "X", 0, &o, NULL), 0);
    NEAR(broker_cash(b), 0);
    const double px[] = {110, 99, 108.9};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(broker_mark(b, "X", (i + 1) * 86400, px[i]), 0);
    struct broker_stats st;
    broker_stats(b, &st);
    ck_assert_int_eq(st.bars, 4);
    ck_assert_int_eq(st.interval_s, 86400);
    NEAR(st.sharpe, sqrt(365.0 / 12.0));
    NEAR(st.max_drawdown, 0.1);
    NEAR(st.pnl, 89);
    NEAR(st.ret, 0.089);
    /* an explicit interval changes only the annualization: hourly bars */
    broker_set_interval(b, 3600);
    broker_stats(b, &st);
    NEAR(st.sharpe, sqrt(365.0 * 24 / 12.0));
    broker_free(b);
}
END_TEST

/* Sharpe over a longer series against a two-pass computation of the formula. */
START_TEST(test_sharpe_matches_formula)
{
    struct broker *b = broker_new(50000, 0, 0);
    double eq[200];
    ck_assert_int_eq(broker_mark(b, "A", 1000, 50), 0);
    struct qmtl_order o = order(QMTL_SIDE_BUY, 1000, 50);
    ck_assert_int_eq(broker_submit(b, "A", 1000, &o, NULL), 0);
    eq[0] = 50000;
    double price = 50;
    for (int i = 1; i < 200; i++) {
        price *= 1 + 0.01 * sin(i * 0.7) + 0.002;
        ck_assert_int_eq(broker_mark(b, "A", 1000 + i * 300, price), 0);
        eq[i] = 1000 * price;
    }
    double mean = 0, var = 0, r[199];
    for (int i = 1; i < 200; i++) {
        r[i - 1] = eq[i] / eq[i - 1] - 1;
        mean += r[i - 1];
    }
    mean /= 199;
    for (int i = 0; i < 199; i++)
        var += (r[i] - mean) * (r[i] - mean);
    var /= 198;
    double peak = 50000, mdd = 0;
    for (int i = 0; i < 200; i++) {
        peak = fmax(peak, eq[i]);
        mdd = fmax(mdd, (peak - eq[i]) / peak);
    }
    struct broker_stats st;
    broker_stats(b, &st);
    ck_assert_int_eq(st.interval_s, 300);
    ck_assert_msg(fabs(st.sharpe - mean / sqrt(var) * sqrt(365.0 * 86400 / 300)) < 1e-9,
                  "sharpe %.17g", st.sharpe);
    NEAR(st.max_drawdown, mdd);
    ck_assert(mdd > 0);
    broker_free(b);
}
END_TEST

START_TEST(test_short_and_two_symbols)
{
    struct broker *b = broker_new(1000, 0, 0);
    ck_assert_int_eq(broker_mark(b, "A", 10, 100), 0);
    ck_assert_int_eq(broker_mark(b, "B", 10, 20), 0);
    struct qmtl_order o = order(QMTL_SIDE_SELL, 5, 0);
    ck_assert_int_eq(broker_submit(b, "A", 10, &o, NULL), 0);
    o = order(QMTL_SIDE_BUY, 10, 0);
    ck_assert_int_eq(broker_submit(b, "B", 10, &o, NULL), 0);
    NEAR(broker_cash(b), 1000 + 500 - 200);
    NEAR(broker_position(b, "A"), -5);
    NEAR(broker_position(b, "B"), 10);
    ck_assert_int_eq(broker_mark(b, "A", 20, 90), 0); /* short gains 50 */
    ck_assert_int_eq(broker_mark(b, "B", 20, 19), 0); /* long loses 10 */
    NEAR(broker_equity(b), 1040);
    NEAR(broker_mark_price(b, "A"), 90);
    ck_assert(isnan(broker_mark_price(b, "nope")));
    ck_assert(broker_position(b, "nope") == 0);
    struct broker_stats st;
    broker_stats(b, &st);
    ck_assert_int_eq(st.bars, 2); /* two symbols at one timestamp: one point */
    NEAR(st.pnl, 40);
    ck_assert_int_eq(st.trades, 2);
    ck_assert_int_eq(st.interval_s, 10);
    broker_free(b);
}
END_TEST

START_TEST(test_rejects)
{
    ck_assert_ptr_null(broker_new(0, 1, 1));
    ck_assert_ptr_null(broker_new(-5, 1, 1));
    ck_assert_ptr_null(broker_new(100, -1, 1));
    ck_assert_ptr_null(broker_new(100, 1, NAN));
    struct broker *b = broker_new(1000, 1, 1);
    struct qmtl_order o = order(QMTL_SIDE_BUY, 1, 0);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1); /* no price known */
    o = order(0, 1, 10);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1);
    o = order(QMTL_SIDE_BUY, 0, 10);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1);
    o = order(QMTL_SIDE_BUY, -2, 10);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1);
    o = order(QMTL_SIDE_BUY, NAN, 10);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1);
    o = order(QMTL_SIDE_BUY, 1, INFINITY);
    ck_assert_int_eq(broker_submit(b, "A", 0, &o, NULL), -1);
    ck_assert_int_eq(broker_mark(b, "A", 0, 0), -1);
    ck_assert_int_eq(broker_mark(b, "A", 0, NAN), -1);
    ck_assert_int_eq(broker_mark(b, "A", 0, -3), -1);
    NEAR(broker_cash(b), 1000);
    struct broker_stats st;
    broker_stats(b, &st);
    ck_assert_int_eq(st.trades, 0);
    ck_assert_int_eq(st.bars, 0);
    ck_assert(st.pnl == 0 && st.sharpe == 0 && st.max_drawdown == 0);
    broker_free(b);
    broker_free(NULL);
}
END_TEST

/* Same calls, bit-identical results; tiny residual positions are snapped to zero. */
START_TEST(test_deterministic)
{
    struct broker_stats st[2];
    for (int run = 0; run < 2; run++) {
        struct broker *b = broker_new(10000, 2.5, 1.5);
        double p = 100;
        for (int i = 0; i < 1000; i++) {
            p *= 1 + 0.003 * cos(i * 1.3);
            broker_mark(b, "S", i * 60, p);
            struct qmtl_order o = order(i % 3 == 0 ? QMTL_SIDE_SELL : QMTL_SIDE_BUY, 0.1, 0);
            broker_submit(b, "S", i * 60, &o, NULL);
        }
        broker_stats(b, &st[run]);
        broker_free(b);
    }
    ck_assert(memcmp(&st[0], &st[1], sizeof(st[0])) == 0);
    ck_assert_int_eq(st[0].trades, 1000);

    struct broker *b = broker_new(100, 0, 0);
    broker_mark(b, "S", 0, 1);
    for (int i = 0; i < 3; i++) {
        struct qmtl_order o = order(QMTL_SIDE_BUY, 0.1, 0);
        broker_submit(b, "S", 0, &o, NULL);
    }
    struct qmtl_order o = order(QMTL_SIDE_SELL, 0.3, 0);
    broker_submit(b, "S", 0, &o, NULL);
    ck_assert(broker_position(b, "S") == 0);
    broker_free(b);
}
END_TEST

/* The curve: one point per bar with the benchmark (first symbol, bought and held with
 * the initial cash) and whether a position is held; every fill is kept. */
START_TEST(test_curve_points_and_fills)
{
    struct broker *b = broker_new(1000, 0, 0);
    broker_mark(b, "BTC", 60, 100);
    struct qmtl_order o = order(QMTL_SIDE_BUY, 2, 0);
    broker_submit(b, "BTC", 120, &o, NULL);
    broker_mark(b, "BTC", 120, 110);
    o = order(QMTL_SIDE_SELL, 2, 0);
    broker_mark(b, "BTC", 180, 120);
    broker_submit(b, "BTC", 180, &o, NULL);
    size_t n, nf;
    const struct stats_point *p = broker_points(b, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(p[0].ts, 60);
    NEAR(p[0].equity, 1000);
    NEAR(p[0].bench, 1000);
    ck_assert_int_eq(p[0].in_market, 0);
    NEAR(p[1].equity, 1000 + 2 * 10); /* bought at 100, marked 110 */
    NEAR(p[1].bench, 1100);
    ck_assert_int_eq(p[1].in_market, 1);
    NEAR(p[2].equity, 1040);
    NEAR(p[2].bench, 1200);
    ck_assert_int_eq(p[2].in_market, 0);
    const struct trade_fill *f = broker_fills(b, &nf);
    ck_assert_uint_eq(nf, 2);
    ck_assert_str_eq(f[0].symbol, "BTC");
    ck_assert_int_eq(f[0].side, 1);
    NEAR(f[0].price, 100);
    ck_assert_int_eq(f[1].ts, 180);
    NEAR(f[1].price, 120);
    broker_free(b);
}
END_TEST

/* ---- resting orders against bars */

struct ev_log {
    int n;
    char coid[16][32];
    double qty[16], px[16], left[16];
    int filled[16];
};

static void on_ev(void *arg, const char *coid, const struct qmtl_fill *f, double remaining)
{
    struct ev_log *l = arg;
    int k = l->n++ & 15;
    snprintf(l->coid[k], sizeof(l->coid[k]), "%s", coid);
    l->filled[k] = f != NULL;
    l->qty[k] = f ? f->quantity : 0;
    l->px[k] = f ? f->price : 0;
    l->left[k] = remaining;
}

static struct broker_order ord(const char *id, int side, double qty, int type, double lvl,
                               int tif, int64_t ts)
{
    return (struct broker_order){.client_order_id = id, .symbol = "X", .side = side,
                                 .quantity = qty, .type = type,
                                 .limit_price = type == BROKER_LIMIT ? lvl : 0,
                                 .stop_price = type == BROKER_STOP ? lvl : 0, .tif = tif,
                                 .ts = ts};
}

START_TEST(test_market_next_open)
{
    struct broker *b = broker_new(1000, 10, 100); /* fee 0.1%, slippage 1% */
    struct broker_order o = ord("m1", 1, 2, BROKER_MARKET, 0, BROKER_GTC, 60);
    ck_assert_int_eq(broker_place(b, &o), 0);
    ck_assert_int_eq(broker_place(b, &o), -1); /* same id */
    struct ev_log l = {0};
    struct qmtl_bar same = {.open = 50, .high = 60, .low = 40, .close = 55};
    ck_assert_int_eq(broker_bar(b, "X", 60, &same, on_ev, &l), 0); /* its own bar: no */
    ck_assert_int_eq(l.n, 0);
    struct qmtl_bar next = {.open = 10, .high = 12, .low = 9, .close = 11};
    ck_assert_int_eq(broker_bar(b, "Y", 120, &next, on_ev, &l), 0); /* other symbol */
    ck_assert_int_eq(broker_bar(b, "X", 120, &next, on_ev, &l), 1);
    ck_assert_int_eq(l.n, 1);
    ck_assert(l.filled[0] && l.qty[0] == 2 && l.left[0] == 0);
    ck_assert(fabs(l.px[0] - 10.1) < 1e-12); /* the open, plus slippage */
    ck_assert(broker_position(b, "X") == 2);
    ck_assert(fabs(broker_cash(b) - (1000 - 2 * 10.1 * 1.001)) < 1e-9);
    ck_assert_uint_eq(broker_resting(b), 0);
    broker_free(b);
}
END_TEST

START_TEST(test_limit_and_stop)
{
    struct broker *b = broker_new(100000, 0, 100);
    struct ev_log l = {0};
    struct broker_order os[] = {
        ord("lb", 1, 1, BROKER_LIMIT, 95, BROKER_GTC, 0),  /* buy limit below the market */
        ord("ls", -1, 1, BROKER_LIMIT, 90, BROKER_GTC, 0), /* sell limit below: at open */
        ord("sb", 1, 1, BROKER_STOP, 104, BROKER_GTC, 0),  /* buy stop above */
        ord("ss", -1, 1, BROKER_STOP, 80, BROKER_GTC, 0),  /* sell stop far below: waits */
    };
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(broker_place(b, &os[i]), 0);
    struct qmtl_bar bar = {.open = 100, .high = 106, .low = 94, .close = 101};
    ck_assert_int_eq(broker_bar(b, "X", 60, &bar, on_ev, &l), 3);
    ck_assert_int_eq(l.n, 3);
    ck_assert_str_eq(l.coid[0], "lb");
    ck_assert(l.px[0] == 95); /* low reached the limit: at the limit, no slippage */
    ck_assert_str_eq(l.coid[1], "ls");
    ck_assert(l.px[1] == 100); /* open already better than the limit: at open */
    ck_assert_str_eq(l.coid[2], "sb");
    ck_assert(fabs(l.px[2] - 104 * 1.01) < 1e-9); /* stop level, with slippage */
    ck_assert_uint_eq(broker_resting(b), 1);
    /* a gap through the stop fills at the open */
    struct qmtl_bar gap = {.open = 70, .high = 72, .low = 69, .close = 71};
    l.n = 0;
    ck_assert_int_eq(broker_bar(b, "X", 120, &gap, on_ev, &l), 1);
    ck_assert(fabs(l.px[0] - 70 * 0.99) < 1e-9);
    ck_assert_int_eq(broker_cancel(b, "ss"), -1); /* already filled */
    /* invalid orders */
    struct broker_order bad = ord("z", 1, 1, BROKER_LIMIT, 0, BROKER_GTC, 0);
    ck_assert_int_eq(broker_place(b, &bad), -1);
    bad = ord("z", 1, 1, BROKER_STOP, -1, BROKER_GTC, 0);
    ck_assert_int_eq(broker_place(b, &bad), -1);
    bad = ord("z", 1, 1, 7, 1, BROKER_GTC, 0);
    ck_assert_int_eq(broker_place(b, &bad), -1);
    broker_free(b);
}
END_TEST

START_TEST(test_partial_tif_cancel)
{
    struct broker *b = broker_new(100000, 0, 0);
    struct ev_log l = {0};
    /* a limit order larger than the bar's volume fills in parts */
    struct broker_order big = ord("big", 1, 250, BROKER_LIMIT, 100, BROKER_GTC, 0);
    ck_assert_int_eq(broker_place(b, &big), 0);
    struct qmtl_bar bar = {.open = 101, .high = 102, .low = 99, .close = 100, .volume = 100};
    ck_assert_int_eq(broker_bar(b, "X", 60, &bar, on_ev, &l), 1);
    ck_assert(l.qty[0] == 100 && l.left[0] == 150);
    ck_assert_int_eq(broker_bar(b, "X", 120, &bar, on_ev, &l), 1);
    ck_assert(l.qty[1] == 100 && l.left[1] == 50);
    ck_assert_int_eq(broker_cancel(b, "big"), 0);
    ck_assert_uint_eq(broker_resting(b), 0);
    ck_assert(broker_position(b, "X") == 200);
    /* ioc: one bar, then the rest expires */
    l.n = 0;
    struct broker_order ioc = ord("ioc", 1, 150, BROKER_LIMIT, 100, BROKER_IOC, 120);
    ck_assert_int_eq(broker_place(b, &ioc), 0);
    ck_assert_int_eq(broker_bar(b, "X", 180, &bar, on_ev, &l), 1);
    ck_assert_int_eq(l.n, 2);
    ck_assert(l.filled[0] && l.qty[0] == 100);
    ck_assert(!l.filled[1] && l.left[1] == 50);
    ck_assert_uint_eq(broker_resting(b), 0);
    /* day: expires at the first bar of a later UTC day, unfilled */
    l.n = 0;
    struct broker_order day = ord("day", 1, 1, BROKER_LIMIT, 50, BROKER_DAY, 86400 + 60);
    ck_assert_int_eq(broker_place(b, &day), 0);
    ck_assert_int_eq(broker_bar(b, "X", 86400 + 120, &bar, on_ev, &l), 0);
    ck_assert_int_eq(l.n, 0);
    ck_assert_int_eq(broker_bar(b, "X", 2 * 86400, &bar, on_ev, &l), 0);
    ck_assert_int_eq(l.n, 1);
    ck_assert(!l.filled[0] && l.left[0] == 1);
    ck_assert_uint_eq(broker_resting(b), 0);
    broker_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("broker");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip_by_hand);
    tcase_add_test(tc, test_sharpe_and_drawdown_by_hand);
    tcase_add_test(tc, test_sharpe_matches_formula);
    tcase_add_test(tc, test_short_and_two_symbols);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_curve_points_and_fills);
    tcase_add_test(tc, test_market_next_open);
    tcase_add_test(tc, test_limit_and_stop);
    tcase_add_test(tc, test_partial_tif_cancel);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
