/*
 * gw_worlds: the world API of the gateway: CRUD, policies, set-default, bindings,
 * decisions, decide and audit. Activation lives in gw_activation.c, the 2-phase
 * apply in gw_apply.c.
 *
 * Who may call which route is decided before these handlers run (gw_auth.c): the
 * operator for everything, hosts (submitter or host token) for decide and activation
 * reads. Every change to a live world needs the live guard. A world document is the JSON object given at
 * creation with at least "id"; the optional "mode" (validate | compute-only | paper |
 * live | shadow, default validate) is the effective_mode /decide reports while the
 * world has active strategies.
 */
#include "config.h"
#include "exec_domain.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "gw_util.h"
#include "log.h"
#include "nodeid.h"

#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int gw_live_allowed(struct gw_server *s, struct evhttp_request *req)
{
    if (!gw_server_config(s)->gateway.live_guard)
        return 1;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Allow-Live");
    return h && strcasecmp(h, "true") == 0;
}

static void live_denied(struct evhttp_request *req)
{
    gw_reply_error(
        req, 403, "E_PERMISSION_DENIED", "live trading not allowed",
        json_pack("{ssss}", "code", "E_PERMISSION_DENIED", "message", "live trading not allowed"));
}

static void store_failed(struct gw_server *s, struct evhttp_request *req)
{
    gw_reply_error(req, 500, "E_STORE", "store operation failed",
                   json_string(gw_store_errmsg(gw_server_store(s))));
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return 0;
    json_t *utf8 = json_string(id); /* NULL unless valid UTF-8 */
    if (!utf8)
        return 0;
    json_decref(utf8);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x21 || c == 0x7f || c == '/')
            return 0;
    }
    return 1;
}

/* A JSON array of non-empty strings (deduplicated, order kept) or NULL. */
static json_t *string_list(const json_t *v)
{
    if (!json_is_array(v))
        return NULL;
    json_t *out = json_array();
    size_t i, k;
    json_t *e, *o;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || !*json_string_value(e)) {
            json_decref(out);
            return NULL;
        }
        int dup = 0;
        json_array_foreach(out, k, o) if (json_equal(o, e)) dup = 1;
        if (!dup)
            json_array_append(out, e);
    }
    return out;
}

static int audit(struct gw_server *s, const char *world, const char *event, json_t *details)
{
    int rc = gw_store_audit_add(gw_server_store(s), world, event, details);
    json_decref(details);
    return rc;
}

/* Checks a world document body; err filled on failure. */
static int check_world_doc(const json_t *doc, char *err, size_t errlen)
{
    const json_t *name = json_object_get(doc, "name");
    if (name && !json_is_null(name) && !json_is_string(name)) {
        snprintf(err, errlen, "field 'name': expected a string or null");
        return -1;
    }
    const json_t *mode = json_object_get(doc, "mode");
    if (mode && !exec_mode_is_world_mode(json_string_value(mode))) {
        snprintf(err, errlen, "field 'mode': expected one of " EXEC_WORLD_MODES);
        return -1;
    }
    return 0;
}

static int doc_is_live(const json_t *doc)
{
    const char *m = json_string_value(json_object_get(doc, "mode"));
    return m && strcmp(m, "live") == 0;
}

/* ------------------------------------------------------------------ /worlds */

static void worlds_root(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    struct gw_store *st = gw_server_store(s);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET) {
        json_t *list = gw_store_world_list(st);
        if (!list)
            store_failed(s, req);
        else
            gw_reply_json(req, 200, list);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    char err[200];
    const char *id = json_string_value(json_object_get(body, "id"));
    if (!id || !valid_id(id)) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "field 'id': expected a non-empty string of at most 128 printable "
                       "characters without '/'",
                       NULL);
    } else if (check_world_doc(body, err, sizeof(err)) < 0) {
        gw_reply_error(req, 422, "E_VALIDATION", err, NULL);
    } else if (doc_is_live(body) && !gw_live_allowed(s, req)) {
        live_denied(req);
    } else {
        if (!json_object_get(body, "name"))
            json_object_set_new(body, "name", json_null());
        int rc = gw_store_world_put(st, id, body, 1);
        if (rc < 0)
            store_failed(s, req);
        else if (rc == 1)
            gw_reply_error(req, 409, "E_CONFLICT", "world already exists", NULL);
        else {
            audit(s, id, "world_created", json_deep_copy(body));
            gw_reply_json(req, 201, json_incref(body));
        }
    }
    json_decref(body);
}

