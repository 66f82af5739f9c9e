/*
 * synth: seeded pseudo-random numbers and synthetic OHLCV bar generators.
 *
 * The generator is xoshiro256** seeded through splitmix64 (plain 64-bit integer
 * arithmetic). Normals come from the Marsaglia polar method. exp and log are our own,
 * in plain double arithmetic, and sqrt is exact in IEEE-754: a seed gives bit-identical
 * bars on every run and every IEEE-754 machine, whatever its libm (see docs/data.md).
 */
#ifndef QMTL_HOST_SYNTH_H
#define QMTL_HOST_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include <qmtl/qmtl.h>

/* exp(x) (x clamped to [-700, 700]) and log(x) within a few ulp of the exact values,
 * computed with + - * / and frexp/ldexp only, so identical everywhere. */
double synth_exp(double x);
double synth_log(double x);

/* splitmix64: advances *state and returns the next output. */
uint64_t synth_splitmix64(uint64_t *state);

struct synth_rng {
    uint64_t s[4];
    double spare; /* second normal of the polar pair */
    int has_spare;
};

/* Seed from one 64-bit value (any value, 0 included). */
void synth_rng_seed(struct synth_rng *r, uint64_t seed);
/* Next raw 64-bit output of xoshiro256**. */
uint64_t synth_rng_next(struct synth_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double synth_rng_uniform(struct synth_rng *r);
/* Standard normal (mean 0, variance 1). */
double synth_rng_normal(struct synth_rng *r);

enum synth_kind { SYNTH_RANDOM_WALK = 0, SYNTH_GBM = 1 };

/* A bar generator; see feed.h (struct feed_synth) for the model. */
struct synth_gen {
    int kind;
    int64_t interval_s;
    long count, index;
    double start_price, drift, volatility;
    double close; /* previous close */
    double dt, sqrt_dt;
    int64_t start_ts;
    struct synth_rng rng;
};

/* 0, or -1 with err set when a parameter is out of range. */
int synth_gen_init(struct synth_gen *g, int kind, int64_t interval_s, long count,
                   double start_price, double drift, double volatility, uint64_t seed,
                   int64_t start_ts, char *err, size_t errlen);

/* Next bar: 1 with *ts and *bar set, 0 after 'count' bars. */
int synth_gen_next(struct synth_gen *g, int64_t *ts, struct qmtl_bar *bar);

#endif
