/*
 * dm_diff: DAG parsing, Kahn order, topic naming and the diff itself (see dm_diff.h).
 */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_tagq.h"

#include "log.h"
#include "nodeid.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- DAG parsing */

/* interval/period: integer, integral string or real (truncated); missing/null/false -> 0. */
static int get_int(const json_t *node, const char *key, int64_t *out, char *err, size_t errlen,
                   size_t idx)
{
    const json_t *v = json_object_get(node, key);
    *out = 0;
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_real(v) && isfinite(json_real_value(v)) &&
               fabs(json_real_value(v)) < 9.2e18) {
        *out = (int64_t)json_real_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (end == s || *end || errno) {
            snprintf(err, errlen, "nodes[%zu]: field '%s': expected an integer, got \"%.40s\"", idx,
                     key, s);
            return -1;
        }
        *out = x;
    } else {
        snprintf(err, errlen, "nodes[%zu]: field '%s': expected an integer", idx, key);
        return -1;
    }
    if (*out < 0) {
        snprintf(err, errlen, "nodes[%zu]: field '%s': must not be negative", idx, key);
        return -1;
    }
    return 0;
}

/* An optional string field; "" when absent or null. */
static int get_str(const json_t *node, const char *key, const char **out, int required, char *err,
                   size_t errlen, size_t idx)
{
    const json_t *v = json_object_get(node, key);
    *out = "";
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(err, errlen, "nodes[%zu]: field '%s' is required", idx, key);
        return -1;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "nodes[%zu]: field '%s': expected a string", idx, key);
        return -1;
    }
    *out = json_string_value(v);
    if (required && !**out) {
        snprintf(err, errlen, "nodes[%zu]: field '%s' must not be empty", idx, key);
        return -1;
    }
    if (strlen(*out) > DM_MAX_ID_LEN) {
        snprintf(err, errlen, "nodes[%zu]: field '%s': longer than %d bytes", idx, key,
                 DM_MAX_ID_LEN);
        return -1;
    }
    return 0;
}

/* A list of strings (null entries skipped) into a malloc'd array of borrowed pointers. */
static int get_list(const json_t *node, const char *key, const char ***out, size_t *n, size_t max,
                    char *err, size_t errlen, size_t idx)
{
    const json_t *v = json_object_get(node, key), *e;
    size_t i;
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > max) {
        snprintf(err, errlen, "nodes[%zu]: field '%s': expected an array of at most %zu strings",
                 idx, key, max);
        return -1;
    }
    *out = calloc(json_array_size(v) + 1, sizeof(**out));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_array_foreach(v, i, e)
    {
        if (json_is_null(e))
            continue;
        if (!json_is_string(e) || strlen(json_string_value(e)) > DM_MAX_ID_LEN) {
            snprintf(err, errlen,
                     "nodes[%zu]: field '%s'[%zu]: expected a string of at most %d bytes", idx, key,
                     i, DM_MAX_ID_LEN);
            return -1;
        }
        if (*json_string_value(e))
            (*out)[(*n)++] = json_string_value(e);
    }
    return 0;
}

static const char *first_str(const json_t *obj, const char *const *keys)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(obj, *keys);
        if (json_is_string(v) && *json_string_value(v))
            return json_string_value(v);
    }
    return NULL;
}

