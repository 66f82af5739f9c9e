/* bus_nats: a JetStream connection bridged onto the process's event loop (see bus_nats.h). */
#include "bus_nats.h"

#include "bus_batcher.h"
#include "bus_loopconn.h"
#include "log.h"

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUPLICATE_WINDOW_NS (120LL * 1000000000LL)
#define CLOSE_WAIT_MS 2000
/* Async publish window: messages sent and not yet acknowledged by the stream, at most; a
 * publish beyond it waits up to STALL_WAIT_MS for room, then fails. */
#define PUBLISH_WINDOW 1024
#define STALL_WAIT_MS 1000
#define CONSUMER_WINDOW 64 /* messages delivered to a consumer, not yet acknowledged */

struct bus_sub {
    struct bus_conn *c;
    natsSubscription *sub; /* synchronous, on c->in: drained on the loop */
    bus_msg_fn fn;
    void *arg;
    int ack_each;    /* the durable consumer acknowledges explicitly (made by an earlier build) */
};

struct bus_conn {
    struct event_base *base;
    natsConnection *nc; /* publishing and requests: the library's own threads read it */
    jsCtx *js;
    struct bus_loopconn *in; /* deliveries: the loop reads it (made by the first consume) */
    char *url, *name;        /* for 'in' */
    int timeout_ms;
    struct bus_sub **subs;
    size_t n_subs;
    kvStore *leases;
    struct bus_batcher *batcher; /* what bus_conn_publish collects */
    _Atomic uint64_t published, publish_errors, delivered, refused;
};

static int nats_fail(char *err, size_t errlen, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    snprintf(err, errlen, "%s: %s%s%s", what, natsStatus_GetText(s), last && *last ? " (" : "",
             last && *last ? last : "");
    if (last && *last)
        snprintf(err + strlen(err), errlen > strlen(err) ? errlen - strlen(err) : 0, ")");
    if (jerr)
        snprintf(err + strlen(err), errlen > strlen(err) ? errlen - strlen(err) : 0,
                 " [JetStream error %d]", (int)jerr);
    return -1;
}

/* The stream and subject of a topic (BUS_NAME_MAX bytes each); -1 with err if it has none. */
static int topic_names(const char *topic, char *stream, char *subject, char *err, size_t errlen)
{
    if (bus_stream_name(topic, stream, BUS_NAME_MAX) < 0 ||
        bus_subject(topic, subject, BUS_NAME_MAX) < 0) {
        snprintf(err, errlen, "bus: topic '%.200s' gives no valid stream name", topic);
        return -1;
    }
    return 0;
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct bus_conn *c = closure;
    int len = pae->Msg ? natsMsg_GetDataLength(pae->Msg) : 0;
    uint32_t k = len > 0 ? bus_batch_count((const unsigned char *)natsMsg_GetData(pae->Msg),
                                           (size_t)len)
                         : 0;
    atomic_fetch_add(&c->publish_errors, k ? k : 1);
    LOG_WARN("bus", "publish to '%s' not acknowledged: %s",
             pae->Msg ? natsMsg_GetSubject(pae->Msg) : "?",
             pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
}

/* The server's acknowledgement of a delivered message (AckAll: every one before it too). */
static void ack(struct bus_conn *c, natsMsg *m)
{
    const char *reply = natsMsg_GetReply(m);
    if (reply && *reply)
        natsConnection_PublishString(bus_loopconn_nc(c->in), reply, "+ACK");
}

/* Loop thread, after each read from the delivery connection: decode what every
 * subscription received, hand every output over in order, then acknowledge in bulk: the
 * consumers acknowledge all (AckAll), so the last message of each subscription in this
 * read acknowledges every one before it. */
static void on_read(void *arg)
{
    struct bus_conn *c = arg;
    for (size_t i = 0; i < c->n_subs; i++) { /* a callback may add a subscription */
        struct bus_sub *s = c->subs[i];
        natsMsg *msg = NULL, *last = NULL;
        int n = 0, bytes = 0;
        while (natsSubscription_GetPending(s->sub, &n, &bytes) == NATS_OK && n > 0 &&
               natsSubscription_NextMsg(&msg, s->sub, 1) == NATS_OK) {
            struct bus_reader r;
            struct bus_msg m;
            char err[200];
            const unsigned char *data = (const unsigned char *)natsMsg_GetData(msg);
            int len = natsMsg_GetDataLength(msg);
            if (bus_reader_open(&r, data, len > 0 ? (size_t)len : 0, err, sizeof(err)) == 0) {
                while (bus_reader_next(&r, &m)) {
                    s->fn(s->arg, &m);
                    atomic_fetch_add(&c->delivered, 1);
                }
            } else {
                atomic_fetch_add(&c->refused, 1);
                LOG_WARN("bus", "message on '%s' refused: %s", natsMsg_GetSubject(msg), err);
            }
            if (s->ack_each) {
                ack(c, msg);
                natsMsg_Destroy(msg);
            } else {
                natsMsg_Destroy(last); /* acknowledged by the later one */
                last = msg;
            }
        }
        if (last) {
            ack(c, last);
            natsMsg_Destroy(last);
        }
    }
}

/* bus_batcher's send function: one message to the stream, acknowledged in the background. */
static int send_msg(void *arg, const char *subject, const char *msg_id, const unsigned char *data,
                    size_t len, uint32_t outputs)
{
    struct bus_conn *c = arg;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    natsStatus s = js_PublishAsync(c->js, subject, data, (int)len, &po);
    if (s != NATS_OK) {
        atomic_fetch_add(&c->publish_errors, outputs);
        LOG_WARN("bus", "publish of %u output(s) to '%s' failed: %s", (unsigned)outputs, subject,
                 natsStatus_GetText(s));
        return -1;
    }
    atomic_fetch_add(&c->published, outputs);
    return 0;
}

int bus_url_check(const char *key, const char *url, char *err, size_t errlen)
{
    const char *p = url;
    do {
        while (*p == ' ')
            p++;
        size_t scheme = !strncmp(p, "nats://", 7) ? 7 : !strncmp(p, "tls://", 6) ? 6 : 0;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!scheme || len <= scheme) {
            snprintf(err, errlen,
                     "%s: expected nats://HOST:PORT (several separated by commas), "
                     "got '%.200s'",
                     key, url);
            return -1;
        }
        p = end ? end + 1 : NULL;
    } while (p);
    return 0;
}

