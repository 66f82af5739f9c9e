/* bus: publish what this host computes, consume what another host computes (see bus.h). */
#include "host/bus.h"

#include "bus_nats.h"
#include "host/graph.h"
#include "host/scheduler.h"
#include "log.h"
#include "nodeid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROLE_LOCAL = 0, ROLE_PUBLISHED, ROLE_REMOTE };

struct bus_node {
    uint8_t compute_here; /* some strategy here was told to compute it */
    uint8_t role;
    int kind;          /* the node's kind before it became remote */
    char *topic;       /* its queue (node_queues or the queue_map topic) */
    char *consumers;   /* "|"-joined names of this host's strategies that consume it */
    uint64_t seq;      /* published: last sequence sent; remote: last fed */
    int64_t resume_ts; /* published: outputs up to this bucket are already stored */
    int warned;
};

struct remote_sub {
    struct host_bus *b;
    uint32_t idx;
};

struct host_bus {
    struct host *h;
    char *url;
    char world[128];
    struct bus_conn *conn;
    struct bus_node *nodes; /* by graph index */
    size_t n;
    struct remote_sub *subs;
    size_t n_subs;
    char *scratch; /* NUL-terminated copy of a remote JSON value */
    size_t scratch_cap;
    host_output_fn prev_out;
    void *prev_arg;
    uint64_t fed, duplicates, gaps, refused;
};

static void on_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct host_bus *b = arg;
    if (b->prev_out)
        b->prev_out(b->prev_arg, n, ts, v);
    if (!b->conn || n->idx >= b->n || b->nodes[n->idx].role != ROLE_PUBLISHED)
        return;
    struct bus_node *bn = &b->nodes[n->idx];
    char err[300];
    if (ts <= bn->resume_ts) /* a restarted publisher recomputes what the stream holds */
        return;
    if (bus_conn_publish(b->conn, bn->topic, n->id, ts, bn->seq + 1, v, err, sizeof(err)) == 0)
        bn->seq++;
    else if (!bn->warned++)
        LOG_WARN("bus", "node '%s' (%s): output not published: %s", n->label, n->id, err);
}

