/* bus_codec: the bus message format and topic-derived names (see bus_codec.h). */
#include "bus_codec.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static size_t fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    put_u64(p, v);
}

static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, sizeof(d));
    return d;
}

/* Payload size of a fixed-size type; 0 for JSON (variable) and -1 for an unknown type. */
static long fixed_payload(int32_t type)
{
    switch (type) {
    case QMTL_T_NUMBER:
    case QMTL_T_INT:
        return 8;
    case QMTL_T_BOOL:
        return 1;
    case QMTL_T_BAR:
        return 40;
    case QMTL_T_SIGNAL:
    case QMTL_T_ORDER:
        return 20;
    case QMTL_T_JSON:
        return 0;
    default:
        return -1;
    }
}

/* Length of a NodeID fit for a message, or 0. */
static size_t node_id_len(const char *node_id)
{
    if (!node_id)
        return 0;
    size_t n = strnlen(node_id, BUS_NODE_ID_MAX + 1);
    if (n == 0 || n > BUS_NODE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)node_id[i] <= 0x20 || (unsigned char)node_id[i] >= 0x7f)
            return 0;
    return n;
}

/* Write the payload of 'v' (fixed_payload / JSON length 'json_len' already checked) at p;
 * returns the bytes written. */
static size_t put_value(unsigned char *p, const struct qmtl_value *v, size_t json_len)
{
    switch (v->type) {
    case QMTL_T_NUMBER:
        put_f64(p, v->as.number);
        return 8;
    case QMTL_T_INT:
        put_u64(p, (uint64_t)v->as.integer);
        return 8;
    case QMTL_T_BOOL:
        p[0] = v->as.boolean ? 1 : 0;
        return 1;
    case QMTL_T_BAR:
        put_f64(p, v->as.bar.open);
        put_f64(p + 8, v->as.bar.high);
        put_f64(p + 16, v->as.bar.low);
        put_f64(p + 24, v->as.bar.close);
        put_f64(p + 32, v->as.bar.volume);
        return 40;
    case QMTL_T_SIGNAL:
        put_u32(p, (uint32_t)v->as.signal.action);
        put_f64(p + 4, v->as.signal.target);
        put_f64(p + 12, v->as.signal.strength);
        return 20;
    case QMTL_T_ORDER:
        put_u32(p, (uint32_t)v->as.order.side);
        put_f64(p + 4, v->as.order.quantity);
        put_f64(p + 12, v->as.order.price);
        return 20;
    default: /* QMTL_T_JSON */
        put_u32(p, (uint32_t)json_len);
        memcpy(p + 4, v->as.json, json_len);
        return 4 + json_len;
    }
}

/* Payload bytes of 'value' (JSON: 4 + its length), 0 when it cannot be sent. */
static size_t payload_size(const struct qmtl_value *value)
{
    long fixed = value ? fixed_payload(value->type) : -1;
    if (fixed > 0)
        return (size_t)fixed;
    if (fixed < 0 || !value->as.json)
        return 0;
    size_t m = strnlen(value->as.json, (size_t)BUS_JSON_MAX + 1);
    return m > BUS_JSON_MAX ? 0 : 4 + m;
}

size_t bus_encoded_size(const char *node_id, const struct qmtl_value *value)
{
    size_t n = node_id_len(node_id), p = payload_size(value);
    return n && p ? BUS_HEADER_LEN + n + p : 0;
}

/* Why a value cannot be sent, into err; returns 0. */
static size_t value_refused(const struct qmtl_value *value, char *err, size_t errlen)
{
    if (value && value->type == QMTL_T_JSON)
        return fail(err, errlen, "bus message: JSON value missing or over %u bytes", BUS_JSON_MAX);
    return fail(err, errlen, "bus message: value type %d cannot be sent",
                value ? (int)value->type : -1);
}

