/* bus_nats against a real nats-server (JetStream, loopback, own store, killed at the end):
 * streams created then checked, publish + durable consume on the loop thread in order,
 * duplicates dropped by Nats-Msg-Id, a restarted consumer resumes after what it
 * acknowledged, hostile messages (and whole batches holding one) refused, outputs
 * batched per message and acknowledged in bulk. Skipped (passes with a note) without nats-server. */
#include "bus_batcher.h"
#include "bus_nats.h"
#include "log.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"

NATST_FIXTURE()

static struct bus_conn *connect_bus(void)
{
    return natst_connect(&srv, base);
}

struct seen {
    struct bus_msg m[16];
    char json[16][64];
    int n;
};

static void record(void *arg, const struct bus_msg *m)
{
    struct seen *s = arg;
    if (s->n < 16) {
        s->m[s->n] = *m;
        if (m->value.type == QMTL_T_JSON)
            snprintf(s->json[s->n], sizeof(s->json[0]), "%.*s", (int)m->json_len, m->value.as.json);
        s->n++;
    }
}

static int want_n;

static int reached(void *arg)
{
    return ((struct seen *)arg)->n >= want_n;
}

/* Run the loop until 'want' messages arrived or 5 s passed. */
static void wait_for(struct seen *s, int want)
{
    want_n = want;
    natst_loop_until(base, reached, s);
}

/* Run the loop a little and expect nothing more. */
static void settle(void)
{
    struct timeval t = {0, 300000};
    event_base_loopexit(base, &t);
    event_base_dispatch(base);
}

#define SKIP_WITHOUT_SERVER() NATST_SKIP_WITHOUT_SERVER(&srv)

