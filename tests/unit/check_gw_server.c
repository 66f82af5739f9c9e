/* gw_server: router, auth, size limits, JSON errors, metrics and event publication,
 * against a real server on 127.0.0.1. */
#include "gateway/gw_metrics.h"
#include "gateway/gw_routes.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "log.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static char last_rest[256];

static void echo_route(struct evhttp_request *req, const char *rest, void *arg)
{
    snprintf(last_rest, sizeof(last_rest), "%s", rest);
    gw_reply_json(req, 200, json_pack("{ss ss}", "route", (const char *)arg, "rest", rest));
}

START_TEST(test_router_exact_and_prefix)
{
    struct gwt t;
    gwt_start(&t, NULL);
    ck_assert_int_eq(gw_server_add_route(t.srv, "/x", echo_route, "x"), 0);
    ck_assert_int_eq(gw_server_add_route(t.srv, "/x/", echo_route, "x/"), 0);
    ck_assert_int_eq(gw_server_add_route(t.srv, "/x/deep/", echo_route, "x/deep/"), 0);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "GET", "/x", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "route")), "x");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/x/a/b?q=1", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "route")), "x/");
    ck_assert_str_eq(last_rest, "a/b");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/x/deep/z", NULL, GWT_OP, &r), 200); /* longest wins */
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "route")), "x/deep/");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/x/a%20b", NULL, GWT_OP, &r), 200); /* decoded */
    ck_assert_str_eq(last_rest, "a b");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/bad%ff%fe/x", NULL, GWT_OP, &r), 404);
    ck_assert_str_eq(gwt_err(&r), "E_NOT_FOUND"); /* still JSON with a non-UTF-8 path */
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/%ff", NULL, GWT_OP, &r), 404);
    ck_assert_str_eq(gwt_err(&r), "E_NOT_FOUND");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/nothing", NULL, GWT_OP, &r), 404);
    ck_assert_str_eq(gwt_err(&r), "E_NOT_FOUND");
    ck_assert_str_eq(r.content_type, "application/json");
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_status_health_metrics)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "GET", "/status", NULL, NULL, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    ck_assert(json_is_true(json_object_get(r.json, "enforce_live_guard")));
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/status", "{}", GWT_OP, &r), 405);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/health", NULL, NULL, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "store")), "ok");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/abc", NULL, GWT_OP, &r), 404);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/metrics", NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.content_type, "text/plain"));
    ck_assert_ptr_nonnull(strstr(
        r.body, "qmtl_gateway_requests_total{route=\"/status\",method=\"GET\",code=\"200\"} 1"));
    ck_assert_ptr_nonnull(strstr(
        r.body,
        "qmtl_gateway_requests_total{route=\"/worlds/{id}\",method=\"GET\",code=\"404\"} 1"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "qmtl_gateway_request_duration_seconds_count{route=\"/status\"} 2"));
    ck_assert_ptr_nonnull(strstr(r.body, "qmtl_gateway_ws_connections 0"));
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_operator_auth)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}", NULL, &r), 401);
    ck_assert_str_eq(gwt_err(&r), "E_UNAUTHORIZED");
    gwt_resp_free(&r);
    ck_assert_int_eq(
        gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}", "Authorization: Bearer op-secreT\n", &r),
        401);
    ck_assert_ptr_null(strstr(r.body, "op-secret")); /* the secret is never echoed */
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}",
                              "Authorization: Bearer op-secret-longer\n", &r),
                     401);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}", GWT_OP, &r), 201);
    gwt_resp_free(&r);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_AUTH_FAILURES), 3);
    /* no operator token configured: operator routes are refused */
    gwt_set(&t.cfg.gateway.operator_token, "");
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w2\"}", GWT_OP, &r), 401);
    ck_assert_ptr_nonnull(strstr(r.body, "operator_token"));
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_bad_json_bodies)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":", GWT_OP, &r), 400);
    ck_assert_str_eq(gwt_err(&r), "E_INVALID_JSON");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "[1]", GWT_OP, &r), 422);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", NULL, GWT_OP, &r), 400);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

/* Raw socket exchange for the size limits (the evhttp client would refuse to send these). */
static int raw_exchange(struct gwt *t, const char *data, size_t len, char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)gw_server_port(t->srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t off = 0;
    struct event_base *base = gw_server_base(t->srv);
    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else
            break;
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    size_t got = 0;
    for (int i = 0; i < 2000 && got < outlen - 1; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t n = recv(fd, out + got, outlen - 1 - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0)
            break;
        else
            usleep(1000);
    }
    out[got] = '\0';
    close(fd);
    return (int)got;
}

