/* base64: both alphabets, padding rules, refusals, and a round trip over random bytes. */
#include "base64.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static void expect_decode(const char *in, enum base64_alphabet a, const char *want)
{
    size_t n = 0;
    unsigned char *d = base64_decode(in, strlen(in), &n, a);
    ck_assert_msg(d != NULL, "decoding '%s' failed", in);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(d, want, n);
    ck_assert_int_eq(d[n], '\0');
    free(d);
}

START_TEST(test_rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    for (int i = 0; i < 7; i++) {
        ck_assert_uint_eq(base64_encode_nopad((const unsigned char *)plain[i], strlen(plain[i]),
                                              out, BASE64_STD),
                          strlen(enc[i]));
        ck_assert_str_eq(out, enc[i]);
        expect_decode(enc[i], BASE64_STD, plain[i]);
    }
    expect_decode("Zg==", BASE64_STD, "f"); /* padding accepted */
    expect_decode("Zm8=", BASE64_URL, "fo");
}
END_TEST

START_TEST(test_alphabets)
{
    char out[16];
    base64_encode_nopad((const unsigned char *)"\xfb\xff", 2, out, BASE64_URL);
    ck_assert_str_eq(out, "-_8");
    base64_encode_nopad((const unsigned char *)"\xfb\xff", 2, out, BASE64_STD);
    ck_assert_str_eq(out, "+/8");
    expect_decode("-_8", BASE64_URL, "\xfb\xff");
    expect_decode("+/8", BASE64_STD, "\xfb\xff");
    size_t n;
    ck_assert_ptr_null(base64_decode("+/8", 3, &n, BASE64_URL));
    ck_assert_ptr_null(base64_decode("-_8", 3, &n, BASE64_STD));
    ck_assert_ptr_null(base64_decode("abcde", 5, &n, BASE64_STD)); /* impossible length */
    ck_assert_ptr_null(base64_decode("ab c", 4, &n, BASE64_STD));  /* whitespace */
    ck_assert_ptr_null(base64_decode("{\"a\"", 4, &n, BASE64_STD)); /* JSON is not base64 */
}
END_TEST

START_TEST(test_round_trip_random)
{
    unsigned char in[300], enc[512];
    srand(7);
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(rand() % 300);
        for (size_t i = 0; i < len; i++)
            in[i] = (unsigned char)rand();
        enum base64_alphabet a = (round & 1) ? BASE64_URL : BASE64_STD;
        size_t el = base64_encode_nopad(in, len, (char *)enc, a);
        size_t n = 0;
        unsigned char *d = base64_decode((const char *)enc, el, &n, a);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(d, in, len);
        free(d);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("base64");
    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_alphabets);
    tcase_add_test(tc, test_round_trip_random);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