static int parse_node(const json_t *jn, struct dm_dag_node *n, size_t idx, char *err, size_t errlen)
{
    if (!json_is_object(jn)) {
        snprintf(err, errlen, "nodes[%zu]: expected an object", idx);
        return -1;
    }
    if (get_str(jn, "node_id", &n->node_id, 1, err, errlen, idx) < 0 ||
        get_str(jn, "node_type", &n->node_type, 1, err, errlen, idx) < 0 ||
        get_str(jn, "code_hash", &n->code_hash, 1, err, errlen, idx) < 0 ||
        get_str(jn, "schema_compat_id", &n->schema_compat_id, 0, err, errlen, idx) < 0)
        return -1;
    if (!*n->schema_compat_id &&
        get_str(jn, "schema_id", &n->schema_compat_id, 0, err, errlen, idx) < 0)
        return -1;
    if (get_int(jn, "interval", &n->interval, err, errlen, idx) < 0 ||
        get_int(jn, "period", &n->period, err, errlen, idx) < 0 ||
        get_list(jn, "tags", &n->tags, &n->n_tags, DM_MAX_TAGS, err, errlen, idx) < 0)
        return -1;
    n->json = jn;
    const json_t *in = json_object_get(jn, "inputs");
    const char *key = json_array_size(in) > 0 ? "inputs" : "dependencies";
    return get_list(jn, key, &n->inputs, &n->n_inputs, DM_MAX_NODES, err, errlen, idx);
}

static void node_release(struct dm_dag_node *n)
{
    free(n->tags);
    free(n->inputs);
}

void dm_dag_release(struct dm_dag *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->nodes && i < d->n; i++)
        node_release(&d->nodes[i]);
    free(d->nodes);
    json_decref(d->root);
    memset(d, 0, sizeof(*d));
}

int dm_dag_parse(json_t *dag, struct dm_dag *out, char *err, size_t errlen)
{
    static const char *const sentinel_keys[] = {"version", "strategy_version", "build_version",
                                                NULL};
    static const char *const dag_keys[] = {"strategy_version", "version", NULL};
    static const char *const meta_keys[] = {"version", "strategy_version", "build_version", NULL};
    memset(out, 0, sizeof(*out));
    if (!json_is_object(dag)) {
        snprintf(err, errlen, "dag: expected an object with a 'nodes' array");
        return -1;
    }
    const json_t *nodes = json_object_get(dag, "nodes"), *jn;
    if (!json_is_array(nodes)) {
        snprintf(err, errlen, "dag: field 'nodes': expected an array");
        return -1;
    }
    if (json_array_size(nodes) > DM_MAX_NODES) {
        snprintf(err, errlen, "dag: %zu nodes, more than the limit of %d", json_array_size(nodes),
                 DM_MAX_NODES);
        return -1;
    }
    out->root = json_incref(dag);
    out->nodes = calloc(json_array_size(nodes) + 1, sizeof(*out->nodes));
    if (!out->nodes) {
        snprintf(err, errlen, "out of memory");
        dm_dag_release(out);
        return -1;
    }
    const char *version = NULL;
    size_t i;
    json_array_foreach(nodes, i, jn)
    {
        const char *type = json_string_value(json_object_get(jn, "node_type"));
        if (type && strcmp(type, "VersionSentinel") == 0) {
            /* unlike the reference, a sentinel without a version does not lend its
             * node_id as the version (it would end up in every topic name) */
            const char *v = first_str(jn, sentinel_keys);
            if (v)
                version = v;
            continue;
        }
        struct dm_dag_node *n = &out->nodes[out->n++];
        if (parse_node(jn, n, i, err, errlen) < 0) {
            dm_dag_release(out);
            return -1;
        }
    }
    if (!version)
        version = first_str(dag, dag_keys);
    if (!version)
        version = first_str(json_object_get(dag, "meta"), meta_keys);
    dm_normalize_version(version, out->version, sizeof(out->version));
    return 0;
}

/* ---------------------------------------------------------------- Kahn order */

