/*
 * gw_dagmanager: asynchronous DAG manager client and GET /queues/by_tag
 * (see gw_dagmanager.h).
 */
#include "gw_dagmanager.h"

#include "config.h"
#include "gw_metrics.h"
#include "gw_routes.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DM_TIMEOUT_S 1

struct dm_call {
    struct gw_server *s;
    struct evhttp_connection *conn;
    gw_dm_done_fn done;
    void *arg;
};

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void on_reply(struct evhttp_request *r, void *arg)
{
    struct dm_call *c = arg;
    json_t *reply = NULL;
    int code = r ? evhttp_request_get_response_code(r) : 0;
    if (code == 200) {
        struct evbuffer *in = evhttp_request_get_input_buffer(r);
        size_t len = evbuffer_get_length(in);
        reply = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
        if (reply && !json_is_object(reply)) {
            json_decref(reply);
            reply = NULL;
        }
    }
    if (!reply) {
        gw_metrics_add(gw_server_metrics(c->s), GW_M_DAGMANAGER_ERRORS, 1);
        LOG_WARN("dagmanager", "DAG manager call failed (%s)",
                 code ? "bad status or body" : "unreachable or timed out");
    }
    gw_server_note_dagmanager(c->s, reply != NULL);
    c->done(c->arg, reply != NULL, reply);
    json_decref(reply);
    /* The connection cannot be freed from inside its own callback. */
    struct timeval zero = {0, 0};
    if (event_base_once(gw_server_base(c->s), -1, EV_TIMEOUT, free_conn, c->conn, &zero) < 0)
        LOG_WARN("dagmanager", "cannot schedule connection cleanup");
    free(c);
}

void gw_dm_call(struct gw_server *s, const char *method, const char *path_and_query, json_t *body,
                gw_dm_done_fn done, void *arg)
{
    const char *url = gw_server_config(s)->gateway.dagmanager_url;
    struct evhttp_uri *u = (url && *url) ? evhttp_uri_parse(url) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    struct dm_call *c = NULL;
    struct evhttp_request *r = NULL;
    if (!host)
        goto fail;
    int port = evhttp_uri_get_port(u);
    if (port < 0)
        port = 80;
    c = calloc(1, sizeof(*c));
    if (!c)
        goto fail;
    c->s = s;
    c->done = done;
    c->arg = arg;
    c->conn = evhttp_connection_base_new(gw_server_base(s), NULL, host, (unsigned short)port);
    if (!c->conn)
        goto fail;
    evhttp_connection_set_timeout(c->conn, DM_TIMEOUT_S);
    r = evhttp_request_new(on_reply, c);
    if (!r)
        goto fail;
    char path[2048];
    const char *base = evhttp_uri_get_path(u);
    size_t bl = base ? strlen(base) : 0;
    if (bl && base[bl - 1] == '/')
        bl--;
    snprintf(path, sizeof(path), "%.*s%s", (int)bl, base ? base : "", path_and_query);
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);
    char hostport[300];
    snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
    evhttp_add_header(h, "Host", hostport);
    const char *tok = gw_server_config(s)->gateway.dagmanager_token;
    if (tok && *tok) {
        char auth[600];
        snprintf(auth, sizeof(auth), "Bearer %.580s", tok);
        evhttp_add_header(h, "Authorization", auth);
    }
    if (body) {
        char *text = json_dumps(body, JSON_COMPACT);
        if (text) {
            evhttp_add_header(h, "Content-Type", "application/json");
            evbuffer_add(evhttp_request_get_output_buffer(r), text, strlen(text));
            free(text);
        }
    }
    enum evhttp_cmd_type cmd = strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;
    json_decref(body);
    evhttp_uri_free(u);
    if (evhttp_make_request(c->conn, r, cmd, path) < 0) {
        /* evhttp frees the request on failure */
        evhttp_connection_free(c->conn);
        free(c);
        gw_metrics_add(gw_server_metrics(s), GW_M_DAGMANAGER_ERRORS, 1);
        gw_server_note_dagmanager(s, 0);
        done(arg, 0, NULL);
    }
    return;
fail:
    if (r)
        evhttp_request_free(r);
    if (c && c->conn)
        evhttp_connection_free(c->conn);
    free(c);
    json_decref(body);
    if (u)
        evhttp_uri_free(u);
    done(arg, 0, NULL);
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
