/* bus: publish what this host computes, consume what another host computes (see bus.h). */
#include "host/online/bus_internal.h"
#include "host/online/bus_hold.h"
#include "host/online/bus_lease.h"
#include "host/online/bus_tagq.h"

#include <event2/event.h>

#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/dag/scheduler.h"
#include "log.h"
#include "nodeid.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Node n is published: output (ts, v) goes to its queue, numbered on. With 'state', a
 * custom node's state goes with it (a host taking over restores it): only for an output
 * the state is that of, i.e. the newest one computed. */
static void publish_one(struct host_bus *b, const struct graph_node *n, struct bus_node *bn,
                        int64_t ts, const struct qmtl_value *v, int state)
{
    char err[300];
    if (ts <= bn->resume_ts) /* a restarted publisher recomputes what the stream holds */
        return;
    const struct rt_node *x = state && n->state_size && n->state_size <= BUS_STATE_MAX
                                  ? runtime_node(sched_runtime(b->h->s), n->idx)
                                  : NULL;
    if (bus_conn_publish_state(b->conn, bn->topic, n->id, ts, bn->seq + 1, v,
                               x ? x->state : NULL, x ? n->state_size : 0, err, sizeof(err)) == 0)
        bn->seq++;
    else if (!bn->warned++)
        LOG_WARN("bus", "node '%s' (%s): output not published: %s", n->label, n->id, err);
}

/* The node's place is not known yet: keep the output for its queue (bounded). */
static void hold_output(struct bus_node *bn, const struct graph_node *n, int64_t ts,
                        const struct qmtl_value *v)
{
    if (bus_hold_add(bn->hold, ts, v) == 0)
        return;
    LOG_WARN("bus",
             "node '%s' (%s): more than %d outputs (or %u bytes) computed before the bus "
             "placed it; those are not published (its queue continues after them)",
             n->label, n->id, BUS_HOLD_MAX, BUS_HOLD_MAX_BYTES);
    bus_hold_free(bn->hold);
    bn->hold = NULL;
}

/* The lease of node i was taken: what it computed while held goes out first, in order
 * (the node's state with the last, the newest output). */
static void flush_hold(struct host_bus *b, uint32_t i)
{
    struct bus_node *bn = &b->nodes[i];
    const struct graph_node *n = graph_node(b->h->g, i);
    size_t k = 0, count = bn->hold ? bus_hold_count(bn->hold) : 0;
    for (; k < count && bn->role == ROLE_PUBLISHED; k++) {
        int64_t ts;
        struct qmtl_value v;
        bus_hold_get(bn->hold, k, &ts, &v);
        publish_one(b, n, bn, ts, &v, k + 1 == count);
    }
    if (count)
        LOG_INFO("bus", "node '%s' (%s): %zu output(s) computed before the lease was taken "
                        "handed to its queue (those after sequence %llu's bucket)",
                 n->label, n->id, count, (unsigned long long)bn->seq);
    bus_hold_free(bn->hold);
    bn->hold = NULL;
}

static void on_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct host_bus *b = arg;
    if (b->prev_out)
        b->prev_out(b->prev_arg, n, ts, v);
    if (b->n_logs || b->n_takeover)
        bus_log_output_(b, n, ts, v);
    if (b->n_switch)
        bus_switch_(b, n, ts);
    if (!b->conn || n->idx >= b->n)
        return;
    struct bus_node *bn = &b->nodes[n->idx];
    bn->out_ts = ts;
    if (bn->hold)
        hold_output(bn, n, ts, v);
    else if (bn->role == ROLE_PUBLISHED)
        publish_one(b, n, bn, ts, v, 1);
}

