/* nodeid: BLAKE3, canonical node spec, NodeID, ComputeKey, CRC-32, collision retry. */
#include "nodeid.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTORS "tests/data/vectors/"

#define SI_ID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"
#define SCHEMA_EMPTY "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define CODE_NULL "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"

static json_t *load_vectors(const char *name)
{
    char path[256];
    json_error_t je;
    snprintf(path, sizeof(path), VECTORS "%s", name);
    json_t *root = json_load_file(path, 0, &je);
    ck_assert_msg(root != NULL, "%s:%d: %s", path, je.line, je.text);
    return root;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i % 251);
    return b;
}

/* ------------------------------------------------------------------ BLAKE3 */

START_TEST(test_blake3_vectors)
{
    json_t *root = load_vectors("blake3.json");
    json_t *cases = json_object_get(root, "cases"), *c;
    size_t i;
    ck_assert_uint_gt(json_array_size(cases), 20);
    json_array_foreach(cases, i, c)
    {
        size_t n = (size_t)json_integer_value(json_object_get(c, "input_len"));
        const char *want = json_string_value(json_object_get(c, "hash"));
        const char *want_xof = json_string_value(json_object_get(c, "xof_131"));
        uint8_t *in = pattern(n);
        char hex[65], xhex[2 * 131 + 1];
        uint8_t xof[131];
        nodeid_blake3_hex(in, n, hex);
        ck_assert_msg(strcmp(hex, want) == 0, "len %zu: %s != %s", n, hex, want);
        nodeid_blake3(in, n, xof, sizeof(xof));
        nodeid_hex(xof, sizeof(xof), xhex);
        ck_assert_msg(strcmp(xhex, want_xof) == 0, "xof len %zu", n);
        /* incremental, one byte at a time for short inputs, 100-byte pieces otherwise */
        struct nodeid_hasher *h = nodeid_hasher_new();
        size_t step = n < 200 ? 1 : 100;
        for (size_t off = 0; off < n; off += step)
            nodeid_hasher_update(h, in + off, off + step <= n ? step : n - off);
        nodeid_hasher_finalize(h, xof, sizeof(xof));
        nodeid_hex(xof, sizeof(xof), xhex);
        ck_assert_msg(strcmp(xhex, want_xof) == 0, "incremental len %zu", n);
        /* reset makes it reusable */
        nodeid_hasher_reset(h);
        nodeid_hasher_update(h, in, n);
        nodeid_hasher_finalize(h, xof, 32);
        nodeid_hex(xof, 32, xhex);
        ck_assert_str_eq(xhex, want);
        nodeid_hasher_free(h);
        free(in);
    }
    json_decref(root);
}
END_TEST

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

START_TEST(test_blake3_random_splits)
{
    int rounds = getenv("QMTL_VALGRIND") ? 40 : 300;
    for (int r = 0; r < rounds; r++) {
        size_t n = (size_t)(next_rand() % (r % 10 == 0 ? 70000 : 9000));
        uint8_t *in = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)next_rand();
        uint8_t one[64], inc[64];
        nodeid_blake3(in, n, one, sizeof(one));
        struct nodeid_hasher *h = nodeid_hasher_new();
        ck_assert_ptr_nonnull(h);
        size_t off = 0;
        while (off < n) {
            size_t piece = (size_t)(next_rand() % (next_rand() % 2 ? 64 : 3000)) + 0;
            if (piece > n - off)
                piece = n - off;
            nodeid_hasher_update(h, in + off, piece); /* empty updates included */
            off += piece;
        }
        nodeid_hasher_finalize(h, inc, sizeof(inc));
        ck_assert_msg(memcmp(one, inc, sizeof(one)) == 0, "round %d len %zu", r, n);
        nodeid_hasher_free(h);
        free(in);
    }
}
END_TEST

/* ------------------------------------------------------------------ vectors */

