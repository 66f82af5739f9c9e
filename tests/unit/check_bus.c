/* bus (host side) against a real nats-server: the roles a submission answer gives the
 * nodes (local / published / remote; streams never remote), remote nodes never computed
 * and fed from their queue, duplicates dropped, gaps counted, a foreign NodeID refused,
 * what the host computes published, and everything restored when the bus stops.
 * Skipped (passes with a note) without nats-server. */
#include "host/online/bus.h"
#include "host/dag/graph.h"
#include "host/plugin/loader.h"
#include "host/plugin/plugin_instance.h"
#include "host/runner.h"
#include "log.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct natst srv;
static struct event_base *base;
static char dir[64];
static struct runner r;
static struct host_bus *bus;

/* A host running the bus_consumer fixture (price -> sma3 -> diff -> echo), bus attached. */
static void setup(void)
{
    natst_setup(&srv, &base);
    snprintf(dir, sizeof(dir), "/tmp/check_bus.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *b = getenv("QMTL_BUILD");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp '%s/fixtures/bus_consumer.so' '%s/'", b && *b ? b : "build",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    char err[512];
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg("BTC=gbm:count=10,seed=1", &ds, err, sizeof(err)), 0);
    ck_assert_int_eq(runner_add_data(&r, &ds, NULL, 0, err, sizeof(err)), 0);
    runner_data_release(&ds);
    bus = host_bus_new(&r.h, srv.pid > 0 ? srv.url : "nats://127.0.0.1:1", "host.bus", err,
                       sizeof(err));
    ck_assert_msg(bus != NULL, "%s", err);
    ck_assert_msg(runner_start(&r, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
    runner_release(&r);
    host_bus_free(bus);
    natst_teardown(&srv, base);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct graph_node *node_named(const char *label)
{
    for (uint32_t i = 0; i < graph_count(r.h.g); i++)
        if (!strcmp(graph_node(r.h.g, i)->label, label))
            return graph_node(r.h.g, i);
    ck_abort_msg("no node '%s'", label);
    return NULL;
}

/* The answer a gateway gives when another host computes price, sma3 and diff. */
static json_t *consumer_ack(void)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}", "queue_map",
                     node_named("price")->id, "w.live.btc_StreamInput_t_v1", node_named("sma3")->id,
                     "w.live.any_sma_t_v1", node_named("diff")->id, "w.live.any_diff_t_v1",
                     "node_queues", node_named("price")->id, "w.live.btc_StreamInput_t_v1",
                     node_named("sma3")->id, "w.live.any_sma_t_v1", node_named("diff")->id,
                     "w.live.any_diff_t_v1", node_named("echo")->id, "w.live.any_echo_t_v1");
}

static const char *const topics[] = {"w.live.btc_StreamInput_t_v1", "w.live.any_sma_t_v1",
                                     "w.live.any_diff_t_v1", "w.live.any_echo_t_v1"};

static uint64_t want_fed;

static int fed_enough(void *arg)
{
    struct host_bus_stats st;
    host_bus_stats(arg, &st);
    return st.fed + st.duplicates + st.refused >= want_fed;
}

START_TEST(test_refusals)
{
    char err[256];
    ck_assert_ptr_null(host_bus_new(&r.h, "http://127.0.0.1:4222", "--bus", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "--bus: expected nats://HOST:PORT"));
    json_t *bad = json_pack("{s:[]}", "queue_map");
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", bad, err, sizeof(err)), -1);
    json_decref(bad);
    ck_assert_str_eq(host_bus_role(bus, node_named("diff")->idx), "local");
}
END_TEST

static int claimed(void *arg)
{
    (void)arg;
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    return st.claiming_nodes == 0;
}

/* The lease requests go to the lease thread: run the loop until their answers came. */
static void wait_claimed(void)
{
    natst_loop_until(base, claimed, NULL);
    ck_assert(claimed(NULL));
}

/* The four queues, the host planned as consumer_ack says and started (its claims
 * answered); a plain connection ("the owner") returned. */
