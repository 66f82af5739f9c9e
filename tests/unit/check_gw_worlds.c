/* gw_worlds, gw_activation, gw_apply: the world API over HTTP against a real server. */
#include "gateway/gw_routes.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "log.h"

static json_t *events;

static void on_event(void *arg, int64_t seq, const char *type, const char *world, const char *env)
{
    (void)arg;
    (void)world;
    json_t *e = json_loads(env, 0, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "seq_no")), seq);
    ck_assert_str_eq(json_string_value(json_object_get(e, "type")), type);
    json_array_append_new(events, e);
}

static void start(struct gwt *t)
{
    gwt_start(t, NULL);
    events = json_array();
    gw_server_add_listener(t->srv, on_event, NULL);
}

static void stop(struct gwt *t)
{
    json_decref(events);
    gwt_stop(t, 1);
}

static int req(struct gwt *t, const char *m, const char *path, const char *body, const char *h)
{
    struct gwt_resp r;
    int code = gwt_http(t, m, path, body, h, &r);
    gwt_resp_free(&r);
    return code;
}

START_TEST(test_world_crud)
{
    struct gwt t;
    start(&t);
    struct gwt_resp r;
    ck_assert_int_eq(
        gwt_http(&t, "POST", "/worlds", "{\"id\":\"w1\",\"name\":\"One\"}", GWT_OP, &r), 201);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "id")), "w1");
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"w1\"}", GWT_OP), 409);
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"\"}", GWT_OP), 422);
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"a/b\"}", GWT_OP), 422);
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"w2\",\"mode\":\"turbo\"}", GWT_OP), 422);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds", NULL, GWT_OP, &r), 200);
    ck_assert_int_eq(json_array_size(r.json), 1);
    gwt_resp_free(&r);
    ck_assert_int_eq(
        gwt_http(&t, "PUT", "/worlds/w1", "{\"name\":\"Uno\",\"mode\":\"paper\"}", GWT_OP, &r),
        200);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w1", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "Uno");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "mode")), "paper");
    gwt_resp_free(&r);
    /* live needs the live guard header */
    ck_assert_int_eq(gwt_http(&t, "PUT", "/worlds/w1", "{\"mode\":\"live\"}", GWT_OP, &r), 403);
    ck_assert_str_eq(gwt_err(&r), "E_PERMISSION_DENIED");
    gwt_resp_free(&r);
    ck_assert_int_eq(
        req(&t, "PUT", "/worlds/w1", "{\"mode\":\"live\"}", GWT_OP "X-Allow-Live: true\n"), 200);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/w1/activation",
                         "{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true}",
                         GWT_OP "X-Allow-Live: true\n"),
                     200);
    ck_assert_int_eq(req(&t, "DELETE", "/worlds/w1", NULL, GWT_OP), 403);
    ck_assert_int_eq(req(&t, "DELETE", "/worlds/w1", NULL, GWT_OP "X-Allow-Live: true\n"), 204);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w1", NULL, GWT_OP), 404);
    /* deleting published the strategy as inactive first */
    json_t *last = json_array_get(events, json_array_size(events) - 1);
    ck_assert_str_eq(json_string_value(json_object_get(last, "type")), "activation_updated");
    ck_assert(json_is_false(json_object_get(json_object_get(last, "data"), "active")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(last, "data"), "reason")),
                     "world_deleted");
    ck_assert_int_eq(req(&t, "GET", "/worlds/w1/activation?strategy_id=s&side=long", NULL, GWT_OP),
                     404);
    ck_assert_int_eq(req(&t, "DELETE", "/worlds/w1", NULL, GWT_OP), 404);
    stop(&t);
}
END_TEST

START_TEST(test_policies_bindings_decide)
{
    struct gwt t;
    start(&t);
    struct gwt_resp r;
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"w\",\"mode\":\"paper\"}", GWT_OP), 201);
    const char *pol = "{\"policy\":{\"thresholds\":{\"sharpe\":{\"metric\":\"sharpe\",\"min\":1}},"
                      "\"top_k\":{\"metric\":\"sharpe\",\"k\":1}}}";
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/w/policies", pol, GWT_OP, &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
    gwt_resp_free(&r);
    ck_assert_int_eq(
        req(&t, "POST", "/worlds/w/policies", "{\"policy\":{\"top_k\":{\"k\":0}}}", GWT_OP), 422);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/policies/1", NULL, GWT_OP), 200);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/policies/9", NULL, GWT_OP), 404);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/set-default", "{\"version\":9}", GWT_OP), 404);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/set-default", "{\"version\":1}", GWT_OP), 200);
    ck_assert_int_eq(json_array_size(events), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(events, 0), "type")),
                     "policy_updated");
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/policies", NULL, GWT_OP, &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "default_version")), 1);
    gwt_resp_free(&r);
    ck_assert_int_eq(
        req(&t, "POST", "/worlds/w/bindings", "{\"strategies\":[\"a\",\"b\"]}", GWT_OP), 200);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/bindings", "{\"strategies\":[1]}", GWT_OP), 422);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/bindings", NULL, GWT_OP, &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "strategies")), 2);
    ck_assert(json_is_object(json_object_get(r.json, "names"))); /* none submitted: empty */
    ck_assert_int_eq(json_object_size(json_object_get(r.json, "names")), 0);
    gwt_resp_free(&r);
    /* no active strategies: validate */
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/decide", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "effective_mode")), "validate");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "reason")), "no_active_strategies");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "ttl")), "300s");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "policy_version")), 1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r.json, "etag")), "w:w:v1:"));
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/decisions", "{\"strategies\":[\"a\"]}", GWT_OP),
                     200);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/decide", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "effective_mode")), "paper");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "execution_domain")), "dryrun");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "reason")), "policy_evaluated");
    gwt_resp_free(&r);
    /* audit needs the operator and lists what happened */
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/audit", NULL, NULL), 401);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/audit", NULL, GWT_OP, &r), 200);
    json_t *entries = json_object_get(r.json, "entries");
    ck_assert_int_ge(json_array_size(entries), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(entries, 0), "event")),
                     "world_created");
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/nothing", NULL, GWT_OP), 404);
    stop(&t);
}
END_TEST

