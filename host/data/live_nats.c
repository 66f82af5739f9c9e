/* live_nats: line-JSON market data from a core NATS subject, on the loop (see live_nats.h). */
#include "host/data/live_nats.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/data/linejson.h"
#include "host/host_api.h"
#include "log.h"

#define CONNECT_MS 2000
#define CLOSE_WAIT_MS 2000
#define ACK_WAIT_NS (300LL * 1000000000LL) /* a durable's message not acknowledged: again */

struct msgq {
    struct msgq *next;
    natsMsg *msg;
};

struct live_nats {
    struct live_in *li;
    struct live_src_log log;
    char *name, *subject;
    char stream[LIVE_NATS_NAME_MAX], durable[LIVE_NATS_NAME_MAX]; /* "": core NATS */
    jsCtx *js;
    char **tags; /* n_tags + NULL */
    size_t n_tags;
    unsigned lj_flags;
    natsConnection *nc;
    natsSubscription *sub;
    int pipefd[2];
    struct event *wake; /* the pipe: a message or a connection event */
    struct event *more; /* go on at once (a batch was full, or kicked) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct msgq *head, *tail;  /* under mu */
    size_t queued;             /* under mu */
    int closing;               /* under mu: on_msg drops instead of waiting */
    int sub_done, conn_closed; /* under mu: no callback of the subscription / connection left */
    _Atomic int connected;
    _Atomic uint64_t disconnects, reconnects;
    uint64_t seen_disconnects, seen_reconnects; /* loop thread: what was logged */
    int64_t seen_dropped;
    long msgs; /* messages read so far (their number in logs) */
    char *buf; /* LIVE_NATS_MSG_MAX + 1: one message and the parser's spare byte */
};

int live_nats_is_spec(const char *spec)
{
    return !strncmp(spec, "nats://", 7);
}

static int subject_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= LIVE_NATS_SUBJECT_MAX || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* A JetStream name ([A-Za-z0-9_-], 1..LIVE_NATS_NAME_MAX - 1 bytes) from 'v' up to '&' or
 * the end, into out. 0, or -1. */
