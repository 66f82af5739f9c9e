/* dag_swap: add, remove and replace strategies on a running host (see dag_swap.h). */
#include "host/dag_swap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/plugin_instance.h"
#include "host/route.h"
#include "log.h"

enum swap_op { SWAP_ADD, SWAP_REMOVE, SWAP_REPLACE };

/* Everything a change builds before it commits; freed by swap_discard or swap_commit. */
struct swap {
    struct host *h;
    enum swap_op op;
    size_t going;                  /* remove, replace: the strategy taken out */
    struct graph *g;               /* staging graph */
    struct sched *s;               /* its scheduler */
    uint32_t *map;                 /* live node index -> staging index (GRAPH_NONE: gone) */
    struct graph_node **twin;      /* staging index -> live node carried over (or NULL) */
    uint32_t *owner_map;           /* live strategy index -> new index (GRAPH_NONE: gone) */
    struct host_strategy **st;     /* the strategies after the change, by new index */
    size_t n_st;
    struct host_strategy *fresh;   /* add, replace: the new strategy */
    uint32_t fresh_idx;
    int fresh_setup;               /* its setup() succeeded (teardown owed on discard) */
    struct host_swap_result res;
};

void host_node_rebind(struct graph_node *n, struct host_strategy *const *st, size_t n_st)
{
    if (!n->n_binds)
        return;
    const struct graph_bind *b = &n->binds[0];
    for (uint32_t i = 0; i < n->n_binds; i++)
        if (n->binds[i].owner < n_st && !st[n->binds[i].owner]->stopped) {
            b = &n->binds[i];
            break;
        }
    n->compute = b->compute;
    n->user = b->user;
    n->ctx = b->ctx;
}

static void swap_discard(struct swap *w)
{
    sched_free(w->s);
    graph_free(w->g); /* drops the staging bindings' references */
    if (w->fresh) {
        if (w->fresh_setup && w->fresh->desc->teardown)
            w->fresh->desc->teardown(&w->fresh->ctx, host_api_table());
        host_strategy_free(w->fresh);
    }
    free(w->map);
    free(w->twin);
    free(w->owner_map);
    free(w->st);
}

/* Step 1: strategy numbering after the change, and the staging copy of the live nodes. */
static int stage_copy(struct swap *w, char *err, size_t errlen)
{
    struct host *h = w->h;
    size_t n_old = h->n_st;
    w->n_st = w->op == SWAP_ADD ? n_old + 1 : w->op == SWAP_REMOVE ? n_old - 1 : n_old;
    w->fresh_idx = w->op == SWAP_ADD ? (uint32_t)n_old : (uint32_t)w->going;
    w->owner_map = malloc((n_old ? n_old : 1) * sizeof(*w->owner_map));
    w->st = calloc(w->n_st ? w->n_st : 1, sizeof(*w->st));
    size_t n = graph_count(h->g);
    w->map = malloc((n ? n : 1) * sizeof(*w->map));
    w->g = graph_new();
    if (!w->owner_map || !w->st || !w->map || !w->g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n_old; i++) {
        uint32_t to = (uint32_t)i;
        if (w->op != SWAP_ADD && i == w->going)
            to = GRAPH_NONE;
        else if (w->op == SWAP_REMOVE && i > w->going)
            to = (uint32_t)i - 1;
        w->owner_map[i] = to;
        if (to != GRAPH_NONE)
            w->st[to] = h->st[i];
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct graph_node *x = graph_node(h->g, i);
        w->map[i] = GRAPH_NONE;
        uint32_t kept = 0;
        for (uint32_t o = 0; o < x->n_owners; o++)
            kept += w->owner_map[x->owners[o]] != GRAPH_NONE;
        if (!kept)
            continue;
        uint32_t in[QMTL_MAX_INPUTS], n_in = 0;
        if (x->kind != GRAPH_TAG_QUERY) {
            for (; n_in < x->n_in && n_in < QMTL_MAX_INPUTS; n_in++)
                in[n_in] = w->map[x->in[n_in]];
        }
        if (graph_copy(w->g, x, in, n_in, w->owner_map, &w->map[i], err, errlen))
            return -1;
    }
    return 0;
}

/* Step 2: the new strategy's setup() against the staging graph. */
static int stage_setup(struct swap *w, struct plugin_instance *pi, const struct qmtl_plugin *desc,
                       const char *name, const char *path, char *err, size_t errlen)
{
    struct host *h = w->h;
    w->fresh = host_strategy_new(h, pi, desc, name, path, w->fresh_idx, err, errlen);
    if (!w->fresh)
        return -1;
    w->st[w->fresh_idx] = w->fresh;
    char why[300];
    struct graph *live = h->g;
    h->g = w->g;
    int rc = host_strategy_setup(h, w->fresh, why, sizeof(why));
    h->g = live;
    if (rc) {
        snprintf(err, errlen, "plugin '%s' (%s): %s", w->fresh->name, w->fresh->path, why);
        return -1;
    }
    w->fresh_setup = 1;
    return 0;
}

