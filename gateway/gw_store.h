/*
 * gw_store: the gateway's durable state in one SQLite file.
 *
 * Tables: strategies, worlds (with the default policy version), policies, bindings,
 * decisions, activation (one row per world/strategy/side plus a per-world version
 * counter), apply runs, audit log, the event log, live orders (version 2), and (version 4)
 * the order lifecycle (claim, broker status, filled quantity), fills and the kill switch. The file is opened in WAL mode
 * with synchronous=FULL, so a write whose call returned 0 (or whose transaction
 * committed) survives kill -9 and power loss. The schema is versioned with
 * PRAGMA user_version and migrated forward on open (common/sqlite_db: WAL, busy timeout,
 * an exclusive lock so that one gateway owns the file, migrations, statement cache).
 *
 * Single-threaded: one gw_store belongs to one event loop. Every function returns
 * 0 / a positive "found" value on success and -1 on a database failure (the message
 * is then available from gw_store_errmsg()). Functions returning json_t* give the
 * caller a new reference (NULL on failure, and for "not found" where documented).
 */
#ifndef QMTL_GATEWAY_GW_STORE_H
#define QMTL_GATEWAY_GW_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gw_store;

#define GW_STORE_SCHEMA_VERSION 4

/* Open (creating if needed) and migrate the database at 'path'. NULL with err filled. */
struct gw_store *gw_store_open(const char *path, char *err, size_t errlen);
/* Close the database (checkpointing the WAL). NULL is a no-op. */
void gw_store_close(struct gw_store *s);
/* Schema version of the open file (GW_STORE_SCHEMA_VERSION after a successful open). */
int gw_store_schema_version(struct gw_store *s);
/* Last SQLite error text (borrowed, valid until the next call). */
const char *gw_store_errmsg(struct gw_store *s);
/* Number of failed store operations since open (exported as a metric). */
long gw_store_error_count(const struct gw_store *s);

/* Explicit transactions (BEGIN IMMEDIATE / COMMIT / ROLLBACK). Not nestable. */
int gw_store_begin(struct gw_store *s);
int gw_store_commit(struct gw_store *s);
int gw_store_rollback(struct gw_store *s);
int gw_store_in_txn(const struct gw_store *s);

/* ---- strategies */
/* Insert a strategy row submitted by the credential 'owner' (NULL = "anonymous");
 * its last_seen is now. */
int gw_store_strategy_put(struct gw_store *s, const char *id, const char *dag_hash,
                          const char *dag_json, uint32_t crc, const char *status,
                          const char *meta_json, const char *owner);
/* Mark a strategy as submitted again now (resets its expiry). 0 or -1. */
int gw_store_strategy_touch(struct gw_store *s, const char *id);
/* Delete the strategies last submitted before 'before' (Unix seconds) that no world
 * uses (no binding, activation or decision names them). Rows deleted or -1. */
long gw_store_strategy_expire(struct gw_store *s, int64_t before);
/* Stored strategies of 'owner' and the bytes of their DAGs. 0 or -1. */
int gw_store_strategy_usage(struct gw_store *s, const char *owner, long *count, long *bytes);
/* Look up by DAG hash: 1 and id copied to out, 0 not found, -1 error. */
int gw_store_strategy_find_by_hash(struct gw_store *s, const char *dag_hash, char *out,
                                   size_t outlen);
/* Status of a strategy: 1 found (copied to out), 0 not found, -1 error. */
int gw_store_strategy_status(struct gw_store *s, const char *id, char *out, size_t outlen);
int gw_store_strategy_set_status(struct gw_store *s, const char *id, const char *status);

/* ---- worlds: a world is a JSON object with at least "id". */
/* Insert (create_only: 1 returned when it already exists, nothing written) or replace. */
int gw_store_world_put(struct gw_store *s, const char *id, const json_t *doc, int create_only);
/* 1 and *out (new ref) found, 0 not found, -1 error. */
int gw_store_world_get(struct gw_store *s, const char *id, json_t **out);
/* JSON array of every world document, ordered by id. */
json_t *gw_store_world_list(struct gw_store *s);
/* Delete a world and everything attached to it (policies, bindings, decisions,
 * activation, runs). The audit log is kept. 1 deleted, 0 not found, -1 error. */
