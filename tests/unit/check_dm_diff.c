/* dm_diff: Kahn order + CRC (nodeid vectors), topic naming, reuse, idempotence, reopen. */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_store.h"
#include "dm_testlib.h"
#include "log.h"
#include "nodeid.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VECTORS "tests/data/vectors/"
#define SI_ID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"
#define PN_C845 "blake3:daecda20a58d61d47a1cdb8d739f289fc88580c8e13e965c2f82bfadbc66370b"


/* ---------------------------------------------------------------- order and CRC */

/* DAG of the nodeid vectors: node_id recomputed from each vector node (must match),
 * inputs = the vector's dependencies when with_edges. */
static json_t *vector_dag(int with_edges, size_t *n_out)
{
    json_error_t je;
    json_t *root = json_load_file(VECTORS "nodeid.json", 0, &je);
    ck_assert_msg(root != NULL, "%s", je.text);
    json_t *nodes = json_array(), *v;
    size_t i;
    json_array_foreach(json_object_get(root, "vectors"), i, v)
    {
        json_t *node = json_object_get(v, "node");
        char id[NODEID_LEN + 1], err[256];
        ck_assert_int_eq(nodeid_from_json(node, id, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(id, json_string_value(json_object_get(v, "node_id")));
        json_t *n =
            json_pack("{s:s, s:O, s:s, s:O, s:O}", "node_id", id, "node_type",
                      json_object_get(node, "node_type"), "code_hash", "c0de", "interval",
                      json_object_get(node, "interval"), "period", json_object_get(node, "period"));
        if (with_edges)
            json_object_set(n, "inputs", json_object_get(node, "dependencies"));
        json_array_append_new(nodes, n);
    }
    json_decref(root);
    *n_out = json_array_size(nodes);
    return json_pack("{s:o}", "nodes", nodes);
}

static void order_ids(json_t *dagj, const char **ids, size_t *n)
{
    struct dm_dag d;
    char err[256];
    ck_assert_int_eq(dm_dag_parse(dagj, &d, err, sizeof(err)), 0);
    size_t *order = calloc(d.n + 1, sizeof(*order));
    ck_assert_int_eq(dm_topo_order(&d, order, err, sizeof(err)), 0);
    for (size_t i = 0; i < d.n; i++)
        ids[i] = json_string_value(
            json_object_get(json_array_get(json_object_get(dagj, "nodes"), order[i]), "node_id"));
    *n = d.n;
    free(order);
    dm_dag_release(&d);
}

START_TEST(test_order_vectors_no_edges)
{
    size_t n;
    json_t *dagj = vector_dag(0, &n);
    const char *ids[16];
    order_ids(dagj, ids, &n);
    ck_assert_uint_eq(n, 8);
    /* without edges Kahn keeps DAG order, so the CRC is the vector's list CRC */
    ck_assert_uint_eq(nodeid_crc32_ids(ids, n), 2412352240u);
    json_decref(dagj);
}
END_TEST

START_TEST(test_order_vectors_with_edges)
{
    size_t n;
    json_t *dagj = vector_dag(1, &n);
    const char *ids[16];
    order_ids(dagj, ids, &n);
    /* ready list seeded in DAG order (0,1,3,4,7), then 0's children in DAG order (2,5,6);
     * inputs outside the DAG (dep-a, blake3:00) are ignored */
    static const size_t want[] = {0, 1, 3, 4, 7, 2, 5, 6};
    json_t *nodes = json_object_get(dagj, "nodes");
    for (size_t i = 0; i < 8; i++)
        ck_assert_str_eq(
            ids[i], json_string_value(json_object_get(json_array_get(nodes, want[i]), "node_id")));
    ck_assert_uint_ne(nodeid_crc32_ids(ids, n), 2412352240u);
    json_decref(dagj);
}
END_TEST

START_TEST(test_order_crc_reference_pair)
{
    /* the consumer listed before its source: Kahn puts the source first */
    json_t *dagj =
        json_pack("{s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s}]}", "nodes", "node_id", PN_C845,
                  "node_type", "ProcessingNode", "code_hash", "c0ffee", "inputs", SI_ID, "node_id",
                  SI_ID, "node_type", "StreamInput", "code_hash",
                  "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b");
    const char *ids[2];
    size_t n;
    order_ids(dagj, ids, &n);
    ck_assert_str_eq(ids[0], SI_ID);
    ck_assert_uint_eq(nodeid_crc32_ids(ids, n), 302829718u);
    json_decref(dagj);
}
END_TEST

START_TEST(test_order_errors)
{
    char err[256];
    struct dm_dag d;
    size_t order[4];
    json_t *cyc = json_pack("{s:[{s:s,s:s,s:s,s:[s]}, {s:s,s:s,s:s,s:[s]}, {s:s,s:s,s:s}]}",
                            "nodes", "node_id", "a", "node_type", "x", "code_hash", "h", "inputs",
                            "b", "node_id", "b", "node_type", "x", "code_hash", "h", "inputs", "a",
                            "node_id", "c", "node_type", "x", "code_hash", "h");
    ck_assert_int_eq(dm_dag_parse(cyc, &d, err, sizeof(err)), 0);
    ck_assert_int_eq(dm_topo_order(&d, order, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cycle through node 'a'"), "%s", err);
    dm_dag_release(&d);
    json_decref(cyc);
    json_t *dup =
        json_pack("{s:[{s:s,s:s,s:s}, {s:s,s:s,s:s}]}", "nodes", "node_id", "a", "node_type", "x",
                  "code_hash", "h", "node_id", "a", "node_type", "y", "code_hash", "h");
    ck_assert_int_eq(dm_dag_parse(dup, &d, err, sizeof(err)), 0);
    ck_assert_int_eq(dm_topo_order(&d, order, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "duplicate node_id 'a' (nodes[1])"), "%s", err);
    dm_dag_release(&d);
    json_decref(dup);
}
END_TEST

START_TEST(test_parse_errors_and_sentinel)
{
    static const struct {
        const char *dag, *want;
    } bad[] = {
        {"[]", "expected an object"},
        {"{\"nodes\": 3}", "field 'nodes': expected an array"},
        {"{\"nodes\": [{\"node_type\": \"x\", \"code_hash\": \"h\"}]}",
         "nodes[0]: field 'node_id' is required"},
        {"{\"nodes\": [{\"node_id\": \"a\", \"node_type\": \"x\"}]}",
         "nodes[0]: field 'code_hash' is required"},
        {"{\"nodes\": [{\"node_id\": \"a\", \"node_type\": \"x\", \"code_hash\": \"h\","
         " \"interval\": \"1m\"}]}",
         "nodes[0]: field 'interval': expected an integer, got \"1m\""},
        {"{\"nodes\": [{\"node_id\": \"a\", \"node_type\": \"x\", \"code_hash\": \"h\","
         " \"tags\": [1]}]}",
         "nodes[0]: field 'tags'[0]"},
        {"{\"nodes\": [{\"node_id\": \"a\", \"node_type\": \"x\", \"code_hash\": \"h\","
         " \"period\": -1}]}",
         "field 'period': must not be negative"},
    };
    char err[256];
    struct dm_dag d;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].dag, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(dm_dag_parse(j, &d, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, bad[i].want), "case %zu: '%s'", i, err);
        json_decref(j);
    }
    json_t *j = json_loads("{\"nodes\": [{\"node_id\": \"vs\", \"node_type\": \"VersionSentinel\","
                           " \"version\": \" release/2.1 \"}, {\"node_id\": \"a\", \"node_type\":"
                           " \"x\", \"code_hash\": \"h\", \"interval\": \"60\", \"period\": 2.9,"
                           " \"schema_id\": \"s1\"}], \"version\": \"ignored\"}",
                           0, NULL);
    ck_assert_int_eq(dm_dag_parse(j, &d, err, sizeof(err)), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.version, "release-2.1");
    ck_assert_int_eq(d.nodes[0].interval, 60);
    ck_assert_int_eq(d.nodes[0].period, 2);
    ck_assert_str_eq(d.nodes[0].schema_compat_id, "s1");
    dm_dag_release(&d);
    json_decref(j);
}
END_TEST

/* ---------------------------------------------------------------- topic naming */

static int taken_none(const char *t, void *arg)
{
    (void)t, (void)arg;
    return 0;
}

/* Taken: every name in the NULL-terminated list arg. */
static int taken_list(const char *t, void *arg)
{
    for (const char *const *p = arg; *p; p++)
        if (strcmp(*p, t) == 0)
            return 1;
    return 0;
}

START_TEST(test_topic_naming)
{
    char out[128];
    char *t = dm_topic_pick("demo", "dryrun", "BTC", "StreamInput",
                            "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b",
                            "v1", taken_none, NULL);
    ck_assert_str_eq(t, "demo.dryrun.btc_StreamInput_74234e_v1");
    free(t);
    /* no world: no namespace prefix; no tag: asset "any"; version default */
    t = dm_topic_pick("", "live", NULL, "sma", "abcdef0123", "", taken_none, NULL);
    ck_assert_str_eq(t, "any_sma_abcdef_v1");
    free(t);
    t = dm_topic_pick("My World.EU", "Live", "B T/C!", "My Node", "ab:cd", "1.2/beta ", taken_none,
                      NULL);
    ck_assert_str_eq(t, "my-world-eu.live.btc_My-Node_ab-cd_1.2-beta");
    free(t);
    dm_sanitize_segment("__x.y__", out, sizeof(out));
    ck_assert_str_eq(out, "x-y");
    dm_sanitize_segment("-_-", out, sizeof(out));
    ck_assert_str_eq(out, "");
    dm_asset_name("!!!", out, sizeof(out));
    ck_assert_str_eq(out, "any");
    dm_asset_name("Eth_USD-1", out, sizeof(out));
    ck_assert_str_eq(out, "eth_usd-1");
    dm_normalize_version("...", out, sizeof(out));
    ck_assert_str_eq(out, "v1");
    dm_normalize_version("-v2_", out, sizeof(out));
    ck_assert_str_eq(out, "v2");
    ck_assert_str_eq(dm_normalize_domain(""), "backtest");
    ck_assert_str_eq(dm_normalize_domain("default"), "backtest");
    ck_assert_str_eq(dm_normalize_domain(" Paper_Trading "), "dryrun");
    ck_assert_str_eq(dm_normalize_domain("PROD"), "live");
    ck_assert_str_eq(dm_normalize_domain("shadow"), "shadow");
    ck_assert_str_eq(dm_normalize_domain("whatever"), "backtest");
    /* a world that sanitizes to nothing drops the prefix */
    t = dm_topic_pick("...", "live", "x", "T", "123456", "v1", taken_none, NULL);
    ck_assert_str_eq(t, "x_T_123456_v1");
    free(t);
}
END_TEST

/* Taken: the base name at every hash length and suffixes 1..max (plus 'extra'). */
struct suffixes {
    int max, extra, calls;
};

static int taken_suffix(const char *t, void *arg)
{
    struct suffixes *sf = arg;
    const char *dash = strrchr(t, '-');
    sf->calls++;
    if (!dash)
        return 1;
    int k = atoi(dash + 1);
    return k <= sf->max || k == sf->extra;
}

START_TEST(test_topic_many_suffixes)
{
    struct suffixes sf = {999, 0, 0};
    char *t = dm_topic_pick("", "live", "a", "T", "abcdef", "v1", taken_suffix, &sf);
    ck_assert_str_eq(t, "a_T_abcdef_v1-1000");
    ck_assert_int_le(sf.calls, 25); /* doubling + bisection, not 1000 lookups */
    free(t);
    sf = (struct suffixes){0, 0, 0};
    t = dm_topic_pick("", "live", "a", "T", "abcdef", "v1", taken_suffix, &sf);
    ck_assert_str_eq(t, "a_T_abcdef_v1-1");
    free(t);
    /* with a gap the result is still free */
    sf = (struct suffixes){4, 6, 0};
    t = dm_topic_pick("", "live", "a", "T", "abcdef", "v1", taken_suffix, &sf);
    ck_assert_int_eq(taken_suffix(t, &sf), 0);
    free(t);
    /* everything taken: NULL */
    sf = (struct suffixes){DM_TOPIC_MAX_SUFFIX, 0, 0};
    ck_assert_ptr_null(dm_topic_pick("", "live", "a", "T", "abcdef", "v1", taken_suffix, &sf));
}
END_TEST

START_TEST(test_topic_collisions)
{
    const char *taken[] = {"w.live.a_T_abcdef_v1", "w.live.a_T_abcdef01_v1", NULL};
    char *t = dm_topic_pick("w", "live", "a", "T", "abcdef0123", "v1", taken_list, taken);
    ck_assert_str_eq(t, "w.live.a_T_abcdef0123_v1");
    free(t);
    const char *taken2[] = {"w.live.a_T_abcdef_v1", "w.live.a_T_abcdef01_v1",
                            "w.live.a_T_abcdef0123_v1", "w.live.a_T_abcdef0123_v1-1", NULL};
    t = dm_topic_pick("w", "live", "a", "T", "abcdef0123", "v1", taken_list, taken2);
    ck_assert_str_eq(t, "w.live.a_T_abcdef0123_v1-2");
    free(t);
    /* short hashes: one plain attempt, then suffixes */
    const char *taken3[] = {"a_T_abc_v1", NULL};
    t = dm_topic_pick("", "live", "a", "T", "abc", "v1", taken_list, taken3);
    ck_assert_str_eq(t, "a_T_abc_v1-1");
    free(t);
}
END_TEST

/* ---------------------------------------------------------------- the diff */

#define N_A                                                                                        \
    "{\"node_id\": \"A\", \"node_type\": \"StreamInput\", \"interval\": 60, \"period\": 10,"       \
    " \"tags\": [\"BTC\", \"price\"], \"code_hash\": \"74234e98afe7498fb5\"}"
#define N_B                                                                                        \
    "{\"node_id\": \"B\", \"node_type\": \"sma\", \"interval\": 60, \"period\": 5,"                \
    " \"code_hash\": \"b0b0b0b0\", \"inputs\": [\"A\"]}"
#define N_C                                                                                        \
    "{\"node_id\": \"C\", \"node_type\": \"ema\", \"interval\": 60, \"period\": 5,"                \
    " \"code_hash\": \"c0c0c0c0\", \"inputs\": [\"A\"]}"

/* A diff request; the DAG goes in as a JSON string, as the gateway sends it. */
static json_t *request(const char *strategy, const char *nodes, const char *world,
                       const char *as_of)
{
    char dag[1024];
    snprintf(dag, sizeof(dag), "{\"nodes\": [%s]}", nodes);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "strategy_id", strategy, "dag_json", dag,
                     "world_id", world, "execution_domain", "live", "as_of", as_of, "partition",
                     "");
}

static json_t *diff_ok(struct dm_store *s, json_t *rq, struct dm_diff_stats *st)
{
    json_t *reply = NULL;
    char err[256] = "";
    int rc = dm_diff(s, rq, &reply, st, err, sizeof(err));
    ck_assert_msg(rc == 0, "diff: %d %s", rc, err);
    json_decref(rq);
    return reply;
}

static const char *queue_of(json_t *reply, const char *id, int *global)
{
    json_t *e = json_array_get(json_object_get(json_object_get(reply, "queue_map"), id), 0);
    ck_assert_msg(e != NULL, "no queue for %s", id);
    *global = json_is_true(json_object_get(e, "global"));
    return json_string_value(json_object_get(e, "queue"));
}

START_TEST(test_diff_reuse_across_strategies)
{
    struct dm_store *s = dmt_open();
    struct dm_diff_stats st;
    int g;
    json_t *r1 = diff_ok(s, request("s1", N_B "," N_A, "w", ""), &st);
    ck_assert_uint_eq(st.new_nodes, 2);
    ck_assert_uint_eq(st.reused_nodes, 0);
    ck_assert_str_eq(queue_of(r1, "A", &g), "w.live.btc_StreamInput_74234e_v1");
    ck_assert_int_eq(g, 0);
    ck_assert_str_eq(queue_of(r1, "B", &g), "w.live.any_sma_b0b0b0_v1");
    ck_assert_int_eq(g, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r1, "sentinel_id")), "s1-sentinel");
    const char *kahn[] = {"A", "B"};
    ck_assert_int_eq(json_integer_value(json_object_get(r1, "crc32")), nodeid_crc32_ids(kahn, 2));

    /* s2 shares A: same queue, global; C is new */
    json_t *r2 = diff_ok(s, request("s2", N_A "," N_C, "w", ""), &st);
    ck_assert_uint_eq(st.new_nodes, 1);
    ck_assert_uint_eq(st.reused_nodes, 1);
    ck_assert_str_eq(queue_of(r2, "A", &g), "w.live.btc_StreamInput_74234e_v1");
    ck_assert_int_eq(g, 1);
    ck_assert_str_eq(queue_of(r2, "C", &g), "w.live.any_ema_c0c0c0_v1");
    ck_assert_int_eq(g, 0);

    /* resubmitting s1 is idempotent: the same reply, nothing new */
    json_t *r1b = diff_ok(s, request("s1", N_B "," N_A, "w", ""), &st);
    ck_assert_uint_eq(st.new_nodes, 0);
    ck_assert_int_gt(json_integer_value(json_object_get(r1b, "queue_generation")),
                     json_integer_value(json_object_get(r1, "queue_generation"))); /* s2's */
    const char *moving[] = {"new_nodes", "reused_nodes", "queue_generation"};
    for (size_t i = 0; i < 3; i++) {
        json_object_del(r1, moving[i]);
        json_object_del(r1b, moving[i]);
    }
    ck_assert_msg(json_equal(r1, r1b), "resubmission changed the reply");

    /* another world: a queue of its own, not global */
    json_t *r3 = diff_ok(s, request("s3", N_A, "w2", ""), &st);
    ck_assert_str_eq(queue_of(r3, "A", &g), "w2.live.btc_StreamInput_74234e_v1");
    ck_assert_int_eq(g, 0);
    /* same world, other as_of: another compute context -> another queue (name grows) */
    json_t *r4 = diff_ok(s, request("s4", N_A, "w", "2025-01-01T00:00:00Z"), &st);
    ck_assert_str_eq(queue_of(r4, "A", &g), "w.live.btc_StreamInput_74234e98_v1");
    ck_assert_int_eq(g, 0);
    ck_assert_int_eq(dm_store_count(s, "queues"), 5);
    ck_assert_int_eq(dm_store_count(s, "nodes"), 3);
    ck_assert_int_eq(dm_store_count(s, "strategies"), 4);
    json_decref(r1), json_decref(r1b), json_decref(r2), json_decref(r3), json_decref(r4);
    dm_store_close(s);
}
END_TEST

