/*
 * gw_orders: the live order endpoint (DESIGN section 7: live -> the gateway's order
 * endpoint, from which broker connectors take them).
 *
 *   POST /orders            host credential; {world_id, strategy_id | strategy,
 *                           client_order_id, symbol, side, quantity, price, ts[, run_id]}
 *   GET  /orders?world_id=W[&strategy_id=S][&status=S][&after=ID][&limit=N]
 *                           operator, host or connector (status "open": not final yet)
 *   POST /orders/{id}/ack   connector credential: a connector claims the order (once)
 *   POST /orders/{id}/status  connector: broker status (gw_fills.c)
 * (credentials are checked by the router, gw_auth.c)
 *
 * POST re-checks the gate on the server, so a misbehaving host cannot bypass it: the
 * world's execution domain must be live and the activation of (world, strategy, position
 * side) must allow the order (see gate_open); otherwise 409 E_GATE_CLOSED with the
 * reason. In a killed world (gw_kill.c) only orders reducing a position pass. (world, strategy, client_order_id) is the idempotency key: a resubmission
 * returns the stored order with 200 and stores nothing (checked before the gate, so a
 * retry after the gate closed still gets its order). A new order is committed to the
 * store (synchronous=FULL) before the 201 reply.
 */
#include "gw_metrics.h"
#include "log.h"
#include "gw_routes.h"
#include "gw_store.h"

#include <event2/buffer.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int check_text(const json_t *body, const char *key, size_t max, int required, char *err,
                      size_t errlen)
{
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(err, errlen, "field '%s': required", key);
        return -1;
    }
    const char *t = json_string_value(v);
    if (!t || !*t || strlen(t) > max) {
        snprintf(err, errlen, "field '%s': expected a non-empty string of at most %zu bytes", key,
                 max);
        return -1;
    }
    return 0;
}

int gw_order_validate(const json_t *body, char *err, size_t errlen)
{
    if (!json_is_object(body)) {
        snprintf(err, errlen, "order must be a JSON object");
        return -1;
    }
    if (check_text(body, "world_id", 256, 1, err, errlen) < 0 ||
        check_text(body, "strategy_id", 256, 0, err, errlen) < 0 ||
        check_text(body, "strategy", 256, 0, err, errlen) < 0 ||
        check_text(body, "client_order_id", 128, 1, err, errlen) < 0 ||
        check_text(body, "symbol", 64, 1, err, errlen) < 0 ||
        check_text(body, "run_id", 128, 0, err, errlen) < 0)
        return -1;
    if (!json_object_get(body, "strategy_id") && !json_object_get(body, "strategy")) {
        snprintf(err, errlen, "field 'strategy_id': required (or 'strategy', the name)");
        return -1;
    }
    const char *side = json_string_value(json_object_get(body, "side"));
    if (!side || (strcasecmp(side, "buy") && strcasecmp(side, "sell"))) {
        snprintf(err, errlen, "field 'side': expected \"buy\" or \"sell\"");
        return -1;
    }
    const json_t *q = json_object_get(body, "quantity");
    if (!json_is_number(q) || !isfinite(json_number_value(q)) || !(json_number_value(q) > 0)) {
        snprintf(err, errlen, "field 'quantity': expected a number > 0");
        return -1;
    }
    const json_t *p = json_object_get(body, "price");
    if (!json_is_number(p) || !isfinite(json_number_value(p)) || json_number_value(p) < 0) {
        snprintf(err, errlen, "field 'price': expected a number >= 0");
        return -1;
    }
    if (!json_is_integer(json_object_get(body, "ts"))) {
        snprintf(err, errlen, "field 'ts': expected an integer (epoch seconds)");
        return -1;
    }
    return 0;
}

static void refuse(struct gw_server *s, struct evhttp_request *req, int code, const char *ecode,
                   const char *msg)
{
    gw_metrics_add(gw_server_metrics(s), GW_M_ORDERS_REFUSED, 1);
    gw_reply_error(req, code, ecode, msg, NULL);
}

