/* metrics_http: the /metrics endpoint turns on what only it reads (the custom computes'
 * timings); serving itself is exercised end to end (e2e t120, t121, t122). */
#include "host/online/metrics_http.h"

#include <check.h>
#include <event2/event.h>
#include <stdlib.h>

#include "host/host_api.h"

START_TEST(test_endpoint_times_computes)
{
    struct host h;
    char err[256];
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_int_eq(h.metrics.time_computes, 0); /* no reader: computes are not timed */
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct metrics_http *m = metrics_http_new(base, &h, "127.0.0.1", 0, 0, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_gt(metrics_http_port(m), 0);
    ck_assert_int_eq(h.metrics.time_computes, 1);
    metrics_http_free(m);
    event_base_free(base);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics_http");
    TCase *tc = tcase_create("metrics_http");
    tcase_add_test(tc, test_endpoint_times_computes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
