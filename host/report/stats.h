/*
 * stats: backtest statistics from an equity series and round trips (pure functions,
 * no I/O). The definitions are written down in docs/backtest.md; in short, with
 * E_0 = initial cash, E_1..E_n the equity points (one per bar), r_i = E_i / E_{i-1} - 1
 * between consecutive points, ppy = 365 * 86400 / interval_s (bars per year):
 *   total_return  = E_n / E_0 - 1
 *   years         = n / ppy;  cagr = (E_n / E_0)^(1 / years) - 1  (-1 if E_n <= 0)
 *   volatility    = sd(r) * sqrt(ppy)            (sd with n-1)
 *   sharpe        = mean(r) / sd(r) * sqrt(ppy)  (risk-free 0)
 *   sortino       = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(ppy)
 *   max_drawdown  = max (peak - E) / peak, peak = running max from E_0
 *   max_dd_bars   = longest run of consecutive points below the running peak
 *   calmar        = cagr / max_drawdown
 *   exposure      = points in the market / n
 *   turnover      = traded notional / E_0
 *   win_rate      = winning trips / trips; profit_factor = gross win / gross loss
 *   benchmark     = buy and hold of the traded symbol with E_0 (bench_return),
 *                   excess_return = total_return - bench_return
 * Undefined ratios (fewer than two returns, a zero deviation, no loss) are 0, except
 * profit_factor, which is NaN when there is no losing trip (reported as null).
 */
#ifndef QMTL_HOST_STATS_H
#define QMTL_HOST_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "host/orders/trades.h"

/* One equity point (one per bar). 'bench' is the benchmark's equity at that point. */
struct stats_point {
    int64_t ts;
    double equity;
    double bench;
    int in_market; /* a position was held at the end of the bar */
};

struct stats_input {
    const struct stats_point *pts;
    size_t n;
    double initial;     /* E_0, > 0 */
    int64_t interval_s; /* 0 = the smallest gap between points */
    const struct trade_trip *trips; /* in closing order */
    size_t n_trips;
    double fees, traded_notional;
};

struct stats_result {
    long points;
    int64_t interval_s; /* used (0 when unknown: nothing annualized) */
    double final_equity, pnl, total_return, cagr, volatility, sharpe, sortino, calmar;
    double max_drawdown;
    long max_dd_bars;
    double exposure, turnover, fees;
    long round_trips, wins, losses, max_losing_streak;
    double win_rate, profit_factor, avg_win, avg_loss;
    double bench_return, excess_return;
};

void stats_compute(const struct stats_input *in, struct stats_result *out);

/*
 * The portfolio of several series: the union of their timestamps; at each, the sum over
 * series of its newest point at or before it (E_0 before its first point; benchmarks
 * alike), in the market when any is. *out is heap (caller frees), *n_out its length.
 * 0, or -1 when out of memory.
 */
int stats_merge(const struct stats_point *const *series, const size_t *lens,
                const double *initials, size_t k, struct stats_point **out, size_t *n_out);

#endif
