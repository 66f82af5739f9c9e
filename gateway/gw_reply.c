/*
 * gw_reply: JSON replies, request body parsing, query parameters and bearer-token
 * checks for route handlers (declared in gw_server.h).
 */
#include "gw_server.h"

#include "config.h"
#include "gw_metrics.h"
#include "gw_routes.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_reply_text(struct evhttp_request *req, int code, const char *json_text)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (json_text) {
        evhttp_add_header(h, "Content-Type", "application/json");
        evbuffer_add(out, json_text, strlen(json_text));
    }
    gw_server_record_reply(req, code);
    evhttp_send_reply(req, code, code == 431 ? "Request Header Fields Too Large" : NULL, out);
    evbuffer_free(out);
}

void gw_reply_json(struct evhttp_request *req, int code, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    gw_reply_text(req, code, text);
    free(text);
}

/* A JSON string of 'text'; bytes that are not valid UTF-8 (e.g. from a client's path)
 * become '?'. */
static json_t *safe_string(const char *text)
{
    json_t *j = json_string(text);
    if (j)
        return j;
    char *copy = strdup(text);
    if (!copy)
        return json_string("?");
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_string("?");
}

void gw_reply_error(struct evhttp_request *req, int code, const char *err_code, const char *message,
                    json_t *detail)
{
    if (!detail)
        detail = safe_string(message);
    json_t *error = json_object();
    json_object_set_new(error, "code", json_string(err_code));
    json_object_set_new(error, "message", safe_string(message));
    json_t *body = json_object();
    json_object_set_new(body, "error", error);
    json_object_set_new(body, "detail", detail);
    gw_reply_json(req, code, body);
}

json_t *gw_read_json(struct evhttp_request *req, int any)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        gw_reply_error(req, 400, "E_BAD_REQUEST", "request body is empty", NULL);
        return NULL;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_error_t jerr;
    json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof(msg), "invalid JSON body at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        gw_reply_error(req, 400, "E_INVALID_JSON", msg, NULL);
        return NULL;
    }
    if (!any && !json_is_object(j)) {
        json_decref(j);
        gw_reply_error(req, 422, "E_VALIDATION", "request body must be a JSON object", NULL);
        return NULL;
    }
    return j;
}

char *gw_query_param(struct evhttp_request *req, const char *key)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    if (!q)
        return NULL;
    struct evkeyvalq params;
    params.tqh_first = NULL;
    params.tqh_last = &params.tqh_first;
    if (evhttp_parse_query_str(q, &params) != 0) {
        evhttp_clear_headers(&params);
        return NULL;
    }
    const char *v = evhttp_find_header(&params, key);
    char *out = v ? strdup(v) : NULL;
    evhttp_clear_headers(&params);
    return out;
}

/* ------------------------------------------------------------------ auth */

int gw_token_equal(const char *presented, const char *expected)
{
    size_t lp = strlen(presented), le = strlen(expected);
    /* Compare over the expected length whatever the presented one is. */
    unsigned char diff = (unsigned char)(lp != le);
    for (size_t i = 0; i < le; i++) {
        unsigned char c = i < lp ? (unsigned char)presented[i] : 0;
        diff |= (unsigned char)(c ^ (unsigned char)expected[i]);
    }
    return diff == 0 && le > 0;
}

static const char *bearer(struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

static int auth_fail(struct gw_server *s, struct evhttp_request *req, const char *msg)
{
    gw_metrics_add(gw_server_metrics(s), GW_M_AUTH_FAILURES, 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
    gw_reply_error(req, 401, "E_UNAUTHORIZED", msg, NULL);
    return -1;
}

int gw_require_operator(struct gw_server *s, struct evhttp_request *req)
{
    const char *want = gw_server_config(s)->gateway.operator_token;
    if (!want || !*want)
        return auth_fail(s, req, "operator routes are disabled: set gateway.operator_token");
    const char *tok = bearer(req);
    if (!tok)
        return auth_fail(s, req, "missing bearer token (Authorization: Bearer <token>)");
    if (!gw_token_equal(tok, want))
        return auth_fail(s, req, "invalid operator token");
    return 0;
}

int gw_require_submitter(struct gw_server *s, struct evhttp_request *req)
{
    const char *want = gw_server_config(s)->gateway.submit_token;
    if (!want || !*want)
        return 0;
    const char *tok = bearer(req);
    if (!tok)
        return auth_fail(s, req, "missing bearer token (Authorization: Bearer <token>)");
    const char *op = gw_server_config(s)->gateway.operator_token;
    int ok = gw_token_equal(tok, want);
    ok |= (op && *op) ? gw_token_equal(tok, op) : 0;
    if (!ok)
        return auth_fail(s, req, "invalid submission token");
    return 0;
}
