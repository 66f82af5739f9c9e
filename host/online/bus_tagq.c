/* bus_tagq: another host's queues joining this host's tag queries (see bus_tagq.h). */
#include "host/online/bus_tagq.h"

#include "bus_nats.h"
#include "host/dag/dag_swap.h"
#include "host/dag/graph.h"
#include "host/dag/scheduler.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAGQ_MAX_TAGS 64
#define TAGQ_MAX_TAG_LEN 256
#define TAGQ_MAX_PENDING 100000

/* A joined queue: a GRAPH_REMOTE node fed from a durable consumer. */
struct tq_input {
    struct bus_tagq *t;
    char id[NODEID_LEN + 1];  /* the NodeID its messages carry */
    char gid[NODEID_LEN + 1]; /* its node's id in the DAG: id, or for another queue of the
                               * same NodeID "blake3:" + BLAKE3("tagq|" id "|" topic) */
    char topic[256];
    uint64_t seq; /* last fed */
    int consumed;  /* a consumer of the current connection feeds it */
    char **tags;   /* the queue's node: tags (malloc'd) and interval, for removals */
    uint32_t n_tags;
    int64_t interval;
    int64_t gen;      /* newest generation of a list that held it (-1: none given) */
    int gone;         /* left the DAG: the DAG manager dropped the queue */
    int64_t gone_gen; /* ... as of this generation (-1: not given) */
    int leaving;      /* marked by the update being applied */
};

struct bus_tagq {
    struct host *h;
    struct bus_conn *conn; /* borrowed while started */
    char world[128];
    char domain[64]; /* the submission answer's execution_domain ("" = not given) */
    struct bus_tagq_queue *pending; /* remembered before the start */
    size_t n_pending, cap_pending;
    struct tq_input **in;
    size_t n_in, cap_in;
    char *scratch; /* NUL-terminated copy of a remote JSON value */
    size_t scratch_cap;
    uint64_t fed, duplicates, gaps, refused, left;
};

/* ------------------------------------------------------------------ parsing */

static int printable(const char *s, int spaces)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || (!spaces && *s == ' '))
            return 0;
    return 1;
}

void bus_tagq_queue_release(struct bus_tagq_queue *q)
{
    for (uint32_t i = 0; q->tags && i < q->n_tags; i++)
        free(q->tags[i]);
    free(q->tags);
    q->tags = NULL;
    q->n_tags = 0;
}

