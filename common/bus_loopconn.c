/* bus_loopconn: a NATS connection driven by the process's event loop (see bus_loopconn.h). */
#include "bus_loopconn.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUS_NO_SOCK ((natsSock)-1)

struct bus_loopconn {
    struct event_base *base;
    pthread_t loop_thread;
    natsConnection *nc;   /* set by the first attach (inside natsConnection_Connect) */
    struct event *rd, *wr; /* loop thread: the socket's events */
    int want_write;        /* loop thread: write interest is on */
    struct event *poke;    /* the pipe that carries other threads' requests */
    int pipefd[2];
    bus_loopconn_read_fn on_read;
    void *arg;
    pthread_mutex_t mu;
    /* under mu: requests from other threads, applied on the loop in this order */
    int req_detach;            /* stop polling the socket */
    natsSock req_fd;           /* a new socket to poll (reconnected), or BUS_NO_SOCK */
    int req_read, req_write;   /* -1 no request, 0 stop, 1 start */
};

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct bus_loopconn *lc = arg;
    if (what & EV_WRITE)
        natsConnection_ProcessWriteEvent(lc->nc);
    if (what & EV_READ) {
        natsConnection_ProcessReadEvent(lc->nc);
        lc->on_read(lc->arg);
    }
}

/* Loop thread: poll 'sock' from now on (a first connection or a reconnection). */
static int set_socket(struct bus_loopconn *lc, natsSock sock)
{
    if (lc->rd)
        event_free(lc->rd);
    if (lc->wr)
        event_free(lc->wr);
    lc->want_write = 0;
    lc->rd = event_new(lc->base, sock, EV_READ | EV_PERSIST, on_io, lc);
    lc->wr = event_new(lc->base, sock, EV_WRITE | EV_PERSIST, on_io, lc);
    return lc->rd && lc->wr && event_add(lc->rd, NULL) == 0 ? 0 : -1;
}

static int set_interest(struct bus_loopconn *lc, struct event *ev, int on)
{
    if (!ev)
        return -1;
    if (ev == lc->wr)
        lc->want_write = on;
    return (on ? event_add(ev, NULL) : event_del(ev)) == 0 ? 0 : -1;
}

static void detach_events(struct bus_loopconn *lc)
{
    if (lc->rd)
        event_del(lc->rd);
    if (lc->wr)
        event_del(lc->wr);
    lc->want_write = 0;
}

/* Another thread's request: recorded, the loop wakes and applies it. */
static void poke(struct bus_loopconn *lc)
{
    char b = 1;
    ssize_t w = write(lc->pipefd[1], &b, 1); /* a full pipe: a wake-up is pending anyway */
    (void)w;
}

static void on_poke(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct bus_loopconn *lc = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&lc->mu);
    int detach = lc->req_detach, rd = lc->req_read, wr = lc->req_write;
    natsSock sock = lc->req_fd;
    lc->req_detach = 0;
    lc->req_fd = BUS_NO_SOCK;
    lc->req_read = lc->req_write = -1;
    pthread_mutex_unlock(&lc->mu);
    if (detach)
        detach_events(lc);
    if (sock != BUS_NO_SOCK)
        set_socket(lc, sock);
    if (rd >= 0)
        set_interest(lc, lc->rd, rd);
    if (wr >= 0)
        set_interest(lc, lc->wr, wr);
}

static int on_loop(const struct bus_loopconn *lc)
{
    return pthread_equal(pthread_self(), lc->loop_thread);
}

/* The library's callbacks ('loop' is lc, passed to natsOptions_SetEventLoop). */
static natsStatus ev_attach(void **user, void *loop, natsConnection *nc, natsSock sock)
{
    struct bus_loopconn *lc = loop;
    *user = lc;
    if (on_loop(lc)) {
        lc->nc = nc;
        return set_socket(lc, sock) == 0 ? NATS_OK : NATS_ERR;
    }
    pthread_mutex_lock(&lc->mu);
    lc->req_fd = sock;
    lc->req_read = lc->req_write = -1; /* requests for the old socket are void */
    pthread_mutex_unlock(&lc->mu);
    poke(lc);
    return NATS_OK;
}

static natsStatus ev_interest(struct bus_loopconn *lc, int write_side, bool add)
{
    if (on_loop(lc))
        return set_interest(lc, write_side ? lc->wr : lc->rd, add) == 0 ? NATS_OK : NATS_ERR;
    pthread_mutex_lock(&lc->mu);
    if (write_side)
        lc->req_write = add;
    else
        lc->req_read = add;
    pthread_mutex_unlock(&lc->mu);
    poke(lc);
    return NATS_OK;
}

