/* explain: the DAG as text or JSON (see explain.h). */
#include "host/dag/explain.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Distinct owner strategies of n, in first-declaration order, into idx[]. */
static uint32_t distinct_owners(const struct graph_node *n, uint32_t *idx, uint32_t max)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->n_owners; i++) {
        int seen = 0;
        for (uint32_t j = 0; j < k; j++)
            seen |= idx[j] == n->owners[i];
        if (!seen && k < max)
            idx[k++] = n->owners[i];
    }
    return k;
}

size_t explain_shared_count(const struct host *h)
{
    size_t shared = 0;
    uint32_t idx[2];
    for (uint32_t i = 0; i < graph_count(h->g); i++)
        if (distinct_owners(graph_node(h->g, i), idx, 2) > 1)
            shared++;
    return shared;
}

static const char *kind_word(int kind)
{
    switch (kind) {
    case GRAPH_STREAM:
        return "stream";
    case GRAPH_TAG_QUERY:
        return "tag_query";
    case GRAPH_INDICATOR:
        return "indicator";
    case GRAPH_CUSTOM:
        return "custom";
    case GRAPH_SIGNAL:
        return "signal";
    case GRAPH_REMOTE:
        return "remote";
    default:
        return "order";
    }
}

/* ------------------------------------------------------------ why not shared */