int bus_tagq_parse_queue(const json_t *e, const json_t *nodes, struct bus_tagq_queue *q,
                         char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    char subject[320];
    const char *topic = json_string_value(json_object_get(e, "queue"));
    const json_t *global = json_object_get(e, "global");
    const json_t *info = topic ? json_object_get(nodes, topic) : NULL;
    if (!json_is_object(info))
        info = e;
    const char *id = json_string_value(json_object_get(info, "node_id"));
    const json_t *tags = json_object_get(info, "tags");
    const json_t *iv = json_object_get(info, "interval");
    if (!json_is_object(e)) {
        snprintf(err, errlen, "expected an object {queue, global}");
        return -1;
    }
    if (!topic || strlen(topic) >= sizeof(q->topic) ||
        bus_subject(topic, subject, sizeof(subject)) < 0) {
        snprintf(err, errlen, "field 'queue': expected a topic of [A-Za-z0-9._-]");
        return -1;
    }
    if (global && !json_is_boolean(global)) {
        snprintf(err, errlen, "queue '%s': field 'global': expected true or false", topic);
        return -1;
    }
    if (json_is_true(global))
        return 0;
    if (!id || !*id || strlen(id) > NODEID_LEN || !printable(id, 0)) {
        snprintf(err, errlen,
                 "queue '%s': field 'node_id': expected the NodeID of the queue's node", topic);
        return -1;
    }
    if (!json_is_array(tags) || !json_array_size(tags) ||
        json_array_size(tags) > TAGQ_MAX_TAGS) {
        snprintf(err, errlen, "queue '%s': field 'tags': expected 1 to %d tags", topic,
                 TAGQ_MAX_TAGS);
        return -1;
    }
    if (!json_is_integer(iv) || json_integer_value(iv) < 0 ||
        json_integer_value(iv) > 10LL * 366 * 86400) {
        snprintf(err, errlen, "queue '%s': field 'interval': expected seconds (an integer >= 0)",
                 topic);
        return -1;
    }
    snprintf(q->topic, sizeof(q->topic), "%s", topic);
    snprintf(q->node_id, sizeof(q->node_id), "%s", id);
    q->interval = json_integer_value(iv);
    if (!(q->tags = calloc(json_array_size(tags), sizeof(*q->tags)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t) {
        const char *s = json_string_value(t);
        if (!s || !*s || strlen(s) > TAGQ_MAX_TAG_LEN || !printable(s, 1)) {
            snprintf(err, errlen, "queue '%s': field 'tags[%zu]': expected a tag (text, 1 to %d "
                     "bytes)", topic, i, TAGQ_MAX_TAG_LEN);
            bus_tagq_queue_release(q);
            return -1;
        }
        if (!(q->tags[q->n_tags++] = strdup(s))) {
            snprintf(err, errlen, "out of memory");
            bus_tagq_queue_release(q);
            return -1;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ life */

struct bus_tagq *bus_tagq_new(struct host *h)
{
    struct bus_tagq *t = calloc(1, sizeof(*t));
    if (t)
        t->h = h;
    return t;
}

static void drop_pending(struct bus_tagq *t)
{
    for (size_t i = 0; i < t->n_pending; i++)
        bus_tagq_queue_release(&t->pending[i]);
    t->n_pending = 0;
}

void bus_tagq_free(struct bus_tagq *t)
{
    if (!t)
        return;
    bus_tagq_stop(t);
    drop_pending(t);
    free(t->pending);
    for (size_t i = 0; i < t->n_in; i++) {
        for (uint32_t k = 0; k < t->in[i]->n_tags; k++)
            free(t->in[i]->tags[k]);
        free(t->in[i]->tags);
        free(t->in[i]);
    }
    free(t->in);
    free(t->scratch);
    free(t);
}

/* The input whose DAG node is 'gid'. */
static struct tq_input *input_of(const struct bus_tagq *t, const char *gid)
{
    for (size_t i = 0; t && i < t->n_in; i++)
        if (strcmp(t->in[i]->gid, gid) == 0)
            return t->in[i];
    return NULL;
}

static struct tq_input *input_of_topic(const struct bus_tagq *t, const char *topic)
{
    for (size_t i = 0; i < t->n_in; i++)
        if (strcmp(t->in[i]->topic, topic) == 0)
            return t->in[i];
    return NULL;
}

int bus_tagq_joined(const struct bus_tagq *t, const char *id)
{
    return input_of(t, id) != NULL;
}

void bus_tagq_stats(const struct bus_tagq *t, struct bus_tagq_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < t->n_in; i++)
        out->joined += !t->in[i]->gone;
    out->left = t->left;
    out->fed = t->fed;
    out->duplicates = t->duplicates;
    out->gaps = t->gaps;
    out->refused = t->refused;
}

/* Remember q (moved: the caller's copy is emptied). -1 out of memory or too many. */
static int remember(struct bus_tagq *t, struct bus_tagq_queue *q)
{
    if (t->n_pending >= TAGQ_MAX_PENDING)
        return -1;
    if (t->n_pending == t->cap_pending) {
        size_t cap = t->cap_pending ? 2 * t->cap_pending : 8;
        struct bus_tagq_queue *p = realloc(t->pending, cap * sizeof(*p));
        if (!p)
            return -1;
        t->pending = p;
        t->cap_pending = cap;
    }
    t->pending[t->n_pending++] = *q;
    memset(q, 0, sizeof(*q));
    return 0;
}

/* Parse the queue entries of 'list' (their nodes in 'nodes') into t->pending; bad entries
 * are logged. */
static int remember_list(struct bus_tagq *t, const json_t *list, const json_t *nodes,
                         int64_t gen, const char *what)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        struct bus_tagq_queue q;
        char err[300];
        int rc = bus_tagq_parse_queue(e, nodes, &q, err, sizeof(err));
        if (rc < 0)
            LOG_WARN("bus", "%s: queues[%zu]: %s; ignored", what, i, err);
        if (rc <= 0)
            continue;
        q.gen = gen;
        if (remember(t, &q) < 0) {
            bus_tagq_queue_release(&q);
            return -1;
        }
    }
    return 0;
}

static int join_pending(struct bus_tagq *t, char *err, size_t errlen);

int bus_tagq_plan(struct bus_tagq *t, uint32_t strat, const json_t *ack, char *err,
                  size_t errlen)
{
    const json_t *qm = json_object_get(ack, "queue_map");
    const json_t *gen = json_object_get(ack, "queue_generation");
    const char *dom = json_string_value(json_object_get(ack, "execution_domain"));
    if (dom && strlen(dom) < sizeof(t->domain))
        snprintf(t->domain, sizeof(t->domain), "%s", dom);
    for (uint32_t i = 0; i < graph_count(t->h->g); i++) {
        const struct graph_node *x = graph_node(t->h->g, i);
        const json_t *list = json_object_get(qm, x->id);
        if (x->kind != GRAPH_TAG_QUERY || !graph_owned_by(x, strat) || !json_is_array(list))
            continue;
        char what[200];
        snprintf(what, sizeof(what), "tag query '%.120s'", x->label);
        if (remember_list(t, list, json_object_get(ack, "queue_nodes"),
                          json_is_integer(gen) ? json_integer_value(gen) : -1, what) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    /* started: a resubmission after a DAG change (hot reload) joins at once */
    return t->conn && join_pending(t, err, errlen) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ joining */

/* Does tag query q, declared by a strategy that runs, match a node with these tags and
 * interval (the rules of host_resolve_tag_queries)? */
static int query_matches(const struct host *h, const struct graph_node *q,
                         const struct bus_tagq_queue *e)
{
    if (q->kind != GRAPH_TAG_QUERY || q->interval != e->interval)
        return 0;
    int runs = 0;
    for (uint32_t o = 0; o < q->n_owners && !runs; o++)
        runs = q->owners[o] < h->n_st && !h->st[q->owners[o]]->stopped;
    if (!runs)
        return 0;
    uint32_t hits = 0;
    for (uint32_t i = 0; i < q->n_query_tags; i++)
        for (uint32_t j = 0; j < e->n_tags; j++)
            if (strcmp(q->query_tags[i], e->tags[j]) == 0) {
                hits++;
                break;
            }
    return q->match_mode == QMTL_MATCH_ALL ? hits == q->n_query_tags : hits > 0;
}

/* What one DAG change adds: the queues joining, the owners of each. */
struct join {
    struct bus_tagq *t;
    const struct bus_tagq_queue **q;
    char (*gid)[NODEID_LEN + 1]; /* per queue: its node's id in the DAG */
    uint32_t **owners; /* per queue: the strategies of the queries it matches */
    uint32_t *n_owners;
    size_t n;
};

static int add_owner(uint32_t *v, uint32_t *n, uint32_t o)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i] == o)
            return 0;
    v[(*n)++] = o;
    return 1;
}

/* host_dag_add_fn: one GRAPH_REMOTE node per joining queue. */
static int add_nodes(void *arg, struct graph *g, char *err, size_t errlen)
{
    struct join *j = arg;
    size_t n_st = j->t->h->n_st;
    uint32_t *identity = malloc((n_st ? n_st : 1) * sizeof(*identity));
    if (!identity) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n_st; i++)
        identity[i] = (uint32_t)i;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < j->n; k++) {
        const struct bus_tagq_queue *q = j->q[k];
        struct graph_node tmpl;
        memset(&tmpl, 0, sizeof(tmpl));
        tmpl.kind = GRAPH_REMOTE;
        snprintf(tmpl.id, sizeof(tmpl.id), "%s", j->gid[k]);
        tmpl.node_type = "RemoteQueue";
        tmpl.label = (char *)q->topic;
        tmpl.code_hash = "";
        tmpl.tags = q->tags;
        tmpl.n_tags = q->n_tags;
        tmpl.interval = q->interval;
        tmpl.period = 1;
        tmpl.owners = j->owners[k];
        tmpl.n_owners = j->n_owners[k];
        uint32_t idx;
        rc = graph_copy(g, &tmpl, NULL, 0, identity, &idx, err, errlen);
    }
    free(identity);
    return rc;
}

