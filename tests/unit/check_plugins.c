/*
 * The in-tree example strategies (plugins/NAME.c), each loaded from its built .so through
 * the testkit, fed known prices, and checked against expectations computed here
 * independently: straightforward batch versions of the indicators (following the
 * definitions in host/dag/builtins.h), the strategy logic restated, and the simulated
 * broker's arithmetic for the fills.
 */
#include <qmtl/testkit.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000040 /* a multiple of 60 */
#define FEE_BPS 10.0
#define SLIP_BPS 5.0
#define CASH 100000.0

static const struct qmtl_testkit_options opts = {
    .size = sizeof(struct qmtl_testkit_options),
    .initial_cash = CASH,
    .fee_bps = FEE_BPS,
    .slippage_bps = SLIP_BPS,
};

static struct qmtl_testkit *load(const char *name, const char *params_yaml)
{
    const char *b = getenv("QMTL_BUILD");
    char path[512];
    snprintf(path, sizeof(path), "%s/plugins/%s.so", b ? b : "build", name);
    struct qmtl_testkit_options o = opts;
    o.params_yaml = params_yaml;
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_load(path, &o, &err);
    ck_assert_msg(tk != NULL, "loading %s: %s", path, err.msg);
    return tk;
}

static void near(double got, double want, const char *what, size_t i)
{
    ck_assert_msg(fabs(got - want) <= 1e-9 * (1 + fabs(want)), "%s[%zu] = %.17g, want %.17g", what,
                  i, got, want);
}

/* Deterministic test prices: a noisy walk with slow swings (xorshift noise). */
static void make_prices(double *p, size_t n, uint64_t seed, double swing)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    p[0] = 100;
    for (size_t i = 1; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
        p[i] = p[i - 1] * (1 + 0.01 * u + swing * sin((double)i / 9.0));
    }
}

static void feed_closes(struct qmtl_testkit *tk, const char *tag, const double *p, size_t n)
{
    struct qmtl_err err = {0};
    ck_assert_msg(qmtl_testkit_feed_closes(tk, tag, T0, 60, p, n, &err) == QMTL_OK, "%s", err.msg);
}

/* Output i of a node as a number, with its timestamp. */
static double out_num(struct qmtl_testkit *tk, const char *node, size_t i, int64_t *ts)
{
    struct qmtl_value v;
    ck_assert_int_eq(qmtl_testkit_output(tk, node, i, ts, &v), QMTL_OK);
    return qmtl_value_number(&v);
}

/* Check a node's outputs against want[t] for every t with has[t], in time order. */
static void check_series(struct qmtl_testkit *tk, const char *node, const double *want,
                         const int *has, size_t n)
{
    size_t k = 0;
    for (size_t t = 0; t < n; t++) {
        if (!has[t])
            continue;
        int64_t ts;
        double got = out_num(tk, node, k, &ts);
        ck_assert_msg(ts == T0 + (int64_t)t * 60, "%s[%zu]: ts %lld, want bar %zu", node, k,
                      (long long)ts, t);
        near(got, want[t], node, k);
        k++;
    }
    ck_assert_msg(qmtl_testkit_output_count(tk, node) == k, "%s: %zu outputs, want %zu", node,
                  qmtl_testkit_output_count(tk, node), k);
}

/* ---------------------------------------------------------------- expected orders */

struct ref_account {
    double cash, pos, mark;
    size_t n_orders;
    /* market orders fill at the next bar's open (broker.fill_at next_open): the order of
     * bar 'pend_bar' waits, 'pending' units, until the next bar */
    double pending, pend_close;
    size_t pend_bar;
    const double *open; /* the bars' opens; NULL: fed by feed_closes (open = last close) */
    size_t n_bars;
};

