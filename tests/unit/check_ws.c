#include "ws.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ pure helpers */

START_TEST(test_accept_key)
{
    char out[WS_ACCEPT_LEN + 1];
    /* RFC 6455 section 1.3 example */
    ck_assert_int_eq(ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ck_assert(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
    ck_assert(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="));
    ck_assert(!ws_key_valid("dGhlIHNhbXBsZSBub25jZR=="));
    ck_assert(!ws_key_valid("dGhlIHNhbXBsZSBub25j*Q=="));
    ck_assert(!ws_key_valid(NULL));
    char k[WS_KEY_LEN + 1];
    ck_assert_int_eq(ws_make_client_key(k), 0);
    ck_assert(ws_key_valid(k));
}
END_TEST

START_TEST(test_header_tokens)
{
    ck_assert(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
    ck_assert(ws_header_has_token("  websocket ", "websocket"));
    ck_assert(!ws_header_has_token("upgrades", "upgrade"));
    ck_assert(!ws_header_has_token("", "upgrade"));
    ck_assert(!ws_header_has_token(NULL, "upgrade"));
}
END_TEST

static const char good_req[] = "GET /ws/evt?token=abc HTTP/1.1\r\n"
                               "Host: 127.0.0.1:8000\r\n"
                               "Upgrade: WebSocket\r\n"
                               "Connection: keep-alive, Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "\r\n";

START_TEST(test_parse_request)
{
    char accept[WS_ACCEPT_LEN + 1], target[64], err[200];
    int status = 0;
    long n = ws_upgrade_parse_request(good_req, strlen(good_req), accept, target, sizeof(target),
                                      &status, err, sizeof(err));
    ck_assert_msg(n == (long)strlen(good_req), "%ld: %s", n, err);
    ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ck_assert_str_eq(target, "/ws/evt?token=abc");
    /* incomplete */
    ck_assert_int_eq(ws_upgrade_parse_request(good_req, 40, accept, NULL, 0, &status, err,
                                              sizeof(err)),
                     0);
    struct {
        const char *from, *to;
        int status;
        const char *msg;
    } cases[] = {
        {"GET ", "POST ", 405, "WebSocket upgrade needs GET, not 'POST'"},
        {"Version: 13", "Version: 8", 426, "unsupported 'Sec-WebSocket-Version' '8' (need 13)"},
        {"Upgrade: WebSocket", "Upgrade: h2c", 426, "missing 'Upgrade: websocket' header"},
        {"keep-alive, Upgrade", "keep-alive", 400, "'Connection' header lacks 'upgrade'"},
        {"Host:", "Hast:", 400, "missing 'Host' header"},
        {"ZQ==", "ZQ=", 400, "invalid 'Sec-WebSocket-Key'"},
        {"HTTP/1.1", "HTTP/1.0", 400, "WebSocket upgrade needs HTTP/1.1"},
        {"Upgrade: ", " Upgrade: ", 400, "obsolete header line folding"},
        {"Host: 1", "Ho st: 1", 400, "invalid character in header field name"},
        {"/ws/evt?token=abc", "/ws/\x01", 400, "control character in request target"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[512];
        const char *at = strstr(good_req, cases[i].from);
        ck_assert_ptr_nonnull(at);
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good_req), good_req, cases[i].to,
                 at + strlen(cases[i].from));
        status = 0;
        n = ws_upgrade_parse_request(buf, strlen(buf), accept, NULL, 0, &status, err,
                                     sizeof(err));
        ck_assert_msg(n == -1, "case %zu accepted", i);
        ck_assert_int_eq(status, cases[i].status);
        ck_assert_str_eq(err, cases[i].msg);
    }
    /* too many headers, too large */
    char *big = malloc(WS_MAX_HEAD_BYTES + 100);
    strcpy(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < WS_MAX_HEADERS + 1; i++)
        sprintf(big + strlen(big), "X-%d: y\r\n", i);
    strcat(big, "\r\n");
    ck_assert_int_eq(ws_upgrade_parse_request(big, strlen(big), accept, NULL, 0, &status, err,
                                              sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "too many header fields (more than 64)");
    memset(big, 'a', WS_MAX_HEAD_BYTES + 10);
    ck_assert_int_eq(ws_upgrade_parse_request(big, WS_MAX_HEAD_BYTES + 10, accept, NULL, 0,
                                              &status, err, sizeof(err)),
                     -1);
    free(big);
}
END_TEST

START_TEST(test_parse_response)
{
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nXX";
    struct ws_http_head h;
    char err[200];
    long n = ws_http_parse_head(resp, strlen(resp), 1, 4096, &h, err, sizeof(err));
    ck_assert_int_eq(n, (long)strlen(resp) - 2);
    ck_assert_int_eq(h.status, 101);
    ck_assert_int_eq(ws_client_check_response(&h, "dGhlIHNhbXBsZSBub25jZQ==", err, sizeof(err)), 0);
    ck_assert_int_eq(ws_client_check_response(&h, "AAAAAAAAAAAAAAAAAAAAAA==", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "wrong 'Sec-WebSocket-Accept' in upgrade response");
    ws_http_head_release(&h);
    const char *r404 = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    ck_assert_int_gt(ws_http_parse_head(r404, strlen(r404), 1, 4096, &h, err, sizeof(err)), 0);
    ck_assert_int_eq(ws_client_check_response(&h, "x", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "server refused the WebSocket upgrade with HTTP 404");
    ws_http_head_release(&h);
}
END_TEST

START_TEST(test_url_parse)
{
    char host[64], path[128], err[200];
    int port;
    ck_assert_int_eq(ws_url_parse("ws://127.0.0.1:8000/ws/evt?x=1", host, sizeof(host), &port,
                                  path, sizeof(path), err, sizeof(err)),
                     0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 8000);
    ck_assert_str_eq(path, "/ws/evt?x=1");
    ck_assert_int_eq(ws_url_parse("ws://[::1]", host, sizeof(host), &port, path, sizeof(path),
                                  err, sizeof(err)),
                     0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 80);
    ck_assert_str_eq(path, "/");
    ck_assert_int_eq(ws_url_parse("wss://h/x", host, sizeof(host), &port, path, sizeof(path),
                                  err, sizeof(err)),
                     -1);
    ck_assert_int_eq(ws_url_parse("ws://h:99999/", host, sizeof(host), &port, path, sizeof(path),
                                  err, sizeof(err)),
                     -1);
}
END_TEST

/* ------------------------------------------------------------ live connections */

struct fx {
    struct event_base *base;
    struct evhttp *http;
    int port;
    struct ws_conn *srv;      /* server side of the last accepted connection */
    struct ws_conn *cli;
    int srv_close, cli_close; /* close codes seen (0 = not yet) */
    int cli_open, pongs, drains;
    char got[256];            /* last message the client received */
    int n_got;
    int echo;                 /* server echoes text */
    int close_on_msg;         /* server closes with this code on a message */
    uint64_t max_msg;
};

static void stop_soon(struct fx *f)
{
    event_base_loopbreak(f->base);
}

static void srv_msg(struct ws_conn *c, int binary, const unsigned char *m, size_t n, void *arg)
{
    struct fx *f = arg;
    (void)binary;
    if (f->close_on_msg)
        ws_conn_close(c, (uint16_t)f->close_on_msg, "bye", 0);
    else if (f->echo)
        ws_conn_send_text(c, (const char *)m, n);
}

static void srv_close(struct ws_conn *c, int code, void *arg)
{
    struct fx *f = arg;
    (void)c;
    f->srv_close = code;
    f->srv = NULL;
    if (f->cli_close || !f->cli)
        stop_soon(f);
}

static void srv_pong(struct ws_conn *c, void *arg)
{
    (void)c;
    ((struct fx *)arg)->pongs++;
    event_base_loopbreak(((struct fx *)arg)->base);
}

static const struct ws_handlers srv_h = {NULL, srv_msg, srv_pong, NULL, srv_close};

static void cli_open(struct ws_conn *c, void *arg)
{
    (void)c;
    struct fx *f = arg;
    f->cli_open = 1;
    event_base_loopbreak(f->base);
}

static void cli_msg(struct ws_conn *c, int binary, const unsigned char *m, size_t n, void *arg)
{
    struct fx *f = arg;
    (void)c;
    (void)binary;
    snprintf(f->got, sizeof(f->got), "%.*s", (int)n, (const char *)m);
    f->n_got++;
    event_base_loopbreak(f->base);
}

static void cli_close(struct ws_conn *c, int code, void *arg)
{
    struct fx *f = arg;
    (void)c;
    f->cli_close = code;
    f->cli = NULL;
    if (f->srv_close || !f->srv)
        stop_soon(f);
}

static const struct ws_handlers cli_h = {cli_open, cli_msg, NULL, NULL, cli_close};

static const char *evhttp_hdr(void *arg, const char *name)
{
    return evhttp_find_header(arg, name);
}

static void ws_route(struct evhttp_request *req, void *arg)
{
    struct fx *f = arg;
    char accept[WS_ACCEPT_LEN + 1], err[200];
    int status;
    const char *method = evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "POST";
    if (ws_upgrade_check(method, evhttp_hdr, evhttp_request_get_input_headers(req), accept,
                         &status, err, sizeof(err)) != 0) {
        evhttp_send_error(req, status, err);
        return;
    }
    f->srv = ws_conn_accept_evhttp(req, accept, &srv_h, f, f->max_msg);
    ck_assert_ptr_nonnull(f->srv);
}

/* When set, evhttp reads through a pass-through filtering bufferevent, as the gateway's
 * input guard does. */
static int use_filter;

static struct bufferevent *filter_bevcb(struct event_base *base, void *arg)
{
    (void)arg;
    struct bufferevent *sock = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    return bufferevent_filter_new(sock, NULL, NULL, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->base = event_base_new();
    f->http = evhttp_new(f->base);
    if (use_filter)
        evhttp_set_bevcb(f->http, filter_bevcb, NULL);
    evhttp_set_timeout(f->http, 5);
    evhttp_set_cb(f->http, "/ws", ws_route, f);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl);
    f->port = ntohs(sin.sin_port);
}

static void fx_release(struct fx *f)
{
    if (f->cli)
        ws_conn_abort(f->cli, WS_CLOSE_GOING_AWAY);
    evhttp_free(f->http);
    event_base_free(f->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Run the loop until a handler breaks it or 'ms' pass. */
static void run(struct fx *f, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *t = evtimer_new(f->base, on_deadline, f->base);
    evtimer_add(t, &tv);
    event_base_dispatch(f->base);
    event_free(t);
}

static void connect_client(struct fx *f, const char *path)
{
    char err[200];
    f->cli = ws_client_connect(f->base, "127.0.0.1", f->port, path, "X-Test: 1\r\n", &cli_h, f,
                               0, err, sizeof(err));
    ck_assert_msg(f->cli != NULL, "%s", err);
    run(f, 2000);
}

START_TEST(test_echo_and_close)
{
    struct fx f;
    fx_init(&f);
    f.echo = 1;
    connect_client(&f, "/ws");
    ck_assert_int_eq(f.cli_open, 1);
    ck_assert_ptr_nonnull(f.srv);
    ck_assert_int_eq(ws_conn_send_text(f.cli, "hello", 5), 0);
    run(&f, 2000);
    ck_assert_str_eq(f.got, "hello");
    /* a large message crosses several reads */
    char *big = malloc(200000);
    memset(big, 'x', 199999);
    big[199999] = '\0';
    ck_assert_int_eq(ws_conn_send_text(f.cli, big, 199999), 0);
    run(&f, 2000);
    ck_assert_int_eq(f.n_got, 2);
    ck_assert_uint_eq(strlen(f.got), sizeof(f.got) - 1);
    free(big);
    /* ping from the server, pong from the client */
    ck_assert_int_eq(ws_conn_ping(f.srv, "p", 1), 0);
    run(&f, 2000);
    ck_assert_int_eq(f.pongs, 1);
    /* client closes normally: both sides see 1000 */
    ws_conn_close(f.cli, WS_CLOSE_NORMAL, NULL, 0);
    run(&f, 3000);
    if (!f.cli_close || !f.srv_close)
        run(&f, 3000);
    ck_assert_int_eq(f.cli_close, 1000);
    ck_assert_int_eq(f.srv_close, 1000);
    fx_release(&f);
}
END_TEST

START_TEST(test_connect_by_url)
{
    struct fx f;
    fx_init(&f);
    f.echo = 1;
    char url[64], err[200];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws?x=1", f.port);
    f.cli = ws_client_connect_url(f.base, url, NULL, &cli_h, &f, 0, err, sizeof(err));
    ck_assert_msg(f.cli != NULL, "%s", err);
    run(&f, 2000);
    ck_assert_int_eq(f.cli_open, 1);
    ck_assert_ptr_null(ws_client_connect_url(f.base, "wss://127.0.0.1/x", NULL, &cli_h, &f, 0,
                                             err, sizeof(err)));
    ck_assert_str_eq(err, "unsupported URL 'wss://127.0.0.1/x' (need ws:// or http://)");
    fx_release(&f);
}
END_TEST

START_TEST(test_server_close_policy)
{
    struct fx f;
    fx_init(&f);
    f.close_on_msg = WS_CLOSE_POLICY;
    connect_client(&f, "/ws");
    ck_assert_int_eq(f.cli_open, 1);
    ws_conn_send_text(f.cli, "x", 1);
    run(&f, 3000);
    if (!f.cli_close || !f.srv_close)
        run(&f, 3000);
    ck_assert_int_eq(f.cli_close, 1008);
    ck_assert_int_eq(f.srv_close, 1008);
    fx_release(&f);
}
END_TEST

START_TEST(test_too_big)
{
    struct fx f;
    fx_init(&f);
    f.echo = 1;
    f.max_msg = 1000;
    connect_client(&f, "/ws");
    char buf[1001];
    memset(buf, 'a', sizeof(buf));
    ws_conn_send_text(f.cli, buf, sizeof(buf));
    run(&f, 3000);
    if (!f.cli_close || !f.srv_close)
        run(&f, 3000);
    ck_assert_int_eq(f.n_got, 0);
    ck_assert_int_eq(f.cli_close, 1009);
    ck_assert_int_eq(f.srv_close, 1009);
    fx_release(&f);
}
END_TEST

START_TEST(test_shared_frame)
{
    struct fx f;
    fx_init(&f);
    connect_client(&f, "/ws");
    struct ws_frame *fr = ws_frame_text("{\"a\":1}", 7);
    ck_assert_uint_eq(ws_frame_len(fr), 9);
    ck_assert_int_eq(ws_conn_send_frame(f.srv, fr), 0);
    ck_assert_int_eq(ws_conn_send_frame(f.cli, fr), -1); /* clients must mask */
    ws_frame_unref(fr);
    run(&f, 2000);
    ck_assert_str_eq(f.got, "{\"a\":1}");
    char *big = malloc(70000);
    memset(big, 'b', 70000);
    fr = ws_frame_text(big, 70000);
    free(big);
    ck_assert_int_eq(ws_conn_send_frame(f.srv, fr), 0);
    ws_frame_unref(fr);
    run(&f, 2000);
    ck_assert_int_eq(f.n_got, 2);
    fx_release(&f);
}
END_TEST

START_TEST(test_refused_handshake)
{
    struct fx f;
    fx_init(&f);
    connect_client(&f, "/nope");
    ck_assert_int_eq(f.cli_open, 0);
    ck_assert_int_eq(f.cli_close, WS_CLOSE_ABNORMAL);
    fx_release(&f);
}
END_TEST

START_TEST(test_server_freed_first)
{
    /* evhttp_free with a live taken-over connection: the ws side ends without touching the
     * freed transport (valgrind/ASan verify), the client sees the TCP connection drop */
    struct fx f;
    fx_init(&f);
    connect_client(&f, "/ws");
    ck_assert_ptr_nonnull(f.srv);
    evhttp_free(f.http);
    f.http = evhttp_new(f.base);
    ck_assert_int_eq(f.srv_close, WS_CLOSE_ABNORMAL);
    run(&f, 2000);
    ck_assert_int_eq(f.cli_close, WS_CLOSE_ABNORMAL);
    fx_release(&f);
}
END_TEST

START_TEST(test_abort_and_peer_vanishes)
{
    struct fx f;
    fx_init(&f);
    connect_client(&f, "/ws");
    ck_assert_ptr_nonnull(f.srv);
    ws_conn_abort(f.cli, WS_CLOSE_GOING_AWAY);
    f.cli = NULL;
    run(&f, 2000);
    ck_assert_int_eq(f.srv_close, 1001);
    fx_release(&f);
}
END_TEST

START_TEST(test_filtered_echo)
{
    use_filter = 1;
    struct fx f;
    fx_init(&f);
    f.echo = 1;
    connect_client(&f, "/ws");
    ck_assert_int_eq(f.cli_open, 1);
    ck_assert_int_eq(ws_conn_send_text(f.cli, "through the filter", 18), 0);
    run(&f, 2000);
    ck_assert_str_eq(f.got, "through the filter");
    /* output accounting sees the socket buffer, not the (empty) filter */
    /* 8 MB to a client that is not reading yet: beyond the kernel's buffers, the rest must
     * show in the output accounting (the socket's buffer, not the filter's) */
    char *chunk = malloc(65536);
    memset(chunk, 'c', 65536);
    for (int i = 0; i < 128; i++)
        ck_assert_int_eq(ws_conn_send_text(f.srv, chunk, 65536), 0);
    free(chunk);
    ck_assert_uint_gt(ws_conn_outbuf_len(f.srv), 0);
    struct ws_frame *fr = ws_frame_text("abc", 3);
    ws_conn_send_frame(f.srv, fr); /* queued behind the backlog, in order */
    ws_frame_unref(fr);
    for (int i = 0; i < 200 && f.n_got < 1 + 128 + 1; i++)
        run(&f, 50);
    ck_assert_int_eq(f.n_got, 1 + 128 + 1);
    ck_assert_str_eq(f.got, "abc");
    ck_assert_uint_eq(ws_conn_outbuf_len(f.srv), 0);
    ws_conn_close(f.srv, WS_CLOSE_GOING_AWAY, "bye", 0);
    run(&f, 3000);
    if (!f.cli_close || !f.srv_close)
        run(&f, 3000);
    ck_assert_int_eq(f.cli_close, 1001);
    ck_assert_int_eq(f.srv_close, 1001);
    fx_release(&f);
    use_filter = 0;
}
END_TEST

START_TEST(test_filtered_server_freed_first)
{
    use_filter = 1;
    struct fx f;
    fx_init(&f);
    connect_client(&f, "/ws");
    ck_assert_ptr_nonnull(f.srv);
    evhttp_free(f.http);
    f.http = evhttp_new(f.base);
    ck_assert_int_eq(f.srv_close, WS_CLOSE_ABNORMAL);
    run(&f, 2000);
    ck_assert_int_eq(f.cli_close, WS_CLOSE_ABNORMAL);
    fx_release(&f);
    use_filter = 0;
}
END_TEST

/* One masked client frame. */
static size_t mk_frame(unsigned char *out, int fin, unsigned op, const char *payload)
{
    size_t n = strlen(payload), o = 0;
    static const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
    out[o++] = (unsigned char)((fin ? 0x80 : 0) | op);
    out[o++] = (unsigned char)(0x80 | n);
    memcpy(out + o, mask, 4);
    o += 4;
    for (size_t i = 0; i < n; i++)
        out[o++] = (unsigned char)(payload[i] ^ mask[i % 4]);
    return o;
}

static size_t read_avail(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t r;
    while (got < cap && (r = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)r;
    return got;
}

START_TEST(test_raw_fragments_and_parser_release)
{
    struct fx f;
    fx_init(&f);
    f.echo = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f.port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    const char *req = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    run(&f, 200);
    unsigned char buf[4096];
    size_t got = read_avail(fd, buf, sizeof(buf));
    buf[got] = '\0';
    ck_assert_ptr_nonnull(strstr((char *)buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    ck_assert_int_eq(ws_parsers_alive(), 0); /* idle: no parser */
    unsigned char fr[256];
    size_t n = mk_frame(fr, 0, 1, "hel");
    n += mk_frame(fr + n, 1, 9, "p");
    size_t n2 = mk_frame(fr + n, 1, 0, "lo");
    /* everything but the last 3 bytes, then the rest: a frame split across reads */
    ck_assert_int_eq(write(fd, fr, n + n2 - 3), (ssize_t)(n + n2 - 3));
    run(&f, 200);
    ck_assert_int_eq(ws_parsers_alive(), 1); /* a fragmented message is open */
    ck_assert_int_eq(write(fd, fr + n + n2 - 3, 3), 3);
    run(&f, 200);
    got = read_avail(fd, buf, sizeof(buf));
    const unsigned char want[] = {0x8a, 0x01, 'p', 0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    ck_assert_uint_eq(got, sizeof(want));
    ck_assert(memcmp(buf, want, sizeof(want)) == 0);
    ck_assert_int_eq(ws_parsers_alive(), 0); /* released at the frame boundary */
    /* an unmasked client frame is a protocol error: close 1002 */
    unsigned char bad[] = {0x81, 0x01, 'x'};
    ck_assert_int_eq(write(fd, bad, sizeof(bad)), 3);
    run(&f, 300);
    got = read_avail(fd, buf, sizeof(buf));
    ck_assert_uint_ge(got, 4);
    ck_assert_int_eq(buf[0], 0x88);
    ck_assert_int_eq((buf[2] << 8) | buf[3], 1002);
    close(fd);
    run(&f, 300);
    ck_assert_int_eq(f.srv_close, 1002);
    ck_assert_int_eq(ws_parsers_alive(), 0);
    fx_release(&f);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("ws");
    TCase *tc = tcase_create("handshake");
    tcase_add_test(tc, test_accept_key);
    tcase_add_test(tc, test_header_tokens);
    tcase_add_test(tc, test_parse_request);
    tcase_add_test(tc, test_parse_response);
    tcase_add_test(tc, test_url_parse);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("live");
    tcase_set_timeout(tl, 30);
    tcase_add_test(tl, test_echo_and_close);
    tcase_add_test(tl, test_connect_by_url);
    tcase_add_test(tl, test_server_close_policy);
    tcase_add_test(tl, test_too_big);
    tcase_add_test(tl, test_shared_frame);
    tcase_add_test(tl, test_refused_handshake);
    tcase_add_test(tl, test_server_freed_first);
    tcase_add_test(tl, test_abort_and_peer_vanishes);
    tcase_add_test(tl, test_filtered_echo);
    tcase_add_test(tl, test_raw_fragments_and_parser_release);
    tcase_add_test(tl, test_filtered_server_freed_first);
    suite_add_tcase(s, tl);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