START_TEST(test_diff_persists_across_reopen)
{
    struct dm_store *s = dmt_open();
    json_t *r = diff_ok(s, request("s1", N_A "," N_B, "w", ""), NULL);
    json_decref(r);
    dm_store_close(s);
    s = dmt_open();
    struct dm_diff_stats st;
    int g;
    r = diff_ok(s, request("s2", N_A "," N_B "," N_C, "w", ""), &st);
    ck_assert_uint_eq(st.reused_nodes, 2);
    ck_assert_uint_eq(st.new_nodes, 1);
    ck_assert_str_eq(queue_of(r, "B", &g), "w.live.any_sma_b0b0b0_v1");
    ck_assert_int_eq(g, 1);
    json_decref(r);
    struct dm_queue q;
    char ck[NODEID_LEN + 1];
    nodeid_compute_key("A", "w", "live", "", "", ck);
    ck_assert_int_eq(dm_store_find_binding(s, "A", ck, &q), 1);
    ck_assert_str_eq(q.created_by, "s1");
    dm_queue_release(&q);
    dm_store_close(s);
}
END_TEST

START_TEST(test_diff_bad_requests)
{
    struct dm_store *s = dmt_open();
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"[1]", "request body must be a JSON object"},
        {"{\"dag_json\": \"{}\"}", "field 'strategy_id' is required"},
        {"{\"strategy_id\": 5, \"dag_json\": \"{}\"}", "field 'strategy_id': expected a string"},
        {"{\"strategy_id\": \"s\"}", "field 'dag_json' is required"},
        {"{\"strategy_id\": \"s\", \"dag_json\": \"{nodes\"}",
         "field 'dag_json': invalid JSON at line 1"},
        {"{\"strategy_id\": \"s\", \"dag_json\": {\"nodes\": [{\"node_id\": \"a\"}]}}",
         "nodes[0]: field 'node_type' is required"},
        {"{\"strategy_id\": \"s\", \"dag_json\": {\"nodes\": [{\"node_id\": \"a\", \"node_type\":"
         " \"t\", \"code_hash\": \"h\", \"inputs\": [\"a\"]}]}}",
         "cycle through node 'a'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *rq = json_loads(bad[i].body, 0, NULL), *reply = NULL;
        char err[256] = "";
        ck_assert_ptr_nonnull(rq);
        ck_assert_int_eq(dm_diff(s, rq, &reply, NULL, err, sizeof(err)), DM_DIFF_EBADREQ);
        ck_assert_ptr_null(reply);
        ck_assert_msg(strstr(err, bad[i].want), "case %zu: '%s'", i, err);
        json_decref(rq);
    }
    ck_assert_int_eq(dm_store_count(s, "strategies"), 0);
    /* an empty DAG is fine: CRC 0, empty map */
    json_t *r = diff_ok(
        s, json_pack("{s:s, s:s}", "strategy_id", "e", "dag_json", "{\"nodes\": []}"), NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "crc32")), 0);
    ck_assert_uint_eq(json_object_size(json_object_get(r, "queue_map")), 0);
    json_decref(r);
    dm_store_close(s);
}
END_TEST

