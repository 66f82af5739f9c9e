/* world_client: the verbs against a scripted in-test gateway on 127.0.0.1 (one thread
 * answering a fixed sequence of connections), checking the requests sent, the text
 * printed and the exit codes. The real gateway is exercised by e2e/t080-world-cli.sh. */
#include "cli/world/world_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EXCHANGES 8

struct mock {
    int lfd, port, n;
    const char *replies[MAX_EXCHANGES];
    char requests[MAX_EXCHANGES][4096];
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct mock *m = arg;
    for (int k = 0; k < m->n; k++) {
        int fd = accept(m->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char *req = m->requests[k];
        size_t len = 0;
        for (;;) {
            ssize_t r = recv(fd, req + len, 4095 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            if (!end)
                continue;
            char *cl = strcasestr(req, "Content-Length:");
            size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
            if (len >= (size_t)(end - req) + 4 + body)
                break;
        }
        size_t n = strlen(m->replies[k]);
        if (send(fd, m->replies[k], n, MSG_NOSIGNAL) < 0)
            k = m->n;
        close(fd);
    }
    return NULL;
}

static void mock_start(struct mock *m, int n, const char *const *replies)
{
    memset(m, 0, sizeof(*m));
    m->n = n;
    for (int i = 0; i < n; i++)
        m->replies[i] = replies[i];
    m->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(m->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(m->lfd, MAX_EXCHANGES), 0);
    socklen_t sl = sizeof(a);
    getsockname(m->lfd, (struct sockaddr *)&a, &sl);
    m->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&m->thread, NULL, serve, m), 0);
}

static void mock_stop(struct mock *m)
{
    pthread_join(m->thread, NULL);
    close(m->lfd);
}

struct io {
    char url[64];
    char *out, *err;
    size_t outlen, errlen;
    struct world_client wc;
};

static void io_open(struct io *io, struct mock *m, const char *token)
{
    memset(io, 0, sizeof(*io));
    snprintf(io->url, sizeof(io->url), "http://127.0.0.1:%d", m->port);
    io->wc.url = io->url;
    io->wc.token = token;
    io->wc.timeout_s = 5;
    io->wc.out = open_memstream(&io->out, &io->outlen);
    io->wc.err = open_memstream(&io->err, &io->errlen);
}

static void io_close(struct io *io)
{
    fclose(io->wc.out);
    fclose(io->wc.err);
}

static void io_free(struct io *io)
{
    free(io->out);
    free(io->err);
}

#define JSON_REPLY(status, extra, body)                                                          \
    "HTTP/1.1 " status "\r\nContent-Type: application/json\r\n" extra "Content-Length: %zu\r\n"  \
    "\r\n" body

#define OK_REPLY "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n"

static char *reply(const char *fmt_head, const char *body)
{
    char *s = NULL;
    if (asprintf(&s, fmt_head, strlen(body)) < 0)
        return NULL;
    char *full = NULL;
    if (asprintf(&full, "%s%s", s, body) < 0)
        full = NULL;
    free(s);
    return full;
}

