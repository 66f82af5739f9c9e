/*
 * gw_server: evhttp server, router, auth, JSON replies and event publication
 * (see gw_server.h).
 */
#include "gw_server.h"

#include "config.h"
#include "gw_auth.h"
#include "gw_metrics.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "gw_util.h"
#include "log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EVENT_LOG_KEEP 100000L

struct route {
    char *path;
    size_t len;
    int prefix;
    gw_route_fn fn;
    void *arg;
};

struct listener {
    gw_event_listener_fn fn;
    void *arg;
};

struct pending_event {
    int64_t seq;
    char *type, *world, *envelope;
};

struct async_req {
    struct evhttp_request *req;
    double start;
};

struct gw_server {
    const struct qmtl_config *cfg;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct gw_store *store;
    struct gw_metrics *metrics;
    struct gw_guard_set limits;
    struct route *routes;
    size_t n_routes;
    struct listener *listeners;
    size_t n_listeners;
    struct pending_event *pending;
    size_t n_pending, cap_pending;
    int64_t last_seq;
    long published_since_trim;
    long event_log_keep;
    struct event *sigint, *sigterm;
    int port;
    int dm_state; /* last DAG manager call: 0 unknown, 1 ok, -1 failed */
    char url[300];
    double started;
    /* the request being dispatched (latency accounting) */
    struct evhttp_request *cur_req;
    double cur_start;
    int cur_creds;
    struct async_req async[64];
};

/* The server whose loop is dispatching (one event loop per process). */
static struct gw_server *active;

/* ------------------------------------------------------------------ replies */

void gw_server_record_reply(struct evhttp_request *req, int code)
{
    struct gw_server *s = active;
    if (!s)
        return;
    double start = -1;
    for (size_t i = 0; i < sizeof(s->async) / sizeof(s->async[0]); i++)
        if (s->async[i].req == req) {
            start = s->async[i].start;
            s->async[i].req = NULL;
            break;
        }
    if (start < 0 && req == s->cur_req)
        start = s->cur_start;
    const char *method;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        method = "GET";
        break;
    case EVHTTP_REQ_POST:
        method = "POST";
        break;
    case EVHTTP_REQ_PUT:
        method = "PUT";
        break;
    case EVHTTP_REQ_DELETE:
        method = "DELETE";
        break;
    case EVHTTP_REQ_HEAD:
        method = "HEAD";
        break;
    default:
        method = "OTHER";
        break;
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    double lat = start >= 0 ? gw_mono_now() - start : 0.0;
    gw_metrics_request(s->metrics, gw_metrics_route_label(path), method, code, lat);
}

/* ------------------------------------------------------------------ routing */

int gw_server_add_route(struct gw_server *s, const char *path, gw_route_fn fn, void *arg)
{
    struct route *n = realloc(s->routes, (s->n_routes + 1) * sizeof(*n));
    if (!n)
        return -1;
    s->routes = n;
    struct route *r = &s->routes[s->n_routes];
    r->path = strdup(path);
    if (!r->path)
        return -1;
    r->len = strlen(path);
    r->prefix = r->len > 0 && path[r->len - 1] == '/';
    r->fn = fn;
    r->arg = arg;
    s->n_routes++;
    return 0;
}

static void reject_route(struct evhttp_request *req, const char *rest, void *arg);

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct gw_server *s = arg;
    active = s;
    s->cur_req = req;
    s->cur_start = gw_mono_now();
    const char *rej = evhttp_find_header(evhttp_request_get_input_headers(req), GW_REJECT_HEADER);
    if (rej) {
        reject_route(req, rej, s);
        s->cur_req = NULL;
        return;
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *raw = u ? evhttp_uri_get_path(u) : NULL;
    char *path = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
    if (!path || path[0] != '/') {
        gw_reply_error(req, 400, "E_BAD_REQUEST", "malformed request path", NULL);
        goto out;
    }
    /* The connection guard's own rejections carry no credential. */
    if (strncmp(path, GW_REJECT_PREFIX, strlen(GW_REJECT_PREFIX)) == 0) {
        reject_route(req, path + strlen(GW_REJECT_PREFIX), s);
        goto out;
    }
    /* Authenticate before any lookup. */
    s->cur_creds = gw_auth_request(s, req, path);
    if (s->cur_creds < 0)
        goto out;
    struct route *best = NULL;
    for (size_t i = 0; i < s->n_routes; i++) {
        struct route *r = &s->routes[i];
        if (r->prefix ? strncmp(path, r->path, r->len) == 0 && path[r->len] != '\0'
                      : strcmp(path, r->path) == 0) {
            if (!best || r->len > best->len || (!r->prefix && best->prefix))
                best = r;
        }
    }
    if (!best) {
        char msg[200];
        snprintf(msg, sizeof(msg), "no route for '%.150s'", path);
        gw_reply_error(req, 404, "E_NOT_FOUND", msg, json_string("Not Found"));
        goto out;
    }
    best->fn(req, best->prefix ? path + best->len : "", best->arg);
out:
    free(path);
    s->cur_req = NULL;
}

