/* node_cache: per-input rings of a node (see node_cache.h). */
#include "host/node_cache.h"

#include <stdlib.h>
#include <string.h>

int node_cache_init(struct node_cache *c, uint32_t n, uint32_t cap, const int64_t *intervals,
                    const char *const *ids)
{
    memset(c, 0, sizeof(*c));
    if (cap < 1)
        cap = 1;
    c->n = n;
    c->cap = cap;
    if (n == 0)
        return 0;
    c->win = calloc(n, sizeof(*c->win));
    c->values = calloc((size_t)n * cap, sizeof(*c->values));
    c->ts = calloc((size_t)n * cap, sizeof(*c->ts));
    c->newest = malloc(n * sizeof(*c->newest));
    c->evicted = calloc(n, sizeof(*c->evicted));
    c->has_evicted = calloc(n, 1);
    if (!c->win || !c->values || !c->ts || !c->newest || !c->evicted || !c->has_evicted) {
        node_cache_release(c);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct qmtl_window *w = &c->win[i];
        w->values = c->values + (size_t)i * cap;
        w->ts = c->ts + (size_t)i * cap;
        w->cap = cap;
        w->count = 0;
        w->head = cap - 1;
        w->interval = intervals[i] > 0 ? intervals[i] : 1;
        w->upstream_id = ids ? ids[i] : "";
        c->newest[i] = INT64_MIN;
    }
    return 0;
}

static void free_json_slots(struct node_cache *c)
{
    if (!c->values)
        return;
    for (size_t k = 0; k < (size_t)c->n * c->cap; k++)
        if (c->values[k].type == QMTL_T_JSON) {
            free((char *)c->values[k].as.json);
            c->values[k] = qmtl_none();
        }
}

void node_cache_release(struct node_cache *c)
{
    free_json_slots(c);
    free(c->win);
    free(c->values);
    free(c->ts);
    free(c->newest);
    free(c->evicted);
    free(c->has_evicted);
    memset(c, 0, sizeof(*c));
}

void node_cache_clear(struct node_cache *c)
{
    free_json_slots(c);
    for (uint32_t i = 0; i < c->n; i++) {
        c->win[i].count = 0;
        c->win[i].head = c->cap - 1;
        c->newest[i] = INT64_MIN;
        c->has_evicted[i] = 0;
    }
}

/* Store v into slot *dst, copying JSON text; frees what the slot held. */
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

enum nc_status node_cache_append(struct node_cache *c, uint32_t i, int64_t ts,
                                 const struct qmtl_value *v)
{
    struct qmtl_window *w = &c->win[i];
    struct qmtl_value *vals = (struct qmtl_value *)w->values;
    int64_t *tss = (int64_t *)w->ts;
    int64_t b = nc_bucket(ts, w->interval);
    int64_t last = c->newest[i];
    c->has_evicted[i] = 0;

    if (last != INT64_MIN && b == last)
        return store(&vals[w->head], v) ? NC_ERR : NC_DUP;
    if (last != INT64_MIN && b < last)
        return NC_LATE;

    uint32_t h = w->head + 1;
    if (h == w->cap)
        h = 0;
    if (w->count == w->cap) {
        if (vals[h].type == QMTL_T_JSON) {
            free((char *)vals[h].as.json);
            vals[h] = qmtl_none();
        } else {
            c->evicted[i] = vals[h];
            c->has_evicted[i] = 1;
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
    c->newest[i] = b;
    return (last == INT64_MIN || b == last + w->interval) ? NC_OK : NC_GAP;
}

enum nc_status node_cache_insert_late(struct node_cache *c, uint32_t i, int64_t ts,
                                      const struct qmtl_value *v)
{
    struct qmtl_window *w = &c->win[i];
    struct qmtl_value *vals = (struct qmtl_value *)w->values;
    int64_t *tss = (int64_t *)w->ts;
    int64_t b = nc_bucket(ts, w->interval);
    uint32_t cap = w->cap;

    /* k = number of items newer than b; find an equal bucket on the way. */
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
        return NC_LATE; /* older than everything a full ring keeps */

    /* Grow (or evict the oldest when full), then shift the k newer items up by one. */
    if (w->count == cap) {
        uint32_t oldest = qmtl_window_index_(w, cap - 1);
        if (vals[oldest].type == QMTL_T_JSON) {
            free((char *)vals[oldest].as.json);
            vals[oldest] = qmtl_none();
        }
    } else {
        w->count++;
    }
    uint32_t nh = w->head + 1 == cap ? 0 : w->head + 1;
    /* After advancing head, the k newest items move to offsets 0..k-1 of the new head. */
    uint32_t dst = nh;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t src = dst == 0 ? cap - 1 : dst - 1;
        vals[dst] = vals[src];
        tss[dst] = tss[src];
        dst = src;
    }
    vals[dst] = qmtl_none();
    w->head = nh;
    if (store(&vals[dst], v))
        return NC_ERR;
    tss[dst] = b;
    c->has_evicted[i] = 0;
    return NC_OK;
}

int node_cache_full(const struct node_cache *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->win[i].count < c->cap)
            return 0;
    return 1;
}

int node_cache_ready_any(const struct node_cache *c)
{
    int any = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->win[i].count == 0)
            continue;
        if (c->win[i].count < c->cap)
            return 0;
        any = 1;
    }
    return any;
}

int64_t node_cache_watermark(const struct node_cache *c, int64_t lateness)
{
    int64_t m = INT64_MAX;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->newest[i] != INT64_MIN && c->newest[i] < m)
            m = c->newest[i];
    return m == INT64_MAX ? INT64_MIN : m - lateness;
}
