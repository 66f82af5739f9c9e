/*
 * A host whose sma stands for a node another host computes (alignment tests: check_fanin,
 * check_order_align). A strategy declares stream X (1 s) and sma(3) over it with
 * remote_price_sma(); a one-process run records the sma's outputs (remote_record as the
 * host's on_output); a "two hosts" run turns the sma into a GRAPH_REMOTE node
 * (remote_make, as host/online/bus.c does) and feeds it those outputs through sched_feed
 * (remote_feed), in any order against the local prices (remote_price).
 */
#ifndef QMTL_TESTS_REMOTE_TESTLIB_H
#define QMTL_TESTS_REMOTE_TESTLIB_H

#include <check.h>
#include <stdint.h>

#include "host/host_api.h"

#define REMOTE_MAX 8192

/* The sma's outputs of the one-process run: what the other host publishes. */
static struct {
    int64_t ts[REMOTE_MAX];
    double v[REMOTE_MAX];
    int n;
} remote_sma;

static inline void remote_record(void *arg, struct graph_node *n, int64_t ts,
                                 const struct qmtl_value *v)
{
    (void)arg;
    if (n->kind == GRAPH_INDICATOR && remote_sma.n < REMOTE_MAX) {
        remote_sma.ts[remote_sma.n] = ts;
        remote_sma.v[remote_sma.n++] = v->as.number;
    }
}

/* Stream X (1 s) into *px and sma(3) over it, named "sma"; the sma's handle or < 0. */
static inline qmtl_node remote_price_sma(struct qmtl_ctx *ctx, const struct qmtl_host *h,
                                         struct qmtl_err *err, qmtl_node *px)
{
    const char *tags[] = {"X", NULL};
    *px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
    if (*px < 0)
        return *px;
    return h->indicator(ctx,
                        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                      .kind = "sma", .name = "sma",
                                                      .inputs = {*px}, .window = 3},
                        err);
}

/* The first node of 'kind' (creation order). */
static inline uint32_t remote_node_of(struct host *h, int kind)
{
    for (uint32_t i = 0; i < graph_count(h->g); i++)
        if (graph_node(h->g, i)->kind == kind)
            return i;
    ck_abort_msg("no node of kind %d", kind);
    return 0;
}

/* The sma becomes a node another host computes; its index. */
static inline uint32_t remote_make(struct host *h)
{
    uint32_t i = remote_node_of(h, GRAPH_INDICATOR);
    graph_node(h->g, i)->kind = GRAPH_REMOTE;
    runtime_refresh(sched_runtime(h->s), i);
    return i;
}

/* Price i (at 1000 + i) into stream X. */
static inline void remote_price(struct host *h, int i, double price)
{
    const char *tags[] = {"X"};
    struct qmtl_value v = qmtl_number(price);
    ck_assert_int_ge(host_feed(h, tags, 1, 1000 + i, &v), 1);
}

/* The k-th recorded sma output into remote node idx. */
static inline void remote_feed(struct host *h, uint32_t idx, int k)
{
    struct qmtl_value v = qmtl_number(remote_sma.v[k]);
    ck_assert_int_eq(sched_feed(h->s, idx, remote_sma.ts[k], &v), 0);
}

/* Feed n prices and every recorded sma output in an order: 0 the prices first, 1 the sma
 * first, 2 + s interleaved (the pseudo-random sequence of seed s). */
static inline void remote_run(struct host *h, uint32_t idx, int order, int n,
                              double (*price)(int))
{
    int i = 0, k = 0;
    uint64_t x = order >= 2 ? (uint64_t)order : 0;
    while (i < n || k < remote_sma.n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int local = order == 0 ? 1 : order == 1 ? 0 : (x >> 62) < 2;
        if (k >= remote_sma.n || (local && i < n)) {
            remote_price(h, i, price(i));
            i++;
        } else {
            remote_feed(h, idx, k++);
        }
    }
}

#endif