static void reject_route(struct evhttp_request *req, const char *rest, void *arg)
{
    struct gw_server *s = arg;
    int code = atoi(rest);
    gw_metrics_add(s->metrics, GW_M_LIMIT_REJECTIONS, 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    char msg[160];
    switch (code) {
    case 413:
        snprintf(msg, sizeof(msg), "request body larger than %ld bytes (gateway.max_body_bytes)",
                 s->limits.max_body_bytes);
        gw_reply_error(req, 413, "E_BODY_TOO_LARGE", msg, NULL);
        break;
    case 400:
        gw_reply_error(req, 400, "E_BAD_REQUEST", "malformed request line or header line", NULL);
        break;
    case 411:
        gw_reply_error(req, 411, "E_LENGTH_REQUIRED",
                       "chunked request bodies are not accepted: send Content-Length", NULL);
        break;
    default:
        snprintf(msg, sizeof(msg),
                 "request headers larger than %ld bytes (gateway.max_header_bytes)",
                 s->limits.max_header_bytes);
        gw_reply_error(req, 431, "E_HEADERS_TOO_LARGE", msg, NULL);
        break;
    }
}

/* ------------------------------------------------------------------ built-in routes */

static int method_is(struct evhttp_request *req, enum evhttp_cmd_type t)
{
    return evhttp_request_get_command(req) == t;
}

static void method_not_allowed(struct evhttp_request *req, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed",
                   json_string("Method Not Allowed"));
}

static void status_route(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    if (!method_is(req, EVHTTP_REQ_GET)) {
        method_not_allowed(req, "GET");
        return;
    }
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"status\":\"ok\",\"service\":\"qmtl-gateway\",\"degrade_level\":\"NORMAL\","
             "\"enforce_live_guard\":%s,\"uptime_s\":%.0f,\"last_seq_no\":%lld,"
             "\"dagmanager\":\"%s\",\"pretrade\":{\"attempts\":0,\"rejections\":{},"
             "\"ratio\":0.0}}",
             s->cfg->gateway.live_guard ? "true" : "false", gw_mono_now() - s->started,
             (long long)s->last_seq, *s->cfg->gateway.dagmanager_url ? "configured" : "none");
    gw_reply_text(req, 200, buf);
}

static void health_route(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    if (!method_is(req, EVHTTP_REQ_GET)) {
        method_not_allowed(req, "GET");
        return;
    }
    int store_ok = gw_store_event_last_seq(s->store) >= 0;
    const char *dm = !*s->cfg->gateway.dagmanager_url ? "disabled"
                     : s->dm_state > 0                ? "ok"
                     : s->dm_state < 0                ? "error"
                                                      : "unknown";
    int degraded = !store_ok || s->dm_state < 0;
    json_t *body = json_pack("{ss ss ss ss}", "status", degraded ? "degraded" : "ok", "store",
                             store_ok ? "ok" : "error", "dagmanager", dm, "worldservice", "ok");
    gw_reply_json(req, store_ok ? 200 : 503, body);
}

static void metrics_route(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    if (!method_is(req, EVHTTP_REQ_GET)) {
        method_not_allowed(req, "GET");
        return;
    }
    /* Store errors are counted by the store; mirror them before rendering. */
    long se = gw_store_error_count(s->store);
    gw_metrics_add(s->metrics, GW_M_STORE_ERRORS,
                   se - gw_metrics_get(s->metrics, GW_M_STORE_ERRORS));
    gw_server_record_reply(req, 200); /* count this scrape in what it returns */
    s->cur_req = NULL;
    char *text = gw_metrics_render(s->metrics);
    struct evbuffer *out = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    if (text)
        evbuffer_add(out, text, strlen(text));
    free(text);
    evhttp_send_reply(req, text ? 200 : 500, NULL, out);
    evbuffer_free(out);
}

/* ------------------------------------------------------------------ events */

int gw_server_add_listener(struct gw_server *s, gw_event_listener_fn fn, void *arg)
{
    struct listener *n = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*n));
    if (!n)
        return -1;
    s->listeners = n;
    s->listeners[s->n_listeners].fn = fn;
    s->listeners[s->n_listeners].arg = arg;
    s->n_listeners++;
    return 0;
}

static void notify(struct gw_server *s, int64_t seq, const char *type, const char *world,
                   const char *env)
{
    for (size_t i = 0; i < s->n_listeners; i++)
        s->listeners[i].fn(s->listeners[i].arg, seq, type, world, env);
}