static struct bus_conn *start_as_consumer(void)
{
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(bus_conn_ensure_stream(c, topics[i], 0, NULL, err, sizeof(err)) == 0, "%s",
                      err);
    json_t *ack = consumer_ack();
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(host_bus_role(bus, node_named("echo")->idx), "claiming");
    wait_claimed();
    return c;
}

START_TEST(test_roles_feed_publish)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = start_as_consumer();
    char err[300];
    struct graph_node *price = node_named("price"), *sma = node_named("sma3"),
                      *diff = node_named("diff"), *echo = node_named("echo");
    ck_assert_str_eq(host_bus_role(bus, price->idx), "local"); /* streams stay local */
    ck_assert_str_eq(host_bus_role(bus, sma->idx), "remote");
    ck_assert_str_eq(host_bus_role(bus, diff->idx), "remote");
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "published");
    ck_assert_int_eq(diff->kind, GRAPH_REMOTE);

    /* diff values from "the owner": 1, 2, 3, then 5 (4 missing); a redelivered 2 and a
     * message naming another node arrive through a plain client */
    struct qmtl_value v = qmtl_number(0);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        v.as.number = (double)seq;
        ck_assert(bus_conn_publish(c, topics[2], diff->id, 60 * (int64_t)seq, seq, &v, err,
                                   sizeof(err)) == 0);
    }
    ck_assert_int_eq(bus_conn_flush(c, 2000, err, sizeof(err)), 0);
    natsConnection *raw = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    unsigned char buf[512];
    v.as.number = 2;
    size_t n = bus_encode(diff->id, 120, 2, &v, buf, sizeof(buf), NULL, 0);
    ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q.w.live.any_diff_t_v1", buf, (int)n),
                     NATS_OK);
    n = bus_encode(sma->id, 180, 9, &v, buf, sizeof(buf), NULL, 0);
    ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q.w.live.any_diff_t_v1", buf, (int)n),
                     NATS_OK);
    natsConnection_Flush(raw);
    v.as.number = 5;
    ck_assert(bus_conn_publish(c, topics[2], diff->id, 300, 5, &v, err, sizeof(err)) == 0);
    want_fed = 6;
    natst_loop_until(base, fed_enough, bus);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.fed, 4);
    ck_assert_uint_eq(st.duplicates, 1);
    ck_assert_uint_eq(st.gaps, 1);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.remote_nodes, 2);
    ck_assert_uint_eq(st.published_nodes, 1);
    /* never computed here; echo (period 3) computed on the 3rd and 4th value and published */
    ck_assert_int_eq(sched_node(r.h.s, diff->idx)->c.computes, 0);
    ck_assert_int_eq(sched_node(r.h.s, echo->idx)->c.computes, 2);
    ck_assert_uint_eq(st.published, 2);
    natsConnection_Destroy(raw);
    bus_conn_free(c);

    host_bus_stop(bus);
    ck_assert_int_eq(diff->kind, GRAPH_CUSTOM); /* computes again without the bus */
    ck_assert_int_eq(sma->kind, GRAPH_INDICATOR);
    ck_assert_str_eq(host_bus_role(bus, diff->idx), "local");
}
END_TEST

static struct graph_node *fed_node; /* wait until this node computed 'want_computes' times */
static long want_computes;

static int computed_enough(void *arg)
{
    (void)arg;
    return sched_node(r.h.s, fed_node->idx)->c.computes >= want_computes;
}

/* Publish 'n' values of node 'x' to 'topic' from sequence 'seq' (bucket 60 * seq). */
static void publish_values(struct bus_conn *c, const char *topic, const struct graph_node *x,
                           uint64_t seq, uint64_t n)
{
    char err[300];
    for (uint64_t k = seq; k < seq + n; k++) {
        struct qmtl_value v = qmtl_number((double)k);
        ck_assert_msg(bus_conn_publish(c, topic, x->id, 60 * (int64_t)k, k, &v, err,
                                       sizeof(err)) == 0,
                      "%s", err);
    }
    ck_assert_int_eq(bus_conn_flush(c, 2000, err, sizeof(err)), 0);
}

