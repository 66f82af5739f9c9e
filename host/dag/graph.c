/* graph: nodes of every strategy, NodeIDs, sharing and topological order (see graph.h). */
#include "host/dag/graph.h"

#include "host/plugin/plugin_instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct graph {
    char **strings; /* interned node types and code hashes */
    size_t n_strings;
    struct graph_node **nodes; /* by creation index */
    size_t n, cap;
    uint32_t *order; /* evaluation order: order[pos] = idx */
    uint32_t *slots; /* NodeID hash table: idx + 1, 0 = empty */
    size_t n_slots;
};

struct graph *graph_new(void)
{
    return calloc(1, sizeof(struct graph));
}

static void node_free(struct graph_node *n)
{
    if (!n)
        return;
    free(n->label);
    free(n->params_json);
    for (uint32_t i = 0; i < n->n_tags; i++)
        free(n->tags[i]);
    free(n->tags);
    if (n->kind == GRAPH_TAG_QUERY) {
        for (uint32_t i = 0; i < n->n_query_tags; i++)
            free(n->query_tags[i]);
        free(n->query_tags);
    }
    if (n->in != &n->in1)
        free(n->in);
    free(n->out);
    free(n->owners);
    for (uint32_t i = 0; i < n->n_binds; i++)
        plugin_instance_unref(n->binds[i].pi);
    free(n->binds);
    if (n->kind == GRAPH_ORDER)
        free(n->order_symbol);
    free(n);
}

void graph_free(struct graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        node_free(g->nodes[i]);
    free(g->nodes);
    for (size_t i = 0; i < g->n_strings; i++)
        free(g->strings[i]);
    free(g->strings);
    free(g->order);
    free(g->slots);
    free(g);
}

/* Few distinct values (node types, code hashes): a linear search from the newest. */
static const char *intern(struct graph *g, const char *s)
{
    for (size_t i = g->n_strings; i-- > 0;)
        if (strcmp(g->strings[i], s) == 0)
            return g->strings[i];
    char **p = realloc(g->strings, (g->n_strings + 1) * sizeof(*p));
    if (!p)
        return NULL;
    g->strings = p;
    if (!(p[g->n_strings] = strdup(s)))
        return NULL;
    return p[g->n_strings++];
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int table_put(struct graph *g, uint32_t idx);

static int table_grow(struct graph *g)
{
    size_t ns = g->n_slots ? g->n_slots * 2 : 64;
    uint32_t *old = g->slots;
    size_t old_n = g->n_slots;
    g->slots = calloc(ns, sizeof(*g->slots));
    if (!g->slots) {
        g->slots = old;
        return -1;
    }
    g->n_slots = ns;
    for (size_t i = 0; i < old_n; i++)
        if (old[i])
            table_put(g, old[i] - 1);
    free(old);
    return 0;
}

static int table_put(struct graph *g, uint32_t idx)
{
    if ((g->n + 1) * 2 > g->n_slots && table_grow(g))
        return -1;
    size_t m = g->n_slots - 1;
    for (size_t h = hash_id(g->nodes[idx]->id) & m;; h = (h + 1) & m)
        if (!g->slots[h]) {
            g->slots[h] = idx + 1;
            return 0;
        }
}

struct graph_node *graph_find(const struct graph *g, const char *id)
{
    if (!g->n_slots)
        return NULL;
    size_t m = g->n_slots - 1;
    for (size_t h = hash_id(id) & m; g->slots[h]; h = (h + 1) & m) {
        struct graph_node *n = g->nodes[g->slots[h] - 1];
        if (!n->is_private && strcmp(n->id, id) == 0)
            return n;
    }
    return NULL;
}

static int add_owner(struct graph_node *n, uint32_t owner)
{
    if (n->n_owners == n->cap_owners) {
        uint32_t nc = n->cap_owners ? n->cap_owners * 2 : 2;
        uint32_t *o = realloc(n->owners, nc * sizeof(*o));
        if (!o)
            return -1;
        n->owners = o;
        n->cap_owners = nc;
    }
    n->owners[n->n_owners++] = owner;
    return 0;
}

int graph_owned_by(const struct graph_node *n, uint32_t owner)
{
    for (uint32_t i = 0; i < n->n_owners; i++)
        if (n->owners[i] == owner)
            return 1;
    return 0;
}

static char **dup_strv(const char *const *v, uint32_t n)
{
    char **out = calloc(n ? n : 1, sizeof(*out));
    if (!out)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    return out;
}

/* A new node (not yet in g): identity, tags and inputs; takes 'params_json'. NULL on
 * failure (params_json freed). */
static struct graph_node *node_new(struct graph *g, int kind, const char *id,
                                   const char *node_type, const char *label,
                                   const char *code_hash, char *params_json,
                                   const char *const *tags, uint32_t n_tags,
                                   const uint32_t *inputs, uint32_t n_inputs)
{
    struct graph_node *n = calloc(1, sizeof(*n));
    if (!n) {
        free(params_json);
        return NULL;
    }
    n->idx = (uint32_t)g->n;
    n->pos = n->idx;
    n->kind = kind;
    snprintf(n->id, sizeof(n->id), "%s", id);
    n->params_json = params_json;
    n->node_type = intern(g, node_type);
    n->label = strdup(label);
    n->code_hash = intern(g, code_hash);
    n->in = n_inputs <= 1 ? &n->in1 : calloc(n_inputs, sizeof(*n->in));
    if (n_tags)
        n->tags = dup_strv(tags, n_tags);
    if (!n->node_type || !n->label || !n->code_hash || !n->in || (n_tags && !n->tags)) {
        node_free(n);
        return NULL;
    }
    n->n_tags = n_tags;
    if (n_inputs)
        memcpy(n->in, inputs, n_inputs * sizeof(*n->in));
    n->n_in = n_inputs;
    return n;
}

/* Append n (made by node_new) to g and its NodeID table. 0, or -1 (n not added). */
static int node_insert(struct graph *g, struct graph_node *n)
{
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 16;
        struct graph_node **nn = realloc(g->nodes, nc * sizeof(*nn));
        if (!nn)
            return -1;
        g->nodes = nn;
        g->cap = nc;
    }
    g->nodes[g->n] = n;
    if (table_put(g, n->idx))
        return -1;
    g->n++;
    return 0;
}