struct sbuf {
    char *p;
    size_t len, used;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
    if (b->used >= b->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->used += (size_t)n < b->len - b->used ? (size_t)n : b->len - b->used - 1;
}

static void sb_inputs(struct sbuf *b, const struct host *h, const struct graph_node *n)
{
    sb_add(b, "[");
    for (uint32_t i = 0; i < n->n_in; i++)
        sb_add(b, "%s%u", i ? " " : "", graph_node(h->g, n->in[i])->pos);
    sb_add(b, "]");
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

unsigned explain_diff(const struct host *h, const struct graph_node *a, const struct graph_node *b,
                      char *out, size_t len)
{
    struct sbuf sb = {out, len, 0};
    unsigned d = 0;
    out[0] = '\0';
#define SEP (d ? "; " : "")
    if (a->is_private || b->is_private) {
        sb_add(&sb, "private (an order publisher belongs to its strategy)");
        d |= EXPLAIN_DIFF_PRIVATE;
    }
    if (!same_str(a->node_type, b->node_type)) {
        sb_add(&sb, "%stype %s vs %s", SEP, a->node_type, b->node_type);
        d |= EXPLAIN_DIFF_TYPE;
    }
    if (!same_str(a->code_hash, b->code_hash)) {
        sb_add(&sb, "%scode hash %.48s vs %.48s", SEP, a->code_hash, b->code_hash);
        d |= EXPLAIN_DIFF_CODE;
    }
    if (!same_str(a->params_json, b->params_json)) {
        sb_add(&sb, "%sparams %.120s vs %.120s", SEP, a->params_json ? a->params_json : "{}",
               b->params_json ? b->params_json : "{}");
        d |= EXPLAIN_DIFF_PARAMS;
    }
    if (a->interval != b->interval) {
        sb_add(&sb, "%sinterval %llds vs %llds", SEP, (long long)a->interval,
               (long long)b->interval);
        d |= EXPLAIN_DIFF_INTERVAL;
    }
    if (a->period != b->period) {
        sb_add(&sb, "%speriod %d vs %d", SEP, (int)a->period, (int)b->period);
        d |= EXPLAIN_DIFF_PERIOD;
    }
    int in_diff = a->n_in != b->n_in;
    for (uint32_t i = 0; !in_diff && i < a->n_in; i++)
        in_diff = a->in[i] != b->in[i];
    if (in_diff) {
        sb_add(&sb, "%sinputs ", SEP);
        sb_inputs(&sb, h, a);
        sb_add(&sb, " vs ");
        sb_inputs(&sb, h, b);
        d |= EXPLAIN_DIFF_INPUTS;
    }
#undef SEP
    return d;
}

static int look_alike_cmp(const void *pa, const void *pb, void *arg)
{
    const struct graph *g = arg;
    const struct graph_node *a = graph_at(g, *(const uint32_t *)pa);
    const struct graph_node *b = graph_at(g, *(const uint32_t *)pb);
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int c = strcmp(a->node_type, b->node_type);
    if (c == 0)
        c = strcmp(a->label, b->label);
    if (c == 0 && a->pos != b->pos)
        c = a->pos < b->pos ? -1 : 1;
    return c;
}

/*
 * For each position p, twin[p] = the position of the first node (in evaluation order)
 * with the same kind, type and name, or GRAPH_NONE (none, or p is that first node).
 * malloc'ed; NULL when out of memory or the graph is empty.
 */
static uint32_t *look_alikes(const struct host *h)
{
    size_t n = graph_count(h->g);
    if (n == 0)
        return NULL;
    uint32_t *order = malloc(n * sizeof(*order));
    uint32_t *twin = malloc(n * sizeof(*twin));
    if (!order || !twin) {
        free(order);
        free(twin);
        return NULL;
    }
    for (uint32_t p = 0; p < n; p++) {
        order[p] = p;
        twin[p] = GRAPH_NONE;
    }
    qsort_r(order, n, sizeof(*order), look_alike_cmp, h->g);
    uint32_t first = order[0];
    for (size_t i = 1; i < n; i++) {
        const struct graph_node *a = graph_at(h->g, first), *b = graph_at(h->g, order[i]);
        if (a->kind == b->kind && strcmp(a->node_type, b->node_type) == 0 &&
            strcmp(a->label, b->label) == 0)
            twin[order[i]] = first;
        else
            first = order[i];
    }
    free(order);
    return twin;
}

/* ------------------------------------------------------------ output */

void explain_text(FILE *out, const struct host *h)
{
    size_t n = graph_count(h->g);
    fprintf(out, "DAG: %zu nodes, %zu strategies, %zu shared\n", n, h->n_st,
            explain_shared_count(h));
    uint32_t *own = calloc(h->n_st ? h->n_st : 1, sizeof(*own));
    uint32_t *twin = look_alikes(h);
    if (!own || (n && !twin)) {
        free(own);
        free(twin);
        return;
    }
    char why[600];
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = graph_at(h->g, p);
        fprintf(out, "[%u] %s %s '%s' interval=%llds period=%d rank=%u\n", p, kind_word(x->kind),
                x->node_type, x->label, (long long)x->interval, (int)x->period, x->rank);
        fprintf(out, "    id: %s\n", x->id);
        if (x->params_json && strcmp(x->params_json, "{}") != 0)
            fprintf(out, "    params: %s\n", x->params_json);
        if (x->n_in) {
            fprintf(out, "    inputs:");
            for (uint32_t i = 0; i < x->n_in; i++)
                fprintf(out, " [%u]", graph_node(h->g, x->in[i])->pos);
            fprintf(out, "\n");
        }
        uint32_t k = distinct_owners(x, own, (uint32_t)h->n_st);
        fprintf(out, "    strategies:");
        for (uint32_t i = 0; i < k; i++)
            fprintf(out, "%s %s", i ? "," : "", h->st[own[i]]->name);
        fprintf(out, "%s\n", k > 1 ? " (shared)" : "");
        if (twin[p] != GRAPH_NONE) {
            explain_diff(h, graph_at(h->g, twin[p]), x, why, sizeof(why));
            fprintf(out, "    not shared with [%u]: %s\n", twin[p], why);
        }
    }
    free(own);
    free(twin);
}

static const char *const diff_names[] = {"type",   "code_hash", "params", "interval",
                                         "period", "inputs",    "private"};

json_t *explain_json(const struct host *h)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    uint32_t *own = calloc(h->n_st ? h->n_st : 1, sizeof(*own));
    size_t n = graph_count(h->g);
    uint32_t *twin = look_alikes(h);
    if (!root || !arr || !own || (n && !twin)) {
        json_decref(root);
        json_decref(arr);
        free(own);
        free(twin);
        return NULL;
    }
    char why[600];
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = graph_at(h->g, p);
        json_t *o = json_object();
        json_object_set_new(o, "pos", json_integer(p));
        json_object_set_new(o, "rank", json_integer(x->rank));
        json_object_set_new(o, "id", json_string(x->id));
        json_object_set_new(o, "kind", json_string(kind_word(x->kind)));
        json_object_set_new(o, "node_type", json_string(x->node_type));
        json_object_set_new(o, "name", json_string(x->label));
        json_object_set_new(o, "interval", json_integer(x->interval));
        json_object_set_new(o, "period", json_integer(x->period));
        json_object_set_new(o, "code_hash", json_string(x->code_hash));
        json_t *params = x->params_json ? json_loads(x->params_json, 0, NULL) : NULL;
        json_object_set_new(o, "params", params ? params : json_null());
        json_t *in = json_array();
        for (uint32_t i = 0; i < x->n_in; i++)
            json_array_append_new(in, json_string(graph_node(h->g, x->in[i])->id));
        json_object_set_new(o, "inputs", in);
        uint32_t k = distinct_owners(x, own, (uint32_t)h->n_st);
        json_t *st = json_array();
        for (uint32_t i = 0; i < k; i++)
            json_array_append_new(st, json_string(h->st[own[i]]->name));
        json_object_set_new(o, "strategies", st);
        json_object_set_new(o, "shared", json_boolean(k > 1));
        if (twin[p] != GRAPH_NONE) {
            const struct graph_node *t = graph_at(h->g, twin[p]);
            unsigned d = explain_diff(h, t, x, why, sizeof(why));
            json_t *reasons = json_array();
            for (size_t b = 0; b < sizeof(diff_names) / sizeof(diff_names[0]); b++)
                if (d & (1u << b))
                    json_array_append_new(reasons, json_string(diff_names[b]));
            json_object_set_new(o, "not_shared",
                                json_pack("{sI ss so ss}", "pos", (json_int_t)twin[p], "id", t->id,
                                          "reasons", reasons, "detail", why));
        }
        json_array_append_new(arr, o);
    }
    free(own);
    free(twin);
    json_object_set_new(root, "nodes", arr);
    json_object_set_new(root, "shared", json_integer((json_int_t)explain_shared_count(h)));
    return root;
}
