/*
 * bench_feed: throughput of the data path (CSV parsing, synthetic generation, the
 * merged feed) and of the simulated broker's marking. Each case runs REPS times; prints
 * one line per case with the median:
 *   name  items  seconds  items/s
 * Usage: bench_feed [rows]   (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "host/orders/broker.h"
#include "host/data/csv.h"
#include "host/data/feed.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define REPS 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, long n, double *secs)
{
    qsort(secs, REPS, sizeof(double), cmp_double);
    double med = secs[REPS / 2];
    printf("%-30s %10ld %8.3f %12.0f\n", name, n, med, (double)n / med);
}

static long run_csv(const char *file, double *sink)
{
    char err[512];
    struct csv_reader *r = csv_open(file, 1, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct csv_row row;
    long n = 0;
    while (csv_next(r, &row, err, sizeof(err)) == 1) {
        *sink += row.bar.close;
        n++;
    }
    csv_close(r);
    return n;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 2000000;
    char path[] = "/tmp/bench_feed.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "timestamp,open,high,low,close,volume\n");
    for (long i = 0; i < rows; i++) {
        double c = 100.0 + (double)(i % 977) * 0.01;
        fprintf(fp, "%ld,%.2f,%.2f,%.2f,%.2f,%ld\n", 1600000000L + i * 60, c, c + 0.5, c - 0.5, c,
                1000 + i % 50);
    }
    fclose(fp);
    FILE *iso = fopen("/tmp/bench_feed_iso.csv", "w");
    fprintf(iso, "timestamp,open,high,low,close,volume\n");
    for (long i = 0; i < rows; i++) {
        time_t t = (time_t)(1600000000L + i * 60);
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        double c = 100.0 + (double)(i % 977) * 0.01;
        fprintf(iso, "%s,%.2f,%.2f,%.2f,%.2f,%ld\n", ts, c, c + 0.5, c - 0.5, c, 1000 + i % 50);
    }
    fclose(iso);

    printf("%-30s %10s %8s %12s\n", "case (median of 5)", "items", "seconds", "items/s");
    char err[512];
    const char *files[2] = {path, "/tmp/bench_feed_iso.csv"};
    const char *names[2] = {"csv rows (epoch s)", "csv rows (ISO-8601)"};
    double secs[REPS], sink = 0;
    long n = 0;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < REPS; i++) {
            double t0 = now();
            n = run_csv(files[k], &sink);
            secs[i] = now() - t0;
        }
        report(names[k], n, secs);
    }

    const char *tags[] = {"S"}, *t2[] = {"T"};
    struct feed_synth spec = {.tags = tags,
                              .n_tags = 1,
                              .kind = FEED_SYNTH_GBM,
                              .interval_s = 60,
                              .count = rows,
                              .start_price = 100,
                              .volatility = 0.02,
                              .seed = 1,
                              .start_ts = 1600000000};
    struct feed_event ev;
    for (int i = 0; i < REPS; i++) {
        struct feed *f = feed_new();
        feed_add_synthetic(f, &spec, err, sizeof(err));
        n = 0;
        double t0 = now();
        while (feed_next(f, &ev, err, sizeof(err)) == 1) {
            sink += ev.value;
            n++;
        }
        secs[i] = now() - t0;
        feed_free(f);
    }
    report("synthetic gbm bars", n, secs);

    for (int i = 0; i < REPS; i++) {
        struct feed *f = feed_new();
        struct broker *b = broker_new(100000, 1, 0.5);
        struct feed_synth s2 = spec;
        s2.tags = t2;
        feed_add_csv(f, path, tags, 1, 60, 1, err, sizeof(err));
        feed_add_synthetic(f, &s2, err, sizeof(err));
        n = 0;
        double t0 = now();
        while (feed_next(f, &ev, err, sizeof(err)) == 1) {
            broker_mark(b, ev.tags[0], ev.ts, ev.value);
            n++;
        }
        secs[i] = now() - t0;
        feed_free(f);
        broker_free(b);
    }
    report("merged csv+gbm, broker mark", n, secs);
    if (sink < 0)
        return 2;
    unlink(path);
    unlink("/tmp/bench_feed_iso.csv");
    return 0;
}
