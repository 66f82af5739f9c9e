/* bus_retry: publishes sent again, in order, while a stream has no leader (bus_retry.h). */
#include "bus_retry.h"

#include "log.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHAIN_BUCKETS 256
#define ID_MAX 256
#define LOG_EVERY_MS 1000
#define ACK_WAIT_MS 2000 /* a publish sent again fails (and waits again) without an answer */

/* A message of a subject that failed at least once: since when (by its Nats-Msg-Id), and
 * when it was last seen failing (a message not seen for TRACK_KEEP_MS was stored). */
struct track {
    struct track *next;
    char id[ID_MAX];
    int64_t since_ms, seen_ms;
};

#define TRACK_KEEP_MS (2 * ACK_WAIT_MS + 1000)

/* The last message published to one subject, its messages that failed, when its retries
 * were last logged and when it last gave up. */
struct link {
    struct link *next;
    char *subject;
    char last[ID_MAX];
    struct track *tracks;
    int64_t logged_ms, gave_up_ms;
};

/* A message waiting to be sent again, oldest first. */
struct waiting {
    struct waiting *next;
    natsMsg *msg;
};

struct bus_retry {
    struct event_base *base;
    jsCtx *js;
    bus_retry_lost_fn lost;
    void *arg;
    pthread_mutex_t mu;
    struct link *chain[CHAIN_BUCKETS]; /* under mu */
    struct waiting *head, *tail;       /* under mu */
    size_t n_waiting;                  /* under mu */
    int pipefd[2];
    struct event *wake, *timer;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % CHAIN_BUCKETS;
}

/* Under mu: the link of 'subject', made when missing (NULL when out of memory). */
static struct link *link_of(struct bus_retry *r, const char *subject)
{
    unsigned h = hash(subject);
    for (struct link *l = r->chain[h]; l; l = l->next)
        if (strcmp(l->subject, subject) == 0)
            return l;
    struct link *l = calloc(1, sizeof(*l));
    if (!l || !(l->subject = strdup(subject))) {
        free(l);
        return NULL;
    }
    l->next = r->chain[h];
    r->chain[h] = l;
    return l;
}

/* Under mu: when message 'id' of 'l' first failed (now, the first time); the tracks of
 * messages stored since are dropped. 0 when out of memory. */
static int64_t failing_since(struct link *l, const char *id, int64_t t)
{
    int64_t since = 0;
    for (struct track **pp = &l->tracks; *pp;) {
        struct track *k = *pp;
        if (strcmp(k->id, id) == 0) {
            k->seen_ms = t;
            since = k->since_ms;
        } else if (t - k->seen_ms > TRACK_KEEP_MS) {
            *pp = k->next;
            free(k);
            continue;
        }
        pp = &k->next;
    }
    if (since)
        return since;
    struct track *k = calloc(1, sizeof(*k));
    if (!k)
        return 0;
    snprintf(k->id, sizeof(k->id), "%s", id);
    k->since_ms = k->seen_ms = t;
    k->next = l->tracks;
    l->tracks = k;
    return t;
}

/* Under mu: another message of 'l' failed lately (it may be on its way again) or waits. */
static int waits_for_another(struct bus_retry *r, const struct link *l, const char *id, int64_t t)
{
    for (const struct track *k = l->tracks; k; k = k->next)
        if (strcmp(k->id, id) != 0 && t - k->seen_ms <= TRACK_KEEP_MS)
            return 1;
    for (const struct waiting *w = r->head; w; w = w->next)
        if (strcmp(natsMsg_GetSubject(w->msg), l->subject) == 0)
            return 1;
    return 0;
}