/* "t" + 16 hex of BLAKE3("tagq" | hostname | world | owning strategies | NodeID): stable
 * across restarts of this host, distinct from bus.c's consumer names. */
static void durable_name(const struct bus_tagq *t, const char *id, char out[18])
{
    char host[128] = "", key[2048], hex[65];
    gethostname(host, sizeof(host) - 1);
    int len = snprintf(key, sizeof(key), "tagq|%s|%s|", host, t->world);
    const struct graph_node *n = graph_find(t->h->g, id);
    for (uint32_t i = 0; n && i < n->n_owners && len > 0 && (size_t)len < sizeof(key); i++)
        len += snprintf(key + len, sizeof(key) - (size_t)len, "%s,", t->h->st[n->owners[i]]->name);
    if (len > 0 && (size_t)len < sizeof(key))
        snprintf(key + len, sizeof(key) - (size_t)len, "|%s", id);
    nodeid_blake3_hex(key, strlen(key), hex);
    snprintf(out, 18, "t%.16s", hex);
}

static void on_value(void *arg, const struct bus_msg *m);

static int consume(struct bus_tagq *t, struct tq_input *in, char *err, size_t errlen)
{
    char durable[18];
    durable_name(t, in->gid, durable);
    if (bus_conn_consume(t->conn, in->topic, durable, on_value, in, err, errlen) < 0)
        return -1;
    in->consumed = 1;
    return 0;
}