struct bus_conn *bus_conn_new(struct event_base *base, const char *url, const char *name,
                              int timeout_ms, char *err, size_t errlen)
{
    struct bus_conn *c = calloc(1, sizeof(*c));
    natsOptions *o = NULL;
    natsStatus s;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->base = base;
    c->timeout_ms = timeout_ms;
    if (!(c->url = strdup(url)) || !(c->name = strdup(name ? name : "qmtl"))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* a publish goes out from the loop thread at once, not through the flusher thread */
    if ((s = bus_options_new(&o, url, name, timeout_ms)) != NATS_OK) {
        nats_fail(err, errlen, "bus: options", s, 0);
        goto fail;
    }
    if ((s = natsConnection_Connect(&c->nc, o)) != NATS_OK) {
        char what[300];
        snprintf(what, sizeof(what), "bus: cannot connect to '%s'", url);
        nats_fail(err, errlen, what, s, 0);
        goto fail;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = timeout_ms > 0 ? timeout_ms : 2000;
    jo.PublishAsync.MaxPending = PUBLISH_WINDOW;
    jo.PublishAsync.StallWait = STALL_WAIT_MS;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = c;
    if ((s = natsConnection_JetStream(&c->js, c->nc, &jo)) != NATS_OK) {
        nats_fail(err, errlen, "bus: JetStream context", s, 0);
        goto fail;
    }
    if (!(c->batcher = bus_batcher_new(base, send_msg, c))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    natsOptions_Destroy(o);
    return c;
fail:
    natsOptions_Destroy(o);
    bus_conn_free(c);
    return NULL;
}

void bus_conn_free(struct bus_conn *c)
{
    if (!c)
        return;
    if (c->batcher)
        bus_batcher_flush(c->batcher);
    bus_batcher_free(c->batcher);
    if (c->js) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = CLOSE_WAIT_MS;
        if (js_PublishAsyncComplete(c->js, &po) != NATS_OK)
            LOG_WARN("bus", "closing with publishes not acknowledged");
    }
    /* what the subscriptions hold and was never acknowledged: the stream delivers it again
     * to the same durable consumer */
    for (size_t i = 0; i < c->n_subs; i++) {
        natsSubscription_Unsubscribe(c->subs[i]->sub);
        natsSubscription_Destroy(c->subs[i]->sub);
        free(c->subs[i]);
    }
    free(c->subs);
    bus_loopconn_free(c->in); /* writes the last acknowledgements */
    if (c->leases)
        kvStore_Destroy(c->leases);
    jsCtx_Destroy(c->js);
    if (c->nc) {
        natsConnection_FlushTimeout(c->nc, CLOSE_WAIT_MS);
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    free(c->url);
    free(c->name);
    free(c);
}

int bus_conn_ensure_stream(struct bus_conn *c, const char *topic, int64_t max_age_s, int *created,
                           char *err, size_t errlen)
{
    char stream[BUS_NAME_MAX], subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    if (created)
        *created = 0;
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, stream, NULL, &je);
    if (s == NATS_OK) {
        int ok = si->Config && si->Config->SubjectsLen == 1 &&
                 strcmp(si->Config->Subjects[0], subject) == 0;
        jsStreamInfo_Destroy(si);
        if (!ok) {
            snprintf(err, errlen, "bus: stream '%s' exists without the subject '%s'", stream,
                     subject);
            return -1;
        }
        return 0;
    }
    if (s != NATS_NOT_FOUND) {
        char what[BUS_NAME_MAX + 40];
        snprintf(what, sizeof(what), "bus: stream '%s' lookup", stream);
        return nats_fail(err, errlen, what, s, je);
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {subject};
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.MaxAge = max_age_s > 0 ? max_age_s * 1000000000LL : 0;
    /* the server wants the duplicate window within the retention */
    cfg.Duplicates =
        cfg.MaxAge && cfg.MaxAge < DUPLICATE_WINDOW_NS ? cfg.MaxAge : DUPLICATE_WINDOW_NS;
    je = 0;
    if ((s = js_AddStream(&si, c->js, &cfg, NULL, &je)) != NATS_OK) {
        char what[BUS_NAME_MAX + 40];
        snprintf(what, sizeof(what), "bus: cannot create stream '%s'", stream);
        return nats_fail(err, errlen, what, s, je);
    }
    jsStreamInfo_Destroy(si);
    if (created)
        *created = 1;
    return 0;
}

int bus_conn_publish(struct bus_conn *c, const char *topic, const char *node_id, int64_t ts,
                     uint64_t seq, const struct qmtl_value *v, char *err, size_t errlen)
{
    return bus_batcher_put(c->batcher, topic, node_id, ts, seq, v, err, errlen);
}

int bus_conn_last_output(struct bus_conn *c, const char *topic, int64_t *ts, uint64_t *seq,
                         char *err, size_t errlen)
{
    char stream[BUS_NAME_MAX], subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    natsMsg *msg = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetLastMsg(&msg, c->js, stream, subject, NULL, &je);
    if (s == NATS_NOT_FOUND)
        return 1;
    if (s != NATS_OK)
        return nats_fail(err, errlen, "bus: last message", s, je);
    struct bus_reader r;
    struct bus_msg m;
    int len = natsMsg_GetDataLength(msg);
    int rc = bus_reader_open(&r, (const unsigned char *)natsMsg_GetData(msg),
                             len > 0 ? (size_t)len : 0, err, errlen);
    while (rc == 0 && bus_reader_next(&r, &m)) /* the last output of the last message */
        *ts = m.ts, *seq = m.seq;
    natsMsg_Destroy(msg);
    return rc < 0 ? -1 : 0;
}

int bus_conn_flush(struct bus_conn *c, int timeout_ms, char *err, size_t errlen)
{
    if (bus_batcher_flush(c->batcher)) {
        snprintf(err, errlen, "bus: a batch of outputs could not be published (logged)");
        return -1;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_ms;
    natsStatus s = js_PublishAsyncComplete(c->js, &po);
    return s == NATS_OK ? 0 : nats_fail(err, errlen, "bus: waiting for acknowledgements", s, 0);
}

/* Send the subscription at once and wait (at most the connection timeout) until the server
 * shows the consumer bound to it: once bus_conn_consume returns, the consumer is in use
 * (what the DAG manager's collection looks at), as with a subscription the library makes. */
static natsStatus wait_bound(struct bus_conn *c, const char *stream, const char *durable)
{
    bus_loopconn_send(c->in);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int limit = c->timeout_ms > 0 ? c->timeout_ms : 2000;
    for (;;) {
        jsConsumerInfo *ci = NULL;
        natsStatus st = js_GetConsumerInfo(&ci, c->js, stream, durable, NULL, NULL);
        int bound = st == NATS_OK && ci->PushBound;
        jsConsumerInfo_Destroy(ci);
        if (st != NATS_OK || bound)
            return st;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > limit)
            return NATS_TIMEOUT;
        nanosleep(&(struct timespec){0, 1000000}, NULL); /* the server takes the SUB */
    }
}

int bus_conn_consume(struct bus_conn *c, const char *topic, const char *durable, bus_msg_fn fn,
                     void *arg, char *err, size_t errlen)
{
    char stream[BUS_NAME_MAX], subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    for (const char *d = durable; *d; d++)
        if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') || (*d >= '0' && *d <= '9') ||
              *d == '_' || *d == '-')) {
            snprintf(err, errlen, "bus: durable name '%.100s': only [A-Za-z0-9_-]", durable);
            return -1;
        }
    if (!*durable) {
        snprintf(err, errlen, "bus: empty durable name");
        return -1;
    }
    struct bus_sub *s = calloc(1, sizeof(*s));
    struct bus_sub **grown = realloc(c->subs, (c->n_subs + 1) * sizeof(*grown));
    if (!s || !grown) {
        free(s);
        if (grown)
            c->subs = grown;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->subs = grown;
    s->c = c;
    s->fn = fn;
    s->arg = arg;
    /* The consumer is created here, not by js_Subscribe: the library deletes a consumer it
     * created when the subscription ends, and a durable one must outlive the process. */
    char deliver[2 * BUS_NAME_MAX];
    snprintf(deliver, sizeof(deliver), "qmtl.d.%s.%s", stream, durable);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.DeliverSubject = deliver;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckPolicy = js_AckAll; /* one acknowledgement per wake-up of the loop */
    cc.AckWait = 5LL * 1000000000LL;
    /* messages delivered and not yet acknowledged: a bound on what waits in this process
     * (at most 64 batches), well under what a host handles within AckWait */
    cc.MaxAckPending = CONSUMER_WINDOW;
    jsConsumerInfo *ci = NULL;
    jsErrCode je = 0;
    natsStatus st = js_AddConsumer(&ci, c->js, stream, &cc, NULL, &je);
    if (st != NATS_OK && js_GetConsumerInfo(&ci, c->js, stream, durable, NULL, NULL) == NATS_OK &&
        ci->Config && ci->Config->AckPolicy == js_AckExplicit) {
        /* an existing consumer's ack policy cannot change: keep its place, ack each */
        LOG_INFO("bus", "consumer '%s' of stream '%s' acknowledges each message (made before "
                        "bulk acknowledgements)", durable, stream);
        s->ack_each = 1;
        st = NATS_OK;
    }
    if (st != NATS_OK || !ci || !ci->Config || !ci->Config->DeliverSubject ||
        !*ci->Config->DeliverSubject || ci->PushBound) {
        char what[2 * BUS_NAME_MAX + 60];
        snprintf(what, sizeof(what), "bus: consumer '%s' of stream '%s'", durable, stream);
        if (st == NATS_OK)
            snprintf(err, errlen, "%s: %s", what,
                     ci && ci->PushBound ? "another subscription reads it already"
                                         : "it is not a push consumer");
        else
            nats_fail(err, errlen, what, st, je);
        jsConsumerInfo_Destroy(ci);
        free(s);
        return -1;
    }
    /* the deliveries: a plain subscription on the consumer's delivery subject, on the
     * connection the loop reads (bus_loopconn.h), drained by on_read */
    if (!c->in && !(c->in = bus_loopconn_new(c->base, c->url, c->name, c->timeout_ms, on_read, c,
                                             err, errlen))) {
        jsConsumerInfo_Destroy(ci);
        free(s);
        return -1;
    }
    st = natsConnection_SubscribeSync(&s->sub, bus_loopconn_nc(c->in), ci->Config->DeliverSubject);
    jsConsumerInfo_Destroy(ci);
    je = 0;
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(s->sub, -1, -1);
    if (st == NATS_OK)
        st = wait_bound(c, stream, durable);
    if (st != NATS_OK) {
        if (s->sub) {
            natsSubscription_Unsubscribe(s->sub);
            natsSubscription_Destroy(s->sub);
        }
        free(s);
        char what[BUS_NAME_MAX + 60];
        snprintf(what, sizeof(what), "bus: cannot consume stream '%s'", stream);
        return nats_fail(err, errlen, what, st, je);
    }
    c->subs[c->n_subs++] = s;
    return 0;
}

int bus_conn_queue_report(struct bus_conn *c, const char *topic, json_t **out, char *err,
                          size_t errlen)
{
    char stream[BUS_NAME_MAX];
    *out = NULL;
    char subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    jsStreamInfo *si = NULL;
    jsConsumerInfoList *cl = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, stream, NULL, &je);
    if (s == NATS_NOT_FOUND)
        return 1;
    if (s != NATS_OK)
        return nats_fail(err, errlen, "bus: stream lookup", s, je);
    s = js_Consumers(&cl, c->js, stream, NULL, &je);
    if (s != NATS_OK && s != NATS_NOT_FOUND) {
        jsStreamInfo_Destroy(si);
        return nats_fail(err, errlen, "bus: consumer list", s, je);
    }
    json_t *cs = json_array();
    for (int i = 0; cl && i < cl->Count; i++) {
        const jsConsumerInfo *ci = cl->List[i];
        json_array_append_new(
            cs, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "name", ci->Name ? ci->Name : "",
                          "delivered", (json_int_t)ci->Delivered.Stream, "acknowledged",
                          (json_int_t)ci->AckFloor.Stream, "lag", (json_int_t)ci->NumPending,
                          "ack_pending", (json_int_t)ci->NumAckPending, "redelivered",
                          (json_int_t)ci->NumRedelivered, "active", ci->PushBound));
    }
    *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "stream", stream, "messages",
                     (json_int_t)si->State.Msgs, "bytes", (json_int_t)si->State.Bytes, "first_seq",
                     (json_int_t)si->State.FirstSeq, "last_seq", (json_int_t)si->State.LastSeq,
                     "last_ts",
                     (json_int_t)(si->State.Msgs ? si->State.LastTime / 1000000000LL : 0),
                     "consumers", cs);
    jsConsumerInfoList_Destroy(cl);
    jsStreamInfo_Destroy(si);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

