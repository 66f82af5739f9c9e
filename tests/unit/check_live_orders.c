/* live_orders: the host's live order sink against a real in-process gateway. */
#include "gateway/gw_metrics.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "host/orders/live_orders.h"
#include "log.h"

#define LIVE GWT_OP "X-Allow-Live: true\n"

static int req(struct gwt *t, const char *m, const char *path, const char *body, const char *h)
{
    struct gwt_resp r;
    int code = gwt_http(t, m, path, body, h, &r);
    gwt_resp_free(&r);
    return code;
}

static void drain(struct gwt *t, struct live_orders *lo)
{
    struct live_orders_stats st;
    for (int i = 0; i < 100000; i++) {
        live_orders_stats(lo, &st);
        if (!st.inflight)
            return;
        event_base_loop(gw_server_base(t->srv), EVLOOP_ONCE);
    }
    ck_abort_msg("orders still in flight");
}

START_TEST(test_client_id)
{
    char a[64], b[64];
    live_order_client_id(a, sizeof(a), "sma", 1700000000, 3);
    live_order_client_id(b, sizeof(b), "sma", 1700000000, 3);
    ck_assert_str_eq(a, "sma-1700000000-3");
    ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_send_accept_refuse_fail)
{
    struct gwt t;
    gwt_start(&t, NULL);
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"L\",\"mode\":\"live\"}", LIVE), 201);
    ck_assert_int_eq(req(&t, "POST", "/worlds/L/decisions", "{\"strategies\":[\"sma\"]}", LIVE),
                     200);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"sma\",\"side\":\"long\",\"active\":true}", LIVE),
                     200);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"sma\",\"side\":\"short\",\"active\":true,"
                         "\"freeze\":true}",
                         LIVE),
                     200);
    int pending = 0, stopping = 0;
    struct live_orders *lo = live_orders_new(gw_server_base(t.srv), gw_server_url(t.srv),
                                             "host-secret", "L", 5.0, &pending, &stopping);
    ck_assert_ptr_nonnull(lo);
    struct qmtl_order buy = {.side = QMTL_SIDE_BUY, .quantity = 2, .price = 101};
    /* a sell beyond the open buys opens a short: the frozen short side */
    struct qmtl_order sell = {.side = QMTL_SIDE_SELL, .quantity = 5, .price = 99};
    /* the gateway's strategy id is unknown to the activation; the name is used */
    ck_assert_int_eq(live_orders_send(lo, "sma", "deadbeef", "BTC", 100, &buy, NULL), 0);
    ck_assert_int_eq(live_orders_send(lo, "sma", NULL, "BTC", 160, &buy, NULL), 0);
    ck_assert_int_eq(pending, 2);
    ck_assert_int_eq(live_orders_send(lo, "sma", NULL, "BTC", 220, &sell, NULL), 0); /* frozen */
    drain(&t, lo);
    ck_assert_int_eq(pending, 0);
    struct live_orders_stats st;
    live_orders_stats(lo, &st);
    ck_assert_int_eq(st.queued, 3);
    ck_assert_int_eq(st.accepted, 2);
    ck_assert_int_eq(st.refused, 1);
    ck_assert_int_eq(st.failed, 0);
    json_t *l = gw_store_order_list(gw_server_store(t.srv), "L", NULL, NULL, 0, 0);
    ck_assert_int_eq(json_array_size(l), 2);
    json_t *o0 = json_array_get(l, 0);
    ck_assert_str_eq(json_string_value(json_object_get(o0, "client_order_id")), "sma-100-1");
    ck_assert_str_eq(json_string_value(json_object_get(o0, "strategy_id")), "deadbeef");
    ck_assert_str_eq(json_string_value(json_object_get(o0, "side")), "buy");
    ck_assert(json_number_value(json_object_get(o0, "quantity")) == 2.0);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 1), "client_order_id")),
                     "sma-160-2");
    json_decref(l);
    live_orders_free(lo);

    /* a restarted sink repeats the same ids: the gateway returns the stored orders */
    lo = live_orders_new(gw_server_base(t.srv), gw_server_url(t.srv), "host-secret", "L", 5.0,
                         &pending, &stopping);
    ck_assert_int_eq(live_orders_send(lo, "sma", "deadbeef", "BTC", 100, &buy, NULL), 0);
    drain(&t, lo);
    live_orders_stats(lo, &st);
    ck_assert_int_eq(st.accepted, 1);
    l = gw_store_order_list(gw_server_store(t.srv), "L", NULL, NULL, 0, 0);
    ck_assert_int_eq(json_array_size(l), 2);
    json_decref(l);
    live_orders_free(lo);

    /* a wrong world: 404 is a failure, not a refusal */
    lo = live_orders_new(gw_server_base(t.srv), gw_server_url(t.srv), "host-secret", "nosuch", 5.0,
                         &pending, &stopping);
    ck_assert_int_eq(live_orders_send(lo, "sma", NULL, "BTC", 100, &buy, NULL), 0);
    drain(&t, lo);
    live_orders_stats(lo, &st);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_int_eq(st.accepted, 0);
    live_orders_free(lo);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_unreachable_retries_then_fails)
{
    struct event_base *base = event_base_new();
    int pending = 0, stopping = 0;
    /* port 1: nothing listens there (connection refused) */
    struct live_orders *lo =
        live_orders_new(base, "http://127.0.0.1:1", "", "L", 2.0, &pending, &stopping);
    struct qmtl_order buy = {.side = QMTL_SIDE_BUY, .quantity = 1, .price = 1};
    ck_assert_int_eq(live_orders_send(lo, "s", NULL, "X", 1, &buy, NULL), 0);
    struct live_orders_stats st;
    for (int i = 0; i < 10000; i++) {
        live_orders_stats(lo, &st);
        if (!st.inflight)
            break;
        event_base_loop(base, EVLOOP_ONCE);
    }
    ck_assert_int_eq(st.inflight, 0);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_int_eq(pending, 0);
    live_orders_free(lo);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    /* a bad URL cannot start: counted as failed at once */
    lo = live_orders_new(NULL, "not a url", "", "L", 2.0, &pending, &stopping);
    ck_assert_int_eq(live_orders_send(lo, "s", NULL, "X", 1, &buy, NULL), -1);
    live_orders_stats(lo, &st);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_int_eq(pending, 0);
    live_orders_free(lo);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("live_orders");
    TCase *tc = tcase_create("live_orders");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_client_id);
    tcase_add_test(tc, test_send_accept_refuse_fail);
    tcase_add_test(tc, test_unreachable_retries_then_fails);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
