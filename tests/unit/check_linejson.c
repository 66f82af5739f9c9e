/* linejson: one line of JSON into a bar (host/data/linejson.h). */
#include "host/data/linejson.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a copy of 'text' (with the spare byte the parser needs). */
static int parse(const char *text, struct linejson_item *it, char *why, size_t whylen,
                 char *buf, size_t buflen)
{
    size_t n = strlen(text);
    ck_assert_uint_lt(n, buflen);
    memcpy(buf, text, n);
    buf[n] = 'X'; /* the parser must not read it */
    return linejson_parse(buf, n, 0, it, why, whylen);
}

static void ok_line(const char *text, struct linejson_item *it, char *buf, size_t buflen)
{
    char why[200] = "";
    int rc = parse(text, it, why, sizeof(why), buf, buflen);
    ck_assert_msg(rc == 1, "'%s': rc %d: %s", text, rc, why);
}

static void bad_line(const char *text, const char *want)
{
    char buf[512], why[200] = "";
    struct linejson_item it;
    int rc = parse(text, &it, why, sizeof(why), buf, sizeof(buf));
    ck_assert_msg(rc == -1, "'%s' accepted", text);
    ck_assert_msg(strstr(why, want) != NULL, "'%s': got '%s', want '%s'", text, why, want);
}

START_TEST(test_bar)
{
    char buf[512];
    struct linejson_item it;
    ok_line("{\"tags\":[\"BTC\",\"spot\"],\"ts\":1704067200,\"open\":100,\"high\":105.5,"
            "\"low\":99,\"close\":101.25,\"volume\":12}",
            &it, buf, sizeof(buf));
    ck_assert_uint_eq(it.n_tags, 2);
    ck_assert_str_eq(it.tags[0], "BTC");
    ck_assert_str_eq(it.tags[1], "spot");
    ck_assert_ptr_null(it.tags[2]);
    ck_assert_int_eq(it.ts, 1704067200);
    ck_assert_int_eq(it.ts_ms, 1704067200000LL);
    ck_assert_int_eq(it.is_bar, 1);
    ck_assert(it.bar.open == 100 && it.bar.high == 105.5 && it.bar.low == 99);
    ck_assert(it.bar.close == 101.25 && it.bar.volume == 12);
}
END_TEST

START_TEST(test_tick_and_ms)
{
    char buf[512];
    struct linejson_item it;
    /* spaces, a string tag, "price", milliseconds, a CR line end */
    ok_line(" { \"tags\" : \"ETH\" , \"ts\" : 1704067200123 , \"price\" : 2000.5 } \r", &it, buf,
            sizeof(buf));
    ck_assert_uint_eq(it.n_tags, 1);
    ck_assert_str_eq(it.tags[0], "ETH");
    ck_assert_int_eq(it.ts, 1704067200);
    ck_assert_int_eq(it.ts_ms, 1704067200123LL);
    ck_assert_int_eq(it.is_bar, 0);
    ck_assert(it.bar.open == 2000.5 && it.bar.high == 2000.5 && it.bar.low == 2000.5);
    ck_assert(it.bar.volume == 0);
    /* seconds with a fraction, exponent numbers, open only: high/low from open and close */
    ok_line("{\"ts\":1704067200.75,\"close\":1.5e2,\"open\":140,\"tags\":[\"X\"]}", &it, buf,
            sizeof(buf));
    ck_assert_int_eq(it.ts, 1704067200);
    ck_assert_int_eq(it.ts_ms, 1704067200750LL);
    ck_assert(it.bar.close == 150 && it.bar.high == 150 && it.bar.low == 140);
    ck_assert_int_eq(it.is_bar, 1);
    /* an ISO-8601 string */
    ok_line("{\"tags\":[\"X\"],\"ts\":\"2024-01-01T00:00:05Z\",\"close\":3}", &it, buf,
            sizeof(buf));
    ck_assert_int_eq(it.ts, 1704067205);
    ck_assert_int_eq(it.ts_ms, 1704067205000LL);
}
END_TEST

