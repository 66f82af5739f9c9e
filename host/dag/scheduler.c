/* scheduler: waves through the DAG in evaluation order (see scheduler.h). */
#include "host/dag/scheduler.h"

#include "host/errcode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sched {
    struct graph *g;
    struct graph_node **at; /* by evaluation position */
    struct sched_hooks h;
    uint64_t *pending; /* bit per evaluation position */
    size_t words;
    size_t lo; /* lowest word that may hold a pending bit */
    int64_t now;
    uint64_t computes, waves;
    int in_wave;
};

/* While sched_new runs: (upstream, capacity) -> index of its shared ring in upstream->outs,
 * so that a wide fan-out of many periods finds its ring in O(1). */
struct ring_index {
    uint64_t *keys; /* (idx << 32 | cap); 0 = empty (cap >= 1) */
    uint32_t *outs;
    size_t mask;
};

static uint64_t *ri_slot(struct ring_index *ri, uint64_t key, uint32_t **out)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & ri->mask;
    while (ri->keys[i] && ri->keys[i] != key)
        i = (i + 1) & ri->mask;
    *out = &ri->outs[i];
    return &ri->keys[i];
}

/* The ring slot 'slot' of node x reads from upstream u: shared when possible. */
static struct nc_ring *ring_for(struct graph_node *u, struct graph_node *x, uint32_t slot,
                                struct ring_index *ri, sched_adopt_fn adopt, void *arg)
{
    uint32_t cap = x->period > 0 ? (uint32_t)x->period : 1;
    int shared = x->on_late == QMTL_LATE_RECOMPUTE;
    struct graph_out *o = NULL;
    uint64_t *key = NULL;
    uint32_t *at = NULL;
    if (shared) {
        key = ri_slot(ri, (uint64_t)u->idx << 32 | cap, &at);
        if (*key)
            o = &u->outs[*at];
    }
    if (!o) {
        /* capacity doubles at powers of two */
        if ((u->n_outs & (u->n_outs - 1)) == 0) {
            uint32_t nc = u->n_outs ? u->n_outs * 2 : 1;
            struct graph_out *no = realloc(u->outs, nc * sizeof(*no));
            if (!no)
                return NULL;
            u->outs = no;
        }
        o = &u->outs[u->n_outs];
        memset(o, 0, sizeof(*o));
        if (adopt)
            o->ring = adopt(arg, u, x, slot, cap, shared);
        if (!o->ring && !(o->ring = nc_ring_new(cap, u->interval, u->id)))
            return NULL;
        o->ring->shared = shared;
        if (key) {
            *key = (uint64_t)u->idx << 32 | cap;
            *at = u->n_outs;
        }
        u->n_outs++;
    }
    if (x) {
        if (o->n_cons == o->cap_cons) {
            uint32_t nc = o->cap_cons ? o->cap_cons * 2 : 1;
            struct graph_cons *e = realloc(o->cons, nc * sizeof(*e));
            if (!e)
                return NULL;
            o->cons = e;
            o->cap_cons = nc;
        }
        o->cons[o->n_cons++] = (struct graph_cons){x, slot};
    }
    return o->ring;
}

struct sched *sched_new(struct graph *g, const struct sched_hooks *hooks, char *err, size_t errlen)
{
    return sched_new_adopting(g, hooks, NULL, NULL, err, errlen);
}

