/* bus_standby (and bus_takeover): the bounded log of a node a host does not publish, and
 * the exact takeover it allows. A consuming host whose own data runs ahead of what a dead
 * owner stored takes over an sma, a custom node with a state and its child: every output
 * it sees over the whole run equals a one-process run, the streams go on without a gap.
 * The NATS part is skipped (passes with a note) without nats-server. */
#include "host/online/bus.h"
#include "host/online/bus_standby.h"
#include "host/dag/graph.h"
#include "host/dag/scheduler.h"
#include "host/runner.h"
#include "log.h"
#include "nats_testlib.h"

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the log alone */

struct seen {
    int n;
    int64_t ts[8];
    int with_state;
    unsigned char state[4];
};

static void collect(void *arg, int64_t ts, const struct qmtl_value *v, const void *state,
                    size_t state_len)
{
    struct seen *s = arg;
    ck_assert(v->as.number == (double)ts / 60);
    s->ts[s->n++] = ts;
    if (state) {
        ck_assert_uint_eq(state_len, 4);
        s->with_state++;
        memcpy(s->state, state, 4);
    }
}

/* Outputs mode: bounded, the oldest leave as lost buckets, the state of the newest. */
START_TEST(test_outputs_log)
{
    struct bus_standby *s = bus_standby_outputs(4);
    ck_assert_ptr_nonnull(s);
    unsigned char st[4] = {0};
    for (int k = 1; k <= 6; k++) {
        struct qmtl_value v = qmtl_number(k);
        st[0] = (unsigned char)k;
        ck_assert_int_eq(bus_standby_output(s, 60 * k, &v, st, 4), 0);
    }
    ck_assert_uint_eq(bus_standby_len(s), 4);
    /* buckets 60 and 120 left the log: lost when the stream stops before them */
    ck_assert_uint_eq(bus_standby_lost(s, 0, 60), 2);
    ck_assert_uint_eq(bus_standby_lost(s, 60, 60), 1);
    ck_assert_uint_eq(bus_standby_lost(s, 120, 60), 0);
    struct seen seen = {0};
    ck_assert_uint_eq(bus_standby_each_after(s, 180, collect, &seen), 3);
    ck_assert_int_eq(seen.n, 3);
    ck_assert_int_eq(seen.ts[0], 240);
    ck_assert_int_eq(seen.ts[2], 360);
    ck_assert_int_eq(seen.with_state, 1); /* the newest only */
    ck_assert_int_eq(seen.state[0], 6);
    memset(&seen, 0, sizeof(seen));
    ck_assert_uint_eq(bus_standby_each_after(s, 360, collect, &seen), 0);
    bus_standby_free(s);
    bus_standby_free(NULL);
}
END_TEST

/* ------------------------------------------------- a takeover against NATS */

#define N_ITEMS 30
#define N_REC 4
static const char *const rec_names[N_REC] = {"sma3", "acc", "twice", "echo"};
static const char *const rec_topics[3] = {"w.live.any_sma_tk_v1", "w.live.any_acc_tk_v1",
                                          "w.live.any_twice_tk_v1"};

struct rec {
    int64_t ts;
    double v;
    unsigned char state[32];
};

struct run {
    struct runner r;
    char dir[64];
    struct rec out[N_REC][N_ITEMS + 1];
    int n[N_REC];
};

static struct natst srv;
static struct event_base *base;

static void record(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct run *x = arg;
    for (int k = 0; k < N_REC; k++) {
        if (strcmp(n->label, rec_names[k]) != 0)
            continue;
        ck_assert_int_lt(x->n[k], N_ITEMS + 1);
        struct rec *o = &x->out[k][x->n[k]++];
        o->ts = ts;
        o->v = v->as.number;
        const struct rt_node *rn = sched_node(x->r.h.s, n->idx);
        if (rn && rn->state && n->state_size <= sizeof(o->state))
            memcpy(o->state, rn->state, n->state_size);
    }
}

