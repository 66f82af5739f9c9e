/* bus_lease against a real nats-server (JetStream, loopback, own store, killed at the end):
 * take and renew answered on the loop thread through the worker, a lease another holder
 * has is not taken, the loop keeps serving a timer while a request waits on a server
 * paused with SIGSTOP, a second batch is refused while one is in flight, and freeing the
 * worker with a request in flight drops its answer; pushed jobs queue behind a batch in
 * flight (release, deletion of a durable consumer cancelled on the loop). Skipped (passes with a note) without
 * nats-server. */
#include "host/online/bus_lease.h"

#include "bus_nats.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define KEY "w.live.any_sma_t_v1"

NATST_FIXTURE()

struct answers {
    int calls;
    struct bus_lease_job last;
    struct bus_lease *l; /* ticks: counted while this one is busy */
    int ticks, ticks_busy;
};

static void on_done(void *arg, struct bus_lease_job *jobs, size_t n)
{
    struct answers *a = arg;
    ck_assert_uint_eq(n, 1);
    a->calls++;
    a->last = jobs[0];
    a->last.key = NULL; /* freed with the batch */
}

static int answered(void *arg)
{
    return ((struct answers *)arg)->calls > 0;
}

static struct bus_lease_job *one_job(int op, uint64_t held)
{
    struct bus_lease_job *j = calloc(1, sizeof(*j));
    ck_assert_ptr_nonnull(j);
    j->op = op;
    j->idx = 7;
    j->tag = 3;
    j->held = held;
    j->key = strdup(KEY);
    ck_assert_ptr_nonnull(j->key);
    return j;
}

/* The lease TTL is far longer than the test: on a loaded machine a 1 s lease would lapse
 * between two steps and turn a refused take into a granted one (not what is tested). */
static struct bus_lease *worker_for(struct bus_conn *c, const char *holder, struct answers *a)
{
    char err[300] = "";
    ck_assert_int_eq(bus_conn_lease_open(c, 30000, err, sizeof(err)), 0);
    struct bus_lease *l = bus_lease_new(base, c, holder, on_done, a, err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    return l;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct answers *a = arg;
    a->ticks++;
    a->ticks_busy += bus_lease_busy(a->l);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    kill(srv.pid, SIGCONT);
}

START_TEST(test_take_renew_loop_free)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    struct answers a = {0}, b = {0};
    struct bus_lease *l = worker_for(c, "h1:1", &a);
    a.l = l;
    char err[300] = "";
    int created = 0;
    ck_assert_msg(bus_conn_ensure_stream(c, KEY, 60, &created, err, sizeof(err)) == 0, "%s", err);

    ck_assert_int_eq(bus_lease_submit(l, one_job(BUS_LEASE_TAKE, 0), 1), 0);
    ck_assert_int_eq(bus_lease_busy(l), 1);
    /* one batch at a time */
    ck_assert_int_eq(bus_lease_submit(l, one_job(BUS_LEASE_TAKE, 0), 1), -1);
    natst_loop_until(base, answered, &a);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(bus_lease_busy(l), 0);
    ck_assert_int_eq(a.last.rc, 1);
    ck_assert_uint_gt(a.last.rev, 0);
    ck_assert_uint_eq(a.last.idx, 7);
    ck_assert_int_eq(a.last.tag, 3);
    ck_assert_int_eq(a.last.last_rc, 1); /* its queue holds nothing yet */
    uint64_t rev = a.last.rev;

    /* another holder does not take it */
    struct bus_conn *c2 = natst_connect(&srv, base);
    struct bus_lease *l2 = worker_for(c2, "h2:2", &b);
    ck_assert_int_eq(bus_lease_submit(l2, one_job(BUS_LEASE_TAKE, 0), 1), 0);
    natst_loop_until(base, answered, &b);
    ck_assert_int_eq(b.calls, 1);
    ck_assert_int_eq(b.last.rc, 0);

