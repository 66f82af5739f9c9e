/* runner: plugins from a directory, data binding, replay, report, determinism, failures. */
#include "host/runner.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/dag/explain.h"
#include "host/report/report.h"
#include "log.h"

static char dir[256];

static void copy(const char *fixture, const char *as)
{
    const char *b = getenv("QMTL_BUILD");
    char src[512], dst[512], cmd[1200];
    snprintf(src, sizeof(src), "%s/fixtures/%s.so", b && *b ? b : "build", fixture);
    snprintf(dst, sizeof(dst), "%s/%s.so", dir, as);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
    ck_assert_int_eq(system(cmd), 0);
}

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/qmtl-runner-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void quiet(enum log_level l, const char *line, void *arg)
{
    (void)l;
    (void)line;
    (void)arg;
}

START_TEST(test_parse_data_arg)
{
    struct cfg_data_source ds;
    char err[256];
    ck_assert_int_eq(runner_parse_data_arg("data/BTC.csv", &ds, err, sizeof(err)), 0);
    ck_assert_uint_eq(ds.n_tags, 1);
    ck_assert_str_eq(ds.tags[0], "BTC");
    ck_assert_str_eq(ds.path, "data/BTC.csv");
    ck_assert_ptr_null(ds.synthetic);
    runner_data_release(&ds);
    ck_assert_int_eq(runner_parse_data_arg("BTC,price=/x/y.csv", &ds, err, sizeof(err)), 0);
    ck_assert_uint_eq(ds.n_tags, 2);
    ck_assert_str_eq(ds.tags[1], "price");
    ck_assert_ptr_null(ds.tags[2]);
    ck_assert_str_eq(ds.path, "/x/y.csv");
    runner_data_release(&ds);
    ck_assert_int_eq(
        runner_parse_data_arg("ETH=gbm:count=500,interval=1,seed=9,vol=0.1", &ds, err, sizeof(err)),
        0);
    ck_assert_str_eq(ds.synthetic, "gbm");
    ck_assert_int_eq(ds.count, 500);
    ck_assert_int_eq(ds.interval_s, 1);
    ck_assert_uint_eq(ds.seed, 9);
    ck_assert(ds.volatility == 0.1);
    runner_data_release(&ds);
    ck_assert_int_eq(runner_parse_data_arg("X=random_walk", &ds, err, sizeof(err)), 0);
    ck_assert_str_eq(ds.synthetic, "random_walk");
    ck_assert_int_eq(ds.count, 10000);
    runner_data_release(&ds);
    ck_assert_int_eq(runner_parse_data_arg("X=gbm:count=x", &ds, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "count=x"));
    ck_assert_int_eq(runner_parse_data_arg("X=gbm:colour=1", &ds, err, sizeof(err)), -1);
    ck_assert_int_eq(runner_parse_data_arg("=a.csv", &ds, err, sizeof(err)), -1);
    ck_assert_int_eq(runner_parse_data_arg("X=", &ds, err, sizeof(err)), -1);
    /* a NATS subject: without tags (each line names its own) or with the input's tags */
    ck_assert_int_eq(runner_parse_data_arg("nats://h:4222/md.BTC.1m", &ds, err, sizeof(err)), 0);
    ck_assert_str_eq(ds.live, "nats://h:4222/md.BTC.1m");
    ck_assert_uint_eq(ds.n_tags, 0);
    runner_data_release(&ds);
    ck_assert_int_eq(
        runner_parse_data_arg("BTC,spot=nats://h:4222/md.BTC.1m", &ds, err, sizeof(err)), 0);
    ck_assert_str_eq(ds.live, "nats://h:4222/md.BTC.1m");
    ck_assert_uint_eq(ds.n_tags, 2);
    ck_assert_str_eq(ds.tags[1], "spot");
    ck_assert_ptr_null(ds.path);
    runner_data_release(&ds);
    ck_assert_int_eq(runner_parse_data_arg("=nats://h:4222/md.x", &ds, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "no tag"));
    /* other live inputs still refuse tags */
    ck_assert_int_eq(runner_parse_data_arg("BTC=tcp:127.0.0.1:9", &ds, err, sizeof(err)), -1);
}
END_TEST