int graph_add(struct graph *g, const struct graph_desc *d, uint32_t owner, uint32_t *idx,
              int *created, char *err, size_t errlen)
{
    const char *deps[QMTL_MAX_INPUTS];
    if (d->n_inputs > QMTL_MAX_INPUTS) {
        snprintf(err, errlen, "too many inputs (%u, at most %d)", d->n_inputs, QMTL_MAX_INPUTS);
        return -1;
    }
    for (uint32_t i = 0; i < d->n_inputs; i++) {
        if (d->inputs[i] >= g->n) {
            snprintf(err, errlen, "unknown input node %u", d->inputs[i]);
            return -1;
        }
        deps[i] = g->nodes[d->inputs[i]]->id;
    }
    struct nodeid_fields f = {
        .node_type = d->node_type,
        .interval = d->interval,
        .period = d->period,
        .params = d->params,
        .deps = deps,
        .n_deps = d->n_inputs,
        .schema_compat_id = GRAPH_SCHEMA_COMPAT,
        .code_hash = d->code_hash ? d->code_hash : "",
    };
    char id[NODEID_LEN + 1];
    if (nodeid_compute(&f, id, err, errlen))
        return -1;
    if (!d->is_private) {
        struct graph_node *ex = graph_find(g, id);
        if (ex) {
            if (add_owner(ex, owner)) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            *idx = ex->idx;
            *created = 0;
            return 0;
        }
    }
    char *params = d->params ? json_dumps(d->params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (d->params && !params)
        goto oom;
    struct graph_node *n =
        node_new(g, d->kind, id, d->node_type, d->label ? d->label : d->node_type,
                 d->code_hash ? d->code_hash : "", params, d->tags, d->n_tags, d->inputs,
                 d->n_inputs);
    if (!n)
        goto oom;
    n->interval = d->interval;
    n->period = d->period;
    n->is_private = d->is_private;
    if (add_owner(n, owner) || node_insert(g, n)) {
        node_free(n);
        goto oom;
    }
    *idx = n->idx;
    *created = 1;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int graph_bind_add(struct graph_node *n, const struct graph_bind *b)
{
    struct graph_bind *nb = realloc(n->binds, (n->n_binds + 1) * sizeof(*nb));
    if (!nb)
        return -1;
    n->binds = nb;
    nb[n->n_binds] = *b;
    plugin_instance_ref(b->pi);
    n->n_binds++;
    return 0;
}

int graph_copy(struct graph *g, const struct graph_node *src, const uint32_t *inputs,
               uint32_t n_inputs, const uint32_t *owner_map, uint32_t *idx, char *err,
               size_t errlen)
{
    for (uint32_t i = 0; i < n_inputs; i++)
        if (inputs[i] >= g->n) {
            snprintf(err, errlen, "node '%s' (%s): input %u not copied", src->label, src->id, i);
            return -1;
        }
    char *params = src->params_json ? strdup(src->params_json) : NULL;
    if (src->params_json && !params)
        goto oom;
    struct graph_node *n =
        node_new(g, src->kind, src->id, src->node_type, src->label, src->code_hash, params,
                 (const char *const *)src->tags, src->n_tags, inputs, n_inputs);
    if (!n)
        goto oom;
    n->interval = src->interval;
    n->period = src->period;
    n->is_private = src->is_private;
    n->flags = src->flags;
    n->on_missing = src->on_missing;
    n->on_late = src->on_late;
    n->allowed_lateness = src->allowed_lateness;
    n->state_size = src->state_size;
    n->has_builtin = src->has_builtin;
    n->builtin = src->builtin;
    for (uint32_t i = 0; i < src->n_owners; i++)
        if (owner_map[src->owners[i]] != GRAPH_NONE && add_owner(n, owner_map[src->owners[i]]))
            goto fail;
    for (uint32_t i = 0; i < src->n_binds; i++) {
        struct graph_bind b = src->binds[i];
        if (owner_map[b.owner] == GRAPH_NONE)
            continue;
        b.owner = owner_map[b.owner];
        if (graph_bind_add(n, &b))
            goto fail;
    }
    switch (src->kind) {
    case GRAPH_SIGNAL:
        n->sig_buy_above = src->sig_buy_above;
        n->sig_sell_below = src->sig_sell_below;
        n->sig_size = src->sig_size;
        n->sig_long_only = src->sig_long_only;
        break;
    case GRAPH_ORDER:
        n->order_quantity = src->order_quantity;
        n->order_strategy = owner_map[src->order_strategy];
        if (!(n->order_symbol = strdup(src->order_symbol)))
            goto fail;
        break;
    case GRAPH_TAG_QUERY:
        n->match_mode = src->match_mode;
        if (src->n_query_tags &&
            !(n->query_tags = dup_strv((const char *const *)src->query_tags, src->n_query_tags)))
            goto fail;
        n->n_query_tags = src->n_query_tags;
        break;
    default:
        break;
    }
    if (node_insert(g, n))
        goto fail;
    *idx = n->idx;
    return 0;
fail:
    node_free(n);
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int graph_set_inputs(struct graph *g, uint32_t idx, const uint32_t *inputs, uint32_t n)
{
    if (idx >= g->n)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (inputs[i] >= g->n)
            return -1;
    struct graph_node *node = g->nodes[idx];
    uint32_t *in = calloc(n ? n : 1, sizeof(*in));
    if (!in)
        return -1;
    if (n)
        memcpy(in, inputs, n * sizeof(*in));
    if (node->in != &node->in1)
        free(node->in);
    node->in = in;
    node->n_in = n;
    return 0;
}

static int cmp_order(const void *a, const void *b, void *arg)
{
    const struct graph *g = arg;
    const struct graph_node *x = g->nodes[*(const uint32_t *)a];
    const struct graph_node *y = g->nodes[*(const uint32_t *)b];
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int add_edge(struct graph_node *from, uint32_t child, uint32_t slot)
{
    if (from->n_out == from->cap_out) {
        uint32_t nc = from->cap_out ? from->cap_out * 2 : 1;
        struct graph_edge *e = realloc(from->out, nc * sizeof(*e));
        if (!e)
            return -1;
        from->out = e;
        from->cap_out = nc;
    }
    from->out[from->n_out++] = (struct graph_edge){child, slot};
    return 0;
}

int graph_finalize(struct graph *g, char *err, size_t errlen)
{
    size_t n = g->n;
    uint32_t *indeg = calloc(n ? n : 1, sizeof(*indeg));
    uint32_t *queue = calloc(n ? n : 1, sizeof(*queue));
    uint32_t *order = calloc(n ? n : 1, sizeof(*order));
    if (!indeg || !queue || !order) {
        free(indeg);
        free(queue);
        free(order);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct graph_node *x = g->nodes[i];
        x->n_out = 0;
        x->rank = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct graph_node *x = g->nodes[i];
        for (uint32_t s = 0; s < x->n_in; s++) {
            if (x->in[s] >= n || add_edge(g->nodes[x->in[s]], (uint32_t)i, s)) {
                snprintf(err, errlen, "node '%s' (%s): bad input %u", x->label, x->id, s);
                goto fail;
            }
            indeg[i]++;
        }
    }
    /* Kahn's algorithm for ranks */
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            queue[qt++] = (uint32_t)i;
    while (qh < qt) {
        struct graph_node *x = g->nodes[queue[qh++]];
        for (uint32_t e = 0; e < x->n_out; e++) {
            struct graph_node *c = g->nodes[x->out[e].node];
            if (c->rank < x->rank + 1)
                c->rank = x->rank + 1;
            if (--indeg[c->idx] == 0)
                queue[qt++] = c->idx;
        }
    }
    if (qt != n) {
        for (size_t i = 0; i < n; i++)
            if (indeg[i]) {
                snprintf(err, errlen, "cycle through node '%s' (%s)", g->nodes[i]->label,
                         g->nodes[i]->id);
                break;
            }
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof(*order), cmp_order, g);
    for (size_t p = 0; p < n; p++)
        g->nodes[order[p]]->pos = (uint32_t)p;
    free(g->order);
    g->order = order;
    free(indeg);
    free(queue);
    return 0;
fail:
    free(indeg);
    free(queue);
    free(order);
    return -1;
}

size_t graph_count(const struct graph *g)
{
    return g->n;
}

struct graph_node *graph_node(const struct graph *g, uint32_t idx)
{
    return idx < g->n ? g->nodes[idx] : NULL;
}

struct graph_node *graph_at(const struct graph *g, uint32_t pos)
{
    return g->order && pos < g->n ? g->nodes[g->order[pos]] : NULL;
}
