/* bus_lease: the lease requests of a bus on a worker thread (see bus_lease.h). */
#include "host/online/bus_lease.h"

#include <event2/event.h>

#include "bus_nats.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bus_lease {
    struct bus_conn *c;
    char *holder;
    bus_lease_done_fn fn;
    void *arg;
    int pipefd[2];
    struct event *ev;
    pthread_t thread;
    int started;
    int busy; /* loop thread only: a bus_lease_submit batch is in flight */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu: batches to ask (in order), batches answered (in order) */
    struct batch *todo, *todo_tail, *done, *done_tail;
    int quit;
};

/* One batch: from bus_lease_submit (ticked: counts for bus_lease_busy) or bus_lease_push. */
struct batch {
    struct batch *next;
    struct bus_lease_job *jobs;
    size_t n;
    int ticked;
};

static void free_jobs(struct bus_lease_job *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++)
        free(jobs[i].key);
    free(jobs);
}

static void free_batches(struct batch *b)
{
    for (struct batch *next; b; b = next) {
        next = b->next;
        free_jobs(b->jobs, b->n);
        free(b);
    }
}

static void append(struct batch **head, struct batch **tail, struct batch *b)
{
    b->next = NULL;
    if (*tail)
        (*tail)->next = b;
    else
        *head = b;
    *tail = b;
}

static void run_job(struct bus_lease *l, struct bus_lease_job *j)
{
    j->rev = j->held;
    if (j->op == BUS_LEASE_RELEASE) {
        bus_conn_lease_release(l->c, j->key, l->holder);
        j->rc = 1;
        return;
    }
    if (j->op == BUS_LEASE_FORGET) {
        j->rc = bus_conn_delete_consumer(l->c, j->key, j->name, j->err, sizeof(j->err));
        return;
    }
    if (j->op == BUS_LEASE_RENEW) {
        j->rc = bus_conn_lease_renew(l->c, j->key, l->holder, &j->rev, j->err, sizeof(j->err));
        return;
    }
    j->rc = bus_conn_lease_take(l->c, j->key, l->holder, &j->rev, j->err, sizeof(j->err));
    if (j->rc == 1) /* where publishing continues: read with the take, not on the loop */
        j->last_rc = bus_conn_last_output(l->c, j->key, &j->last_ts, &j->last_seq, j->err,
                                          sizeof(j->err));
}

/* Worker thread: one batch after another until told to quit. */
static void *worker(void *arg)
{
    struct bus_lease *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->quit && !l->todo)
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->quit)
            break;
        struct batch *b = l->todo;
        l->todo = b->next;
        if (!l->todo)
            l->todo_tail = NULL;
        struct bus_lease_job *jobs = b->jobs;
        size_t n = b->n;
        pthread_mutex_unlock(&l->mu);
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&l->mu);
            int quit = l->quit;
            pthread_mutex_unlock(&l->mu);
            if (quit) { /* stopping: the rest of the batch is not asked */
                for (size_t k = i; k < n; k++) {
                    jobs[k].rc = -1;
                    snprintf(jobs[k].err, sizeof(jobs[k].err), "bus: stopping");
                }
                break;
            }
            run_job(l, &jobs[i]);
        }
        pthread_mutex_lock(&l->mu);
        append(&l->done, &l->done_tail, b);
        ssize_t w = write(l->pipefd[1], "x", 1); /* full pipe: a wake-up is pending anyway */
        (void)w;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Loop thread: a batch finished. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct bus_lease *l = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&l->mu);
    struct batch *b = l->done;
    l->done = l->done_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (b) { /* fn may push more: they go to the worker, not to this list */
        struct batch *next = b->next;
        if (b->ticked)
            l->busy = 0;
        l->fn(l->arg, b->jobs, b->n);
        free_jobs(b->jobs, b->n);
        free(b);
        b = next;
    }
}

struct bus_lease *bus_lease_new(struct event_base *base, struct bus_conn *c, const char *holder,
                                bus_lease_done_fn fn, void *arg, char *err, size_t errlen)
{
    struct bus_lease *l = calloc(1, sizeof(*l));
    if (!l || !(l->holder = strdup(holder))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->c = c;
    l->fn = fn;
    l->arg = arg;
    l->pipefd[0] = l->pipefd[1] = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pipe2(l->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "bus: lease pipe: %s", strerror(errno));
        goto fail;
    }
    l->ev = event_new(base, l->pipefd[0], EV_READ | EV_PERSIST, on_done, l);
    if (!l->ev || event_add(l->ev, NULL) < 0) {
        snprintf(err, errlen, "bus: cannot watch the lease pipe");
        goto fail;
    }
    int e = pthread_create(&l->thread, NULL, worker, l);
    if (e != 0) {
        snprintf(err, errlen, "bus: cannot start the lease thread: %s", strerror(e));
        goto fail;
    }
    l->started = 1;
    return l;
fail:
    bus_lease_free(l);
    return NULL;
}

int bus_lease_busy(const struct bus_lease *l)
{
    return l->busy;
}

static int queue_batch(struct bus_lease *l, struct bus_lease_job *jobs, size_t n, int ticked)
{
    struct batch *b = n ? malloc(sizeof(*b)) : NULL;
    if (!b) {
        free_jobs(jobs, n);
        return -1;
    }
    b->jobs = jobs;
    b->n = n;
    b->ticked = ticked;
    pthread_mutex_lock(&l->mu);
    append(&l->todo, &l->todo_tail, b);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int bus_lease_submit(struct bus_lease *l, struct bus_lease_job *jobs, size_t n)
{
    if (l->busy) {
        free_jobs(jobs, n);
        return -1;
    }
    if (queue_batch(l, jobs, n, 1) < 0)
        return -1;
    l->busy = 1;
    return 0;
}

int bus_lease_push(struct bus_lease *l, struct bus_lease_job *jobs, size_t n)
{
    return queue_batch(l, jobs, n, 0);
}

void bus_lease_free(struct bus_lease *l)
{
    if (!l)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    free_batches(l->todo);
    free_batches(l->done);
    if (l->ev)
        event_free(l->ev);
    for (int i = 0; i < 2; i++)
        if (l->pipefd[i] >= 0)
            close(l->pipefd[i]);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->holder);
    free(l);
}
