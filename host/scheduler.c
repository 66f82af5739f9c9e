/* scheduler: waves through the DAG in evaluation order (see scheduler.h). */
#include "host/scheduler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sched {
    struct graph *g;
    struct sched_hooks h;
    uint64_t *pending; /* bit per evaluation position */
    size_t words;
    size_t lo; /* lowest word that may hold a pending bit */
    int64_t now;
    uint64_t computes, waves;
};

static const char *const empty_id = "";

struct sched *sched_new(struct graph *g, const struct sched_hooks *hooks, char *err,
                        size_t errlen)
{
    struct sched *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    s->g = g;
    s->h = *hooks;
    size_t n = graph_count(g);
    s->words = (n + 63) / 64;
    s->lo = s->words;
    s->pending = calloc(s->words ? s->words : 1, sizeof(*s->pending));
    if (!s->pending)
        goto oom;
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *x = graph_node(g, i);
        if (x->cache.n || x->cache.win)
            continue; /* already allocated (scheduler recreated) */
        uint32_t nin = x->kind == GRAPH_STREAM ? 1 : x->n_in;
        int64_t iv[QMTL_MAX_INPUTS];
        const char *ids[QMTL_MAX_INPUTS];
        int64_t *ivp = iv;
        const char **idp = ids;
        if (nin > QMTL_MAX_INPUTS) {
            ivp = calloc(nin, sizeof(*ivp));
            idp = calloc(nin, sizeof(*idp));
            if (!ivp || !idp) {
                free(ivp);
                free(idp);
                goto oom;
            }
        }
        if (x->kind == GRAPH_STREAM) {
            iv[0] = x->interval;
            ids[0] = x->id;
        } else {
            for (uint32_t k = 0; k < nin; k++) {
                struct graph_node *u = graph_node(g, x->in[k]);
                ivp[k] = u->interval;
                idp[k] = u ? u->id : empty_id;
            }
        }
        uint32_t cap = x->period > 0 ? (uint32_t)x->period : 1;
        int rc = node_cache_init(&x->cache, nin, cap, ivp, idp);
        if (ivp != iv) {
            free(ivp);
            free(idp);
        }
        if (rc)
            goto oom;
    }
    return s;
oom:
    snprintf(err, errlen, "out of memory");
    sched_free(s);
    return NULL;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    free(s->pending);
    free(s);
}

int64_t sched_now(const struct sched *s)
{
    return s->now;
}

uint64_t sched_computes(const struct sched *s)
{
    return s->computes;
}

uint64_t sched_waves(const struct sched *s)
{
    return s->waves;
}

static inline void mark(struct sched *s, uint32_t pos)
{
    size_t w = pos >> 6;
    s->pending[w] |= 1ull << (pos & 63);
    if (w < s->lo)
        s->lo = w;
}

static void fail_node(struct sched *s, struct graph_node *n, int code, const char *msg)
{
    n->failed = 1;
    if (s->h.node_error)
        s->h.node_error(s->h.arg, n, code, msg);
}

static void side_push(struct graph_node *n, uint32_t slot, int64_t ts,
                      const struct qmtl_value *v)
{
    n->late_side++;
    if (n->n_side == n->cap_side) {
        uint32_t nc = n->cap_side ? n->cap_side * 2 : 8;
        if (nc > 4096) { /* keep the newest 4096 */
            if (n->side[0].value.type == QMTL_T_JSON)
                free((char *)n->side[0].value.as.json);
            memmove(n->side, n->side + 1, (n->n_side - 1) * sizeof(*n->side));
            n->n_side--;
        } else {
            struct graph_side_item *p = realloc(n->side, nc * sizeof(*p));
            if (!p)
                return;
            n->side = p;
            n->cap_side = nc;
        }
    }
    struct graph_side_item *it = &n->side[n->n_side++];
    it->slot = slot;
    it->ts = ts;
    it->value = *v;
    if (v->type == QMTL_T_JSON) {
        it->value.as.json = strdup(v->as.json ? v->as.json : "null");
        if (!it->value.as.json)
            it->value = qmtl_none();
    }
}

