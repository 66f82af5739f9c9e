/*
 * live_run: 'qmtl run' (offline) on an event loop, for a host that receives live data
 * or serves its metrics (docs/data.md "Live inputs", docs/operations.md "Monitoring a
 * host"):
 *   - the finite sources (CSV files, synthetic series) are replayed first, in timestamp
 *     order and in batches of LIVE_RUN_BATCH items per loop turn, so the monitoring
 *     endpoint answers during the replay;
 *   - then the live inputs of r->live (host/live_in.h) feed the host as items arrive;
 *   - the monitoring endpoint (host/metrics_http.h) serves while the host runs.
 * It returns when every finite source is replayed and no live input can deliver more
 * (standard input ended, and no listener or followed file), or on SIGINT/SIGTERM; then
 * it calls on_finish (host_finish) as runner_replay() does.
 *
 * The caller sets the runner up exactly as for runner_replay() (plugins, data, start).
 */
#ifndef QMTL_HOST_LIVE_RUN_H
#define QMTL_HOST_LIVE_RUN_H

#include <stddef.h>

#include "host/runner.h"

#define LIVE_RUN_BATCH 4096

struct live_run_options {
    const char *metrics_host; /* "127.0.0.1" when NULL */
    int metrics_port;         /* 0 = no endpoint */
};

/* What happened (the caller's summary). */
struct live_run_stats {
    int metrics_port;  /* the port the endpoint listened on (0: none) */
    int interrupted;   /* stopped by SIGINT/SIGTERM */
    long live_events;  /* items the live inputs routed */
    long bad_lines;    /* lines the live inputs refused */
};

/* 0 when the run ended (data done or signal), -1 with err when an input or the endpoint
 * cannot start or a finite source fails (fail mode). */
int live_run(struct runner *r, const struct live_run_options *o, struct live_run_stats *out,
             char *err, size_t errlen);

#endif
