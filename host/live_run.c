/* live_run: offline 'qmtl run' on an event loop with live inputs and metrics (live_run.h). */
#include "host/live_run.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "host/live_in.h"
#include "host/metrics_http.h"
#include "log.h"

struct run {
    struct runner *r;
    struct event_base *base;
    struct event *replay_ev;
    struct live_in *li;
    int replay_done, live_done, interrupted, failed;
    char *err;
    size_t errlen;
};

static void maybe_end(struct run *x)
{
    if (x->failed || (x->replay_done && x->live_done))
        event_base_loopbreak(x->base);
}

/* One batch of the finite sources, in timestamp order (as runner_replay). */
static void replay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct run *x = arg;
    struct runner *r = x->r;
    struct feed_event ev;
    struct qmtl_value v = qmtl_none();
    int rc = 1;
    for (int n = 0; n < LIVE_RUN_BATCH && (rc = feed_next(r->feed, &ev, x->err, x->errlen)) == 1;
         n++) {
        if (ev.is_bar) {
            v.type = QMTL_T_BAR;
            v.as.bar = ev.bar;
        } else {
            v.type = QMTL_T_NUMBER;
            v.as.number = ev.value;
        }
        if (host_feed(&r->h, ev.tags, ev.n_tags, ev.ts, &v) < 0) {
            snprintf(x->err, x->errlen, "out of memory routing data");
            rc = -1;
            break;
        }
        r->events++;
    }
    if (rc == 1) {
        event_active(x->replay_ev, EV_READ, 0);
        return;
    }
    r->skipped_rows = feed_skipped_rows(r->feed);
    if (rc < 0) {
        snprintf(r->run_error, sizeof(r->run_error), "%s", x->err);
        x->failed = 1;
    }
    x->replay_done = 1;
    maybe_end(x);
}

static void live_done_cb(void *arg)
{
    struct run *x = arg;
    x->live_done = 1;
    maybe_end(x);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct run *x = arg;
    LOG_INFO("run", "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    x->interrupted = 1;
    event_base_loopbreak(x->base);
}

int live_run(struct runner *r, const struct live_run_options *o, struct live_run_stats *out,
             char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct run x = {.r = r, .err = err, .errlen = errlen};
    struct metrics_http *mh = NULL;
    struct event *sig_int = NULL, *sig_term = NULL;
    int rc = -1;
    if (!(x.base = event_base_new()) ||
        !(x.replay_ev = event_new(x.base, -1, 0, replay_cb, &x)) ||
        !(x.li = live_in_new(x.base, &r->h)) ||
        !(sig_int = evsignal_new(x.base, SIGINT, signal_cb, &x)) ||
        !(sig_term = evsignal_new(x.base, SIGTERM, signal_cb, &x))) {
        snprintf(err, errlen, "cannot start the event loop (out of memory)");
        goto out;
    }
    for (size_t i = 0; i < r->n_live; i++) {
        const struct runner_live *l = &r->live[i];
        if (live_in_add(x.li, l->spec, (const char *const *)l->tags, l->n_tags, l->flags, err,
                        errlen))
            goto out;
    }
    x.live_done = 1;
    for (size_t i = 0; i < r->n_live; i++)
        if (strcmp(r->live[i].spec, "stdin"))
            x.live_done = 0; /* a listener or a followed file: until a signal */
    if (x.live_done && r->n_live) {
        x.live_done = 0; /* standard input: until it ends */
        live_in_set_on_done(x.li, live_done_cb, &x);
    }
    if (o->metrics_port > 0) {
        const char *addr = o->metrics_host && *o->metrics_host ? o->metrics_host : "127.0.0.1";
        if (!(mh = metrics_http_new(x.base, &r->h, addr, o->metrics_port, 0, err, errlen)))
            goto out;
        out->metrics_port = metrics_http_port(mh);
        LOG_INFO("run", "metrics on http://%s:%d/metrics (and /health)", addr, out->metrics_port);
    }
    evsignal_add(sig_int, NULL);
    evsignal_add(sig_term, NULL);
    event_active(x.replay_ev, EV_READ, 0);
    event_base_dispatch(x.base);
    out->interrupted = x.interrupted;
    for (size_t i = 0; i < r->h.metrics.n_src; i++) {
        out->live_events += (long)r->h.metrics.src[i].events;
        out->bad_lines += (long)r->h.metrics.src[i].bad_lines;
    }
    r->events += (uint64_t)out->live_events;
    host_finish(&r->h);
    rc = x.failed ? -1 : 0;
out:
    metrics_http_free(mh);
    live_in_free(x.li);
    if (sig_int)
        event_free(sig_int);
    if (sig_term)
        event_free(sig_term);
    if (x.replay_ev)
        event_free(x.replay_ev);
    if (x.base)
        event_base_free(x.base);
    return rc;
}
