/* bus (host side) against a real nats-server: the roles a submission answer gives the
 * nodes (local / published / remote; streams never remote), remote nodes never computed
 * and fed from their queue, duplicates dropped, gaps counted, a foreign NodeID refused,
 * what the host computes published, and everything restored when the bus stops.
 * Skipped (passes with a note) without nats-server. */
#include "host/online/bus.h"
#include "host/dag/graph.h"
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

START_TEST(test_roles_feed_publish)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(bus_conn_ensure_stream(c, topics[i], 0, NULL, err, sizeof(err)) == 0, "%s",
                      err);
    json_t *ack = consumer_ack();
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
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

int main(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("bus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_roles_feed_publish);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
