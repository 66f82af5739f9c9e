/*
 * Built-in indicators: the streaming nodes, run through the real runtime (testkit:
 * stream input -> caches -> scheduler -> builtin), must equal, bit for bit, a plain batch
 * implementation of each definition (host/dag/builtins.h) over the whole array.
 */
#include <qmtl/testkit.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dag/builtins.h"

#define N 3000
#define T0 1699999980 /* a multiple of 60 */
#define IV 60

static double xs[N], hi[N];

static void make_data(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    double x = 100;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
        x += u;
        if (i % 97 == 5)
            x = xs[i - 1]; /* exact repeats: flat stretches for rsi and crossover */
        xs[i] = x;
        hi[i] = x + fabs(u) * 0.5;
    }
}

/* ---- the strategy: one node per indicator */

struct ind {
    const char *name, *kind, *field;
    int window;
    double alpha;
};

static const struct ind inds[] = {
    {"sma20", "sma", NULL, 20, 0},          {"sma1", "sma", NULL, 1, 0},
    {"sma_hi", "sma", "high", 7, 0},        {"ema10", "ema", NULL, 10, 0},
    {"ema_a", "ema", NULL, 4, 0.3},         {"rsi14", "rsi", NULL, 14, 0},
    {"std20", "stddev", NULL, 20, 0},       {"z20", "zscore", NULL, 20, 0},
    {"ret1", "returns", NULL, 1, 0},        {"pct3", "pct_change", NULL, 3, 0},
    {"roc5", "rate_of_change", NULL, 5, 0}, {"min7", "rolling_min", NULL, 7, 0},
    {"max7", "rolling_max", NULL, 7, 0},    {"max1", "rolling_max", NULL, 1, 0},
};
#define N_IND (sizeof(inds) / sizeof(inds[0]))

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"X", NULL};
    qmtl_node px =
        h->stream_input(ctx,
                        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags,
                                                   .interval = "1m", .period = 1},
                        err);
    if (px < 0)
        return px;
    for (size_t i = 0; i < N_IND; i++) {
        qmtl_node n =
            h->indicator(ctx,
                         &(struct qmtl_indicator_spec){
                             QMTL_SPEC(qmtl_indicator_spec), .kind = inds[i].kind,
                             .name = inds[i].name, .inputs = {px}, .window = inds[i].window,
                             .alpha = inds[i].alpha, .field = inds[i].field},
                         err);
        if (n < 0)
            return n;
    }
    qmtl_node f =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                                   .name = "f5", .inputs = {px}, .window = 5},
                     err);
    qmtl_node s =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                                   .name = "s20", .inputs = {px}, .window = 20},
                     err);
    qmtl_node x = h->indicator(ctx,
                               &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                             .kind = "crossover", .name = "cross",
                                                             .inputs = {f, s}},
                               err);
    return x < 0 ? x : QMTL_OK;
}

static const struct qmtl_plugin strat = {QMTL_PLUGIN_HEADER, .name = "all_builtins", .version = "1",
                                         .setup = setup};

/* ---- batch definitions: out[i] (NaN = no value at i) */

static void b_sma(const double *x, int w, double *out)
{
    double s = 0;
    for (int i = 0; i < N; i++) {
        s += x[i];
        if (i >= w)
            s -= x[i - w];
        out[i] = i >= w - 1 ? s / w : NAN;
    }
}

static void b_ema(const double *x, int w, double a, double *out)
{
    if (a <= 0)
        a = 2.0 / (w + 1.0);
    double e = x[0];
    for (int i = 0; i < N; i++) {
        if (i)
            e += a * (x[i] - e);
        out[i] = i >= w - 1 ? e : NAN;
    }
}

static void b_rsi(const double *x, int w, double *out)
{
    double g = 0, l = 0;
    out[0] = NAN;
    for (int i = 1; i < N; i++) {
        double d = x[i] - x[i - 1];
        double gi = d > 0 ? d : 0.0, li = d < 0 ? -d : 0.0;
        if (i <= w) {
            g += gi;
            l += li;
            if (i == w) {
                g /= w;
                l /= w;
            }
        } else {
            g = (g * (w - 1) + gi) / w;
            l = (l * (w - 1) + li) / w;
        }
        if (i < w)
            out[i] = NAN;
        else if (l == 0)
            out[i] = g == 0 ? 50.0 : 100.0;
        else
            out[i] = 100.0 - 100.0 / (1.0 + g / l);
    }
}

