/* gw_hub against a real gw_server on 127.0.0.1 (port 0), clients in the same event loop. */
#include "config.h"
#include "gateway/gw_hub.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_server.h"
#include "gateway/gw_store.h"
#include "jwt.h"
#include "ws.h"

#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SECRET "hub-test-secret"
#define OPTOK "op-token"
#define SUBTOK "sub-token"

static struct qmtl_config cfg;
static struct gw_server *srv;
static struct gw_hub *hub;
static struct event_base *base;
static char dbpath[256];

/* ------------------------------------------------------------ fixture */

static double ping_interval = 0; /* no pings: raw readers see only the frames they expect */

static void setup_with(long outbuf_limit)
{
    config_init_defaults(&cfg);
    free(cfg.gateway.host);
    cfg.gateway.host = strdup("127.0.0.1");
    cfg.gateway.port = 0;
    snprintf(dbpath, sizeof(dbpath), "/tmp/qmtl-check-hub-%d-%ld.db", (int)getpid(),
             (long)time(NULL));
    free(cfg.gateway.store_path);
    cfg.gateway.store_path = strdup(dbpath);
    free(cfg.gateway.operator_token);
    cfg.gateway.operator_token = strdup(OPTOK);
    free(cfg.gateway.submit_token);
    cfg.gateway.submit_token = strdup(SUBTOK);
    free(cfg.gateway.event_secret);
    cfg.gateway.event_secret = strdup(SECRET);
    free(cfg.gateway.dagmanager_url);
    cfg.gateway.dagmanager_url = strdup("");
    cfg.gateway.ws_outbuf_limit_bytes = outbuf_limit;
    cfg.gateway.ws_max_message_bytes = 4096;
    cfg.gateway.ws_rate_limit_per_s = 20;
    cfg.gateway.ws_ping_interval_s = ping_interval;
    char err[256];
    srv = gw_server_new(&cfg, err, sizeof(err));
    ck_assert_msg(srv != NULL, "%s", err);
    hub = gw_hub_new(srv);
    ck_assert_ptr_nonnull(hub);
    ck_assert_int_eq(gw_server_bind(srv, err, sizeof(err)), 0);
    base = gw_server_base(srv);
}

static void setup(void)
{
    setup_with(1048576);
}

static void teardown(void)
{
    gw_hub_free(hub);
    gw_server_free(srv);
    config_release(&cfg);
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void run(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *t = evtimer_new(base, on_deadline, base);
    evtimer_add(t, &tv);
    event_base_dispatch(base);
    event_free(t);
}

/* ------------------------------------------------------------ HTTP client */

struct http_result {
    int code;
    json_t *body;
    int done;
};

static void http_done(struct evhttp_request *req, void *arg)
{
    struct http_result *r = arg;
    r->done = 1;
    r->code = req ? evhttp_request_get_response_code(req) : -1;
    if (req) {
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(b);
        r->body = json_loadb((const char *)evbuffer_pullup(b, (ev_ssize_t)n), n, 0, NULL);
    }
    event_base_loopbreak(base);
}

static struct http_result http(enum evhttp_cmd_type cmd, const char *path, const char *body,
                               const char *bearer)
{
    struct http_result r = {0, NULL, 0};
    struct evhttp_connection *cn =
        evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)gw_server_port(srv));
    struct evhttp_request *req = evhttp_request_new(http_done, &r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "127.0.0.1");
    evhttp_add_header(h, "Content-Type", "application/json");
    if (bearer) {
        char a[256];
        snprintf(a, sizeof(a), "Bearer %s", bearer);
        evhttp_add_header(h, "Authorization", a);
    }
    if (body)
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    evhttp_make_request(cn, req, cmd, path);
    /* stream clients break the loop on every message: keep going until the reply is in */
    for (int i = 0; i < 100 && !r.done; i++)
        run(50);
    evhttp_connection_free(cn);
    return r;
}

/* ------------------------------------------------------------ stream clients */

struct cli {
    struct ws_conn *ws;
    int open, closed, code;
    json_t *msgs; /* array of received JSON messages */
};

static void c_open(struct ws_conn *c, void *arg)
{
    (void)c;
    ((struct cli *)arg)->open = 1;
    event_base_loopbreak(base);
}