/* Step 3: owners that run, primary bindings, tag queries, order, scheduler. */
static int stage_finish(struct swap *w, char *err, size_t errlen)
{
    size_t n = graph_count(w->g);
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *y = graph_node(w->g, i);
        y->live_owners = 0;
        for (uint32_t o = 0; o < y->n_owners; o++)
            y->live_owners += !w->st[y->owners[o]]->stopped;
        host_node_rebind(y, w->st, w->n_st);
    }
    if (host_resolve_tag_queries(w->h, w->g, 1, err, errlen) ||
        graph_finalize(w->g, err, errlen))
        return -1;
    w->s = sched_new(w->g, sched_get_hooks(w->h->s), err, errlen);
    return w->s ? 0 : -1;
}

/* Step 4: each staging node's live twin, and the counts. */
static int stage_diff(struct swap *w, char *err, size_t errlen)
{
    struct host *h = w->h;
    size_t n = graph_count(w->g), n_old = graph_count(h->g);
    w->twin = calloc(n ? n : 1, sizeof(*w->twin));
    unsigned char *taken = calloc(n_old ? n_old : 1, 1);
    if (!w->twin || !taken) {
        free(taken);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n_old; i++)
        if (w->map[i] != GRAPH_NONE) {
            w->twin[w->map[i]] = graph_node(h->g, i);
            taken[i] = 1;
        }
    const struct host_strategy *gone = w->op != SWAP_ADD ? h->st[w->going] : NULL;
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *y = graph_node(w->g, i);
        if (w->twin[i])
            continue;
        struct graph_node *x = NULL;
        if (!y->is_private) {
            x = graph_find(h->g, y->id);
        } else if (gone) {
            for (size_t k = 0; k < gone->ctx.n && !x; k++) {
                struct graph_node *c = graph_node(h->g, gone->ctx.nodes[k]);
                if (c->is_private && !taken[c->idx] && strcmp(c->id, y->id) == 0)
                    x = c;
            }
        }
        if (x && !taken[x->idx] && x->kind == y->kind) {
            w->twin[i] = x;
            taken[x->idx] = 1;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        w->res.kept += w->twin[i] != NULL;
    w->res.added = (uint32_t)n - w->res.kept;
    w->res.removed = (uint32_t)n_old - w->res.kept;
    free(taken);
    return 0;
}

/* Point consumers of out 'o' at its ring. */
static void repoint(struct graph_out *o)
{
    for (uint32_t c = 0; c < o->n_cons; c++) {
        struct graph_node *x = o->cons[c].node;
        x->in_rings[o->cons[c].slot] = o->ring;
        if (o->cons[c].slot == 0)
            x->in_ring1 = o->ring;
    }
}

/* The live ring of twin x that staging out 'o' of y takes over, or NULL. */
static struct graph_out *match_out(struct swap *w, struct graph_node *x, const struct graph_out *o)
{
    for (uint32_t k = 0; k < x->n_outs; k++) {
        struct graph_out *xo = &x->outs[k];
        if (xo->ring->shared != o->ring->shared || xo->ring->w.cap != o->ring->w.cap)
            continue;
        if (o->ring->shared)
            return xo;
        /* a private ring has one consumer: the same (twin, slot) */
        if (xo->n_cons && o->n_cons && xo->cons[0].slot == o->cons[0].slot &&
            w->twin[o->cons[0].node->idx] == xo->cons[0].node)
            return xo;
    }
    return NULL;
}

/* Step 6: move the twins' runtime state into the staging nodes. */
static void carry(struct swap *w)
{
    size_t n = graph_count(w->g);
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *y = graph_node(w->g, i), *x = w->twin[i];
        if (!x)
            continue;
        for (uint32_t k = 0; k < y->n_outs; k++) {
            struct graph_out *xo = match_out(w, x, &y->outs[k]);
            if (!xo)
                continue;
            struct nc_ring *r = xo->ring;
            xo->ring = y->outs[k].ring; /* the fresh one goes with the old graph */
            y->outs[k].ring = r;
            r->w.upstream_id = y->id;
            repoint(&y->outs[k]);
        }
        struct builtin *bi = y->bi;
        y->bi = x->bi;
        x->bi = bi;
        if (y->state && x->state && y->state_size == x->state_size)
            memcpy(y->state, x->state, y->state_size);
        y->computes = x->computes;
        y->emits = x->emits;
        y->skipped_missing = x->skipped_missing;
        y->late_dropped = x->late_dropped;
        y->late_side = x->late_side;
        y->deliveries = x->deliveries;
        y->last_fired = x->last_fired;
        if (y->kind == GRAPH_SIGNAL)
            y->sig_target = x->sig_target;
        /* a failed node stays failed while an owner that saw it fail owns it; declared
         * again only by a replacing version, it gets a fresh start */
        y->failed = w->map[x->idx] != GRAPH_NONE ? x->failed : 0;
        struct graph_side_item *side = y->side;
        uint32_t n_side = y->n_side, cap_side = y->cap_side;
        y->side = x->side;
        y->n_side = x->n_side;
        y->cap_side = x->cap_side;
        x->side = side;
        x->n_side = n_side;
        x->cap_side = cap_side;
    }
    /* new indicators reading a ring that already holds items start from it */
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *y = graph_node(w->g, i);
        if (!w->twin[i] && y->kind == GRAPH_INDICATOR && y->bi && y->n_in == 1 &&
            y->in_ring1->w.count)
            builtin_rebuild(y->bi, &y->in_ring1->w);
    }
}