/* sliding Welford; z = 0: stddev, z = 1: zscore */
static void b_std(const double *x, int w, int z, double *out)
{
    double mean = 0, m2 = 0;
    for (int i = 0; i < N; i++) {
        if (i < w) {
            double d = x[i] - mean;
            mean += d / (double)(i + 1);
            m2 += d * (x[i] - mean);
        } else {
            double d = x[i] - x[i - w], om = mean;
            mean += d / (double)w;
            m2 += d * (x[i] - mean + x[i - w] - om);
        }
        double sd = sqrt((m2 > 0 ? m2 : 0.0) / (double)w);
        out[i] = i < w - 1 ? NAN : !z ? sd : sd > 0 ? (x[i] - mean) / sd : 0.0;
    }
}

static void b_lag(const double *x, int lag, int roc, double *out)
{
    for (int i = 0; i < N; i++)
        out[i] = i < lag || x[i - lag] == 0 ? NAN
                 : roc                      ? 100.0 * (x[i] - x[i - lag]) / x[i - lag]
                                            : x[i] / x[i - lag] - 1.0;
}

static void b_ext(const double *x, int w, int is_max, double *out)
{
    for (int i = 0; i < N; i++) {
        if (i < w - 1) {
            out[i] = NAN;
            continue;
        }
        double m = x[i];
        for (int k = i - w + 1; k <= i; k++)
            m = is_max ? (x[k] > m ? x[k] : m) : (x[k] < m ? x[k] : m);
        out[i] = m;
    }
}

static void b_cross(double *out)
{
    static double f[N], s[N];
    b_sma(xs, 5, f);
    b_sma(xs, 20, s);
    for (int i = 0; i < N; i++) {
        out[i] = NAN;
        if (i < 20)
            continue; /* needs two slow values */
        double prev = f[i - 1] - s[i - 1], now = f[i] - s[i];
        if (prev <= 0 && now > 0)
            out[i] = 1.0;
        else if (prev >= 0 && now < 0)
            out[i] = -1.0;
    }
}

static void batch_for(const struct ind *d, double *out)
{
    const double *x = d->field && !strcmp(d->field, "high") ? hi : xs;
    int k = builtin_kind_from_name(d->kind);
    switch (k) {
    case BI_SMA:
        b_sma(x, d->window, out);
        break;
    case BI_EMA:
        b_ema(x, d->window, d->alpha, out);
        break;
    case BI_RSI:
        b_rsi(x, d->window, out);
        break;
    case BI_STDDEV:
    case BI_ZSCORE:
        b_std(x, d->window, k == BI_ZSCORE, out);
        break;
    case BI_RETURNS:
    case BI_ROC:
        b_lag(x, d->window, k == BI_ROC, out);
        break;
    case BI_MIN:
    case BI_MAX:
        b_ext(x, d->window, k == BI_MAX, out);
        break;
    default:
        ck_abort_msg("no batch for %s", d->kind);
    }
}

static void compare(struct qmtl_testkit *tk, const char *name, const double *want)
{
    size_t j = 0, n = qmtl_testkit_output_count(tk, name);
    for (int i = 0; i < N; i++) {
        if (isnan(want[i]))
            continue;
        int64_t ts;
        struct qmtl_value v;
        ck_assert_msg(qmtl_testkit_output(tk, name, j, &ts, &v) == QMTL_OK,
                      "%s: missing output %zu (bar %d)", name, j, i);
        ck_assert_msg(ts == T0 + (int64_t)i * IV, "%s: output %zu at ts %lld, want bar %d", name, j,
                      (long long)ts, i);
        ck_assert_int_eq(v.type, QMTL_T_NUMBER);
        ck_assert_msg(memcmp(&v.as.number, &want[i], sizeof(double)) == 0,
                      "%s bar %d: stream %.17g != batch %.17g", name, i, v.as.number, want[i]);
        j++;
    }
    ck_assert_msg(j == n, "%s: %zu stream outputs, batch has %zu", name, n, j);
    ck_assert_msg(n > 0 || !strcmp(name, "cross"), "%s produced nothing", name);
}

START_TEST(test_stream_equals_batch)
{
    make_data();
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&strat, NULL, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    for (int i = 0; i < N; i++) {
        struct qmtl_bar b = {.open = i ? xs[i - 1] : xs[0],
                             .high = hi[i],
                             .low = xs[i] - 1,
                             .close = xs[i],
                             .volume = 1};
        ck_assert_int_eq(qmtl_testkit_feed_bar(tk, "X", T0 + (int64_t)i * IV, &b, &err), 0);
    }
    static double want[N];
    for (size_t k = 0; k < N_IND; k++) {
        batch_for(&inds[k], want);
        compare(tk, inds[k].name, want);
    }
    b_cross(want);
    compare(tk, "cross", want);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "cross"), 10);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---- non-finite inputs: no value while one is in the window, never a poisoned state */

