/* suggest: edit distance and the "did you mean" rule shared by config keys and options. */
#include "suggest.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_distance)
{
    ck_assert_int_eq(suggest_distance("port", "port"), 0);
    ck_assert_int_eq(suggest_distance("prot", "port"), 1); /* adjacent swap */
    ck_assert_int_eq(suggest_distance("kitten", "sitting"), 3);
    ck_assert_int_eq(suggest_distance("", "abc"), 3);
    ck_assert_int_eq(suggest_distance("ofline", "offline"), 1);
    char longw[80];
    memset(longw, 'a', sizeof(longw) - 1);
    longw[sizeof(longw) - 1] = '\0';
    ck_assert_int_eq(suggest_distance(longw, "a"), 255);
}
END_TEST

static const char *best_of(const char *word, const char *const *cands)
{
    struct suggest s;
    suggest_init(&s, word);
    for (; *cands; cands++)
        suggest_add(&s, *cands);
    return suggest_best(&s);
}

START_TEST(test_best)
{
    static const char *const opts[] = {"offline", "config", "plugins", "data", "", NULL};
    ck_assert_str_eq(best_of("ofline", opts), "offline");
    ck_assert_str_eq(best_of("confgi", opts), "config");
    ck_assert_str_eq(best_of("data", opts), "data");
    ck_assert_ptr_null(best_of("frobnicate", opts));
    /* short words allow one edit only: "dx" is 2 edits from "data" */
    ck_assert_ptr_null(best_of("dx", opts));
    ck_assert_str_eq(best_of("dat", opts), "data");
    /* ties go to the first candidate */
    static const char *const tie[] = {"host", "port", NULL};
    ck_assert_str_eq(best_of("hort", tie), "host");
    static const char *const none[] = {NULL};
    ck_assert_ptr_null(best_of("x", none));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("suggest");
    tcase_add_test(tc, test_distance);
    tcase_add_test(tc, test_best);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
