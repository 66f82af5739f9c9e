/*
 * bench_runtime: the DAG runtime in process (no data generation in the timings: prices
 * are generated into an array first).
 *
 *   bench_runtime builtins N      16 built-ins on one stream, N ticks: node updates/s
 *   bench_runtime latency N       stream -> sma(20) -> crossover -> signal -> orders:
 *                                 tick-to-order-intent latency percentiles
 *   bench_runtime shared N S      S strategies of stream + sma(20) + own custom node:
 *                                 shared computations per tick, time vs S single hosts
 *   bench_runtime memory M P fanout|private|chain   M custom nodes of period P reading
 *                                 one stream (shared or private rings) or a chain; peak RSS
 * Output: "key value" lines (bench_runtime.sh turns them into a table).
 * bench/compare.sh runs this program as built from each of two commits and reads
 * 'builtins' (node_updates, node_updates_per_s) and 'latency' (orders, order_p50_us,
 * order_p99_us): keep those subcommands, keys and timed loops as they are.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host_api.h"
#include "log.h"

#define T0 1699999980

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double *make_prices(long n)
{
    double *x = malloc((size_t)n * sizeof(*x));
    uint64_t s = 42;
    double p = 100;
    for (long i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p += ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.2;
        if (p < 1)
            p = 1;
        x[i] = p;
    }
    return x;
}

static const char *const tags_btc[] = {"BTC", NULL};

static qmtl_node stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, int period,
                        struct qmtl_err *err)
{
    return h->stream_input(ctx,
                           &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "px",
                                                      .tags = tags_btc, .interval = "1s",
                                                      .period = period},
                           err);
}

static qmtl_node ind(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *kind, qmtl_node a,
                     qmtl_node b, int window, struct qmtl_err *err)
{
    return h->indicator(ctx,
                        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = kind,
                                                      .inputs = {a, b}, .window = window},
                        err);
}

static int feed_all(struct host *h, const double *x, long n)
{
    const char *tags[] = {"BTC"};
    struct qmtl_value v = qmtl_number(0);
    for (long i = 0; i < n; i++) {
        v.as.number = x[i];
        if (host_feed(h, tags, 1, T0 + i, &v) != 1)
            return -1;
    }
    return 0;
}

static int start(struct host *h, const struct qmtl_plugin *const *p, size_t n)
{
    char err[512];
    for (size_t i = 0; i < n; i++)
        if (host_add_strategy(h, p[i], NULL, NULL, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    if (host_finalize(h, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- builtins */

static int builtins_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px = stream(ctx, h, 1, err);
    static const char *kinds[] = {
        "sma",         "ema",        "rsi", "stddev", "zscore", "returns", "rate_of_change",
        "rolling_min", "rolling_max"};
    static const int windows[] = {20, 50};
    int made = 0;
    for (int w = 0; w < 2; w++)
        for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds) && made < 15; k++, made++)
            if (ind(ctx, h, kinds[k], px, 0, windows[w], err) < 0)
                return QMTL_ERR;
    qmtl_node f = ind(ctx, h, "sma", px, 0, 5, err);
    qmtl_node s = ind(ctx, h, "sma", px, 0, 30, err);
    return ind(ctx, h, "crossover", f, s, 1, err) < 0 ? QMTL_ERR : QMTL_OK;
}

static int bench_builtins(long n)
{
    static const struct qmtl_plugin p = {QMTL_PLUGIN_HEADER, .name = "b", .setup = builtins_setup};
    const struct qmtl_plugin *ps[] = {&p};
    double *x = make_prices(n);
    struct host h;
    host_init(&h, NULL);
    if (start(&h, ps, 1))
        return 1;
    uint64_t c0 = sched_computes(h.s);
    double t0 = now_s();
    feed_all(&h, x, n);
    double dt = now_s() - t0;
    uint64_t upd = 0;
    for (uint32_t i = 0; i < graph_count(h.g); i++)
        if (graph_node(h.g, i)->kind == GRAPH_INDICATOR)
            upd += (uint64_t)sched_node(h.s, i)->c.computes;
    printf("builtin_nodes %u\n", (unsigned)(graph_count(h.g) - 1));
    printf("ticks %ld\n", n);
    printf("node_updates %llu\n", (unsigned long long)upd);
    printf("all_computations %llu\n", (unsigned long long)(sched_computes(h.s) - c0));
    printf("seconds %.4f\n", dt);
    printf("node_updates_per_s %.0f\n", upd / dt);
    host_release(&h);
    free(x);
    return 0;
}

/* ---------------------------------------------------------------- latency */

