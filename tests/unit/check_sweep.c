/* sweep: grids of parameter sets, instance names, argument checks. */
#include "host/report/sweep.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_grid_order_and_names)
{
    struct sweep s = {0};
    char err[256], name[128];
    ck_assert_int_eq(sweep_add(&s, "sma.fast=3,5", err, sizeof(err)), 0);
    ck_assert_int_eq(sweep_add(&s, "other.k=1", err, sizeof(err)), 0);
    ck_assert_int_eq(sweep_add(&s, "sma.slow=20,30,40", err, sizeof(err)), 0);
    ck_assert_uint_eq(sweep_count(&s, "sma"), 6);
    ck_assert_uint_eq(sweep_count(&s, "other"), 1);
    ck_assert_uint_eq(sweep_count(&s, "none"), 0);
    ck_assert(sweep_has_key(&s, "sma", "slow") && !sweep_has_key(&s, "sma", "k"));
    const char *keys[3], *vals[3];
    size_t n;
    /* the last axis varies fastest */
    static const char *const want[] = {"sma[fast=3,slow=20]", "sma[fast=3,slow=30]",
                                       "sma[fast=3,slow=40]", "sma[fast=5,slow=20]",
                                       "sma[fast=5,slow=30]", "sma[fast=5,slow=40]"};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(sweep_set(&s, "sma", i, name, sizeof(name), keys, vals, &n), 0);
        ck_assert_str_eq(name, want[i]);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(keys[0], "fast");
        ck_assert_str_eq(keys[1], "slow");
    }
    ck_assert_str_eq(vals[0], "5");
    ck_assert_str_eq(vals[1], "40");
    ck_assert_int_eq(sweep_set(&s, "sma", 0, name, 8, keys, vals, &n), -1); /* too long */
    sweep_release(&s);
}
END_TEST

START_TEST(test_refusals)
{
    struct sweep s = {0};
    char err[1024];
    static const char *const bad[] = {"sma=3,5",     "sma.=3",     ".fast=3",      "sma.fast",
                                      "sma.fast=",   "sma.fast=3,", "sma.fast=a b", "sma.fast=3;5",
                                      "sma.fast=1,,2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        ck_assert_msg(sweep_add(&s, bad[i], err, sizeof(err)) == -1, "%s accepted", bad[i]);
        ck_assert_msg(err[0] != 0, "%s: no message", bad[i]);
    }
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(sweep_add(&s, "sma.fast=3", err, sizeof(err)), 0);
    ck_assert_int_eq(sweep_add(&s, "sma.fast=4", err, sizeof(err)), -1); /* swept twice */
    /* more than SWEEP_MAX_SETS: 101 x 100 */
    char big[1024] = "sma.a=0";
    for (int i = 1; i < 101; i++)
        snprintf(big + strlen(big), sizeof(big) - strlen(big), ",%d", i);
    ck_assert_int_eq(sweep_add(&s, big, err, sizeof(err)), 0); /* 101 sets */
    big[4] = 'b';
    big[strlen(big) - 4] = 0; /* "sma.b=0,...,99": 100 values */
    ck_assert_int_eq(sweep_add(&s, big, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "at most") != NULL, "%s", err);
    sweep_release(&s);

    char *st, *k, *v;
    ck_assert_int_eq(sweep_split_kv("my.strat.key=a=b", &st, &k, &v, err, sizeof(err)), 0);
    ck_assert_str_eq(st, "my.strat");
    ck_assert_str_eq(k, "key");
    ck_assert_str_eq(v, "a=b");
    free(st);
    free(k);
    free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_grid_order_and_names);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
