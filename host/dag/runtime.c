/* runtime: rings, states, wave fields and counters by evaluation position (see runtime.h). */
#include "host/dag/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(struct rt_node, in_rings) == 64, "rt_node: the wave is one cache line");
_Static_assert(offsetof(struct rt_node, node) == 128, "rt_node: the compute is one cache line");
_Static_assert(sizeof(struct rt_node) == 192, "rt_node: three cache lines");

/* While runtime_new runs: (upstream, capacity) -> index of its shared ring in the
 * upstream's outs, so that a wide fan-out of many periods finds its ring in O(1). */
struct ring_index {
    uint64_t *keys; /* (pos << 32 | cap); 0 = empty (cap >= 1) */
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

/* A new out of u (capacity doubles at powers of two); NULL when out of memory. */
static struct rt_out *out_new(struct rt_node *u)
{
    if ((u->n_outs & (u->n_outs - 1)) == 0) {
        uint32_t nc = u->n_outs ? u->n_outs * 2 : 1;
        struct rt_out *no = realloc(u->outs, nc * sizeof(*no));
        if (!no)
            return NULL;
        u->outs = no;
    }
    struct rt_out *o = &u->outs[u->n_outs];
    memset(o, 0, sizeof(*o));
    return o;
}

/* The ring slot 'slot' of node x reads from upstream u: shared when possible. */
static struct nc_ring *ring_for(struct rt_node *u, struct rt_node *x, uint32_t slot,
                                struct ring_index *ri, const struct rt_opts *opt)
{
    const struct graph_node *gx = x->node;
    uint32_t cap = gx->period > 0 ? (uint32_t)gx->period : 1;
    int shared = gx->on_late == QMTL_LATE_RECOMPUTE;
    struct rt_out *o = NULL;
    uint64_t *key = NULL;
    uint32_t *at = NULL;
    if (shared) {
        key = ri_slot(ri, (uint64_t)u->pos << 32 | cap, &at);
        if (*key)
            o = &u->outs[*at];
    }
    if (!o) {
        if (!(o = out_new(u)))
            return NULL;
        if (opt->adopt)
            o->ring = opt->adopt(opt->adopt_arg, u->node, gx, slot, cap, shared);
        if (!o->ring && !(o->ring = nc_ring_new(cap, u->interval, u->node->id)))
            return NULL;
        o->ring->shared = shared;
        if (key) {
            *key = (uint64_t)u->pos << 32 | cap;
            *at = u->n_outs;
        }
        u->n_outs++;
    }
    if (o->n_cons == o->cap_cons) {
        uint32_t nc = o->cap_cons ? o->cap_cons * 2 : 1;
        struct rt_cons *e = realloc(o->cons, nc * sizeof(*e));
        if (!e)
            return NULL;
        o->cons = e;
        o->cap_cons = nc;
    }
    o->cons[o->n_cons++] = (struct rt_cons){x, slot};
    return o->ring;
}

/* A stream's own history: outs[0], shared. 0, or -1 out of memory. */
static int history_ring(struct rt_node *x, struct ring_index *ri, const struct rt_opts *opt)
{
    uint32_t cap = x->node->period > 0 ? (uint32_t)x->node->period : 1;
    struct rt_out *o = out_new(x);
    if (!o)
        return -1;
    if (opt->adopt)
        o->ring = opt->adopt(opt->adopt_arg, x->node, NULL, 0, cap, 1);
    if (!o->ring && !(o->ring = nc_ring_new(cap, x->interval, x->node->id)))
        return -1;
    o->ring->shared = 1;
    x->n_outs = 1;
    uint32_t *at;
    uint64_t *slot = ri_slot(ri, (uint64_t)x->pos << 32 | cap, &at);
    *slot = (uint64_t)x->pos << 32 | cap;
    *at = 0;
    return 0;
}

static int all_live(void *arg, uint32_t owner)
{
    (void)arg, (void)owner;
    return 1;
}

void runtime_owners_changed(struct runtime *rt, uint32_t idx, rt_live_fn live, void *arg)
{
    struct rt_node *x = runtime_node(rt, idx);
    if (!x)
        return;
    const struct graph_node *n = x->node;
    if (!live)
        live = all_live;
    x->live_owners = 0;
    for (uint32_t o = 0; o < n->n_owners; o++)
        x->live_owners += live(arg, n->owners[o]) != 0;
    if (!n->n_binds)
        return;
    const struct graph_bind *b = &n->binds[0];
    for (uint32_t i = 0; i < n->n_binds; i++)
        if (live(arg, n->binds[i].owner)) {
            b = &n->binds[i];
            break;
        }
    x->compute = b->compute;
    x->user = b->user;
    x->ctx = b->ctx;
}

static uint64_t next_gen(void)
{
    static uint64_t gen;
    return __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
}

void runtime_refresh(struct runtime *rt, uint32_t idx)
{
    struct rt_node *x = rt ? runtime_node(rt, idx) : NULL;
    if (x) {
        x->kind = (uint8_t)x->node->kind;
        rt->gen = next_gen();
    }
}

/* Identity copies, owners and binding, state, built-in: everything but the rings. */
static int node_init(struct runtime *rt, uint32_t p, size_t *state_off, const struct rt_opts *opt)
{
    struct rt_node *x = &rt->node[p];
    struct graph_node *n = graph_at(rt->g, p);
    x->node = n;
    x->pos = p;
    x->kind = (uint8_t)n->kind;
    x->fire_any = (n->flags & QMTL_FIRE_ON_ANY) != 0;
    x->n_in = n->n_in;
    x->interval = n->interval;
    x->last_fired = INT64_MIN;
    rt->pos_of[n->idx] = p;
    runtime_owners_changed(rt, n->idx, opt->live, opt->live_arg);
    if (n->state_size) {
        x->state = rt->states + *state_off;
        *state_off += (n->state_size + 15) & ~(size_t)15;
    }
    if (n->has_builtin) {
        const struct graph_builtin *s = &n->builtin;
        if (!(x->bi = calloc(1, sizeof(*x->bi))))
            return -1;
        if (builtin_init(x->bi, s->kind, s->window, s->alpha, s->field)) {
            free(x->bi);
            x->bi = NULL;
            return -1;
        }
    }
    return 0;
}

struct runtime *runtime_new(struct graph *g, const struct rt_opts *o, char *err, size_t errlen)
{
    static const struct rt_opts none = {0};
    if (!o)
        o = &none;
    struct ring_index ri = {0};
    struct runtime *rt = calloc(1, sizeof(*rt));
    if (!rt)
        goto oom;
    rt->g = g;
    rt->gen = next_gen();
    uint32_t n = (uint32_t)graph_count(g);
    rt->n = n;
    rt->node = aligned_alloc(64, (n ? n : 1) * sizeof(*rt->node));
    if (rt->node) /* zeroed before anything can fail: runtime_free reads it */
        memset(rt->node, 0, (n ? n : 1) * sizeof(*rt->node));
    rt->cold = calloc(n ? n : 1, sizeof(*rt->cold));
    rt->pos_of = calloc(n ? n : 1, sizeof(*rt->pos_of));
    if (!rt->node || !rt->cold || !rt->pos_of)
        goto oom;
    size_t states = 0, slots = 2 * (size_t)n;
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = graph_at(g, p);
        states += (x->state_size + 15) & ~(size_t)15;
        slots += 2 * (size_t)x->n_in;
    }
    if (states && !(rt->states = calloc(1, states)))
        goto oom;
    size_t off = 0;
    for (uint32_t p = 0; p < n; p++)
        if (node_init(rt, p, &off, o))
            goto oom;
    size_t size = 64;
    while (size < slots)
        size *= 2;
    ri.keys = calloc(size, sizeof(*ri.keys));
    ri.outs = calloc(size, sizeof(*ri.outs));
    ri.mask = size - 1;
    if (!ri.keys || !ri.outs)
        goto oom;
    /* a stream's own history first, so that it is outs[0] */
    for (uint32_t p = 0; p < n; p++)
        if (rt->node[p].kind == GRAPH_STREAM && history_ring(&rt->node[p], &ri, o))
            goto oom;
    for (uint32_t p = 0; p < n; p++) {
        struct rt_node *x = &rt->node[p];
        if (!x->n_in)
            continue;
        x->in_rings = x->n_in == 1 ? &x->in_ring1 : calloc(x->n_in, sizeof(*x->in_rings));
        if (!x->in_rings)
            goto oom;
        if (x->n_in > 1 && !(x->win = calloc(x->n_in, sizeof(*x->win))))
            goto oom;
        x->same_interval = 1;
        for (uint32_t i = 0; i < x->n_in; i++) {
            struct rt_node *u = runtime_node(rt, x->node->in[i]);
            if (!(x->in_rings[i] = ring_for(u, x, i, &ri, o)))
                goto oom;
            if (i == 0)
                x->in_ring1 = x->in_rings[0];
            if (u->interval != x->interval)
                x->same_interval = 0;
        }
    }
    free(ri.keys);
    free(ri.outs);
    return rt;
oom:
    snprintf(err, errlen, "out of memory");
    free(ri.keys);
    free(ri.outs);
    if (rt && rt->node)
        runtime_drop_borrowed(rt); /* adopted rings stay their owner's, free to adopt again */
    runtime_free(rt);
    return NULL;
}

