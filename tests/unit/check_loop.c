/* loop: sources in batches, data end, stop hooks, signals, deferred calls (host/loop.h). */
#include "host/loop.h"

#include <check.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A pull source of 'total' items that records every call. */
struct counter {
    struct loop *l;
    size_t total, taken, calls, max_seen;
    int fail_at;  /* fail on this call (1-based), 0 = never */
    int raise_at; /* raise this signal on call raise_at (both 0 = never) */
    int raise_sig;
    int defer_at;           /* loop_defer on this call */
    int deferred_ran_after; /* calls made when the deferred call ran (-1: not yet) */
    int deferred_cancelled;
    int hold_checks, hold_for; /* hold(): busy for the first hold_for checks */
    size_t calls_when_hold_released;
};

static int counter_pull(void *arg, size_t max, char *err, size_t errlen)
{
    struct counter *c = arg;
    c->calls++;
    if (max > c->max_seen)
        c->max_seen = max;
    if (c->fail_at && (int)c->calls == c->fail_at) {
        snprintf(err, errlen, "boom on call %zu", c->calls);
        return LOOP_FAIL;
    }
    if (c->raise_at && (int)c->calls == c->raise_at)
        raise(c->raise_sig);
    size_t n = c->total - c->taken < max ? c->total - c->taken : max;
    c->taken += n;
    return n < max ? LOOP_END : LOOP_MORE;
}

static void deferred(void *arg, int cancelled)
{
    struct counter *c = arg;
    c->deferred_ran_after = (int)c->calls;
    c->deferred_cancelled = cancelled;
}

static int defer_pull(void *arg, size_t max, char *err, size_t errlen)
{
    struct counter *c = arg;
    int rc = counter_pull(arg, max, err, errlen);
    if ((int)c->calls == c->defer_at)
        ck_assert_int_eq(loop_defer(c->l, deferred, c), 0);
    ck_assert_msg(c->deferred_ran_after < 0 || c->deferred_ran_after == c->defer_at,
                  "the deferred call ran inside a pull");
    return rc;
}

struct hooks {
    int ends, stops, last_why;
    int busy_polls, busy_for;
    int order; /* 1: data end came before stop */
};

static void on_end(void *arg, int why)
{
    struct hooks *h = arg;
    h->ends++;
    h->last_why = why;
    if (!h->stops)
        h->order = 1;
}

static void on_stop(void *arg)
{
    ((struct hooks *)arg)->stops++;
}

static int busy(void *arg)
{
    struct hooks *h = arg;
    return ++h->busy_polls <= h->busy_for;
}

static struct loop *new_loop(struct hooks *h)
{
    char err[128];
    struct loop *l = loop_new(err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    memset(h, 0, sizeof(*h));
    h->last_why = -1;
    ck_assert_int_eq(loop_on_data_end(l, on_end, h), 0);
    ck_assert_int_eq(loop_on_stop(l, on_stop, busy, h), 0);
    return l;
}

START_TEST(test_pull_in_batches_to_the_end)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.total = 5 * LOOP_BATCH + 7};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", counter_pull, &c));
    ck_assert_int_eq(loop_end_reason(l), -1);
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.taken, c.total);
    ck_assert_uint_eq(c.calls, 6); /* five full batches, then the rest */
    ck_assert_uint_eq(c.max_seen, LOOP_BATCH);
    ck_assert_int_eq(h.ends, 1);
    ck_assert_int_eq(h.stops, 1);
    ck_assert_int_eq(h.order, 1);
    ck_assert_int_eq(h.last_why, LOOP_END_DATA);
    ck_assert_int_eq(loop_end_reason(l), LOOP_END_DATA);
    ck_assert_int_eq(loop_signal(l), 0);
    ck_assert_str_eq(loop_error(l), "");
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), -1); /* a loop runs once */
    loop_free(l);
}
END_TEST

