/*
 * datacheck: the rules every input bar must pass before it reaches the DAG.
 *
 * One function for every feed, so that data which lies is refused the same way
 * whatever it comes from: the CSV reader calls it for each row (a refused row is a row
 * error: skipped or fatal per --csv-errors), the feed calls it for each synthetic bar,
 * and a live input (a socket, a followed file, a bus) must call it on each bar it
 * receives, before routing it.
 *
 * The rules: open, high, low and close are finite numbers and, unless
 * DATACHECK_ALLOW_NONPOSITIVE (spreads, some futures), greater than 0; high >= low;
 * volume is finite and >= 0. A price-only series is a bar with open = high = low = close.
 * An open or close outside [low, high] is let through: settlement prices of some
 * markets are.
 */
#ifndef QMTL_HOST_DATACHECK_H
#define QMTL_HOST_DATACHECK_H

#include <math.h>
#include <stddef.h>

#include <qmtl/qmtl.h>

#define DATACHECK_ALLOW_NONPOSITIVE 0x1u /* prices <= 0 are accepted (still finite) */

/* 0 when the bar passes, -1 with the first broken rule in why (e.g. "high 1 below low 2",
 * "non-positive close -3 (allow with --allow-nonpositive-prices)"). */
int datacheck_bar(const struct qmtl_bar *b, unsigned flags, char *why, size_t whylen);

/* The bar of a row or line whose optional fields may be missing (NAN): open = close,
 * high = max(open, close), low = min(open, close), volume = 0 (the defaults every feed
 * applies; docs/data.md). Inline: the CSV reader makes one per row. */
static inline struct qmtl_bar datacheck_fill(double open, double high, double low,
                                             double close, double volume)
{
    struct qmtl_bar b;
    b.close = close;
    b.open = isnan(open) ? close : open;
    b.high = isnan(high) ? fmax(b.open, close) : high;
    b.low = isnan(low) ? fmin(b.open, close) : low;
    b.volume = isnan(volume) ? 0.0 : volume;
    return b;
}

#endif