static void store_failed(struct gw_server *s, struct evhttp_request *req)
{
    gw_reply_error(req, 500, "E_STORE", "store operation failed",
                   json_string(gw_store_errmsg(gw_server_store(s))));
}

/* Does the order reduce the strategy's position (its fills plus its open orders) without
 * crossing zero? 1 yes (with the position's side in *side), 0 no, -1 store error. */
static int reduces(struct gw_server *s, const char *world, const char *key, const char *symbol,
                   int sell, double qty, const char **side)
{
    double pos = 0, open = 0;
    if (gw_store_fill_position(gw_server_store(s), world, key, symbol, &pos) < 0 ||
        gw_store_open_position(gw_server_store(s), world, key, symbol, &open) < 0)
        return -1;
    double p = pos + open, tol = 1e-9 * fmax(1.0, fabs(p));
    *side = p > 0 ? "long" : "short";
    return (sell && p > 0 && qty <= p + tol) || (!sell && p < 0 && qty <= -p + tol);
}

/* The server-side gate, by position side: an order that reduces the strategy's position
 * belongs to that position's side and passes unless the side is frozen; any other order
 * belongs to the side it opens or increases (buy: long, sell: short) and needs it active,
 * not frozen and not draining. 1 open; 0 closed with 'why'; -1 store error. */
static int gate_open(struct gw_server *s, const char *world, const json_t *wdoc, const char *sid,
                     const char *name, const json_t *order, char *why, size_t whylen)
{
    struct gw_store *st = gw_server_store(s);
    json_t *dec = gw_worlds_decide(s, world, wdoc);
    if (!dec)
        return -1;
    const char *dom = json_string_value(json_object_get(dec, "execution_domain"));
    if (!dom || strcmp(dom, "live")) {
        snprintf(why, whylen,
                 "world '%s' is in execution domain '%s' (effective_mode '%s'), not live", world,
                 dom ? dom : "?",
                 json_string_value(json_object_get(dec, "effective_mode"))
                     ? json_string_value(json_object_get(dec, "effective_mode"))
                     : "?");
        json_decref(dec);
        return 0;
    }
    json_decref(dec);
    int sell = strcasecmp(json_string_value(json_object_get(order, "side")), "buy") != 0;
    const char *aside = sell ? "short" : "long";
    int red = reduces(s, world, sid ? sid : name, json_string_value(json_object_get(order, "symbol")),
                      sell, json_number_value(json_object_get(order, "quantity")), &aside);
    if (red < 0)
        return -1;
    if (!red)
        aside = sell ? "short" : "long";
    json_t *act = NULL;
    int rc = sid ? gw_store_activation_get(st, world, sid, aside, &act) : 0;
    if (rc == 0 && name)
        rc = gw_store_activation_get(st, world, name, aside, &act);
    if (rc < 0)
        return -1;
    const char *who = sid ? sid : name;
    if (rc == 0) {
        snprintf(why, whylen, "no activation for strategy '%s' side '%s'", who, aside);
        return 0;
    }
    const char *r = NULL;
    if (json_is_true(json_object_get(act, "freeze")))
        r = "frozen";
    else if (red)
        r = NULL; /* reduce-only: active, draining or deactivated */
    else if (!json_is_true(json_object_get(act, "active")))
        r = "not active";
    else if (json_is_true(json_object_get(act, "drain")))
        r = "draining";
    json_decref(act);
    if (r) {
        snprintf(why, whylen, "activation of strategy '%s' side '%s' is %s", who, aside, r);
        return 0;
    }
    return 1;
}

