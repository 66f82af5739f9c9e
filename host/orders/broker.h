/*
 * broker: the simulated broker of the backtest domain. It never leaves the process.
 *
 * Positions and cash live in the broker's book (host/orders/book.h); every fill, simulated or
 * real, goes through broker_fill(), which applies it with book_apply_fill() and records
 * it (fills list, equity point). The live path feeds the strategy's broker the same way,
 * so its curve and statistics come from real fills.
 *
 * broker_submit() fills at once and completely (broker.fill_at close); resting orders
 * (broker_place, below) wait for a later bar. A buy fills at price * (1 +
 * slippage_bps/1e4), a sell at price * (1 - slippage_bps/1e4) (limit orders: at their
 * price, no slippage); the fee is fee_bps/1e4 of the fill's notional and is paid from cash. Short positions are allowed; cash may go negative
 * (no margin model). Positions are marked at the last price given to broker_mark().
 *
 * Equity curve: one point per distinct timestamp, kept in memory (struct stats_point,
 * 32 bytes per bar), with the buy-and-hold benchmark of the first symbol the broker
 * sees (initial cash * mark / first mark) and whether a position is held.
 * broker_mark() and broker_submit() at a timestamp equal to the newest point update
 * that point (several symbols marked at one bar give one point); a later timestamp
 * starts a new point; an earlier one updates the newest point. Every fill is kept too
 * (round trips: host/orders/trades.h). broker_stats() computes (host/report/stats.h):
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

#include "host/orders/book.h"
#include "host/report/stats.h"
#include "host/orders/trades.h"

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

/* Record one fill at 'price' (slippage included) with 'fee': book_apply_fill() on the
 * broker's book, then the fills list and the equity point at 'ts'. Fills *fill_out as
 * broker_submit() does. 0, or -1 (invalid fill, out of memory). */
int broker_fill(struct broker *b, const char *symbol, int side, double qty, double price,
                double fee, int64_t ts, struct qmtl_fill *fill_out);

/* The broker's book (borrowed, valid until broker_free). */
struct book *broker_book(const struct broker *b);

/*
 * Resting orders: market orders filled at the next bar's open (broker.fill_at next_open),
 * limit and stop orders, each waiting for a bar of its symbol later than the one it was
 * placed on (no look-ahead). Against a bar (open, high, low):
 *   market         fills at open, with slippage
 *   limit buy  L   open <= L: at open; else low <= L: at L        (no slippage: a limit
 *   limit sell L   open >= L: at open; else high >= L: at L        never fills worse)
 *   stop buy   S   open >= S: at open; else high >= S: at S, with slippage
 *   stop sell  S   open <= S: at open; else low <= S: at S, with slippage
 * A limit order fills at most the bar's volume (when the bar has one): the rest stays
 * open (a partial fill). Time in force: gtc (until filled or canceled), day (expires at
 * the first bar of a later UTC day), ioc (one bar, then the rest expires).
 */
enum broker_order_type { BROKER_MARKET = 0, BROKER_LIMIT = 1, BROKER_STOP = 2 };
enum broker_tif { BROKER_GTC = 0, BROKER_DAY = 1, BROKER_IOC = 2 };

struct broker_order {
    const char *client_order_id; /* copied; unique among resting orders */
    const char *symbol;          /* copied */
    int side;                    /* +1 buy, -1 sell */
    double quantity;             /* > 0 */
    int type;                    /* enum broker_order_type */
    double limit_price, stop_price;
    int tif;    /* enum broker_tif */
    int64_t ts; /* the bar it was placed on: only later bars can fill it */
};

/* Rest an order. 0, or -1 (invalid, duplicate id, out of memory). */
int broker_place(struct broker *b, const struct broker_order *o);
/* Remove a resting order. 0, or -1 when none has that id. */
int broker_cancel(struct broker *b, const char *client_order_id);
/* Resting orders (all symbols). */
size_t broker_resting(const struct broker *b);

/* What broker_bar reports per order: a fill ('fill' set, 'remaining' what is left of
 * the order afterwards) or an expiry ('fill' NULL, 'remaining' the expired quantity). */
typedef void (*broker_event_fn)(void *arg, const char *client_order_id,
                                const struct qmtl_fill *fill, double remaining);

/* A bar of 'symbol' at 'ts': match the resting orders of that symbol placed before 'ts'
 * (in placement order), fill through broker_fill() and report each event to 'cb'. Marks
 * nothing (call broker_mark after). Returns the number of fills, -1 on an invalid bar. */
int broker_bar(struct broker *b, const char *symbol, int64_t ts, const struct qmtl_bar *bar,
               broker_event_fn cb, void *arg);

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
