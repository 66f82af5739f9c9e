/* gw_strategies: DAG decoding, node identity verification with the golden NodeID vectors,
 * submission, dedup, dry-run, status, and the DAG manager client (a fake DAG manager on
 * 127.0.0.1 in the same event loop). */
#include "gateway/gw_routes.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "log.h"
#include "nodeid.h"

#include <openssl/evp.h>

/* A DAG from the golden vectors (all but the one with an empty schema_compat_id), with
 * the extra fields the gateway requires. *crc receives the CRC of the node ids. */
static json_t *vector_dag(uint32_t *crc)
{
    json_error_t e;
    json_t *v = json_load_file("tests/data/vectors/nodeid.json", 0, &e);
    ck_assert_msg(v != NULL, "vectors: %s", e.text);
    json_t *nodes = json_array();
    size_t i;
    json_t *x;
    const char *ids[16];
    size_t n = 0;
    json_array_foreach(json_object_get(v, "vectors"), i, x)
    {
        json_t *node = json_deep_copy(json_object_get(x, "node"));
        if (!*json_string_value(json_object_get(node, "schema_compat_id"))) {
            json_decref(node);
            continue;
        }
        json_object_set(node, "node_id", json_object_get(x, "node_id"));
        json_object_set_new(node, "config_hash", json_string("cfg"));
        json_object_set_new(node, "schema_hash", json_string("sch"));
        json_array_append_new(nodes, node);
    }
    json_array_foreach(nodes, i, x) ids[n++] = json_string_value(json_object_get(x, "node_id"));
    *crc = nodeid_crc32_ids(ids, n);
    json_t *dag = json_pack("{so s{s{ssss}}}", "nodes", nodes, "meta", "topic_namespace", "world",
                            "w", "domain", "dryrun");
    json_decref(v);
    return dag;
}

static char *submit_body(const json_t *dag, uint32_t crc, int b64, const char *world)
{
    char *text = json_dumps(dag, JSON_COMPACT);
    json_t *body;
    if (b64) {
        size_t len = strlen(text);
        unsigned char *enc = malloc(4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock(enc, (const unsigned char *)text, (int)len);
        body = json_pack("{ss sI}", "dag_json", (char *)enc, "node_ids_crc32", (json_int_t)crc);
        free(enc);
    } else {
        body = json_pack("{ss sI}", "dag_json", text, "node_ids_crc32", (json_int_t)crc);
    }
    if (world)
        json_object_set_new(body, "world_id", json_string(world));
    free(text);
    char *out = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return out;
}

START_TEST(test_verify_vectors)
{
    uint32_t crc;
    json_t *dag = vector_dag(&crc);
    json_t *err = NULL;
    json_t *jcrc = json_integer(crc);
    ck_assert_int_eq(gw_strategy_verify(dag, jcrc, &err), 0);
    ck_assert_ptr_null(err);
    json_decref(jcrc);
    /* wrong CRC */
    jcrc = json_integer((json_int_t)crc + 1);
    ck_assert_int_eq(gw_strategy_verify(dag, jcrc, &err), 400);
    ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "E_CHECKSUM_MISMATCH");
    ck_assert_int_eq(json_integer_value(json_object_get(err, "expected")), crc);
    json_decref(err);
    json_decref(jcrc);
    /* a changed param: the recomputed id differs */
    json_t *node = json_array_get(json_object_get(dag, "nodes"), 1);
    json_object_set_new(json_object_get(node, "params"), "alpha", json_integer(2));
    jcrc = json_integer(crc);
    ck_assert_int_eq(gw_strategy_verify(dag, jcrc, &err), 400);
    ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "E_NODE_ID_MISMATCH");
    json_t *m = json_array_get(json_object_get(err, "node_id_mismatch"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "index")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(m, "node_id")),
                     "blake3:0577d5f957cecc577fccd9028499a3f55d15be2015f519de3ec1a314b93a970b");
    json_decref(err);
    /* missing fields come first */
    json_object_del(node, "code_hash");
    ck_assert_int_eq(gw_strategy_verify(dag, jcrc, &err), 400);
    ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "E_NODE_ID_FIELDS");
    json_t *mf = json_array_get(json_object_get(err, "missing_fields"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(mf, "index")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(mf, "missing"), 0)),
                     "code_hash");
    json_decref(err);
    json_decref(jcrc);
    /* schema version */
    json_object_set_new(dag, "schema_version", json_string("v2"));
    ck_assert_int_eq(gw_strategy_verify(dag, NULL, &err), 400);
    ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "E_SCHEMA_INVALID");
    json_decref(err);
    json_decref(dag);
}
END_TEST

