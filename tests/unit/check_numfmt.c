/* numfmt: shortest round-trip double text in the reference's repr layout. */
#include "numfmt.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

static void expect(double v, const char *want)
{
    char buf[NUMFMT_DOUBLE_MAX];
    int n = numfmt_double(v, buf, sizeof(buf));
    ck_assert_msg(n == (int)strlen(want) && strcmp(buf, want) == 0,
                  "bits %016llx: got '%s', want '%s'", (unsigned long long)to_bits(v), buf, want);
}

START_TEST(test_fixed_forms)
{
    /* every float of tests/data/vectors/nodeid.json "float_forms" */
    expect(60.0, "60.0");
    expect(1e-07, "1e-07");
    expect(1e+16, "1e+16");
    expect(0.1 + 0.2, "0.30000000000000004");
    expect(-2.5, "-2.5");
    expect(123456789.125, "123456789.125");
    expect(1e+22, "1e+22");
    expect(5e-324, "5e-324");
    expect(1.7976931348623157e+308, "1.7976931348623157e+308");
    expect(100.0, "100.0");
    expect(0.0001, "0.0001");
    expect(1e-05, "1e-05");
    /* layout edges */
    expect(0.0, "0.0");
    expect(-0.0, "-0.0");
    expect(1234567890123456.0, "1234567890123456.0");
    expect(9999999999999998.0, "9999999999999998.0");
    expect(1e15, "1000000000000000.0");
    expect(12345678901234567.0, "1.2345678901234568e+16");
    expect(0.00012345, "0.00012345");
    expect(1.2345e-05, "1.2345e-05");
    expect(0.6, "0.6");
    expect(1.0 / 3.0, "0.3333333333333333");
    expect(2.0 / 3.0, "0.6666666666666666");
    expect(1e23, "1e+23");
    expect(1e100, "1e+100");
    expect(1.5e-300, "1.5e-300");
    expect(2.2250738585072014e-308, "2.2250738585072014e-308"); /* smallest normal */
    expect(2.225073858507201e-308, "2.225073858507201e-308");   /* largest subnormal */
    expect(9007199254740993.0, "9007199254740992.0");
    expect(-123.456, "-123.456");
    expect(3.0, "3.0");
    expect(10.0, "10.0");
    /* powers of two, where the gap below is half the gap above: the shortest string lies
     * above the nearest one of the same length */
    expect(from_bits(0x3d30000000000000ULL), "5.684341886080802e-14");
    expect(from_bits(0x0420000000000000ULL), "8.209073602596753e-289");
    expect(from_bits(0x1730000000000000ULL), "5.351097043477547e-197");
}
END_TEST

START_TEST(test_refused)
{
    char buf[NUMFMT_DOUBLE_MAX];
    ck_assert_int_eq(numfmt_double(NAN, buf, sizeof(buf)), -1);
    ck_assert_int_eq(numfmt_double(INFINITY, buf, sizeof(buf)), -1);
    ck_assert_int_eq(numfmt_double(-INFINITY, buf, sizeof(buf)), -1);
    /* too small a buffer is refused, not truncated */
    ck_assert_int_eq(numfmt_double(0.1, buf, 3), -1);
    ck_assert_int_eq(numfmt_double(0.1, buf, 4), 3);
    ck_assert_str_eq(buf, "0.1");
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int reads_back(const char *digits, int nd, int exp10, double v)
{
    char buf[64];
    if (nd == 1)
        snprintf(buf, sizeof(buf), "%ce%d", digits[0], exp10);
    else
        snprintf(buf, sizeof(buf), "%c.%.*se%d", digits[0], nd - 1, digits + 1, exp10);
    double back = strtod(buf, NULL);
    return to_bits(back) == to_bits(v);
}

/* The (p)-digit decimals just below and above |v|: the nearest one from printf, and its
 * neighbours one unit away. If none of them reads back, no p-digit string does (the
 * round-trip interval is an interval around v). */
static int some_shorter_reads_back(double v, int p)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*e", p - 1, fabs(v));
    char d[24];
    int nd = 0;
    const char *s = buf;
    for (; *s != 'e'; s++)
        if (*s != '.')
            d[nd++] = *s;
    d[nd] = '\0';
    int e = atoi(s + 1);
    long long m = atoll(d);
    for (int delta = -1; delta <= 1; delta++) {
        long long mm = m + delta;
        int ee = e;
        char t[32];
        if (mm <= 0)
            continue;
        snprintf(t, sizeof(t), "%lld", mm);
        if ((int)strlen(t) > p) /* 99..9 + 1 */
            ee++;
        else if ((int)strlen(t) < p) /* 10..0 - 1 */
            ee--;
        if (reads_back(t, (int)strlen(t), ee, fabs(v)))
            return 1;
    }
    return 0;
}