START_TEST(test_streams)
{
    SKIP_WITHOUT_SERVER();
    struct bus_conn *c = connect_bus();
    char err[300];
    int created = -1;
    ck_assert_msg(
        bus_conn_ensure_stream(c, "w.live.btc_sma_builti_v1", 60, &created, err, sizeof(err)) == 0,
        "%s", err);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(
        bus_conn_ensure_stream(c, "w.live.btc_sma_builti_v1", 60, &created, err, sizeof(err)), 0);
    ck_assert_int_eq(created, 0); /* checked, not created again */
    ck_assert_int_eq(bus_conn_ensure_stream(c, "a..b", 60, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "a..b"));
    bus_conn_free(c);
    /* an unreachable server is one clear line */
    ck_assert_ptr_null(bus_conn_new(base, "nats://127.0.0.1:1", "x", 200, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot connect to 'nats://127.0.0.1:1'"));
}
END_TEST

START_TEST(test_publish_consume_resume)
{
    SKIP_WITHOUT_SERVER();
    const char *topic = "w.live.any_sma_builti_v1";
    struct bus_conn *c = connect_bus();
    char err[300];
    ck_assert_int_eq(bus_conn_ensure_stream(c, topic, 0, NULL, err, sizeof(err)), 0);
    struct qmtl_value v = qmtl_number(1.5);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        v.as.number = (double)seq;
        ck_assert_msg(
            bus_conn_publish(c, topic, NID, 60 * (int64_t)seq, seq, &v, err, sizeof(err)) == 0,
            "%s", err);
    }
    ck_assert_msg(bus_conn_flush(c, 2000, err, sizeof(err)) == 0, "%s", err);
    /* a retried message (the same batch, 1-3): the stream drops it by its Nats-Msg-Id */
    v.as.number = 99;
    for (uint64_t seq = 1; seq <= 3; seq++)
        ck_assert_int_eq(bus_conn_publish(c, topic, NID, 60 * (int64_t)seq, seq, &v, err,
                                          sizeof(err)), 0);
    ck_assert_msg(bus_conn_flush(c, 2000, err, sizeof(err)) == 0, "%s", err);
    struct qmtl_value j = qmtl_none();
    j.type = QMTL_T_JSON;
    j.as.json = "{\"k\":1}";
    ck_assert_int_eq(bus_conn_publish(c, topic, NID, 240, 4, &j, err, sizeof(err)), 0);
    ck_assert_msg(bus_conn_flush(c, 2000, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(bus_conn_publish(c, "bad topic", NID, 0, 5, &v, err, sizeof(err)), -1);
    ck_assert_int_eq(bus_conn_consume(c, topic, "bad.name", record, NULL, err, sizeof(err)), -1);

    struct seen s = {0};
    ck_assert_msg(bus_conn_consume(c, topic, "host_b", record, &s, err, sizeof(err)) == 0, "%s",
                  err);
    wait_for(&s, 4);
    settle();
    ck_assert_int_eq(s.n, 4);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(s.m[i].node_id, NID);
        ck_assert_uint_eq(s.m[i].seq, (uint64_t)i + 1);
        ck_assert_int_eq(s.m[i].ts, 60 * (i + 1));
        ck_assert(s.m[i].value.as.number == (double)(i + 1));
    }
    ck_assert_int_eq(s.m[3].value.type, QMTL_T_JSON);
    ck_assert_str_eq(s.json[3], "{\"k\":1}");
    struct bus_conn_stats st;
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.published, 7); /* outputs handed to the stream */
    ck_assert_uint_eq(st.delivered, 4);
    bus_conn_free(c);

    /* a restarted consumer resumes after what it acknowledged */
    c = connect_bus();
    v.as.number = 5;
    ck_assert_int_eq(bus_conn_publish(c, topic, NID, 300, 5, &v, err, sizeof(err)), 0);
    struct seen again = {0};
    ck_assert_int_eq(bus_conn_consume(c, topic, "host_b", record, &again, err, sizeof(err)), 0);
    wait_for(&again, 1);
    settle();
    ck_assert_int_eq(again.n, 1);
    ck_assert_uint_eq(again.m[0].seq, 5);
    /* another durable consumer starts from the stream's first message */
    struct seen other = {0};
    ck_assert_int_eq(bus_conn_consume(c, topic, "host_c", record, &other, err, sizeof(err)), 0);
    wait_for(&other, 5);
    ck_assert_int_eq(other.n, 5);
    /* the report: 3 messages (1-3, 4, 5), two consumers, both caught up */
    json_t *rep = NULL;
    settle();
    ck_assert_msg(bus_conn_queue_report(c, topic, &rep, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(json_integer_value(json_object_get(rep, "messages")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(rep, "last_seq")), 3);
    json_t *cs = json_object_get(rep, "consumers");
    ck_assert_uint_eq(json_array_size(cs), 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(cs, i), "lag")), 0);
        ck_assert_int_eq(
            json_integer_value(json_object_get(json_array_get(cs, i), "acknowledged")), 3);
    }
    json_decref(rep);
    ck_assert_int_eq(bus_conn_queue_report(c, "w.live.none_v1", &rep, err, sizeof(err)), 1);
    ck_assert_ptr_null(rep);
    /* where a restarted publisher continues: the last output stored */
    int64_t lts = 0;
    uint64_t lseq = 0;
    ck_assert_int_eq(bus_conn_last_output(c, topic, &lts, &lseq, err, sizeof(err)), 0);
    ck_assert_uint_eq(lseq, 5);
    ck_assert_int_eq(lts, 300);
    ck_assert_int_eq(bus_conn_ensure_stream(c, "w.live.empty_v1", 0, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(bus_conn_last_output(c, "w.live.empty_v1", &lts, &lseq, err, sizeof(err)), 1);
    bus_conn_free(c);
}
END_TEST

START_TEST(test_hostile_message_refused)
{
    SKIP_WITHOUT_SERVER();
    const char *topic = "w.live.any_x_v1";
    struct bus_conn *c = connect_bus();
    char err[300];
    ck_assert_int_eq(bus_conn_ensure_stream(c, topic, 0, NULL, err, sizeof(err)), 0);
    /* raw bytes on the subject from a plain client: not a qmtl message */
    natsConnection *raw = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    ck_assert_int_eq(natsConnection_PublishString(raw, "qmtl.q.w.live.any_x_v1", "garbage"),
                     NATS_OK);
    /* a batch whose second output is hostile: refused whole, its first output not fed */
    struct qmtl_value v = qmtl_number(6);
    unsigned char b[256];
    size_t n = bus_batch_begin(NID, 1, b, sizeof(b), NULL, 0);
    n = bus_batch_add(b, n, sizeof(b), 0, &v, NULL, 0);
    size_t second = n;
    n = bus_batch_add(b, n, sizeof(b), 60, &v, NULL, 0);
    b[second] = 99; /* no such type */
    ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q.w.live.any_x_v1", b, (int)n), NATS_OK);
    natsConnection_Flush(raw);
    v.as.number = 7;
    ck_assert_int_eq(bus_conn_publish(c, topic, NID, 60, 1, &v, err, sizeof(err)), 0);
    struct seen s = {0};
    ck_assert_int_eq(bus_conn_consume(c, topic, "h", record, &s, err, sizeof(err)), 0);
    wait_for(&s, 1);
    settle();
    ck_assert_int_eq(s.n, 1);
    ck_assert(s.m[0].value.as.number == 7);
    struct bus_conn_stats st;
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.refused, 2);
    ck_assert_uint_eq(st.delivered, 1);
    natsConnection_Destroy(raw);
    bus_conn_free(c);
}
END_TEST

struct in_order {
    uint64_t n, out_of_order;
};

static void count_in_order(void *arg, const struct bus_msg *m)
{
    struct in_order *o = arg;
    if (m->seq != o->n + 1 || m->ts != 60 * (int64_t)m->seq || m->value.as.number != (double)m->seq)
        o->out_of_order++;
    o->n++;
}

static uint64_t want_outputs;

static int got_outputs(void *arg)
{
    return ((struct in_order *)arg)->n >= want_outputs;
}

/* Outputs are batched: up to BUS_BATCHER_OUTPUTS per message; a lone output goes when the
 * loop has run the callbacks due (no timer, no explicit flush); consumers get every output
 * once, in order, and acknowledge whole batches (AckAll on the last message). */
START_TEST(test_batches_and_bulk_acks)
{
    SKIP_WITHOUT_SERVER();
    const char *topic = "w.live.any_batch_v1";
    struct bus_conn *c = connect_bus();
    char err[300];
    ck_assert_int_eq(bus_conn_ensure_stream(c, topic, 0, NULL, err, sizeof(err)), 0);
    struct qmtl_value v = qmtl_number(0);
    /* 3000 outputs while the loop does not run: full batches go at once */
    for (uint64_t seq = 1; seq <= 3000; seq++) {
        v.as.number = (double)seq;
        ck_assert(bus_conn_publish(c, topic, NID, 60 * (int64_t)seq, seq, &v, err, sizeof(err)) ==
                  0);
    }
    struct bus_conn_stats st;
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.published, 2 * BUS_BATCHER_OUTPUTS);
    /* the rest goes at the end of the loop batch: one pass of the loop, no waiting */
    event_base_loop(base, EVLOOP_NONBLOCK);
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.published, 3000);
    /* a lone output, the same way */
    v.as.number = 3001;
    ck_assert(bus_conn_publish(c, topic, NID, 60 * 3001, 3001, &v, err, sizeof(err)) == 0);
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.published, 3000);
    event_base_loop(base, EVLOOP_NONBLOCK);
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.published, 3001);
    ck_assert_msg(bus_conn_flush(c, 5000, err, sizeof(err)) == 0, "%s", err);

    struct in_order o = {0};
    ck_assert_int_eq(bus_conn_consume(c, topic, "bulk", count_in_order, &o, err, sizeof(err)), 0);
    want_outputs = 3001;
    natst_loop_until(base, got_outputs, &o);
    settle();
    ck_assert_uint_eq(o.n, 3001);
    ck_assert_uint_eq(o.out_of_order, 0);
    /* four messages (1024, 1024, 952, 1), all acknowledged, nothing pending */
    json_t *rep = NULL;
    ck_assert_msg(bus_conn_queue_report(c, topic, &rep, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(json_integer_value(json_object_get(rep, "messages")), 4);
    json_t *bulk = json_array_get(json_object_get(rep, "consumers"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(bulk, "acknowledged")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(bulk, "ack_pending")), 0);
    json_decref(rep);
    /* where a restarted publisher continues: the last output of the last batch */
    int64_t lts = 0;
    uint64_t lseq = 0;
    ck_assert_int_eq(bus_conn_last_output(c, topic, &lts, &lseq, err, sizeof(err)), 0);
    ck_assert_uint_eq(lseq, 3001);
    ck_assert_int_eq(lts, 60 * 3001);
    bus_conn_free(c);
}
END_TEST

/* A durable consumer made before bulk acknowledgements (explicit acks) keeps its place:
 * its ack policy cannot change, so each message is acknowledged. */
START_TEST(test_consumer_made_before_bulk_acks)
{
    SKIP_WITHOUT_SERVER();
    const char *topic = "w.live.any_old_v1";
    struct bus_conn *c = connect_bus();
    char err[300];
    ck_assert_int_eq(bus_conn_ensure_stream(c, topic, 0, NULL, err, sizeof(err)), 0);
    natsConnection *raw = NULL;
    jsCtx *js = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, raw, NULL), NATS_OK);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "old";
    cc.DeliverSubject = "qmtl.d.QMTL_Q_w~live~any_old_v1.old";
    cc.AckPolicy = js_AckExplicit;
    jsErrCode je = 0;
    ck_assert_int_eq(js_AddConsumer(NULL, js, "QMTL_Q_w~live~any_old_v1", &cc, NULL, &je), NATS_OK);
    struct qmtl_value v = qmtl_number(0);
    for (uint64_t seq = 1; seq <= 3; seq++) { /* three messages of one output */
        v.as.number = (double)seq;
        ck_assert(bus_conn_publish(c, topic, NID, 60 * (int64_t)seq, seq, &v, err, sizeof(err)) ==
                  0);
        ck_assert_int_eq(bus_conn_flush(c, 2000, err, sizeof(err)), 0);
    }
    struct in_order o = {0};
    ck_assert_msg(bus_conn_consume(c, topic, "old", count_in_order, &o, err, sizeof(err)) == 0,
                  "%s", err);
    want_outputs = 3;
    natst_loop_until(base, got_outputs, &o);
    settle();
    ck_assert_uint_eq(o.n, 3);
    ck_assert_uint_eq(o.out_of_order, 0);
    json_t *rep = NULL;
    ck_assert_int_eq(bus_conn_queue_report(c, topic, &rep, err, sizeof(err)), 0);
    json_t *old = json_array_get(json_object_get(rep, "consumers"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(old, "acknowledged")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(old, "ack_pending")), 0);
    json_decref(rep);
    jsCtx_Destroy(js);
    natsConnection_Destroy(raw);
    bus_conn_free(c);
}
END_TEST

