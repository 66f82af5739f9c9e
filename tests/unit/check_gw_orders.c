/* gw_orders + gw_store_orders: the live order endpoint over HTTP against a real server. */
#include "gateway/gw_metrics.h"
#include "gateway/gw_routes.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "log.h"

#define LIVE GWT_OP "X-Allow-Live: true\n"

static int req(struct gwt *t, const char *m, const char *path, const char *body, const char *h)
{
    struct gwt_resp r;
    int code = gwt_http(t, m, path, body, h, &r);
    gwt_resp_free(&r);
    return code;
}

static char *order_body(const char *world, const char *coid, const char *side, double qty)
{
    char *out = NULL;
    json_t *o = json_pack("{ss ss ss ss ss sf sf sI}", "world_id", world, "strategy_id", "s1",
                          "client_order_id", coid, "symbol", "BTC", "side", side, "quantity", qty,
                          "price", 100.5, "ts", (json_int_t)1700000000);
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/* A live world 'L' deciding s1 with both sides active. */
static void live_world(struct gwt *t)
{
    ck_assert_int_eq(req(t, "POST", "/worlds", "{\"id\":\"L\",\"mode\":\"live\"}", LIVE), 201);
    ck_assert_int_eq(req(t, "POST", "/worlds/L/decisions", "{\"strategies\":[\"s1\"]}", LIVE), 200);
    ck_assert_int_eq(req(t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true}", LIVE),
                     200);
    ck_assert_int_eq(req(t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"short\",\"active\":true}", LIVE),
                     200);
}

START_TEST(test_store_orders)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gw_store *st = gw_server_store(t.srv);
    ck_assert_int_eq(gw_store_schema_version(st), GW_STORE_SCHEMA_VERSION);
    json_t *doc = json_pack("{ss sf}", "symbol", "X", "quantity", 2.0), *o = NULL, *o2 = NULL;
    ck_assert_int_eq(gw_store_order_put(st, "w", "s", "c1", doc, &o), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "id")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "new");
    /* same key: nothing written, the stored order comes back */
    json_object_set_new(doc, "quantity", json_real(5.0));
    ck_assert_int_eq(gw_store_order_put(st, "w", "s", "c1", doc, &o2), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o2, "id")), 1);
    ck_assert(json_real_value(json_object_get(o2, "quantity")) == 2.0);
    json_decref(o2);
    /* another strategy may reuse the client id */
    ck_assert_int_eq(gw_store_order_put(st, "w", "s2", "c1", doc, &o2), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(o2, "id")), 2);
    json_decref(o2);
    ck_assert_int_eq(gw_store_order_put(st, "other", "s", "c9", doc, &o2), 1);
    json_decref(o2);
    json_t *l = gw_store_order_list(st, "w", NULL, NULL, 0, 0);
    ck_assert_int_eq(json_array_size(l), 2);
    json_decref(l);
    l = gw_store_order_list(st, "w", NULL, NULL, 1, 0);
    ck_assert_int_eq(json_array_size(l), 1);
    json_decref(l);
    ck_assert_int_eq(gw_store_order_ack(st, 1, NULL, &o2), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o2, "status")), "acked");
    json_decref(o2);
    ck_assert_int_eq(gw_store_order_ack(st, 99, NULL, &o2), 0);
    ck_assert_ptr_null(o2);
    l = gw_store_order_list(st, "w", NULL, "new", 0, 0);
    ck_assert_int_eq(json_array_size(l), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(l, 0), "id")), 2);
    json_decref(l);
    json_decref(o);
    json_decref(doc);
    /* durable: a restarted gateway on the same store still has them */
    char dir[128];
    snprintf(dir, sizeof(dir), "%s", t.dir);
    gwt_stop(&t, 0);
    gwt_start(&t, dir);
    l = gw_store_order_list(gw_server_store(t.srv), "w", NULL, NULL, 0, 10);
    ck_assert_int_eq(json_array_size(l), 2);
    json_decref(l);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_validation)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"symbol\":\"B\",\"side\":\"buy\","
         "\"quantity\":1,\"price\":1,\"ts\":1}",
         "'world_id'"},
        {"{\"world_id\":\"L\",\"client_order_id\":\"c\",\"symbol\":\"B\",\"side\":\"buy\","
         "\"quantity\":1,\"price\":1,\"ts\":1}",
         "'strategy_id'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"symbol\":\"B\",\"side\":\"buy\","
         "\"quantity\":1,\"price\":1,\"ts\":1}",
         "'client_order_id'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"side\":\"buy\","
         "\"quantity\":1,\"price\":1,\"ts\":1}",
         "'symbol'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"symbol\":\"B\","
         "\"side\":\"hold\",\"quantity\":1,\"price\":1,\"ts\":1}",
         "'side'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"symbol\":\"B\","
         "\"side\":\"buy\",\"quantity\":0,\"price\":1,\"ts\":1}",
         "'quantity'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"symbol\":\"B\","
         "\"side\":\"buy\",\"quantity\":1,\"price\":\"x\",\"ts\":1}",
         "'price'"},
        {"{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c\",\"symbol\":\"B\","
         "\"side\":\"buy\",\"quantity\":1,\"price\":1,\"ts\":1.5}",
         "'ts'"},
    };
    struct gwt t;
    gwt_start(&t, NULL);
    live_world(&t);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gwt_resp r;
        ck_assert_int_eq(gwt_http(&t, "POST", "/orders", bad[i].body, GWT_HOST, &r), 422);
        ck_assert_str_eq(gwt_err(&r), "E_VALIDATION");
        const char *msg =
            json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
        ck_assert_msg(msg && strstr(msg, bad[i].field), "case %zu: %s", i, msg ? msg : "(none)");
        gwt_resp_free(&r);
    }
    ck_assert_int_eq(req(&t, "POST", "/orders", "not json", GWT_HOST), 400);
    ck_assert_int_eq(req(&t, "DELETE", "/orders", NULL, GWT_CONN), 405);
    ck_assert_str_eq(gw_metrics_route_label("/orders/7/ack"), "/orders/{id}/ack");
    ck_assert_str_eq(gw_metrics_route_label("/orders"), "/orders");
    char err[256];
    ck_assert_int_eq(gw_order_validate(json_null(), err, sizeof(err)), -1);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_ORDERS_REFUSED) >= 8, 1);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_ORDERS_ACCEPTED), 0);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_accept_idempotent_list_ack)
{
    struct gwt t;
    gwt_start(&t, NULL);
    live_world(&t);
    char *b1 = order_body("L", "s1:1", "buy", 1.5), *b2 = order_body("L", "s1:2", "SELL", 2.0);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/orders", b1, GWT_HOST, &r), 201);
    json_int_t id1 = json_integer_value(json_object_get(r.json, "id"));
    ck_assert_int_gt(id1, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "new");
    gwt_resp_free(&r);
    /* resubmission: 200, the same order, no duplicate */
    ck_assert_int_eq(gwt_http(&t, "POST", "/orders", b1, GWT_HOST, &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "id")), id1);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/orders", b2, GWT_HOST, &r), 201);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "side")), "sell");
    gwt_resp_free(&r);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_ORDERS_ACCEPTED), 2);
    /* listing needs the operator token */
    ck_assert_int_eq(req(&t, "GET", "/orders?world_id=L", NULL, NULL), 401);
    ck_assert_int_eq(req(&t, "GET", "/orders", NULL, GWT_CONN), 422);
    ck_assert_int_eq(req(&t, "GET", "/orders?world_id=L&limit=0", NULL, GWT_CONN), 422);
    ck_assert_int_eq(req(&t, "GET", "/orders?world_id=L&status=zz", NULL, GWT_CONN), 422);
    ck_assert_int_eq(gwt_http(&t, "GET", "/orders?world_id=L", NULL, GWT_CONN, &r), 200);
    json_t *orders = json_object_get(r.json, "orders");
    ck_assert_int_eq(json_array_size(orders), 2);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(orders, 0), "client_order_id")), "s1:1");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "next_after")), id1 + 1);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/orders?world_id=L&limit=1", NULL, GWT_CONN, &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "orders")), 1);
    gwt_resp_free(&r);
    /* ack */
    char path[64];
    snprintf(path, sizeof(path), "/orders/%lld/ack", (long long)id1);
    ck_assert_int_eq(req(&t, "POST", path, NULL, NULL), 401);
    ck_assert_int_eq(gwt_http(&t, "POST", path, NULL, GWT_OP, &r), 403); /* operators do not ack */
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", path, NULL, GWT_CONN, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "acked");
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "POST", "/orders/999/ack", NULL, GWT_CONN), 404);
    ck_assert_int_eq(req(&t, "POST", "/orders/abc/ack", NULL, GWT_CONN), 422);
    ck_assert_int_eq(req(&t, "POST", "/orders/1/nack", NULL, GWT_CONN), 404);
    ck_assert_int_eq(gwt_http(&t, "GET", "/orders?world_id=L&status=new", NULL, GWT_CONN, &r), 200);
    orders = json_object_get(r.json, "orders");
    ck_assert_int_eq(json_array_size(orders), 1);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(orders, 0), "client_order_id")), "s1:2");
    gwt_resp_free(&r);
    free(b1);
    free(b2);
    gwt_stop(&t, 1);
}
END_TEST