/* Fill the waiting order at the open of the bar after it (when that bar exists). */
static void settle(struct ref_account *a)
{
    if (a->pending == 0 || a->pend_bar + 1 >= a->n_bars)
        return;
    double open = a->open ? a->open[a->pend_bar + 1] : a->pend_close;
    double side = a->pending > 0 ? 1 : -1;
    double px = open * (1 + side * SLIP_BPS / 1e4);
    double notional = fabs(a->pending) * px;
    a->cash -= side * notional + notional * FEE_BPS / 1e4;
    a->pos += a->pending;
    a->pending = 0;
}

/*
 * The order publisher moves the position (filled + waiting) to target * quantity at the
 * bar's close; check the testkit's next order against that and book its fill by hand at
 * the next bar's open.
 */
static void expect_target(struct qmtl_testkit *tk, struct ref_account *a, double target, double qty,
                          size_t t, double close)
{
    if (a->pending != 0 && a->pend_bar < t)
        settle(a);
    double delta = target * qty - (a->pos + a->pending);
    if (fabs(delta) <= 1e-9)
        return;
    int64_t ts;
    struct qmtl_order o;
    ck_assert_msg(qmtl_testkit_order(tk, a->n_orders, &ts, &o) == QMTL_OK,
                  "missing order %zu (bar %zu, delta %g)", a->n_orders, t, delta);
    ck_assert_int_eq(ts, T0 + (int64_t)t * 60);
    ck_assert_int_eq(o.side, delta > 0 ? QMTL_SIDE_BUY : QMTL_SIDE_SELL);
    near(o.quantity, fabs(delta), "order quantity", a->n_orders);
    near(o.price, close, "order price", a->n_orders);
    a->pending = delta;
    a->pend_bar = t;
    a->pend_close = close;
    a->n_orders++;
}

static void expect_end(struct qmtl_testkit *tk, struct ref_account *a, double last_close)
{
    settle(a);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), a->n_orders);
    /* an order of the last bar has no next bar to fill it */
    ck_assert_uint_eq(qmtl_testkit_fill_count(tk), a->n_orders - (a->pending != 0));
    near(qmtl_testkit_equity(tk), a->cash + a->pos * last_close, "equity", 0);
}

/* ---------------------------------------------------------------- batch indicators */

static void ref_sma(const double *x, size_t n, int w, double *out, int *has)
{
    for (size_t t = 0; t < n; t++) {
        has[t] = t + 1 >= (size_t)w;
        if (!has[t])
            continue;
        double s = 0;
        for (int i = 0; i < w; i++)
            s += x[t - (size_t)i];
        out[t] = s / w;
    }
}

static void ref_ema(const double *x, size_t n, int w, double *out, int *has)
{
    double a = 2.0 / (w + 1), e = x[0];
    for (size_t t = 0; t < n; t++) {
        if (t > 0)
            e = e + a * (x[t] - e);
        out[t] = e;
        has[t] = t + 1 >= (size_t)w;
    }
}

/* Wilder's RSI: first averages over the first w changes, then smoothed. */
static void ref_rsi(const double *x, size_t n, int w, double *out, int *has)
{
    double ag = 0, al = 0;
    for (size_t t = 0; t < n; t++) {
        has[t] = 0;
        if (t == 0)
            continue;
        double d = x[t] - x[t - 1], g = d > 0 ? d : 0, l = d < 0 ? -d : 0;
        if (t <= (size_t)w) {
            ag += g / w;
            al += l / w;
            if (t < (size_t)w)
                continue;
        } else {
            ag = (ag * (w - 1) + g) / w;
            al = (al * (w - 1) + l) / w;
        }
        out[t] = al == 0 ? 100 : 100 - 100 / (1 + ag / al);
        has[t] = 1;
    }
}

static void ref_returns(const double *x, size_t n, double *out, int *has)
{
    for (size_t t = 0; t < n; t++) {
        has[t] = t >= 1;
        if (has[t])
            out[t] = x[t] / x[t - 1] - 1;
    }
}