START_TEST(test_size_limits)
{
    struct gwt t;
    gwt_start(&t, NULL);
    char out[4096];
    /* header too large: 431 JSON */
    size_t big = (size_t)t.cfg.gateway.max_header_bytes + 100;
    char *req = malloc(big + 200);
    int n = snprintf(req, 200, "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    raw_exchange(&t, req, (size_t)n + big + 4, out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 431", 12) == 0, "got: %.80s", out);
    ck_assert_ptr_nonnull(strstr(out, "E_HEADERS_TOO_LARGE"));
    free(req);
    /* declared body too large: 413 JSON, without sending the body */
    char head[256];
    n = snprintf(head, sizeof(head),
                 "POST /worlds HTTP/1.1\r\nHost: x\r\nContent-Length: %ld\r\n\r\n",
                 t.cfg.gateway.max_body_bytes + 1);
    raw_exchange(&t, head, (size_t)n, out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 413", 12) == 0, "got: %.80s", out);
    ck_assert_ptr_nonnull(strstr(out, "E_BODY_TOO_LARGE"));
    /* chunked bodies: 411 */
    n = snprintf(head, sizeof(head),
                 "POST /worlds HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    raw_exchange(&t, head, (size_t)n, out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 411", 12) == 0, "got: %.80s", out);
    /* keep-alive: two requests with bodies on one connection both pass the guard */
    const char *two = "POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                      "Authorization: Bearer op-secret\r\n\r\n{}"
                      "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_exchange(&t, two, strlen(two), out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 404"));
    ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 200"));
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_LIMIT_REJECTIONS), 3);
    /* malformed heads get JSON 400s instead of libevent's HTML page */
    const char *bad_line = "GARBAGE\r\nHost: x\r\n\r\n";
    raw_exchange(&t, bad_line, strlen(bad_line), out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 400", 12) == 0, "got: %.80s", out);
    ck_assert_ptr_nonnull(strstr(out, "E_BAD_REQUEST"));
    const char *bad_hdr = "GET /status HTTP/1.1\r\nHost x\r\n\r\n";
    raw_exchange(&t, bad_hdr, strlen(bad_hdr), out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 400", 12) == 0, "got: %.80s", out);
    ck_assert_ptr_nonnull(strstr(out, "application/json"));
    /* methods a route lacks: JSON 405 */
    const char *patch = "PATCH /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        "Authorization: Bearer op-secret\r\n\r\n";
    raw_exchange(&t, patch, strlen(patch), out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 405", 12) == 0, "got: %.80s", out);
    ck_assert_ptr_nonnull(strstr(out, "E_METHOD_NOT_ALLOWED"));
    /* the server still serves normally */
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "GET", "/status", NULL, NULL, &r), 200);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

static json_t *seen;

static void listener(void *arg, int64_t seq, const char *type, const char *world, const char *env)
{
    (void)arg;
    json_array_append_new(seen, json_pack("{sI ss ss* ss}", "seq", (json_int_t)seq, "type", type,
                                          "world", world, "env", env));
}

START_TEST(test_publish_event)
{
    struct gwt t;
    gwt_start(&t, NULL);
    seen = json_array();
    ck_assert_int_eq(gw_server_add_listener(t.srv, listener, NULL), 0);
    ck_assert_int_eq(gw_server_publish_event(t.srv, "activation_updated", "w1",
                                             json_pack("{ss}", "world_id", "w1")),
                     0);
    ck_assert_int_eq(json_array_size(seen), 1);
    json_t *env =
        json_loads(json_string_value(json_object_get(json_array_get(seen, 0), "env")), 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(env, "specversion")), "1.0");
    ck_assert_str_eq(json_string_value(json_object_get(env, "type")), "activation_updated");
    ck_assert_str_eq(json_string_value(json_object_get(env, "datacontenttype")),
                     "application/json");
    ck_assert_int_eq(json_integer_value(json_object_get(env, "seq_no")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(env, "data"), "version")),
                     1);
    ck_assert_int_eq(strlen(json_string_value(json_object_get(env, "id"))), 36);
    json_decref(env);
    /* inside a transaction: listeners only after commit; nothing after rollback */
    ck_assert_int_eq(gw_server_txn_begin(t.srv), 0);
    ck_assert_int_eq(gw_server_publish_event(t.srv, "policy_updated", "w1", json_object()), 0);
    ck_assert_int_eq(json_array_size(seen), 1);
    ck_assert_int_eq(gw_server_txn_commit(t.srv), 0);
    ck_assert_int_eq(json_array_size(seen), 2);
    ck_assert_int_eq(gw_server_txn_begin(t.srv), 0);
    ck_assert_int_eq(gw_server_publish_event(t.srv, "policy_updated", "w1", json_object()), 0);
    gw_server_txn_rollback(t.srv);
    ck_assert_int_eq(json_array_size(seen), 2);
    ck_assert_int_eq(gw_server_publish_event(t.srv, "x", NULL, json_object()), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(seen, 2), "seq")), 3);
    /* not an object: refused */
    ck_assert_int_eq(gw_server_publish_event(t.srv, "x", NULL, json_integer(1)), -1);
    char dir[128];
    snprintf(dir, sizeof(dir), "%s", t.dir);
    gwt_stop(&t, 0);
    /* the sequence survives a restart */
    gwt_start(&t, dir);
    ck_assert_int_eq(gw_store_event_last_seq(gw_server_store(t.srv)), 3);
    ck_assert_int_eq(gw_server_add_listener(t.srv, listener, NULL), 0);
    ck_assert_int_eq(gw_server_publish_event(t.srv, "x", NULL, json_object()), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(seen, 3), "seq")), 4);
    json_decref(seen);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_event_log_trimmed)
{
    struct gwt t;
    gwt_start(&t, NULL);
    gw_server_set_event_log_keep(t.srv, 10);
    ck_assert_int_eq(gw_server_txn_begin(t.srv), 0);
    for (int i = 0; i < 1030; i++)
        ck_assert_int_eq(gw_server_publish_event(t.srv, "x", "w", json_object()), 0);
    ck_assert_int_eq(gw_server_txn_commit(t.srv), 0);
    struct gw_store *st = gw_server_store(t.srv);
    ck_assert_int_eq(gw_store_event_last_seq(st), 1030);
    ck_assert_int_eq(gw_store_event_first_seq(st), 1021);
    gwt_stop(&t, 1);
}
END_TEST