/* Steps 5-8. Nothing here can fail. */
static void swap_commit(struct swap *w)
{
    struct host *h = w->h;
    struct host_strategy *gone = w->op != SWAP_ADD ? h->st[w->going] : NULL;
    if (gone) {
        if (gone->started && !gone->finished && !gone->stopped && gone->desc->on_finish)
            gone->desc->on_finish(&gone->ctx, host_api_table());
        gone->finished = 1;
        if (gone->desc->teardown && !gone->setup_failed)
            gone->desc->teardown(&gone->ctx, host_api_table());
    }
    if (w->op == SWAP_REPLACE) {
        struct host_strategy *f = w->fresh;
        f->gate = gone->gate;
        struct broker *b = f->broker;
        f->broker = gone->broker;
        gone->broker = b;
        f->signals = gone->signals;
        f->orders = gone->orders;
        f->fills = gone->fills;
        f->blocked = gone->blocked;
    }
    carry(w);
    for (size_t i = 0; i < w->n_st; i++) {
        struct host_strategy *st = w->st[i];
        st->ctx.strat = (uint32_t)i;
        if (st == w->fresh)
            continue;
        for (size_t k = 0; k < st->ctx.n; k++)
            st->ctx.nodes[k] = w->map[st->ctx.nodes[k]];
    }
    sched_carry(w->s, h->s);
    sched_free(h->s);
    h->s = w->s;
    graph_free(h->g);
    h->g = w->g;
    free(h->st);
    h->st = w->st;
    h->n_st = h->cap_st = w->n_st;
    if (host_rebuild_routes(h)) /* route ids held by data sources stay valid */
        LOG_ERROR("host", "out of memory rebuilding the data routes after a DAG change");
    host_strategy_free(gone); /* its plugin reference last: after teardown and the nodes */
    free(w->map);
    free(w->twin);
    free(w->owner_map);
    if (w->fresh) {
        w->fresh->started = 1;
        if (w->fresh->desc->on_start)
            w->fresh->desc->on_start(&w->fresh->ctx, host_api_table());
    }
}

static int swap_run(struct host *h, enum swap_op op, size_t going, struct plugin_instance *pi,
                    const struct qmtl_plugin *desc, const char *name, const char *path,
                    struct host_swap_result *res, char *err, size_t errlen)
{
    if (!h->finalized) {
        snprintf(err, errlen, "the host is not running yet (host_finalize first)");
        return -1;
    }
    if (sched_in_wave(h->s) || h->in_setup) {
        snprintf(err, errlen, "the DAG cannot change inside a wave or a setup(): call between events");
        return -1;
    }
    if (op != SWAP_ADD && going >= h->n_st) {
        snprintf(err, errlen, "no strategy %zu (%zu loaded)", going, h->n_st);
        return -1;
    }
    struct swap w = {.h = h, .op = op, .going = going};
    if (stage_copy(&w, err, errlen) ||
        (op != SWAP_REMOVE && stage_setup(&w, pi, desc, name, path, err, errlen)) ||
        stage_finish(&w, err, errlen) || stage_diff(&w, err, errlen)) {
        swap_discard(&w);
        return -1;
    }
    swap_commit(&w);
    if (res)
        *res = w.res;
    return 0;
}

int host_dag_add(struct host *h, struct plugin_instance *pi, const struct qmtl_plugin *desc,
                 const char *name, const char *path, size_t *idx, struct host_swap_result *res,
                 char *err, size_t errlen)
{
    size_t at = h->n_st;
    if (swap_run(h, SWAP_ADD, 0, pi, desc, name, path, res, err, errlen))
        return -1;
    if (idx)
        *idx = at;
    return 0;
}

int host_remove_strategy(struct host *h, size_t idx, struct host_swap_result *res, char *err,
                         size_t errlen)
{
    return swap_run(h, SWAP_REMOVE, idx, NULL, NULL, NULL, NULL, res, err, errlen);
}

int host_replace_strategy(struct host *h, size_t idx, struct plugin_instance *pi,
                          const struct qmtl_plugin *desc, const char *path,
                          struct host_swap_result *res, char *err, size_t errlen)
{
    if (pi) {
        desc = pi->plugin->desc;
        path = pi->plugin->path;
    }
    if (idx >= h->n_st || !desc) {
        snprintf(err, errlen, "no strategy %zu (%zu loaded)", idx, h->n_st);
        return -1;
    }
    /* the name stays: gate, broker and the control plane's view go on */
    char name[256];
    snprintf(name, sizeof(name), "%s", h->st[idx]->name);
    return swap_run(h, SWAP_REPLACE, idx, pi, desc, name, path, res, err, errlen);
}