/* One full offline run of the three fixtures; the order log goes to *log. */
static void run_once(struct runner *r, char **log, size_t *len)
{
    struct host_options ho;
    host_options_default(&ho);
    ho.fee_bps = 1;
    ho.slippage_bps = 0.5;
    ck_assert_int_eq(runner_init(r, &ho), 0);
    char err[512];
    ck_assert_int_eq(runner_load_dir(r, dir, err, sizeof(err)), 3);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg("BTC=gbm:count=5000,seed=3", &ds, err, sizeof(err)), 0);
    ck_assert_msg(runner_add_data(r, &ds, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    runner_data_release(&ds);
    ck_assert_msg(runner_start(r, err, sizeof(err)) == 0, "%s", err);
    FILE *f = open_memstream(log, len);
    r->h.order_log = f;
    ck_assert_int_eq(runner_replay(r, err, sizeof(err)), 0);
    fclose(f);
    r->h.order_log = NULL;
}

START_TEST(test_replay_report_determinism)
{
    log_set_sink(quiet, NULL);
    mkdir_tmp();
    copy("rt_slice", "a");
    copy("rt_cross", "b");
    copy("rt_fail", "c");
    struct runner r1, r2;
    char *l1 = NULL, *l2 = NULL;
    size_t n1 = 0, n2 = 0;
    run_once(&r1, &l1, &n1);
    run_once(&r2, &l2, &n2);
    ck_assert_uint_gt(n1, 100);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(l1, l2, n1), 0); /* byte-identical order/fill log */
    ck_assert_uint_eq(r1.events, 5000);
    ck_assert_uint_eq(r1.h.n_st, 3);
    int seen = 0;
    for (size_t i = 0; i < r1.h.n_st; i++) {
        struct host_strategy *st = r1.h.st[i];
        struct broker_stats bs;
        broker_stats(st->broker, &bs);
        if (!strcmp(st->name, "rt_fail")) {
            ck_assert(st->stopped);
            ck_assert_ptr_nonnull(strstr(st->error, "plugin 'rt_fail': node 'boom'"));
            /* the plugin's code by name, not as a number */
            ck_assert_msg(strstr(st->error, "compute returned QMTL_ERR (generic failure)"), "%s",
                          st->error);
            ck_assert_int_eq(host_strategy_bars(&r1.h, (uint32_t)i), 10);
            seen++;
        } else {
            ck_assert(!st->stopped);
            ck_assert_int_eq(host_strategy_bars(&r1.h, (uint32_t)i), 5000);
            ck_assert_int_gt(bs.trades, 0);
            ck_assert_int_eq(bs.trades, st->fills);
            ck_assert_int_eq(st->orders, st->fills);
            ck_assert(isfinite(bs.pnl) && isfinite(bs.sharpe));
            ck_assert(bs.max_drawdown >= 0 && bs.max_drawdown < 1);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 3);
    /* rt_slice and rt_cross share the stream and sma(5) */
    ck_assert_uint_eq(explain_shared_count(&r1.h), 2);
    json_t *j = report_json(&r1, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "run"), "events")),
                     5000);
    json_t *arr = json_object_get(j, "strategies");
    ck_assert_uint_eq(json_array_size(arr), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 2), "status")),
                     "stopped");
    char *text = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&text, &tl);
    report_text(f, j);
    json_decref(j);
    explain_text(f, &r1.h);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "rt_cross"));
    ck_assert_ptr_nonnull(strstr(text, "(shared)"));
    free(text);
    free(l1);
    free(l2);
    runner_release(&r1);
    runner_release(&r2);
    rm_tmp();
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_duplicate_and_bad_plugins)
{
    log_set_sink(quiet, NULL);
    mkdir_tmp();
    /* name squatting: aaa.so declares the name of the real b.so; sorting first wins nothing */
    copy("rt_cross", "aaa");
    copy("rt_cross", "b");
    copy("not_elf", "c");
    copy("rt_slice", "d");
    struct runner r;
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    char err[512], want[1024];
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    ck_assert_uint_eq(r.n_problems, 2);
    ck_assert_uint_eq(r.h.n_st, 1);
    ck_assert_str_eq(r.h.st[0]->name, "rt_slice");
    ck_assert_ptr_nonnull(strstr(r.problems[0], "not an ELF file"));
    snprintf(want, sizeof(want),
             "plugin 'rt_cross': duplicate name in %s/aaa.so and %s/b.so; both refused", dir, dir);
    ck_assert_str_eq(r.problems[1], want);
    ck_assert_int_eq(runner_load_dir(&r, "/nonexistent-qmtl-dir", err, sizeof(err)), -1);
    /* one file more, loaded later (as a reload would): the running one stays */
    snprintf(want, sizeof(want), "%s/aaa.so", dir);
    ck_assert_int_eq(runner_load(&r, want, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/b.so", dir);
    ck_assert_int_eq(runner_load(&r, want, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "b.so): duplicate name, already loaded from"), "%s", err);
    ck_assert_uint_eq(r.h.n_st, 2);
    runner_release(&r);
    rm_tmp();
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_unsafe_permissions)
{
    log_set_sink(quiet, NULL);
    mkdir_tmp();
    copy("rt_cross", "a");
    copy("rt_slice", "b");
    struct runner r;
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    char err[512], want[1024], path[600];
    /* a world-writable directory: nothing is loaded, the exact chmod is given */
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "plugins directory '%s' is writable by everyone; others could replace it: run "
             "'chmod go-w %s'",
             dir, dir);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(r.h.n_st, 0);
    /* a group-writable file: that plugin only */
    ck_assert_int_eq(chmod(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/a.so", dir);
    ck_assert_int_eq(chmod(path, 0664), 0);
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    ck_assert_uint_eq(r.n_problems, 1);
    snprintf(want, sizeof(want),
             "plugin '%s' is writable by its group; others could replace it: run 'chmod go-w %s'",
             path, path);
    ck_assert_str_eq(r.problems[0], want);
    ck_assert_str_eq(r.h.st[0]->name, "rt_slice");
    runner_release(&r);
    rm_tmp();
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_csv_fail_mode)
{
    log_set_sink(quiet, NULL);
    mkdir_tmp();
    copy("rt_cross", "a");
    struct runner r;
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    char err[512];
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg("BTC=tests/data/malformed.csv", &ds, err, sizeof(err)),
                     0);
    ck_assert_msg(runner_add_data(&r, &ds, NULL, FEED_FAIL_ON_ERROR, err, sizeof(err)) == 0, "%s",
                  err);
    runner_data_release(&ds);
    ck_assert_int_eq(runner_start(&r, err, sizeof(err)), 0);
    ck_assert_int_eq(runner_replay(&r, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "malformed.csv:") != NULL, "%s", err);
    ck_assert_str_eq(r.run_error, err);
    /* the strategy did not see the whole data: its status says so */
    json_t *j = report_json(&r, 0);
    json_t *st = json_array_get(json_object_get(j, "strategies"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "failed");
    ck_assert_str_eq(json_string_value(json_object_get(st, "error")), err);
    json_decref(j);
    runner_release(&r);
    rm_tmp();
    log_set_sink(NULL, NULL);
}
END_TEST

/* The replay is a source on the runner's loop: a deferred call runs between two batches,
 * and a SIGINT stops the replay early with on_finish and the reason kept. */
struct probe {
    struct runner *r;
    uint64_t seen[4];
    int n, raise_at;
};

static void between(void *arg, int cancelled)
{
    struct probe *p = arg;
    if (cancelled)
        return;
    p->seen[p->n++] = p->r->events;
    if (p->n == p->raise_at)
        raise(SIGINT);
    if (p->n < 4)
        ck_assert_int_eq(loop_defer(p->r->loop, between, p), 0);
}

static void replay_with_probe(struct runner *r, struct probe *p, const char *data)
{
    ck_assert_int_eq(runner_init(r, NULL), 0);
    char err[512];
    ck_assert_int_eq(runner_load_dir(r, dir, err, sizeof(err)), 1);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg(data, &ds, err, sizeof(err)), 0);
    ck_assert_msg(runner_add_data(r, &ds, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    runner_data_release(&ds);
    ck_assert_msg(runner_start(r, err, sizeof(err)) == 0, "%s", err);
    p->r = r;
    ck_assert_int_eq(loop_defer(r->loop, between, p), 0);
    ck_assert_int_eq(runner_replay(r, err, sizeof(err)), 0);
}

START_TEST(test_replay_on_the_loop)
{
    log_set_sink(quiet, NULL);
    mkdir_tmp();
    copy("rt_cross", "a");
    struct runner r;
    struct probe p = {.raise_at = 0};
    replay_with_probe(&r, &p, "BTC=gbm:count=10000,seed=3");
    ck_assert_int_eq(p.n, 4);
    for (int i = 0; i < 4; i++) /* before the first batch, then after each one */
        ck_assert_uint_eq(p.seen[i], (uint64_t)i * LOOP_BATCH);
    ck_assert_uint_eq(r.events, 10000);
    ck_assert_int_eq(r.interrupted, 0);
    ck_assert_int_eq(r.h.st[0]->finished, 1);
    runner_release(&r);

    struct probe q = {.raise_at = 2};
    replay_with_probe(&r, &q, "BTC=gbm:count=100000,seed=3");
    ck_assert_int_eq(r.interrupted, SIGINT);
    ck_assert_uint_gt(r.events, 0);
    ck_assert_uint_lt(r.events, 100000);
    ck_assert_int_eq(r.h.st[0]->finished, 1); /* on_finish ran */
    runner_release(&r);
    rm_tmp();
    log_set_sink(NULL, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_parse_data_arg);
    tcase_add_test(tc, test_replay_report_determinism);
    tcase_add_test(tc, test_duplicate_and_bad_plugins);
    tcase_add_test(tc, test_unsafe_permissions);
    tcase_add_test(tc, test_csv_fail_mode);
    tcase_add_test(tc, test_replay_on_the_loop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
