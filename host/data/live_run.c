/* live_run: live inputs and the monitoring endpoint on the runner's loop (live_run.h). */
#include "host/data/live_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/data/live_in.h"
#include "host/loop.h"
#include "host/online/metrics_http.h"
#include "log.h"

struct live_run {
    struct runner *r;
    struct live_in *li;
    struct metrics_http *mh;
    struct loop_source **src; /* one push source per live input */
    size_t n_src;
    int port;
};

static void input_end(void *arg, size_t i)
{
    struct live_run *lr = arg;
    if (i < lr->n_src)
        loop_source_end(lr->src[i], NULL);
}

static int held(void *arg)
{
    return loop_held(arg);
}

struct live_run *live_run_start(struct runner *r, const struct live_run_options *o, char *err,
                                size_t errlen)
{
    struct live_run *lr = calloc(1, sizeof(*lr));
    if (!lr || !(lr->src = calloc(r->n_live ? r->n_live : 1, sizeof(*lr->src))) ||
        !(lr->li = live_in_new(loop_base(r->loop), &r->h))) {
        snprintf(err, errlen, "live inputs: out of memory");
        live_run_free(lr);
        return NULL;
    }
    lr->r = r;
    live_in_set_on_end(lr->li, input_end, lr);
    live_in_set_hold(lr->li, held, r->loop);
    for (size_t i = 0; i < r->n_live; i++) {
        const struct runner_live *l = &r->live[i];
        if (live_in_add(lr->li, l->spec, (const char *const *)l->tags, l->n_tags, l->flags, err,
                        errlen))
            goto fail;
        if (!(lr->src[lr->n_src++] = loop_add_push(r->loop, l->spec))) {
            snprintf(err, errlen, "live inputs: out of memory");
            goto fail;
        }
    }
    if (o->metrics_port > 0) {
        const char *addr = o->metrics_host && *o->metrics_host ? o->metrics_host : "127.0.0.1";
        if (!(lr->mh = metrics_http_new(loop_base(r->loop), &r->h, addr, o->metrics_port,
                                        o->attached, err, errlen)))
            goto fail;
        lr->port = metrics_http_port(lr->mh);
        LOG_INFO("run", "metrics on http://%s:%d/metrics (and /health)", addr, lr->port);
    }
    return lr;
fail:
    live_run_free(lr);
    return NULL;
}

int live_run_metrics_port(const struct live_run *lr)
{
    return lr ? lr->port : 0;
}

void live_run_free(struct live_run *lr)
{
    if (!lr)
        return;
    live_in_free(lr->li);
    metrics_http_free(lr->mh);
    free(lr->src);
    free(lr);
}
