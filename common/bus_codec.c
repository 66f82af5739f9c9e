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

size_t bus_encoded_size(const char *node_id, const struct qmtl_value *value)
{
    size_t n = node_id_len(node_id);
    long fixed = value ? fixed_payload(value->type) : -1;
    if (!n || fixed < 0)
        return 0;
    if (value->type != QMTL_T_JSON)
        return BUS_HEADER_LEN + n + (size_t)fixed;
    if (!value->as.json)
        return 0;
    size_t m = strnlen(value->as.json, (size_t)BUS_JSON_MAX + 1);
    if (m > BUS_JSON_MAX)
        return 0;
    return BUS_HEADER_LEN + n + 4 + m;
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
        if (value && value->type == QMTL_T_JSON)
            return fail(err, errlen, "bus message: JSON value missing or over %u bytes",
                        BUS_JSON_MAX);
        return fail(err, errlen, "bus message: value type %d cannot be sent",
                    value ? (int)value->type : -1);
    }
    if (total > cap)
        return fail(err, errlen, "bus message: %zu bytes needed, buffer holds %zu", total, cap);
    size_t n = node_id_len(node_id);
    out[0] = 'Q';
    out[1] = 'B';
    out[2] = BUS_CODEC_VERSION;
    out[3] = (unsigned char)value->type;
    put_u64(out + 4, (uint64_t)ts);
    put_u64(out + 12, seq);
    out[20] = (unsigned char)n;
    memcpy(out + BUS_HEADER_LEN, node_id, n);
    unsigned char *p = out + BUS_HEADER_LEN + n;
    const struct qmtl_value *v = value;
    switch (value->type) {
    case QMTL_T_NUMBER:
        put_f64(p, v->as.number);
        break;
    case QMTL_T_INT:
        put_u64(p, (uint64_t)v->as.integer);
        break;
    case QMTL_T_BOOL:
        p[0] = v->as.boolean ? 1 : 0;
        break;
    case QMTL_T_BAR:
        put_f64(p, v->as.bar.open);
        put_f64(p + 8, v->as.bar.high);
        put_f64(p + 16, v->as.bar.low);
        put_f64(p + 24, v->as.bar.close);
        put_f64(p + 32, v->as.bar.volume);
        break;
    case QMTL_T_SIGNAL:
        put_u32(p, (uint32_t)v->as.signal.action);
        put_f64(p + 4, v->as.signal.target);
        put_f64(p + 12, v->as.signal.strength);
        break;
    case QMTL_T_ORDER:
        put_u32(p, (uint32_t)v->as.order.side);
        put_f64(p + 4, v->as.order.quantity);
        put_f64(p + 12, v->as.order.price);
        break;
    default: { /* QMTL_T_JSON */
        size_t m = total - BUS_HEADER_LEN - n - 4;
        put_u32(p, (uint32_t)m);
        memcpy(p + 4, v->as.json, m);
        break;
    }
    }
    return total;
}

int bus_decode(const unsigned char *buf, size_t len, struct bus_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (len < BUS_HEADER_LEN + 1)
        return fail(err, errlen, "bus message: %zu bytes, shorter than a header", len), -1;
    if (buf[0] != 'Q' || buf[1] != 'B')
        return fail(err, errlen, "bus message: field 'magic': not a qmtl bus message"), -1;
    if (buf[2] != BUS_CODEC_VERSION)
        return fail(err, errlen, "bus message: field 'version': %u, this build reads %d", buf[2],
                    BUS_CODEC_VERSION),
               -1;
    int32_t type = buf[3];
    long fixed = fixed_payload(type);
    if (fixed < 0)
        return fail(err, errlen, "bus message: field 'type': unknown value type %d", (int)type), -1;
    size_t n = buf[20];
    if (n == 0 || n > BUS_NODE_ID_MAX || len < BUS_HEADER_LEN + n)
        return fail(err, errlen, "bus message: field 'node_id': length %zu out of range", n), -1;
    memcpy(m->node_id, buf + BUS_HEADER_LEN, n);
    m->node_id[n] = '\0';
    if (node_id_len(m->node_id) != n) {
        m->node_id[0] = '\0';
        return fail(err, errlen, "bus message: field 'node_id': not printable ASCII"), -1;
    }
    m->ts = (int64_t)get_u64(buf + 4);
    m->seq = get_u64(buf + 12);
    const unsigned char *p = buf + BUS_HEADER_LEN + n;
    size_t rest = len - BUS_HEADER_LEN - n;
    m->value.type = type;
    if (type != QMTL_T_JSON && rest != (size_t)fixed)
        return fail(err, errlen, "bus message: field 'value': %zu bytes for type %d, expected %ld",
                    rest, (int)type, fixed),
               -1;
    switch (type) {
    case QMTL_T_NUMBER:
        m->value.as.number = get_f64(p);
        break;
    case QMTL_T_INT:
        m->value.as.integer = (int64_t)get_u64(p);
        break;
    case QMTL_T_BOOL:
        if (p[0] > 1)
            return fail(err, errlen, "bus message: field 'value': bool byte %u", p[0]), -1;
        m->value.as.boolean = p[0];
        break;
    case QMTL_T_BAR:
        m->value.as.bar.open = get_f64(p);
        m->value.as.bar.high = get_f64(p + 8);
        m->value.as.bar.low = get_f64(p + 16);
        m->value.as.bar.close = get_f64(p + 24);
        m->value.as.bar.volume = get_f64(p + 32);
        break;
    case QMTL_T_SIGNAL:
        m->value.as.signal.action = (int32_t)get_u32(p);
        m->value.as.signal.target = get_f64(p + 4);
        m->value.as.signal.strength = get_f64(p + 12);
        break;
    case QMTL_T_ORDER:
        m->value.as.order.side = (int32_t)get_u32(p);
        if (m->value.as.order.side != QMTL_SIDE_BUY && m->value.as.order.side != QMTL_SIDE_SELL)
            return fail(err, errlen, "bus message: field 'value': order side %d",
                        (int)m->value.as.order.side),
                   -1;
        m->value.as.order.quantity = get_f64(p + 4);
        m->value.as.order.price = get_f64(p + 12);
        break;
    default: { /* QMTL_T_JSON */
        if (rest < 4)
            return fail(err, errlen, "bus message: field 'value': JSON length missing"), -1;
        uint32_t jl = get_u32(p);
        if (jl > BUS_JSON_MAX || (size_t)jl != rest - 4)
            return fail(err, errlen, "bus message: field 'value': JSON length %u, %zu bytes follow",
                        jl, rest - 4),
                   -1;
        json_error_t jerr;
        json_t *j = json_loadb((const char *)p + 4, jl, JSON_DECODE_ANY, &jerr);
        if (!j)
            return fail(err, errlen, "bus message: field 'value': invalid JSON (%s)", jerr.text),
                   -1;
        json_decref(j);
        m->value.as.json = (const char *)p + 4;
        m->json_len = jl;
        break;
    }
    }
    return 0;
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
