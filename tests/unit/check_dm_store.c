/* dm_store: schema, migrations, nodes, queues (bindings), strategies, tag queries, reopen. */
#include "dagmanager/dm_store.h"
#include "dm_testlib.h"
#include "log.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run SQL on the file directly (outside the store). */
static void raw_sql(const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(dmt_path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

static long raw_count(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(dmt_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void put_node(struct dm_store *s, const char *id, const char *type, int64_t interval,
                     const char *t1, const char *t2)
{
    char *tags[2] = {(char *)t1, (char *)t2};
    struct dm_node n = {(char *)id, (char *)type, interval, 10,
                        "c0ffee00", "compat",     tags,     (size_t)(t1 ? (t2 ? 2 : 1) : 0)};
    ck_assert_int_eq(dm_store_put_node(s, &n), 0);
}

static void add_queue(struct dm_store *s, const char *topic, const char *node, const char *ck,
                      const char *world, const char *domain, int64_t interval, const char *by)
{
    struct dm_queue q = {(char *)topic,  (char *)node, (char *)ck, (char *)world,
                         (char *)domain, "",           "",         "v1",
                         interval,       (char *)by,   0};
    ck_assert_int_eq(dm_store_add_queue(s, &q), 0);
}

START_TEST(test_schema_wal_and_version)
{
    struct dm_store *s = dmt_open();
    ck_assert_int_eq(dm_store_schema_version(s), DM_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(dm_store_ping(s), 0);
    ck_assert_int_eq(dm_store_count(s, "nodes"), 0);
    ck_assert_int_eq(dm_store_count(s, "bogus"), -1);
    dm_store_close(s);
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(dmt_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_migration_from_v1)
{
    dm_store_close(dmt_open());
    /* make the file look like a version-1 store: no indexes yet */
    raw_sql("DROP INDEX node_tags_tag; DROP INDEX queues_world; DROP INDEX strategy_nodes_node;"
            "DROP TABLE tag_queries; DROP TABLE queue_changes; DROP TABLE dropped_queues;"
            " PRAGMA user_version = 1");
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                               " AND name = 'node_tags_tag'"),
                     0);
    struct dm_store *s = dmt_open();
    ck_assert_int_eq(dm_store_schema_version(s), DM_STORE_SCHEMA_VERSION);
    dm_store_close(s);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name IN ('tag_queries', 'queue_changes', 'dropped_queues')"),
                     3);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                               " AND name IN ('node_tags_tag', 'queues_world',"
                               " 'strategy_nodes_node')"),
                     3);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
    dm_store_close(dmt_open());
    raw_sql("PRAGMA user_version = 99");
    char err[256] = "";
    ck_assert_ptr_null(dm_store_open(dmt_path, err, sizeof(err)));
    ck_assert_msg(strstr(err, "schema version 99") && strstr(err, dmt_path), "%s", err);
    ck_assert_ptr_null(dm_store_open("/nonexistent-dir/x/dm.db", err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot open store '/nonexistent-dir/x/dm.db'"), "%s", err);
}
END_TEST

START_TEST(test_nodes_and_tags)
{
    struct dm_store *s = dmt_open();
    put_node(s, "n1", "StreamInput", 60, "BTC", "price");
    /* same node from another submission: identity kept, tags united */
    char *tags[1] = {"ohlcv"};
    struct dm_node other = {"n1", "Changed", 5, 5, "other", "", tags, 1};
    ck_assert_int_eq(dm_store_put_node(s, &other), 0);
    struct dm_node n;
    ck_assert_int_eq(dm_store_get_node(s, "n1", &n), 1);
    ck_assert_str_eq(n.node_type, "StreamInput");
    ck_assert_int_eq(n.interval, 60);
    ck_assert_int_eq(n.period, 10);
    ck_assert_str_eq(n.code_hash, "c0ffee00");
    ck_assert_str_eq(n.schema_compat_id, "compat");
    ck_assert_uint_eq(n.n_tags, 3);
    ck_assert_str_eq(n.tags[0], "BTC");
    ck_assert_str_eq(n.tags[1], "ohlcv");
    ck_assert_str_eq(n.tags[2], "price");
    dm_node_release(&n);
    ck_assert_int_eq(dm_store_get_node(s, "nope", &n), 0);
    ck_assert_int_eq(dm_store_count(s, "nodes"), 1);
    dm_store_close(s);
}
END_TEST

START_TEST(test_queues_and_bindings)
{
    struct dm_store *s = dmt_open();
    put_node(s, "n1", "StreamInput", 60, "BTC", NULL);
    add_queue(s, "w.live.btc_StreamInput_c0ffee_v1", "n1", "ck1", "w", "live", 60, "s1");
    add_queue(s, "w2.live.btc_StreamInput_c0ffee_v1", "n1", "ck2", "w2", "live", 60, "s2");
    struct dm_queue q;
    ck_assert_int_eq(dm_store_find_binding(s, "n1", "ck1", &q), 1);
    ck_assert_str_eq(q.topic, "w.live.btc_StreamInput_c0ffee_v1");
    ck_assert_str_eq(q.created_by, "s1");
    ck_assert_int_gt(q.created_at, 0);
    dm_queue_release(&q);
    ck_assert_int_eq(dm_store_find_binding(s, "n1", "ck3", &q), 0);
    ck_assert_int_eq(dm_store_topic_exists(s, "w.live.btc_StreamInput_c0ffee_v1"), 1);
    ck_assert_int_eq(dm_store_topic_exists(s, "w.live.other"), 0);
    /* a second queue for the same binding, or a reused topic, is refused and counted */
    long errs = dm_store_errors(s);
    struct dm_queue dup = {"x", "n1", "ck1", "w", "live", "", "", "v1", 60, "s3", 0};
    ck_assert_int_lt(dm_store_add_queue(s, &dup), 0);
    dup.compute_key = "ck9";
    dup.topic = "w.live.btc_StreamInput_c0ffee_v1";
    ck_assert_int_lt(dm_store_add_queue(s, &dup), 0);
    ck_assert_int_eq(dm_store_errors(s), errs + 2);
    ck_assert_ptr_nonnull(strstr(dm_store_last_error(s), "UNIQUE"));
    /* a queue for an unknown node violates the foreign key */
    dup.topic = "fresh";
    dup.node_id = "ghost";
    ck_assert_int_lt(dm_store_add_queue(s, &dup), 0);
    struct dm_queue *qs;
    size_t n;
    ck_assert_int_eq(dm_store_node_queues(s, "n1", &qs, &n), 0);
    ck_assert_uint_eq(n, 2);
    dm_queues_free(qs, n);
    ck_assert_int_eq(dm_store_count(s, "queues"), 2);
    dm_store_close(s);
}
END_TEST

static size_t by_tag(struct dm_store *s, const char *t1, const char *t2, int all, int64_t interval,
                     const char *world, const char *domain, char *names, size_t len)
{
    const char *tags[2] = {t1, t2};
    struct dm_queue *qs;
    size_t n;
    ck_assert_int_eq(
        dm_store_queues_by_tag(s, tags, t2 ? 2 : 1, all, interval, world, domain, &qs, &n), 0);
    names[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(names, qs[i].topic, len - strlen(names) - 2);
        strcat(names, " ");
    }
    dm_queues_free(qs, n);
    return n;
}

START_TEST(test_queues_by_tag)
{
    struct dm_store *s = dmt_open();
    char got[512];
    put_node(s, "a", "StreamInput", 60, "BTC", "price");
    put_node(s, "b", "StreamInput", 60, "ETH", "price");
    put_node(s, "c", "StreamInput", 300, "BTC", "price");
    put_node(s, "t", "TagQueryNode", 60, "BTC", "price");
    add_queue(s, "qa", "a", "k", "w", "live", 60, "s1");
    add_queue(s, "qa2", "a", "k2", "w2", "dryrun", 60, "s1");
    add_queue(s, "qb", "b", "k", "w", "live", 60, "s1");
    add_queue(s, "qc", "c", "k", "w", "live", 300, "s1");
    add_queue(s, "qt", "t", "k", "w", "live", 60, "s1");
    ck_assert_uint_eq(by_tag(s, "BTC", NULL, 0, 0, "", "", got, sizeof(got)), 3);
    ck_assert_str_eq(got, "qa qa2 qc ");
    ck_assert_uint_eq(by_tag(s, "BTC", "ETH", 0, 60, "w", "", got, sizeof(got)), 2);
    ck_assert_str_eq(got, "qa qb ");
    ck_assert_uint_eq(by_tag(s, "BTC", "price", 1, 60, "", "", got, sizeof(got)), 2);
    ck_assert_str_eq(got, "qa qa2 ");
    ck_assert_uint_eq(by_tag(s, "BTC", "ETH", 1, 0, "", "", got, sizeof(got)), 0);
    ck_assert_uint_eq(by_tag(s, "BTC", NULL, 0, 0, "w2", "dryrun", got, sizeof(got)), 1);
    ck_assert_str_eq(got, "qa2 ");
    ck_assert_uint_eq(by_tag(s, "BTC", NULL, 0, 0, "w2", "live", got, sizeof(got)), 0);
    ck_assert_uint_eq(by_tag(s, "btc", NULL, 0, 0, "", "", got, sizeof(got)), 0);
    /* a tag containing quotes goes through the JSON list intact */
    put_node(s, "q", "StreamInput", 60, "a\"b\\c", NULL);
    add_queue(s, "qq", "q", "k", "w", "live", 60, "s1");
    ck_assert_uint_eq(by_tag(s, "a\"b\\c", NULL, 0, 0, "", "", got, sizeof(got)), 1);
    dm_store_close(s);
}
END_TEST

START_TEST(test_strategies_and_reopen)
{
    struct dm_store *s = dmt_open();
    put_node(s, "a", "StreamInput", 60, "BTC", NULL);
    put_node(s, "b", "sma", 60, NULL, NULL);
    add_queue(s, "qa", "a", "k", "w", "live", 60, "s1");
    add_queue(s, "qb", "b", "k", "w", "live", 60, "s1");
    const char *ids[] = {"a", "b"}, *topics[] = {"qa", "qb"};
    struct dm_strategy st = {"s1", "s1-sentinel", "w", "live", "", "", "v1", 42, ids, topics, 2};
    ck_assert_int_eq(dm_store_begin(s), 0);
    ck_assert_int_eq(dm_store_put_strategy(s, &st), 0);
    ck_assert_int_eq(dm_store_commit(s), 0);
    st.strategy_id = "s2";
    st.n_nodes = 1;
    ck_assert_int_eq(dm_store_put_strategy(s, &st), 0);
    /* re-registering s1 with only b replaces its node list */
    const char *ids1[] = {"b"}, *topics1[] = {"qb"};
    struct dm_strategy st1 = {"s1", "s1-sentinel", "w", "live", "", "", "v2", 7, ids1, topics1, 1};
    ck_assert_int_eq(dm_store_put_strategy(s, &st1), 0);
    /* a rolled-back transaction leaves nothing */
    ck_assert_int_eq(dm_store_begin(s), 0);
    put_node(s, "z", "sma", 60, NULL, NULL);
    ck_assert_int_eq(dm_store_rollback(s), 0);
    dm_store_close(s);

    s = dmt_open();
    char **v;
    size_t n;
    ck_assert_int_eq(dm_store_node_strategies(s, "a", &v, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0], "s2");
    dm_strings_free(v, n);
    ck_assert_int_eq(dm_store_node_strategies(s, "b", &v, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0], "s1");
    dm_strings_free(v, n);
    ck_assert_int_eq(dm_store_count(s, "strategies"), 2);
    ck_assert_int_eq(dm_store_count(s, "nodes"), 2);
    struct dm_queue q;
    ck_assert_int_eq(dm_store_find_binding(s, "b", "k", &q), 1);
    ck_assert_str_eq(q.topic, "qb");
    dm_queue_release(&q);
    dm_store_close(s);
    ck_assert_int_eq(raw_count("SELECT crc32 FROM strategies WHERE strategy_id = 's1'"), 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dm_store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, dmt_setup, dmt_teardown);
    tcase_add_test(tc, test_schema_wal_and_version);
    tcase_add_test(tc, test_migration_from_v1);
    tcase_add_test(tc, test_newer_schema_refused);
    tcase_add_test(tc, test_nodes_and_tags);
    tcase_add_test(tc, test_queues_and_bindings);
    tcase_add_test(tc, test_queues_by_tag);
    tcase_add_test(tc, test_strategies_and_reopen);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