size_t bus_encode(const char *node_id, int64_t ts, uint64_t seq, const struct qmtl_value *value,
                  unsigned char *out, size_t cap, char *err, size_t errlen)
{
    size_t total = bus_encoded_size(node_id, value);
    if (!total) {
        if (!node_id_len(node_id))
            return fail(err, errlen,
                        "bus message: NodeID empty, longer than %d bytes or not "
                        "printable",
                        BUS_NODE_ID_MAX);
        return value_refused(value, err, errlen);
    }
    if (total > cap)
        return fail(err, errlen, "bus message: %zu bytes needed, buffer holds %zu", total, cap);
    size_t n = node_id_len(node_id);
    out[0] = 'Q';
    out[1] = 'B';
    out[2] = BUS_CODEC_VERSION_1;
    out[3] = (unsigned char)value->type;
    put_u64(out + 4, (uint64_t)ts);
    put_u64(out + 12, seq);
    out[20] = (unsigned char)n;
    memcpy(out + BUS_HEADER_LEN, node_id, n);
    put_value(out + BUS_HEADER_LEN + n, value, total - BUS_HEADER_LEN - n - 4);
    return total;
}

/*
 * Decode the payload of one value of 'type' from p (at most 'rest' bytes). 'exact': the
 * payload must fill 'rest' (version 1). Returns the bytes used, or 0 with err.
 */
static size_t get_value(const unsigned char *p, size_t rest, int32_t type, int exact,
                        struct qmtl_value *out, uint32_t *json_len, char *err, size_t errlen)
{
    long fixed = fixed_payload(type);
    if (fixed < 0)
        return fail(err, errlen, "bus message: field 'type': unknown value type %d", (int)type);
    out->type = type;
    if (type != QMTL_T_JSON && (exact ? rest != (size_t)fixed : rest < (size_t)fixed))
        return fail(err, errlen, "bus message: field 'value': %zu bytes for type %d, expected %ld",
                    rest, (int)type, fixed);
    switch (type) {
    case QMTL_T_NUMBER:
        out->as.number = get_f64(p);
        return 8;
    case QMTL_T_INT:
        out->as.integer = (int64_t)get_u64(p);
        return 8;
    case QMTL_T_BOOL:
        if (p[0] > 1)
            return fail(err, errlen, "bus message: field 'value': bool byte %u", p[0]);
        out->as.boolean = p[0];
        return 1;
    case QMTL_T_BAR:
        out->as.bar.open = get_f64(p);
        out->as.bar.high = get_f64(p + 8);
        out->as.bar.low = get_f64(p + 16);
        out->as.bar.close = get_f64(p + 24);
        out->as.bar.volume = get_f64(p + 32);
        return 40;
    case QMTL_T_SIGNAL:
        out->as.signal.action = (int32_t)get_u32(p);
        out->as.signal.target = get_f64(p + 4);
        out->as.signal.strength = get_f64(p + 12);
        return 20;
    case QMTL_T_ORDER:
        out->as.order.side = (int32_t)get_u32(p);
        if (out->as.order.side != QMTL_SIDE_BUY && out->as.order.side != QMTL_SIDE_SELL)
            return fail(err, errlen, "bus message: field 'value': order side %d",
                        (int)out->as.order.side);
        out->as.order.quantity = get_f64(p + 4);
        out->as.order.price = get_f64(p + 12);
        return 20;
    default: { /* QMTL_T_JSON */
        if (rest < 4)
            return fail(err, errlen, "bus message: field 'value': JSON length missing");
        uint32_t jl = get_u32(p);
        if (jl > BUS_JSON_MAX || (exact ? (size_t)jl != rest - 4 : (size_t)jl > rest - 4))
            return fail(err, errlen, "bus message: field 'value': JSON length %u, %zu bytes follow",
                        jl, rest - 4);
        json_error_t jerr;
        json_t *j = json_loadb((const char *)p + 4, jl, JSON_DECODE_ANY, &jerr);
        if (!j)
            return fail(err, errlen, "bus message: field 'value': invalid JSON (%s)", jerr.text);
        json_decref(j);
        out->as.json = (const char *)p + 4;
        *json_len = jl;
        return 4 + (size_t)jl;
    }
    }
}

