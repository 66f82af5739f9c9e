/* sample_data: seeded OHLCV generator (see sample_data.h for the model). */
#include "cli/project/sample_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/data/synth.h"

#define SUBSTEPS 6
#define SECONDS_PER_YEAR (365.0 * 86400.0)
#define LOGVOL_SD 0.35   /* stationary sd of log volatility */
#define LOGVOL_PHI 0.995 /* per-bar persistence of log volatility */
#define DRIFT_PHI 0.999  /* per-bar persistence of the drift (regimes of hours) */
#define DRIFT_SD 0.025   /* stationary sd of the drift, in units of per-bar volatility */
#define WICK 0.15        /* extra wick beyond the sampled path, in per-bar sigmas */
#define VOLUME_NOISE 0.5 /* sd of log volume noise */

static const struct sample_series default_series[] = {
    {"BTC", 42000.0, 0.55, 18.0},
    {"ETH", 2300.0, 0.70, 320.0},
};

void sample_spec_default(struct sample_spec *out)
{
    memset(out, 0, sizeof(*out));
    out->start_ts = 1704067200; /* 2024-01-01T00:00:00Z, a Monday */
    out->interval_s = 60;
    out->count = 10080;
    out->seed = 42;
    out->correlation = 0.8;
    out->series = default_series;
    out->n_series = sizeof(default_series) / sizeof(default_series[0]);
}

/* ------------------------------------------------------------ random numbers */

/* The generator is the synthetic sources' (host/data/synth.h: xoshiro256** seeded through
 * splitmix64), with this file's own uniform and normal transforms. */

