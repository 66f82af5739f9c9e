/*
 * Helpers for unit tests that drive a real event loop and real files: turn an event_base
 * until a condition holds (bounded, no fixed sleep), run a shell command, find a fixture.
 * Static functions: include it from one test file each.
 */
#ifndef QMTL_TESTS_LOOP_TESTLIB_H
#define QMTL_TESTS_LOOP_TESTLIB_H

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fixture_lib.h"

static inline double lt_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void lt_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Turn 'base' until cond() holds or 'max_s' pass; returns cond(). A 10 ms ticker keeps
 * each turn short, so the condition is looked at often. */
static inline int lt_run_until(struct event_base *base, int (*cond)(void), double max_s)
{
    struct event *t = event_new(base, -1, EV_PERSIST, lt_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(t, &tv);
    double end = lt_now_s() + max_s;
    while (!cond() && lt_now_s() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return cond();
}

/* Run printf(fmt, a, b) through the shell; the test fails unless it exits 0. */
static inline void lt_sh(const char *fmt, const char *a, const char *b)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    ck_assert_int_eq(system(cmd), 0);
}

/* Copy fixture plugin 'name' (fixture_lib.h) to dir/as. */
static inline void lt_fixture_to(const char *name, const char *dir, const char *as)
{
    char dst[512];
    snprintf(dst, sizeof(dst), "%s/%s", dir, as);
    lt_sh("cp '%s' '%s'", fixture(name), dst);
}

#endif