/* Population standard deviation of the last w items of x where has[] holds. */
static void ref_stddev(const double *x, const int *xhas, size_t n, int w, double *out, int *has)
{
    for (size_t t = 0; t < n; t++) {
        has[t] = 0;
        if (!xhas[t] || t + 1 < (size_t)w || !xhas[t + 1 - (size_t)w])
            continue;
        double m = 0, v = 0;
        for (int i = 0; i < w; i++)
            m += x[t - (size_t)i];
        m /= w;
        for (int i = 0; i < w; i++)
            v += (x[t - (size_t)i] - m) * (x[t - (size_t)i] - m);
        out[t] = sqrt(v / w);
        has[t] = 1;
    }
}

/* ---------------------------------------------------------------- sma_crossover */

START_TEST(test_sma_crossover)
{
    enum { N = 400, FAST = 5, SLOW = 20 };
    double p[N], fast[N], slow[N], cross[N];
    int hf[N], hs[N], hc[N];
    make_prices(p, N, 1, 0.004);
    struct qmtl_testkit *tk = load("sma_crossover", NULL);
    feed_closes(tk, "BTC", p, N);

    ref_sma(p, N, FAST, fast, hf);
    ref_sma(p, N, SLOW, slow, hs);
    check_series(tk, "fast", fast, hf, N);
    check_series(tk, "slow", slow, hs, N);

    /* crossover: +1 when fast - slow goes from <= 0 to > 0, -1 from >= 0 to < 0 */
    int n_cross = 0;
    struct ref_account acct = {.cash = CASH, .n_bars = N};
    for (size_t t = 0; t < N; t++) {
        hc[t] = 0;
        if (t < SLOW)
            continue;
        double d0 = fast[t - 1] - slow[t - 1], d1 = fast[t] - slow[t];
        ck_assert_msg(fabs(d1) > 1e-7, "test data too close to a tie at bar %zu", t);
        if (d0 <= 0 && d1 > 0)
            cross[t] = 1;
        else if (d0 >= 0 && d1 < 0)
            cross[t] = -1;
        else
            continue;
        hc[t] = 1;
        n_cross++;
    }
    ck_assert_int_ge(n_cross, 6); /* the data really crosses, both ways */
    check_series(tk, "cross", cross, hc, N);
    /*
     * The signal node turns +1 into a long target (1) and -1 into flat (0, long only)
     * and emits when the target changes (it starts flat), so a first cross downwards
     * emits nothing. The crossover outputs only on crosses: sparse, but not gaps.
     */
    double sig[N];
    int hsig[N], n_sig = 0;
    double target = 0;
    for (size_t t = 0; t < N; t++) {
        hsig[t] = 0;
        if (!hc[t])
            continue;
        double want = cross[t] > 0 ? 1.0 : 0.0;
        if (want == target)
            continue;
        target = sig[t] = want;
        hsig[t] = 1;
        n_sig++;
    }
    ck_assert_int_ge(n_sig, n_cross - 1);
    check_series(tk, "signal", sig, hsig, N);
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), (size_t)n_sig);
    /* orders: quantity 1 per unit of target */
    for (size_t t = 0; t < N; t++)
        if (hsig[t])
            expect_target(tk, &acct, sig[t], 1.0, t, p[t]);
    ck_assert_int_ge(acct.n_orders, 4);
    expect_end(tk, &acct, p[N - 1]);
    struct qmtl_err err;
    ck_assert_int_eq(qmtl_testkit_finish(tk, &err), QMTL_OK);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(test_sma_crossover_params)
{
    /* other windows through the strategy's parameters */
    enum { N = 200 };
    double p[N], fast[N], slow[N];
    int hf[N], hs[N];
    make_prices(p, N, 2, 0.004);
    struct qmtl_testkit *tk = load("sma_crossover", "fast: 3\nslow: 8\nsymbol: ETH\n");
    feed_closes(tk, "ETH", p, N);
    ref_sma(p, N, 3, fast, hf);
    ref_sma(p, N, 8, slow, hs);
    check_series(tk, "fast", fast, hf, N);
    check_series(tk, "slow", slow, hs, N);
    qmtl_testkit_free(tk);

    /* invalid parameters: setup refuses with a clear message */
    struct qmtl_err err = {0};
    const char *b = getenv("QMTL_BUILD");
    char path[512];
    snprintf(path, sizeof(path), "%s/plugins/sma_crossover.so", b ? b : "build");
    struct qmtl_testkit_options o = opts;
    o.params_yaml = "fast: 30\nslow: 20\n";
    ck_assert_ptr_null(qmtl_testkit_load(path, &o, &err));
    ck_assert_msg(strstr(err.msg, "fast < slow") != NULL, "%s", err.msg);
}
END_TEST

