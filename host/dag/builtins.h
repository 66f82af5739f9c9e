/*
 * builtins: the host's indicator and transform nodes.
 *
 * Each built-in keeps O(1) streaming state, updated when an input item is absorbed
 * (builtin_absorb, called as the item is delivered) and read when the node computes
 * (builtin_output). Nothing allocates per event; rolling min/max own one deque of
 * 'window' slots allocated at creation.
 *
 * Definitions (the batch implementations in tests/unit/check_builtins.c follow them):
 *  sma(w)        S += x; S -= x_{t-w} once w items were seen; out = S / w
 *  ema(w, a)     a = 2/(w+1) unless given; e_0 = x_0; e += a * (x - e); out once w seen
 *  stddev(w)     sliding Welford over the last w items (population); out = sqrt(M2 / w)
 *  zscore(w)     same state; out = (x - mean) / stddev, 0 when stddev is 0
 *  rsi(w)        Wilder: first averages = mean of the first w gains/losses, then
 *                avg = (avg * (w - 1) + g) / w; out = 100 - 100 / (1 + gain/loss),
 *                100 when the average loss is 0
 *  returns(l)    x_t / x_{t-l} - 1          (alias pct_change)
 *  rate_of_change(l)  100 * (x_t - x_{t-l}) / x_{t-l}
 *  rolling_min(w), rolling_max(w)  over the last w items (monotonic deque)
 *  crossover     inputs fast, slow: +1 when fast - slow goes from <= 0 to > 0, -1 when
 *                it goes from >= 0 to < 0, no value otherwise
 * Inputs are read as numbers (qmtl_value_number), or the chosen field of a bar.
 * A duplicate bucket replaces the newest item: window kinds rebuild from the cache;
 * ema and rsi undo the last update from a saved copy of their state.
 * Non-finite inputs (NaN, infinities) never poison the state: window kinds produce no
 * value while such an item is in the window (and rebuild from the finite items), ema and
 * rsi skip it and produce no value for it; a non-finite result is no value.
 */
#ifndef QMTL_HOST_BUILTINS_H
#define QMTL_HOST_BUILTINS_H

#include <qmtl/qmtl.h>
#include <stdint.h>

enum builtin_kind {
    BI_SMA = 0,
    BI_EMA,
    BI_RSI,
    BI_STDDEV,
    BI_RETURNS,
    BI_ROC,
    BI_ZSCORE,
    BI_CROSSOVER,
    BI_MIN,
    BI_MAX,
    BI_COUNT_
};

enum builtin_field { BI_CLOSE = 0, BI_OPEN, BI_HIGH, BI_LOW, BI_VOLUME };

struct builtin_stats {
    uint64_t n;               /* items absorbed */
    double sum;               /* sma */
    double mean, m2;          /* stddev, zscore */
    double ema;               /* ema */
    double prev_x;            /* rsi */
    double gain, loss;        /* rsi running sums / averages */
    uint64_t dq_head, dq_len; /* min/max deque (indices into the dq arrays) */
    uint32_t bad;             /* window kinds: non-finite items in the window */
    int last_bad;             /* ema, rsi: the newest input was not finite */
};

struct builtin {
    int kind;                       /* enum builtin_kind */
    int32_t window;                 /* window or lag */
    double alpha;                   /* ema */
    int field;                      /* enum builtin_field */
    struct builtin_stats st, saved; /* 'saved' = state before the last absorb */
    double *dq_val;                 /* min/max: deque values, 'window' slots */
    uint64_t *dq_seq;               /* min/max: sequence numbers */
};

/* "sma" ... ; "pct_change" is an alias of "returns". -1 if unknown. */
int builtin_kind_from_name(const char *name);
const char *builtin_kind_name(int kind);
/* "close" (or NULL), "open", "high", "low", "volume"; -1 if unknown. */
int builtin_field_from_name(const char *name);
const char *builtin_field_name(int field);
/* Inputs the kind takes (2 for crossover, else 1). */
uint32_t builtin_inputs(int kind);
/* Cache period the kind needs for 'window'. */
int32_t builtin_period(int kind, int32_t window);

/* 0, or -1 (out of memory). 'window' >= 1 (checked by the caller). */
int builtin_init(struct builtin *b, int kind, int32_t window, double alpha, int field);
void builtin_release(struct builtin *b);

/* The number the built-in reads from a value. */
static inline double builtin_read(const struct builtin *b, const struct qmtl_value *v)
{
    if (v->type == QMTL_T_BAR) {
        switch (b->field) {
        case BI_OPEN:
            return v->as.bar.open;
        case BI_HIGH:
            return v->as.bar.high;
        case BI_LOW:
            return v->as.bar.low;
        case BI_VOLUME:
            return v->as.bar.volume;
        default:
            return v->as.bar.close;
        }
    }
    if (v->type == QMTL_T_NUMBER)
        return v->as.number;
    return qmtl_value_number(v);
}

/*
 * An item arrived on input 'slot' and the cache stored it with 'status' (enum nc_status).
 * 'w' is that input's window after the store; 'evicted' the item pushed out of a full
 * ring (NULL if none).
 */
void builtin_absorb(struct builtin *b, uint32_t slot, int status, const struct qmtl_window *w,
                    const struct qmtl_value *evicted);
/* Rebuild the state from the windows (after a late insert). */
void builtin_rebuild(struct builtin *b, const struct qmtl_window *w);
/* Compute the output from the state and the windows; QMTL_T_NONE when there is none. */
void builtin_output(const struct builtin *b, const struct qmtl_window *w, struct qmtl_value *out);

#endif