int gw_store_world_delete(struct gw_store *s, const char *id);
/* Default policy version (0 = none). -1 on error. */
int64_t gw_store_world_default_policy(struct gw_store *s, const char *id);
int gw_store_world_set_default_policy(struct gw_store *s, const char *id, int64_t version);

/* ---- policies: versions 1, 2, ... per world */
int gw_store_policy_add(struct gw_store *s, const char *world, const json_t *policy,
                        int64_t *version_out);
int gw_store_policy_get(struct gw_store *s, const char *world, int64_t version, json_t **out);
/* [{"version":n,"policy":{...}}...] in version order. */
json_t *gw_store_policy_list(struct gw_store *s, const char *world);

/* ---- bindings (set of strategy ids) and decisions (active strategy list) */
int gw_store_bindings_add(struct gw_store *s, const char *world, const json_t *strategies);
json_t *gw_store_bindings_get(struct gw_store *s, const char *world); /* array */
/* {strategy_id: name} for the bound strategies whose submission's meta names them
 * ("strategy": the plugin's name, as a host submits it). New object, NULL on error. */
json_t *gw_store_bindings_names(struct gw_store *s, const char *world);
int gw_store_decisions_set(struct gw_store *s, const char *world, const json_t *strategies);
json_t *gw_store_decisions_get(struct gw_store *s, const char *world); /* array, [] if none */

/* ---- activation */
/* Stored envelope text and etag of one (world, strategy, side): 1 found with *json
 * malloc'd (caller frees) and etag copied, 0 not found, -1 error. */
int gw_store_activation_get_raw(struct gw_store *s, const char *world, const char *strategy,
                                const char *side, char **json, char *etag, size_t etaglen);
/* Same, parsed. */
int gw_store_activation_get(struct gw_store *s, const char *world, const char *strategy,
                            const char *side, json_t **out);
/* Write one entry (the full envelope object; its "etag" and "state_version" fields are stored
 * in columns too). */
int gw_store_activation_put(struct gw_store *s, const char *world, const char *strategy,
                            const char *side, const json_t *envelope);
/* Per-world activation version counter: current value (0 when never changed), -1 error. */
int64_t gw_store_activation_version(struct gw_store *s, const char *world);
/* Increment the counter; the new value in *out. */
int gw_store_activation_bump(struct gw_store *s, const char *world, int64_t *out);
/* Every entry of a world as an array of envelopes ordered by (strategy, side). */
json_t *gw_store_activation_list(struct gw_store *s, const char *world);
/* {"version":n,"state":{sid:{side:{active,weight,freeze,drain,effective_mode,run_id,ts,etag}}}} */
json_t *gw_store_activation_state(struct gw_store *s, const char *world);
/* Current activation of a world as the JSON 'data' of an activation_updated event per
 * (strategy, side); a new array (empty if none) or NULL on error. */
json_t *gw_store_activation_snapshot(struct gw_store *s, const char *world_id);
/* Remove every activation entry of a world (used by rollback tests and world deletion). */
int gw_store_activation_clear(struct gw_store *s, const char *world);

/* ---- apply runs: run_id idempotency for POST /worlds/{id}/apply */
int gw_store_run_get(struct gw_store *s, const char *world, const char *run_id, char *stage,
                     size_t stagelen, json_t **result);
int gw_store_run_put(struct gw_store *s, const char *world, const char *run_id, const char *stage,
                     const json_t *result);

/* ---- audit log */
int gw_store_audit_add(struct gw_store *s, const char *world, const char *event,
                       const json_t *details);
/* Newest last; at most 'limit' most recent entries (limit <= 0: 1000). */
json_t *gw_store_audit_list(struct gw_store *s, const char *world, long limit);

/* ---- event log (seq_no is gateway-wide, monotonic, never reused even after trimming) */
/* Append an event with the given seq (must be gw_store_event_last_seq() + 1). */
int gw_store_event_append(struct gw_store *s, int64_t seq, const char *type, const char *world_id,
                          const char *envelope_json);
/* Events with seq > after_seq in seq order; cb returning non-zero stops (not an error). */
int gw_store_event_scan(struct gw_store *s, int64_t after_seq,
                        int (*cb)(void *arg, int64_t seq, const char *type, const char *world_id,
                                  const char *envelope_json),
                        void *arg);