static void short_read_timeouts(struct qmtl_config *c)
{
    c->gateway.read_timeout_s = 0.6;
    c->gateway.read_idle_timeout_s = 5;
}

/* A client that trickles its request (a byte every 100 ms, never silent for long) is cut
 * by the total read timeout, not served forever; a prompt client on the same server is. */
START_TEST(test_slow_client_cut_by_read_timeout)
{
    gwt_configure = short_read_timeouts;
    struct gwt t;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    struct event_base *base = gw_server_base(t.srv);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)gw_server_port(t.srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *req = "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: "
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "\r\n\r\n";
    size_t len = strlen(req), sent = 0;
    int closed = 0;
    /* 150 bytes at 100 ms: 15 s if nothing cut it */
    while (sent < len && !closed) {
        if (send(fd, req + sent, 1, MSG_NOSIGNAL) != 1) {
            closed = 1;
            break;
        }
        sent++;
        for (int i = 0; i < 10; i++) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            usleep(10000);
        }
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = 1;
        ck_assert_msg(n <= 0, "the slow request was answered");
    }
    ck_assert_msg(closed, "a request trickled over %zu bytes was never cut", sent);
    ck_assert_uint_lt(sent, len);
    close(fd);
    /* the server still serves */
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "GET", "/status", NULL, NULL, &r), 200);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

static void short_idle_timeout(struct qmtl_config *c)
{
    c->gateway.read_timeout_s = 60;
    c->gateway.read_idle_timeout_s = 0.3;
}