    /* a renewal waiting on a paused server does not hold the loop: the timer is served
     * while it is in flight; the server resumes after 300 ms (from the loop) */
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, &a);
    struct event *resume = evtimer_new(base, on_resume, NULL);
    struct timeval every = {0, 10000}, later = {0, 300000};
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    ck_assert_int_eq(bus_lease_submit(l, one_job(BUS_LEASE_RENEW, rev), 1), 0);
    event_add(tick, &every);
    event_add(resume, &later);
    a.calls = 0;
    natst_loop_until(base, answered, &a);
    kill(srv.pid, SIGCONT);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_ge(a.ticks_busy, 1);
    ck_assert_int_eq(a.last.rc, 1);
    ck_assert_uint_gt(a.last.rev, rev);
    event_free(tick);
    event_free(resume);

    /* freed with a request in flight: it ends, its answer is never handed over */
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    a.calls = 0;
    ck_assert_int_eq(bus_lease_submit(l, one_job(BUS_LEASE_RENEW, a.last.rev), 1), 0);
    struct timeval brief = {0, 50000};
    event_base_loopexit(base, &brief);
    event_base_dispatch(base);
    bus_lease_free(l);
    kill(srv.pid, SIGCONT);
    natst_settle(base);
    ck_assert_int_eq(a.calls, 0);

    bus_lease_free(l2);
    bus_conn_free(c2);
    bus_conn_free(c);
}
END_TEST

static int answered_twice(void *arg)
{
    return ((struct answers *)arg)->calls >= 2;
}

static void no_msg(void *arg, const struct bus_msg *m)
{
    (void)arg, (void)m;
}

static int consumer_count(struct bus_conn *c)
{
    json_t *rep = NULL;
    char err[300];
    ck_assert_msg(bus_conn_queue_report(c, KEY, &rep, err, sizeof(err)) == 0, "%s", err);
    int n = (int)json_array_size(json_object_get(rep, "consumers"));
    json_decref(rep);
    return n;
}

/* Pushed jobs queue behind a batch in flight (a tick's), in order: a take, then its
 * release; a durable consumer cancelled on the loop is deleted by the worker. */
START_TEST(test_push_release_forget)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    struct bus_conn *c = natst_connect(&srv, base);
    struct answers a = {0};
    struct bus_lease *l = worker_for(c, "h1:1", &a);
    char err[300] = "", holder[64];
    ck_assert_msg(bus_conn_ensure_stream(c, KEY, 60, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(bus_lease_submit(l, one_job(BUS_LEASE_TAKE, 0), 1), 0);
    ck_assert_int_eq(bus_lease_push(l, one_job(BUS_LEASE_RELEASE, 0), 1), 0); /* while busy */
    ck_assert_int_eq(bus_lease_busy(l), 1);
    natst_loop_until(base, answered_twice, &a);
    ck_assert_int_eq(a.calls, 2);
    ck_assert_int_eq(a.last.op, BUS_LEASE_RELEASE); /* answered last: asked last */
    ck_assert_int_eq(bus_lease_busy(l), 0);
    ck_assert_int_eq(bus_conn_lease_holder(c, KEY, holder, sizeof(holder), err, sizeof(err)), 0);

    int tag = 0;
    ck_assert_msg(bus_conn_consume(c, KEY, "cforget", no_msg, &tag, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(consumer_count(c), 1);
    ck_assert_int_eq(bus_conn_cancel(c, &tag), 1);
    ck_assert_int_eq(bus_conn_cancel(c, &tag), 0); /* once */
    ck_assert_int_eq(consumer_count(c), 1);        /* the durable consumer stays */
    struct bus_lease_job *j = one_job(BUS_LEASE_FORGET, 0);
    snprintf(j->name, sizeof(j->name), "cforget");
    a.calls = 0;
    ck_assert_int_eq(bus_lease_push(l, j, 1), 0);
    natst_loop_until(base, answered, &a);
    ck_assert_int_eq(a.last.rc, 0);
    ck_assert_int_eq(consumer_count(c), 0);
    /* a second deletion finds none */
    j = one_job(BUS_LEASE_FORGET, 0);
    snprintf(j->name, sizeof(j->name), "cforget");
    a.calls = 0;
    ck_assert_int_eq(bus_lease_push(l, j, 1), 0);
    natst_loop_until(base, answered, &a);
    ck_assert_int_eq(a.last.rc, 1);
    ck_assert_int_eq(bus_lease_push(l, NULL, 0), -1);
    bus_lease_free(l);
    bus_conn_free(c);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("lease");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_take_renew_loop_free);
    tcase_add_test(tc, test_push_release_forget);
    return natst_run("bus_lease", tc);
}