static void replace_with(const char *fixture)
{
    const char *b = getenv("QMTL_BUILD");
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/fixtures/%s.so", b && *b ? b : "build", fixture);
    struct plugin *p;
    ck_assert_msg(plugin_open(path, &p, err, sizeof(err)) == 0, "%s", err);
    struct plugin_instance *pi = plugin_instance_new(p);
    ck_assert_ptr_nonnull(pi);
    struct host_swap_result res;
    ck_assert_msg(host_replace_strategy(&r.h, 0, pi, NULL, NULL, &res, err, sizeof(err)) == 0,
                  "%s", err);
    plugin_instance_unref(pi);
    ck_assert_msg(host_bus_swapped(bus, err, sizeof(err)) == 0, "%s", err);
}

static const char *lease_key;
static struct bus_conn *lease_conn;

static int lease_free(void *arg)
{
    (void)arg;
    char holder[160], err[300];
    return bus_conn_lease_holder(lease_conn, lease_key, holder, sizeof(holder), err,
                                 sizeof(err)) == 0;
}

#define MOM_TOPIC "w.live.any_mom_t_v1"
#define ECHO2_TOPIC "w.live.any_echo2_t_v1"

/* start_as_consumer, with the queues of version 2's own nodes (mom, echo2) and the lease
 * bucket open on the returned connection */
static struct bus_conn *start_for_v2(void)
{
    struct bus_conn *c = start_as_consumer();
    char err[300];
    ck_assert(bus_conn_ensure_stream(c, MOM_TOPIC, 0, NULL, err, sizeof(err)) == 0);
    ck_assert(bus_conn_ensure_stream(c, ECHO2_TOPIC, 0, NULL, err, sizeof(err)) == 0);
    ck_assert_int_eq(bus_conn_lease_open(c, 1000, err, sizeof(err)), 0);
    return c;
}

/* A hot reload on a running bus: bus_consumer 1.0.0 -> 2.0.0 (adds mom, consumed, and
 * echo2, published) -> 1.0.0 again (both gone). */