/* A consumer for every joined queue without one (joined before the start, or whose
 * consumer could not be created last time). 0, or -1 with err. */
static int consume_joined(struct bus_tagq *t, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; t->conn && i < t->n_in; i++)
        if (!t->in[i]->consumed && !t->in[i]->gone && consume(t, t->in[i], err, errlen) < 0)
            rc = -1;
    return rc;
}

/* The id in the DAG of pending queue q (its input so far: 'known', or NULL) into gid: 1,
 * or 0 when it does not join (in the DAG already, or its NodeID is a node of this host).
 * The same NodeID in another queue (another compute context) joins as a node of its own,
 * as the reference reads each queue as its own upstream. */
static int gid_for(const struct bus_tagq *t, const struct join *j, const struct bus_tagq_queue *q,
                   const struct tq_input *known, char *gid)
{
    if (known) {
        snprintf(gid, NODEID_LEN + 1, "%s", known->gid);
        return graph_find(t->h->g, known->gid) == NULL;
    }
    const struct graph_node *local = graph_find(t->h->g, q->node_id);
    if (local && !input_of(t, q->node_id))
        return 0; /* a node this host computes or consumes: the query reads it */
    int taken = local != NULL || input_of(t, q->node_id) != NULL;
    for (size_t k = 0; k < j->n && !taken; k++)
        taken = strcmp(j->gid[k], q->node_id) == 0;
    if (!taken) {
        snprintf(gid, NODEID_LEN + 1, "%s", q->node_id);
        return 1;
    }
    char key[600], hex[65];
    snprintf(key, sizeof(key), "tagq|%s|%s", q->node_id, q->topic);
    nodeid_blake3_hex(key, strlen(key), hex);
    snprintf(gid, NODEID_LEN + 1, "blake3:%s", hex);
    return 1;
}

