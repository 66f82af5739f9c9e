/* exec_domain: the one effective_mode -> execution domain table (DESIGN section 7). */
#include "exec_domain.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_mode_to_domain)
{
    static const struct {
        const char *mode;
        int want;
    } cases[] = {
        {"validate", EXEC_BACKTEST},
        {"compute-only", EXEC_BACKTEST},
        {"compute_only", EXEC_BACKTEST},
        {"backtest", EXEC_BACKTEST},
        {"Simulation", EXEC_BACKTEST},
        {"paper", EXEC_DRYRUN},
        {"papertrade", EXEC_DRYRUN},
        {"paper_trading", EXEC_DRYRUN},
        {"Paper-Trade", EXEC_DRYRUN},
        {"dryrun", EXEC_DRYRUN},
        {" dry-run ", EXEC_DRYRUN},
        {"live", EXEC_LIVE},
        {"active", EXEC_LIVE},
        {"prod", EXEC_LIVE},
        {"live/us", EXEC_LIVE},
        {"paper:x", EXEC_DRYRUN},
        {"shadow", EXEC_SHADOW},
        {"default", -1},
        {"", -1},
        {"bogus", -1},
        {"- _", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(exec_mode_to_domain(cases[i].mode) == cases[i].want, "mode '%s'",
                      cases[i].mode);
    ck_assert_int_eq(exec_mode_to_domain(NULL), -1);
    ck_assert_str_eq(exec_domain_name(EXEC_DRYRUN), "dryrun");
    ck_assert_str_eq(exec_domain_name(EXEC_BACKTEST), "backtest");
    ck_assert_str_eq(exec_domain_name(EXEC_LIVE), "live");
    ck_assert_str_eq(exec_domain_name(EXEC_SHADOW), "shadow");
    ck_assert_str_eq(exec_domain_name(-1), "backtest");
}
END_TEST

/* The modes a world accepts (validate, compute-only, paper, live, shadow) map exactly as
 * DESIGN section 7 says: the gateway's /decide and the attached host both read this. */
START_TEST(test_world_modes)
{
    ck_assert_int_eq(exec_mode_to_domain("validate"), EXEC_BACKTEST);
    ck_assert_int_eq(exec_mode_to_domain("compute-only"), EXEC_BACKTEST);
    ck_assert_int_eq(exec_mode_to_domain("paper"), EXEC_DRYRUN);
    ck_assert_int_eq(exec_mode_to_domain("live"), EXEC_LIVE);
    ck_assert_int_eq(exec_mode_to_domain("shadow"), EXEC_SHADOW);
    char long_mode[200];
    for (size_t i = 0; i < sizeof(long_mode) - 1; i++)
        long_mode[i] = 'a';
    long_mode[sizeof(long_mode) - 1] = 0;
    ck_assert_int_eq(exec_mode_to_domain(long_mode), -1);
    /* the accepted spellings are exact (aliases are for reading, not for setting) and
     * every one of them has a domain */
    char list[] = EXEC_WORLD_MODES;
    int n = 0;
    for (char *save = NULL, *m = strtok_r(list, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
        ck_assert_msg(exec_mode_is_world_mode(m), "%s", m);
        ck_assert_int_ge(exec_mode_to_domain(m), 0);
        n++;
    }
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(exec_mode_is_world_mode("papertrade"), 0);
    ck_assert_int_eq(exec_mode_is_world_mode("Live"), 0);
    ck_assert_int_eq(exec_mode_is_world_mode(""), 0);
    ck_assert_int_eq(exec_mode_is_world_mode(NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exec_domain");
    TCase *tc = tcase_create("exec_domain");
    tcase_add_test(tc, test_mode_to_domain);
    tcase_add_test(tc, test_world_modes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
