/* bus_codec: the documented byte layout, a round trip of every value type, refusals of
 * hostile messages (each naming its field), the Nats-Msg-Id and the topic-derived names. */
#include "bus_codec.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NID "blake3:c9a99a2e332219e484d15e60e0bf8f0e92396963f86a54bb249382f17139674b"

static struct bus_msg round_trip(const struct qmtl_value *v, int64_t ts, uint64_t seq)
{
    static unsigned char buf[4096];
    char err[160] = "";
    size_t n = bus_encode(NID, ts, seq, v, buf, sizeof(buf), err, sizeof(err));
    ck_assert_msg(n > 0, "encode failed: %s", err);
    ck_assert_uint_eq(n, bus_encoded_size(NID, v));
    struct bus_msg m;
    ck_assert_msg(bus_decode(buf, n, &m, err, sizeof(err)) == 0, "decode failed: %s", err);
    ck_assert_str_eq(m.node_id, NID);
    ck_assert_int_eq(m.ts, ts);
    ck_assert_uint_eq(m.seq, seq);
    ck_assert_int_eq(m.value.type, v->type);
    return m;
}

START_TEST(test_layout_number)
{
    /* The documented layout, byte by byte, for a short NodeID and a number. */
    struct qmtl_value v = qmtl_number(1.5);
    unsigned char buf[64];
    size_t n = bus_encode("ab", 60, 7, &v, buf, sizeof(buf), NULL, 0);
    static const unsigned char want[] = {
        'Q', 'B', 1, QMTL_T_NUMBER, 0, 0, 0, 0, 0, 0, 0, 60, /* ts */
        0,   0,   0, 0,             0, 0, 0, 7,              /* seq */
        2,   'a', 'b',                                       /* NodeID */
        0x3f, 0xf8, 0, 0, 0, 0, 0, 0 /* 1.5 */};
    ck_assert_uint_eq(n, sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_round_trip_every_type)
{
    struct qmtl_value v = qmtl_number(-0.125);
    ck_assert(round_trip(&v, 1700000000, 1).value.as.number == -0.125);
    v = qmtl_number(NAN);
    ck_assert(isnan(round_trip(&v, 0, 2).value.as.number));

    v = qmtl_none();
    v.type = QMTL_T_INT;
    v.as.integer = INT64_MIN + 3;
    ck_assert(round_trip(&v, -60, UINT64_MAX).value.as.integer == INT64_MIN + 3);

    v = qmtl_none();
    v.type = QMTL_T_BOOL;
    v.as.boolean = 1;
    ck_assert_int_eq(round_trip(&v, 5, 3).value.as.boolean, 1);

    v = qmtl_none();
    v.type = QMTL_T_BAR;
    v.as.bar = (struct qmtl_bar){1, 2, 0.5, 1.25, 1e9};
    struct bus_msg m = round_trip(&v, 120, 4);
    ck_assert(m.value.as.bar.open == 1 && m.value.as.bar.high == 2 && m.value.as.bar.low == 0.5 &&
              m.value.as.bar.close == 1.25 && m.value.as.bar.volume == 1e9);

    v = qmtl_signal_value(QMTL_SELL, -0.75);
    v.as.signal.strength = 0.25;
    m = round_trip(&v, 180, 5);
    ck_assert(m.value.as.signal.action == QMTL_SELL && m.value.as.signal.target == -0.75 &&
              m.value.as.signal.strength == 0.25);

    v = qmtl_none();
    v.type = QMTL_T_ORDER;
    v.as.order.side = QMTL_SIDE_SELL;
    v.as.order.quantity = 3;
    v.as.order.price = 101.5;
    m = round_trip(&v, 240, 6);
    ck_assert(m.value.as.order.side == QMTL_SIDE_SELL && m.value.as.order.quantity == 3 &&
              m.value.as.order.price == 101.5);

    v = qmtl_none();
    v.type = QMTL_T_JSON;
    v.as.json = "{\"k\":[1,\"\xc3\xa9\"]}";
    m = round_trip(&v, 300, 7);
    ck_assert_uint_eq(m.json_len, strlen(v.as.json));
    ck_assert_mem_eq(m.value.as.json, v.as.json, m.json_len);
}
END_TEST

START_TEST(test_encode_refusals)
{
    unsigned char buf[64];
    char err[160];
    struct qmtl_value v = qmtl_none();
    ck_assert_uint_eq(bus_encode(NID, 0, 1, &v, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "type 0 cannot be sent"));
    v = qmtl_number(1);
    ck_assert_uint_eq(bus_encode("", 0, 1, &v, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "NodeID"));
    ck_assert_uint_eq(bus_encode("a b", 0, 1, &v, buf, sizeof(buf), err, sizeof(err)), 0);
    char longid[BUS_NODE_ID_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ck_assert_uint_eq(bus_encoded_size(longid, &v), 0);
    longid[BUS_NODE_ID_MAX] = '\0'; /* exactly the maximum is fine */
    ck_assert_uint_eq(bus_encoded_size(longid, &v), BUS_HEADER_LEN + BUS_NODE_ID_MAX + 8);
    ck_assert_uint_eq(bus_encode(NID, 0, 1, &v, buf, 20, err, sizeof(err)), 0); /* small buffer */
    ck_assert_ptr_nonnull(strstr(err, "bytes needed"));
    v.type = QMTL_T_JSON;
    v.as.json = NULL;
    ck_assert_uint_eq(bus_encoded_size(NID, &v), 0);
    v.type = 42;
    ck_assert_uint_eq(bus_encoded_size(NID, &v), 0);
}
END_TEST

/* Decode 'buf' expecting a refusal whose message names 'what'. */
static void expect_refused(const unsigned char *buf, size_t len, const char *what)
{
    struct bus_msg m;
    char err[200] = "";
    ck_assert_int_eq(bus_decode(buf, len, &m, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' does not mention '%s'", err, what);
}

START_TEST(test_decode_refusals)
{
    unsigned char good[128], b[128];
    struct qmtl_value v = qmtl_number(2);
    size_t n = bus_encode("node", 60, 1, &v, good, sizeof(good), NULL, 0);
    ck_assert_uint_gt(n, 0);

    expect_refused(good, 10, "shorter than a header");
    memcpy(b, good, n);
    b[0] = 'X';
    expect_refused(b, n, "'magic'");
    memcpy(b, good, n);
    b[2] = 2;
    expect_refused(b, n, "'version'");
    memcpy(b, good, n);
    b[3] = 99;
    expect_refused(b, n, "'type'");
    memcpy(b, good, n);
    b[3] = QMTL_T_NONE;
    expect_refused(b, n, "'type'");
    memcpy(b, good, n);
    b[20] = 0;
    expect_refused(b, n, "'node_id'");
    memcpy(b, good, n);
    b[20] = 120; /* longer than the message */
    expect_refused(b, n, "'node_id'");
    memcpy(b, good, n);
    b[22] = '\n';
    expect_refused(b, n, "'node_id'");
    expect_refused(good, n - 1, "'value'"); /* truncated payload */
    memcpy(b, good, n);
    b[n] = 0;
    expect_refused(b, n + 1, "'value'"); /* trailing byte */

    v.type = QMTL_T_BOOL;
    v.as.boolean = 1;
    n = bus_encode("node", 60, 1, &v, b, sizeof(b), NULL, 0);
    b[n - 1] = 2;
    expect_refused(b, n, "bool");

    v.type = QMTL_T_ORDER;
    v.as.order.side = QMTL_SIDE_BUY;
    v.as.order.quantity = 1;
    v.as.order.price = 1;
    n = bus_encode("node", 60, 1, &v, b, sizeof(b), NULL, 0);
    b[BUS_HEADER_LEN + 4 + 3] = 0; /* side 0 */
    expect_refused(b, n, "order side");

    v.type = QMTL_T_JSON;
    v.as.json = "[1,2]";
    n = bus_encode("node", 60, 1, &v, b, sizeof(b), NULL, 0);
    unsigned char j[128];
    memcpy(j, b, n);
    j[n - 1] = '}'; /* "[1,2}" */
    expect_refused(j, n, "invalid JSON");
    memcpy(j, b, n);
    j[n - 2] = 0xff; /* not UTF-8 */
    expect_refused(j, n, "invalid JSON");
    memcpy(j, b, n);
    j[BUS_HEADER_LEN + 4 + 3] = 9; /* length says 9, 5 follow */
    expect_refused(j, n, "JSON length");
    expect_refused(b, BUS_HEADER_LEN + 4 + 2, "JSON length missing");
}
END_TEST

START_TEST(test_msg_id)
{
    char id[BUS_MSG_ID_MAX];
    ck_assert_int_eq(bus_msg_id(NID, 42, id, sizeof(id)), (int)strlen(NID) + 3);
    ck_assert_str_eq(id, NID ":42");
    char longid[BUS_NODE_ID_MAX + 1];
    memset(longid, 'x', BUS_NODE_ID_MAX);
    longid[BUS_NODE_ID_MAX] = '\0';
    ck_assert_int_gt(bus_msg_id(longid, UINT64_MAX, id, sizeof(id)), 0); /* the max fits */
    char small[8];
    ck_assert_int_eq(bus_msg_id(NID, 1, small, sizeof(small)), -1);
}
END_TEST

START_TEST(test_names)
{
    char s[BUS_NAME_MAX];
    ck_assert_int_eq(bus_subject("demo.live.btc_sma_builti_v1.2", s, sizeof(s)), 0);
    ck_assert_str_eq(s, "qmtl.q.demo.live.btc_sma_builti_v1.2");
    ck_assert_int_eq(bus_stream_name("demo.live.btc_sma_builti_v1.2", s, sizeof(s)), 0);
    ck_assert_str_eq(s, "QMTL_Q_demo~live~btc_sma_builti_v1~2");
    ck_assert_int_eq(bus_stream_name("any_StreamInput_74234e_v1", s, sizeof(s)), 0);
    ck_assert_str_eq(s, "QMTL_Q_any_StreamInput_74234e_v1");
    /* wildcards, spaces, empty tokens and an empty topic are refused */
    static const char *const bad[] = {"", "a.*", "a.>", "a b", ".a", "a.", "a..b", "a/b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(bus_subject(bad[i], s, sizeof(s)) == -1, "subject of '%s'", bad[i]);
        ck_assert_msg(bus_stream_name(bad[i], s, sizeof(s)) == -1, "stream of '%s'", bad[i]);
    }
    ck_assert_int_eq(bus_subject("abc", s, 8), -1); /* does not fit */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_codec");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_layout_number);
    tcase_add_test(tc, test_round_trip_every_type);
    suite_add_tcase(s, tc);
    tc = tcase_create("refusals");
    tcase_add_test(tc, test_encode_refusals);
    tcase_add_test(tc, test_decode_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("names");
    tcase_add_test(tc, test_msg_id);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
