/*
 * trades: round trips from a strategy's fills (pure functions, no I/O).
 *
 * Per symbol, a round trip opens when the position leaves zero and closes when it
 * returns to zero. A fill that crosses zero closes the trip with the part that reaches
 * zero and opens a new one, in the other direction, with the rest (its fee is split
 * between the two in proportion to quantity). Within a trip:
 *   qty       = quantity opened (sum of the fills that grew the position)
 *   entry_px  = volume-weighted price of those fills
 *   exit_px   = volume-weighted price of the fills that reduced it
 *   pnl       = realized PnL against the average cost, minus every fee of the trip
 *   bars      = (exit_ts - entry_ts) / interval_s (0 when the interval is unknown)
 * A position still open at the end is not a round trip (see trades_open_count).
 * Positions within 1e-9 of zero count as flat.
 */
#ifndef QMTL_HOST_TRADES_H
#define QMTL_HOST_TRADES_H

#include <stddef.h>
#include <stdint.h>

/* One fill, as the simulated broker records it. 'symbol' is borrowed. */
struct trade_fill {
    int64_t ts;
    const char *symbol;
    int side; /* +1 buy, -1 sell */
    double qty, price, fee;
};

/* One closed round trip. 'symbol' points into the fills given to trades_build. */
struct trade_trip {
    const char *symbol;
    int side; /* +1 long, -1 short */
    int64_t entry_ts, exit_ts;
    double qty, entry_px, exit_px, pnl, fees;
    long bars;
};

/*
 * Build the round trips of 'fills' (in time order) into *out (heap, caller frees; NULL
 * when there are none) and their count into *n_out, in the order they closed.
 * Returns the number of positions left open at the end, or -1 when out of memory.
 */
long trades_build(const struct trade_fill *fills, size_t n, int64_t interval_s,
                  struct trade_trip **out, size_t *n_out);

#endif
