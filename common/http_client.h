/*
 * http_client: a small blocking HTTP/1.1 client over one TCP connection (http:// only).
 *
 * One call = one connection: connect, send the request with "Connection: close", read
 * the whole response (Content-Length, chunked, or until the peer closes), close. The
 * timeout is one budget for the whole exchange (connect, send and every read); callers
 * take it from config_budgets(cfg)->http_timeout_s. No redirects, no TLS, no keep-alive.
 *
 * Errors are git-style text in a caller-owned buffer, e.g.
 *   "cannot connect to 127.0.0.1:8000: Connection refused"
 *   "timed out after 2.0 s"
 *   "malformed response: bad status line 'FOO'"
 */
#ifndef QMTL_COMMON_HTTP_CLIENT_H
#define QMTL_COMMON_HTTP_CLIENT_H

#include <stddef.h>

/* Failure values of http_fetch() (0 = a complete response was read, any status). */
#define HTTP_EURL (-1)       /* the URL is not http://host[:port][/path] */
#define HTTP_ECONNECT (-2)   /* name resolution or TCP connect failed */
#define HTTP_ETIMEOUT (-3)   /* the budget ran out */
#define HTTP_EIO (-4)        /* send/recv failed after connecting (reset, ...) */
#define HTTP_EMALFORMED (-5) /* the peer's bytes are not an HTTP/1.x response */

/* Limits on what is accepted from the peer. */
#define HTTP_MAX_HEADER_BYTES 65536
#define HTTP_MAX_BODY_BYTES (64u * 1024u * 1024u)

struct http_url {
    char host[256]; /* without brackets */
    int port;       /* 80 when absent */
    char path[2048]; /* "/" when absent; never ends with '/' unless it is "/" */
};

/* Parse "http://host[:port][/path]". Returns 0; -1 with err filled. */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

struct http_request {
    const char *method;          /* "GET", "PUT", ... */
    const char *url;             /* base URL, e.g. "http://127.0.0.1:8000" */
    const char *path;            /* appended to the URL's path ("/worlds/w1?x=1"); may be NULL */
    const char *const *headers;  /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;            /* sent with Content-Type: application/json; NULL = none */
    size_t body_len;
    double timeout_s;            /* whole-exchange budget; <= 0 means 2.0 */
};

struct http_response {
    int status;         /* e.g. 200 */
    char *etag;         /* ETag header as sent (quotes kept), or NULL */
    char *content_type; /* or NULL */
    char *body;         /* NUL-terminated (body_len excludes the NUL); "" when none */
    size_t body_len;
};

/*
 * Perform one request. On 0 *resp is filled and owned by the caller (release it with
 * http_response_release). On failure returns one of HTTP_E* with err filled and *resp
 * left empty (releasing it is still safe).
 */
int http_fetch(const struct http_request *rq, struct http_response *resp, char *err,
               size_t errlen);

void http_response_release(struct http_response *resp);

/*
 * Parse one complete response held in data[0..len) (the peer closed after it), with the
 * same rules and messages as http_fetch; method decides whether a body is expected
 * ("HEAD"). Returns 0 with *resp filled (caller releases), or HTTP_EMALFORMED with err
 * filled. For tests and fuzzing.
 */
int http_parse_response(const char *data, size_t len, const char *method,
                        struct http_response *resp, char *err, size_t errlen);

/* Append s to out percent-encoded for use as one path segment or query value.
 * Returns 0; -1 when out (size outlen) is too small. out is always NUL-terminated. */
int http_url_escape(const char *s, char *out, size_t outlen);

#endif
