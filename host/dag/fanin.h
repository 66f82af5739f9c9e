/*
 * fanin: the aligned fan-in of a node whose inputs deliver at different paces (issue 17:
 * a node mixing a local stream with a node another host computes).
 *
 * On one host every input of an aligned node (several inputs, no QMTL_FIRE_ON_ANY)
 * delivers bucket t in the same wave, and the node computes t with each input's last
 * 'period' items up to t. When one input runs ahead (the local feed, or the other host),
 * its ring has moved past t by the time the slower one delivers t. When the newest
 * buckets of the inputs are more than one bucket apart (or one input delivered nothing
 * yet), the node therefore keeps a history per input (what its ring held, and the item
 * it just pushed out, when they parted; then every item delivered), and computes each
 * bucket every input delivered, in bucket order, from windows rebuilt out of that
 * history: the windows of one process. Once the inputs are at most one bucket apart
 * again the history is dropped and the rings serve as before: inputs one wave apart (two
 * streams of one host) need no history, their rings still hold the windows.
 *
 * Bounded: a history holds the period plus FANIN_HOLD (4,096) buckets per input. An
 * input further ahead loses its oldest items; a bucket whose window needs them is not
 * computed (fanin_windows answers -1: the scheduler counts it in skipped_missing and logs
 * once per node). Late items (on_late) are not added to the history.
 *
 * Owned by the runtime's cold state of the node (struct rt_cold.fanin), made at the
 * first divergence. Single thread.
 */
#ifndef QMTL_HOST_FANIN_H
#define QMTL_HOST_FANIN_H

#include <qmtl/qmtl.h>
#include <stdint.h>

#include "host/dag/node_cache.h"

#define FANIN_HOLD 4096u

struct fanin {
    uint32_t n_in, period;
    struct nc_ring **hist; /* per input: history (period + FANIN_HOLD items) */
    uint8_t *complete;     /* per input: the history holds everything since it began */
    struct qmtl_value *vals; /* n_in * period: rebuilt windows */
    int64_t *tss;
    int on;       /* keeping history now */
    int64_t done; /* newest bucket considered */
    int warned;   /* a bucket could not be rebuilt (logged once) */
};

/* A fan-in for the n_in input rings of a node of period 'period' (the rings' capacity).
 * NULL when out of memory. */
struct fanin *fanin_new(uint32_t n_in, uint32_t period, struct nc_ring *const *rings);
void fanin_free(struct fanin *f);

/* Start keeping history: each input's ring as it is now, and for the inputs in 'mask'
 * (delivered in this wave) the item their append just pushed out; buckets up to 'done'
 * (and those considered before) are not computed again. 0, or -1 when out of memory. */
int fanin_start(struct fanin *f, struct nc_ring *const *rings, uint32_t mask, int64_t done);

/* Add the newest item of every input in 'mask' (bit per slot) to its history. */
void fanin_record(struct fanin *f, struct nc_ring *const *rings, uint32_t mask);

/* The next bucket after the last one considered, up to 'upto', among those input 'from'
 * (the slowest) delivered, in bucket order: 1 and *t when every input delivered it; -1
 * and *t when an input's history no longer reaches back to it; 0 when there is none.
 * Marks it considered. */
int fanin_next(struct fanin *f, int64_t upto, uint32_t from, int64_t *t);

/* Windows of bucket t into out[0..n_in): 1 all full (compute), 0 not warm (an input
 * held from its start is not full at t: as on one host), -1 an input's history no
 * longer reaches back far enough. Valid until the next call on f. */
int fanin_windows(struct fanin *f, int64_t t, struct nc_ring *const *rings,
                  struct qmtl_window *out);

/* Stop keeping history (the inputs are level again); buckets up to 'upto' were
 * considered. */
void fanin_stop(struct fanin *f, int64_t upto);

#endif