/* Parse our own output back into digits/exponent and check its layout rule. */
static void check_layout(double v, const char *text, const char *digits, int exp10)
{
    int sci = strchr(text, 'e') != NULL;
    ck_assert_msg(sci == (exp10 < -4 || exp10 >= 16), "layout of '%s' (exp %d)", text, exp10);
    if (!sci)
        ck_assert_msg(strchr(text, '.') != NULL && text[strlen(text) - 1] != '.', "'%s'", text);
    else {
        const char *e = strchr(text, 'e');
        ck_assert(e[1] == '+' || e[1] == '-');
        ck_assert_msg(strlen(e + 2) >= 2, "exponent digits of '%s'", text);
    }
    ck_assert(digits[strlen(digits) - 1] != '0' || strlen(digits) == 1);
    ck_assert((text[0] == '-') == (signbit(v) != 0));
}

static void check_one(double v)
{
    char text[NUMFMT_DOUBLE_MAX], digits[20];
    int exp10;
    int n = numfmt_double(v, text, sizeof(text));
    ck_assert_int_gt(n, 0);
    /* strtod reads the text back bit-exactly */
    double back = strtod(text, NULL);
    ck_assert_msg(to_bits(back) == to_bits(v), "%016llx -> '%s' -> %016llx",
                  (unsigned long long)to_bits(v), text, (unsigned long long)to_bits(back));
    if (v == 0)
        return;
    int nd = numfmt_shortest_digits(v, digits, &exp10);
    ck_assert_int_ge(nd, 1);
    ck_assert_int_le(nd, 17);
    ck_assert(reads_back(digits, nd, exp10, fabs(v)));
    /* and no shorter digit string would */
    if (nd > 1)
        ck_assert_msg(!some_shorter_reads_back(v, nd - 1), "'%s' is not the shortest", text);
    check_layout(v, text, digits, exp10);
}

START_TEST(test_random_bit_patterns)
{
    /* 100k random finite bit patterns (all exponents, so subnormals and extremes too);
     * fewer under valgrind, which is ~50x slower */
    long n = getenv("QMTL_VALGRIND") ? 5000 : 100000;
    long done = 0;
    while (done < n) {
        double v = from_bits(next_rand());
        if (!isfinite(v))
            continue;
        check_one(v);
        done++;
    }
}
END_TEST

START_TEST(test_random_special)
{
    long n = getenv("QMTL_VALGRIND") ? 2000 : 20000;
    for (long i = 0; i < n; i++) {
        uint64_t r = next_rand();
        uint64_t sign = (r & 1) << 63;
        uint64_t exp = (next_rand() % 2047) << 52;
        switch (i % 5) {
        case 0:
            check_one(from_bits(sign | exp));
            break; /* powers of two */
        case 1:
            check_one(from_bits(sign | exp | 1));
            break; /* just above */
        case 2:
            check_one(from_bits(sign | (next_rand() & ((1ULL << 52) - 1))));
            break; /* subnormal */
        case 3:
            check_one((double)(int64_t)(next_rand() >> (next_rand() % 64)));
            break; /* ints */
        default:
            check_one((double)(next_rand() % 1000000) / (double)(1 + next_rand() % 1000));
        }
    }
    check_one(from_bits(0x7fefffffffffffffULL)); /* max */
    check_one(from_bits(0x0000000000000001ULL)); /* min subnormal */
    check_one(from_bits(0x0010000000000000ULL)); /* min normal */
    check_one(from_bits(0x000fffffffffffffULL)); /* max subnormal */
}
END_TEST

int main(void)
{
    if (getenv("QMTL_TEST_SEED"))
        rng = strtoull(getenv("QMTL_TEST_SEED"), NULL, 0) | 1;
    Suite *s = suite_create("numfmt");
    TCase *tc = tcase_create("numfmt");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fixed_forms);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_random_bit_patterns);
    tcase_add_test(tc, test_random_special);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
