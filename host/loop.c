/* loop: the one event loop of a host process (see loop.h). */
#include "host/loop.h"

#include <event2/event.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct loop_source {
    struct loop *l;
    char *name;
    loop_pull_fn pull; /* NULL: a push source */
    void *arg;
    double pace;    /* items per second, 0 = unpaced */
    double t0;      /* first paced pull (monotonic s) */
    uint64_t taken; /* items taken while paced */
    int ended;
};

enum { HOOK_END, HOOK_STOP };

struct loop_hook {
    int kind;
    loop_end_fn end;
    loop_fn stop;
    loop_busy_fn busy;
    void *arg;
};

struct loop_deferred {
    loop_deferred_fn fn;
    void *arg;
};

struct loop {
    struct event_base *base;
    struct event *pull_ev, *defer_ev, *stop_ev, *sig_int, *sig_term, *sig_hup;
    struct loop_source **src;
    size_t n_src;
    struct loop_hook *hooks;
    size_t n_hooks;
    struct loop_deferred *dq;
    size_t n_dq, cap_dq;
    loop_busy_fn hold;
    void *hold_arg;
    loop_fn hup;
    void *hup_arg;
    int follow, ran, running, stopping, end_why, signal;
    int in_defer, defer_after_pull; /* see loop_defer */
    char error[512];
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void arm(struct event *ev, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* ------------------------------------------------------------------ ending */

static void stop_now(struct loop *l, int why);
static void release_deferred(struct loop *l);

static void data_end(struct loop *l, int why)
{
    if (l->end_why >= 0)
        return;
    l->end_why = why;
    for (size_t i = 0; i < l->n_src; i++)
        l->src[i]->ended = 1;
    event_del(l->pull_ev);
    release_deferred(l);
    for (size_t i = 0; i < l->n_hooks; i++)
        if (l->hooks[i].kind == HOOK_END)
            l->hooks[i].end(l->hooks[i].arg, why);
    if (!l->follow || why != LOOP_END_DATA)
        stop_now(l, why);
}

static void all_ended_check(struct loop *l)
{
    if (l->end_why >= 0 || !l->n_src)
        return;
    for (size_t i = 0; i < l->n_src; i++)
        if (!l->src[i]->ended)
            return;
    data_end(l, LOOP_END_DATA);
}

static void fail(struct loop *l, const char *who, const char *err)
{
    if (!l->error[0])
        snprintf(l->error, sizeof(l->error), "%s", err && *err ? err : who);
    LOG_DEBUG("loop", "source '%s' failed: %s", who, l->error);
    if (l->end_why < 0)
        data_end(l, LOOP_END_ERROR);
    else
        stop_now(l, LOOP_END_ERROR);
}

static int any_busy(struct loop *l)
{
    int busy = 0;
    for (size_t i = 0; i < l->n_hooks && !busy; i++)
        if (l->hooks[i].kind == HOOK_STOP && l->hooks[i].busy)
            busy = l->hooks[i].busy(l->hooks[i].arg);
    return busy;
}

/* Exit once no stop hook has work in flight. */
static void exit_check(struct loop *l)
{
    if (any_busy(l))
        arm(l->stop_ev, LOOP_STOP_POLL_MS);
    else
        event_base_loopbreak(l->base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    exit_check(arg);
}

static void stop_now(struct loop *l, int why)
{
    if (l->stopping)
        return;
    if (l->end_why < 0) {
        data_end(l, why); /* ends here again, with the data ended */
        return;
    }
    l->stopping = 1;
    event_del(l->pull_ev);
    release_deferred(l);
    for (size_t i = l->n_hooks; i-- > 0;)
        if (l->hooks[i].kind == HOOK_STOP && l->hooks[i].stop)
            l->hooks[i].stop(l->hooks[i].arg);
    if (l->running)
        exit_check(l);
}

void loop_stop(struct loop *l)
{
    stop_now(l, LOOP_END_STOPPED);
}

/* ------------------------------------------------------------------ pull */

/* Deferred calls that deferred calls scheduled run once a batch has been fed (or at the
 * next turn when no batch is due), so that a call deferring itself cannot starve data. */
static void release_deferred(struct loop *l)
{
    if (!l->defer_after_pull)
        return;
    l->defer_after_pull = 0;
    if (evtimer_pending(l->pull_ev, NULL) && l->end_why < 0 && !l->stopping)
        event_active(l->defer_ev, EV_TIMEOUT, 1);
    else
        arm(l->defer_ev, 0);
}

static void pull_turn(struct loop *l)
{
    if (l->stopping || l->end_why >= 0)
        return;
    if (l->hold && l->hold(l->hold_arg)) {
        arm(l->pull_ev, LOOP_PACE_TICK_MS);
        return;
    }
    int fast = 0, paced = 0;
    double now = now_s();
    for (size_t i = 0; i < l->n_src; i++) {
        struct loop_source *s = l->src[i];
        if (!s->pull || s->ended)
            continue;
        size_t max = LOOP_BATCH;
        if (s->pace > 0) {
            paced = 1;
            if (s->t0 == 0)
                s->t0 = now;
            double want = floor(s->pace * (now - s->t0));
            if (want <= (double)s->taken)
                continue;
            max = want - (double)s->taken > LOOP_PACE_MAX_BATCH ? LOOP_PACE_MAX_BATCH
                                                                : (size_t)(want - (double)s->taken);
        }
        char err[512] = "";
        int rc = s->pull(s->arg, max, err, sizeof(err));
        if (rc == LOOP_FAIL) {
            s->ended = 1;
            fail(l, s->name, err);
            return;
        }
        if (rc == LOOP_END)
            s->ended = 1;
        else if (s->pace > 0)
            s->taken += max;
        else
            fast = 1;
        if (l->stopping || l->end_why >= 0)
            return; /* the pull stopped the loop (a signal handled inside, a hook) */
    }
    all_ended_check(l);
    if (l->stopping || l->end_why >= 0)
        return;
    if (fast)
        arm(l->pull_ev, 0);
    else if (paced)
        arm(l->pull_ev, LOOP_PACE_TICK_MS);
}

static void pull_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct loop *l = arg;
    pull_turn(l);
    release_deferred(l);
}

/* ------------------------------------------------------------------ deferred */

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct loop *l = arg;
    struct loop_deferred *q = l->dq;
    size_t n = l->n_dq;
    l->dq = NULL;
    l->n_dq = l->cap_dq = 0;
    l->in_defer = 1;
    for (size_t i = 0; i < n; i++)
        q[i].fn(q[i].arg, 0);
    l->in_defer = 0;
    free(q);
    if (!l->n_dq)
        return;
    /* scheduled by the calls just run: after the next batch */
    if (evtimer_pending(l->pull_ev, NULL) && l->end_why < 0 && !l->stopping)
        l->defer_after_pull = 1;
    else
        arm(l->defer_ev, 0);
}

int loop_defer(struct loop *l, loop_deferred_fn fn, void *arg)
{
    if (l->n_dq == l->cap_dq) {
        size_t cap = l->cap_dq ? 2 * l->cap_dq : 8;
        struct loop_deferred *q = realloc(l->dq, cap * sizeof(*q));
        if (!q)
            return -1;
        l->dq = q;
        l->cap_dq = cap;
    }
    l->dq[l->n_dq++] = (struct loop_deferred){fn, arg};
    if (!l->in_defer) {
        l->defer_after_pull = 0;
        event_active(l->defer_ev, EV_TIMEOUT, 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ signals */

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct loop *l = arg;
    if (sig == SIGHUP) {
        if (l->hup)
            l->hup(l->hup_arg);
        return;
    }
    if (l->stopping) {
        LOG_WARN("loop", "signal %d while stopping: exiting now", (int)sig);
        event_base_loopbreak(l->base);
        return;
    }
    LOG_INFO("loop", "signal %d: stopping", (int)sig);
    l->signal = (int)sig;
    stop_now(l, LOOP_END_SIGNAL);
}

void loop_on_sighup(struct loop *l, loop_fn fn, void *arg)
{
    l->hup = fn;
    l->hup_arg = arg;
    /* caught from now on, also before and after loop_run (handled while the loop runs) */
    if (fn)
        evsignal_add(l->sig_hup, NULL);
    else
        evsignal_del(l->sig_hup);
}

/* ------------------------------------------------------------------ setup */

struct loop *loop_new(char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l || !(l->base = event_base_new()) || event_base_priority_init(l->base, 2))
        goto fail;
    l->end_why = -1;
    l->pull_ev = evtimer_new(l->base, pull_cb, l);
    l->defer_ev = event_new(l->base, -1, 0, defer_cb, l);
    l->stop_ev = evtimer_new(l->base, stop_cb, l);
    l->sig_int = evsignal_new(l->base, SIGINT, signal_cb, l);
    l->sig_term = evsignal_new(l->base, SIGTERM, signal_cb, l);
    l->sig_hup = evsignal_new(l->base, SIGHUP, signal_cb, l);
    if (!l->pull_ev || !l->defer_ev || !l->stop_ev || !l->sig_int || !l->sig_term || !l->sig_hup)
        goto fail;
    /* deferred calls and signals run before anything else that is ready (priority 0 of 2) */
    event_priority_set(l->defer_ev, 0);
    event_priority_set(l->sig_int, 0);
    event_priority_set(l->sig_term, 0);
    event_priority_set(l->sig_hup, 0);
    return l;
fail:
    snprintf(err, errlen, "cannot set up the event loop");
    loop_free(l);
    return NULL;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_dq; i++)
        l->dq[i].fn(l->dq[i].arg, 1);
    free(l->dq);
    struct event *evs[] = {l->pull_ev, l->defer_ev, l->stop_ev,
                           l->sig_int, l->sig_term, l->sig_hup};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    for (size_t i = 0; i < l->n_src; i++) {
        free(l->src[i]->name);
        free(l->src[i]);
    }
    free(l->src);
    free(l->hooks);
    if (l->base) {
        event_base_loop(l->base, EVLOOP_NONBLOCK); /* deferred frees of finished requests */
        event_base_free(l->base);
    }
    free(l);
}

struct event_base *loop_base(const struct loop *l)
{
    return l->base;
}

static struct loop_source *add_source(struct loop *l, const char *name, loop_pull_fn pull,
                                      void *arg)
{
    if (l->end_why >= 0)
        return NULL;
    struct loop_source **v = realloc(l->src, (l->n_src + 1) * sizeof(*v));
    if (!v)
        return NULL;
    l->src = v;
    struct loop_source *s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name ? name : "source"))) {
        free(s);
        return NULL;
    }
    s->l = l;
    s->pull = pull;
    s->arg = arg;
    l->src[l->n_src++] = s;
    if (pull && l->running && !evtimer_pending(l->pull_ev, NULL))
        arm(l->pull_ev, 0);
    return s;
}

