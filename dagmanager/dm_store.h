/*
 * dm_store: the DAG manager's registry on SQLite (one file, WAL, synchronous=FULL).
 *
 * Tables (schema version DM_STORE_SCHEMA_VERSION, kept in PRAGMA user_version; opening an
 * older file runs the missing migrations, each in its own transaction, a newer one is
 * refused; common/sqlite_db does the opening, migrations and statement cache):
 *   nodes           node_id pk, node_type, interval, period, code_hash, schema_compat_id
 *   node_tags       (node_id, tag): the union of the tags every submission gave the node
 *   queues          topic pk, node_id, compute_key, world, domain, as_of, partition,
 *                   version, interval, created_by (strategy), created_at;
 *                   UNIQUE (node_id, compute_key): the node -> queue binding
 *   strategies      strategy_id pk, sentinel_id, world, domain, as_of, partition, version,
 *                   crc32, created_at, updated_at
 *   strategy_nodes  (strategy_id, node_id) -> topic, in the diff's topological order
 *   tag_queries     (node_id, world, domain) pk, interval, match_all, tags (JSON array):
 *                   every tag query a diff resolved, so a later diff that creates a queue
 *                   knows which queries it joins (dagmanager/dm_tagq.h)
 *   queue_changes   seq (autoincrement) pk, topic, change (created|dropped|revived), at:
 *                   the queue set's history; its last seq is the queue generation
 *   dropped_queues  topic pk, seq: queues dropped from tag queries (stream collected)
 *
 * Ownership: strings returned through out-parameters are malloc'd and owned by the
 * caller; input strings are copied. Every function returns 0 (or a count / 1 = found),
 * negative on failure with the reason in dm_store_last_error(); each failure also counts
 * in dm_store_errors(). Single-threaded: one store is used by one thread.
 */
#ifndef QMTL_DAGMANAGER_DM_STORE_H
#define QMTL_DAGMANAGER_DM_STORE_H

#include <stddef.h>
#include <stdint.h>

#define DM_STORE_SCHEMA_VERSION 4

struct dm_store;

/* A node record. Strings are borrowed on input; on output (dm_store_get_node) they are
 * malloc'd and freed with dm_node_release(). */
struct dm_node {
    char *node_id;
    char *node_type;
    int64_t interval;
    int64_t period;
    char *code_hash;
    char *schema_compat_id;
    char **tags;
    size_t n_tags;
};

/* A queue (topic) bound to a node in one compute context. Same ownership rules. */
struct dm_queue {
    char *topic;
    char *node_id;
    char *compute_key;
    char *world;
    char *domain;
    char *as_of;
    char *partition;
    char *version;
    int64_t interval;
    char *created_by; /* strategy that caused the queue to be created */
    int64_t created_at;
};

/* A strategy registration (written by dm_store_put_strategy). Borrowed strings. */
struct dm_strategy {
    const char *strategy_id;
    const char *sentinel_id;
    const char *world;
    const char *domain;
    const char *as_of;
    const char *partition;
    const char *version;
    uint32_t crc32;
    const char *const *node_ids; /* the strategy's nodes, topological order */
    const char *const *topics;   /* queue of each node */
    size_t n_nodes;
};

/* Open (creating if needed) and migrate. path may be ":memory:". NULL on failure with a
 * message in err ("cannot open store 'x': ..." / "store 'x' has schema version 9, newer
 * than this program's 2"). */
struct dm_store *dm_store_open(const char *path, char *err, size_t errlen);
void dm_store_close(struct dm_store *s); /* NULL is a no-op */

