#include "host/orders/broker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct resting {
    char coid[BOOK_ID_MAX]; /* inline: no allocation per order */
    const char *symbol;     /* the book's copy */
    int side, type, tif;
    double remaining, limit, stop;
    int64_t ts;
};

struct bar_event {
    char coid[BOOK_ID_MAX];
    int filled;
    struct qmtl_fill fill;
    double remaining;
};

struct broker {
    double initial_cash, fee_rate, slip_rate;
    struct book *book; /* positions and cash (owned) */
    long trades;
    double fees, turnover;
    int64_t interval_s; /* set explicitly, 0 = infer */
    double bench_px0;   /* first price of the benchmark symbol (the book's first) */
    struct stats_point *pts; /* the equity curve; the newest point is updated while its
                                timestamp repeats */
    size_t n_pts, cap_pts;
    struct trade_fill *fills;
    size_t n_fills, cap_fills;
    struct resting *rest; /* resting orders, placement order */
    size_t n_rest, cap_rest;
    struct bar_event *ev; /* broker_bar's events, reported after matching */
    size_t n_ev, cap_ev;
};

struct broker *broker_new(double cash, double fee_bps, double slippage_bps)
{
    if (!isfinite(cash) || cash <= 0 || !isfinite(fee_bps) || fee_bps < 0 ||
        !isfinite(slippage_bps) || slippage_bps < 0)
        return NULL;
    struct broker *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->initial_cash = cash;
    b->fee_rate = fee_bps / 1e4;
    b->slip_rate = slippage_bps / 1e4;
    if (!(b->book = book_new(cash))) {
        free(b);
        return NULL;
    }
    return b;
}

void broker_set_interval(struct broker *b, int64_t interval_s)
{
    b->interval_s = interval_s > 0 ? interval_s : 0;
}

struct book *broker_book(const struct broker *b)
{
    return b->book;
}

/* The benchmark: the first symbol the book saw, from its first mark. */
static double bench_mark(const struct broker *b)
{
    return book_first_mark(b->book);
}