static void run_open(struct run *x)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->dir, sizeof(x->dir), "/tmp/check_bus_standby.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(x->dir));
    const char *b = getenv("QMTL_BUILD");
    char cmd[512], err[512];
    snprintf(cmd, sizeof(cmd), "cp '%s/fixtures/takeover.so' '%s/'", b && *b ? b : "build",
             x->dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(runner_init(&x->r, NULL), 0);
    ck_assert_int_eq(runner_load_dir(&x->r, x->dir, err, sizeof(err)), 1);
    x->r.h.on_output = record;
    x->r.h.output_arg = x;
}

static void run_close(struct run *x)
{
    runner_release(&x->r);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct graph_node *node_in(struct run *x, const char *label)
{
    for (uint32_t i = 0; i < graph_count(x->r.h.g); i++)
        if (!strcmp(graph_node(x->r.h.g, i)->label, label))
            return graph_node(x->r.h.g, i);
    ck_abort_msg("no node '%s'", label);
    return NULL;
}

/* The run's price data: N_ITEMS one-minute items, each run the same. */
static void feed_all(struct run *x)
{
    uint32_t px = node_in(x, "price")->idx;
    for (int k = 1; k <= N_ITEMS; k++) {
        struct qmtl_value v = qmtl_number(100.0 + (double)((k * 7) % 11) - 0.25 * k);
        ck_assert_int_eq(sched_feed(x->r.h.s, px, 60 * (int64_t)k, &v), 0);
    }
}

static struct run ref, cons;
static struct host_bus *bus;

static void setup(void)
{
    natst_setup(&srv, &base);
}

static void teardown(void)
{
    natst_teardown(&srv, base);
}

/* Publish as "the owner" the reference outputs of node k up to bucket 'upto' (the acc's
 * with the state after each): what it had stored when it died. The count published. */
static uint64_t owner_publish(struct bus_conn *c, int k, int64_t upto)
{
    const struct graph_node *n = node_in(&ref, rec_names[k]);
    char err[300];
    uint64_t seq = 0;
    for (int i = 0; i < ref.n[k] && ref.out[k][i].ts <= upto; i++) {
        struct qmtl_value v = qmtl_number(ref.out[k][i].v);
        seq++;
        ck_assert_msg(bus_conn_publish_state(c, rec_topics[k], n->id, ref.out[k][i].ts, seq, &v,
                                             n->state_size ? ref.out[k][i].state : NULL,
                                             n->state_size, err, sizeof(err)) == 0,
                      "%s", err);
    }
    return seq;
}

static uint64_t want;

static int fed_enough(void *arg)
{
    struct host_bus_stats st;
    host_bus_stats(arg, &st);
    return st.fed >= want;
}

static int taken_over(void *arg)
{
    struct host_bus_stats st;
    host_bus_stats(arg, &st);
    return st.takeovers >= 3 && cons.n[3] >= ref.n[3];
}

START_TEST(test_takeover_exact)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[512];
    /* one process, never interrupted */
    run_open(&ref);
    ck_assert_msg(runner_start(&ref.r, err, sizeof(err)) == 0, "%s", err);
    feed_all(&ref);
    ck_assert_int_gt(ref.n[1], 8);

    /* the owner stored sma3 up to bucket 20, acc up to its output at or before 15, and
     * twice one output less: it died between publishing acc and twice in one wave */
    struct bus_conn *owner = natst_connect(&srv, base);
    ck_assert_int_eq(bus_conn_lease_open(owner, 1000, err, sizeof(err)), 0);
    uint64_t rev;
    for (int k = 0; k < 3; k++) {
        ck_assert(bus_conn_ensure_stream(owner, rec_topics[k], 0, NULL, err, sizeof(err)) == 0);
        ck_assert_int_eq(bus_conn_lease_take(owner, rec_topics[k], "owner:1", &rev, err,
                                             sizeof(err)),
                         1);
    }
    uint64_t stored = owner_publish(owner, 0, 20 * 60);
    uint64_t acc_n = owner_publish(owner, 1, 15 * 60);
    int64_t acc_last = ref.out[1][acc_n - 1].ts;
    stored += acc_n + owner_publish(owner, 2, acc_last - 60);
    ck_assert_int_eq(bus_conn_flush(owner, 2000, err, sizeof(err)), 0);

    /* the consuming host: sma3, acc and twice are computed by the owner */
    run_open(&cons);
    struct runner *r = &cons.r;
    bus = host_bus_new(&r->h, srv.url, "host.bus", err, sizeof(err));
    ck_assert_msg(bus != NULL, "%s", err);
    ck_assert_msg(runner_start(r, err, sizeof(err)) == 0, "%s", err);
    json_t *ack = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "queue_map",
                            node_in(&cons, "sma3")->id, rec_topics[0], node_in(&cons, "acc")->id,
                            rec_topics[1], node_in(&cons, "twice")->id, rec_topics[2],
                            "node_queues", node_in(&cons, "sma3")->id, rec_topics[0],
                            node_in(&cons, "acc")->id, rec_topics[1],
                            node_in(&cons, "twice")->id, rec_topics[2]);
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(host_bus_role(bus, node_in(&cons, "acc")->idx), "remote");
    want = stored;
    natst_loop_until(base, fed_enough, bus);
    /* its own data runs ahead of everything stored */
    feed_all(&cons);
    ck_assert_int_eq(sched_node(r->h.s, node_in(&cons, "acc")->idx)->c.computes, 0);

    /* the owner dies: its leases go */
    for (int k = 0; k < 3; k++)
        bus_conn_lease_release(owner, rec_topics[k], "owner:1");
    natst_loop_until(base, taken_over, bus);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.takeovers, 3);
    ck_assert_uint_eq(st.unrecomputed, 0);
    ck_assert_uint_eq(st.gaps, 0);
    ck_assert_uint_eq(st.published_nodes, 3);

    /* every node's outputs over the whole run: the one-process run's */
    for (int k = 0; k < N_REC; k++) {
        ck_assert_msg(cons.n[k] == ref.n[k], "%s: %d outputs, one process %d", rec_names[k],
                      cons.n[k], ref.n[k]);
        for (int i = 0; i < ref.n[k]; i++) {
            ck_assert_int_eq(cons.out[k][i].ts, ref.out[k][i].ts);
            ck_assert_msg(cons.out[k][i].v == ref.out[k][i].v, "%s at %lld: %.17g, expected %.17g",
                          rec_names[k], (long long)ref.out[k][i].ts, cons.out[k][i].v,
                          ref.out[k][i].v);
        }
    }
    /* computed here only after the stored buckets (acc: its computes after acc_last) */
    long acc_computes = sched_node(r->h.s, node_in(&cons, "acc")->idx)->c.computes;
    ck_assert_int_eq(acc_computes, N_ITEMS - acc_last / 60);
    /* the streams go on from where the owner stopped, numbered on */
    host_bus_stop(bus);
    for (int k = 0; k < 3; k++) {
        int64_t ts;
        uint64_t seq;
        ck_assert_int_eq(bus_conn_last_output(owner, rec_topics[k], &ts, &seq, err, sizeof(err)),
                         0);
        ck_assert_uint_eq(seq, (uint64_t)ref.n[k]);
        ck_assert_int_eq(ts, ref.out[k][ref.n[k] - 1].ts);
    }
    bus_conn_free(owner);
    run_close(&cons);
    host_bus_free(bus);
    run_close(&ref);
}
END_TEST