static void post_order(struct gw_server *s, struct evhttp_request *req)
{
    json_t *body = gw_read_json(req, 0);
    if (!body) {
        gw_metrics_add(gw_server_metrics(s), GW_M_ORDERS_REFUSED, 1);
        return;
    }
    char err[512];
    if (gw_order_validate(body, err, sizeof(err)) < 0) {
        refuse(s, req, 422, "E_VALIDATION", err);
        json_decref(body);
        return;
    }
    struct gw_store *st = gw_server_store(s);
    const char *world = json_string_value(json_object_get(body, "world_id"));
    const char *sid = json_string_value(json_object_get(body, "strategy_id"));
    const char *name = json_string_value(json_object_get(body, "strategy"));
    const char *key = sid ? sid : name;
    const char *coid = json_string_value(json_object_get(body, "client_order_id"));
    json_t *wdoc = NULL, *order = NULL;
    int rc = gw_store_world_get(st, world, &wdoc);
    if (rc < 0) {
        store_failed(s, req);
        goto out;
    }
    if (rc == 0) {
        refuse(s, req, 404, "E_NOT_FOUND", "world not found");
        goto out;
    }
    rc = gw_store_order_get(st, world, key, coid, &order);
    if (rc < 0) {
        store_failed(s, req);
        goto out;
    }
    if (rc == 1) { /* idempotent resubmission */
        gw_reply_json(req, 200, order);
        order = NULL;
        goto out;
    }
    char why[600];
    rc = gw_kill_check(s, world, key, body, why, sizeof(why));
    if (rc == 2) /* not killed: the gate decides */
        rc = gate_open(s, world, wdoc, sid, name, body, why, sizeof(why));
    if (rc < 0) {
        store_failed(s, req);
        goto out;
    }
    if (rc == 0) {
        LOG_INFO("orders", "order '%s' of '%s' refused: %s", coid, key, why);
        refuse(s, req, 409, "E_GATE_CLOSED", why);
        goto out;
    }
    /* normalize the side to lower case in the stored document */
    char side[8];
    snprintf(side, sizeof(side), "%s",
             strcasecmp(json_string_value(json_object_get(body, "side")), "buy") ? "sell" : "buy");
    json_object_set_new(body, "side", json_string(side));
    rc = gw_store_order_put(st, world, key, coid, body, &order);
    if (rc < 0) {
        store_failed(s, req);
        goto out;
    }
    if (rc == 1)
        gw_metrics_add(gw_server_metrics(s), GW_M_ORDERS_ACCEPTED, 1);
    gw_reply_json(req, rc == 1 ? 201 : 200, order);
    order = NULL;
out:
    json_decref(order);
    json_decref(wdoc);
    json_decref(body);
}

static int parse_i64(const char *t, long long lo, long long hi, long long *out)
{
    if (!t || !*t)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int gw_list_query_parse(struct evhttp_request *req, const char *what, struct gw_list_query *q)
{
    memset(q, 0, sizeof(*q));
    if (gw_query_limit(req, 100, &q->limit) < 0)
        return -1;
    q->world = gw_query_param(req, "world_id");
    q->strategy = gw_query_param(req, "strategy_id");
    if (q->strategy && !*q->strategy) {
        free(q->strategy);
        q->strategy = NULL;
    }
    char *after = gw_query_param(req, "after");
    long long a = 0;
    int bad = after && parse_i64(after, 0, INT64_MAX, &a) < 0;
    free(after);
    q->after = a;
    char msg[96];
    if (!q->world || !*q->world)
        gw_reply_error(req, 422, "E_VALIDATION", "query 'world_id': required", NULL);
    else if (bad) {
        snprintf(msg, sizeof(msg), "query 'after': expected %s id >= 0", what);
        gw_reply_error(req, 422, "E_VALIDATION", msg, NULL);
    } else
        return 0;
    gw_list_query_release(q);
    return -1;
}

void gw_list_query_release(struct gw_list_query *q)
{
    free(q->world);
    free(q->strategy);
    q->world = q->strategy = NULL;
}

void gw_list_reply(struct evhttp_request *req, const struct gw_list_query *q, const char *key,
                   json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t *last = n ? json_object_get(json_array_get(arr, n - 1), "id") : NULL;
    gw_reply_json(req, 200,
                  json_pack("{ss so sI}", "world_id", q->world, key, arr, "next_after",
                            last ? json_integer_value(last) : (json_int_t)q->after));
}

static const char *const list_status[] = {"new",      "acked",    "open",
                                          "accepted", "rejected", "canceled",
                                          "expired",  "filled",   "partially_filled"};

static void list_orders(struct gw_server *s, struct evhttp_request *req)
{
    struct gw_list_query q;
    if (gw_list_query_parse(req, "an order", &q) < 0)
        return;
    char *status = gw_query_param(req, "status");
    size_t k = 0;
    while (status && k < sizeof(list_status) / sizeof(list_status[0]) &&
           strcmp(status, list_status[k]))
        k++;
    if (status && k == sizeof(list_status) / sizeof(list_status[0]))
        gw_reply_error(req, 422, "E_VALIDATION",
                       "query 'status': expected new, acked, open (new, acked, accepted or "
                       "partially_filled), accepted, partially_filled, filled, rejected, "
                       "canceled or expired",
                       NULL);
    else {
        json_t *arr =
            gw_store_order_list(gw_server_store(s), q.world, q.strategy, status, q.after, q.limit);
        if (!arr)
            store_failed(s, req);
        else
            gw_list_reply(req, &q, "orders", arr);
    }
    free(status);
    gw_list_query_release(&q);
}

static void orders_root(struct evhttp_request *req, const char *rest, void *arg)
{
    (void)rest;
    struct gw_server *s = arg;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m == EVHTTP_REQ_POST)
        post_order(s, req);
    else if (m == EVHTTP_REQ_GET)
        list_orders(s, req);
    else
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
}

