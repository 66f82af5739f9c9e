/* runtime: state by evaluation position, separate from the graph; carried over to a
 * runtime rebuilt for another evaluation order. */
#include "host/dag/runtime.h"
#include "host/dag/scheduler.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000LL

/* Custom compute: counts its calls in its state and emits latest input + count. */
static int counting(const struct qmtl_view *v, struct qmtl_value *out)
{
    long *k = v->state;
    (*k)++;
    *out = qmtl_number(qmtl_value_number(qmtl_window_latest(&v->inputs[0])) + (double)*k);
    return 0;
}

/* The last value each node emitted, by NodeID (small graphs: a linear table). */
struct seen {
    char id[8][NODEID_LEN + 1];
    double last[8];
    int n;
};

static void on_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    (void)ts;
    struct seen *s = arg;
    int i = 0;
    while (i < s->n && strcmp(s->id[i], n->id))
        i++;
    if (i == s->n) {
        ck_assert_int_lt(s->n, 8);
        snprintf(s->id[s->n++], sizeof(s->id[0]), "%s", n->id);
    }
    s->last[i] = qmtl_value_number(v);
}

static double last_of(const struct seen *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->id[i], id))
            return s->last[i];
    ck_abort_msg("no output of %s", id);
    return 0;
}

static uint32_t add(struct graph *g, int kind, const char *type, const json_t *params,
                    const uint32_t *in, uint32_t n_in, int32_t period)
{
    struct graph_desc d = {.kind = kind,
                           .node_type = type,
                           .label = type,
                           .params = params,
                           .code_hash = "",
                           .inputs = in,
                           .n_inputs = n_in,
                           .interval = 60,
                           .period = period};
    uint32_t idx;
    int created;
    char err[200];
    ck_assert_msg(graph_add(g, &d, 0, &idx, &created, err, sizeof(err)) == 0, "%s", err);
    return idx;
}

static uint32_t add_sma(struct graph *g, const char *type, uint32_t src, int32_t window)
{
    json_t *p = json_pack("{s:i}", "window", window);
    uint32_t i = add(g, GRAPH_INDICATOR, type, p, &src, 1, window);
    json_decref(p);
    struct graph_node *n = graph_node(g, i);
    n->has_builtin = 1;
    n->builtin = (struct graph_builtin){.kind = BI_SMA, .window = window, .field = BI_CLOSE};
    return i;
}

static uint32_t add_counting(struct graph *g, uint32_t src)
{
    uint32_t i = add(g, GRAPH_CUSTOM, "counting", NULL, &src, 1, 2);
    struct graph_node *n = graph_node(g, i);
    n->state_size = sizeof(long);
    struct graph_bind b = {.owner = 0, .compute = counting};
    ck_assert_int_eq(graph_bind_add(n, &b), 0);
    return i;
}

/* stream, sma(3) and a counting custom node on it */
static struct graph *base_graph(uint32_t *src, uint32_t *sma, uint32_t *cust)
{
    struct graph *g = graph_new();
    *src = add(g, GRAPH_STREAM, "StreamInput", NULL, NULL, 0, 1);
    *sma = add_sma(g, "sma", *src, 3);
    *cust = add_counting(g, *src);
    char err[200];
    ck_assert_msg(graph_finalize(g, err, sizeof(err)) == 0, "%s", err);
    return g;
}