static void c_msg(struct ws_conn *c, int binary, const unsigned char *m, size_t n, void *arg)
{
    (void)c;
    (void)binary;
    struct cli *k = arg;
    json_t *j = json_loadb((const char *)m, n, 0, NULL);
    ck_assert_msg(j != NULL, "non-JSON frame '%.*s'", (int)n, (const char *)m);
    json_array_append_new(k->msgs, j);
    event_base_loopbreak(base);
}

static void c_close(struct ws_conn *c, int code, void *arg)
{
    (void)c;
    struct cli *k = arg;
    k->closed = 1;
    k->code = code;
    k->ws = NULL;
    event_base_loopbreak(base);
}

static const struct ws_handlers cli_h = {c_open, c_msg, NULL, NULL, c_close};

static void cli_connect(struct cli *k, const char *query, const char *token_header)
{
    memset(k, 0, sizeof(*k));
    k->msgs = json_array();
    char path[1024], hdr[1024] = "", err[200];
    snprintf(path, sizeof(path), "/ws/evt%s", query ? query : "");
    if (token_header)
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token_header);
    k->ws = ws_client_connect(base, "127.0.0.1", gw_server_port(srv), path, hdr, &cli_h, k, 0,
                              err, sizeof(err));
    ck_assert_msg(k->ws != NULL, "%s", err);
    for (int i = 0; i < 20 && !k->open && !k->closed; i++)
        run(250);
    run(50); /* initial snapshot, if any */
}

static void cli_free(struct cli *k)
{
    if (k->ws)
        ws_conn_abort(k->ws, WS_CLOSE_NORMAL);
    json_decref(k->msgs);
}

/* Wait until the client has at least n messages (bounded). */
static void wait_msgs(struct cli *k, size_t n)
{
    for (int i = 0; i < 40 && json_array_size(k->msgs) < n && !k->closed; i++)
        run(100);
}

static void wait_closed(struct cli *k)
{
    for (int i = 0; i < 40 && !k->closed; i++)
        run(100);
}

static json_t *event_data(const char *world, const char *extra_key, int v)
{
    return json_pack("{s:s,s:s,s:i}", "world_id", world, extra_key, "x", "n", v);
}

static const char *msg_type(struct cli *k, size_t i)
{
    return json_string_value(json_object_get(json_array_get(k->msgs, i), "type"));
}

static char *token_for(const char *world, const char *topic)
{
    const char *t[] = {topic, NULL};
    return gw_hub_mint_token(hub, world, "s1", topic ? t : NULL, 3600);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_subscribe)
{
    struct http_result r = http(EVHTTP_REQ_POST, "/events/subscribe",
                                "{\"world_id\":\"w1\",\"strategy_id\":\"s1\",\"topics\":"
                                "[\"activation\",\"queues\"]}",
                                SUBTOK);
    ck_assert_int_eq(r.code, 200);
    char want[128];
    snprintf(want, sizeof(want), "ws://127.0.0.1:%d/ws/evt", gw_server_port(srv));
    ck_assert_str_eq(json_string_value(json_object_get(r.body, "stream_url")), want);
    snprintf(want, sizeof(want), "ws://127.0.0.1:%d/ws", gw_server_port(srv));
    ck_assert_str_eq(json_string_value(json_object_get(r.body, "fallback_url")), want);
    ck_assert_int_eq(json_array_size(json_object_get(r.body, "topics")), 2);
    const char *exp = json_string_value(json_object_get(r.body, "expires_at"));
    ck_assert_ptr_nonnull(exp);
    ck_assert_uint_eq(strlen(exp), 20);
    struct jwt_key k = {"qmtl-1", (const unsigned char *)SECRET, strlen(SECRET)};
    char err[200];
    json_t *claims = jwt_verify_hs256(json_string_value(json_object_get(r.body, "token")), &k, 1,
                                      "controlbus", time(NULL), err, sizeof(err));
    ck_assert_msg(claims != NULL, "%s", err);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "world_id")), "w1");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "s1");
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")) -
                         json_integer_value(json_object_get(claims, "iat")),
                     cfg.gateway.token_ttl_s);
    json_decref(claims);
    json_decref(r.body);
    /* wrong types are refused, GET is refused */
    r = http(EVHTTP_REQ_POST, "/events/subscribe", "{\"topics\":\"activation\"}", SUBTOK);
    ck_assert_int_eq(r.code, 422);
    json_decref(r.body);
    r = http(EVHTTP_REQ_GET, "/events/subscribe", NULL, SUBTOK);
    ck_assert_int_eq(r.code, 405);
    json_decref(r.body);
    /* a plain GET on the stream path is not an upgrade */
    r = http(EVHTTP_REQ_GET, "/ws/evt", NULL, NULL);
    ck_assert_int_eq(r.code, 426);
    json_decref(r.body);
}
END_TEST