START_TEST(test_reload_replan)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = start_for_v2();
    char err[300];
    /* diff 1..3 from "the owner": echo (period 3) computes once, published as 1 */
    publish_values(c, topics[2], node_named("diff"), 1, 3);
    fed_node = node_named("echo");
    want_computes = 1;
    natst_loop_until(base, computed_enough, NULL);

    replace_with("bus_consumer_v2");
    struct graph_node *sma = node_named("sma3"), *diff = node_named("diff"),
                      *echo = node_named("echo"), *mom = node_named("mom"),
                      *echo2 = node_named("echo2");
    /* kept nodes keep their role (a remote node declared again is remote again) */
    ck_assert_int_eq(diff->kind, GRAPH_REMOTE);
    ck_assert_int_eq(sma->kind, GRAPH_REMOTE);
    ck_assert_str_eq(host_bus_role(bus, diff->idx), "remote");
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "published");
    ck_assert_str_eq(host_bus_role(bus, mom->idx), "local"); /* until the answer */
    ck_assert_str_eq(host_bus_role(bus, echo2->idx), "local");
    ck_assert_int_eq(sched_node(r.h.s, echo->idx)->c.computes, 1); /* its counters moved with it */

    /* the same consumer goes on: diff 4 arrives once, echo's window (4, 3, 2) is whole, and
     * its output is published as 2 */
    publish_values(c, topics[2], diff, 4, 1);
    fed_node = echo;
    want_computes = 2;
    natst_loop_until(base, computed_enough, NULL);
    int64_t ts;
    uint64_t seq;
    ck_assert_int_eq(bus_conn_last_output(c, topics[3], &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 2);
    ck_assert_int_eq(ts, 240);

    /* before the answer mom computes here: sma3 1, 2 (bucket 120) */
    publish_values(c, topics[1], sma, 1, 2);
    fed_node = mom;
    want_computes = 1;
    natst_loop_until(base, computed_enough, NULL);

    /* the answer: mom is computed by another host (consume it), echo2 is ours (publish) */
    json_t *ack2 = json_pack(
        "{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "queue_map",
        node_named("price")->id, topics[0], sma->id, topics[1], diff->id, topics[2], mom->id,
        MOM_TOPIC, "node_queues", node_named("price")->id, topics[0], sma->id, topics[1], diff->id,
        topics[2], echo->id, topics[3], mom->id, MOM_TOPIC, echo2->id, ECHO2_TOPIC);
    /* the answer names echo's queue too (its previous version submitted it): the lease
     * is this host's, so echo stays published */
    json_object_set_new(json_object_get(ack2, "queue_map"), echo->id, json_string(topics[3]));
    ck_assert_msg(host_bus_replan(bus, 0, ack2, err, sizeof(err)) == 0, "%s", err);
    json_decref(ack2);
    wait_claimed();
    ck_assert_str_eq(host_bus_role(bus, mom->idx), "remote");
    ck_assert_int_eq(mom->kind, GRAPH_REMOTE);
    ck_assert_str_eq(host_bus_role(bus, echo2->idx), "published");
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "published"); /* placed before: kept */
    uint64_t rev;
    ck_assert_int_eq(bus_conn_lease_take(c, ECHO2_TOPIC, "other:1", &rev, err, sizeof(err)), 0);
    /* mom 1 and 2 (buckets 60, 120: computed here) are not fed again, 3 and 4 are: echo2
     * sees mom at 120 (computed here), 180 and 240 (remote) and publishes once */
    publish_values(c, MOM_TOPIC, mom, 1, 4);
    fed_node = echo2;
    want_computes = 1;
    natst_loop_until(base, computed_enough, NULL);
    ck_assert_int_eq(sched_node(r.h.s, mom->idx)->c.computes, 1); /* never computed here again */
    ck_assert_int_eq(bus_conn_last_output(c, ECHO2_TOPIC, &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 1);
    ck_assert_int_eq(ts, 240);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.gaps, 0);
    ck_assert_uint_eq(st.duplicates, 2);
    ck_assert_uint_eq(st.remote_nodes, 3);
    ck_assert_uint_eq(st.published_nodes, 2);

    /* back to 1.0.0: mom and echo2 are gone; echo2's lease is given up at once (on the
     * lease thread, well before its 1 s TTL) */
    replace_with("bus_consumer");
    lease_key = ECHO2_TOPIC;
    lease_conn = c;
    for (int k = 0; k < 25 && !lease_free(NULL); k++) { /* 500 ms: well under the TTL */
        struct timeval brief = {0, 20000};
        event_base_loopexit(base, &brief);
        event_base_dispatch(base);
    }
    ck_assert_int_eq(bus_conn_lease_take(c, ECHO2_TOPIC, "other:1", &rev, err, sizeof(err)), 1);
    ck_assert_int_eq(bus_conn_lease_take(c, topics[3], "other:1", &rev, err, sizeof(err)), 0);
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.remote_nodes, 2);
    ck_assert_uint_eq(st.published_nodes, 1);
    ck_assert_str_eq(host_bus_role(bus, node_named("diff")->idx), "remote");
    bus_conn_free(c);
    host_bus_stop(bus);
    ck_assert_int_eq(node_named("diff")->kind, GRAPH_CUSTOM);
}
END_TEST

/* The consumers of the stream of 'topic' now (a new reference). */
static json_t *consumers_of(struct bus_conn *c, const char *topic)
{
    json_t *rep = NULL;
    char err[300];
    ck_assert_msg(bus_conn_queue_report(c, topic, &rep, err, sizeof(err)) == 0, "%s", err);
    json_t *cs = json_incref(json_object_get(rep, "consumers"));
    json_decref(rep);
    return cs;
}

static struct bus_conn *report_conn;
static const char *report_topic;

static int no_consumer(void *arg)
{
    (void)arg;
    json_t *cs = consumers_of(report_conn, report_topic);
    size_t n = json_array_size(cs);
    json_decref(cs);
    return n == 0;
}

static struct bus_conn *stored_conn;
static const char *stored_topic;
static uint64_t stored_want;

