#include "host/data/datacheck.h"
#include "host/data/feed.h"
#include "host/data/synth.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void quiet(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)line;
    (void)arg;
}

/* Published reference outputs of splitmix64 from state 0. */
START_TEST(test_splitmix64_vector)
{
    uint64_t st = 0;
    ck_assert_uint_eq(synth_splitmix64(&st), 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(synth_splitmix64(&st), 0x6e789e6aa1b965f4ULL);
    ck_assert_uint_eq(synth_splitmix64(&st), 0x06c45d188009454fULL);
}
END_TEST

/* xoshiro256** against the algorithm written out independently here. */
static uint64_t ref_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

START_TEST(test_xoshiro_reference)
{
    struct synth_rng r;
    synth_rng_seed(&r, 12345);
    uint64_t s[4], st = 12345;
    for (int i = 0; i < 4; i++)
        s[i] = synth_splitmix64(&st);
    for (int i = 0; i < 1000; i++) {
        uint64_t want = ref_rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = ref_rotl(s[3], 45);
        ck_assert_uint_eq(synth_rng_next(&r), want);
    }
}
END_TEST

/* Our exp and log (plain arithmetic, identical on every machine) stay within 4 ulp of libm. */
START_TEST(test_exp_log_accuracy)
{
    struct synth_rng r;
    synth_rng_seed(&r, 3);
    double worst_e = 0, worst_l = 0;
    for (int i = 0; i < 200000; i++) {
        double u = synth_rng_uniform(&r);
        double x = i % 2 ? (u - 0.5) * 4 : (u - 0.5) * 1400;
        double want = exp(x), got = synth_exp(x);
        worst_e = fmax(worst_e, fabs(got - want) / want);
        double y = ldexp(0.5 + u, (int)(synth_rng_next(&r) % 2000) - 1000);
        double lw = log(y), lg = synth_log(y);
        worst_l = fmax(worst_l, fabs(lg - lw) / fmax(fabs(lw), 1e-300));
        double near1 = 1 + (u - 0.5) * 1e-6; /* log close to 0: absolute error */
        ck_assert(fabs(synth_log(near1) - log(near1)) <= 4 * 0x1p-52 * fabs(log(near1)) + 1e-300);
    }
    ck_assert_msg(worst_e <= 4 * 0x1p-52, "exp relative error %g", worst_e);
    ck_assert_msg(worst_l <= 4 * 0x1p-52, "log relative error %g", worst_l);
    ck_assert(synth_exp(0) == 1 && synth_log(1) == 0);
    ck_assert(synth_exp(1e6) == synth_exp(700) && synth_exp(-1e6) > 0);
    ck_assert(isinf(synth_log(0)) && synth_log(0) < 0 && isnan(synth_log(-1)));
    ck_assert(fabs(synth_log(0x1p-1070) - log(0x1p-1070)) < 1e-12); /* subnormal */
}
END_TEST

START_TEST(test_rng_distribution)
{
    struct synth_rng r;
    synth_rng_seed(&r, 7);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; i++) {
        double u = synth_rng_uniform(&r);
        ck_assert(u >= 0 && u < 1);
        su += u;
        double z = synth_rng_normal(&r);
        sn += z;
        sn2 += z * z;
    }
    ck_assert(fabs(su / n - 0.5) < 0.005);
    ck_assert(fabs(sn / n) < 0.01);
    ck_assert(fabs(sn2 / n - 1) < 0.02);
}
END_TEST

static struct feed_synth spec_of(int kind, uint64_t seed, long count)
{
    static const char *const tags[] = {"SYN", "demo"};
    struct feed_synth s = {.tags = tags,
                           .n_tags = 2,
                           .kind = kind,
                           .interval_s = 60,
                           .count = count,
                           .start_price = 100,
                           .drift = 0,
                           .volatility = 0.02,
                           .seed = seed,
                           .start_ts = 1700000000};
    return s;
}