START_TEST(test_two_sources_and_a_failure)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter a = {.total = 100 * LOOP_BATCH}, b = {.total = 100 * LOOP_BATCH, .fail_at = 3};
    ck_assert_ptr_nonnull(loop_add_pull(l, "a", counter_pull, &a));
    ck_assert_ptr_nonnull(loop_add_pull(l, "b", counter_pull, &b));
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "boom on call 3");
    ck_assert_str_eq(loop_error(l), "boom on call 3");
    ck_assert_int_eq(h.last_why, LOOP_END_ERROR);
    ck_assert_int_eq(h.ends, 1);
    ck_assert_int_eq(h.stops, 1);
    ck_assert_uint_eq(a.calls, 3); /* both were served in turn until b failed */
    ck_assert_uint_lt(a.taken, a.total);
    loop_free(l);
}
END_TEST

START_TEST(test_deferred_runs_between_batches)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.l = l, .total = 10 * LOOP_BATCH, .defer_at = 2, .deferred_ran_after = -1};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", defer_pull, &c));
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(c.deferred_ran_after, 2); /* right after the batch that asked */
    ck_assert_int_eq(c.deferred_cancelled, 0);
    /* one left pending when the loop goes: called cancelled */
    struct counter d = {.deferred_ran_after = -1};
    ck_assert_int_eq(loop_defer(l, deferred, &d), 0);
    loop_free(l);
    ck_assert_int_eq(d.deferred_cancelled, 1);
}
END_TEST

/* a deferred call that defers itself runs once per batch, never starving the data */
struct again {
    struct loop *l;
    struct counter *c;
    size_t seen[5];
    int n;
};

static void defer_again(void *arg, int cancelled)
{
    struct again *g = arg;
    if (cancelled)
        return;
    g->seen[g->n++] = g->c->calls;
    if (g->n < 5)
        ck_assert_int_eq(loop_defer(g->l, defer_again, g), 0);
}

START_TEST(test_deferred_deferring_itself)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.total = 10 * LOOP_BATCH};
    struct again g = {.l = l, .c = &c};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", counter_pull, &c));
    ck_assert_int_eq(loop_defer(l, defer_again, &g), 0);
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(g.n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(g.seen[i], (size_t)i); /* before the first batch, then one per batch */
    loop_free(l);
}
END_TEST

static int hold(void *arg)
{
    struct counter *c = arg;
    c->hold_checks++;
    if (c->hold_checks <= c->hold_for) {
        ck_assert_uint_eq(c->calls, 0); /* nothing pulled while held */
        return 1;
    }
    return 0;
}

START_TEST(test_hold_and_pace)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.total = 3, .hold_for = 3};
    struct loop_source *s = loop_add_pull(l, "paced", counter_pull, &c);
    ck_assert_ptr_nonnull(s);
    loop_source_pace(s, 1e6);
    loop_set_hold(l, hold, &c);
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_ge(c.hold_checks, 4);
    ck_assert_uint_eq(c.taken, 3);
    ck_assert_uint_le(c.max_seen, LOOP_PACE_MAX_BATCH);
    loop_free(l);
}
END_TEST

START_TEST(test_sigint_stops_before_the_end)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.total = 1000 * LOOP_BATCH, .raise_at = 2, .raise_sig = SIGINT};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", counter_pull, &c));
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_uint_lt(c.taken, c.total);
    ck_assert_int_eq(loop_signal(l), SIGINT);
    ck_assert_int_eq(loop_end_reason(l), LOOP_END_SIGNAL);
    ck_assert_int_eq(h.last_why, LOOP_END_SIGNAL);
    ck_assert_int_eq(h.ends, 1);
    ck_assert_int_eq(h.stops, 1);
    loop_free(l);
}
END_TEST

static int hups;
static void on_hup(void *arg)
{
    (void)arg;
    hups++;
}

