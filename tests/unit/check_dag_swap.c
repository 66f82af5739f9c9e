/*
 * The mutable DAG (host/dag/dag_swap.c) driven through host_* directly: add to a warm DAG,
 * remove from it, replace one of two strategies that share nodes, a replacement that
 * fails, the refusal inside a wave, tag queries resolved again, a stopped strategy
 * replaced. (Plugin instances and shared-node bindings: check_plugin_instance.c.)
 * "Identical" means the per-NodeID series of outputs equal those of a host that never
 * changed.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/plugin/plugin_instance.h"
#include "fixture_lib.h"

#define T0 1700000040 /* multiple of 60 */

/* ---------------------------------------------------------------- recording */

struct rec {
    char id[NODEID_LEN + 1];
    int64_t ts;
    double v;
};

struct recs {
    struct rec *r;
    size_t n, cap;
};

static double value_of(const struct qmtl_value *v)
{
    if (v->type == QMTL_T_ORDER)
        return v->as.order.quantity * v->as.order.side;
    if (v->type == QMTL_T_SIGNAL)
        return v->as.signal.target;
    return qmtl_value_number(v);
}

static void record(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    struct recs *rs = arg;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
        ck_assert_ptr_nonnull(rs->r);
    }
    struct rec *r = &rs->r[rs->n++];
    memcpy(r->id, n->id, sizeof(r->id));
    r->ts = ts;
    r->v = value_of(v);
}

/* The series of node 'id' from time 'from' on equal in a and b (and not empty): exactly,
 * or within a relative 'tol' (a running sum rebuilt from a window rounds differently
 * from one kept since the start). */
static void assert_close_series(const struct recs *a, const struct recs *b, const char *id,
                                int64_t from, double tol, const char *what)
{
    size_t i = 0, j = 0, n = 0;
    for (;;) {
        while (i < a->n && (strcmp(a->r[i].id, id) || a->r[i].ts < from))
            i++;
        while (j < b->n && (strcmp(b->r[j].id, id) || b->r[j].ts < from))
            j++;
        if (i == a->n || j == b->n)
            break;
        double x = a->r[i].v, y = b->r[j].v;
        ck_assert_msg(a->r[i].ts == b->r[j].ts && (tol == 0 ? x == y : fabs(x - y) <= tol * fabs(y)),
                      "%s: item %zu differs: %lld %.17g vs %lld %.17g", what, n,
                      (long long)a->r[i].ts, a->r[i].v, (long long)b->r[j].ts, b->r[j].v);
        i++, j++, n++;
    }
    ck_assert_msg(i == a->n && j == b->n, "%s: one series is longer (after %zu items)", what, n);
    ck_assert_msg(n > 0, "%s: no output at all", what);
}

static void assert_same_series(const struct recs *a, const struct recs *b, const char *id,
                               int64_t from, const char *what)
{
    assert_close_series(a, b, id, from, 0, what);
}

static size_t count_from(const struct recs *a, const char *id, int64_t from)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += !strcmp(a->r[i].id, id) && a->r[i].ts >= from;
    return n;
}

/* ---------------------------------------------------------------- strategies */

static const char *const tags_x[] = {"X", NULL};

/* node state carries: the output counts the node's own computations */
static int acc(const struct qmtl_view *v, struct qmtl_value *out)
{
    long *k = v->state;
    ++*k;
    *out = qmtl_number((double)*k * 1000 + qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

static int triple(const struct qmtl_view *v, struct qmtl_value *out)
{
    double s = 0;
    for (uint32_t i = 0; i < v->inputs[0].count; i++)
        s += qmtl_window_number(&v->inputs[0], i);
    *out = qmtl_number(s);
    return QMTL_OK;
}

static qmtl_node x_stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return h->stream_input(ctx,
                           &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "X",
                                                      .tags = tags_x, .interval = "60s"},
                           err);
}

static qmtl_node ind(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *kind, int window,
                     qmtl_node in, struct qmtl_err *err)
{
    return h->indicator(ctx,
                        &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = kind,
                                                      .window = window, .inputs = {in}},
                        err);
}

static qmtl_node acc_node(struct qmtl_ctx *ctx, const struct qmtl_host *h, qmtl_node in,
                          struct qmtl_err *err)
{
    return h->node(ctx,
                   &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "acc",
                                            .inputs = {in}, .compute = acc,
                                            .code_version = "acc1", .state_size = sizeof(long)},
                   err);
}

