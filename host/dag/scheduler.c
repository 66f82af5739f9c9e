/* scheduler: waves through the DAG in evaluation order (see scheduler.h). */
#include "host/dag/scheduler.h"

#include "host/errcode.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sched {
    struct graph *g;
    struct runtime *rt;
    struct rt_node **at; /* &rt->node[pos]: one load per pending node in the wave loop */
    struct sched_hooks h;
    uint64_t *pending; /* bit per evaluation position */
    size_t words;
    size_t lo; /* lowest word that may hold a pending bit */
    int64_t now;
    int64_t wave_ts; /* bucket of the item that started the current (or last) wave */
    uint64_t computes, waves;
    int in_wave;
};

struct sched *sched_new(struct graph *g, const struct sched_hooks *hooks, char *err, size_t errlen)
{
    return sched_new_opts(g, hooks, NULL, err, errlen);
}

struct sched *sched_new_opts(struct graph *g, const struct sched_hooks *hooks,
                             const struct rt_opts *o, char *err, size_t errlen)
{
    struct sched *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->g = g;
    s->h = *hooks;
    size_t n = graph_count(g);
    s->words = (n + 63) / 64;
    s->lo = s->words;
    s->pending = calloc(s->words ? s->words : 1, sizeof(*s->pending));
    if (!s->pending) {
        snprintf(err, errlen, "out of memory");
        sched_free(s);
        return NULL;
    }
    if (!(s->rt = runtime_new(g, o, err, errlen))) {
        sched_free(s);
        return NULL;
    }
    if (!(s->at = malloc((n ? n : 1) * sizeof(*s->at)))) {
        snprintf(err, errlen, "out of memory");
        sched_free(s);
        return NULL;
    }
    for (size_t p = 0; p < n; p++)
        s->at[p] = &s->rt->node[p];
    return s;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    runtime_free(s->rt);
    free(s->at);
    free(s->pending);
    free(s);
}

int64_t sched_now(const struct sched *s)
{
    return s->now;
}

