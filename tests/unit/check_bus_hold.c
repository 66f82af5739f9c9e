/* bus_hold: outputs kept in order with their JSON text copied, and the bounds (values,
 * JSON bytes) ending the hold for good. */
#include "host/online/bus_hold.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_order_and_copies)
{
    struct bus_hold *h = bus_hold_new();
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(bus_hold_count(h), 0);
    struct qmtl_value n = qmtl_number(1.5);
    ck_assert_int_eq(bus_hold_add(h, 60, &n), 0);
    char text[] = "{\"a\":1}";
    struct qmtl_value j = {.type = QMTL_T_JSON, .as.json = text};
    ck_assert_int_eq(bus_hold_add(h, 120, &j), 0);
    text[1] = 'X'; /* the caller's buffer changes: the hold kept its own copy */
    ck_assert_uint_eq(bus_hold_count(h), 2);
    int64_t ts;
    struct qmtl_value v;
    bus_hold_get(h, 0, &ts, &v);
    ck_assert_int_eq(ts, 60);
    ck_assert_int_eq(v.type, QMTL_T_NUMBER);
    ck_assert_double_eq(v.as.number, 1.5);
    bus_hold_get(h, 1, &ts, &v);
    ck_assert_int_eq(ts, 120);
    ck_assert_str_eq(v.as.json, "{\"a\":1}");
    ck_assert_int_eq(bus_hold_over(h), 0);
    bus_hold_free(h);
    bus_hold_free(NULL);
}
END_TEST

START_TEST(test_bounds)
{
    struct bus_hold *h = bus_hold_new();
    struct qmtl_value n = qmtl_number(0);
    for (int64_t i = 0; i < BUS_HOLD_MAX; i++)
        ck_assert_int_eq(bus_hold_add(h, i, &n), 0);
    ck_assert_int_eq(bus_hold_add(h, BUS_HOLD_MAX, &n), -1);
    ck_assert_int_eq(bus_hold_over(h), 1);
    ck_assert_uint_eq(bus_hold_count(h), BUS_HOLD_MAX);
    bus_hold_free(h);

    /* JSON text past the byte bound: refused, and nothing is kept after it */
    h = bus_hold_new();
    size_t big = BUS_HOLD_MAX_BYTES / 2;
    char *text = malloc(big);
    ck_assert_ptr_nonnull(text);
    memset(text, ' ', big - 1);
    text[0] = '0';
    text[big - 1] = '\0';
    struct qmtl_value j = {.type = QMTL_T_JSON, .as.json = text};
    ck_assert_int_eq(bus_hold_add(h, 1, &j), 0);
    ck_assert_int_eq(bus_hold_add(h, 2, &j), 0);
    ck_assert_int_eq(bus_hold_add(h, 3, &j), -1);
    ck_assert_int_eq(bus_hold_add(h, 4, &n), -1);
    ck_assert_uint_eq(bus_hold_count(h), 2);
    free(text);
    bus_hold_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_hold");
    TCase *tc = tcase_create("hold");
    tcase_add_test(tc, test_order_and_copies);
    tcase_add_test(tc, test_bounds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
