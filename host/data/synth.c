#include "host/data/synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * exp and log in plain double arithmetic (+ - * / and exact frexp/ldexp), so the
 * generated prices are bit-identical on every IEEE-754 machine, whatever libm or CPU
 * variant (FMA or not) is installed. Accuracy: a few ulp (checked against libm).
 */
static const double LN2_HI = 6.93147180369123816490e-01; /* k * LN2_HI exact for |k| < 2^11 */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

static inline uint64_t dbits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof(u));
    return u;
}

static inline double bitsd(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof(x));
    return x;
}

double synth_exp(double x)
{
    if (x != x)
        return x;
    if (x > 700)
        x = 700;
    if (x < -700)
        x = -700;
    /* k = x / ln2 rounded to nearest (even): adding 1.5 * 2^52 leaves it in the low bits */
    double kd = x * INV_LN2 + 0x1.8p52;
    int64_t k = (int64_t)(dbits(kd) & 0xfffff) - 0x80000;
    kd -= 0x1.8p52;
    double r = (x - kd * LN2_HI) - kd * LN2_LO; /* |r| <= ln2/2 (+ a rounding) */
    /* Taylor to r^13/13! (the next term is below 2^-60 of the result), evaluated in
     * Estrin's scheme: short dependency chains, a fixed order of operations */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = 1.0 + r, a1 = 1.0 / 2 + r * (1.0 / 6), a2 = 1.0 / 24 + r * (1.0 / 120);
    double a3 = 1.0 / 720 + r * (1.0 / 5040), a4 = 1.0 / 40320 + r * (1.0 / 362880);
    double a5 = 1.0 / 3628800 + r * (1.0 / 39916800);
    double a6 = 1.0 / 479001600 + r * (1.0 / 6227020800.0);
    double b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
    double p = (b0 + b1 * r4) + (b2 + a6 * r4) * r8;
    return p * bitsd((uint64_t)(k + 1023) << 52); /* |k| <= 1010: 2^k is a normal double */
}

double synth_log(double x)
{
    if (x != x || x < 0)
        return NAN;
    if (x == 0)
        return -HUGE_VAL;
    if (x > 1.7976931348623157e308)
        return x; /* +inf */
    int64_t e = 0;
    if (x < 0x1p-1022) { /* subnormal: scale into the normal range first */
        x *= 0x1p54;
        e = -54;
    }
    uint64_t u = dbits(x);
    e += (int64_t)((u >> 52) & 0x7ff) - 1022;
    double m = bitsd((u & 0x000fffffffffffffULL) | 0x3fe0000000000000ULL); /* [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    /* log(m) = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716 */
    double f = (m - 1.0) / (m + 1.0);
    double z = f * f, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
    /* sum of z^i / (2i + 1), i = 0..11, in Estrin's scheme */
    double c0 = 1.0 + z * (1.0 / 3), c1 = 1.0 / 5 + z * (1.0 / 7), c2 = 1.0 / 9 + z * (1.0 / 11);
    double c3 = 1.0 / 13 + z * (1.0 / 15), c4 = 1.0 / 17 + z * (1.0 / 19);
    double c5 = 1.0 / 21 + z * (1.0 / 23);
    double q = (c0 + c1 * z2) + (c2 + c3 * z2) * z4 + (c4 + c5 * z2) * z8;
    double ed = (double)e;
    return ed * LN2_HI + (2.0 * f * q + ed * LN2_LO);
}

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
    double m = sqrt(-2.0 * synth_log(s) / s);
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
        close = open * synth_exp((g->drift - 0.5 * v * v) * g->dt + v * g->sqrt_dt * z);
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
    bar->volume = 1000.0 * synth_exp(0.5 * synth_rng_normal(&g->rng));
    *ts = g->start_ts + (int64_t)g->index * g->interval_s;
    g->close = close;
    g->index++;
    return 1;
}
