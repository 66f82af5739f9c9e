/*
 * bus_codec: the one byte format of a node output on the bus (NATS JetStream), and the
 * names derived from a queue's topic. Shared by the hosts that publish and consume and
 * by the DAG manager that creates the streams. Pure functions: no I/O, no allocation.
 *
 * Message, version 1 (integers big-endian, doubles as their IEEE-754 bits big-endian):
 *
 *   offset  size  field
 *   0       2     magic 'Q' 'B'
 *   2       1     format version (1)
 *   3       1     value type (enum qmtl_type; NONE is never sent)
 *   4       8     bucket timestamp, int64 seconds
 *   12      8     per-node sequence, uint64, 1 for a node's first output, +1 per output
 *   20      1     n = length of the NodeID (1..BUS_NODE_ID_MAX)
 *   21      n     NodeID, printable ASCII
 *   21+n    ...   payload, by type:
 *                 NUMBER  8  double
 *                 INT     8  int64
 *                 BOOL    1  0 or 1
 *                 BAR     40 open, high, low, close, volume (doubles)
 *                 SIGNAL  20 action int32, target double, strength double
 *                 ORDER   20 side int32 (-1|1), quantity double, price double
 *                 JSON    4 + m: m (uint32, <= BUS_JSON_MAX), then m bytes of UTF-8 JSON
 *
 * Nothing may follow the payload. A decoder refuses an unknown version or type, a
 * length that does not match, a NodeID with a control byte, and JSON text that is not
 * one valid JSON value: everything that comes in from the bus is hostile.
 *
 * JetStream de-duplication: the Nats-Msg-Id header of a message is "<NodeID>:<seq>", so
 * a retried publish of the same output is dropped by the stream.
 */
#ifndef QMTL_COMMON_BUS_CODEC_H
#define QMTL_COMMON_BUS_CODEC_H

#include <qmtl/qmtl.h>

#include <stddef.h>
#include <stdint.h>

#define BUS_CODEC_VERSION 1
#define BUS_HEADER_LEN 21   /* bytes before the NodeID */
#define BUS_NODE_ID_MAX 200 /* longest NodeID a message carries */
#define BUS_JSON_MAX (1u << 20)
/* Longest encoded message: header, NodeID, and the largest payload (JSON). */
#define BUS_MSG_MAX (BUS_HEADER_LEN + BUS_NODE_ID_MAX + 4 + BUS_JSON_MAX)
/* Room for a Nats-Msg-Id: NodeID, ':', up to 20 digits, NUL. */
#define BUS_MSG_ID_MAX (BUS_NODE_ID_MAX + 22)
/* Room for a subject or a stream name derived from a topic (see bus_subject). */
#define BUS_NAME_MAX 256

/* One decoded message. 'node_id' is NUL-terminated and owned by the struct; for a JSON
 * value, value.as.json points into the decoded buffer (borrowed: valid while that buffer
 * lives, NOT NUL-terminated: its length is json_len). */
struct bus_msg {
    char node_id[BUS_NODE_ID_MAX + 1];
    int64_t ts; /* bucket timestamp (seconds) */
    uint64_t seq;
    struct qmtl_value value;
    uint32_t json_len; /* bytes of value.as.json when value.type is QMTL_T_JSON */
};

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
 * Decode 'len' bytes into *m. Returns 0, or -1 with one line in 'err' naming the field
 * (e.g. "bus message: field 'type': unknown value type 9"). *m is zeroed first.
 * For JSON, m->value.as.json borrows from 'buf'.
 */
int bus_decode(const unsigned char *buf, size_t len, struct bus_msg *m, char *err, size_t errlen);

/* "<node_id>:<seq>" into out (BUS_MSG_ID_MAX bytes suffice). Returns its length, or -1
 * when it does not fit. */
int bus_msg_id(const char *node_id, uint64_t seq, char *out, size_t outlen);

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
