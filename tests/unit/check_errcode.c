/* errcode: every status code of <qmtl/qmtl.h> has a name and a meaning. */
#include "host/errcode.h"

#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmtl/qmtl.h>

START_TEST(test_text)
{
    char buf[64];
    ck_assert_str_eq(errcode_text(QMTL_EINVAL, buf, sizeof(buf)), "QMTL_EINVAL (invalid argument)");
    ck_assert_str_eq(errcode_text(-3, buf, sizeof(buf)), "QMTL_EINVAL (invalid argument)");
    ck_assert_str_eq(errcode_text(QMTL_ERR, buf, sizeof(buf)), "QMTL_ERR (generic failure)");
    ck_assert_str_eq(errcode_text(-42, buf, sizeof(buf)), "-42 (not a qmtl status code)");
    ck_assert_str_eq(errcode_text(7, buf, sizeof(buf)), "7 (not a qmtl status code)");
    ck_assert_ptr_null(errcode_name(-42));
    ck_assert_ptr_null(errcode_meaning(-42));
    char small[8];
    ck_assert_str_eq(errcode_text(QMTL_ENOMEM, small, sizeof(small)), "QMTL_EN");
}
END_TEST

/* Read the enum out of the SDK header itself: a code added there without a name in the
 * table fails here. */
START_TEST(test_every_code_of_the_header)
{
    FILE *f = fopen("sdk/include/qmtl/qmtl.h", "r");
    ck_assert_ptr_nonnull(f);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^[ \t]*(QMTL_[A-Z]+)[ \t]*=[ \t]*(-?[0-9]+)", REG_EXTENDED), 0);
    char line[512];
    int in_enum = 0, seen = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "enum qmtl_status"))
            in_enum = 1;
        else if (in_enum && strchr(line, '}'))
            in_enum = 0;
        regmatch_t m[3];
        if (!in_enum || regexec(&re, line, 3, m, 0) != 0)
            continue;
        line[m[1].rm_eo] = '\0';
        int code = atoi(line + m[2].rm_so);
        const char *name = line + m[1].rm_so;
        ck_assert_msg(errcode_name(code) && !strcmp(errcode_name(code), name),
                      "%s (%d) is named '%s'", name, code,
                      errcode_name(code) ? errcode_name(code) : "(nothing)");
        ck_assert_ptr_nonnull(errcode_meaning(code));
        seen++;
    }
    regfree(&re);
    fclose(f);
    ck_assert_int_ge(seen, 8);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errcode");
    TCase *tc = tcase_create("errcode");
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_every_code_of_the_header);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
