/*
 * bus_replan: the bus follows a hot reload (see bus.h, host_bus_swapped and
 * host_bus_replan). A swap gives the host a new graph with new indices: every node the
 * bus knew is found again by its NodeID and keeps its role, lease, consumer and
 * sequence; a node no longer in the graph stops (lease given up, durable consumer
 * deleted, both on the lease thread). The resubmission's answer then plans the nodes the
 * bus has not placed yet (what a new node computed meanwhile is held, and published if the
 * answer and the lease say so), and moves a kept node whose place the answer changed.
 */
#include "host/online/bus_internal.h"
#include "host/online/bus_hold.h"
#include "host/online/bus_lease.h"

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* A node the bus no longer follows: publishing stops and its lease is given up; a
 * consumed one's subscription stops and its durable consumer is deleted (the lease
 * thread asks both). 'x' is the node in the new graph, if it is still there (it computes
 * again). */
static void let_go(struct host_bus *b, struct bus_node *bn, struct graph_node *x)
{
    int held = bn->role == ROLE_PUBLISHED || bn->role == ROLE_TAKEOVER ||
               bn->role == ROLE_CLAIMING;
    if (held && b->conn) {
        if (bus_push_(b, BUS_LEASE_RELEASE, GRAPH_NONE, 0, bn->topic, NULL) < 0)
            LOG_WARN("bus", "node %s: lease '%s' not given up (out of memory); it expires",
                     bn->id, bn->topic);
        LOG_INFO("bus",
                 "node %s: no longer declared here; not published any more, lease "
                 "given up ('%s')",
                 bn->id, bn->topic);
    }
    if (bn->role == ROLE_TAKEOVER && b->n_takeover)
        b->n_takeover--;
    if (bn->role == ROLE_SWITCH && b->n_switch)
        b->n_switch--;
    bus_unconsume_(b, bn);
    if (x && x->kind == GRAPH_REMOTE) {
        x->kind = bn->kind;
        runtime_refresh(sched_runtime(b->h->s), x->idx);
    }
    bus_log_stop_(b, bn);
    free(bn->topic);
    free(bn->consumers);
    free(bn->computers);
    bus_hold_free(bn->hold);
    memset(bn, 0, sizeof(*bn));
}

int host_bus_swapped(struct host_bus *b, char *err, size_t errlen)
{
    struct graph *g = b->h->g;
    size_t n = graph_count(g);
    struct bus_node *nt = calloc(n ? n : 1, sizeof(*nt));
    unsigned char *moved = calloc(n ? n : 1, 1);
    if (!nt || !moved) {
        free(nt);
        free(moved);
        for (size_t j = 0; j < b->n; j++)
            let_go(b, &b->nodes[j], graph_find(g, b->nodes[j].id));
        b->n = 0;
        snprintf(err, errlen,
                 "out of memory following the DAG change: every node is computed "
                 "here, nothing is published");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        snprintf(nt[i].id, sizeof(nt[i].id), "%s", graph_node(g, i)->id);
        nt[i].resume_ts = nt[i].fed_ts = nt[i].skip_ts = nt[i].out_ts = INT64_MIN;
    }
    for (size_t j = 0; j < b->n; j++) {
        struct bus_node *ob = &b->nodes[j];
        struct graph_node *x = graph_find(g, ob->id);
        if (!x || moved[x->idx]) { /* gone (or a private twin already placed) */
            let_go(b, ob, x);
            continue;
        }
        moved[x->idx] = 1;
        nt[x->idx] = *ob;
        if (ob->role == ROLE_REMOTE || ob->role == ROLE_TAKEOVER) {
            /* a node the new version declares again arrives with its own kind */
            x->kind = GRAPH_REMOTE;
            runtime_refresh(sched_runtime(b->h->s), x->idx);
            if (ob->sub)
                ob->sub->idx = x->idx;
        }
    }
    /* a new node may be told to publish: what it computes until the answer is held */
    for (uint32_t i = 0; b->conn && i < n; i++)
        if (!moved[i] && bus_shareable_(graph_node(g, i)->kind))
            nt[i].hold = bus_hold_new(); /* out of memory: not held (not published) */
    free(moved);
    free(b->nodes);
    b->nodes = nt;
    b->n = n;
    return 0;
}

/* The newest bucket node i emitted here (INT64_MIN: none): what the bus saw go out, or
 * what its children's rings hold (a leaf has none). */
static int64_t last_emitted(const struct host_bus *b, uint32_t i)
{
    const struct rt_node *x = runtime_node(sched_runtime(b->h->s), i);
    int64_t t = b->nodes[i].out_ts;
    for (uint32_t k = 0; x && k < x->n_outs; k++)
        if (x->outs[k].ring->newest > t)
            t = x->outs[k].ring->newest;
    return t;
}