void runtime_free(struct runtime *rt)
{
    if (!rt)
        return;
    for (uint32_t p = 0; rt->node && p < rt->n; p++) {
        struct rt_node *x = &rt->node[p];
        for (uint32_t i = 0; i < x->n_outs; i++) {
            if (x->outs[i].ring && !x->outs[i].ring->borrowed)
                nc_ring_free(x->outs[i].ring);
            free(x->outs[i].cons);
        }
        free(x->outs);
        if (x->in_rings != &x->in_ring1)
            free(x->in_rings);
        free(x->win);
        if (x->bi)
            builtin_release(x->bi);
        free(x->bi);
    }
    for (uint32_t p = 0; rt->cold && p < rt->n; p++) {
        struct rt_cold *c = &rt->cold[p];
        free(c->json_out);
        for (uint32_t i = 0; i < c->n_side; i++)
            if (c->side[i].value.type == QMTL_T_JSON)
                free((char *)c->side[i].value.as.json);
        free(c->side);
        fanin_free(c->fanin);
    }
    free(rt->node);
    free(rt->cold);
    free(rt->states);
    free(rt->pos_of);
    free(rt);
}

void runtime_drop_borrowed(struct runtime *rt)
{
    for (uint32_t p = 0; p < rt->n; p++) {
        struct rt_node *x = &rt->node[p];
        for (uint32_t k = 0; k < x->n_outs; k++)
            if (x->outs[k].ring && x->outs[k].ring->borrowed) {
                x->outs[k].ring->borrowed = 0;
                x->outs[k].ring = NULL;
            }
    }
}

