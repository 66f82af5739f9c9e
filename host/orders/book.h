/*
 * book: a strategy's position book (DESIGN section 7: positions come from fills, never
 * from intentions).
 *
 * Per symbol: the confirmed position (units, from fills only), its average cost, the
 * realized PnL (gross of fees), the last mark, and the quantity of open orders on each
 * side. Per strategy: cash (initial cash - buys + sells - fees) and the open orders, keyed
 * by client_order_id: sent and not yet filled, rejected, canceled or expired.
 *
 * book_apply_fill() is THE fill function: the simulated broker (backtest, dryrun) and the
 * live path (fills from the gateway) both come through it, so a position is the same
 * number whichever way it was filled. Orders are sized against position + open
 * quantity (book_position() + book_open()), so a signal never doubles an order in flight.
 *
 * Accounting (a fill of 'qty' units on 'side' at 'price', fee 'fee'):
 *   cash     -= side * qty * price + fee
 *   position += side * qty            (|position| < 1e-12 becomes 0)
 *   increasing (or opening) a position: avg_cost = size-weighted mean of entry prices;
 *   reducing one: realized += closed * (price - avg_cost) * sign(old position), avg_cost
 *   unchanged; a fill that crosses zero closes the old position and opens the rest at
 *   'price'; flat: avg_cost = 0.
 *   unrealized = position * (mark - avg_cost); equity = cash + sum position * mark.
 *
 * Fill de-duplication: book_fill_seen() remembers (key, seq) pairs (key: the
 * client_order_id or the broker's order_id), so a fill delivered twice (a replayed event
 * stream, a reconnect) is applied once.
 *
 * Strings passed in are copied; pointers returned are borrowed until the next call that
 * changes the book. Everything is deterministic. Not thread-safe (the host's loop thread).
 */
#ifndef QMTL_HOST_BOOK_H
#define QMTL_HOST_BOOK_H

#include <stddef.h>
#include <stdint.h>

struct book;

/* Longest client_order_id / order_id kept, terminating NUL included. */
#define BOOK_ID_MAX 160

/* One symbol's line. 'symbol' is borrowed from the book (valid until book_free). */
struct book_line {
    const char *symbol;
    double position;  /* units, signed */
    double avg_cost;  /* 0 when flat */
    double realized;  /* closed PnL, gross of fees */
    double mark;      /* NaN until marked or filled */
    double open_buy;  /* units of open buy orders not filled yet */
    double open_sell; /* units of open sell orders not filled yet */
    double fees;      /* paid on this symbol */
};

/* An open order. Strings are borrowed from the book. */
struct book_order {
    const char *client_order_id;
    const char *order_id; /* the broker's or gateway's id once acknowledged, else "" */
    const char *symbol;
    int side;         /* +1 buy, -1 sell */
    double quantity;  /* ordered */
    double remaining; /* not filled yet (> 0 while open) */
    int64_t ts;       /* when it was sent (seconds) */
    int acked;
};

/* NULL on out of memory or cash not finite and > 0. */
struct book *book_new(double cash);
/* NULL is a no-op. */
void book_free(struct book *b);

/* Apply one fill (see the accounting above). 0, or -1: side not +-1, qty not > 0, price
 * not > 0, fee negative or not finite, out of memory. */
int book_apply_fill(struct book *b, const char *symbol, int side, double qty, double price,
                    double fee, int64_t ts);
/* The book's own copy of 'symbol' (added when new), valid until book_free; NULL when out of
 * memory. */
const char *book_symbol(struct book *b, const char *symbol);
/* Set the mark of a symbol (price finite and > 0). 0 or -1. */
int book_mark(struct book *b, const char *symbol, double price);

/* The symbol's line: 0, or -1 when the book has never seen it (*out zeroed, mark NaN). */
int book_get(const struct book *b, const char *symbol, struct book_line *out);
/* The mark of the first symbol the book saw (NaN when none): the benchmark's price. */
double book_first_mark(const struct book *b);
/* Symbols in the order the book first saw them. */
size_t book_count(const struct book *b);
/* Line i (0 <= i < book_count). */
void book_at(const struct book *b, size_t i, struct book_line *out);

double book_position(const struct book *b, const char *symbol); /* 0 for unknown */
/* Signed open quantity: open buys - open sells (0 for unknown). */
double book_open(const struct book *b, const char *symbol);
double book_mark_price(const struct book *b, const char *symbol); /* NaN for unknown */
double book_cash(const struct book *b);
double book_initial_cash(const struct book *b);
/* cash + sum position * mark (a fill marks a symbol never marked before at its price). */
double book_equity(const struct book *b);
double book_realized(const struct book *b);   /* over all symbols */
double book_unrealized(const struct book *b); /* over all symbols */
/* Whether any position is not flat. */
int book_in_market(const struct book *b);

/* ---- open orders, keyed by client_order_id */

/* An order was sent. 0; -1 for a client_order_id already open or longer than
 * BOOK_ID_MAX - 1, a bad side or quantity, or out of memory. */
int book_order_sent(struct book *b, const char *client_order_id, const char *symbol, int side,
                    double qty, int64_t ts);
/* Acknowledged by the broker or gateway under 'order_id' (may be NULL). 0 or -1 (unknown). */
int book_order_acked(struct book *b, const char *client_order_id, const char *order_id);
/* 'qty' of it filled: the remaining quantity drops (the order closes at 0). Call with the
 * fill (book_apply_fill does not know orders). 0, or -1 when no such order is open. */
int book_order_filled(struct book *b, const char *client_order_id, double qty);
/* The order closed without (more) fills. 0, or -1 when no such order is open. */
int book_order_rejected(struct book *b, const char *client_order_id);
int book_order_canceled(struct book *b, const char *client_order_id);
/* The open order with that client_order_id (or, when NULL, with that order_id); NULL if
 * none. Borrowed until the next change. */
const struct book_order *book_order_find(const struct book *b, const char *client_order_id,
                                         const char *order_id);
size_t book_open_orders(const struct book *b);
/* Open order i (0 <= i < book_open_orders), oldest first. */
const struct book_order *book_order_at(const struct book *b, size_t i);

/* Fill de-duplication: 1 when (key, seq) was seen before, else records it and returns 0;
 * -1 on out of memory or an empty key. */
int book_fill_seen(struct book *b, const char *key, int64_t seq);

#endif