/* ---------------------------------------------------------------- branching */

START_TEST(test_branching)
{
    enum { N = 300, LAG = 10, VW = 10 };
    const double k = 1.0;
    double p[N], mom[N], ret[N], vol[N], reg[N];
    int hm[N], hr[N], hv[N], hg[N];
    make_prices(p, N, 3, 0.003);
    struct qmtl_testkit *tk = load("branching", NULL);
    feed_closes(tk, "BTC", p, N);

    for (size_t t = 0; t < N; t++) {
        hm[t] = t >= LAG;
        if (hm[t])
            mom[t] = p[t] / p[t - LAG] - 1;
    }
    ref_returns(p, N, ret, hr);
    ref_stddev(ret, hr, N, VW, vol, hv);
    check_series(tk, "momentum", mom, hm, N);
    check_series(tk, "returns", ret, hr, N);
    check_series(tk, "volatility", vol, hv, N);

    struct ref_account acct = {.cash = CASH, .n_bars = N};
    int longs = 0, shorts = 0;
    for (size_t t = 0; t < N; t++) {
        hg[t] = hm[t] && hv[t]; /* aligned fan-in: both branches delivered bar t */
        if (!hg[t])
            continue;
        double band = k * vol[t] * sqrt((double)LAG);
        ck_assert(fabs(fabs(mom[t]) - band) > 1e-9);
        reg[t] = mom[t] > band ? 1 : mom[t] < -band ? -1 : 0;
        longs += reg[t] > 0;
        shorts += reg[t] < 0;
        expect_target(tk, &acct, reg[t], 1.0, t, p[t]);
    }
    ck_assert_int_gt(longs, 0);
    ck_assert_int_gt(shorts, 0);
    check_series(tk, "regime", reg, hg, N);
    /* every signal the order publisher receives counts (and reaches on_signal) */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_output_count(tk, "regime"));
    expect_end(tk, &acct, p[N - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- multi_indicator */

START_TEST(test_multi_indicator)
{
    enum { N = 400, FAST = 12, SLOW = 26, RSI = 14 };
    double p[N], ef[N], es[N], rsi[N], score[N];
    int hf[N], hs[N], hr[N], hc[N];
    make_prices(p, N, 4, 0.003);
    struct qmtl_testkit *tk = load("multi_indicator", NULL);
    feed_closes(tk, "BTC", p, N);

    ref_ema(p, N, FAST, ef, hf);
    ref_ema(p, N, SLOW, es, hs);
    ref_rsi(p, N, RSI, rsi, hr);
    check_series(tk, "ema_fast", ef, hf, N);
    check_series(tk, "ema_slow", es, hs, N);
    check_series(tk, "rsi", rsi, hr, N);

    struct ref_account acct = {.cash = CASH, .n_bars = N};
    int seen[3] = {0};
    for (size_t t = 0; t < N; t++) {
        hc[t] = hf[t] && hs[t] && hr[t];
        if (!hc[t])
            continue;
        ck_assert(fabs(ef[t] - es[t]) > 1e-9 && fabs(rsi[t] - 70) > 1e-9 &&
                  fabs(rsi[t] - 30) > 1e-9);
        if (ef[t] > es[t] && rsi[t] < 70)
            score[t] = 1;
        else if (ef[t] < es[t] && rsi[t] > 30)
            score[t] = -1;
        else
            score[t] = 0;
        seen[(int)score[t] + 1]++;
        expect_target(tk, &acct, score[t], 1.0, t, p[t]);
    }
    ck_assert_msg(seen[0] && seen[1] && seen[2], "data must produce short, flat and long");
    check_series(tk, "score", score, hc, N);
    /* every signal the order publisher receives counts (and reaches on_signal) */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_output_count(tk, "score"));
    expect_end(tk, &acct, p[N - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- state_machine */

/* The transitions worked out by hand (confirm 3, stop 2%). */
START_TEST(test_state_machine_by_hand)
{
    static const double p[] = {100,   101,   102, 103, 104, 105, 102.8,
                               102.7, 102.6, 103, 104, 105, 105};
    /* bar 3: 3 rises -> UP; bar 6: 102.8 < 105 * 0.98 -> FLAT; bar 8: 3 falls -> DOWN;
     * bar 11: 3 rises (and 105 > 102.6 * 1.02) -> UP */
    static const struct {
        size_t bar;
        double target;
    } want[] = {{3, 1}, {6, 0}, {8, -1}, {11, 1}};
    size_t n = sizeof(p) / sizeof(p[0]);
    struct qmtl_testkit *tk = load("state_machine", NULL);
    feed_closes(tk, "BTC", p, n);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "trend"), 4);
    struct ref_account acct = {.cash = CASH, .n_bars = n};
    for (size_t i = 0; i < 4; i++) {
        int64_t ts;
        struct qmtl_value v;
        ck_assert_int_eq(qmtl_testkit_output(tk, "trend", i, &ts, &v), QMTL_OK);
        ck_assert_int_eq(v.type, QMTL_T_SIGNAL);
        ck_assert_int_eq(ts, T0 + (int64_t)want[i].bar * 60);
        ck_assert(v.as.signal.target == want[i].target);
        expect_target(tk, &acct, want[i].target, 1.0, want[i].bar, p[want[i].bar]);
    }
    /* orders: buy 1, sell 1, sell 1, buy 2 */
    ck_assert_uint_eq(acct.n_orders, 4);
    expect_end(tk, &acct, p[n - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* The same rules restated, over a long series with many transitions. */
START_TEST(test_state_machine_long)
{
    enum { N = 600 };
    const int confirm = 2;
    const double stop = 0.01;
    double p[N];
    make_prices(p, N, 5, 0.002);
    struct qmtl_testkit *tk = load("state_machine", "confirm: 2\nstop: 0.01\n");
    feed_closes(tk, "BTC", p, N);
    int state = 0, run = 0;
    double extreme = 0;
    size_t k = 0;
    struct ref_account acct = {.cash = CASH, .n_bars = N};
    for (size_t t = 1; t < N; t++) {
        run = p[t] > p[t - 1]   ? (run > 0 ? run + 1 : 1)
              : p[t] < p[t - 1] ? (run < 0 ? run - 1 : -1)
                                : 0;
        int next = state;
        if (state == 1) {
            extreme = fmax(extreme, p[t]);
            if (p[t] < extreme * (1 - stop))
                next = 0;
        } else if (state == -1) {
            extreme = fmin(extreme, p[t]);
            if (p[t] > extreme * (1 + stop))
                next = 0;
        }
        if (run >= confirm)
            next = 1;
        else if (run <= -confirm)
            next = -1;
        if (next == state)
            continue;
        state = next;
        extreme = p[t];
        int64_t ts;
        double got = out_num(tk, "trend", k, &ts);
        ck_assert_int_eq(ts, T0 + (int64_t)t * 60);
        ck_assert_msg(got == state, "transition %zu at bar %zu: %g, want %d", k, t, got, state);
        expect_target(tk, &acct, state, 1.0, t, p[t]);
        k++;
    }
    ck_assert_uint_gt(k, 20);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "trend"), k);
    /* every signal the order publisher receives counts (and reaches on_signal) */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_output_count(tk, "trend"));
    expect_end(tk, &acct, p[N - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- order_pipeline */

START_TEST(test_order_pipeline)
{
    enum { N = 400, W = 20 };
    const double step = 0.25, qty = 10;
    double p[N], z[N];
    int hz[N];
    make_prices(p, N, 6, 0.003);
    struct qmtl_testkit *tk = load("order_pipeline", NULL);
    feed_closes(tk, "BTC", p, N);
    for (size_t t = 0; t < N; t++) {
        hz[t] = t + 1 >= W;
        if (!hz[t])
            continue;
        double m = 0, v = 0;
        for (int i = 0; i < W; i++)
            m += p[t - (size_t)i];
        m /= W;
        for (int i = 0; i < W; i++)
            v += (p[t - (size_t)i] - m) * (p[t - (size_t)i] - m);
        double sd = sqrt(v / W);
        z[t] = sd == 0 ? 0 : (p[t] - m) / sd;
    }
    check_series(tk, "z", z, hz, N);

    struct ref_account acct = {.cash = CASH, .n_bars = N};
    double last = NAN;
    size_t k = 0;
    int sizes[9] = {0};
    for (size_t t = 0; t < N; t++) {
        if (!hz[t])
            continue;
        double want = fmin(1, fmax(-1, -z[t] / 2));
        double steps = want / step;
        ck_assert_msg(fabs(fabs(steps - floor(steps)) - 0.5) > 1e-9, "tie at bar %zu", t);
        want = round(steps) * step;
        if (want == last)
            continue;
        last = want;
        sizes[(int)(want / step) + 4]++;
        int64_t ts;
        double got = out_num(tk, "sizer", k, &ts);
        ck_assert_int_eq(ts, T0 + (int64_t)t * 60);
        ck_assert_msg(got == want, "sizer %zu: %g want %g", k, got, want);
        expect_target(tk, &acct, want, qty, t, p[t]);
        k++;
    }
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "sizer"), k);
    /* every signal the order publisher receives counts (and reaches on_signal) */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_output_count(tk, "sizer"));
    int distinct = 0;
    for (int i = 0; i < 9; i++)
        distinct += sizes[i] > 0;
    ck_assert_int_ge(distinct, 5); /* several position sizes, not just in/out */
    ck_assert_uint_gt(acct.n_orders, 20);
    expect_end(tk, &acct, p[N - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- lagged_correlation */

START_TEST(test_lagged_correlation)
{
    enum { N = 300, W = 20 };
    const double threshold = 0.3;
    double a[N], b[N], ra[N], rb[N], corr[N], follow[N];
    int hra[N], hrb[N], hc[N];
    /* b follows a's previous return (times 0.8) plus its own noise, except in the
     * middle third where it decorrelates */
    make_prices(a, N, 7, 0.0);
    double noise[N];
    make_prices(noise, N, 8, 0.0);
    b[0] = 50;
    for (size_t t = 1; t < N; t++) {
        double lead = t >= 2 ? a[t - 1] / a[t - 2] - 1 : 0;
        double own = noise[t] / noise[t - 1] - 1;
        double beta = (t > N / 3 && t < 2 * N / 3) ? 0.0 : 0.8;
        b[t] = b[t - 1] * (1 + beta * lead + 0.5 * own);
    }
    struct qmtl_testkit *tk = load("lagged_correlation", NULL);
    struct qmtl_err err = {0};
    for (size_t t = 0; t < N; t++) {
        struct qmtl_bar ba = {a[t], a[t], a[t], a[t], 0}, bb = {b[t], b[t], b[t], b[t], 0};
        ck_assert_msg(qmtl_testkit_feed_bar(tk, "AAA", T0 + (int64_t)t * 60, &ba, &err) == 0, "%s",
                      err.msg);
        ck_assert_msg(qmtl_testkit_feed_bar(tk, "BBB", T0 + (int64_t)t * 60, &bb, &err) == 0, "%s",
                      err.msg);
    }
    ref_returns(a, N, ra, hra);
    ref_returns(b, N, rb, hrb);
    check_series(tk, "ret_leader", ra, hra, N);
    check_series(tk, "ret_follower", rb, hrb, N);

    struct ref_account acct = {.cash = CASH, .n_bars = N, .open = b};
    int high = 0, low = 0;
    for (size_t t = 0; t < N; t++) {
        hc[t] = t >= W + 1; /* both return windows hold W + 1 items */
        if (!hc[t])
            continue;
        double ma = 0, mb = 0, cov = 0, va = 0, vb = 0;
        for (size_t i = 0; i < W; i++) {
            ma += ra[t - 1 - i];
            mb += rb[t - i];
        }
        ma /= W;
        mb /= W;
        for (size_t i = 0; i < W; i++) {
            cov += (ra[t - 1 - i] - ma) * (rb[t - i] - mb);
            va += (ra[t - 1 - i] - ma) * (ra[t - 1 - i] - ma);
            vb += (rb[t - i] - mb) * (rb[t - i] - mb);
        }
        corr[t] = cov / sqrt(va * vb);
        ck_assert(fabs(corr[t] - threshold) > 1e-9);
        high += corr[t] > 0.6;
        low += corr[t] < threshold;
        follow[t] = corr[t] > threshold ? (ra[t] > 0 ? 1 : ra[t] < 0 ? -1 : 0) : 0;
        expect_target(tk, &acct, follow[t], 1.0, t, b[t]);
    }
    ck_assert_int_gt(high, 50); /* the relation is found ... */
    ck_assert_int_gt(low, 20);  /* ... and lost in the middle third */
    /* once per bar, after both symbols delivered it (aligned fan-in), never twice */
    check_series(tk, "lagcorr", corr, hc, N);
    check_series(tk, "follow", follow, hc, N);
    /* every signal the order publisher receives counts (and reaches on_signal) */
    ck_assert_uint_eq(qmtl_testkit_signal_count(tk), qmtl_testkit_output_count(tk, "follow"));
    expect_end(tk, &acct, b[N - 1]);
    qmtl_testkit_free(tk);
}
END_TEST

/* Every example loads, declares its nodes, and refuses nonsense parameters. */
START_TEST(test_all_load_and_validate)
{
    static const struct {
        const char *name, *bad;
    } cases[] = {
        {"sma_crossover", "fast: 0\n"},        {"branching", "lag: 0\n"},
        {"multi_indicator", "oversold: 80\n"}, {"state_machine", "stop: 2\n"},
        {"order_pipeline", "window: 1\n"},     {"lagged_correlation", "threshold: 1.5\n"},
    };
    const char *b = getenv("QMTL_BUILD");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct qmtl_testkit *tk = load(cases[i].name, NULL);
        ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
        qmtl_testkit_free(tk);
        char path[512];
        snprintf(path, sizeof(path), "%s/plugins/%s.so", b ? b : "build", cases[i].name);
        struct qmtl_testkit_options o = opts;
        o.params_yaml = cases[i].bad;
        struct qmtl_err err = {0};
        ck_assert_ptr_null(qmtl_testkit_load(path, &o, &err));
        ck_assert_msg(strstr(err.msg, "need ") != NULL, "%s: %s", cases[i].name, err.msg);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("examples");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sma_crossover);
    tcase_add_test(tc, test_sma_crossover_params);
    tcase_add_test(tc, test_branching);
    tcase_add_test(tc, test_multi_indicator);
    tcase_add_test(tc, test_state_machine_by_hand);
    tcase_add_test(tc, test_state_machine_long);
    tcase_add_test(tc, test_order_pipeline);
    tcase_add_test(tc, test_lagged_correlation);
    tcase_add_test(tc, test_all_load_and_validate);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