static int stored(void *arg)
{
    (void)arg;
    int64_t ts;
    uint64_t seq;
    char err[300];
    return bus_conn_last_output(stored_conn, stored_topic, &ts, &seq, err, sizeof(err)) == 0 &&
           seq >= stored_want;
}

/* Run the loop until the stream of 'topic' holds sequence 'seq'. */
static void wait_stored(struct bus_conn *c, const char *topic, uint64_t seq)
{
    stored_conn = c;
    stored_topic = topic;
    stored_want = seq;
    natst_loop_until(base, stored, NULL);
}

/* v1 -> v2 on a running bus, answered with 'mom' consumed or computed here (echo2 ours) */
static json_t *v2_ack(int mom_consumed)
{
    struct graph_node *sma = node_named("sma3"), *diff = node_named("diff"),
                      *mom = node_named("mom");
    json_t *ack = json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "queue_map",
        node_named("price")->id, topics[0], sma->id, topics[1], diff->id, topics[2],
        "node_queues", node_named("price")->id, topics[0], sma->id, topics[1], diff->id,
        topics[2], node_named("echo")->id, topics[3], mom->id, MOM_TOPIC, node_named("echo2")->id,
        ECHO2_TOPIC);
    if (mom_consumed)
        json_object_set_new(json_object_get(ack, "queue_map"), mom->id, json_string(MOM_TOPIC));
    return ack;
}

/* A consumed node the new version drops: its subscription stops and its durable
 * consumer is deleted; later values of its queue reach nothing. */
START_TEST(test_reload_drop_unsubscribes)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = start_for_v2();
    char err[300];
    replace_with("bus_consumer_v2");
    json_t *ack = v2_ack(1);
    ck_assert_msg(host_bus_replan(bus, 0, ack, err, sizeof(err)) == 0, "%s", err);
    json_decref(ack);
    wait_claimed();
    struct graph_node *mom = node_named("mom");
    char mom_id[NODEID_LEN + 1];
    snprintf(mom_id, sizeof(mom_id), "%s", mom->id);
    publish_values(c, MOM_TOPIC, mom, 1, 2);
    want_fed = 2;
    natst_loop_until(base, fed_enough, bus);
    json_t *cs = consumers_of(c, MOM_TOPIC);
    ck_assert_uint_eq(json_array_size(cs), 1);
    json_decref(cs);

    replace_with("bus_consumer"); /* mom and echo2 gone */
    report_conn = c;
    report_topic = MOM_TOPIC;
    natst_loop_until(base, no_consumer, NULL);
    ck_assert(no_consumer(NULL));
    struct host_bus_stats before, after;
    host_bus_stats(bus, &before);
    for (uint64_t k = 3; k <= 4; k++) { /* mom's node is gone: its NodeID stays */
        struct qmtl_value v = qmtl_number((double)k);
        ck_assert(bus_conn_publish(c, MOM_TOPIC, mom_id, 60 * (int64_t)k, k, &v, err,
                                   sizeof(err)) == 0);
    }
    ck_assert_int_eq(bus_conn_flush(c, 2000, err, sizeof(err)), 0);
    natst_settle(base);
    host_bus_stats(bus, &after);
    ck_assert_uint_eq(after.fed + after.duplicates, before.fed + before.duplicates);
    /* the kept consumers go on */
    cs = consumers_of(c, topics[2]);
    ck_assert_uint_eq(json_array_size(cs), 1);
    json_decref(cs);
    bus_conn_free(c);
    host_bus_stop(bus);
}
END_TEST

/* A new node told to publish: the buckets it computed between the swap and the answer
 * go to its queue when the lease is taken, in order, after what the stream holds (none
 * twice); told to publish while another host holds the lease: standby, none sent. */