/* The NodeID of n bytes at p into out (BUS_NODE_ID_MAX + 1 bytes); -1 with err. */
static int get_node_id(const unsigned char *p, size_t n, char *out, char *err, size_t errlen)
{
    memcpy(out, p, n);
    out[n] = '\0';
    if (node_id_len(out) != n) {
        out[0] = '\0';
        fail(err, errlen, "bus message: field 'node_id': not printable ASCII");
        return -1;
    }
    return 0;
}

int bus_decode(const unsigned char *buf, size_t len, struct bus_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (len < BUS_HEADER_LEN + 1)
        return fail(err, errlen, "bus message: %zu bytes, shorter than a header", len), -1;
    if (buf[0] != 'Q' || buf[1] != 'B')
        return fail(err, errlen, "bus message: field 'magic': not a qmtl bus message"), -1;
    if (buf[2] != BUS_CODEC_VERSION_1)
        return fail(err, errlen, "bus message: field 'version': %u, expected %d here", buf[2],
                    BUS_CODEC_VERSION_1),
               -1;
    int32_t type = buf[3];
    if (fixed_payload(type) < 0)
        return fail(err, errlen, "bus message: field 'type': unknown value type %d", (int)type), -1;
    size_t n = buf[20];
    if (n == 0 || n > BUS_NODE_ID_MAX || len < BUS_HEADER_LEN + n)
        return fail(err, errlen, "bus message: field 'node_id': length %zu out of range", n), -1;
    if (get_node_id(buf + BUS_HEADER_LEN, n, m->node_id, err, errlen) < 0)
        return -1;
    m->ts = (int64_t)get_u64(buf + 4);
    m->seq = get_u64(buf + 12);
    if (!get_value(buf + BUS_HEADER_LEN + n, len - BUS_HEADER_LEN - n, type, 1, &m->value,
                   &m->json_len, err, errlen))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ version 2: batches */

size_t bus_batch_entry_size(const struct qmtl_value *v)
{
    size_t p = payload_size(v);
    return p ? BUS_ENTRY_HEADER_LEN + p : 0;
}

size_t bus_batch_begin(const char *node_id, uint64_t first_seq, unsigned char *out, size_t cap,
                       char *err, size_t errlen)
{
    size_t n = node_id_len(node_id);
    if (!n)
        return fail(err, errlen, "bus message: NodeID empty, longer than %d bytes or not printable",
                    BUS_NODE_ID_MAX);
    if (first_seq == 0)
        return fail(err, errlen, "bus message: sequences start at 1");
    if (cap < BUS_BATCH_HEADER_LEN(n))
        return fail(err, errlen, "bus message: %zu bytes needed, buffer holds %zu",
                    BUS_BATCH_HEADER_LEN(n), cap);
    out[0] = 'Q';
    out[1] = 'B';
    out[2] = BUS_CODEC_VERSION;
    out[3] = (unsigned char)n;
    memcpy(out + 4, node_id, n);
    put_u64(out + 4 + n, first_seq);
    put_u32(out + 12 + n, 0);
    return BUS_BATCH_HEADER_LEN(n);
}

uint32_t bus_batch_count(const unsigned char *buf, size_t len)
{
    if (len < 4 || buf[0] != 'Q' || buf[1] != 'B')
        return 0;
    if (buf[2] == BUS_CODEC_VERSION_1)
        return 1;
    if ((buf[2] != BUS_CODEC_VERSION && buf[2] != BUS_CODEC_VERSION_3) ||
        len < BUS_BATCH_HEADER_LEN(buf[3]))
        return 0;
    return get_u32(buf + 12 + buf[3]);
}

size_t bus_batch_set_state(unsigned char *out, size_t len, size_t cap, const void *state,
                           size_t state_len, char *err, size_t errlen)
{
    uint32_t k = bus_batch_count(out, len);
    if (out[2] != BUS_CODEC_VERSION || k == 0)
        return fail(err, errlen, "bus message: a state closes a batch of at least one output");
    if (!state || state_len == 0 || state_len > BUS_STATE_MAX)
        return fail(err, errlen, "bus message: state of %zu bytes, expected 1..%u", state_len,
                    BUS_STATE_MAX);
    if (len + 4 + state_len > cap)
        return fail(err, errlen, "bus message: %zu bytes needed, buffer holds %zu",
                    len + 4 + state_len, cap);
    put_u32(out + len, (uint32_t)state_len);
    memcpy(out + len + 4, state, state_len);
    out[2] = BUS_CODEC_VERSION_3;
    return len + 4 + state_len;
}

size_t bus_batch_add(unsigned char *out, size_t len, size_t cap, int64_t ts,
                     const struct qmtl_value *v, char *err, size_t errlen)
{
    size_t e = bus_batch_entry_size(v);
    if (!e)
        return value_refused(v, err, errlen);
    uint32_t k = bus_batch_count(out, len);
    if (out[2] != BUS_CODEC_VERSION || k >= BUS_BATCH_MAX)
        return fail(err, errlen, "bus message: batch full (%u outputs)", (unsigned)k);
    if (len + e > cap)
        return fail(err, errlen, "bus message: %zu bytes needed, buffer holds %zu", len + e, cap);
    unsigned char *p = out + len;
    p[0] = (unsigned char)v->type;
    put_u64(p + 1, (uint64_t)ts);
    put_value(p + BUS_ENTRY_HEADER_LEN, v, e - BUS_ENTRY_HEADER_LEN - 4);
    put_u32(out + 12 + out[3], k + 1);
    return len + e;
}

/* One entry of a batch at r->p: 0 with *m filled (m->seq from r->seq) and r advanced,
 * -1 with err. */
static int read_entry(struct bus_reader *r, struct bus_msg *m, char *err, size_t errlen)
{
    size_t rest = (size_t)(r->end - r->p);
    if (rest < BUS_ENTRY_HEADER_LEN + 1)
        return fail(err, errlen, "bus message: field 'outputs': output %u truncated",
                    (unsigned)(r->count - r->left + 1)),
               -1;
    m->ts = (int64_t)get_u64(r->p + 1);
    m->seq = r->seq;
    m->json_len = 0;
    size_t used = get_value(r->p + BUS_ENTRY_HEADER_LEN, rest - BUS_ENTRY_HEADER_LEN, r->p[0], 0,
                            &m->value, &m->json_len, err, errlen);
    if (!used)
        return -1;
    r->p += BUS_ENTRY_HEADER_LEN + used;
    r->seq++;
    r->left--;
    return 0;
}

int bus_reader_open(struct bus_reader *r, const unsigned char *buf, size_t len, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof(*r));
    if (len >= 3 && buf[0] == 'Q' && buf[1] == 'B' && buf[2] == BUS_CODEC_VERSION_1) {
        if (bus_decode(buf, len, &r->one, err, errlen) < 0)
            return -1;
        memcpy(r->node_id, r->one.node_id, sizeof(r->node_id));
        r->version = BUS_CODEC_VERSION_1;
        r->first_seq = r->one.seq;
        r->count = r->left = 1;
        return 0;
    }
    if (len < 5)
        return fail(err, errlen, "bus message: %zu bytes, shorter than a header", len), -1;
    if (buf[0] != 'Q' || buf[1] != 'B')
        return fail(err, errlen, "bus message: field 'magic': not a qmtl bus message"), -1;
    if (buf[2] != BUS_CODEC_VERSION && buf[2] != BUS_CODEC_VERSION_3)
        return fail(err, errlen, "bus message: field 'version': %u, this build reads 1 to %d",
                    buf[2], BUS_CODEC_VERSION_3),
               -1;
    size_t n = buf[3];
    if (n == 0 || n > BUS_NODE_ID_MAX || len < BUS_BATCH_HEADER_LEN(n))
        return fail(err, errlen, "bus message: field 'node_id': length %zu out of range", n), -1;
    if (get_node_id(buf + 4, n, r->node_id, err, errlen) < 0)
        return -1;
    r->first_seq = get_u64(buf + 4 + n);
    r->count = get_u32(buf + 12 + n);
    if (r->first_seq == 0 || r->first_seq - 1 > UINT64_MAX - r->count)
        return fail(err, errlen, "bus message: field 'first_seq': %llu out of range",
                    (unsigned long long)r->first_seq),
               -1;
    if (r->count == 0 || r->count > BUS_BATCH_MAX)
        return fail(err, errlen, "bus message: field 'count': %u outputs, expected 1..%d",
                    (unsigned)r->count, BUS_BATCH_MAX),
               -1;
    r->version = buf[2];
    r->end = buf + len;
    /* every output is checked before the first is handed out: a message is taken whole
     * or refused whole */
    struct bus_reader probe = *r;
    probe.p = buf + BUS_BATCH_HEADER_LEN(n);
    probe.seq = r->first_seq;
    probe.left = r->count;
    struct bus_msg m;
    while (probe.left)
        if (read_entry(&probe, &m, err, errlen) < 0)
            return -1;
    if (r->version == BUS_CODEC_VERSION_3) { /* the state trailer ends the message */
        size_t rest = (size_t)(probe.end - probe.p);
        uint32_t sl = rest >= 4 ? get_u32(probe.p) : 0;
        if (rest < 4 || sl == 0 || sl > BUS_STATE_MAX || (size_t)sl != rest - 4)
            return fail(err, errlen,
                        "bus message: field 'state': %u bytes announced, %zu follow (1..%u)",
                        (unsigned)sl, rest >= 4 ? rest - 4 : 0, BUS_STATE_MAX),
                   -1;
        r->state = probe.p + 4;
        r->state_len = sl;
        r->end = probe.end = probe.p; /* the outputs end where the state starts */
    }
    if (probe.p != probe.end)
        return fail(err, errlen, "bus message: field 'outputs': %zu bytes after output %u",
                    (size_t)(probe.end - probe.p), (unsigned)r->count),
               -1;
    r->p = buf + BUS_BATCH_HEADER_LEN(n);
    r->seq = r->first_seq;
    r->left = r->count;
    return 0;
}