START_TEST(test_filters_and_envelope)
{
    char *tok = token_for("w1", "activation");
    struct cli a, b;
    cli_connect(&a, NULL, tok);           /* header token */
    char q[1024];
    snprintf(q, sizeof(q), "?token=%s", tok);
    cli_connect(&b, q, NULL);             /* query token */
    ck_assert(a.open && b.open);
    ck_assert_uint_eq(gw_hub_clients(hub), 2);
    ck_assert_int_eq(json_array_size(a.msgs), 0); /* no activation yet: empty snapshot */
    gw_server_publish_event(srv, "activation_updated", "w2", event_data("w2", "strategy_id", 1));
    gw_server_publish_event(srv, "queue_update", "w1", event_data("w1", "tags", 2));
    gw_server_publish_event(srv, "activation_updated", "w1", event_data("w1", "strategy_id", 3));
    gw_server_publish_event(srv, "progress", NULL, json_pack("{s:s}", "strategy_id", "s9"));
    wait_msgs(&a, 2);
    wait_msgs(&b, 2);
    run(100);
    ck_assert_int_eq(json_array_size(a.msgs), 2);
    ck_assert_int_eq(json_array_size(b.msgs), 2);
    json_t *e = json_array_get(a.msgs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "specversion")), "1.0");
    ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "activation_updated");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "seq_no")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "data"), "n")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "data"), "version")), 1);
    ck_assert_str_eq(msg_type(&a, 1), "progress");
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(srv), GW_M_WS_CONNECTIONS), 2);
    ck_assert_int_ge(gw_metrics_get(gw_server_metrics(srv), GW_M_EVENTS_RELAYED), 4);
    /* ?topics= narrows the token's topics; no overlap leaves only untyped events */
    struct cli c;
    snprintf(q, sizeof(q), "?topics=queue");
    cli_connect(&c, q, tok);
    gw_server_publish_event(srv, "activation_updated", "w1", event_data("w1", "strategy_id", 5));
    gw_server_publish_event(srv, "progress", NULL, json_pack("{s:s}", "strategy_id", "s9"));
    wait_msgs(&c, 1);
    run(100);
    ck_assert_int_eq(json_array_size(c.msgs), 1);
    ck_assert_str_eq(msg_type(&c, 0), "progress");
    cli_free(&a);
    cli_free(&b);
    cli_free(&c);
    free(tok);
}
END_TEST

START_TEST(test_bad_tokens)
{
    long before = gw_metrics_get(gw_server_metrics(srv), GW_M_AUTH_FAILURES);
    struct cli a, b, c;
    cli_connect(&a, "?token=garbage", NULL);
    wait_closed(&a);
    ck_assert_int_eq(a.code, 1008);
    /* signed with another secret */
    struct jwt_key k = {"qmtl-1", (const unsigned char *)"other", 5};
    json_t *claims = json_pack("{s:s,s:I}", "aud", "controlbus", "exp", (json_int_t)time(NULL) + 60);
    char err[200];
    char *t = jwt_sign_hs256(claims, &k, err, sizeof(err));
    cli_connect(&b, NULL, t);
    wait_closed(&b);
    ck_assert_int_eq(b.code, 1008);
    free(t);
    /* expired */
    char *exp = gw_hub_mint_token(hub, "w1", "s1", NULL, -10);
    cli_connect(&c, NULL, exp);
    wait_closed(&c);
    ck_assert_int_eq(c.code, 1008);
    free(exp);
    json_decref(claims);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(srv), GW_M_AUTH_FAILURES), before + 3);
    cli_free(&a);
    cli_free(&b);
    cli_free(&c);
    run(100);
    ck_assert_uint_eq(gw_hub_clients(hub), 0);
}
END_TEST

