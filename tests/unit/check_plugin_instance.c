/*
 * Plugin instances (host/plugin/plugin_instance.c): the reference count, and the references the
 * host takes: a .so whose last strategy and last node binding are gone is unmapped
 * (/proc/self/maps, dlclose really on), and a custom node shared by two copies of one
 * .so computes once with a running owner's binding (its code, its ctx).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/plugin/plugin_instance.h"
#include "fixture_lib.h"

#define T0 1700000040 /* multiple of 60 */

static int mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int hit = 0;
    while (!hit && fgets(line, sizeof(line), f))
        hit = strstr(line, path) != NULL;
    fclose(f);
    return hit;
}

static struct plugin_instance *open_fixture(char *private_path, size_t len)
{
    char err[512];
    struct plugin *p;
    ck_assert_msg(plugin_open(fixture("dag_custom"), &p, err, sizeof(err)) == 0, "%s", err);
    snprintf(private_path, len, "%s", p->private_path);
    struct plugin_instance *pi = plugin_instance_new(p);
    ck_assert_ptr_nonnull(pi);
    return pi;
}

static long computes_of(struct host *h, const char *name)
{
    int i = host_find_strategy(h, name);
    ck_assert_int_ge(i, 0);
    return *(long *)h->st[i]->state;
}

START_TEST(test_count)
{
    unsetenv("QMTL_NO_DLCLOSE"); /* this suite is about dlclose */
    char path[512];
    struct plugin_instance *pi = open_fixture(path, sizeof(path));
    ck_assert_uint_eq(pi->refs, 1);
    ck_assert_ptr_eq(plugin_instance_ref(pi), pi);
    ck_assert_uint_eq(pi->refs, 2);
    plugin_instance_unref(pi);
    ck_assert_uint_eq(pi->refs, 1);
    ck_assert(mapped(path));
    plugin_instance_unref(pi);
    ck_assert_msg(!mapped(path), "still mapped after the last reference");
    ck_assert_ptr_null(plugin_instance_ref(NULL));
    plugin_instance_unref(NULL);
}
END_TEST

START_TEST(test_instance_unmapped_at_last_reference)
{
    unsetenv("QMTL_NO_DLCLOSE"); /* this test is about dlclose */
    char path1[512], path2[512], err[512];
    struct plugin_instance *pi1 = open_fixture(path1, sizeof(path1));
    struct plugin_instance *pi2 = open_fixture(path2, sizeof(path2));
    ck_assert_str_ne(path1, path2);
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_msg(host_add_strategy_from(&h, pi1, NULL, "one", NULL, NULL, NULL, err,
                                         sizeof(err)) == 0,
                  "%s", err);
    ck_assert_msg(host_add_strategy_from(&h, pi2, NULL, "two", NULL, NULL, NULL, err,
                                         sizeof(err)) == 0,
                  "%s", err);
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    /* one stream, one custom node, each with two owners: three references per .so
     * (the caller's, the strategy's, the node binding's) */
    ck_assert_uint_eq(graph_count(h.g), 2);
    ck_assert_uint_eq(pi1->refs, 3);
    ck_assert_uint_eq(pi2->refs, 3);
    plugin_instance_unref(pi1);
    plugin_instance_unref(pi2);
    ck_assert(mapped(path1) && mapped(path2));

    static const char *const tags[] = {"DAGX", NULL};
    for (int i = 0; i < 5; i++) {
        struct qmtl_value v = qmtl_number(i);
        ck_assert_int_eq(host_feed(&h, tags, 1, T0 + 60 * i, &v), 1);
    }
    /* computed once per event, with the first owner's ctx */
    ck_assert_int_eq(computes_of(&h, "one"), 5);
    ck_assert_int_eq(computes_of(&h, "two"), 0);

    struct host_swap_result res;
    ck_assert_msg(host_remove_strategy(&h, 0, &res, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(res.kept, 2);
    ck_assert_uint_eq(res.removed, 0);
    ck_assert_msg(!mapped(path1), "the first .so is still mapped");
    ck_assert(mapped(path2));
    for (int i = 5; i < 10; i++) {
        struct qmtl_value v = qmtl_number(i);
        ck_assert_int_eq(host_feed(&h, tags, 1, T0 + 60 * i, &v), 1);
    }
    /* the node goes on with the remaining owner's binding (its code, its ctx) */
    ck_assert_int_eq(computes_of(&h, "two"), 5);
    ck_assert_int_eq(sched_node(h.s, 1)->c.computes, 10);

    ck_assert_msg(host_remove_strategy(&h, 0, &res, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(res.removed, 2);
    ck_assert_uint_eq(graph_count(h.g), 0);
    ck_assert_msg(!mapped(path2), "the second .so is still mapped");
    host_release(&h);
}
END_TEST

START_TEST(test_stopped_owner_hands_over_binding)
{
    unsetenv("QMTL_NO_DLCLOSE");
    char path1[512], path2[512], err[512];
    struct plugin_instance *pi1 = open_fixture(path1, sizeof(path1));
    struct plugin_instance *pi2 = open_fixture(path2, sizeof(path2));
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_int_eq(host_add_strategy_from(&h, pi1, NULL, "one", NULL, NULL, NULL, err,
                                            sizeof(err)),
                     0);
    ck_assert_int_eq(host_add_strategy_from(&h, pi2, NULL, "two", NULL, NULL, NULL, err,
                                            sizeof(err)),
                     0);
    ck_assert_int_eq(host_finalize(&h, err, sizeof(err)), 0);
    plugin_instance_unref(pi1);
    plugin_instance_unref(pi2);
    host_stop_strategy(&h, 0, 0, "stopped by the test");
    static const char *const tags[] = {"DAGX", NULL};
    struct qmtl_value v = qmtl_number(1);
    ck_assert_int_eq(host_feed(&h, tags, 1, T0, &v), 1);
    ck_assert_int_eq(computes_of(&h, "one"), 0);
    ck_assert_int_eq(computes_of(&h, "two"), 1);
    host_release(&h);
    ck_assert(!mapped(path1) && !mapped(path2));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_instance");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_instance_unmapped_at_last_reference);
    tcase_add_test(tc, test_stopped_owner_hands_over_binding);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