START_TEST(test_decode_dag)
{
    char err[256];
    json_t *s = json_string("eyJub2RlcyI6W119"); /* base64 of {"nodes":[]} */
    json_t *d = gw_strategy_decode_dag(s, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert(json_is_array(json_object_get(d, "nodes")));
    json_decref(d);
    json_decref(s);
    s = json_string("{\"nodes\":[]}");
    d = gw_strategy_decode_dag(s, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    json_decref(d);
    json_decref(s);
    s = json_string("%%%");
    ck_assert_ptr_null(gw_strategy_decode_dag(s, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "dag_json"));
    json_decref(s);
    s = json_string("WzFd"); /* base64 of [1]: not an object */
    ck_assert_ptr_null(gw_strategy_decode_dag(s, err, sizeof(err)));
    json_decref(s);
    ck_assert_ptr_null(gw_strategy_decode_dag(NULL, err, sizeof(err)));
}
END_TEST

static void small_quota(struct qmtl_config *c)
{
    c->gateway.max_strategies_per_token = 2;
}

static void tiny_byte_quota(struct qmtl_config *c)
{
    c->gateway.max_strategy_bytes_per_token = 1024;
}

/* the vector DAG, made distinct by a meta tag */
static char *tagged_body(int tag)
{
    uint32_t crc;
    json_t *dag = vector_dag(&crc);
    json_object_set_new(json_object_get(dag, "meta"), "tag", json_integer(tag));
    char *body = submit_body(dag, crc, 0, NULL);
    json_decref(dag);
    return body;
}

/* Stored submissions are bounded per credential: count and bytes. */
START_TEST(test_submission_quota)
{
    gwt_configure = small_quota;
    struct gwt t;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    struct gwt_resp r;
    char *b1 = tagged_body(1), *b2 = tagged_body(2), *b3 = tagged_body(3);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", b1, GWT_SUB, &r), 202);
    char sid[64];
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(r.json, "strategy_id")));
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", b2, GWT_SUB, &r), 202);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", b3, GWT_SUB, &r), 429);
    ck_assert_str_eq(gwt_err(&r), "E_QUOTA");
    ck_assert_ptr_nonnull(strstr(r.body, "max_strategies_per_token"));
    gwt_resp_free(&r);
    /* a resubmission stores nothing new: still accepted, same id */
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", b1, GWT_SUB, &r), 202);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy_id")), sid);
    gwt_resp_free(&r);
    /* dry runs store nothing and are not counted */
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies/dry-run", b3, GWT_SUB, &r), 200);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);

    gwt_configure = tiny_byte_quota;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    ck_assert_int_gt(strlen(b1), 1024);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", b1, GWT_SUB, &r), 429);
    ck_assert_ptr_nonnull(strstr(r.body, "max_strategy_bytes_per_token"));
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
    free(b1);
    free(b2);
    free(b3);
}
END_TEST

START_TEST(test_submit_dedup_status_dryrun)
{
    struct gwt t;
    gwt_start(&t, NULL);
    uint32_t crc;
    json_t *dag = vector_dag(&crc);
    struct gwt_resp r;
    char *body = submit_body(dag, crc, 0, NULL);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, GWT_SUB, &r), 202);
    free(body);
    char sid[64];
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(r.json, "strategy_id")));
    ck_assert_int_eq(strlen(sid), 36);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "node_ids_crc32")), crc);
    ck_assert(json_is_true(json_object_get(r.json, "downgraded")));
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "downgrade_reason")),
                     "decision_unavailable");
    ck_assert(json_is_true(json_object_get(r.json, "safe_mode")));
    ck_assert_int_eq(json_object_size(json_object_get(r.json, "queue_map")), 0);
    char sentinel[80];
    snprintf(sentinel, sizeof(sentinel), "%s-sentinel", sid);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "sentinel_id")), sentinel);
    gwt_resp_free(&r);
    /* same DAG again, base64 this time: same strategy */
    body = submit_body(dag, crc, 1, NULL);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, GWT_SUB, &r), 202);
    free(body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy_id")), sid);
    gwt_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/strategies/%s/status", sid);
    ck_assert_int_eq(gwt_http(&t, "GET", path, NULL, GWT_SUB, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "queued");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/strategies/nope/status", NULL, GWT_SUB, &r), 404);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "strategy not found");
    gwt_resp_free(&r);
    /* dry-run: not persisted */
    body = submit_body(dag, crc, 0, NULL);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies/dry-run", body, GWT_SUB, &r), 200);
    free(body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy_id")), "dryrun");
    char dr[32];
    snprintf(dr, sizeof(dr), "dryrun:%08x", crc);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "sentinel_id")), dr);
    gwt_resp_free(&r);
    /* errors over HTTP carry the reference's detail shape */
    body = submit_body(dag, crc ^ 1, 0, NULL);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, GWT_SUB, &r), 400);
    free(body);
    ck_assert_str_eq(gwt_err(&r), "E_CHECKSUM_MISMATCH");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "detail"), "code")),
                     "E_CHECKSUM_MISMATCH");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", "{\"dag_json\":\"@@\"}", GWT_SUB, &r),
                     400);
    ck_assert_str_eq(gwt_err(&r), "E_SCHEMA_INVALID");
    gwt_resp_free(&r);
    /* submission token */
    gwt_set(&t.cfg.gateway.submit_token, "sub");
    body = submit_body(dag, crc, 0, NULL);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, NULL, &r), 401);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, "Authorization: Bearer sub\n", &r),
                     202);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, GWT_SUB, &r), 401); /* old token */
    gwt_resp_free(&r);
    free(body);
    json_decref(dag);
    gwt_stop(&t, 1);
}
END_TEST

