/* dm_gc and dm_queues against a real nats-server (JetStream, loopback, killed at the end):
 * with a retention of 2 s, the stream of a queue whose strategy is gone is deleted (logged),
 * while queues kept in use by a resubmission, a message, a subscribed consumer or a held
 * lease keep theirs; the per-queue report names publisher, consumers, lag and last seq.
 * Skipped (passes with a note) without nats-server. */
#include "dagmanager/dm_diff.h"
#include "dagmanager/dm_gc.h"
#include "dagmanager/dm_queues.h"
#include "dagmanager/dm_store.h"
#include "logcap_testlib.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <jansson.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct natst srv;
static struct event_base *base;

static void setup(void)
{
    natst_setup(&srv, &base);
    logcap_start(LOG_LEVEL_INFO);
}

static void teardown(void)
{
    natst_teardown(&srv, base);
}

#define AFTER_S 2 /* the retention of the test */

/* Submit strategy 'sid' with one stream node tagged 'tag'; its queue's stream ensured
 * (retention AFTER_S) as the server does after a diff. The topic into 'topic'. */
static void submit(struct dm_store *st, struct bus_conn *bus, const char *sid, const char *tag,
                   char *topic, size_t len)
{
    char id[80], err[300];
    snprintf(id, sizeof(id), "node-%s", tag);
    json_t *rq = json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s, s:s, s:I, s:[s]}]}}", "strategy_id",
                           sid, "world_id", "w", "execution_domain", "backtest", "dag_json",
                           "nodes", "node_id", id, "node_type", "StreamInput", "code_hash",
                           "74234e98aa", "interval", (json_int_t)60, "tags", tag);
    json_t *reply = NULL;
    struct dm_diff_stats ds;
    ck_assert_msg(dm_diff(st, rq, &reply, &ds, err, sizeof(err)) == 0, "%s", err);
    const char *q = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(reply, "queue_map"), id), 0), "queue"));
    ck_assert_ptr_nonnull(q);
    snprintf(topic, len, "%s", q);
    ck_assert_msg(bus_conn_ensure_stream(bus, topic, AFTER_S, NULL, err, sizeof(err)) == 0, "%s",
                  err);
    json_decref(reply);
    json_decref(rq);
}

static int has_stream(struct bus_conn *bus, const char *topic)
{
    json_t *r = NULL;
    char err[300];
    int rc = bus_conn_queue_report(bus, topic, &r, err, sizeof(err));
    ck_assert_msg(rc >= 0, "%s", err);
    json_decref(r);
    return rc == 0;
}

static void on_msg(void *arg, const struct bus_msg *m)
{
    (void)m;
    (*(int *)arg)++;
}

/* The report's entry of 'topic' (borrowed from 'r'). */
static json_t *entry(json_t *r, const char *topic)
{
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "queues"), i, q)
    {
        if (!strcmp(json_string_value(json_object_get(q, "queue")), topic))
            return q;
    }
    ck_abort_msg("no queue %s in the report", topic);
    return NULL;
}

