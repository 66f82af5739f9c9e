/*
 * bench_swap: the cost of changing a running DAG (host/dag/dag_swap.h), in process.
 *
 *   bench_swap S N     a warm host of S strategies of 50 nodes each (one shared stream,
 *                      24 sma of distinct windows, a chain of 25 custom nodes with
 *                      state), then N rounds of: 10 ticks, replace one strategy by the same
 *                      version (every node kept), 10 ticks, add a new 50-node strategy,
 *                      10 ticks, remove it. Each change is timed alone.
 * Output: "key value" lines (bench_swap.sh turns them into a table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host_api.h"
#include "log.h"

#define T0 1699999980
#define NODES 50

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *const tags_btc[] = {"BTC", NULL};

static int step(const struct qmtl_view *v, struct qmtl_value *out)
{
    double *acc = v->state;
    *acc = 0.9 * *acc + 0.1 * qmtl_window_number(&v->inputs[0], 0);
    *out = qmtl_number(*acc);
    return QMTL_OK;
}

/* 50 nodes: the stream, 24 sma, 25 custom nodes; 'seed' (a parameter) makes them distinct */
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    int seed = (int)h->config_number(ctx, "seed", 0);
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "px", .tags = tags_btc,
                                   .interval = "1s"},
        err);
    if (px < 0)
        return px;
    qmtl_node last = px;
    for (int k = 0; k < 24; k++) {
        last = h->indicator(ctx,
                            &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                          .kind = "sma", .inputs = {px},
                                                          .window = 2 + seed * 24 + k},
                            err);
        if (last < 0)
            return last;
    }
    for (int k = 0; k < 25; k++) {
        char name[32], params[64];
        snprintf(name, sizeof(name), "c%d", k);
        snprintf(params, sizeof(params), "{\"seed\":%d,\"k\":%d}", seed, k);
        last = h->node(ctx,
                       &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = name,
                                                .inputs = {last}, .compute = step,
                                                .code_version = "step1", .params_json = params,
                                                .state_size = sizeof(double)},
                       err);
        if (last < 0)
            return last;
    }
    return QMTL_OK;
}
static const struct qmtl_plugin strat = {QMTL_PLUGIN_HEADER, .name = "swap", .setup = setup};

static long tick;

static int feed(struct host *h, int n)
{
    const char *tags[] = {"BTC"};
    for (int i = 0; i < n; i++, tick++) {
        struct qmtl_value v = qmtl_number(100 + (double)(tick % 37) * 0.1);
        if (host_feed(h, tags, 1, T0 + tick, &v) != 1)
            return -1;
    }
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *key, double *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp_d);
    printf("%s_p50_ms %.3f\n%s_max_ms %.3f\n", key, t[n / 2] * 1e3, key, t[n - 1] * 1e3);
}

int main(int argc, char **argv)
{
    int S = argc > 1 ? atoi(argv[1]) : 8, N = argc > 2 ? atoi(argv[2]) : 50;
    if (S < 1 || N < 1) {
        fprintf(stderr, "usage: bench_swap STRATEGIES ROUNDS\n");
        return 2;
    }
    log_set_level(LOG_LEVEL_WARN);
    struct host h;
    char err[512], name[32], seed[32];
    if (host_init(&h, NULL))
        return 1;
    for (int i = 0; i <= S; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        snprintf(seed, sizeof(seed), "%d", i);
        if (host_set_param(&h, name, "seed", seed))
            return 1;
        if (i < S && host_add_strategy_as(&h, &strat, name, NULL, NULL, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    if (host_finalize(&h, err, sizeof(err)) || feed(&h, 300))
        return 1;
    size_t nodes = graph_count(h.g);
    double *rep = calloc((size_t)N, sizeof(double)), *add = calloc((size_t)N, sizeof(double)),
           *rem = calloc((size_t)N, sizeof(double));
    if (!rep || !add || !rem)
        return 1;
    struct host_swap_result r_rep = {0}, r_add = {0}, r_rem = {0};
    snprintf(name, sizeof(name), "s%d", S);
    for (int i = 0; i < N; i++) {
        double t = now_s();
        if (host_replace_strategy(&h, (size_t)(i % S), NULL, &strat, NULL, &r_rep, err,
                                  sizeof(err)))
            goto fail;
        rep[i] = now_s() - t;
        if (feed(&h, 10))
            return 1;
        size_t idx;
        t = now_s();
        if (host_add_strategy_from(&h, NULL, &strat, name, NULL, &idx, &r_add, err, sizeof(err)))
            goto fail;
        add[i] = now_s() - t;
        if (feed(&h, 10))
            return 1;
        t = now_s();
        if (host_remove_strategy(&h, idx, &r_rem, err, sizeof(err)))
            goto fail;
        rem[i] = now_s() - t;
        if (feed(&h, 10))
            return 1;
    }
    printf("strategies %d\nnodes %zu\nrounds %d\n", S, nodes, N);
    printf("replace_kept %u\nreplace_added %u\nadd_added %u\nremove_removed %u\n", r_rep.kept,
           r_rep.added, r_add.added, r_rem.removed);
    report("replace", rep, N);
    report("add", add, N);
    report("remove", rem, N);
    free(rep);
    free(add);
    free(rem);
    host_finish(&h);
    host_release(&h);
    return 0;
fail:
    fprintf(stderr, "%s\n", err);
    return 1;
}