/* Node i computed here becomes remote: buckets it emitted here are not fed again. */
static int consume_after(struct host_bus *b, uint32_t i, char *err, size_t errlen)
{
    int64_t done = last_emitted(b, i);
    if (bus_consume_node_(b, i, err, errlen) < 0)
        return -1;
    b->nodes[i].skip_ts = done; /* computed here: not fed twice */
    return 0;
}

/*
 * A kept node whose new answer places it otherwise changes role. Who publishes is the
 * lease's to say, not the answer's: a node whose lease this host holds (or is asking for)
 * stays published whatever the answer (the answer to a resubmission names the previous
 * version of the same strategy as "another strategy" for the nodes both declare). The
 * answer says whether a node this host does not publish is computed here or consumed:
 *  - standby, now told to consume: consumed, and only buckets after the last one
 *    computed here are fed (the host holding the lease published them);
 *  - consumed, now told to compute: fed until one of its inputs delivers a bucket after
 *    the last one fed, then computed here as standby (bus_switch_ below), its durable
 *    consumer deleted; if its lease comes free first, a takeover (bus.c) instead.
 */
static int move(struct host_bus *b, uint32_t i, char *err, size_t errlen)
{
    struct bus_node *bn = &b->nodes[i];
    struct graph_node *x = graph_node(b->h->g, i);
    if (bn->role == ROLE_STANDBY && !bn->compute_here && bn->topic && bus_shareable_(x->kind)) {
        bn->role = ROLE_LOCAL;
        LOG_INFO("bus", "node '%s' (%s): the new answer says another host computes it; "
                        "consumed after bucket %lld",
                 x->label, x->id, (long long)last_emitted(b, i));
        return consume_after(b, i, err, errlen);
    }
    if (bn->role == ROLE_REMOTE && bn->compute_here) {
        bn->role = ROLE_SWITCH;
        b->n_switch++;
        LOG_INFO("bus", "node '%s' (%s): the new answer says compute it here; computed from "
                        "the first bucket after %lld its inputs deliver",
                 x->label, x->id, (long long)bn->fed_ts);
    } else if (bn->role == ROLE_SWITCH && !bn->compute_here) {
        bn->role = ROLE_REMOTE; /* not switched yet: stays on its consumer */
        b->n_switch--;
    }
    return 0;
}

void bus_switch_(struct host_bus *b, const struct graph_node *up, int64_t ts)
{
    for (uint32_t i = 0; b->n_switch && i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        if (bn->role != ROLE_SWITCH)
            continue;
        struct graph_node *t = graph_node(b->h->g, i);
        int feeds = 0;
        for (uint32_t k = 0; k < t->n_in && !feeds; k++)
            feeds = t->in[k] == up->idx;
        int64_t bucket = t->interval > 0 ? ts - ts % t->interval : ts;
        if (!feeds || bucket <= bn->fed_ts)
            continue;
        t->kind = bn->kind; /* before this wave reaches it */
        runtime_refresh(sched_runtime(b->h->s), i);
        bn->role = ROLE_STANDBY;
        b->n_switch--;
        bus_unconsume_(b, bn);
        LOG_INFO("bus",
                 "node '%s' (%s): computed here from bucket %lld on, as the new answer says "
                 "(another host holds its lease: not published)",
                 t->label, t->id, (long long)bucket);
    }
}

int host_bus_replan(struct host_bus *b, uint32_t strat, const json_t *ack, char *err, size_t errlen)
{
    const json_t *qm = json_object_get(ack, "queue_map");
    const json_t *nq = json_object_get(ack, "node_queues");
    if (!json_is_object(ack) || (qm && !json_is_object(qm)) || (nq && !json_is_object(nq))) {
        snprintf(err, errlen, "submission answer: expected queue_map and node_queues objects");
        return -1;
    }
    struct host *h = b->h;
    if (strat >= h->n_st || b->n != graph_count(h->g)) {
        snprintf(err, errlen, "the bus does not follow this DAG (no host_bus_swapped)");
        return -1;
    }
    const char *name = h->st[strat]->name;
    for (uint32_t i = 0; i < b->n; i++) {
        struct graph_node *x = graph_node(h->g, i);
        struct bus_node *bn = &b->nodes[i];
        if (!graph_owned_by(x, strat))
            continue;
        int placed = bn->role != ROLE_LOCAL || (bn->topic && b->conn);
        if (bus_plan_node_(b, i, name, qm, nq) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (placed) { /* kept: its role goes on unless the answer moves it */
            if (b->conn && move(b, i, err, errlen) < 0)
                return -1;
            continue;
        }
        if (!b->conn || !bn->topic || !bus_shareable_(x->kind)) {
            bus_hold_free(bn->hold); /* not started: host_bus_start places it */
            bn->hold = NULL;
            continue;
        }
        if (bn->compute_here) { /* its held outputs go out if the lease is taken */
            if (bus_claim_node_(b, i, err, errlen) < 0)
                return -1;
            continue;
        }
        bus_hold_free(bn->hold);
        bn->hold = NULL;
        if (consume_after(b, i, err, errlen) < 0)
            return -1;
    }
    return 0;
}