/* A client that starts a request and falls silent is cut by the idle timeout. */
START_TEST(test_silent_client_cut_by_idle_timeout)
{
    gwt_configure = short_idle_timeout;
    struct gwt t;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    struct event_base *base = gw_server_base(t.srv);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)gw_server_port(t.srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *part = "GET /status HTTP/1.1\r\nHost: x\r\n";
    ck_assert_int_eq(send(fd, part, strlen(part), MSG_NOSIGNAL), (ssize_t)strlen(part));
    int closed = 0;
    for (int i = 0; i < 1000 && !closed; i++) { /* up to 10 s */
        event_base_loop(base, EVLOOP_NONBLOCK);
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = 1;
        else
            usleep(10000);
    }
    ck_assert_msg(closed, "a silent half-sent request kept its connection");
    close(fd);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_guard_parser)
{
    const char *ok = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                     "GET /b?x=1 HTTP/1.0\r\nX-A: b\r\n  folded\r\n\r\n";
    for (size_t chunk = 0; chunk < 12; chunk++)
        ck_assert_int_eq(gw_guard_simulate(1024, 10, ok, strlen(ok), chunk), 0);
    /* a body over the limit, whatever the read boundaries */
    const char *big = "POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
    for (size_t chunk = 0; chunk < 5; chunk++)
        ck_assert_int_eq(gw_guard_simulate(1024, 10, big, strlen(big), chunk), 413);
    /* the body of an accepted request is not parsed as a head */
    const char *body = "POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nGARBAGE\r\n";
    ck_assert_int_eq(gw_guard_simulate(1024, 10, body, strlen(body), 3), 0);
    const char *longhead = "GET /a HTTP/1.1\r\nX: 0123456789012345678901234567890123456789\r\n\r\n";
    ck_assert_int_eq(gw_guard_simulate(32, 10, longhead, strlen(longhead), 7), 431);
    ck_assert_int_eq(gw_guard_simulate(32, 10, "GET /a HTT", 10, 0), 0); /* incomplete: wait */
    const char *te = "POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
    ck_assert_int_eq(gw_guard_simulate(1024, 10, te, strlen(te), 2), 411);
    const char *bad[] = {"FETCH /a HTTP/1.1\r\n\r\n", "GET /a\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n",
                         "GET /a HTTP/x.1\r\n\r\n", "GET /a HTTP/1.1\r\nNoColon\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(gw_guard_simulate(1024, 10, bad[i], strlen(bad[i]), 1) == 400, "%s", bad[i]);
    /* after an Upgrade head, frames pass untouched */
    const char *up = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x05hello\xff\xff";
    ck_assert_int_eq(gw_guard_simulate(1024, 10, up, strlen(up), 4), 0);
    /* any other request with an Upgrade header stays guarded: the next head on the
     * connection is still measured, and so is its body */
    char next[1400];
    const char *heads[] = {"GET /status HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
                           "POST /ws HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\n{}",
                           "GET /ws HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n{}"};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        int n = snprintf(next, sizeof(next), "%sGET /x HTTP/1.1\r\nX-Pad: %01100d\r\n\r\n",
                         heads[i], 0);
        ck_assert_int_eq(gw_guard_simulate(1024, 10, next, (size_t)n, 0), 431);
        n = snprintf(next, sizeof(next), "%sPOST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n",
                     heads[i]);
        ck_assert_int_eq(gw_guard_simulate(1024, 10, next, (size_t)n, 7), 413);
    }
}
END_TEST

START_TEST(test_route_labels)
{
    ck_assert_str_eq(gw_metrics_route_label("/worlds/w1/activation"), "/worlds/{id}/activation");
    ck_assert_str_eq(gw_metrics_route_label("/worlds/w1"), "/worlds/{id}");
    ck_assert_str_eq(gw_metrics_route_label("/worlds/w1/policies/3"),
                     "/worlds/{id}/policies/{version}");
    ck_assert_str_eq(gw_metrics_route_label("/strategies/abc/status"), "/strategies/{id}/status");
    ck_assert_str_eq(gw_metrics_route_label("/strategies/dry-run"), "/strategies/dry-run");
    ck_assert_str_eq(gw_metrics_route_label("/worlds/w1/zzz"), "other");
    ck_assert_str_eq(gw_metrics_route_label("/random"), "other");
    ck_assert_str_eq(gw_metrics_route_label(NULL), "other");
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("gw_server");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_router_exact_and_prefix);
    tcase_add_test(tc, test_status_health_metrics);
    tcase_add_test(tc, test_operator_auth);
    tcase_add_test(tc, test_bad_json_bodies);
    tcase_add_test(tc, test_size_limits);
    tcase_add_test(tc, test_publish_event);
    tcase_add_test(tc, test_event_log_trimmed);
    tcase_add_test(tc, test_guard_parser);
    tcase_add_test(tc, test_slow_client_cut_by_read_timeout);
    tcase_add_test(tc, test_silent_client_cut_by_idle_timeout);
    tcase_add_test(tc, test_route_labels);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
