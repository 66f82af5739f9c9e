/* book: positions from fills, open orders, fill de-duplication (see book.h). */
#include "host/orders/book.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct book_sym {
    char *name;
    double position, avg_cost, realized, mark, open_buy, open_sell, fees;
};

struct book_ord {
    char coid[BOOK_ID_MAX], order_id[BOOK_ID_MAX]; /* inline: no allocation per order */
    size_t sym; /* index in b->sym */
    int side;
    double quantity, remaining;
    int64_t ts;
    int acked;
};

struct book {
    double initial_cash, cash;
    struct book_sym *sym;
    size_t n_sym, cap_sym, last_sym;
    size_t n_open;   /* symbols whose position is not 0 */
    double equity;   /* book_equity's last value, while equity_ok */
    int equity_ok;   /* cleared by whatever moves cash, a position or a mark */
    struct book_ord *ord; /* open orders, oldest first */
    size_t n_ord, cap_ord;
    char **seen; /* open-addressing set of "key\x1fseq" (NULL = empty slot) */
    size_t n_seen, cap_seen;
    struct book_order view; /* what book_order_find/_at return */
};

struct book *book_new(double cash)
{
    if (!isfinite(cash) || cash <= 0)
        return NULL;
    struct book *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->initial_cash = b->cash = cash;
    return b;
}

void book_free(struct book *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_sym; i++)
        free(b->sym[i].name);
    free(b->sym);
    free(b->ord);
    for (size_t i = 0; i < b->cap_seen; i++)
        free(b->seen[i]);
    free(b->seen);
    free(b);
}

/* Symbols are short ("BTC", "ES.H27"): a byte loop inline beats a call to strcmp. The
 * book's own copy of a name (book_symbol) matches by its address. */
