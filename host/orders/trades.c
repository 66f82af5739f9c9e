/* trades: round trips from fills (see trades.h). */
#include "host/orders/trades.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLAT_EPS 1e-9

/* The open trip of one symbol. */
struct open_trip {
    const char *symbol;
    double pos; /* signed position */
    double avg; /* average cost of the open position */
    int side;   /* 0 while flat */
    int64_t entry_ts;
    double opened, entry_notional; /* quantity and notional of the fills that grew it */
    double closed, exit_notional;  /* ... and of those that reduced it */
    double realized, fees;
};

struct trips {
    struct trade_trip *v;
    size_t n, cap;
};

static int push(struct trips *t, const struct open_trip *o, int64_t exit_ts, int64_t interval_s)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        struct trade_trip *nv = realloc(t->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        t->v = nv;
        t->cap = nc;
    }
    struct trade_trip *x = &t->v[t->n++];
    x->symbol = o->symbol;
    x->side = o->side;
    x->entry_ts = o->entry_ts;
    x->exit_ts = exit_ts;
    x->qty = o->opened;
    x->entry_px = o->opened > 0 ? o->entry_notional / o->opened : 0;
    x->exit_px = o->closed > 0 ? o->exit_notional / o->closed : 0;
    x->fees = o->fees;
    x->pnl = o->realized - o->fees;
    x->bars = interval_s > 0 ? (long)((exit_ts - o->entry_ts) / interval_s) : 0;
    return 0;
}

static void open_new(struct open_trip *o, int side, int64_t ts, double qty, double px, double fee)
{
    const char *sym = o->symbol;
    memset(o, 0, sizeof(*o));
    o->symbol = sym;
    o->side = side;
    o->entry_ts = ts;
    o->pos = side * qty;
    o->avg = px;
    o->opened = qty;
    o->entry_notional = qty * px;
    o->fees = fee;
}

static struct open_trip *find(struct open_trip **v, size_t *n, const char *sym)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].symbol, sym) == 0)
            return &(*v)[i];
    struct open_trip *nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv)
        return NULL;
    *v = nv;
    memset(&nv[*n], 0, sizeof(nv[*n]));
    nv[*n].symbol = sym;
    return &nv[(*n)++];
}

long trades_build(const struct trade_fill *fills, size_t n, int64_t interval_s,
                  struct trade_trip **out, size_t *n_out)
{
    struct trips t = {0};
    struct open_trip *open = NULL;
    size_t n_open = 0;
    for (size_t i = 0; i < n; i++) {
        const struct trade_fill *f = &fills[i];
        if (!(f->qty > 0))
            continue;
        struct open_trip *o = find(&open, &n_open, f->symbol);
        if (!o)
            goto oom;
        if (o->side == 0) {
            open_new(o, f->side, f->ts, f->qty, f->price, f->fee);
            continue;
        }
        if (f->side == o->side) { /* grows the position */
            double held = fabs(o->pos);
            o->avg = (held * o->avg + f->qty * f->price) / (held + f->qty);
            o->pos += f->side * f->qty;
            o->opened += f->qty;
            o->entry_notional += f->qty * f->price;
            o->fees += f->fee;
            continue;
        }
        double held = fabs(o->pos);
        double close = f->qty < held ? f->qty : held;
        double rest = f->qty - close;
        if (rest <= FLAT_EPS) { /* reduces, maybe to zero */
            close = f->qty;
            rest = 0;
        }
        o->realized += o->side * (f->price - o->avg) * close;
        o->closed += close;
        o->exit_notional += close * f->price;
        o->fees += f->fee * close / f->qty;
        o->pos += f->side * close;
        if (fabs(o->pos) <= FLAT_EPS) {
            if (push(&t, o, f->ts, interval_s))
                goto oom;
            o->side = 0;
            o->pos = 0;
            if (rest > 0)
                open_new(o, f->side, f->ts, rest, f->price, f->fee * rest / f->qty);
        }
    }
    long still_open = 0;
    for (size_t i = 0; i < n_open; i++)
        still_open += open[i].side != 0;
    free(open);
    *out = t.v;
    *n_out = t.n;
    return still_open;
oom:
    free(open);
    free(t.v);
    *out = NULL;
    *n_out = 0;
    return -1;
}
