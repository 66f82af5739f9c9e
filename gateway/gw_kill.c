/*
 * gw_kill: the operator's kill switch of a world (docs/operations.md, "Kill switch").
 *
 *   POST   /worlds/{id}/kill  {"reason"?}   operator (+ live guard): kill the world
 *   GET    /worlds/{id}/kill                operator: {"world_id", "killed", "reason", "killed_at"}
 *   DELETE /worlds/{id}/kill                operator (+ live guard): release it
 *
 * Killing stores the switch (durable), writes an audit entry and publishes `world_killed`
 * (data {world_id, reason, killed_at}) in one transaction; hosts attached to the world
 * flatten every position and freeze (host_kill). From then on POST /orders of that world
 * takes only orders that reduce their strategy's position (fills plus open orders) without
 * crossing zero: the flatten orders. Killing a killed world changes nothing and emits
 * nothing. Releasing publishes `world_kill_released`; hosts stay frozen until restarted.
 */
#include "gw_routes.h"
#include "gw_store.h"
#include "log.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void store_failed(struct gw_server *s, struct evhttp_request *req)
{
    gw_reply_error(req, 500, "E_STORE", "store operation failed",
                   json_string(gw_store_errmsg(gw_server_store(s))));
}

static json_t *state_of(const char *world, const json_t *doc)
{
    json_t *o = json_pack("{ss sb}", "world_id", world, "killed", doc != NULL);
    if (doc)
        json_object_update(o, (json_t *)doc);
    return o;
}

/* Write the change (doc NULL = release) with its audit entry and event. 0 or -1. */
static int write_kill(struct gw_server *s, const char *world, json_t *doc)
{
    struct gw_store *st = gw_server_store(s);
    json_t *data = doc ? json_deep_copy(doc) : json_object();
    json_object_set_new(data, "world_id", json_string(world));
    int rc = gw_server_txn_begin(s);
    if (rc == 0 && (gw_store_kill_set(st, world, doc) < 0 ||
                    gw_store_audit_add(st, world, doc ? "kill" : "kill_released", data) < 0 ||
                    gw_server_publish_event(s, doc ? "world_killed" : "world_kill_released", world,
                                            json_incref(data)) < 0 ||
                    gw_server_txn_commit(s) < 0)) {
        gw_server_txn_rollback(s);
        rc = -1;
    }
    json_decref(data);
    return rc;
}

void gw_kill_route(struct gw_server *s, struct evhttp_request *req, const char *world)
{
    struct gw_store *st = gw_server_store(s);
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    json_t *cur = NULL, *body = NULL;
    int rc = gw_store_kill_get(st, world, &cur);
    if (rc < 0) {
        store_failed(s, req);
        return;
    }
    if (m == EVHTTP_REQ_GET) {
        gw_reply_json(req, 200, state_of(world, cur));
    } else if (m == EVHTTP_REQ_POST) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        if (evbuffer_get_length(in) && !(body = gw_read_json(req, 0)))
            goto out;
        const json_t *r = json_object_get(body, "reason");
        if (r && !json_is_null(r) && (!json_is_string(r) || strlen(json_string_value(r)) > 512)) {
            gw_reply_error(req, 422, "E_VALIDATION",
                           "field 'reason': expected a string of at most 512 bytes", NULL);
            goto out;
        }
        if (cur) { /* already killed: nothing changes */
            gw_reply_json(req, 200, state_of(world, cur));
            goto out;
        }
        char at[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *doc = json_pack("{ss ss}", "reason",
                                json_is_string(r) ? json_string_value(r) : "operator kill switch",
                                "killed_at", at);
        if (write_kill(s, world, doc) < 0)
            store_failed(s, req);
        else {
            LOG_WARN("kill", "world '%s' killed: %s", world,
                     json_string_value(json_object_get(doc, "reason")));
            gw_reply_json(req, 200, state_of(world, doc));
        }
        json_decref(doc);
    } else if (m == EVHTTP_REQ_DELETE) {
        if (cur && write_kill(s, world, NULL) < 0)
            store_failed(s, req);
        else {
            if (cur)
                LOG_WARN("kill", "world '%s': kill switch released", world);
            gw_reply_json(req, 200, state_of(world, NULL));
        }
    } else {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
    }
out:
    json_decref(body);
    json_decref(cur);
}

int gw_kill_check(struct gw_server *s, const char *world, const char *strategy, const json_t *order,
                  char *why, size_t whylen)
{
    struct gw_store *st = gw_server_store(s);
    json_t *cur = NULL;
    int rc = gw_store_kill_get(st, world, &cur);
    if (rc <= 0)
        return rc < 0 ? -1 : 2;
    json_decref(cur);
    const char *sym = json_string_value(json_object_get(order, "symbol"));
    const char *side = json_string_value(json_object_get(order, "side"));
    double qty = json_number_value(json_object_get(order, "quantity"));
    double pos = 0, open = 0;
    if (gw_store_fill_position(st, world, strategy, sym, &pos) < 0 ||
        gw_store_open_position(st, world, strategy, sym, &open) < 0)
        return -1;
    double projected = pos + open;
    int sell = side && !strcasecmp(side, "sell");
    double tol = 1e-9 * fmax(1.0, fabs(projected));
    if ((sell && projected > 0 && qty <= projected + tol) ||
        (!sell && projected < 0 && qty <= -projected + tol))
        return 1;
    snprintf(why, whylen,
             "world '%s' is killed: only orders that reduce a position pass (strategy '%s' %s: "
             "position %.12g with open orders, order %s %.12g)",
             world, strategy, sym ? sym : "?", projected, sell ? "sell" : "buy", qty);
    return 0;
}