struct host_bus *host_bus_new(struct host *h, const char *url, const char *key, char *err,
                              size_t errlen)
{
    if (bus_url_check(key, url, err, errlen) < 0)
        return NULL;
    struct host_bus *b = calloc(1, sizeof(*b));
    if (!b || !(b->url = strdup(url)) || !(b->tq = bus_tagq_new(h))) {
        if (b)
            free(b->url);
        free(b);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->h = h;
    b->prev_out = h->on_output;
    b->prev_arg = h->output_arg;
    h->on_output = on_output;
    h->output_arg = b;
    return b;
}

static int grow(struct host_bus *b)
{
    size_t n = graph_count(b->h->g);
    if (n <= b->n)
        return 0;
    struct bus_node *p = realloc(b->nodes, n * sizeof(*p));
    if (!p)
        return -1;
    memset(p + b->n, 0, (n - b->n) * sizeof(*p));
    for (size_t i = b->n; i < n; i++) {
        snprintf(p[i].id, sizeof(p[i].id), "%s", graph_node(b->h->g, (uint32_t)i)->id);
        p[i].resume_ts = p[i].fed_ts = p[i].skip_ts = p[i].out_ts = INT64_MIN;
    }
    b->nodes = p;
    b->n = n;
    return 0;
}

static int set_str(char **slot, const char *v)
{
    char *c = strdup(v);
    if (!c)
        return -1;
    free(*slot);
    *slot = c;
    return 0;
}

/* Where 'name' is in the "|"-joined 'list' (NULL: not there). */
static char *list_find(char *list, const char *name)
{
    size_t len = strlen(name);
    for (char *p = list; p && *p;) {
        char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && !strncmp(p, name, len))
            return p;
        p = end ? end + 1 : p + n;
    }
    return NULL;
}

int bus_list_add_(char **list, const char *name)
{
    if (list_find(*list, name))
        return 0;
    size_t old = *list ? strlen(*list) : 0;
    char *p = realloc(*list, old + strlen(name) + 2);
    if (!p)
        return -1;
    snprintf(p + old, strlen(name) + 2, "%s%s", old ? "|" : "", name);
    *list = p;
    return 0;
}

void bus_list_remove_(char *list, const char *name)
{
    char *p = list_find(list, name);
    if (!p)
        return;
    char *end = p + strlen(name);
    if (*end == '|')
        memmove(p, end + 1, strlen(end + 1) + 1);
    else if (p > list)
        p[-1] = '\0'; /* the last one: its separator goes too */
    else
        *p = '\0';
}

int host_bus_set_name(struct host_bus *b, const char *name, const char *dir, char *err,
                      size_t errlen)
{
    if (name && *name) {
        size_t len = strlen(name);
        for (const char *c = name; *c; c++)
            if (*c <= ' ' || *c > '~' || *c == '|') {
                snprintf(err, errlen, "host.name: '%.100s': printable ASCII without spaces or "
                                      "'|' only", name);
                return -1;
            }
        if (len > 200) {
            snprintf(err, errlen, "host.name: longer than 200 characters");
            return -1;
        }
        snprintf(b->instance, sizeof(b->instance), "name=%s", name);
        return 0;
    }
    char host[128] = "", real[PATH_MAX];
    gethostname(host, sizeof(host) - 1);
    if (!dir || !realpath(dir, real)) {
        snprintf(err, errlen, "host.name is empty and the plugins directory '%.200s' has no "
                              "absolute path to name this host instance by",
                 dir ? dir : "");
        return -1;
    }
    snprintf(b->instance, sizeof(b->instance), "%s|%.*s", host,
             (int)(sizeof(b->instance) - strlen(host) - 2), real);
    return 0;
}