/* Open-addressing index of node ids -> position (SIZE_MAX = empty slot). */
struct id_index {
    size_t *slot;
    size_t mask;
    const struct dm_dag *d;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int index_init(struct id_index *ix, const struct dm_dag *d)
{
    size_t cap = 16;
    while (cap < 2 * d->n)
        cap <<= 1;
    ix->slot = malloc(cap * sizeof(*ix->slot));
    if (!ix->slot)
        return -1;
    memset(ix->slot, 0xff, cap * sizeof(*ix->slot));
    ix->mask = cap - 1;
    ix->d = d;
    return 0;
}

/* Position of id, or SIZE_MAX. With insert = position to add: returns the existing
 * position when id is already present (a duplicate), else inserts and returns SIZE_MAX. */
static size_t index_find(struct id_index *ix, const char *id, size_t insert)
{
    for (size_t h = (size_t)hash_str(id) & ix->mask;; h = (h + 1) & ix->mask) {
        size_t p = ix->slot[h];
        if (p == SIZE_MAX) {
            if (insert != SIZE_MAX)
                ix->slot[h] = insert;
            return SIZE_MAX;
        }
        if (strcmp(ix->d->nodes[p].node_id, id) == 0)
            return p;
    }
}

int dm_topo_order(const struct dm_dag *d, size_t *order, char *err, size_t errlen)
{
    struct id_index ix;
    size_t n = d->n, n_edges = 0, head = 0, tail = 0;
    if (n == 0)
        return 0;
    if (index_init(&ix, d) < 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (index_find(&ix, d->nodes[i].node_id, i) != SIZE_MAX) {
            snprintf(err, errlen, "dag: duplicate node_id '%s' (nodes[%zu])", d->nodes[i].node_id,
                     i);
            free(ix.slot);
            return -1;
        }
        n_edges += d->nodes[i].n_inputs;
    }
    /* indeg counts every input edge inside the DAG; children in CSR, each list in DAG order */
    size_t *indeg = calloc(n, sizeof(*indeg)), *start = calloc(n + 1, sizeof(*start));
    size_t *child = malloc((n_edges + 1) * sizeof(*child)), *fill = calloc(n, sizeof(*fill));
    if (!indeg || !start || !child || !fill) {
        free(indeg), free(start), free(child), free(fill), free(ix.slot);
        goto oom;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d->nodes[i].n_inputs; k++) {
            size_t p = index_find(&ix, d->nodes[i].inputs[k], SIZE_MAX);
            if (p != SIZE_MAX) {
                indeg[i]++;
                start[p + 1]++;
            }
        }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d->nodes[i].n_inputs; k++) {
            size_t p = index_find(&ix, d->nodes[i].inputs[k], SIZE_MAX);
            if (p != SIZE_MAX)
                child[start[p] + fill[p]++] = i;
        }
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        size_t u = order[head++];
        for (size_t e = start[u]; e < start[u + 1]; e++)
            if (--indeg[child[e]] == 0)
                order[tail++] = child[e];
    }
    int rc = 0;
    if (tail < n) {
        size_t bad = 0;
        while (indeg[bad] == 0)
            bad++;
        snprintf(err, errlen, "dag: cycle through node '%s' (nodes[%zu])", d->nodes[bad].node_id,
                 bad);
        rc = -1;
    }
    free(indeg), free(start), free(child), free(fill), free(ix.slot);
    return rc;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---------------------------------------------------------------- the diff */

static int store_exists(const char *topic, void *arg)
{
    return dm_store_topic_exists(arg, topic);
}

