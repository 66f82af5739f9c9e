/* bus_tagq: queue entries parsed as hostile input; other hosts' queues joining a running
 * host's tag query (one DAG change, the other nodes untouched), from a submission answer
 * and from queue_update events; joined nodes feeding the query's consumer and left out of
 * submissions; values from a real nats-server (skipped with a note without one). */
#include "host/online/bus_tagq.h"
#include "bus_nats.h"
#include "host/dag/graph.h"
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"
#include "host/online/control.h"
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
static struct bus_tagq *tq;
static long collected; /* lines the fixture's 'collect' node logged */

static void count_collect(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)arg;
    collected += strstr(line, "collect ts=") != NULL;
}

#define X_ID "blake3:1111111111111111111111111111111111111111111111111111111111111111"
#define Y_ID "blake3:2222222222222222222222222222222222222222222222222222222222222222"
#define Z_ID "blake3:3333333333333333333333333333333333333333333333333333333333333333"

/* A host running the tagq_query fixture (price(ETH); tag query "momentum" at 1m -> collect). */
static void setup(void)
{
    natst_setup(&srv, &base);
    log_set_sink(count_collect, NULL);
    collected = 0;
    snprintf(dir, sizeof(dir), "/tmp/check_bus_tagq.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *b = getenv("QMTL_BUILD");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp '%s/fixtures/tagq_query.so' '%s/'", b && *b ? b : "build", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(runner_init(&r, NULL), 0);
    char err[512];
    ck_assert_int_eq(runner_load_dir(&r, dir, err, sizeof(err)), 1);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg("ETH=gbm:count=5,seed=1", &ds, err, sizeof(err)), 0);
    ck_assert_int_eq(runner_add_data(&r, &ds, NULL, 0, err, sizeof(err)), 0);
    runner_data_release(&ds);
    ck_assert_msg(runner_start(&r, err, sizeof(err)) == 0, "%s", err);
    tq = bus_tagq_new(&r.h);
    ck_assert_ptr_nonnull(tq);
}

