/* dm_tagq: tag queries remembered by the DAG manager and the updates a diff causes (see
 * dm_tagq.h). */
#include "dagmanager/dm_tagq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dm_tagq_queues(struct dm_store *s, const char *const *tags, size_t n_tags, int match_all,
                   int64_t interval, const char *world, const char *domain, json_t **out)
{
    struct dm_queue *q = NULL;
    size_t nq = 0;
    *out = NULL;
    if (n_tags && dm_store_queues_by_tag(s, tags, n_tags, match_all, interval, world, domain, &q,
                                         &nq) < 0)
        return -1;
    json_t *arr = json_array();
    int rc = arr ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < nq; i++) {
        struct dm_node n;
        int found = dm_store_get_node(s, q[i].node_id, &n);
        if (found < 0) {
            rc = -1;
            break;
        }
        json_t *t = json_array();
        for (size_t k = 0; found && t && k < n.n_tags; k++)
            json_array_append_new(t, json_string(n.tags[k]));
        if (found)
            dm_node_release(&n);
        json_t *e = json_pack("{s:s, s:b, s:s, s:o, s:I}", "queue", q[i].topic, "global", 0,
                              "node_id", q[i].node_id, "tags", t ? t : json_array(),
                              "interval", (json_int_t)q[i].interval);
        if (!e || json_array_append_new(arr, e) < 0)
            rc = -1;
    }
    dm_queues_free(q, nq);
    if (rc < 0) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

static int lists_topic(const json_t *queues, const struct dm_tagq_new *fresh, size_t n)
{
    size_t i;
    const json_t *e;
    json_array_foreach(queues, i, e) {
        const char *t = json_string_value(json_object_get(e, "queue"));
        for (size_t k = 0; t && k < n; k++)
            if (strcmp(t, fresh[k].topic) == 0)
                return 1;
    }
    return 0;
}

/* Could query q match new node f (tags and interval; dm_store_queues_by_tag decides)? */
static int may_match(const struct dm_tag_query *q, const struct dm_tagq_new *f)
{
    if (q->interval > 0 && q->interval != f->interval)
        return 0;
    size_t hits = 0;
    for (size_t i = 0; i < q->n_tags; i++)
        for (size_t j = 0; j < f->n_tags; j++)
            if (strcmp(q->tags[i], f->tags[j]) == 0) {
                hits++;
                break;
            }
    return q->match_all ? hits == q->n_tags : hits > 0;
}

/* The queue_update data of query q (its queues now), appended to 'out' unless an equal
 * query (tags, interval, mode, domain) was answered already ('seen'). When fresh is given,
 * only if q's list holds one of its topics (dropped: whatever it holds). 0 or -1. */
static int append_update(struct dm_store *s, const struct dm_tag_query *q, int64_t gen,
                         const struct dm_tagq_new *fresh, size_t n_new, int dropped,
                         json_t *seen, json_t *out)
{
    json_t *tags = json_array();
    for (size_t k = 0; tags && k < q->n_tags; k++)
        json_array_append_new(tags, json_string(q->tags[k]));
    char *tj = tags ? json_dumps(tags, JSON_COMPACT) : NULL;
    char key[4096];
    snprintf(key, sizeof(key), "%lld|%d|%s|%s", (long long)q->interval, q->match_all,
             q->domain, tj ? tj : "");
    free(tj);
    if (!tags || json_object_get(seen, key)) {
        json_decref(tags);
        return tags ? 0 : -1;
    }
    json_object_set_new(seen, key, json_true());
    json_t *queues = NULL;
    if (dm_tagq_queues(s, (const char *const *)q->tags, q->n_tags, q->match_all, q->interval,
                       q->world, q->domain, &queues) < 0) {
        json_decref(tags);
        return -1;
    }
    if (fresh && !dropped && !lists_topic(queues, fresh, n_new)) {
        json_decref(tags);
        json_decref(queues);
        return 0;
    }
    json_array_append_new(out, json_pack("{s:o, s:I, s:s, s:s, s:s, s:o, s:I, s:i}", "tags",
                                         tags, "interval", (json_int_t)q->interval,
                                         "match_mode", q->match_all ? "all" : "any", "world_id",
                                         q->world, "execution_domain", q->domain, "queues",
                                         queues, "generation", (json_int_t)gen, "version", 1));
    return 0;
}

int dm_tagq_updates(struct dm_store *s, const char *world, const char *domain,
                    const struct dm_tagq_new *fresh, size_t n_new, int dropped, json_t *out)
{
    if (!n_new)
        return 0;
    struct dm_tag_query *tq = NULL;
    size_t n = 0;
    int64_t gen = 0;
    if (dm_store_queue_generation(s, &gen) < 0 ||
        dm_store_tag_queries(s, world, domain, &tq, &n) < 0)
        return -1;
    json_t *seen = json_object(); /* (tags, interval, mode, domain) already answered */
    int rc = seen ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int may = 0;
        for (size_t k = 0; k < n_new && !may; k++)
            may = may_match(&tq[i], &fresh[k]);
        if (may)
            rc = append_update(s, &tq[i], gen, fresh, n_new, dropped, seen, out);
    }
    json_decref(seen);
    dm_tag_queries_free(tq, n);
    return rc;
}

int dm_tagq_snapshot(struct dm_store *s, const char *world, json_t *out)
{
    struct dm_tag_query *tq = NULL;
    size_t n = 0;
    int64_t gen = 0;
    if (dm_store_queue_generation(s, &gen) < 0 || dm_store_tag_queries(s, world, NULL, &tq, &n) < 0)
        return -1;
    json_t *seen = json_object();
    int rc = seen ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = append_update(s, &tq[i], gen, NULL, 0, 0, seen, out);
    json_decref(seen);
    dm_tag_queries_free(tq, n);
    return rc;
}

int dm_tagq_dropped(struct dm_store *s, int64_t after, json_t *out, int64_t *last)
{
    struct dm_queue *q = NULL;
    size_t n = 0;
    if (dm_store_queue_generation(s, last) < 0 || dm_store_dropped_since(s, after, &q, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct dm_node node;
        int found = dm_store_get_node(s, q[i].node_id, &node);
        if (found <= 0) {
            rc = found < 0 ? -1 : 0;
            continue;
        }
        struct dm_tagq_new gone = {q[i].topic, (const char *const *)node.tags, node.n_tags,
                                   q[i].interval};
        rc = dm_tagq_updates(s, q[i].world, q[i].domain, &gone, 1, 1, out);
        dm_node_release(&node);
    }
    dm_queues_free(q, n);
    return rc;
}