struct loop_source *loop_add_pull(struct loop *l, const char *name, loop_pull_fn pull, void *arg)
{
    return pull ? add_source(l, name, pull, arg) : NULL;
}

struct loop_source *loop_add_push(struct loop *l, const char *name)
{
    return add_source(l, name, NULL, NULL);
}

void loop_source_end(struct loop_source *s, const char *err)
{
    if (s->ended)
        return;
    s->ended = 1;
    if (err)
        fail(s->l, s->name, err);
    else if (s->l->ran)
        all_ended_check(s->l);
}

void loop_source_pace(struct loop_source *s, double per_s)
{
    s->pace = per_s > 0 ? per_s : 0;
}

int loop_held(const struct loop *l)
{
    return l->hold && l->hold(l->hold_arg) ? 1 : 0;
}

void loop_set_hold(struct loop *l, loop_busy_fn busy, void *arg)
{
    l->hold = busy;
    l->hold_arg = arg;
}

void loop_follow(struct loop *l, int follow)
{
    l->follow = follow;
}

int loop_following(const struct loop *l)
{
    return l->follow;
}

static int add_hook(struct loop *l, struct loop_hook h)
{
    struct loop_hook *v = realloc(l->hooks, (l->n_hooks + 1) * sizeof(*v));
    if (!v)
        return -1;
    l->hooks = v;
    l->hooks[l->n_hooks++] = h;
    return 0;
}

