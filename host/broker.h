/*
 * broker: the simulated broker of the backtest domain. It never leaves the process.
 *
 * Fills are immediate and complete: a buy fills at price * (1 + slippage_bps/1e4), a
 * sell at price * (1 - slippage_bps/1e4); the fee is fee_bps/1e4 of the fill's
 * notional and is paid from cash. Short positions are allowed; cash may go negative
 * (no margin model). Positions are marked at the last price given to broker_mark().
 *
 * Equity curve: one point per distinct timestamp, kept in memory (struct stats_point,
 * 32 bytes per bar), with the buy-and-hold benchmark of the first symbol the broker
 * sees (initial cash * mark / first mark) and whether a position is held.
 * broker_mark() and broker_submit() at a timestamp equal to the newest point update
 * that point (several symbols marked at one bar give one point); a later timestamp
 * starts a new point; an earlier one updates the newest point. Every fill is kept too
 * (round trips: host/trades.h). broker_stats() computes (host/stats.h):
 *   r_i      = E_i / E_{i-1} - 1 between consecutive points
 *   sharpe   = mean(r) / sd(r) * sqrt(periods_per_year), sd with n-1, risk-free 0,
 *              periods_per_year = 365 * 86400 / interval_s; 0 when fewer than two
 *              returns or sd below 1e-14 (constant returns)
 *   interval_s = broker_set_interval(), else the smallest gap between points
 *   max_drawdown = max over points of (peak - E) / peak, peak = running max of E
 *                  starting from the initial cash
 *                  (a fraction, 0.25 = 25%)
 *   pnl = equity - initial cash, ret = pnl / initial cash
 * Everything is deterministic: the same calls give bit-identical results.
 */
#ifndef QMTL_HOST_BROKER_H
#define QMTL_HOST_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

#include "host/stats.h"
#include "host/trades.h"

struct broker;

/* NULL on out of memory or invalid arguments (cash not > 0, negative or non-finite bps). */
struct broker *broker_new(double cash, double fee_bps, double slippage_bps);

/* Bar interval used to annualize Sharpe (seconds, > 0). Without it the smallest gap
 * between equity points is used. */
void broker_set_interval(struct broker *b, int64_t interval_s);

/* Set the mark of 'symbol' and record equity at 'ts'. 0, or -1 (price not finite or
 * not > 0, out of memory). */
int broker_mark(struct broker *b, const char *symbol, int64_t ts, double price);

/*
 * Fill an order at once. The reference price is o->price when > 0, else the symbol's
 * last mark. Returns 0 and fills *fill_out (may be NULL; fill_out->symbol is borrowed
 * from the broker, valid until broker_free), or -1 when the order is invalid (side not
 * +-1, quantity not finite or not > 0, no price known).
 */
int broker_submit(struct broker *b, const char *symbol, int64_t ts, const struct qmtl_order *o,
                  struct qmtl_fill *fill_out);

/* Position in units (0 for an unknown symbol). */
double broker_position(const struct broker *b, const char *symbol);
/* Last mark of a symbol; NaN when unknown. */
double broker_mark_price(const struct broker *b, const char *symbol);
double broker_cash(const struct broker *b);
/* cash + sum of position * mark. */
double broker_equity(const struct broker *b);

struct broker_stats {
    long trades; /* fills */
    double pnl, ret, sharpe, max_drawdown, fees;
    long bars;     /* equity points */
    double equity; /* final equity */
    double initial_cash;
    double turnover;    /* sum of fill notionals */
    int64_t interval_s; /* used for the annualization (0 if unknown) */
};
void broker_stats(const struct broker *b, struct broker_stats *out);

/* Room for that many equity points and fills, so that recording them allocates nothing
 * until then (the curve otherwise grows by doubling). 0 or -1 (out of memory). */
int broker_reserve(struct broker *b, size_t points, size_t fills);

/* The equity curve and the fills so far (borrowed, valid until the next call that
 * changes the broker). */
const struct stats_point *broker_points(const struct broker *b, size_t *n);
const struct trade_fill *broker_fills(const struct broker *b, size_t *n);
/* The interval given to broker_set_interval (0 = inferred). */
int64_t broker_interval(const struct broker *b);

/* NULL is a no-op. */
void broker_free(struct broker *b);

#endif