static natsStatus ev_read(void *user, bool add)
{
    return ev_interest(user, 0, add);
}

static natsStatus ev_write(void *user, bool add)
{
    return ev_interest(user, 1, add);
}

static natsStatus ev_detach(void *user)
{
    struct bus_loopconn *lc = user;
    if (on_loop(lc)) {
        detach_events(lc);
        return NATS_OK;
    }
    pthread_mutex_lock(&lc->mu);
    lc->req_detach = 1;
    lc->req_fd = BUS_NO_SOCK;
    lc->req_read = lc->req_write = -1;
    pthread_mutex_unlock(&lc->mu);
    poke(lc);
    return NATS_OK;
}

natsStatus bus_options_new(natsOptions **o, const char *url, const char *name, int timeout_ms)
{
    natsStatus s = natsOptions_Create(o);
    if (s == NATS_OK && (s = natsOptions_SetURL(*o, url)) == NATS_OK &&
        (s = natsOptions_SetName(*o, name ? name : "qmtl")) == NATS_OK &&
        (s = natsOptions_SetTimeout(*o, timeout_ms > 0 ? timeout_ms : 2000)) == NATS_OK &&
        (s = natsOptions_SetMaxReconnect(*o, -1)) == NATS_OK &&
        (s = natsOptions_SetReconnectWait(*o, 250)) == NATS_OK)
        s = natsOptions_SetSendAsap(*o, true);
    return s;
}

struct bus_loopconn *bus_loopconn_new(struct event_base *base, const char *url, const char *name,
                                      int timeout_ms, bus_loopconn_read_fn on_read, void *arg,
                                      char *err, size_t errlen)
{
    struct bus_loopconn *lc = calloc(1, sizeof(*lc));
    natsOptions *o = NULL;
    natsStatus s;
    if (!lc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lc->base = base;
    lc->loop_thread = pthread_self();
    lc->on_read = on_read;
    lc->arg = arg;
    lc->pipefd[0] = lc->pipefd[1] = -1;
    lc->req_fd = BUS_NO_SOCK;
    lc->req_read = lc->req_write = -1;
    pthread_mutex_init(&lc->mu, NULL);
    if (pipe2(lc->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "bus: pipe: %s", strerror(errno));
        goto fail;
    }
    lc->poke = event_new(base, lc->pipefd[0], EV_READ | EV_PERSIST, on_poke, lc);
    if (!lc->poke || event_add(lc->poke, NULL) < 0) {
        snprintf(err, errlen, "bus: cannot watch the wake-up pipe");
        goto fail;
    }
    /* SendAsap: what the loop writes (subscriptions, acknowledgements) asks for the write
     * event from the loop thread, not from the library's flusher thread */
    if ((s = bus_options_new(&o, url, name, timeout_ms)) != NATS_OK ||
        (s = natsOptions_SetEventLoop(o, lc, ev_attach, ev_read, ev_write, ev_detach)) !=
            NATS_OK) {
        snprintf(err, errlen, "bus: options: %s", natsStatus_GetText(s));
        goto fail;
    }
    if ((s = natsConnection_Connect(&lc->nc, o)) != NATS_OK) {
        const char *last = nats_GetLastError(NULL);
        snprintf(err, errlen, "bus: cannot connect to '%s': %s%s%s%s", url, natsStatus_GetText(s),
                 last && *last ? " (" : "", last && *last ? last : "", last && *last ? ")" : "");
        lc->nc = NULL;
        goto fail;
    }
    natsOptions_Destroy(o);
    return lc;
fail:
    natsOptions_Destroy(o);
    bus_loopconn_free(lc);
    return NULL;
}

natsConnection *bus_loopconn_nc(struct bus_loopconn *lc)
{
    return lc->nc;
}

void bus_loopconn_send(struct bus_loopconn *lc)
{
    if (lc->nc && lc->want_write) /* something waits for the loop's write event */
        natsConnection_ProcessWriteEvent(lc->nc);
}

void bus_loopconn_free(struct bus_loopconn *lc)
{
    if (!lc)
        return;
    if (lc->nc) {
        bus_loopconn_send(lc);
        natsConnection_Close(lc->nc);
        natsConnection_Destroy(lc->nc);
    }
    if (lc->rd)
        event_free(lc->rd);
    if (lc->wr)
        event_free(lc->wr);
    if (lc->poke)
        event_free(lc->poke);
    if (lc->pipefd[0] >= 0)
        close(lc->pipefd[0]);
    if (lc->pipefd[1] >= 0)
        close(lc->pipefd[1]);
    pthread_mutex_destroy(&lc->mu);
    free(lc);
}
