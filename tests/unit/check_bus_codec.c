/* bus_codec: the documented byte layouts (version 1, one output; version 2, a batch), a
 * round trip of every value type in both, refusals of hostile messages (each naming its
 * field; a batch is refused whole), version 1 still read, the Nats-Msg-Ids and the
 * topic-derived names. */
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

/* ------------------------------------------------------------ version 2: batches */

START_TEST(test_batch_layout)
{
    /* The documented layout, byte by byte: NodeID "ab", sequences 7 and 8. */
    unsigned char buf[128];
    size_t n = bus_batch_begin("ab", 7, buf, sizeof(buf), NULL, 0);
    ck_assert_uint_eq(n, BUS_BATCH_HEADER_LEN(2));
    struct qmtl_value v = qmtl_number(1.5);
    n = bus_batch_add(buf, n, sizeof(buf), 60, &v, NULL, 0);
    v = qmtl_none();
    v.type = QMTL_T_BOOL;
    v.as.boolean = 1;
    n = bus_batch_add(buf, n, sizeof(buf), 120, &v, NULL, 0);
    static const unsigned char want[] = {
        'Q', 'B', 2, 2, 'a', 'b',                      /* magic, version, NodeID */
        0, 0, 0, 0, 0, 0, 0, 7,                        /* first sequence */
        0, 0, 0, 2,                                    /* two outputs */
        QMTL_T_NUMBER, 0, 0, 0, 0, 0, 0, 0, 60,        /* type, ts */
        0x3f, 0xf8, 0, 0, 0, 0, 0, 0,                  /* 1.5 */
        QMTL_T_BOOL, 0, 0, 0, 0, 0, 0, 0, 120, 1};     /* type, ts, true */
    ck_assert_uint_eq(n, sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));
    ck_assert_uint_eq(bus_batch_count(buf, n), 2);
}
END_TEST

