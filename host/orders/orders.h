/*
 * orders: order execution of the host, its own room (issue 12): what happens between a
 * signal reaching an order publisher and an order leaving the process.
 *
 * The scheduler calls two hooks (scheduler.h, struct sched_hooks), installed by
 * host_finalize():
 *   orders_hook_signal  a signal node emitted: every strategy owning the node that has
 *                       no order publisher reading it hears it through on_signal (a
 *                       publisher reports its own signals). Linear in the node's owners
 *                       and children: a per-strategy stamp replaces the pairwise scans.
 *   orders_hook_order   an order publisher ran: its bar and its signal go through the
 *                       publisher's alignment (order_align.h: held until both sides
 *                       passed their bucket, as on one host), then each bar marks the
 *                       price and each signal's target becomes an order (sizing), asks
 *                       the gate and goes to the domain's sink (simulated broker, order
 *                       log, live sink), priced at the bar of the signal's bucket.
 * Both take the host as 'arg'. Neither allocates per event (a publisher's hold grows to
 * its bound once).
 *
 * The order log (h->order_log, optional) gets one line per order, fill and blocked order,
 * in a deterministic text:
 *     <ts> order <strategy> <symbol> buy|sell qty=<q> price=<p>
 *     <ts> fill <strategy> <symbol> buy|sell qty=<q> price=<p> fee=<f>
 *     <ts> blocked <strategy> <symbol> buy|sell qty=<q> (<reason>)
 *     <ts> expired <strategy> <client_order_id> qty=<remaining>
 * (limit and stop orders add " limit=<p>" / " stop=<p>" to their order line). Numbers are
 * written as the shortest text that reads back to the same double.
 *
 * Sizing: an order moves the position toward target * weight (gate.h) of the side it
 * aims at, against the confirmed position plus the open orders of the book (book.h), so
 * a signal never doubles an order in flight. In dryrun and live the gate then clips it
 * (gate_clip: a reducing part and an opening part, each judged by its position side).
 *
 * Fills: in backtest and dryrun the strategy's simulated broker fills (broker.h; market
 * orders at the next bar's open, or at the decision close with fill_at close); in live
 * the fills come from the gateway through host_apply_fill(). Both apply the fill with
 * broker_fill() -> book_apply_fill(), close the open order, write the fill line and call
 * on_fill.
 */
#ifndef QMTL_HOST_ORDERS_H
#define QMTL_HOST_ORDERS_H

#include <qmtl/qmtl.h>
#include <stdint.h>

#include "host/orders/broker.h"
#include "host/dag/graph.h"
#include "host/orders/risk.h"

struct host;
struct host_strategy;

void orders_hook_signal(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_signal *sg);
void orders_hook_order(void *arg, struct graph_node *n, const struct qmtl_window *in, int64_t ts,
                       int price_in, int signal_in, struct qmtl_value *out);

/* The end of a run (before host_finish; a host that follows on after its data ended:
 * when it stops): every order publisher hands over the bars and signals it still holds
 * (host/orders/order_align.h), in one-process order. */
void orders_flush(struct host *h);

/* An order to send (strings borrowed for the call). */
struct orders_req {
    const char *symbol;
    int side;        /* QMTL_SIDE_BUY or QMTL_SIDE_SELL */
    double quantity; /* > 0 */
    double price;    /* reference price at decision time */
    int type;        /* enum broker_order_type */
    double limit_price, stop_price;
    int tif; /* enum broker_tif */
    int64_t ts;
};

/*
 * Hand an order that passed sizing, the risk checks and the gate to the domain's sink,
 * under the next client_order_id of the strategy ("<strategy>-<ts>-<seq>", live_orders.h;
 * written to coid): live -> h->live_sink (market orders only), else the simulated broker
 * (and the order log). The order is open in the book until filled, rejected, canceled or
 * expired. 0 sent, -1 refused (counted as blocked, or invalid).
 */
int orders_send(struct host *h, struct host_strategy *st, const struct orders_req *rq,
                char *coid, size_t coid_len);

/* The risk checks, then (dryrun, live) the gate, for a whole order of signed quantity
 * 'delta' against 'pos' (confirmed + open) at 'price': 0 it may leave; 1 refused (counted
 * and logged), *why the reason (static text). */
int orders_check(struct host *h, struct host_strategy *st, const char *symbol, int64_t ts,
                 double pos, double delta, double price, const char **why);
/* An order passed everything and left at 'ts' (counted for the rate limit). */
void orders_sent(struct host_strategy *st, int64_t ts);