int bus_reader_next(struct bus_reader *r, struct bus_msg *m)
{
    if (!r->left)
        return 0;
    if (r->version == BUS_CODEC_VERSION_1) {
        *m = r->one;
        r->left = 0;
        return 1;
    }
    memcpy(m->node_id, r->node_id, sizeof(m->node_id));
    char err[8];
    if (read_entry(r, m, err, sizeof(err)) < 0) /* not expected: checked by bus_reader_open */
        return 0;
    m->state = r->left ? NULL : r->state;
    m->state_len = r->left ? 0 : r->state_len;
    return 1;
}

int bus_batch_msg_id(const char *node_id, uint64_t first_seq, uint64_t last_seq, char *out,
                     size_t outlen)
{
    int n = snprintf(out, outlen, "%s:%llu-%llu", node_id, (unsigned long long)first_seq,
                     (unsigned long long)last_seq);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int bus_msg_id(const char *node_id, uint64_t seq, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s:%llu", node_id, (unsigned long long)seq);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static int topic_ok(const char *topic)
{
    if (!topic || !*topic)
        return 0;
    for (const char *c = topic; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return 0;
    /* NATS subject tokens may not be empty */
    return topic[0] != '.' && topic[strlen(topic) - 1] != '.' && !strstr(topic, "..");
}

int bus_subject(const char *topic, char *out, size_t outlen)
{
    if (!topic_ok(topic))
        return -1;
    int n = snprintf(out, outlen, "qmtl.q.%s", topic);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int bus_stream_name(const char *topic, char *out, size_t outlen)
{
    if (!topic_ok(topic))
        return -1;
    int n = snprintf(out, outlen, "QMTL_Q_%s", topic);
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    for (char *c = out; *c; c++)
        if (*c == '.')
            *c = '~';
    return 0;
}