/* ---- fake DAG manager */

static int diff_calls;
static char diff_domain[32]; /* the last diff request's execution_domain */
static int diff_as_of_null;   /* ... and whether it had no as_of */

static void fake_dm(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evbuffer_new();
    if (strncmp(uri, "/diff", 5) == 0) {
        diff_calls++;
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        json_t *b =
            json_loadb((const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in), 0, NULL);
        ck_assert_ptr_nonnull(b);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(b, "dag_json")));
        ck_assert(json_is_boolean(json_object_get(b, "dry_run")));
        snprintf(diff_domain, sizeof(diff_domain), "%s",
                 json_string_value(json_object_get(b, "execution_domain")) ?: "(none)");
        diff_as_of_null = !json_is_string(json_object_get(b, "as_of"));
        evbuffer_add_printf(
            out,
            "{\"queue_map\":{\"n1\":[{\"queue\":\"w.dryrun.q1\",\"global\":false}],"
            "\"n2\":[{\"queue\":\"w.dryrun.q2\",\"global\":true}],"
            "\"n3\":[{\"queue\":\"w.dryrun.q3\",\"global\":false}]},"
            "\"tag_queues\":{\"n3\":[{\"queue\":\"w.dryrun.q2\",\"global\":false,"
            "\"node_id\":\"n2\",\"tags\":[\"t\"],\"interval\":60}]},"
            "\"queue_updates\":[{\"tags\":[\"t\"],\"interval\":60,\"match_mode\":\"any\","
            "\"world_id\":\"w\",\"queues\":[{\"queue\":\"w.dryrun.q1\",\"global\":false,"
            "\"node_id\":\"n1\",\"tags\":[\"t\"],\"interval\":60}],"
            "\"version\":1},{\"tags\":\"t\"}],"
            "\"sentinel_id\":\"%s-sentinel\"}",
            json_string_value(json_object_get(b, "strategy_id")));
        json_decref(b);
    } else {
        ck_assert_ptr_nonnull(strstr(uri, "tags=a%2Cb"));
        ck_assert_ptr_nonnull(strstr(uri, "interval=60"));
        evbuffer_add_printf(out, "{\"queues\":[{\"queue\":\"q\",\"global\":false}]}");
    }
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* Counts the queue_update events the gateway publishes (listener). */
static void count_queue_updates(void *arg, int64_t seq, const char *type, const char *world,
                                const char *envelope)
{
    (void)seq;
    if (strcmp(type, "queue_update") != 0)
        return;
    ck_assert_str_eq(world, "w");
    /* the reference's shape, the node beside it */
    ck_assert_ptr_nonnull(
        strstr(envelope, "\"queues\":[{\"queue\":\"w.dryrun.q1\",\"global\":false}]"));
    ck_assert_ptr_nonnull(strstr(envelope, "\"queue_nodes\":{\"w.dryrun.q1\":{\"node_id\":\"n1\""));
    (*(int *)arg)++;
}

