/* fanin: a node mixing a local stream with a node another host computes (a remote node
 * fed through sched_feed, as the bus does) computes every bucket once both delivered it,
 * with the windows of one process, whether the local feed runs far ahead, the remote side
 * runs ahead, or they take turns; beyond the bound, the buckets it cannot rebuild are
 * counted, not computed with wrong windows. */
#include "host/dag/fanin.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_testlib.h"

#define N 300

/* What 'mix' saw: one line per computation (bucket, both windows). */
static char *seen;
static size_t seen_len, seen_cap;

static int mix(const struct qmtl_view *v, struct qmtl_value *out)
{
    char line[512];
    int k = snprintf(line, sizeof(line), "%lld", (long long)v->ts);
    for (uint32_t i = 0; i < v->n_inputs; i++)
        for (uint32_t j = 0; j < qmtl_window_len(&v->inputs[i]); j++)
            k += snprintf(line + k, sizeof(line) - (size_t)k, " %lld:%.17g",
                          (long long)qmtl_window_ts_at(&v->inputs[i], j),
                          qmtl_window_number(&v->inputs[i], j));
    k += snprintf(line + k, sizeof(line) - (size_t)k, "\n");
    if (seen_len + (size_t)k + 1 > seen_cap) {
        seen_cap = (seen_len + (size_t)k + 1) * 2;
        seen = realloc(seen, seen_cap);
        ck_assert_ptr_nonnull(seen);
    }
    memcpy(seen + seen_len, line, (size_t)k + 1);
    seen_len += (size_t)k;
    *out = qmtl_number(qmtl_window_number(&v->inputs[1], 0) - qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px;
    qmtl_node sma = remote_price_sma(ctx, h, err, &px);
    if (sma < 0)
        return QMTL_ERR;
    qmtl_node m = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "mix",
                                                   .inputs = {px, sma}, .period = 3,
                                                   .compute = mix, .code_version = "mix-1"},
                          err);
    return m < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug = {QMTL_PLUGIN_HEADER, .name = "fi", .setup = setup};

static double price_at(int i)
{
    return 100 + (double)((i * 37) % 23) / 7.0;
}

static void start(struct host *h, int record_sma)
{
    ck_assert_int_eq(host_init(h, NULL), 0);
    char err[256];
    if (record_sma) {
        remote_sma.n = 0;
        h->on_output = remote_record;
    }
    ck_assert_int_eq(host_add_strategy(h, &plug, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(h, err, sizeof(err)), 0);
    seen_len = 0;
    if (seen)
        seen[0] = 0;
}

/* What mix saw (malloc'd), and its counters. */
static char *stop(struct host *h, long *computes, long *skipped)
{
    const struct rt_node *m = sched_node(h->s, remote_node_of(h, GRAPH_CUSTOM));
    *computes = m->c.computes;
    *skipped = m->c.skipped_missing;
    host_release(h);
    return strdup(seen ? seen : "");
}

static char *one_process(int n, long *computes)
{
    struct host h;
    start(&h, 1);
    for (int i = 0; i < n; i++)
        remote_price(&h, i, price_at(i));
    long skipped;
    char *t = stop(&h, computes, &skipped);
    ck_assert_int_eq(skipped, 0);
    return t;
}

/* order: 0 the local feed first, 1 the remote values first, 2 interleaved */
static char *two_hosts(int order, int n, long *computes, long *skipped)
{
    struct host h;
    start(&h, 0);
    remote_run(&h, remote_make(&h), order, n, price_at);
    return stop(&h, computes, skipped);
}

static void same_as_one_process(int order)
{
    long c1, c2, sk;
    char *one = one_process(N, &c1);
    ck_assert_int_eq(c1, N - 4); /* warm from the fifth bucket (sma from the third) */
    char *two = two_hosts(order, N, &c2, &sk);
    ck_assert_int_eq(c2, c1);
    ck_assert_int_eq(sk, 0);
    ck_assert_str_eq(two, one);
    free(one);
    free(two);
}

START_TEST(test_local_ahead)
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

/* The local feed more than FANIN_HOLD buckets ahead: the oldest buckets cannot be rebuilt
 * (counted, not computed), the rest are computed with the one-process windows. */
START_TEST(test_beyond_the_bound)
{
    int n = (int)FANIN_HOLD + 200;
    long c1, c2, sk;
    char *one = one_process(n, &c1);
    char *two = two_hosts(0, n, &c2, &sk);
    ck_assert_int_gt(sk, 0);
    ck_assert_int_eq(c2 + sk, c1);
    /* what was computed is the tail of the one-process run, line for line */
    size_t lt = strlen(two), lo = strlen(one);
    ck_assert_uint_gt(lt, 0);
    ck_assert_uint_lt(lt, lo);
    ck_assert_str_eq(one + (lo - lt), two);
    free(one);
    free(two);
}
END_TEST

/* Two streams of one host, fed in turn (one wave apart): the rings hold the windows, no
 * history is made; with one of them two buckets ahead, it is. */
static int setup2(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    const char *ta[] = {"A", NULL}, *tb[] = {"B", NULL};
    qmtl_node a = h->stream_input(
        ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = ta, .interval = "1s"},
        err);
    qmtl_node b = h->stream_input(
        ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tb, .interval = "1s"},
        err);
    qmtl_node m = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "mix",
                                                   .inputs = {a, b}, .period = 3,
                                                   .compute = mix, .code_version = "mix-2"},
                          err);
    return a < 0 || b < 0 || m < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug2 = {QMTL_PLUGIN_HEADER, .name = "fi2", .setup = setup2};

START_TEST(test_one_wave_apart_keeps_nothing)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    char err[256];
    ck_assert_int_eq(host_add_strategy(&h, &plug2, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    const char *ta[] = {"A"}, *tb[] = {"B"};
    struct qmtl_value v = qmtl_number(1);
    uint32_t mi = remote_node_of(&h, GRAPH_CUSTOM);
    const struct rt_cold *cold = &sched_runtime(h.s)->cold[sched_runtime(h.s)->pos_of[mi]];
    ck_assert_int_ge(host_feed(&h, ta, 1, 1000, &v), 1); /* B has nothing yet: history */
    for (int i = 0; i < 50; i++) {
        ck_assert_int_ge(host_feed(&h, tb, 1, 1000 + i, &v), 1);
        ck_assert_int_ge(host_feed(&h, ta, 1, 1001 + i, &v), 1);
    }
    ck_assert_ptr_nonnull(cold->fanin);
    ck_assert(!cold->fanin->on); /* dropped once B delivered; one wave apart keeps none */
    ck_assert_int_eq(sched_node(h.s, mi)->c.computes, 48);
    ck_assert_int_ge(host_feed(&h, ta, 1, 1051, &v), 1); /* A two buckets ahead */
    ck_assert(cold->fanin->on);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fanin");
    TCase *tc = tcase_create("fanin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_local_ahead);
    tcase_add_test(tc, test_remote_ahead);
    tcase_add_test(tc, test_interleaved);
    tcase_add_test(tc, test_beyond_the_bound);
    tcase_add_test(tc, test_one_wave_apart_keeps_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(seen);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
