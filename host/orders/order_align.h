/*
 * order_align: an order publisher sees its price bars and its signals in the order one
 * process would (issue 17, docs/scale-out.md "Alignment of remote and local inputs").
 *
 * On one host every source of a strategy is fed in bucket order, and a publisher runs
 * once per wave: the bar of the wave is traded and marked, then the signal of the same
 * wave is priced at that bar. With a bus, a signal computed from another host's node
 * arrives when that host's value arrives: behind the local price feed (the feed ran
 * ahead) or before it (the other host ran ahead). A publisher whose signal depends on a
 * remote node therefore holds what arrives early:
 *   - a bar at bucket t waits until every remote source of the signal side (the remote
 *     nodes upstream of the publisher's signal input, oa_progress) delivered t or later:
 *     every signal of t or before is then known;
 *   - a signal made in the wave of bucket k waits until the price stream passed k.
 * Then both are handed over merged by bucket (a bar before a signal of the same bucket),
 * so the signal is priced, sized and gated with the bar one process would use, and the
 * orders it makes trade on the bars that follow it. A publisher without a remote source
 * holds nothing (its host feeds every source in order: nothing changes on one host).
 *
 * Bounded: at most OA_HOLD items of each kind are held per publisher (4,096 buckets).
 * Beyond, the oldest bar is traded and marked without waiting; a signal that arrives
 * for a bucket whose bar was already let go (or that waited OA_HOLD signals for its bar)
 * is priced at the newest bar handed over (the fallback), counted in
 * h->metrics.order_price_missed and logged. At the end of a run (orders_flush) every
 * held item is handed over.
 *
 * One per order publisher, kept by its strategy (struct host_strategy.aligns), found by
 * the publisher's NodeID (a DAG swap gives the node a new address). Single thread.
 */
#ifndef QMTL_HOST_ORDER_ALIGN_H
#define QMTL_HOST_ORDER_ALIGN_H

#include <qmtl/qmtl.h>
#include <stdint.h>

struct graph;
struct graph_node;
struct runtime;

#define OA_HOLD 4096u

/* A held bar or signal. */
struct oa_item {
    int64_t key; /* bucket of the wave it arrived in (where one process sees it) */
    int64_t ts;  /* the publisher's bucket (the order's time) */
    union {
        struct qmtl_bar bar;
        struct qmtl_value sig;
    } u;
};

/* A FIFO of items in key order. */
struct oa_fifo {
    struct oa_item *it;
    uint32_t head, n, cap;
};

struct order_align {
    char *node_id;                /* owned: the publisher's NodeID */
    const struct graph_node *node; /* its address in the current graph (re-found after a swap) */
    uint64_t node_gen;             /* the runtime generation 'node' was checked in */
    struct oa_fifo bars, sigs;
    int64_t price_newest; /* newest bucket of the price input seen (INT64_MIN: none) */
    int64_t bar_key;      /* key of the newest bar handed over (INT64_MIN: none) */
    struct qmtl_bar bar;  /* the newest bar handed over */
    int have_bar;
    /* the signal side's sources (creation indices), for runtime 'rt' at generation 'gen' */
    const struct runtime *rt;
    uint64_t gen;
    uint32_t *src;
    uint32_t n_src;
    long forced, missed;
};

/* What the caller does with an item handed over, in one-process order. */
struct oa_ops {
    void *arg;
    /* trade resting orders on the bar, mark it */
    void (*bar)(void *arg, int64_t ts, const struct qmtl_bar *bar);
    /* turn the signal into an order at 'bar' (NULL: no price yet); 'missed' is 1 when
     * the bar of its bucket was no longer held (the fallback) */
    void (*signal)(void *arg, int64_t ts, const struct qmtl_value *sig,
                   const struct qmtl_bar *bar, int missed);
};

/* A new state for the publisher of NodeID 'node_id' (copied). NULL when out of memory. */
struct order_align *oa_new(const char *node_id);
void oa_free(struct order_align *a);

/*
 * Progress of the signal side of publisher 'pub' (a GRAPH_ORDER node of g): the oldest
 * newest bucket over the remote nodes upstream of its signal input (cached per runtime
 * and generation; a->n_src of them). INT64_MAX when there is none (nothing to align);
 * INT64_MIN when one delivered nothing yet.
 */
int64_t oa_progress(struct order_align *a, const struct graph *g, const struct runtime *rt,
                    const struct graph_node *pub);

/*
 * Hold what arrived in this run of the publisher, then hand over everything that is due
 * in one-process order. 'bar' (NULL: no bar this run) at the price input's bucket
 * bar_key; 'sig' (NULL: no signal) made in the wave of bucket 'key'; both at the
 * publisher's bucket 'ts' (what the handlers get); price_newest
 * the newest bucket of the price input; progress from oa_progress. Never fails: when a
 * FIFO cannot grow, the oldest item is handed over at once.
 */
void oa_step(struct order_align *a, const struct qmtl_bar *bar, int64_t bar_key,
             const struct qmtl_value *sig, int64_t key, int64_t ts, int64_t price_newest,
             int64_t progress, const struct oa_ops *ops);

/* Hand over everything held (the end of a run). */
void oa_flush(struct order_align *a, const struct oa_ops *ops);

/* Items held now (bars + signals). */
uint32_t oa_held(const struct order_align *a);

#endif
