/* dm_tagq: tag queries remembered by the DAG manager and the queue_update entries a diff
 * gives when it creates a queue a remembered query matches. */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_store.h"
#include "dagmanager/dm_tagq.h"
#include "dm_testlib.h"
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stream tagged BTC (+ more tags), a tag query, as the host submits them. */
#define STREAM(id, hash, tags)                                                                     \
    "{\"node_id\": \"" id "\", \"node_type\": \"StreamInput\", \"interval\": 60, \"period\": 1,"   \
    " \"tags\": [" tags "], \"code_hash\": \"" hash "\"}"
#define QUERY(id, tags, mode)                                                                      \
    "{\"node_id\": \"" id "\", \"node_type\": \"TagQueryNode\", \"interval\": 60, \"period\": 1," \
    " \"code_hash\": \"builtin:tag_query:1\", \"params\": {\"query_tags\": [" tags "],"            \
    " \"match_mode\": \"" mode "\"}}"

static json_t *diff(struct dm_store *s, const char *strategy, const char *nodes, const char *world,
                    int dry_run)
{
    char dag[2048];
    snprintf(dag, sizeof(dag), "{\"nodes\": [%s]}", nodes);
    json_t *rq = json_pack("{s:s, s:s, s:s, s:s, s:b}", "strategy_id", strategy, "dag_json", dag,
                           "world_id", world, "execution_domain", "live", "dry_run", dry_run);
    json_t *reply = NULL;
    char err[256] = "";
    int rc = dm_diff(s, rq, &reply, NULL, err, sizeof(err));
    ck_assert_msg(rc == 0, "diff: %d %s", rc, err);
    json_decref(rq);
    ck_assert(json_is_array(json_object_get(reply, "queue_updates")));
    return reply;
}

static const json_t *updates(const json_t *reply)
{
    return json_object_get(reply, "queue_updates");
}

/* A query seen first, a matching queue created later: one update naming every match. */
START_TEST(test_update_when_a_matching_queue_is_created)
{
    struct dm_store *s = dmt_open();
    json_t *r = diff(s, "sq", QUERY("Q1", "\"BTC\"", "any"), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 0); /* its own queue is not a match */
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(r, "tag_queues"), "Q1")), 0);
    json_decref(r);

    r = diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\", \"price\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 1);
    const json_t *u = json_array_get(updates(r), 0);
    json_t *want = json_pack(
        "{s:[s], s:i, s:s, s:s, s:s, s:[{s:s, s:b, s:s, s:[ss], s:i}], s:i}", "tags", "BTC",
        "interval", 60, "match_mode", "any", "world_id", "w", "execution_domain", "live", "queues",
        "queue", "w.live.btc_StreamInput_aaaaaa_v1", "global", 0, "node_id", "A", "tags", "BTC",
        "price", "interval", 60, "version", 1);
    /* as of the generation the diff's answer gives (this diff created a queue) */
    json_int_t gen = json_integer_value(json_object_get(u, "generation"));
    ck_assert_int_gt(gen, 0);
    ck_assert_int_eq(gen, json_integer_value(json_object_get(r, "queue_generation")));
    json_object_set_new(want, "generation", json_integer(gen));
    ck_assert_msg(json_equal(u, want), "%s", json_dumps(u, JSON_COMPACT));
    json_decref(want);
    json_decref(r);

    /* a second matching stream: the update lists both queues */
    r = diff(s, "s2", STREAM("B", "bbbbbbbb", "\"BTC\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(updates(r), 0), "queues")), 2);
    json_decref(r);

    /* a resubmission creates nothing: no update */
    r = diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\", \"price\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 0);
    json_decref(r);
    dm_store_close(s);
}
END_TEST

/* Only the queries the new queue matches, of the same world, once per (tags, interval,
 * mode); a dry run stores nothing and announces nothing; the store keeps them. */
START_TEST(test_update_scope)
{
    struct dm_store *s = dmt_open();
    json_decref(diff(s, "q1", QUERY("Q1", "\"BTC\"", "any"), "w", 0));
    json_decref(diff(s, "q2", QUERY("Q2", "\"BTC\", \"price\"", "all"), "w", 0));
    json_decref(diff(s, "q3", QUERY("Q3", "\"ETH\"", "any"), "w", 0));
    json_decref(diff(s, "q4", QUERY("Q4", "\"BTC\"", "any"), "w9", 0));
    /* the same query under another NodeID (another version): one entry for both */
    json_decref(diff(s, "q5", QUERY("Q5", "\"BTC\"", "any"), "w", 0));

    json_t *r = diff(s, "d", STREAM("A", "aaaaaaaa", "\"BTC\""), "w", 1);
    ck_assert_uint_eq(json_array_size(updates(r)), 0);
    json_decref(r);

    dm_store_close(s); /* the queries survive a restart */
    s = dmt_open();
    r = diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 1); /* Q1 and Q5; not Q2, Q3, Q4 */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(updates(r), 0), "match_mode")),
                     "any");
    json_decref(r);
    r = diff(s, "s2", STREAM("P", "pppppppp", "\"price\", \"BTC\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 2); /* Q1 (any) and Q2 (all) */
    json_decref(r);

    struct dm_tag_query *q = NULL;
    size_t n = 0;
    ck_assert_int_eq(dm_store_tag_queries(s, "w", "live", &q, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(q[1].node_id, "Q2");
    ck_assert_int_eq(q[1].match_all, 1);
    ck_assert_uint_eq(q[1].n_tags, 2);
    ck_assert_str_eq(q[1].tags[0], "BTC"); /* sorted */
    ck_assert_str_eq(q[1].tags[1], "price");
    dm_tag_queries_free(q, n);
    dm_store_close(s);
}
END_TEST

/* dm_tagq_queues: every match with its node's NodeID, tags and interval; none for none. */
START_TEST(test_queues)
{
    struct dm_store *s = dmt_open();
    json_decref(diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\", \"x\""), "w", 0));
    json_t *out = NULL;
    const char *tags[] = {"x"};
    ck_assert_int_eq(dm_tagq_queues(s, tags, 1, 0, 60, "w", "live", &out), 0);
    ck_assert_uint_eq(json_array_size(out), 1);
    const json_t *e = json_array_get(out, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "node_id")), "A");
    ck_assert_uint_eq(json_array_size(json_object_get(e, "tags")), 2);
    ck_assert(json_is_false(json_object_get(e, "global")));
    json_decref(out);
    ck_assert_int_eq(dm_tagq_queues(s, tags, 1, 0, 30, "w", "live", &out), 0); /* interval */
    ck_assert_uint_eq(json_array_size(out), 0);
    json_decref(out);
    ck_assert_int_eq(dm_tagq_queues(s, tags, 0, 0, 60, "w", "live", &out), 0); /* no tag */
    ck_assert_uint_eq(json_array_size(out), 0);
    json_decref(out);
    dm_store_close(s);
}
END_TEST