START_TEST(test_blank)
{
    char buf[16] = "   \r";
    struct linejson_item it;
    char why[100];
    ck_assert_int_eq(linejson_parse(buf, 4, 0, &it, why, sizeof(why)), 0);
    ck_assert_int_eq(linejson_parse(buf, 0, 0, &it, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_refused)
{
    bad_line("[1,2]", "expected a JSON object");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1,\"clsoe\":2}", "unknown key 'clsoe'");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1,\"price\":2}", "given twice");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":\"1\"}", "close is not a number");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":NaN}", "close is not a number");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":01}", "expected ',' or '}'");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1e999}", "close is out of range");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1} x", "bytes after the object");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1", "expected ',' or '}'");
    bad_line("{\"ts\":1,\"close\":1}", "no tags");
    bad_line("{\"tags\":[\"X\"],\"close\":1}", "no ts");
    bad_line("{\"tags\":[\"X\"],\"ts\":1}", "no close");
    bad_line("{\"tags\":[],\"ts\":1,\"close\":1}", "at least one tag");
    bad_line("{\"tags\":[\"a b\"],\"ts\":1,\"close\":1}", "invalid tag 'a b'");
    bad_line("{\"tags\":[\"X\",\"X\"],\"ts\":1,\"close\":1}", "duplicate tag");
    bad_line("{\"tags\":[\"X\\u0041\"],\"ts\":1,\"close\":1}", "escape sequence");
    bad_line("{\"tags\":[\"X\"],\"ts\":-5,\"close\":1}", "bad ts '-5'");
    bad_line("{\"tags\":[\"X\"],\"ts\":\"2024-02-30\",\"close\":1}", "bad day");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":-1}", "non-positive close -1");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":5,\"high\":4,\"low\":6}", "high 4 below low 6");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":5,\"volume\":-1}", "negative volume");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1,\"tags\":[\"Y\"]}", "given twice");
    bad_line("{\"tags\":[\"X\"],\"ts\":1,\"close\":1,\"open\":null}", "open is not a number");
    bad_line("{\"tags\":\"X\",\"ts\":1,\"close\":1,\"x", "unterminated string");
    char many[512] = "{\"tags\":[";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"t%d\"", i ? "," : "", i);
    strcat(many, "],\"ts\":1,\"close\":1}");
    bad_line(many, "too many tags");
}
END_TEST

START_TEST(test_nonpositive_flag)
{
    char buf[128] = "{\"tags\":[\"S\"],\"ts\":1,\"close\":-2.5}";
    struct linejson_item it;
    char why[160];
    ck_assert_int_eq(linejson_parse(buf, strlen(buf), LINEJSON_ALLOW_NONPOSITIVE, &it, why,
                                    sizeof(why)),
                     1);
    ck_assert(it.bar.close == -2.5);
}
END_TEST

/* LINEJSON_TAGS_OPTIONAL (an input with tags of its own): no "tags" passes with none; tags
 * given are still checked. Without the flag, no tags is refused. */
START_TEST(test_tags_optional_flag)
{
    char buf[128] = "{\"ts\":1,\"close\":2}";
    struct linejson_item it;
    char why[160] = "";
    ck_assert_int_eq(linejson_parse(buf, strlen(buf), LINEJSON_TAGS_OPTIONAL, &it, why,
                                    sizeof(why)),
                     1);
    ck_assert_uint_eq(it.n_tags, 0);
    ck_assert(it.bar.close == 2);
    snprintf(buf, sizeof(buf), "{\"ts\":1,\"close\":2}");
    ck_assert_int_eq(linejson_parse(buf, strlen(buf), 0, &it, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "no tags");
    snprintf(buf, sizeof(buf), "{\"tags\":[],\"ts\":1,\"close\":2}");
    ck_assert_int_eq(linejson_parse(buf, strlen(buf), LINEJSON_TAGS_OPTIONAL, &it, why,
                                    sizeof(why)),
                     -1);
    snprintf(buf, sizeof(buf), "{\"tags\":\"a b\",\"ts\":1,\"close\":2}");
    ck_assert_int_eq(linejson_parse(buf, strlen(buf), LINEJSON_TAGS_OPTIONAL, &it, why,
                                    sizeof(why)),
                     -1);
}
END_TEST

/* A NUL inside the line ends nothing: the parser reads 'len' bytes and refuses it. */
START_TEST(test_embedded_nul)
{
    char buf[64] = "{\"tags\":[\"X\"],\"ts\":1,\"close\":1}";
    size_t n = strlen(buf);
    buf[20] = '\0';
    struct linejson_item it;
    char why[160];
    ck_assert_int_eq(linejson_parse(buf, n, 0, &it, why, sizeof(why)), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linejson");
    TCase *tc = tcase_create("linejson");
    tcase_add_test(tc, test_bar);
    tcase_add_test(tc, test_tick_and_ms);
    tcase_add_test(tc, test_blank);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_nonpositive_flag);
    tcase_add_test(tc, test_embedded_nul);
    tcase_add_test(tc, test_tags_optional_flag);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
