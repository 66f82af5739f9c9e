/*
 * gw_fills: what broker connectors report back about live orders (docs/connectors.md).
 *
 *   POST /fills               connector bearer or X-Signature (gw_auth.c); a CloudEvents 1.0
 *                             envelope whose data is an ExecutionFillEvent
 *   GET  /fills?world_id=W[&strategy_id=S][&after=N][&limit=N]   operator, host, connector
 *   POST /orders/{id}/status  connector; {"status", "reason"} (dispatched by gw_orders.c)
 *
 * A fill is idempotent on (order_id, seq): the same fill again returns 200 with the
 * stored fill and emits nothing; a different fill under a stored (order_id, seq) is 409.
 * A new fill is checked against its order (symbol and side equal, order not closed,
 * cumulative quantity within the order), then stored with the order's new filled
 * quantity and status, and a `fill` event published, in one transaction committed
 * (synchronous=FULL) before the 202 reply. A status update publishes `order_updated`.
 */
#include "gw_metrics.h"
#include "gw_routes.h"
#include "gw_store.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Relative tolerance of quantity sums (fills of 1/3 + 1/3 + 1/3 fill an order of 1). */
#define QTY_EPS 1e-9

static int text_field(const json_t *o, const char *key, size_t max, int required, const char *where,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            snprintf(err, errlen, "%s field '%s': required", where, key);
        return required ? -1 : 0;
    }
    const char *t = json_string_value(v);
    if (!t || !*t || strlen(t) > max) {
        snprintf(err, errlen, "%s field '%s': expected a non-empty string of at most %zu bytes",
                 where, key, max);
        return -1;
    }
    return 0;
}

/* A finite number with v >= lo (strictly > lo when 'strict'); absent is fine unless required. */
static int num_field(const json_t *o, const char *key, double lo, int strict, int required,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            snprintf(err, errlen, "data field '%s': required", key);
        return required ? -1 : 0;
    }
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || (strict ? !(d > lo) : !(d >= lo))) {
        snprintf(err, errlen, "data field '%s': expected a number %s %g", key,
                 strict ? ">" : ">=", lo);
        return -1;
    }
    return 0;
}

static int int_field(const json_t *o, const char *key, json_int_t lo, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo) {
        snprintf(err, errlen, "data field '%s': expected an integer >= %lld", key, (long long)lo);
        return -1;
    }
    return 0;
}