START_TEST(test_activate_detects_concurrent_change)
{
    const char *cur = "{\"etag\":\"act:w:s1:long:1\",\"active\":false,\"weight\":0.0}";
    const char *later = "{\"etag\":\"act:w:s1:long:2\",\"active\":false,\"weight\":0.0,"
                        "\"applied\":false}";
    char *r1 = reply("HTTP/1.1 200 OK\r\nETag: \"act:w:s1:long:1\"\r\nContent-Length: %zu\r\n\r\n",
                     cur);
    char *r2 = reply("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", later);
    /* what the world knows (read first, for the unseen-strategy warning): s1 is decided */
    char *b = reply(OK_REPLY, "{\"strategies\":[],\"names\":{}}");
    char *d = reply(OK_REPLY, "{\"strategies\":[\"s1\"]}");
    char *st = reply(OK_REPLY, "{\"state\":{},\"version\":0}");
    struct mock m;
    mock_start(&m, 5, (const char *const[]){b, d, st, r1, r2});
    struct io io;
    io_open(&io, &m, "tok");
    struct wc_activate a = {.strategy = "s1", .side = "long", .active = 1, .has_weight = 1,
                            .weight = 0.5};
    int rc = wc_activate(&io.wc, "w", &a);
    io_close(&io);
    mock_stop(&m);
    ck_assert_int_eq(rc, WC_REFUSED);
    ck_assert_msg(strstr(io.err, "was changed by someone else (etag 'act:w:s1:long:1', now "
                                 "'act:w:s1:long:2'); nothing applied"),
                  "%s", io.err);
    ck_assert_ptr_null(strstr(io.err, "WARN"));
    ck_assert_str_eq(io.out, "");
    ck_assert_msg(!strncmp(m.requests[0], "GET /worlds/w/bindings ", 23), "%s", m.requests[0]);
    ck_assert_msg(!strncmp(m.requests[1], "GET /worlds/w/decisions ", 24), "%s", m.requests[1]);
    ck_assert_msg(!strncmp(m.requests[2], "GET /worlds/w/activation ", 25), "%s", m.requests[2]);
    ck_assert_msg(!strncmp(m.requests[3], "GET /worlds/w/activation?strategy_id=s1&side=long ", 50),
                  "%s", m.requests[3]);
    ck_assert_msg(!strncmp(m.requests[4], "PUT /worlds/w/activation HTTP/1.1", 33), "%s",
                  m.requests[4]);
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\r\nIf-Match: \"act:w:s1:long:1\"\r\n"));
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\r\nAuthorization: Bearer tok\r\n"));
    ck_assert_ptr_null(strstr(m.requests[4], "X-Allow-Live"));
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\"strategy_id\":\"s1\""));
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\"weight\":0.5"));
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\"active\":true"));
    io_free(&io);
    free(r1);
    free(r2);
    free(b);
    free(d);
    free(st);
}
END_TEST

START_TEST(test_activate_new_entry)
{
    const char *nf = "{\"error\":{\"code\":\"E_NOT_FOUND\",\"message\":\"activation not found\"}}";
    const char *done = "{\"etag\":\"act:w:s1:short:7\",\"active\":true,\"weight\":1.0,"
                       "\"freeze\":true,\"drain\":false,\"applied\":true}";
    char *r1 = reply("HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n\r\n", nf);
    char *r2 = reply("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", done);
    /* the world has seen other strategies only: a warning, and the change goes on */
    char *b = reply(OK_REPLY, "{\"strategies\":[\"u9\"],\"names\":{\"u9\":\"mom\"}}");
    char *d = reply(OK_REPLY, "{\"strategies\":[\"s2\"]}");
    char *st = reply(OK_REPLY, "{\"state\":{\"s3\":{}},\"version\":4}");
    struct mock m;
    mock_start(&m, 5, (const char *const[]){b, d, st, r1, r2});
    struct io io;
    io_open(&io, &m, NULL);
    struct wc_activate a = {.strategy = "s1", .side = "short", .active = 1, .freeze = 1,
                            .allow_live = 1};
    int rc = wc_activate(&io.wc, "w", &a);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(rc == WC_OK, "%s", io.err);
    ck_assert_str_eq(io.out, "w s1 short: active weight 1 frozen (etag act:w:s1:short:7)\n");
    ck_assert_msg(!strncmp(io.err, "qmtl world: WARN: world 'w' has never seen strategy 's1' ",
                           57),
                  "%s", io.err);
    ck_assert_msg(strstr(io.err, "\n  bound strategies: mom (u9)\n") != NULL, "%s", io.err);
    ck_assert_ptr_null(strstr(m.requests[4], "If-Match"));
    ck_assert_ptr_null(strstr(m.requests[4], "Authorization"));
    ck_assert_ptr_nonnull(strstr(m.requests[4], "\r\nX-Allow-Live: true\r\n"));
    ck_assert_ptr_null(strstr(m.requests[4], "\"weight\""));
    io_free(&io);
    free(r1);
    free(r2);
    free(b);
    free(d);
    free(st);
}
END_TEST

/* A strategy known by name only (a host's submission, bound by id): no warning. */
START_TEST(test_activate_known_by_name)
{
    char *b = reply(OK_REPLY, "{\"strategies\":[\"u9\"],\"names\":{\"u9\":\"mom\"}}");
    char *nf = reply("HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n\r\n", "{}");
    char *done = reply(OK_REPLY, "{\"etag\":\"e\",\"active\":true,\"applied\":true}");
    struct mock m;
    mock_start(&m, 5, (const char *const[]){b, nf, nf, nf, done});
    struct io io;
    io_open(&io, &m, NULL);
    struct wc_activate a = {.strategy = "mom", .side = "long", .active = 1};
    int rc = wc_activate(&io.wc, "w", &a);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(rc == WC_OK, "%s", io.err);
    ck_assert_str_eq(io.err, "");
    io_free(&io);
    free(b);
    free(nf);
    free(done);
}
END_TEST