#define LEASE_BUCKET "QMTL_LEASES"

int bus_conn_lease_open(struct bus_conn *c, int ttl_ms, char *err, size_t errlen)
{
    if (c->leases)
        return 0;
    natsStatus s = js_KeyValue(&c->leases, c->js, LEASE_BUCKET);
    if (s == NATS_NOT_FOUND) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = LEASE_BUCKET;
        kc.History = 1;
        kc.TTL = (int64_t)ttl_ms * 1000000; /* nanoseconds */
        kc.StorageType = js_MemoryStorage;
        s = js_CreateKeyValue(&c->leases, c->js, &kc);
        if (s != NATS_OK && js_KeyValue(&c->leases, c->js, LEASE_BUCKET) == NATS_OK)
            s = NATS_OK; /* another process created it meanwhile */
    }
    return s == NATS_OK ? 0 : nats_fail(err, errlen, "bus: lease bucket", s, 0);
}

/* The current holder of 'key' (truncated to len) and its revision: 1, 0 none, -1 error. */
static int lease_get(struct bus_conn *c, const char *key, char *holder, size_t len,
                     uint64_t *rev, char *err, size_t errlen)
{
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, c->leases, key);
    if (s == NATS_NOT_FOUND)
        return 0;
    if (s != NATS_OK)
        return nats_fail(err, errlen, "bus: lease lookup", s, 0);
    const char *v = kvEntry_ValueString(e);
    snprintf(holder, len, "%s", v ? v : "");
    *rev = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    return 1;
}

