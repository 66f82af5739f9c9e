/*
 * http_client: the one HTTP/1.1 client of every qmtl process (http:// only), on libevent's
 * evhttp. Three ways to call it, one implementation:
 *
 *   http_start()       asynchronous on the caller's event loop: any method, extra headers,
 *                      the raw answer (status, ETag, Content-Type, body);
 *   http_json_start()  the same for a JSON API: bearer token, a JSON body, the answer
 *                      parsed as JSON (what the gateway, the DAG manager's client and the
 *                      attached host speak);
 *   http_fetch()       blocking, on a private event loop (the CLI: 'qmtl world',
 *                      'qmtl config validate');
 *   http_json_fetch()  blocking, JSON (the attached host's start-up requests, the paper
 *                      connector).
 *
 * Asynchronous calls run on the caller's loop, single-threaded; the process must ignore
 * SIGPIPE (a peer that closes early must fail a write, not kill the process: the services
 * and the attached host do; http_fetch ignores it for its own duration).
 *
 * One request = one connection ("Connection: close"). The timeout is one budget for the
 * whole exchange (connect, send, every read); callers take it from
 * config_budgets(cfg)->http_timeout_s. No redirects, no TLS, no keep-alive. Answers larger
 * than HTTP_MAX_HEADER_BYTES of headers or HTTP_MAX_BODY_BYTES of body are refused.
 *
 * Errors are git-style text in a caller-owned buffer, e.g.
 *   "cannot connect to 127.0.0.1:8000: Connection refused"
 *   "timed out after 2.0 s"
 *   "malformed response from 127.0.0.1:8000: bad status line or header"
 */
#ifndef QMTL_COMMON_HTTP_CLIENT_H
#define QMTL_COMMON_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

struct event_base;

/* Failure values (0 = a complete response was read, any status). */
#define HTTP_EURL (-1)       /* the URL is not http://host[:port][/path], or a bad method */
#define HTTP_ECONNECT (-2)   /* name resolution or TCP connect failed */
#define HTTP_ETIMEOUT (-3)   /* the budget ran out */
#define HTTP_EIO (-4)        /* send/recv failed after connecting, out of memory */
#define HTTP_EMALFORMED (-5) /* the peer's bytes are not a complete HTTP/1.x response */

/* Limits on what is accepted from the peer. */
#define HTTP_MAX_HEADER_BYTES 65536
#define HTTP_MAX_BODY_BYTES (64u * 1024u * 1024u)

struct http_url {
    char host[256];  /* without brackets */
    int port;        /* 80 when absent */
    char path[2048]; /* "/" when absent; never ends with '/' unless it is "/" */
};

/* Parse "http://host[:port][/path]". Returns 0; -1 with err filled. */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

struct http_request {
    const char *method;         /* GET, HEAD, POST, PUT, DELETE, PATCH */
    const char *url;            /* base URL, e.g. "http://127.0.0.1:8000" */
    const char *path;           /* appended to the URL's path ("/worlds/w1?x=1"); may be NULL */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;           /* sent with Content-Type: application/json; NULL = none */
    size_t body_len;
    double timeout_s; /* whole-exchange budget; <= 0 means 2.0 */
};

struct http_response {
    int status;         /* e.g. 200 */
    char *etag;         /* ETag header as sent (quotes kept), or NULL */
    char *content_type; /* or NULL */
    char *body;         /* NUL-terminated (body_len excludes the NUL); "" when none */
    size_t body_len;
};

/*
 * Called exactly once per started request, from the event loop (never from inside the
 * starting call): rc 0 with resp (borrowed: valid during the call only), or one of
 * HTTP_E* with resp NULL and the reason in err.
 */
typedef void (*http_done_fn)(void *arg, int rc, const struct http_response *resp,
                             const char *err);

/*
 * Start one request on 'base' (borrowed; it must run until done is called). Every
 * string of rq is copied. 0 when started; HTTP_E* with err filled (done is not called).
 */
int http_start(struct event_base *base, const struct http_request *rq, http_done_fn done,
               void *arg, char *err, size_t errlen);

/*
 * The JSON call: status 0 when no HTTP answer came (err says why), else the HTTP status
 * with the body parsed as JSON (reply NULL when the body is empty or not JSON; borrowed,
 * valid during the call only).
 */
typedef void (*http_json_fn)(void *arg, int status, const json_t *reply, const char *err);

/*
 * Start a JSON request: 'body' (borrowed, may be NULL) is sent compact; 'token' (may be
 * NULL or "") as "Authorization: Bearer <token>". 0 when started; -1 with err filled
 * (done is not called).
 */
int http_json_start(struct event_base *base, const char *url, const char *method,
                    const char *path, const json_t *body, const char *token, double timeout_s,
                    http_json_fn done, void *arg, char *err, size_t errlen);

/*
 * The JSON call, blocking (a private event loop, as http_fetch): the HTTP status, or 0
 * when no HTTP answer came (err says why: "cannot connect to ...", "timed out after ...",
 * a bad URL). *reply gets the body parsed as JSON: a new reference for the caller, NULL
 * when the body is empty or not JSON, and always NULL on 0.
 */
int http_json_fetch(const char *url, const char *method, const char *path, const json_t *body,
                    const char *token, double timeout_s, json_t **reply, char *err, size_t errlen);

/*
 * Perform one request, blocking (a private event loop). On 0 *resp is filled and owned
 * by the caller (release it with http_response_release). On failure returns one of
 * HTTP_E* with err filled and *resp left empty (releasing it is still safe).
 */
int http_fetch(const struct http_request *rq, struct http_response *resp, char *err,
               size_t errlen);

void http_response_release(struct http_response *resp);

/* Append s to out percent-encoded for use as one path segment or query value.
 * Returns 0; -1 when out (size outlen) is too small. out is always NUL-terminated. */
int http_url_escape(const char *s, char *out, size_t outlen);

#endif