static void free_pending(struct gw_server *s)
{
    for (size_t i = 0; i < s->n_pending; i++) {
        free(s->pending[i].type);
        free(s->pending[i].world);
        free(s->pending[i].envelope);
    }
    s->n_pending = 0;
}

/* Keep the event log bounded: trim it every 1024 events (outside transactions). */
static void maybe_trim(struct gw_server *s)
{
    if (s->published_since_trim < 1024 || gw_store_in_txn(s->store))
        return;
    s->published_since_trim = 0;
    gw_store_event_trim(s->store, s->event_log_keep);
}

int gw_server_publish_event(struct gw_server *s, const char *type, const char *world_id,
                            json_t *data)
{
    if (!data || !json_is_object(data)) {
        json_decref(data);
        return -1;
    }
    if (!json_object_get(data, "version"))
        json_object_set_new(data, "version", json_integer(1));
    char id[37], corr[37], now[32];
    gw_uuid4(id);
    gw_uuid4(corr);
    gw_iso_now(now, 1);
    int64_t seq = s->last_seq + 1;
    json_t *env = json_pack("{ss ss ss ss ss ss sI so ss}", "specversion", "1.0", "id", id,
                            "source", "qmtl.services.gateway", "type", type, "time", now,
                            "datacontenttype", "application/json", "seq_no", (json_int_t)seq,
                            "data", data, "correlation_id", corr);
    if (!env)
        return -1;
    char *text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (!text)
        return -1;
    if (gw_store_event_append(s->store, seq, type, world_id, text) < 0) {
        free(text);
        return -1;
    }
    s->last_seq = seq;
    gw_metrics_add(s->metrics, GW_M_EVENTS_PUBLISHED, 1);
    if (gw_store_in_txn(s->store)) {
        if (s->n_pending == s->cap_pending) {
            size_t cap = s->cap_pending ? s->cap_pending * 2 : 16;
            struct pending_event *n = realloc(s->pending, cap * sizeof(*n));
            if (!n) {
                free(text);
                return -1;
            }
            s->pending = n;
            s->cap_pending = cap;
        }
        struct pending_event *p = &s->pending[s->n_pending++];
        p->seq = seq;
        p->type = strdup(type);
        p->world = world_id ? strdup(world_id) : NULL;
        p->envelope = text;
        return 0;
    }
    notify(s, seq, type, world_id, text);
    free(text);
    s->published_since_trim++;
    maybe_trim(s);
    return 0;
}

int gw_server_txn_begin(struct gw_server *s)
{
    free_pending(s);
    return gw_store_begin(s->store);
}

int gw_server_txn_commit(struct gw_server *s)
{
    if (gw_store_commit(s->store) < 0) {
        free_pending(s);
        s->last_seq = gw_store_event_last_seq(s->store);
        return -1;
    }
    /* Copy out: a listener may publish again. */
    size_t n = s->n_pending;
    struct pending_event *list = s->pending;
    s->pending = NULL;
    s->n_pending = s->cap_pending = 0;
    for (size_t i = 0; i < n; i++) {
        notify(s, list[i].seq, list[i].type, list[i].world, list[i].envelope);
        free(list[i].type);
        free(list[i].world);
        free(list[i].envelope);
    }
    free(list);
    s->published_since_trim += (long)n;
    maybe_trim(s);
    return 0;
}

void gw_server_txn_rollback(struct gw_server *s)
{
    gw_store_rollback(s->store);
    free_pending(s);
    int64_t last = gw_store_event_last_seq(s->store);
    if (last >= 0)
        s->last_seq = last;
}

/* ------------------------------------------------------------------ lifecycle */