/* Uniform in (0, 1). */
static double rng_uniform(struct synth_rng *r)
{
    return ((double)(synth_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller, one value per call: simple and reproducible). */
static double rng_normal(struct synth_rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ------------------------------------------------------------ the model */

struct series_state {
    double logp;       /* log of the current (unrounded) price */
    double logvol;     /* log volatility deviation (stationary mean 0) */
    double drift;      /* per-bar drift, in units of sigma */
    double sigma;      /* base per-bar volatility */
    double last_close; /* rounded close of the previous bar */
    int decimals;
};

static double round_to(double x, int decimals)
{
    double m = pow(10.0, decimals);
    return round(x * m) / m;
}

static int spec_check(const struct sample_spec *spec, char *err, size_t errlen)
{
    if (!spec || !spec->series || spec->n_series == 0 || spec->n_series > SAMPLE_MAX_SERIES) {
        snprintf(err, errlen, "sample data: need 1..%d series", SAMPLE_MAX_SERIES);
        return -1;
    }
    if (spec->interval_s < 1 || spec->count < 1) {
        snprintf(err, errlen, "sample data: interval and count must be >= 1");
        return -1;
    }
    if (!(spec->correlation >= -1.0 && spec->correlation <= 1.0)) {
        snprintf(err, errlen, "sample data: correlation must be in [-1, 1]");
        return -1;
    }
    for (size_t i = 0; i < spec->n_series; i++) {
        const struct sample_series *s = &spec->series[i];
        if (!s->symbol || !*s->symbol || strlen(s->symbol) > 40 ||
            strspn(s->symbol,
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                strlen(s->symbol)) {
            snprintf(err, errlen, "sample data: series %zu: symbol must be 1..40 of [A-Za-z0-9_.-]",
                     i);
            return -1;
        }
        if (!(s->start_price > 0) || !(s->annual_vol > 0) || !(s->mean_volume > 0) ||
            !isfinite(s->start_price) || !isfinite(s->annual_vol) || !isfinite(s->mean_volume)) {
            snprintf(err, errlen,
                     "sample data: series '%s': price, volatility and volume must be > 0",
                     s->symbol);
            return -1;
        }
    }
    return 0;
}

/* Intraday and weekly shape: busier around 15:00 UTC, quieter at weekends. */
static void session_shape(int64_t ts, double *vol_mult, double *volume_mult)
{
    int64_t days = ts >= 0 ? ts / 86400 : (ts - 86399) / 86400;
    double hour = (double)(ts - days * 86400) / 3600.0;
    int dow = (int)(((days % 7) + 7 + 4) % 7); /* 0 = Sunday (1970-01-01 was a Thursday) */
    double day = cos(6.283185307179586 * (hour - 15.0) / 24.0);
    double weekend = (dow == 0 || dow == 6) ? 1.0 : 0.0;
    *vol_mult = (1.0 + 0.25 * day) * (1.0 - 0.2 * weekend);
    *volume_mult = (1.0 + 0.35 * day) * (1.0 - 0.4 * weekend);
}

int sample_generate(const struct sample_spec *spec, sample_emit_fn emit, void *arg, char *err,
                    size_t errlen)
{
    if (spec_check(spec, err, errlen) < 0)
        return -1;
    struct synth_rng r;
    synth_rng_seed(&r, spec->seed);
    struct series_state st[SAMPLE_MAX_SERIES];
    double bar_years = (double)spec->interval_s / SECONDS_PER_YEAR;
    for (size_t i = 0; i < spec->n_series; i++) {
        const struct sample_series *s = &spec->series[i];
        st[i].logp = log(s->start_price);
        st[i].logvol = 0;
        st[i].drift = 0;
        st[i].sigma = s->annual_vol * sqrt(bar_years);
        st[i].decimals = s->start_price < 1.0 ? 6 : s->start_price < 20.0 ? 4 : 2;
        st[i].last_close = round_to(s->start_price, st[i].decimals);
    }
    double c = fabs(spec->correlation);
    double common = sqrt(c), own = sqrt(1.0 - c);
    double vol_innov = LOGVOL_SD * sqrt(1.0 - LOGVOL_PHI * LOGVOL_PHI);
    double drift_innov = DRIFT_SD * sqrt(1.0 - DRIFT_PHI * DRIFT_PHI);

    for (long k = 0; k < spec->count; k++) {
        int64_t ts = spec->start_ts + (int64_t)k * spec->interval_s;
        double vol_mult, volume_mult;
        session_shape(ts, &vol_mult, &volume_mult);
        double hi[SAMPLE_MAX_SERIES], lo[SAMPLE_MAX_SERIES], open_p[SAMPLE_MAX_SERIES];
        double step_sd[SAMPLE_MAX_SERIES], step_mu[SAMPLE_MAX_SERIES];
        for (size_t i = 0; i < spec->n_series; i++) {
            struct series_state *x = &st[i];
            x->logvol = LOGVOL_PHI * x->logvol + vol_innov * rng_normal(&r);
            x->drift = DRIFT_PHI * x->drift + drift_innov * rng_normal(&r);
            double sd = x->sigma * vol_mult * exp(x->logvol - 0.5 * LOGVOL_SD * LOGVOL_SD);
            step_sd[i] = sd / sqrt((double)SUBSTEPS);
            step_mu[i] = x->drift * x->sigma / SUBSTEPS;
            open_p[i] = x->last_close;
            hi[i] = lo[i] = exp(x->logp);
        }
        for (int sub = 0; sub < SUBSTEPS; sub++) {
            double z0 = rng_normal(&r);
            for (size_t i = 0; i < spec->n_series; i++) {
                double sign = (spec->correlation < 0 && (i & 1)) ? -1.0 : 1.0;
                double z = sign * common * z0 + own * rng_normal(&r);
                st[i].logp += step_mu[i] + step_sd[i] * z;
                double p = exp(st[i].logp);
                if (p > hi[i])
                    hi[i] = p;
                if (p < lo[i])
                    lo[i] = p;
            }
        }
        for (size_t i = 0; i < spec->n_series; i++) {
            struct series_state *x = &st[i];
            const struct sample_series *s = &spec->series[i];
            double close = exp(x->logp);
            double wick_hi = fabs(rng_normal(&r)) * WICK * x->sigma;
            double wick_lo = fabs(rng_normal(&r)) * WICK * x->sigma;
            struct qmtl_bar b;
            b.open = open_p[i];
            b.close = round_to(close, x->decimals);
            b.high = round_to(hi[i] * (1.0 + wick_hi), x->decimals);
            b.low = round_to(lo[i] * (1.0 - wick_lo), x->decimals);
            double min_step = pow(10.0, -x->decimals);
            if (b.close < min_step)
                b.close = min_step;
            if (b.high < fmax(b.open, b.close))
                b.high = fmax(b.open, b.close);
            if (b.low > fmin(b.open, b.close))
                b.low = fmin(b.open, b.close);
            if (b.low < min_step)
                b.low = min_step;
            double move = fabs(log(b.close / b.open)) / x->sigma;
            double noise = exp(VOLUME_NOISE * rng_normal(&r) - 0.5 * VOLUME_NOISE * VOLUME_NOISE);
            double v = s->mean_volume * volume_mult * noise * (0.5 + 0.6 * move);
            b.volume = round_to(v, 4);
            if (b.volume < 0.0001)
                b.volume = 0.0001;
            x->last_close = b.close;
            if (emit(arg, i, ts, &b) != 0) {
                snprintf(err, errlen, "sample data: stopped by the consumer");
                return -1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------ CSV files */

void sample_csv_name(const struct sample_spec *spec, size_t i, char out[64])
{
    long long n = (long long)spec->interval_s;
    char unit = 's';
    if (n % 60 == 0) {
        n /= 60;
        unit = 'm';
    }
    n %= 100000000000LL; /* keeps the name within 64 bytes; real intervals are far smaller */
    snprintf(out, 64, "%.40s_%lld%c.csv", spec->series[i].symbol, n, unit);
}

struct csv_out {
    FILE *f[SAMPLE_MAX_SERIES];
    int decimals[SAMPLE_MAX_SERIES];
    int failed;
};

static int csv_emit(void *arg, size_t series, int64_t ts, const struct qmtl_bar *b)
{
    struct csv_out *o = arg;
    if (!o->f[series])
        return 0; /* skipped: generated only so the others stay the same */
    time_t t = (time_t)ts;
    struct tm tm;
    char when[32];
    if (!gmtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        o->failed = 1;
        return 1;
    }
    int d = o->decimals[series];
    if (fprintf(o->f[series], "%s,%.*f,%.*f,%.*f,%.*f,%.4f\n", when, d, b->open, d, b->high, d,
                b->low, d, b->close, b->volume) < 0) {
        o->failed = 1;
        return 1;
    }
    return 0;
}

int sample_write_csv(const struct sample_spec *spec, const char *dir, char (*names)[64], char *err,
                     size_t errlen)
{
    if (spec_check(spec, err, errlen) < 0)
        return -1;
    uint32_t all = spec->n_series >= 32 ? UINT32_MAX : (1u << spec->n_series) - 1;
    if ((spec->skip_mask & all) == all) {
        snprintf(err, errlen, "sample data: every series is skipped: nothing to write");
        return -1;
    }
    struct csv_out o;
    memset(&o, 0, sizeof(o));
    char tmp[SAMPLE_MAX_SERIES][4096], final[SAMPLE_MAX_SERIES][4096];
    int rc = -1;
    size_t opened = 0;
    for (size_t i = 0; i < spec->n_series; i++) {
        char name[64];
        sample_csv_name(spec, i, name);
        if (names)
            memcpy(names[i], name, sizeof(name));
        snprintf(final[i], sizeof(final[i]), "%s/%s", dir, name);
        if (spec->skip_mask & (1u << i)) {
            opened++; /* nothing opened: o.f[i] stays NULL */
            continue;
        }
        snprintf(tmp[i], sizeof(tmp[i]), "%s/.%s.tmp", dir, name);
        o.f[i] = fopen(tmp[i], "w");
        if (!o.f[i]) {
            snprintf(err, errlen, "cannot write '%s': %s", final[i], strerror(errno));
            goto out;
        }
        opened++;
        double p = spec->series[i].start_price;
        o.decimals[i] = p < 1.0 ? 6 : p < 20.0 ? 4 : 2;
        if (fputs("timestamp,open,high,low,close,volume\n", o.f[i]) < 0) {
            snprintf(err, errlen, "cannot write '%s': %s", final[i], strerror(errno));
            goto out;
        }
    }
    if (sample_generate(spec, csv_emit, &o, err, errlen) < 0) {
        if (o.failed)
            snprintf(err, errlen, "cannot write sample data into '%s': %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < opened; i++) {
        if (o.f[i] && fclose(o.f[i]) != 0 && rc == 0) {
            snprintf(err, errlen, "cannot write '%s': %s", final[i], strerror(errno));
            rc = -1;
        }
    }
    for (size_t i = 0; i < opened; i++) {
        if (!o.f[i])
            continue;
        if (rc == 0 && rename(tmp[i], final[i]) != 0) {
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp[i], final[i],
                     strerror(errno));
            rc = -1;
        }
        if (rc != 0)
            unlink(tmp[i]);
    }
    return rc;
}