static int chain_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px = stream(ctx, h, 1, err);
    qmtl_node ma = ind(ctx, h, "sma", px, 0, 20, err);
    qmtl_node x = ind(ctx, h, "crossover", px, ma, 1, err);
    qmtl_node s =
        h->signal(ctx, &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = x}, err);
    return h->order_publisher(
               ctx,
               &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = s, .quantity = 1},
               err) < 0
               ? QMTL_ERR
               : QMTL_OK;
}

static int order_flag;
static void on_out(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    (void)arg;
    (void)ts;
    (void)v;
    if (n->kind == GRAPH_ORDER)
        order_flag = 1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench_latency(long n)
{
    static const struct qmtl_plugin p = {QMTL_PLUGIN_HEADER, .name = "c", .setup = chain_setup};
    const struct qmtl_plugin *ps[] = {&p};
    double *x = make_prices(n);
    double *lat = malloc((size_t)n * sizeof(*lat)), *all = malloc((size_t)n * sizeof(*all));
    struct host h;
    host_init(&h, NULL);
    h.on_output = on_out;
    if (start(&h, ps, 1))
        return 1;
    const char *tags[] = {"BTC"};
    struct qmtl_value v = qmtl_number(0);
    long k = 0;
    for (long i = 0; i < n; i++) {
        v.as.number = x[i];
        order_flag = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        host_feed(&h, tags, 1, T0 + i, &v);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double us = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
        all[i] = us;
        if (order_flag)
            lat[k++] = us;
    }
    qsort(lat, (size_t)k, sizeof(*lat), cmp_d);
    qsort(all, (size_t)n, sizeof(*all), cmp_d);
    printf("ticks %ld\n", n);
    printf("orders %ld\n", k);
    if (k) {
        printf("order_p50_us %.3f\n", lat[k / 2]);
        printf("order_p99_us %.3f\n", lat[(long)(k * 0.99)]);
        printf("order_max_us %.3f\n", lat[k - 1]);
    }
    printf("tick_p50_us %.3f\n", all[n / 2]);
    printf("tick_p99_us %.3f\n", all[(long)(n * 0.99)]);
    host_release(&h);
    free(x);
    free(lat);
    free(all);
    return 0;
}

/* ---------------------------------------------------------------- shared */

static int own(const struct qmtl_view *v, struct qmtl_value *out)
{
    double ma = qmtl_window_number(&v->inputs[0], 0);
    double *last = v->state;
    if (ma > *last * 1.0001 || ma < *last * 0.9999) {
        *last = ma;
        *out = qmtl_number(ma);
    }
    return QMTL_OK;
}

static int shared_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node px = stream(ctx, h, 1, err);
    qmtl_node ma = ind(ctx, h, "sma", px, 0, 20, err);
    char params[64];
    snprintf(params, sizeof(params), "{\"id\":\"%s\"}", h->config_string(ctx, "id", "?"));
    return h->node(ctx,
                   &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "own",
                                            .inputs = {ma}, .compute = own,
                                            .state_size = sizeof(double), .params_json = params},
                   err) < 0
               ? QMTL_ERR
               : QMTL_OK;
}

static double run_shared(long n, int s_count, const double *x, uint64_t *sma_computes,
                         uint64_t *custom_computes, size_t *nodes, double *setup_s)
{
    struct qmtl_plugin *ps = calloc((size_t)s_count, sizeof(*ps));
    const struct qmtl_plugin **pp = calloc((size_t)s_count, sizeof(*pp));
    char(*names)[16] = calloc((size_t)s_count, 16);
    struct host h;
    host_init(&h, NULL);
    for (int i = 0; i < s_count; i++) {
        snprintf(names[i], 16, "s%04d", i);
        ps[i] = (struct qmtl_plugin){QMTL_PLUGIN_HEADER, .name = names[i], .setup = shared_setup};
        pp[i] = &ps[i];
        host_set_param(&h, names[i], "id", names[i]);
    }
    double t0 = now_s();
    if (start(&h, pp, (size_t)s_count))
        exit(1);
    *setup_s = now_s() - t0;
    t0 = now_s();
    feed_all(&h, x, n);
    double dt = now_s() - t0;
    *sma_computes = *custom_computes = 0;
    for (uint32_t i = 0; i < graph_count(h.g); i++) {
        struct graph_node *g = graph_node(h.g, i);
        if (g->kind == GRAPH_INDICATOR)
            *sma_computes += (uint64_t)sched_node(h.s, i)->c.computes;
        if (g->kind == GRAPH_CUSTOM)
            *custom_computes += (uint64_t)sched_node(h.s, i)->c.computes;
    }
    *nodes = graph_count(h.g);
    host_release(&h);
    free(ps);
    free(pp);
    free(names);
    return dt;
}

