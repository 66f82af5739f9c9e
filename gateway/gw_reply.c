/*
 * gw_reply: JSON replies, request body parsing and query parameters for route handlers
 * (declared in gw_server.h).
 */
#include "gw_server.h"

#include "config.h"
#include "gw_metrics.h"
#include "gw_routes.h"

#include <errno.h>
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

int gw_query_limit(struct evhttp_request *req, long def, long *out)
{
    char *v = gw_query_param(req, "limit");
    *out = def;
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    int bad = errno || end == v || *end || n < 1 || n > GW_MAX_LIMIT;
    free(v);
    if (bad) {
        char msg[80];
        snprintf(msg, sizeof(msg), "query 'limit': expected 1..%d", GW_MAX_LIMIT);
        gw_reply_error(req, 422, "E_VALIDATION", msg, NULL);
        return -1;
    }
    *out = (long)n;
    return 0;
}