static int js_name(const char *v, char *out)
{
    size_t n = strcspn(v, "&");
    if (!n || n >= LIVE_NATS_NAME_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
            return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* "?stream=S&durable=D" (both, in any order) into sp. 0, or -1 with err. */
static int parse_query(const char *spec, const char *q, struct live_nats_spec *sp, char *err,
                       size_t errlen)
{
    for (const char *p = q; *p; p += strcspn(p, "&"), p += *p == '&') {
        char *dst = !strncmp(p, "stream=", 7)    ? sp->stream
                    : !strncmp(p, "durable=", 8) ? sp->durable
                                                 : NULL;
        if (!dst || *dst || js_name(strchr(p, '=') + 1, dst) < 0) {
            snprintf(err, errlen,
                     "%.200s: the options are ?stream=NAME&durable=NAME, once each, names of "
                     "[A-Za-z0-9_-] under %d bytes",
                     spec, LIVE_NATS_NAME_MAX);
            return -1;
        }
    }
    if (!*sp->stream || !*sp->durable) {
        snprintf(err, errlen, "%.200s: a JetStream input needs both ?stream=NAME&durable=NAME",
                 spec);
        return -1;
    }
    return 0;
}

int live_nats_parse(const char *spec, struct live_nats_spec *sp, char *err, size_t errlen)
{
    memset(sp, 0, sizeof(*sp));
    char subj[LIVE_NATS_SUBJECT_MAX + 1];
    const char *hp = spec + 7, *slash = live_nats_is_spec(spec) ? strchr(hp, '/') : NULL;
    const char *q = slash ? strchr(slash, '?') : NULL;
    if (!slash || slash == hp || !slash[1]) {
        snprintf(err, errlen, "%.200s: expected nats://HOST:PORT/SUBJECT", spec);
        return -1;
    }
    if (memchr(hp, '@', (size_t)(slash - hp)) || memchr(hp, ',', (size_t)(slash - hp))) {
        snprintf(err, errlen,
                 "%.200s: one server, without user or password (nats://HOST:PORT/"
                 "SUBJECT)",
                 spec);
        return -1;
    }
    size_t sl = q ? (size_t)(q - slash - 1) : strlen(slash + 1);
    snprintf(subj, sizeof(subj), "%.*s", (int)(sl < sizeof(subj) ? sl : sizeof(subj) - 1),
             slash + 1);
    if (strchr(subj, '*') || strchr(subj, '>')) {
        snprintf(err, errlen, "%.200s: wildcards are refused: one input, one subject", spec);
        return -1;
    }
    if (sl >= LIVE_NATS_SUBJECT_MAX || !subject_ok(subj)) {
        snprintf(err, errlen,
                 "%.200s: bad subject '%.100s' (tokens of [A-Za-z0-9_-] separated by "
                 "dots, under %d bytes)",
                 spec, subj, LIVE_NATS_SUBJECT_MAX);
        return -1;
    }
    if ((size_t)(slash - spec) >= sizeof(sp->url)) {
        snprintf(err, errlen, "%.200s: too long", spec);
        return -1;
    }
    if (q && parse_query(spec, q + 1, sp, err, errlen) < 0)
        return -1;
    memcpy(sp->url, spec, (size_t)(slash - spec));
    sp->url[slash - spec] = '\0';
    memcpy(sp->subject, subj, sl + 1);
    return 0;
}

static void wake_loop(struct live_nats *n)
{
    char b = 1;
    ssize_t w = write(n->pipefd[1], &b, 1); /* a full pipe: a wake-up is pending anyway */
    (void)w;
}

/* ------------------------------------------------------------- library threads */

/* Queue the message for the loop, waiting while LIVE_NATS_QUEUE are already there (the
 * client buffers the next ones meanwhile, up to its pending limits). */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    struct live_nats *n = closure;
    struct msgq *q = malloc(sizeof(*q));
    pthread_mutex_lock(&n->mu);
    while (n->queued >= LIVE_NATS_QUEUE && !n->closing)
        pthread_cond_wait(&n->cv, &n->mu);
    if (n->closing || !q) {
        pthread_mutex_unlock(&n->mu);
        natsMsg_Destroy(msg);
        free(q);
        return;
    }
    q->next = NULL;
    q->msg = msg;
    if (n->tail)
        n->tail->next = q;
    else
        n->head = q;
    n->tail = q;
    n->queued++;
    pthread_mutex_unlock(&n->mu);
    wake_loop(n);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct live_nats *n = closure;
    atomic_store(&n->connected, 0);
    atomic_fetch_add(&n->disconnects, 1);
    wake_loop(n);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct live_nats *n = closure;
    atomic_store(&n->connected, 1);
    atomic_fetch_add(&n->reconnects, 1);
    wake_loop(n);
}

/* Slow consumer and the like: the loop reads the drop count when it wakes. */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc;
    (void)sub;
    (void)err;
    wake_loop(closure);
}

static void set_done(struct live_nats *n, int *flag)
{
    pthread_mutex_lock(&n->mu);
    *flag = 1;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

static void on_sub_complete(void *closure)
{
    struct live_nats *n = closure;
    set_done(n, &n->sub_done);
}

static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    struct live_nats *n = closure;
    set_done(n, &n->conn_closed);
}

/* ------------------------------------------------------------- loop thread */

static struct host_metrics_source *metric(struct live_nats *n)
{
    struct host *h = live_in_host_(n->li);
    return h && n->log.metric >= 0 ? host_metrics_src(&h->metrics, n->log.metric) : NULL;
}

/* Connection events and drops since the last look: logged once each, into the metrics. */
static void sync_state(struct live_nats *n)
{
    struct host_metrics_source *m = metric(n);
    uint64_t d = atomic_load(&n->disconnects), r = atomic_load(&n->reconnects);
    if (d != n->seen_disconnects) {
        LOG_WARN("live",
                 "live input %s: lost the NATS server; reconnecting (messages published "
                 "meanwhile are lost)",
                 n->name);
        n->seen_disconnects = d;
    }
    if (r != n->seen_reconnects) {
        LOG_INFO("live", "live input %s: reconnected to NATS (%llu reconnection(s) so far)",
                 n->name, (unsigned long long)r);
        n->seen_reconnects = r;
    }
    int64_t dropped = 0;
    if (n->sub && natsSubscription_GetDropped(n->sub, &dropped) == NATS_OK &&
        dropped > n->seen_dropped) {
        LOG_WARN("live",
                 "live input %s: %lld message(s) dropped by the NATS client: the host "
                 "was behind (slow consumer)",
                 n->name, (long long)(dropped - n->seen_dropped));
        n->seen_dropped = dropped;
    }
    if (m) {
        m->connections = atomic_load(&n->connected);
        m->connections_total = 1 + r;
        m->reconnects = r;
        m->dropped = (uint64_t)n->seen_dropped;
    }
}

