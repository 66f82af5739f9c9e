/* host: strategies, graph, scheduler, gate and brokers together (see host_api.h). */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/dag/dag_swap.h"
#include "host/errcode.h"
#include "host/host_api.h"
#include "host/orders/orders.h"
#include "host/plugin/plugin_instance.h"
#include "log.h"
#include "numfmt.h"

void host_options_default(struct host_options *o)
{
    memset(o, 0, sizeof(*o));
    o->initial_cash = 100000;
    o->domain = HOST_BACKTEST;
    o->max_nodes_per_strategy = HOST_MAX_NODES_DEFAULT;
}

int host_init(struct host *h, const struct host_options *o)
{
    memset(h, 0, sizeof(*h));
    if (o)
        h->opt = *o;
    else
        host_options_default(&h->opt);
    if (!(h->opt.initial_cash > 0))
        h->opt.initial_cash = 100000;
    if (h->opt.max_nodes_per_strategy <= 0)
        h->opt.max_nodes_per_strategy = HOST_MAX_NODES_DEFAULT;
    host_metrics_init(&h->metrics);
    h->g = graph_new();
    return h->g ? 0 : -1;
}

void host_strategy_free(struct host_strategy *st)
{
    if (!st)
        return;
    free(st->name);
    free(st->path);
    for (size_t i = 0; i < st->ctx.n; i++)
        free(st->ctx.names[i]);
    free(st->ctx.names);
    free(st->ctx.nodes);
    host_ctx_release_names(&st->ctx);
    broker_free(st->broker);
    risk_release(&st->risk);
    for (size_t i = 0; i < st->n_aligns; i++)
        oa_free(st->aligns[i]);
    free(st->aligns);
    free(st->state);
    plugin_instance_unref(st->pi);
    free(st);
}

static void params_free(struct host_param *arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arr[i].strategy);
        free(arr[i].key);
        free(arr[i].value);
    }
    free(arr);
}

void host_release(struct host *h)
{
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        if (st->desc->teardown && !st->setup_failed)
            st->desc->teardown(&st->ctx, host_api_table());
    }
    sched_free(h->s);
    graph_free(h->g);
    for (size_t i = 0; i < h->n_st; i++)
        host_strategy_free(h->st[i]);
    free(h->st);
    params_free(h->params, h->n_params);
    params_free(h->risk_overrides, h->n_risk_overrides);
    host_routes_release(h);
    host_metrics_release(&h->metrics);
    memset(h, 0, sizeof(*h));
}

int host_set_param(struct host *h, const char *strategy, const char *key, const char *value)
{
    for (size_t i = 0; i < h->n_params; i++)
        if (!strcmp(h->params[i].strategy, strategy) && !strcmp(h->params[i].key, key)) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(h->params[i].value);
            h->params[i].value = v;
            return 0;
        }
    return host_param_push_(&h->params, &h->n_params, strategy, key, value);
}

int host_param_push_(struct host_param **arr, size_t *n, const char *strategy, const char *key,
                     const char *value)
{
    struct host_param *p = realloc(*arr, (*n + 1) * sizeof(*p));
    if (!p)
        return -1;
    *arr = p;
    p = &p[*n];
    p->strategy = strdup(strategy);
    p->key = strdup(key);
    p->value = strdup(value);
    p->used = 0;
    if (!p->strategy || !p->key || !p->value) {
        free(p->strategy);
        free(p->key);
        free(p->value);
        return -1;
    }
    (*n)++;
    return 0;
}

/* rt_live_fn over h's strategies. */
static int owner_live(void *arg, uint32_t owner)
{
    const struct host *h = arg;
    return owner < h->n_st && !h->st[owner]->stopped;
}

/* Remove the strategy's claims on its nodes so that unowned nodes stop running and shared
 * custom nodes compute with an owner that runs. Before host_finalize (or while a staging
 * graph is set up) there is no runtime of h->g yet: it counts the owners when built. */
static void release_claims(struct host *h, struct host_strategy *st)
{
    if (!h->s || sched_graph(h->s) != h->g)
        return;
    for (size_t i = 0; i < st->ctx.n; i++)
        runtime_owners_changed(sched_runtime(h->s), st->ctx.nodes[i], owner_live, h);
}