START_TEST(test_nodeid_vectors)
{
    json_t *root = load_vectors("nodeid.json");
    json_t *vs = json_object_get(root, "vectors"), *v;
    size_t i, n = json_array_size(vs);
    ck_assert_uint_ge(n, 8);
    const char **ids = calloc(n, sizeof(*ids));
    char(*mine)[NODEID_LEN + 1] = calloc(n, sizeof(*mine));
    json_array_foreach(vs, i, v)
    {
        char err[256] = "", *canon = NULL;
        const char *name = json_string_value(json_object_get(v, "name"));
        int rc = nodeid_from_json(json_object_get(v, "node"), mine[i], &canon, err, sizeof(err));
        ck_assert_msg(rc == 0, "%s: %s", name, err);
        ck_assert_msg(strcmp(canon, json_string_value(json_object_get(v, "canonical"))) == 0,
                      "%s canonical: %s", name, canon);
        ck_assert_msg(strcmp(mine[i], json_string_value(json_object_get(v, "node_id"))) == 0,
                      "%s id: %s", name, mine[i]);
        ck_assert_uint_eq(strlen(mine[i]), NODEID_LEN);
        ids[i] = mine[i];
        free(canon);
    }
    /* the file's crc32 over its node ids, and over ours */
    json_t *crc = json_object_get(root, "crc32");
    json_t *cids = json_object_get(crc, "node_ids");
    ck_assert_uint_eq(json_array_size(cids), n);
    json_array_foreach(cids, i, v) ck_assert_str_eq(json_string_value(v), ids[i]);
    uint32_t want = (uint32_t)json_integer_value(json_object_get(crc, "crc32"));
    ck_assert_uint_eq(nodeid_crc32_ids(ids, n), want);
    free(ids);
    free(mine);
    json_decref(root);
}
END_TEST

/* ------------------------------------------------------------------ struct API */

