/*
 * node_cache: the rings that hold what a node's inputs delivered.
 *
 * A node caches each input (one slot per (upstream, interval)) in a ring of the node's
 * period; bucket = ts - ts mod interval (the upstream's interval). A ring is the
 * 'struct qmtl_window' a compute callback reads, so a view costs nothing.
 *
 * Sharing: what a ring holds depends only on the upstream's emissions, the capacity and
 * the late policy. Consumers of one upstream with the same period whose late policy is
 * recompute (the default: late items are always inserted) therefore share one ring,
 * appended once per emission; a stream's own history is such a ring too. Consumers with
 * on_late ignore or side_output get a ring of their own (their watermark decides).
 *
 * Ordering rules (kept from the reference, with its defects fixed):
 *  - the next bucket after the newest is a plain append (NC_OK);
 *  - a later bucket that skips buckets is appended and reported as NC_GAP;
 *  - the same bucket as the newest replaces the newest item (NC_DUP: one item per bucket);
 *  - an older bucket is late (NC_LATE): nothing is stored by nc_ring_append(); the caller
 *    applies the late policy and may call nc_ring_insert_late(), which keeps the ring
 *    sorted by bucket (the reference appended out of order).
 * Values of type QMTL_T_JSON are copied into the ring (the only allocating path).
 */
#ifndef QMTL_HOST_NODE_CACHE_H
#define QMTL_HOST_NODE_CACHE_H

#include <qmtl/qmtl.h>
#include <stdint.h>

enum nc_status {
    NC_OK = 0,   /* appended in order */
    NC_GAP = 1,  /* appended after a gap of at least one bucket */
    NC_DUP = 2,  /* replaced the item of the same bucket */
    NC_LATE = 3, /* older than the newest bucket: not stored (or too old to keep) */
    NC_ERR = -1  /* out of memory (JSON copy) */
};

struct nc_ring {
    struct qmtl_window w;      /* storage, head, count, cap, interval, upstream_id */
    int64_t newest;            /* newest bucket; INT64_MIN when empty */
    struct qmtl_value evicted; /* pushed out of the full ring by the last in-order append */
    int64_t evicted_ts;        /* its bucket */
    int has_evicted;
    int dropped; /* an item left the ring (evicted or pushed out) since it was cleared */
    int shared;   /* recompute policy: may serve several consumers */
    int borrowed; /* held by a staging graph too, during a DAG swap (host/dag/dag_swap.c) */
};

/* Bucket of 'ts' for 'interval' (> 0), flooring for negative times. */
static inline int64_t nc_bucket(int64_t ts, int64_t interval)
{
    int64_t r = ts % interval;
    return r < 0 ? ts - r - interval : ts - r;
}

/* A ring of capacity 'cap' (>= 1) for an upstream of 'interval' seconds whose NodeID is
 * 'upstream_id' (borrowed; must outlive the ring). NULL when out of memory. */
struct nc_ring *nc_ring_new(uint32_t cap, int64_t interval, const char *upstream_id);
void nc_ring_free(struct nc_ring *r);
/* Forget every item (e.g. when the compute key changes). */
void nc_ring_clear(struct nc_ring *r);

/* The general append (JSON values, first item, late, duplicate). */
enum nc_status nc_ring_append_slow(struct nc_ring *r, int64_t ts, const struct qmtl_value *v);

/* Append one item (see the ordering rules above). */
static inline enum nc_status nc_ring_append(struct nc_ring *r, int64_t ts,
                                            const struct qmtl_value *v)
{
    struct qmtl_window *w = &r->w;
    int64_t b = ts - ts % w->interval;
    /* fast path: a number/bar/... in the next bucket, slot not holding JSON */
    if (ts >= 0 && r->newest != INT64_MIN && b == r->newest + w->interval &&
        v->type != QMTL_T_JSON) {
        uint32_t h = w->head + 1 == w->cap ? 0 : w->head + 1;
        struct qmtl_value *slot = (struct qmtl_value *)&w->values[h];
        if (slot->type != QMTL_T_JSON) {
            if (w->count == w->cap) {
                r->evicted = *slot;
                r->evicted_ts = w->ts[h];
                r->has_evicted = 1;
                r->dropped = 1;
            } else {
                r->has_evicted = 0;
                w->count++;
            }
            *slot = *v;
            ((int64_t *)w->ts)[h] = b;
            w->head = h;
            r->newest = b;
            return NC_OK;
        }
    }
    return nc_ring_append_slow(r, ts, v);
}
/* Insert a late item in bucket order: NC_OK stored, NC_DUP replaced the same bucket,
 * NC_LATE older than everything a full ring keeps (dropped), NC_ERR out of memory. */
enum nc_status nc_ring_insert_late(struct nc_ring *r, int64_t ts, const struct qmtl_value *v);

/* Over a node's input rings: every ring full; at least one non-empty and every non-empty
 * ring full; min(newest over non-empty rings) - lateness (INT64_MIN when all empty). */
int nc_full(struct nc_ring *const *rings, uint32_t n);
int nc_ready_any(struct nc_ring *const *rings, uint32_t n);
int64_t nc_watermark(struct nc_ring *const *rings, uint32_t n, int64_t lateness);

#endif