/* Join the pending queues that are new here and match a running query: one DAG change,
 * then a consumer each (when started). The pending list is emptied. Returns the number
 * joined, or -1 with err. */
static int join_pending(struct bus_tagq *t, char *err, size_t errlen)
{
    struct host *h = t->h;
    size_t n = t->n_pending;
    struct join j = {.t = t};
    j.q = calloc(n ? n : 1, sizeof(*j.q));
    j.gid = calloc(n ? n : 1, sizeof(*j.gid));
    j.owners = calloc(n ? n : 1, sizeof(*j.owners));
    j.n_owners = calloc(n ? n : 1, sizeof(*j.n_owners));
    int rc = j.q && j.gid && j.owners && j.n_owners ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct bus_tagq_queue *q = &t->pending[i];
        struct tq_input *known = input_of_topic(t, q->topic);
        if (known && known->gone && q->gen >= 0 && known->gone_gen >= 0 &&
            q->gen <= known->gone_gen)
            continue; /* a list older than the queue's removal */
        if (known && !known->gone && q->gen > known->gen)
            known->gen = q->gen;
        int dup = 0;
        for (size_t k = 0; k < j.n && !dup; k++)
            dup = strcmp(j.q[k]->topic, q->topic) == 0;
        if (dup || !gid_for(t, &j, q, known, j.gid[j.n]))
            continue;
        uint32_t *own = malloc((h->n_st ? h->n_st : 1) * sizeof(*own)), n_own = 0;
        if (!own) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        for (uint32_t x = 0; x < graph_count(h->g); x++) {
            const struct graph_node *g = graph_node(h->g, x);
            for (uint32_t o = 0; query_matches(h, g, q) && o < g->n_owners; o++)
                add_owner(own, &n_own, g->owners[o]);
        }
        if (!n_own) {
            free(own);
            continue;
        }
        j.q[j.n] = q;
        j.owners[j.n] = own;
        j.n_owners[j.n++] = n_own;
    }
    struct host_swap_result res;
    if (rc == 0 && j.n && host_dag_extend(h, add_nodes, &j, &res, err, errlen) < 0)
        rc = -1;
    for (size_t k = 0; rc == 0 && k < j.n; k++) {
        struct tq_input *old = input_of_topic(t, j.q[k]->topic);
        if (old) { /* joined before, its node dropped by a DAG change: its consumer goes on */
            LOG_INFO("bus", "tag query input joined again: queue '%s' (%s)", old->topic, old->id);
            old->gone = 0;
            old->gen = j.q[k]->gen;
            continue;
        }
        if (t->n_in == t->cap_in) {
            size_t cap = t->cap_in ? 2 * t->cap_in : 8;
            struct tq_input **p = realloc(t->in, cap * sizeof(*p));
            if (!p) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            t->in = p;
            t->cap_in = cap;
        }
        struct tq_input *in = calloc(1, sizeof(*in));
        if (!in) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        in->t = t;
        snprintf(in->id, sizeof(in->id), "%s", j.q[k]->node_id);
        snprintf(in->gid, sizeof(in->gid), "%s", j.gid[k]);
        snprintf(in->topic, sizeof(in->topic), "%s", j.q[k]->topic);
        in->interval = j.q[k]->interval;
        in->gen = j.q[k]->gen;
        in->gone_gen = -1;
        t->in[t->n_in++] = in;
        if ((in->tags = calloc(j.q[k]->n_tags ? j.q[k]->n_tags : 1, sizeof(*in->tags))))
            for (uint32_t x = 0; x < j.q[k]->n_tags; x++)
                if ((in->tags[in->n_tags] = strdup(j.q[k]->tags[x])))
                    in->n_tags++;
        LOG_INFO("bus", "tag query input joined: queue '%s' (%s), computed by another host, "
                 "read by %u strategy(ies)", in->topic, in->id, j.n_owners[k]);
    }
    if (rc == 0 && consume_joined(t, err, errlen) < 0)
        rc = -1;
    int joined = (int)j.n;
    for (size_t k = 0; j.owners && k < j.n; k++)
        free(j.owners[k]);
    free(j.q);
    free(j.gid);
    free(j.owners);
    free(j.n_owners);
    drop_pending(t);
    return rc < 0 ? -1 : joined;
}