/* One output of every type in one batch, read back in order with consecutive sequences. */
START_TEST(test_batch_round_trip)
{
    struct qmtl_value vals[8];
    vals[0] = qmtl_number(-0.125);
    vals[1] = qmtl_none();
    vals[1].type = QMTL_T_INT;
    vals[1].as.integer = INT64_MIN + 3;
    vals[2] = qmtl_none();
    vals[2].type = QMTL_T_BOOL;
    vals[3] = qmtl_none();
    vals[3].type = QMTL_T_BAR;
    vals[3].as.bar = (struct qmtl_bar){1, 2, 0.5, 1.25, 1e9};
    vals[4] = qmtl_signal_value(QMTL_SELL, -0.75);
    vals[5] = qmtl_none();
    vals[5].type = QMTL_T_ORDER;
    vals[5].as.order.side = QMTL_SIDE_BUY;
    vals[5].as.order.quantity = 3;
    vals[5].as.order.price = 101.5;
    vals[6] = qmtl_none();
    vals[6].type = QMTL_T_JSON;
    vals[6].as.json = "{\"k\":[1,\"\xc3\xa9\"]}";
    vals[7] = qmtl_number(NAN);
    unsigned char buf[1024];
    char err[200] = "";
    size_t n = bus_batch_begin(NID, UINT64_MAX - 7, buf, sizeof(buf), err, sizeof(err));
    ck_assert_msg(n > 0, "%s", err);
    for (int i = 0; i < 8; i++) {
        size_t next = bus_batch_add(buf, n, sizeof(buf), -60 + 60 * i, &vals[i], err, sizeof(err));
        ck_assert_msg(next == n + bus_batch_entry_size(&vals[i]), "output %d: %s", i, err);
        n = next;
    }
    struct bus_reader r;
    ck_assert_msg(bus_reader_open(&r, buf, n, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(r.version, 2);
    ck_assert_uint_eq(r.count, 8);
    ck_assert_uint_eq(r.first_seq, UINT64_MAX - 7);
    ck_assert_str_eq(r.node_id, NID);
    struct bus_msg m;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(bus_reader_next(&r, &m), 1);
        ck_assert_str_eq(m.node_id, NID);
        ck_assert_uint_eq(m.seq, UINT64_MAX - 7 + (uint64_t)i);
        ck_assert_int_eq(m.ts, -60 + 60 * i);
        ck_assert_int_eq(m.value.type, vals[i].type);
    }
    ck_assert_int_eq(bus_reader_next(&r, &m), 0);
    ck_assert_uint_eq(m.seq, UINT64_MAX); /* the last sequence there is */
    ck_assert(isnan(m.value.as.number));
    /* the values themselves, output by output */
    ck_assert_int_eq(bus_reader_open(&r, buf, n, err, sizeof(err)), 0);
    struct bus_msg o[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(bus_reader_next(&r, &o[i]), 1);
    ck_assert(o[0].value.as.number == -0.125);
    ck_assert(o[1].value.as.integer == INT64_MIN + 3);
    ck_assert_int_eq(o[2].value.as.boolean, 0);
    ck_assert(o[3].value.as.bar.low == 0.5 && o[3].value.as.bar.volume == 1e9);
    ck_assert(o[4].value.as.signal.action == QMTL_SELL && o[4].value.as.signal.target == -0.75);
    ck_assert(o[5].value.as.order.side == QMTL_SIDE_BUY && o[5].value.as.order.price == 101.5);
    ck_assert_uint_eq(o[6].json_len, strlen(vals[6].as.json));
    ck_assert_mem_eq(o[6].value.as.json, vals[6].as.json, o[6].json_len);
}
END_TEST

START_TEST(test_batch_encode_refusals)
{
    unsigned char buf[64] = {0};
    char err[160];
    ck_assert_uint_eq(bus_batch_begin("", 1, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "NodeID"));
    ck_assert_uint_eq(bus_batch_begin("a\tb", 1, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_batch_begin("ab", 0, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "start at 1"));
    ck_assert_uint_eq(bus_batch_begin(NID, 1, buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "bytes needed"));
    size_t n = bus_batch_begin("ab", 1, buf, sizeof(buf), err, sizeof(err));
    struct qmtl_value v = qmtl_none();
    ck_assert_uint_eq(bus_batch_add(buf, n, sizeof(buf), 0, &v, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "cannot be sent"));
    v.type = QMTL_T_JSON;
    ck_assert_uint_eq(bus_batch_entry_size(&v), 0); /* JSON without text */
    /* a value that does not fit leaves the batch as it was */
    v = qmtl_number(1);
    n = bus_batch_add(buf, n, sizeof(buf), 60, &v, err, sizeof(err));
    n = bus_batch_add(buf, n, sizeof(buf), 120, &v, err, sizeof(err));
    unsigned char before[64];
    memcpy(before, buf, sizeof(buf));
    ck_assert_uint_eq(n, BUS_BATCH_HEADER_LEN(2) + 2 * 17);
    ck_assert_uint_eq(bus_batch_add(buf, n, sizeof(buf), 180, &v, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "bytes needed"));
    ck_assert_mem_eq(buf, before, sizeof(buf));
    ck_assert_uint_eq(bus_batch_count(buf, n), 2);
    /* at most BUS_BATCH_MAX outputs */
    size_t cap = BUS_BATCH_HEADER_LEN(2) + (size_t)(BUS_BATCH_MAX + 1) * 10;
    unsigned char *big = malloc(cap);
    ck_assert_ptr_nonnull(big);
    n = bus_batch_begin("ab", 1, big, cap, NULL, 0);
    v = qmtl_none();
    v.type = QMTL_T_BOOL;
    for (int i = 0; i < BUS_BATCH_MAX; i++)
        n = bus_batch_add(big, n, cap, i, &v, NULL, 0);
    ck_assert_uint_eq(bus_batch_count(big, n), BUS_BATCH_MAX);
    ck_assert_uint_eq(bus_batch_add(big, n, cap, 0, &v, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "batch full"));
    struct bus_reader r;
    ck_assert_int_eq(bus_reader_open(&r, big, n, err, sizeof(err)), 0);
    free(big);
}
END_TEST

/* Open 'buf' expecting a refusal whose message names 'what'. */
static void expect_batch_refused(const unsigned char *buf, size_t len, const char *what)
{
    struct bus_reader r;
    char err[200] = "";
    ck_assert_int_eq(bus_reader_open(&r, buf, len, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' does not mention '%s'", err, what);
    struct bus_msg m;
    ck_assert_int_eq(bus_reader_next(&r, &m), 0); /* nothing handed out */
}

START_TEST(test_batch_decode_refusals)
{
    unsigned char good[256], b[256];
    size_t n = bus_batch_begin("node", 5, good, sizeof(good), NULL, 0);
    struct qmtl_value v = qmtl_number(2), j = qmtl_none(), o = qmtl_none();
    j.type = QMTL_T_JSON;
    j.as.json = "[1,2]";
    o.type = QMTL_T_ORDER;
    o.as.order.side = QMTL_SIDE_SELL;
    n = bus_batch_add(good, n, sizeof(good), 60, &v, NULL, 0);
    size_t second = n; /* offset of the second output */
    n = bus_batch_add(good, n, sizeof(good), 120, &j, NULL, 0);
    size_t third = n;
    n = bus_batch_add(good, n, sizeof(good), 180, &o, NULL, 0);
    ck_assert_uint_eq(n, third + 9 + 20);
    const size_t cnt = BUS_BATCH_HEADER_LEN(4) - 4; /* offset of the count */

    /* every truncation is refused, and so is a trailing byte */
    for (size_t len = 0; len < n; len++) {
        struct bus_reader r;
        char err[200] = "";
        ck_assert_msg(bus_reader_open(&r, good, len, err, sizeof(err)) == -1, "%zu bytes", len);
        ck_assert_msg(err[0], "no reason for %zu bytes", len);
    }
    memcpy(b, good, n);
    b[n] = 0;
    expect_batch_refused(b, n + 1, "1 bytes after output 3");
#define MUTATE(off, val, what)                                                                    \
    do {                                                                                          \
        memcpy(b, good, n);                                                                       \
        b[off] = (val);                                                                           \
        expect_batch_refused(b, n, what);                                                         \
    } while (0)
    MUTATE(0, 'X', "'magic'");
    MUTATE(2, 4, "'version'");
    MUTATE(2, 0, "'version'");
    MUTATE(2, 3, "'state'"); /* version 3 without its state trailer */
    MUTATE(3, 0, "'node_id'");
    MUTATE(3, 250, "'node_id'");
    MUTATE(5, 0x7f, "'node_id'");
    MUTATE(cnt + 3, 0, "'count'");        /* no outputs */
    MUTATE(cnt + 3, 2, "29 bytes after output 2"); /* count says 2, three follow */
    MUTATE(cnt + 3, 4, "output 4");       /* count says 4, three follow */
    MUTATE(cnt, 0x01, "'count'");         /* over BUS_BATCH_MAX */
    MUTATE(cnt - 1, 0, "'first_seq'");    /* sequence 0 */
    MUTATE(second, 99, "'type'");         /* a bad second output: the whole message goes */
    MUTATE(second, QMTL_T_NONE, "'type'");
    MUTATE(second + 9 + 4 + 3, '}', "invalid JSON");
    MUTATE(second + 9 + 3, 200, "JSON length");
    MUTATE(third + 9 + 3, 0, "order side");
    /* the last sequence must exist: first + count - 1 <= 2^64 - 1 */
    memcpy(b, good, n);
    memset(b + cnt - 8, 0xff, 8);
    expect_batch_refused(b, n, "'first_seq'");
    b[cnt - 1] = 0xfd; /* 2^64 - 3 .. 2^64 - 1 */
    struct bus_reader r;
    ck_assert_int_eq(bus_reader_open(&r, b, n, NULL, 0), 0);
#undef MUTATE
}
END_TEST

/* Version 3: a batch closed with the node's state; the state comes with the last output
 * only, and the message is refused whole when the trailer does not match. */
START_TEST(test_batch_state)
{
    unsigned char buf[256], b[256];
    const unsigned char st[5] = {1, 2, 3, 4, 5};
    char err[200] = "";
    struct qmtl_value v = qmtl_number(1.5);
    size_t n = bus_batch_begin("node", 7, buf, sizeof(buf), NULL, 0);
    /* a state closes a batch of at least one output */
    ck_assert_uint_eq(bus_batch_set_state(buf, n, sizeof(buf), st, 5, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "at least one output"));
    n = bus_batch_add(buf, n, sizeof(buf), 60, &v, NULL, 0);
    n = bus_batch_add(buf, n, sizeof(buf), 120, &v, NULL, 0);
    size_t outputs = n;
    ck_assert_uint_eq(bus_batch_set_state(buf, n, sizeof(buf), st, 0, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "expected 1.."));
    ck_assert_uint_eq(bus_batch_set_state(buf, n, sizeof(buf), st, BUS_STATE_MAX + 1, err,
                                          sizeof(err)),
                      0);
    ck_assert_uint_eq(bus_batch_set_state(buf, n, n + 8, st, 5, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "bytes needed"));
    ck_assert_int_eq(buf[2], 2); /* refusals leave a version 2 batch */
    n = bus_batch_set_state(buf, n, sizeof(buf), st, 5, err, sizeof(err));
    ck_assert_uint_eq(n, outputs + 4 + 5);
    ck_assert_int_eq(buf[2], 3);
    ck_assert_int_eq(buf[outputs + 3], 5); /* length, big-endian, then the bytes */
    ck_assert_mem_eq(buf + outputs + 4, st, 5);
    ck_assert_uint_eq(bus_batch_count(buf, n), 2);
    /* closed: no more outputs, no second state */
    ck_assert_uint_eq(bus_batch_add(buf, n, sizeof(buf), 180, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_batch_set_state(buf, n, sizeof(buf), st, 5, err, sizeof(err)), 0);

    struct bus_reader r;
    ck_assert_msg(bus_reader_open(&r, buf, n, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(r.version, 3);
    ck_assert_uint_eq(r.count, 2);
    struct bus_msg m;
    ck_assert_int_eq(bus_reader_next(&r, &m), 1);
    ck_assert_uint_eq(m.seq, 7);
    ck_assert_ptr_null(m.state);
    ck_assert_uint_eq(m.state_len, 0);
    ck_assert_int_eq(bus_reader_next(&r, &m), 1);
    ck_assert_uint_eq(m.seq, 8);
    ck_assert_int_eq(m.ts, 120);
    ck_assert(m.value.as.number == 1.5);
    ck_assert_uint_eq(m.state_len, 5);
    ck_assert_mem_eq(m.state, st, 5);
    ck_assert_int_eq(bus_reader_next(&r, &m), 0);

    /* hostile trailers: every truncation, a byte too many, a length of 0 or over the max */
    for (size_t len = outputs; len < n; len++)
        expect_batch_refused(buf, len, "'state'");
    memcpy(b, buf, n);
    b[n] = 9;
    expect_batch_refused(b, n + 1, "'state'");
    memcpy(b, buf, n);
    b[outputs + 3] = 0;
    expect_batch_refused(b, n, "'state'");
    memcpy(b, buf, n);
    b[outputs + 1] = 0x01; /* 65536 + 5 */
    expect_batch_refused(b, n, "'state'");
    /* a version 2 message never hands out a state */
    n = bus_batch_begin("node", 1, buf, sizeof(buf), NULL, 0);
    n = bus_batch_add(buf, n, sizeof(buf), 60, &v, NULL, 0);
    ck_assert_int_eq(bus_reader_open(&r, buf, n, NULL, 0), 0);
    ck_assert_int_eq(bus_reader_next(&r, &m), 1);
    ck_assert_ptr_null(m.state);
}
END_TEST

/* A version 1 message through the reader: one output, its own sequence. */
START_TEST(test_reader_reads_version_1)
{
    unsigned char buf[256];
    struct qmtl_value v = qmtl_number(4.25);
    size_t n = bus_encode(NID, 600, 42, &v, buf, sizeof(buf), NULL, 0);
    struct bus_reader r;
    char err[200];
    ck_assert_msg(bus_reader_open(&r, buf, n, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(r.version, 1);
    ck_assert_uint_eq(r.count, 1);
    ck_assert_uint_eq(bus_batch_count(buf, n), 1);
    struct bus_msg m;
    ck_assert_int_eq(bus_reader_next(&r, &m), 1);
    ck_assert_str_eq(m.node_id, NID);
    ck_assert_uint_eq(m.seq, 42);
    ck_assert_int_eq(m.ts, 600);
    ck_assert(m.value.as.number == 4.25);
    ck_assert_int_eq(bus_reader_next(&r, &m), 0);
    ck_assert_int_eq(bus_reader_open(&r, buf, n - 1, err, sizeof(err)), -1); /* truncated */
    ck_assert_ptr_nonnull(strstr(err, "'value'"));
}
END_TEST

START_TEST(test_batch_msg_id)
{
    char id[BUS_MSG_ID_MAX];
    ck_assert_int_gt(bus_batch_msg_id(NID, 3, 9, id, sizeof(id)), 0);
    ck_assert_str_eq(id, NID ":3-9");
    char longid[BUS_NODE_ID_MAX + 1];
    memset(longid, 'x', BUS_NODE_ID_MAX);
    longid[BUS_NODE_ID_MAX] = '\0';
    ck_assert_int_gt(bus_batch_msg_id(longid, UINT64_MAX - 1, UINT64_MAX, id, sizeof(id)), 0);
    ck_assert_int_eq(bus_batch_msg_id(NID, 1, 2, id, 10), -1);
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
    tc = tcase_create("batch");
    tcase_add_test(tc, test_batch_layout);
    tcase_add_test(tc, test_batch_round_trip);
    tcase_add_test(tc, test_batch_encode_refusals);
    tcase_add_test(tc, test_batch_decode_refusals);
    tcase_add_test(tc, test_batch_state);
    tcase_add_test(tc, test_reader_reads_version_1);
    tcase_add_test(tc, test_batch_msg_id);
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
