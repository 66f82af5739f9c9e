/*
 * supervisor: 'qmtl run --restart-on-crash' runs the host in a child process and starts
 * it again when plugin code crashes it.
 *
 * supervisor_run() forks. In the child it returns 1 at once: the caller goes on and is the
 * host (its signal dispositions are the defaults again). The parent stays in
 * supervisor_run() until the host is done:
 *   - the host died of a crash signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT): one line
 *     "PREFIX: host crashed with signal N; restarting in S s (restart K)", then after the
 *     backoff a new child (which quarantines the plugin that crashed: host/plugin/quarantine.h).
 *     The backoff starts at backoff_min_s and doubles up to backoff_max_s; a host that ran
 *     at least stable_s before crashing starts the backoff over.
 *   - SIGTERM, SIGINT and SIGHUP received by the parent are forwarded to the child;
 *     after SIGTERM or SIGINT nothing is restarted any more (a backoff wait ends at once).
 *   - the host exited (any status), or died of another signal: supervisor_run() returns 0
 *     with *exit_code = its status, or 128 + the signal.
 * Returns -1 with err when the first fork fails. Blocking; no event loop in the parent.
 */
#ifndef QMTL_HOST_SUPERVISOR_H
#define QMTL_HOST_SUPERVISOR_H

#include <stddef.h>

struct supervisor_options {
    double backoff_min_s; /* <= 0: 1 */
    double backoff_max_s; /* <= 0: 30 */
    double stable_s;      /* <= 0: 60 */
    int max_restarts;     /* 0 = no limit; past it the crash status is returned */
    const char *prefix;   /* starts each line ("qmtl run") */
};

int supervisor_run(const struct supervisor_options *o, int *exit_code, char *err, size_t errlen);

/* Restarts done by the last supervisor_run() in this process (tests). */
int supervisor_restarts(void);

#endif
