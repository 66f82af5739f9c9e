/*
 * gw_routes: registration of the gateway's built-in route groups and the pieces they
 * share. Internal to gateway/ (not a public contract).
 */
#ifndef QMTL_GATEWAY_GW_ROUTES_H
#define QMTL_GATEWAY_GW_ROUTES_H

#include "gw_server.h"

#include <event2/bufferevent.h>

/* /worlds and /worlds/... (gw_worlds.c, gw_activation.c, gw_apply.c) */
int gw_worlds_register(struct gw_server *s);
/* /strategies, /strategies/..., /queues/by_tag (gw_strategies.c) */
int gw_strategies_register(struct gw_server *s);

/* /orders, /orders/{id}/ack and /orders/{id}/status (gw_orders.c) */
int gw_orders_register(struct gw_server *s);
/* The query of a paged list (GET /orders, GET /fills; gw_orders.c): world_id (required),
 * strategy_id (optional, NULL when absent or empty), after (an id >= 0, default 0), limit
 * (gw_query_limit, default 100). */
struct gw_list_query {
    char *world, *strategy;
    int64_t after;
    long limit;
};
/* 0, or -1 after replying 422 naming the parameter ('what' names the id: "an order"). */
int gw_list_query_parse(struct evhttp_request *req, const char *what, struct gw_list_query *q);
void gw_list_query_release(struct gw_list_query *q);
/* Reply 200 {"world_id", key: arr (stolen), "next_after": the last element's "id", else
 * q->after}. */
void gw_list_reply(struct evhttp_request *req, const struct gw_list_query *q, const char *key,
                   json_t *arr);
/* /fills (gw_fills.c) */
int gw_fills_register(struct gw_server *s);
/* POST /orders/{id}/status: a connector reports the broker's status (gw_fills.c). */
void gw_order_status_route(struct gw_server *s, struct evhttp_request *req, int64_t id);
/* Validate a POST /fills body: 0 ok; -1 not a CloudEvents 1.0 envelope (E_CE_REQUIRED);
 * -2 its data is not an ExecutionFillEvent (E_SCHEMA_INVALID); err names the field. */
int gw_fill_validate(const json_t *envelope, char *err, size_t errlen);
/* The gateway order id a fill names ("order_id": positive integer or its decimal text);
 * 0 when invalid. */
int64_t gw_fill_order_id(const json_t *v);
/* POST/DELETE /worlds/{id}/kill and the kill check of POST /orders (gw_kill.c). */
void gw_kill_route(struct gw_server *s, struct evhttp_request *req, const char *world);
/* For a new order of a killed world: 1 when it only reduces the strategy's position from
 * its fills (the flatten of a kill), 0 refused with 'why', -1 store error; 2 when the
 * world is not killed. */
int gw_kill_check(struct gw_server *s, const char *world, const char *strategy,
                  const json_t *order, char *why, size_t whylen);
/* Validate a POST /orders body; 0 ok or -1 with err naming the field. */
int gw_order_validate(const json_t *body, char *err, size_t errlen);

/* Route handlers for the world sub-resources (split across files). 'world' is the
 * decoded world id, the world exists (doc borrowed). */
void gw_activation_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                         const json_t *doc);
void gw_apply_route(struct gw_server *s, struct evhttp_request *req, const char *world,
                    const json_t *doc);
/* Apply one activation change inside the caller's transaction: bump the world's version,
 * store the envelope built from 'fields' (active, weight, freeze, drain, effective_mode,
 * run_id, ts), append the audit entry and publish activation_updated. 'extra' (borrowed,
 * may be NULL) is merged into the event data (phase, requires_ack, sequence).
 * New envelope or NULL on a store failure. */
json_t *gw_activation_write(struct gw_server *s, const char *world, const char *sid,
                            const char *side, const json_t *fields, const json_t *extra);
