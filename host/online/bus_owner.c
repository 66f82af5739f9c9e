/* bus_owner: who publishes a shared node: claims, lease renewals and takes, and what
 * their answers do to a node's role (see bus.h "ownership"). Loop thread only; the
 * key-value requests themselves run on the lease thread (bus_lease.h). */
#include "host/online/bus_internal.h"
#include "host/online/bus_hold.h"
#include "host/online/bus_lease.h"

#include <event2/event.h>

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lease held: publish, continuing after what the stream already holds (rc, ts, seq, err:
 * what bus_conn_last_output answered for its queue). */
static void publish_after(struct host_bus *b, uint32_t i, int rc, int64_t ts, uint64_t seq,
                          const char *err)
{
    struct bus_node *bn = &b->nodes[i];
    struct graph_node *n = graph_node(b->h->g, i);
    bn->role = ROLE_PUBLISHED;
    if (n->state_size > BUS_STATE_MAX)
        LOG_WARN("bus",
                 "node '%s': its state (%zu bytes) is over the %u a message carries; a host "
                 "taking it over computes on from its own",
                 n->label, n->state_size, BUS_STATE_MAX);
    if (rc == 0) { /* continue the stream: no duplicate, no second numbering */
        bn->seq = seq;
        bn->resume_ts = ts;
        LOG_INFO("bus",
                 "node '%s' (%s): '%s' holds outputs up to sequence %llu (bucket %lld); "
                 "publishing continues after them",
                 n->label, n->id, bn->topic, (unsigned long long)seq, (long long)ts);
    } else if (rc < 0) {
        LOG_WARN("bus", "node '%s': %s; publishing from sequence %llu", n->label, err,
                 (unsigned long long)bn->seq + 1);
    }
}

static void standby(struct host_bus *b, uint32_t i)
{
    struct graph_node *n = graph_node(b->h->g, i);
    b->nodes[i].role = ROLE_STANDBY;
    bus_log_start_(b, i);
    bus_hold_free(b->nodes[i].hold); /* another host publishes them */
    b->nodes[i].hold = NULL;
    LOG_INFO("bus", "node '%s' (%s): another host holds its lease; computed here, not published",
             n->label, n->id);
}

/* The node whose queue is 'topic' (GRAPH_NONE: none). */
static uint32_t find_topic(const struct host_bus *b, const char *topic)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (b->nodes[i].topic && !strcmp(b->nodes[i].topic, topic))
            return i;
    return GRAPH_NONE;
}

/* Loop thread: the answers of one lease tick (bus_lease.h). A node whose role, queue or
 * revision changed on the loop since the tick submitted its request (a hot reload, a
 * claim) is left alone: its next tick asks again. */
void bus_lease_done_(void *arg, struct bus_lease_job *jobs, size_t n_jobs)
{
    struct host_bus *b = arg;
    for (size_t k = 0; k < n_jobs; k++) {
        struct bus_lease_job *j = &jobs[k];
        if (j->op == BUS_LEASE_RELEASE || j->op == BUS_LEASE_FORGET) {
            if (j->rc < 0)
                LOG_WARN("bus", "%s", j->err);
            continue;
        }
        /* a swap since the request may have moved the node: its queue finds it again */
        if (j->idx >= b->n || !b->nodes[j->idx].topic || strcmp(b->nodes[j->idx].topic, j->key))
            j->idx = find_topic(b, j->key);
        if (j->idx == GRAPH_NONE) { /* gone: a lease taken for nothing is given up */
            if (j->rc == 1 && j->op == BUS_LEASE_TAKE)
                bus_push_(b, BUS_LEASE_RELEASE, GRAPH_NONE, 0, j->key, NULL);
            continue;
        }
        struct bus_node *bn = &b->nodes[j->idx];
        struct graph_node *n = graph_node(b->h->g, j->idx);
        int same = bn->topic && strcmp(bn->topic, j->key) == 0;
        int holds = same && (bn->role == ROLE_PUBLISHED || bn->role == ROLE_TAKEOVER);
        if (j->rc == 1 && holds && j->rev > bn->lease_rev)
            bn->lease_rev = j->rev; /* revisions only grow: the later write wins */
        if (bn->role != j->tag || !same) {
            /* changed meanwhile (a hot reload): a lease taken for nothing is given up */
            if (j->rc == 1 && !holds)
                bus_push_(b, BUS_LEASE_RELEASE, GRAPH_NONE, 0, j->key, NULL);
            continue;
        }
        if (j->rc == 0 && j->op == BUS_LEASE_RENEW && bn->lease_rev != j->held)
            continue; /* renewed on the loop meanwhile (a claim): that answer is newer */
        if (j->rc == 1 && j->rev > bn->lease_rev)
            bn->lease_rev = j->rev;
        switch (bn->role) {
        case ROLE_PUBLISHED:
        case ROLE_TAKEOVER:
            if (j->rc == 0 && bn->role == ROLE_PUBLISHED) {
                LOG_WARN("bus", "node '%s': lease lost to another host; no longer published",
                         n->label);
                bn->role = ROLE_STANDBY;
                bus_log_start_(b, j->idx);
            } else if (j->rc == 0) {
                LOG_WARN("bus", "node '%s': lease lost before the takeover completed", n->label);
                bn->role = ROLE_REMOTE;
                b->n_takeover--;
            } else {
                bus_takeover_try_(b, j->idx); /* still taking over: drained meanwhile? */
            }
            break;
        case ROLE_STANDBY:
            if (j->rc == 1) {
                LOG_INFO("bus", "node '%s': took the lease its owner left", n->label);
                publish_after(b, j->idx, j->last_rc, j->last_ts, j->last_seq, j->err);
                bus_standby_catch_up_(b, j->idx);
                b->takeovers++;
            }
            break;
        case ROLE_CLAIMING:
            bn->asking = 0;
            if (j->rc == 1) {
                LOG_INFO("bus", "node '%s' (%s): lease taken; published to '%s'", n->label, n->id,
                         bn->topic);
                publish_after(b, j->idx, j->last_rc, j->last_ts, j->last_seq, j->err);
                bus_flush_hold_(b, j->idx);
            } else if (j->rc == 0) {
                standby(b, j->idx);
            } else if (!bn->warned++) {
                LOG_WARN("bus", "node '%s': lease not asked (%s); asked again", n->label, j->err);
            }
            break;
        case ROLE_REMOTE:
        case ROLE_SWITCH:
            if (j->rc != 1)
                break;
            bn->target_ts = j->last_rc == 0 ? j->last_ts : INT64_MIN;
            bn->target_seq = j->last_rc == 0 ? j->last_seq : 0;
            if (bn->role == ROLE_SWITCH) /* its lease came free first: a takeover */
                b->n_switch--;
            bn->role = ROLE_TAKEOVER;
            b->n_takeover++;
            LOG_INFO("bus",
                     "node '%s' (%s): took the lease its owner left; computed here after "
                     "sequence %llu (bucket %lld)",
                     n->label, n->id, (unsigned long long)bn->target_seq, (long long)bn->target_ts);
            bus_takeover_try_(b, j->idx);
            break;
        default:
            break;
        }
    }
}

