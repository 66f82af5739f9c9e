/* reload: a runner's plugins directory changed under a real event loop (bounded turns). */
#include "host/plugin/reload.h"

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/loop.h"
#include "host/runner.h"
#include "log.h"
#include "loop_testlib.h"

static char dir[256];
static struct runner r;
static struct reload *rl;

struct change {
    enum reload_change kind;
    char name[64];
    size_t idx;
};
static struct change changes[16];
static int n_changes;

static void on_change(void *arg, enum reload_change kind, const char *name, size_t idx)
{
    (void)arg;
    ck_assert_int_lt(n_changes, 16);
    changes[n_changes].kind = kind;
    snprintf(changes[n_changes].name, sizeof(changes[n_changes].name), "%s", name);
    changes[n_changes].idx = idx;
    n_changes++;
}

/* The safe deploy of fixture 'fx' as 'as' in the plugins directory. */
static void deploy(const char *fx, const char *as)
{
    char tmp[300], dst[512];
    snprintf(tmp, sizeof(tmp), "%s.tmp", as);
    lt_fixture_to(fx, dir, tmp);
    snprintf(dst, sizeof(dst), "%s/%s", dir, as);
    lt_sh("mv '%s.tmp' '%s'", dst, dst);
}

static uint64_t (*counter)(void);
static uint64_t wanted;
static int counted(void)
{
    return counter() >= wanted;
}

/* Turn the runner's loop until count() reaches n, at most 20 s. */
static int wait_for(uint64_t (*count)(void), uint64_t n)
{
    counter = count;
    wanted = n;
    return lt_run_until(loop_base(r.loop), counted, 20);
}

static uint64_t n_added(void) { return reload_get_stats(rl)->added; }
static uint64_t n_replaced(void) { return reload_get_stats(rl)->replaced; }
static uint64_t n_removed(void) { return reload_get_stats(rl)->removed; }
static uint64_t n_failed(void) { return reload_get_stats(rl)->failed; }

static const char *version_of(const char *name)
{
    int k = host_find_strategy(&r.h, name);
    return k < 0 ? NULL : r.h.st[k]->desc->version;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/qmtl-reload-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chmod(dir, 0700), 0);
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    deploy("dup_a", "dup.so");
    char err[512] = "";
    struct plugin_watch_options o = {.settle_s = 0.1, .rescan_s = 0.2};
    rl = reload_new(&r, dir, NULL, &o, err, sizeof(err));
    ck_assert_msg(rl != NULL, "%s", err);
    reload_on_change(rl, on_change, NULL);
    n_changes = 0;
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    ck_assert_msg(runner_start(&r, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
    reload_free(rl);
    runner_release(&r);
    lt_sh("rm -rf '%s'%s", dir, "");
}

START_TEST(test_add_replace_remove)
{
    ck_assert_str_eq(version_of("dup"), "a");
    /* a new file joins the running DAG */
    deploy("rt_slice", "slice.so");
    ck_assert(wait_for(n_added, 1));
    ck_assert_int_ge(host_find_strategy(&r.h, "rt_slice"), 0);
    ck_assert_int_eq(changes[0].kind, RELOAD_ADDED);
    ck_assert_str_eq(changes[0].name, "rt_slice");
    /* the same path with a new version: replaced in place, same index */
    int k = host_find_strategy(&r.h, "dup");
    deploy("dup_b", "dup.so");
    ck_assert(wait_for(n_replaced, 1));
    ck_assert_str_eq(version_of("dup"), "b");
    ck_assert_int_eq(host_find_strategy(&r.h, "dup"), k);
    ck_assert_int_eq(changes[1].kind, RELOAD_REPLACED);
    ck_assert_uint_eq(changes[1].idx, (size_t)k);
    /* removed: taken out, the others stay */
    char p[512];
    snprintf(p, sizeof(p), "%s/dup.so", dir);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert(wait_for(n_removed, 1));
    ck_assert_int_eq(host_find_strategy(&r.h, "dup"), -1);
    ck_assert_int_ge(host_find_strategy(&r.h, "rt_slice"), 0);
    ck_assert_int_eq(changes[2].kind, RELOAD_REMOVED);
    ck_assert_uint_eq(r.h.n_st, 1);
    ck_assert_uint_eq(reload_get_stats(rl)->failed, 0);
}
END_TEST

/* Refusals keep what runs, and each version counts once. */
START_TEST(test_refusals_keep_what_runs)
{
    /* a setup() that fails: not added */
    deploy("setup_fails", "bad.so");
    ck_assert(wait_for(n_failed, 1));
    ck_assert_int_eq(host_find_strategy(&r.h, "setup_fails"), -1);
    /* a second file declaring a running strategy's name */
    deploy("dup_b", "other.so");
    ck_assert(wait_for(n_failed, 2));
    ck_assert_str_eq(version_of("dup"), "a");
    /* a new version of dup.so that declares another strategy */
    deploy("ok", "dup.so");
    ck_assert(wait_for(n_failed, 3));
    ck_assert_str_eq(version_of("dup"), "a");
    ck_assert_int_eq(host_find_strategy(&r.h, "ok"), -1);
    /* not a shared object at all (never settles into something loadable) */
    deploy("not_elf", "junk.so");
    ck_assert(wait_for(n_failed, 4));
    ck_assert_uint_eq(r.h.n_st, 1);
    ck_assert_int_eq(n_changes, 0);
    /* counted once each, even across rescans */
    reload_rescan(rl);
    ck_assert_uint_eq(reload_get_stats(rl)->failed, 4);
    ck_assert_uint_eq(reload_get_stats(rl)->added + reload_get_stats(rl)->replaced, 0);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR + 1);
    Suite *s = suite_create("reload");
    TCase *tc = tcase_create("reload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_add_replace_remove);
    tcase_add_test(tc, test_refusals_keep_what_runs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