START_TEST(test_errors)
{
    char *r1 = reply("HTTP/1.1 502 Bad Gateway\r\nContent-Length: %zu\r\n\r\n", "<html>oops");
    char *r2 = reply("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", "{not json");
    char *r3 = reply(JSON_REPLY("401 Unauthorized", "", ""),
                     "{\"error\":{\"code\":\"E_UNAUTHORIZED\",\"message\":\"invalid operator "
                     "token\"},\"detail\":\"invalid operator token\"}");
    struct mock m;
    mock_start(&m, 3, (const char *const[]){r1, r2, r3});
    struct io io;
    io_open(&io, &m, "");
    int a = wc_get(&io.wc, "a b/c");
    int b = wc_list(&io.wc);
    int c = wc_audit(&io.wc, "w", 5);
    io_close(&io);
    mock_stop(&m);
    ck_assert_int_eq(a, WC_REFUSED);
    ck_assert_int_eq(b, WC_UNREACHABLE);
    ck_assert_int_eq(c, WC_REFUSED);
    ck_assert_msg(!strncmp(m.requests[0], "GET /worlds/a%20b%2Fc HTTP/1.1", 30), "%s",
                  m.requests[0]);
    ck_assert_msg(!strncmp(m.requests[2], "GET /worlds/w/audit?limit=5 HTTP/1.1", 36), "%s",
                  m.requests[2]);
    ck_assert_ptr_nonnull(strstr(io.err, "qmtl world: 502: the gateway answered without an "
                                         "error body\n"));
    ck_assert_ptr_nonnull(strstr(io.err, "qmtl world: malformed response from http://"));
    ck_assert_ptr_nonnull(
        strstr(io.err, "qmtl world: 401 E_UNAUTHORIZED: invalid operator token\n"
                       "  hint: no operator token was sent"));
    ck_assert_str_eq(io.out, "");
    io_free(&io);
    free(r1);
    free(r2);
    free(r3);
}
END_TEST