START_TEST(test_dagmanager_client)
{
    struct gwt t;
    gwt_start(&t, NULL);
    int queue_updates = 0;
    ck_assert_int_eq(gw_server_add_listener(t.srv, count_queue_updates, &queue_updates), 0);
    char url[64];
    struct evhttp *dm = gwt_fake_dm(&t, fake_dm, url, sizeof(url));
    struct gwt_resp r;
    /* no DAG manager configured: degraded by_tag */
    ck_assert_int_eq(gwt_http(&t, "GET", "/queues/by_tag?tags=a,b&interval=60", NULL, GWT_SUB, &r),
                     200);
    ck_assert(json_is_true(json_object_get(r.json, "degraded")));
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "queues")), 0);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/queues/by_tag?interval=60", NULL, GWT_SUB, &r), 422);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/queues/by_tag?tags=a&interval=x", NULL, GWT_SUB, &r),
                     422);
    gwt_resp_free(&r);
    gwt_set(&t.cfg.gateway.dagmanager_url, url);
    ck_assert_int_eq(gwt_http(&t, "GET", "/queues/by_tag?tags=a,b&interval=60", NULL, GWT_SUB, &r),
                     200);
    ck_assert(json_is_false(json_object_get(r.json, "degraded")));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "queues"), 0), "queue")),
                     "q");
    gwt_resp_free(&r);
    /* a world in paper mode with an active strategy: not downgraded, queue map from the diff */
    ck_assert_int_eq(
        gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\",\"mode\":\"paper\"}", GWT_OP, &r), 201);
    gwt_resp_free(&r);
    ck_assert_int_eq(
        gwt_http(&t, "POST", "/worlds/w/decisions", "{\"strategies\":[\"x\"]}", GWT_OP, &r), 200);
    gwt_resp_free(&r);
    uint32_t crc;
    json_t *dag = vector_dag(&crc);
    char *body = submit_body(dag, crc, 0, "w");
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies", body, GWT_SUB, &r), 202);
    ck_assert_int_eq(diff_calls, 1);
    /* paper: the decision's as_of (its time) is not the compute context's, so submissions
     * made in other seconds get the same queues */
    ck_assert_str_eq(diff_domain, "dryrun");
    ck_assert(diff_as_of_null);
    ck_assert_int_eq(queue_updates, 1); /* the entry without queues is not published */
    ck_assert(json_is_false(json_object_get(r.json, "downgraded")));
    ck_assert(json_is_false(json_object_get(r.json, "safe_mode")));
    /* the reference's shape: the node this submission computes is absent, the node another
     * strategy computes is its topic string, the tag query its list of upstream queues;
     * node_queues gives our host every topic */
    json_t *want = json_pack("{s:s, s:[{s:s, s:b}]}", "n2", "w.dryrun.q2", "n3", "queue",
                             "w.dryrun.q2", "global", 0);
    ck_assert_msg(json_equal(json_object_get(r.json, "queue_map"), want), "queue_map shape");
    json_decref(want);
    want = json_pack("{s:s, s:s}", "n1", "w.dryrun.q1", "n2", "w.dryrun.q2");
    ck_assert_msg(json_equal(json_object_get(r.json, "node_queues"), want), "node_queues");
    json_decref(want);
    want = json_pack("{s:{s:s, s:[s], s:i}}", "w.dryrun.q2", "node_id", "n2", "tags", "t",
                     "interval", 60);
    ck_assert_msg(json_equal(json_object_get(r.json, "queue_nodes"), want), "queue_nodes");
    json_decref(want);
    char path[128];
    snprintf(path, sizeof(path), "/strategies/%s/status",
             json_string_value(json_object_get(r.json, "strategy_id")));
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", path, NULL, GWT_SUB, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "completed");
    gwt_resp_free(&r);
    /* the submission bound the strategy to the world */
    json_t *b = gw_store_bindings_get(gw_server_store(t.srv), "w");
    ck_assert_int_eq(json_array_size(b), 1);
    json_decref(b);
    ck_assert_int_eq(gwt_http(&t, "GET", "/health", NULL, NULL, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "dagmanager")), "ok");
    gwt_resp_free(&r);
    /* the dry run keeps the diff's full per-node list */
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies/dry-run", body, GWT_SUB, &r), 200);
    ck_assert_uint_eq(json_object_size(json_object_get(r.json, "queue_map")), 3);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(r.json, "queue_map"), "n1"), 0),
            "queue")),
        "w.dryrun.q1");
    ck_assert_ptr_null(json_object_get(r.json, "node_queues"));
    ck_assert_ptr_null(json_object_get(r.json, "queue_nodes"));
    ck_assert_int_eq(queue_updates, 1); /* a dry run announces nothing */
    gwt_resp_free(&r);
    /* DAG manager gone: downgraded with a reason, still 202 */
    evhttp_free(dm);
    ck_assert_int_eq(gwt_http(&t, "POST", "/strategies/dry-run", body, GWT_SUB, &r), 200);
    ck_assert(json_is_true(json_object_get(r.json, "downgraded")));
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "downgrade_reason")),
                     "dagmanager_unavailable");
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/queues/by_tag?tags=a,b&interval=60", NULL, GWT_SUB, &r),
                     200);
    ck_assert(json_is_true(json_object_get(r.json, "degraded")));
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/health", NULL, NULL, &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "dagmanager")), "error");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "degraded");
    gwt_resp_free(&r);
    free(body);
    json_decref(dag);
    gwt_stop(&t, 1);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("gw_strategies");
    TCase *tc = tcase_create("strategies");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_verify_vectors);
    tcase_add_test(tc, test_decode_dag);
    tcase_add_test(tc, test_submit_dedup_status_dryrun);
    tcase_add_test(tc, test_submission_quota);
    tcase_add_test(tc, test_dagmanager_client);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
