/*
 * bus_codec: the one byte format of node outputs on the bus (NATS JetStream), and the
 * names derived from a queue's topic. Shared by the hosts that publish and consume and
 * by the DAG manager that creates the streams. Pure functions: no I/O, no allocation.
 * Integers are big-endian, doubles their IEEE-754 bits big-endian.
 *
 * Payload of a value, by type (the same in both versions):
 *   NUMBER  8  double            INT     8  int64          BOOL    1  0 or 1
 *   BAR     40 open, high, low, close, volume (doubles)
 *   SIGNAL  20 action int32, target double, strength double
 *   ORDER   20 side int32 (-1|1), quantity double, price double
 *   JSON    4 + m: m (uint32, <= BUS_JSON_MAX), then m bytes of UTF-8 JSON
 *
 * Version 2, what hosts publish: a batch of consecutive outputs of one node.
 *
 *   offset  size  field
 *   0       2     magic 'Q' 'B'
 *   2       1     format version (2)
 *   3       1     n = length of the NodeID (1..BUS_NODE_ID_MAX)
 *   4       n     NodeID, printable ASCII
 *   4+n     8     first sequence, uint64 >= 1: the sequence of the first output
 *   12+n    4     k = number of outputs, uint32, 1..BUS_BATCH_MAX
 *   16+n    ...   k outputs, output i (from 0) having sequence first + i, each:
 *                   1  value type (enum qmtl_type; NONE is never sent)
 *                   8  bucket timestamp, int64 seconds
 *                   .. payload, by type
 *   Nats-Msg-Id: "<NodeID>:<first>-<last>" (bus_batch_msg_id).
 *
 * Version 3, what hosts publish for a custom node that has a state (qmtl_node_spec
 * state_size): version 2 with the version byte 3 and, after the last output, the node's
 * state as it was right after computing that last output (how a host taking the node
 * over continues from it):
 *   ...     4     m = state bytes, uint32, 1..BUS_STATE_MAX
 *   ...     m     the state arena, as the node's compute left it
 *   Nats-Msg-Id as version 2. A reader checks m against the whole message; whether m is
 *   the node's state_size is the consumer's check.
 *
 * Version 1, still read (streams written by earlier builds): one output per message.
 *
 *   0       2     magic 'Q' 'B'
 *   2       1     format version (1)
 *   3       1     value type
 *   4       8     bucket timestamp, int64 seconds
 *   12      8     per-node sequence, uint64, 1 for a node's first output, +1 per output
 *   20      1     n = length of the NodeID (1..BUS_NODE_ID_MAX)
 *   21      n     NodeID, printable ASCII
 *   21+n    ...   payload, by type
 *   Nats-Msg-Id: "<NodeID>:<seq>" (bus_msg_id).
 *
 * Nothing may follow the last payload. A decoder refuses an unknown version or type, a
 * count or a length that does not match, a NodeID with a control byte, a sequence range
 * past 2^64-1, and JSON text that is not one valid JSON value: everything that comes in
 * from the bus is hostile. A batch is checked whole before its first output is handed out.
 *
 * JetStream de-duplication: the Nats-Msg-Id header, so a retried publish of the same
 * message is dropped by the stream; consumers drop what they saw by sequence.
 */
#ifndef QMTL_COMMON_BUS_CODEC_H
#define QMTL_COMMON_BUS_CODEC_H

#include <qmtl/qmtl.h>

#include <stddef.h>
#include <stdint.h>

#define BUS_CODEC_VERSION 2   /* what bus_batch_begin writes */
#define BUS_CODEC_VERSION_1 1 /* what bus_encode writes (one output) */
#define BUS_HEADER_LEN 21     /* version 1: bytes before the NodeID */
#define BUS_BATCH_HEADER_LEN(n) ((size_t)16 + (size_t)(n)) /* version 2, NodeID of n bytes */
#define BUS_ENTRY_HEADER_LEN 9 /* version 2: type and timestamp before each payload */
#define BUS_BATCH_MAX 65536    /* outputs in one version 2 message, at most */
#define BUS_NODE_ID_MAX 200 /* longest NodeID a message carries */
#define BUS_JSON_MAX (1u << 20)
#define BUS_CODEC_VERSION_3 3   /* a version 2 batch with a state trailer */
#define BUS_STATE_MAX (1u << 16) /* state bytes a version 3 message carries, at most */
/* Longest encoded message: header, NodeID, and the largest payload (JSON). */
#define BUS_MSG_MAX (BUS_HEADER_LEN + BUS_NODE_ID_MAX + 4 + BUS_JSON_MAX)
/* Room for a Nats-Msg-Id: NodeID, ':', up to 20 digits, '-', up to 20 digits, NUL. */
#define BUS_MSG_ID_MAX (BUS_NODE_ID_MAX + 43)
/* Room for a subject or a stream name derived from a topic (see bus_subject). */
#define BUS_NAME_MAX 256

/* One decoded output. 'node_id' is NUL-terminated and owned by the struct; for a JSON
 * value, value.as.json points into the decoded buffer (borrowed: valid while that buffer
 * lives, NOT NUL-terminated: its length is json_len). */
struct bus_msg {
    char node_id[BUS_NODE_ID_MAX + 1];
    int64_t ts; /* bucket timestamp (seconds) */
    uint64_t seq;
    struct qmtl_value value;
    uint32_t json_len; /* bytes of value.as.json when value.type is QMTL_T_JSON */
    /* version 3, on the message's last output only: the node's state after it (borrowed
     * from the message buffer, like JSON); NULL and 0 otherwise */
    const unsigned char *state;
    uint32_t state_len;
};

