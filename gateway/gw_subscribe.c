/*
 * gw_subscribe: POST /events/subscribe, which mints an event-stream token for the
 * credential that asked (see gw_hub.h and docs/event-stream.md).
 */
#include "config.h"
#include "gw_auth.h"
#include "gw_hub.h"
#include "gw_routes.h"
#include "gw_server.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ws://host:port/<path> for this gateway, from gateway.public_url or host/port. */
static void stream_url(struct gw_hub *h, struct evhttp_request *req, const char *path, char *out,
                       size_t outlen)
{
    const char *pub = gw_hub_cfg(h)->public_url;
    if (pub && *pub) {
        const char *rest = pub;
        const char *scheme = "ws://";
        if (!strncmp(pub, "https://", 8)) {
            scheme = "wss://";
            rest = pub + 8;
        } else if (!strncmp(pub, "http://", 7)) {
            rest = pub + 7;
        } else if (!strncmp(pub, "wss://", 6)) {
            scheme = "wss://";
            rest = pub + 6;
        } else if (!strncmp(pub, "ws://", 5)) {
            rest = pub + 5;
        }
        size_t n = strlen(rest);
        while (n > 0 && rest[n - 1] == '/')
            n--;
        snprintf(out, outlen, "%s%.*s%s", scheme, (int)n, rest, path);
        return;
    }
    const char *host = gw_hub_cfg(h)->host;
    if (!host || !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::")) {
        const char *hh = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
        if (hh && *hh && !strpbrk(hh, "/ \t")) {
            snprintf(out, outlen, "ws://%s%s", hh, path);
            return;
        }
        host = "127.0.0.1";
    }
    int bracket = strchr(host, ':') != NULL;
    snprintf(out, outlen, "ws://%s%s%s:%d%s", bracket ? "[" : "", host, bracket ? "]" : "",
             gw_server_port(gw_hub_server(h)), path);
}

void gw_subscribe_route(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_hub *h = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD", "use POST /events/subscribe", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    json_t *w = json_object_get(body, "world_id"), *sid = json_object_get(body, "strategy_id");
    json_t *topics = json_object_get(body, "topics");
    const char *bad = NULL;
    if (w && !json_is_string(w) && !json_is_null(w))
        bad = "world_id";
    else if (sid && !json_is_string(sid) && !json_is_null(sid))
        bad = "strategy_id";
    else if (topics && !json_is_array(topics))
        bad = "topics";
    size_t i;
    json_t *e;
    json_array_foreach(topics, i, e) {
        if (!json_is_string(e))
            bad = "topics";
    }
    if (bad) {
        char msg[120];
        snprintf(msg, sizeof(msg), "field '%s' has the wrong type", bad);
        gw_reply_error(req, 422, "E_SCHEMA_INVALID", msg, NULL);
        json_decref(body);
        return;
    }
    json_t *topics_echo = topics ? json_incref(topics) : json_pack("[s]", "activation");
    const char *tl[16];
    size_t nt = 0;
    json_array_foreach(topics_echo, i, e) {
        if (nt < 15)
            tl[nt++] = json_string_value(e);
    }
    tl[nt] = NULL;
    int ttl = gw_hub_cfg(h)->token_ttl_s > 0 ? gw_hub_cfg(h)->token_ttl_s : 3600;
    int64_t exp = (int64_t)time(NULL) + ttl;
    char *token = gw_hub_mint(h, json_string_value(w), json_string_value(sid), tl, ttl,
                       gw_auth_principal(gw_server_request_creds(gw_hub_server(h))));
    if (!token) {
        gw_reply_error(req, 500, "E_INTERNAL", "cannot sign the stream token", NULL);
        json_decref(topics_echo);
        json_decref(body);
        return;
    }
    char url[512], fallback[512], expires[40];
    stream_url(h, req, "/ws/evt", url, sizeof(url));
    stream_url(h, req, "/ws", fallback, sizeof(fallback));
    gw_hub_iso_time(exp, 0, expires);
    gw_reply_json(req, 200,
                  json_pack("{s:s,s:s,s:o,s:s,s:s}", "stream_url", url, "token", token,
                            "topics", topics_echo, "expires_at", expires, "fallback_url",
                            fallback));
    free(token);
    json_decref(body);
}
