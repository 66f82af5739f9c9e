#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last[512];
static int lines;

static void capture(enum log_level level, const char *line, void *arg)
{
    (void)level;
    (void)arg;
    snprintf(last, sizeof(last), "%s", line);
    lines++;
}

START_TEST(test_prefix_and_format)
{
    log_set_sink(capture, NULL);
    log_set_level(LOG_LEVEL_INFO);
    LOG_INFO("loader", "loaded '%s' (%d nodes)", "sma", 3);
    ck_assert_str_eq(last, "[loader] loaded 'sma' (3 nodes)");
    LOG_WARN(NULL, "plain");
    ck_assert_str_eq(last, "plain");
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_threshold)
{
    log_set_sink(capture, NULL);
    lines = 0;
    log_set_level(LOG_LEVEL_WARN);
    LOG_INFO("x", "hidden");
    LOG_DEBUG("x", "hidden");
    ck_assert_int_eq(lines, 0);
    LOG_ERROR("x", "shown");
    ck_assert_int_eq(lines, 1);
    log_set_level(LOG_LEVEL_INFO);
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_parse_level)
{
    enum log_level l;
    ck_assert_int_eq(log_parse_level("DEBUG", &l), 0);
    ck_assert_int_eq(l, LOG_LEVEL_DEBUG);
    ck_assert_int_eq(log_parse_level("warning", &l), 0);
    ck_assert_int_eq(l, LOG_LEVEL_WARN);
    ck_assert_int_eq(log_parse_level("loud", &l), -1);
    ck_assert_int_eq(log_parse_level(NULL, &l), -1);
}
END_TEST

START_TEST(test_long_line_truncated)
{
    char big[4000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_set_sink(capture, NULL);
    LOG_ERROR("x", "%s", big);
    ck_assert_uint_eq(strlen(last), sizeof(last) - 1);
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(test_escape)
{
    char out[64];
    ck_assert_str_eq(log_escape("a\nb\r\tc\\d\x1b[0m\x7f", 100, out, sizeof(out)),
                     "a\\nb\\r\\tc\\\\d\\x1b[0m\\x7f");
    /* reads at most 'max' bytes: no NUL needed within them */
    const char raw[4] = {'x', 'y', 'z', 'w'};
    ck_assert_str_eq(log_escape(raw, 3, out, sizeof(out)), "xyz");
    /* truncated on a whole escape, always terminated */
    ck_assert_str_eq(log_escape("ab\n", 10, out, 4), "ab");
    ck_assert_str_eq(log_escape(NULL, 10, out, sizeof(out)), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_prefix_and_format);
    tcase_add_test(tc, test_threshold);
    tcase_add_test(tc, test_parse_level);
    tcase_add_test(tc, test_long_line_truncated);
    tcase_add_test(tc, test_escape);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
