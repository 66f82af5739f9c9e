/* bus_batcher: which outputs go together and when a batch goes (full, not a continuation,
 * end of the loop batch, flush), the Nats-Msg-Id of a batch, refusals, a refused send. No
 * server: the send function records what it is given. */
#include "bus_batcher.h"

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"

struct sent {
    char subject[BUS_NAME_MAX];
    char id[BUS_MSG_ID_MAX];
    uint32_t outputs;
    uint64_t first_seq;
    size_t len;
    uint8_t version;
    unsigned char state[8]; /* the state the message carries (state_len bytes) */
    uint32_t state_len;
};

static struct sent log_[64];
static int n_sent, refuse;

static int record(void *arg, const char *subject, const char *msg_id, const unsigned char *data,
                  size_t len, uint32_t outputs)
{
    (void)arg;
    struct bus_reader r;
    char err[200];
    ck_assert_msg(bus_reader_open(&r, data, len, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(r.count, outputs);
    if (n_sent < 64) {
        struct sent *s = &log_[n_sent];
        snprintf(s->subject, sizeof(s->subject), "%s", subject);
        snprintf(s->id, sizeof(s->id), "%s", msg_id);
        s->outputs = outputs;
        s->first_seq = r.first_seq;
        s->len = len;
        s->version = r.version;
        s->state_len = r.state_len;
        if (r.state_len)
            memcpy(s->state, r.state, r.state_len < 8 ? r.state_len : 8);
    }
    n_sent++;
    return refuse ? -1 : 0;
}

static struct event_base *base;
static struct bus_batcher *b;

static void setup(void)
{
    n_sent = refuse = 0;
    base = event_base_new();
    b = bus_batcher_new(base, record, NULL);
    ck_assert_ptr_nonnull(b);
}

static void teardown(void)
{
    bus_batcher_free(b);
    event_base_free(base);
}

static void put(const char *topic, const char *id, uint64_t seq)
{
    struct qmtl_value v = qmtl_number((double)seq);
    char err[200];
    ck_assert_msg(bus_batcher_put(b, topic, id, 60 * (int64_t)seq, seq, &v, err, sizeof(err)) == 0,
                  "%s", err);
}

/* The state given with a batch's last output closes it (version 3); a batch whose last
 * output came without one is version 2; a state over the limit is refused. */
START_TEST(test_state)
{
    struct qmtl_value v = qmtl_number(1);
    char err[200];
    const unsigned char a[3] = {1, 1, 1}, c[3] = {2, 2, 2};
    ck_assert_int_eq(bus_batcher_put_state(b, "w.a_v1", NID, 60, 1, &v, a, 3, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bus_batcher_put_state(b, "w.a_v1", NID, 120, 2, &v, c, 3, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bus_batcher_flush(b), 0);
    ck_assert_int_eq(n_sent, 1);
    ck_assert_uint_eq(log_[0].outputs, 2);
    ck_assert_int_eq(log_[0].version, 3);
    ck_assert_uint_eq(log_[0].state_len, 3);
    ck_assert_mem_eq(log_[0].state, c, 3);
    ck_assert_int_eq(bus_batcher_put_state(b, "w.a_v1", NID, 180, 3, &v, a, 3, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bus_batcher_put(b, "w.a_v1", NID, 240, 4, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(bus_batcher_flush(b), 0);
    ck_assert_int_eq(n_sent, 2);
    ck_assert_int_eq(log_[1].version, 2);
    ck_assert_uint_eq(log_[1].state_len, 0);
    static unsigned char big[BUS_STATE_MAX + 1];
    ck_assert_int_eq(bus_batcher_put_state(b, "w.a_v1", NID, 300, 5, &v, big, sizeof(big), err,
                                           sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "at most"));
    ck_assert_int_eq(bus_batcher_flush(b), 0);
    ck_assert_int_eq(n_sent, 2); /* nothing was added */
}
END_TEST

START_TEST(test_end_of_loop_batch)
{
    put("w.a_v1", NID, 1);
    put("w.a_v1", NID, 2);
    put("w.b_v1", "other", 7);
    ck_assert_int_eq(n_sent, 0); /* nothing before the loop has run */
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(n_sent, 2);
    ck_assert_str_eq(log_[0].subject, "qmtl.q.w.a_v1");
    ck_assert_str_eq(log_[0].id, NID ":1-2");
    ck_assert_uint_eq(log_[0].outputs, 2);
    ck_assert_str_eq(log_[1].subject, "qmtl.q.w.b_v1");
    ck_assert_str_eq(log_[1].id, "other:7-7");
    /* the next output opens a new batch, sent at the end of the next loop batch */
    put("w.a_v1", NID, 3);
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(n_sent, 3);
    ck_assert_str_eq(log_[2].id, NID ":3-3");
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(n_sent, 3); /* nothing empty is ever sent */
}
END_TEST

/* An output puts in a callback goes when the callbacks already due have run, in the
 * same pass of the loop, without a timer. */
static void cb_put(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    put("w.a_v1", NID, (uint64_t)(uintptr_t)arg);
    ck_assert_int_eq(n_sent, 0);
}

START_TEST(test_sent_after_the_callbacks_due)
{
    struct event *e1 = event_new(base, -1, 0, cb_put, (void *)(uintptr_t)1);
    struct event *e2 = event_new(base, -1, 0, cb_put, (void *)(uintptr_t)2);
    event_active(e1, EV_TIMEOUT, 1);
    event_active(e2, EV_TIMEOUT, 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(n_sent, 1);
    ck_assert_str_eq(log_[0].id, NID ":1-2");
    event_free(e1);
    event_free(e2);
}
END_TEST

START_TEST(test_not_a_continuation)
{
    put("w.a_v1", NID, 1);
    put("w.a_v1", NID, 2);
    put("w.a_v1", NID, 5); /* a jump: 1-2 goes, 5 opens */
    ck_assert_int_eq(n_sent, 1);
    ck_assert_str_eq(log_[0].id, NID ":1-2");
    put("w.a_v1", NID, 4); /* backwards */
    ck_assert_int_eq(n_sent, 2);
    ck_assert_str_eq(log_[1].id, NID ":5-5");
    put("w.a_v1", "other", 5); /* another node on the topic */
    ck_assert_int_eq(n_sent, 3);
    ck_assert_str_eq(log_[2].id, NID ":4-4");
    ck_assert_int_eq(bus_batcher_flush(b), 0);
    ck_assert_int_eq(n_sent, 4);
    ck_assert_str_eq(log_[3].id, "other:5-5");
}
END_TEST

START_TEST(test_full_batches)
{
    for (uint64_t seq = 1; seq <= 2 * BUS_BATCHER_OUTPUTS + 1; seq++)
        put("w.a_v1", NID, seq);
    ck_assert_int_eq(n_sent, 2);
    ck_assert_uint_eq(log_[0].outputs, BUS_BATCHER_OUTPUTS);
    ck_assert_uint_eq(log_[1].first_seq, BUS_BATCHER_OUTPUTS + 1);
    bus_batcher_flush(b);
    ck_assert_int_eq(n_sent, 3);
    ck_assert_uint_eq(log_[2].outputs, 1);
    /* bytes: JSON values of 20,000 bytes, three fit under BUS_BATCHER_BYTES */
    size_t m = 20000;
    char *text = malloc(m + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, ' ', m);
    text[0] = '1';
    text[m] = '\0';
    struct qmtl_value j = qmtl_none();
    j.type = QMTL_T_JSON;
    j.as.json = text;
    char err[200];
    for (uint64_t seq = 1; seq <= 4; seq++)
        ck_assert(bus_batcher_put(b, "w.j_v1", NID, 0, seq, &j, err, sizeof(err)) == 0);
    ck_assert_int_eq(n_sent, 4);
    ck_assert_uint_eq(log_[3].outputs, 3);
    ck_assert_uint_le(log_[3].len, BUS_BATCHER_BYTES);
    /* one value larger than a batch still goes, alone */
    free(text);
    m = BUS_BATCHER_BYTES + 10;
    text = malloc(m + 1);
    memset(text, ' ', m);
    text[0] = '1';
    text[m] = '\0';
    j.as.json = text;
    ck_assert(bus_batcher_put(b, "w.j_v1", NID, 0, 5, &j, err, sizeof(err)) == 0);
    ck_assert_int_eq(n_sent, 5); /* 4 went to make room */
    bus_batcher_flush(b);
    ck_assert_int_eq(n_sent, 6);
    ck_assert_uint_eq(log_[5].outputs, 1);
    ck_assert_uint_gt(log_[5].len, BUS_BATCHER_BYTES);
    free(text);
}
END_TEST

START_TEST(test_refusals)
{
    char err[200];
    struct qmtl_value v = qmtl_number(1);
    ck_assert_int_eq(bus_batcher_put(b, "bad topic", NID, 0, 1, &v, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad topic"));
    ck_assert_int_eq(bus_batcher_put(b, "w.a_v1", "a b", 0, 1, &v, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "NodeID"));
    ck_assert_int_eq(bus_batcher_put(b, "w.a_v1", NID, 0, 0, &v, err, sizeof(err)), -1);
    v = qmtl_none();
    ck_assert_int_eq(bus_batcher_put(b, "w.a_v1", NID, 0, 1, &v, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot be sent"));
    /* a refused value leaves the open batch as it was */
    put("w.a_v1", NID, 1);
    ck_assert_int_eq(bus_batcher_put(b, "w.a_v1", NID, 0, 2, &v, err, sizeof(err)), -1);
    put("w.a_v1", NID, 2);
    /* a send refused: counted by flush, the batch is gone */
    refuse = 1;
    put("w.b_v1", NID, 1);
    ck_assert_int_eq(bus_batcher_flush(b), 2);
    ck_assert_int_eq(n_sent, 2);
    ck_assert_str_eq(log_[0].id, NID ":1-2");
    ck_assert_int_eq(bus_batcher_flush(b), 0);
    ck_assert_int_eq(n_sent, 2);
}
END_TEST

START_TEST(test_many_topics)
{
    char topic[32];
    for (int i = 0; i < 100; i++) {
        snprintf(topic, sizeof(topic), "w.t%d_v1", i);
        put(topic, NID, 1);
        put(topic, NID, 2);
    }
    ck_assert_int_eq(n_sent, 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(n_sent, 100);
    for (int i = 0; i < 64; i++) {
        snprintf(topic, sizeof(topic), "qmtl.q.w.t%d_v1", i);
        ck_assert_str_eq(log_[i].subject, topic); /* in the order they opened */
        ck_assert_uint_eq(log_[i].outputs, 2);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_batcher");
    TCase *tc = tcase_create("batcher");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_end_of_loop_batch);
    tcase_add_test(tc, test_state);
    tcase_add_test(tc, test_sent_after_the_callbacks_due);
    tcase_add_test(tc, test_not_a_continuation);
    tcase_add_test(tc, test_full_batches);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_many_topics);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