static inline int same_name(const char *a, const char *b)
{
    if (a == b)
        return 1;
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static struct book_sym *find_sym_scan(const struct book *b, const char *symbol)
{
    if (!symbol)
        return NULL;
    for (size_t i = 0; i < b->n_sym; i++)
        if (same_name(b->sym[i].name, symbol)) {
            ((struct book *)b)->last_sym = i; /* lookup cache only */
            return &b->sym[i];
        }
    return NULL;
}

/* The symbol last found first (one symbol per strategy is the common case). */
static inline struct book_sym *find_sym(const struct book *b, const char *symbol)
{
    if (symbol && b->last_sym < b->n_sym && same_name(b->sym[b->last_sym].name, symbol))
        return &b->sym[b->last_sym];
    return find_sym_scan(b, symbol);
}

static struct book_sym *add_sym(struct book *b, const char *symbol)
{
    if (b->n_sym == b->cap_sym) {
        size_t nc = b->cap_sym ? b->cap_sym * 2 : 4;
        struct book_sym *ns = realloc(b->sym, nc * sizeof(*ns));
        if (!ns)
            return NULL;
        b->sym = ns;
        b->cap_sym = nc;
    }
    char *name = strdup(symbol);
    if (!name)
        return NULL;
    struct book_sym *s = &b->sym[b->n_sym];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->mark = NAN;
    b->last_sym = b->n_sym++;
    return s;
}

static inline struct book_sym *get_sym(struct book *b, const char *symbol)
{
    struct book_sym *s = find_sym(b, symbol);
    return s || !symbol ? s : add_sym(b, symbol);
}

int book_apply_fill(struct book *b, const char *symbol, int side, double qty, double price,
                    double fee, int64_t ts)
{
    (void)ts;
    if ((side != 1 && side != -1) || !isfinite(qty) || qty <= 0 || !isfinite(price) ||
        price <= 0 || !isfinite(fee) || fee < 0)
        return -1;
    struct book_sym *s = get_sym(b, symbol);
    if (!s)
        return -1;
    double notional = qty * price;
    b->equity_ok = 0;
    int was_open = s->position != 0;
    b->cash -= side * notional + fee;
    s->fees += fee;
    double old = s->position, q = side * qty;
    if (old == 0 || (old > 0) == (q > 0)) {
        s->avg_cost = (fabs(old) * s->avg_cost + qty * price) / (fabs(old) + qty);
    } else {
        double closed = fmin(qty, fabs(old));
        s->realized += closed * (price - s->avg_cost) * (old > 0 ? 1 : -1);
        if (qty > fabs(old))
            s->avg_cost = price; /* crossed zero: the rest opens here */
    }
    s->position = old + q;
    if (fabs(s->position) < 1e-12)
        s->position = 0;
    if (s->position == 0)
        s->avg_cost = 0;
    b->n_open += (s->position != 0) - was_open;
    if (isnan(s->mark))
        s->mark = price;
    return 0;
}

const char *book_symbol(struct book *b, const char *symbol)
{
    struct book_sym *s = get_sym(b, symbol);
    return s ? s->name : NULL;
}

int book_mark(struct book *b, const char *symbol, double price)
{
    if (!isfinite(price) || price <= 0)
        return -1;
    struct book_sym *s = get_sym(b, symbol);
    if (!s)
        return -1;
    if (s->mark != price) {
        s->mark = price;
        if (s->position != 0)
            b->equity_ok = 0;
    }
    return 0;
}

static void line_of(const struct book_sym *s, struct book_line *out)
{
    out->symbol = s->name;
    out->position = s->position;
    out->avg_cost = s->avg_cost;
    out->realized = s->realized;
    out->mark = s->mark;
    out->open_buy = s->open_buy;
    out->open_sell = s->open_sell;
    out->fees = s->fees;
}

int book_get(const struct book *b, const char *symbol, struct book_line *out)
{
    const struct book_sym *s = find_sym(b, symbol);
    memset(out, 0, sizeof(*out));
    out->mark = NAN;
    if (!s)
        return -1;
    line_of(s, out);
    return 0;
}

double book_first_mark(const struct book *b)
{
    return b->n_sym ? b->sym[0].mark : NAN;
}

size_t book_count(const struct book *b)
{
    return b->n_sym;
}

void book_at(const struct book *b, size_t i, struct book_line *out)
{
    line_of(&b->sym[i], out);
}

double book_position(const struct book *b, const char *symbol)
{
    const struct book_sym *s = find_sym(b, symbol);
    return s ? s->position : 0.0;
}

double book_open(const struct book *b, const char *symbol)
{
    const struct book_sym *s = find_sym(b, symbol);
    return s ? s->open_buy - s->open_sell : 0.0;
}

double book_mark_price(const struct book *b, const char *symbol)
{
    const struct book_sym *s = find_sym(b, symbol);
    return s ? s->mark : NAN;
}

double book_cash(const struct book *b)
{
    return b->cash;
}

double book_initial_cash(const struct book *b)
{
    return b->initial_cash;
}

/* Valued lazily: the sum is made again only after cash, a position or the mark of a held
 * symbol moved (the same sum in the same order, so the same value). */
double book_equity(const struct book *b)
{
    if (b->equity_ok)
        return b->equity;
    double eq = b->cash;
    size_t n = b->n_open ? b->n_sym : 0; /* all flat: the sum adds nothing */
    for (size_t i = 0; i < n; i++)
        if (b->sym[i].position != 0)
            eq += b->sym[i].position * b->sym[i].mark;
    struct book *w = (struct book *)b; /* cache only */
    w->equity = eq;
    w->equity_ok = 1;
    return eq;
}

double book_realized(const struct book *b)
{
    double r = 0;
    for (size_t i = 0; i < b->n_sym; i++)
        r += b->sym[i].realized;
    return r;
}

double book_unrealized(const struct book *b)
{
    double u = 0;
    for (size_t i = 0; i < b->n_sym; i++)
        if (b->sym[i].position != 0)
            u += b->sym[i].position * (b->sym[i].mark - b->sym[i].avg_cost);
    return u;
}

int book_in_market(const struct book *b)
{
    return b->n_open != 0;
}

/* ------------------------------------------------------------------ open orders */

static struct book_ord *find_ord(const struct book *b, const char *coid, const char *order_id)
{
    for (size_t i = 0; i < b->n_ord; i++) {
        struct book_ord *o = &b->ord[i];
        if (coid ? strcmp(o->coid, coid) == 0 : (order_id && strcmp(o->order_id, order_id) == 0))
            return o;
    }
    return NULL;
}

int book_order_sent(struct book *b, const char *coid, const char *symbol, int side, double qty,
                    int64_t ts)
{
    if (!coid || !*coid || strlen(coid) >= BOOK_ID_MAX || (side != 1 && side != -1) ||
        !isfinite(qty) || qty <= 0 || find_ord(b, coid, NULL))
        return -1;
    struct book_sym *s = get_sym(b, symbol);
    if (!s)
        return -1;
    if (b->n_ord == b->cap_ord) {
        size_t nc = b->cap_ord ? b->cap_ord * 2 : 8;
        struct book_ord *no = realloc(b->ord, nc * sizeof(*no));
        if (!no)
            return -1;
        b->ord = no;
        b->cap_ord = nc;
    }
    struct book_ord *o = &b->ord[b->n_ord];
    memcpy(o->coid, coid, strlen(coid) + 1);
    o->order_id[0] = 0;
    o->acked = 0;
    o->sym = (size_t)(s - b->sym);
    o->side = side;
    o->quantity = o->remaining = qty;
    o->ts = ts;
    if (side > 0)
        s->open_buy += qty;
    else
        s->open_sell += qty;
    b->n_ord++;
    return 0;
}

int book_order_acked(struct book *b, const char *coid, const char *order_id)
{
    struct book_ord *o = find_ord(b, coid, NULL);
    if (!o)
        return -1;
    o->acked = 1;
    if (order_id && *order_id)
        snprintf(o->order_id, sizeof(o->order_id), "%s", order_id);
    return 0;
}

/* Take 'qty' off the open order o (all of it when qty < 0); close it when none is left. */
static void reduce(struct book *b, struct book_ord *o, double qty)
{
    struct book_sym *s = &b->sym[o->sym];
    double take = qty < 0 || qty > o->remaining ? o->remaining : qty;
    double *open = o->side > 0 ? &s->open_buy : &s->open_sell;
    *open -= take;
    o->remaining -= take;
    if (*open < 1e-12)
        *open = 0;
    if (o->remaining > 1e-12)
        return;
    size_t i = (size_t)(o - b->ord);
    memmove(o, o + 1, (b->n_ord - i - 1) * sizeof(*o));
    b->n_ord--;
}

int book_order_filled(struct book *b, const char *coid, double qty)
{
    struct book_ord *o = find_ord(b, coid, NULL);
    if (!o || !(qty > 0))
        return -1;
    reduce(b, o, qty);
    return 0;
}

int book_order_rejected(struct book *b, const char *coid)
{
    struct book_ord *o = find_ord(b, coid, NULL);
    if (!o)
        return -1;
    reduce(b, o, -1);
    return 0;
}

int book_order_canceled(struct book *b, const char *coid)
{
    return book_order_rejected(b, coid);
}

static const struct book_order *view_of(const struct book *b, const struct book_ord *o)
{
    struct book_order *v = &((struct book *)b)->view;
    v->client_order_id = o->coid;
    v->order_id = o->order_id;
    v->symbol = b->sym[o->sym].name;
    v->side = o->side;
    v->quantity = o->quantity;
    v->remaining = o->remaining;
    v->ts = o->ts;
    v->acked = o->acked;
    return v;
}

const struct book_order *book_order_find(const struct book *b, const char *coid,
                                         const char *order_id)
{
    const struct book_ord *o = find_ord(b, coid, order_id);
    return o ? view_of(b, o) : NULL;
}

size_t book_open_orders(const struct book *b)
{
    return b->n_ord;
}

const struct book_order *book_order_at(const struct book *b, size_t i)
{
    return i < b->n_ord ? view_of(b, &b->ord[i]) : NULL;
}

/* ------------------------------------------------------------------ fill de-duplication */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int seen_insert(char **slots, size_t cap, char *k)
{
    for (size_t i = hash_str(k) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!slots[i]) {
            slots[i] = k;
            return 0;
        }
        if (strcmp(slots[i], k) == 0)
            return 1;
    }
}

int book_fill_seen(struct book *b, const char *key, int64_t seq)
{
    if (!key || !*key)
        return -1;
    char buf[256];
    snprintf(buf, sizeof(buf), "%.200s\x1f%lld", key, (long long)seq);
    if ((b->n_seen + 1) * 2 > b->cap_seen) {
        size_t nc = b->cap_seen ? b->cap_seen * 2 : 64;
        char **ns = calloc(nc, sizeof(*ns));
        if (!ns)
            return -1;
        for (size_t i = 0; i < b->cap_seen; i++)
            if (b->seen[i])
                seen_insert(ns, nc, b->seen[i]);
        free(b->seen);
        b->seen = ns;
        b->cap_seen = nc;
    }
    for (size_t i = hash_str(buf) & (b->cap_seen - 1);; i = (i + 1) & (b->cap_seen - 1)) {
        if (!b->seen[i])
            break;
        if (strcmp(b->seen[i], buf) == 0)
            return 1;
    }
    char *k = strdup(buf);
    if (!k)
        return -1;
    seen_insert(b->seen, b->cap_seen, k);
    b->n_seen++;
    return 0;
}
