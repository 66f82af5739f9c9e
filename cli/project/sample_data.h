/*
 * sample_data: seeded, realistic-looking OHLCV bars for demos, scaffolded projects
 * and tests (generated when needed instead of committing large files).
 *
 * The model, per series: log price follows a random walk whose per-bar volatility
 * clusters (a mean-reverting log-volatility process) and whose drift wanders slowly
 * (trending regimes, so trend and momentum strategies have something to find). The
 * shocks of the different series are correlated. Each bar is built from several
 * sub-steps, so high/low are real extremes of the path; volume follows an intraday
 * U-shape, rises with the size of the move and has log-normal noise.
 *
 * Guarantees for every bar: low <= min(open, close) <= max(open, close) <= high, all
 * prices > 0 and rounded to cents, volume > 0. The same spec (and seed) always
 * produces byte-identical output.
 */
#ifndef QMTL_CLI_PROJECT_SAMPLE_DATA_H
#define QMTL_CLI_PROJECT_SAMPLE_DATA_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE_MAX_SERIES 8

/* One instrument. */
struct sample_series {
    const char *symbol; /* used in file names and as the data tag, e.g. "BTC" */
    double start_price; /* first open, > 0 */
    double annual_vol;  /* annualised volatility, e.g. 0.55 for 55 % */
    double mean_volume; /* average volume per bar, in units of the instrument */
};

struct sample_spec {
    int64_t start_ts;   /* first bar, seconds since the epoch (UTC) */
    int64_t interval_s; /* bar spacing in seconds, >= 1 */
    long count;         /* bars per series, >= 1 */
    uint64_t seed;
    double correlation; /* of the shocks between series, in [-1, 1] */
    const struct sample_series *series;
    size_t n_series;    /* 1..SAMPLE_MAX_SERIES */
    uint32_t skip_mask; /* sample_write_csv: series i is generated but not written when
                         * bit i is set, so the written ones stay byte-identical to a
                         * full run; 0 writes every series */
};

/*
 * The default data set: BTC and ETH, 10,080 one-minute bars each (one week from
 * 2024-01-01T00:00:00Z), seed 42, shock correlation 0.8.
 */
void sample_spec_default(struct sample_spec *out);

/*
 * Called once per bar, in time order; bars of the different series at the same
 * timestamp are emitted one after the other in series order. Return 0 to go on,
 * non-zero to stop (sample_generate then returns -1 with "stopped" in err).
 */
typedef int (*sample_emit_fn)(void *arg, size_t series, int64_t ts, const struct qmtl_bar *bar);

/* Generate the bars of 'spec'. 0, or -1 with a message in err (bad spec, stopped). */
int sample_generate(const struct sample_spec *spec, sample_emit_fn emit, void *arg, char *err,
                    size_t errlen);

/*
 * Write one CSV per series not in skip_mask into 'dir' (which must exist), named "<symbol>_<N>m.csv"
 * for minute intervals (else "<symbol>_<N>s.csv"), with the header
 * "timestamp,open,high,low,close,volume" and ISO-8601 UTC timestamps. Each file is
 * written to a temporary name and renamed into place. If 'names' is not NULL,
 * names[i] receives the file name of series i (without dir; skipped ones too).
 * 0, or -1 with a message naming the file in err.
 */
int sample_write_csv(const struct sample_spec *spec, const char *dir, char (*names)[64], char *err,
                     size_t errlen);

/* File name sample_write_csv uses for series 'i' of 'spec', into out. */
void sample_csv_name(const struct sample_spec *spec, size_t i, char out[64]);

#endif
