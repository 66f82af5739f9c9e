/*
 * live_run: the live inputs and the monitoring endpoint of 'qmtl run', on the runner's
 * event loop (host/loop.h), offline or attached (docs/data.md "Live inputs",
 * docs/operations.md "Monitoring a host").
 *
 *   - each input of r->live (host/data/live_in.h) is a push source of the loop: standard
 *     input ends at its end; a listener or a followed file never ends, so the host runs
 *     until SIGINT/SIGTERM (the normal way to stop a live host);
 *   - the inputs stall while the loop is held (attached: live orders in flight), as the
 *     replay does;
 *   - the monitoring endpoint (host/online/metrics_http.h) serves while the loop runs;
 *   - live_run_free() closes the inputs (a unix: socket file goes) and the endpoint.
 * The finite sources (CSV files, synthetic series) are the runner's pump, on the same
 * loop: they are replayed while the live inputs already deliver.
 *
 *     struct live_run *lr = live_run_start(&r, &opts, err, len);   // after runner_start
 *     runner_replay(&r, ...) or session_run(&r, ...);               // runs the loop
 *     live_run_free(lr);                                            // before runner_release
 */
#ifndef QMTL_HOST_LIVE_RUN_H
#define QMTL_HOST_LIVE_RUN_H

#include <stddef.h>

#include "host/runner.h"

struct live_run_options {
    const char *metrics_host; /* "127.0.0.1" when NULL or "" */
    int metrics_port;         /* 0 = no endpoint */
    int attached;             /* /health also needs the gateway's event stream */
};

struct live_run;

/* Start every live input and the endpoint on r->loop. NULL with err when one cannot start
 * ("live input tcp:127.0.0.1:9100: cannot listen: Address already in use"). */
struct live_run *live_run_start(struct runner *r, const struct live_run_options *o, char *err,
                                size_t errlen);

/* The port the endpoint listens on (0: none). */
int live_run_metrics_port(const struct live_run *lr);

/* Close whatever is still open and free. NULL is a no-op. */
void live_run_free(struct live_run *lr);

#endif
