/* world_client: the verbs against a scripted in-test gateway on 127.0.0.1 (one thread
 * answering a fixed sequence of connections), checking the requests sent, the text
 * printed and the exit codes. The real gateway is exercised by e2e/t080-world-cli.sh. */
#include "world_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EXCHANGES 4

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
    ck_assert_int_eq(listen(m->lfd, 4), 0);
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
    struct mock m;
    mock_start(&m, 2, (const char *const[]){r1, r2});
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
    ck_assert_str_eq(io.out, "");
    ck_assert_msg(!strncmp(m.requests[0], "GET /worlds/w/activation?strategy_id=s1&side=long ", 50),
                  "%s", m.requests[0]);
    ck_assert_msg(!strncmp(m.requests[1], "PUT /worlds/w/activation HTTP/1.1", 33), "%s",
                  m.requests[1]);
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\r\nIf-Match: \"act:w:s1:long:1\"\r\n"));
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\r\nAuthorization: Bearer tok\r\n"));
    ck_assert_ptr_null(strstr(m.requests[1], "X-Allow-Live"));
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\"strategy_id\":\"s1\""));
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\"weight\":0.5"));
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\"active\":true"));
    io_free(&io);
    free(r1);
    free(r2);
}
END_TEST

START_TEST(test_activate_new_entry)
{
    const char *nf = "{\"error\":{\"code\":\"E_NOT_FOUND\",\"message\":\"activation not found\"}}";
    const char *done = "{\"etag\":\"act:w:s1:short:7\",\"active\":true,\"weight\":1.0,"
                       "\"freeze\":true,\"drain\":false,\"applied\":true}";
    char *r1 = reply("HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n\r\n", nf);
    char *r2 = reply("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", done);
    struct mock m;
    mock_start(&m, 2, (const char *const[]){r1, r2});
    struct io io;
    io_open(&io, &m, NULL);
    struct wc_activate a = {.strategy = "s1", .side = "short", .active = 1, .freeze = 1,
                            .allow_live = 1};
    int rc = wc_activate(&io.wc, "w", &a);
    io_close(&io);
    mock_stop(&m);
    ck_assert_msg(rc == WC_OK, "%s", io.err);
    ck_assert_str_eq(io.out, "w s1 short: active weight 1 frozen (etag act:w:s1:short:7)\n");
    ck_assert_ptr_null(strstr(m.requests[1], "If-Match"));
    ck_assert_ptr_null(strstr(m.requests[1], "Authorization"));
    ck_assert_ptr_nonnull(strstr(m.requests[1], "\r\nX-Allow-Live: true\r\n"));
    ck_assert_ptr_null(strstr(m.requests[1], "\"weight\""));
    io_free(&io);
    free(r1);
    free(r2);
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
