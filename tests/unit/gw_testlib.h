/*
 * Helpers for the gateway unit tests: a gateway on 127.0.0.1 (free port) with its store in
 * a temporary directory, and a blocking HTTP client that drives the same event loop.
 */
#ifndef QMTL_TESTS_GW_TESTLIB_H
#define QMTL_TESTS_GW_TESTLIB_H

#include "config.h"
#include "gateway/gw_server.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct gwt {
    struct qmtl_config cfg;
    struct gw_server *srv;
    char dir[128];
    char db[256];
};

struct gwt_resp {
    int code;
    char *body;
    json_t *json;
    char etag[256];
    char content_type[128];
    int done;
};

static void gwt_set(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
}

/* Called (when set) on the config before each gwt_start creates the server. */
static void (*gwt_configure)(struct qmtl_config *cfg);

/* Start a gateway; 'reuse_dir' keeps the store of a previous gwt (restart tests). */
static inline void gwt_start(struct gwt *t, const char *reuse_dir)
{
    memset(&t->cfg, 0, sizeof(t->cfg));
    config_init_defaults(&t->cfg);
    if (reuse_dir)
        snprintf(t->dir, sizeof(t->dir), "%s", reuse_dir);
    else {
        snprintf(t->dir, sizeof(t->dir), "/tmp/qmtl-gwtest-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->dir));
    }
    snprintf(t->db, sizeof(t->db), "%s/gw.db", t->dir);
    gwt_set(&t->cfg.gateway.host, "127.0.0.1");
    t->cfg.gateway.port = 0;
    gwt_set(&t->cfg.gateway.store_path, t->db);
    gwt_set(&t->cfg.gateway.operator_token, "op-secret");
    gwt_set(&t->cfg.gateway.submit_token, "sub-secret");
    gwt_set(&t->cfg.gateway.host_token, "host-secret");
    gwt_set(&t->cfg.gateway.connector_token, "conn-secret");
    gwt_set(&t->cfg.gateway.dagmanager_url, "");
    if (gwt_configure)
        gwt_configure(&t->cfg);
    char err[1024];
    t->srv = gw_server_new(&t->cfg, err, sizeof(err));
    ck_assert_msg(t->srv != NULL, "gw_server_new: %s", err);
    ck_assert_int_eq(gw_server_bind(t->srv, err, sizeof(err)), 0);
}

static inline void gwt_stop(struct gwt *t, int remove_store)
{
    gw_server_free(t->srv);
    t->srv = NULL;
    config_release(&t->cfg);
    if (remove_store) {
        char p[300];
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", t->db, sfx[i]);
            unlink(p);
        }
        rmdir(t->dir);
    }
}

static void gwt_on_reply(struct evhttp_request *req, void *arg)
{
    struct gwt_resp *r = arg;
    r->done = 1;
    if (req) {
        r->code = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        r->body = malloc(n + 1);
        evbuffer_remove(in, r->body, n);
        r->body[n] = '\0';
        const char *et = evhttp_find_header(evhttp_request_get_input_headers(req), "ETag");
        snprintf(r->etag, sizeof(r->etag), "%s", et ? et : "");
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
    }
}

/* One request; 'headers' is NULL or "Name: value\n..." lines. Returns the status code. */
static inline int gwt_http(struct gwt *t, const char *method, const char *path, const char *body,
                           const char *headers, struct gwt_resp *r)
{
    memset(r, 0, sizeof(*r));
    struct event_base *base = gw_server_base(t->srv);
    struct evhttp_connection *c =
        evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)gw_server_port(t->srv));
    evhttp_connection_set_timeout(c, 5);
    struct evhttp_request *req = evhttp_request_new(gwt_on_reply, r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "127.0.0.1");
    if (headers) {
        char *copy = strdup(headers), *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            evhttp_add_header(h, line, v);
        }
        free(copy);
    }
    if (body)
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
    if (!strcmp(method, "POST"))
        cmd = EVHTTP_REQ_POST;
    else if (!strcmp(method, "PUT"))
        cmd = EVHTTP_REQ_PUT;
    else if (!strcmp(method, "DELETE"))
        cmd = EVHTTP_REQ_DELETE;
    ck_assert_int_eq(evhttp_make_request(c, req, cmd, path), 0);
    while (!r->done)
        event_base_loop(base, EVLOOP_ONCE);
    evhttp_connection_free(c);
    if (r->body && r->body[0])
        r->json = json_loads(r->body, JSON_DECODE_ANY, NULL);
    return r->code;
}

static inline void gwt_resp_free(struct gwt_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

#define GWT_OP "Authorization: Bearer op-secret\n"
#define GWT_SUB "Authorization: Bearer sub-secret\n"
#define GWT_HOST "Authorization: Bearer host-secret\n"
#define GWT_CONN "Authorization: Bearer conn-secret\n"

/* A fake DAG manager on t's loop, 127.0.0.1 (free port): every request goes to 'cb'. Its
 * base URL into url; free with evhttp_free. */
static inline struct evhttp *gwt_fake_dm(struct gwt *t, void (*cb)(struct evhttp_request *, void *),
                                         char *url, size_t len)
{
    struct evhttp *dm = evhttp_new(gw_server_base(t->srv));
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(dm, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    evhttp_set_gencb(dm, cb, NULL);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    snprintf(url, len, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    return dm;
}

/* Error code of a JSON error reply ("" when absent). */
static inline const char *gwt_err(const struct gwt_resp *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return c ? c : "";
}

#endif
