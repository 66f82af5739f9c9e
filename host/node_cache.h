/*
 * node_cache: a node's input caches, one ring of 'period' items per input.
 *
 * A node keeps what each of its inputs delivered, keyed by input slot (one slot per
 * (upstream, interval) pair), in a ring of the node's period. Items are bucketed:
 * bucket = ts - ts mod interval (interval = the upstream's interval). The rings are
 * the 'struct qmtl_window' array a compute callback sees, so a view costs nothing.
 *
 * Ordering rules (kept from the reference, with its defects fixed):
 *  - the next bucket after the newest is a plain append (NC_OK);
 *  - a later bucket that skips one or more buckets is appended and reported as a gap;
 *  - the same bucket as the newest replaces the newest item (one item per bucket) and
 *    is reported as a duplicate;
 *  - an older bucket is late: nothing is stored by node_cache_append(); the caller
 *    applies its lateness policy and may call node_cache_insert_late(), which keeps
 *    the ring sorted by bucket (the reference appended out of order).
 * Values of type QMTL_T_JSON are copied into the cache (the only allocating path).
 */
#ifndef QMTL_HOST_NODE_CACHE_H
#define QMTL_HOST_NODE_CACHE_H

#include <qmtl/qmtl.h>
#include <stdint.h>

enum nc_status {
    NC_OK = 0,   /* appended in order */
    NC_GAP = 1,  /* appended after a gap of at least one bucket */
    NC_DUP = 2,  /* replaced the newest item (same bucket) */
    NC_LATE = 3, /* older than the newest bucket: not stored */
    NC_ERR = -1  /* out of memory (JSON copy) */
};

struct node_cache {
    uint32_t n;                /* inputs */
    uint32_t cap;              /* ring capacity = the node's period */
    struct qmtl_window *win;   /* n windows; win[i].values/ts point into the storage */
    struct qmtl_value *values; /* n * cap */
    int64_t *ts;               /* n * cap */
    int64_t *newest;           /* newest bucket per input; INT64_MIN when empty */
    /* The item pushed out of a full ring by the last in-order append, per input. */
    struct qmtl_value *evicted;
    uint8_t *has_evicted;
};

/* Bucket of 'ts' for 'interval' (> 0), flooring for negative times. */
static inline int64_t nc_bucket(int64_t ts, int64_t interval)
{
    int64_t r = ts % interval;
    return r < 0 ? ts - r - interval : ts - r;
}

/* Allocate rings for 'n' inputs of capacity 'cap' (>= 1). intervals[i] is input i's
 * interval, ids[i] its upstream NodeID (borrowed, must outlive the cache). 0 or -1. */
int node_cache_init(struct node_cache *c, uint32_t n, uint32_t cap, const int64_t *intervals,
                    const char *const *ids);
void node_cache_release(struct node_cache *c);
/* Forget every item (e.g. when the compute key changes). */
void node_cache_clear(struct node_cache *c);

/* Deliver one item to input 'i'. See the ordering rules above. */
enum nc_status node_cache_append(struct node_cache *c, uint32_t i, int64_t ts,
                                 const struct qmtl_value *v);

/* Insert a late item in bucket order. Returns NC_OK when stored, NC_DUP when it replaced
 * the item of the same bucket, NC_LATE when it is older than everything a full ring
 * keeps (dropped), NC_ERR on allocation failure. */
enum nc_status node_cache_insert_late(struct node_cache *c, uint32_t i, int64_t ts,
                                      const struct qmtl_value *v);

/* Every input holds 'cap' items. */
int node_cache_full(const struct node_cache *c);
/* At least one input holds items and every input that holds any is full. */
int node_cache_ready_any(const struct node_cache *c);
/* min(newest bucket over inputs that hold items) - lateness; INT64_MIN if none. */
int64_t node_cache_watermark(const struct node_cache *c, int64_t lateness);

#endif