int host_set_activation(struct host *h, uint32_t strat, const struct qmtl_activation *a)
{
    if (strat >= h->n_st)
        return -1;
    struct host_strategy *st = h->st[strat];
    int rc = gate_update(&st->gate, a);
    if (rc == 1 && !st->stopped && st->desc->on_activation) {
        struct qmtl_activation cur;
        gate_get(&st->gate, a->side, &cur);
        st->desc->on_activation(&st->ctx, host_api_table(), &cur);
    }
    return rc;
}

void host_stop_strategy(struct host *h, uint32_t strat, int code, const char *reason)
{
    if (strat >= h->n_st)
        return;
    struct host_strategy *st = h->st[strat];
    if (st->stopped)
        return;
    st->bars_at_stop = host_strategy_bars(h, strat);
    st->stopped = 1;
    snprintf(st->error, sizeof(st->error), "%s", reason);
    LOG_ERROR("runtime", "strategy '%s' stopped: %s", st->name, reason);
    release_claims(h, st);
    if (code < 0 && st->desc->on_error && !st->setup_failed) {
        struct qmtl_err e = {.code = code};
        snprintf(e.msg, sizeof(e.msg), "%s", reason);
        st->desc->on_error(&st->ctx, host_api_table(), &e);
    }
}

int host_find_strategy(const struct host *h, const char *name)
{
    for (size_t i = 0; i < h->n_st; i++)
        if (strcmp(h->st[i]->name, name) == 0)
            return (int)i;
    return -1;
}

struct host_strategy *host_strategy_new(struct host *h, struct plugin_instance *pi,
                                        const struct qmtl_plugin *desc, const char *name,
                                        const char *path, uint32_t index, char *err,
                                        size_t errlen)
{
    struct host_strategy *st = calloc(1, sizeof(*st));
    if (!st)
        goto oom;
    st->name = strdup(name);
    st->path = strdup(path ? path : "(linked)");
    st->desc = desc;
    st->pi = plugin_instance_ref(pi);
    st->broker = broker_new(h->opt.initial_cash, h->opt.fee_bps, h->opt.slippage_bps);
    size_t state_size = host_desc_state_size(desc);
    if (state_size > HOST_STATE_MAX) {
        snprintf(err, errlen, "plugin '%s' (%s): state_size %zu larger than %zu", desc->name,
                 path ? path : "(linked)", state_size, HOST_STATE_MAX);
        host_strategy_free(st);
        return NULL;
    }
    if (state_size)
        st->state = calloc(1, state_size);
    if (!st->name || !st->path || !st->broker || (state_size && !st->state)) {
        host_strategy_free(st);
        goto oom;
    }
    st->ctx.h = h;
    st->ctx.strat = index;
    gate_init(&st->gate);
    return st;
oom:
    snprintf(err, errlen, "plugin '%s': out of memory", name);
    return NULL;
}

int host_strategy_setup(struct host *h, struct host_strategy *st, char *why, size_t whylen)
{
    struct qmtl_err e = {0};
    st->ctx.in_setup = 1;
    h->in_setup = (int)st->ctx.strat + 1;
    h->setup_name = st->name;
    int rc = st->desc->setup(&st->ctx, host_api_table(), &e);
    h->in_setup = 0;
    h->setup_name = NULL;
    st->ctx.in_setup = 0;
    if (rc == 0)
        return 0;
    /* the plugin's message: read within its buffer (no NUL needed), one printable line */
    char msg[4 * sizeof(e.msg) + 1], code[64];
    log_escape(e.msg, sizeof(e.msg), msg, sizeof(msg));
    snprintf(why, whylen, "setup failed with %s: %s", errcode_text(rc, code, sizeof(code)),
             msg[0] ? msg : "no message");
    return rc;
}

int host_add_strategy(struct host *h, const struct qmtl_plugin *desc, const char *path, size_t *idx,
                      char *err, size_t errlen)
{
    return host_add_strategy_as(h, desc, NULL, path, idx, err, errlen);
}

int host_add_strategy_as(struct host *h, const struct qmtl_plugin *desc, const char *name,
                         const char *path, size_t *idx, char *err, size_t errlen)
{
    return host_add_strategy_from(h, NULL, desc, name, path, idx, NULL, err, errlen);
}

