#include "host/broker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct broker_symbol {
    char *name;
    double position;
    double mark; /* NaN until marked or traded */
};

struct broker {
    double initial_cash, cash, fee_rate, slip_rate;
    struct broker_symbol *sym;
    size_t n_sym, cap_sym, last_sym;
    long trades;
    double fees, turnover;
    int64_t interval_s; /* set explicitly, 0 = infer */
    double bench_px0;   /* first price of the benchmark symbol (sym[0]) */
    struct stats_point *pts; /* the equity curve; the newest point is updated while its
                                timestamp repeats */
    size_t n_pts, cap_pts;
    struct trade_fill *fills;
    size_t n_fills, cap_fills;
};

struct broker *broker_new(double cash, double fee_bps, double slippage_bps)
{
    if (!isfinite(cash) || cash <= 0 || !isfinite(fee_bps) || fee_bps < 0 ||
        !isfinite(slippage_bps) || slippage_bps < 0)
        return NULL;
    struct broker *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->initial_cash = b->cash = cash;
    b->fee_rate = fee_bps / 1e4;
    b->slip_rate = slippage_bps / 1e4;
    return b;
}

void broker_set_interval(struct broker *b, int64_t interval_s)
{
    b->interval_s = interval_s > 0 ? interval_s : 0;
}

static struct broker_symbol *find_sym(const struct broker *b, const char *symbol)
{
    if (b->last_sym < b->n_sym && strcmp(b->sym[b->last_sym].name, symbol) == 0)
        return &b->sym[b->last_sym];
    for (size_t i = 0; i < b->n_sym; i++)
        if (strcmp(b->sym[i].name, symbol) == 0) {
            ((struct broker *)b)->last_sym = i; /* lookup cache only */
            return &b->sym[i];
        }
    return NULL;
}

static struct broker_symbol *get_sym(struct broker *b, const char *symbol)
{
    struct broker_symbol *s = find_sym(b, symbol);
    if (s)
        return s;
    if (b->n_sym == b->cap_sym) {
        size_t ncap = b->cap_sym ? b->cap_sym * 2 : 4;
        struct broker_symbol *ns = realloc(b->sym, ncap * sizeof(*ns));
        if (!ns)
            return NULL;
        b->sym = ns;
        b->cap_sym = ncap;
    }
    char *name = strdup(symbol);
    if (!name)
        return NULL;
    s = &b->sym[b->n_sym];
    s->name = name;
    s->position = 0;
    s->mark = NAN;
    b->last_sym = b->n_sym++;
    return s;
}

double broker_equity(const struct broker *b)
{
    double eq = b->cash;
    for (size_t i = 0; i < b->n_sym; i++)
        if (b->sym[i].position != 0)
            eq += b->sym[i].position * b->sym[i].mark;
    return eq;
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
    p->bench = b->bench_px0 > 0 ? b->initial_cash * b->sym[0].mark / b->bench_px0 : b->initial_cash;
    p->in_market = 0;
    for (size_t i = 0; i < b->n_sym && !p->in_market; i++)
        p->in_market = b->sym[i].position != 0;
    return 0;
}

int broker_mark(struct broker *b, const char *symbol, int64_t ts, double price)
{
    if (!symbol || !isfinite(price) || price <= 0)
        return -1;
    struct broker_symbol *s = get_sym(b, symbol);
    if (!s)
        return -1;
    s->mark = price;
    if (!(b->bench_px0 > 0) && s == &b->sym[0])
        b->bench_px0 = price;
    return record(b, ts);
}

int broker_submit(struct broker *b, const char *symbol, int64_t ts, const struct qmtl_order *o,
                  struct qmtl_fill *fill_out)
{
    if (!symbol || !o || (o->side != QMTL_SIDE_BUY && o->side != QMTL_SIDE_SELL) ||
        !isfinite(o->quantity) || o->quantity <= 0 || !isfinite(o->price) || o->price < 0)
        return -1;
    struct broker_symbol *s = get_sym(b, symbol);
    if (!s)
        return -1;
    double ref = o->price > 0 ? o->price : s->mark;
    if (!(ref > 0))
        return -1; /* no price known (NaN mark) */
    if (grow((void **)&b->fills, &b->cap_fills, b->n_fills, sizeof(*b->fills)))
        return -1;
    double side = o->side;
    double px = ref * (1.0 + side * b->slip_rate);
    double notional = o->quantity * px;
    double fee = notional * b->fee_rate;
    b->cash -= side * notional + fee;
    s->position += side * o->quantity;
    if (fabs(s->position) < 1e-12)
        s->position = 0;
    if (isnan(s->mark))
        s->mark = ref;
    if (!(b->bench_px0 > 0) && s == &b->sym[0])
        b->bench_px0 = s->mark;
    b->fills[b->n_fills++] = (struct trade_fill){
        .ts = ts, .symbol = s->name, .side = o->side, .qty = o->quantity, .price = px, .fee = fee};
    b->trades++;
    b->fees += fee;
    b->turnover += notional;
    (void)record(b, ts); /* the fill is done; a missed point only thins the curve */
    if (fill_out) {
        memset(fill_out, 0, sizeof(*fill_out));
        fill_out->size = sizeof(*fill_out);
        fill_out->side = o->side;
        fill_out->symbol = s->name;
        fill_out->quantity = o->quantity;
        fill_out->price = px;
        fill_out->fee = fee;
        fill_out->ts = ts;
    }
    return 0;
}

double broker_position(const struct broker *b, const char *symbol)
{
    const struct broker_symbol *s = symbol ? find_sym(b, symbol) : NULL;
    return s ? s->position : 0.0;
}

double broker_mark_price(const struct broker *b, const char *symbol)
{
    const struct broker_symbol *s = symbol ? find_sym(b, symbol) : NULL;
    return s ? s->mark : NAN;
}

double broker_cash(const struct broker *b)
{
    return b->cash;
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
    for (size_t i = 0; i < b->n_sym; i++)
        free(b->sym[i].name);
    free(b->sym);
    free(b->pts);
    free(b->fills);
    free(b);
}
