/* report_session: the attached run's summary lines and JSON object. */
#include "host/report/report_session.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *text_of(const struct session_stats *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    report_session_text(f, s);
    fclose(f);
    return buf;
}

START_TEST(test_text)
{
    struct session_stats s = {.domain = "live",
                               .submitted = 1,
                               .connects = 2,
                               .disconnects = 1,
                               .events_applied = 4,
                               .orders_sent = 7,
                               .orders_blocked = 3,
                               .orders_live = 10,
                               .orders_refused = 2,
                               .orders_failed = 1};
    char *t = text_of(&s);
    ck_assert_str_eq(t, "gate: 7 order(s) sent, 3 blocked by the gate (domain live)\n"
                        "live orders: 7 sent to the gateway, 2 refused by its gate, 1 failed\n"
                        "gateway: 1 strategy submitted, 0 refused; 2 stream connect(s), 1 "
                        "disconnect(s), 4 activation update(s) applied\n");
    free(t);
    /* no live orders: no live line; safe mode names its reason; interrupted is said */
    struct session_stats b = {.domain = "backtest",
                               .safe_mode = 1,
                               .reason = "decision_unavailable",
                               .submitted = 2,
                               .interrupted = 1};
    t = text_of(&b);
    ck_assert_str_eq(t, "gate: 0 order(s) sent, 0 blocked by the gate (domain backtest, "
                        "safe_mode: decision_unavailable)\n"
                        "gateway: 2 strategies submitted, 0 refused; 0 stream connect(s), 0 "
                        "disconnect(s), 0 activation update(s) applied; interrupted\n");
    free(t);
}
END_TEST

START_TEST(test_json)
{
    struct session_stats s = {
        .domain = "dryrun", .submitted = 1, .refused = 1, .disconnects = 3, .orders_sent = 5};
    json_t *j = report_session_json(&s);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "domain")), "dryrun");
    ck_assert(json_is_false(json_object_get(j, "safe_mode")));
    ck_assert(json_is_null(json_object_get(j, "downgrade_reason")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "orders_sent")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "refused")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "disconnects")), 3);
    ck_assert(json_is_false(json_object_get(j, "interrupted")));
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_session");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_json);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