/* ------------------------------------------------------------------ decide */

json_t *gw_worlds_decide(struct gw_server *s, const char *world, const json_t *doc)
{
    struct gw_store *st = gw_server_store(s);
    json_t *decisions = gw_store_decisions_get(st, world);
    int64_t pv = gw_store_world_default_policy(st, world);
    if (!decisions || pv < 0) {
        json_decref(decisions);
        return NULL;
    }
    int active = json_array_size(decisions) > 0;
    json_decref(decisions);
    const char *mode = json_string_value(json_object_get(doc, "mode"));
    const char *eff = active ? (mode ? mode : "validate") : "validate";
    int d = exec_mode_to_domain(eff);
    const char *domain = exec_domain_name(d < 0 ? EXEC_BACKTEST : d);
    char now[32], etag[300];
    time_t t = time(NULL);
    gw_iso_time(t, now);
    snprintf(etag, sizeof(etag), "w:%s:v%lld:%lld", world, (long long)pv, (long long)t);
    return json_pack("{ss sI ss ss ss ss ss ss s{ss ss ss sn sn sb sn sb}}", "world_id", world,
                     "policy_version", (json_int_t)pv, "effective_mode", eff, "reason",
                     active ? "policy_evaluated" : "no_active_strategies", "as_of", now, "ttl",
                     "300s", "etag", etag, "execution_domain", domain, "compute_context",
                     "world_id", world, "execution_domain", domain, "as_of", now, "partition",
                     "dataset_fingerprint", "downgraded", 0, "downgrade_reason", "safe_mode",
                     strcmp(domain, "backtest") == 0);
}

/* ------------------------------------------------------------------ policies */

int gw_policy_validate(const json_t *policy, char *err, size_t errlen)
{
    if (!json_is_object(policy)) {
        snprintf(err, errlen, "field 'policy': expected an object");
        return -1;
    }
    const json_t *th = json_object_get(policy, "thresholds");
    if (th) {
        if (!json_is_object(th)) {
            snprintf(err, errlen, "field 'policy.thresholds': expected an object");
            return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)th, k, v)
        {
            json_t *mn = json_object_get(v, "min"), *mx = json_object_get(v, "max");
            json_t *metric = json_object_get(v, "metric");
            if (!json_is_object(v) || (metric && !json_is_string(metric)) ||
                (mn && !json_is_null(mn) && !json_is_number(mn)) ||
                (mx && !json_is_null(mx) && !json_is_number(mx))) {
                snprintf(err, errlen,
                         "field 'policy.thresholds.%.60s': expected {metric, min?, max?} with "
                         "numeric bounds",
                         k);
                return -1;
            }
        }
    }
    const json_t *tk = json_object_get(policy, "top_k");
    if (tk && !json_is_null(tk)) {
        if (!json_is_object(tk) || !json_is_string(json_object_get(tk, "metric")) ||
            !json_is_integer(json_object_get(tk, "k")) ||
            json_integer_value(json_object_get(tk, "k")) <= 0) {
            snprintf(err, errlen, "field 'policy.top_k': expected {metric: string, k: int > 0}");
            return -1;
        }
    }
    return 0;
}

