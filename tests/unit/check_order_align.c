/* order_align: a publisher whose signal comes from a node another host computes (a remote
 * node fed through sched_feed, as the bus does) makes the orders and fills of one process,
 * whether the local price feed runs ahead of the remote values, behind them, or both in
 * turn; beyond the bound, the fallback is counted. */
#include "host/orders/order_align.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/orders/orders.h"

#include "remote_testlib.h"

#define N 240

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px;
    qmtl_node sma = remote_price_sma(ctx, h, err, &px);
    if (sma < 0)
        return QMTL_ERR;
    qmtl_node sg = h->signal(ctx,
                             &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = sma,
                                                        .buy_above = 100, .sell_below = 100},
                             err);
    if (sg < 0)
        return QMTL_ERR;
    qmtl_node op = h->order_publisher(
        ctx, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg, .quantity = 2},
        err);
    return op < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug = {QMTL_PLUGIN_HEADER, .name = "al", .setup = setup};

/* A walk around 100 that crosses it often. */
static double price_at(int i)
{
    uint64_t x = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return 100 + (double)(x % 2001) / 1000.0 - 1.0 + (i % 17 < 8 ? 0.3 : -0.3);
}

static void start(struct host *h, FILE **log, int record_sma)
{
    ck_assert_int_eq(host_init(h, NULL), 0);
    char err[256];
    ck_assert_ptr_nonnull(*log = tmpfile());
    h->order_log = *log;
    if (record_sma) {
        remote_sma.n = 0;
        h->on_output = remote_record;
    }
    ck_assert_int_eq(host_add_strategy(h, &plug, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(h, err, sizeof(err)), 0);
}

/* The text written to the order log, malloc'd. */
static char *finish(struct host *h, FILE *log)
{
    orders_flush(h);
    host_finish(h);
    fflush(log);
    long len = ftell(log);
    char *text = calloc(1, (size_t)len + 1);
    rewind(log);
    ck_assert_int_eq(fread(text, 1, (size_t)len, log), (size_t)len);
    fclose(log);
    h->order_log = NULL;
    host_release(h);
    return text;
}

static char *one_process(int n)
{
    struct host h;
    FILE *log;
    start(&h, &log, 1);
    for (int i = 0; i < n; i++)
        remote_price(&h, i, price_at(i));
    char *t = finish(&h, log);
    ck_assert_int_eq(remote_sma.n, n - 2);
    return t;
}

static int count(const char *text, const char *what)
{
    int k = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        k++;
    return k;
}

/* order: 0 the price feed first, 1 the remote values first, 2 interleaved; the metric of
 * signals priced without their bar into *missed */
static char *two_hosts(int order, int n, uint64_t *missed)
{
    struct host h;
    FILE *log;
    start(&h, &log, 0);
    remote_run(&h, remote_make(&h), order, n, price_at);
    *missed = h.metrics.order_price_missed;
    return finish(&h, log);
}

static void same_as_one_process(int order)
{
    char *one = one_process(N);
    ck_assert_int_gt(count(one, " order "), 10);
    ck_assert_int_gt(count(one, " fill "), 10);
    uint64_t missed;
    char *two = two_hosts(order, N, &missed);
    ck_assert_uint_eq(missed, 0);
    ck_assert_str_eq(two, one);
    free(one);
    free(two);
}

START_TEST(test_feed_ahead)
{
    same_as_one_process(0);
}
END_TEST

START_TEST(test_remote_ahead)
{
    same_as_one_process(1);
}
END_TEST

START_TEST(test_interleaved)
{
    for (int seed = 2; seed < 34; seed++) /* 32 different interleavings */
        same_as_one_process(seed);
}
END_TEST

/* The remote values come only after more than OA_HOLD bars: the oldest bars were let go,
 * the signals of their buckets are priced at the newest bar, counted. */
START_TEST(test_beyond_the_bound)
{
    int n = (int)OA_HOLD + 40;
    char *one = one_process(n);
    uint64_t missed;
    char *two = two_hosts(0, n, &missed);
    ck_assert_uint_gt(missed, 0);
    ck_assert_str_ne(two, one); /* the fallback: not the one-process prices */
    free(one);
    free(two);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("order_align");
    TCase *tc = tcase_create("align");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_feed_ahead);
    tcase_add_test(tc, test_remote_ahead);
    tcase_add_test(tc, test_interleaved);
    tcase_add_test(tc, test_beyond_the_bound);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
