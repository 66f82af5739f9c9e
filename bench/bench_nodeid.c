/*
 * bench_nodeid: BLAKE3 throughput (1 KiB, 64 KiB, 1 MiB), NodeID computations per second
 * (struct and JSON entry points), shortest double formatting and CRC-32.
 * Each figure is the median of REPS repetitions of a timed batch of about 0.1 s.
 * Usage: bench_nodeid [REPS]      (default 7)
 */
#include "nodeid.h"
#include "numfmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static volatile uint8_t sink;

typedef void (*op_fn)(void *arg, long iters);

/* Median rate (operations per second) of op over reps batches of ~0.1 s each. */
static double measure(op_fn op, void *arg, int reps)
{
    long iters = 1;
    /* calibrate: grow the batch until it takes >= 0.1 s */
    for (;;) {
        double t0 = now_s();
        op(arg, iters);
        double dt = now_s() - t0;
        if (dt >= 0.1)
            break;
        iters = dt < 0.01 ? iters * 10 : (long)((double)iters * 0.12 / dt) + 1;
    }
    double rates[64];
    if (reps > 64)
        reps = 64;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        op(arg, iters);
        double dt = now_s() - t0;
        rates[r] = (double)iters / dt;
    }
    return median(rates, reps);
}

struct hash_arg {
    uint8_t *buf;
    size_t len;
};

static void op_blake3(void *arg, long iters)
{
    struct hash_arg *a = arg;
    uint8_t out[32];
    for (long i = 0; i < iters; i++) {
        a->buf[0] = (uint8_t)i;
        nodeid_blake3(a->buf, a->len, out, sizeof(out));
        sink ^= out[0];
    }
}

static void op_crc(void *arg, long iters)
{
    struct hash_arg *a = arg;
    uint32_t c = 0;
    for (long i = 0; i < iters; i++)
        c = nodeid_crc32(c, a->buf, a->len);
    sink ^= (uint8_t)c;
}

static void op_nodeid_struct(void *arg, long iters)
{
    const struct nodeid_fields *f = arg;
    char id[NODEID_LEN + 1], err[128];
    for (long i = 0; i < iters; i++) {
        if (nodeid_compute(f, id, err, sizeof(err)) < 0)
            abort();
        sink ^= (uint8_t)id[20];
    }
}

static void op_nodeid_json(void *arg, long iters)
{
    const json_t *node = arg;
    char id[NODEID_LEN + 1], err[128];
    for (long i = 0; i < iters; i++) {
        if (nodeid_from_json(node, id, NULL, err, sizeof(err)) < 0)
            abort();
        sink ^= (uint8_t)id[20];
    }
}

struct fmt_arg {
    double *vals;
    size_t n;
};

static void op_numfmt(void *arg, long iters)
{
    struct fmt_arg *a = arg;
    char buf[NUMFMT_DOUBLE_MAX];
    for (long i = 0; i < iters; i++) {
        numfmt_double(a->vals[(size_t)i % a->n], buf, sizeof(buf));
        sink ^= (uint8_t)buf[1];
    }
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1)
        reps = 7;

    printf("%-40s %14s %s\n", "measure", "median", "unit");
    size_t sizes[] = {1024, 64 * 1024, 1024 * 1024};
    const char *names[] = {"blake3 1 KiB", "blake3 64 KiB", "blake3 1 MiB"};
    uint8_t *buf = malloc(sizes[2]);
    for (size_t i = 0; i < sizes[2]; i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    for (int s = 0; s < 3; s++) {
        struct hash_arg a = {buf, sizes[s]};
        double r = measure(op_blake3, &a, reps);
        printf("%-40s %14.2f GB/s\n", names[s], r * (double)sizes[s] / 1e9);
    }
    {
        struct hash_arg a = {buf, 64 * 1024};
        double r = measure(op_crc, &a, reps);
        printf("%-40s %14.2f GB/s\n", "crc32 64 KiB", r * 64.0 * 1024 / 1e9);
    }

    /* a typical processing node: float/int/string params, two upstreams */
    json_t *params = json_loads("{\"window\":20,\"alpha\":0.1,\"threshold\":-2.5e-05,"
                                "\"label\":\"momentum\",\"weights\":[0.6,0.4],\"flag\":true,"
                                "\"seed\":7}",
                                0, NULL);
    const char *deps[] = {
        "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b",
        "blake3:0577d5f957cecc577fccd9028499a3f55d15be2015f519de3ec1a314b93a970b"};
    struct nodeid_fields f = {
        .node_type = "ProcessingNode",
        .interval = 60,
        .period = 20,
        .params = params,
        .deps = deps,
        .n_deps = 2,
        .schema_compat_id = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        .code_hash = "builtin:sma:1"};
    printf("%-40s %14.0f ids/s\n", "nodeid_compute (7 params, 2 deps)",
           measure(op_nodeid_struct, &f, reps));
    json_t *node =
        json_pack("{s:s,s:i,s:i,s:O,s:[s,s],s:s,s:s}", "node_type", "ProcessingNode", "interval",
                  60, "period", 20, "params", params, "dependencies", deps[0], deps[1],
                  "schema_compat_id", f.schema_compat_id, "code_hash", f.code_hash);
    printf("%-40s %14.0f ids/s\n", "nodeid_from_json (same node)",
           measure(op_nodeid_json, node, reps));
    struct nodeid_fields e = {.node_type = "StreamInput", .interval = 60, .period = 10};
    json_t *empty = json_object();
    e.params = empty;
    printf("%-40s %14.0f ids/s\n", "nodeid_compute (StreamInput, {})",
           measure(op_nodeid_struct, &e, reps));

    /* double formatting: "human" values and random full-precision values */
    enum { NV = 4096 };
    double *vals = malloc(NV * sizeof(*vals));
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < NV; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals[i] = (double)(x % 100000) / 1000.0;
    }
    struct fmt_arg fa = {vals, NV};
    printf("%-40s %14.0f values/s\n", "numfmt short values (e.g. 12.345)",
           measure(op_numfmt, &fa, reps));
    for (int i = 0; i < NV; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals[i] = (double)(x >> 11) / 9007199254740992.0 * 1000.0;
    }
    printf("%-40s %14.0f values/s\n", "numfmt 17-digit values", measure(op_numfmt, &fa, reps));

    free(vals);
    json_decref(node);
    json_decref(params);
    json_decref(empty);
    free(buf);
    return 0;
}
