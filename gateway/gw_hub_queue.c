/*
 * gw_hub_queue: queue_update handling of the event stream (see gw_hub_internal.h and
 * docs/scale-out.md, "Tag queries across hosts").
 *
 * - A stream that wants the queue topic, of a world, gets on connect (and on resume) one
 *   queue_update per tag query the DAG manager remembers in that world, with the queues
 *   it matches now: a host that submitted before its stream started misses no update
 *   published in between. Sent to that stream only (not stored), marked "snapshot": true
 *   and numbered with the current seq_no, like the activation snapshot.
 * - The DAG manager drops a queue when it collects its stream (dagmanager/dm_gc.h); it
 *   cannot reach the gateway, so the gateway asks it every gateway.queue_poll_interval_s
 *   (GET /queue_updates?after=N, N the last generation seen) and publishes each answer
 *   entry as a queue_update event (stored, relayed, replayed by seq_no like any event).
 * Every list carries the DAG manager's queue generation: a host applies a list only if it
 * is not older than what it knows of each queue (host/online/bus_tagq.h).
 */
#include "gw_hub_internal.h"

#include "config.h"
#include "gw_dagmanager.h"
#include "gw_metrics.h"
#include "gw_routes.h"
#include "gw_server.h"
#include "log.h"
#include "ws.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_hub_queue {
    struct gw_hub *hub; /* NULL once the hub is freed (a reply in flight then frees this) */
    struct event *timer;
    int64_t after;    /* last generation seen; -1 before the first answer */
    int polling;      /* a GET /queue_updates in flight */
    long in_flight;   /* requests in flight (polls and snapshots) */
};

/* A request in flight ended: 1 when the hub is gone (the caller returns; freed here). */
static int request_done(struct gw_hub_queue *q)
{
    q->in_flight--;
    if (q->hub)
        return 0;
    if (!q->in_flight)
        free(q);
    return 1;
}

/* ------------------------------------------------------------ snapshot on connect */

struct snap {
    struct gw_hub_queue *q;
    uint64_t client;
};

static void snapshot_done(void *arg, int ok, json_t *reply)
{
    struct snap *sn = arg;
    struct gw_hub_queue *q = sn->q;
    uint64_t id = sn->client;
    free(sn);
    if (request_done(q))
        return;
    struct gw_hub *h = q->hub;
    struct hub_client *c = gw_hub_client_by_id(h, id);
    const json_t *updates = ok ? json_object_get(reply, "updates") : NULL;
    if (!c)
        return; /* the stream closed meanwhile */
    if (!json_is_array(updates)) {
        LOG_WARN("hub", "client %s: no queue snapshot (the DAG manager did not answer); its "
                        "tag queries get the next queue_update",
                 ws_conn_peer(c->ws));
        return;
    }
    size_t i;
    const json_t *u;
    json_array_foreach(updates, i, u) {
        if (!json_is_object(u) || !json_is_array(json_object_get(u, "queues")))
            continue;
        json_t *data = json_deep_copy(u), *nodes = json_object();
        json_object_set_new(data, "queues",
                            gw_dm_reference_queues(json_object_get(u, "queues"), nodes));
        json_object_set_new(data, "queue_nodes", nodes);
        json_object_set_new(data, "snapshot", json_true());
        char uid[37], ts[40];
        gw_hub_uuid4(uid);
        gw_hub_iso_time(-1, 1, ts);
        json_t *env = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o}", "specversion", "1.0", "id",
                                uid, "source", "qmtl.services.gateway", "type", "queue_update",
                                "time", ts, "datacontenttype", "application/json", "seq_no",
                                (json_int_t)h->published, "data", data);
        if (env) {
            gw_hub_send_json(c, env);
            gw_metrics_add(h->metrics, GW_M_EVENTS_RELAYED, 1);
        }
    }
}

void gw_hub_queue_snapshot(struct gw_hub *h, struct hub_client *c)
{
    const char *url = h->cfg->dagmanager_url;
    if (!h->queue || !c->world_id || (c->topics && !(c->topics & TOPIC_QUEUE)) || !url || !*url)
        return;
    struct snap *sn = calloc(1, sizeof(*sn));
    char *w = evhttp_encode_uri(c->world_id);
    char path[1024];
    if (!sn || !w) {
        free(sn);
        free(w);
        return;
    }
    snprintf(path, sizeof(path), "/tag_queries?world_id=%s", w);
    free(w);
    sn->q = h->queue;
    sn->client = c->id;
    h->queue->in_flight++;
    gw_dm_call(h->srv, "GET", path, NULL, snapshot_done, sn);
}

/* ------------------------------------------------------------ dropped queues */

static void poll_done(void *arg, int ok, json_t *reply)
{
    struct gw_hub_queue *q = arg;
    q->polling = 0;
    if (request_done(q))
        return;
    const json_t *gen = ok ? json_object_get(reply, "generation") : NULL;
    if (!json_is_integer(gen))
        return; /* not answered: asked again at the next tick, from the same generation */
    if (q->after >= 0) {
        json_t *wrap = json_pack("{s:O}", "queue_updates", json_object_get(reply, "updates"));
        size_t n = wrap ? gw_dm_publish_queue_updates(q->hub->srv, wrap) : 0;
        json_decref(wrap);
        if (n)
            LOG_INFO("hub", "%zu queue_update(s) published: the DAG manager dropped queues "
                            "(generation %lld)",
                     n, (long long)json_integer_value(gen));
    }
    q->after = json_integer_value(gen);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_hub_queue *q = arg;
    const char *url = q->hub->cfg->dagmanager_url;
    if (q->polling || !url || !*url)
        return;
    char path[64] = "/queue_updates";
    if (q->after >= 0)
        snprintf(path, sizeof(path), "/queue_updates?after=%lld", (long long)q->after);
    q->polling = 1;
    q->in_flight++;
    gw_dm_call(q->hub->srv, "GET", path, NULL, poll_done, q);
}

/* ------------------------------------------------------------ lifecycle */

struct gw_hub_queue *gw_hub_queue_new(struct gw_hub *h)
{
    struct gw_hub_queue *q = calloc(1, sizeof(*q));
    if (!q) {
        LOG_ERROR("hub", "out of memory");
        return NULL;
    }
    q->hub = h;
    q->after = -1;
    double every = h->cfg->queue_poll_interval_s;
    if (every <= 0)
        return q;
    struct timeval tv = {(time_t)every, (suseconds_t)((every - (double)(time_t)every) * 1e6)};
    q->timer = event_new(h->base, -1, EV_PERSIST, on_poll, q);
    if (!q->timer || event_add(q->timer, &tv) != 0) {
        LOG_ERROR("hub", "cannot start the DAG manager's queue poll");
        if (q->timer)
            event_free(q->timer);
        free(q);
        return NULL;
    }
    return q;
}

void gw_hub_queue_free(struct gw_hub_queue *q)
{
    if (!q)
        return;
    if (q->timer)
        event_free(q->timer);
    q->timer = NULL;
    q->hub = NULL;
    if (!q->in_flight)
        free(q);
}
