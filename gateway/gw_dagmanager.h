/*
 * gw_dagmanager: the gateway's asynchronous HTTP+JSON client for the DAG manager
 * (gateway.dagmanager_url). Internal to gateway/.
 *
 * Contract expected from the DAG manager (HTTP, JSON bodies):
 *   POST /diff            {strategy_id, dag_json, world_id, execution_domain, as_of,
 *                          partition, dry_run} -> 200 {queue_map: {node_id: [{queue,
 *                          global}]}, sentinel_id, crc32?, tag_queues?, queue_updates?}
 *   GET  /queues/by_tag   ?tags=a,b&interval=60&match_mode=any&world_id=w
 *                          -> 200 {queues: [{queue, global}]}
 * Any transport error, timeout (1 s) or non-200 status counts as "unavailable".
 */
#ifndef QMTL_GATEWAY_GW_DAGMANAGER_H
#define QMTL_GATEWAY_GW_DAGMANAGER_H

#include "gw_server.h"

/* Called once: ok = 1 with the parsed reply object (borrowed), or ok = 0 and NULL. */
typedef void (*gw_dm_done_fn)(void *arg, int ok, json_t *reply);

/* Start a call; 'body' (stolen, may be NULL) is sent as JSON. When no DAG manager is
 * configured the callback runs immediately with ok = 0. */
void gw_dm_call(struct gw_server *s, const char *method, const char *path_and_query, json_t *body,
                gw_dm_done_fn done, void *arg);

/* A list of the DAG manager's queue entries in the reference's shape, [{queue, global}]
 * (a new reference); what our DAG manager adds to an entry (node_id, tags, interval) goes
 * to queue_nodes[queue] when queue_nodes is not NULL. */
json_t *gw_dm_reference_queues(const json_t *list, json_t *queue_nodes);

/* Publish one `queue_update` event per entry of a diff reply's "queue_updates" (tag
 * queries that the queues this diff created now match; dagmanager/dm_tagq.h), world =
 * the entry's world_id, its queues in the reference's shape and its queue_nodes beside
 * them (gw_dm_reference_queues); entries without tags or queues arrays are skipped.
 * Returns the number published. */
size_t gw_dm_publish_queue_updates(struct gw_server *s, const json_t *diff);

/* GET /queues/by_tag route handler (registered by gw_strategies_register). */
void gw_queues_by_tag_route(struct evhttp_request *req, const char *rest, void *arg);

#endif