static void teardown(void)
{
    bus_tagq_free(tq);
    runner_release(&r);
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

static json_t *entry(const char *topic, const char *id, const char *tag, int interval)
{
    return json_pack("{s:s, s:b, s:s, s:[s], s:i}", "queue", topic, "global", 0, "node_id", id,
                     "tags", tag, "interval", interval);
}

static int parse_fails(const char *json, const char *field)
{
    json_t *e = json_loads(json, 0, NULL);
    struct bus_tagq_queue q;
    char err[300] = "";
    int rc = bus_tagq_parse_queue(e ? e : json_null(), NULL, &q, err, sizeof(err));
    json_decref(e);
    ck_assert_msg(rc == -1 && strstr(err, field), "%s: rc %d, '%s'", json, rc, err);
    return 1;
}

START_TEST(test_parse)
{
    json_t *e = entry("w.live.momentum_CustomNode_abc_v1", X_ID, "momentum", 60);
    struct bus_tagq_queue q;
    char err[300];
    ck_assert_int_eq(bus_tagq_parse_queue(e, NULL, &q, err, sizeof(err)), 1);
    ck_assert_str_eq(q.topic, "w.live.momentum_CustomNode_abc_v1");
    ck_assert_str_eq(q.node_id, X_ID);
    ck_assert_uint_eq(q.n_tags, 1);
    ck_assert_str_eq(q.tags[0], "momentum");
    ck_assert_int_eq(q.interval, 60);
    bus_tagq_queue_release(&q);
    /* the reference's {queue, global} with the node in queue_nodes (what the gateway sends) */
    json_t *ref = json_pack("{s:s, s:b}", "queue", "w.live.m_v1", "global", 0);
    json_t *nodes = json_pack("{s:{s:s, s:[ss], s:i}}", "w.live.m_v1", "node_id", Y_ID, "tags",
                              "a", "momentum", "interval", 300);
    ck_assert_int_eq(bus_tagq_parse_queue(ref, nodes, &q, err, sizeof(err)), 1);
    ck_assert_str_eq(q.node_id, Y_ID);
    ck_assert_uint_eq(q.n_tags, 2);
    ck_assert_int_eq(q.interval, 300);
    bus_tagq_queue_release(&q);
    ck_assert_int_eq(bus_tagq_parse_queue(ref, NULL, &q, err, sizeof(err)), -1); /* no node */
    ck_assert_ptr_nonnull(strstr(err, "field 'node_id'"));
    json_decref(ref);
    json_decref(nodes);
    json_object_set_new(e, "global", json_true()); /* consumed by its owner's rules */
    ck_assert_int_eq(bus_tagq_parse_queue(e, NULL, &q, err, sizeof(err)), 0);
    json_decref(e);
    parse_fails("[1]", "expected an object");
    parse_fails("{\"queue\": \"a b\", \"node_id\": \"x\", \"tags\": [\"t\"], \"interval\": 60}",
                "field 'queue'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\", \"tags\": [\"t\"], \"interval\": 60,"
                " \"global\": 1}",
                "field 'global'");
    parse_fails("{\"queue\": \"a.b\", \"tags\": [\"t\"], \"interval\": 60}", "field 'node_id'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\\ny\", \"tags\": [\"t\"], \"interval\": 60}",
                "field 'node_id'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\", \"tags\": [], \"interval\": 60}",
                "field 'tags'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\", \"tags\": [\"t\", 5], \"interval\": 60}",
                "field 'tags[1]'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\", \"tags\": [\"t\"], \"interval\": -1}",
                "field 'interval'");
    parse_fails("{\"queue\": \"a.b\", \"node_id\": \"x\", \"tags\": [\"t\"], \"interval\": \"60\"}",
                "field 'interval'");
}
END_TEST

/* The submission answer: only the queue the query matches joins, at the start, by one DAG
 * change that keeps every other node; then a queue_update adds another while running. */
START_TEST(test_join)
{
    struct graph_node *q = node_named("momentum");
    ck_assert_uint_eq(q->n_in, 0); /* nothing here matches */
    size_t n0 = graph_count(r.h.g);
    char ids[16][NODEID_LEN + 1];
    ck_assert_uint_le(n0, 16);
    for (uint32_t i = 0; i < n0; i++)
        snprintf(ids[i], sizeof(ids[i]), "%s", graph_node(r.h.g, i)->id);
    json_t *list = json_array();
    json_array_append_new(list, entry("w.live.x_v1", X_ID, "momentum", 60));
    json_array_append_new(list, entry("w.live.other_v1", Y_ID, "other", 60)); /* tags */
    json_array_append_new(list, entry("w.live.slow_v1", Y_ID, "momentum", 120)); /* interval */
    json_array_append_new(list, entry("w.live.mine_v1", q->id, "momentum", 60)); /* here */
    json_array_append_new(list, json_pack("{s:s}", "queue", "bad")); /* logged, skipped */
    json_t *ack = json_pack("{s:{s:o}}", "queue_map", q->id, list);
    char err[300];
    ck_assert_int_eq(bus_tagq_plan(tq, 0, ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_uint_eq(graph_count(r.h.g), n0); /* nothing before the start */
    ck_assert_msg(bus_tagq_start(tq, NULL, "w", err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(graph_count(r.h.g), n0 + 1);
    for (uint32_t i = 0; i < n0; i++)
        ck_assert_str_eq(graph_node(r.h.g, i)->id, ids[i]);
    struct graph_node *x = graph_find(r.h.g, X_ID);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->kind, GRAPH_REMOTE);
    ck_assert_int_eq(x->interval, 60);
    ck_assert_str_eq(x->label, "w.live.x_v1");
    ck_assert(graph_owned_by(x, 0));
    ck_assert(bus_tagq_joined(tq, X_ID));
    q = node_named("momentum");
    ck_assert_uint_eq(q->n_in, 1);
    ck_assert_uint_eq(q->in[0], x->idx);

    /* a value of the joined queue reaches the query's consumer */
    long before = collected;
    struct qmtl_value v = qmtl_number(1.5);
    ck_assert_int_eq(sched_feed(r.h.s, x->idx, 1700000000, &v), 0);
    ck_assert_int_eq(collected, before + 1);

    /* queue_update: another world is ignored; a known queue is not joined twice */
    json_t *ev = json_pack("{s:s, s:[o]}", "world_id", "w9", "queues",
                           entry("w9.live.z_v1", Y_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0);
    json_decref(ev);
    ev = json_pack("{s:s, s:[oo]}", "world_id", "w", "queues",
                   entry("w.live.x_v1", X_ID, "momentum", 60),
                   entry("w.live.y_v1", Y_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0); /* not started: remembered */
    ck_assert_ptr_null(graph_find(r.h.g, Y_ID));
    ck_assert_msg(bus_tagq_start(tq, NULL, "w", err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(graph_find(r.h.g, Y_ID));
    ck_assert_uint_eq(node_named("momentum")->n_in, 2);
    json_decref(ev);

    /* the same NodeID in another queue (another compute context): a node of its own, as
     * the reference reads each queue as an upstream; the first one keeps its node */
    size_t n1 = graph_count(r.h.g);
    ev = json_pack("{s:s, s:[oo]}", "world_id", "w", "queues",
                   entry("w.live.x_v1", X_ID, "momentum", 60),
                   entry("w.live.x_asof2_v1", X_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0); /* remembered */
    json_decref(ev);
    ck_assert_msg(bus_tagq_start(tq, NULL, "w", err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(graph_count(r.h.g), n1 + 1);
    struct graph_node *x2 = node_named("w.live.x_asof2_v1");
    ck_assert_int_eq(x2->kind, GRAPH_REMOTE);
    ck_assert_str_ne(x2->id, X_ID);
    ck_assert(bus_tagq_joined(tq, x2->id));
    ck_assert_str_eq(graph_find(r.h.g, X_ID)->label, "w.live.x_v1");
    ck_assert_uint_eq(node_named("momentum")->n_in, 3);
    before = collected;
    ck_assert_int_eq(sched_feed(r.h.s, x2->idx, 1700000060, &v), 0);
    ck_assert_int_eq(collected, before + 1);
    ev = json_pack("{s:s}", "world_id", "w");
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "'queues'"));
    json_decref(ev);

    /* joined nodes are not the strategy's: its submission leaves them out */
    json_t *sub = ctl_strategy_submission(&r.h, 0, "w", err, sizeof(err));
    ck_assert_msg(sub != NULL, "%s", err);
    char *text = json_dumps(sub, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, X_ID));
    ck_assert_ptr_null(strstr(text, Y_ID));
    free(text);
    json_decref(sub);
    struct bus_tagq_stats st;
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.joined, 3);
}
END_TEST

static uint64_t want;

static int seen_enough(void *arg)
{
    struct bus_tagq_stats st;
    bus_tagq_stats(arg, &st);
    return st.fed + st.duplicates + st.refused >= want;
}

/* Values from the queue: in order, a duplicate dropped, a gap counted and fed, a message
 * of another node refused; a queue_update while started joins and consumes at once; a
 * node dropped by a new version of its strategy and joined again keeps its consumer. */
START_TEST(test_consume)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    ck_assert_msg(bus_conn_ensure_stream(c, "w.live.x_v1", 0, NULL, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_msg(bus_tagq_start(tq, c, "w", err, sizeof(err)) == 0, "%s", err);
    json_t *ev = json_pack("{s:s, s:[o]}", "world_id", "w", "queues",
                           entry("w.live.x_v1", X_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 1);
    json_decref(ev);
    /* through a plain client (no Nats-Msg-Id: JetStream keeps the redelivered 2) */
    natsConnection *raw = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    struct qmtl_value v = qmtl_number(0);
    const uint64_t seqs[] = {1, 2, 3, 2, 5};
    unsigned char buf[512];
    for (size_t i = 0; i < 6; i++) {
        v.as.number = i < 5 ? (double)seqs[i] : 9;
        size_t n = bus_encode(i < 5 ? X_ID : Y_ID, i < 5 ? 60 * (int64_t)seqs[i] : 600,
                              i < 5 ? seqs[i] : 9, &v, buf, sizeof(buf), NULL, 0);
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q.w.live.x_v1", buf, (int)n), NATS_OK);
    }
    natsConnection_Flush(raw);
    natsConnection_Destroy(raw);
    want = 6;
    natst_loop_until(base, seen_enough, tq);
    struct bus_tagq_stats st;
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.fed, 4);
    ck_assert_uint_eq(st.duplicates, 1);
    ck_assert_uint_eq(st.gaps, 1);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_int_eq(collected, 4);

    /* a new version of the strategy drops the joined node; the answer to its resubmission
     * joins it again at once, fed by the consumer it had */
    struct host_swap_result res;
    ck_assert_msg(host_replace_strategy(&r.h, 0, r.h.st[0]->pi, NULL, NULL, &res, err,
                                        sizeof(err)) == 0,
                  "%s", err);
    ck_assert_ptr_null(graph_find(r.h.g, X_ID));
    json_t *ack = json_pack("{s:{s:[o]}}", "queue_map", node_named("momentum")->id,
                            entry("w.live.x_v1", X_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_plan(tq, 0, ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_ptr_nonnull(graph_find(r.h.g, X_ID));
    ck_assert_uint_eq(node_named("momentum")->n_in, 1);
    v.as.number = 6;
    size_t n = bus_encode(X_ID, 360, 6, &v, buf, sizeof(buf), NULL, 0);
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q.w.live.x_v1", buf, (int)n), NATS_OK);
    natsConnection_Flush(raw);
    natsConnection_Destroy(raw);
    want = 7;
    natst_loop_until(base, seen_enough, tq);
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.joined, 1);
    ck_assert_uint_eq(st.fed, 5);
    ck_assert_int_eq(collected, 5);

    /* a queue whose stream is missing joins; its consumer follows at the next event */
    ev = json_pack("{s:s, s:[o]}", "world_id", "w", "queues",
                   entry("w.live.z_v1", Z_ID, "momentum", 60));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), -1);
    json_decref(ev);
    ck_assert_ptr_nonnull(graph_find(r.h.g, Z_ID));
    ck_assert_msg(bus_conn_ensure_stream(c, "w.live.z_v1", 0, NULL, err, sizeof(err)) == 0, "%s",
                  err);
    ev = json_pack("{s:s, s:[]}", "world_id", "w", "queues");
    ck_assert_msg(bus_tagq_update(tq, ev, err, sizeof(err)) == 0, "%s", err);
    json_decref(ev);
    ck_assert(bus_conn_publish(c, "w.live.z_v1", Z_ID, 420, 1, &v, err, sizeof(err)) == 0);
    want = 8;
    natst_loop_until(base, seen_enough, tq);
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.fed, 6);
    bus_tagq_stop(tq);
    bus_conn_free(c);
}
END_TEST

/* A queue_update: the whole list of the query "momentum" (any, 1m) as of generation gen;
 * 'queues' is stolen. */
static json_t *update_of(json_int_t gen, json_t *queues)
{
    return json_pack("{s:s, s:s, s:[s], s:i, s:s, s:I, s:o}", "world_id", "w",
                     "execution_domain", "live", "tags", "momentum", "interval", 60,
                     "match_mode", "any", "generation", gen, "queues", queues);
}

static int consumer_active(struct bus_conn *c, const char *topic)
{
    json_t *rep = NULL;
    char err[300];
    ck_assert_int_eq(bus_conn_queue_report(c, topic, &rep, err, sizeof(err)), 0);
    int active = json_is_true(
        json_object_get(json_array_get(json_object_get(rep, "consumers"), 0), "active"));
    json_decref(rep);
    return active;
}

static int x_inactive(void *arg)
{
    return !consumer_active(arg, "w.live.x_v1");
}

static void publish(struct bus_conn *c, const char *topic, const char *id, int64_t ts,
                    uint64_t seq)
{
    char err[300];
    struct qmtl_value v = qmtl_number((double)seq);
    ck_assert_msg(bus_conn_publish(c, topic, id, ts, seq, &v, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(bus_conn_flush(c, 2000, err, sizeof(err)) == 0, "%s", err);
}

/* A joined queue the DAG manager dropped: a newer list of a query matching it, without it,
 * removes its node in one DAG change (the other nodes and the consumer's window stay) and
 * stops its consumer; older lists neither remove nor join it again; a newer list that
 * holds it again (the queue revived, a new stream) joins it again from its first value.
 * The execution domain of the submission answer filters the events. */
START_TEST(test_leave)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    ck_assert(bus_conn_ensure_stream(c, "w.live.x_v1", 0, NULL, err, sizeof(err)) == 0);
    ck_assert(bus_conn_ensure_stream(c, "w.live.y_v1", 0, NULL, err, sizeof(err)) == 0);
    uint32_t mom = node_named("momentum")->idx;
    json_t *ack = json_pack("{s:{s:[]}, s:s, s:i}", "queue_map", graph_node(r.h.g, mom)->id,
                            "execution_domain", "live", "queue_generation", 3);
    ck_assert_int_eq(bus_tagq_plan(tq, 0, ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(bus_tagq_start(tq, c, "w", err, sizeof(err)) == 0, "%s", err);
    json_t *ev = update_of(5, json_pack("[oo]", entry("w.live.x_v1", X_ID, "momentum", 60),
                                        entry("w.live.y_v1", Y_ID, "momentum", 60)));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 2);
    json_decref(ev);
    publish(c, "w.live.x_v1", X_ID, 60, 1);
    publish(c, "w.live.y_v1", Y_ID, 120, 1);
    want = 2;
    natst_loop_until(base, seen_enough, tq);
    ck_assert_int_eq(collected, 2);
    ck_assert(consumer_active(c, "w.live.x_v1"));
    uint32_t coll = node_named("collect")->idx;
    uint32_t win = sched_node(r.h.s, coll)->in_ring1->w.count;
    ck_assert_uint_ge(win, 1);

    /* another domain's list, and a list older than the one that held X: nothing leaves */
    ev = update_of(9, json_pack("[o]", entry("w.live.y_v1", Y_ID, "momentum", 60)));
    json_object_set_new(ev, "execution_domain", json_string("backtest"));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0);
    json_decref(ev);
    ev = update_of(4, json_pack("[o]", entry("w.live.y_v1", Y_ID, "momentum", 60)));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0);
    json_decref(ev);
    ck_assert_ptr_nonnull(graph_find(r.h.g, X_ID));

    /* generation 6 without X: X leaves, in one change; Y, the query, its consumer stay */
    size_t n0 = graph_count(r.h.g);
    ev = update_of(6, json_pack("[o]", entry("w.live.y_v1", Y_ID, "momentum", 60)));
    ck_assert_msg(bus_tagq_update(tq, ev, err, sizeof(err)) == 0, "%s", err);
    json_decref(ev);
    ck_assert_ptr_null(graph_find(r.h.g, X_ID));
    ck_assert_uint_eq(graph_count(r.h.g), n0 - 1);
    ck_assert_ptr_nonnull(graph_find(r.h.g, Y_ID));
    ck_assert_uint_eq(node_named("momentum")->n_in, 1);
    ck_assert_uint_eq(node_named("momentum")->in[0], graph_find(r.h.g, Y_ID)->idx);
    ck_assert_uint_eq(sched_node(r.h.s, node_named("collect")->idx)->in_ring1->w.count, win);
    struct bus_tagq_stats st;
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.joined, 1);
    ck_assert_uint_eq(st.left, 1);
    natst_loop_until(base, x_inactive, c); /* its consumer was stopped */
    publish(c, "w.live.x_v1", X_ID, 180, 2); /* not fed: Y's value is the marker */
    publish(c, "w.live.y_v1", Y_ID, 240, 2);
    want = 3;
    natst_loop_until(base, seen_enough, tq);
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.fed, 3);
    ck_assert_int_eq(collected, 3);

    /* a list older than the removal that still holds X: not joined again */
    ev = update_of(5, json_pack("[oo]", entry("w.live.x_v1", X_ID, "momentum", 60),
                                entry("w.live.y_v1", Y_ID, "momentum", 60)));
    ck_assert_int_eq(bus_tagq_update(tq, ev, err, sizeof(err)), 0);
    json_decref(ev);
    ck_assert_ptr_null(graph_find(r.h.g, X_ID));

    /* X revived (a new stream, numbered from 1): joined again, its values fed */
    ck_assert(bus_conn_delete_stream(c, "w.live.x_v1", err, sizeof(err)) == 0);
    ck_assert(bus_conn_ensure_stream(c, "w.live.x_v1", 0, NULL, err, sizeof(err)) == 0);
    ev = update_of(7, json_pack("[oo]", entry("w.live.x_v1", X_ID, "momentum", 60),
                                entry("w.live.y_v1", Y_ID, "momentum", 60)));
    ck_assert_msg(bus_tagq_update(tq, ev, err, sizeof(err)) == 1, "%s", err);
    json_decref(ev);
    ck_assert_ptr_nonnull(graph_find(r.h.g, X_ID));
    ck_assert_uint_eq(node_named("momentum")->n_in, 2);
    publish(c, "w.live.x_v1", X_ID, 300, 1);
    want = 4;
    natst_loop_until(base, seen_enough, tq);
    bus_tagq_stats(tq, &st);
    ck_assert_uint_eq(st.fed, 4);
    ck_assert_uint_eq(st.joined, 2);
    ck_assert_int_eq(collected, 4);
    bus_tagq_stop(tq);
    bus_conn_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_tagq");
    TCase *tc = tcase_create("bus_tagq");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_join);
    tcase_add_test(tc, test_consume);
    tcase_add_test(tc, test_leave);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