static int took_one(void *arg)
{
    struct host_bus_stats st;
    host_bus_stats(arg, &st);
    return st.takeovers >= 1;
}

/* No node still waits for its claim's answer. */
static int claimed(void *arg)
{
    (void)arg;
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    return st.claiming_nodes == 0;
}

/* A standby host (told to compute acc, whose lease the owner holds) runs ahead of what
 * the owner stored; when the owner goes, it publishes the outputs it computed after the
 * stored one: the stream then holds every output once, numbered on. */
START_TEST(test_standby_catch_up)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[512];
    run_open(&ref);
    ck_assert_msg(runner_start(&ref.r, err, sizeof(err)) == 0, "%s", err);
    feed_all(&ref);
    struct bus_conn *owner = natst_connect(&srv, base);
    ck_assert(bus_conn_ensure_stream(owner, rec_topics[1], 0, NULL, err, sizeof(err)) == 0);
    ck_assert_int_eq(bus_conn_lease_open(owner, 1000, err, sizeof(err)), 0);
    uint64_t rev;
    ck_assert_int_eq(bus_conn_lease_take(owner, rec_topics[1], "owner:1", &rev, err, sizeof(err)),
                     1);
    uint64_t acc_n = owner_publish(owner, 1, 12 * 60);
    ck_assert_int_eq(bus_conn_flush(owner, 2000, err, sizeof(err)), 0);

    run_open(&cons);
    bus = host_bus_new(&cons.r.h, srv.url, "host.bus", err, sizeof(err));
    ck_assert_msg(bus != NULL, "%s", err);
    ck_assert_msg(runner_start(&cons.r, err, sizeof(err)) == 0, "%s", err);
    const struct graph_node *acc = node_in(&cons, "acc");
    json_t *ack = json_pack("{s:{}, s:{s:s}}", "queue_map", "node_queues", acc->id,
                            rec_topics[1]);
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    natst_loop_until(base, claimed, NULL); /* the claim's answer comes from the lease thread */
    ck_assert_str_eq(host_bus_role(bus, acc->idx), "standby");
    feed_all(&cons); /* computed here, ahead of the stream, not published */
    ck_assert_int_eq(cons.n[1], ref.n[1]);
    int64_t ts;
    uint64_t seq;
    ck_assert_int_eq(bus_conn_last_output(owner, rec_topics[1], &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, acc_n);

    bus_conn_lease_release(owner, rec_topics[1], "owner:1");
    natst_loop_until(base, took_one, bus);
    ck_assert_str_eq(host_bus_role(bus, acc->idx), "published");
    host_bus_stop(bus); /* waits for the acknowledgements */
    ck_assert_int_eq(bus_conn_last_output(owner, rec_topics[1], &ts, &seq, err, sizeof(err)), 0);
    ck_assert_uint_eq(seq, (uint64_t)ref.n[1]);
    ck_assert_int_eq(ts, ref.out[1][ref.n[1] - 1].ts);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.unrecomputed, 0);
    bus_conn_free(owner);
    run_close(&cons);
    host_bus_free(bus);
    run_close(&ref);
}
END_TEST