struct host_bus *host_bus_new(struct host *h, const char *url, const char *key, char *err,
                              size_t errlen)
{
    if (bus_url_check(key, url, err, errlen) < 0)
        return NULL;
    struct host_bus *b = calloc(1, sizeof(*b));
    if (!b || !(b->url = strdup(url))) {
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

static int add_consumer(struct bus_node *bn, const char *strategy)
{
    size_t old = bn->consumers ? strlen(bn->consumers) : 0;
    char *p = realloc(bn->consumers, old + strlen(strategy) + 2);
    if (!p)
        return -1;
    snprintf(p + old, strlen(strategy) + 2, "%s%s", old ? "|" : "", strategy);
    bn->consumers = p;
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
        struct graph_node *x = graph_node(b->h->g, i);
        if (!graph_owned_by(x, strat))
            continue;
        struct bus_node *bn = &b->nodes[i];
        const json_t *e = json_object_get(qm, x->id);
        const char *own = json_string_value(json_object_get(nq, x->id));
        int ok = 0;
        if (json_is_string(e)) { /* another strategy computes it: consume */
            ok = (bn->topic ? 0 : set_str(&bn->topic, json_string_value(e))) == 0 &&
                 add_consumer(bn, name) == 0;
        } else {
            bn->compute_here = 1;
            ok = !own || set_str(&bn->topic, own) == 0;
        }
        if (!ok) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int shareable(int kind)
{
    return kind == GRAPH_INDICATOR || kind == GRAPH_CUSTOM;
}

/* Loop thread: one value of a remote node. */
static void on_remote(void *arg, const struct bus_msg *m)
{
    struct remote_sub *rs = arg;
    struct host_bus *b = rs->b;
    struct graph_node *n = graph_node(b->h->g, rs->idx);
    struct bus_node *bn = &b->nodes[rs->idx];
    if (strcmp(m->node_id, n->id) != 0) {
        b->refused++;
        LOG_WARN("bus", "queue '%s': a message of node '%s' is not node '%s'; dropped", bn->topic,
                 m->node_id, n->id);
        return;
    }
    if (m->seq <= bn->seq) {
        b->duplicates++;
        return;
    }
    if (bn->seq && m->seq > bn->seq + 1) {
        b->gaps++;
        LOG_WARN("bus", "node '%s': sequence jumps from %llu to %llu (values missing)", n->label,
                 (unsigned long long)bn->seq, (unsigned long long)m->seq);
    }
    bn->seq = m->seq;
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
}

/* "c" + 16 hex of BLAKE3(hostname | world | consuming strategies | NodeID): stable across
 * restarts of this host, distinct between hosts. */
static void durable_name(const struct host_bus *b, const struct bus_node *bn, const char *id,
                         char out[18])
{
    char host[128] = "", key[1024], hex[65];
    gethostname(host, sizeof(host) - 1);
    snprintf(key, sizeof(key), "%s|%s|%s|%s", host, b->world, bn->consumers, id);
    nodeid_blake3_hex(key, strlen(key), hex);
    snprintf(out, 18, "c%.16s", hex);
}

int host_bus_start(struct host_bus *b, struct event_base *base, char *err, size_t errlen)
{
    if (grow(b) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t remote = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        int kind = graph_node(b->h->g, i)->kind;
        if (bn->compute_here)
            bn->role = bn->topic && shareable(kind) ? ROLE_PUBLISHED : ROLE_LOCAL;
        else if (bn->topic && shareable(kind))
            remote++;
    }
    b->subs = calloc(remote ? remote : 1, sizeof(*b->subs));
    if (!b->subs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char name[64];
    snprintf(name, sizeof(name), "qmtl-host-%ld", (long)getpid());
    b->conn = bus_conn_new(base, b->url, name, 2000, err, errlen);
    if (!b->conn)
        return -1;
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        struct graph_node *n = graph_node(b->h->g, i);
        bn->resume_ts = INT64_MIN;
        if (bn->role != ROLE_PUBLISHED)
            continue;
        int64_t ts;
        uint64_t seq;
        int rc = bus_conn_last_output(b->conn, bn->topic, &ts, &seq, err, errlen);
        if (rc == 0) { /* continue the stream: no duplicate, no second numbering */
            bn->seq = seq;
            bn->resume_ts = ts;
            LOG_INFO("bus",
                     "node '%s' (%s): '%s' holds outputs up to sequence %llu (bucket %lld); "
                     "publishing continues after them",
                     n->label, n->id, bn->topic, (unsigned long long)seq, (long long)ts);
        } else if (rc < 0) {
            LOG_WARN("bus", "node '%s': %s; publishing from sequence 1", n->label, err);
        }
    }
    for (uint32_t i = 0; i < b->n; i++) {
        struct bus_node *bn = &b->nodes[i];
        struct graph_node *n = graph_node(b->h->g, i);
        if (bn->compute_here || !bn->topic || !shareable(n->kind))
            continue;
        char durable[18];
        durable_name(b, bn, n->id, durable);
        struct remote_sub *rs = &b->subs[b->n_subs];
        rs->b = b;
        rs->idx = i;
        bn->kind = n->kind;
        n->kind = GRAPH_REMOTE; /* before any value can arrive */
        bn->role = ROLE_REMOTE;
        if (bus_conn_consume(b->conn, bn->topic, durable, on_remote, rs, err, errlen) < 0) {
            host_bus_stop(b);
            return -1;
        }
        b->n_subs++;
        LOG_INFO("bus", "node '%s' (%s) is computed by another host: consumed from '%s'", n->label,
                 n->id, bn->topic);
    }
    return 0;
}

void host_bus_stats(const struct host_bus *b, struct host_bus_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < b->n; i++) {
        out->published_nodes += b->nodes[i].role == ROLE_PUBLISHED;
        out->remote_nodes += b->nodes[i].role == ROLE_REMOTE;
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
}

void host_bus_stop(struct host_bus *b)
{
    if (!b || !b->conn)
        return;
    struct host_bus_stats st;
    host_bus_stats(b, &st);
    bus_conn_free(b->conn);
    b->conn = NULL;
    /* the nodes compute again if the bus is not started again */
    for (size_t i = 0; i < b->n; i++)
        if (b->nodes[i].role == ROLE_REMOTE) {
            graph_node(b->h->g, (uint32_t)i)->kind = b->nodes[i].kind;
            b->nodes[i].role = ROLE_LOCAL;
        }
    free(b->subs);
    b->subs = NULL;
    b->n_subs = 0;
    LOG_INFO("bus",
             "%zu node(s) published (%llu values, %llu not acknowledged), %zu remote (%llu values "
             "fed, %llu duplicates dropped, %llu gaps, %llu refused)",
             st.published_nodes, (unsigned long long)st.published,
             (unsigned long long)st.publish_errors, st.remote_nodes, (unsigned long long)st.fed,
             (unsigned long long)st.duplicates, (unsigned long long)st.gaps,
             (unsigned long long)st.refused);
}

const char *host_bus_role(const struct host_bus *b, uint32_t idx)
{
    if (!b || idx >= b->n)
        return "local";
    return b->nodes[idx].role == ROLE_PUBLISHED ? "published"
           : b->nodes[idx].role == ROLE_REMOTE  ? "remote"
                                                : "local";
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
    }
    free(b->nodes);
    free(b->scratch);
    free(b->url);
    free(b);
}
