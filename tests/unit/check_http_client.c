/* http_client: requests against a tiny in-test server on 127.0.0.1 (one thread, one
 * connection per exchange), blocking and on a caller's loop, including timeouts, chunked
 * and broken responses. */
#include "http_client.h"

#include <event2/event.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server {
    int lfd;
    int port;
    const char *reply;  /* bytes written after the request was read; NULL = never reply */
    char request[8192]; /* what the client sent (head and body) */
    size_t request_len;
    pthread_t thread;
};

static size_t head_and_body_len(const char *buf, size_t n)
{
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - buf) + 4;
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t body = (cl && cl < end) ? strtoul(cl + 15, NULL, 10) : 0;
    return head + body;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    size_t want = 0;
    while (s->request_len < sizeof(s->request) - 1) {
        ssize_t r =
            recv(fd, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len, 0);
        if (r <= 0)
            break;
        s->request_len += (size_t)r;
        s->request[s->request_len] = '\0';
        want = head_and_body_len(s->request, s->request_len);
        if (want && s->request_len >= want)
            break;
    }
    if (s->reply) {
        size_t n = strlen(s->reply), off = 0;
        while (off < n) {
            ssize_t w = send(fd, s->reply + off, n - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    } else {
        /* never answer: wait (bounded) until the client gives up and closes */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        while (poll(&p, 1, 10000) > 0 && recv(fd, &c, 1, 0) > 0)
            ;
    }
    close(fd);
    return NULL;
}

static void server_start(struct server *s, const char *reply)
{
    memset(s, 0, sizeof(*s));
    s->reply = reply;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(s->lfd, 4), 0);
    socklen_t sl = sizeof(a);
    getsockname(s->lfd, (struct sockaddr *)&a, &sl);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

static int fetch(struct server *s, const char *method, const char *path, const char *body,
                 const char *const *headers, double timeout, struct http_response *resp, char *err,
                 size_t errlen)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
    struct http_request rq = {.method = method,
                              .url = url,
                              .path = path,
                              .headers = headers,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .timeout_s = timeout};
    return http_fetch(&rq, resp, err, errlen);
}

START_TEST(test_content_length)
{
    struct server s;
    server_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "ETag: \"act:w:s:long:3\"\r\nContent-Length: 11\r\n\r\n{\"ok\":true}");
    const char *const hdrs[] = {"Authorization: Bearer tok", "If-Match: \"x\"", NULL};
    struct http_response r;
    char err[256] = "";
    int rc =
        fetch(&s, "PUT", "/worlds/w1/activation", "{\"a\":1}", hdrs, 2.0, &r, err, sizeof(err));
    server_stop(&s);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"ok\":true}");
    ck_assert_uint_eq(r.body_len, 11);
    ck_assert_str_eq(r.etag, "\"act:w:s:long:3\"");
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_msg(strncmp(s.request, "PUT /worlds/w1/activation HTTP/1.1\r\n", 36) == 0, "%s",
                  s.request);
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer tok\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nIf-Match: \"x\"\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nContent-Length: 7\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nHost: 127.0.0.1:"));
    ck_assert_msg(s.request_len >= 7 && !strcmp(s.request + s.request_len - 7, "{\"a\":1}"),
                  "body not sent: %s", s.request);
    http_response_release(&r);
}
END_TEST

START_TEST(test_base_path_and_status)
{
    struct server s;
    server_start(&s, "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\n{}");
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/", s.port);
    struct http_request rq = {.method = "GET", .url = url, .path = "/worlds?x=1"};
    struct http_response r;
    char err[256] = "";
    int rc = http_fetch(&rq, &r, err, sizeof(err));
    server_stop(&s);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_null(r.etag);
    ck_assert_msg(strncmp(s.request, "GET /api/worlds?x=1 HTTP/1.1\r\n", 30) == 0, "%s", s.request);
    http_response_release(&r);
}
END_TEST