START_TEST(test_ack_refresh)
{
    char *tok = token_for("w1", "activation");
    struct cli a;
    cli_connect(&a, NULL, tok);
    const char *ack = "{\"type\":\"ack\",\"last_id\":\"evt-7\"}";
    ws_conn_send_text(a.ws, ack, strlen(ack));
    wait_msgs(&a, 1);
    ck_assert_str_eq(msg_type(&a, 0), "ack");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a.msgs, 0), "last_id")),
                     "evt-7");
    ck_assert_ptr_nonnull(json_object_get(json_array_get(a.msgs, 0), "ts"));
    /* refresh to world w2: now w2 events arrive, w1 events do not */
    char *tok2 = token_for("w2", "activation");
    char msg[1024];
    snprintf(msg, sizeof(msg), "{\"type\":\"refresh\",\"token\":\"%s\"}", tok2);
    ws_conn_send_text(a.ws, msg, strlen(msg));
    wait_msgs(&a, 2);
    ck_assert_str_eq(msg_type(&a, 1), "refresh_ack");
    gw_server_publish_event(srv, "activation_updated", "w1", event_data("w1", "strategy_id", 1));
    gw_server_publish_event(srv, "activation_updated", "w2", event_data("w2", "strategy_id", 2));
    wait_msgs(&a, 3);
    run(100);
    ck_assert_int_eq(json_array_size(a.msgs), 3);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(a.msgs, 2), "data"), "world_id")),
                     "w2");
    /* a bad refresh closes with 1008 */
    const char *bad = "{\"type\":\"refresh\",\"token\":\"nope\"}";
    ws_conn_send_text(a.ws, bad, strlen(bad));
    wait_closed(&a);
    ck_assert_int_eq(a.code, 1008);
    cli_free(&a);
    free(tok);
    free(tok2);
}
END_TEST

START_TEST(test_limits)
{
    char *tok = token_for("w1", "activation");
    struct cli a, b;
    cli_connect(&a, NULL, tok);
    char big[5000];
    memset(big, 'x', sizeof(big));
    ws_conn_send_text(a.ws, big, sizeof(big));
    wait_closed(&a);
    ck_assert_int_eq(a.code, 1009);
    /* flood: far above 20 messages/s */
    cli_connect(&b, NULL, tok);
    for (int i = 0; i < 200 && b.ws; i++)
        ws_conn_send_text(b.ws, "{}", 2);
    wait_closed(&b);
    ck_assert_int_eq(b.code, 1008);
    cli_free(&a);
    cli_free(&b);
    free(tok);
}
END_TEST

static void put_activation(const char *world, double weight)
{
    char body[200];
    snprintf(body, sizeof(body),
             "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true,\"weight\":%g}", weight);
    char path[100];
    snprintf(path, sizeof(path), "/worlds/%s/activation", world);
    struct http_result r = http(EVHTTP_REQ_PUT, path, body, OPTOK);
    ck_assert_int_eq(r.code, 200);
    json_decref(r.body);
}

START_TEST(test_activation_reaches_all_and_replay)
{
    struct http_result r = http(EVHTTP_REQ_POST, "/worlds", "{\"id\":\"w1\"}", OPTOK);
    ck_assert_msg(r.code == 201 || r.code == 200, "create world: %d", r.code);
    json_decref(r.body);
    char *tok = token_for("w1", "activation");
    struct cli s[3];
    for (int i = 0; i < 3; i++)
        cli_connect(&s[i], NULL, tok);
    put_activation("w1", 0.25);
    for (int i = 0; i < 3; i++) {
        wait_msgs(&s[i], 1);
        ck_assert_int_eq(json_array_size(s[i].msgs), 1);
        json_t *d = json_object_get(json_array_get(s[i].msgs, 0), "data");
        ck_assert_str_eq(json_string_value(json_object_get(d, "world_id")), "w1");
        ck_assert(json_number_value(json_object_get(d, "weight")) == 0.25);
    }
    int64_t seq1 = json_integer_value(json_object_get(json_array_get(s[0].msgs, 0), "seq_no"));
    for (int i = 0; i < 3; i++)
        cli_free(&s[i]);
    /* missed two changes: reconnect with last_seq_no replays them in order */
    put_activation("w1", 0.5);
    put_activation("w1", 0.75);
    char q[64];
    snprintf(q, sizeof(q), "?last_seq_no=%lld", (long long)seq1);
    struct cli re;
    cli_connect(&re, q, tok);
    wait_msgs(&re, 2);
    ck_assert_int_eq(json_array_size(re.msgs), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(re.msgs, 0), "seq_no")),
                     seq1 + 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(re.msgs, 1), "seq_no")),
                     seq1 + 2);
    cli_free(&re);
    /* connecting fresh gets the current state as a snapshot */
    struct cli fresh;
    cli_connect(&fresh, NULL, tok);
    ck_assert_int_eq(json_array_size(fresh.msgs), 1);
    json_t *d = json_object_get(json_array_get(fresh.msgs, 0), "data");
    ck_assert(json_is_true(json_object_get(d, "snapshot")));
    ck_assert(json_number_value(json_object_get(d, "weight")) == 0.75);
    cli_free(&fresh);
    /* events trimmed from the log: a snapshot instead of a replay */
    gw_store_event_trim(gw_server_store(srv), 0);
    struct cli old;
    cli_connect(&old, q, tok);
    ck_assert_int_eq(json_array_size(old.msgs), 1);
    d = json_object_get(json_array_get(old.msgs, 0), "data");
    ck_assert(json_is_true(json_object_get(d, "snapshot")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(old.msgs, 0), "seq_no")),
                     seq1 + 2);
    cli_free(&old);
    free(tok);
}
END_TEST

