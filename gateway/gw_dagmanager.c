/*
 * gw_dagmanager: asynchronous DAG manager client and GET /queues/by_tag
 * (see gw_dagmanager.h).
 */
#include "gw_dagmanager.h"

#include "config.h"
#include "gw_metrics.h"
#include "http_client.h"
#include "gw_routes.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dm_call {
    struct gw_server *s;
    gw_dm_done_fn done;
    void *arg;
};

static void on_reply(void *arg, int status, const json_t *reply, const char *err)
{
    struct dm_call *c = arg;
    json_t *obj = status == 200 && json_is_object(reply) ? (json_t *)reply : NULL;
    if (!obj) {
        gw_metrics_add(gw_server_metrics(c->s), GW_M_DAGMANAGER_ERRORS, 1);
        if (status)
            LOG_WARN("dagmanager", "DAG manager call failed (status %d%s)", status,
                     reply ? "" : ", no JSON body");
        else
            LOG_WARN("dagmanager", "DAG manager call failed (%s)", err);
    }
    gw_server_note_dagmanager(c->s, obj != NULL);
    c->done(c->arg, obj != NULL, obj);
    free(c);
}

void gw_dm_call(struct gw_server *s, const char *method, const char *path_and_query, json_t *body,
                gw_dm_done_fn done, void *arg)
{
    const struct qmtl_config *cfg = gw_server_config(s);
    const char *url = cfg->gateway.dagmanager_url;
    struct dm_call *c = url && *url ? calloc(1, sizeof(*c)) : NULL;
    char err[300];
    if (c) {
        c->s = s;
        c->done = done;
        c->arg = arg;
        if (http_json_start(gw_server_base(s), url, method, path_and_query, body,
                            cfg->gateway.dagmanager_token, cfg->gateway.dagmanager_timeout_s,
                            on_reply, c, err, sizeof(err)) == 0) {
            json_decref(body);
            return;
        }
        LOG_WARN("dagmanager", "DAG manager call not sent: %s", err);
        free(c);
        gw_metrics_add(gw_server_metrics(s), GW_M_DAGMANAGER_ERRORS, 1);
        gw_server_note_dagmanager(s, 0);
    }
    json_decref(body);
    done(arg, 0, NULL);
}

/* ------------------------------------------------------------------ queue_update */

json_t *gw_dm_reference_queues(const json_t *list, json_t *queue_nodes)
{
    json_t *out = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        const json_t *topic = json_object_get(e, "queue");
        if (!json_is_string(topic))
            continue;
        json_array_append_new(out, json_pack("{s:O, s:b}", "queue", topic, "global",
                                             json_is_true(json_object_get(e, "global"))));
        const json_t *id = json_object_get(e, "node_id");
        if (queue_nodes && json_is_string(id))
            json_object_set_new(queue_nodes, json_string_value(topic),
                                json_pack("{s:O, s:O*, s:O*}", "node_id", id, "tags",
                                          json_object_get(e, "tags"), "interval",
                                          json_object_get(e, "interval")));
    }
    return out;
}

size_t gw_dm_publish_queue_updates(struct gw_server *s, const json_t *diff)
{
    size_t i, n = 0;
    const json_t *u;
    json_array_foreach(json_object_get(diff, "queue_updates"), i, u) {
        const char *world = json_string_value(json_object_get(u, "world_id"));
        if (!json_is_object(u) || !json_is_array(json_object_get(u, "queues")) ||
            !json_is_array(json_object_get(u, "tags")))
            continue;
        json_t *data = json_deep_copy(u), *nodes = json_object();
        json_object_set_new(data, "queues",
                            gw_dm_reference_queues(json_object_get(u, "queues"), nodes));
        json_object_set_new(data, "queue_nodes", nodes);
        if (gw_server_publish_event(s, "queue_update", world, data) < 0) {
            LOG_WARN("dagmanager", "queue_update event not stored (world '%s')", world ? world : "");
            continue;
        }
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------ /queues/by_tag */

struct by_tag {
    struct evhttp_request *req;
};

static void by_tag_done(void *arg, int ok, json_t *reply)
{
    struct by_tag *b = arg;
    json_t *queues = ok ? json_object_get(reply, "queues") : NULL;
    if (json_is_array(queues))
        gw_reply_json(b->req, 200, json_pack("{sO sb}", "queues", queues, "degraded", 0));
    else
        gw_reply_json(b->req, 200, json_pack("{s[] sb}", "queues", "degraded", 1));
    free(b);
}

void gw_queues_by_tag_route(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    char *tags = gw_query_param(req, "tags");
    char *interval = gw_query_param(req, "interval");
    char *mm = gw_query_param(req, "match_mode");
    char *world = gw_query_param(req, "world_id");
    char *end = NULL;
    long long iv = interval ? strtoll(interval, &end, 10) : -1;
    int has_tag = 0;
    for (const char *p = tags; p && *p; p++)
        if (*p != ',' && *p != ' ')
            has_tag = 1;
    if (!has_tag) {
        gw_reply_error(req, 422, "E_VALIDATION", "query 'tags': expected a comma-separated list",
                       NULL);
    } else if (!interval || !*interval || *end || iv < 0) {
        gw_reply_error(req, 422, "E_VALIDATION", "query 'interval': expected an integer >= 0",
                       NULL);
    } else {
        const char *mode = (mm && !strcmp(mm, "all")) ? "all" : "any";
        char *et = evhttp_encode_uri(tags);
        char *ew = evhttp_encode_uri(world ? world : "");
        char q[4096];
        snprintf(q, sizeof(q), "/queues/by_tag?tags=%s&interval=%lld&match_mode=%s&world_id=%s",
                 et ? et : "", iv, mode, ew ? ew : "");
        free(et);
        free(ew);
        struct by_tag *b = calloc(1, sizeof(*b));
        if (!b)
            gw_reply_error(req, 500, "E_INTERNAL", "out of memory", NULL);
        else {
            b->req = req;
            gw_server_defer(s, req);
            gw_dm_call(s, "GET", q, NULL, by_tag_done, b);
        }
    }
    free(tags);
    free(interval);
    free(mm);
    free(world);
}
