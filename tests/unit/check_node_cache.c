/* node_cache: bucketing, ring order, gap/duplicate/late classification, late inserts. */
#include "host/dag/node_cache.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct nc_ring *rings[4];
static uint32_t n_rings;

static void mk(uint32_t n, uint32_t cap, int64_t interval)
{
    const char *ids[4] = {"a", "b", "c", "d"};
    n_rings = n;
    for (uint32_t i = 0; i < n; i++)
        ck_assert_ptr_nonnull(rings[i] = nc_ring_new(cap, interval, ids[i]));
}

static void release(void)
{
    for (uint32_t i = 0; i < n_rings; i++)
        nc_ring_free(rings[i]);
}

static int app(uint32_t i, int64_t ts, double x)
{
    struct qmtl_value v = qmtl_number(x);
    return nc_ring_append(rings[i], ts, &v);
}

START_TEST(test_bucket)
{
    ck_assert_int_eq(nc_bucket(125, 60), 120);
    ck_assert_int_eq(nc_bucket(120, 60), 120);
    ck_assert_int_eq(nc_bucket(-1, 60), -60);
    ck_assert_int_eq(nc_bucket(59, 1), 59);
}
END_TEST

START_TEST(test_ring_order_and_window)
{
    mk(1, 3, 60);
    const struct qmtl_window *w = &rings[0]->w;
    ck_assert_int_eq(app(0, 61, 1), NC_OK); /* bucket 60 */
    ck_assert_uint_eq(qmtl_window_len(w), 1);
    ck_assert(!qmtl_window_full(w));
    ck_assert_int_eq(app(0, 125, 2), NC_OK);
    ck_assert_int_eq(app(0, 180, 3), NC_OK);
    ck_assert(qmtl_window_full(w));
    ck_assert(rings[0]->has_evicted == 0);
    ck_assert_int_eq(app(0, 240, 4), NC_OK);
    ck_assert(rings[0]->has_evicted == 1);
    ck_assert(rings[0]->evicted.as.number == 1);
    ck_assert(qmtl_window_number(w, 0) == 4);
    ck_assert(qmtl_window_number(w, 1) == 3);
    ck_assert(qmtl_window_number(w, 2) == 2);
    ck_assert(qmtl_window_at(w, 3) == NULL);
    ck_assert_int_eq(qmtl_window_ts_at(w, 0), 240);
    ck_assert_int_eq(qmtl_window_ts_at(w, 2), 120);
    ck_assert_int_eq(qmtl_window_ts_at(w, 3), -1);
    ck_assert_str_eq(w->upstream_id, "a");
    ck_assert_int_eq(w->interval, 60);
    release();
}
END_TEST

START_TEST(test_gap_dup_late)
{
    mk(1, 4, 60);
    ck_assert_int_eq(app(0, 60, 1), NC_OK);
    ck_assert_int_eq(app(0, 119, 2), NC_DUP); /* same bucket 60: replaces */
    ck_assert_uint_eq(rings[0]->w.count, 1);
    ck_assert(qmtl_window_number(&rings[0]->w, 0) == 2);
    ck_assert_int_eq(app(0, 240, 3), NC_GAP); /* skipped 120, 180 */
    ck_assert_uint_eq(rings[0]->w.count, 2);
    ck_assert_int_eq(app(0, 180, 9), NC_LATE); /* older: nothing stored */
    ck_assert_uint_eq(rings[0]->w.count, 2);
    ck_assert_int_eq(app(0, 300, 4), NC_OK);
    /* late insert keeps bucket order */
    struct qmtl_value v = qmtl_number(9);
    ck_assert_int_eq(nc_ring_insert_late(rings[0], 190, &v), NC_OK);
    ck_assert_uint_eq(rings[0]->w.count, 4);
    int64_t want_ts[] = {300, 240, 180, 60};
    double want_x[] = {4, 3, 9, 2};
    for (uint32_t k = 0; k < 4; k++) {
        ck_assert_int_eq(qmtl_window_ts_at(&rings[0]->w, k), want_ts[k]);
        ck_assert(qmtl_window_number(&rings[0]->w, k) == want_x[k]);
    }
    /* full ring: a late item older than everything is dropped; an equal bucket replaces */
    v = qmtl_number(7);
    ck_assert_int_eq(nc_ring_insert_late(rings[0], 0, &v), NC_LATE);
    ck_assert_int_eq(nc_ring_insert_late(rings[0], 245, &v), NC_DUP);
    ck_assert(qmtl_window_number(&rings[0]->w, 1) == 7);
    /* full ring: a late item inside evicts the oldest */
    v = qmtl_number(8);
    ck_assert_int_eq(nc_ring_insert_late(rings[0], 120, &v), NC_OK);
    int64_t want2[] = {300, 240, 180, 120};
    for (uint32_t k = 0; k < 4; k++)
        ck_assert_int_eq(qmtl_window_ts_at(&rings[0]->w, k), want2[k]);
    release();
}
END_TEST

START_TEST(test_ready_and_watermark)
{
    mk(2, 2, 10);
    ck_assert(!nc_full(rings, n_rings));
    ck_assert(!nc_ready_any(rings, n_rings));
    ck_assert_int_eq(nc_watermark(rings, n_rings, 0), INT64_MIN);
    app(0, 10, 1);
    app(0, 20, 1);
    ck_assert(!nc_full(rings, n_rings));
    ck_assert(nc_ready_any(rings, n_rings)); /* input 1 never delivered: does not block */
    app(1, 10, 1);
    ck_assert(!nc_ready_any(rings, n_rings)); /* input 1 delivered but not full */
    app(1, 20, 1);
    ck_assert(nc_full(rings, n_rings));
    app(0, 50, 1);
    ck_assert_int_eq(nc_watermark(rings, n_rings, 0), 20);
    ck_assert_int_eq(nc_watermark(rings, n_rings, 5), 15);
    nc_ring_clear(rings[0]);
    ck_assert_uint_eq(rings[0]->w.count, 0);
    ck_assert_int_eq(app(0, 10, 1), NC_OK);
    release();
}
END_TEST

START_TEST(test_json_copied)
{
    mk(1, 2, 1);
    char buf[16];
    struct qmtl_value v = qmtl_none();
    v.type = QMTL_T_JSON;
    v.as.json = buf;
    strcpy(buf, "{\"a\":1}");
    ck_assert_int_eq(nc_ring_append(rings[0], 1, &v), NC_OK);
    strcpy(buf, "{\"b\":2}");
    ck_assert_int_eq(nc_ring_append(rings[0], 2, &v), NC_OK);
    strcpy(buf, "xx");
    ck_assert_str_eq(qmtl_window_at(&rings[0]->w, 1)->as.json, "{\"a\":1}");
    ck_assert_str_eq(qmtl_window_at(&rings[0]->w, 0)->as.json, "{\"b\":2}");
    strcpy(buf, "\"c\"");
    ck_assert_int_eq(nc_ring_append(rings[0], 3, &v), NC_OK); /* evicts a JSON item */
    ck_assert_int_eq(nc_ring_append(rings[0], 3, &v), NC_DUP);
    ck_assert_str_eq(qmtl_window_latest(&rings[0]->w)->as.json, "\"c\"");
    release(); /* frees every copy (valgrind/ASan check it) */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("node_cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bucket);
    tcase_add_test(tc, test_ring_order_and_window);
    tcase_add_test(tc, test_gap_dup_late);
    tcase_add_test(tc, test_ready_and_watermark);
    tcase_add_test(tc, test_json_copied);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