static json_t *policy_event(const char *world, int64_t version, json_t *active)
{
    char now[32], hex[65];
    gw_iso_now(now, 0);
    json_t *event = json_pack("{ss sI ss ss}", "world_id", world, "policy_version",
                              (json_int_t)version, "status", "ACTIVE", "ts", now);
    if (active) {
        char *text = json_dumps(active, JSON_COMPACT);
        if (text) {
            nodeid_blake3_hex(text, strlen(text), hex);
            char sum[80];
            snprintf(sum, sizeof(sum), "blake3:%s", hex);
            json_object_set_new(event, "checksum", json_string(sum));
            free(text);
        }
    }
    return event;
}

static void policies_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                           const char *version)
{
    struct gw_store *st = gw_server_store(s);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (version) {
        char *end = NULL;
        long long v = strtoll(version, &end, 10);
        if (cmd != EVHTTP_REQ_GET) {
            gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
            return;
        }
        json_t *p = NULL;
        int rc = (!*version || *end || v <= 0) ? 0 : gw_store_policy_get(st, world, v, &p);
        if (rc < 0)
            store_failed(s, req);
        else if (rc == 0)
            gw_reply_error(req, 404, "E_NOT_FOUND", "policy not found", NULL);
        else
            gw_reply_json(req, 200, json_pack("{sIso}", "version", (json_int_t)v, "policy", p));
        return;
    }
    if (cmd == EVHTTP_REQ_GET) {
        json_t *list = gw_store_policy_list(st, world);
        int64_t dv = gw_store_world_default_policy(st, world);
        if (!list || dv < 0) {
            json_decref(list);
            store_failed(s, req);
            return;
        }
        gw_reply_json(req, 200,
                      json_pack("{so sI}", "policies", list, "default_version", (json_int_t)dv));
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    char err[200];
    json_t *policy = json_object_get(body, "policy");
    int64_t v = 0;
    if (gw_policy_validate(policy, err, sizeof(err)) < 0)
        gw_reply_error(req, 422, "E_VALIDATION", err, NULL);
    else if (gw_store_policy_add(st, world, policy, &v) < 0)
        store_failed(s, req);
    else {
        audit(s, world, "policy_added", json_pack("{sI}", "version", (json_int_t)v));
        gw_reply_json(req, 200, json_pack("{sI}", "version", (json_int_t)v));
    }
    json_decref(body);
}

static void set_default_route(struct gw_server *s, struct evhttp_request *req, const char *world)
{
    struct gw_store *st = gw_server_store(s);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    json_t *vj = json_object_get(body, "version");
    json_t *p = NULL;
    if (!json_is_integer(vj) || json_integer_value(vj) <= 0) {
        gw_reply_error(req, 422, "E_VALIDATION", "field 'version': expected an integer > 0", NULL);
        json_decref(body);
        return;
    }
    int64_t v = json_integer_value(vj);
    json_decref(body);
    int rc = gw_store_policy_get(st, world, v, &p);
    json_decref(p);
    if (rc < 0) {
        store_failed(s, req);
        return;
    }
    if (rc == 0) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "policy not found", NULL);
        return;
    }
    json_t *active = gw_store_decisions_get(st, world);
    if (gw_server_txn_begin(s) < 0 || gw_store_world_set_default_policy(st, world, v) < 0 ||
        audit(s, world, "default_policy_set", json_pack("{sI}", "version", (json_int_t)v)) < 0 ||
        gw_server_publish_event(s, "policy_updated", world, policy_event(world, v, active)) < 0 ||
        gw_server_txn_commit(s) < 0) {
        if (gw_store_in_txn(st))
            gw_server_txn_rollback(s);
        json_decref(active);
        store_failed(s, req);
        return;
    }
    json_decref(active);
    gw_reply_json(req, 200,
                  json_pack("{sssI}", "world_id", world, "default_policy_version", (json_int_t)v));
}

/* ------------------------------------------------------------------ bindings, decisions */

