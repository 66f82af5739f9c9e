/*
 * risk: pre-trade risk checks of one strategy (DESIGN section 7: they run in the host,
 * before the gate).
 *
 * Limits (0 = none), from qmtl.yml 'risk' (host-wide) and risk.strategies.<name>
 * (per strategy, overriding a host-wide value):
 *   max_position           |position after the order| in units, when the order grows it
 *   max_position_notional  |position after the order| * price, when the order grows it
 *   max_order_notional     quantity * price of the order
 *   max_orders_per_minute  orders sent in the 60 s of event time up to this one
 *   max_daily_loss         equity below the UTC day's first equity by more than this:
 *                          the strategy is stopped (risk_mark says so; the host stops it)
 * An order that reduces a position is never refused for the position limits (it lowers
 * exposure), but counts for the rate and the order notional. After the host's kill
 * switch (host_kill) every order is refused with the reason "kill_switch".
 *
 * Refusals are counted by reason (risk_counts) for the run summary and /metrics. Event
 * time, not wall time, so a replay is deterministic. Nothing is allocated per order once
 * the rate ring exists (max_orders_per_minute timestamps).
 */
#ifndef QMTL_HOST_RISK_H
#define QMTL_HOST_RISK_H

#include <stddef.h>
#include <stdint.h>

enum risk_reason {
    RISK_OK = 0,
    RISK_MAX_POSITION,
    RISK_MAX_POSITION_NOTIONAL,
    RISK_MAX_ORDER_NOTIONAL,
    RISK_MAX_ORDERS_PER_MINUTE,
    RISK_MAX_DAILY_LOSS,
    RISK_KILL_SWITCH,
    RISK_N
};

struct risk_limits {
    double max_position, max_position_notional, max_order_notional;
    long max_orders_per_minute;
    double max_daily_loss;
};

struct risk {
    struct risk_limits lim;
    int64_t *sent; /* ring of the last max_orders_per_minute send times (owned) */
    size_t n_sent, head;
    int64_t day;          /* UTC day of day_start (ts / 86400); -1 before the first mark */
    double day_start;     /* equity at the first mark of that day */
    long rejected[RISK_N]; /* refusals by reason ([0] unused) */
    int breached;          /* max_daily_loss tripped */
};

/* Start with these limits (copied). 0, or -1 out of memory. */
int risk_init(struct risk *r, const struct risk_limits *lim);
void risk_release(struct risk *r);

/* "max_position", ..., "kill_switch"; "ok" for RISK_OK; "?" otherwise. Static. */
const char *risk_reason_name(int reason);

/* Set limit 'key' (one of config_risk_keys) of *lim from text. 0, or -1 for an unknown key
 * or a value that is not a number >= 0. */
int risk_limit_set(struct risk_limits *lim, const char *key, const char *value);

/*
 * May an order of signed quantity 'delta' at 'price' leave, the position (confirmed +
 * open) being 'pos', at event time 'ts'? RISK_OK, or the first reason it may not (also
 * counted). 'killed': the host's kill switch is on.
 */
int risk_check(struct risk *r, double pos, double delta, double price, int64_t ts, int killed);

/* The order passed everything and was sent at 'ts' (counted for the rate). */
void risk_sent(struct risk *r, int64_t ts);

/* The strategy's equity at event time 'ts': 1 when it has just fallen more than
 * max_daily_loss below the day's start (once; the caller stops the strategy), else 0. */
int risk_mark(struct risk *r, int64_t ts, double equity);

#endif
