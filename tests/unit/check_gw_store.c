/* gw_store: SQLite persistence of the gateway, on a real file in a temporary directory. */
#include "gateway/gw_store.h"

#include <check.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[128], db[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/qmtl-gwstore-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/gw.db", dir);
}

static void teardown(void)
{
    char p[300];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", db, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

static struct gw_store *open_ok(void)
{
    char err[256];
    struct gw_store *s = gw_store_open(db, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

START_TEST(test_open_migrates)
{
    struct gw_store *s = open_ok();
    ck_assert_int_eq(gw_store_schema_version(s), GW_STORE_SCHEMA_VERSION);
    gw_store_close(s);
    s = open_ok(); /* reopening an up-to-date file is a no-op */
    ck_assert_int_eq(gw_store_schema_version(s), GW_STORE_SCHEMA_VERSION);
    gw_store_close(s);
}
END_TEST

START_TEST(test_open_bad_path)
{
    char err[256] = "";
    ck_assert_ptr_null(gw_store_open("/nonexistent-dir/x/gw.db", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x/gw.db"));
}
END_TEST

START_TEST(test_worlds_crud)
{
    struct gw_store *s = open_ok();
    json_t *doc = json_pack("{ss ss}", "id", "w1", "name", "one");
    ck_assert_int_eq(gw_store_world_put(s, "w1", doc, 1), 0);
    ck_assert_int_eq(gw_store_world_put(s, "w1", doc, 1), 1); /* exists */
    json_decref(doc);
    json_t *got = NULL;
    ck_assert_int_eq(gw_store_world_get(s, "w1", &got), 1);
    ck_assert_str_eq(json_string_value(json_object_get(got, "name")), "one");
    json_decref(got);
    ck_assert_int_eq(gw_store_world_get(s, "nope", &got), 0);
    ck_assert_ptr_null(got);
    json_t *list = gw_store_world_list(s);
    ck_assert_int_eq(json_array_size(list), 1);
    json_decref(list);
    int64_t v = 0;
    json_t *pol = json_pack("{s{}}", "thresholds");
    ck_assert_int_eq(gw_store_policy_add(s, "w1", pol, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(gw_store_policy_add(s, "w1", pol, &v), 0);
    ck_assert_int_eq(v, 2);
    json_decref(pol);
    ck_assert_int_eq(gw_store_world_set_default_policy(s, "w1", 2), 0);
    ck_assert_int_eq(gw_store_world_default_policy(s, "w1"), 2);
    ck_assert_int_eq(gw_store_world_delete(s, "w1"), 1);
    ck_assert_int_eq(gw_store_world_delete(s, "w1"), 0);
    list = gw_store_policy_list(s, "w1");
    ck_assert_int_eq(json_array_size(list), 0); /* policies went with the world */
    json_decref(list);
    gw_store_close(s);
}
END_TEST

START_TEST(test_bindings_decisions)
{
    struct gw_store *s = open_ok();
    json_t *l = json_pack("[ss]", "b", "a");
    ck_assert_int_eq(gw_store_bindings_add(s, "w", l), 0);
    ck_assert_int_eq(gw_store_bindings_add(s, "w", l), 0); /* a set */
    json_t *got = gw_store_bindings_get(s, "w");
    ck_assert_int_eq(json_array_size(got), 2);
    ck_assert_str_eq(json_string_value(json_array_get(got, 0)), "a");
    json_decref(got);
    got = gw_store_decisions_get(s, "w");
    ck_assert_int_eq(json_array_size(got), 0);
    json_decref(got);
    ck_assert_int_eq(gw_store_decisions_set(s, "w", l), 0);
    got = gw_store_decisions_get(s, "w");
    ck_assert(json_equal(got, l)); /* order kept */
    json_decref(got);
    json_decref(l);
    /* names: from the submission's meta, only for bound strategies that have one */
    got = gw_store_bindings_names(s, "w");
    ck_assert_int_eq(json_object_size(got), 0); /* "a", "b": no submission */
    json_decref(got);
    ck_assert_int_eq(gw_store_strategy_put(s, "u1", "h1", "{}", 1, "queued",
                                           "{\"strategy\":\"mom\"}", "submitter"),
                     0);
    ck_assert_int_eq(gw_store_strategy_put(s, "u2", "h2", "{}", 1, "queued", NULL, "submitter"),
                     0);
    ck_assert_int_eq(gw_store_strategy_put(s, "u3", "h3", "{}", 1, "queued",
                                           "{\"strategy\":\"other\"}", "submitter"),
                     0);
    l = json_pack("[ss]", "u1", "u2");
    ck_assert_int_eq(gw_store_bindings_add(s, "w", l), 0);
    json_decref(l);
    got = gw_store_bindings_names(s, "w");
    ck_assert_int_eq(json_object_size(got), 1); /* u2 has no name, u3 is not bound */
    ck_assert_str_eq(json_string_value(json_object_get(got, "u1")), "mom");
    json_decref(got);
    gw_store_close(s);
}
END_TEST

START_TEST(test_activation)
{
    struct gw_store *s = open_ok();
    ck_assert_int_eq(gw_store_activation_version(s, "w"), 0);
    int64_t v = 0;
    ck_assert_int_eq(gw_store_activation_bump(s, "w", &v), 0);
    ck_assert_int_eq(v, 1);
    json_t *env = json_pack("{ss ss ss sb sf ss sI}", "world_id", "w", "strategy_id", "s1", "side",
                            "long", "active", 1, "weight", 0.5, "etag", "act:w:s1:long:1",
                            "state_version", (json_int_t)1);
    ck_assert_int_eq(gw_store_activation_put(s, "w", "s1", "long", env), 0);
    char *text = NULL, etag[64];
    ck_assert_int_eq(gw_store_activation_get_raw(s, "w", "s1", "long", &text, etag, sizeof(etag)),
                     1);
    ck_assert_str_eq(etag, "act:w:s1:long:1");
    ck_assert_ptr_nonnull(strstr(text, "\"weight\":0.5"));
    free(text);
    ck_assert_int_eq(gw_store_activation_get_raw(s, "w", "s1", "short", &text, etag, sizeof(etag)),
                     0);
    json_t *state = gw_store_activation_state(s, "w");
    ck_assert_int_eq(json_integer_value(json_object_get(state, "version")), 1);
    json_t *e = json_object_get(json_object_get(json_object_get(state, "state"), "s1"), "long");
    ck_assert(json_is_true(json_object_get(e, "active")));
    json_decref(state);
    json_t *snap = gw_store_activation_snapshot(s, "w");
    ck_assert_int_eq(json_array_size(snap), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(snap, 0), "version")), 1);
    json_decref(snap);
    json_decref(env);
    gw_store_close(s);
}
END_TEST

static int collect(void *arg, int64_t seq, const char *type, const char *world, const char *env)
{
    json_t *a = arg;
    json_array_append_new(a, json_pack("{sI ss ss* ss}", "seq", (json_int_t)seq, "type", type,
                                       "world", world, "env", env));
    return json_array_size(a) >= 100;
}

START_TEST(test_event_log_survives_reopen_and_trim)
{
    struct gw_store *s = open_ok();
    ck_assert_int_eq(gw_store_event_last_seq(s), 0);
    ck_assert_int_eq(gw_store_event_first_seq(s), 0);
    for (int64_t i = 1; i <= 10; i++)
        ck_assert_int_eq(gw_store_event_append(s, i, "activation_updated", "w", "{}"), 0);
    /* a rolled back append leaves no trace */
    ck_assert_int_eq(gw_store_begin(s), 0);
    ck_assert_int_eq(gw_store_event_append(s, 11, "x", NULL, "{}"), 0);
    ck_assert_int_eq(gw_store_rollback(s), 0);
    ck_assert_int_eq(gw_store_event_last_seq(s), 10);
    ck_assert_int_eq(gw_store_event_trim(s, 3), 0);
    ck_assert_int_eq(gw_store_event_first_seq(s), 8);
    gw_store_close(s);
    s = open_ok();
    ck_assert_int_eq(gw_store_event_last_seq(s), 10);
    json_t *a = json_array();
    ck_assert_int_eq(gw_store_event_scan(s, 8, collect, a), 0);
    ck_assert_int_eq(json_array_size(a), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(a, 0), "seq")), 9);
    json_decref(a);
    /* trimming everything keeps the sequence going */
    ck_assert_int_eq(gw_store_event_trim(s, 0), 0);
    gw_store_close(s);
    s = open_ok();
    ck_assert_int_eq(gw_store_event_last_seq(s), 10);
    ck_assert_int_eq(gw_store_event_first_seq(s), 0);
    gw_store_close(s);
}
END_TEST

START_TEST(test_runs_audit_strategies)
{
    struct gw_store *s = open_ok();
    char stage[32];
    json_t *res = NULL;
    ck_assert_int_eq(gw_store_run_get(s, "w", "r1", stage, sizeof(stage), &res), 0);
    json_t *r = json_pack("{sb}", "ok", 1);
    ck_assert_int_eq(gw_store_run_put(s, "w", "r1", "completed", r), 0);
    ck_assert_int_eq(gw_store_run_get(s, "w", "r1", stage, sizeof(stage), &res), 1);
    ck_assert_str_eq(stage, "completed");
    ck_assert(json_equal(res, r));
    json_decref(res);
    json_decref(r);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(gw_store_audit_add(s, "w", "e", NULL), 0);
    json_t *a = gw_store_audit_list(s, "w", 2);
    ck_assert_int_eq(json_array_size(a), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(a, 1), "id")), 5);
    json_decref(a);
    char id[64];
    ck_assert_int_eq(gw_store_strategy_put(s, "sid", "h1", "{}", 7, "queued", NULL, "submitter"),
                     0);
    ck_assert_int_eq(gw_store_strategy_put(s, "sid2", "h1", "{}", 7, "queued", NULL, "submitter"),
                     -1);
    ck_assert_int_eq(gw_store_strategy_find_by_hash(s, "h1", id, sizeof(id)), 1);
    ck_assert_str_eq(id, "sid");
    ck_assert_int_eq(gw_store_strategy_set_status(s, "sid", "completed"), 0);
    ck_assert_int_eq(gw_store_strategy_status(s, "sid", stage, sizeof(stage)), 1);
    ck_assert_str_eq(stage, "completed");
    ck_assert_int_ge(gw_store_error_count(s), 1); /* the duplicate insert */
    gw_store_close(s);
}
END_TEST

/* Per-owner usage and the expiry of submissions no world uses. */
START_TEST(test_strategy_quota_and_expiry)
{
    struct gw_store *s = open_ok();
    ck_assert_int_eq(
        gw_store_strategy_put(s, "a1", "h1", "{\"n\":1}", 1, "queued", NULL, "submitter"), 0);
    ck_assert_int_eq(
        gw_store_strategy_put(s, "a2", "h2", "{\"n\":22}", 1, "queued", NULL, "submitter"), 0);
    ck_assert_int_eq(gw_store_strategy_put(s, "b1", "h3", "{}", 1, "queued", NULL, "operator"), 0);
    long n = 0, bytes = 0;
    ck_assert_int_eq(gw_store_strategy_usage(s, "submitter", &n, &bytes), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(bytes, 7 + 8);
    ck_assert_int_eq(gw_store_strategy_usage(s, "nobody", &n, &bytes), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(bytes, 0);
    /* a2 is bound to a world, b1 is named by a decision: only a1 expires */
    json_t *doc = json_pack("{ss}", "id", "w");
    ck_assert_int_eq(gw_store_world_put(s, "w", doc, 1), 0);
    json_decref(doc);
    json_t *l = json_pack("[s]", "a2");
    ck_assert_int_eq(gw_store_bindings_add(s, "w", l), 0);
    json_decref(l);
    l = json_pack("[s]", "b1");
    ck_assert_int_eq(gw_store_decisions_set(s, "w", l), 0);
    json_decref(l);
    ck_assert_int_eq(gw_store_strategy_expire(s, (int64_t)time(NULL) - 3600), 0); /* too young */
    ck_assert_int_eq(gw_store_strategy_expire(s, (int64_t)time(NULL) + 10), 1);
    char id[64];
    ck_assert_int_eq(gw_store_strategy_find_by_hash(s, "h1", id, sizeof(id)), 0);
    ck_assert_int_eq(gw_store_strategy_find_by_hash(s, "h2", id, sizeof(id)), 1);
    ck_assert_int_eq(gw_store_strategy_find_by_hash(s, "h3", id, sizeof(id)), 1);
    ck_assert_int_eq(gw_store_strategy_touch(s, "a2"), 0);
    gw_store_close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("gw_store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_migrates);
    tcase_add_test(tc, test_strategy_quota_and_expiry);
    tcase_add_test(tc, test_open_bad_path);
    tcase_add_test(tc, test_worlds_crud);
    tcase_add_test(tc, test_bindings_decisions);
    tcase_add_test(tc, test_activation);
    tcase_add_test(tc, test_event_log_survives_reopen_and_trim);
    tcase_add_test(tc, test_runs_audit_strategies);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
