/* explain: the DAG as text or JSON (see explain.h). */
#include "host/explain.h"

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
    default:
        return "order";
    }
}

void explain_text(FILE *out, const struct host *h)
{
    size_t n = graph_count(h->g);
    fprintf(out, "DAG: %zu nodes, %zu strategies, %zu shared\n", n, h->n_st,
            explain_shared_count(h));
    uint32_t *own = calloc(h->n_st ? h->n_st : 1, sizeof(*own));
    if (!own)
        return;
    for (uint32_t p = 0; p < n; p++) {
        const struct graph_node *x = graph_at(h->g, p);
        fprintf(out, "[%u] %s %s '%s' interval=%llds period=%d rank=%u\n", p, kind_word(x->kind),
                x->node_type, x->label, (long long)x->interval, (int)x->period, x->rank);
        fprintf(out, "    id: %s\n", x->id);
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
    }
    free(own);
}

json_t *explain_json(const struct host *h)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    uint32_t *own = calloc(h->n_st ? h->n_st : 1, sizeof(*own));
    if (!root || !arr || !own) {
        json_decref(root);
        json_decref(arr);
        free(own);
        return NULL;
    }
    size_t n = graph_count(h->g);
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
        json_array_append_new(arr, o);
    }
    free(own);
    json_object_set_new(root, "nodes", arr);
    json_object_set_new(root, "shared", json_integer((json_int_t)explain_shared_count(h)));
    return root;
}