struct gw_server *gw_server_new(const struct qmtl_config *cfg, char *err, size_t errlen)
{
    struct gw_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    if (gw_auth_check_config(&cfg->gateway, err, errlen) < 0) {
        free(s);
        return NULL;
    }
    gw_auth_log_config(&cfg->gateway);
    s->event_log_keep = EVENT_LOG_KEEP;
    s->started = gw_mono_now();
    s->limits.max_header_bytes = cfg->gateway.max_header_bytes;
    s->limits.max_body_bytes = cfg->gateway.max_body_bytes;
    s->base = event_base_new();
    s->metrics = gw_metrics_new();
    if (!s->base || !s->metrics) {
        snprintf(err, errlen, "out of memory");
        gw_server_free(s);
        return NULL;
    }
    s->http = evhttp_new(s->base);
    if (!s->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        gw_server_free(s);
        return NULL;
    }
    s->store = gw_store_open(cfg->gateway.store_path, err, errlen);
    if (!s->store) {
        gw_server_free(s);
        return NULL;
    }
    s->last_seq = gw_store_event_last_seq(s->store);
    if (s->last_seq < 0) {
        snprintf(err, errlen, "cannot read the event log: %s", gw_store_errmsg(s->store));
        gw_server_free(s);
        return NULL;
    }
    /* evhttp's own limits stay as a backstop behind the guard. */
    evhttp_set_max_headers_size(s->http, (ev_ssize_t)cfg->gateway.max_header_bytes + 4096);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)cfg->gateway.max_body_bytes + 1);
    /* Idle reads (and writes) are bounded by evhttp, whole requests by the guard. */
    double idle = cfg->gateway.read_idle_timeout_s > 0 ? cfg->gateway.read_idle_timeout_s : 10;
    struct timeval itv = {(time_t)idle, (suseconds_t)((idle - (double)(time_t)idle) * 1e6)};
    evhttp_set_timeout_tv(s->http, &itv);
    s->limits.read_timeout_s = cfg->gateway.read_timeout_s;
    s->limits.base = s->base;
    /* Every method reaches the router, which answers 405 in JSON for what a route lacks. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(s->http, gw_guard_bevcb, &s->limits);
    evhttp_set_gencb(s->http, dispatch, s);
    if (gw_server_add_route(s, "/status", status_route, s) < 0 ||
        gw_server_add_route(s, "/health", health_route, s) < 0 ||
        gw_server_add_route(s, "/metrics", metrics_route, s) < 0 ||
        gw_worlds_register(s) < 0 || gw_strategies_register(s) < 0 ||
        gw_orders_register(s) < 0 || gw_fills_register(s) < 0) {
        snprintf(err, errlen, "cannot register routes");
        gw_server_free(s);
        return NULL;
    }
    active = s;
    return s;
}

int gw_server_bind(struct gw_server *s, char *err, size_t errlen)
{
    const char *host = s->cfg->gateway.host;
    s->bound = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)s->cfg->gateway.port);
    if (!s->bound) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, s->cfg->gateway.port,
                 strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s->bound);
    s->port = s->cfg->gateway.port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(s->url, sizeof(s->url), strchr(host, ':') ? "http://[%s]:%d" : "http://%s:%d", host,
             s->port);
    return 0;
}

int gw_server_port(const struct gw_server *s)
{
    return s->port;
}

const char *gw_server_url(const struct gw_server *s)
{
    return s->url;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct gw_server *s = arg;
    LOG_INFO("gateway", "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(s->base, NULL);
}

int gw_server_run(struct gw_server *s, int install_signals)
{
    active = s;
    if (install_signals) {
        s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
        s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
        if (!s->sigint || !s->sigterm || evsignal_add(s->sigint, NULL) < 0 ||
            evsignal_add(s->sigterm, NULL) < 0)
            return -1;
    }
    return event_base_dispatch(s->base) < 0 ? -1 : 0;
}

void gw_server_stop(struct gw_server *s)
{
    event_base_loopexit(s->base, NULL);
}

void gw_server_free(struct gw_server *s)
{
    if (!s)
        return;
    if (s->sigint)
        event_free(s->sigint);
    if (s->sigterm)
        event_free(s->sigterm);
    if (s->http)
        evhttp_free(s->http);
    gw_guard_set_release(&s->limits);
    gw_store_close(s->store);
    gw_metrics_free(s->metrics);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].path);
    free(s->routes);
    free(s->listeners);
    free_pending(s);
    free(s->pending);
    if (s->base)
        event_base_free(s->base);
    if (active == s)
        active = NULL;
    free(s);
}

struct event_base *gw_server_base(struct gw_server *s)
{
    return s->base;
}

struct evhttp *gw_server_http(struct gw_server *s)
{
    return s->http;
}

struct gw_store *gw_server_store(struct gw_server *s)
{
    return s->store;
}

const struct qmtl_config *gw_server_config(const struct gw_server *s)
{
    return s->cfg;
}

struct gw_metrics *gw_server_metrics(struct gw_server *s)
{
    return s->metrics;
}

void gw_server_defer(struct gw_server *s, struct evhttp_request *req)
{
    for (size_t i = 0; i < sizeof(s->async) / sizeof(s->async[0]); i++)
        if (!s->async[i].req) {
            s->async[i].req = req;
            s->async[i].start = s->cur_start;
            return;
        }
}

int gw_server_request_creds(const struct gw_server *s)
{
    return s->cur_creds;
}

void gw_server_note_dagmanager(struct gw_server *s, int ok)
{
    s->dm_state = ok ? 1 : -1;
}

void gw_server_set_event_log_keep(struct gw_server *s, long keep)
{
    s->event_log_keep = keep;
}