/* Same spec twice: identical bars; another seed: different bars. */
START_TEST(test_synthetic_deterministic)
{
    char err[256];
    struct feed *f[3];
    for (int i = 0; i < 3; i++) {
        f[i] = feed_new();
        struct feed_synth s = spec_of(FEED_SYNTH_GBM, i == 2 ? 43 : 42, 500);
        ck_assert_int_eq(feed_add_synthetic(f[i], &s, err, sizeof(err)), 0);
    }
    struct feed_event e[3];
    int n = 0, differ = 0;
    while (feed_next(f[0], &e[0], err, sizeof(err)) == 1) {
        ck_assert_int_eq(feed_next(f[1], &e[1], err, sizeof(err)), 1);
        ck_assert_int_eq(feed_next(f[2], &e[2], err, sizeof(err)), 1);
        ck_assert(memcmp(&e[0].bar, &e[1].bar, sizeof(e[0].bar)) == 0);
        ck_assert_int_eq(e[0].ts, e[1].ts);
        differ += e[0].bar.close != e[2].bar.close;
        n++;
    }
    ck_assert_int_eq(n, 500);
    ck_assert_int_gt(differ, 490);
    ck_assert_int_eq(feed_next(f[1], &e[1], err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++)
        feed_free(f[i]);
}
END_TEST

/* Bars are plausible, evenly spaced, and the GBM log returns have the right moments. */
static void check_moments(int kind, double drift, double vol)
{
    char err[256];
    struct feed *f = feed_new();
    struct feed_synth s = spec_of(kind, 99, 100000);
    s.drift = drift;
    s.volatility = vol;
    s.interval_s = 3600;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), 0);
    struct feed_event ev;
    double prev = 100, sum = 0, sum2 = 0;
    long n = 0;
    while (feed_next(f, &ev, err, sizeof(err)) == 1) {
        ck_assert_int_eq(ev.ts, 1700000000 + n * 3600);
        ck_assert(ev.is_bar);
        ck_assert(ev.bar.open == prev);
        ck_assert(ev.bar.high >= fmax(ev.bar.open, ev.bar.close));
        ck_assert(ev.bar.low <= fmin(ev.bar.open, ev.bar.close));
        ck_assert(ev.bar.low > 0);
        ck_assert(ev.bar.volume > 0);
        ck_assert(ev.value == ev.bar.close);
        ck_assert_int_eq(ev.n_tags, 2);
        ck_assert_str_eq(ev.tags[0], "SYN");
        ck_assert_str_eq(ev.tags[1], "demo");
        ck_assert_ptr_null(ev.tags[2]);
        ck_assert_int_eq(ev.interval_s, 3600);
        double x = kind == FEED_SYNTH_GBM ? log(ev.bar.close / prev) : (ev.bar.close - prev) / 100;
        sum += x;
        sum2 += x * x;
        prev = ev.bar.close;
        n++;
    }
    ck_assert_int_eq(n, 100000);
    double dt = 3600.0 / 86400.0;
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    double want_mean = kind == FEED_SYNTH_GBM ? (drift - vol * vol / 2) * dt : drift * dt;
    double want_sd = vol * sqrt(dt);
    /* standard error of the mean is want_sd / sqrt(n): allow 5 of them */
    ck_assert_msg(fabs(mean - want_mean) < 5 * want_sd / sqrt((double)n), "mean %g want %g", mean,
                  want_mean);
    ck_assert_msg(fabs(sd / want_sd - 1) < 0.02, "sd %g want %g", sd, want_sd);
    feed_free(f);
}

START_TEST(test_gbm_moments)
{
    check_moments(FEED_SYNTH_GBM, 0.001, 0.03);
}
END_TEST

START_TEST(test_random_walk_moments)
{
    check_moments(FEED_SYNTH_RANDOM_WALK, 0.0, 0.001);
}
END_TEST

START_TEST(test_random_walk_floor)
{
    char err[256];
    struct feed *f = feed_new();
    struct feed_synth s = spec_of(FEED_SYNTH_RANDOM_WALK, 5, 5000);
    s.drift = -5; /* -5 * start price per day: hits the floor fast */
    s.volatility = 0.1;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), 0);
    struct feed_event ev;
    double min = 1e9;
    while (feed_next(f, &ev, err, sizeof(err)) == 1) {
        ck_assert(ev.bar.low > 0);
        min = fmin(min, ev.bar.close);
    }
    ck_assert(min == 100 * 1e-4);
    feed_free(f);
}
END_TEST

