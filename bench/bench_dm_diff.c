/*
 * bench_dm_diff: the DAG manager's diff on a file store (WAL, synchronous=FULL).
 *   - first submission of an N-node DAG (every node new: N topic picks, N queue inserts);
 *     N/10 StreamInputs, the rest sma/ema nodes that share their built-in code hash, so
 *     topic names collide and go through the suffix search;
 *   - the same DAG resubmitted (every node reused);
 *   - a tag query over the resulting registry.
 * Each figure is the median of REPS runs (fresh store for the first-submission figure).
 * Usage: bench_dm_diff [N] [REPS]      (defaults 1000, 5)
 */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_store.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void drop(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

static json_t *make_request(int n, const char *strategy)
{
    json_t *nodes = json_array();
    int n_src = n / 10 ? n / 10 : 1;
    char id[64], up[64], tag[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "blake3:node-%06d", i);
        if (i < n_src) {
            snprintf(tag, sizeof(tag), "ASSET%d", i);
            json_array_append_new(nodes, json_pack("{s:s, s:s, s:i, s:i, s:[s, s], s:s}", "node_id",
                                                   id, "node_type", "StreamInput", "interval", 60,
                                                   "period", 10, "tags", tag, "price", "code_hash",
                                                   "74234e98afe7498f"));
        } else {
            snprintf(up, sizeof(up), "blake3:node-%06d", i % n_src);
            int ema = i % 2;
            json_array_append_new(
                nodes, json_pack("{s:s, s:s, s:i, s:i, s:s, s:[s]}", "node_id", id, "node_type",
                                 ema ? "ema" : "sma", "interval", 60, "period", 5 + i, "code_hash",
                                 ema ? "builtin:ema:1" : "builtin:sma:1", "inputs", up));
        }
    }
    return json_pack("{s:s, s:{s:o}, s:s, s:s}", "strategy_id", strategy, "dag_json", "nodes",
                     nodes, "world_id", "bench", "execution_domain", "live");
}

static double diff_once(struct dm_store *s, json_t *rq)
{
    json_t *reply = NULL;
    char err[256];
    double t0 = now_s();
    if (dm_diff(s, rq, &reply, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_dm_diff: diff failed: %s\n", err);
        exit(1);
    }
    double dt = now_s() - t0;
    json_decref(reply);
    return dt;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000, reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 1 || reps < 1 || reps > 64)
        return 2;
    log_set_sink(drop, NULL);
    char dir[] = "/tmp/bench_dm_diff.XXXXXX", path[64], err[256];
    if (!mkdtemp(dir))
        return 1;
    json_t *rq = make_request(n, "s1");
    double first[64], again[64], tagq[64];
    struct dm_store *s = NULL;
    for (int r = 0; r < reps; r++) {
        dm_store_close(s);
        snprintf(path, sizeof(path), "%s/dm%d.db", dir, r);
        s = dm_store_open(path, err, sizeof(err));
        if (!s) {
            fprintf(stderr, "bench_dm_diff: %s\n", err);
            return 1;
        }
        first[r] = diff_once(s, rq);
    }
    for (int r = 0; r < reps; r++)
        again[r] = diff_once(s, rq);
    const char *tags[] = {"price"};
    for (int r = 0; r < reps; r++) {
        struct dm_queue *qs;
        size_t nq;
        double t0 = now_s();
        if (dm_store_queues_by_tag(s, tags, 1, 0, 60, "bench", "", &qs, &nq) < 0)
            return 1;
        tagq[r] = now_s() - t0;
        dm_queues_free(qs, nq);
    }
    dm_store_close(s);
    double f = median(first, reps), a = median(again, reps), t = median(tagq, reps);
    printf("| measure | value | unit |\n|---|---:|---:|\n");
    printf("| first submission, %d nodes (all new) | %.1f | ms |\n", n, f * 1e3);
    printf("| first submission, per node | %.0f | nodes/s |\n", n / f);
    printf("| resubmission, %d nodes (all reused) | %.1f | ms |\n", n, a * 1e3);
    printf("| resubmission, per node | %.0f | nodes/s |\n", n / a);
    printf("| by_tag 'price' (%d queues) | %.2f | ms |\n", n / 10 ? n / 10 : 1, t * 1e3);
    json_decref(rq);
    for (int r = 0; r < reps; r++) {
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s/dm%d.db%s", dir, r, sfx[k]);
            unlink(path);
        }
    }
    rmdir(dir);
    return 0;
}
