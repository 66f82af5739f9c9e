/*
 * dm_queues: the DAG manager's per-queue report (GET /queues, docs/dagmanager.md).
 *
 * One entry per queue of the registry, ordered by topic:
 *   {"queue", "node_id", "world_id", "execution_domain", "interval", "created_by",
 *    "created_at", "tag_query", "strategies": [ids whose latest registration holds it],
 *    "last_submitted": epoch seconds of the latest of them (null: none holds it),
 *    "publisher": {"strategy": created_by, "host": lease holder or null (with a bus)},
 *    "stream": bus_conn_queue_report()'s object | null (no stream) | {"error"} (with a bus)}
 * The stream part costs a few JetStream requests per queue (blocking, each bounded by the
 * connection's timeout); tag-query queues have no stream and are not asked about.
 */
#ifndef QMTL_DAGMANAGER_DM_QUEUES_H
#define QMTL_DAGMANAGER_DM_QUEUES_H

#include <jansson.h>
#include <stddef.h>

struct bus_conn;
struct dm_store;

/* {"queues": [...]} for world / domain ("" or NULL = any); bus may be NULL. A new
 * reference, or NULL with err (the store failed). */
json_t *dm_queues_report(struct dm_store *st, struct bus_conn *bus, const char *world,
                         const char *domain, char *err, size_t errlen);

#endif