int host_bus_plan(struct host_bus *b, uint32_t strat, const char *world, const json_t *ack,
                  char *err, size_t errlen)
{
    const json_t *qm = json_object_get(ack, "queue_map");
    const json_t *nq = json_object_get(ack, "node_queues");
    if (!json_is_object(ack) || (qm && !json_is_object(qm)) || (nq && !json_is_object(nq))) {
        snprintf(err, errlen, "submission answer: expected queue_map and node_queues objects");
        return -1;
    }
    if (grow(b) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(b->world, sizeof(b->world), "%s", world ? world : "");
    const char *name = b->h->st[strat]->name;
    for (uint32_t i = 0; i < b->n; i++) {
        if (graph_owned_by(graph_node(b->h->g, i), strat) &&
            bus_plan_node_(b, i, name, qm, nq) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return bus_tagq_plan(b->tq, strat, ack, err, errlen);
}

int bus_plan_node_(struct host_bus *b, uint32_t i, const char *strategy, const json_t *qm,
                   const json_t *nq)
{
    struct graph_node *x = graph_node(b->h->g, i);
    struct bus_node *bn = &b->nodes[i];
    const json_t *e = json_object_get(qm, x->id);
    const char *own = json_string_value(json_object_get(nq, x->id));
    bus_list_remove_(bn->consumers, strategy); /* a resubmission's answer replaces its last */
    bus_list_remove_(bn->computers, strategy);
    if (json_is_string(e)) { /* another strategy computes it: consume */
        if (!bn->topic && set_str(&bn->topic, json_string_value(e)) < 0)
            return -1;
        bn->compute_here = bn->computers && *bn->computers;
        return bus_list_add_(&bn->consumers, strategy);
    }
    bn->compute_here = 1;
    if (bus_list_add_(&bn->computers, strategy) < 0)
        return -1;
    return !own || set_str(&bn->topic, own) == 0 ? 0 : -1;
}

int bus_shareable_(int kind)
{
    return kind == GRAPH_INDICATOR || kind == GRAPH_CUSTOM;
}

/* Loop thread: one value of a remote node. */
static void on_remote(void *arg, const struct bus_msg *m)
{
    struct remote_sub *rs = arg;
    struct host_bus *b = rs->b;
    if (rs->idx == GRAPH_NONE)
        return; /* no longer declared here (a hot reload): acknowledged, not fed */
    struct graph_node *n = graph_node(b->h->g, rs->idx);
    struct bus_node *bn = &b->nodes[rs->idx];
    if (bn->role != ROLE_REMOTE && bn->role != ROLE_TAKEOVER)
        return; /* computed here now (its own outputs come back through the queue) */
    if (strcmp(m->node_id, n->id) != 0) {
        b->refused++;
        LOG_WARN("bus", "queue '%s': a message of node '%s' is not node '%s'; dropped", bn->topic,
                 m->node_id, n->id);
        return;
    }
    if (m->seq <= bn->seq || m->ts <= bn->skip_ts) { /* skip_ts: it computed them here */
        if (m->seq > bn->seq)
            bn->seq = m->seq;
        b->duplicates++;
        return;
    }
    if (bn->seq && m->seq > bn->seq + 1) {
        b->gaps++;
        LOG_WARN("bus", "node '%s': sequence jumps from %llu to %llu (values missing)", n->label,
                 (unsigned long long)bn->seq, (unsigned long long)m->seq);
    }
    bn->seq = m->seq;
    bn->fed_ts = m->ts;
    struct qmtl_value v = m->value;
    if (v.type == QMTL_T_JSON) {
        if (m->json_len + 1 > b->scratch_cap) {
            char *p = realloc(b->scratch, m->json_len + 1);
            if (!p) {
                b->refused++;
                return;
            }
            b->scratch = p;
            b->scratch_cap = m->json_len + 1;
        }
        memcpy(b->scratch, m->value.as.json, m->json_len);
        b->scratch[m->json_len] = '\0';
        v.as.json = b->scratch;
    }
    b->fed++;
    sched_feed(b->h->s, rs->idx, m->ts, &v);
    bus_remote_fed_(b, rs->idx, m);
}

/* "c" + 16 hex of BLAKE3(host instance | world | consuming strategies | NodeID): stable
 * across restarts of this host instance, distinct between instances (host_bus_set_name;
 * without it, the machine's host name alone). */
static void durable_name(const struct host_bus *b, const struct bus_node *bn, const char *id,
                         char out[18])
{
    char host[128] = "", key[1024], hex[65];
    if (!b->instance[0])
        gethostname(host, sizeof(host) - 1);
    snprintf(key, sizeof(key), "%s|%s|%s|%s", b->instance[0] ? b->instance : host, b->world,
             bn->consumers ? bn->consumers : "", id);
    nodeid_blake3_hex(key, strlen(key), hex);
    snprintf(out, 18, "c%.16s", hex);
}

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
static void lease_done(void *arg, struct bus_lease_job *jobs, size_t n_jobs)
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
                flush_hold(b, j->idx);
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
static void lease_tick(evutil_socket_t fd, short what, void *arg)
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

void bus_unconsume_(struct host_bus *b, struct bus_node *bn)
{
    struct remote_sub *rs = bn->sub;
    if (!rs)
        return;
    rs->idx = GRAPH_NONE;
    bn->sub = NULL;
    if (!b->conn)
        return;
    bus_conn_cancel(b->conn, rs);
    if (bn->topic && bus_push_(b, BUS_LEASE_FORGET, GRAPH_NONE, 0, bn->topic, rs->durable) < 0)
        LOG_WARN("bus", "node %s: durable consumer '%s' of '%s' not deleted (out of memory)",
                 bn->id, rs->durable, bn->topic);
    else
        LOG_INFO("bus", "node %s: not consumed any more; durable consumer '%s' of '%s' deleted",
                 bn->id, rs->durable, bn->topic);
}

int bus_consume_node_(struct host_bus *b, uint32_t i, char *err, size_t errlen)
{
    struct bus_node *bn = &b->nodes[i];
    struct graph_node *n = graph_node(b->h->g, i);
    if (bn->sub) { /* still subscribed (a takeover keeps its consumer): it is fed again */
        bn->kind = n->kind;
        n->kind = GRAPH_REMOTE;
        runtime_refresh(sched_runtime(b->h->s), i);
        bn->role = ROLE_REMOTE;
        return 0;
    }
    struct remote_sub **grown = realloc(b->subs, (b->n_subs + 1) * sizeof(*grown));
    if (grown)
        b->subs = grown;
    struct remote_sub *rs = grown ? calloc(1, sizeof(*rs)) : NULL;
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *durable = rs->durable;
    durable_name(b, bn, n->id, durable);
    rs->b = b;
    rs->idx = i;
    int kind = n->kind;
    bn->kind = kind;
    n->kind = GRAPH_REMOTE; /* before any value can arrive */
    runtime_refresh(sched_runtime(b->h->s), i);
    bn->role = ROLE_REMOTE;
    if (bus_conn_consume(b->conn, bn->topic, durable, on_remote, rs, err, errlen) < 0) {
        n->kind = kind;
        runtime_refresh(sched_runtime(b->h->s), i);
        bn->role = ROLE_LOCAL;
        free(rs);
        return -1;
    }
    bn->sub = rs;
    b->subs[b->n_subs++] = rs;
    bus_log_start_(b, i);
    LOG_INFO("bus", "node '%s' (%s) is computed by another host: consumed from '%s'", n->label,
             n->id, bn->topic);
    return 0;
}

int host_bus_start(struct host_bus *b, struct event_base *base, char *err, size_t errlen)
{
    if (grow(b) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char name[64];
    snprintf(name, sizeof(name), "qmtl-host-%ld", (long)getpid());
    b->conn = bus_conn_new(base, b->url, name, 2000, err, errlen);
    if (!b->conn)
        return -1;
    if (bus_conn_lease_open(b->conn, LEASE_TTL_MS, err, errlen) < 0) {
        host_bus_stop(b);
        return -1;
    }
    char host[128] = "";
    gethostname(host, sizeof(host) - 1);
    snprintf(b->holder, sizeof(b->holder), "%s:%ld", host, (long)getpid());
    /* the claims go to the lease thread: nothing waits on the key-value store here */
    b->lease = bus_lease_new(base, b->conn, b->holder, lease_done, b, err, errlen);
    if (!b->lease) {
        host_bus_stop(b);
        return -1;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        bn->resume_ts = INT64_MIN;
        bn->fed_ts = INT64_MIN;
        bn->skip_ts = INT64_MIN;
        bn->out_ts = INT64_MIN;
        bn->role = ROLE_LOCAL;
        if (bn->compute_here && bn->topic && bus_shareable_(graph_node(b->h->g, i)->kind) &&
            bus_claim_node_(b, i, err, errlen) < 0) {
            host_bus_stop(b);
            return -1;
        }
    }
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        struct graph_node *n = graph_node(b->h->g, i);
        if (bn->compute_here || !bn->topic || !bus_shareable_(n->kind))
            continue;
        if (bus_consume_node_(b, i, err, errlen) < 0) {
            host_bus_stop(b);
            return -1;
        }
    }
    if (bus_tagq_start(b->tq, b->conn, b->world, err, errlen) < 0) {
        host_bus_stop(b);
        return -1;
    }
    struct timeval tv = {0, LEASE_TICK_MS * 1000};
    b->tick = event_new(base, -1, EV_PERSIST, lease_tick, b);
    if (!b->tick || event_add(b->tick, &tv) < 0) {
        snprintf(err, errlen, "bus: cannot start the lease timer");
        host_bus_stop(b);
        return -1;
    }
    return 0;
}

void host_bus_stats(const struct host_bus *b, struct host_bus_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < b->n; i++) {
        int role = b->nodes[i].role;
        out->published_nodes += role == ROLE_PUBLISHED;
        out->claiming_nodes += role == ROLE_CLAIMING;
        out->remote_nodes += role == ROLE_REMOTE || role == ROLE_TAKEOVER || role == ROLE_SWITCH;
        out->standby_nodes += b->nodes[i].role == ROLE_STANDBY;
    }
    struct bus_conn_stats cs = {0};
    if (b->conn)
        bus_conn_stats(b->conn, &cs);
    out->published = cs.published;
    out->publish_errors = cs.publish_errors;
    out->fed = b->fed;
    out->duplicates = b->duplicates;
    out->gaps = b->gaps;
    out->refused = b->refused + cs.refused;
    out->takeovers = b->takeovers;
    out->unrecomputed = b->unrecomputed;
}

/* Stopping with node i still claiming (a run that ended before the lease's answer): the
 * lease is asked here, on the stopping thread, so what it held is published or dropped. */
static void claim_now(struct host_bus *b, uint32_t i)
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
        flush_hold(b, i);
    } else if (rc == 0) {
        standby(b, i);
    } else {
        LOG_WARN("bus", "node '%s': lease not asked (%s); its outputs are not published", n->label,
                 err);
    }
}