static int same_tags(const struct linejson_item *it, char *const *tags, size_t n_tags)
{
    if (it->n_tags != n_tags)
        return 0;
    for (size_t i = 0; i < n_tags; i++) {
        size_t k = 0;
        while (k < n_tags && strcmp(it->tags[i], tags[k]))
            k++;
        if (k == n_tags)
            return 0;
    }
    return 1;
}

/* One message: its lines parsed and delivered. The number of lines. */
static long one_message(struct live_nats *n, natsMsg *msg)
{
    char who[LIVE_NATS_SUBJECT_MAX + 48];
    snprintf(who, sizeof(who), "subject %s message %ld", natsMsg_GetSubject(msg), ++n->msgs);
    int len = natsMsg_GetDataLength(msg);
    if (len > LIVE_NATS_MSG_MAX) {
        char why[96];
        snprintf(why, sizeof(why), "message of %d bytes (at most %d)", len, LIVE_NATS_MSG_MAX);
        live_in_bad_line_(n->li, &n->log, who, 1, why);
        return 1;
    }
    if (len > 0)
        memcpy(n->buf, natsMsg_GetData(msg), (size_t)len);
    size_t pos = 0, end = len > 0 ? (size_t)len : 0;
    long line = 0;
    while (pos < end) {
        char *start = n->buf + pos, *nl = memchr(start, '\n', end - pos);
        size_t l = nl ? (size_t)(nl - start) : end - pos;
        pos += l + (nl != NULL);
        line++;
        if (l > LIVE_LINE_MAX) {
            char why[96];
            snprintf(why, sizeof(why), "line longer than %d bytes", LIVE_LINE_MAX);
            live_in_bad_line_(n->li, &n->log, who, line, why);
            continue;
        }
        struct linejson_item it; /* its spare byte: the newline, or buf[len] */
        char why[200];
        int rc = linejson_parse(start, l, n->lj_flags, &it, why, sizeof(why));
        if (rc < 0) {
            live_in_bad_line_(n->li, &n->log, who, line, why);
        } else if (rc == 1 && n->n_tags && it.n_tags && !same_tags(&it, n->tags, n->n_tags)) {
            snprintf(why, sizeof(why), "tags %s%s differ from the input's (%s%s)", it.tags[0],
                     it.n_tags > 1 ? ",..." : "", n->tags[0], n->n_tags > 1 ? ",..." : "");
            live_in_bad_line_(n->li, &n->log, who, line, why);
        } else if (rc == 1) {
            struct live_item item = {.tags = it.n_tags ? it.tags : (const char *const *)n->tags,
                                     .n_tags = it.n_tags ? it.n_tags : n->n_tags,
                                     .ts = it.ts,
                                     .ts_ms = it.ts_ms,
                                     .bar = it.bar,
                                     .is_bar = it.is_bar};
            live_in_deliver_(n->li, &n->log, who, line, &item);
        }
    }
    return line;
}

