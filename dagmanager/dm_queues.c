/* dm_queues: the per-queue report of GET /queues (see dm_queues.h). */
#include "dagmanager/dm_queues.h"

#include "bus_nats.h"
#include "dagmanager/dm_store.h"

#include <stdio.h>
#include <string.h>

/* The queue's stream and publisher host, into entry 'q'. */
static void add_bus(json_t *q, struct bus_conn *bus, const struct dm_queue_use *u)
{
    json_t *pub = json_object_get(q, "publisher");
    char holder[256], err[300];
    int rc = bus_conn_lease_holder(bus, u->q.topic, holder, sizeof(holder), err, sizeof(err));
    json_object_set_new(pub, "host", rc == 1 ? json_string(holder) : json_null());
    if (rc < 0)
        json_object_set_new(pub, "error", json_string(err));
    json_t *r = NULL;
    rc = bus_conn_queue_report(bus, u->q.topic, &r, err, sizeof(err));
    json_object_set_new(q, "stream",
                        rc < 0    ? json_pack("{s:s}", "error", err)
                        : rc == 1 ? json_null()
                                  : r);
}

json_t *dm_queues_report(struct dm_store *st, struct bus_conn *bus, const char *world,
                         const char *domain, char *err, size_t errlen)
{
    struct dm_queue_use *u = NULL;
    size_t n = 0;
    if (dm_store_queue_uses(st, world, domain, &u, &n) < 0) {
        snprintf(err, errlen, "%s", dm_store_last_error(st));
        return NULL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *strats = json_array();
        for (size_t k = 0; k < u[i].n_strategies; k++)
            json_array_append_new(strats, json_string(u[i].strategies[k]));
        json_t *q = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:o, s:o, s:{s:s}}", "queue", u[i].q.topic,
            "node_id", u[i].q.node_id, "world_id", u[i].q.world, "execution_domain", u[i].q.domain,
            "interval", (json_int_t)u[i].q.interval, "created_by", u[i].q.created_by, "created_at",
            (json_int_t)u[i].q.created_at, "tag_query", u[i].tag_query, "strategies", strats,
            "last_submitted", u[i].last_submitted ? json_integer(u[i].last_submitted) : json_null(),
            "publisher", "strategy", u[i].q.created_by);
        if (q && bus && !u[i].tag_query)
            add_bus(q, bus, &u[i]);
        json_array_append_new(arr, q);
    }
    dm_queue_uses_free(u, n);
    json_t *out = arr ? json_pack("{s:o}", "queues", arr) : NULL;
    if (!out)
        snprintf(err, errlen, "out of memory");
    return out;
}