START_TEST(test_chunked)
{
    struct server s;
    server_start(&s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n");
    struct http_response r;
    char err[256] = "";
    int rc = fetch(&s, "GET", "/", NULL, NULL, 2.0, &r, err, sizeof(err));
    server_stop(&s);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(r.body, "hello 0123456789");
    ck_assert_uint_eq(r.body_len, 16);
    http_response_release(&r);
}
END_TEST

START_TEST(test_until_eof_and_no_body)
{
    struct server s;
    server_start(&s, "HTTP/1.1 200 OK\r\n\r\nall of it");
    struct http_response r;
    char err[256] = "";
    int rc = fetch(&s, "GET", "/", NULL, NULL, 2.0, &r, err, sizeof(err));
    server_stop(&s);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(r.body, "all of it");
    http_response_release(&r);

    server_start(&s, "HTTP/1.1 204 No Content\r\n\r\n");
    rc = fetch(&s, "DELETE", "/worlds/w", NULL, NULL, 2.0, &r, err, sizeof(err));
    server_stop(&s);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(r.body, "");
    http_response_release(&r);
}
END_TEST

/* Serve 'reply' once and expect a malformed-response failure naming the peer and 'why'. */
static void expect_malformed(const char *reply, const char *why)
{
    struct server s;
    server_start(&s, reply);
    struct http_response r;
    char err[256] = "", want[128];
    int rc = fetch(&s, "GET", "/", NULL, NULL, 2.0, &r, err, sizeof(err));
    server_stop(&s);
    snprintf(want, sizeof(want), "malformed response from 127.0.0.1:%d: %s", s.port, why);
    ck_assert_msg(rc == HTTP_EMALFORMED, "rc %d (%s) for '%.40s'", rc, err, reply);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s', wanted '%s' for '%.30s'", err, want,
                  reply);
    ck_assert_ptr_null(r.body);
    http_response_release(&r);
}

START_TEST(test_truncated)
{
    const char *closed = "connection closed before the answer was complete";
    expect_malformed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", closed);
    expect_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", closed);
    expect_malformed("HTTP/1.1 200 OK\r\nContent-Le", closed);
    expect_malformed("", closed); /* closes without a byte */
}
END_TEST

START_TEST(test_garbage)
{
    const char *bad = "bad status line or header";
    expect_malformed("SSH-2.0-OpenSSH_9.2\r\n\r\n", bad);
    expect_malformed("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", bad);
    expect_malformed("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", bad);
    expect_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad body");
    /* a huge header is refused, not buffered without bound (whether libevent sees the
     * limit or the close first depends on timing: either is a malformed answer) */
    size_t n = HTTP_MAX_HEADER_BYTES + 100;
    char *big = malloc(n + 5);
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 21);
    memset(big + 21, 'a', n - 21);
    memcpy(big + n, "\r\n\r\n", 5);
    expect_malformed(big, "");
    free(big);
}
END_TEST

START_TEST(test_timeout)
{
    struct server s;
    server_start(&s, NULL);
    struct http_response r;
    char err[256] = "";
    int rc = fetch(&s, "GET", "/", NULL, NULL, 0.3, &r, err, sizeof(err));
    ck_assert_int_eq(rc, HTTP_ETIMEOUT);
    ck_assert_str_eq(err, "timed out after 0.3 s");
    server_stop(&s);
    http_response_release(&r);
}
END_TEST

START_TEST(test_refused)
{
    /* a port that was free a moment ago and has no listener now */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t sl = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &sl);
    int port = ntohs(a.sin_port);
    close(fd);
    char url[64], want[128], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d: Connection refused", port);
    struct http_request rq = {.method = "GET", .url = url, .path = "/status", .timeout_s = 1};
    struct http_response r;
    int rc = http_fetch(&rq, &r, err, sizeof(err));
    ck_assert_int_eq(rc, HTTP_ECONNECT);
    ck_assert_str_eq(err, want);
    http_response_release(&r);
}
END_TEST