/* DecisionEnvelope of a world (new object) or NULL on a store error. */
json_t *gw_worlds_decide(struct gw_server *s, const char *world, const json_t *doc);
/* 1 when the request carries "X-Allow-Live: true" or the live guard is off. */
int gw_live_allowed(struct gw_server *s, struct evhttp_request *req);
/* Test hook: make POST /worlds/{id}/apply fail at this stage ("freeze", "switch",
 * "unfreeze"), NULL for none. */
extern const char *gw_apply_fail_stage;

/* Connection guard (gw_guard.c): evhttp bufferevent factory enforcing the header and
 * body limits before evhttp parses anything. Rejected requests are rewritten to
 * "GET GW_REJECT_PREFIX<code>" so the reply goes through the normal JSON error path. */
#define GW_REJECT_PREFIX "/.qmtl-reject/"
#define GW_REJECT_HEADER "X-Qmtl-Reject"
struct gw_guard;
struct gw_guard_set {
    long max_header_bytes;
    long max_body_bytes;
    struct gw_guard *head;   /* live guards (freed on connection close or release) */
    double read_timeout_s;   /* whole request (head and body); 0 = none */
    struct event_base *base; /* for the read timers (NULL = none) */
};
struct bufferevent *gw_guard_bevcb(struct event_base *base, void *arg);
/* Run the guard's request-head parser over 'data' delivered in pieces of 'chunk' bytes
 * (0 = all at once), without a connection. Returns the rejection status (411, 413, 431)
 * or 0 when everything would be passed to evhttp; -1 on an internal error. For tests
 * and fuzzing. */
int gw_guard_simulate(long max_header_bytes, long max_body_bytes, const char *data, size_t len,
                      size_t chunk);
/* Free every remaining guard (after evhttp_free). */
void gw_guard_set_release(struct gw_guard_set *set);

/* The event hub's pieces shared with POST /events/subscribe (gw_hub.c, gw_subscribe.c). */
struct gw_hub;
struct cfg_gateway;
const struct cfg_gateway *gw_hub_cfg(const struct gw_hub *h);
struct gw_server *gw_hub_server(const struct gw_hub *h);
/* A stream token (malloc'd, NULL on failure) carrying the credential name 'cred'. */
char *gw_hub_mint(struct gw_hub *h, const char *world_id, const char *strategy_id,
                  const char *const *topics, int64_t ttl_s, const char *cred);
/* ISO 8601 UTC time of 'unix_s' (now when < 0), with milliseconds when with_ms. */
void gw_hub_iso_time(int64_t unix_s, int with_ms, char out[40]);
/* POST /events/subscribe; 'arg' is the hub. */
void gw_subscribe_route(struct evhttp_request *req, const char *rest, void *arg);

/* Remember the start time of a request that will be answered later (asynchronous
 * handlers), so its latency is measured from arrival. */
void gw_server_defer(struct gw_server *s, struct evhttp_request *req);

/* Count a reply in the request metrics (route, method, code, latency since arrival). */
void gw_server_record_reply(struct evhttp_request *req, int code);
/* How many events the event log keeps (default 100,000); trimmed every 1024 events. */
void gw_server_set_event_log_keep(struct gw_server *s, long keep);
/* Record the outcome of the last DAG manager call (reported by GET /health). */
void gw_server_note_dagmanager(struct gw_server *s, int ok);

/* Body parsers exposed for fuzzing and unit tests. */
/* Decode a StrategySubmit "dag_json" value (base64 or raw JSON text, or an object) into
 * a DAG object. NULL with err. */
json_t *gw_strategy_decode_dag(const json_t *dag_json, char *err, size_t errlen);
/* Verify a decoded DAG against the submitted CRC. 0 ok; otherwise the HTTP status and
 * *error (new ref) holds the reference-shaped detail {"code":...,...}. */
int gw_strategy_verify(const json_t *dag, const json_t *crc, json_t **error);
/* Validate a PUT activation body; 0 ok or -1 with err. */
int gw_activation_validate(const json_t *body, char *err, size_t errlen);
/* Validate a policy document; 0 ok or -1 with err. */
int gw_policy_validate(const json_t *policy, char *err, size_t errlen);

#endif
