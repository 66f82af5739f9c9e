/* node_cache: input rings (see node_cache.h). */
#include "host/dag/node_cache.h"

#include <stdlib.h>
#include <string.h>

struct nc_ring *nc_ring_new(uint32_t cap, int64_t interval, const char *upstream_id)
{
    if (cap < 1)
        cap = 1;
    /* one block: the ring, its values, then its timestamps */
    struct nc_ring *r =
        calloc(1, sizeof(*r) + (size_t)cap * (sizeof(struct qmtl_value) + sizeof(int64_t)));
    if (!r)
        return NULL;
    char *mem = (char *)(r + 1);
    r->w.values = (const struct qmtl_value *)mem;
    r->w.ts = (const int64_t *)(mem + (size_t)cap * sizeof(struct qmtl_value));
    r->w.cap = cap;
    r->w.head = cap - 1;
    r->w.interval = interval > 0 ? interval : 1;
    r->w.upstream_id = upstream_id ? upstream_id : "";
    r->newest = INT64_MIN;
    return r;
}

static void free_json(struct nc_ring *r)
{
    struct qmtl_value *vals = (struct qmtl_value *)r->w.values;
    for (uint32_t k = 0; k < r->w.cap; k++)
        if (vals[k].type == QMTL_T_JSON) {
            free((char *)vals[k].as.json);
            vals[k] = qmtl_none();
        }
}

void nc_ring_free(struct nc_ring *r)
{
    if (!r)
        return;
    free_json(r);
    free(r);
}

void nc_ring_clear(struct nc_ring *r)
{
    free_json(r);
    r->w.count = 0;
    r->w.head = r->w.cap - 1;
    r->newest = INT64_MIN;
    r->has_evicted = 0;
    r->dropped = 0;
}

/* Store v into *dst, copying JSON text; frees what the slot held. */
static int store(struct qmtl_value *dst, const struct qmtl_value *v)
{
    if (dst->type == QMTL_T_JSON)
        free((char *)dst->as.json);
    if (v->type == QMTL_T_JSON) {
        char *s = strdup(v->as.json ? v->as.json : "null");
        if (!s) {
            *dst = qmtl_none();
            return -1;
        }
        *dst = *v;
        dst->as.json = s;
        return 0;
    }
    *dst = *v;
    return 0;
}

enum nc_status nc_ring_append_slow(struct nc_ring *r, int64_t ts, const struct qmtl_value *v)
{
    struct qmtl_window *w = &r->w;
    struct qmtl_value *vals = (struct qmtl_value *)w->values;
    int64_t *tss = (int64_t *)w->ts;
    int64_t b = nc_bucket(ts, w->interval);
    int64_t last = r->newest;
    r->has_evicted = 0;

    if (last != INT64_MIN && b <= last) {
        if (b < last)
            return NC_LATE;
        return store(&vals[w->head], v) ? NC_ERR : NC_DUP;
    }
    uint32_t h = w->head + 1;
    if (h == w->cap)
        h = 0;
    if (w->count == w->cap) {
        r->dropped = 1;
        if (vals[h].type == QMTL_T_JSON) {
            free((char *)vals[h].as.json);
            vals[h] = qmtl_none();
        } else {
            r->evicted = vals[h];
            r->evicted_ts = tss[h];
            r->has_evicted = 1;
        }
    } else {
        w->count++;
    }
    if (v->type == QMTL_T_JSON) {
        if (store(&vals[h], v))
            return NC_ERR;
    } else {
        vals[h] = *v;
    }
    tss[h] = b;
    w->head = h;
    r->newest = b;
    return (last == INT64_MIN || b == last + w->interval) ? NC_OK : NC_GAP;
}

enum nc_status nc_ring_insert_late(struct nc_ring *r, int64_t ts, const struct qmtl_value *v)
{
    struct qmtl_window *w = &r->w;
    struct qmtl_value *vals = (struct qmtl_value *)w->values;
    int64_t *tss = (int64_t *)w->ts;
    int64_t b = nc_bucket(ts, w->interval);
    uint32_t cap = w->cap;

    /* k = number of items newer than b; an equal bucket is replaced */
    uint32_t k = 0;
    while (k < w->count) {
        uint32_t idx = qmtl_window_index_(w, k);
        if (tss[idx] == b)
            return store(&vals[idx], v) ? NC_ERR : NC_DUP;
        if (tss[idx] < b)
            break;
        k++;
    }
    if (k == w->count && w->count == cap)
        return NC_LATE;
    if (w->count == cap) {
        r->dropped = 1;
        uint32_t oldest = qmtl_window_index_(w, cap - 1);
        if (vals[oldest].type == QMTL_T_JSON) {
            free((char *)vals[oldest].as.json);
            vals[oldest] = qmtl_none();
        }
    } else {
        w->count++;
    }
    /* advance head; the k newest items move up one slot; the new item goes below them */
    uint32_t nh = w->head + 1 == cap ? 0 : w->head + 1;
    uint32_t dst = nh;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t src = dst == 0 ? cap - 1 : dst - 1;
        vals[dst] = vals[src];
        tss[dst] = tss[src];
        dst = src;
    }
    vals[dst] = qmtl_none();
    w->head = nh;
    if (b > r->newest)
        r->newest = b;
    r->has_evicted = 0;
    if (store(&vals[dst], v))
        return NC_ERR;
    tss[dst] = b;
    return NC_OK;
}

int nc_full(struct nc_ring *const *rings, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (rings[i]->w.count < rings[i]->w.cap)
            return 0;
    return 1;
}

int nc_ready_any(struct nc_ring *const *rings, uint32_t n)
{
    int any = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = rings[i]->w.count;
        if (c == 0)
            continue;
        if (c < rings[i]->w.cap)
            return 0;
        any = 1;
    }
    return any;
}

int64_t nc_watermark(struct nc_ring *const *rings, uint32_t n, int64_t lateness)
{
    int64_t m = INT64_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (rings[i]->newest != INT64_MIN && rings[i]->newest < m)
            m = rings[i]->newest;
    return m == INT64_MAX ? INT64_MIN : m - lateness;
}