int64_t sched_wave_ts(const struct sched *s)
{
    return s->wave_ts;
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

struct graph *sched_graph(const struct sched *s)
{
    return s->g;
}

struct runtime *sched_runtime(const struct sched *s)
{
    return s ? s->rt : NULL;
}

const struct rt_node *sched_node(const struct sched *s, uint32_t idx)
{
    return s ? runtime_node(s->rt, idx) : NULL;
}

void sched_carry(struct sched *to, const struct sched *from)
{
    to->now = from->now;
    to->computes = from->computes;
    to->waves = from->waves;
}

static _Thread_local const struct rt_node *volatile running;

const struct rt_node *sched_running_node(void)
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

static void fail_node(struct sched *s, struct rt_node *n, int code, const char *msg)
{
    n->failed = 1;
    if (s->h.node_error)
        s->h.node_error(s->h.arg, n->node, code, msg);
}

static void side_push(struct sched *s, struct rt_node *n, uint32_t slot, int64_t ts,
                      const struct qmtl_value *v)
{
    n->c.late_side++;
    struct rt_cold *cn = &s->rt->cold[n->pos];
    if (cn->n_side == cn->cap_side) {
        uint32_t nc = cn->cap_side ? cn->cap_side * 2 : 8;
        if (nc > 4096) { /* keep the newest 4096 */
            if (cn->side[0].value.type == QMTL_T_JSON)
                free((char *)cn->side[0].value.as.json);
            memmove(cn->side, cn->side + 1, (cn->n_side - 1) * sizeof(*cn->side));
            cn->n_side--;
        } else {
            struct rt_side_item *p = realloc(cn->side, nc * sizeof(*p));
            if (!p)
                return;
            cn->side = p;
            cn->cap_side = nc;
        }
    }
    struct rt_side_item *it = &cn->side[cn->n_side++];
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

static inline void arrived(struct sched *s, struct rt_node *c, uint32_t slot, int64_t ts)
{
    if (!c->wave_mask)
        c->wave_trigger = slot;
    c->wave_mask |= 1u << (slot < 31 ? slot : 31);
    c->wave_ts = ts;
    mark(s, c->pos);
}

/* Append one emission to ring o and tell its consumers. */
static void deliver(struct sched *s, struct rt_out *o, int64_t ts, const struct qmtl_value *v,
                    enum nc_status st, unsigned flags)
{
    struct nc_ring *r = o->ring;
    if (st == NC_ERR) {
        for (uint32_t k = 0; k < o->n_cons; k++) {
            struct rt_node *c = o->cons[k].node;
            if (!c->failed && c->live_owners)
                fail_node(s, c, QMTL_ENOMEM, "out of memory caching an item");
        }
        return;
    }
    if (st == NC_LATE) {
        if (!r->shared) {
            /* a private ring: its single consumer's watermark and policy decide */
            struct rt_node *c = o->cons[0].node;
            if (c->failed || !c->live_owners)
                return;
            int64_t b = nc_bucket(ts, r->w.interval);
            const struct graph_node *cg = c->node;
            if (b < nc_watermark(c->in_rings, c->n_in, cg->allowed_lateness)) {
                if (cg->on_late == QMTL_LATE_IGNORE) {
                    c->c.late_dropped++;
                    return;
                }
                if (cg->on_late == QMTL_LATE_SIDE_OUTPUT) {
                    side_push(s, c, o->cons[0].slot, b, v);
                    return;
                }
            }
        }
        enum nc_status li = nc_ring_insert_late(r, ts, v);
        for (uint32_t k = 0; k < o->n_cons; k++) {
            struct rt_node *c = o->cons[k].node;
            if (c->failed || !c->live_owners)
                continue;
            if (li == NC_LATE) {
                c->c.late_dropped++;
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
        struct rt_node *c = o->cons[k].node;
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

static void emit(struct sched *s, struct rt_node *n, int64_t ts, struct qmtl_value *v,
                 unsigned flags)
{
    if (v->type == QMTL_T_JSON) {
        struct rt_cold *cn = &s->rt->cold[n->pos];
        const char *src = v->as.json ? v->as.json : "null";
        size_t len = strlen(src) + 1;
        if (len > cn->json_cap) {
            char *p = realloc(cn->json_out, len);
            if (!p) {
                fail_node(s, n, QMTL_ENOMEM, "out of memory copying a JSON result");
                return;
            }
            cn->json_out = p;
            cn->json_cap = len;
        }
        memcpy(cn->json_out, src, len);
        v->as.json = cn->json_out;
    }
    n->c.emits++;
    if (s->h.output)
        s->h.output(s->h.arg, n->node, ts, v);
    if (n->kind == GRAPH_SIGNAL && s->h.signal)
        s->h.signal(s->h.arg, n->node, ts, &v->as.signal);
    for (uint32_t k = 0; k < n->n_outs; k++) {
        enum nc_status st = nc_ring_append(n->outs[k].ring, ts, v);
        if (k == 0 && n->kind == GRAPH_STREAM) /* the stream's own history: data gaps */
            flags = st == NC_GAP ? WAVE_GAP : st == NC_DUP ? WAVE_DUP : 0;
        deliver(s, &n->outs[k], ts, v, st, flags);
    }
}

static void compute_signal(struct sched *s, struct rt_node *n, struct qmtl_value *out)
{
    const struct qmtl_value *v = qmtl_window_latest(rt_input(n, 0));
    if (!v)
        return;
    struct rt_cold *cn = &s->rt->cold[n->pos];
    if (v->type == QMTL_T_SIGNAL) {
        *out = *v;
        cn->sig_target = v->as.signal.target;
        return;
    }
    double x = qmtl_value_number(v);
    if (isnan(x))
        return;
    const struct graph_node *g = n->node;
    double t = cn->sig_target;
    if (x > g->sig_buy_above)
        t = g->sig_size;
    else if (x < g->sig_sell_below)
        t = g->sig_long_only ? 0.0 : -g->sig_size;
    if (t == cn->sig_target)
        return;
    int32_t action = t > cn->sig_target ? QMTL_BUY : QMTL_SELL;
    cn->sig_target = t;
    *out = qmtl_signal_value(action, t);
    out->as.signal.strength = fabs(x);
}

/* Compute node n for bucket b with windows 'wins' and emit what it makes. */
static void compute(struct sched *s, struct rt_node *n, int64_t b, const struct qmtl_window *wins,
                    uint32_t mask, int passthrough, int gap, int dup)
{
    s->now = b;
    struct qmtl_value out = qmtl_none();
    s->computes++;
    n->c.computes++;
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
        int rc;
        if (s->h.time_computes && *s->h.time_computes) { /* two clock reads: only when read */
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rc = n->compute(&view, &out);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            n->c.compute_ns +=
                (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
        } else {
            rc = n->compute(&view, &out);
        }
        running = NULL;
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
        compute_signal(s, n, &out);
        break;
    case GRAPH_ORDER:
        if (s->h.order)
            s->h.order(s->h.arg, n->node, wins, b, (mask & 2u) != 0, (mask & 1u) != 0, &out);
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

/* An aligned node whose inputs are apart (fanin.h): keep their history and compute each
 * bucket every input delivered, with the windows of one process. 1 when handled here, 0
 * for the usual path (inputs level, or no memory for a history). */
static int fan_in(struct sched *s, struct rt_node *n, uint32_t mask, int gap, int dup)
{
    struct rt_cold *cn = &s->rt->cold[n->pos];
    struct fanin *f = cn->fanin;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint32_t slow = 0;
    for (uint32_t i = 0; i < n->n_in; i++) {
        int64_t b = n->in_rings[i]->newest;
        if (b < lo) {
            lo = b;
            slow = i;
        }
        hi = b > hi ? b : hi;
    }
    /* at most one bucket apart: the rings hold every window still to come */
    int near = hi == INT64_MIN || (lo != INT64_MIN && hi - lo <= n->interval);
    if (!f || !f->on) {
        if (near)
            return 0;
        if (!f && !(f = cn->fanin = fanin_new(n->n_in, n->in_rings[0]->w.cap, n->in_rings)))
            return 0;
        /* every bucket up to the slowest input's newest was considered: while at most
         * one bucket apart, each delivery of the slower input levels them */
        if (fanin_start(f, n->in_rings, mask, lo > n->last_fired ? lo : n->last_fired) < 0) {
            fanin_stop(f, INT64_MIN);
            return 0;
        }
    } else {
        fanin_record(f, n->in_rings, mask);
    }
    int64_t t;
    int rc;
    while (!n->failed && (rc = fanin_next(f, lo, slow, &t)) != 0) {
        int warm = rc > 0 ? fanin_windows(f, t, n->in_rings, n->win) : -1;
        if (warm < 0) {
            n->c.skipped_missing++;
            if (!f->warned) {
                f->warned = 1;
                LOG_WARN("sched",
                         "node '%s': its inputs are more than %u buckets apart: bucket %lld "
                         "not computed (its window is no longer held)",
                         n->node->label, FANIN_HOLD, (long long)t);
            }
            continue;
        }
        if (!warm)
            continue;
        /* a gap or a repeat in the data of this wave: its bucket as on one host */
        if ((gap || dup) && t == n->wave_ts) {
            if (n->node->on_missing == QMTL_MISSING_FAIL) {
                fail_node(s, n, QMTL_ERR, gap ? "gap detected" : "duplicate bucket");
                return 1;
            }
            n->c.skipped_missing++;
            continue;
        }
        n->last_fired = t;
        compute(s, n, t, n->win, mask, 0, 0, 0);
    }
    if (near)
        fanin_stop(f, lo);
    return 1;
}

static void run_node(struct sched *s, struct rt_node *n)
{
    uint32_t mask = n->wave_mask;
    int gap = n->wave_gap, dup = n->wave_dup, late = n->wave_late;
    n->wave_mask = 0;
    n->wave_gap = n->wave_dup = n->wave_late = 0;
    if (n->failed || !n->live_owners || n->kind == GRAPH_REMOTE)
        return;
    int passthrough = n->kind == GRAPH_ORDER || n->kind == GRAPH_TAG_QUERY;
    /* inputs apart (one runs ahead, e.g. a node another host computes): fanin.h */
    if (!late && n->n_in > 1 && !n->fire_any && !passthrough && n->same_interval &&
        fan_in(s, n, mask, gap, dup))
        return;
    if ((gap || dup) && !passthrough) {
        if (n->node->on_missing == QMTL_MISSING_FAIL) {
            fail_node(s, n, QMTL_ERR, gap ? "gap detected" : "duplicate bucket");
            return;
        }
        n->c.skipped_missing++;
        return;
    }
    int any = passthrough || n->fire_any;
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
    const struct qmtl_window *wins;
    if (n->n_in == 1) {
        wins = &n->in_ring1->w;
    } else {
        for (uint32_t i = 0; i < n->n_in; i++)
            n->win[i] = n->in_rings[i]->w;
        wins = n->win;
    }
    compute(s, n, b, wins, mask, passthrough, gap, dup);
}

/* Run every pending node, in evaluation order. */
static void run_pending(struct sched *s)
{
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
}

int sched_feed_inputs(struct sched *s, uint32_t idx, const struct sched_item *items, size_t n)
{
    struct rt_node *x = runtime_node(s->rt, idx);
    if (!x || s->in_wave || x->kind == GRAPH_STREAM || x->kind == GRAPH_REMOTE)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (items[i].slot >= x->n_in)
            return -1;
    s->waves++;
    s->in_wave = 1;
    for (size_t i = 0; i < n; i++) {
        const struct sched_item *it = &items[i];
        struct nc_ring *r = x->in_rings[it->slot];
        enum nc_status st = nc_ring_append(r, it->ts, &it->value);
        if (st == NC_ERR) {
            fail_node(s, x, QMTL_ENOMEM, "out of memory caching an item");
            break;
        }
        if (st == NC_LATE) {
            enum nc_status li = nc_ring_insert_late(r, it->ts, &it->value);
            if (li == NC_LATE || li == NC_ERR)
                continue;
            if (x->bi)
                builtin_rebuild(x->bi, &r->w);
            x->wave_late = 1;
        } else {
            if (x->bi)
                builtin_absorb(x->bi, it->slot, st, &r->w, r->has_evicted ? &r->evicted : NULL);
            /* as deliver(): only a stream's gaps and repeats are missing data */
            if (graph_node(s->g, x->node->in[it->slot])->kind == GRAPH_STREAM) {
                if (st == NC_GAP)
                    x->wave_gap = 1;
                if (st == NC_DUP)
                    x->wave_dup = 1;
            }
        }
        arrived(s, x, it->slot, it->ts);
    }
    run_pending(s);
    s->in_wave = 0;
    return 0;
}

int sched_feed(struct sched *s, uint32_t idx, int64_t ts, const struct qmtl_value *v)
{
    struct rt_node *n = runtime_node(s->rt, idx);
    if (!n || (n->kind != GRAPH_STREAM && n->kind != GRAPH_REMOTE))
        return -1;
    if (n->failed || !n->live_owners)
        return 0;
    s->waves++;
    n->c.deliveries++;
    int64_t b = nc_bucket(ts, n->interval);
    s->now = b;
    s->wave_ts = b;
    struct qmtl_value out = *v;
    s->in_wave = 1;
    emit(s, n, b, &out, 0);
    run_pending(s);
    s->in_wave = 0;
    return 0;
}
