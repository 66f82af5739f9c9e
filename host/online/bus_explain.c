/* bus_explain: each node's bus role for 'qmtl run --explain' (see bus_explain.h). */
#include "host/online/bus_explain.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/online/bus_internal.h"
#include "host/online/control.h"
#include "http_client.h"

/* What the dry runs say of one node: computed by some strategy here, consumed by some,
 * and its queue. */
struct plan {
    int compute_here, consumed;
    const char *topic; /* borrowed from a dry-run answer kept in 'answers' */
};

/* Strategy k's dry run into plans[] (by graph index). 0, or -1 with err. */
static int dry_run(const struct host *h, uint32_t k, const struct bus_explain_opts *o,
                   struct plan *plans, json_t *answers, json_t *degraded, char *err, size_t errlen)
{
    const char *name = h->st[k]->name;
    char e[512] = "";
    json_t *body = ctl_strategy_submission(h, k, o->world, e, sizeof(e));
    if (!body) {
        snprintf(err, errlen, "strategy '%s': %s", name, e);
        return -1;
    }
    json_t *reply = NULL;
    int status = http_json_fetch(o->gateway_url, "POST", "/strategies/dry-run", body, o->token,
                                 o->timeout_s, &reply, e, sizeof(e));
    json_decref(body);
    const json_t *qm = json_object_get(reply, "queue_map");
    if (status != 200 || !json_is_object(qm)) {
        const char *m = json_string_value(json_object_get(reply, "message"));
        snprintf(err, errlen, "strategy '%s': dry run at %s answered %d%s%s", name, o->gateway_url,
                 status, m || *e ? ": " : "", m ? m : e);
        json_decref(reply);
        return -1;
    }
    json_array_append_new(answers, reply); /* keeps the topics plans[] borrow */
    const char *why = json_string_value(json_object_get(reply, "downgrade_reason"));
    if (why && !strcmp(why, "dagmanager_unavailable")) /* no diff: nothing is planned */
        json_array_append_new(degraded, json_string(name));
    for (uint32_t i = 0; i < graph_count(h->g); i++) {
        const struct graph_node *x = graph_node(h->g, i);
        if (!graph_owned_by(x, k))
            continue;
        /* the diff's entry: [{queue, global}], global = another strategy computes it */
        const json_t *e0 = json_array_get(json_object_get(qm, x->id), 0);
        const char *topic = json_string_value(json_object_get(e0, "queue"));
        if (!topic)
            continue;
        if (json_is_true(json_object_get(e0, "global")))
            plans[i].consumed = 1;
        else
            plans[i].compute_here = 1;
        if (!plans[i].topic)
            plans[i].topic = topic;
    }
    return 0;
}

/* The roles from the plans and the lease bucket. NULL with err. */
static json_t *roles_of(const struct host *h, const struct plan *plans,
                        const struct bus_explain_opts *o, char *err, size_t errlen)
{
    struct event_base *base = event_base_new();
    char name[64];
    snprintf(name, sizeof(name), "qmtl-explain-%ld", (long)getpid());
    struct bus_conn *c = base ? bus_conn_new(base, o->bus_url, name, 2000, err, errlen) : NULL;
    json_t *nodes = json_object();
    if (!base || !nodes)
        snprintf(err, errlen, "out of memory");
    int ok = c && nodes && bus_conn_lease_open(c, LEASE_TTL_MS, err, errlen) == 0;
    for (uint32_t i = 0; ok && i < graph_count(h->g); i++) {
        const struct graph_node *x = graph_node(h->g, i);
        const struct plan *p = &plans[i];
        const char *role = "local", *topic = NULL;
        char holder[160] = "";
        int held = 0;
        if (p->topic && bus_shareable_(x->kind)) {
            topic = p->topic;
            held = bus_conn_lease_holder(c, topic, holder, sizeof(holder), err, errlen);
            ok = held >= 0;
            role = p->compute_here ? (held == 1 ? "standby" : "published") : "remote";
        }
        if (ok)
            json_object_set_new(nodes, x->id,
                                json_pack("{s:s, s:s?, s:s?}", "role", role, "queue", topic,
                                          "holder", held == 1 ? holder : NULL));
    }
    bus_conn_free(c);
    if (base)
        event_base_free(base);
    if (!ok) {
        json_decref(nodes);
        return NULL;
    }
    return nodes;
}

json_t *bus_explain_roles(const struct host *h, const struct bus_explain_opts *o, char *err,
                          size_t errlen)
{
    size_t n = graph_count(h->g);
    struct plan *plans = calloc(n ? n : 1, sizeof(*plans));
    json_t *answers = json_array(), *degraded = json_array(), *nodes = NULL;
    int ok = plans && answers && degraded;
    if (!ok)
        snprintf(err, errlen, "out of memory");
    for (uint32_t k = 0; ok && k < h->n_st; k++)
        if (!h->st[k]->stopped)
            ok = dry_run(h, k, o, plans, answers, degraded, err, errlen) == 0;
    if (ok)
        nodes = roles_of(h, plans, o, err, errlen);
    json_t *out = nodes ? json_pack("{s:s?, s:s?, s:O, s:o}", "bus", o->bus_url, "world", o->world,
                                    "degraded", degraded, "nodes", nodes)
                        : NULL;
    free(plans);
    json_decref(answers);
    json_decref(degraded);
    return out;
}

void bus_explain_text(FILE *out, const struct host *h, const json_t *roles)
{
    const json_t *nodes = json_object_get(roles, "nodes");
    fprintf(out, "bus %s, world %s: roles from the gateway's dry run and the lease bucket\n",
            json_string_value(json_object_get(roles, "bus")),
            json_string_value(json_object_get(roles, "world")));
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(roles, "degraded"), i, d)
        fprintf(out, "  strategy '%s': degraded (no DAG manager answer): computed here\n",
                json_string_value(d));
    for (uint32_t p = 0; p < graph_count(h->g); p++) {
        const struct graph_node *x = graph_at(h->g, p);
        const json_t *r = json_object_get(nodes, x->id);
        const char *role = json_string_value(json_object_get(r, "role"));
        const char *q = json_string_value(json_object_get(r, "queue"));
        const char *who = json_string_value(json_object_get(r, "holder"));
        if (!role)
            continue;
        fprintf(out, "  [%u] %s: %s", p, x->label, role);
        if (!strcmp(role, "published"))
            fprintf(out, ", to queue '%s'", q);
        else if (!strcmp(role, "standby"))
            fprintf(out, ", not published: the lease of '%s' is held by %s", q, who);
        else if (!strcmp(role, "remote"))
            fprintf(out, ", consumed from queue '%s' (%s%s)", q,
                    who ? "computed by " : "no host holds its lease now", who ? who : "");
        fputc('\n', out);
    }
}

void bus_explain_merge(json_t *doc, const json_t *roles)
{
    const json_t *nodes = json_object_get(roles, "nodes");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(doc, "nodes"), i, x)
    {
        json_t *r = json_object_get(nodes, json_string_value(json_object_get(x, "id")));
        if (r)
            json_object_set(x, "bus", r);
    }
    json_object_set_new(doc, "bus",
                        json_pack("{s:O, s:O, s:O}", "url", json_object_get(roles, "bus"), "world",
                                  json_object_get(roles, "world"), "degraded",
                                  json_object_get(roles, "degraded")));
}