/* a: X -> sma(3) -> acc; sma -> signal -> order publisher */
static int a_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err);
    qmtl_node s = x > 0 ? ind(ctx, h, "sma", 3, x, err) : x;
    qmtl_node c = s > 0 ? acc_node(ctx, h, s, err) : s;
    if (c < 0)
        return c;
    qmtl_node sg = h->signal(
        ctx,
        &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = s, .buy_above = 101,
                                   .sell_below = 99},
        err);
    if (sg < 0)
        return sg;
    qmtl_node o = h->order_publisher(
        ctx, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg, .quantity = 1},
        err);
    if (o < 0)
        return o;
    /* late items ignored: a private ring of 4 on X */
    qmtl_node t = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "late4",
                                                   .inputs = {x}, .period = 4, .compute = triple,
                                                   .code_version = "t1",
                                                   .on_late = QMTL_LATE_IGNORE},
                          err);
    return t < 0 ? t : QMTL_OK;
}
static const struct qmtl_plugin A = {QMTL_PLUGIN_HEADER, .name = "a", .setup = a_setup};

static int b_start, b_finish, b_teardown, b2_start, bad_teardown;

/* b: X -> sma(3) -> acc (shared with a); X -> ema(5) (its own) */
static int b_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err);
    qmtl_node s = x > 0 ? ind(ctx, h, "sma", 3, x, err) : x;
    qmtl_node c = s > 0 ? acc_node(ctx, h, s, err) : s;
    qmtl_node e = c > 0 ? ind(ctx, h, "ema", 5, x, err) : c;
    return e < 0 ? e : QMTL_OK;
}
static void b_on_start(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx, (void)h;
    b_start++;
}
static void b_on_finish(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx, (void)h;
    b_finish++;
}
static void b_on_teardown(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx, (void)h;
    b_teardown++;
}
static const struct qmtl_plugin B = {QMTL_PLUGIN_HEADER,       .name = "b",
                                     .setup = b_setup,         .on_start = b_on_start,
                                     .on_finish = b_on_finish, .teardown = b_on_teardown};

/* b, version 2: the shared part, plus stddev(3) and a custom node of period 3 on X (both
 * new, both reading the ring sma(3) already fills) */
static int b2_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err);
    qmtl_node s = x > 0 ? ind(ctx, h, "sma", 3, x, err) : x;
    qmtl_node c = s > 0 ? acc_node(ctx, h, s, err) : s;
    qmtl_node d = c > 0 ? ind(ctx, h, "stddev", 3, x, err) : c;
    if (d < 0)
        return d;
    qmtl_node t = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "triple",
                                                   .inputs = {x}, .period = 3, .compute = triple,
                                                   .code_version = "t1"},
                          err);
    return t < 0 ? t : QMTL_OK;
}
static void b2_on_start(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx, (void)h;
    b2_start++;
}
static const struct qmtl_plugin B2 = {QMTL_PLUGIN_HEADER, .name = "b", .setup = b2_setup,
                                      .on_start = b2_on_start};

static int bad_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err); /* declares a node first: it must not stay */
    (void)x;
    snprintf(err->msg, sizeof(err->msg), "bad on purpose");
    return QMTL_EINVAL;
}
static void bad_on_teardown(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    (void)ctx, (void)h;
    bad_teardown++;
}
static const struct qmtl_plugin BAD = {QMTL_PLUGIN_HEADER, .name = "bad", .setup = bad_setup,
                                       .teardown = bad_on_teardown};

static int invalid_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err);
    qmtl_node n = x > 0 ? ind(ctx, h, "no_such_kind", 3, x, err) : x;
    return n < 0 ? n : QMTL_OK;
}
static const struct qmtl_plugin INVALID = {QMTL_PLUGIN_HEADER, .name = "invalid",
                                           .setup = invalid_setup};

/* ---------------------------------------------------------------- driving */

static void reset_counts(void)
{
    b_start = b_finish = b_teardown = b2_start = bad_teardown = 0;
}

