/*
 * dm_gc: garbage collection of the JetStream streams of queues nobody uses any more
 * (docs/dagmanager.md, "Garbage collection of streams").
 *
 * Every 'interval_s' a timer on the DAG manager's loop looks at every queue of the
 * registry (tag-query queues have no stream) and deletes its stream when the queue has
 * been unused for 'after_s' seconds (dagmanager.bus_retention_s), that is when all of
 * these hold at that moment:
 *   - no strategy whose latest registration holds the queue was submitted (POST /diff)
 *     within after_s, and the queue itself is older than that;
 *   - the stream stored no message within after_s;
 *   - no process is subscribed to one of its consumers (a consuming host runs); a tag
 *     query's consumer (named "t" + 16 hex digits) does not count: a tag query reads the
 *     queues that exist, it does not keep one;
 *   - nobody holds the queue's lease (a publishing host runs: it renews it).
 * Each deletion is logged with the reasons; the queue stays in the registry but is dropped
 * from tag queries (dm_store_drop_queue: the gateway polls the change and tells the hosts
 * whose tag queries read it); a later diff using it creates the stream again and revives
 * it. A stream that cannot be looked at or deleted is logged
 * and counted, and tried again at the next pass.
 *
 * Single-threaded (the loop's thread); every NATS call blocks for at most the
 * connection's timeout.
 */
#ifndef QMTL_DAGMANAGER_DM_GC_H
#define QMTL_DAGMANAGER_DM_GC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bus_conn;
struct dm_store;
struct dm_gc;

/* A collector of the streams of 'store's queues on 'bus' (both borrowed; they outlive
 * it). interval_s > 0: a pass every interval_s on 'base' (the first one interval_s after
 * the start); 0: passes only through dm_gc_run(). NULL when out of memory. */
struct dm_gc *dm_gc_new(struct event_base *base, struct dm_store *store, struct bus_conn *bus,
                        int64_t after_s, int interval_s);

/* One pass as of 'now' (epoch seconds): the number of streams deleted, or -1 with err
 * when the store cannot be read (NATS errors are logged and counted, not fatal). */
long dm_gc_run(struct dm_gc *g, int64_t now, char *err, size_t errlen);

struct dm_gc_stats {
    uint64_t runs, deleted, errors;
};
void dm_gc_stats(const struct dm_gc *g, struct dm_gc_stats *out);

/* Stop the timer and free. NULL is a no-op. */
void dm_gc_free(struct dm_gc *g);

#endif