START_TEST(test_diff_version_in_topic)
{
    struct dm_store *s = dmt_open();
    int g;
    json_t *rq = json_pack("{s:s, s:s, s:s, s:s}", "strategy_id", "s1", "dag_json",
                           "{\"nodes\": [" N_A "], \"meta\": {\"version\": \"v7\"}}", "world_id",
                           "demo", "execution_domain", "paper");
    json_t *r = diff_ok(s, rq, NULL);
    ck_assert_str_eq(queue_of(r, "A", &g), "demo.dryrun.btc_StreamInput_74234e_v7");
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), "v7");
    json_decref(r);
    dm_store_close(s);
}
END_TEST

START_TEST(test_diff_dry_run_and_sentinel)
{
    struct dm_store *s = dmt_open();
    struct dm_diff_stats st;
    int g;
    /* a sentinel without a version does not lend its node_id as the version */
    json_t *rq = json_pack("{s:s, s:s, s:s, s:b}", "strategy_id", "dryrun", "dag_json",
                           "{\"nodes\": [" N_A ", {\"node_type\": \"VersionSentinel\","
                           " \"node_id\": \"x-sentinel\"}]}",
                           "world_id", "w", "dry_run", 1);
    json_t *r = diff_ok(s, rq, &st);
    ck_assert_uint_eq(st.new_nodes, 1);
    ck_assert_str_eq(queue_of(r, "A", &g), "w.backtest.btc_StreamInput_74234e_v1");
    ck_assert(json_is_true(json_object_get(r, "dry_run")));
    json_decref(r);
    ck_assert_int_eq(dm_store_count(s, "nodes"), 0);
    ck_assert_int_eq(dm_store_count(s, "queues"), 0);
    ck_assert_int_eq(dm_store_count(s, "strategies"), 0);
    /* the real submission gets the name the dry run announced */
    r = diff_ok(s, request("s1", N_A, "w", ""), &st);
    ck_assert_str_eq(queue_of(r, "A", &g), "w.live.btc_StreamInput_74234e_v1");
    ck_assert(json_is_false(json_object_get(r, "dry_run")));
    json_decref(r);
    /* a dry run against existing bindings reports reuse, still storing nothing */
    rq = json_pack("{s:s, s:s, s:s, s:s, s:b}", "strategy_id", "s2", "dag_json",
                   "{\"nodes\": [" N_A "]}", "world_id", "w", "execution_domain", "live", "dry_run",
                   1);
    r = diff_ok(s, rq, &st);
    ck_assert_uint_eq(st.reused_nodes, 1);
    queue_of(r, "A", &g);
    ck_assert_int_eq(g, 1);
    json_decref(r);
    ck_assert_int_eq(dm_store_count(s, "strategies"), 1);
    rq = json_pack("{s:s, s:s, s:i}", "strategy_id", "s3", "dag_json", "{\"nodes\": []}", "dry_run",
                   1);
    json_t *reply = NULL;
    char err[256];
    ck_assert_int_eq(dm_diff(s, rq, &reply, NULL, err, sizeof(err)), DM_DIFF_EBADREQ);
    ck_assert_msg(strstr(err, "field 'dry_run'"), "%s", err);
    json_decref(rq);
    dm_store_close(s);
}
END_TEST