/* ---- version 1: one output (kept for tests and for reading old streams) */

/*
 * Exact size of the encoding of (node_id, value); 0 when it cannot be encoded (NONE or an
 * unknown type, an empty, too long or non-printable NodeID, JSON text longer than
 * BUS_JSON_MAX or NULL). For JSON the text is value->as.json up to its NUL.
 */
size_t bus_encoded_size(const char *node_id, const struct qmtl_value *value);

/*
 * Encode one output into 'out' (capacity 'cap'). Returns the bytes written, or 0 when it
 * cannot be encoded (see bus_encoded_size) or 'cap' is too small; 'err' (may be NULL)
 * then says why. The JSON text is copied as given: the publisher produced it, the
 * consumer checks it.
 */
size_t bus_encode(const char *node_id, int64_t ts, uint64_t seq, const struct qmtl_value *value,
                  unsigned char *out, size_t cap, char *err, size_t errlen);

/*
 * Decode a version 1 message of 'len' bytes into *m. Returns 0, or -1 with one line in 'err' naming the field
 * (e.g. "bus message: field 'type': unknown value type 9"). *m is zeroed first.
 * For JSON, m->value.as.json borrows from 'buf'.
 */
int bus_decode(const unsigned char *buf, size_t len, struct bus_msg *m, char *err, size_t errlen);

/* "<node_id>:<seq>" into out (BUS_MSG_ID_MAX bytes suffice). Returns its length, or -1
 * when it does not fit. */
int bus_msg_id(const char *node_id, uint64_t seq, char *out, size_t outlen);

/* ---- version 2: a batch of one node's consecutive outputs */

/* Bytes one output of value 'v' takes in a batch; 0 when it cannot be sent (as
 * bus_encoded_size). */
size_t bus_batch_entry_size(const struct qmtl_value *v);

/* Start a batch of 'node_id''s outputs, the first with sequence 'first_seq' (>= 1), in
 * 'out' (capacity 'cap'): writes the header with a count of 0 and returns its length
 * (BUS_BATCH_HEADER_LEN), or 0 with err (bad NodeID, sequence 0, buffer too small). */
size_t bus_batch_begin(const char *node_id, uint64_t first_seq, unsigned char *out, size_t cap,
                       char *err, size_t errlen);

/* Append one output to the batch of 'len' bytes in 'out' (capacity 'cap'); its sequence
 * is the batch's next. Returns the new length, or 0 with err and 'out' unchanged when the
 * value cannot be sent, the batch holds BUS_BATCH_MAX outputs or it would not fit in 'cap'
 * (bus_batch_entry_size says how much room it needs). JSON text is copied as given. */
size_t bus_batch_add(unsigned char *out, size_t len, size_t cap, int64_t ts,
                     const struct qmtl_value *v, char *err, size_t errlen);

/* Close the batch of 'len' bytes in 'out' (capacity 'cap', at least one output) with the
 * node's state after its last output ('state_len' bytes, 1..BUS_STATE_MAX): the message
 * becomes version 3 and takes no more outputs. Returns the new length, or 0 with err and
 * 'out' unchanged (no output yet, already closed, state too large, no room). */
size_t bus_batch_set_state(unsigned char *out, size_t len, size_t cap, const void *state,
                           size_t state_len, char *err, size_t errlen);

/* Outputs in the message 'buf' of 'len' bytes as its header says (1 for version 1), 0 when
 * it is not a message (versions 2 and 3 alike). Not a check: use bus_reader_open before trusting it. */
uint32_t bus_batch_count(const unsigned char *buf, size_t len);

/* "<node_id>:<first_seq>-<last_seq>" into out (BUS_MSG_ID_MAX bytes suffice). Its length,
 * or -1 when it does not fit. */
int bus_batch_msg_id(const char *node_id, uint64_t first_seq, uint64_t last_seq, char *out,
                     size_t outlen);

/* ---- reading either version */

/* Walks the outputs of one message. Borrows the message buffer (it must outlive the
 * reader and the bus_msg values handed out: JSON values point into it). */
struct bus_reader {
    char node_id[BUS_NODE_ID_MAX + 1];
    uint64_t first_seq; /* sequence of the first output */
    uint32_t count;     /* outputs in the message */
    uint8_t version;    /* 1, 2 or 3 */
    const unsigned char *state; /* version 3: the state trailer (borrowed), else NULL */
    uint32_t state_len;
    /* private */
    const unsigned char *p, *end;
    uint32_t left;
    uint64_t seq;
    struct bus_msg one; /* version 1 */
};

/* Check the whole message ('len' bytes, version 1, 2 or 3) and position the reader on its
 * first output. 0, or -1 with one line in err naming the field; nothing is handed out
 * from a message that does not check entirely. */
int bus_reader_open(struct bus_reader *r, const unsigned char *buf, size_t len, char *err,
                    size_t errlen);

/* The next output into *m (node_id, ts, seq, value; state on the last output of a
 * version 3 message): 1, or 0 when none is left. */
int bus_reader_next(struct bus_reader *r, struct bus_msg *m);

/*
 * Names derived from a DAG manager topic (e.g. "demo.live.btc_sma_builti_v1"; topics use
 * [A-Za-z0-9._-] only):
 *   subject  "qmtl.q." + topic              the stream's only subject
 *   stream   "QMTL_Q_" + topic, '.' -> '~'   JetStream stream names may not hold '.'
 * Return 0, or -1 (out unchanged or truncated) when the topic is empty, holds another
 * character, or the name would not fit in 'outlen'.
 */
int bus_subject(const char *topic, char *out, size_t outlen);
int bus_stream_name(const char *topic, char *out, size_t outlen);

#endif
