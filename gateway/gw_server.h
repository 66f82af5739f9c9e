/*
 * gw_server: the gateway's HTTP server (libevent evhttp, one event loop).
 *
 * Owns the event base, the evhttp instance, the store, the metrics and the route
 * table. Every request passes a connection-level guard first (request head larger
 * than gateway.max_header_bytes -> 431, declared body larger than
 * gateway.max_body_bytes -> 413, chunked request bodies -> 411, malformed request or
 * header lines -> 400; all with JSON bodies), then the router: exact paths, or
 * prefixes ending in '/' that match deeper paths (longest match wins). Unknown paths
 * get 404 JSON. Before the router, every request is authenticated against the route
 * table of gw_auth.h (401/403 before anything is looked up). The bufferevent evhttp uses for a
 * connection is the plain socket bufferevent; the guard stops looking after a head with an Upgrade
 * header.
 *
 * Error bodies look like
 *   {"error": {"code": "E_NOT_FOUND", "message": "world not found"}, "detail": ...}
 * where "detail" carries the reference system's shape (a message string, or an
 * object with "code" and extra fields) so clients of either style can read it.
 *
 * Events: gw_server_publish_event() wraps data in a CloudEvents 1.0 envelope with a
 * gateway-wide seq_no that is persisted in the store's event log in the same SQLite
 * transaction as the change that caused it (when one is open, see gw_server_txn_*),
 * and listeners are called once that transaction has committed.
 */
#ifndef QMTL_GATEWAY_GW_SERVER_H
#define QMTL_GATEWAY_GW_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gw_server;
struct gw_store;
struct gw_metrics;
struct qmtl_config;

/* Create a server for 'cfg' (borrowed; must outlive the server): opens the store at
 * gateway.store_path and registers every built-in route. Nothing is bound yet.
 * NULL with err filled. */
struct gw_server *gw_server_new(const struct qmtl_config *cfg, char *err, size_t errlen);
/* Bind gateway.host:gateway.port (port 0 picks a free port). 0 or -1 with err. */
int gw_server_bind(struct gw_server *s, char *err, size_t errlen);
/* Port actually bound (after gw_server_bind). */
int gw_server_port(const struct gw_server *s);
/* Base URL "http://host:port" (borrowed; valid after gw_server_bind). */
const char *gw_server_url(const struct gw_server *s);
/* Run the loop until gw_server_stop() or SIGINT/SIGTERM (when install_signals). */
int gw_server_run(struct gw_server *s, int install_signals);
/* Ask the loop to exit (safe from callbacks). */
void gw_server_stop(struct gw_server *s);
/* Free everything (closes the store). NULL is a no-op. */
void gw_server_free(struct gw_server *s);

/* Routes: exact path, or a prefix ending in '/' matching deeper paths. Handler gets the
 * request and the part of the path after the prefix (the empty string for exact
 * routes). Registered before the server starts. 0 or -1. */
typedef void (*gw_route_fn)(struct evhttp_request *req, const char *rest, void *arg);
int gw_server_add_route(struct gw_server *s, const char *path, gw_route_fn fn, void *arg);

struct event_base *gw_server_base(struct gw_server *s);
struct evhttp *gw_server_http(struct gw_server *s);
struct gw_store *gw_server_store(struct gw_server *s);
const struct qmtl_config *gw_server_config(const struct gw_server *s);
struct gw_metrics *gw_server_metrics(struct gw_server *s);

/* Publish an event: wraps 'data' (stolen) in a CloudEvents 1.0 envelope {specversion "1.0",
 * id, source, type, time, datacontenttype, seq_no, data (with "version":1 added when
 * missing)}, assigns the next gateway-wide seq_no, persists it in the event log, then calls
 * every listener (immediately, or after gw_server_txn_commit() when a transaction is open).
 * 'world_id' may be NULL. 0 or -1. */
int gw_server_publish_event(struct gw_server *s, const char *type, const char *world_id,
                            json_t *data);
typedef void (*gw_event_listener_fn)(void *arg, int64_t seq_no, const char *type,
                                     const char *world_id, const char *envelope_json);
int gw_server_add_listener(struct gw_server *s, gw_event_listener_fn fn, void *arg);

/* A store transaction whose published events reach listeners only on commit. */
int gw_server_txn_begin(struct gw_server *s);
int gw_server_txn_commit(struct gw_server *s);
void gw_server_txn_rollback(struct gw_server *s);

/* ---- helpers for route handlers (also used by the event stream) */

/* Reply with JSON 'body' (stolen; NULL sends no body) and Content-Type application/json. */
void gw_reply_json(struct evhttp_request *req, int code, json_t *body);
/* Same with an already-encoded JSON text. */
void gw_reply_text(struct evhttp_request *req, int code, const char *json_text);
/* JSON error reply; 'detail' (stolen, may be NULL) is the reference-shaped detail; when
 * NULL the message string is used. */
void gw_reply_error(struct evhttp_request *req, int code, const char *err_code, const char *message,
                    json_t *detail);
/* Parse the request body as a JSON object (or any JSON when any != 0). On failure sends
 * 400/422 itself and returns NULL. */
json_t *gw_read_json(struct evhttp_request *req, int any);
/* Credentials the request being dispatched authenticated with (GW_CRED_* bits of
 * gw_auth.h; 0 on a public route). Valid inside a route handler only. */
int gw_server_request_creds(const struct gw_server *s);
/* Largest accepted "limit" query parameter of every list route. */
#define GW_MAX_LIMIT 1000
/* The "limit" query parameter: *out = def when absent; 0, or -1 after replying 422 when
 * it is not an integer in 1..GW_MAX_LIMIT. */
int gw_query_limit(struct evhttp_request *req, long def, long *out);
/* Value of query parameter 'key' of the request URI (malloc'd) or NULL. */
char *gw_query_param(struct evhttp_request *req, const char *key);

#endif
