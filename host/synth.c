#include "host/synth.h"

#include <math.h>
#include <stdio.h>

uint64_t synth_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void synth_rng_seed(struct synth_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = synth_splitmix64(&st);
    r->spare = 0;
    r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t synth_rng_next(struct synth_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double synth_rng_uniform(struct synth_rng *r)
{
    return (double)(synth_rng_next(r) >> 11) * 0x1.0p-53;
}

double synth_rng_normal(struct synth_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * synth_rng_uniform(r) - 1.0;
        v = 2.0 * synth_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare = v * m;
    r->has_spare = 1;
    return u * m;
}

int synth_gen_init(struct synth_gen *g, int kind, int64_t interval_s, long count,
                   double start_price, double drift, double volatility, uint64_t seed,
                   int64_t start_ts, char *err, size_t errlen)
{
    if (kind != SYNTH_RANDOM_WALK && kind != SYNTH_GBM) {
        snprintf(err, errlen, "synthetic source: unknown kind %d", kind);
        return -1;
    }
    if (interval_s < 1 || interval_s > 31536000) {
        snprintf(err, errlen,
                 "synthetic source: interval %lld out of range 1..31536000 s (one year)",
                 (long long)interval_s);
        return -1;
    }
    if (count < 0) {
        snprintf(err, errlen, "synthetic source: count %ld is negative", count);
        return -1;
    }
    if (!isfinite(start_price) || start_price <= 0) {
        snprintf(err, errlen, "synthetic source: start_price must be a positive number");
        return -1;
    }
    if (!isfinite(drift) || fabs(drift) > 10) {
        snprintf(err, errlen, "synthetic source: drift must be a number in -10..10 (per day)");
        return -1;
    }
    if (!isfinite(volatility) || volatility < 0 || volatility > 10) {
        snprintf(err, errlen,
                 "synthetic source: volatility must be a number in 0..10 (per sqrt(day))");
        return -1;
    }
    if (start_ts < 0 || start_ts > INT64_MAX / 2 ||
        (count > 0 && (INT64_MAX / 2 - start_ts) / interval_s < count)) {
        snprintf(err, errlen, "synthetic source: start_ts %lld out of range", (long long)start_ts);
        return -1;
    }
    g->kind = kind;
    g->interval_s = interval_s;
    g->count = count;
    g->index = 0;
    g->start_price = start_price;
    g->drift = drift;
    g->volatility = volatility;
    g->close = start_price;
    g->dt = (double)interval_s / 86400.0;
    g->sqrt_dt = sqrt(g->dt);
    g->start_ts = start_ts;
    synth_rng_seed(&g->rng, seed);
    return 0;
}

int synth_gen_next(struct synth_gen *g, int64_t *ts, struct qmtl_bar *bar)
{
    if (g->index >= g->count)
        return 0;
    double open = g->close;
    double z = synth_rng_normal(&g->rng);
    double close;
    if (g->kind == SYNTH_GBM) {
        double v = g->volatility;
        close = open * exp((g->drift - 0.5 * v * v) * g->dt + v * g->sqrt_dt * z);
    } else {
        close = open + g->start_price * (g->drift * g->dt + g->volatility * g->sqrt_dt * z);
        double floor_px = g->start_price * 1e-4;
        if (close < floor_px)
            close = floor_px;
    }
    /* Intra-bar excursions: half-normal multiples of the per-bar volatility. */
    double bar_vol = g->volatility * g->sqrt_dt;
    double up = fabs(synth_rng_normal(&g->rng)) * 0.5 * bar_vol;
    double down = fabs(synth_rng_normal(&g->rng)) * 0.5 * bar_vol;
    double hi = open > close ? open : close;
    double lo = open < close ? open : close;
    bar->open = open;
    bar->close = close;
    bar->high = hi * (1.0 + up);
    bar->low = lo * (1.0 - (down < 0.5 ? down : 0.5));
    /* Volume: lognormal with median 1000 and log-sd 0.5. */
    bar->volume = 1000.0 * exp(0.5 * synth_rng_normal(&g->rng));
    *ts = g->start_ts + (int64_t)g->index * g->interval_s;
    g->close = close;
    g->index++;
    return 1;
}