/* Deliver what waits, LIVE_BATCH lines at most; go on at once when more is left. */
static void pump(struct live_nats *n)
{
    sync_state(n);
    if (live_in_hold_check_(n->li))
        return;
    live_in_stamp_(n->li);
    long lines = 0;
    while (lines < LIVE_BATCH && !live_in_behind_(n->li)) {
        pthread_mutex_lock(&n->mu);
        struct msgq *q = n->head;
        if (q) {
            n->head = q->next;
            if (!n->head)
                n->tail = NULL;
            n->queued--;
            pthread_cond_signal(&n->cv);
        }
        pthread_mutex_unlock(&n->mu);
        if (!q)
            return;
        lines += one_message(n, q->msg);
        if (*n->durable)
            natsMsg_Ack(q->msg, NULL); /* delivered: the durable moves past it */
        natsMsg_Destroy(q->msg);
        free(q);
    }
    event_active(n->more, EV_READ, 0);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char b[256];
    while (read(fd, b, sizeof(b)) > 0)
        ;
    pump(arg);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* "live input NAME: WHAT: status (detail)" ('input' 0: "NAME: WHAT: ..."). -1. */
int live_nats_fail_(char *err, size_t errlen, int input, const char *name, const char *what,
                    natsStatus s)
{
    const char *last = nats_GetLastError(NULL);
    if (last && strstr(last, natsStatus_GetText(s)))
        last = NULL; /* the same words again, with a source location */
    snprintf(err, errlen, "%s%s: %s: %s%s%s%s", input ? "live input " : "", name, what,
             natsStatus_GetText(s), last && *last ? " (" : "", last && *last ? last : "",
             last && *last ? ")" : "");
    return -1;
}

/* Options common to the input and the publisher. */
natsStatus live_nats_options_(natsOptions **o, const char *url, const char *conn_name)
{
    natsStatus s;
    if ((s = natsOptions_Create(o)) != NATS_OK || (s = natsOptions_SetURL(*o, url)) != NATS_OK ||
        (s = natsOptions_SetName(*o, conn_name)) != NATS_OK ||
        (s = natsOptions_SetTimeout(*o, CONNECT_MS)) != NATS_OK ||
        (s = natsOptions_SetMaxReconnect(*o, -1)) != NATS_OK ||
        (s = natsOptions_SetReconnectWait(*o, 250)) != NATS_OK)
        return s;
    return NATS_OK;
}

/* ?stream=S&durable=D: the durable consumer of the subject in stream S, created when
 * missing (delivering the stream's messages from its first; at most LIVE_NATS_QUEUE not
 * acknowledged), then subscribed to. The consumer is created here, not by js_Subscribe:
 * the library deletes a consumer it created when the subscription ends. */
static int subscribe_durable(struct live_nats *n, char *err, size_t errlen)
{
    char deliver[2 * LIVE_NATS_NAME_MAX + 16], what[3 * LIVE_NATS_NAME_MAX];
    snprintf(deliver, sizeof(deliver), "qmtl.md.%s.%s", n->stream, n->durable);
    snprintf(what, sizeof(what), "consumer '%s' of stream '%s'", n->durable, n->stream);
    natsStatus s = natsConnection_JetStream(&n->js, n->nc, NULL);
    if (s != NATS_OK)
        return live_nats_fail_(err, errlen, 1, n->name, "JetStream context", s);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = n->durable;
    cc.DeliverSubject = deliver;
    cc.FilterSubject = n->subject;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ACK_WAIT_NS;
    cc.MaxAckPending = LIVE_NATS_QUEUE;
    jsConsumerInfo *ci = NULL;
    jsErrCode je = 0;
    s = js_AddConsumer(&ci, n->js, n->stream, &cc, NULL, &je);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        live_nats_fail_(err, errlen, 1, n->name, what, s);
        if (je)
            snprintf(err + strlen(err), errlen > strlen(err) ? errlen - strlen(err) : 0,
                     " [JetStream error %d]", (int)je);
        return -1;
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = n->stream;
    so.Consumer = n->durable;
    so.ManualAck = true;
    s = js_Subscribe(&n->sub, n->js, n->subject, on_msg, n, NULL, &so, &je);
    return s == NATS_OK ? 0 : live_nats_fail_(err, errlen, 1, n->name, what, s);
}

static int connect_and_subscribe(struct live_nats *n, const char *url, char *err, size_t errlen)
{
    natsOptions *o = NULL;
    natsStatus s = live_nats_options_(&o, url, "qmtl-host-md");
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o, on_disconnected, n);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o, on_reconnected, n);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(o, on_closed, n);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_error, n);
    if (s != NATS_OK) {
        natsOptions_Destroy(o);
        return live_nats_fail_(err, errlen, 1, n->name, "options", s);
    }
    s = natsConnection_Connect(&n->nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof(what), "cannot connect to %s", url);
        pthread_mutex_lock(&n->mu);
        n->conn_closed = 1; /* nothing to close */
        pthread_mutex_unlock(&n->mu);
        return live_nats_fail_(err, errlen, 1, n->name, what, s);
    }
    atomic_store(&n->connected, 1);
    if (*n->durable) {
        if (subscribe_durable(n, err, errlen) < 0)
            return -1;
        s = NATS_OK;
    } else {
        s = natsConnection_Subscribe(&n->sub, n->nc, n->subject, on_msg, n);
    }
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(n->sub, LIVE_NATS_PENDING_MSGS,
                                              LIVE_NATS_PENDING_BYTES);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(n->sub, on_sub_complete, n);
    if (s == NATS_OK) /* the server has the subscription before the host says it listens */
        s = natsConnection_FlushTimeout(n->nc, CONNECT_MS);
    if (s != NATS_OK)
        return live_nats_fail_(err, errlen, 1, n->name, "cannot subscribe", s);
    return 0;
}

