/*
 * bus_replan: the bus follows a hot reload (see bus.h, host_bus_swapped and
 * host_bus_replan). A swap gives the host a new graph with new indices: every node the
 * bus knew is found again by its NodeID and keeps its role, lease, consumer and
 * sequence; a node no longer in the graph stops. The resubmission's answer then plans
 * the nodes the bus has not placed yet.
 */
#include "host/online/bus_internal.h"

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* A node the bus no longer follows: publishing stops and its lease is given up; a
 * consumed one's values are ignored from now on (its consumer stays subscribed until the
 * bus stops: the connection cannot drop one alone). 'x' is the node in the new graph, if
 * it is still there (it computes again). */
static void let_go(struct host_bus *b, struct bus_node *bn, struct graph_node *x)
{
    if ((bn->role == ROLE_PUBLISHED || bn->role == ROLE_TAKEOVER) && b->conn) {
        bus_conn_lease_release(b->conn, bn->topic, b->holder);
        LOG_INFO("bus",
                 "node %s: no longer declared here; not published any more, lease "
                 "given up ('%s')",
                 bn->id, bn->topic);
    }
    if (bn->role == ROLE_TAKEOVER && b->n_takeover)
        b->n_takeover--;
    if (bn->sub) {
        bn->sub->idx = GRAPH_NONE;
        LOG_INFO("bus", "node %s: no longer declared here; not consumed any more ('%s')", bn->id,
                 bn->topic);
    }
    if (x && x->kind == GRAPH_REMOTE) {
        x->kind = bn->kind;
        runtime_refresh(sched_runtime(b->h->s), x->idx);
    }
    bus_log_stop_(b, bn);
    free(bn->topic);
    free(bn->consumers);
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
        nt[i].resume_ts = nt[i].fed_ts = nt[i].skip_ts = INT64_MIN;
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
    free(moved);
    free(b->nodes);
    b->nodes = nt;
    b->n = n;
    return 0;
}

/* The newest bucket node i emitted here (INT64_MIN: none). */
static int64_t last_emitted(const struct host_bus *b, uint32_t i)
{
    const struct rt_node *x = runtime_node(sched_runtime(b->h->s), i);
    int64_t t = INT64_MIN;
    for (uint32_t k = 0; x && k < x->n_outs; k++)
        if (x->outs[k].ring->newest > t)
            t = x->outs[k].ring->newest;
    return t;
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
        /* a node the bus placed keeps its role: its queue, lease and sequence go on */
        if (!graph_owned_by(x, strat) || bn->role != ROLE_LOCAL || (bn->topic && b->conn))
            continue;
        if (bus_plan_node_(b, i, name, qm, nq) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (!b->conn || !bn->topic || !bus_shareable_(x->kind))
            continue; /* not started: host_bus_start places it */
        if (bn->compute_here) {
            if (bus_claim_node_(b, i, err, errlen) < 0)
                return -1;
            continue;
        }
        int64_t done = last_emitted(b, i);
        if (bus_consume_node_(b, i, err, errlen) < 0)
            return -1;
        bn->skip_ts = done; /* computed here since the swap: not fed twice */
    }
    return 0;
}