static void list_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                       int decisions)
{
    struct gw_store *st = gw_server_store(s);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET) {
        json_t *l =
            decisions ? gw_store_decisions_get(st, world) : gw_store_bindings_get(st, world);
        /* bindings hold submission ids: say which strategy (by name) each one is */
        json_t *names = decisions || !l ? NULL : gw_store_bindings_names(st, world);
        if (!l || (!decisions && !names)) {
            json_decref(l);
            store_failed(s, req);
        } else if (decisions) {
            gw_reply_json(req, 200, json_pack("{so}", "strategies", l));
        } else {
            gw_reply_json(req, 200, json_pack("{so so}", "strategies", l, "names", names));
        }
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    json_t *list = string_list(json_object_get(body, "strategies"));
    json_decref(body);
    if (!list) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "field 'strategies': expected an array of non-empty strings", NULL);
        return;
    }
    int rc;
    if (decisions) {
        rc = gw_server_txn_begin(s);
        if (rc == 0)
            rc = gw_store_decisions_set(st, world, list);
        if (rc == 0)
            rc = audit(s, world, "decisions_set", json_pack("{sO}", "strategies", list));
        if (rc == 0)
            rc = gw_server_txn_commit(s);
        else if (gw_store_in_txn(st))
            gw_server_txn_rollback(s);
    } else {
        rc = gw_store_bindings_add(st, world, list);
        if (rc == 0)
            rc = audit(s, world, "bindings_added", json_pack("{sO}", "strategies", list));
    }
    json_decref(list);
    if (rc < 0) {
        store_failed(s, req);
        return;
    }
    json_t *now = decisions ? gw_store_decisions_get(st, world) : gw_store_bindings_get(st, world);
    gw_reply_json(req, 200, json_pack("{so}", "strategies", now ? now : json_array()));
}

/* ------------------------------------------------------------------ /worlds/{id} */

static void world_doc_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                            json_t *doc)
{
    struct gw_store *st = gw_server_store(s);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET) {
        gw_reply_json(req, 200, json_incref(doc));
        return;
    }
    if (cmd != EVHTTP_REQ_PUT && cmd != EVHTTP_REQ_DELETE) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    if (cmd == EVHTTP_REQ_DELETE) {
        if (doc_is_live(doc) && !gw_live_allowed(s, req)) {
            live_denied(req);
            return;
        }
        /* Hosts hear that every strategy of the world is off before it disappears. */
        int rc = gw_server_txn_begin(s);
        json_t *entries = rc == 0 ? gw_store_activation_list(st, world) : NULL;
        size_t i;
        json_t *e;
        if (!entries)
            rc = -1;
        json_array_foreach(entries, i, e)
        {
            if (rc < 0)
                break;
            json_t *off = json_pack("{sb sf sb sb sO}", "active", 0, "weight", 0.0, "freeze", 0,
                                    "drain", 0, "effective_mode",
                                    json_object_get(e, "effective_mode")
                                        ? json_object_get(e, "effective_mode")
                                        : json_null());
            json_t *why = json_pack("{ss}", "reason", "world_deleted");
            json_t *env =
                gw_activation_write(s, world, json_string_value(json_object_get(e, "strategy_id")),
                                    json_string_value(json_object_get(e, "side")), off, why);
            if (!env)
                rc = -1;
            json_decref(env);
            json_decref(off);
            json_decref(why);
        }
        json_decref(entries);
        if (rc == 0 && gw_store_world_delete(st, world) < 0)
            rc = -1;
        if (rc == 0 && audit(s, world, "world_deleted", NULL) < 0)
            rc = -1;
        if (rc == 0 && gw_server_txn_commit(s) < 0)
            rc = -1;
        if (rc < 0) {
            if (gw_store_in_txn(st))
                gw_server_txn_rollback(s);
            store_failed(s, req);
        } else
            gw_reply_json(req, 204, NULL);
        return;
    }
    json_t *body = gw_read_json(req, 0);
    if (!body)
        return;
    char err[200];
    if (check_world_doc(body, err, sizeof(err)) < 0) {
        gw_reply_error(req, 422, "E_VALIDATION", err, NULL);
    } else if ((doc_is_live(body) || doc_is_live(doc)) && !gw_live_allowed(s, req)) {
        live_denied(req);
    } else {
        /* PUT replaces the document; the id always comes from the path. */
        json_object_set_new(body, "id", json_string(world));
        if (!json_object_get(body, "name"))
            json_object_set(body, "name", json_object_get(doc, "name"));
        if (gw_store_world_put(st, world, body, 0) < 0)
            store_failed(s, req);
        else {
            audit(s, world, "world_updated", json_deep_copy(body));
            gw_reply_json(req, 200, json_incref(body));
        }
    }
    json_decref(body);
}

