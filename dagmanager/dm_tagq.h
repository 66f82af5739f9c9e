/*
 * dm_tagq: tag queries in the DAG manager. A diff resolves each tag-query node of its DAG
 * to the queues the query matches (tag_queues) and remembers the query (dm_store
 * tag_queries). When a later diff creates queues, every remembered query of the same world
 * and domain that now matches one of them gets an entry in the diff's queue_updates: the
 * gateway publishes each as a `queue_update` event, so a host running the query joins the
 * new queue while it runs (docs/scale-out.md, "Tag queries across hosts").
 *
 * A queue dropped from the registry's tag queries (its stream collected, dm_gc.h) makes
 * every remembered query that matched it an update too (dm_tagq_dropped); the gateway
 * polls for those. Each list carries the queue generation it is as of, so a host can
 * tell an older list from a newer one.
 *
 * A matching queue is {"queue", "global": false, "node_id", "tags", "interval"}: the
 * reference's {queue, global} plus what a host needs to consume it (the NodeID its
 * messages carry, the node's tags and interval).
 */
#ifndef QMTL_DAGMANAGER_DM_TAGQ_H
#define QMTL_DAGMANAGER_DM_TAGQ_H

#include "dagmanager/dm_store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The queues a query matches (dm_store_queues_by_tag), as a new JSON array in *out.
 * 0, or -1 on a store failure (*out NULL). */
int dm_tagq_queues(struct dm_store *s, const char *const *tags, size_t n_tags, int match_all,
                   int64_t interval, const char *world, const char *domain, json_t **out);

/* A queue a diff created: its topic and its node's tags and interval (borrowed). */
struct dm_tagq_new {
    const char *topic;
    const char *const *tags;
    size_t n_tags;
    int64_t interval;
};

/*
 * After a diff in (world, domain) created (or revived) the queues fresh[0..n_new), or with
 * 'dropped' after those queues were dropped (n_new is then 1 and the topic is no longer
 * listed): append to the array 'out' one queue_update data object per remembered query
 * of (world, domain) that could match one of them (tags, interval), once per (tags,
 * interval, match_mode, domain); after a creation only when its list now holds one of
 * the fresh topics:
 *   {"tags": [...], "interval", "match_mode": "any"|"all", "world_id", "execution_domain",
 *    "queues": [every queue the query matches now], "generation", "version": 1}
 * "generation" is the queue generation (dm_store_queue_generation) the list is as of.
 * 0, or -1 on a store failure (entries appended so far stay).
 */
int dm_tagq_updates(struct dm_store *s, const char *world, const char *domain,
                    const struct dm_tagq_new *fresh, size_t n_new, int dropped, json_t *out);

/* The current queue_update data (as above) of every remembered query of 'world' (every
 * domain), once per (tags, interval, match_mode, domain): what a stream that connects is
 * sent (GET /tag_queries). 0, or -1 on a store failure. */
int dm_tagq_snapshot(struct dm_store *s, const char *world, json_t *out);

/* The queue_update data (as above) of the queries that lost a queue dropped by a change
 * numbered above 'after' (GET /queue_updates?after=N); *last is the current generation.
 * 0, or -1 on a store failure. */
int dm_tagq_dropped(struct dm_store *s, int64_t after, json_t *out, int64_t *last);

#endif