START_TEST(test_gone_strategy_collected_used_ones_kept)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[300];
    struct bus_conn *bus = natst_connect(&srv, base);
    struct bus_conn *host = natst_connect(&srv, base); /* a host: publishes, consumes, leases */
    struct dm_store *st = dm_store_open(":memory:", err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    char gone[200], resub[200], msgs[200], cons[200], lease[200];
    submit(st, bus, "s-gone", "gone", gone, sizeof(gone));
    submit(st, bus, "s-resub", "resub", resub, sizeof(resub));
    submit(st, bus, "s-msgs", "msgs", msgs, sizeof(msgs));
    submit(st, bus, "s-cons", "cons", cons, sizeof(cons));
    submit(st, bus, "s-lease", "lease", lease, sizeof(lease));
    int got = 0;
    ck_assert_msg(bus_conn_consume(host, cons, "h2-cons", on_msg, &got, err, sizeof(err)) == 0,
                  "%s", err);
    /* a tag query reading the gone queue does not keep it (its consumer is "t" + hex) */
    ck_assert_msg(bus_conn_consume(host, gone, "t0123456789abcdef", on_msg, &got, err,
                                   sizeof(err)) == 0,
                  "%s", err);
    uint64_t rev = 0;
    ck_assert_msg(bus_conn_lease_open(host, 10000, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(bus_conn_lease_take(host, lease, "host-a:42", &rev, err, sizeof(err)), 1);

    struct dm_gc *g = dm_gc_new(base, st, bus, AFTER_S, 0);
    ck_assert_ptr_nonnull(g);
    /* nothing is older than AFTER_S yet */
    ck_assert_int_eq(dm_gc_run(g, (int64_t)time(NULL), err, sizeof(err)), 0);
    ck_assert(has_stream(bus, gone));

    /* keep four queues in use while time passes; the first one is left alone */
    long deleted = 0;
    uint64_t seq = 0;
    for (int i = 0; i < 60 && has_stream(bus, gone); i++) {
        char t[200];
        submit(st, bus, "s-resub", "resub", t, sizeof(t));
        struct qmtl_value v = qmtl_number(1.5);
        ck_assert_msg(bus_conn_publish(host, msgs, "node-msgs", 1704067200 + (int64_t)seq * 60,
                                       seq + 1, &v, err, sizeof(err)) == 0,
                      "%s", err);
        seq++;
        ck_assert_msg(bus_conn_flush(host, 2000, err, sizeof(err)) == 0, "%s", err);
        struct timeval tick = {0, 200000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
        long d = dm_gc_run(g, (int64_t)time(NULL), err, sizeof(err));
        ck_assert_msg(d >= 0, "%s", err);
        deleted += d;
    }
    ck_assert_msg(!has_stream(bus, gone), "the gone strategy's stream is still there");
    ck_assert_int_eq(deleted, 1);
    ck_assert(has_stream(bus, resub));
    ck_assert(has_stream(bus, msgs));
    ck_assert(has_stream(bus, cons));
    ck_assert(has_stream(bus, lease));
    /* the collected queue leaves the tag queries, the others stay (dm_tagq_dropped) */
    ck_assert_int_eq(dm_store_queue_dropped(st, gone), 1);
    ck_assert_int_eq(dm_store_queue_dropped(st, resub), 0);
    ck_assert_int_eq(dm_store_queue_dropped(st, lease), 0);
    ck_assert(logcap_has("[dm-gc] queue '", "' dropped from tag queries"));
    char what[300];
    snprintf(what, sizeof(what), "of queue '%s' deleted: unused for %d s (strategies: s-gone", gone,
             AFTER_S);
    ck_assert_msg(logcap_has("[dm-gc] stream '", what), "%s", logcap_last());
    struct dm_gc_stats gs;
    dm_gc_stats(g, &gs);
    ck_assert_uint_eq(gs.deleted, 1);
    ck_assert_uint_eq(gs.errors, 0);
    ck_assert_uint_ge(gs.runs, 2);

    /* the report: publisher (strategy, lease holder), consumers with lag, last seq */
    json_t *r = dm_queues_report(st, bus, NULL, NULL, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(json_array_size(json_object_get(r, "queues")), 5);
    json_t *q = entry(r, gone);
    ck_assert(json_is_null(json_object_get(q, "stream")));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(q, "publisher"), "strategy")), "s-gone");
    q = entry(r, lease);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(q, "publisher"), "host")),
                     "host-a:42");
    ck_assert(json_is_null(json_object_get(json_object_get(entry(r, msgs), "publisher"), "host")));
    q = entry(r, msgs);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(q, "stream"), "last_seq")),
                     (json_int_t)seq);
    q = entry(r, cons);
    json_t *c = json_array_get(json_object_get(json_object_get(q, "stream"), "consumers"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "h2-cons");
    ck_assert(json_is_true(json_object_get(c, "active")));
    ck_assert_int_eq(json_integer_value(json_object_get(c, "lag")), 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(q, "strategies"), 0)),
                     "s-cons");
    ck_assert(json_is_integer(json_object_get(q, "last_submitted")));
    json_decref(r);
    /* filters */
    r = dm_queues_report(st, NULL, "other-world", NULL, err, sizeof(err));
    ck_assert_uint_eq(json_array_size(json_object_get(r, "queues")), 0);
    json_decref(r);
    r = dm_queues_report(st, NULL, "w", "backtest", err, sizeof(err));
    ck_assert_uint_eq(json_array_size(json_object_get(r, "queues")), 5);
    ck_assert_ptr_null(json_object_get(entry(r, gone), "stream")); /* no bus: no stream part */
    json_decref(r);

    dm_gc_free(g);
    bus_conn_free(host);
    bus_conn_free(bus);
    dm_store_close(st);
}
END_TEST

/* The lease released and the consumer gone: those queues go at the next pass. */
START_TEST(test_released_lease_and_stopped_consumer_collected)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[300];
    struct bus_conn *bus = natst_connect(&srv, base);
    struct bus_conn *host = natst_connect(&srv, base);
    struct dm_store *st = dm_store_open(":memory:", err, sizeof(err));
    char cons[200], lease[200];
    submit(st, bus, "s-cons", "cons", cons, sizeof(cons));
    submit(st, bus, "s-lease", "lease", lease, sizeof(lease));
    int got = 0;
    ck_assert_int_eq(bus_conn_consume(host, cons, "h2-cons", on_msg, &got, err, sizeof(err)), 0);
    uint64_t rev = 0;
    ck_assert_int_eq(bus_conn_lease_open(host, 10000, err, sizeof(err)), 0);
    ck_assert_int_eq(bus_conn_lease_take(host, lease, "host-a:42", &rev, err, sizeof(err)), 1);
    struct dm_gc *g = dm_gc_new(base, st, bus, AFTER_S, 0);
    /* a pass as of 5 s from now: everything is old, but both are in use */
    ck_assert_int_eq(dm_gc_run(g, (int64_t)time(NULL) + 5, err, sizeof(err)), 0);
    ck_assert(has_stream(bus, cons) && has_stream(bus, lease));
    bus_conn_lease_release(host, lease, "host-a:42");
    bus_conn_free(host); /* its subscription ends; the durable consumer stays, unbound */
    long deleted = 0;    /* the server sees the subscription end a moment later */
    for (int i = 0; i < 50 && deleted < 2; i++) {
        long d = dm_gc_run(g, (int64_t)time(NULL) + 5, err, sizeof(err));
        ck_assert_msg(d >= 0, "%s", err);
        deleted += d;
        if (deleted < 2)
            usleep(100000);
    }
    ck_assert_int_eq(deleted, 2);
    ck_assert(!has_stream(bus, cons) && !has_stream(bus, lease));
    /* once gone, nothing more to do */
    ck_assert_int_eq(dm_gc_run(g, (int64_t)time(NULL) + 5, err, sizeof(err)), 0);
    dm_gc_free(g);
    bus_conn_free(bus);
    dm_store_close(st);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("nats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_gone_strategy_collected_used_ones_kept);
    tcase_add_test(tc, test_released_lease_and_stopped_consumer_collected);
    return natst_run("dm_gc", tc);
}
