/* datacheck: the rules every input bar must pass. */
#include "host/data/datacheck.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct qmtl_bar bar(double o, double h, double l, double c, double v)
{
    struct qmtl_bar b = {.open = o, .high = h, .low = l, .close = c, .volume = v};
    return b;
}

static void refused(struct qmtl_bar b, unsigned flags, const char *want)
{
    char why[160] = "";
    ck_assert_int_eq(datacheck_bar(&b, flags, why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, want) != NULL, "got '%s', want '%s'", why, want);
}

static void passed(struct qmtl_bar b, unsigned flags)
{
    char why[160] = "";
    ck_assert_msg(datacheck_bar(&b, flags, why, sizeof(why)) == 0, "%s", why);
}

START_TEST(test_rules)
{
    passed(bar(10, 12, 9, 11, 5), 0);
    passed(bar(10, 10, 10, 10, 0), 0); /* a price-only row */
    refused(bar(10, 12, 9, 0, 5), 0, "non-positive close 0");
    refused(bar(-1, 12, -2, 11, 5), 0, "non-positive open -1");
    refused(bar(10, 12, -9, 11, 5), 0, "non-positive low -9");
    refused(bar(10, 9, 12, 11, 5), 0, "high 9 below low 12");
    passed(bar(8, 12, 9, 13, 5), 0); /* a settlement close outside the traded range */
    refused(bar(10, 12, 9, 11, -1), 0, "negative volume -1");
    refused(bar(10, 12, 9, NAN, 5), 0, "close is not a finite number");
    refused(bar(10, INFINITY, 9, 11, 5), 0, "high is not a finite number");
    refused(bar(10, 12, 9, 11, INFINITY), 0, "volume is not a finite number");
    refused(bar(10, 12, 9, 11, NAN), 0, "volume is not a finite number");
}
END_TEST

START_TEST(test_allow_nonpositive)
{
    unsigned f = DATACHECK_ALLOW_NONPOSITIVE;
    passed(bar(-1, 0.5, -2, 0, 5), f);
    passed(bar(0, 0, 0, 0, 0), f);
    /* everything else still holds */
    refused(bar(-1, -3, -2, -2.5, 5), f, "high -3 below low -2");
    refused(bar(-1, 0, -2, NAN, 5), f, "not a finite number");
    refused(bar(-1, 0, -2, -1, -5), f, "negative volume");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("datacheck");
    TCase *tc = tcase_create("datacheck");
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_allow_nonpositive);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