/* Count (and log) an order, or the part of one ('qty' signed), that did not leave. */
void orders_blocked(struct host *h, struct host_strategy *st, const char *symbol, int64_t ts,
                    double qty, const char *why);

/* ---- the live path (contract with the gateway's fill events) */

/* A fill from outside (the gateway's 'fill' event). Strings borrowed for the call. */
struct host_fill {
    const char *client_order_id; /* the host's id; NULL or "" when unknown */
    const char *order_id;        /* the gateway's id (may be NULL) */
    const char *symbol;
    int side;          /* QMTL_SIDE_BUY or QMTL_SIDE_SELL */
    double quantity;   /* this fill, > 0 */
    double price;      /* > 0 */
    double commission; /* >= 0 */
    int64_t ts;        /* fill time in seconds (the event's fill_time / 1000) */
    int64_t seq;       /* per order, from 1 */
};

enum host_order_status {
    HOST_ORDER_ACCEPTED = 0,
    HOST_ORDER_REJECTED,
    HOST_ORDER_CANCELED,
    HOST_ORDER_EXPIRED,
    HOST_ORDER_PARTIALLY_FILLED,
    HOST_ORDER_FILLED
};

/* An order status from outside (the gateway's 'order_updated' event). */
struct host_order_update {
    const char *client_order_id, *order_id, *symbol;
    int side;
    int status; /* enum host_order_status (host_order_status_parse) */
    const char *reason;
    double filled_quantity, quantity;
};

/* "accepted" ... "filled" -> enum host_order_status; -1 for anything else. */
int host_order_status_parse(const char *s);

/*
 * Apply a real fill to strategy 'strat': de-duplicated on (client_order_id, or order_id
 * when there is none, seq); then broker_fill (book, equity curve), the open order's
 * remaining quantity, the order log and on_fill. 0 applied, 1 duplicate (nothing done),
 * -1 invalid (unknown strategy, no key, seq < 1, bad side/quantity/price/commission).
 */
int host_apply_fill(struct host *h, uint32_t strat, const struct host_fill *f);

/*
 * Apply an order status: accepted (and partially_filled / filled) acknowledge the open
 * order (its order_id is kept); rejected closes it (counted as rejected by the broker);
 * canceled / expired close it. 0 applied, 1 no such open order (nothing done), -1 invalid.
 */
int host_order_update(struct host *h, uint32_t strat, const struct host_order_update *u);

/* ---- the plugin's services of ABI 1.2 (host/orders/orders_api.c; see qmtl.h) */
int orders_api_position(struct qmtl_ctx *ctx, const char *symbol, struct qmtl_position *out);
int64_t orders_api_submit(struct qmtl_ctx *ctx, const struct qmtl_order_request *req,
                          struct qmtl_err *err);
int orders_api_cancel(struct qmtl_ctx *ctx, int64_t order_id);

/* ---- risk, kill switch, counters */

/*
 * A per-strategy risk limit (risk.strategies.<strategy>.<key>): it overrides the
 * host-wide value (h->opt.risk) for that strategy. Call before the strategy's first
 * order. 0, or -1 (unknown key, value not a number >= 0, out of memory).
 */
int host_set_risk_limit(struct host *h, const char *strategy, const char *key, const char *value);

/*
 * The host-wide kill switch (the operator's command, through the gateway): cancel every
 * resting simulated order, send one market order per open position that brings it to flat
 * (reduce-only; these pass neither the risk checks nor the gate: the operator's command is
 * the authority), then refuse every later order (reason "kill_switch"). 'reason' is
 * logged and kept. Returns the number of flattening orders sent; a second call does
 * nothing (0).
 */
int host_kill(struct host *h, const char *reason);

/* A strategy replaced on a running host (dag_swap) keeps its order state: the
 * client_order_id sequence (so no id is used twice), the counters and the risk state
 * (rate window, day start, refusals) move from 'from' to 'to' ('from' gets 'to's, to
 * free). The book travels with the broker. */
void orders_carry(struct host_strategy *to, struct host_strategy *from);

/* What a strategy's orders came to, for the run summary and /metrics. */
struct orders_counters {
    long signals, orders, fills;
    long blocked;          /* by the gate (or no live sink) */
    long rejected[RISK_N]; /* by the risk checks, per enum risk_reason ([0] unused) */
    long rejected_broker;  /* by the broker or gateway (order_updated rejected, 409) */
    long expired;          /* canceled or expired with a rest unfilled */
    size_t open_orders;    /* still open at the time of the call */
};
/* 0, or -1 for an unknown strategy (*out zeroed). */
int host_order_counters(const struct host *h, uint32_t strat, struct orders_counters *out);

#endif