/* Wave flags: the data item that started the wave skipped buckets, or repeated one. */
#define WAVE_GAP 1u
#define WAVE_DUP 2u

static void deliver(struct sched *s, struct graph_node *c, uint32_t slot, int64_t ts,
                    const struct qmtl_value *v, unsigned flags)
{
    if (c->failed || !c->live_owners)
        return;
    struct node_cache *nc = &c->cache;
    enum nc_status st = node_cache_append(nc, slot, ts, v);
    switch (st) {
    case NC_OK:
    case NC_GAP:
    case NC_DUP:
        if (c->kind == GRAPH_INDICATOR)
            builtin_absorb(&c->bi, slot, st, &nc->win[slot],
                           nc->has_evicted[slot] ? &nc->evicted[slot] : NULL);
        /* Only gaps and repeats in the data count: a sparse upstream (one that emits
         * no value on some buckets) is not missing data. */
        if (flags & WAVE_GAP)
            c->wave_gap = 1;
        if (flags & WAVE_DUP)
            c->wave_dup = 1;
        break;
    case NC_LATE: {
        int64_t b = nc_bucket(ts, nc->win[slot].interval);
        if (b < node_cache_watermark(nc, c->allowed_lateness)) {
            if (c->on_late == QMTL_LATE_IGNORE) {
                c->late_dropped++;
                return;
            }
            if (c->on_late == QMTL_LATE_SIDE_OUTPUT) {
                side_push(c, slot, b, v);
                return;
            }
        }
        enum nc_status r = node_cache_insert_late(nc, slot, ts, v);
        if (r == NC_LATE) {
            c->late_dropped++;
            return;
        }
        if (r == NC_ERR) {
            fail_node(s, c, QMTL_ENOMEM, "out of memory caching a late item");
            return;
        }
        if (c->kind == GRAPH_INDICATOR)
            builtin_rebuild(&c->bi, &nc->win[slot]);
        c->wave_late = 1;
        break;
    }
    default:
        fail_node(s, c, QMTL_ENOMEM, "out of memory caching an item");
        return;
    }
    if (!c->wave_mask)
        c->wave_trigger = slot;
    c->wave_mask |= 1u << (slot < 31 ? slot : 31);
    c->wave_ts = ts;
    mark(s, c->pos);
}

static void emit(struct sched *s, struct graph_node *n, int64_t ts, struct qmtl_value *v,
                 unsigned flags)
{
    if (v->type == QMTL_T_JSON) {
        const char *src = v->as.json ? v->as.json : "null";
        size_t len = strlen(src) + 1;
        if (len > n->json_cap) {
            char *p = realloc(n->json_out, len);
            if (!p) {
                fail_node(s, n, QMTL_ENOMEM, "out of memory copying a JSON result");
                return;
            }
            n->json_out = p;
            n->json_cap = len;
        }
        memcpy(n->json_out, src, len);
        v->as.json = n->json_out;
    }
    n->last_out = *v;
    n->last_out_ts = ts;
    n->has_out = 1;
    n->emits++;
    if (s->h.output)
        s->h.output(s->h.arg, n, ts, v);
    if (n->kind == GRAPH_SIGNAL && s->h.signal)
        s->h.signal(s->h.arg, n, ts, &v->as.signal);
    for (uint32_t e = 0; e < n->n_out; e++)
        deliver(s, graph_node(s->g, n->out[e].node), n->out[e].slot, ts, v, flags);
}

static void compute_signal(struct graph_node *n, struct qmtl_value *out)
{
    const struct qmtl_value *v = qmtl_window_latest(&n->cache.win[0]);
    if (!v)
        return;
    if (v->type == QMTL_T_SIGNAL) {
        *out = *v;
        n->sig_target = v->as.signal.target;
        return;
    }
    double x = qmtl_value_number(v);
    if (isnan(x))
        return;
    double t = n->sig_target;
    if (x > n->sig_buy_above)
        t = n->sig_size;
    else if (x < n->sig_sell_below)
        t = n->sig_long_only ? 0.0 : -n->sig_size;
    if (t == n->sig_target)
        return;
    int32_t action = t > n->sig_target ? QMTL_BUY : QMTL_SELL;
    n->sig_target = t;
    *out = qmtl_signal_value(action, t);
    out->as.signal.strength = fabs(x);
}