/* A consumer whose data runs further ahead than its log keeps: the oldest items leave the
 * log, and the takeover counts the buckets it could not recompute. */
START_TEST(test_log_limit)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[512];
    struct bus_conn *owner = natst_connect(&srv, base);
    ck_assert(bus_conn_ensure_stream(owner, rec_topics[0], 0, NULL, err, sizeof(err)) == 0);
    ck_assert_int_eq(bus_conn_lease_open(owner, 1000, err, sizeof(err)), 0);
    uint64_t rev;
    ck_assert_int_eq(bus_conn_lease_take(owner, rec_topics[0], "owner:1", &rev, err, sizeof(err)),
                     1);
    run_open(&cons);
    cons.r.h.on_output = NULL; /* too many outputs to record */
    bus = host_bus_new(&cons.r.h, srv.url, "host.bus", err, sizeof(err));
    ck_assert_msg(bus != NULL, "%s", err);
    ck_assert_msg(runner_start(&cons.r, err, sizeof(err)) == 0, "%s", err);
    const struct graph_node *sma = node_in(&cons, "sma3");
    json_t *ack = json_pack("{s:{s:s}, s:{s:s}}", "queue_map", sma->id, rec_topics[0],
                            "node_queues", sma->id, rec_topics[0]);
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    /* the owner stored nothing; this host's data is BUS_STANDBY_LOG_MAX + 100 items ahead */
    uint32_t px = node_in(&cons, "price")->idx;
    for (int k = 1; k <= BUS_STANDBY_LOG_MAX + 100; k++) {
        struct qmtl_value v = qmtl_number(100.0 + k % 7);
        ck_assert_int_eq(sched_feed(cons.r.h.s, px, 60 * (int64_t)k, &v), 0);
    }
    bus_conn_lease_release(owner, rec_topics[0], "owner:1");
    natst_loop_until(base, took_one, bus);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.takeovers, 1);
    ck_assert_uint_eq(st.unrecomputed, 100);
    /* what the log kept was recomputed and published: sma3 from the log's first window */
    ck_assert_int_eq(sched_node(cons.r.h.s, sma->idx)->c.computes, BUS_STANDBY_LOG_MAX);
    host_bus_stop(bus);
    bus_conn_free(owner);
    run_close(&cons);
    host_bus_free(bus);
}
END_TEST