#define N_Q(id, extra)                                                                             \
    "{\"node_id\": \"" id "\", \"node_type\": \"TagQueryNode\", \"interval\": 60,"                 \
    " \"period\": 1, \"code_hash\": \"builtin:tag_query:1\"" extra "}"

/* tag_queues: what each tag-query node consumes, from its params or its own tags. */
START_TEST(test_diff_tag_queues)
{
    struct dm_store *s = dmt_open();
    json_decref(diff_ok(s, request("s1", N_A "," N_B, "w", ""), NULL));
    json_t *r =
        diff_ok(s,
                request("s2",
                        N_Q("Q1", ", \"params\": {\"query_tags\": [\"BTC\"], \"match_mode\": "
                                  "\"any\"}") "," N_Q("Q2", ", \"tags\": [\"BTC\", \"nope\"], "
                                                            "\"match_mode\": \"all\"") "," N_Q(
                            "Q3",
                            ", \"tags\": [\"price\", \"BTC\"], \"match_mode\": \"all\"") "," N_C,
                        "w", ""),
                NULL);
    json_t *tq = json_object_get(r, "tag_queues");
    ck_assert_uint_eq(json_object_size(tq), 3); /* only the tag-query nodes */
    json_t *want = json_pack("[{s:s, s:b, s:s, s:[ss], s:i}]", "queue",
                             "w.live.btc_StreamInput_74234e_v1", "global", 0, "node_id", "A",
                             "tags", "BTC", "price", "interval", 60);
    ck_assert_msg(json_equal(json_object_get(tq, "Q1"), want), "Q1");
    ck_assert_msg(json_equal(json_object_get(tq, "Q3"), want), "Q3");
    ck_assert_uint_eq(json_array_size(json_object_get(tq, "Q2")), 0);
    json_decref(want);
    json_decref(r);
    /* another world sees none of w's queues */
    r = diff_ok(s, request("s3", N_Q("Q1", ", \"params\": {\"query_tags\": [\"BTC\"]}"), "w9", ""),
                NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(r, "tag_queues"), "Q1")), 0);
    json_decref(r);
    /* a malformed query is the client's error, and nothing is stored */
    long before = dm_store_count(s, "strategies");
    json_t *rq =
        request("s4", N_Q("Q9", ", \"match_mode\": \"most\", \"tags\": [\"BTC\"]"), "w", "");
    json_t *reply = NULL;
    char err[256] = "";
    ck_assert_int_eq(dm_diff(s, rq, &reply, NULL, err, sizeof(err)), DM_DIFF_EBADREQ);
    ck_assert_msg(strstr(err, "'match_mode'") != NULL, "%s", err);
    ck_assert_ptr_null(reply);
    ck_assert_int_eq(dm_store_count(s, "strategies"), before);
    json_decref(rq);
    dm_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dm_diff");
    TCase *tc = tcase_create("diff");
    tcase_add_checked_fixture(tc, dmt_setup, dmt_teardown);
    tcase_add_test(tc, test_order_vectors_no_edges);
    tcase_add_test(tc, test_order_vectors_with_edges);
    tcase_add_test(tc, test_order_crc_reference_pair);
    tcase_add_test(tc, test_order_errors);
    tcase_add_test(tc, test_parse_errors_and_sentinel);
    tcase_add_test(tc, test_topic_naming);
    tcase_add_test(tc, test_topic_collisions);
    tcase_add_test(tc, test_topic_many_suffixes);
    tcase_add_test(tc, test_diff_reuse_across_strategies);
    tcase_add_test(tc, test_diff_persists_across_reopen);
    tcase_add_test(tc, test_diff_bad_requests);
    tcase_add_test(tc, test_diff_version_in_topic);
    tcase_add_test(tc, test_diff_dry_run_and_sentinel);
    tcase_add_test(tc, test_diff_tag_queues);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
