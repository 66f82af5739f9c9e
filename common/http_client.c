/* http_client: the evhttp client (see http_client.h). */
#include "http_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    if (!url || strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "bad URL '%s': only http://host[:port][/path] is supported",
                 url ? url : "");
        return -1;
    }
    const char *p = url + 7, *hend;
    if (*p == '[') { /* [v6]:port */
        hend = strchr(p, ']');
        if (!hend || (size_t)(hend - p - 1) >= sizeof(u->host) || hend == p + 1)
            goto bad;
        memcpy(u->host, p + 1, (size_t)(hend - p - 1));
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?#");
        if (hend == p || (size_t)(hend - p) >= sizeof(u->host))
            goto bad;
        memcpy(u->host, p, (size_t)(hend - p));
        p = hend;
    }
    u->port = 80;
    if (*p == ':') {
        char *end = NULL;
        errno = 0;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno || port < 1 || port > 65535 || (*end && *end != '/'))
            goto bad;
        u->port = (int)port;
        p = end;
    }
    if (*p && *p != '/')
        goto bad;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    if (n == 0) {
        strcpy(u->path, "/");
    } else {
        if (n >= sizeof(u->path))
            goto bad;
        memcpy(u->path, p, n);
        u->path[n] = '\0';
    }
    return 0;
bad:
    snprintf(err, errlen, "bad URL '%s': expected http://host[:port][/path]", url);
    return -1;
}

int http_url_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr("-._~:@!$'()*,;", *c);
        size_t need = plain ? 1 : 3;
        if (o + need >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*c;
        } else {
            out[o++] = '%';
            out[o++] = hex[*c >> 4];
            out[o++] = hex[*c & 15];
        }
        out[o] = '\0';
    }
    return 0;
}

/* ------------------------------------------------------------------ one exchange */

struct http_call {
    struct event_base *base;
    struct evhttp_connection *evcon; /* NULL once freed */
    struct event *ev;                /* the deadline, then the delivery of the result */
    http_done_fn done;
    void *arg;
    double budget;
    int error;      /* 1 + enum evhttp_request_error once evhttp reported one; 0 before */
    int answered;   /* evhttp's request callback ran: the result is in rc/resp/err */
    int conn_errno; /* errno of a failed connect (seen on the connection's bufferevent) */
    bufferevent_event_cb orig_event; /* evhttp's connect callback, wrapped */
    void *orig_arg;
    int rc;
    struct http_response resp;
    char peer[300]; /* "host:port", for messages */
    char err[400];
};

/* Hand the result to the caller from the loop, then free everything. Runs as our own
 * event callback (never inside evhttp's), so the connection can be freed here. */
static void deliver(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_call *c = arg;
    if (c->evcon)
        evhttp_connection_free(c->evcon);
    event_free(c->ev);
    c->done(c->arg, c->rc, c->rc ? NULL : &c->resp, c->err);
    http_response_release(&c->resp);
    free(c);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
    struct http_call *c = arg;
    c->error = 1 + (int)e;
}

/* Wraps evhttp's callback on the connecting bufferevent to keep the connect error. */
static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_call *c = arg;
    if ((what & BEV_EVENT_ERROR) && !(what & BEV_EVENT_CONNECTED))
        c->conn_errno = errno;
    c->orig_event(bev, what, c->orig_arg);
}

