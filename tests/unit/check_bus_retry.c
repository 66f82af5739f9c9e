/* bus_retry through bus_nats against a real nats-server (JetStream, loopback, own store,
 * killed at the end). A stream missing for a while answers like a stream without a leader
 * ("no responders"): outputs published meanwhile, batch after batch, wait in the host and
 * are stored, in their order, once the stream is there; nothing is counted as lost. A
 * stream whose last message is another writer's takes the next message all the same (the
 * order is not at stake). The chain follows the stream's last message on a restart.
 * Skipped (passes with a note) without nats-server. */
#include "bus_nats.h"
#include "bus_retry.h"
#include "log.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <nats/nats.h>
#include <stdio.h>
#include <string.h>

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"
#define TOPIC "w.live.any_late_v1"

NATST_FIXTURE()

struct seen {
    uint64_t seq[64];
    int n;
};

static void record(void *arg, const struct bus_msg *m)
{
    struct seen *s = arg;
    if (s->n < 64)
        s->seq[s->n++] = m->seq;
}

static int want;

static int reached(void *arg)
{
    return ((struct seen *)arg)->n >= want;
}

/* One output of NID, then a turn of the loop: its own batch (one message). */
static void publish_one(struct bus_conn *c, uint64_t seq)
{
    char err[300];
    struct qmtl_value v = qmtl_number((double)seq);
    ck_assert_int_eq(bus_conn_publish(c, TOPIC, NID, 60 * (int64_t)seq, seq, &v, err, sizeof(err)),
                     0);
    struct timeval t = {0, 30000};
    event_base_loopexit(base, &t);
    event_base_dispatch(base);
}

START_TEST(test_stream_late_then_in_order)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    char err[300];
    /* no stream yet: each message fails at once and waits */
    for (uint64_t seq = 1; seq <= 6; seq++)
        publish_one(c, seq);
    natst_settle(base); /* a few rounds of sending again, still nothing to store them */
    struct bus_conn *dm = natst_connect(&srv, base);
    ck_assert_int_eq(bus_conn_ensure_stream(dm, TOPIC, 0, NULL, err, sizeof(err)), 0);
    for (uint64_t seq = 7; seq <= 9; seq++)
        publish_one(c, seq);
    ck_assert_msg(bus_conn_flush(c, 5000, err, sizeof(err)) == 0, "%s", err);
    struct bus_conn_stats st;
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.publish_errors, 0);
    ck_assert_uint_eq(st.published, 9);

    /* stored once each, in order */
    struct seen s = {{0}, 0};
    ck_assert_int_eq(bus_conn_consume(dm, TOPIC, "r", record, &s, err, sizeof(err)), 0);
    want = 9;
    natst_loop_until(base, reached, &s);
    natst_settle(base);
    ck_assert_int_eq(s.n, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(s.seq[i], (uint64_t)i + 1);

    /* another writer's message last in the stream: the next one is stored all the same */
    natsConnection *raw = NULL;
    ck_assert_int_eq(natsConnection_ConnectTo(&raw, srv.url), NATS_OK);
    unsigned char buf[256];
    struct qmtl_value v = qmtl_number(10);
    size_t n = bus_encode(NID, 600, 10, &v, buf, sizeof(buf), NULL, 0);
    ck_assert_int_eq(natsConnection_Publish(raw, "qmtl.q." TOPIC, buf, (int)n), NATS_OK);
    natsConnection_Flush(raw);
    natsConnection_Destroy(raw);
    publish_one(c, 11);
    ck_assert_msg(bus_conn_flush(c, 5000, err, sizeof(err)) == 0, "%s", err);
    want = 11;
    natst_loop_until(base, reached, &s);
    ck_assert_int_eq(s.n, 11);
    ck_assert_uint_eq(s.seq[10], 11);
    bus_conn_free(c);

    /* a publisher starting on the stream follows its last message (no refusal, no wait) */
    c = natst_connect(&srv, base);
    int64_t ts = 0;
    uint64_t seq = 0;
    ck_assert_int_eq(bus_conn_last_output(c, TOPIC, &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, 11);
    publish_one(c, 12);
    ck_assert_msg(bus_conn_flush(c, 2000, err, sizeof(err)) == 0, "%s", err);
    want = 12;
    natst_loop_until(base, reached, &s);
    ck_assert_int_eq(s.n, 12);
    bus_conn_stats(c, &st);
    ck_assert_uint_eq(st.publish_errors, 0);
    bus_conn_free(c);
    bus_conn_free(dm);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("retry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_stream_late_then_in_order);
    return natst_run("bus_retry", tc);
}