static void audit_route(struct gw_server *s, struct evhttp_request *req, const char *world)
{
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    long limit;
    if (gw_query_limit(req, GW_MAX_LIMIT, &limit) < 0)
        return;
    json_t *list = gw_store_audit_list(gw_server_store(s), world, limit);
    if (!list)
        store_failed(s, req);
    else
        gw_reply_json(req, 200, json_pack("{ss so}", "world_id", world, "entries", list));
}

static void worlds_prefix(struct evhttp_request *req, const char *rest, void *arg)
{
    struct gw_server *s = arg;
    char id[160];
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (idlen == 0 || idlen >= sizeof(id)) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "world not found", NULL);
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    const char *sub = slash ? slash + 1 : NULL;
    if (!valid_id(id)) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "world not found", NULL);
        return;
    }
    /* Fast path: activation reads do not need the world document. */
    if (sub && strcmp(sub, "activation") == 0 &&
        evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
        gw_activation_route(s, req, id, NULL);
        return;
    }
    json_t *doc = NULL;
    int rc = gw_store_world_get(gw_server_store(s), id, &doc);
    if (rc < 0) {
        store_failed(s, req);
        return;
    }
    if (rc == 0) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "world not found", NULL);
        return;
    }
    /* The live guard covers every change to a live world: its document, decisions,
     * bindings, policies, activation and 2-phase apply. */
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET && doc_is_live(doc) &&
        !gw_live_allowed(s, req)) {
        live_denied(req);
        json_decref(doc);
        return;
    }
    if (!sub)
        world_doc_route(s, req, id, doc);
    else if (strcmp(sub, "policies") == 0)
        policies_route(s, req, id, NULL);
    else if (strncmp(sub, "policies/", 9) == 0 && !strchr(sub + 9, '/'))
        policies_route(s, req, id, sub + 9);
    else if (strcmp(sub, "set-default") == 0)
        set_default_route(s, req, id);
    else if (strcmp(sub, "bindings") == 0)
        list_route(s, req, id, 0);
    else if (strcmp(sub, "decisions") == 0)
        list_route(s, req, id, 1);
    else if (strcmp(sub, "decide") == 0) {
        if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
            gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        } else {
            json_t *env = gw_worlds_decide(s, id, doc);
            if (!env)
                store_failed(s, req);
            else {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
                                  "max-age=300");
                gw_reply_json(req, 200, env);
            }
        }
    } else if (strcmp(sub, "activation") == 0)
        gw_activation_route(s, req, id, doc);
    else if (strcmp(sub, "apply") == 0)
        gw_apply_route(s, req, id, doc);
    else if (strcmp(sub, "audit") == 0)
        audit_route(s, req, id);
    else if (strcmp(sub, "kill") == 0)
        gw_kill_route(s, req, id);
    else
        gw_reply_error(req, 404, "E_NOT_FOUND", "no such world resource", NULL);
    json_decref(doc);
}

int gw_worlds_register(struct gw_server *s)
{
    if (gw_server_add_route(s, "/worlds", worlds_root, s) < 0 ||
        gw_server_add_route(s, "/worlds/", worlds_prefix, s) < 0)
        return -1;
    return 0;
}
