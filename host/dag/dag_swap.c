/* dag_swap: add, remove and replace strategies on a running host (see dag_swap.h). */
#include "host/dag/dag_swap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/orders/orders.h"
#include "host/plugin/plugin_instance.h"
#include "host/dag/route.h"
#include "log.h"

enum swap_op { SWAP_ADD, SWAP_REMOVE, SWAP_REPLACE, SWAP_EXTEND, SWAP_SHRINK };

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
    uint32_t *cursor;              /* live node index -> where adopt() looks first */
    uint32_t *src;                 /* staging position -> live position carried over */
    struct host_strategy *fresh;   /* add, replace: the new strategy */
    uint32_t fresh_idx;
    int fresh_setup;               /* its setup() succeeded (teardown owed on discard) */
    struct host_swap_result res;
    host_dag_add_fn add; /* extend: adds the nodes to the staging graph */
    void *add_arg;
    host_dag_drop_fn drop; /* shrink: the nodes not copied */
    void *drop_arg;
};

/* remove, replace: a strategy is taken out (w->going) */
static int takes_out(const struct swap *w)
{
    return w->op == SWAP_REMOVE || w->op == SWAP_REPLACE;
}

/* rt_live_fn over the strategies after the change. */
static int swap_live(void *arg, uint32_t owner)
{
    const struct swap *w = arg;
    return owner < w->n_st && !w->st[owner]->stopped;
}

