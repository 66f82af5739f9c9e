/* canonjson: canonical params JSON (sorted keys, compact, raw UTF-8, exclusions). */
#include "canonjson.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_text(const char *json_in, unsigned flags, const char *want)
{
    json_error_t je;
    json_t *v = json_loads(json_in, JSON_DECODE_ANY, &je);
    ck_assert_msg(v != NULL, "bad test json: %s", je.text);
    char err[256] = "";
    size_t len = 0;
    char *s = canonjson_dump(v, flags, "params", &len, err, sizeof(err));
    ck_assert_msg(s != NULL, "error: %s", err);
    ck_assert_str_eq(s, want);
    ck_assert_uint_eq(len, strlen(want));
    free(s);
    json_decref(v);
}

START_TEST(test_sorted_compact)
{
    expect_text("{\"b\": 1, \"a\": {\"z\": [1, 2, {\"y\": 0, \"x\": null}], \"c\": true}}", 0,
                "{\"a\":{\"c\":true,\"z\":[1,2,{\"x\":null,\"y\":0}]},\"b\":1}");
    expect_text("{}", 0, "{}");
    expect_text("[]", 0, "[]");
    expect_text("null", 0, "null");
    expect_text("[false, true, null, -7, 9223372036854775807, -9223372036854775808]", 0,
                "[false,true,null,-7,9223372036854775807,-9223372036854775808]");
    /* code point order: upper case before lower case, non-ASCII after ASCII, and
     * U+00FC before U+65E5 (UTF-8 byte order is code point order) */
    expect_text("{\"\xe6\x97\xa5\": 1, \"\xc3\xbc\": 2, \"a\": 3, \"Z\": 4, \"\": 5}", 0,
                "{\"\":5,\"Z\":4,\"a\":3,\"\xc3\xbc\":2,\"\xe6\x97\xa5\":1}");
    /* a key that is a prefix of another sorts first */
    expect_text("{\"ab\": 1, \"a\": 2}", 0, "{\"a\":2,\"ab\":1}");
}
END_TEST

START_TEST(test_reals)
{
    expect_text("[60.0, 1e-7, 1e16, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 1E2]", 0,
                "[60.0,1e-07,1e+16,0.1,-0.0,5e-324,1.7976931348623157e+308,100.0]");
}
END_TEST

START_TEST(test_strings)
{
    /* escapes as the reference's ensure_ascii=False: \" \\ \n \r \t \b \f, other control
     * characters as lowercase \u00XX; DEL and non-ASCII stay raw */
    json_t *v = json_stringn("q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8/\0z", 25);
    ck_assert_ptr_nonnull(v);
    char err[128];
    char *s = canonjson_dump(v, 0, NULL, NULL, err, sizeof(err));
    ck_assert_str_eq(s, "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f\xc3\xa9\xe2\x80\xa8/"
                        "\\u0000z\"");
    free(s);
    json_decref(v);
    /* keys are escaped the same way */
    expect_text("{\"a\\\"b\": \"\\u00e9\"}", 0, "{\"a\\\"b\":\"\xc3\xa9\"}");
}
END_TEST

START_TEST(test_exclusions)
{
    expect_text("{\"alpha\": 1, \"World_ID\": 2, \"nested\": {\"DOMAIN\": 1, \"keep\": "
                "[{\"as_of\": 1, \"Partition\": 2, \"k\": null}]}, \"env\": 1, \"ENV_x\": 2, "
                "\"env_\": 3, \"environment\": 4, \"envx\": 5, \"Seed\": 6, \"random_state\": 7, "
                "\"timestamp\": 8, \"dataset_fingerprint\": 9, \"world\": 1, \"world_ids\": 1, "
                "\"execution_world\": 1, \"execution_domain\": 1, \"domains\": 1}",
                CANONJSON_EXCLUDE,
                "{\"alpha\":1,\"environment\":4,\"envx\":5,\"nested\":{\"keep\":[{\"k\":null}]}}");
    /* without the flag nothing is dropped */
    expect_text("{\"seed\": 1, \"a\": 2}", 0, "{\"a\":2,\"seed\":1}");
    ck_assert(canonjson_key_excluded("Execution_Domain"));
    ck_assert(canonjson_key_excluded("env_"));
    ck_assert(canonjson_key_excluded("eNv_PATH"));
    ck_assert(!canonjson_key_excluded("en"));
    ck_assert(!canonjson_key_excluded(""));
    ck_assert(!canonjson_key_excluded("seeds"));
    ck_assert(!canonjson_key_excluded("world_"));
    ck_assert(!canonjson_key_excluded("\xe2\x84\xaa")); /* KELVIN SIGN */
}
END_TEST

START_TEST(test_non_finite_refused)
{
    /* jansson itself refuses to hold NaN/Infinity (json_real returns NULL and the parser
     * rejects the tokens), so a non-finite real can never reach the serializer through
     * jansson; numfmt's refusal is tested in check_numfmt. Pin jansson's behaviour here
     * because the "no NaN in canonical JSON" rule relies on it. */
    ck_assert_ptr_null(json_real(NAN));
    ck_assert_ptr_null(json_real(INFINITY));
    json_t *r = json_real(1.0);
    ck_assert_int_eq(json_real_set(r, NAN), -1);
    json_decref(r);
    json_error_t je;
    ck_assert_ptr_null(json_loads("{\"a\": NaN}", 0, &je));
    ck_assert_ptr_null(json_loads("[Infinity]", 0, &je));
    ck_assert_ptr_null(json_loads("[1e999]", 0, &je));
}
END_TEST

START_TEST(test_depth_limit)
{
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < CANONJSON_MAX_DEPTH + 5; i++) {
        json_t *n = json_array();
        json_array_append_new(cur, n);
        cur = n;
    }
    char err[512] = "";
    ck_assert_ptr_null(canonjson_dump(root, 0, "params", NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    json_decref(root);
}
END_TEST

START_TEST(test_append_string)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ck_assert_int_eq(canonjson_append_string(&buf, &len, &cap, "a\"", 2), 0);
    ck_assert_int_eq(canonjson_append_string(&buf, &len, &cap, "\n", 1), 0);
    ck_assert_str_eq(buf, "\"a\\\"\"\"\\n\"");
    ck_assert_uint_eq(len, strlen(buf));
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("canonjson");
    TCase *tc = tcase_create("canonjson");
    tcase_add_test(tc, test_sorted_compact);
    tcase_add_test(tc, test_reals);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_exclusions);
    tcase_add_test(tc, test_non_finite_refused);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_append_string);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