/* 1 when the current value of 'key' is 'holder' (*rev set), 0 another or none, -1 error. */
static int lease_held_by(struct bus_conn *c, const char *key, const char *holder, uint64_t *rev,
                         char *err, size_t errlen)
{
    char cur[512];
    uint64_t r = 0;
    int rc = lease_get(c, key, cur, sizeof(cur), &r, err, errlen);
    if (rc <= 0 || strcmp(cur, holder) != 0)
        return rc < 0 ? -1 : 0;
    *rev = r;
    return 1;
}

int bus_conn_lease_take(struct bus_conn *c, const char *key, const char *holder, uint64_t *rev,
                        char *err, size_t errlen)
{
    /* read first: a lease another host holds (what a consuming or standby host finds on
     * every tick) costs one request on the loop, not two */
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, c->leases, key);
    if (s == NATS_OK) {
        const char *v = kvEntry_ValueString(e);
        int other = !v || strcmp(v, holder) != 0;
        kvEntry_Destroy(e);
        if (other)
            return 0;
    } else if (s != NATS_NOT_FOUND) {
        return nats_fail(err, errlen, "bus: lease lookup", s, 0);
    }
    s = kvStore_CreateString(rev, c->leases, key, holder);
    if (s == NATS_OK)
        return 1;
    uint64_t mine = 0;
    int held = lease_held_by(c, key, holder, &mine, err, errlen);
    if (held <= 0)
        return held;
    *rev = mine;
    return bus_conn_lease_renew(c, key, holder, rev, err, errlen);
}