int host_add_strategy_from(struct host *h, struct plugin_instance *pi,
                           const struct qmtl_plugin *desc, const char *name, const char *path,
                           size_t *idx, struct host_swap_result *res, char *err, size_t errlen)
{
    if (pi) {
        desc = pi->plugin->desc;
        path = pi->plugin->path;
    }
    if (!name)
        name = desc->name;
    int dup = host_find_strategy(h, name);
    if (dup >= 0) {
        snprintf(err, errlen, "plugin '%s' (%s): duplicate name, already loaded from %s",
                 name, path ? path : "(linked)", h->st[dup]->path);
        return -1;
    }
    if (h->finalized)
        return host_dag_add(h, pi, desc, name, path, idx, res, err, errlen);
    if (h->n_st == h->cap_st) {
        size_t nc = h->cap_st ? h->cap_st * 2 : 8;
        struct host_strategy **p = realloc(h->st, nc * sizeof(*p));
        if (!p) {
            snprintf(err, errlen, "plugin '%s': out of memory", name);
            return -1;
        }
        h->st = p;
        h->cap_st = nc;
    }
    struct host_strategy *st =
        host_strategy_new(h, pi, desc, name, path, (uint32_t)h->n_st, err, errlen);
    if (!st)
        return -1;
    h->st[h->n_st++] = st;
    if (idx)
        *idx = h->n_st - 1;
    char why[300];
    int rc = host_strategy_setup(h, st, why, sizeof(why));
    if (rc) {
        st->setup_failed = 1;
        host_stop_strategy(h, st->ctx.strat, rc, why);
        snprintf(err, errlen, "plugin '%s' (%s): %s", st->name, st->path, why);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ scheduler hooks */

static void hook_error(void *arg, struct graph_node *n, int code, const char *msg)
{
    struct host *h = arg;
    for (uint32_t i = 0; i < n->n_owners; i++) {
        uint32_t s = n->owners[i];
        char why[300];
        snprintf(why, sizeof(why), "plugin '%s': node '%s' (%s): %s", h->st[s]->name, n->label,
                 n->id, msg);
        host_stop_strategy(h, s, code, why);
    }
}

static void hook_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct host *h = arg;
    if (h->on_output)
        h->on_output(h->output_arg, n, ts, v);
}

/* ------------------------------------------------------------------ finalize, feed */

static int tags_match(const struct graph_node *q, const struct graph_node *x)
{
    uint32_t hits = 0;
    for (uint32_t i = 0; i < q->n_query_tags; i++)
        for (uint32_t j = 0; j < x->n_tags; j++)
            if (strcmp(q->query_tags[i], x->tags[j]) == 0) {
                hits++;
                break;
            }
    return q->match_mode == QMTL_MATCH_ALL ? hits == q->n_query_tags : hits > 0;
}

static int cmp_by_id(const void *a, const void *b)
{
    const struct graph_node *x = *(struct graph_node *const *)a;
    const struct graph_node *y = *(struct graph_node *const *)b;
    return strcmp(x->id, y->id);
}

/* Mark in 'down' every node that depends on node q through the inputs known so far (its
 * own inputs and the tag queries already resolved). */
static void mark_downstream(const struct graph *g, uint32_t q, unsigned char *down, size_t n)
{
    memset(down, 0, n);
    down[q] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t y = 0; y < n; y++) {
            const struct graph_node *x = graph_node((struct graph *)g, y);
            for (uint32_t s = 0; !down[y] && s < x->n_in; s++)
                if (x->in[s] < n && down[x->in[s]])
                    down[y] = changed = 1;
        }
    }
}

/* A tag query that would match a node depending on itself closes a cycle: the strategies
 * declaring it are stopped with one line naming the nodes (and the other strategy), and
 * the matches that close the cycle are dropped, so the rest of the DAG still runs. */
static void refuse_cycle(struct host *h, const struct graph_node *q, const struct graph_node *x)
{
    char reason[600], other[200] = "";
    const char *xs = x->n_owners ? h->st[x->owners[0]]->name : NULL;
    for (uint32_t o = 0; o < q->n_owners; o++) {
        const char *qs = h->st[q->owners[o]]->name;
        if (xs && strcmp(xs, qs))
            snprintf(other, sizeof(other), " of strategy '%.120s'", xs);
        else
            other[0] = 0;
        snprintf(reason, sizeof(reason),
                 "cycle through node '%.100s': the tag query matches node '%.100s'%s, which "
                 "depends on it",
                 q->label, x->label, other);
        host_stop_strategy(h, q->owners[o], QMTL_EINVAL, reason);
    }
}

/* Whether any owner of n runs (st: the strategies by n's owner indices). */
static int runs(const struct graph_node *n, struct host_strategy *const *st)
{
    for (uint32_t o = 0; o < n->n_owners; o++)
        if (!st[n->owners[o]]->stopped)
            return 1;
    return 0;
}