void runtime_carry(struct runtime *to, struct runtime *from, const uint32_t *src)
{
    runtime_drop_borrowed(from); /* the adopted rings are to's now */
    for (uint32_t p = 0; p < to->n; p++) {
        if (src[p] == GRAPH_NONE)
            continue;
        struct rt_node *y = &to->node[p], *x = &from->node[src[p]];
        struct rt_cold *yc = &to->cold[p], *xc = &from->cold[src[p]];
        for (uint32_t k = 0; k < y->n_outs; k++)
            y->outs[k].ring->w.upstream_id = y->node->id;
        if (x->bi && y->bi) { /* a twin without one (a remote node) leaves y's fresh */
            struct builtin *bi = y->bi;
            y->bi = x->bi;
            x->bi = bi;
        }
        if (y->state && x->state && y->node->state_size == x->node->state_size)
            memcpy(y->state, x->state, y->node->state_size);
        y->c = x->c;
        y->last_fired = x->last_fired;
        y->failed = x->failed;
        yc->sig_target = xc->sig_target;
        struct rt_cold t = *yc;
        yc->side = xc->side;
        yc->n_side = xc->n_side;
        yc->cap_side = xc->cap_side;
        xc->side = t.side;
        xc->n_side = t.n_side;
        xc->cap_side = t.cap_side;
        if (xc->fanin && xc->fanin->n_in == y->n_in &&
            xc->fanin->period == (uint32_t)(y->node->period > 0 ? y->node->period : 1)) {
            yc->fanin = xc->fanin; /* the history of inputs still apart */
            xc->fanin = t.fanin;
        }
    }
    /* new indicators reading a ring that already holds items start from it */
    for (uint32_t p = 0; p < to->n; p++) {
        struct rt_node *y = &to->node[p];
        int fresh = src[p] == GRAPH_NONE || !from->node[src[p]].bi; /* bi not carried */
        if (fresh && y->kind == GRAPH_INDICATOR && y->bi && y->n_in == 1 && y->in_ring1->w.count)
            builtin_rebuild(y->bi, &y->in_ring1->w);
    }
}

const struct rt_side_item *runtime_side(const struct runtime *rt, uint32_t idx, uint32_t *n)
{
    if (idx >= rt->n) {
        *n = 0;
        return NULL;
    }
    const struct rt_cold *c = &rt->cold[rt->pos_of[idx]];
    *n = c->n_side;
    return c->side;
}