/* Why a request ended without a complete answer: HTTP_E* with c->err filled. */
static int failure(struct http_call *c)
{
    char *err = c->err;
    size_t errlen = sizeof(c->err);
    int e = c->error ? c->error - 1 : -1;
    if (e == -1 || (e == EVREQ_HTTP_EOF && c->conn_errno)) {
        /* evhttp gave up connecting (no error callback), or the connect itself failed */
        if (c->conn_errno)
            snprintf(err, errlen, "cannot connect to %s: %s", c->peer, strerror(c->conn_errno));
        else
            snprintf(err, errlen, "cannot connect to %s", c->peer);
        return HTTP_ECONNECT;
    }
    switch (e) {
    case EVREQ_HTTP_EOF:
        snprintf(err, errlen,
                 "malformed response from %s: connection closed before the answer was complete",
                 c->peer);
        return HTTP_EMALFORMED;
    case EVREQ_HTTP_TIMEOUT:
        snprintf(err, errlen, "timed out after %.1f s", c->budget);
        return HTTP_ETIMEOUT;
    case EVREQ_HTTP_INVALID_HEADER:
        snprintf(err, errlen,
                 "malformed response from %s: bad status line or header (or headers over %d "
                 "bytes)",
                 c->peer, HTTP_MAX_HEADER_BYTES);
        return HTTP_EMALFORMED;
    case EVREQ_HTTP_DATA_TOO_LONG: /* libevent's name for a corrupt body too */
        snprintf(err, errlen,
                 "malformed response from %s: bad body (a corrupt chunk, or over %u bytes)",
                 c->peer, HTTP_MAX_BODY_BYTES);
        return HTTP_EMALFORMED;
    default:
        snprintf(err, errlen, "exchange with %s failed", c->peer);
        return HTTP_EIO;
    }
}

static char *header_dup(struct evkeyvalq *h, const char *name)
{
    const char *v = h ? evhttp_find_header(h, name) : NULL;
    return v ? strdup(v) : NULL;
}

/* evhttp's request callback (possibly from inside evhttp_make_request): keep the result
 * and deliver it on the next loop pass. */
static void on_done(struct evhttp_request *req, void *arg)
{
    struct http_call *c = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    c->answered = 1;
    if (c->error || status <= 0) {
        c->rc = failure(c);
    } else {
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        c->resp.status = status;
        c->resp.etag = header_dup(h, "ETag");
        c->resp.content_type = header_dup(h, "Content-Type");
        c->resp.body = malloc(len + 1);
        if (c->resp.body) {
            evbuffer_copyout(in, c->resp.body, len);
            c->resp.body[len] = '\0';
            c->resp.body_len = len;
        } else {
            snprintf(c->err, sizeof(c->err), "out of memory");
            c->rc = HTTP_EIO;
        }
    }
    event_del(c->ev);
    evtimer_assign(c->ev, c->base, deliver, c);
    event_active(c->ev, EV_TIMEOUT, 1);
}

