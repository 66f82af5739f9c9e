/* order_align: a publisher whose signal comes from a node another host computes (a remote
 * node fed through sched_feed, as the bus does) makes the orders and fills of one process,
 * whether the local price feed runs ahead of the remote values, behind them, or both in
 * turn; beyond the bound, the fallback is counted. */
#include "host/orders/order_align.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/orders/orders.h"

#define N 240

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
    qmtl_node sma = h->indicator(
        ctx,
        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                      .name = "sma", .inputs = {px}, .window = 3},
        err);
    qmtl_node sg = h->signal(ctx,
                             &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = sma,
                                                        .buy_above = 100, .sell_below = 100},
                             err);
    if (px < 0 || sma < 0 || sg < 0)
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

/* The sma's outputs of the one-process run: what the other host publishes. */
static struct {
    int64_t ts[2 * N + OA_HOLD];
    double v[2 * N + OA_HOLD];
    int n;
} sma_out;

static void record(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    (void)arg;
    if (n->kind == GRAPH_INDICATOR) {
        sma_out.ts[sma_out.n] = ts;
        sma_out.v[sma_out.n++] = v->as.number;
    }
}

static void start(struct host *h, FILE **log, int record_sma)
{
    ck_assert_int_eq(host_init(h, NULL), 0);
    char err[256];
    ck_assert_ptr_nonnull(*log = tmpfile());
    h->order_log = *log;
    if (record_sma) {
        sma_out.n = 0;
        h->on_output = record;
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

static void feed_price(struct host *h, int i)
{
    const char *tags[] = {"X"};
    struct qmtl_value v = qmtl_number(price_at(i));
    ck_assert_int_ge(host_feed(h, tags, 1, 1000 + i, &v), 1);
}

static uint32_t sma_idx(struct host *h)
{
    for (uint32_t i = 0; i < graph_count(h->g); i++)
        if (graph_node(h->g, i)->kind == GRAPH_INDICATOR)
            return i;
    ck_abort_msg("no sma");
    return 0;
}

/* The sma becomes a node another host computes (as host/online/bus.c makes it). */
static uint32_t make_remote(struct host *h)
{
    uint32_t i = sma_idx(h);
    graph_node(h->g, i)->kind = GRAPH_REMOTE;
    runtime_refresh(sched_runtime(h->s), i);
    return i;
}

static void feed_remote(struct host *h, uint32_t idx, int k)
{
    struct qmtl_value v = qmtl_number(sma_out.v[k]);
    ck_assert_int_eq(sched_feed(h->s, idx, sma_out.ts[k], &v), 0);
}

static char *one_process(int n)
{
    struct host h;
    FILE *log;
    start(&h, &log, 1);
    for (int i = 0; i < n; i++)
        feed_price(&h, i);
    char *t = finish(&h, log);
    ck_assert_int_eq(sma_out.n, n - 2);
    return t;
}

static int count(const char *text, const char *what)
{
    int k = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        k++;
    return k;
}

/* order: 0 the price feed first, 1 the remote values first, 2 interleaved */
static char *two_hosts(int order, int n)
{
    struct host h;
    FILE *log;
    start(&h, &log, 0);
    uint32_t r = make_remote(&h);
    int i = 0, k = 0;
    uint64_t x = 7;
    while (i < n || k < sma_out.n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int price_next = order == 0 ? i < n : order == 1 ? k >= sma_out.n : (x >> 62) < 2;
        if (k >= sma_out.n || (price_next && i < n))
            feed_price(&h, i++);
        else
            feed_remote(&h, r, k++);
    }
    if (order == 0) /* everything but the last bars waits for its signal side: none yet */
        ck_assert_uint_eq(h.metrics.order_price_missed, 0);
    return finish(&h, log);
}

START_TEST(test_feed_ahead)
{
    char *one = one_process(N);
    ck_assert_int_gt(count(one, " order "), 10);
    ck_assert_int_gt(count(one, " fill "), 10);
    char *two = two_hosts(0, N);
    ck_assert_str_eq(two, one);
    free(one);
    free(two);
}
END_TEST

START_TEST(test_remote_ahead)
{
    char *one = one_process(N);
    char *two = two_hosts(1, N);
    ck_assert_str_eq(two, one);
    free(one);
    free(two);
}
END_TEST

START_TEST(test_interleaved)
{
    char *one = one_process(N);
    char *two = two_hosts(2, N);
    ck_assert_str_eq(two, one);
    free(one);
    free(two);
}
END_TEST

/* The remote values come only after more than OA_HOLD bars: the oldest bars were let go,
 * the signals of their buckets are priced at the newest bar, counted. */
START_TEST(test_beyond_the_bound)
{
    int n = (int)OA_HOLD + 40;
    char *one = one_process(n);
    struct host h;
    FILE *log;
    start(&h, &log, 0);
    uint32_t r = make_remote(&h);
    for (int i = 0; i < n; i++)
        feed_price(&h, i);
    for (int k = 0; k < sma_out.n; k++)
        feed_remote(&h, r, k);
    uint64_t missed = h.metrics.order_price_missed;
    char *two = finish(&h, log);
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