int bus_conn_lease_renew(struct bus_conn *c, const char *key, const char *holder, uint64_t *rev,
                         char *err, size_t errlen)
{
    uint64_t next = 0;
    natsStatus s = kvStore_UpdateString(&next, c->leases, key, holder, *rev);
    if (s == NATS_OK) {
        *rev = next;
        return 1;
    }
    /* an expired entry may be gone: taking it again is renewing it */
    s = kvStore_CreateString(&next, c->leases, key, holder);
    if (s == NATS_OK) {
        *rev = next;
        return 1;
    }
    (void)err, (void)errlen;
    return 0;
}

void bus_conn_lease_release(struct bus_conn *c, const char *key, const char *holder)
{
    uint64_t rev;
    char err[200];
    if (c->leases && lease_held_by(c, key, holder, &rev, err, sizeof(err)) == 1)
        kvStore_Delete(c->leases, key);
}

int bus_conn_lease_holder(struct bus_conn *c, const char *key, char *holder, size_t len,
                          char *err, size_t errlen)
{
    if (!c->leases) {
        natsStatus s = js_KeyValue(&c->leases, c->js, LEASE_BUCKET);
        if (s == NATS_NOT_FOUND)
            return 0; /* no host ever took a lease */
        if (s != NATS_OK)
            return nats_fail(err, errlen, "bus: lease bucket", s, 0);
    }
    uint64_t rev;
    int rc = lease_get(c, key, holder, len, &rev, err, errlen);
    return rc == 1 && !*holder ? 0 : rc; /* an empty value holds nothing */
}