struct sched *sched_new_adopting(struct graph *g, const struct sched_hooks *hooks,
                                 sched_adopt_fn adopt, void *arg, char *err, size_t errlen)
{
    struct ring_index ri = {0};
    struct sched *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    s->g = g;
    s->h = *hooks;
    size_t n = graph_count(g);
    s->words = (n + 63) / 64;
    s->lo = s->words;
    s->pending = calloc(s->words ? s->words : 1, sizeof(*s->pending));
    s->at = calloc(n ? n : 1, sizeof(*s->at));
    if (!s->pending || !s->at)
        goto oom;
    for (uint32_t p = 0; p < n; p++)
        s->at[p] = graph_at(g, p);
    size_t slots = 2 * n;
    for (uint32_t p = 0; p < n; p++)
        slots += 2 * ((size_t)graph_at(g, p)->n_in + graph_at(g, p)->n_outs);
    size_t size = 64;
    while (size < slots)
        size *= 2;
    ri.keys = calloc(size, sizeof(*ri.keys));
    ri.outs = calloc(size, sizeof(*ri.outs));
    ri.mask = size - 1;
    if (!ri.keys || !ri.outs)
        goto oom;
    for (uint32_t p = 0; p < n; p++) { /* rings a graph already has (none when fresh) */
        struct graph_node *u = graph_at(g, p);
        for (uint32_t k = 0; k < u->n_outs; k++)
            if (u->outs[k].ring->shared) {
                uint32_t *at;
                uint64_t key = (uint64_t)u->idx << 32 | u->outs[k].ring->w.cap;
                uint64_t *slot = ri_slot(&ri, key, &at);
                if (!*slot) {
                    *slot = key;
                    *at = k;
                }
            }
    }
    /* a stream's own history first, so that it is outs[0] */
    for (uint32_t p = 0; p < n; p++) {
        struct graph_node *x = graph_at(g, p);
        if (x->kind != GRAPH_STREAM || x->n_outs)
            continue;
        uint32_t cap = x->period > 0 ? (uint32_t)x->period : 1;
        x->outs = calloc(1, sizeof(*x->outs));
        if (!x->outs)
            goto oom;
        if (adopt)
            x->outs[0].ring = adopt(arg, x, NULL, 0, cap, 1);
        if (!x->outs[0].ring && !(x->outs[0].ring = nc_ring_new(cap, x->interval, x->id)))
            goto oom;
        x->outs[0].ring->shared = 1;
        x->n_outs = 1;
        uint32_t *at;
        uint64_t *slot = ri_slot(&ri, (uint64_t)x->idx << 32 | cap, &at);
        *slot = (uint64_t)x->idx << 32 | cap;
        *at = 0;
    }
    for (uint32_t p = 0; p < n; p++) {
        struct graph_node *x = graph_at(g, p);
        if (x->in_rings || !x->n_in)
            continue;
        x->in_rings = x->n_in == 1 ? &x->in_ring1 : calloc(x->n_in, sizeof(*x->in_rings));
        if (!x->in_rings)
            goto oom;
        if (x->n_in > 1 && !(x->win = calloc(x->n_in, sizeof(*x->win))))
            goto oom;
        x->same_interval = 1;
        for (uint32_t i = 0; i < x->n_in; i++) {
            struct graph_node *u = graph_node(g, x->in[i]);
            if (!(x->in_rings[i] = ring_for(u, x, i, &ri, adopt, arg)))
                goto oom;
            if (i == 0)
                x->in_ring1 = x->in_rings[0];
            if (u->interval != x->interval)
                x->same_interval = 0;
        }
    }
    free(ri.keys);
    free(ri.outs);
    return s;
oom:
    snprintf(err, errlen, "out of memory");
    free(ri.keys);
    free(ri.outs);
    sched_free(s);
    return NULL;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    free(s->pending);
    free(s->at);
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

int sched_in_wave(const struct sched *s)
{
    return s && s->in_wave;
}

const struct sched_hooks *sched_get_hooks(const struct sched *s)
{
    return &s->h;
}

void sched_carry(struct sched *to, const struct sched *from)
{
    to->now = from->now;
    to->computes = from->computes;
    to->waves = from->waves;
}

static _Thread_local const struct graph_node *volatile running;

const struct graph_node *sched_running_node(void)
{
    return running;
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

static void side_push(struct graph_node *n, uint32_t slot, int64_t ts, const struct qmtl_value *v)
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

static inline void arrived(struct sched *s, struct graph_node *c, uint32_t slot, int64_t ts)
{
    if (!c->wave_mask)
        c->wave_trigger = slot;
    c->wave_mask |= 1u << (slot < 31 ? slot : 31);
    c->wave_ts = ts;
    mark(s, c->pos);
}

/* Append one emission to ring o and tell its consumers. */
static void deliver(struct sched *s, struct graph_out *o, int64_t ts, const struct qmtl_value *v,
                    enum nc_status st, unsigned flags)
{
    struct nc_ring *r = o->ring;
    if (st == NC_ERR) {
        for (uint32_t k = 0; k < o->n_cons; k++) {
            struct graph_node *c = o->cons[k].node;
            if (!c->failed && c->live_owners)
                fail_node(s, c, QMTL_ENOMEM, "out of memory caching an item");
        }
        return;
    }
    if (st == NC_LATE) {
        if (!r->shared) {
            /* a private ring: its single consumer's watermark and policy decide */
            struct graph_node *c = o->cons[0].node;
            if (c->failed || !c->live_owners)
                return;
            int64_t b = nc_bucket(ts, r->w.interval);
            if (b < nc_watermark(c->in_rings, c->n_in, c->allowed_lateness)) {
                if (c->on_late == QMTL_LATE_IGNORE) {
                    c->late_dropped++;
                    return;
                }
                if (c->on_late == QMTL_LATE_SIDE_OUTPUT) {
                    side_push(c, o->cons[0].slot, b, v);
                    return;
                }
            }
        }
        enum nc_status li = nc_ring_insert_late(r, ts, v);
        for (uint32_t k = 0; k < o->n_cons; k++) {
            struct graph_node *c = o->cons[k].node;
            if (c->failed || !c->live_owners)
                continue;
            if (li == NC_LATE) {
                c->late_dropped++;
                continue;
            }
            if (li == NC_ERR) {
                fail_node(s, c, QMTL_ENOMEM, "out of memory caching a late item");
                continue;
            }
            if (c->bi) /* an indicator, also while remote: it stays warm for a takeover */
                builtin_rebuild(c->bi, &r->w);
            c->wave_late = 1;
            arrived(s, c, o->cons[k].slot, ts);
        }
        return;
    }
    const struct qmtl_value *ev = r->has_evicted ? &r->evicted : NULL;
    for (uint32_t k = 0; k < o->n_cons; k++) {
        struct graph_node *c = o->cons[k].node;
        if (k + 4 < o->n_cons)
            __builtin_prefetch(o->cons[k + 4].node, 1);
        if (c->failed || !c->live_owners)
            continue;
        if (c->bi) /* an indicator, also while remote: it stays warm for a takeover */
            builtin_absorb(c->bi, o->cons[k].slot, st, &r->w, ev);
        /* Only gaps and repeats in the data count: a sparse upstream (one that emits no
         * value on some buckets) is not missing data. */
        if (flags & WAVE_GAP)
            c->wave_gap = 1;
        if (flags & WAVE_DUP)
            c->wave_dup = 1;
        arrived(s, c, o->cons[k].slot, ts);
    }
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
    n->emits++;
    if (s->h.output)
        s->h.output(s->h.arg, n, ts, v);
    if (n->kind == GRAPH_SIGNAL && s->h.signal)
        s->h.signal(s->h.arg, n, ts, &v->as.signal);
    for (uint32_t k = 0; k < n->n_outs; k++) {
        enum nc_status st = nc_ring_append(n->outs[k].ring, ts, v);
        if (k == 0 && n->kind == GRAPH_STREAM) /* the stream's own history: data gaps */
            flags = st == NC_GAP ? WAVE_GAP : st == NC_DUP ? WAVE_DUP : 0;
        deliver(s, &n->outs[k], ts, v, st, flags);
    }
}

static void compute_signal(struct graph_node *n, struct qmtl_value *out)
{
    const struct qmtl_value *v = qmtl_window_latest(graph_input(n, 0));
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
    if (n->failed || !n->live_owners || n->kind == GRAPH_REMOTE)
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
    if (n->n_in == 1) {
        if (n->in_ring1->w.count < n->in_ring1->w.cap)
            return;
    } else if (any ? !nc_ready_any(n->in_rings, n->n_in) : !nc_full(n->in_rings, n->n_in)) {
        return;
    }
    int64_t b = n->same_interval ? n->wave_ts : nc_bucket(n->wave_ts, n->interval);
    if (!any && n->n_in > 1 && !late) {
        for (uint32_t i = 0; i < n->n_in; i++)
            if (nc_bucket(n->in_rings[i]->newest, n->interval) != b)
                return;
        if (n->last_fired == b)
            return;
        n->last_fired = b;
    }
    s->now = b;
    const struct qmtl_window *wins;
    if (n->n_in == 1) {
        wins = &n->in_ring1->w;
    } else {
        for (uint32_t i = 0; i < n->n_in; i++)
            n->win[i] = n->in_rings[i]->w;
        wins = n->win;
    }
    struct qmtl_value out = qmtl_none();
    s->computes++;
    n->computes++;
    switch (n->kind) {
    case GRAPH_INDICATOR:
        builtin_output(n->bi, wins, &out);
        break;
    case GRAPH_CUSTOM: {
        struct qmtl_view view = {
            .size = sizeof(view),
            .n_inputs = n->n_in,
            .inputs = wins,
            .ts = b,
            .trigger = n->wave_trigger,
            .state = n->state,
            .user = n->user,
            .ctx = n->ctx,
            .host = s->h.api,
        };
        running = n;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = n->compute(&view, &out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        running = NULL;
        n->compute_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
        if (rc < 0) {
            char msg[96], code[64];
            snprintf(msg, sizeof(msg), "compute returned %s", errcode_text(rc, code, sizeof(code)));
            fail_node(s, n, rc, msg);
            return;
        }
        if (out.type < QMTL_T_NONE || out.type > QMTL_T_JSON ||
            (out.type == QMTL_T_JSON && !out.as.json)) {
            char msg[64];
            snprintf(msg, sizeof(msg), "compute produced an invalid value (type %d)",
                     (int)out.type);
            fail_node(s, n, QMTL_EINVAL, msg);
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
        const struct qmtl_value *v = qmtl_window_latest(&wins[n->wave_trigger]);
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
    if (!n || (n->kind != GRAPH_STREAM && n->kind != GRAPH_REMOTE))
        return -1;
    if (n->failed || !n->live_owners)
        return 0;
    s->waves++;
    n->deliveries++;
    int64_t b = nc_bucket(ts, n->interval);
    s->now = b;
    struct qmtl_value out = *v;
    s->in_wave = 1;
    emit(s, n, b, &out, 0);
    for (size_t w = s->lo; w < s->words; w++) {
        uint64_t bits;
        while ((bits = s->pending[w]) != 0) {
            unsigned k = (unsigned)__builtin_ctzll(bits);
            uint64_t rest = bits & (bits - 1);
            s->pending[w] = rest;
            /* wide fan-outs are memory bound: fetch the next pending node early */
            if (rest)
                __builtin_prefetch(s->at[w * 64 + (unsigned)__builtin_ctzll(rest)]);
            run_node(s, s->at[w * 64 + k]);
        }
    }
    s->lo = s->words;
    s->in_wave = 0;
    return 0;
}