struct live_nats *live_nats_new(struct live_in *li, const char *name, const char *spec,
                                const char *const *tags, size_t n_tags, unsigned flags, char *err,
                                size_t errlen)
{
    struct live_nats_spec sp;
    char e[400];
    if (live_nats_parse(spec, &sp, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "live input %s", e);
        return NULL;
    }
    size_t nt;
    if (n_tags && host_check_tags(tags, &nt, e, sizeof(e))) {
        snprintf(err, errlen, "live input %s: %s", name, e);
        return NULL;
    }
    struct live_nats *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "live input %s: out of memory", name);
        return NULL;
    }
    n->pipefd[0] = n->pipefd[1] = -1;
    n->sub_done = n->conn_closed = 1; /* until there is a subscription / connection */
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    n->li = li;
    n->lj_flags = (flags & LIVE_ALLOW_NONPOSITIVE ? LINEJSON_ALLOW_NONPOSITIVE : 0) |
                  (n_tags ? LINEJSON_TAGS_OPTIONAL : 0);
    n->name = strdup(name);
    n->subject = strdup(sp.subject);
    memcpy(n->stream, sp.stream, sizeof(n->stream));
    memcpy(n->durable, sp.durable, sizeof(n->durable));
    n->tags = calloc(n_tags + 1, sizeof(*n->tags));
    n->buf = malloc(LIVE_NATS_MSG_MAX + 1);
    if (!n->name || !n->subject || !n->tags || !n->buf ||
        pipe2(n->pipefd, O_NONBLOCK | O_CLOEXEC) < 0 ||
        !(n->wake = event_new(live_in_base_(li), n->pipefd[0], EV_READ | EV_PERSIST, on_wake, n)) ||
        !(n->more = event_new(live_in_base_(li), -1, 0, on_more, n)) ||
        event_add(n->wake, NULL) < 0) {
        snprintf(err, errlen, "live input %s: out of memory", name);
        goto fail;
    }
    for (size_t i = 0; i < n_tags; i++) {
        if (!(n->tags[i] = strdup(tags[i]))) {
            snprintf(err, errlen, "live input %s: out of memory", name);
            goto fail;
        }
        n->n_tags++;
    }
    struct host *h = live_in_host_(li);
    n->log.name = n->name;
    n->log.metric = h ? host_metrics_source(&h->metrics, name) : -1;
    n->sub_done = n->conn_closed = 0;
    if (connect_and_subscribe(n, sp.url, err, errlen) < 0)
        goto fail;
    if (*n->durable)
        LOG_INFO("live",
                 "live input %s: subscribed to '%s' through durable consumer '%s' of stream '%s'",
                 n->name, n->subject, n->durable, n->stream);
    else
        LOG_INFO("live", "live input %s: subscribed to '%s'", n->name, n->subject);
    sync_state(n);
    return n;
fail:
    live_nats_free(n);
    return NULL;
}

void live_nats_kick(struct live_nats *n)
{
    event_active(n->more, EV_READ, 0);
}

/* Wait (CLOSE_WAIT_MS at most) until *flag is set. 1 when it is. */
static int wait_done(struct live_nats *n, const int *flag)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CLOSE_WAIT_MS / 1000;
    pthread_mutex_lock(&n->mu);
    while (!*flag)
        if (pthread_cond_timedwait(&n->cv, &n->mu, &until) == ETIMEDOUT)
            break;
    int done = *flag;
    pthread_mutex_unlock(&n->mu);
    return done;
}

void live_nats_free(struct live_nats *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->closing = 1; /* a callback waiting for room gives up */
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->sub) {
        natsSubscription_Unsubscribe(n->sub);
        if (!n->sub_done && !wait_done(n, &n->sub_done))
            n->sub_done = -1;
    }
    if (n->nc) {
        natsConnection_Close(n->nc);
        if (!wait_done(n, &n->conn_closed))
            n->conn_closed = -1;
    }
    if (n->sub)
        natsSubscription_Destroy(n->sub);
    jsCtx_Destroy(n->js);
    if (n->nc)
        natsConnection_Destroy(n->nc);
    if (n->sub_done < 0 || n->conn_closed < 0) {
        /* a library callback may still touch n: leave it allocated rather than crash */
        LOG_WARN("live", "live input %s: the NATS client did not close in time", n->name);
        return;
    }
    for (struct msgq *q = n->head, *next; q; q = next) {
        next = q->next;
        natsMsg_Destroy(q->msg);
        free(q);
    }
    if (n->wake)
        event_free(n->wake);
    if (n->more)
        event_free(n->more);
    if (n->pipefd[0] >= 0)
        close(n->pipefd[0]);
    if (n->pipefd[1] >= 0)
        close(n->pipefd[1]);
    for (size_t i = 0; n->tags && i < n->n_tags; i++)
        free(n->tags[i]);
    free(n->tags);
    free(n->buf);
    free(n->name);
    free(n->subject);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}
