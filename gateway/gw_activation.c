/*
 * gw_activation: GET|PUT /worlds/{id}/activation.
 *
 * One entry per (world, strategy, side) with active, weight, freeze, drain,
 * effective_mode, run_id, ts and etag "act:{world}:{strategy}:{side}:{version}", where
 * version is the world's activation counter (incremented on every change). A PUT is a
 * no-op (200, current entry, "applied": false, no event) when it changes nothing or when
 * it names an etag (body "etag" or If-Match) that is no longer current. Every applied
 * change is stored, audited and published as activation_updated in one transaction
 * before the reply is sent.
 */
#include "config.h"
#include "exec_domain.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "gw_util.h"
#include "nodeid.h"

#include <event2/keyvalq_struct.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_bool(const json_t *body, const char *key, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, key);
    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        snprintf(err, errlen, "field '%s': expected a boolean", key);
        return -1;
    }
    return 0;
}

static int check_str(const json_t *body, const char *key, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, key);
    if (v && !json_is_null(v) && !json_is_string(v)) {
        snprintf(err, errlen, "field '%s': expected a string", key);
        return -1;
    }
    return 0;
}

int gw_activation_validate(const json_t *body, char *err, size_t errlen)
{
    if (!json_is_object(body)) {
        snprintf(err, errlen, "activation request must be a JSON object");
        return -1;
    }
    const char *sid = json_string_value(json_object_get(body, "strategy_id"));
    if (!sid || !*sid || strlen(sid) > 256) {
        snprintf(err, errlen, "field 'strategy_id': expected a non-empty string");
        return -1;
    }
    const char *side = json_string_value(json_object_get(body, "side"));
    if (!side || (strcmp(side, "long") && strcmp(side, "short"))) {
        snprintf(err, errlen, "field 'side': expected \"long\" or \"short\"");
        return -1;
    }
    if (!json_is_boolean(json_object_get(body, "active"))) {
        snprintf(err, errlen, "field 'active': expected a boolean");
        return -1;
    }
    const json_t *w = json_object_get(body, "weight");
    if (w && !json_is_null(w)) {
        double x = json_number_value(w);
        if (!json_is_number(w) || !isfinite(x) || x < 0.0 || x > 1.0) {
            snprintf(err, errlen, "field 'weight': expected a number in [0, 1]");
            return -1;
        }
    }
    if (check_bool(body, "freeze", err, errlen) < 0 || check_bool(body, "drain", err, errlen) < 0 ||
        check_str(body, "run_id", err, errlen) < 0 || check_str(body, "ts", err, errlen) < 0 ||
        check_str(body, "etag", err, errlen) < 0 ||
        check_str(body, "effective_mode", err, errlen) < 0)
        return -1;
    const char *m = json_string_value(json_object_get(body, "effective_mode"));
    if (m && !exec_mode_is_world_mode(m)) {
        snprintf(err, errlen, "field 'effective_mode': expected one of " EXEC_WORLD_MODES);
        return -1;
    }
    return 0;
}

static void get_activation(struct gw_server *s, struct evhttp_request *req, const char *world)
{
    struct gw_store *st = gw_server_store(s);
    char *sid = gw_query_param(req, "strategy_id");
    char *side = gw_query_param(req, "side");
    if (!sid) {
        free(side);
        json_t *doc = NULL;
        int rc = gw_store_world_get(st, world, &doc);
        json_decref(doc);
        json_t *state = rc == 1 ? gw_store_activation_state(st, world) : NULL;
        if (rc < 0 || (rc == 1 && !state))
            gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
        else if (rc == 0)
            gw_reply_error(req, 404, "E_NOT_FOUND", "world not found", NULL);
        else {
            json_object_set_new(state, "world_id", json_string(world));
            gw_reply_json(req, 200, state);
        }
        return;
    }
    if (!side || (strcmp(side, "long") && strcmp(side, "short"))) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "query 'side': expected \"long\" or \"short\" with strategy_id", NULL);
        free(sid);
        free(side);
        return;
    }
    char *text = NULL;
    char etag[512];
    int rc = gw_store_activation_get_raw(st, world, sid, side, &text, etag, sizeof(etag));
    free(sid);
    free(side);
    if (rc < 0) {
        gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
        return;
    }
    if (rc == 0) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "activation not found", NULL);
        return;
    }
    char quoted[520];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "ETag", quoted);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    if (inm && (strcmp(inm, quoted) == 0 || strcmp(inm, etag) == 0)) {
        free(text);
        gw_reply_text(req, 304, NULL);
        return;
    }
    gw_reply_text(req, 200, text);
    free(text);
}

