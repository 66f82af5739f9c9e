#include "host/broker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct broker_symbol {
    char *name;
    double position;
    double mark; /* NaN until marked or traded */
};

/* Online statistics over the committed equity points (all but the newest). */
struct broker_curve {
    long n_points;  /* committed points */
    double prev_eq; /* newest committed point */
    int64_t prev_ts;
    long n_ret;              /* returns between committed points */
    double ret_mean, ret_m2; /* Welford */
    double peak, max_dd;
    int64_t min_gap;
};

struct broker {
    double initial_cash, cash, fee_rate, slip_rate;
    struct broker_symbol *sym;
    size_t n_sym, cap_sym, last_sym;
    long trades;
    double fees, turnover;
    int64_t interval_s; /* set explicitly, 0 = infer */
    /* the newest (pending) point, updated while its timestamp repeats */
    int have_point;
    int64_t point_ts;
    double point_eq;
    struct broker_curve c;
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
    b->c.peak = cash;
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

static void curve_commit(struct broker_curve *c, int64_t ts, double eq)
{
    if (c->n_points > 0) {
        if (c->prev_eq != 0) {
            double r = (eq - c->prev_eq) / fabs(c->prev_eq);
            c->n_ret++;
            double d = r - c->ret_mean;
            c->ret_mean += d / (double)c->n_ret;
            c->ret_m2 += d * (r - c->ret_mean);
        }
        int64_t gap = ts - c->prev_ts;
        if (gap > 0 && (c->min_gap == 0 || gap < c->min_gap))
            c->min_gap = gap;
    }
    if (eq > c->peak)
        c->peak = eq;
    if (c->peak > 0) {
        double dd = (c->peak - eq) / c->peak;
        if (dd > c->max_dd)
            c->max_dd = dd;
    }
    c->prev_eq = eq;
    c->prev_ts = ts;
    c->n_points++;
}

static void record(struct broker *b, int64_t ts)
{
    double eq = broker_equity(b);
    if (b->have_point && ts > b->point_ts)
        curve_commit(&b->c, b->point_ts, b->point_eq);
    if (!b->have_point || ts > b->point_ts)
        b->point_ts = ts;
    b->point_eq = eq;
    b->have_point = 1;
}

int broker_mark(struct broker *b, const char *symbol, int64_t ts, double price)
{
    if (!symbol || !isfinite(price) || price <= 0)
        return -1;
    struct broker_symbol *s = get_sym(b, symbol);
    if (!s)
        return -1;
    s->mark = price;
    record(b, ts);
    return 0;
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
    b->trades++;
    b->fees += fee;
    b->turnover += notional;
    record(b, ts);
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
    struct broker_curve c = b->c;
    if (b->have_point)
        curve_commit(&c, b->point_ts, b->point_eq);
    memset(out, 0, sizeof(*out));
    out->trades = b->trades;
    out->fees = b->fees;
    out->turnover = b->turnover;
    out->initial_cash = b->initial_cash;
    out->equity = broker_equity(b);
    out->pnl = out->equity - b->initial_cash;
    out->ret = out->pnl / b->initial_cash;
    out->bars = c.n_points;
    out->max_drawdown = c.max_dd;
    out->interval_s = b->interval_s ? b->interval_s : c.min_gap;
    if (c.n_ret >= 2 && out->interval_s > 0) {
        double sd = sqrt(c.ret_m2 / (double)(c.n_ret - 1));
        if (sd > 1e-14) /* constant returns: undefined, reported as 0 */
            out->sharpe = c.ret_mean / sd * sqrt(365.0 * 86400.0 / (double)out->interval_s);
    }
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_sym; i++)
        free(b->sym[i].name);
    free(b->sym);
    free(b);
}
