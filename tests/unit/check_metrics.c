/* metrics: a host's counters as Prometheus text and the /health document (host/online/metrics.h). */
#include "host/online/metrics.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"

static void has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fprintf(stderr, "%s", text);
    ck_assert_msg(strstr(text, line) != NULL, "no line '%s'", line);
}

START_TEST(test_render)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    struct host_metrics *m = &h.metrics;
    long a = host_metrics_source(m, "tcp:127.0.0.1:9100");
    long b = host_metrics_source(m, "unix:/run/q\"x\\y.sock");
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(host_metrics_source(m, "tcp:127.0.0.1:9100"), 0); /* same entry */
    host_metrics_event(m, a, 1704067200500LL, 1704067202.0);
    host_metrics_event(m, a, 1704067201000LL, 1704067203.25);
    host_metrics_event(m, a, 1704067100000LL, 1704067204.0); /* older: lag kept */
    host_metrics_src(m, b)->bad_lines = 3;
    host_metrics_src(m, b)->connections = 2;
    m->reloads[HOST_RELOAD_REPLACED] = 4;
    m->reloads[HOST_RELOAD_FAILED] = 1;
    m->quarantined = 1;
    m->quarantines = 2;
    m->stream_connected = 1;
    m->reconnects = 5;
    m->last_seq_no = 42;
    host_metrics_order_blocked(m, "mr", "not active");
    host_metrics_order_blocked(m, "mr", "not active");
    host_metrics_order_blocked(m, "mr", "frozen");
    char *t = host_metrics_render(&h);
    ck_assert_ptr_nonnull(t);
    has(t, "# TYPE qmtl_host_events_in_total counter\n");
    has(t, "\nqmtl_host_events_in_total{source=\"tcp:127.0.0.1:9100\"} 3\n");
    has(t, "\nqmtl_host_bad_lines_total{source=\"unix:/run/q\\\"x\\\\y.sock\"} 3\n");
    has(t, "\nqmtl_host_live_connections{source=\"unix:/run/q\\\"x\\\\y.sock\"} 2\n");
    has(t, "\nqmtl_host_live_lag_seconds{source=\"tcp:127.0.0.1:9100\"} 2.250\n");
    has(t, "\nqmtl_host_live_last_event_timestamp_seconds{source=\"tcp:127.0.0.1:9100\"} "
           "1704067201.000\n");
    has(t, "\nqmtl_host_reloads_total{outcome=\"replaced\"} 4\n");
    has(t, "\nqmtl_host_reloads_total{outcome=\"failed\"} 1\n");
    has(t, "\nqmtl_host_reloads_total{outcome=\"added\"} 0\n");
    has(t, "\nqmtl_host_plugins_quarantined 1\n");
    has(t, "\nqmtl_host_quarantines_total 2\n");
    has(t, "\nqmtl_host_stream_connected 1\n");
    has(t, "\nqmtl_host_stream_reconnects_total 5\n");
    has(t, "\nqmtl_host_stream_last_seq_no 42\n");
    has(t, "\norders_rejected_total{strategy=\"mr\",reason=\"not_active\"} 2\n");
    has(t, "\norders_rejected_total{strategy=\"mr\",reason=\"frozen\"} 1\n");
    free(t);
    host_release(&h);
}
END_TEST

START_TEST(test_health)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    long a = host_metrics_source(&h.metrics, "stdin");
    host_metrics_event(&h.metrics, a, 1000, 2.0);
    json_t *doc = host_metrics_health(&h, 1);
    ck_assert_ptr_nonnull(doc);
    /* no strategy runs, and the stream is down: degraded */
    ck_assert_str_eq(json_string_value(json_object_get(doc, "status")), "degraded");
    ck_assert_int_eq(json_is_false(json_object_get(doc, "stream_connected")), 1);
    json_t *s = json_object_get(json_object_get(doc, "sources"), "stdin");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "events")), 1);
    ck_assert(json_real_value(json_object_get(s, "lag_s")) == 1.0);
    json_decref(doc);
    doc = host_metrics_health(&h, 0);
    ck_assert_ptr_null(json_object_get(doc, "stream_connected"));
    json_decref(doc);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_health);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