void bus_conn_stats(const struct bus_conn *c, struct bus_conn_stats *out)
{
    out->published = atomic_load(&c->published);
    out->publish_errors = atomic_load(&c->publish_errors);
    out->delivered = atomic_load(&c->delivered);
    out->refused = atomic_load(&c->refused);
}

int bus_conn_delete_stream(struct bus_conn *c, const char *topic, char *err, size_t errlen)
{
    char stream[BUS_NAME_MAX], subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    jsErrCode je = 0;
    natsStatus s = js_DeleteStream(c->js, stream, NULL, &je);
    if (s == NATS_NOT_FOUND)
        return 1;
    if (s != NATS_OK) {
        char what[BUS_NAME_MAX + 40];
        snprintf(what, sizeof(what), "bus: cannot delete stream '%s'", stream);
        return nats_fail(err, errlen, what, s, je);
    }
    return 0;
}

/* What a cancelled subscription's callback becomes: its outputs still in the pipe go
 * nowhere. */
static void cancelled(void *arg, const struct bus_msg *m)
{
    (void)arg, (void)m;
}

int bus_conn_cancel(struct bus_conn *c, void *arg)
{
    int n = 0;
    for (size_t i = 0; i < c->n_subs; i++) {
        struct bus_sub *s = c->subs[i];
        if (s->arg != arg || s->fn == cancelled)
            continue;
        natsSubscription_Unsubscribe(s->sub); /* the durable consumer stays (made here) */
        s->fn = cancelled;
        n++;
    }
    return n;
}

int bus_conn_delete_consumer(struct bus_conn *c, const char *topic, const char *durable,
                             char *err, size_t errlen)
{
    char stream[BUS_NAME_MAX], subject[BUS_NAME_MAX];
    if (topic_names(topic, stream, subject, err, errlen) < 0)
        return -1;
    jsErrCode je = 0;
    natsStatus s = js_DeleteConsumer(c->js, stream, durable, NULL, &je);
    if (s == NATS_NOT_FOUND || je == JSConsumerNotFoundErr || je == JSStreamNotFoundErr)
        return 1;
    if (s != NATS_OK) {
        char what[2 * BUS_NAME_MAX];
        snprintf(what, sizeof(what), "bus: cannot delete consumer '%s' of stream '%s'", durable,
                 stream);
        return nats_fail(err, errlen, what, s, je);
    }
    return 0;
}
