/* Unit tests for common/bearer.c: token comparison, header parsing, loopback test. */
#include "bearer.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_equal)
{
    ck_assert_int_eq(bearer_equal("abc", "abc"), 1);
    ck_assert_int_eq(bearer_equal("abd", "abc"), 0);
    ck_assert_int_eq(bearer_equal("ab", "abc"), 0);
    ck_assert_int_eq(bearer_equal("abcd", "abc"), 0);
    ck_assert_int_eq(bearer_equal("", ""), 0); /* an empty expected token never matches */
    ck_assert_int_eq(bearer_equal(NULL, "abc"), 0);
    ck_assert_int_eq(bearer_equal("abc", NULL), 0);
}
END_TEST

START_TEST(test_from_header)
{
    ck_assert_str_eq(bearer_from_header("Bearer tok"), "tok");
    ck_assert_str_eq(bearer_from_header("bearer   tok"), "tok");
    ck_assert_ptr_null(bearer_from_header("Basic dXNlcg=="));
    ck_assert_ptr_null(bearer_from_header("Bearer "));
    ck_assert_ptr_null(bearer_from_header("Bearer"));
    ck_assert_ptr_null(bearer_from_header(NULL));
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert_int_eq(bearer_host_is_loopback("127.0.0.1"), 1);
    ck_assert_int_eq(bearer_host_is_loopback("127.1.2.3"), 1);
    ck_assert_int_eq(bearer_host_is_loopback("::1"), 1);
    ck_assert_int_eq(bearer_host_is_loopback("localhost"), 1);
    ck_assert_int_eq(bearer_host_is_loopback("0.0.0.0"), 0);
    ck_assert_int_eq(bearer_host_is_loopback("::"), 0);
    ck_assert_int_eq(bearer_host_is_loopback("10.0.0.1"), 0);
    ck_assert_int_eq(bearer_host_is_loopback("128.0.0.1"), 0);
    ck_assert_int_eq(bearer_host_is_loopback(""), 0);
    ck_assert_int_eq(bearer_host_is_loopback("example.com"), 0);
    ck_assert_int_eq(bearer_host_is_loopback(NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bearer");
    TCase *tc = tcase_create("bearer");
    tcase_add_test(tc, test_equal);
    tcase_add_test(tc, test_from_header);
    tcase_add_test(tc, test_loopback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