void host_bus_stop(struct host_bus *b)
{
    if (!b || !b->conn)
        return;
    if (b->tick)
        event_free(b->tick);
    b->tick = NULL;
    bus_lease_free(b->lease); /* the request in flight ends first; its answer is dropped */
    b->lease = NULL;
    for (uint32_t i = 0; i < b->n; i++)
        if (b->nodes[i].role == ROLE_CLAIMING)
            claim_now(b, i);
    struct host_bus_stats st;
    host_bus_stats(b, &st);
    /* leases given up at once: a host that declared the node takes over without waiting */
    for (size_t i = 0; i < b->n; i++) /* a claim's answer never handed over may have taken it */
        if (b->nodes[i].role == ROLE_PUBLISHED || b->nodes[i].role == ROLE_TAKEOVER ||
            b->nodes[i].role == ROLE_CLAIMING)
            bus_conn_lease_release(b->conn, b->nodes[i].topic, b->holder);
    bus_tagq_stop(b->tq);
    bus_conn_free(b->conn);
    b->conn = NULL;
    /* the nodes compute again if the bus is not started again */
    for (size_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        if (bn->role == ROLE_REMOTE || bn->role == ROLE_TAKEOVER || bn->role == ROLE_SWITCH) {
            graph_node(b->h->g, (uint32_t)i)->kind = bn->kind;
            runtime_refresh(sched_runtime(b->h->s), (uint32_t)i);
        }
        bn->role = ROLE_LOCAL;
        bus_log_stop_(b, bn);
        bn->asking = 0;
        bus_hold_free(bn->hold);
        bn->hold = NULL;
    }
    b->n_takeover = 0;
    b->n_switch = 0;
    for (size_t i = 0; i < b->n_subs; i++)
        free(b->subs[i]);
    for (size_t i = 0; i < b->n; i++)
        b->nodes[i].sub = NULL;
    free(b->subs);
    b->subs = NULL;
    b->n_subs = 0;
    LOG_INFO("bus",
             "%zu node(s) published (%llu values, %llu not acknowledged), %zu remote (%llu values "
             "fed, %llu duplicates dropped, %llu gaps, %llu refused), %zu standby, %llu "
             "takeover(s) (%llu bucket(s) not recomputed)",
             st.published_nodes, (unsigned long long)st.published,
             (unsigned long long)st.publish_errors, st.remote_nodes, (unsigned long long)st.fed,
             (unsigned long long)st.duplicates, (unsigned long long)st.gaps,
             (unsigned long long)st.refused, st.standby_nodes, (unsigned long long)st.takeovers,
             (unsigned long long)st.unrecomputed);
}