/* Highest seq ever assigned (0 if none), -1 on error. */
int64_t gw_store_event_last_seq(struct gw_store *s);
/* Oldest seq still kept (0 if the log is empty), -1 on error. */
int64_t gw_store_event_first_seq(struct gw_store *s);
/* Keep only the newest 'keep' events. */
int gw_store_event_trim(struct gw_store *s, long keep);

/* ---- live orders (POST /orders): 'doc' is the order object as accepted. */
/* Insert unless (world, strategy, client_order_id) exists: 1 inserted, 0 already there
 * (nothing written); either way *out (new ref) is the stored order with "id", "status",
 * "created_at" added. -1 on error. */
int gw_store_order_put(struct gw_store *s, const char *world, const char *strategy,
                       const char *client_order_id, const json_t *doc, json_t **out);
/* The order (world, strategy, client_order_id): 1 and *out (new ref), 0 none, -1 error. */
int gw_store_order_get(struct gw_store *s, const char *world, const char *strategy,
                       const char *client_order_id, json_t **out);
/* Orders of a world with id > after, oldest first, at most 'limit' (<= 0: 100). 'strategy'
 * NULL = any; 'status' NULL = any, "open" = new, acked, accepted or partially_filled, else
 * that status. Each order carries "id", "status", "strategy_id" (the key it is stored
 * under), "filled_quantity", "reason", "created_at", "acked_at", "updated_at". A new array
 * or NULL on error. */
json_t *gw_store_order_list(struct gw_store *s, const char *world, const char *strategy,
                            const char *status, int64_t after, long limit);
/* The order with this id: 1 and *out (new ref), 0 none, -1 error. */
int gw_store_order_by_id(struct gw_store *s, int64_t id, json_t **out);
/* Claim an order for a connector (status "new" -> "acked", atomically): 1 claimed now, or
 * already held by the same non-NULL 'claim_id' (a retry); 2 held by another claim (or no
 * longer new); 0 not found; -1 error. *out (new ref) is the order whenever it exists. */
int gw_store_order_ack(struct gw_store *s, int64_t id, const char *claim_id, json_t **out);

/* ---- order lifecycle and fills (gw_store_fills.c) */
/* 1 when 'status' ends an order (filled, rejected, canceled, expired). */
int gw_order_status_final(const char *status);
/* Set an order's status, reason (NULL clears) and filled quantity; updated_at = now.
 * 1 done, 0 not found, -1 error. */
int gw_store_order_set_status(struct gw_store *s, int64_t id, const char *status,
                              const char *reason, double filled_qty);
/* The fill (order_id, seq): 1 and *out (new ref, the stored document), 0 none, -1 error. */
int gw_store_fill_get(struct gw_store *s, int64_t order_id, int64_t seq, json_t **out);
/* Insert a fill ('doc' holds at least world_id, strategy_id, symbol, side, quantity).
 * 0 or -1 (a duplicate (order_id, seq) is an error: look it up first). */
int gw_store_fill_put(struct gw_store *s, int64_t order_id, int64_t seq, const json_t *doc);
/* Fills of (world, strategy NULL = any) with row id > after, oldest first, at most 'limit'
 * (<= 0: 100); each is the stored document plus "id" (the row id, for paging). A new array
 * or NULL on error. */
json_t *gw_store_fill_list(struct gw_store *s, const char *world, const char *strategy,
                           int64_t after, long limit);
/* Net position of (world, strategy, symbol) from its fills (BUY adds, SELL subtracts) into
 * *out. 0 or -1. */
int gw_store_fill_position(struct gw_store *s, const char *world, const char *strategy,
                           const char *symbol, double *out);
/* Remaining quantity of the open orders (new, acked, accepted, partially_filled) of
 * (world, strategy, symbol), signed (buy +, sell -), into *out. 0 or -1. */
int gw_store_open_position(struct gw_store *s, const char *world, const char *strategy,
                           const char *symbol, double *out);
/* Kill switch of a world: 1 and *out (new ref: {reason, killed_at}), 0 not killed, -1. */
int gw_store_kill_get(struct gw_store *s, const char *world, json_t **out);
/* Set ('doc' non-NULL, replaces) or clear (NULL) the kill switch. 0 or -1. */
int gw_store_kill_set(struct gw_store *s, const char *world, const json_t *doc);

#endif