static void swap_discard(struct swap *w)
{
    if (w->s) /* rings adopted from the live runtime stay there */
        runtime_drop_borrowed(sched_runtime(w->s));
    free(w->cursor);
    free(w->src);
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
        if (takes_out(w) && i == w->going)
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
        if (!kept || (w->op == SWAP_SHRINK && w->drop(w->drop_arg, x)))
            continue;
        uint32_t in[QMTL_MAX_INPUTS], n_in = 0;
        if (x->kind != GRAPH_TAG_QUERY) {
            for (; n_in < x->n_in && n_in < QMTL_MAX_INPUTS; n_in++)
                in[n_in] = w->map[x->in[n_in]];
            for (uint32_t k = 0; w->op == SWAP_SHRINK && k < n_in; k++)
                if (in[k] == GRAPH_NONE) {
                    snprintf(err, errlen, "node '%s' reads node '%s', which would go", x->label,
                             graph_node(h->g, x->in[k])->label);
                    return -1;
                }
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

/* Step 3: tag queries, order (owners that run and primary bindings: the runtime's). */
static int stage_finish(struct swap *w, char *err, size_t errlen)
{
    if (host_resolve_tag_queries(w->h, w->g, w->st, err, errlen) ||
        graph_finalize(w->g, err, errlen))
        return -1;
    return 0;
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
    const struct host_strategy *gone = takes_out(w) ? h->st[w->going] : NULL;
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
        /* a node another host computes (GRAPH_REMOTE, host/online/bus.h) is declared
         * again with its own kind: the same node (the bus makes it remote again) */
        int same_kind = x && (x->kind == y->kind ||
                              (x->kind == GRAPH_REMOTE &&
                               (y->kind == GRAPH_INDICATOR || y->kind == GRAPH_CUSTOM)));
        if (x && !taken[x->idx] && same_kind) {
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

/* rt_adopt_fn: the live ring of u's twin holding what the staging ring would (same
 * capacity and sharing; a private ring also the same consumer and slot). */
static struct nc_ring *adopt(void *arg, const struct graph_node *u, const struct graph_node *x,
                             uint32_t slot, uint32_t cap, int shared)
{
    struct swap *w = arg;
    const struct graph_node *twin = w->twin[u->idx];
    const struct rt_node *tu = twin ? sched_node(w->h->s, twin->idx) : NULL;
    if (!tu || !tu->n_outs)
        return NULL;
    /* both graphs make rings in evaluation order: the match is usually the next one */
    uint32_t start = w->cursor[twin->idx] % tu->n_outs;
    for (uint32_t i = 0; i < tu->n_outs; i++) {
        uint32_t k = (start + i) % tu->n_outs;
        const struct rt_out *o = &tu->outs[k];
        if (o->ring->borrowed || o->ring->shared != shared || o->ring->w.cap != cap)
            continue;
        if (!shared && !(x && o->n_cons && o->cons[0].slot == slot &&
                         w->twin[x->idx] == o->cons[0].node->node))
            continue;
        w->cursor[twin->idx] = k + 1;
        o->ring->borrowed = 1;
        return o->ring;
    }
    return NULL;
}

/* Step 5: the staging scheduler, on the live rings of the twins. */
static int stage_sched(struct swap *w, char *err, size_t errlen)
{
    size_t n_old = graph_count(w->h->g);
    size_t n = graph_count(w->g);
    w->cursor = calloc(n_old ? n_old : 1, sizeof(*w->cursor));
    w->src = malloc((n ? n : 1) * sizeof(*w->src));
    if (!w->cursor || !w->src) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct rt_opts o = {.live = swap_live, .live_arg = w, .adopt = adopt, .adopt_arg = w};
    w->s = sched_new_opts(w->g, sched_get_hooks(w->h->s), &o, err, errlen);
    return w->s ? 0 : -1;
}

/* Step 5 too: room in every data route for the staging graph's streams, so that routing
 * again at the commit does not allocate (host_rebuild_routes then only shrinks). */
static int stage_routes(struct swap *w, char *err, size_t errlen)
{
    size_t n = graph_count(w->g);
    if (n <= graph_count(w->h->g))
        return 0;
    for (size_t i = 0; i < w->h->n_routes; i++) {
        struct host_route *r = &w->h->routes[i];
        uint32_t *s = realloc(r->streams, n * sizeof(*s));
        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        r->streams = s;
    }
    return 0;
}

/* Step 7: move the twins' runtime state into the staging runtime (old position -> new
 * position). A failed node stays failed while an owner that saw it fail owns it;
 * declared again only by a replacing version, it gets a fresh start. */
static void carry(struct swap *w)
{
    struct runtime *to = sched_runtime(w->s), *from = sched_runtime(w->h->s);
    size_t n = graph_count(w->g);
    uint32_t *src = w->src;
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = w->twin[graph_at(w->g, p)->idx];
        src[p] = x ? x->pos : GRAPH_NONE;
    }
    runtime_carry(to, from, src);
    for (uint32_t i = 0; i < n; i++) {
        const struct graph_node *x = w->twin[i];
        if (x && w->map[x->idx] == GRAPH_NONE)
            runtime_node(to, i)->failed = 0;
    }
}

/* Steps 6-9. Nothing here can fail. */
static void swap_commit(struct swap *w)
{
    struct host *h = w->h;
    struct host_strategy *gone = takes_out(w) ? h->st[w->going] : NULL;
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
        orders_carry(f, gone);
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
        LOG_ERROR("runtime", "out of memory routing data after a DAG change: routes reach "
                             "nothing until the next change"); /* see stage_routes */
    host_strategy_free(gone); /* its plugin reference last: after teardown and the nodes */
    free(w->map);
    free(w->twin);
    free(w->owner_map);
    free(w->cursor);
    free(w->src);
    if (w->fresh) {
        w->fresh->started = 1;
        if (w->fresh->desc->on_start)
            w->fresh->desc->on_start(&w->fresh->ctx, host_api_table());
    }
}

/* Step 2 of an extension: every live node kept at its index, then the caller's nodes. */
static int stage_extend(struct swap *w, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < graph_count(w->h->g); i++)
        if (w->map[i] != i) {
            snprintf(err, errlen, "node '%s' has no owner: the DAG cannot be extended",
                     graph_node(w->h->g, i)->label);
            return -1;
        }
    return w->add(w->add_arg, w->g, err, errlen);
}

static int swap_run(struct swap *pre, enum swap_op op, size_t going, struct plugin_instance *pi,
                    const struct qmtl_plugin *desc, const char *name, const char *path,
                    struct host_swap_result *res, char *err, size_t errlen)
{
    struct host *h = pre->h;
    if (!h->finalized) {
        snprintf(err, errlen, "the host is not running yet (host_finalize first)");
        return -1;
    }
    if (sched_in_wave(h->s) || h->in_setup) {
        snprintf(err, errlen, "the DAG cannot change inside a wave or a setup(): call between events");
        return -1;
    }
    if ((op == SWAP_REMOVE || op == SWAP_REPLACE) && going >= h->n_st) {
        snprintf(err, errlen, "no strategy %zu (%zu loaded)", going, h->n_st);
        return -1;
    }
    struct swap w = {.h = h,
                     .op = op,
                     .going = going,
                     .add = pre->add,
                     .add_arg = pre->add_arg,
                     .drop = pre->drop,
                     .drop_arg = pre->drop_arg};
    if (stage_copy(&w, err, errlen) || (op == SWAP_EXTEND && stage_extend(&w, err, errlen)) ||
        ((op == SWAP_ADD || op == SWAP_REPLACE) &&
         stage_setup(&w, pi, desc, name, path, err, errlen)) ||
        stage_finish(&w, err, errlen) || stage_diff(&w, err, errlen) ||
        stage_sched(&w, err, errlen) || stage_routes(&w, err, errlen)) {
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
    if (swap_run(&(struct swap){.h = h}, SWAP_ADD, 0, pi, desc, name, path, res, err, errlen))
        return -1;
    if (idx)
        *idx = at;
    return 0;
}

int host_remove_strategy(struct host *h, size_t idx, struct host_swap_result *res, char *err,
                         size_t errlen)
{
    return swap_run(&(struct swap){.h = h}, SWAP_REMOVE, idx, NULL, NULL, NULL, NULL, res, err,
                    errlen);
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
    return swap_run(&(struct swap){.h = h}, SWAP_REPLACE, idx, pi, desc, name, path, res, err,
                    errlen);
}

int host_dag_extend(struct host *h, host_dag_add_fn add, void *arg, struct host_swap_result *res,
                    char *err, size_t errlen)
{
    return swap_run(&(struct swap){.h = h, .add = add, .add_arg = arg}, SWAP_EXTEND, 0, NULL,
                    NULL, NULL, NULL, res, err, errlen);
}

int host_dag_shrink(struct host *h, host_dag_drop_fn drop, void *arg,
                    struct host_swap_result *res, char *err, size_t errlen)
{
    return swap_run(&(struct swap){.h = h, .drop = drop, .drop_arg = arg}, SWAP_SHRINK, 0, NULL,
                    NULL, NULL, NULL, res, err, errlen);
}