START_TEST(test_url)
{
    struct http_url u;
    char err[256];
    ck_assert_int_eq(http_url_parse("http://127.0.0.1:8000", &u, err, sizeof(err)), 0);
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_int_eq(u.port, 8000);
    ck_assert_str_eq(u.path, "/");
    ck_assert_int_eq(http_url_parse("http://gw.example/base/", &u, err, sizeof(err)), 0);
    ck_assert_int_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/base");
    ck_assert_int_eq(http_url_parse("http://[::1]:9/", &u, err, sizeof(err)), 0);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 9);
    ck_assert_int_eq(http_url_parse("https://x", &u, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad URL 'https://x': only http://host[:port][/path] is supported");
    ck_assert_int_eq(http_url_parse("http://x:99999", &u, err, sizeof(err)), -1);
    ck_assert_int_eq(http_url_parse("http://:80", &u, err, sizeof(err)), -1);
    ck_assert_int_eq(http_url_parse("http://x:80abc", &u, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad URL 'http://x:80abc': expected http://host[:port][/path]");

    char out[32] = "/worlds/";
    ck_assert_int_eq(http_url_escape("a b/c%?é", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/worlds/a%20b%2Fc%25%3F%C3%A9");
    char small[8] = "";
    ck_assert_int_eq(http_url_escape("abcdefgh", small, sizeof(small)), -1);
    ck_assert_uint_lt(strlen(small), sizeof(small));
}
END_TEST

struct json_seen {
    int calls, status;
    json_t *reply;
    char err[256];
};

static void on_json(void *arg, int status, const json_t *reply, const char *err)
{
    struct json_seen *j = arg;
    j->calls++;
    j->status = status;
    j->reply = reply ? json_incref((json_t *)reply) : NULL;
    snprintf(j->err, sizeof(j->err), "%s", err);
}

/* The JSON call on the caller's loop: bearer token, compact JSON body, parsed answer;
 * the callback runs once, from the loop, never inside the starting call. */
START_TEST(test_json_async)
{
    struct server s;
    server_start(&s, "HTTP/1.1 202 Accepted\r\nContent-Length: 20\r\n\r\n{\"strategy_id\":\"s1\"}");
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    struct event_base *base = event_base_new();
    json_t *body = json_pack("{si}", "n", 1);
    struct json_seen j = {0};
    ck_assert_int_eq(http_json_start(base, url, "POST", "/strategies", body, "tok", 2.0, on_json,
                                     &j, err, sizeof(err)),
                     0);
    json_decref(body);
    ck_assert_int_eq(j.calls, 0);
    event_base_dispatch(base);
    server_stop(&s);
    ck_assert_int_eq(j.calls, 1);
    ck_assert_int_eq(j.status, 202);
    ck_assert_str_eq(json_string_value(json_object_get(j.reply, "strategy_id")), "s1");
    json_decref(j.reply);
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer tok\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nContent-Type: application/json\r\n"));
    ck_assert_msg(!strcmp(s.request + s.request_len - 7, "{\"n\":1}"), "%s", s.request);

    /* no answer at all: status 0 and the reason, once */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t sl = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &sl);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    memset(&j, 0, sizeof(j));
    ck_assert_int_eq(http_json_start(base, url, "GET", "/status", NULL, NULL, 1.0, on_json, &j, err,
                                     sizeof(err)),
                     0);
    event_base_dispatch(base);
    ck_assert_int_eq(j.calls, 1);
    ck_assert_int_eq(j.status, 0);
    ck_assert_ptr_null(j.reply);
    ck_assert_msg(strstr(j.err, "cannot connect to 127.0.0.1:"), "%s", j.err);

    /* refused before anything starts: bad URL, bad method */
    ck_assert_int_eq(http_json_start(base, "https://x", "GET", "/", NULL, NULL, 1.0, on_json, &j,
                                     err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "only http://"));
    ck_assert_int_eq(
        http_json_start(base, url, "BREW", "/", NULL, NULL, 1.0, on_json, &j, err, sizeof(err)),
        -1);
    ck_assert_str_eq(err, "unsupported HTTP method 'BREW'");
    ck_assert_int_eq(j.calls, 1);
    event_base_free(base);
}
END_TEST

/* The blocking JSON call: the same wire form (bearer, compact body), the status and the
 * parsed answer as a new reference; status 0 with the reason when nothing answered. */
START_TEST(test_json_blocking)
{
    struct server s;
    server_start(&s, "HTTP/1.1 409 Conflict\r\nContent-Length: 26\r\n\r\n"
                     "{\"error\":{\"message\":\"no\"}}");
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    json_t *body = json_pack("{ss}", "side", "buy"), *reply = NULL;
    int status =
        http_json_fetch(url, "POST", "/orders", body, "host-tok", 2.0, &reply, err, sizeof(err));
    json_decref(body);
    server_stop(&s);
    ck_assert_int_eq(status, 409);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reply, "error"), "message")),
                     "no");
    json_decref(reply);
    ck_assert_ptr_nonnull(strstr(s.request, "POST /orders HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer host-tok\r\n"));
    ck_assert_msg(!strcmp(s.request + s.request_len - 14, "{\"side\":\"buy\"}"), "%s", s.request);

    /* an answer that is not JSON: the status, no reply; no token: no Authorization */
    server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    reply = json_true();
    ck_assert_int_eq(
        http_json_fetch(url, "GET", "/status", NULL, "", 2.0, &reply, err, sizeof(err)), 200);
    server_stop(&s);
    ck_assert_ptr_null(reply);
    ck_assert_ptr_null(strstr(s.request, "Authorization"));

    /* a peer that never answers: 0 and the timeout */
    server_start(&s, NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(
        http_json_fetch(url, "GET", "/status", NULL, NULL, 0.3, &reply, err, sizeof(err)), 0);
    server_stop(&s);
    ck_assert_ptr_null(reply);
    ck_assert_str_eq(err, "timed out after 0.3 s");

    /* a bad URL: 0 and why, nothing sent */
    ck_assert_int_eq(
        http_json_fetch("ftp://x", "GET", "/", NULL, NULL, 1.0, &reply, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "only http://"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("http_client");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_content_length);
    tcase_add_test(tc, test_base_path_and_status);
    tcase_add_test(tc, test_chunked);
    tcase_add_test(tc, test_until_eof_and_no_body);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_json_async);
    tcase_add_test(tc, test_json_blocking);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
