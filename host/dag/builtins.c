/* builtins: streaming indicators (see builtins.h for the definitions). */
#include "host/dag/builtins.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/dag/node_cache.h"

static const char *const kind_names[BI_COUNT_] = {
    "sma",    "ema",       "rsi",         "stddev",     "returns", "rate_of_change",
    "zscore", "crossover", "rolling_min", "rolling_max"};

int builtin_kind_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "pct_change") == 0)
        return BI_RETURNS;
    for (int k = 0; k < BI_COUNT_; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

const char *builtin_kind_name(int kind)
{
    return kind >= 0 && kind < BI_COUNT_ ? kind_names[kind] : "?";
}

static const char *const field_names[] = {"close", "open", "high", "low", "volume"};

int builtin_field_from_name(const char *name)
{
    if (!name)
        return BI_CLOSE;
    for (int f = 0; f < 5; f++)
        if (strcmp(name, field_names[f]) == 0)
            return f;
    return -1;
}

const char *builtin_field_name(int field)
{
    return field >= 0 && field < 5 ? field_names[field] : "close";
}

uint32_t builtin_inputs(int kind)
{
    return kind == BI_CROSSOVER ? 2 : 1;
}

int32_t builtin_period(int kind, int32_t window)
{
    switch (kind) {
    case BI_SMA:
    case BI_STDDEV:
    case BI_ZSCORE:
    case BI_MIN:
    case BI_MAX:
        return window;
    case BI_RETURNS:
    case BI_ROC:
        return window + 1;
    case BI_CROSSOVER:
        return 2;
    default: /* ema, rsi keep their history in the state */
        return 1;
    }
}

int builtin_init(struct builtin *b, int kind, int32_t window, double alpha, int field)
{
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->window = window < 1 ? 1 : window;
    b->field = field;
    b->alpha = kind == BI_EMA && alpha <= 0 ? 2.0 / (b->window + 1.0) : alpha;
    if (kind == BI_MIN || kind == BI_MAX) {
        b->dq_val = calloc((size_t)b->window, sizeof(*b->dq_val));
        b->dq_seq = calloc((size_t)b->window, sizeof(*b->dq_seq));
        if (!b->dq_val || !b->dq_seq) {
            builtin_release(b);
            return -1;
        }
    }
    return 0;
}

void builtin_release(struct builtin *b)
{
    free(b->dq_val);
    free(b->dq_seq);
    b->dq_val = NULL;
    b->dq_seq = NULL;
}

static void minmax_push(struct builtin *b, double x)
{
    struct builtin_stats *s = &b->st;
    uint64_t w = (uint64_t)b->window;
    uint64_t seq = s->n;
    int is_min = b->kind == BI_MIN;
    /* drop from the back what x dominates */
    while (s->dq_len > 0) {
        uint64_t back = (s->dq_head + s->dq_len - 1) % w;
        double bv = b->dq_val[back];
        if (is_min ? bv >= x : bv <= x)
            s->dq_len--;
        else
            break;
    }
    /* drop from the front what left the window */
    while (s->dq_len > 0 && b->dq_seq[s->dq_head] + w <= seq) {
        s->dq_head = (s->dq_head + 1) % w;
        s->dq_len--;
    }
    uint64_t at = (s->dq_head + s->dq_len) % w;
    b->dq_val[at] = x;
    b->dq_seq[at] = seq;
    s->dq_len++;
    s->n++;
}

static void apply(struct builtin *b, double x, const struct qmtl_value *evicted)
{
    struct builtin_stats *s = &b->st;
    switch (b->kind) {
    case BI_SMA:
        s->n++;
        s->sum += x;
        if (evicted)
            s->sum -= builtin_read(b, evicted);
        break;
    case BI_STDDEV:
    case BI_ZSCORE:
        if (!evicted) {
            s->n++;
            double d = x - s->mean;
            s->mean += d / (double)s->n;
            s->m2 += d * (x - s->mean);
        } else {
            double old = builtin_read(b, evicted);
            double d = x - old;
            double old_mean = s->mean;
            s->mean += d / (double)b->window;
            s->m2 += d * (x - s->mean + old - old_mean);
            s->n++;
        }
        break;
    case BI_EMA:
        s->n++;
        if (s->n == 1)
            s->ema = x;
        else
            s->ema += b->alpha * (x - s->ema);
        break;
    case BI_RSI: {
        s->n++;
        if (s->n == 1) {
            s->prev_x = x;
            break;
        }
        double d = x - s->prev_x;
        s->prev_x = x;
        double g = d > 0 ? d : 0.0, l = d < 0 ? -d : 0.0;
        uint64_t k = s->n - 1, w = (uint64_t)b->window;
        if (k <= w) {
            s->gain += g;
            s->loss += l;
            if (k == w) {
                s->gain /= (double)w;
                s->loss /= (double)w;
            }
        } else {
            s->gain = (s->gain * (double)(w - 1) + g) / (double)w;
            s->loss = (s->loss * (double)(w - 1) + l) / (double)w;
        }
        break;
    }
    case BI_MIN:
    case BI_MAX:
        minmax_push(b, x);
        break;
    default: /* returns, rate_of_change, crossover read the windows */
        s->n++;
        break;
    }
}

static int window_kind(int kind)
{
    return kind == BI_SMA || kind == BI_STDDEV || kind == BI_ZSCORE || kind == BI_MIN ||
           kind == BI_MAX;
}

void builtin_rebuild(struct builtin *b, const struct qmtl_window *w)
{
    if (!window_kind(b->kind))
        return; /* ema, rsi: history beyond the cache; stateless kinds need nothing */
    memset(&b->st, 0, sizeof(b->st));
    for (uint32_t k = w->count; k-- > 0;) {
        double x = builtin_read(b, qmtl_window_at(w, k));
        if (isfinite(x)) {
            apply(b, x, NULL);
        } else {
            b->st.bad++;
            b->st.n++; /* keeps warm-up counting and the min/max sequence aligned */
        }
    }
}

void builtin_absorb(struct builtin *b, uint32_t slot, int status, const struct qmtl_window *w,
                    const struct qmtl_value *evicted)
{
    (void)slot;
    const struct qmtl_value *v = qmtl_window_latest(w);
    if (!v)
        return;
    double x = builtin_read(b, v);
    if (window_kind(b->kind)) {
        if (status == NC_DUP || b->st.bad || !isfinite(x) ||
            (evicted && !isfinite(builtin_read(b, evicted))))
            builtin_rebuild(b, w);
        else
            apply(b, x, evicted);
        return;
    }
    if (b->kind == BI_EMA || b->kind == BI_RSI) {
        if (status == NC_DUP)
            b->st = b->saved; /* undo the newest item's step */
        else
            b->saved = b->st;
        b->st.last_bad = !isfinite(x);
        if (!b->st.last_bad)
            apply(b, x, NULL);
        return;
    }
    if (status != NC_DUP)
        apply(b, x, evicted);
}

void builtin_output(const struct builtin *b, const struct qmtl_window *w, struct qmtl_value *out)
{
    const struct builtin_stats *s = &b->st;
    uint64_t win = (uint64_t)b->window;
    *out = qmtl_none();
    if (s->bad || s->last_bad)
        return;
    switch (b->kind) {
    case BI_SMA:
        if (s->n >= win)
            *out = qmtl_number(s->sum / (double)win);
        break;
    case BI_STDDEV:
        if (s->n >= win)
            *out = qmtl_number(sqrt((s->m2 > 0 ? s->m2 : 0.0) / (double)win));
        break;
    case BI_ZSCORE:
        if (s->n >= win) {
            double sd = sqrt((s->m2 > 0 ? s->m2 : 0.0) / (double)win);
            double x = builtin_read(b, qmtl_window_latest(&w[0]));
            *out = qmtl_number(sd > 0 ? (x - s->mean) / sd : 0.0);
        }
        break;
    case BI_EMA:
        if (s->n >= win)
            *out = qmtl_number(s->ema);
        break;
    case BI_RSI:
        if (s->n >= win + 1) {
            double r;
            if (s->loss == 0)
                r = s->gain == 0 ? 50.0 : 100.0;
            else
                r = 100.0 - 100.0 / (1.0 + s->gain / s->loss);
            *out = qmtl_number(r);
        }
        break;
    case BI_RETURNS:
    case BI_ROC:
        if (w[0].count > win) {
            double x = builtin_read(b, qmtl_window_at(&w[0], 0));
            double p = builtin_read(b, qmtl_window_at(&w[0], (uint32_t)win));
            if (p != 0 && !isnan(p))
                *out = qmtl_number(b->kind == BI_RETURNS ? x / p - 1.0 : 100.0 * (x - p) / p);
        }
        break;
    case BI_MIN:
    case BI_MAX:
        if (s->n >= win)
            *out = qmtl_number(b->dq_val[s->dq_head]);
        break;
    case BI_CROSSOVER:
        if (w[0].count >= 2 && w[1].count >= 2) {
            double f0 = builtin_read(b, qmtl_window_at(&w[0], 0));
            double f1 = builtin_read(b, qmtl_window_at(&w[0], 1));
            double s0 = builtin_read(b, qmtl_window_at(&w[1], 0));
            double s1 = builtin_read(b, qmtl_window_at(&w[1], 1));
            double prev = f1 - s1, now = f0 - s0;
            if (prev <= 0 && now > 0)
                *out = qmtl_number(1.0);
            else if (prev >= 0 && now < 0)
                *out = qmtl_number(-1.0);
        }
        break;
    default:
        break;
    }
    if (out->type == QMTL_T_NUMBER && !isfinite(out->as.number))
        *out = qmtl_none();
}