int64_t gw_fill_order_id(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
    const char *t = json_string_value(v);
    if (!t || !*t || strlen(t) > 19)
        return 0;
    for (const char *p = t; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    errno = 0;
    long long id = strtoll(t, NULL, 10);
    return errno || id <= 0 ? 0 : (int64_t)id;
}

int gw_fill_validate(const json_t *env, char *err, size_t errlen)
{
    if (!json_is_object(env)) {
        snprintf(err, errlen, "body must be a CloudEvents 1.0 envelope (a JSON object)");
        return -1;
    }
    const char *sv = json_string_value(json_object_get(env, "specversion"));
    if (!sv || strcmp(sv, "1.0")) {
        snprintf(err, errlen, "field 'specversion': expected \"1.0\" (a CloudEvents 1.0 envelope)");
        return -1;
    }
    if (text_field(env, "id", 256, 1, "envelope", err, errlen) < 0 ||
        text_field(env, "source", 1024, 1, "envelope", err, errlen) < 0 ||
        text_field(env, "type", 256, 1, "envelope", err, errlen) < 0)
        return -1;
    const json_t *d = json_object_get(env, "data");
    if (!json_is_object(d)) {
        snprintf(err, errlen, "field 'data': expected an object (the ExecutionFillEvent)");
        return -1;
    }
    if (!gw_fill_order_id(json_object_get(d, "order_id"))) {
        snprintf(err, errlen,
                 "data field 'order_id': expected the gateway's order id (a positive integer)");
        return -2;
    }
    const char *side = json_string_value(json_object_get(d, "side"));
    if (text_field(d, "symbol", 64, 1, "data", err, errlen) < 0 ||
        text_field(d, "client_order_id", 128, 0, "data", err, errlen) < 0 ||
        text_field(d, "correlation_id", 256, 0, "data", err, errlen) < 0 ||
        text_field(d, "tif", 16, 0, "data", err, errlen) < 0 ||
        text_field(d, "etag", 256, 0, "data", err, errlen) < 0)
        return -2;
    if (!side || (strcasecmp(side, "BUY") && strcasecmp(side, "SELL"))) {
        snprintf(err, errlen, "data field 'side': expected \"BUY\" or \"SELL\"");
        return -2;
    }
    if (num_field(d, "quantity", 0, 1, 1, err, errlen) < 0 ||
        num_field(d, "price", 0, 1, 1, err, errlen) < 0 ||
        num_field(d, "commission", 0, 0, 1, err, errlen) < 0 ||
        num_field(d, "slippage", -INFINITY, 0, 0, err, errlen) < 0 ||
        num_field(d, "market_impact", -INFINITY, 0, 0, err, errlen) < 0 ||
        int_field(d, "fill_time", 0, err, errlen) < 0 || int_field(d, "seq", 1, err, errlen) < 0)
        return -2;
    const char *st = json_string_value(json_object_get(d, "status"));
    if (json_object_get(d, "status") && !json_is_null(json_object_get(d, "status")) &&
        (!st || (strcmp(st, "filled") && strcmp(st, "partially_filled")))) {
        snprintf(err, errlen, "data field 'status': expected \"partially_filled\" or \"filled\"");
        return -2;
    }
    return 0;
}

static void store_failed(struct gw_server *s, struct evhttp_request *req)
{
    gw_reply_error(req, 500, "E_STORE", "store operation failed",
                   json_string(gw_store_errmsg(gw_server_store(s))));
}

static void reject(struct gw_server *s, struct evhttp_request *req, enum gw_fill_reject why,
                   int code, const char *ecode, const char *msg)
{
    gw_metrics_fill_rejected(gw_server_metrics(s), why);
    LOG_INFO("fills", "fill refused (%d %s): %s", code, ecode, msg);
    gw_reply_error(req, code, ecode, msg, NULL);
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* The stored fill document of a valid envelope for 'order' (new ref). */
static json_t *fill_doc(const json_t *env, const json_t *order, int64_t oid, const char *status)
{
    const json_t *d = json_object_get(env, "data");
    const char *side = json_string_value(json_object_get(d, "side"));
    json_t *f = json_pack(
        "{sO sO sI sO sO ss sf sf sf sO sO ss sO sO}", "world_id",
        json_object_get(order, "world_id"), "strategy_id", json_object_get(order, "strategy_id"),
        "order_id", (json_int_t)oid, "client_order_id", json_object_get(order, "client_order_id"),
        "symbol", json_object_get(order, "symbol"), "side",
        strcasecmp(side, "BUY") ? "SELL" : "BUY", "quantity", num(d, "quantity"), "price",
        num(d, "price"), "commission", num(d, "commission"), "fill_time",
        json_object_get(d, "fill_time"), "seq", json_object_get(d, "seq"), "status", status,
        "ce_id", json_object_get(env, "id"), "ce_source", json_object_get(env, "source"));
    static const char *const optional[] = {"slippage", "market_impact", "tif", "etag",
                                           "correlation_id"};
    for (size_t i = 0; f && i < sizeof(optional) / sizeof(optional[0]); i++) {
        json_t *v = json_object_get(d, optional[i]);
        if (v && !json_is_null(v))
            json_object_set(f, optional[i], v);
    }
    return f;
}

/* Same fill as the stored one (a retry), as far as the book is concerned. */
static int same_fill(const json_t *stored, const json_t *d)
{
    const char *side = json_string_value(json_object_get(d, "side"));
    const char *sside = json_string_value(json_object_get(stored, "side"));
    return num(stored, "quantity") == num(d, "quantity") &&
           num(stored, "price") == num(d, "price") &&
           num(stored, "commission") == num(d, "commission") && side && sside &&
           !strcasecmp(side, sside);
}

static json_t *order_event(const json_t *order, const char *status, const char *reason,
                           double filled)
{
    const char *side = json_string_value(json_object_get(order, "side"));
    return json_pack(
        "{sO sO sO sO sO ss ss so? sf sf}", "world_id", json_object_get(order, "world_id"),
        "strategy_id", json_object_get(order, "strategy_id"), "order_id",
        json_object_get(order, "id"), "client_order_id", json_object_get(order, "client_order_id"),
        "symbol", json_object_get(order, "symbol"), "side",
        side && !strcasecmp(side, "buy") ? "BUY" : "SELL", "status", status, "reason",
        reason ? json_string(reason) : NULL, "filled_quantity", filled, "quantity",
        num(order, "quantity"));
}

/* Inside the open transaction: either replies (an error or a repeat; the caller rolls
 * back) or sets *accepted to the stored fill, to be committed and then answered 202. */
static void fill_in_txn(struct gw_server *s, struct evhttp_request *req, const json_t *env,
                        json_t **accepted)
{
    struct gw_store *st = gw_server_store(s);
    const json_t *d = json_object_get(env, "data");
    int64_t oid = gw_fill_order_id(json_object_get(d, "order_id"));
    int64_t seq = (int64_t)json_integer_value(json_object_get(d, "seq"));
    char msg[400];
    json_t *stored = NULL, *order = NULL;
    int rc = gw_store_fill_get(st, oid, seq, &stored);
    if (rc < 0) {
        store_failed(s, req);
        return;
    }
    if (rc == 1) {
        if (same_fill(stored, d)) {
            LOG_DEBUG("fills", "fill (order %lld, seq %lld) again: stored one returned",
                      (long long)oid, (long long)seq);
            gw_reply_json(req, 200, stored);
            return;
        }
        json_decref(stored);
        snprintf(msg, sizeof(msg),
                 "order %lld already has a different fill with seq %lld (a repeat must carry "
                 "the same side, quantity, price and commission)",
                 (long long)oid, (long long)seq);
        reject(s, req, GW_FR_MISMATCH, 409, "E_DUPLICATE_SEQ", msg);
        return;
    }
    rc = gw_store_order_by_id(st, oid, &order);
    if (rc <= 0) {
        if (rc < 0)
            store_failed(s, req);
        else {
            snprintf(msg, sizeof(msg), "order %lld not found", (long long)oid);
            reject(s, req, GW_FR_UNKNOWN_ORDER, 404, "E_NOT_FOUND", msg);
        }
        return;
    }
    const char *osym = json_string_value(json_object_get(order, "symbol"));
    const char *oside = json_string_value(json_object_get(order, "side"));
    const char *ocoid = json_string_value(json_object_get(order, "client_order_id"));
    const char *coid = json_string_value(json_object_get(d, "client_order_id"));
    const char *status = json_string_value(json_object_get(order, "status"));
    double qty = num(order, "quantity"), done = num(order, "filled_quantity");
    double add = num(d, "quantity");
    if (!osym || strcmp(osym, json_string_value(json_object_get(d, "symbol"))) || !oside ||
        strcasecmp(oside, json_string_value(json_object_get(d, "side"))) ||
        (coid && (!ocoid || strcmp(coid, ocoid)))) {
        snprintf(msg, sizeof(msg),
                 "fill does not match order %lld (%s %s, client_order_id '%s'): symbol, side "
                 "and client_order_id must be the order's",
                 (long long)oid, oside ? oside : "?", osym ? osym : "?", ocoid ? ocoid : "");
        reject(s, req, GW_FR_MISMATCH, 409, "E_ORDER_MISMATCH", msg);
    } else if (gw_order_status_final(status) && strcmp(status, "filled")) {
        snprintf(msg, sizeof(msg), "order %lld is %s: it takes no more fills", (long long)oid,
                 status);
        reject(s, req, GW_FR_ORDER_CLOSED, 409, "E_ORDER_CLOSED", msg);
    } else if (done + add > qty * (1 + QTY_EPS)) {
        snprintf(msg, sizeof(msg),
                 "fill of %.12g would bring order %lld to %.12g, beyond its quantity %.12g", add,
                 (long long)oid, done + add, qty);
        reject(s, req, GW_FR_OVERFILL, 409, "E_OVERFILL", msg);
    } else {
        double filled = done + add;
        const char *fst = filled >= qty * (1 - QTY_EPS) ? "filled" : "partially_filled";
        json_t *f = fill_doc(env, order, oid, fst);
        const char *world = json_string_value(json_object_get(order, "world_id"));
        if (!f || gw_store_fill_put(st, oid, seq, f) < 0 ||
            gw_store_order_set_status(st, oid, fst, NULL, filled) < 0 ||
            gw_server_publish_event(s, "fill", world, json_deep_copy(f)) < 0 ||
            gw_store_fill_get(st, oid, seq, &stored) != 1) {
            json_decref(f);
            store_failed(s, req);
        } else {
            json_decref(f);
            LOG_INFO("fills", "order %lld: fill seq %lld of %.12g at %.12g (%s)", (long long)oid,
                     (long long)seq, add, num(d, "price"), fst);
            *accepted = stored;
        }
    }
    json_decref(order);
}

static void post_fill(struct gw_server *s, struct evhttp_request *req)
{
    json_t *env = gw_read_json(req, 1);
    if (!env) {
        gw_metrics_fill_rejected(gw_server_metrics(s), GW_FR_INVALID_JSON);
        return;
    }
    char err[400];
    int v = gw_fill_validate(env, err, sizeof(err));
    if (v < 0) {
        if (v == -1)
            reject(s, req, GW_FR_CE_REQUIRED, 400, "E_CE_REQUIRED", err);
        else
            reject(s, req, GW_FR_SCHEMA, 400, "E_SCHEMA_INVALID", err);
        json_decref(env);
        return;
    }
    if (gw_server_txn_begin(s) < 0) {
        store_failed(s, req);
        json_decref(env);
        return;
    }
    json_t *accepted = NULL;
    fill_in_txn(s, req, env, &accepted);
    if (!accepted)
        gw_server_txn_rollback(s);
    else if (gw_server_txn_commit(s) < 0) {
        json_decref(accepted);
        store_failed(s, req);
    } else {
        gw_metrics_add(gw_server_metrics(s), GW_M_FILLS_ACCEPTED, 1);
        gw_reply_json(req, 202, accepted);
    }
    json_decref(env);
}

static void list_fills(struct gw_server *s, struct evhttp_request *req)
{
    struct gw_list_query q;
    if (gw_list_query_parse(req, "a fill", &q) < 0)
        return;
    json_t *arr = gw_store_fill_list(gw_server_store(s), q.world, q.strategy, q.after, q.limit);
    if (!arr)
        store_failed(s, req);
    else
        gw_list_reply(req, &q, "fills", arr);
    gw_list_query_release(&q);
}

static void fills_root(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m == EVHTTP_REQ_POST)
        post_fill(s, req);
    else if (m == EVHTTP_REQ_GET)
        list_fills(s, req);
    else
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
}

static const char *const broker_status[] = {"accepted", "rejected", "canceled", "expired"};

void gw_order_status_route(struct gw_server *s, struct evhttp_request *req, int64_t id)
{
    json_t *body = gw_read_json(req, 0), *order = NULL;
    if (!body)
        return;
    struct gw_store *st = gw_server_store(s);
    const char *status = json_string_value(json_object_get(body, "status"));
    const json_t *rv = json_object_get(body, "reason");
    const char *reason = json_string_value(rv);
    size_t k = 0;
    while (status && k < sizeof(broker_status) / sizeof(broker_status[0]) &&
           strcmp(status, broker_status[k]))
        k++;
    char msg[300];
    if (!status || k == sizeof(broker_status) / sizeof(broker_status[0])) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "field 'status': expected accepted, rejected, canceled or expired "
                       "(fills go to POST /fills)",
                       NULL);
        goto out;
    }
    if ((rv && !json_is_null(rv) && !reason) || (reason && strlen(reason) > 512)) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "field 'reason': expected a string of at most 512 bytes or null", NULL);
        goto out;
    }
    if (gw_server_txn_begin(s) < 0) {
        store_failed(s, req);
        goto out;
    }
    int rc = gw_store_order_by_id(st, id, &order), commit = 0;
    char cur[32]; /* copied: 'order' is reloaded below */
    snprintf(cur, sizeof(cur), "%s",
             json_string_value(json_object_get(order, "status"))
                 ? json_string_value(json_object_get(order, "status"))
                 : "");
    double filled = num(order, "filled_quantity");
    if (rc < 0)
        store_failed(s, req);
    else if (rc == 0)
        gw_reply_error(req, 404, "E_NOT_FOUND", "order not found", NULL);
    else if (!strcmp(cur, status)) /* a repeat: nothing changes, nothing is emitted */
        gw_reply_json(req, 200, json_incref(order));
    else if (gw_order_status_final(cur) ||
             (!strcmp(status, "accepted") && strcmp(cur, "new") && strcmp(cur, "acked"))) {
        snprintf(msg, sizeof(msg), "order %lld is %s: it cannot become %s", (long long)id, cur,
                 status);
        gw_reply_error(req, 409, "E_ORDER_CLOSED", msg, NULL);
    } else if (gw_store_order_set_status(st, id, status, reason, filled) < 0 ||
               gw_server_publish_event(s, "order_updated",
                                       json_string_value(json_object_get(order, "world_id")),
                                       order_event(order, status, reason, filled)) < 0) {
        store_failed(s, req);
    } else {
        json_decref(order);
        order = NULL;
        if (gw_store_order_by_id(st, id, &order) != 1)
            store_failed(s, req);
        else
            commit = 1;
    }
    if (!commit)
        gw_server_txn_rollback(s);
    else if (gw_server_txn_commit(s) < 0)
        store_failed(s, req);
    else {
        LOG_INFO("fills", "order %lld: %s -> %s%s%s", (long long)id, cur, status,
                 reason ? ": " : "", reason ? reason : "");
        gw_reply_json(req, 200, json_incref(order));
    }
out:
    json_decref(order);
    json_decref(body);
}

int gw_fills_register(struct gw_server *s)
{
    return gw_server_add_route(s, "/fills", fills_root, s);
}