START_TEST(test_synthetic_rejects)
{
    char err[256];
    struct feed *f = feed_new();
    struct feed_synth s = spec_of(FEED_SYNTH_GBM, 1, 10);
    s.interval_s = 0;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "interval 0 out of range") != NULL, "%s", err);
    s.interval_s = 31536001;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    s = spec_of(FEED_SYNTH_GBM, 1, 10);
    s.start_price = -1;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "start_price") != NULL, "%s", err);
    s = spec_of(FEED_SYNTH_GBM, 1, 10);
    s.volatility = NAN;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    s = spec_of(FEED_SYNTH_GBM, 1, -1);
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    s = spec_of(7, 1, 10);
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    s = spec_of(FEED_SYNTH_GBM, 1, 10);
    s.n_tags = 0;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "at least one tag") != NULL, "%s", err);
    ck_assert_int_eq(feed_source_count(f), 0);
    struct feed_event ev;
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 0); /* empty feed: at once at end */
    feed_free(f);
    ck_assert_int_eq(feed_synth_kind_parse("GBM"), FEED_SYNTH_GBM);
    ck_assert_int_eq(feed_synth_kind_parse("random_walk"), FEED_SYNTH_RANDOM_WALK);
    ck_assert_int_eq(feed_synth_kind_parse("brownian"), -1);
    ck_assert_str_eq(feed_synth_kind_name(FEED_SYNTH_GBM), "gbm");
}
END_TEST

/* Two files with interleaved and equal timestamps: time order, ties by source order. */
START_TEST(test_merge_stable)
{
    char err[512];
    struct feed *f = feed_new();
    const char *ta[] = {"A"}, *tb[] = {"B", "x"};
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_b.csv", tb, 2, 60, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_a.csv", ta, 1, 60, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_source_count(f), 2);
    /* b is source 0, so it wins ties */
    static const struct {
        int64_t dt;
        double v;
        const char *tag;
        long line;
    } want[] = {{0, 10, "B", 2}, {0, 1, "A", 2},    {60, 20, "B", 3}, {60, 2, "A", 3},
                {60, 3, "A", 4}, {120, 30, "B", 4}, {180, 4, "A", 5}, {240, 40, "B", 5}};
    struct feed_event ev;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
        ck_assert_int_eq(ev.ts, 1704067200 + want[i].dt);
        ck_assert(ev.value == want[i].v);
        ck_assert_str_eq(ev.tags[0], want[i].tag);
        ck_assert_int_eq(ev.line, want[i].line);
        ck_assert_int_eq(ev.is_bar, 0);
        ck_assert_str_eq(ev.source, strcmp(want[i].tag, "A") == 0 ? "tests/data/two_a.csv"
                                                                  : "tests/data/two_b.csv");
        ck_assert_int_eq(ev.source_index, strcmp(want[i].tag, "A") == 0 ? 1 : 0);
    }
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_skipped_rows(f), 0);
    feed_free(f);
}
END_TEST

/* Many synthetic symbols: the merged stream is sorted and holds every bar. */
START_TEST(test_merge_many)
{
    char err[256];
    struct feed *f = feed_new();
    char names[7][16];
    const char *tags[7][1];
    for (int i = 0; i < 7; i++) {
        snprintf(names[i], sizeof(names[i]), "S%d", i);
        tags[i][0] = names[i];
        struct feed_synth s = spec_of(i % 2, (uint64_t)i, 100 + i * 10);
        s.tags = tags[i];
        s.n_tags = 1;
        s.interval_s = 30 + i * 7;
        s.start_ts = 1000 + i;
        ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), 0);
    }
    struct feed_event ev;
    int64_t last = 0;
    size_t last_src = 0;
    long per[7] = {0}, total = 0;
    while (feed_next(f, &ev, err, sizeof(err)) == 1) {
        ck_assert(ev.ts >= last);
        if (ev.ts == last)
            ck_assert(ev.source_index > last_src);
        last = ev.ts;
        last_src = ev.source_index;
        ck_assert_str_eq(ev.tags[0], names[ev.source_index]);
        ck_assert_int_eq(ev.ts, 1000 + (int64_t)ev.source_index +
                                    per[ev.source_index] * (30 + 7 * (int64_t)ev.source_index));
        per[ev.source_index]++;
        total++;
    }
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(per[i], 100 + i * 10);
    ck_assert_int_eq(total, 7 * 100 + 210);
    feed_free(f);
}
END_TEST

