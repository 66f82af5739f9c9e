/*
 * Log lines captured by a unit test: logcap_start() routes every line at or above a level
 * into a fixed table (the first LOGCAP_MAX of them), logcap_has() looks for one.
 */
#ifndef QMTL_TESTS_LOGCAP_TESTLIB_H
#define QMTL_TESTS_LOGCAP_TESTLIB_H

#include "log.h"

#include <stdio.h>
#include <string.h>

#define LOGCAP_MAX 64

static char logcap_lines[LOGCAP_MAX][400];
static int logcap_n;
static enum log_level logcap_min;

static inline void logcap_sink(enum log_level level, const char *line, void *arg)
{
    (void)arg;
    if (level >= logcap_min && logcap_n < LOGCAP_MAX)
        snprintf(logcap_lines[logcap_n++], sizeof(logcap_lines[0]), "%s", line);
}

/* Forget what was captured and capture lines of 'min' and above from now on. */
static inline void logcap_start(enum log_level min)
{
    logcap_n = 0;
    logcap_min = min;
    log_set_sink(logcap_sink, NULL);
}

/* 1 when a captured line contains 'a' (and 'b' when not NULL). */
static inline int logcap_has(const char *a, const char *b)
{
    for (int i = 0; i < logcap_n; i++)
        if (strstr(logcap_lines[i], a) && (!b || strstr(logcap_lines[i], b)))
            return 1;
    return 0;
}

/* The last line captured ("" when none), for failure messages. */
static inline const char *logcap_last(void)
{
    return logcap_n ? logcap_lines[logcap_n - 1] : "";
}

#endif