START_TEST(test_sighup_hook)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct counter c = {.total = 50 * LOOP_BATCH, .raise_at = 2, .raise_sig = SIGHUP};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", counter_pull, &c));
    loop_on_sighup(l, on_hup, NULL);
    hups = 0;
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(hups, 1);
    ck_assert_uint_eq(c.taken, c.total); /* SIGHUP does not stop the run */
    ck_assert_int_eq(h.last_why, LOOP_END_DATA);
    raise(SIGHUP); /* after the run: caught, not handled (the process lives on) */
    ck_assert_int_eq(hups, 1);
    loop_free(l);

    /* before the run: caught at once, handled when the loop runs */
    l = new_loop(&h);
    struct counter d = {.total = 10};
    ck_assert_ptr_nonnull(loop_add_pull(l, "count", counter_pull, &d));
    loop_on_sighup(l, on_hup, NULL);
    raise(SIGHUP);
    ck_assert_int_eq(hups, 1);
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(hups, 2);
    loop_free(l);
}
END_TEST

/* push source ending from its own event; follow keeps the loop up until loop_stop */
struct push {
    struct loop *l;
    struct loop_source *s;
    struct hooks *h;
    int ends_when_stopped;
};

static void push_end_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct push *p = arg;
    loop_source_end(p->s, NULL);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct push *p = arg;
    p->ends_when_stopped = p->h->ends;
    loop_stop(p->l);
}

START_TEST(test_push_source_follow_and_stop)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    h.busy_for = 5; /* the loop waits for work in flight */
    struct push p = {.l = l, .h = &h, .ends_when_stopped = -1};
    p.s = loop_add_push(l, "socket");
    ck_assert_ptr_nonnull(p.s);
    loop_follow(l, 1);
    struct timeval zero = {0, 0}, later = {0, 20000};
    ck_assert_int_eq(event_base_once(loop_base(l), -1, EV_TIMEOUT, push_end_cb, &p, &zero), 0);
    ck_assert_int_eq(event_base_once(loop_base(l), -1, EV_TIMEOUT, stop_cb, &p, &later), 0);
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(p.ends_when_stopped, 1); /* data ended, the loop followed on */
    ck_assert_int_eq(h.last_why, LOOP_END_DATA);
    ck_assert_int_eq(h.stops, 1);
    ck_assert_int_gt(h.busy_polls, h.busy_for);
    loop_source_end(p.s, NULL); /* a no-op once ended */
    loop_free(l);
}
END_TEST

START_TEST(test_push_source_error_and_no_sources)
{
    struct hooks h;
    struct loop *l = new_loop(&h);
    struct loop_source *s = loop_add_push(l, "socket");
    loop_source_end(s, "connection reset");
    char err[128];
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "connection reset");
    ck_assert_int_eq(h.last_why, LOOP_END_ERROR);
    ck_assert_ptr_null(loop_add_push(l, "late")); /* no source after the data ended */
    loop_free(l);

    /* without sources the data never ends: only a stop ends the run */
    l = new_loop(&h);
    struct push p = {.l = l, .h = &h, .ends_when_stopped = -1};
    struct timeval t = {0, 1000};
    ck_assert_int_eq(event_base_once(loop_base(l), -1, EV_TIMEOUT, stop_cb, &p, &t), 0);
    ck_assert_int_eq(loop_run(l, err, sizeof(err)), 0);
    ck_assert_int_eq(p.ends_when_stopped, 0);
    ck_assert_int_eq(h.last_why, LOOP_END_STOPPED);
    ck_assert_int_eq(h.stops, 1);
    loop_free(l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_pull_in_batches_to_the_end);
    tcase_add_test(tc, test_two_sources_and_a_failure);
    tcase_add_test(tc, test_deferred_runs_between_batches);
    tcase_add_test(tc, test_deferred_deferring_itself);
    tcase_add_test(tc, test_hold_and_pace);
    tcase_add_test(tc, test_sigint_stops_before_the_end);
    tcase_add_test(tc, test_sighup_hook);
    tcase_add_test(tc, test_push_source_follow_and_stop);
    tcase_add_test(tc, test_push_source_error_and_no_sources);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