START_TEST(test_leases)
{
    SKIP_WITHOUT_SERVER();
    struct bus_conn *c = connect_bus();
    char err[300];
    uint64_t ra = 0, rb = 0;
    ck_assert_msg(bus_conn_lease_open(c, 60000, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(bus_conn_lease_open(c, 60000, err, sizeof(err)), 0); /* once is enough */
    char who[32] = "?";
    ck_assert_int_eq(bus_conn_lease_holder(c, "w.live.x_v1", who, sizeof(who), err, sizeof(err)),
                     0);
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.x_v1", "host-a", &ra, err, sizeof(err)), 1);
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.x_v1", "host-b", &rb, err, sizeof(err)), 0);
    ck_assert_int_eq(bus_conn_lease_holder(c, "w.live.x_v1", who, sizeof(who), err, sizeof(err)),
                     1);
    ck_assert_str_eq(who, "host-a");
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.x_v1", "host-a", &ra, err, sizeof(err)), 1);
    ck_assert_int_eq(bus_conn_lease_renew(c, "w.live.x_v1", "host-a", &ra, err, sizeof(err)), 1);
    bus_conn_lease_release(c, "w.live.x_v1", "host-b"); /* not b's: nothing happens */
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.x_v1", "host-b", &rb, err, sizeof(err)), 0);
    bus_conn_lease_release(c, "w.live.x_v1", "host-a");
    ck_assert_int_eq(bus_conn_lease_holder(c, "w.live.x_v1", who, sizeof(who), err, sizeof(err)),
                     0); /* given up: nobody */
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.x_v1", "host-b", &rb, err, sizeof(err)), 1);
    /* a's renewal now fails: the lease is b's */
    ck_assert_int_eq(bus_conn_lease_renew(c, "w.live.x_v1", "host-a", &ra, err, sizeof(err)), 0);
    ck_assert_int_eq(bus_conn_lease_renew(c, "w.live.x_v1", "host-b", &rb, err, sizeof(err)), 1);
    /* another key is independent */
    ck_assert_int_eq(bus_conn_lease_take(c, "w.live.y_v1", "host-a", &ra, err, sizeof(err)), 1);
    bus_conn_free(c);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("nats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_streams);
    tcase_add_test(tc, test_publish_consume_resume);
    tcase_add_test(tc, test_hostile_message_refused);
    tcase_add_test(tc, test_batches_and_bulk_acks);
    tcase_add_test(tc, test_consumer_made_before_bulk_acks);
    tcase_add_test(tc, test_leases);
    return natst_run("bus_nats", tc);
}