int bus_tagq_start(struct bus_tagq *t, struct bus_conn *conn, const char *world, char *err,
                   size_t errlen)
{
    snprintf(t->world, sizeof(t->world), "%s", world ? world : "");
    t->conn = conn;
    return join_pending(t, err, errlen) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ leaving */

static int lists_topic(const json_t *queues, const char *topic)
{
    size_t i;
    const json_t *e;
    json_array_foreach(queues, i, e) {
        const char *q = json_string_value(json_object_get(e, "queue"));
        if (q && !strcmp(q, topic))
            return 1;
    }
    return 0;
}

/* Does the update's query (tags, interval, match_mode) match a node with these tags and
 * interval, by the DAG manager's rules (interval 0: any)? */
static int update_matches(const json_t *data, char *const *tags, uint32_t n_tags,
                          int64_t interval)
{
    const json_t *qt = json_object_get(data, "tags");
    const json_t *iv = json_object_get(data, "interval");
    const char *mode = json_string_value(json_object_get(data, "match_mode"));
    if (!json_is_array(qt) || !json_array_size(qt) || !json_is_integer(iv))
        return 0;
    if (json_integer_value(iv) > 0 && json_integer_value(iv) != interval)
        return 0;
    size_t i, hits = 0;
    const json_t *e;
    json_array_foreach(qt, i, e) {
        const char *tag = json_string_value(e);
        for (uint32_t k = 0; tag && k < n_tags; k++)
            if (!strcmp(tag, tags[k])) {
                hits++;
                break;
            }
    }
    return mode && !strcmp(mode, "all") ? hits == json_array_size(qt) : hits > 0;
}

/* host_dag_drop_fn: the remote node of a leaving input. */
static int drop_leaving(void *arg, const struct graph_node *n)
{
    struct tq_input *in = n->kind == GRAPH_REMOTE ? input_of(arg, n->id) : NULL;
    return in && in->leaving;
}

/* The joined queues (and the remembered ones) the update's query matches but its list,
 * not older than what listed them, leaves out: they leave, in one DAG change. */
static int leave_dropped(struct bus_tagq *t, const json_t *data, int64_t g, char *err,
                         size_t errlen)
{
    const json_t *queues = json_object_get(data, "queues");
    size_t kept = 0;
    for (size_t i = 0; i < t->n_pending; i++) { /* not joined yet */
        struct bus_tagq_queue *q = &t->pending[i];
        if (!lists_topic(queues, q->topic) && (g < 0 || g > q->gen) &&
            update_matches(data, q->tags, q->n_tags, q->interval)) {
            bus_tagq_queue_release(q);
            continue;
        }
        t->pending[kept++] = *q;
    }
    t->n_pending = kept;
    size_t n = 0;
    for (size_t i = 0; i < t->n_in; i++) {
        struct tq_input *in = t->in[i];
        in->leaving = !in->gone && !lists_topic(queues, in->topic) && (g < 0 || g > in->gen) &&
                      update_matches(data, in->tags, in->n_tags, in->interval);
        n += (size_t)in->leaving;
    }
    if (!n)
        return 0;
    struct host_swap_result res;
    if (host_dag_shrink(t->h, drop_leaving, t, &res, err, errlen) < 0) {
        for (size_t i = 0; i < t->n_in; i++)
            t->in[i]->leaving = 0;
        return -1;
    }
    for (size_t i = 0; i < t->n_in; i++) {
        struct tq_input *in = t->in[i];
        if (!in->leaving)
            continue;
        if (t->conn)
            bus_conn_cancel(t->conn, in);
        in->leaving = in->consumed = 0;
        in->gone = 1;
        in->gone_gen = g;
        in->seq = 0; /* a queue used again gets a new stream, numbered from 1 */
        t->left++;
        LOG_INFO("bus", "tag query input left: queue '%s' (%s) was dropped by the DAG manager "
                        "(generation %lld)",
                 in->topic, in->id, (long long)g);
    }
    return 0;
}

int bus_tagq_update(struct bus_tagq *t, const json_t *data, char *err, size_t errlen)
{
    const json_t *queues = json_object_get(data, "queues");
    const char *w = json_string_value(json_object_get(data, "world_id"));
    if (!json_is_object(data) || !json_is_array(queues)) {
        snprintf(err, errlen, "queue_update: field 'queues': expected an array");
        return -1;
    }
    const char *d = json_string_value(json_object_get(data, "execution_domain"));
    const json_t *gen = json_object_get(data, "generation");
    int64_t g = json_is_integer(gen) && json_integer_value(gen) >= 0 ? json_integer_value(gen) : -1;
    if ((w && *w && *t->world && strcmp(w, t->world) != 0) ||
        (d && *d && *t->domain && strcmp(d, t->domain) != 0))
        return 0;
    if (leave_dropped(t, data, g, err, errlen) < 0)
        return -1;
    if (remember_list(t, queues, json_object_get(data, "queue_nodes"), g, "queue_update") < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return t->conn ? join_pending(t, err, errlen) : 0;
}

void bus_tagq_stop(struct bus_tagq *t)
{
    if (!t || !t->conn)
        return;
    t->conn = NULL;
    for (size_t i = 0; i < t->n_in; i++)
        t->in[i]->consumed = 0;
    struct bus_tagq_stats st;
    bus_tagq_stats(t, &st);
    if (t->n_in)
        LOG_INFO("bus",
                 "tag queries: %zu queue(s) of other hosts joined, %llu left (%llu values fed, "
                 "%llu duplicates dropped, %llu gaps, %llu refused)",
                 st.joined, (unsigned long long)t->left, (unsigned long long)t->fed,
                 (unsigned long long)t->duplicates, (unsigned long long)t->gaps,
                 (unsigned long long)t->refused);
}

/* ------------------------------------------------------------------ values */

/* Loop thread: one value of a joined queue. */
static void on_value(void *arg, const struct bus_msg *m)
{
    struct tq_input *in = arg;
    struct bus_tagq *t = in->t;
    struct graph_node *n = graph_find(t->h->g, in->gid);
    if (!t->conn || !n || n->kind != GRAPH_REMOTE)
        return; /* the node left the DAG */
    if (strcmp(m->node_id, in->id) != 0) {
        t->refused++;
        LOG_WARN("bus", "queue '%s': a message of node '%s' is not node '%s'; dropped", in->topic,
                 m->node_id, in->id);
        return;
    }
    if (m->seq <= in->seq) {
        t->duplicates++;
        return;
    }
    if (in->seq && m->seq > in->seq + 1) {
        t->gaps++;
        LOG_WARN("bus", "queue '%s': sequence jumps from %llu to %llu (values missing)",
                 in->topic, (unsigned long long)in->seq, (unsigned long long)m->seq);
    }
    in->seq = m->seq;
    struct qmtl_value v = m->value;
    if (v.type == QMTL_T_JSON) {
        if (m->json_len + 1 > t->scratch_cap) {
            char *p = realloc(t->scratch, m->json_len + 1);
            if (!p) {
                t->refused++;
                return;
            }
            t->scratch = p;
            t->scratch_cap = m->json_len + 1;
        }
        memcpy(t->scratch, m->value.as.json, m->json_len);
        t->scratch[m->json_len] = '\0';
        v.as.json = t->scratch;
    }
    t->fed++;
    sched_feed(t->h->s, n->idx, m->ts, &v);
}