int loop_on_data_end(struct loop *l, loop_end_fn fn, void *arg)
{
    return add_hook(l, (struct loop_hook){.kind = HOOK_END, .end = fn, .arg = arg});
}

int loop_on_stop(struct loop *l, loop_fn stop, loop_busy_fn busy, void *arg)
{
    return add_hook(l,
                    (struct loop_hook){.kind = HOOK_STOP, .stop = stop, .busy = busy, .arg = arg});
}

/* ------------------------------------------------------------------ run */

int loop_run(struct loop *l, char *err, size_t errlen)
{
    if (l->ran) {
        snprintf(err, errlen, "the event loop already ran");
        return -1;
    }
    l->ran = 1;
    evsignal_add(l->sig_int, NULL);
    evsignal_add(l->sig_term, NULL);
    for (size_t i = 0; i < l->n_src; i++)
        if (l->src[i]->pull && !l->src[i]->ended) {
            arm(l->pull_ev, 0);
            break;
        }
    all_ended_check(l); /* push sources that ended before the run */
    l->running = 1;
    /* stopped before the run: dispatch only to let work in flight finish */
    if (l->stopping)
        exit_check(l);
    if (!l->stopping || evtimer_pending(l->stop_ev, NULL))
        event_base_dispatch(l->base);
    evsignal_del(l->sig_int);
    evsignal_del(l->sig_term);
    event_del(l->pull_ev);
    event_del(l->stop_ev);
    l->running = 0;
    if (l->error[0]) {
        snprintf(err, errlen, "%s", l->error);
        return -1;
    }
    return 0;
}

int loop_end_reason(const struct loop *l)
{
    return l->end_why;
}

int loop_signal(const struct loop *l)
{
    return l->signal;
}

const char *loop_error(const struct loop *l)
{
    return l->error;
}

int loop_stopping(const struct loop *l)
{
    return l->stopping;
}