/* Every LEASE_TICK_MS: renew what this host holds, take what lapsed, on the lease thread.
 * While the previous tick's requests are still in flight this tick asks nothing. */
void bus_lease_tick_(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct host_bus *b = arg;
    if (!b->lease || bus_lease_busy(b->lease))
        return;
    struct bus_lease_job *jobs = NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        int take = bn->role == ROLE_STANDBY || bn->role == ROLE_REMOTE ||
                   bn->role == ROLE_SWITCH || (bn->role == ROLE_CLAIMING && !bn->asking);
        int op = bn->role == ROLE_PUBLISHED || bn->role == ROLE_TAKEOVER ? BUS_LEASE_RENEW
                 : take                                                  ? BUS_LEASE_TAKE
                                                                         : 0;
        if (!op || !bn->topic)
            continue;
        struct bus_lease_job *p = realloc(jobs, (n + 1) * sizeof(*p));
        char *key = p ? strdup(bn->topic) : NULL;
        if (p)
            jobs = p;
        if (!key)
            break; /* out of memory: this tick asks for what it has */
        memset(&jobs[n], 0, sizeof(jobs[n]));
        jobs[n].idx = i;
        jobs[n].tag = bn->role;
        jobs[n].op = op;
        jobs[n].key = key;
        jobs[n].held = bn->lease_rev;
        n++;
        if (bn->role == ROLE_CLAIMING)
            bn->asking = 1;
    }
    if (n)
        bus_lease_submit(b->lease, jobs, n);
    else
        free(jobs);
}

int bus_push_(struct host_bus *b, int op, uint32_t idx, int tag, const char *key,
              const char *name)
{
    struct bus_lease_job *j = b->lease ? calloc(1, sizeof(*j)) : NULL;
    if (!j || !(j->key = strdup(key))) {
        free(j);
        return -1;
    }
    j->op = op;
    j->idx = idx;
    j->tag = tag;
    if (name)
        snprintf(j->name, sizeof(j->name), "%s", name);
    return bus_lease_push(b->lease, j, 1);
}

int bus_claim_node_(struct host_bus *b, uint32_t i, char *err, size_t errlen)
{
    struct bus_node *bn = &b->nodes[i];
    if (!bn->hold && !(bn->hold = bus_hold_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bn->role = ROLE_CLAIMING;
    /* asked now; if it cannot be, the next lease tick asks */
    bn->asking = bus_push_(b, BUS_LEASE_TAKE, i, ROLE_CLAIMING, bn->topic, NULL) == 0;
    return 0;
}

/* Stopping with node i still claiming (a run that ended before the lease's answer): the
 * lease is asked here, on the stopping thread, so what it held is published or dropped. */
void bus_claim_now_(struct host_bus *b, uint32_t i)
{
    struct bus_node *bn = &b->nodes[i];
    struct graph_node *n = graph_node(b->h->g, i);
    char err[300];
    int rc = bus_conn_lease_take(b->conn, bn->topic, b->holder, &bn->lease_rev, err, sizeof(err));
    if (rc == 1) {
        int64_t ts = 0;
        uint64_t seq = 0;
        int last = bus_conn_last_output(b->conn, bn->topic, &ts, &seq, err, sizeof(err));
        LOG_INFO("bus", "node '%s' (%s): lease taken; published to '%s'", n->label, n->id,
                 bn->topic);
        publish_after(b, i, last, ts, seq, err);
        bus_flush_hold_(b, i);
    } else if (rc == 0) {
        standby(b, i);
    } else {
        LOG_WARN("bus", "node '%s': lease not asked (%s); its outputs are not published", n->label,
                 err);
    }
}