#define PUT_ACT(body) gwt_http(&t, "PUT", "/worlds/w/activation", body, GWT_OP, &r)

START_TEST(test_activation_etag_and_noop)
{
    struct gwt t;
    start(&t);
    struct gwt_resp r;
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"w\"}", GWT_OP), 201);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/activation?strategy_id=s&side=long", NULL, GWT_OP),
                     404);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/activation?strategy_id=s&side=up", NULL, GWT_OP),
                     422);
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true}"), 200);
    ck_assert_str_eq(r.etag, "\"act:w:s:long:1\"");
    ck_assert(json_is_true(json_object_get(r.json, "applied")));
    ck_assert(json_number_value(json_object_get(r.json, "weight")) == 1.0);
    gwt_resp_free(&r);
    ck_assert_int_eq(json_array_size(events), 1);
    json_t *data = json_object_get(json_array_get(events, 0), "data");
    ck_assert_int_eq(json_integer_value(json_object_get(data, "version")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(data, "state_version")), 1);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(data, "state_hash")), "blake3:"));
    /* same change again: no-op, no event, same etag */
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true}"), 200);
    ck_assert(json_is_false(json_object_get(r.json, "applied")));
    ck_assert_str_eq(r.etag, "\"act:w:s:long:1\"");
    gwt_resp_free(&r);
    ck_assert_int_eq(json_array_size(events), 1);
    /* a real change bumps the version */
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true,"
                             "\"weight\":0.25,\"etag\":\"act:w:s:long:1\"}"),
                     200);
    ck_assert_str_eq(r.etag, "\"act:w:s:long:2\"");
    gwt_resp_free(&r);
    /* based on an older etag: no-op */
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":false,"
                             "\"etag\":\"act:w:s:long:1\"}"),
                     200);
    ck_assert(json_is_false(json_object_get(r.json, "applied")));
    ck_assert(json_is_true(json_object_get(r.json, "active")));
    gwt_resp_free(&r);
    ck_assert_int_eq(json_array_size(events), 2);
    /* GET with ETag / If-None-Match */
    ck_assert_int_eq(
        gwt_http(&t, "GET", "/worlds/w/activation?strategy_id=s&side=long", NULL, GWT_OP, &r), 200);
    ck_assert_str_eq(r.etag, "\"act:w:s:long:2\"");
    ck_assert(json_number_value(json_object_get(r.json, "weight")) == 0.25);
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "GET", "/worlds/w/activation?strategy_id=s&side=long", NULL,
                         GWT_OP "If-None-Match: \"act:w:s:long:2\"\n"),
                     304);
    /* full state */
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/w/activation", NULL, GWT_OP, &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 2);
    gwt_resp_free(&r);
    /* validation and auth */
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":1}"), 422);
    gwt_resp_free(&r);
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true,"
                             "\"weight\":1.5}"),
                     422);
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/w/activation",
                         "{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true}", NULL),
                     401);
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"s\",\"side\":\"short\",\"active\":true,"
                             "\"effective_mode\":\"live\"}"),
                     403);
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/nope/activation",
                         "{\"strategy_id\":\"s\",\"side\":\"long\",\"active\":true}", GWT_OP),
                     404);
    /* the snapshot for the event stream */
    json_t *snap = gw_store_activation_snapshot(gw_server_store(t.srv), "w");
    ck_assert_int_eq(json_array_size(snap), 1);
    json_decref(snap);
    stop(&t);
}
END_TEST

static const char *ev_type(size_t i)
{
    return json_string_value(json_object_get(json_array_get(events, i), "type"));
}

static const char *ev_phase(size_t i)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(events, i), "data"), "phase"));
}