/* A raw client that does the handshake and then reads only when told to. */
static int raw_connect(const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rcv = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET /ws/evt?token=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     token);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* The first line of what the server sent on a raw connection (bounded wait). */
static void raw_first_line(int fd, char *out, size_t len)
{
    size_t got = 0;
    out[0] = '\0';
    for (int i = 0; i < 100 && !strchr(out, '\n'); i++) {
        run(20);
        ssize_t n = read(fd, out + got, len - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            out[got] = '\0';
        }
    }
}

/* Event streams are capped per credential and in total; the next upgrade gets 429. */
START_TEST(test_stream_caps)
{
    cfg.gateway.ws_max_connections_per_token = 2;
    cfg.gateway.ws_max_connections = 3;
    char line[256];
    char *anon = token_for("w1", "activation");
    int fds[4];
    for (int i = 0; i < 2; i++) {
        fds[i] = raw_connect(anon);
        raw_first_line(fds[i], line, sizeof(line));
        ck_assert_msg(strstr(line, " 101 ") != NULL, "stream %d: %s", i, line);
    }
    fds[2] = raw_connect(anon); /* a third for the same credential */
    raw_first_line(fds[2], line, sizeof(line));
    ck_assert_msg(strstr(line, " 429 ") != NULL, "third stream: %s", line);
    ck_assert_uint_eq(gw_hub_clients(hub), 2);
    close(fds[2]);
    /* another credential still gets in, up to the total */
    struct http_result r = http(EVHTTP_REQ_POST, "/events/subscribe", "{\"world_id\":\"w1\"}", SUBTOK);
    ck_assert_int_eq(r.code, 200);
    char *sub = strdup(json_string_value(json_object_get(r.body, "token")));
    json_decref(r.body);
    fds[2] = raw_connect(sub);
    raw_first_line(fds[2], line, sizeof(line));
    ck_assert_msg(strstr(line, " 101 ") != NULL, "submitter stream: %s", line);
    fds[3] = raw_connect(sub); /* total of 3 reached */
    raw_first_line(fds[3], line, sizeof(line));
    ck_assert_msg(strstr(line, " 429 ") != NULL, "fourth stream: %s", line);
    ck_assert_ptr_nonnull(strstr(line, "429"));
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    run(100);
    free(sub);
    free(anon);
}
END_TEST