static json_int_t gen_of(const json_t *update)
{
    return json_integer_value(json_object_get(update, "generation"));
}

/* The topics of an update's list, "a,b". */
static void topics_of(const json_t *update, char *out, size_t len)
{
    size_t i, n = 0;
    const json_t *e;
    out[0] = '\0';
    json_array_foreach(json_object_get(update, "queues"), i, e)
        n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "",
                              json_string_value(json_object_get(e, "queue")));
}

/* A dropped queue (its stream collected) leaves the lists: the queries that matched it get
 * an update without it, newer than any list before; GET /tag_queries' snapshot lists the
 * world's queries as they are; a diff using the queue again brings it back. */
START_TEST(test_dropped_queue)
{
    struct dm_store *s = dmt_open();
    json_decref(diff(s, "q1", QUERY("Q1", "\"BTC\"", "any"), "w", 0));
    json_decref(diff(s, "q3", QUERY("Q3", "\"ETH\"", "any"), "w", 0));
    json_decref(diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\""), "w", 0));
    json_decref(diff(s, "s2", STREAM("B", "bbbbbbbb", "\"BTC\""), "w", 0));
    int64_t g1 = 0, last = -1;
    ck_assert_int_eq(dm_store_queue_generation(s, &g1), 0);
    ck_assert_int_gt(g1, 0);
    json_t *out = json_array();
    ck_assert_int_eq(dm_tagq_dropped(s, 0, out, &last), 0); /* nothing dropped yet */
    ck_assert_uint_eq(json_array_size(out), 0);
    ck_assert_int_eq(last, g1);

    const char *a = "w.live.btc_StreamInput_aaaaaa_v1";
    ck_assert_int_eq(dm_store_drop_queue(s, a), 1);
    ck_assert_int_eq(dm_store_drop_queue(s, a), 0); /* once */
    ck_assert_int_eq(dm_store_queue_dropped(s, a), 1);
    ck_assert_int_eq(dm_tagq_dropped(s, g1, out, &last), 0);
    ck_assert_uint_eq(json_array_size(out), 1); /* Q1 only: Q3 never matched A */
    char t[512];
    topics_of(json_array_get(out, 0), t, sizeof(t));
    ck_assert_str_eq(t, "w.live.btc_StreamInput_bbbbbb_v1");
    ck_assert_int_gt(last, g1);
    ck_assert_int_eq(gen_of(json_array_get(out, 0)), last);
    json_array_clear(out);
    ck_assert_int_eq(dm_tagq_dropped(s, last, out, &last), 0); /* seen: nothing new */
    ck_assert_uint_eq(json_array_size(out), 0);

    /* the snapshot of the world: Q1 without A, Q3 empty; another world: none */
    ck_assert_int_eq(dm_tagq_snapshot(s, "w", out), 0);
    ck_assert_uint_eq(json_array_size(out), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *u = json_array_get(out, i);
        const char *tag = json_string_value(json_array_get(json_object_get(u, "tags"), 0));
        topics_of(u, t, sizeof(t));
        ck_assert_str_eq(t, !strcmp(tag, "BTC") ? "w.live.btc_StreamInput_bbbbbb_v1" : "");
        ck_assert_int_eq(gen_of(u), last);
    }
    json_array_clear(out);
    ck_assert_int_eq(dm_tagq_snapshot(s, "w9", out), 0);
    ck_assert_uint_eq(json_array_size(out), 0);
    json_decref(out);

    /* a strategy using A again: A is back, announced like a new queue */
    json_t *r = diff(s, "s1", STREAM("A", "aaaaaaaa", "\"BTC\""), "w", 0);
    ck_assert_uint_eq(json_array_size(updates(r)), 1);
    topics_of(json_array_get(updates(r), 0), t, sizeof(t));
    ck_assert_str_eq(t, "w.live.btc_StreamInput_aaaaaa_v1,w.live.btc_StreamInput_bbbbbb_v1");
    ck_assert_int_gt(gen_of(json_array_get(updates(r), 0)), last);
    ck_assert_int_eq(dm_store_queue_dropped(s, a), 0);
    json_decref(r);
    dm_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dm_tagq");
    TCase *tc = tcase_create("tagq");
    tcase_add_checked_fixture(tc, dmt_setup, dmt_teardown);
    tcase_add_test(tc, test_update_when_a_matching_queue_is_created);
    tcase_add_test(tc, test_update_scope);
    tcase_add_test(tc, test_queues);
    tcase_add_test(tc, test_dropped_queue);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