START_TEST(test_list_table_and_json)
{
    const char *body = "[{\"id\":\"alpha\",\"name\":null,\"mode\":\"live\"},"
                       "{\"id\":\"b\",\"name\":\"Beta world\"}]";
    char *r = reply("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body);
    struct mock m;
    mock_start(&m, 2, (const char *const[]){r, r});
    struct io io;
    io_open(&io, &m, NULL);
    ck_assert_int_eq(wc_list(&io.wc), WC_OK);
    io.wc.json = 1;
    ck_assert_int_eq(wc_list(&io.wc), WC_OK);
    io_close(&io);
    mock_stop(&m);
    char want[512];
    snprintf(want, sizeof(want),
             "ID     NAME        MODE\n"
             "alpha  -           live\n"
             "b      Beta world  validate\n"
             "%s\n",
             body);
    ck_assert_str_eq(io.out, want);
    io_free(&io);
    free(r);
}
END_TEST

START_TEST(test_decide_explains_no_active)
{
    char *dec = reply(OK_REPLY, "{\"world_id\":\"w\",\"effective_mode\":\"validate\","
                                "\"reason\":\"no_active_strategies\",\"policy_version\":2}");
    char *b = reply(OK_REPLY, "{\"strategies\":[\"u1\"],\"names\":{\"u1\":\"mom\"}}");
    char *d = reply(OK_REPLY, "{\"strategies\":[]}");
    char *st = reply(OK_REPLY, "{\"state\":{\"s1\":{}},\"version\":3}");
    char *pol = reply(OK_REPLY, "{\"policies\":[],\"default_version\":2}");
    char *aud = reply(OK_REPLY, "{\"entries\":[{\"event\":\"apply_completed\",\"details\":"
                                "{\"basis\":\"policy\",\"run_id\":\"r7\",\"candidates\":3,"
                                "\"active\":[]}},{\"event\":\"activation_set\"}]}");
    struct mock m;
    mock_start(&m, 6, (const char *const[]){dec, b, d, st, pol, aud});
    struct io io;
    io_open(&io, &m, "tok");
    int rc = wc_decide(&io.wc, "w");
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(rc == WC_OK, "%s", io.err);
    const char *want[] = {
        "reason:          no_active_strategies\n",
        "\nwhy: no strategy of world 'w' is decided active",
        "\n  - default policy: version 2 (qmtl world policy get w)\n",
        "\n  - bound (submitted) but not decided: mom (u1)\n",
        "\n  - activation entries exist (s1), but activation alone",
        "\n  - the last apply (run 'r7') evaluated the policy over 3 strategies and none "
        "passed its thresholds\n",
        "\nfix: qmtl world apply w --run-id RUN --metrics FILE (metrics that pass the policy), "
        "or qmtl world apply w --run-id RUN --activate s1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(strstr(io.out, want[i]) != NULL, "missing '%s' in:\n%s", want[i], io.out);
    ck_assert_msg(!strncmp(m.requests[4], "GET /worlds/w/policies ", 23), "%s", m.requests[4]);
    ck_assert_msg(!strncmp(m.requests[5], "GET /worlds/w/audit?limit=200 ", 30), "%s",
                  m.requests[5]);
    ck_assert_str_eq(io.err, "");
    io_free(&io);
    free(dec);
    free(b);
    free(d);
    free(st);
    free(pol);
    free(aud);
}
END_TEST

/* Nothing more can be read (e.g. an older gateway): the reason, and a generic fix. An
 * active world gets no explanation (one request only). */
START_TEST(test_decide_explanation_degrades)
{
    char *dec = reply(OK_REPLY, "{\"reason\":\"no_active_strategies\"}");
    char *fail = reply("HTTP/1.1 500 Oops\r\nContent-Length: %zu\r\n\r\n", "{}");
    char *act = reply(OK_REPLY, "{\"reason\":\"policy_evaluated\"}");
    struct mock m;
    mock_start(&m, 7, (const char *const[]){dec, fail, fail, fail, fail, fail, act});
    struct io io;
    io_open(&io, &m, NULL);
    ck_assert_int_eq(wc_decide(&io.wc, "w"), WC_OK);
    fflush(io.wc.out);
    size_t first = io.outlen;
    ck_assert_int_eq(wc_decide(&io.wc, "w"), WC_OK);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(strstr(io.out, "\nwhy: no strategy of world 'w'") != NULL, "%s", io.out);
    ck_assert_msg(strstr(io.out, "\nfix: qmtl world apply w --run-id RUN --activate STRATEGY") !=
                      NULL,
                  "%s", io.out);
    ck_assert_ptr_null(strstr(io.out, "  - "));
    ck_assert_ptr_null(strstr(io.out + first, "why:"));
    ck_assert_str_eq(io.err, "");
    io_free(&io);
    free(dec);
    free(fail);
    free(act);
}
END_TEST

START_TEST(test_policy_set_get)
{
    char *added = reply(OK_REPLY, "{\"version\":3}");
    char *dflt = reply(OK_REPLY, "{\"world_id\":\"w\",\"default_policy_version\":3}");
    char *none = reply(OK_REPLY, "{\"policies\":[],\"default_version\":0}");
    char *list = reply(OK_REPLY, "{\"policies\":[],\"default_version\":3}");
    char *one = reply(OK_REPLY, "{\"version\":3,\"policy\":{\"top_k\":{\"metric\":\"s\",\"k\":1}}}");
    struct mock m;
    mock_start(&m, 5, (const char *const[]){added, dflt, none, list, one});
    struct io io;
    io_open(&io, &m, "tok");
    ck_assert_int_eq(wc_policy_set(&io.wc, "w", "{\"top_k\": {\"metric\": \"s\", \"k\": 1}}",
                                   "p.json"),
                     WC_OK);
    /* not JSON, not an object: refused before any request */
    ck_assert_int_eq(wc_policy_set(&io.wc, "w", "{\"a\": ", "bad.json"), WC_REFUSED);
    ck_assert_int_eq(wc_policy_set(&io.wc, "w", "[1]", "arr.json"), WC_REFUSED);
    ck_assert_int_eq(wc_policy_get(&io.wc, "w", 0), WC_REFUSED); /* no default */
    ck_assert_int_eq(wc_policy_get(&io.wc, "w", 0), WC_OK);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(!strncmp(m.requests[0], "POST /worlds/w/policies ", 24), "%s", m.requests[0]);
    ck_assert_ptr_nonnull(strstr(m.requests[0], "{\"policy\":{\"top_k\":{\"metric\":\"s\",\"k\":1}}}"));
    ck_assert_msg(!strncmp(m.requests[1], "POST /worlds/w/set-default ", 27), "%s",
                  m.requests[1]);
    ck_assert_ptr_nonnull(strstr(m.requests[1], "{\"version\":3}"));
    ck_assert_msg(!strncmp(m.requests[4], "GET /worlds/w/policies/3 ", 25), "%s", m.requests[4]);
    ck_assert_str_eq(io.out, "world 'w': policy version 3 is the default\n"
                             "# world 'w', policy version 3 (the default)\n"
                             "{\n  \"top_k\": {\n    \"k\": 1,\n    \"metric\": \"s\"\n  }\n}\n");
    ck_assert_msg(strstr(io.err, "qmtl world: bad.json:1:") != NULL, "%s", io.err);
    ck_assert_msg(strstr(io.err, "qmtl world: arr.json: expected a JSON object") != NULL, "%s",
                  io.err);
    ck_assert_msg(strstr(io.err, "world 'w' has no default policy; set one with: qmtl world "
                                 "policy set w FILE\n") != NULL,
                  "%s", io.err);
    io_free(&io);
    free(added);
    free(dflt);
    free(none);
    free(list);
    free(one);
}
END_TEST

START_TEST(test_orders_table)
{
    char *r = reply(OK_REPLY, "{\"world_id\":\"a b\",\"orders\":[{\"id\":7,\"status\":\"new\","
                              "\"strategy_id\":\"s\",\"side\":\"buy\",\"symbol\":\"BTC\","
                              "\"quantity\":0.5,\"price\":42000.5,\"client_order_id\":\"c-1\","
                              "\"ts\":1704067200}],\"next_after\":7}");
    char *empty = reply(OK_REPLY, "{\"world_id\":\"w\",\"orders\":[],\"next_after\":0}");
    struct mock m;
    mock_start(&m, 2, (const char *const[]){r, empty});
    struct io io;
    io_open(&io, &m, "tok");
    ck_assert_int_eq(wc_orders(&io.wc, "a b", "new", 5), WC_OK);
    ck_assert_int_eq(wc_orders(&io.wc, "w", NULL, 0), WC_OK);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(!strncmp(m.requests[0], "GET /orders?world_id=a%20b&status=new&limit=5 ", 46),
                  "%s", m.requests[0]);
    ck_assert_msg(!strncmp(m.requests[1], "GET /orders?world_id=w ", 23), "%s", m.requests[1]);
    ck_assert_ptr_nonnull(strstr(m.requests[0], "\r\nAuthorization: Bearer tok\r\n"));
    ck_assert_str_eq(io.out,
                     "ID  STATUS  STRATEGY  SIDE  SYMBOL  QUANTITY  PRICE    CLIENT_ORDER_ID  TS\n"
                     "7   new     s         buy   BTC     0.5       42000.5  c-1              "
                     "1704067200\n"
                     "no orders in world 'w'\n");
    io_free(&io);
    free(r);
    free(empty);
}
END_TEST

START_TEST(test_unreachable)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t sl = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &sl);
    struct mock m = {.port = ntohs(a.sin_port)};
    close(fd);
    struct io io;
    io_open(&io, &m, "t");
    int rc = wc_decide(&io.wc, "w");
    io_close(&io);
    ck_assert_int_eq(rc, WC_UNREACHABLE);
    char want[200];
    snprintf(want, sizeof(want),
             "qmtl world: gateway http://127.0.0.1:%d unreachable: cannot connect to "
             "127.0.0.1:%d: Connection refused\n",
             m.port, m.port);
    ck_assert_str_eq(io.err, want);
    io_free(&io);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("world_client");
    TCase *tc = tcase_create("world_client");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_activate_detects_concurrent_change);
    tcase_add_test(tc, test_activate_new_entry);
    tcase_add_test(tc, test_activate_known_by_name);
    tcase_add_test(tc, test_decide_explains_no_active);
    tcase_add_test(tc, test_decide_explanation_degrades);
    tcase_add_test(tc, test_policy_set_get);
    tcase_add_test(tc, test_orders_table);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_list_table_and_json);
    tcase_add_test(tc, test_unreachable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