static void free_tracks(struct link *l)
{
    for (struct track *k = l->tracks, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    l->tracks = NULL;
}

/* Under mu: every waiting message of 'subject' moved to *out (given up with it), its
 * tracks forgotten and its chain restarted. */
static void give_up_subject(struct bus_retry *r, struct link *l, int64_t t, struct waiting **out)
{
    struct waiting **pp = &r->head;
    r->tail = NULL;
    while (*pp) {
        struct waiting *w = *pp;
        if (strcmp(natsMsg_GetSubject(w->msg), l->subject) == 0) {
            *pp = w->next;
            w->next = *out;
            *out = w;
            r->n_waiting--;
        } else {
            r->tail = w;
            pp = &w->next;
        }
    }
    free_tracks(l);
    l->last[0] = '\0';
    l->gave_up_ms = t;
}

/* Loop thread: what waits is sent again; a message the client refuses now stays. */
static void resend(struct bus_retry *r)
{
    pthread_mutex_lock(&r->mu);
    struct waiting *w = r->head;
    r->head = r->tail = NULL;
    r->n_waiting = 0;
    pthread_mutex_unlock(&r->mu);
    struct waiting *keep = NULL, *keep_last = NULL;
    size_t n_keep = 0;
    for (struct waiting *next; w; w = next) {
        next = w->next;
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = ACK_WAIT_MS;
        if (js_PublishMsgAsync(r->js, &w->msg, &po) == NATS_OK) {
            free(w);
            continue;
        }
        w->next = NULL; /* refused by the client (its window is full): next round */
        if (keep_last)
            keep_last->next = w;
        else
            keep = w;
        keep_last = w;
        n_keep++;
    }
    if (!keep)
        return;
    pthread_mutex_lock(&r->mu); /* before what failed meanwhile: they are older */
    keep_last->next = r->head;
    if (!r->head)
        r->tail = keep_last;
    r->head = keep;
    r->n_waiting += n_keep;
    pthread_mutex_unlock(&r->mu);
    struct timeval tv = {0, RETRY_EVERY_MS * 1000};
    evtimer_add(r->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    resend(arg);
}

/* Loop thread: something was taken; send it again after RETRY_EVERY_MS. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct bus_retry *r = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    if (!evtimer_pending(r->timer, NULL)) {
        struct timeval tv = {0, RETRY_EVERY_MS * 1000};
        evtimer_add(r->timer, &tv);
    }
}

static void drop_all(struct bus_retry *r, struct waiting *w, const char *why)
{
    for (struct waiting *next; w; w = next) {
        next = w->next;
        if (r->lost)
            r->lost(r->arg, w->msg, why);
        natsMsg_Destroy(w->msg);
        free(w);
    }
}

struct bus_retry *bus_retry_new(struct event_base *base, jsCtx *js, bus_retry_lost_fn lost,
                                void *arg)
{
    struct bus_retry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->base = base;
    r->js = js;
    r->lost = lost;
    r->arg = arg;
    r->pipefd[0] = r->pipefd[1] = -1;
    pthread_mutex_init(&r->mu, NULL);
    if (pipe2(r->pipefd, O_NONBLOCK | O_CLOEXEC) < 0 ||
        !(r->wake = event_new(base, r->pipefd[0], EV_READ | EV_PERSIST, on_wake, r)) ||
        !(r->timer = evtimer_new(base, on_timer, r)) || event_add(r->wake, NULL) < 0) {
        bus_retry_free(r);
        return NULL;
    }
    return r;
}

void bus_retry_free(struct bus_retry *r)
{
    if (!r)
        return;
    drop_all(r, r->head, "still waiting for its stream at close");
    for (int i = 0; i < CHAIN_BUCKETS; i++)
        for (struct link *l = r->chain[i], *next; l; l = next) {
            next = l->next;
            free_tracks(l);
            free(l->subject);
            free(l);
        }
    if (r->wake)
        event_free(r->wake);
    if (r->timer)
        event_free(r->timer);
    if (r->pipefd[0] >= 0)
        close(r->pipefd[0]);
    if (r->pipefd[1] >= 0)
        close(r->pipefd[1]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void bus_retry_chain(struct bus_retry *r, const char *subject, const char *msg_id, char *prev,
                     size_t len)
{
    pthread_mutex_lock(&r->mu);
    struct link *l = link_of(r, subject);
    snprintf(prev, len, "%s", l ? l->last : "");
    if (l)
        snprintf(l->last, sizeof(l->last), "%s", msg_id);
    pthread_mutex_unlock(&r->mu);
}

void bus_retry_set_last(struct bus_retry *r, const char *subject, const char *msg_id)
{
    pthread_mutex_lock(&r->mu);
    struct link *l = link_of(r, subject);
    if (l)
        snprintf(l->last, sizeof(l->last), "%s", msg_id ? msg_id : "");
    pthread_mutex_unlock(&r->mu);
}

static int temporary(const jsPubAckErr *pae)
{
    return pae->Err == NATS_NO_RESPONDERS || pae->Err == NATS_TIMEOUT ||
           pae->ErrCode == JSClusterNotAvailErr || pae->ErrCode == JSStreamWrongLastMsgIDErr;
}

int bus_retry_take(struct bus_retry *r, jsPubAckErr *pae)
{
    if (!pae->Msg || !temporary(pae))
        return 0;
    const char *subject = natsMsg_GetSubject(pae->Msg), *id = NULL;
    if (natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id) != NATS_OK || !id)
        return 0; /* not one of ours */
    struct waiting *w = malloc(sizeof(*w)), *dropped = NULL;
    if (!w)
        return 0;
    int64_t t = now_ms();
    int log_it = 0;
    const char *why = NULL;
    pthread_mutex_lock(&r->mu);
    struct link *l = link_of(r, subject);
    int64_t since = l ? failing_since(l, id, t) : 0;
    if (!l || !since)
        why = "out of memory";
    else if (t - since > RETRY_FOR_MS)
        why = "not stored within 30 s";
    else if (pae->ErrCode == JSStreamWrongLastMsgIDErr && l->gave_up_ms >= since)
        why = "an earlier message was given up";
    else if (r->n_waiting >= RETRY_MAX)
        why = "too many messages waiting";
    else if (pae->ErrCode == JSStreamWrongLastMsgIDErr && !waits_for_another(r, l, id, t))
        /* nothing before it is still on its way: the stream's last message is another
         * writer's, or one it no longer remembers (a restart past its duplicate window);
         * the order is not at stake, so it goes without the expectation */
        natsMsgHeader_Delete(pae->Msg, "Nats-Expected-Last-Msg-Id");
    if (why) {
        if (l)
            give_up_subject(r, l, t, &dropped);
    } else {
        w->next = NULL;
        w->msg = pae->Msg;
        pae->Msg = NULL; /* ours now: the client does not destroy it */
        if (r->tail)
            r->tail->next = w;
        else
            r->head = w;
        r->tail = w;
        r->n_waiting++;
        if (t - l->logged_ms >= LOG_EVERY_MS) {
            l->logged_ms = t;
            log_it = 1;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (why) {
        free(w);
        LOG_WARN("bus", "publishes to '%s' given up (%s): %s", subject, why,
                 pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
        drop_all(r, dropped, why);
        return 0; /* this one: counted by the caller */
    }
    if (log_it)
        LOG_WARN("bus",
                 "publish to '%s' not stored yet (%s): sent again until its stream stores it",
                 subject, pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    char b = 1;
    ssize_t n = write(r->pipefd[1], &b, 1); /* a full pipe: a wake-up is pending */
    (void)n;
    return 1;
}

size_t bus_retry_waiting(struct bus_retry *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n_waiting;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int bus_retry_drain(struct bus_retry *r, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    natsStatus s = NATS_OK;
    for (;;) {
        resend(r);
        int64_t left = end - now_ms();
        if (left <= 0)
            break;
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = left;
        s = js_PublishAsyncComplete(r->js, &po);
        if (s == NATS_OK && bus_retry_waiting(r) == 0)
            return 0;
        if (s == NATS_OK) /* all answered, some to send again: after a round */
            nats_Sleep(left < RETRY_EVERY_MS ? left : RETRY_EVERY_MS);
    }
    return s == NATS_OK && bus_retry_waiting(r) == 0 ? 0 : -1;
}
