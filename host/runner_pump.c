/* runner_pump: the runner's data pump on the event loop, and the replay (see runner.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/orders/orders.h"
#include "host/runner.h"
#include "log.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress(const struct runner *r, uint64_t done, double elapsed, int last)
{
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    uint64_t total = r->expected > done ? r->expected : done;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rqmtl run: %llu/%llu events (%3.0f%%), %.0f events/s, ETA %.0f s   %s",
            (unsigned long long)done, (unsigned long long)total,
            total ? 100.0 * (double)done / (double)total : 100.0, rate, eta, last ? "\n" : "");
    fflush(stderr);
}

/* One batch: take 'max' items from the feed and feed each along its source's route. */
static int pump_pull(void *arg, size_t max, char *err, size_t errlen)
{
    struct runner *r = arg;
    struct feed_event ev;
    struct qmtl_value v = qmtl_none();
    for (size_t i = 0; i < max; i++) {
        int rc = feed_next(r->feed, &ev, err, errlen);
        if (rc <= 0)
            return rc < 0 ? LOOP_FAIL : LOOP_END;
        r->read++;
        if (r->progress && (r->read & 4095) == 0) {
            double t = now_s() - r->t0;
            if (t >= 1.0 && t - r->shown >= 0.25) {
                progress(r, r->read, t, 0);
                r->shown = t;
            }
        }
        if ((r->have_to && ev.ts > r->to) || (r->have_from && ev.ts < r->from)) {
            r->out_of_range++;
            continue; /* keep reading: the feed reports data errors to the end */
        }
        if (ev.is_bar) {
            v.type = QMTL_T_BAR;
            v.as.bar = ev.bar;
        } else {
            v.type = QMTL_T_NUMBER;
            v.as.number = ev.value;
        }
        if (ev.source_index >= r->n_sources ||
            host_feed_route(&r->h, r->source_route[ev.source_index], ev.ts, &v) < 0) {
            snprintf(err, errlen, "data source %zu (%s): no route", ev.source_index, ev.source);
            return LOOP_FAIL;
        }
        r->events++;
    }
    return LOOP_MORE;
}

static void pump_end(void *arg, int why)
{
    struct runner *r = arg;
    r->replay_s = now_s() - r->t0;
    if (r->shown > 0)
        progress(r, r->read, r->replay_s, 1);
    r->skipped_rows = feed_skipped_rows(r->feed);
    if (why == LOOP_END_SIGNAL)
        r->interrupted = loop_signal(r->loop);
    /* what order publishers still hold is handed over at the end of the run: now, or,
     * when the host follows on, when it stops (orders_flush, host/orders/order_align.h) */
    if (why != LOOP_END_DATA || !loop_following(r->loop))
        orders_flush(&r->h);
    host_finish(&r->h);
}

static void pump_stop(void *arg)
{
    orders_flush(&((struct runner *)arg)->h);
}

struct loop_source *runner_pump(struct runner *r)
{
    if (r->pump)
        return r->pump;
    if (loop_on_data_end(r->loop, pump_end, r) || loop_on_stop(r->loop, pump_stop, NULL, r))
        return NULL;
    r->pump = loop_add_pull(r->loop, "data", pump_pull, r);
    return r->pump;
}

int runner_replay(struct runner *r, char *err, size_t errlen)
{
    if (!runner_pump(r)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->t0 = now_s();
    r->shown = 0;
    if (loop_run(r->loop, err, errlen) == 0)
        return 0;
    if (!r->run_error[0])
        snprintf(r->run_error, sizeof(r->run_error), "%s", err);
    return -1;
}
