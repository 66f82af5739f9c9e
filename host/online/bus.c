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

void bus_flush_hold_(struct host_bus *b, uint32_t i)
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
    b->lease = bus_lease_new(base, b->conn, b->holder, bus_lease_done_, b, err, errlen);
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
    b->tick = event_new(base, -1, EV_PERSIST, bus_lease_tick_, b);
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
            bus_claim_now_(b, i);
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