static struct sched *new_sched(struct graph *g, struct seen *seen, const struct rt_opts *o)
{
    struct sched_hooks h = {.arg = seen, .output = on_output};
    char err[200];
    struct sched *s = sched_new_opts(g, &h, o, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static void feed(struct sched *s, uint32_t src, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct qmtl_value v = qmtl_number(10.0 * i);
        ck_assert_int_eq(sched_feed(s, src, T0 + 60 * i, &v), 0);
    }
}

/* Two runtimes of one graph share nothing: the graph holds no runtime state. */
START_TEST(test_two_runtimes_one_graph)
{
    uint32_t src, sma, cust;
    struct graph *g = base_graph(&src, &sma, &cust);
    struct seen sa = {0}, sb = {0};
    struct sched *a = new_sched(g, &sa, NULL), *b = new_sched(g, &sb, NULL);
    feed(a, src, 0, 5);
    const struct rt_node *ca = sched_node(a, cust), *cb = sched_node(b, cust);
    ck_assert_int_eq(ca->c.computes, 4); /* period 2: warm from the 2nd item */
    ck_assert_int_eq(sched_node(a, sma)->c.computes, 3);
    ck_assert_int_eq(sched_node(a, src)->c.deliveries, 5);
    ck_assert_int_eq(*(long *)ca->state, 4);
    ck_assert_uint_eq(rt_input(sched_node(a, sma), 0)->count, 3);
    /* b saw nothing */
    ck_assert_int_eq(cb->c.computes, 0);
    ck_assert_int_eq(sched_node(b, src)->c.deliveries, 0);
    ck_assert_ptr_ne(ca->state, cb->state);
    ck_assert_int_eq(*(long *)cb->state, 0);
    ck_assert_uint_eq(rt_input(sched_node(b, sma), 0)->count, 0);
    ck_assert_int_eq(sb.n, 0);
    feed(b, src, 0, 3);
    ck_assert_int_eq(*(long *)cb->state, 2);
    ck_assert_int_eq(*(long *)ca->state, 4);
    ck_assert(last_of(&sb, graph_node(g, sma)->id) == 10.0); /* (0 + 10 + 20) / 3 */
    ck_assert(last_of(&sa, graph_node(g, sma)->id) == 30.0); /* (20 + 30 + 40) / 3 */
    /* positions: the runtime's arrays follow the evaluation order */
    for (uint32_t i = 0; i < graph_count(g); i++)
        ck_assert_uint_eq(sched_node(a, i)->pos, graph_node(g, i)->pos);
    sched_free(a);
    sched_free(b);
    graph_free(g);
}
END_TEST

/* rt_adopt_fn as a DAG swap does it: the old runtime's ring of the upstream's twin (same
 * NodeID) with the same capacity and sharing. */
struct adopt_ctx {
    struct graph *old_g;
    struct sched *old_s;
};

static struct nc_ring *adopt(void *arg, const struct graph_node *u, const struct graph_node *x,
                             uint32_t slot, uint32_t cap, int shared)
{
    (void)x, (void)slot;
    struct adopt_ctx *c = arg;
    const struct graph_node *t = graph_find(c->old_g, u->id);
    const struct rt_node *tu = t ? sched_node(c->old_s, t->idx) : NULL;
    for (uint32_t k = 0; tu && k < tu->n_outs; k++) {
        struct nc_ring *r = tu->outs[k].ring;
        if (!r->borrowed && r->shared == shared && r->w.cap == cap) {
            r->borrowed = 1;
            return r;
        }
    }
    return NULL;
}

/* A runtime rebuilt for a graph whose evaluation order moved the kept nodes keeps their
 * windows (adopted rings), built-in state, custom state and counters: from then on it
 * emits what a runtime that never changed emits. */
START_TEST(test_rebuilt_order_keeps_state)
{
    uint32_t src, sma, cust;
    struct graph *g1 = base_graph(&src, &sma, &cust);
    struct graph *ref_g = base_graph(&src, &sma, &cust);
    struct seen s1 = {0}, sr = {0}, s2 = {0};
    struct sched *a = new_sched(g1, &s1, NULL), *ref = new_sched(ref_g, &sr, NULL);
    feed(a, src, 0, 6);
    feed(ref, src, 0, 6);

    /* the new graph: the kept nodes copied, then new nodes on the same stream (rank 1
     * like the kept ones, ordered among them by NodeID): another sma of window 3 (reads
     * the kept sma's ring) and smas of other windows */
    struct graph *g2 = graph_new();
    uint32_t owners[1] = {0}, m[3] = {0};
    char err[200];
    const uint32_t old[3] = {src, sma, cust};
    for (int i = 0; i < 3; i++) {
        uint32_t in = m[0];
        ck_assert_msg(graph_copy(g2, graph_node(g1, old[i]), &in, i ? 1 : 0, owners, &m[i], err,
                                 sizeof(err)) == 0,
                      "%s", err);
    }
    uint32_t twin = add_sma(g2, "sma_b", m[0], 3), w4 = 0;
    for (int32_t w = 4; w < 12; w++) {
        uint32_t i = add_sma(g2, "sma", m[0], w);
        w4 = w == 4 ? i : w4;
    }
    ck_assert_msg(graph_finalize(g2, err, sizeof(err)) == 0, "%s", err);
    int moved = 0;
    for (int i = 0; i < 3; i++)
        moved += graph_node(g2, m[i])->pos != graph_node(g1, old[i])->pos;
    ck_assert_msg(moved > 0, "the new nodes did not change the kept nodes' positions");

    struct adopt_ctx ac = {g1, a};
    struct rt_opts o = {.adopt = adopt, .adopt_arg = &ac};
    struct sched *b = new_sched(g2, &s2, &o);
    uint32_t *srcpos = malloc(graph_count(g2) * sizeof(*srcpos));
    for (uint32_t p = 0; p < graph_count(g2); p++) {
        const struct graph_node *t = graph_find(g1, graph_at(g2, p)->id);
        srcpos[p] = t ? t->pos : GRAPH_NONE;
    }
    runtime_carry(sched_runtime(b), sched_runtime(a), srcpos);
    free(srcpos);
    sched_free(a); /* the adopted rings are b's now */
    graph_free(g1);

    /* kept windows, states, counters at their new positions */
    const struct rt_node *bs = sched_node(b, m[1]), *rs = sched_node(ref, sma);
    ck_assert_uint_eq(rt_input(bs, 0)->count, 3);
    for (uint32_t k = 0; k < 3; k++) {
        ck_assert_int_eq(qmtl_window_ts_at(rt_input(bs, 0), k), qmtl_window_ts_at(rt_input(rs, 0), k));
        ck_assert(qmtl_window_number(rt_input(bs, 0), k) == qmtl_window_number(rt_input(rs, 0), k));
    }
    ck_assert_str_eq(rt_input(bs, 0)->upstream_id, graph_node(g2, m[0])->id);
    ck_assert_int_eq(bs->c.computes, rs->c.computes);
    ck_assert_int_eq(sched_node(b, m[2])->c.computes, sched_node(ref, cust)->c.computes);
    ck_assert_int_eq(*(long *)sched_node(b, m[2])->state, 5);
    ck_assert_int_eq(sched_node(b, m[0])->c.deliveries, 6);
    /* the new sma_b reads the adopted ring: it starts warm, from the items already there */
    ck_assert_ptr_eq(rt_input(sched_node(b, twin), 0), rt_input(bs, 0));
    ck_assert_uint_eq(rt_input(sched_node(b, w4), 0)->count, 0); /* a new ring */

    feed(b, src, 6, 9);
    feed(ref, src, 6, 9);
    ck_assert(last_of(&s2, graph_node(g2, m[1])->id) == last_of(&sr, graph_node(ref_g, sma)->id));
    ck_assert(last_of(&s2, graph_node(g2, twin)->id) == last_of(&sr, graph_node(ref_g, sma)->id));
    ck_assert(last_of(&s2, graph_node(g2, twin)->id) == 70.0); /* (60 + 70 + 80) / 3 */
    ck_assert(last_of(&s2, graph_node(g2, m[2])->id) == last_of(&sr, graph_node(ref_g, cust)->id));
    ck_assert(last_of(&s2, graph_node(g2, m[2])->id) == 80.0 + 8); /* 8 computes so far */
    ck_assert_int_eq(*(long *)sched_node(b, m[2])->state, 8);
    sched_free(b);
    sched_free(ref);
    graph_free(g2);
    graph_free(ref_g);
}
END_TEST

/* A twin without built-in state (a node another host computed: remote, no built-in)
 * declared again here as an indicator: it starts from the ring it reads, not from
 * nothing, and never from a missing state. */
START_TEST(test_carry_from_remote_twin)
{
    struct graph *g1 = graph_new();
    uint32_t src = add(g1, GRAPH_STREAM, "StreamInput", NULL, NULL, 0, 1);
    uint32_t r = add_sma(g1, "sma", src, 3);
    graph_node(g1, r)->kind = GRAPH_REMOTE;
    graph_node(g1, r)->has_builtin = 0;
    char err[200];
    ck_assert_msg(graph_finalize(g1, err, sizeof(err)) == 0, "%s", err);
    struct seen s1 = {0}, s2 = {0};
    struct sched *a = new_sched(g1, &s1, NULL);
    ck_assert_ptr_null(sched_node(a, r)->bi);
    feed(a, src, 0, 5);

    struct graph *g2 = graph_new();
    uint32_t src2 = add(g2, GRAPH_STREAM, "StreamInput", NULL, NULL, 0, 1);
    uint32_t y = add_sma(g2, "sma", src2, 3);
    ck_assert_str_eq(graph_node(g2, y)->id, graph_node(g1, r)->id);
    ck_assert_msg(graph_finalize(g2, err, sizeof(err)) == 0, "%s", err);
    struct adopt_ctx ac = {g1, a};
    struct rt_opts o = {.adopt = adopt, .adopt_arg = &ac};
    struct sched *b = new_sched(g2, &s2, &o);
    uint32_t srcpos[2];
    for (uint32_t p = 0; p < 2; p++)
        srcpos[p] = graph_find(g1, graph_at(g2, p)->id)->pos;
    runtime_carry(sched_runtime(b), sched_runtime(a), srcpos);
    sched_free(a);
    graph_free(g1);
    ck_assert_ptr_nonnull(sched_node(b, y)->bi);
    ck_assert_uint_eq(rt_input(sched_node(b, y), 0)->count, 3);
    feed(b, src2, 5, 6);
    ck_assert(last_of(&s2, graph_node(g2, y)->id) == 40.0); /* (30 + 40 + 50) / 3 */
    sched_free(b);
    graph_free(g2);
}
END_TEST

static int live_only_1(void *arg, uint32_t owner)
{
    (void)arg;
    return owner == 1;
}

static int other_compute(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)v;
    *out = qmtl_number(-1);
    return 0;
}