START_TEST(test_reload_new_node_held)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = start_for_v2();
    char err[300];
    replace_with("bus_consumer_v2");
    struct graph_node *sma = node_named("sma3"), *mom = node_named("mom"),
                      *echo2 = node_named("echo2");
    /* mom's stream already holds bucket 120 (sequence 2), from an earlier owner */
    publish_values(c, MOM_TOPIC, mom, 2, 1);
    /* sma 1..4: mom computes here at 120, 180, 240 before the answer; held */
    publish_values(c, topics[1], sma, 1, 4);
    fed_node = mom;
    want_computes = 3;
    natst_loop_until(base, computed_enough, NULL);
    int64_t ts;
    uint64_t seq;
    ck_assert_int_eq(bus_conn_last_output(c, MOM_TOPIC, &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 2); /* nothing published before the answer */
    /* echo2's lease is another host's: echo2 is standby, what it held is dropped */
    uint64_t rev;
    ck_assert_int_eq(bus_conn_lease_take(c, ECHO2_TOPIC, "other:1", &rev, err, sizeof(err)), 1);

    json_t *ack = v2_ack(0);
    ck_assert_msg(host_bus_replan(bus, 0, ack, err, sizeof(err)) == 0, "%s", err);
    json_decref(ack);
    ck_assert_str_eq(host_bus_role(bus, mom->idx), "claiming");
    wait_claimed();
    ck_assert_str_eq(host_bus_role(bus, mom->idx), "published");
    ck_assert_str_eq(host_bus_role(bus, echo2->idx), "standby");
    ck_assert_int_eq(bus_conn_flush(c, 2000, err, sizeof(err)), 0);
    /* 180 and 240 follow the stored 120 (sequence 2), numbered 3 and 4 */
    wait_stored(c, MOM_TOPIC, 4);
    ck_assert_int_eq(bus_conn_last_output(c, MOM_TOPIC, &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 4);
    ck_assert_int_eq(ts, 240);
    /* and the next one after them */
    publish_values(c, topics[1], sma, 5, 1);
    want_computes = 4;
    natst_loop_until(base, computed_enough, NULL);
    host_bus_stop(bus); /* waits for the acknowledgements */
    ck_assert_int_eq(bus_conn_last_output(c, MOM_TOPIC, &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 5);
    ck_assert_int_eq(ts, 300);
    ck_assert_int_eq(bus_conn_last_output(c, ECHO2_TOPIC, &ts, &seq, err, sizeof(err)), 1);
    bus_conn_free(c);
}
END_TEST

/* A run that ends before the lease's answer (a short finite run): what the claiming node
 * computed is published when the bus stops. */
START_TEST(test_stop_while_claiming)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    for (size_t i = 0; i < 4; i++)
        ck_assert(bus_conn_ensure_stream(c, topics[i], 0, NULL, err, sizeof(err)) == 0);
    json_t *ack = consumer_ack();
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    struct graph_node *diff = node_named("diff"), *echo = node_named("echo");
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "claiming");
    /* diff 1..3 handed to the scheduler as the queue would: echo computes bucket 180,
     * held; the loop never runs, so the claim's answer never comes */
    for (int64_t k = 1; k <= 3; k++) {
        struct qmtl_value v = qmtl_number((double)k);
        sched_feed(r.h.s, diff->idx, 60 * k, &v);
    }
    ck_assert_int_gt(sched_node(r.h.s, echo->idx)->c.computes, 0);
    host_bus_stop(bus);
    int64_t ts;
    uint64_t seq;
    ck_assert_int_eq(bus_conn_last_output(c, topics[3], &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 1);
    ck_assert_int_eq(ts, 180);
    bus_conn_free(c);
}
END_TEST

/* "Another host" holding two leases, renewed from the loop while the test runs. */
struct held_leases {
    struct bus_conn *c;
    const char *keys[2];
    uint64_t rev[2];
};

static void renew_leases(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct held_leases *hl = arg;
    char err[300];
    for (int k = 0; k < 2; k++)
        bus_conn_lease_renew(hl->c, hl->keys[k], "other:1", &hl->rev[k], err, sizeof(err));
}

/* Kept nodes whose new answer places them otherwise, their leases another host's: echo
 * (standby) now consumed, only buckets after the last computed here fed; diff (consumed)
 * now computed here from the first bucket after the last fed, its durable consumer
 * deleted. A published node stays published whatever the answer (test_reload_replan). */
START_TEST(test_reload_role_change)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    for (size_t i = 0; i < 4; i++)
        ck_assert(bus_conn_ensure_stream(c, topics[i], 0, NULL, err, sizeof(err)) == 0);
    ck_assert_int_eq(bus_conn_lease_open(c, 1000, err, sizeof(err)), 0);
    struct held_leases hl = {.c = c, .keys = {topics[2], topics[3]}};
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(bus_conn_lease_take(c, hl.keys[k], "other:1", &hl.rev[k], err,
                                             sizeof(err)),
                         1);
    struct event *renew = event_new(base, -1, EV_PERSIST, renew_leases, &hl);
    struct timeval every = {0, 200000};
    event_add(renew, &every);
    json_t *ack = consumer_ack();
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    wait_claimed();
    struct graph_node *sma = node_named("sma3"), *diff = node_named("diff"),
                      *echo = node_named("echo");
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "standby");
    publish_values(c, topics[1], sma, 1, 3);
    publish_values(c, topics[2], diff, 1, 3); /* diff fed up to bucket 180, echo computes it */
    want_fed = 6;
    natst_loop_until(base, fed_enough, bus);
    long echo_computes = sched_node(r.h.s, echo->idx)->c.computes;
    ck_assert_int_gt(echo_computes, 0);

    /* the resubmission's answer: echo is computed elsewhere, diff here */
    ack = consumer_ack();
    json_object_del(json_object_get(ack, "queue_map"), diff->id);
    json_object_set_new(json_object_get(ack, "queue_map"), echo->id, json_string(topics[3]));
    ck_assert_msg(host_bus_replan(bus, 0, ack, err, sizeof(err)) == 0, "%s", err);
    json_decref(ack);
    ck_assert_str_eq(host_bus_role(bus, echo->idx), "remote");
    ck_assert_int_eq(echo->kind, GRAPH_REMOTE);
    ck_assert_str_eq(host_bus_role(bus, diff->idx), "remote"); /* until its next bucket */

    /* sma 4 (bucket 240): diff computes it here, from sma's window 180, 240 */
    long diff_before = sched_node(r.h.s, diff->idx)->c.computes;
    publish_values(c, topics[1], sma, 4, 1);
    fed_node = diff;
    want_computes = diff_before + 1;
    natst_loop_until(base, computed_enough, NULL);
    ck_assert_int_eq(sched_node(r.h.s, diff->idx)->c.computes, diff_before + 1);
    ck_assert_int_eq(diff->kind, GRAPH_CUSTOM);
    ck_assert_str_eq(host_bus_role(bus, diff->idx), "standby");
    report_conn = c;
    report_topic = topics[2];
    natst_loop_until(base, no_consumer, NULL);
    ck_assert(no_consumer(NULL));

    /* echo from the host holding its lease: 180 (computed here) is dropped, 240 and 300
     * are fed, no gap; echo is never computed here again; diff's later values are not
     * fed (its consumer is gone) */
    struct host_bus_stats st0, st;
    host_bus_stats(bus, &st0);
    publish_values(c, topics[2], diff, 4, 2);
    publish_values(c, topics[3], echo, 3, 3);
    want_fed = st0.fed + st0.duplicates + st0.refused + 3;
    natst_loop_until(base, fed_enough, bus);
    natst_settle(base);
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.fed, st0.fed + 2);
    ck_assert_uint_eq(st.duplicates, st0.duplicates + 1);
    ck_assert_uint_eq(st.gaps, 0);
    ck_assert_int_eq(sched_node(r.h.s, echo->idx)->c.computes, echo_computes);
    ck_assert_int_eq(sched_node(r.h.s, diff->idx)->c.computes, diff_before + 1);
    event_free(renew);
    bus_conn_free(c);
    host_bus_stop(bus);
    ck_assert_int_eq(echo->kind, GRAPH_CUSTOM);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("bus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_roles_feed_publish);
    tcase_add_test(tc, test_reload_replan);
    tcase_add_test(tc, test_reload_drop_unsubscribes);
    tcase_add_test(tc, test_reload_new_node_held);
    tcase_add_test(tc, test_reload_role_change);
    tcase_add_test(tc, test_stop_while_claiming);
    return natst_run("bus", tc);
}
