/*
 * bench_bus: the bus path on a real nats-server (bench/bench_bus.sh starts one).
 *   latency     one node output at a time: publish (JetStream, async) -> stored ->
 *               delivered to a durable consumer -> handed to the consumer's event loop;
 *               one process, so both ends read the same clock. p50 / p99 / max.
 *   throughput  N outputs published as fast as the client takes them (async, acks
 *               awaited at the end), then read by two durable consumers (two "hosts"),
 *               counting every message each one gets (no loss: both get N).
 * Usage: bench_bus URL [N]   (N default 200000)
 */
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_nats.h"
#include "log.h"

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"
#define LAT_N 2000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct counter {
    long n;
    double last_value, lat_sum;
    double *lat;
    long cap;
};

static void on_msg(void *arg, const struct bus_msg *m)
{
    struct counter *c = arg;
    if (c->lat && c->n < c->cap)
        c->lat[c->n] = now() - m->value.as.number;
    c->n++;
}

static void loop_until(struct event_base *base, const long *n, long want, double timeout_s)
{
    double end = now() + timeout_s;
    while (*n < want && now() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static struct bus_conn *conn(struct event_base *base, const char *url)
{
    char err[300];
    struct bus_conn *c = bus_conn_new(base, url, "bench", 2000, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "bench_bus: %s\n", err);
        exit(1);
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_bus URL [N]\n");
        return 2;
    }
    log_set_level(LOG_LEVEL_WARN);
    const char *url = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 200000;
    struct event_base *base = event_base_new();
    char err[300];
    struct bus_conn *pub = conn(base, url), *sub = conn(base, url);

    /* latency: one at a time */
    const char *lt = "bench.lat.any_x_v1";
    if (bus_conn_ensure_stream(pub, lt, 0, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_bus: %s\n", err);
        return 1;
    }
    struct counter lc = {.lat = calloc(LAT_N, sizeof(double)), .cap = LAT_N};
    if (bus_conn_consume(sub, lt, "lat", on_msg, &lc, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_bus: %s\n", err);
        return 1;
    }
    for (long i = 0; i < LAT_N; i++) {
        struct qmtl_value v = qmtl_number(now());
        bus_conn_publish(pub, lt, NID, 60 * i, (uint64_t)i + 1, &v, err, sizeof(err));
        loop_until(base, &lc.n, i + 1, 5);
    }
    qsort(lc.lat, LAT_N, sizeof(double), cmp_double);
    printf("%-44s %10.3f ms\n", "latency p50 (publish -> consumer loop)", lc.lat[LAT_N / 2] * 1e3);
    printf("%-44s %10.3f ms\n", "latency p99", lc.lat[LAT_N * 99 / 100] * 1e3);
    printf("%-44s %10.3f ms\n", "latency max", lc.lat[LAT_N - 1] * 1e3);

    /* throughput: publish n, then two consumers read them all */
    const char *tt = "bench.tput.any_x_v1";
    if (bus_conn_ensure_stream(pub, tt, 0, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_bus: %s\n", err);
        return 1;
    }
    double t0 = now();
    long failed = 0;
    for (long i = 0; i < n; i++) {
        struct qmtl_value v = qmtl_number((double)i);
        if (bus_conn_publish(pub, tt, NID, 60 * i, (uint64_t)i + 1, &v, err, sizeof(err)) < 0)
            failed++;
    }
    double t_sent = now() - t0;
    if (bus_conn_flush(pub, 60000, err, sizeof(err)) < 0)
        fprintf(stderr, "bench_bus: %s\n", err);
    double t_acked = now() - t0;
    struct bus_conn_stats ps;
    bus_conn_stats(pub, &ps);
    printf("%-44s %10.0f outputs/s (%ld refused)\n", "publish, handed to the client", n / t_sent,
           failed);
    printf("%-44s %10.0f outputs/s (%llu not acknowledged)\n", "publish, acknowledged by the stream",
           n / t_acked, (unsigned long long)ps.publish_errors);
    struct counter c1 = {0}, c2 = {0};
    struct bus_conn *sub2 = conn(base, url);
    t0 = now();
    if (bus_conn_consume(sub, tt, "host_b", on_msg, &c1, err, sizeof(err)) < 0 ||
        bus_conn_consume(sub2, tt, "host_c", on_msg, &c2, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_bus: %s\n", err);
        return 1;
    }
    long both = 0;
    double end = now() + 120;
    while ((c1.n < n || c2.n < n) && now() < end) {
        event_base_loop(base, EVLOOP_ONCE);
        both = c1.n + c2.n;
    }
    double t_cons = now() - t0;
    printf("%-44s %10.0f outputs/s per consumer\n", "consumed by two durable consumers",
           n / t_cons);
    printf("%-44s %10ld / %ld and %ld / %ld (%s)\n", "received", c1.n, n, c2.n, n,
           c1.n == n && c2.n == n ? "no loss" : "LOSS");
    (void)both;
    bus_conn_free(sub2);
    bus_conn_free(sub);
    bus_conn_free(pub);
    event_base_free(base);
    free(lc.lat);
    nats_Close();
    return c1.n == n && c2.n == n ? 0 : 1;
}
