/* dm_gc: streams of queues unused for the retention period deleted (see dm_gc.h). */
#include "dagmanager/dm_gc.h"

#include "bus_nats.h"
#include "dagmanager/dm_store.h"
#include "log.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dm_gc {
    struct dm_store *store;
    struct bus_conn *bus;
    int64_t after_s;
    int interval_s;
    struct event *timer;
    struct dm_gc_stats stats;
};

/* A tag query's durable consumer ("t" + 16 hex, host/online/bus_tagq.c): it reads what
 * exists, it keeps nothing in use. */
static int tag_query_consumer(const char *name)
{
    if (!name || name[0] != 't' || strlen(name) != 17)
        return 0;
    for (const char *p = name + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* The reason a queue's stream is still in use ("" when none); 0, or -1 when NATS did not
 * answer (err). 'report' is the stream's report. */
static int in_use(struct dm_gc *g, const struct dm_queue_use *u, const json_t *report, int64_t now,
                  char *why, size_t whylen, char *err, size_t errlen)
{
    int64_t last_ts = json_integer_value(json_object_get(report, "last_ts"));
    why[0] = '\0';
    if (last_ts && now - last_ts < g->after_s) {
        snprintf(why, whylen, "a message %lld s ago", (long long)(now - last_ts));
        return 0;
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "consumers"), i, c)
    {
        if (json_is_true(json_object_get(c, "active")) &&
            !tag_query_consumer(json_string_value(json_object_get(c, "name")))) {
            snprintf(why, whylen, "consumer '%s' subscribed",
                     json_string_value(json_object_get(c, "name")));
            return 0;
        }
    }
    char holder[256];
    int rc = bus_conn_lease_holder(g->bus, u->q.topic, holder, sizeof(holder), err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 1)
        snprintf(why, whylen, "published by %s (lease held)", holder);
    return 0;
}

/* An unused queue without a stream leaves the tag queries (their hosts are told by the
 * gateway, which polls GET /queue_updates). 0, or -1 on a store failure. */
static int drop(struct dm_gc *g, const char *topic)
{
    int rc = dm_store_drop_queue(g->store, topic);
    if (rc < 0) {
        LOG_WARN("dm-gc", "queue '%s': cannot drop it from tag queries: %s", topic,
                 dm_store_last_error(g->store));
        return -1;
    }
    if (rc == 1)
        LOG_INFO("dm-gc", "queue '%s' dropped from tag queries", topic);
    return 0;
}

/* One queue: its stream deleted when unused. 1 deleted, 0 kept (or none), -1 error. */
static int collect(struct dm_gc *g, const struct dm_queue_use *u, int64_t now)
{
    int64_t last = u->last_submitted > u->q.created_at ? u->last_submitted : u->q.created_at;
    if (u->tag_query || now - last < g->after_s)
        return 0;
    json_t *report = NULL;
    char err[300], why[300];
    int rc = bus_conn_queue_report(g->bus, u->q.topic, &report, err, sizeof(err));
    if (rc == 1) /* no stream (already collected, or never created) */
        return drop(g, u->q.topic);
    if (rc == 0)
        rc = in_use(g, u, report, now, why, sizeof(why), err, sizeof(err));
    if (rc == 0 && why[0]) {
        LOG_DEBUG("dm-gc", "queue '%s' kept: %s", u->q.topic, why);
        json_decref(report);
        return 0;
    }
    if (rc == 0 && (rc = bus_conn_delete_stream(g->bus, u->q.topic, err, sizeof(err))) == 0) {
        char strats[200] = "";
        size_t len = 0;
        for (size_t i = 0; i < u->n_strategies && len < sizeof(strats); i++)
            len += (size_t)snprintf(strats + len, sizeof(strats) - len, "%s%s", i ? ", " : "",
                                    u->strategies[i]);
        int64_t last_ts = json_integer_value(json_object_get(report, "last_ts"));
        char last_msg[64] = "none";
        if (last_ts)
            snprintf(last_msg, sizeof(last_msg), "%lld s ago", (long long)(now - last_ts));
        LOG_INFO("dm-gc",
                 "stream '%s' of queue '%s' deleted: unused for %lld s (strategies: %s, last "
                 "submitted %lld s ago; last message: %s; no consumer subscribed; no lease; "
                 "%lld message(s) dropped)",
                 json_string_value(json_object_get(report, "stream")), u->q.topic,
                 (long long)g->after_s, *strats ? strats : "none", (long long)(now - last),
                 last_msg, (long long)json_integer_value(json_object_get(report, "messages")));
        json_decref(report);
        return drop(g, u->q.topic) < 0 ? -1 : 1;
    }
    json_decref(report);
    if (rc == 1) /* deleted meanwhile */
        return drop(g, u->q.topic);
    LOG_WARN("dm-gc", "queue '%s': %s (tried again at the next pass)", u->q.topic, err);
    return -1;
}

long dm_gc_run(struct dm_gc *g, int64_t now, char *err, size_t errlen)
{
    struct dm_queue_use *u = NULL;
    size_t n = 0;
    g->stats.runs++;
    if (dm_store_queue_uses(g->store, NULL, NULL, &u, &n) < 0) {
        g->stats.errors++;
        snprintf(err, errlen, "store: %s", dm_store_last_error(g->store));
        return -1;
    }
    long deleted = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = collect(g, &u[i], now);
        if (rc > 0)
            deleted++;
        else if (rc < 0)
            g->stats.errors++;
    }
    dm_queue_uses_free(u, n);
    g->stats.deleted += (uint64_t)deleted;
    return deleted;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct dm_gc *g = arg;
    char err[300];
    if (dm_gc_run(g, (int64_t)time(NULL), err, sizeof(err)) < 0)
        LOG_WARN("dm-gc", "pass failed: %s", err);
}

struct dm_gc *dm_gc_new(struct event_base *base, struct dm_store *store, struct bus_conn *bus,
                        int64_t after_s, int interval_s)
{
    struct dm_gc *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->store = store;
    g->bus = bus;
    g->after_s = after_s;
    g->interval_s = interval_s;
    if (interval_s > 0) {
        struct timeval tv = {interval_s, 0};
        if (!(g->timer = event_new(base, -1, EV_PERSIST, on_timer, g)) ||
            event_add(g->timer, &tv) < 0) {
            dm_gc_free(g);
            return NULL;
        }
    }
    return g;
}

void dm_gc_stats(const struct dm_gc *g, struct dm_gc_stats *out)
{
    *out = g->stats;
}

void dm_gc_free(struct dm_gc *g)
{
    if (!g)
        return;
    if (g->timer)
        event_free(g->timer);
    free(g);
}
