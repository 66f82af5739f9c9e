/*
 * live_orders: the live-domain order sink of the attached host (DESIGN section 7: live ->
 * the gateway's order endpoint, from which broker connectors take them).
 *
 * Each order that passed the host's gate is POSTed to {gateway}/orders asynchronously on
 * the caller's event loop (never blocking it). Its client_order_id is deterministic,
 * "<strategy>-<ts>-<seq>" with seq counting that strategy's live orders from 1, so a
 * retry (one more attempt after a transport error or a 5xx) is idempotent on the
 * gateway. Outcomes: 201/200 accepted; 409 refused by the gateway's gate (logged with
 * its reason); anything else failed (logged).
 *
 * Request bookkeeping follows the control session (host/online/session.h): every request in
 * flight counts in *pending, which the stopping loop waits to see at 0 (host/loop.h); no
 * retry starts once *stopping is set.
 */
#ifndef QMTL_HOST_LIVE_ORDERS_H
#define QMTL_HOST_LIVE_ORDERS_H

#include <event2/event.h>
#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

struct live_orders;

struct live_orders_stats {
    long queued;   /* orders handed to live_orders_send */
    long accepted; /* stored by the gateway (201, or 200 for a resubmission) */
    long refused;  /* 409: the gateway's gate is closed */
    long failed;   /* transport errors, timeouts, other statuses, not started */
    long inflight; /* requests not finished yet */
};

/* Strings are copied; 'pending' and 'stopping' are borrowed (must outlive the sink).
 * NULL on out of memory. */
struct live_orders *live_orders_new(struct event_base *base, const char *gateway_url,
                                    const char *token, const char *world_id, double timeout_s,
                                    int *pending, const int *stopping);
/* Free the sink. Requests still in flight must have finished (inflight 0). NULL is a
 * no-op. */
void live_orders_free(struct live_orders *lo);

/* Queue one order of strategy 'name' ('strategy_id' = the gateway's id, or NULL/"" to
 * send the name only) under 'client_order_id' (NULL: the next "<name>-<ts>-<seq>" of
 * the sink's own count). Always counts the order (queued, and failed when the request
 * cannot start). 0 started, -1 not started. */
int live_orders_send(struct live_orders *lo, const char *name, const char *strategy_id,
                     const char *symbol, int64_t ts, const struct qmtl_order *o,
                     const char *client_order_id);

/* How each request ended: outcome 1 accepted (stored by the gateway), 0 refused by its
 * gate (409), -1 failed. Strings are borrowed for the call. */
typedef void (*live_orders_result_fn)(void *arg, const char *name, const char *client_order_id,
                                      int outcome);
/* Call 'fn' when a request ends (NULL: nobody). */
void live_orders_on_result(struct live_orders *lo, live_orders_result_fn fn, void *arg);

void live_orders_stats(const struct live_orders *lo, struct live_orders_stats *out);

/* The client_order_id for (strategy, ts, seq) into out. */
void live_order_client_id(char *out, size_t outlen, const char *name, int64_t ts, long seq);

#endif