static void start(struct host *h, struct recs *rs, const struct qmtl_plugin *const *p, size_t n)
{
    char err[512];
    ck_assert_int_eq(host_init(h, NULL), 0);
    h->on_output = record;
    h->output_arg = rs;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(host_add_strategy(h, p[i], NULL, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(host_finalize(h, err, sizeof(err)) == 0, "%s", err);
}

static void feed(struct host *h, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct qmtl_value v = qmtl_number(100 + 3 * sin(i * 0.7));
        ck_assert_int_eq(host_feed(h, tags_x, 1, T0 + 60 * (int64_t)i, &v), 1);
    }
}

#define SWAP_AT 20
#define END 40
#define SWAP_TS (T0 + 60 * (int64_t)SWAP_AT)

/* The NodeID of strategy s's node declared with handle k (1-based). */
static const char *nid(struct host *h, size_t s, int k)
{
    return host_api_table()->node_id(&h->st[s]->ctx, k);
}

/* The input windows of two nodes hold the same items. */
static void assert_same_windows(const struct rt_node *x, const struct rt_node *y)
{
    ck_assert_uint_eq(x->n_in, y->n_in);
    for (uint32_t i = 0; i < x->n_in; i++) {
        const struct qmtl_window *u = rt_input(x, i), *v = rt_input(y, i);
        ck_assert_uint_eq(u->count, v->count);
        ck_assert_uint_eq(u->cap, v->cap);
        for (uint32_t k = 0; k < u->count; k++) {
            ck_assert_int_eq(qmtl_window_ts_at(u, k), qmtl_window_ts_at(v, k));
            ck_assert(qmtl_window_number(u, k) == qmtl_window_number(v, k));
        }
    }
}

/* Handles 1..last of strategy s in h and rs in ref: same NodeIDs, same series; from the
 * start (from 0): the same windows now too. */
static void assert_same_nodes(struct host *h, size_t s, struct recs *a, struct host *ref,
                              size_t rs, struct recs *b, int64_t from, size_t last)
{
    for (size_t k = 1; k <= last; k++) {
        if (from == 0)
            assert_same_windows(sched_node(h->s, h->st[s]->ctx.nodes[k - 1]),
                                sched_node(ref->s, ref->st[rs]->ctx.nodes[k - 1]));
        ck_assert_str_eq(nid(h, s, (int)k), nid(ref, rs, (int)k));
        char what[128];
        snprintf(what, sizeof(what), "strategy '%s' node %zu", h->st[s]->name, k);
        assert_same_series(a, b, nid(h, s, (int)k), from, what);
    }
}

static void assert_same_strategy(struct host *h, size_t s, struct recs *a, struct host *ref,
                                 size_t rs, struct recs *b, int64_t from)
{
    ck_assert_uint_eq(h->st[s]->ctx.n, ref->st[rs]->ctx.n);
    assert_same_nodes(h, s, a, ref, rs, b, from, h->st[s]->ctx.n);
}

static void stop(struct host *h, struct recs *rs)
{
    host_finish(h);
    host_release(h);
    free(rs->r);
    memset(rs, 0, sizeof(*rs));
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_add_to_warm_dag)
{
    reset_counts();
    struct host ref, h;
    struct recs rr = {0}, rh = {0};
    start(&ref, &rr, (const struct qmtl_plugin *const[]){&A, &B}, 2);
    feed(&ref, 0, END);

    start(&h, &rh, (const struct qmtl_plugin *const[]){&A}, 1);
    feed(&h, 0, SWAP_AT);
    char err[512];
    size_t idx = 99;
    struct host_swap_result res = {0};
    ck_assert_msg(host_add_strategy_from(&h, NULL, &B, NULL, NULL, &idx, &res, err,
                                         sizeof(err)) == 0,
                  "%s", err);
    ck_assert_uint_eq(idx, 1);
    ck_assert_uint_eq(res.added, 1); /* ema */
    ck_assert_uint_eq(res.kept, 6);  /* X, sma, acc, signal, order, late4 */
    ck_assert_uint_eq(res.removed, 0);
    ck_assert_int_eq(b_start, 2); /* ref's, then the added one's */
    feed(&h, SWAP_AT, END);

    assert_same_strategy(&h, 0, &rh, &ref, 0, &rr, 0);
    /* the new strategy runs: its shared nodes are the same series, its own ema emits
     * once its own (new) ring of 5 is full */
    assert_same_nodes(&h, 1, &rh, &ref, 1, &rr, 0, 3);
    ck_assert_uint_eq(count_from(&rh, nid(&h, 1, 4), 0), END - SWAP_AT - 4); /* cold: 5 items */
    ck_assert_int_eq(h.st[0]->fills, ref.st[0]->fills);
    ck_assert_int_gt(h.st[0]->fills, 0);
    stop(&h, &rh);
    stop(&ref, &rr);
    ck_assert_int_eq(b_teardown, 2);
}
END_TEST

START_TEST(test_remove_from_warm_dag)
{
    reset_counts();
    struct host ref, h;
    struct recs rr = {0}, rh = {0};
    /* b first: removing it moves a (and its order publisher) down one index */
    start(&ref, &rr, (const struct qmtl_plugin *const[]){&B, &A}, 2);
    feed(&ref, 0, END);
    start(&h, &rh, (const struct qmtl_plugin *const[]){&B, &A}, 2);
    feed(&h, 0, SWAP_AT);
    char ema_id[NODEID_LEN + 1];
    snprintf(ema_id, sizeof(ema_id), "%s", nid(&h, 0, 4));
    char err[512];
    struct host_swap_result res = {0};
    ck_assert_msg(host_remove_strategy(&h, 0, &res, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(res.removed, 1); /* ema: sma and acc stay with a */
    ck_assert_uint_eq(res.kept, 6);
    ck_assert_uint_eq(res.added, 0);
    ck_assert_int_eq(b_finish, 1);
    ck_assert_int_eq(b_teardown, 1);
    ck_assert_uint_eq(h.n_st, 1);
    ck_assert_int_eq(host_find_strategy(&h, "b"), -1);
    ck_assert_int_eq(host_find_strategy(&h, "a"), 0);
    ck_assert_ptr_null(graph_find(h.g, ema_id));
    feed(&h, SWAP_AT, END);

    assert_same_strategy(&h, 0, &rh, &ref, 1, &rr, 0);
    ck_assert_uint_eq(count_from(&rh, ema_id, SWAP_TS), 0);
    ck_assert_int_eq(h.st[0]->fills, ref.st[1]->fills);
    ck_assert_int_gt(h.st[0]->fills, 0);
    stop(&h, &rh);
    stop(&ref, &rr);
    ck_assert_int_eq(b_finish, 2); /* the removed one once, ref's once */
}
END_TEST

START_TEST(test_replace_shared)
{
    reset_counts();
    struct host ref, h;
    struct recs rr = {0}, rh = {0};
    start(&ref, &rr, (const struct qmtl_plugin *const[]){&A, &B2}, 2);
    feed(&ref, 0, END);
    start(&h, &rh, (const struct qmtl_plugin *const[]){&A, &B}, 2);
    struct qmtl_activation act = {.size = sizeof(act), .active = 1, .weight = 1,
                                  .side = QMTL_SIDE_BUY, .etag = "e1"};
    ck_assert_int_eq(host_set_activation(&h, 1, &act), 1);
    struct broker *broker = h.st[1]->broker;
    feed(&h, 0, SWAP_AT);
    char err[512];
    struct host_swap_result res = {0};
    ck_assert_msg(host_replace_strategy(&h, 1, NULL, &B2, NULL, &res, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_uint_eq(res.added, 2);   /* stddev, triple */
    ck_assert_uint_eq(res.removed, 1); /* ema */
    ck_assert_uint_eq(res.kept, 6);
    ck_assert_int_eq(b_finish, 1);
    ck_assert_int_eq(b_teardown, 1);
    ck_assert_int_eq(b2_start, 2); /* ref's, then the replacing one's */
    ck_assert_str_eq(h.st[1]->name, "b");
    ck_assert_ptr_eq(h.st[1]->desc, &B2);
    ck_assert_ptr_eq(h.st[1]->broker, broker);
    struct qmtl_activation cur;
    ck_assert_int_eq(host_api_table()->activation(&h.st[1]->ctx, QMTL_SIDE_BUY, &cur), 0);
    ck_assert_int_eq(cur.active, 1);
    feed(&h, SWAP_AT, END);

    /* the strategy that stayed: identical from the start */
    assert_same_strategy(&h, 0, &rh, &ref, 0, &rr, 0);
    /* the new version's new nodes start warm from the ring sma(3) filled: triple at
     * once and exactly, stddev rebuilt from it (equal up to rounding) */
    assert_same_nodes(&h, 1, &rh, &ref, 1, &rr, 0, 3);
    ck_assert_str_eq(nid(&h, 1, 4), nid(&ref, 1, 4));
    assert_close_series(&rh, &rr, nid(&h, 1, 4), SWAP_TS, 1e-9, "stddev");
    assert_same_series(&rh, &rr, nid(&h, 1, 5), SWAP_TS, "triple");
    ck_assert_uint_eq(count_from(&rh, nid(&h, 1, 5), SWAP_TS), END - SWAP_AT);
    ck_assert_uint_eq(count_from(&rh, nid(&h, 1, 4), SWAP_TS), END - SWAP_AT);
    stop(&h, &rh);
    stop(&ref, &rr);
}
END_TEST

START_TEST(test_replace_same_version_is_warm)
{
    reset_counts();
    struct host ref, h;
    struct recs rr = {0}, rh = {0};
    start(&ref, &rr, (const struct qmtl_plugin *const[]){&A}, 1);
    feed(&ref, 0, END);
    start(&h, &rh, (const struct qmtl_plugin *const[]){&A}, 1);
    feed(&h, 0, SWAP_AT);
    struct graph *before = h.g;
    char err[512];
    struct host_swap_result res = {0};
    ck_assert_msg(host_replace_strategy(&h, 0, NULL, &A, NULL, &res, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_ptr_ne(h.g, before);
    ck_assert_uint_eq(res.added, 0);
    ck_assert_uint_eq(res.kept, 6); /* the order publisher and late4's private ring too */
    ck_assert_uint_eq(res.removed, 0);
    feed(&h, SWAP_AT, END);
    /* acc's output counts its computations: its state went over */
    assert_same_strategy(&h, 0, &rh, &ref, 0, &rr, 0);
    ck_assert_int_eq(h.st[0]->fills, ref.st[0]->fills);
    stop(&h, &rh);
    stop(&ref, &rr);
}
END_TEST

START_TEST(test_failing_change_leaves_dag)
{
    reset_counts();
    struct host ref, h;
    struct recs rr = {0}, rh = {0};
    start(&ref, &rr, (const struct qmtl_plugin *const[]){&A, &B}, 2);
    feed(&ref, 0, END);
    start(&h, &rh, (const struct qmtl_plugin *const[]){&A, &B}, 2);
    feed(&h, 0, SWAP_AT);
    struct graph *g = h.g;
    struct sched *s = h.s;
    size_t nodes = graph_count(h.g);
    char err[512];
    struct host_swap_result res = {7, 7, 7};

    ck_assert_int_eq(host_replace_strategy(&h, 1, NULL, &BAD, NULL, &res, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "plugin 'b'") && strstr(err, "bad on purpose"), "%s", err);
    ck_assert_int_eq(bad_teardown, 0); /* its setup failed */
    ck_assert_int_eq(host_replace_strategy(&h, 1, NULL, &INVALID, NULL, &res, err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "unknown kind 'no_such_kind'"), "%s", err);
    /* a tag query matching a node downstream of itself: refused, and the instance's
     * references taken by the staging strategy and nodes are given back */
    struct plugin *p;
    ck_assert_msg(plugin_open(fixture("tag_cycle"), &p, err, sizeof(err)) == 0, "%s", err);
    struct plugin_instance *pi = plugin_instance_new(p);
    ck_assert_int_eq(host_replace_strategy(&h, 1, pi, NULL, NULL, &res, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cycle through node 'tq'"), "%s", err);
    ck_assert_uint_eq(pi->refs, 1);
    plugin_instance_unref(pi);
    ck_assert_int_eq(host_add_strategy_from(&h, NULL, &BAD, NULL, NULL, NULL, &res, err,
                                            sizeof(err)),
                     -1);
    ck_assert_int_eq(host_add_strategy(&h, &A, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "duplicate name"), "%s", err);
    ck_assert_int_eq(host_remove_strategy(&h, 2, &res, err, sizeof(err)), -1);
    ck_assert_int_eq(res.added, 7); /* untouched on failure */

    ck_assert_ptr_eq(h.g, g);
    ck_assert_ptr_eq(h.s, s);
    ck_assert_uint_eq(graph_count(h.g), nodes);
    ck_assert_uint_eq(h.n_st, 2);
    ck_assert_ptr_eq(h.st[1]->desc, &B);
    ck_assert_int_eq(b_finish, 0);
    ck_assert_int_eq(b_teardown, 0);
    ck_assert_int_eq(h.st[1]->stopped, 0);
    feed(&h, SWAP_AT, END);
    assert_same_strategy(&h, 0, &rh, &ref, 0, &rr, 0);
    assert_same_strategy(&h, 1, &rh, &ref, 1, &rr, 0);
    stop(&h, &rh);
    stop(&ref, &rr);
}
END_TEST

/* h->on_output runs inside the wave: a change from there is refused */
static int inner_rc = 1;
static char inner_err[256];
static void change_inside(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    (void)n, (void)ts, (void)v;
    if (inner_rc == 1)
        inner_rc = host_remove_strategy(arg, 0, NULL, inner_err, sizeof(inner_err));
}

START_TEST(test_refused_inside_wave)
{
    struct host h;
    struct recs rh = {0};
    start(&h, &rh, (const struct qmtl_plugin *const[]){&A}, 1);
    h.on_output = change_inside;
    h.output_arg = &h;
    feed(&h, 0, 3);
    ck_assert_int_eq(inner_rc, -1);
    ck_assert_msg(strstr(inner_err, "inside a wave"), "%s", inner_err);
    ck_assert_uint_eq(h.n_st, 1);
    stop(&h, &rh);
}
END_TEST

START_TEST(test_remove_before_start_refused)
{
    struct host h;
    char err[256];
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_int_eq(host_add_strategy(&h, &A, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_remove_strategy(&h, 0, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "not running"), "%s", err);
    host_release(&h);
}
END_TEST

/* ---------------------------------------------------------------- a stopped strategy */

static int g_fail_at; /* the compute fails on this value of X (0: never) */

static int fragile(const struct qmtl_view *v, struct qmtl_value *out)
{
    double x = qmtl_window_number(&v->inputs[0], 0);
    if (g_fail_at && x == g_fail_at)
        return QMTL_ERR;
    *out = qmtl_number(x);
    return QMTL_OK;
}

static int f_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node x = x_stream(ctx, h, err);
    qmtl_node n = x > 0 ? h->node(ctx,
                                  &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec),
                                                           .name = "fragile", .inputs = {x},
                                                           .compute = fragile,
                                                           .code_version = "f1"},
                                  err)
                        : x;
    return n < 0 ? n : QMTL_OK;
}
static const struct qmtl_plugin F = {QMTL_PLUGIN_HEADER, .name = "f", .setup = f_setup};

START_TEST(test_replace_stopped_strategy)
{
    struct host h;
    struct recs rh = {0};
    start(&h, &rh, (const struct qmtl_plugin *const[]){&A, &F}, 2);
    char fragile_id[NODEID_LEN + 1];
    snprintf(fragile_id, sizeof(fragile_id), "%s", nid(&h, 1, 2));
    g_fail_at = 3;
    for (int i = 0; i < 5; i++) {
        struct qmtl_value v = qmtl_number(i);
        host_feed(&h, tags_x, 1, T0 + 60 * i, &v);
    }
    ck_assert_int_eq(h.st[1]->stopped, 1);
    ck_assert(sched_node(h.s, graph_find(h.g, fragile_id)->idx)->failed);
    ck_assert_uint_eq(count_from(&rh, fragile_id, 0), 3);

    /* the same code, now healthy: the node (declared again only by the new version)
     * starts afresh, and the strategy runs */
    g_fail_at = 0;
    char err[512];
    struct host_swap_result res;
    ck_assert_msg(host_replace_strategy(&h, 1, NULL, &F, NULL, &res, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_uint_eq(res.added, 0);
    ck_assert_int_eq(h.st[1]->stopped, 0);
    ck_assert(!sched_node(h.s, graph_find(h.g, fragile_id)->idx)->failed);
    ck_assert_uint_eq(sched_node(h.s, graph_find(h.g, fragile_id)->idx)->live_owners, 1);
    for (int i = 5; i < 8; i++) {
        struct qmtl_value v = qmtl_number(i);
        host_feed(&h, tags_x, 1, T0 + 60 * i, &v);
    }
    ck_assert_uint_eq(count_from(&rh, fragile_id, 0), 6);
    stop(&h, &rh);
}
END_TEST

/* ---------------------------------------------------------------- tag queries */

static const char *const tags_fx[] = {"fx", NULL};

static int q_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node tq =
        h->tag_query(ctx,
                     &(struct qmtl_tag_query_spec){QMTL_SPEC(qmtl_tag_query_spec), .name = "fxq",
                                                   .query_tags = tags_fx, .interval = "60s"},
                     err);
    return tq < 0 ? tq : QMTL_OK;
}
static const struct qmtl_plugin Q = {QMTL_PLUGIN_HEADER, .name = "q", .setup = q_setup};

static int fx_stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *sym,
                     struct qmtl_err *err)
{
    const char *tags[] = {sym, "fx", NULL};
    qmtl_node x = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "60s"},
        err);
    return x < 0 ? x : QMTL_OK;
}
static int eur_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return fx_stream(ctx, h, "EUR", err);
}
static int jpy_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return fx_stream(ctx, h, "JPY", err);
}
static const struct qmtl_plugin EUR = {QMTL_PLUGIN_HEADER, .name = "eur", .setup = eur_setup};
static const struct qmtl_plugin JPY = {QMTL_PLUGIN_HEADER, .name = "jpy", .setup = jpy_setup};

static int feed_fx(struct host *h, const char *sym, int i, double x)
{
    const char *tags[] = {sym};
    struct qmtl_value v = qmtl_number(x);
    return host_feed(h, tags, 1, T0 + 60 * (int64_t)i, &v);
}

START_TEST(test_tag_queries_resolved_again)
{
    struct host h;
    struct recs rh = {0};
    start(&h, &rh, (const struct qmtl_plugin *const[]){&Q, &EUR}, 2);
    char q_id[NODEID_LEN + 1];
    snprintf(q_id, sizeof(q_id), "%s", nid(&h, 0, 1));
    ck_assert_int_eq(feed_fx(&h, "EUR", 0, 1.5), 1);
    ck_assert_int_eq(feed_fx(&h, "JPY", 0, 150), 0); /* no such stream yet */
    ck_assert_uint_eq(count_from(&rh, q_id, 0), 1);
    /* a data source bound to a route before the change keeps its route id */
    const char *jpy[] = {"JPY"};
    int route = host_route_id(&h, jpy, 1);
    ck_assert_int_ge(route, 0);

    char err[512];
    struct host_swap_result res;
    ck_assert_msg(host_add_strategy_from(&h, NULL, &JPY, NULL, NULL, NULL, &res, err,
                                         sizeof(err)) == 0,
                  "%s", err);
    ck_assert_uint_eq(res.added, 1);
    ck_assert_uint_eq(res.kept, 2);
    ck_assert_uint_eq(graph_find(h.g, q_id)->n_in, 2);
    struct qmtl_value v151 = qmtl_number(151);
    ck_assert_int_eq(host_feed_route(&h, route, T0 + 60, &v151), 1); /* routes rebuilt */
    ck_assert_uint_eq(count_from(&rh, q_id, 0), 2);
    ck_assert(rh.r[rh.n - 1].v == 151 && !strcmp(rh.r[rh.n - 1].id, q_id));

    ck_assert_msg(host_remove_strategy(&h, 1, &res, err, sizeof(err)) == 0, "%s", err); /* eur */
    ck_assert_uint_eq(res.removed, 1);
    ck_assert_uint_eq(graph_find(h.g, q_id)->n_in, 1);
    ck_assert_int_eq(feed_fx(&h, "EUR", 2, 1.6), 0);
    struct qmtl_value v152 = qmtl_number(152);
    ck_assert_int_eq(host_feed_route(&h, route, T0 + 120, &v152), 1);
    ck_assert_uint_eq(count_from(&rh, q_id, 0), 3);
    stop(&h, &rh);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag_swap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_add_to_warm_dag);
    tcase_add_test(tc, test_remove_from_warm_dag);
    tcase_add_test(tc, test_replace_shared);
    tcase_add_test(tc, test_replace_same_version_is_warm);
    tcase_add_test(tc, test_failing_change_leaves_dag);
    tcase_add_test(tc, test_refused_inside_wave);
    tcase_add_test(tc, test_remove_before_start_refused);
    tcase_add_test(tc, test_tag_queries_resolved_again);
    tcase_add_test(tc, test_replace_stopped_strategy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
