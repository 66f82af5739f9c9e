/* fanin: aligned fan-in across inputs at different paces (see fanin.h). */
#include "host/dag/fanin.h"

#include <stdlib.h>
#include <string.h>

struct fanin *fanin_new(uint32_t n_in, uint32_t period, struct nc_ring *const *rings)
{
    struct fanin *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->n_in = n_in;
    f->period = period ? period : 1;
    f->done = INT64_MIN;
    f->hist = calloc(n_in, sizeof(*f->hist));
    f->complete = calloc(n_in, 1);
    f->vals = calloc((size_t)n_in * f->period, sizeof(*f->vals));
    f->tss = calloc((size_t)n_in * f->period, sizeof(*f->tss));
    if (!f->hist || !f->complete || !f->vals || !f->tss) {
        fanin_free(f);
        return NULL;
    }
    for (uint32_t i = 0; i < n_in; i++)
        if (!(f->hist[i] = nc_ring_new(f->period + FANIN_HOLD, rings[i]->w.interval,
                                       rings[i]->w.upstream_id))) {
            fanin_free(f);
            return NULL;
        }
    return f;
}

void fanin_free(struct fanin *f)
{
    if (!f)
        return;
    for (uint32_t i = 0; f->hist && i < f->n_in; i++)
        nc_ring_free(f->hist[i]);
    free(f->hist);
    free(f->complete);
    free(f->vals);
    free(f->tss);
    free(f);
}

int fanin_start(struct fanin *f, struct nc_ring *const *rings, uint32_t mask, int64_t done)
{
    for (uint32_t i = 0; i < f->n_in; i++) {
        const struct nc_ring *r = rings[i];
        const struct qmtl_window *w = &r->w;
        nc_ring_clear(f->hist[i]);
        f->complete[i] = !r->dropped; /* the ring holds all its upstream delivered */
        if ((mask & (1u << (i < 31 ? i : 31))) && r->has_evicted &&
            nc_ring_append(f->hist[i], r->evicted_ts, &r->evicted) == NC_ERR)
            return -1;
        for (uint32_t k = w->count; k-- > 0;)
            if (nc_ring_append(f->hist[i], qmtl_window_ts_at(w, k), qmtl_window_at(w, k)) ==
                NC_ERR)
                return -1;
    }
    if (done > f->done) /* buckets considered before (a previous divergence) stay so */
        f->done = done;
    f->on = 1;
    return 0;
}

void fanin_record(struct fanin *f, struct nc_ring *const *rings, uint32_t mask)
{
    for (uint32_t i = 0; i < f->n_in; i++) {
        if (!(mask & (1u << (i < 31 ? i : 31))))
            continue;
        const struct qmtl_window *w = &rings[i]->w;
        const struct qmtl_value *v = qmtl_window_latest(w);
        if (!v)
            continue;
        struct nc_ring *h = f->hist[i];
        int full = h->w.count == h->w.cap;
        enum nc_status st = nc_ring_append(h, qmtl_window_ts_at(w, 0), v);
        if (full && (st == NC_OK || st == NC_GAP))
            f->complete[i] = 0; /* its oldest item went */
    }
}

/* Offset (0 = newest) of the item of bucket t in h; -1 when there is none. */
static int64_t find(const struct nc_ring *h, int64_t t)
{
    const struct qmtl_window *w = &h->w;
    uint32_t lo = 0, hi = w->count; /* buckets decrease with the offset */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t b = qmtl_window_ts_at(w, mid);
        if (b == t)
            return mid;
        if (b > t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int fanin_next(struct fanin *f, int64_t upto, uint32_t from, int64_t *t)
{
    /* the candidates: buckets of the slowest input's history after 'done', oldest first */
    const struct qmtl_window *w0 = &f->hist[from]->w;
    for (uint32_t k = w0->count; k-- > 0;) {
        int64_t b = qmtl_window_ts_at(w0, k);
        if (b <= f->done)
            continue;
        if (b > upto)
            return 0;
        f->done = b;
        int rc = 1;
        for (uint32_t i = 0; i < f->n_in && rc > 0; i++) {
            const struct nc_ring *h = f->hist[i];
            if (i == from || find(h, b) >= 0)
                continue;
            /* absent: never delivered, or dropped from a history that overflowed */
            rc = !f->complete[i] && h->w.count && b < qmtl_window_ts_at(&h->w, h->w.count - 1)
                     ? -1
                     : 0;
        }
        /* lost, but the slowest input was not warm there either: nothing to compute */
        if (rc < 0 && f->complete[from] && w0->count - k < f->period)
            rc = 0;
        if (rc) {
            *t = b;
            return rc;
        }
    }
    return 0;
}

int fanin_windows(struct fanin *f, int64_t t, struct nc_ring *const *rings,
                  struct qmtl_window *out)
{
    int warm = 1, lost = 0;
    for (uint32_t i = 0; i < f->n_in; i++) {
        const struct qmtl_window *h = &f->hist[i]->w;
        int64_t k = find(f->hist[i], t);
        if (k < 0)
            return -1;
        uint32_t avail = h->count - (uint32_t)k;
        uint32_t c = avail < f->period ? avail : f->period;
        if (c < f->period) {
            if (f->complete[i])
                warm = 0; /* not full at t on one host either */
            else
                lost = 1;
        }
        struct qmtl_value *v = f->vals + (size_t)i * f->period;
        int64_t *ts = f->tss + (size_t)i * f->period;
        for (uint32_t j = 0; j < c; j++) { /* newest at c - 1 */
            v[c - 1 - j] = *qmtl_window_at(h, (uint32_t)k + j);
            ts[c - 1 - j] = qmtl_window_ts_at(h, (uint32_t)k + j);
        }
        out[i] = rings[i]->w;
        out[i].values = v;
        out[i].ts = ts;
        out[i].cap = f->period;
        out[i].count = c;
        out[i].head = c ? c - 1 : f->period - 1;
    }
    return !warm ? 0 : lost ? -1 : 1;
}

void fanin_stop(struct fanin *f, int64_t upto)
{
    f->on = 0;
    if (upto > f->done)
        f->done = upto;
    for (uint32_t i = 0; i < f->n_in; i++)
        nc_ring_clear(f->hist[i]);
}