/* Owners that run and the primary binding are the runtime's, from the graph's bindings. */
START_TEST(test_live_owners_and_primary_binding)
{
    struct graph *g = graph_new();
    uint32_t src = add(g, GRAPH_STREAM, "StreamInput", NULL, NULL, 0, 1);
    uint32_t c = add_counting(g, src); /* owner 0's binding */
    struct graph_desc d = {.kind = GRAPH_CUSTOM,
                           .node_type = "counting",
                           .label = "counting",
                           .code_hash = "",
                           .inputs = &src,
                           .n_inputs = 1,
                           .interval = 60,
                           .period = 2};
    uint32_t idx;
    int created;
    char err[200];
    ck_assert_int_eq(graph_add(g, &d, 1, &idx, &created, err, sizeof(err)), 0);
    ck_assert_int_eq(created, 0);
    ck_assert_uint_eq(idx, c);
    struct graph_bind b = {.owner = 1, .compute = other_compute, .user = &b};
    ck_assert_int_eq(graph_bind_add(graph_node(g, c), &b), 0);
    ck_assert_msg(graph_finalize(g, err, sizeof(err)) == 0, "%s", err);

    struct seen s = {0};
    struct sched *all = new_sched(g, &s, NULL);
    ck_assert_uint_eq(sched_node(all, c)->live_owners, 2);
    ck_assert_ptr_eq((void *)sched_node(all, c)->compute, (void *)counting);
    struct rt_opts o = {.live = live_only_1};
    struct sched *one = new_sched(g, &s, &o);
    ck_assert_uint_eq(sched_node(one, c)->live_owners, 1);
    ck_assert_ptr_eq((void *)sched_node(one, c)->compute, (void *)other_compute);
    ck_assert_ptr_eq(sched_node(one, c)->user, &b);
    /* the graph's node did not change */
    ck_assert_uint_eq(graph_node(g, c)->n_owners, 2);
    /* owner 0 stops in 'all': the node goes on with owner 1's binding */
    runtime_owners_changed(sched_runtime(all), c, live_only_1, NULL);
    ck_assert_uint_eq(sched_node(all, c)->live_owners, 1);
    feed(all, src, 0, 3);
    ck_assert(last_of(&s, graph_node(g, c)->id) == -1);
    sched_free(all);
    sched_free(one);
    graph_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_two_runtimes_one_graph);
    tcase_add_test(tc, test_rebuilt_order_keeps_state);
    tcase_add_test(tc, test_carry_from_remote_twin);
    tcase_add_test(tc, test_live_owners_and_primary_binding);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