/* Optional string field of the request: "" when absent or null. */
static int req_str(const json_t *rq, const char *key, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(rq, key);
    *out = "";
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) > DM_MAX_ID_LEN) {
        snprintf(err, errlen, "field '%s': expected a string of at most %d bytes", key,
                 DM_MAX_ID_LEN);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

struct diff_ctx {
    const char *strategy, *world, *domain, *as_of, *partition, *version;
};

static int load_dag(const json_t *rq, struct dm_dag *dag, char *err, size_t errlen)
{
    const json_t *v = json_object_get(rq, "dag_json");
    json_t *obj;
    if (json_is_string(v)) {
        json_error_t je;
        obj = json_loadb(json_string_value(v), json_string_length(v), 0, &je);
        if (!obj) {
            snprintf(err, errlen, "field 'dag_json': invalid JSON at line %d column %d: %s",
                     je.line, je.column, je.text);
            return -1;
        }
    } else if (json_is_object(v)) {
        obj = json_incref((json_t *)v);
    } else {
        snprintf(err, errlen, "field 'dag_json' is required (a JSON string or object)");
        return -1;
    }
    int rc = dm_dag_parse(obj, dag, err, errlen);
    json_decref(obj);
    return rc;
}

/* Bind every node (in topological order) and register the strategy; inside a transaction. */
static int bind_nodes(struct dm_store *s, const struct diff_ctx *c, const struct dm_dag *dag,
                      const size_t *order, json_t *qmap, const char **ids, char **topics,
                      struct dm_tagq_new *fresh, size_t *n_fresh, struct dm_diff_stats *st)
{
    for (size_t k = 0; k < dag->n; k++) {
        const struct dm_dag_node *n = &dag->nodes[order[k]];
        struct dm_node rec = {
            (char *)n->node_id,   (char *)n->node_type,        n->interval,      n->period,
            (char *)n->code_hash, (char *)n->schema_compat_id, (char **)n->tags, n->n_tags};
        if (dm_store_put_node(s, &rec) < 0)
            return -1;
        char ck[NODEID_LEN + 1];
        nodeid_compute_key(n->node_id, c->world, c->domain, c->as_of, c->partition, ck);
        struct dm_queue q;
        int found = dm_store_find_binding(s, n->node_id, ck, &q);
        if (found < 0)
            return -1;
        int global = 0;
        if (found) {
            global = strcmp(q.created_by, c->strategy) != 0;
            topics[k] = q.topic;
            q.topic = NULL;
            dm_queue_release(&q);
            st->reused_nodes++;
            int revived = dm_store_revive_queue(s, topics[k]); /* used again after a drop */
            if (revived < 0)
                return -1;
            if (revived)
                fresh[(*n_fresh)++] = (struct dm_tagq_new){topics[k], n->tags, n->n_tags,
                                                           n->interval};
        } else {
            topics[k] = dm_topic_pick(c->world, c->domain, n->n_tags ? n->tags[0] : NULL,
                                      n->node_type, n->code_hash, c->version, store_exists, s);
            if (!topics[k])
                return -1;
            struct dm_queue nq = {topics[k],
                                  (char *)n->node_id,
                                  ck,
                                  (char *)c->world,
                                  (char *)c->domain,
                                  (char *)c->as_of,
                                  (char *)c->partition,
                                  (char *)c->version,
                                  n->interval,
                                  (char *)c->strategy,
                                  0};
            if (dm_store_add_queue(s, &nq) < 0)
                return -1;
            st->new_nodes++;
            fresh[(*n_fresh)++] = (struct dm_tagq_new){topics[k], n->tags, n->n_tags,
                                                       n->interval};
        }
        ids[k] = n->node_id;
        json_object_set_new(qmap, n->node_id,
                            json_pack("[{s:s, s:b}]", "queue", topics[k], "global", global));
    }
    char sentinel[DM_MAX_ID_LEN + 16];
    snprintf(sentinel, sizeof(sentinel), "%s-sentinel", c->strategy);
    struct dm_strategy reg = {c->strategy, sentinel,
                              c->world,    c->domain,
                              c->as_of,    c->partition,
                              c->version,  nodeid_crc32_ids(ids, dag->n),
                              ids,         (const char *const *)topics,
                              dag->n};
    return dm_store_put_strategy(s, &reg);
}

static int is_tag_query(const struct dm_dag_node *n)
{
    return !strcmp(n->node_type, "TagQueryNode") || !strcmp(n->node_type, "tag_query");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The queues a tag-query node consumes into *out (dm_tagq_queues), and the query
 * remembered for later diffs (its tags sorted, without repeats). 0, -1 for a malformed
 * query (err), -2 for a store failure. */
static int resolve_tag_query(struct dm_store *s, const struct diff_ctx *c,
                             const struct dm_dag_node *n, size_t idx, json_t **out, char *err,
                             size_t errlen)
{
    const json_t *params = json_object_get(n->json, "params");
    const char **tags = n->tags, **qt = NULL;
    size_t nt = n->n_tags;
    if (!nt && json_is_object(params)) {
        if (get_list(params, "query_tags", &qt, &nt, DM_MAX_TAGS, err, errlen, idx) < 0)
            return -1;
        tags = qt;
    }
    const char *mode = json_string_value(json_object_get(n->json, "match_mode"));
    if (!mode)
        mode = json_string_value(json_object_get(params, "match_mode"));
    if (mode && strcmp(mode, "any") && strcmp(mode, "all")) {
        free(qt);
        snprintf(err, errlen, "nodes[%zu]: field 'match_mode': expected any or all", idx);
        return -1;
    }
    int all = mode && !strcmp(mode, "all");
    const char *sorted[DM_MAX_TAGS];
    size_t ns = 0;
    for (size_t i = 0; i < nt && i < DM_MAX_TAGS; i++)
        sorted[ns++] = tags[i];
    qsort(sorted, ns, sizeof(*sorted), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < ns; i++)
        if (!u || strcmp(sorted[u - 1], sorted[i]))
            sorted[u++] = sorted[i];
    struct dm_tag_query rec = {(char *)n->node_id, (char *)c->world, (char *)c->domain,
                               n->interval,        all,              (char **)sorted,
                               u};
    int rc = u ? dm_store_put_tag_query(s, &rec) : 0;
    if (rc == 0)
        rc = dm_tagq_queues(s, sorted, u, all, n->interval, c->world, c->domain, out);
    free(qt);
    return rc < 0 ? -2 : 0;
}

/* tag_queues for every tag-query node of the DAG (inside the diff's transaction). */
static int resolve_tag_queries(struct dm_store *s, const struct diff_ctx *c,
                               const struct dm_dag *dag, json_t *tq, char *err, size_t errlen)
{
    for (size_t i = 0; i < dag->n; i++) {
        const struct dm_dag_node *n = &dag->nodes[i];
        json_t *list = NULL;
        if (!is_tag_query(n))
            continue;
        int rc = resolve_tag_query(s, c, n, i, &list, err, errlen);
        if (rc < 0)
            return rc;
        json_object_set_new(tq, n->node_id, list);
    }
    return 0;
}

int dm_diff(struct dm_store *s, const json_t *rq, json_t **reply, struct dm_diff_stats *stats,
            char *err, size_t errlen)
{
    struct diff_ctx c;
    struct dm_diff_stats st = {0, 0};
    struct dm_dag dag;
    const char *domain_in, *version_in;
    *reply = NULL;
    if (!json_is_object(rq)) {
        snprintf(err, errlen, "request body must be a JSON object");
        return DM_DIFF_EBADREQ;
    }
    if (req_str(rq, "strategy_id", &c.strategy, err, errlen) < 0 ||
        req_str(rq, "world_id", &c.world, err, errlen) < 0 ||
        req_str(rq, "execution_domain", &domain_in, err, errlen) < 0 ||
        req_str(rq, "as_of", &c.as_of, err, errlen) < 0 ||
        req_str(rq, "partition", &c.partition, err, errlen) < 0 ||
        req_str(rq, "version", &version_in, err, errlen) < 0)
        return DM_DIFF_EBADREQ;
    const json_t *dr = json_object_get(rq, "dry_run");
    if (dr && !json_is_boolean(dr) && !json_is_null(dr)) {
        snprintf(err, errlen, "field 'dry_run': expected true or false");
        return DM_DIFF_EBADREQ;
    }
    int dry_run = json_is_true(dr);
    if (!*c.strategy) {
        snprintf(err, errlen, "field 'strategy_id' is required");
        return DM_DIFF_EBADREQ;
    }
    c.domain = dm_normalize_domain(domain_in);
    if (load_dag(rq, &dag, err, errlen) < 0)
        return DM_DIFF_EBADREQ;
    /* the request's version applies only when the DAG names none */
    if (*version_in && strcmp(dag.version, "v1") == 0)
        dm_normalize_version(version_in, dag.version, sizeof(dag.version));
    c.version = dag.version;

    size_t *order = calloc(dag.n + 1, sizeof(*order));
    const char **ids = calloc(dag.n + 1, sizeof(*ids));
    char **topics = calloc(dag.n + 1, sizeof(*topics));
    struct dm_tagq_new *fresh = calloc(dag.n + 1, sizeof(*fresh)); /* created or revived */
    size_t n_fresh = 0;
    json_t *qmap = json_object();
    json_t *tq = json_object();
    json_t *updates = json_array();
    int rc = DM_DIFF_EBADREQ;
    if (!order || !ids || !topics || !fresh || !qmap || !tq || !updates) {
        snprintf(err, errlen, "out of memory");
        rc = DM_DIFF_ESTORE;
        goto out;
    }
    if (dm_topo_order(&dag, order, err, errlen) < 0)
        goto out;
    rc = DM_DIFF_ESTORE;
    int trc = 0;
    if (dm_store_begin(s) < 0 ||
        bind_nodes(s, &c, &dag, order, qmap, ids, topics, fresh, &n_fresh, &st) < 0 ||
        (trc = resolve_tag_queries(s, &c, &dag, tq, err, errlen)) < 0 ||
        (!dry_run && dm_tagq_updates(s, c.world, c.domain, fresh, n_fresh, 0, updates) < 0) ||
        (dry_run ? dm_store_rollback(s) : dm_store_commit(s)) < 0) {
        dm_store_rollback(s);
        if (trc == -1) {
            rc = DM_DIFF_EBADREQ;
            goto out;
        }
        snprintf(err, errlen, "store failure: %s", dm_store_last_error(s));
        goto out;
    }
    char sentinel[DM_MAX_ID_LEN + 16];
    snprintf(sentinel, sizeof(sentinel), "%s-sentinel", c.strategy);
    int64_t gen = 0; /* the lists above are as of this generation (dm_store.h) */
    if (dm_store_queue_generation(s, &gen) < 0)
        gen = 0;
    *reply =
        json_pack("{s:O, s:O, s:O, s:s, s:I, s:s, s:I, s:I, s:b}", "queue_map", qmap,
                  "tag_queues", tq, "queue_updates", updates, "sentinel_id", sentinel, "crc32", (json_int_t)nodeid_crc32_ids(ids, dag.n),
                  "version", c.version, "new_nodes", (json_int_t)st.new_nodes, "reused_nodes",
                  (json_int_t)st.reused_nodes, "dry_run", dry_run);
    if (*reply) {
        json_object_set_new(*reply, "queue_generation", json_integer((json_int_t)gen));
        json_object_set_new(*reply, "execution_domain", json_string(c.domain));
    }
    rc = *reply ? 0 : DM_DIFF_ESTORE;
    if (rc == 0)
        LOG_INFO("dm-diff", "strategy '%s' (%s/%s): %zu nodes, %zu new, %zu reused%s", c.strategy,
                 *c.world ? c.world : "-", c.domain, dag.n, st.new_nodes, st.reused_nodes,
                 dry_run ? " (dry run, nothing stored)" : "");
    if (stats)
        *stats = st;
out:
    for (size_t i = 0; topics && i < dag.n; i++)
        free(topics[i]);
    free(topics);
    free(fresh);
    free(ids);
    free(order);
    json_decref(qmap);
    json_decref(tq);
    json_decref(updates);
    dm_dag_release(&dag);
    return rc;
}
