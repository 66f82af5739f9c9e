/* stats: backtest statistics (see stats.h and docs/backtest.md). */
#include "host/report/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_S (365.0 * 86400.0)

static int64_t smallest_gap(const struct stats_point *p, size_t n)
{
    int64_t g = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = p[i].ts - p[i - 1].ts;
        if (d > 0 && (g == 0 || d < g))
            g = d;
    }
    return g;
}

static void curve(const struct stats_input *in, struct stats_result *o)
{
    const struct stats_point *p = in->pts;
    size_t n = in->n;
    double ppy = o->interval_s > 0 ? YEAR_S / (double)o->interval_s : 0;
    double sum = 0, down2 = 0;
    long nr = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i - 1].equity != 0) {
            double r = (p[i].equity - p[i - 1].equity) / fabs(p[i - 1].equity);
            sum += r;
            if (r < 0)
                down2 += r * r;
            nr++;
        }
    double mean = nr ? sum / (double)nr : 0, m2 = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i - 1].equity != 0) {
            double d = (p[i].equity - p[i - 1].equity) / fabs(p[i - 1].equity) - mean;
            m2 += d * d;
        }
    if (nr >= 2 && ppy > 0) {
        double sd = sqrt(m2 / (double)(nr - 1));
        o->volatility = sd * sqrt(ppy);
        if (sd > 1e-14)
            o->sharpe = mean / sd * sqrt(ppy);
        double dd = sqrt(down2 / (double)nr);
        if (dd > 1e-14)
            o->sortino = mean / dd * sqrt(ppy);
    }
    double peak = in->initial;
    long run = 0, inmkt = 0;
    for (size_t i = 0; i < n; i++) {
        double e = p[i].equity;
        if (e > peak)
            peak = e;
        if (peak > 0 && (peak - e) / peak > o->max_drawdown)
            o->max_drawdown = (peak - e) / peak;
        run = e < peak ? run + 1 : 0;
        if (run > o->max_dd_bars)
            o->max_dd_bars = run;
        inmkt += p[i].in_market != 0;
    }
    o->exposure = n ? (double)inmkt / (double)n : 0;
    double growth = o->final_equity / in->initial;
    if (n && ppy > 0) {
        double years = (double)n / ppy;
        o->cagr = growth > 0 ? pow(growth, 1.0 / years) - 1 : -1;
    }
    if (o->max_drawdown > 0)
        o->calmar = o->cagr / o->max_drawdown;
    if (n)
        o->bench_return = p[n - 1].bench / in->initial - 1;
    o->excess_return = o->total_return - o->bench_return;
}

static void round_trips(const struct stats_input *in, struct stats_result *o)
{
    double gross_win = 0, gross_loss = 0;
    long streak = 0;
    for (size_t i = 0; i < in->n_trips; i++) {
        double x = in->trips[i].pnl;
        if (x > 0) {
            o->wins++;
            gross_win += x;
        } else if (x < 0) {
            o->losses++;
            gross_loss -= x;
        }
        streak = x < 0 ? streak + 1 : 0;
        if (streak > o->max_losing_streak)
            o->max_losing_streak = streak;
    }
    o->round_trips = (long)in->n_trips;
    o->win_rate = in->n_trips ? (double)o->wins / (double)in->n_trips : 0;
    o->profit_factor = gross_loss > 0 ? gross_win / gross_loss : NAN;
    o->avg_win = o->wins ? gross_win / (double)o->wins : 0;
    o->avg_loss = o->losses ? -gross_loss / (double)o->losses : 0;
}

void stats_compute(const struct stats_input *in, struct stats_result *o)
{
    memset(o, 0, sizeof(*o));
    o->points = (long)in->n;
    o->interval_s = in->interval_s > 0 ? in->interval_s : smallest_gap(in->pts, in->n);
    o->final_equity = in->n ? in->pts[in->n - 1].equity : in->initial;
    o->pnl = o->final_equity - in->initial;
    o->total_return = o->pnl / in->initial;
    o->fees = in->fees;
    o->turnover = in->traded_notional / in->initial;
    curve(in, o);
    round_trips(in, o);
}

int stats_merge(const struct stats_point *const *series, const size_t *lens,
                const double *initials, size_t k, struct stats_point **out, size_t *n_out)
{
    size_t total = 0;
    for (size_t j = 0; j < k; j++)
        total += lens[j];
    *out = NULL;
    *n_out = 0;
    size_t *at = calloc(k ? k : 1, sizeof(*at));
    struct stats_point *v = malloc((total ? total : 1) * sizeof(*v));
    if (!at || !v) {
        free(at);
        free(v);
        return -1;
    }
    size_t n = 0;
    for (;;) {
        int have = 0;
        int64_t ts = 0;
        for (size_t j = 0; j < k; j++)
            if (at[j] < lens[j] && (!have || series[j][at[j]].ts < ts)) {
                ts = series[j][at[j]].ts;
                have = 1;
            }
        if (!have)
            break;
        struct stats_point m = {.ts = ts};
        for (size_t j = 0; j < k; j++) {
            while (at[j] < lens[j] && series[j][at[j]].ts <= ts)
                at[j]++;
            if (at[j] == 0) {
                m.equity += initials[j];
                m.bench += initials[j];
            } else {
                const struct stats_point *q = &series[j][at[j] - 1];
                m.equity += q->equity;
                m.bench += q->bench;
                m.in_market |= q->in_market != 0;
            }
        }
        v[n++] = m;
    }
    free(at);
    *out = v;
    *n_out = n;
    return 0;
}