START_TEST(test_csv_errors_through_feed)
{
    char err[512];
    const char *tags[] = {"M"};
    log_set_sink(quiet, NULL);
    struct feed *f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, "tests/data/malformed.csv", tags, 1, 60, 1, err, sizeof(err)),
                     0);
    struct feed_event ev;
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "tests/data/malformed.csv:3: bad close 'abc'");
    err[0] = '\0';
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), -1); /* stays failed */
    ck_assert_str_eq(err, "tests/data/malformed.csv:3: bad close 'abc'");
    feed_free(f);

    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, "tests/data/malformed.csv", tags, 1, 60, 0, err, sizeof(err)),
                     0);
    long n = 0;
    while (feed_next(f, &ev, err, sizeof(err)) == 1)
        n++;
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(feed_skipped_rows(f), 3);
    feed_free(f);
    log_set_sink(NULL, NULL);

    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, "tests/data/nope.csv", tags, 1, 60, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cannot open 'tests/data/nope.csv'") != NULL, "%s", err);
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_a.csv", NULL, 0, 60, 0, err, sizeof(err)), -1);
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_a.csv", tags, 1, 60, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
    /* no sources once reading started */
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_b.csv", tags, 1, 60, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "after reading started") != NULL, "%s", err);
    feed_free(f);
    feed_free(NULL);
}
END_TEST

START_TEST(test_sample_ohlc_event)
{
    char err[512];
    const char *tags[] = {"BTC"};
    struct feed *f = feed_new();
    ck_assert_int_eq(
        feed_add_csv(f, "tests/data/sample_ohlcv.csv", tags, 1, 86400, 1, err, sizeof(err)), 0);
    struct feed_event ev;
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
    ck_assert_int_eq(ev.is_bar, 1);
    ck_assert(ev.bar.open == 100 && ev.bar.high == 105 && ev.bar.low == 95 && ev.bar.close == 102 &&
              ev.bar.volume == 1000);
    ck_assert_int_eq(ev.interval_s, 86400);
    feed_free(f);
}
END_TEST

/* A CSV and a generator in one feed; a bad first row fails at once; all rows bad = end. */
START_TEST(test_mixed_and_edge_files)
{
    char err[512];
    const char *ta[] = {"A"};
    struct feed *f = feed_new();
    struct feed_synth s = spec_of(FEED_SYNTH_GBM, 1, 3);
    s.start_ts = 1704067200 + 30; /* between the CSV's minutes */
    s.interval_s = 60;
    ck_assert_int_eq(feed_add_synthetic(f, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_add_csv(f, "tests/data/two_b.csv", ta, 1, 60, 1, err, sizeof(err)), 0);
    static const int64_t want_dt[] = {0, 30, 60, 90, 120, 150, 240};
    static const size_t want_src[] = {1, 0, 1, 0, 1, 0, 1};
    struct feed_event ev;
    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
        ck_assert_int_eq(ev.ts, 1704067200 + want_dt[i]);
        ck_assert_uint_eq(ev.source_index, want_src[i]);
        ck_assert_str_eq(ev.source, want_src[i] ? "tests/data/two_b.csv" : "synthetic:gbm");
        ck_assert_int_eq(ev.is_bar, want_src[i] ? 0 : 1);
    }
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 0);
    feed_free(f);

    char path[] = "/tmp/check_feed.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *fp = fdopen(fd, "w");
    fputs("ts,close\nx,1\n2,y\n", fp);
    fclose(fp);
    log_set_sink(quiet, NULL);
    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, ta, 1, 0, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":2: bad timestamp 'x'") != NULL, "%s", err);
    feed_free(f);
    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, ta, 1, 0, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_skipped_rows(f), 2);
    feed_free(f);
    log_set_sink(NULL, NULL);
    unlink(path);
}
END_TEST