double broker_equity(const struct broker *b)
{
    return book_equity(b->book);
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

int broker_reserve(struct broker *b, size_t points, size_t fills)
{
    if (points > b->cap_pts) {
        struct stats_point *p = realloc(b->pts, points * sizeof(*p));
        if (!p)
            return -1;
        b->pts = p;
        b->cap_pts = points;
    }
    if (fills > b->cap_fills) {
        struct trade_fill *f = realloc(b->fills, fills * sizeof(*f));
        if (!f)
            return -1;
        b->fills = f;
        b->cap_fills = fills;
    }
    return 0;
}

static int record(struct broker *b, int64_t ts)
{
    if (!b->n_pts || ts > b->pts[b->n_pts - 1].ts) {
        if (grow((void **)&b->pts, &b->cap_pts, b->n_pts, sizeof(*b->pts)))
            return -1;
        b->pts[b->n_pts++].ts = ts;
    }
    struct stats_point *p = &b->pts[b->n_pts - 1];
    p->equity = broker_equity(b);
    p->bench = b->bench_px0 > 0 ? b->initial_cash * bench_mark(b) / b->bench_px0 : b->initial_cash;
    p->in_market = book_in_market(b->book);
    return 0;
}

int broker_mark(struct broker *b, const char *symbol, int64_t ts, double price)
{
    if (!symbol || book_mark(b->book, symbol, price))
        return -1;
    if (!(b->bench_px0 > 0))
        b->bench_px0 = bench_mark(b);
    return record(b, ts);
}

int broker_fill(struct broker *b, const char *symbol, int side, double qty, double price,
                double fee, int64_t ts, struct qmtl_fill *fill_out)
{
    if (!symbol || grow((void **)&b->fills, &b->cap_fills, b->n_fills, sizeof(*b->fills)) ||
        book_apply_fill(b->book, symbol, side, qty, price, fee, ts))
        return -1;
    struct book_line l;
    book_get(b->book, symbol, &l);
    if (!(b->bench_px0 > 0))
        b->bench_px0 = bench_mark(b);
    b->fills[b->n_fills++] = (struct trade_fill){
        .ts = ts, .symbol = l.symbol, .side = side, .qty = qty, .price = price, .fee = fee};
    b->trades++;
    b->fees += fee;
    b->turnover += qty * price;
    (void)record(b, ts); /* the fill is done; a missed point only thins the curve */
    if (fill_out) {
        memset(fill_out, 0, sizeof(*fill_out));
        fill_out->size = sizeof(*fill_out);
        fill_out->side = side;
        fill_out->symbol = l.symbol;
        fill_out->quantity = qty;
        fill_out->price = price;
        fill_out->fee = fee;
        fill_out->ts = ts;
    }
    return 0;
}

int broker_submit(struct broker *b, const char *symbol, int64_t ts, const struct qmtl_order *o,
                  struct qmtl_fill *fill_out)
{
    if (!symbol || !o || (o->side != QMTL_SIDE_BUY && o->side != QMTL_SIDE_SELL) ||
        !isfinite(o->quantity) || o->quantity <= 0 || !isfinite(o->price) || o->price < 0)
        return -1;
    double ref = o->price > 0 ? o->price : book_mark_price(b->book, symbol);
    if (!(ref > 0))
        return -1; /* no price known (NaN mark) */
    if (isnan(book_mark_price(b->book, symbol)) && book_mark(b->book, symbol, ref))
        return -1;
    double side = o->side;
    double px = ref * (1.0 + side * b->slip_rate);
    double fee = o->quantity * px * b->fee_rate;
    return broker_fill(b, symbol, o->side, o->quantity, px, fee, ts, fill_out);
}

double broker_position(const struct broker *b, const char *symbol)
{
    return symbol ? book_position(b->book, symbol) : 0.0;
}

double broker_mark_price(const struct broker *b, const char *symbol)
{
    return symbol ? book_mark_price(b->book, symbol) : NAN;
}

double broker_cash(const struct broker *b)
{
    return book_cash(b->book);
}

void broker_stats(const struct broker *b, struct broker_stats *out)
{
    struct stats_input in = {.pts = b->pts,
                             .n = b->n_pts,
                             .initial = b->initial_cash,
                             .interval_s = b->interval_s,
                             .fees = b->fees,
                             .traded_notional = b->turnover};
    struct stats_result r;
    stats_compute(&in, &r);
    memset(out, 0, sizeof(*out));
    out->trades = b->trades;
    out->fees = b->fees;
    out->turnover = b->turnover;
    out->initial_cash = b->initial_cash;
    out->equity = broker_equity(b);
    out->pnl = out->equity - b->initial_cash;
    out->ret = out->pnl / b->initial_cash;
    out->bars = r.points;
    out->max_drawdown = r.max_drawdown;
    out->interval_s = r.interval_s;
    out->sharpe = r.sharpe;
}

const struct stats_point *broker_points(const struct broker *b, size_t *n)
{
    *n = b->n_pts;
    return b->pts;
}

const struct trade_fill *broker_fills(const struct broker *b, size_t *n)
{
    *n = b->n_fills;
    return b->fills;
}

int64_t broker_interval(const struct broker *b)
{
    return b->interval_s;
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    book_free(b->book);
    free(b->rest);
    free(b->ev);
    free(b->pts);
    free(b->fills);
    free(b);
}

/* ------------------------------------------------------------------ resting orders */

static struct resting *find_rest(const struct broker *b, const char *coid)
{
    for (size_t i = 0; coid && i < b->n_rest; i++)
        if (strcmp(b->rest[i].coid, coid) == 0)
            return &b->rest[i];
    return NULL;
}

int broker_place(struct broker *b, const struct broker_order *o)
{
    if (!o->client_order_id || !*o->client_order_id ||
        strlen(o->client_order_id) >= BOOK_ID_MAX || !o->symbol ||
        (o->side != 1 && o->side != -1) || !isfinite(o->quantity) || o->quantity <= 0 ||
        o->type < BROKER_MARKET || o->type > BROKER_STOP || o->tif < BROKER_GTC ||
        o->tif > BROKER_IOC || find_rest(b, o->client_order_id))
        return -1;
    if (o->type == BROKER_LIMIT && !(isfinite(o->limit_price) && o->limit_price > 0))
        return -1;
    if (o->type == BROKER_STOP && !(isfinite(o->stop_price) && o->stop_price > 0))
        return -1;
    if (grow((void **)&b->rest, &b->cap_rest, b->n_rest, sizeof(*b->rest)))
        return -1;
    struct resting *r = &b->rest[b->n_rest];
    if (!(r->symbol = book_symbol(b->book, o->symbol)))
        return -1;
    memcpy(r->coid, o->client_order_id, strlen(o->client_order_id) + 1);
    r->side = o->side;
    r->type = o->type;
    r->tif = o->tif;
    r->remaining = o->quantity;
    r->limit = o->limit_price;
    r->stop = o->stop_price;
    r->ts = o->ts;
    b->n_rest++;
    return 0;
}

static void drop_rest(struct broker *b, size_t i)
{
    memmove(&b->rest[i], &b->rest[i + 1], (b->n_rest - i - 1) * sizeof(*b->rest));
    b->n_rest--;
}

int broker_cancel(struct broker *b, const char *coid)
{
    struct resting *r = find_rest(b, coid);
    if (!r)
        return -1;
    drop_rest(b, (size_t)(r - b->rest));
    return 0;
}

size_t broker_resting(const struct broker *b)
{
    return b->n_rest;
}

/* The reference price at which r trades against the bar (slippage not applied yet); NaN
 * when it does not trade. *slip: whether slippage applies. */
static double match(const struct resting *r, const struct qmtl_bar *bar, int *slip)
{
    *slip = r->type != BROKER_LIMIT;
    if (r->type == BROKER_MARKET)
        return bar->open;
    double lvl = r->type == BROKER_LIMIT ? r->limit : r->stop;
    /* a buy limit and a sell stop trigger at or below their level, the others above */
    int below = (r->type == BROKER_LIMIT) == (r->side > 0);
    if (below)
        return bar->open <= lvl ? bar->open : bar->low <= lvl ? lvl : NAN;
    return bar->open >= lvl ? bar->open : bar->high >= lvl ? lvl : NAN;
}

/* Queue an event of broker_bar (reported once matching is over, so a callback that
 * places or cancels orders never changes the list being matched). */
static void queue_event(struct broker *b, const char *coid, const struct qmtl_fill *f,
                        double remaining)
{
    if (grow((void **)&b->ev, &b->cap_ev, b->n_ev, sizeof(*b->ev)))
        return; /* out of memory: the fill is applied, only its report is lost */
    struct bar_event *e = &b->ev[b->n_ev++];
    memcpy(e->coid, coid, strlen(coid) + 1); /* < BOOK_ID_MAX: checked by broker_place */
    e->filled = f != NULL;
    if (f)
        e->fill = *f;
    e->remaining = remaining;
}

int broker_bar(struct broker *b, const char *symbol, int64_t ts, const struct qmtl_bar *bar,
               broker_event_fn cb, void *arg)
{
    if (!symbol || !bar || !(bar->open > 0) || !(bar->high > 0) || !(bar->low > 0) ||
        !isfinite(bar->open) || !isfinite(bar->high) || !isfinite(bar->low))
        return -1;
    int fills = 0;
    b->n_ev = 0;
    for (size_t i = 0; i < b->n_rest;) {
        struct resting *r = &b->rest[i];
        /* r->symbol is the book's copy: the caller's may be that very pointer */
        if (r->ts >= ts || (r->symbol != symbol && strcmp(r->symbol, symbol) != 0)) {
            i++;
            continue;
        }
        if (r->tif == BROKER_DAY && ts / 86400 != r->ts / 86400) {
            queue_event(b, r->coid, NULL, r->remaining);
            drop_rest(b, i);
            continue;
        }
        int slip;
        double ref = match(r, bar, &slip);
        struct qmtl_fill f;
        if (ref > 0) {
            double qty = r->remaining;
            if (r->type == BROKER_LIMIT && bar->volume > 0 && qty > bar->volume)
                qty = bar->volume;
            double px = slip ? ref * (1.0 + r->side * b->slip_rate) : ref;
            if (broker_fill(b, r->symbol, r->side, qty, px, qty * px * b->fee_rate, ts, &f) == 0) {
                r->remaining -= qty;
                if (r->remaining <= 1e-12)
                    r->remaining = 0;
                fills++;
                queue_event(b, r->coid, &f, r->remaining);
                if (!r->remaining) {
                    drop_rest(b, i);
                    continue;
                }
            }
        }
        if (r->tif == BROKER_IOC) {
            queue_event(b, r->coid, NULL, r->remaining);
            drop_rest(b, i);
            continue;
        }
        i++;
    }
    size_t n = b->n_ev;
    for (size_t k = 0; cb && k < n && k < b->n_ev; k++) {
        struct bar_event e = b->ev[k]; /* a callback may run broker_bar again (never does) */
        cb(arg, e.coid, e.filled ? &e.fill : NULL, e.remaining);
    }
    b->n_ev = 0;
    return fills;
}
