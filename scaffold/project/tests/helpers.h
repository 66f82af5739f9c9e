/*
 * helpers.h: small helpers shared by this project's tests (feeding the testkit
 * synthetic price paths and reading back orders).
 */
#ifndef PROJECT_TEST_HELPERS_H
#define PROJECT_TEST_HELPERS_H

#include <check.h>
#include <math.h>
#include <qmtl/testkit.h>

/* The strategy under test, linked in from build/obj (see the Makefile). */
extern const struct qmtl_plugin qmtl_plugin_descriptor;

#define T0 1704067200 /* 2024-01-01T00:00:00Z */

/* A testkit running the strategy's setup() with its default parameters. */
static inline struct qmtl_testkit *start(void)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&qmtl_plugin_descriptor, NULL, &err);
    ck_assert_msg(tk != NULL, "setup failed: %s", err.msg);
    return tk;
}

/* n closes from 'from', each 'step' (a fraction) away from the previous one. */
static inline void ramp(double *out, size_t n, double from, double step)
{
    for (size_t i = 0; i < n; i++)
        out[i] = from * pow(1.0 + step, (double)i);
}

/* Feed one-minute bars with these closes to the streams tagged 'tag'. */
static inline void feed_tag(struct qmtl_testkit *tk, const char *tag, int64_t ts0,
                            const double *closes, size_t n)
{
    struct qmtl_err err = {0};
    ck_assert_msg(qmtl_testkit_feed_closes(tk, tag, ts0, 60, closes, n, &err) == QMTL_OK,
                  "feed failed: %s", err.msg);
}

static inline void feed(struct qmtl_testkit *tk, int64_t ts0, const double *closes, size_t n)
{
    feed_tag(tk, "BTC", ts0, closes, n);
}

/* Side of the i-th order (and its time into *ts when not NULL). */
static inline int order_side(struct qmtl_testkit *tk, size_t i, int64_t *ts)
{
    struct qmtl_order o;
    ck_assert_int_eq(qmtl_testkit_order(tk, i, ts, &o), QMTL_OK);
    return o.side;
}

/* Rise for n bars, then fall for n bars: the strategy buys, then sells. */
static inline void up_then_down(struct qmtl_testkit *tk, size_t n, double step)
{
    double up[200], down[200];
    ck_assert_uint_le(n, 200);
    ramp(up, n, 100.0, step);
    ramp(down, n, up[n - 1], -step);
    feed(tk, T0, up, n);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    ck_assert_int_eq(order_side(tk, 0, NULL), QMTL_SIDE_BUY);
    size_t before = qmtl_testkit_order_count(tk);
    feed(tk, T0 + (int64_t)n * 60, down, n);
    size_t after = qmtl_testkit_order_count(tk);
    ck_assert_uint_gt(after, before);
    ck_assert_int_eq(order_side(tk, after - 1, NULL), QMTL_SIDE_SELL);
    ck_assert_uint_ge(qmtl_testkit_signal_count(tk), 2); /* at least: buy, then sell */
}

#endif