int dm_store_schema_version(struct dm_store *s); /* PRAGMA user_version, -1 on error */
const char *dm_store_last_error(const struct dm_store *s);
long dm_store_errors(const struct dm_store *s);
/* A trivial query; 0 when the database answers. */
int dm_store_ping(struct dm_store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int dm_store_begin(struct dm_store *s);
int dm_store_commit(struct dm_store *s);
int dm_store_rollback(struct dm_store *s);

/* Insert the node if new (its identity fields never change) and add its tags. */
int dm_store_put_node(struct dm_store *s, const struct dm_node *n);
/* 1 and *out filled (release with dm_node_release), 0 when unknown, <0 on error. */
int dm_store_get_node(struct dm_store *s, const char *node_id, struct dm_node *out);
void dm_node_release(struct dm_node *n);

/* The queue bound to (node_id, compute_key): 1 found (*out filled; release with
 * dm_queue_release), 0 none, <0 error. */
int dm_store_find_binding(struct dm_store *s, const char *node_id, const char *compute_key,
                          struct dm_queue *out);
/* All queues of a node (any context), oldest first; *out is a malloc'd array of *n. */
int dm_store_node_queues(struct dm_store *s, const char *node_id, struct dm_queue **out, size_t *n);
void dm_queue_release(struct dm_queue *q);
void dm_queues_free(struct dm_queue *q, size_t n);
/* 1 when a queue with this topic exists, 0 not, <0 error. */
int dm_store_topic_exists(struct dm_store *s, const char *topic);
/* Insert a queue (created_at = now when 0; a 'created' change is recorded). Fails on a
 * duplicate topic or binding. */
int dm_store_add_queue(struct dm_store *s, const struct dm_queue *q);

/*
 * The queue generation: the number of the last change of the queue set (a queue created,
 * dropped or revived), 0 before any. Every list of queues a tag query is given carries it,
 * so a reader can tell an older list from a newer one (docs/scale-out.md).
 */
int dm_store_queue_generation(struct dm_store *s, int64_t *gen);
/* Drop a queue from tag queries (its stream was collected): 1 dropped, 0 already dropped,
 * <0 error. The queue stays registered (a later diff using it revives it). */
int dm_store_drop_queue(struct dm_store *s, const char *topic);
/* 1 when dropped, 0 not, <0 error. */
int dm_store_queue_dropped(struct dm_store *s, const char *topic);
/* Undo a drop (a diff uses the queue again): 1 revived, 0 it was not dropped, <0 error. */
int dm_store_revive_queue(struct dm_store *s, const char *topic);
/* The queues dropped by a change numbered above 'after', in change order (*out malloc'd,
 * dm_queues_free). */
int dm_store_dropped_since(struct dm_store *s, int64_t after, struct dm_queue **out, size_t *n);

/* Replace the registration of st->strategy_id (its node list included). */
int dm_store_put_strategy(struct dm_store *s, const struct dm_strategy *st);
/* Strategies whose registration contains node_id (ids malloc'd, *n of them). */
int dm_store_node_strategies(struct dm_store *s, const char *node_id, char ***ids, size_t *n);
void dm_strings_free(char **v, size_t n);

/*
 * Queues whose node has (any | all) of tags, optionally filtered by interval (> 0),
 * world and domain ("" or NULL = any). Tag comparison is exact. Queues of tag-query nodes
 * (node_type TagQueryNode / tag_query: their tags are a query, not a description) and
 * dropped queues (dm_store_drop_queue) are never listed. Results ordered by topic;
 * *out malloc'd (dm_queues_free).
 */
int dm_store_queues_by_tag(struct dm_store *s, const char *const *tags, size_t n_tags,
                           int match_all, int64_t interval, const char *world, const char *domain,
                           struct dm_queue **out, size_t *n);

/* A tag query seen by a diff, in its compute context. Same ownership rules as dm_node. */
struct dm_tag_query {
    char *node_id;
    char *world;
    char *domain;
    int64_t interval;
    int match_all;
    char **tags;
    size_t n_tags;
};

/* Remember a tag query (kept as first written when (node_id, world, domain) is known). */
int dm_store_put_tag_query(struct dm_store *s, const struct dm_tag_query *q);
/* The tag queries of (world, domain) (domain "" or NULL: every domain), by node_id; *out
 * malloc'd (dm_tag_queries_free). */
int dm_store_tag_queries(struct dm_store *s, const char *world, const char *domain,
                         struct dm_tag_query **out, size_t *n);
void dm_tag_queries_free(struct dm_tag_query *q, size_t n);
/*
 * Every queue (world / domain filters: "" or NULL = any), ordered by topic, with what
 * tells whether it is in use: the strategies whose latest registration holds it and when
 * the latest of them was submitted. *out malloc'd (dm_queue_uses_free).
 */
struct dm_queue_use {
    struct dm_queue q;
    char **strategies; /* strategy ids, sorted */
    size_t n_strategies;
    int64_t last_submitted; /* updated_at of the latest of them; 0 when none holds it */
    int tag_query;          /* a tag-query node's queue (nothing is published under it) */
};
int dm_store_queue_uses(struct dm_store *s, const char *world, const char *domain,
                        struct dm_queue_use **out, size_t *n);
void dm_queue_uses_free(struct dm_queue_use *u, size_t n);

/* Row counts: table one of "nodes", "queues", "strategies". <0 on error. */
long dm_store_count(struct dm_store *s, const char *table);

#endif