START_TEST(test_apply_two_phase)
{
    struct gwt t;
    start(&t);
    struct gwt_resp r;
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"w\"}", GWT_OP), 201);
    ck_assert_int_eq(PUT_ACT("{\"strategy_id\":\"a\",\"side\":\"long\",\"active\":true,"
                             "\"weight\":0.5}"),
                     200);
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/decisions", "{\"strategies\":[\"a\"]}", GWT_OP),
                     200);
    json_array_clear(events);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/apply", "{\"plan\":{}}", GWT_OP), 422);
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/apply", "{\"run_id\":\"r0\"}", GWT_OP), 422);
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/w/apply",
                              "{\"run_id\":\"r1\",\"plan\":{\"activate\":[\"b\"],"
                              "\"deactivate\":[\"a\"]}}",
                              GWT_OP, &r),
                     200);
    ck_assert(json_is_true(json_object_get(r.json, "ok")));
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "phase")), "completed");
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "active")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "basis")), "plan");
    ck_assert_ptr_null(json_object_get(r.json, "candidates"));
    gwt_resp_free(&r);
    /* freeze a, policy_updated, unfreeze a (inactive), new entry b (active) */
    ck_assert_int_eq(json_array_size(events), 4);
    ck_assert_str_eq(ev_type(0), "activation_updated");
    ck_assert_str_eq(ev_phase(0), "freeze");
    ck_assert_str_eq(ev_type(1), "policy_updated");
    ck_assert_str_eq(ev_phase(2), "unfreeze");
    ck_assert_str_eq(ev_phase(3), "unfreeze");
    json_t *d0 = json_object_get(json_array_get(events, 0), "data");
    ck_assert(json_is_true(json_object_get(d0, "freeze")));
    ck_assert(json_is_true(json_object_get(d0, "requires_ack")));
    ck_assert(json_is_false(json_object_get(d0, "active")));
    json_t *d3 = json_object_get(json_array_get(events, 3), "data");
    ck_assert_str_eq(json_string_value(json_object_get(d3, "strategy_id")), "b");
    ck_assert(json_is_true(json_object_get(d3, "active")));
    /* idempotent on run_id: nothing happens again */
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/w/apply",
                              "{\"run_id\":\"r1\",\"plan\":{\"activate\":[\"zzz\"]}}", GWT_OP, &r),
                     200);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "active"), 0)), "b");
    gwt_resp_free(&r);
    ck_assert_int_eq(json_array_size(events), 4);
    /* rollback on failure: state and decisions unchanged, no events */
    int64_t v_before = gw_store_activation_version(gw_server_store(t.srv), "w");
    gw_apply_fail_stage = "switch";
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/w/apply",
                              "{\"run_id\":\"r2\",\"plan\":{\"activate\":[\"a\"]}}", GWT_OP, &r),
                     500);
    ck_assert_str_eq(gwt_err(&r), "E_APPLY_FAILED");
    gwt_resp_free(&r);
    gw_apply_fail_stage = NULL;
    ck_assert_int_eq(json_array_size(events), 4);
    ck_assert_int_eq(gw_store_activation_version(gw_server_store(t.srv), "w"), v_before);
    json_t *dec = gw_store_decisions_get(gw_server_store(t.srv), "w");
    ck_assert_int_eq(json_array_size(dec), 1);
    ck_assert_str_eq(json_string_value(json_array_get(dec, 0)), "b");
    json_decref(dec);
    /* the rolled back run can be retried */
    ck_assert_int_eq(req(&t, "POST", "/worlds/w/apply",
                         "{\"run_id\":\"r2\",\"plan\":{\"activate\":[\"a\"]}}", GWT_OP),
                     200);
    /* policy-driven target from metrics */
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/w/apply",
                              "{\"run_id\":\"r3\",\"metrics\":{\"a\":{\"sharpe\":2},\"b\":"
                              "{\"sharpe\":0.5},\"c\":{\"sharpe\":3}},\"policy\":{\"thresholds\":"
                              "{\"sharpe\":{\"metric\":\"sharpe\",\"min\":1}},\"top_k\":"
                              "{\"metric\":\"sharpe\",\"k\":1}}}",
                              GWT_OP, &r),
                     200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "active")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "active"), 0)), "c");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "basis")), "policy");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "candidates")), 3);
    gwt_resp_free(&r);
    /* live worlds need the live guard header */
    ck_assert_int_eq(req(&t, "POST", "/worlds", "{\"id\":\"lw\",\"mode\":\"live\"}",
                         GWT_OP "X-Allow-Live: true\n"),
                     201);
    ck_assert_int_eq(req(&t, "POST", "/worlds/lw/apply", "{\"run_id\":\"x\",\"plan\":{}}", GWT_OP),
                     403);
    ck_assert_int_eq(req(&t, "POST", "/worlds/lw/apply", "{\"run_id\":\"x\",\"plan\":{}}",
                         GWT_OP "X-Allow-Live: true\n"),
                     200);
    stop(&t);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("gw_worlds");
    TCase *tc = tcase_create("worlds");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_world_crud);
    tcase_add_test(tc, test_policies_bindings_decide);
    tcase_add_test(tc, test_activation_etag_and_noop);
    tcase_add_test(tc, test_apply_two_phase);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
