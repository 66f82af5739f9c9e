/*
 * bench_feed: throughput of the data path (CSV parsing, synthetic generation, the
 * merged feed) and of the simulated broker's marking. Prints one line per case:
 *   name  items  seconds  items/s
 * Usage: bench_feed [rows]   (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "host/broker.h"
#include "host/csv.h"
#include "host/feed.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *name, long n, double secs)
{
    printf("%-28s %10ld %8.3f %12.0f\n", name, n, secs, (double)n / secs);
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

    printf("%-28s %10s %8s %12s\n", "case", "items", "seconds", "items/s");
    char err[512];
    const char *files[2] = {path, "/tmp/bench_feed_iso.csv"};
    const char *names[2] = {"csv rows (epoch s)", "csv rows (ISO-8601)"};
    for (int k = 0; k < 2; k++) {
        double t0 = now();
        struct csv_reader *r = csv_open(files[k], 1, err, sizeof(err));
        if (!r) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        struct csv_row row;
        long n = 0;
        double sink = 0;
        while (csv_next(r, &row, err, sizeof(err)) == 1) {
            sink += row.bar.close;
            n++;
        }
        csv_close(r);
        report(names[k], n, now() - t0);
        if (sink < 0)
            return 2;
    }

    const char *tags[] = {"S"};
    struct feed_synth spec = {.tags = tags, .n_tags = 1, .kind = FEED_SYNTH_GBM, .interval_s = 60,
                              .count = rows, .start_price = 100, .volatility = 0.02, .seed = 1,
                              .start_ts = 1600000000};
    struct feed *f = feed_new();
    feed_add_synthetic(f, &spec, err, sizeof(err));
    struct feed_event ev;
    long n = 0;
    double t0 = now();
    struct broker *b = broker_new(100000, 1, 0.5);
    while (feed_next(f, &ev, err, sizeof(err)) == 1)
        n++;
    report("synthetic gbm bars", n, now() - t0);
    feed_free(f);

    f = feed_new();
    const char *t2[] = {"T"};
    feed_add_csv(f, path, tags, 1, 60, 1, err, sizeof(err));
    spec.tags = t2;
    feed_add_synthetic(f, &spec, err, sizeof(err));
    n = 0;
    t0 = now();
    while (feed_next(f, &ev, err, sizeof(err)) == 1) {
        broker_mark(b, ev.tags[0], ev.ts, ev.value);
        n++;
    }
    report("merged csv+gbm + broker mark", n, now() - t0);
    feed_free(f);
    broker_free(b);
    unlink(path);
    unlink("/tmp/bench_feed_iso.csv");
    return 0;
}