static void run_node(struct sched *s, struct graph_node *n)
{
    uint32_t mask = n->wave_mask;
    int gap = n->wave_gap, dup = n->wave_dup, late = n->wave_late;
    n->wave_mask = 0;
    n->wave_gap = n->wave_dup = n->wave_late = 0;
    if (n->failed || !n->live_owners)
        return;
    int passthrough = n->kind == GRAPH_ORDER || n->kind == GRAPH_TAG_QUERY;
    if ((gap || dup) && !passthrough) {
        if (n->on_missing == QMTL_MISSING_FAIL) {
            fail_node(s, n, QMTL_ERR, gap ? "gap detected" : "duplicate bucket");
            return;
        }
        n->skipped_missing++;
        return;
    }
    int any = passthrough || (n->flags & QMTL_FIRE_ON_ANY);
    if (any ? !node_cache_ready_any(&n->cache) : !node_cache_full(&n->cache))
        return;
    int64_t b = nc_bucket(n->wave_ts, n->interval > 0 ? n->interval : 1);
    if (!any && n->n_in > 1 && !late) {
        for (uint32_t i = 0; i < n->n_in; i++)
            if (nc_bucket(n->cache.newest[i], n->interval) != b)
                return;
        if (n->last_fired == b)
            return;
        n->last_fired = b;
    }
    s->now = b;
    struct qmtl_value out = qmtl_none();
    s->computes++;
    n->computes++;
    switch (n->kind) {
    case GRAPH_INDICATOR:
        builtin_output(&n->bi, n->cache.win, &out);
        break;
    case GRAPH_CUSTOM: {
        struct qmtl_view view = {
            .size = sizeof(view),
            .n_inputs = n->n_in,
            .inputs = n->cache.win,
            .ts = b,
            .trigger = n->wave_trigger,
            .state = n->state,
            .user = n->user,
            .ctx = n->ctx,
            .host = s->h.api,
        };
        int rc = n->compute(&view, &out);
        if (rc < 0) {
            char msg[64];
            snprintf(msg, sizeof(msg), "compute returned %d", rc);
            fail_node(s, n, rc, msg);
            return;
        }
        break;
    }
    case GRAPH_SIGNAL:
        compute_signal(n, &out);
        break;
    case GRAPH_ORDER:
        if (s->h.order)
            s->h.order(s->h.arg, n, b, (mask & 2u) != 0, (mask & 1u) != 0, &out);
        break;
    case GRAPH_TAG_QUERY: {
        const struct qmtl_value *v = qmtl_window_latest(&n->cache.win[n->wave_trigger]);
        if (v)
            out = *v;
        break;
    }
    default:
        break;
    }
    if (out.type != QMTL_T_NONE)
        emit(s, n, b, &out, passthrough ? (gap ? WAVE_GAP : 0) | (dup ? WAVE_DUP : 0) : 0);
}

int sched_feed(struct sched *s, uint32_t idx, int64_t ts, const struct qmtl_value *v)
{
    struct graph_node *n = graph_node(s->g, idx);
    if (!n || n->kind != GRAPH_STREAM)
        return -1;
    if (n->failed || !n->live_owners)
        return 0;
    s->waves++;
    n->deliveries++;
    enum nc_status st = node_cache_append(&n->cache, 0, ts, v);
    if (st == NC_LATE)
        node_cache_insert_late(&n->cache, 0, ts, v);
    unsigned flags = st == NC_GAP ? WAVE_GAP : st == NC_DUP ? WAVE_DUP : 0;
    int64_t b = nc_bucket(ts, n->interval);
    s->now = b;
    struct qmtl_value out = *v;
    emit(s, n, b, &out, flags);
    for (size_t w = s->lo; w < s->words; w++) {
        uint64_t bits;
        while ((bits = s->pending[w]) != 0) {
            unsigned k = (unsigned)__builtin_ctzll(bits);
            s->pending[w] = bits & (bits - 1);
            run_node(s, graph_at(s->g, (uint32_t)(w * 64 + k)));
        }
    }
    s->lo = s->words;
    return 0;
}