/* The whole-exchange budget ran out: drop the connection (its request goes with it,
 * without a callback) and report the timeout. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct http_call *c = arg;
    evhttp_connection_free(c->evcon);
    c->evcon = NULL;
    c->rc = HTTP_ETIMEOUT;
    snprintf(c->err, sizeof(c->err), "timed out after %.1f s", c->budget);
    deliver(fd, what, c);
}

static int method_cmd(const char *m, enum evhttp_cmd_type *cmd)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type cmd;
    } t[] = {{"GET", EVHTTP_REQ_GET}, {"HEAD", EVHTTP_REQ_HEAD},     {"POST", EVHTTP_REQ_POST},
             {"PUT", EVHTTP_REQ_PUT}, {"DELETE", EVHTTP_REQ_DELETE}, {"PATCH", EVHTTP_REQ_PATCH}};
    for (size_t i = 0; m && i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(m, t[i].name)) {
            *cmd = t[i].cmd;
            return 0;
        }
    return -1;
}

/* The request's headers and body; -1 with err filled on a bad extra header line. */
static int fill_request(struct evhttp_request *req, const struct http_request *rq,
                        const struct http_url *u, char *err, size_t errlen)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    char host[300];
    int v6 = strchr(u->host, ':') != NULL;
    snprintf(host, sizeof(host), "%s%s%s:%d", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
    evhttp_add_header(oh, "Host", host);
    evhttp_add_header(oh, "Connection", "close");
    evhttp_add_header(oh, "Accept", "application/json");
    evhttp_add_header(oh, "User-Agent", "qmtl");
    for (const char *const *h = rq->headers; h && *h; h++) {
        const char *colon = strchr(*h, ':');
        char name[128];
        if (!colon || colon == *h || (size_t)(colon - *h) >= sizeof(name)) {
            snprintf(err, errlen, "bad header line '%.60s'", *h);
            return -1;
        }
        memcpy(name, *h, (size_t)(colon - *h));
        name[colon - *h] = '\0';
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (evhttp_add_header(oh, name, value) != 0) {
            snprintf(err, errlen, "bad header line '%.60s'", *h);
            return -1;
        }
    }
    if (rq->body) {
        evhttp_add_header(oh, "Content-Type", "application/json");
        if (evbuffer_add(evhttp_request_get_output_buffer(req), rq->body, rq->body_len) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int http_start(struct event_base *base, const struct http_request *rq, http_done_fn done, void *arg,
               char *err, size_t errlen)
{
    struct http_url u;
    if (http_url_parse(rq->url, &u, err, errlen) < 0)
        return HTTP_EURL;
    enum evhttp_cmd_type cmd;
    if (method_cmd(rq->method, &cmd) < 0) {
        snprintf(err, errlen, "unsupported HTTP method '%s'", rq->method ? rq->method : "");
        return HTTP_EURL;
    }
    const char *sub = rq->path ? rq->path : "";
    const char *basepath = strcmp(u.path, "/") == 0 && *sub ? "" : u.path;
    size_t ulen = strlen(basepath) + strlen(sub) + 1;
    char *uri = malloc(ulen);
    struct http_call *c = calloc(1, sizeof(*c));
    if (!uri || !c) {
        free(uri);
        free(c);
        snprintf(err, errlen, "out of memory");
        return HTTP_EIO;
    }
    snprintf(uri, ulen, "%s%s", basepath, sub);
    c->base = base;
    c->done = done;
    c->arg = arg;
    c->budget = rq->timeout_s > 0 ? rq->timeout_s : 2.0;
    snprintf(c->peer, sizeof(c->peer), "%s:%d", u.host, u.port);
    c->evcon = evhttp_connection_base_new(base, NULL, u.host, (unsigned short)u.port);
    c->ev = evtimer_new(base, on_deadline, c);
    struct evhttp_request *req = c->evcon ? evhttp_request_new(on_done, c) : NULL;
    int rc = HTTP_EIO;
    if (!c->evcon || !c->ev || !req) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* evhttp's own per-operation timeouts stay behind the whole-exchange deadline */
    double t = c->budget + 1.0;
    struct timeval tv = {(time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    evhttp_connection_set_timeout_tv(c->evcon, &tv);
    evhttp_connection_set_retries(c->evcon, 0);
    evhttp_connection_set_max_headers_size(c->evcon, HTTP_MAX_HEADER_BYTES);
    evhttp_connection_set_max_body_size(c->evcon, HTTP_MAX_BODY_BYTES);
    evhttp_request_set_error_cb(req, on_error);
    if (fill_request(req, rq, &u, err, errlen) < 0) {
        rc = HTTP_EURL;
        goto fail;
    }
    tv.tv_sec = (time_t)c->budget;
    tv.tv_usec = (suseconds_t)((c->budget - (double)(time_t)c->budget) * 1e6);
    if (evtimer_add(c->ev, &tv) != 0) {
        snprintf(err, errlen, "cannot arm the request timer");
        goto fail;
    }
    int sent = evhttp_make_request(c->evcon, req, cmd, uri);
    req = NULL;        /* evhttp's from here on (freed by it on failure) */
    if (c->answered) { /* failed inside the call: the result is delivered from the loop */
        free(uri);
        return 0;
    }
    if (sent != 0) {
        snprintf(err, errlen, "cannot send %s %s to %s", rq->method, uri, c->peer);
        goto fail;
    }
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    bufferevent_data_cb rd = NULL, wr = NULL;
    if (bev)
        bufferevent_getcb(bev, &rd, &wr, &c->orig_event, &c->orig_arg);
    if (c->orig_event)
        bufferevent_setcb(bev, rd, wr, on_connect_event, c);
    free(uri);
    return 0;
fail:
    if (req)
        evhttp_request_free(req);
    if (c->evcon)
        evhttp_connection_free(c->evcon);
    if (c->ev)
        event_free(c->ev);
    free(c);
    free(uri);
    return rc;
}

/* ------------------------------------------------------------------ JSON */

struct json_call {
    http_json_fn done;
    void *arg;
};

static void json_done(void *arg, int rc, const struct http_response *resp, const char *err)
{
    struct json_call *j = arg;
    json_t *reply = NULL;
    if (rc == 0 && resp->body_len)
        reply = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL);
    j->done(j->arg, rc == 0 ? resp->status : 0, reply, rc == 0 ? "" : err);
    json_decref(reply);
    free(j);
}

/* A JSON request's wire form: the compact body and the bearer header line (owned). */
struct json_wire {
    char *text, *auth;
    const char *hdrs[2];
    struct http_request rq;
};

static int json_wire_init(struct json_wire *w, const char *url, const char *method,
                          const char *path, const json_t *body, const char *token, double timeout_s,
                          char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (token && *token && asprintf(&w->auth, "Authorization: Bearer %s", token) < 0)
        w->auth = NULL;
    if ((body && !w->text) || (token && *token && !w->auth)) {
        free(w->text);
        free(w->auth);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->hdrs[0] = w->auth;
    w->rq = (struct http_request){.method = method,
                                  .url = url,
                                  .path = path,
                                  .headers = w->hdrs,
                                  .body = w->text,
                                  .body_len = w->text ? strlen(w->text) : 0,
                                  .timeout_s = timeout_s};
    return 0;
}

static void json_wire_release(struct json_wire *w)
{
    free(w->text);
    free(w->auth);
}

int http_json_start(struct event_base *base, const char *url, const char *method, const char *path,
                    const json_t *body, const char *token, double timeout_s, http_json_fn done,
                    void *arg, char *err, size_t errlen)
{
    struct json_call *j = calloc(1, sizeof(*j));
    struct json_wire w;
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (json_wire_init(&w, url, method, path, body, token, timeout_s, err, errlen) < 0) {
        free(j);
        return -1;
    }
    j->done = done;
    j->arg = arg;
    int rc = http_start(base, &w.rq, json_done, j, err, errlen);
    json_wire_release(&w);
    if (rc != 0) {
        free(j);
        return -1;
    }
    return 0;
}

int http_json_fetch(const char *url, const char *method, const char *path, const json_t *body,
                    const char *token, double timeout_s, json_t **reply, char *err, size_t errlen)
{
    *reply = NULL;
    struct json_wire w;
    if (json_wire_init(&w, url, method, path, body, token, timeout_s, err, errlen) < 0)
        return 0;
    struct http_response resp;
    int rc = http_fetch(&w.rq, &resp, err, errlen);
    json_wire_release(&w);
    if (rc != 0)
        return 0;
    if (resp.body_len)
        *reply = json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, NULL);
    int status = resp.status;
    http_response_release(&resp);
    return status;
}

/* ------------------------------------------------------------------ blocking */

struct sync_call {
    int rc;
    struct http_response *resp;
    char *err;
    size_t errlen;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void sync_done(void *arg, int rc, const struct http_response *r, const char *err)
{
    struct sync_call *s = arg;
    s->rc = rc;
    if (rc != 0) {
        snprintf(s->err, s->errlen, "%s", err);
        return;
    }
    struct http_response *o = s->resp;
    o->status = r->status;
    o->etag = dup_or_null(r->etag);
    o->content_type = dup_or_null(r->content_type);
    o->body = malloc(r->body_len + 1);
    if ((r->etag && !o->etag) || (r->content_type && !o->content_type) || !o->body) {
        http_response_release(o);
        snprintf(s->err, s->errlen, "out of memory");
        s->rc = HTTP_EIO;
        return;
    }
    memcpy(o->body, r->body, r->body_len + 1);
    o->body_len = r->body_len;
}

int http_fetch(const struct http_request *rq, struct http_response *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof(*resp));
    struct event_base *base = event_base_new();
    if (!base) {
        snprintf(err, errlen, "cannot create an event loop");
        return HTTP_EIO;
    }
    /* A peer that closes early must fail the write, not kill the process. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    struct sync_call s = {.rc = HTTP_EIO, .resp = resp, .err = err, .errlen = errlen};
    int rc = http_start(base, rq, sync_done, &s, err, errlen);
    if (rc == 0) {
        event_base_dispatch(base);
        rc = s.rc;
    }
    event_base_free(base);
    sigaction(SIGPIPE, &old, NULL);
    if (rc)
        http_response_release(resp);
    return rc;
}

void http_response_release(struct http_response *resp)
{
    if (!resp)
        return;
    free(resp->etag);
    free(resp->content_type);
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}