int host_bus_queue_update(struct host_bus *b, const json_t *data, char *err, size_t errlen)
{
    return bus_tagq_update(b->tq, data, err, errlen);
}

const char *host_bus_role(const struct host_bus *b, uint32_t idx)
{
    if (b && idx < graph_count(b->h->g) && bus_tagq_joined(b->tq, graph_node(b->h->g, idx)->id))
        return "remote";
    if (!b || idx >= b->n)
        return "local";
    switch (b->nodes[idx].role) {
    case ROLE_PUBLISHED:
        return "published";
    case ROLE_STANDBY:
        return "standby";
    case ROLE_CLAIMING:
        return "claiming";
    case ROLE_REMOTE:
    case ROLE_TAKEOVER:
    case ROLE_SWITCH:
        return "remote";
    default:
        return "local";
    }
}

void host_bus_free(struct host_bus *b)
{
    if (!b)
        return;
    host_bus_stop(b);
    if (b->h->on_output == on_output && b->h->output_arg == b) {
        b->h->on_output = b->prev_out;
        b->h->output_arg = b->prev_arg;
    }
    for (size_t i = 0; i < b->n; i++) {
        free(b->nodes[i].topic);
        free(b->nodes[i].consumers);
        free(b->nodes[i].computers);
        bus_hold_free(b->nodes[i].hold);
    }
    free(b->nodes);
    bus_tagq_free(b->tq);
    free(b->scratch);
    free(b->url);
    free(b);
}