static int same_value(const json_t *a, const json_t *b)
{
    if (!a)
        a = json_null();
    if (!b)
        b = json_null();
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

static char *state_hash(struct gw_store *st, const char *world)
{
    json_t *state = gw_store_activation_state(st, world);
    if (!state)
        return NULL;
    char *text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(state);
    if (!text)
        return NULL;
    char hex[65];
    nodeid_blake3_hex(text, strlen(text), hex);
    free(text);
    char *out = malloc(72);
    if (out)
        snprintf(out, 72, "blake3:%s", hex);
    return out;
}

json_t *gw_activation_write(struct gw_server *s, const char *world, const char *sid,
                            const char *side, const json_t *fields, const json_t *extra)
{
    struct gw_store *st = gw_server_store(s);
    int64_t v = 0;
    if (gw_store_activation_bump(st, world, &v) < 0)
        return NULL;
    char etag[512], now[32];
    snprintf(etag, sizeof(etag), "act:%s:%s:%s:%lld", world, sid, side, (long long)v);
    gw_iso_now(now, 0);
    const json_t *ts = json_object_get(fields, "ts");
    int active = json_is_true(json_object_get(fields, "active"));
    const json_t *w = json_object_get(fields, "weight");
    double weight = (w && json_is_number(w)) ? json_number_value(w) : (active ? 1.0 : 0.0);
    json_t *env = json_pack("{ss ss ss sb sf sb sb ss sI}", "world_id", world, "strategy_id", sid,
                            "side", side, "active", active, "weight", weight, "freeze",
                            json_is_true(json_object_get(fields, "freeze")), "drain",
                            json_is_true(json_object_get(fields, "drain")), "etag", etag,
                            "state_version", (json_int_t)v);
    if (!env)
        return NULL;
    const json_t *m = json_object_get(fields, "effective_mode");
    json_object_set(env, "effective_mode", m ? (json_t *)m : json_null());
    const json_t *run = json_object_get(fields, "run_id");
    json_object_set(env, "run_id", run ? (json_t *)run : json_null());
    json_object_set_new(env, "ts", json_is_string(ts) ? json_copy((json_t *)ts) : json_string(now));
    if (gw_store_activation_put(st, world, sid, side, env) < 0) {
        json_decref(env);
        return NULL;
    }
    char *hash = state_hash(st, world);
    json_t *data = json_deep_copy(env);
    json_object_set_new(data, "version", json_integer(1));
    if (hash)
        json_object_set_new(data, "state_hash", json_string(hash));
    free(hash);
    if (extra)
        json_object_update(data, (json_t *)extra);
    if (gw_store_audit_add(st, world, "activation_updated", data) < 0 ||
        gw_server_publish_event(s, "activation_updated", world, data) < 0) {
        json_decref(env);
        return NULL;
    }
    return env;
}

static void put_activation(struct gw_server *s, struct evhttp_request *req, const char *world,
                           const json_t *doc)
{
    struct gw_store *st = gw_server_store(s);
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    char err[200];
    if (gw_activation_validate(body, err, sizeof(err)) < 0) {
        gw_reply_error(req, 422, "E_VALIDATION", err, NULL);
        json_decref(body);
        return;
    }
    const char *mode = json_string_value(json_object_get(body, "effective_mode"));
    const char *wmode = json_string_value(json_object_get(doc, "mode"));
    if (((mode && !strcmp(mode, "live")) || (wmode && !strcmp(wmode, "live"))) &&
        !gw_live_allowed(s, req)) {
        gw_reply_error(req, 403, "E_PERMISSION_DENIED", "live trading not allowed",
                       json_pack("{ssss}", "code", "E_PERMISSION_DENIED", "message",
                                 "live trading not allowed"));
        json_decref(body);
        return;
    }
    if (!mode && wmode)
        json_object_set_new(body, "effective_mode", json_string(wmode));
    const char *sid = json_string_value(json_object_get(body, "strategy_id"));
    const char *side = json_string_value(json_object_get(body, "side"));
    const char *want = json_string_value(json_object_get(body, "etag"));
    const char *im = evhttp_find_header(evhttp_request_get_input_headers(req), "If-Match");
    char imbuf[300];
    if (!want && im) {
        size_t n = strlen(im);
        if (n >= 2 && im[0] == '"' && im[n - 1] == '"' && n - 2 < sizeof(imbuf)) {
            memcpy(imbuf, im + 1, n - 2);
            imbuf[n - 2] = '\0';
            want = imbuf;
        } else
            want = im;
    }
    if (gw_server_txn_begin(s) < 0) {
        gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
        json_decref(body);
        return;
    }
    json_t *cur = NULL;
    int rc = gw_store_activation_get(st, world, sid, side, &cur);
    json_t *result = NULL;
    int applied = 0;
    if (rc < 0)
        goto fail;
    if (rc == 1) {
        const char *cur_etag = json_string_value(json_object_get(cur, "etag"));
        int stale = want && cur_etag && strcmp(want, cur_etag) != 0;
        int same = 1;
        static const char *const keys[] = {"active", "freeze", "drain", "effective_mode", "run_id"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            const json_t *nv = json_object_get(body, keys[i]);
            const json_t *cv = json_object_get(cur, keys[i]);
            if ((!strcmp(keys[i], "freeze") || !strcmp(keys[i], "drain")) && !nv)
                nv = json_false();
            if (!same_value(nv, cv))
                same = 0;
        }
        const json_t *nw = json_object_get(body, "weight");
        double w = (nw && json_is_number(nw))
                       ? json_number_value(nw)
                       : (json_is_true(json_object_get(body, "active")) ? 1.0 : 0.0);
        if (w != json_number_value(json_object_get(cur, "weight")))
            same = 0;
        if (stale || same) {
            result = json_incref(cur);
            gw_server_txn_rollback(s);
            goto reply;
        }
    }
    result = gw_activation_write(s, world, sid, side, body, NULL);
    if (!result || gw_server_txn_commit(s) < 0)
        goto fail;
    applied = 1;
reply:
    json_decref(cur);
    json_decref(body);
    {
        char quoted[520];
        snprintf(quoted, sizeof(quoted), "\"%s\"",
                 json_string_value(json_object_get(result, "etag")));
        evhttp_add_header(evhttp_request_get_output_headers(req), "ETag", quoted);
        json_object_set_new(result, "applied", json_boolean(applied));
        gw_reply_json(req, 200, result);
    }
    return;
fail:
    if (gw_store_in_txn(st))
        gw_server_txn_rollback(s);
    json_decref(result);
    json_decref(cur);
    json_decref(body);
    gw_reply_error(req, 500, "E_STORE", "store operation failed", NULL);
}

void gw_activation_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                         const json_t *doc)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET)
        get_activation(s, req, world);
    else if (cmd == EVHTTP_REQ_PUT && doc)
        put_activation(s, req, world, doc);
    else
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
}
