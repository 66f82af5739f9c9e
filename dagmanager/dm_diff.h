/*
 * dm_diff: the DAG manager's diff. Given a strategy's DAG and its compute context, decide
 * per node whether its queue already exists (reused) or must be created (new), persist
 * the node, the queue and the strategy registration, and answer with the queue map.
 *
 * Request (a JSON object; see docs/dagmanager.md):
 *   strategy_id       string, required
 *   dag_json          {"nodes": [...], "version"?, "meta"?} as a JSON string or an object
 *   world_id, execution_domain, as_of, partition   strings, optional ("" when absent)
 *   version           optional strategy version (after the DAG's own)
 *   dry_run           optional bool: compute the reply, store nothing
 * Reply (0):
 *   {queue_map: {node_id: [{queue, global}]}, tag_queues: {node_id: [{queue, global}]},
 *    sentinel_id, crc32, version, new_nodes, reused_nodes, dry_run}
 *
 * Rules:
 *  - Nodes are taken in Kahn order (ready list seeded in DAG order, FIFO); crc32 is
 *    nodeid_crc32_ids() over that order. A cycle or a duplicate node_id is a request error.
 *  - Reuse is keyed on (node_id, ComputeKey of the request's world, domain, as_of,
 *    partition). A binding from another context is never reused: that context gets its own
 *    queue. global = the queue exists and was created for another strategy; resubmitting a
 *    DAG gives the same reply (idempotent).
 *  - Topic: "{world}.{domain}.{asset}_{node_type}_{code_hash[:n]}_{version}" (the prefix
 *    only when both sanitized segments are non-empty); n starts at 6 and grows by 2 while
 *    the name is taken, then "-1", "-2", ... are appended (up to 10000).
 *  - tag_queues: for every tag-query node (node_type TagQueryNode or tag_query), the queues
 *    its query matches after this diff (dm_store_queues_by_tag with the node's tags, or
 *    else params.query_tags; match_mode from the node, else params, else any; the node's
 *    interval; the request's world and domain), global false: what the node consumes.
 */
#ifndef QMTL_DAGMANAGER_DM_DIFF_H
#define QMTL_DAGMANAGER_DM_DIFF_H

#include "dagmanager/dm_store.h"
#include "dagmanager/dm_topic.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DM_MAX_NODES 20000
#define DM_MAX_TAGS 64
#define DM_MAX_ID_LEN 256

/* A node of a parsed DAG; every string is borrowed from the DAG's JSON. */
struct dm_dag_node {
    const char *node_id;
    const char *node_type;
    const char *code_hash;
    const char *schema_compat_id; /* "" when absent */
    int64_t interval, period;
    const char **tags; /* n_tags; malloc'd array of borrowed strings */
    size_t n_tags;
    const char **inputs; /* upstream node ids as given (may name nodes outside the DAG) */
    size_t n_inputs;
    const json_t *json; /* the node's object in the DAG (borrowed, like the strings) */
};

struct dm_dag {
    json_t *root; /* owned reference */
    struct dm_dag_node *nodes;
    size_t n;
    char version[64]; /* normalized; from a VersionSentinel node or the DAG's fields */
};

/*
 * Parse a DAG object ({"nodes": [...]}); VersionSentinel nodes are dropped after their
 * version is read. 0, or -1 with a message naming the node index and field
 * ("nodes[3]: field 'interval': expected an integer").
 */
int dm_dag_parse(json_t *dag, struct dm_dag *out, char *err, size_t errlen);
void dm_dag_release(struct dm_dag *d);

/* Kahn order into order[0..d->n) (indexes into d->nodes). -1 with err on a cycle. */
int dm_topo_order(const struct dm_dag *d, size_t *order, char *err, size_t errlen);

struct dm_diff_stats {
    size_t new_nodes;
    size_t reused_nodes;
};

#define DM_DIFF_EBADREQ (-1) /* client error: err holds the message (HTTP 400) */
#define DM_DIFF_ESTORE (-2)  /* store failure (HTTP 500) */

/* Run a diff. On 0, *reply is a new reference owned by the caller. stats may be NULL. */
int dm_diff(struct dm_store *s, const json_t *request, json_t **reply, struct dm_diff_stats *stats,
            char *err, size_t errlen);

#endif