static int bench_shared(long n, int s_count)
{
    double *x = make_prices(n);
    uint64_t sc, cc, sc1, cc1;
    size_t nodes, nodes1;
    double su, su1;
    double t = run_shared(n, s_count, x, &sc, &cc, &nodes, &su);
    double t1 = run_shared(n, 1, x, &sc1, &cc1, &nodes1, &su1);
    printf("strategies %d\n", s_count);
    printf("ticks %ld\n", n);
    printf("nodes %zu\n", nodes);
    printf("sma_computations %llu\n", (unsigned long long)sc);
    printf("sma_computations_per_tick %.3f\n", (double)sc / (double)(n - 19));
    printf("custom_computations %llu\n", (unsigned long long)cc);
    printf("shared_setup_s %.4f\n", su);
    printf("shared_replay_s %.4f\n", t);
    printf("single_setup_s %.6f\n", su1);
    printf("single_replay_s %.6f\n", t1);
    printf("separate_hosts_s %.4f\n", s_count * (t1 + su1));
    printf("speedup_in_process %.2f\n", s_count * (t1 + su1) / (t + su));
    free(x);
    return 0;
}

/* ---------------------------------------------------------------- memory */

static long g_nodes, g_period;
static int g_chain, g_private;

static int passthru(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0) + 1);
    return QMTL_OK;
}

static int mem_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node prev = stream(ctx, h, 1, err);
    qmtl_node px = prev;
    char name[32], params[48];
    for (long i = 0; i < g_nodes; i++) {
        snprintf(name, sizeof(name), "n%ld", i);
        snprintf(params, sizeof(params), "{\"i\":%ld}", i);
        qmtl_node n =
            h->node(ctx,
                    &(struct qmtl_node_spec){
                        QMTL_SPEC(qmtl_node_spec), .name = name, .inputs = {g_chain ? prev : px},
                        .compute = passthru, .period = (int32_t)g_period,
                        .on_late = g_private ? QMTL_LATE_IGNORE : 0, .params_json = params},
                    err);
        if (n < 0)
            return n;
        prev = n;
    }
    return QMTL_OK;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, strlen(key)))
            v = atol(line + strlen(key));
    if (f)
        fclose(f);
    return v;
}

static int bench_memory(long nodes, long period, int chain, int private_rings)
{
    g_private = private_rings;
    g_nodes = nodes;
    g_period = period;
    g_chain = chain;
    long base = status_kb("VmRSS:");
    static const struct qmtl_plugin p = {QMTL_PLUGIN_HEADER, .name = "m", .setup = mem_setup};
    const struct qmtl_plugin *ps[] = {&p};
    struct host h;
    host_init(&h, NULL);
    if (start(&h, ps, 1))
        return 1;
    long n = period * 2 + nodes; /* fill every ring (a chain needs depth to warm up) */
    if (!chain)
        n = period * 2;
    double *x = make_prices(n);
    double t0 = now_s();
    feed_all(&h, x, n);
    double dt = now_s() - t0;
    free(x);
    long full = 0;
    for (uint32_t i = 0; i < graph_count(h.g); i++) {
        const struct qmtl_window *w =
            graph_node(h.g, i)->kind == GRAPH_CUSTOM ? rt_input(sched_node(h.s, i), 0) : NULL;
        if (w && w->count == w->cap)
            full++;
    }
    printf("topology %s%s\n", chain ? "chain" : "fanout",
           private_rings ? " (private rings: on_late=ignore)" : " (shared rings)");
    printf("nodes %ld\n", nodes);
    printf("period %ld\n", period);
    printf("full_windows %ld\n", full);
    printf("ticks %ld\n", n);
    printf("replay_s %.3f\n", dt);
    printf("rss_start_kib %ld\n", base);
    printf("rss_peak_mib %.1f\n", status_kb("VmHWM:") / 1024.0);
    printf("rss_mib %.1f\n", status_kb("VmRSS:") / 1024.0);
    host_release(&h);
    return 0;
}

int main(int argc, char **argv)
{
    log_set_level(LOG_LEVEL_WARN);
    if (argc >= 3 && !strcmp(argv[1], "builtins"))
        return bench_builtins(atol(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "latency"))
        return bench_latency(atol(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "shared"))
        return bench_shared(atol(argv[2]), atoi(argv[3]));
    if (argc >= 5 && !strcmp(argv[1], "memory"))
        return bench_memory(atol(argv[2]), atol(argv[3]), !strcmp(argv[4], "chain"),
                            !strcmp(argv[4], "private"));
    fprintf(stderr, "usage: bench_runtime builtins N | latency N | shared N S | "
                    "memory NODES PERIOD fanout|private|chain\n");
    return 2;
}