/* POST /orders/{id}/ack: claim the order, exactly once. An optional body
 * {"claim_id": "..."} names the claimant, so that its retry gets 200 again; any other
 * ack of an order no longer new is 409 E_ALREADY_CLAIMED. */
static void ack_route(struct gw_server *s, struct evhttp_request *req, int64_t id)
{
    json_t *body = NULL;
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) &&
        !(body = gw_read_json(req, 0)))
        return;
    const json_t *c = json_object_get(body, "claim_id");
    const char *claim = json_string_value(c);
    if ((c && !json_is_null(c) && !claim) || (claim && (!*claim || strlen(claim) > 128))) {
        gw_reply_error(req, 422, "E_VALIDATION",
                       "field 'claim_id': expected a non-empty string of at most 128 bytes",
                       NULL);
        json_decref(body);
        return;
    }
    json_t *order = NULL;
    int rc = gw_store_order_ack(gw_server_store(s), id, claim, &order);
    if (rc < 0)
        store_failed(s, req);
    else if (rc == 0)
        gw_reply_error(req, 404, "E_NOT_FOUND", "order not found", NULL);
    else if (rc == 2) {
        char msg[200];
        snprintf(msg, sizeof(msg), "order %lld was already claimed (status %s)", (long long)id,
                 json_string_value(json_object_get(order, "status")));
        gw_reply_error(req, 409, "E_ALREADY_CLAIMED", msg, order);
        order = NULL;
    } else
        gw_reply_json(req, 200, order), order = NULL;
    json_decref(order);
    json_decref(body);
}

/* /orders/{id}/ack and /orders/{id}/status */
static void orders_prefix(struct evhttp_request *req, const char *rest, void *arg)
{
    struct gw_server *s = arg;
    const char *slash = strchr(rest, '/');
    if (!slash || (strcmp(slash, "/ack") && strcmp(slash, "/status"))) {
        gw_reply_error(req, 404, "E_NOT_FOUND", "no such order resource", NULL);
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        gw_reply_error(req, 405, "E_METHOD_NOT_ALLOWED", "method not allowed", NULL);
        return;
    }
    char idt[32];
    long long id = 0;
    size_t n = (size_t)(slash - rest);
    if (n < sizeof(idt)) {
        memcpy(idt, rest, n);
        idt[n] = '\0';
    }
    if (n >= sizeof(idt) || parse_i64(idt, 1, INT64_MAX, &id) < 0) {
        gw_reply_error(req, 422, "E_VALIDATION", "order id: expected a positive integer", NULL);
        return;
    }
    if (!strcmp(slash, "/ack"))
        ack_route(s, req, id);
    else
        gw_order_status_route(s, req, id);
}

int gw_orders_register(struct gw_server *s)
{
    if (gw_server_add_route(s, "/orders", orders_root, s) < 0 ||
        gw_server_add_route(s, "/orders/", orders_prefix, s) < 0)
        return -1;
    return 0;
}