/* Write 'text' to a fresh temporary file; returns its path in buf. */
static const char *temp_csv(char *buf, size_t len, const char *text)
{
    snprintf(buf, len, "/tmp/check_feed.XXXXXX");
    int fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    FILE *fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return buf;
}

/* FEED_SORT: a newest-first file comes out in time order; equal timestamps keep their
 * file order; without it the same file is refused. */
START_TEST(test_sort_in_memory)
{
    char path[64], err[512];
    temp_csv(path, sizeof(path), "ts,close\n40,4\n30,3\n10,1.5\n20,2\n10,1\n");
    const char *tags[] = {"X"};
    struct feed *f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, tags, 1, 0, FEED_SORT | FEED_FAIL_ON_ERROR, err,
                                  sizeof(err)),
                     0);
    static const int64_t want_ts[] = {10, 10, 20, 30, 40};
    static const double want_px[] = {1.5, 1, 2, 3, 4};
    static const long want_line[] = {4, 6, 5, 3, 2};
    struct feed_event ev;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 1);
        ck_assert_int_eq(ev.ts, want_ts[i]);
        ck_assert(ev.value == want_px[i]);
        ck_assert_int_eq(ev.line, want_line[i]);
    }
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), 0);
    feed_free(f);
    log_set_sink(quiet, NULL);
    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, tags, 1, 0, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), -1); /* before any event */
    ck_assert_msg(strstr(err, "sorted newest first") != NULL, "%s", err);
    feed_free(f);
    /* a bad row while sorting fails the feed in fail mode, is skipped otherwise */
    temp_csv(path, sizeof(path), "ts,close\n30,3\n20,-2\n10,1\n");
    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, tags, 1, 0, FEED_SORT | FEED_FAIL_ON_ERROR, err,
                                  sizeof(err)),
                     0);
    ck_assert_int_eq(feed_next(f, &ev, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":3: non-positive close -2") != NULL, "%s", err);
    feed_free(f);
    f = feed_new();
    ck_assert_int_eq(feed_add_csv(f, path, tags, 1, 0, FEED_SORT | FEED_ALLOW_NONPOSITIVE, err,
                                  sizeof(err)),
                     0);
    int n = 0;
    while (feed_next(f, &ev, err, sizeof(err)) == 1)
        n++;
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(feed_skipped_rows(f), 0);
    feed_free(f);
    log_set_sink(NULL, NULL);
    unlink(path);
}
END_TEST

/* Every synthetic bar passes the same rules as any input. */
START_TEST(test_synthetic_bars_pass_datacheck)
{
    for (int kind = 0; kind < 2; kind++) {
        struct synth_gen g;
        char err[256];
        ck_assert_int_eq(synth_gen_init(&g, kind, 60, 20000, 100, -5, 8, 7, 0, err, sizeof(err)),
                         0);
        int64_t ts;
        struct qmtl_bar b;
        while (synth_gen_next(&g, &ts, &b) == 1)
            ck_assert_msg(datacheck_bar(&b, 0, err, sizeof(err)) == 0, "bar %ld: %s", g.index, err);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("feed");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_splitmix64_vector);
    tcase_add_test(tc, test_xoshiro_reference);
    tcase_add_test(tc, test_exp_log_accuracy);
    tcase_add_test(tc, test_rng_distribution);
    tcase_add_test(tc, test_synthetic_deterministic);
    tcase_add_test(tc, test_gbm_moments);
    tcase_add_test(tc, test_random_walk_moments);
    tcase_add_test(tc, test_random_walk_floor);
    tcase_add_test(tc, test_synthetic_rejects);
    tcase_add_test(tc, test_merge_stable);
    tcase_add_test(tc, test_merge_many);
    tcase_add_test(tc, test_csv_errors_through_feed);
    tcase_add_test(tc, test_sample_ohlc_event);
    tcase_add_test(tc, test_mixed_and_edge_files);
    tcase_add_test(tc, test_sort_in_memory);
    tcase_add_test(tc, test_synthetic_bars_pass_datacheck);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