START_TEST(test_struct_api)
{
    char id[NODEID_LEN + 1], err[256];
    /* StreamInput 60/10 */
    struct nodeid_fields f = {.node_type = "StreamInput",
                              .interval = 60,
                              .period = 10,
                              .schema_compat_id = SCHEMA_EMPTY,
                              .code_hash = CODE_NULL};
    json_t *empty = json_object();
    f.params = empty;
    ck_assert_int_eq(nodeid_compute(&f, id, err, sizeof(err)), 0);
    ck_assert_str_eq(id, SI_ID);
    /* interval "1s" -> 1, period 1 (tests/sample_strategy.py in the reference) */
    f.interval = 1;
    f.period = 1;
    ck_assert_int_eq(nodeid_compute(&f, id, err, sizeof(err)), 0);
    ck_assert_str_eq(id, "blake3:571eb38bc9a25ff3413b0000d0966cefe76638642488b13105e6ee0c93b97a73");
    json_decref(empty);

    /* ExampleNode with excluded keys; deps in any order, NULL/"" skipped */
    json_t *p =
        json_loads("{\"alpha\":1,\"nested\":{\"z\":2,\"a\":1},\"world_id\":\"ignored\"}", 0, NULL);
    const char *deps[] = {"dep-b", NULL, "dep-a", ""};
    struct nodeid_fields g = {.node_type = "ExampleNode",
                              .interval = 60,
                              .params = p,
                              .deps = deps,
                              .n_deps = 4,
                              .schema_compat_id = "s-major",
                              .code_hash = "code-123"};
    char *canon = nodeid_canonical(&g, err, sizeof(err));
    ck_assert_str_eq(canon,
                     "ExampleNode|60|0|{\"alpha\":1,\"nested\":{\"a\":1,\"z\":2}}|dep-a,dep-b|"
                     "s-major|code-123");
    size_t len = 0;
    char *canon2 = nodeid_canonical_len(&g, &len, err, sizeof(err));
    ck_assert_uint_eq(len, strlen(canon));
    ck_assert_int_eq(nodeid_compute(&g, id, err, sizeof(err)), 0);
    ck_assert_str_eq(id, "blake3:0577d5f957cecc577fccd9028499a3f55d15be2015f519de3ec1a314b93a970b");
    char id2[NODEID_LEN + 1];
    nodeid_from_canonical(canon, strlen(canon), id2);
    ck_assert_str_eq(id, id2);

    /* the reference's c845 retry rule (data + "|1"), recorded in the notes; we follow the
     * current rule (below) but the bytes it hashes must be the same canonical form */
    char *c845 = malloc(strlen(canon) + 3);
    sprintf(c845, "%s|1", canon);
    nodeid_from_canonical(c845, strlen(c845), id2);
    ck_assert_str_eq(id2,
                     "blake3:920ad0d74eff5d26542951ce77287bead27e462aea6232398de4a127fade31e9");
    free(c845);
    free(canon);
    free(canon2);
    json_decref(p);

    /* reference e2e base node: T 15/5 {"alpha":1} */
    p = json_pack("{s:i}", "alpha", 1);
    struct nodeid_fields t = {.node_type = "T",
                              .interval = 15,
                              .period = 5,
                              .params = p,
                              .schema_compat_id = "schema-major",
                              .code_hash = "code"};
    ck_assert_int_eq(nodeid_compute(&t, id, err, sizeof(err)), 0);
    ck_assert_str_eq(id, "blake3:0a49b7d0498b1e512017c0aeba0b04373454b644999cd05d051e9181689826a1");
    json_decref(p);

    /* TagQueryNode through the struct: params rewritten, interval from the field */
    p = json_loads("{\"query_tags\":[\"price\",\" btc \",\"price\"],\"match_mode\":\"ANY\"}", 0,
                   NULL);
    struct nodeid_fields q = {.node_type = "TagQueryNode",
                              .interval = 60,
                              .period = 10,
                              .params = p,
                              .schema_compat_id = SCHEMA_EMPTY,
                              .code_hash = CODE_NULL};
    ck_assert_int_eq(nodeid_compute(&q, id, err, sizeof(err)), 0);
    ck_assert_str_eq(id, "blake3:583e67ad25c28cec43a9a08da49c2e8e3bc11a02e831b05280d7ff3e04418267");
    json_decref(p);

    /* NULL params serialize as null; NULL compat/code as "" */
    struct nodeid_fields z = {.node_type = "X"};
    canon = nodeid_canonical(&z, err, sizeof(err));
    ck_assert_str_eq(canon, "X|0|0|null|||");
    free(canon);
    /* node_type is required */
    z.node_type = "";
    ck_assert_ptr_null(nodeid_canonical(&z, err, sizeof(err)));
    ck_assert_str_eq(err, "node_type is required");
    ck_assert_int_eq(nodeid_compute(NULL, id, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_c845_canonical_bytes)
{
    /* the c845 ProcessingNode row of the notes hashes its canonical bytes as given */
    const char *c =
        "ProcessingNode|60|5|{\"alpha\":0.1,\"env_x\":1,\"flag\":true,\"label\":\"\xc3\xa9\","
        "\"seed\":7,\"window\":5}|" SI_ID "|" SCHEMA_EMPTY "|c0ffee";
    char id[NODEID_LEN + 1];
    nodeid_from_canonical(c, strlen(c), id);
    ck_assert_str_eq(id, "blake3:daecda20a58d61d47a1cdb8d739f289fc88580c8e13e965c2f82bfadbc66370b");
    /* CRC over [StreamInput 60/10 id, that id] from the notes */
    const char *ids[] = {SI_ID, id};
    ck_assert_uint_eq(nodeid_crc32_ids(ids, 2), 302829718u);
}
END_TEST

/* ------------------------------------------------------------------ ComputeKey, CRC */

START_TEST(test_compute_key)
{
    char k[NODEID_LEN + 1], k2[NODEID_LEN + 1];
    ck_assert_int_eq(nodeid_compute_key(SI_ID, "w", "offline", NULL, NULL, k), 0);
    ck_assert_str_eq(k, "blake3:40f3533867ea03c3c9212e81d1fa65a65d2671a1b8e67bf91a08e7f5e16880d7");
    nodeid_compute_key(SI_ID, "world-1", "backtest", "2025-01-01T00:00:00Z", NULL, k);
    ck_assert_str_eq(k, "blake3:613ede653c68086f64dc43b63cabddfe04b464497de73f8f58e0964a02abe40e");
    /* "", NULL, "default" and " Default " all mean backtest */
    const char *defaults[] = {"", "default", " Default ", "DEFAULT", NULL};
    for (int i = 0; i < 5; i++) {
        nodeid_compute_key(SI_ID, "world-1", defaults[i], "2025-01-01T00:00:00Z", "", k2);
        ck_assert_msg(strcmp(k, k2) == 0, "domain '%s'", defaults[i] ? defaults[i] : "(null)");
    }
    /* the key is the hash of the 0x1f-joined fields */
    char want[NODEID_LEN + 1];
    const char *joined = SI_ID "\x1fw\x1flive\x1f"
                               "2025\x1fp1";
    nodeid_from_canonical(joined, strlen(joined), want);
    nodeid_compute_key(SI_ID, "w", "live", "2025", "p1", k);
    ck_assert_str_eq(k, want);
    /* every field matters */
    nodeid_compute_key(SI_ID, "w", "live", "2025", "p2", k2);
    ck_assert_str_ne(k, k2);
}
END_TEST

START_TEST(test_crc32)
{
    ck_assert_uint_eq(nodeid_crc32(0, "123456789", 9), 0xCBF43926u); /* the standard check */
    ck_assert_uint_eq(nodeid_crc32(0, "", 0), 0);
    ck_assert_uint_eq(nodeid_crc32_ids(NULL, 0), 0);
    /* running: crc(a) continued with b == crc(a+b) */
    uint32_t a = nodeid_crc32(0, "hello ", 6);
    ck_assert_uint_eq(nodeid_crc32(a, "world", 5), nodeid_crc32(0, "hello world", 11));
    /* NULL ids count as "" */
    const char *ids[] = {"x", NULL, "y"};
    const char *ids2[] = {"x", "", "y"};
    ck_assert_uint_eq(nodeid_crc32_ids(ids, 3), nodeid_crc32_ids(ids2, 3));
    ck_assert_uint_eq(nodeid_crc32_ids(ids, 3), nodeid_crc32(0, "xy", 2));
}
END_TEST

/* ------------------------------------------------------------------ collision retry */

START_TEST(test_collision_retry)
{
    json_t *p = json_pack("{s:i}", "alpha", 1);
    struct nodeid_fields f = {.node_type = "T",
                              .interval = 15,
                              .period = 5,
                              .params = p,
                              .schema_compat_id = "schema-major",
                              .code_hash = "code"};
    char plain[NODEID_LEN + 1], out[NODEID_RETRY_LEN + 1], err[128];
    ck_assert_int_eq(nodeid_compute(&f, plain, err, sizeof(err)), 0);
    /* free id: the plain one */
    const char *none[] = {"blake3:00"};
    ck_assert_int_eq(nodeid_compute_retry(&f, none, 1, out, err, sizeof(err)), 0);
    ck_assert_str_eq(out, plain);
    ck_assert_int_eq(nodeid_compute_retry(&f, NULL, 0, out, err, sizeof(err)), 0);
    ck_assert_str_eq(out, plain);
    /* taken: 64-byte XOF over canonical + "|collision:1" */
    char *canon = nodeid_canonical(&f, err, sizeof(err));
    size_t cl = strlen(canon);
    char *data = malloc(cl + 32);
    sprintf(data, "%s|collision:1", canon);
    uint8_t x[64];
    char want[NODEID_RETRY_LEN + 1] = "blake3:";
    nodeid_blake3(data, strlen(data), x, sizeof(x));
    nodeid_hex(x, sizeof(x), want + 7);
    const char *taken1[] = {"blake3:00", plain};
    ck_assert_int_eq(nodeid_compute_retry(&f, taken1, 2, out, err, sizeof(err)), 0);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(strlen(out), NODEID_RETRY_LEN);
    /* its first 32 bytes are the plain hash of the suffixed data (XOF prefix property) */
    char plain_suffixed[NODEID_LEN + 1];
    nodeid_from_canonical(data, strlen(data), plain_suffixed);
    ck_assert(strncmp(out, plain_suffixed, NODEID_LEN) == 0);
    /* both taken: n = 2 */
    char c1[NODEID_RETRY_LEN + 1], c2[NODEID_RETRY_LEN + 1];
    nodeid_collision_id(canon, cl, 1, c1);
    ck_assert_str_eq(c1, want);
    nodeid_collision_id(canon, cl, 2, c2);
    const char *taken2[] = {c1, plain};
    ck_assert_int_eq(nodeid_compute_retry(&f, taken2, 2, out, err, sizeof(err)), 0);
    ck_assert_str_eq(out, c2);
    /* n is written in decimal: 10 -> "|collision:10" */
    sprintf(data, "%s|collision:10", canon);
    nodeid_blake3(data, strlen(data), x, sizeof(x));
    nodeid_hex(x, sizeof(x), want + 7);
    nodeid_collision_id(canon, cl, 10, c1);
    ck_assert_str_eq(c1, want);
    free(data);
    free(canon);
    json_decref(p);
}
END_TEST

/* ------------------------------------------------------------------ JSON field rules */

static void json_case(const char *node_json, const char *want_canon)
{
    json_error_t je;
    json_t *n = json_loads(node_json, 0, &je);
    ck_assert_msg(n != NULL, "bad test json: %s", je.text);
    char id[NODEID_LEN + 1], err[256] = "", *canon = NULL;
    int rc = nodeid_from_json(n, id, &canon, err, sizeof(err));
    ck_assert_msg(rc == 0, "%s: %s", node_json, err);
    ck_assert_str_eq(canon, want_canon);
    char id2[NODEID_LEN + 1];
    nodeid_from_canonical(canon, strlen(canon), id2);
    ck_assert_str_eq(id, id2);
    /* canonical_out is optional */
    ck_assert_int_eq(nodeid_from_json(n, id2, NULL, err, sizeof(err)), 0);
    ck_assert_str_eq(id, id2);
    free(canon);
    json_decref(n);
}

static void json_error_case(const char *node_json, const char *want_err)
{
    json_t *n = json_loads(node_json, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(n);
    char id[NODEID_LEN + 1], err[256] = "", *canon = (char *)1;
    ck_assert_int_eq(nodeid_from_json(n, id, &canon, err, sizeof(err)), -1);
    ck_assert_ptr_null(canon);
    ck_assert_str_eq(err, want_err);
    json_decref(n);
}

START_TEST(test_json_field_rules)
{
    /* interval/period as the reference's int(x or 0) */
    json_case("{\"node_type\":\"A\",\"interval\":\" 60 \",\"period\":null}", "A|60|0|null|||");
    json_case("{\"node_type\":\"A\",\"interval\":60.9,\"period\":true}", "A|60|1|null|||");
    json_case("{\"node_type\":\"A\",\"interval\":\"1_000\",\"period\":\"-5\"}",
              "A|1000|-5|null|||");
    json_case("{\"node_type\":\"A\",\"interval\":\"\",\"period\":false}", "A|0|0|null|||");
    /* params, else config */
    json_case("{\"node_type\":\"A\",\"config\":{\"b\":1}}", "A|0|0|{\"b\":1}|||");
    json_case("{\"node_type\":\"A\",\"params\":null,\"config\":{\"b\":1}}", "A|0|0|{\"b\":1}|||");
    json_case("{\"node_type\":\"A\",\"params\":{},\"config\":{\"b\":1}}", "A|0|0|{}|||");
    /* inputs win over dependencies when non-empty; null/empty entries dropped; sorted */
    json_case("{\"node_type\":\"A\",\"inputs\":[\"b\",null,\"\",\"a\"],\"dependencies\":[\"z\"]}",
              "A|0|0|null|a,b||");
    json_case("{\"node_type\":\"A\",\"inputs\":[],\"dependencies\":[\"z\",\"y\"]}",
              "A|0|0|null|y,z||");
    /* schema_compat_id stripped, falls back to schema_id; code_hash verbatim */
    json_case("{\"node_type\":\"A\",\"schema_id\":\" s1 \",\"code_hash\":\" c \"}",
              "A|0|0|null||s1| c ");
    json_case("{\"node_type\":\"A\",\"schema_compat_id\":\"s1\",\"schema_id\":\"s1\"}",
              "A|0|0|null||s1|");
    json_case("{\"node_type\":\"A\",\"schema_compat_id\":\"\",\"schema_id\":null}",
              "A|0|0|null|||");
    /* TagQueryNode: tags from params, else the node; comma strings split; mode normalised */
    json_case("{\"node_type\":\"TagQueryNode\",\"interval\":60,\"params\":{\"tags\":\"b, a,,b\"}}",
              "TagQueryNode|60|0|{\"interval\":60,\"match_mode\":\"any\",\"query_tags\":[\"a\","
              "\"b\"]}|||");
    json_case(
        "{\"node_type\":\"TagQueryNode\",\"interval\":60,\"tags\":[\"x\"],\"match_mode\":\"All\"}",
        "TagQueryNode|60|0|{\"interval\":60,\"match_mode\":\"all\",\"query_tags\":[\"x\"]}|||");
    json_case(
        "{\"node_type\":\"TagQueryNode\",\"interval\":60,\"params\":{\"query_tags\":[],"
        "\"tags\":[\"t\"],\"match_mode\":\"most\"}}",
        "TagQueryNode|60|0|{\"interval\":60,\"match_mode\":\"any\",\"query_tags\":[\"t\"]}|||");
    /* no interval on the node: params.interval, else null */
    json_case(
        "{\"node_type\":\"TagQueryNode\",\"params\":{\"query_tags\":[\"t\"],\"interval\":\"30\"}}",
        "TagQueryNode|0|0|{\"interval\":30,\"match_mode\":\"any\",\"query_tags\":[\"t\"]}|||");
    json_case(
        "{\"node_type\":\"TagQueryNode\",\"params\":{\"query_tags\":[\"t\"]}}",
        "TagQueryNode|0|0|{\"interval\":null,\"match_mode\":\"any\",\"query_tags\":[\"t\"]}|||");
    /* non-string tags are str()'d like the reference */
    json_case(
        "{\"node_type\":\"TagQueryNode\",\"interval\":1,\"params\":{\"query_tags\":[2,true,1.5]}}",
        "TagQueryNode|1|0|{\"interval\":1,\"match_mode\":\"any\",\"query_tags\":[\"1.5\",\"2\","
        "\"True\"]}|||");
}
END_TEST

START_TEST(test_json_errors)
{
    json_error_case("{\"interval\":1}", "field 'node_type': missing (required)");
    json_error_case("{\"node_type\":\"\"}", "field 'node_type': expected a non-empty string");
    json_error_case("{\"node_type\":5}", "field 'node_type': expected a non-empty string");
    json_error_case("[1]", "node must be a JSON object");
    json_error_case("{\"node_type\":\"A\",\"interval\":\"1m\"}",
                    "field 'interval': expected an integer, got \"1m\"");
    json_error_case("{\"node_type\":\"A\",\"period\":[1]}",
                    "field 'period': expected an integer, got [1]");
    json_error_case("{\"node_type\":\"A\",\"interval\":\"99999999999999999999\"}",
                    "field 'interval': expected an integer, got \"99999999999999999999\"");
    json_error_case("{\"node_type\":\"A\",\"dependencies\":\"abc\"}",
                    "field 'dependencies': expected an array of node ids");
    json_error_case("{\"node_type\":\"A\",\"inputs\":[[\"x\"]]}",
                    "field 'inputs': entry 0 is not a string");
    json_error_case("{\"node_type\":\"A\",\"schema_compat_id\":\"a\",\"schema_id\":\"b\"}",
                    "field 'schema_compat_id': 'a' and schema_id 'b' must match if both are given");
    json_error_case("{\"node_type\":\"A\",\"code_hash\":{}}",
                    "field 'code_hash': expected a string");
    json_error_case("{\"node_type\":\"TagQueryNode\",\"params\":{\"tags\":5}}",
                    "tag query: tags must be a list or a comma-separated string");
    json_error_case(
        "{\"node_type\":\"TagQueryNode\",\"params\":{\"tags\":[\"a\"],\"match_mode\":1}}",
        "tag query: match_mode must be a string");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nodeid");
    TCase *tc = tcase_create("nodeid");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_blake3_vectors);
    tcase_add_test(tc, test_blake3_random_splits);
    tcase_add_test(tc, test_nodeid_vectors);
    tcase_add_test(tc, test_struct_api);
    tcase_add_test(tc, test_c845_canonical_bytes);
    tcase_add_test(tc, test_compute_key);
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_collision_retry);
    tcase_add_test(tc, test_json_field_rules);
    tcase_add_test(tc, test_json_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