static int nan_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"N", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"},
        err);
    static const struct ind k[] = {{"sma5", "sma", NULL, 5, 0},
                                   {"ema3", "ema", NULL, 3, 0},
                                   {"max3", "rolling_max", NULL, 3, 0},
                                   {"std4", "stddev", NULL, 4, 0},
                                   {"ret1", "returns", NULL, 1, 0}};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        if (h->indicator(ctx,
                         &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                       .kind = k[i].kind, .name = k[i].name,
                                                       .inputs = {px}, .window = k[i].window},
                         err) < 0)
            return QMTL_ERR;
    return px < 0 ? px : QMTL_OK;
}
static const struct qmtl_plugin nan_plugin = {QMTL_PLUGIN_HEADER, .name = "nan",
                                              .setup = nan_setup};

static int has_output_at(struct qmtl_testkit *tk, const char *name, int64_t ts, double *x)
{
    for (size_t i = 0; i < qmtl_testkit_output_count(tk, name); i++) {
        int64_t t;
        struct qmtl_value v;
        qmtl_testkit_output(tk, name, i, &t, &v);
        if (t == ts) {
            *x = v.as.number;
            return 1;
        }
    }
    return 0;
}

START_TEST(test_non_finite_inputs)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit *tk = qmtl_testkit_new(&nan_plugin, NULL, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    double x[40];
    for (int i = 0; i < 40; i++)
        x[i] = 100 + (i * 7 % 11);
    x[20] = NAN;
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(qmtl_testkit_feed_value(tk, "N", T0 + 60 * i, x[i], &err), 0);
    double y;
    /* sma(5): nothing for bars 20..24, then the plain mean again */
    for (int i = 20; i < 25; i++)
        ck_assert_msg(!has_output_at(tk, "sma5", T0 + 60 * i, &y), "sma at bar %d", i);
    for (int i = 25; i < 40; i++) {
        ck_assert(has_output_at(tk, "sma5", T0 + 60 * i, &y));
        double m = (x[i] + x[i - 1] + x[i - 2] + x[i - 3] + x[i - 4]) / 5;
        ck_assert_msg(fabs(y - m) < 1e-9, "sma bar %d: %.17g vs %.17g", i, y, m);
    }
    /* rolling max and stddev recover once the NaN leaves their window */
    ck_assert(!has_output_at(tk, "max3", T0 + 60 * 22, &y));
    ck_assert(has_output_at(tk, "max3", T0 + 60 * 23, &y));
    ck_assert(y == fmax(x[23], fmax(x[22], x[21])));
    ck_assert(!has_output_at(tk, "std4", T0 + 60 * 23, &y));
    ck_assert(has_output_at(tk, "std4", T0 + 60 * 24, &y) && isfinite(y));
    /* ema skips the NaN bar and continues from its previous state */
    ck_assert(!has_output_at(tk, "ema3", T0 + 60 * 20, &y));
    double e = x[0];
    for (int i = 1; i < 40; i++)
        if (i != 20)
            e += 0.5 * (x[i] - e);
    ck_assert(has_output_at(tk, "ema3", T0 + 60 * 39, &y));
    ck_assert_msg(fabs(y - e) < 1e-9, "ema %.17g vs %.17g", y, e);
    /* returns: no value where it would be NaN */
    ck_assert(!has_output_at(tk, "ret1", T0 + 60 * 20, &y));
    ck_assert(!has_output_at(tk, "ret1", T0 + 60 * 21, &y));
    ck_assert(has_output_at(tk, "ret1", T0 + 60 * 22, &y) && isfinite(y));
    qmtl_testkit_free(tk);
}
END_TEST

/* Kind and field names, periods, input counts. */
START_TEST(test_kind_names)
{
    ck_assert_int_eq(builtin_kind_from_name("pct_change"), BI_RETURNS);
    ck_assert_int_eq(builtin_kind_from_name("rolling_max"), BI_MAX);
    ck_assert_int_eq(builtin_kind_from_name("bogus"), -1);
    ck_assert_int_eq(builtin_kind_from_name(NULL), -1);
    ck_assert_int_eq(builtin_field_from_name(NULL), BI_CLOSE);
    ck_assert_int_eq(builtin_field_from_name("volume"), BI_VOLUME);
    ck_assert_int_eq(builtin_field_from_name("vwap"), -1);
    ck_assert_int_eq(builtin_period(BI_SMA, 20), 20);
    ck_assert_int_eq(builtin_period(BI_RETURNS, 3), 4);
    ck_assert_int_eq(builtin_period(BI_EMA, 30), 1);
    ck_assert_int_eq(builtin_inputs(BI_CROSSOVER), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("builtins");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_stream_equals_batch);
    tcase_add_test(tc, test_kind_names);
    tcase_add_test(tc, test_non_finite_inputs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