/* A state that is not the node's state_size is refused (counted, logged), not kept. */
START_TEST(test_state_size_refused)
{
    NATST_SKIP_WITHOUT_SERVER(&srv);
    char err[512];
    struct bus_conn *owner = natst_connect(&srv, base);
    ck_assert(bus_conn_ensure_stream(owner, rec_topics[1], 0, NULL, err, sizeof(err)) == 0);
    run_open(&cons);
    bus = host_bus_new(&cons.r.h, srv.url, "host.bus", err, sizeof(err));
    ck_assert_msg(bus != NULL, "%s", err);
    ck_assert_msg(runner_start(&cons.r, err, sizeof(err)) == 0, "%s", err);
    const struct graph_node *acc = node_in(&cons, "acc");
    json_t *ack = json_pack("{s:{s:s}, s:{s:s}}", "queue_map", acc->id, rec_topics[1],
                            "node_queues", acc->id, rec_topics[1]);
    ck_assert_int_eq(host_bus_plan(bus, 0, "w", ack, err, sizeof(err)), 0);
    json_decref(ack);
    /* another host holds the lease: nothing is taken over meanwhile */
    ck_assert_int_eq(bus_conn_lease_open(owner, 1000, err, sizeof(err)), 0);
    uint64_t rev;
    ck_assert_int_eq(bus_conn_lease_take(owner, rec_topics[1], "owner:1", &rev, err, sizeof(err)),
                     1);
    ck_assert_msg(host_bus_start(bus, base, err, sizeof(err)) == 0, "%s", err);
    struct qmtl_value v = qmtl_number(1);
    const unsigned char three[3] = {1, 2, 3};
    ck_assert(bus_conn_publish_state(owner, rec_topics[1], acc->id, 60, 1, &v, three, 3, err,
                                     sizeof(err)) == 0);
    ck_assert_int_eq(bus_conn_flush(owner, 2000, err, sizeof(err)), 0);
    want = 1;
    natst_loop_until(base, fed_enough, bus);
    struct host_bus_stats st;
    host_bus_stats(bus, &st);
    ck_assert_uint_eq(st.fed, 1); /* the value is fed, its state refused */
    ck_assert_uint_eq(st.refused, 1);
    host_bus_stop(bus);
    bus_conn_free(owner);
    run_close(&cons);
    host_bus_free(bus);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("bus_standby");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_outputs_log);
    tcase_add_test(tc, test_takeover_exact);
    tcase_add_test(tc, test_standby_catch_up);
    tcase_add_test(tc, test_log_limit);
    tcase_add_test(tc, test_state_size_refused);
    return natst_run("bus_standby", tc);
}
