/* metrics_http: GET /metrics and /health on the host's loop (see metrics_http.h). */
#include "host/online/metrics_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "host/host_api.h"
#include "host/online/metrics.h"

struct metrics_http {
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct host *h;
    int attached;
    int port;
};

static void reply(struct evhttp_request *req, int code, const char *ctype, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, code, code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "",
                      b);
    evbuffer_free(b);
}

static void handle(struct evhttp_request *req, void *arg)
{
    struct metrics_http *s = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        evhttp_send_error(req, 405, NULL);
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path && !strcmp(path, "/metrics")) {
        char *text = host_metrics_render(s->h);
        if (!text) {
            evhttp_send_error(req, 500, NULL);
            return;
        }
        reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text);
        free(text);
    } else if (path && !strcmp(path, "/health")) {
        json_t *doc = host_metrics_health(s->h, s->attached);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        const char *st = json_string_value(json_object_get(doc, "status"));
        if (!text)
            evhttp_send_error(req, 500, NULL);
        else
            reply(req, st && !strcmp(st, "ok") ? 200 : 503, "application/json", text);
        free(text);
        json_decref(doc);
    } else {
        evhttp_send_error(req, 404, NULL);
    }
}

struct metrics_http *metrics_http_new(struct event_base *base, struct host *h, const char *addr,
                                      int port, int attached, char *err, size_t errlen)
{
    struct metrics_http *s = calloc(1, sizeof(*s));
    if (!s || !(s->http = evhttp_new(base))) {
        snprintf(err, errlen, "metrics endpoint: out of memory");
        free(s);
        return NULL;
    }
    s->h = h;
    s->attached = attached;
    h->metrics.time_computes = 1; /* qmtl_host_compute_seconds_total reads the timings */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_max_headers_size(s->http, 16384);
    evhttp_set_max_body_size(s->http, 4096);
    evhttp_set_timeout(s->http, 10);
    evhttp_set_gencb(s->http, handle, s);
    s->sock = evhttp_bind_socket_with_handle(s->http, addr, (ev_uint16_t)port);
    if (!s->sock) {
        snprintf(err, errlen, "metrics endpoint %s:%d: cannot listen: %s", addr, port,
                 strerror(errno ? errno : EADDRINUSE));
        evhttp_free(s->http);
        free(s);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s->sock);
    s->port = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return s;
}

int metrics_http_port(const struct metrics_http *s)
{
    return s->port;
}

void metrics_http_free(struct metrics_http *s)
{
    if (!s)
        return;
    evhttp_free(s->http);
    free(s);
}