START_TEST(test_slow_consumer_catches_up)
{
    char *tok = token_for("w1", "activation");
    int fd = raw_connect(tok);
    run(200);
    ck_assert_uint_eq(gw_hub_clients(hub), 1);
    char pad[2000];
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    int n_events = 3000; /* ~6 MB: more than the kernel buffers plus the 64 KiB limit */
    int64_t first = 0;
    for (int i = 0; i < n_events; i++) {
        gw_server_publish_event(srv, "activation_updated", "w1",
                                json_pack("{s:s,s:i,s:s}", "world_id", "w1", "i", i, "pad", pad));
        if (i == 0)
            first = gw_store_event_last_seq(gw_server_store(srv));
        if (i % 100 == 0)
            run(1);
    }
    ck_assert_int_gt(gw_metrics_get(gw_server_metrics(srv), GW_M_EVENTS_DROPPED), 0);
    /* now read everything: every seq_no must arrive once, in order */
    struct evbuffer *in = evbuffer_new();
    int64_t expect = first;
    int headers_done = 0;
    for (int spins = 0; spins < 4000 && expect < first + n_events; spins++) {
        char buf[65536];
        ssize_t r;
        while ((r = read(fd, buf, sizeof(buf))) > 0)
            evbuffer_add(in, buf, (size_t)r);
        if (!headers_done) {
            struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (p.pos < 0) {
                run(5);
                continue;
            }
            evbuffer_drain(in, (size_t)p.pos + 4);
            headers_done = 1;
        }
        for (;;) {
            size_t have = evbuffer_get_length(in);
            if (have < 2)
                break;
            unsigned char *h = evbuffer_pullup(in, have < 10 ? (ev_ssize_t)have : 10);
            /* text frames, and the keepalive ping a slow machine may reach */
            ck_assert(h[0] == 0x81 || h[0] == 0x89);
            size_t hl = 2, len = h[1] & 0x7f;
            if (len == 126) {
                if (have < 4)
                    break;
                len = ((size_t)h[2] << 8) | h[3];
                hl = 4;
            } else if (len == 127) {
                break; /* not expected here */
            }
            if (have < hl + len)
                break;
            unsigned char *f = evbuffer_pullup(in, (ev_ssize_t)(hl + len));
            if (f[0] == 0x89) {
                evbuffer_drain(in, hl + len);
                continue;
            }
            json_t *j = json_loadb((const char *)f + hl, len, 0, NULL);
            ck_assert_ptr_nonnull(j);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "seq_no")), expect);
            expect++;
            json_decref(j);
            evbuffer_drain(in, hl + len);
        }
        run(2);
    }
    ck_assert_int_eq(expect, first + n_events);
    evbuffer_free(in);
    close(fd);
    run(100);
    ck_assert_uint_eq(gw_hub_clients(hub), 0);
    free(tok);
}
END_TEST

static void setup_small(void)
{
    setup_with(65536);
}

static void setup_fast_ping(void)
{
    ping_interval = 0.25; /* sub-second: a silent client is dropped after 1.5 s */
    setup_with(1048576);
    ping_interval = 0;
}

START_TEST(test_keepalive_and_expiry)
{
    /* a raw client that never answers pings: closed with 1011 after two silent intervals
     * (+ 1 s) and counted as a keepalive drop */
    char *tok = token_for("w1", "activation");
    int fd = raw_connect(tok);
    /* a well-behaved client (answers pings) whose token expires in 2 s: closed with 1008 */
    char *short_tok = gw_hub_mint_token(hub, "w1", "s1", NULL, 2);
    struct cli a;
    cli_connect(&a, NULL, short_tok);
    ck_assert(a.open);
    unsigned char buf[8192];
    int saw_ping = 0, close_code = 0;
    size_t have = 0;
    for (int i = 0; i < 60 && (!close_code || !a.closed); i++) {
        run(100);
        ssize_t r = read(fd, buf + have, sizeof(buf) - have);
        if (r > 0)
            have += (size_t)r;
        /* skip the 101 head, then scan frames */
        unsigned char *p = memmem(buf, have, "\r\n\r\n", 4);
        if (!p)
            continue;
        p += 4;
        while (p + 2 <= buf + have) {
            size_t len = p[1] & 0x7f;
            if (p + 2 + len > buf + have)
                break;
            if (p[0] == 0x89)
                saw_ping = 1;
            if (p[0] == 0x88 && len >= 2)
                close_code = (p[2] << 8) | p[3];
            p += 2 + len;
        }
    }
    ck_assert(saw_ping);
    ck_assert_int_eq(close_code, 1011);
    ck_assert_int_eq(a.code, 1008); /* it answered every ping: only its token ended it */
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(srv), GW_M_WS_IDLE_DROPS), 1);
    close(fd);
    cli_free(&a);
    free(tok);
    free(short_tok);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("gw_hub");
    TCase *tc = tcase_create("hub");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_subscribe);
    tcase_add_test(tc, test_stream_caps);
    tcase_add_test(tc, test_filters_and_envelope);
    tcase_add_test(tc, test_bad_tokens);
    tcase_add_test(tc, test_ack_refresh);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_activation_reaches_all_and_replay);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("slow");
    tcase_set_timeout(ts, 60);
    tcase_add_checked_fixture(ts, setup_small, teardown);
    tcase_add_test(ts, test_slow_consumer_catches_up);
    suite_add_tcase(s, ts);
    TCase *tk = tcase_create("keepalive");
    tcase_set_timeout(tk, 60);
    tcase_add_checked_fixture(tk, setup_fast_ping, teardown);
    tcase_add_test(tk, test_keepalive_and_expiry);
    suite_add_tcase(s, tk);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