static void expect_gate_closed(struct gwt *t, const char *body, const char *why)
{
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(t, "POST", "/orders", body, GWT_HOST, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_GATE_CLOSED");
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
    ck_assert_msg(msg && strstr(msg, why), "expected '%s' in '%s'", why, msg ? msg : "");
    gwt_resp_free(&r);
}

START_TEST(test_gate)
{
    struct gwt t;
    gwt_start(&t, NULL);
    live_world(&t);
    char *b = order_body("L", "g1", "buy", 1.0);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_HOST), 201);
    /* frozen long side: new orders refused, but the stored one is still returned */
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true,"
                         "\"freeze\":true}",
                         LIVE),
                     200);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_HOST), 200);
    /* a buy of 5 increases the long (and later turns the short into a long): long side */
    char *b2 = order_body("L", "g2", "buy", 5.0);
    expect_gate_closed(&t, b2, "frozen");
    /* the short side is still open (a sell of 2 against the open buy of 1 goes short: a
     * sell of 1 would reduce the long and belong to the frozen long side) */
    char *b3 = order_body("L", "g3", "sell", 2.0);
    ck_assert_int_eq(req(&t, "POST", "/orders", b3, GWT_HOST), 201);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true,"
                         "\"drain\":true}",
                         LIVE),
                     200);
    expect_gate_closed(&t, b2, "draining");
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":false}", LIVE),
                     200);
    expect_gate_closed(&t, b2, "not active");
    /* unknown strategy: no activation */
    expect_gate_closed(&t,
                       "{\"world_id\":\"L\",\"strategy\":\"nobody\",\"client_order_id\":\"x\","
                       "\"symbol\":\"B\",\"side\":\"buy\",\"quantity\":1,\"price\":1,\"ts\":1}",
                       "no activation");
    /* a paper world is not live */
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"P\",\"mode\":\"paper\"}", GWT_OP), 201);
    ck_assert_int_eq(req(&t, "POST", "/worlds/P/decisions", "{\"strategies\":[\"s1\"]}", GWT_OP),
                     200);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/P/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true}", GWT_OP),
                     200);
    char *bp = order_body("P", "p1", "buy", 1.0);
    expect_gate_closed(&t, bp, "not live");
    char *bx = order_body("nosuch", "p1", "buy", 1.0);
    ck_assert_int_eq(req(&t, "POST", "/orders", bx, GWT_HOST), 404);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_ORDERS_ACCEPTED), 2);
    ck_assert_int_eq(gw_metrics_get(gw_server_metrics(t.srv), GW_M_ORDERS_REFUSED), 6);
    json_t *l = gw_store_order_list(gw_server_store(t.srv), "L", NULL, NULL, 0, 0);
    ck_assert_int_eq(json_array_size(l), 2);
    json_decref(l);
    free(b);
    free(b2);
    free(b3);
    free(bp);
    free(bx);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_submit_token)
{
    struct gwt t;
    gwt_start(&t, NULL);
    live_world(&t);
    char *b = order_body("L", "t1", "buy", 1.0);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, NULL), 401);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, "Authorization: Bearer wrong\n"), 401);
    /* live orders take the host credential, not the submission one */
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_SUB), 403);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_OP), 403);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_CONN), 403);
    ck_assert_int_eq(req(&t, "POST", "/orders", b, GWT_HOST), 201);
    free(b);
    gwt_stop(&t, 1);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("gw_orders");
    TCase *tc = tcase_create("orders");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_store_orders);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_accept_idempotent_list_ack);
    tcase_add_test(tc, test_gate);
    tcase_add_test(tc, test_submit_token);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