int host_resolve_tag_queries(struct host *h, struct graph *g,
                             struct host_strategy *const *strict_st, char *err, size_t errlen)
{
    int strict = strict_st != NULL;
    size_t n = graph_count(g);
    struct graph_node **cand = calloc(n ? n : 1, sizeof(*cand));
    uint32_t *in = calloc(n ? n : 1, sizeof(*in));
    unsigned char *down = malloc(n ? n : 1);
    if (!cand || !in || !down) {
        free(cand);
        free(in);
        free(down);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct graph_node *q = graph_node(g, i);
        if (q->kind != GRAPH_TAG_QUERY)
            continue;
        size_t k = 0;
        for (uint32_t j = 0; j < n; j++) {
            struct graph_node *x = graph_node(g, j);
            if (j == i || x->kind == GRAPH_TAG_QUERY || x->kind == GRAPH_ORDER || !x->n_tags ||
                x->interval != q->interval || !tags_match(q, x))
                continue;
            cand[k++] = x;
        }
        qsort(cand, k, sizeof(*cand), cmp_by_id);
        if (k)
            mark_downstream(g, i, down, n);
        size_t m = 0;
        for (size_t j = 0; j < k; j++) {
            if (down[cand[j]->idx]) {
                if (strict && runs(q, strict_st)) {
                    snprintf(err, errlen,
                             "cycle through node '%.100s': the tag query matches node '%.100s', "
                             "which depends on it",
                             q->label, cand[j]->label);
                    free(cand);
                    free(in);
                    free(down);
                    return -1;
                }
                if (!strict)
                    refuse_cycle(h, q, cand[j]);
                continue;
            }
            in[m++] = cand[j]->idx;
        }
        graph_set_inputs(g, i, in, (uint32_t)m);
        if (!k)
            LOG_WARN("runtime", "tag query '%s' (%s) matches no node", q->label, q->id);
    }
    free(cand);
    free(in);
    free(down);
    return 0;
}

int host_finalize(struct host *h, char *err, size_t errlen)
{
    if (h->finalized)
        return 0;
    if (host_resolve_tag_queries(h, h->g, NULL, err, errlen) || graph_finalize(h->g, err, errlen))
        return -1;
    struct sched_hooks hooks = {
        .arg = h,
        .api = host_api_table(),
        .node_error = hook_error,
        .output = h->on_output ? hook_output : NULL,
        .signal = orders_hook_signal,
        .order = orders_hook_order,
        .time_computes = &h->metrics.time_computes,
    };
    struct rt_opts o = {.live = owner_live, .live_arg = h};
    h->s = sched_new_opts(h->g, &hooks, &o, err, errlen);
    if (!h->s)
        return -1;
    if (host_rebuild_routes(h)) {
        snprintf(err, errlen, "out of memory routing data");
        return -1;
    }
    h->finalized = 1;
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        if (st->stopped)
            continue;
        st->started = 1;
        if (st->desc->on_start)
            st->desc->on_start(&st->ctx, host_api_table());
    }
    return 0;
}

void host_finish(struct host *h)
{
    for (size_t i = 0; i < h->n_st; i++) {
        struct host_strategy *st = h->st[i];
        if (st->stopped || st->finished || !st->started)
            continue;
        st->finished = 1;
        if (st->desc->on_finish)
            st->desc->on_finish(&st->ctx, host_api_table());
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

long host_strategy_bars(const struct host *h, uint32_t strat)
{
    if (strat >= h->n_st)
        return 0;
    const struct host_strategy *st = h->st[strat];
    if (st->stopped)
        return st->bars_at_stop;
    /* each stream once, even when declared twice: sort its stream nodes (linear-ish) */
    uint32_t *streams = malloc((st->ctx.n ? st->ctx.n : 1) * sizeof(*streams));
    if (!streams)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < st->ctx.n; i++)
        if (graph_node(h->g, st->ctx.nodes[i])->kind == GRAPH_STREAM)
            streams[k++] = st->ctx.nodes[i];
    qsort(streams, k, sizeof(*streams), cmp_u32);
    long bars = 0;
    /* none while a staging graph is set up (its runtime is not built yet) */
    const struct sched *s = h->s && sched_graph(h->s) == h->g ? h->s : NULL;
    for (size_t i = 0; i < k; i++) {
        const struct rt_node *x = sched_node(s, streams[i]);
        if (x && (i == 0 || streams[i] != streams[i - 1]))
            bars += x->c.deliveries;
    }
    free(streams);
    return bars;
}
