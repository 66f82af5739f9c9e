/*
 * Scheduler semantics through the real host: aligned fan-in, fire-on-any, gap and
 * duplicate skip/fail, late data policies, no-value propagation, defaults from the first
 * input, evaluation order, sharing across strategies, tag queries.
 */
#include <qmtl/testkit.h>

#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/dag/graph.h"
#include "host/dag/scheduler.h"
#include "host/host_api.h"

#define T0 1699999980 /* multiple of 60 */

/* ---------------------------------------------------------------- recording node */

struct call {
    int64_t ts;
    uint32_t trigger;
    uint32_t counts[2];
    int64_t newest[2];
    uint32_t cap;
    double x0;
};
static struct call calls[256];
static int n_calls;

static int rec(const struct qmtl_view *v, struct qmtl_value *out)
{
    struct call *c = &calls[n_calls++ & 255];
    c->ts = v->ts;
    c->trigger = v->trigger;
    c->cap = v->inputs[0].cap;
    for (uint32_t i = 0; i < v->n_inputs && i < 2; i++) {
        c->counts[i] = v->inputs[i].count;
        c->newest[i] = qmtl_window_ts_at(&v->inputs[i], 0);
    }
    c->x0 = qmtl_window_number(&v->inputs[0], 0);
    *out = qmtl_number(c->x0);
    return QMTL_OK;
}

static uint32_t g_flags;
static int32_t g_on_missing, g_on_late;
static int64_t g_lateness;
static int32_t g_period;

static const char *const tags_a[] = {"A", NULL};
static const char *const tags_b[] = {"B", NULL};

static qmtl_node stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *const *tags,
                        const char *iv, int period, struct qmtl_err *err)
{
    return h->stream_input(ctx,
                           &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = tags[0],
                                                      .tags = tags, .interval = iv,
                                                      .period = period},
                           err);
}

static int fan_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "60s", 1, err);
    qmtl_node b = stream(ctx, h, tags_b, "60s", 1, err);
    if (a < 0 || b < 0)
        return QMTL_ERR;
    qmtl_node n =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "rec", .inputs = {a, b},
                                         .compute = rec, .flags = g_flags},
                err);
    return n < 0 ? n : QMTL_OK;
}
static const struct qmtl_plugin fan = {QMTL_PLUGIN_HEADER, .name = "fan", .setup = fan_setup};

static struct qmtl_testkit *tk_new(const struct qmtl_plugin *p)
{
    struct qmtl_err err = {0};
    n_calls = 0;
    struct qmtl_testkit *tk = qmtl_testkit_new(p, NULL, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    return tk;
}

static int feed(struct qmtl_testkit *tk, const char *tag, int64_t ts, double x)
{
    struct qmtl_err err = {0};
    return qmtl_testkit_feed_value(tk, tag, ts, x, &err);
}

/* The same on a bare host, for the tests that look at the runtime behind the nodes (which
 * the testkit keeps to itself). */
static struct host *host_up(const struct qmtl_plugin *p)
{
    struct host *h = calloc(1, sizeof(*h));
    char err[256];
    n_calls = 0;
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(host_init(h, NULL), 0);
    ck_assert_msg(host_add_strategy(h, p, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(host_finalize(h, err, sizeof(err)) == 0, "%s", err);
    return h;
}

static void host_down(struct host *h)
{
    host_finish(h);
    host_release(h);
    free(h);
}

static int hfeed(struct host *h, const char *tag, int64_t ts, double x)
{
    const char *tags[] = {tag};
    struct qmtl_value v = qmtl_number(x);
    return host_feed(h, tags, 1, ts, &v);
}

START_TEST(test_aligned_fan_in)
{
    g_flags = 0;
    struct qmtl_testkit *tk = tk_new(&fan);
    ck_assert_int_eq(feed(tk, "A", T0, 1), 0);
    ck_assert_int_eq(n_calls, 0); /* B has not delivered the bucket */
    ck_assert_int_eq(feed(tk, "B", T0 + 30, 2), 0);
    ck_assert_int_eq(n_calls, 1);
    ck_assert_int_eq(calls[0].ts, T0);
    ck_assert_int_eq(calls[0].newest[0], T0);
    ck_assert_int_eq(calls[0].newest[1], T0);
    ck_assert_int_eq(feed(tk, "B", T0 + 60, 3), 0); /* B first this time */
    ck_assert_int_eq(n_calls, 1);
    ck_assert_int_eq(feed(tk, "A", T0 + 61, 4), 0);
    ck_assert_int_eq(n_calls, 2);
    ck_assert_int_eq(calls[1].ts, T0 + 60);
    ck_assert_int_eq(calls[1].trigger, 0);
    ck_assert(calls[1].x0 == 4);
    qmtl_testkit_free(tk);
}
END_TEST

static uint32_t node_idx(struct host *h, const char *label)
{
    for (uint32_t i = 0; i < graph_count(h->g); i++)
        if (!strcmp(graph_node(h->g, i)->label, label))
            return i;
    ck_abort_msg("no node '%s'", label);
    return 0;
}

/* sched_feed_inputs: items handed to a node's input slots as one wave compute it once, by
 * the usual rules, without touching its upstreams; streams and bad slots are refused. */
START_TEST(test_feed_inputs)
{
    for (int any = 0; any < 2; any++) {
        g_flags = any ? QMTL_FIRE_ON_ANY : 0;
        struct host *h = host_up(&fan);
        uint32_t rec_i = node_idx(h, "rec"), a_i = node_idx(h, "A");
        struct sched_item one[1] = {{.slot = 0, .ts = T0, .value = qmtl_number(5)}};
        ck_assert_int_eq(sched_feed_inputs(h->s, rec_i, one, 1), 0);
        ck_assert_int_eq(n_calls, any); /* aligned: B has not delivered the bucket */
        struct sched_item two[2] = {{.slot = 1, .ts = T0 + 60, .value = qmtl_number(7)},
                                    {.slot = 0, .ts = T0 + 60, .value = qmtl_number(6)}};
        ck_assert_int_eq(sched_feed_inputs(h->s, rec_i, two, 2), 0);
        ck_assert_int_eq(n_calls, any + 1); /* one wave: one computation */
        ck_assert_int_eq(calls[any].ts, T0 + 60);
        ck_assert_int_eq(calls[any].trigger, 1);
        ck_assert(calls[any].x0 == 6);
        ck_assert_int_eq(sched_node(h->s, a_i)->c.emits, 0); /* the upstream is untouched */
        ck_assert_int_eq(sched_feed_inputs(h->s, a_i, one, 1), -1);
        struct sched_item bad[1] = {{.slot = 2, .ts = T0, .value = qmtl_number(1)}};
        ck_assert_int_eq(sched_feed_inputs(h->s, rec_i, bad, 1), -1);
        host_down(h);
    }
}
END_TEST

START_TEST(test_fire_on_any)
{
    g_flags = QMTL_FIRE_ON_ANY;
    struct qmtl_testkit *tk = tk_new(&fan);
    feed(tk, "A", T0, 1);
    ck_assert_int_eq(n_calls, 1); /* B has nothing: does not block */
    ck_assert_int_eq(calls[0].counts[1], 0);
    feed(tk, "B", T0, 2);
    ck_assert_int_eq(n_calls, 2);
    ck_assert_int_eq(calls[1].trigger, 1);
    feed(tk, "B", T0 + 60, 2);
    ck_assert_int_eq(n_calls, 3);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- single input */

static int one_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 2, err);
    if (a < 0)
        return a;
    qmtl_node n = h->node(
        ctx,
        &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "rec", .inputs = {a},
                                 .compute = rec, .on_missing = g_on_missing, .period = g_period,
                                 .on_late = g_on_late, .allowed_lateness = g_lateness},
        err);
    return n < 0 ? n : QMTL_OK;
}
static const struct qmtl_plugin one = {QMTL_PLUGIN_HEADER, .name = "one", .setup = one_setup};

START_TEST(test_defaults_and_warmup)
{
    g_on_missing = g_on_late = 0;
    g_lateness = 0;
    struct qmtl_testkit *tk = tk_new(&one);
    feed(tk, "A", T0, 1);
    ck_assert_int_eq(n_calls, 0); /* period defaults to the stream's 2: not warm */
    feed(tk, "A", T0 + 60, 2);
    ck_assert_int_eq(n_calls, 1);
    ck_assert_uint_eq(calls[0].cap, 2);
    ck_assert_int_eq(calls[0].counts[0], 2);
    /* interval defaulted to 60: output buckets are minutes */
    int64_t ts;
    ck_assert_int_eq(qmtl_testkit_output(tk, "rec", 0, &ts, NULL), 0);
    ck_assert_int_eq(ts, T0 + 60);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(test_gap_and_dup_skip)
{
    g_on_missing = QMTL_MISSING_SKIP;
    g_on_late = 0;
    g_lateness = 0;
    struct qmtl_testkit *tk = tk_new(&one);
    feed(tk, "A", T0, 1);
    feed(tk, "A", T0 + 60, 2);
    ck_assert_int_eq(n_calls, 1);
    feed(tk, "A", T0 + 90, 3); /* same bucket: replaces, skipped */
    ck_assert_int_eq(n_calls, 1);
    feed(tk, "A", T0 + 240, 4); /* gap of two buckets: skipped */
    ck_assert_int_eq(n_calls, 1);
    feed(tk, "A", T0 + 300, 5);
    ck_assert_int_eq(n_calls, 2);
    ck_assert(calls[1].x0 == 5);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(test_gap_fail)
{
    g_on_missing = QMTL_MISSING_FAIL;
    g_on_late = 0;
    g_lateness = 0;
    struct qmtl_testkit *tk = tk_new(&one);
    struct qmtl_err err = {0};
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "A", T0, 1, &err), 0);
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "A", T0 + 60, 1, &err), 0);
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "A", T0 + 180, 1, &err), QMTL_ERR);
    ck_assert_msg(strstr(err.msg, "plugin 'one': node 'rec'") && strstr(err.msg, "gap detected"),
                  "%s", err.msg);
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "A", T0 + 240, 1, &err), QMTL_ESTATE);
    qmtl_testkit_free(tk);
}
END_TEST

/* The runtime node of the (one) custom node. */
static const struct rt_node *custom_node(struct host *h)
{
    for (uint32_t k = 0; k < graph_count(h->g); k++)
        if (graph_node(h->g, k)->kind == GRAPH_CUSTOM)
            return sched_node(h->s, k);
    ck_abort_msg("no custom node");
    return NULL;
}

START_TEST(test_late_policies)
{
    g_on_missing = 0;
    g_lateness = 0;
    g_period = 4;
    static const int seq[] = {0, 1, 2, 4, 5, 6};
    for (int pol = 0; pol < 3; pol++) {
        g_on_late = pol;
        struct host *h = host_up(&one);
        for (int i = 0; i < 6; i++)
            hfeed(h, "A", T0 + 60 * seq[i], seq[i]);
        ck_assert_int_eq(n_calls, 2); /* warm at 4 items, but that one follows a gap */
        hfeed(h, "A", T0 + 180, 42);  /* late bucket T0+180, inside the ring */
        const struct rt_node *rn = custom_node(h);
        uint32_t n_side;
        const struct rt_side_item *side = runtime_side(sched_runtime(h->s), rn->node->idx, &n_side);
        if (pol == QMTL_LATE_RECOMPUTE) {
            ck_assert_int_eq(n_calls, 3);
            ck_assert_int_eq(calls[2].ts, T0 + 180);
            /* the ring stays in bucket order: 180, 240, 300, 360 */
            const struct qmtl_window *w = rt_input(rn, 0);
            ck_assert_int_eq(qmtl_window_ts_at(w, 3), T0 + 180);
            ck_assert(qmtl_window_number(w, 3) == 42);
            ck_assert_int_eq(qmtl_window_ts_at(w, 0), T0 + 360);
        } else {
            ck_assert_int_eq(n_calls, 2);
        }
        ck_assert_int_eq(rn->c.late_dropped, pol == QMTL_LATE_IGNORE ? 1 : 0);
        ck_assert_int_eq(rn->c.late_side, pol == QMTL_LATE_SIDE_OUTPUT ? 1 : 0);
        if (pol == QMTL_LATE_SIDE_OUTPUT) {
            ck_assert_uint_eq(n_side, 1);
            ck_assert_int_eq(side[0].ts, T0 + 180);
            ck_assert(side[0].value.as.number == 42);
        } else {
            ck_assert_uint_eq(n_side, 0);
        }
        host_down(h);
    }
    g_period = 0;
}
END_TEST

START_TEST(test_allowed_lateness)
{
    g_on_missing = 0;
    g_on_late = QMTL_LATE_IGNORE;
    g_lateness = 120;
    g_period = 4;
    static const int seq[] = {0, 1, 2, 3, 5, 6};
    struct host *h = host_up(&one);
    for (int i = 0; i < 6; i++)
        hfeed(h, "A", T0 + 60 * seq[i], seq[i]);
    ck_assert_int_eq(n_calls, 2);
    hfeed(h, "A", T0 + 240, 9); /* 2 buckets late: within 120 s, inserted and computed */
    ck_assert_int_eq(n_calls, 3);
    ck_assert_int_eq(calls[2].ts, T0 + 240);
    hfeed(h, "A", T0 + 190, 9); /* 3 buckets late: beyond, ignored */
    ck_assert_int_eq(n_calls, 3);
    ck_assert_int_eq(custom_node(h)->c.late_dropped, 1);
    host_down(h);
    g_period = 0;
    g_lateness = 0;
}
END_TEST

/* ---------------------------------------------------------------- propagation */

static int odd_only(const struct qmtl_view *v, struct qmtl_value *out)
{
    double x = qmtl_window_number(&v->inputs[0], 0);
    if ((long)x % 2)
        *out = qmtl_number(x);
    return QMTL_OK;
}

static int chain_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node f = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "odd",
                                                   .inputs = {a}, .compute = odd_only},
                          err);
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "rec",
                                                   .inputs = {f}, .compute = rec},
                          err);
    return a < 0 || f < 0 || n < 0 ? QMTL_ERR : QMTL_OK;
}
static const struct qmtl_plugin chain = {QMTL_PLUGIN_HEADER, .name = "chain", .setup = chain_setup};

START_TEST(test_no_value_stops)
{
    struct qmtl_testkit *tk = tk_new(&chain);
    for (int i = 0; i < 10; i++)
        feed(tk, "A", T0 + 60 * i, i);
    ck_assert_int_eq(n_calls, 5);
    ck_assert_uint_eq(qmtl_testkit_output_count(tk, "odd"), 5);
    ck_assert(calls[4].x0 == 9);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- evaluation order */

static char order_log[16][80];
static int n_order;
static char ids[16][80];

static int log_a(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)out;
    snprintf(order_log[n_order++ & 15], 80, "%s", (const char *)v->user);
    return QMTL_OK;
}

static int order_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    static const char *params[8] = {"{\"k\":0}", "{\"k\":1}", "{\"k\":2}", "{\"k\":3}",
                                    "{\"k\":4}", "{\"k\":5}", "{\"k\":6}", "{\"k\":7}"};
    static char names[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof(names[i]), "n%d", i);
        qmtl_node n = h->node(ctx,
                              &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = names[i],
                                                       .inputs = {a}, .compute = log_a,
                                                       .params_json = params[i], .user = ids[i]},
                              err);
        if (n < 0)
            return n;
        snprintf(ids[i], sizeof(ids[i]), "%s", h->node_id(ctx, n));
    }
    return QMTL_OK;
}
static const struct qmtl_plugin ordered = {QMTL_PLUGIN_HEADER, .name = "ordered",
                                           .setup = order_setup};

static int cmp_s(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

START_TEST(test_order_by_node_id)
{
    n_order = 0;
    struct host *h = host_up(&ordered);
    hfeed(h, "A", T0, 1);
    ck_assert_int_eq(n_order, 8);
    char sorted[8][80];
    memcpy(sorted, ids, sizeof(sorted));
    qsort(sorted, 8, 80, cmp_s);
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(order_log[i], sorted[i]);
    /* the 8 readers of the stream (same period, recompute) share its history ring */
    ck_assert_int_eq(graph_at(h->g, 0)->kind, GRAPH_STREAM);
    const struct rt_node *st = &sched_runtime(h->s)->node[0]; /* evaluation position 0 */
    ck_assert_uint_eq(st->n_outs, 1);
    ck_assert_uint_eq(st->outs[0].n_cons, 8);
    host_down(h);
}
END_TEST

/* ---------------------------------------------------------------- sharing, tag query */

static int custom_shared(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0) * 2);
    return QMTL_OK;
}

static int share_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const alpha[] = {"alpha", NULL};
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node m =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                                   .name = "ma", .inputs = {a}, .window = 3},
                     err);
    qmtl_node c = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "dbl",
                                                   .inputs = {m}, .compute = custom_shared,
                                                   .tags = alpha, .code_version = "dbl-1"},
                          err);
    return a < 0 || m < 0 || c < 0 ? QMTL_ERR : QMTL_OK;
}

static int query_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const q[] = {"alpha", NULL};
    qmtl_node t =
        h->tag_query(ctx,
                     &(struct qmtl_tag_query_spec){QMTL_SPEC(qmtl_tag_query_spec), .name = "q",
                                                   .query_tags = q, .interval = "1m", .period = 1},
                     err);
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "rec",
                                                   .inputs = {t}, .compute = rec},
                          err);
    return t < 0 || n < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin share1 = {QMTL_PLUGIN_HEADER, .name = "s1", .setup = share_setup};
static const struct qmtl_plugin share2 = {QMTL_PLUGIN_HEADER, .name = "s2", .setup = share_setup};
static const struct qmtl_plugin query = {QMTL_PLUGIN_HEADER, .name = "q", .setup = query_setup};

START_TEST(test_shared_once_and_tag_query)
{
    struct host h;
    char err[512];
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_int_eq(host_add_strategy(&h, &share1, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &share2, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &query, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &query, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "duplicate name") != NULL, "%s", err);
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    /* stream, sma, dbl shared by s1 and s2; tag query + rec of q */
    ck_assert_uint_eq(graph_count(h.g), 5);
    n_calls = 0;
    const char *tags[] = {"A"};
    for (int i = 0; i < 10; i++) {
        struct qmtl_value v = qmtl_number(i);
        ck_assert_int_eq(host_feed(&h, tags, 1, T0 + 60 * i, &v), 1);
    }
    for (uint32_t k = 0; k < graph_count(h.g); k++) {
        struct graph_node *n = graph_node(h.g, k);
        long computes = sched_node(h.s, k)->c.computes;
        if (n->kind == GRAPH_INDICATOR)
            ck_assert_int_eq(computes, 8); /* once per warm tick, not once per strategy */
        if (n->kind == GRAPH_CUSTOM && !strcmp(n->label, "dbl")) {
            ck_assert_uint_eq(n->n_owners, 2);
            ck_assert_int_eq(computes, 6); /* period 3 from the sma: warm at 3 */
        }
        if (n->kind == GRAPH_TAG_QUERY)
            ck_assert_uint_eq(n->n_in, 1);
    }
    /* the query saw the shared custom node's outputs: 2 * sma(3) */
    ck_assert_int_eq(n_calls, 6);
    ck_assert(calls[5].x0 == 2 * (7 + 8 + 9) / 3.0);
    ck_assert_int_eq(host_strategy_bars(&h, 0), 10);
    host_finish(&h);
    host_release(&h);
}
END_TEST

/* ---------------------------------------------------------------- tag query modes, cycles */

static int tagged_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const xy[] = {"x", "y", NULL};
    static const char *const x[] = {"x", NULL};
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node n1 = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "xy",
                                                    .inputs = {a}, .compute = custom_shared,
                                                    .tags = xy, .params_json = "{\"k\":1}"},
                           err);
    qmtl_node n2 = h->node(ctx,
                           &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "x",
                                                    .inputs = {a}, .compute = custom_shared,
                                                    .tags = x, .params_json = "{\"k\":2}"},
                           err);
    return a < 0 || n1 < 0 || n2 < 0 ? QMTL_ERR : QMTL_OK;
}

static int g_mode;
static int mode_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const q[] = {"x", "y", NULL};
    qmtl_node t =
        h->tag_query(ctx,
                     &(struct qmtl_tag_query_spec){QMTL_SPEC(qmtl_tag_query_spec), .query_tags = q,
                                                   .match_mode = g_mode, .interval = "1m"},
                     err);
    return t < 0 ? t : QMTL_OK;
}

static const struct qmtl_plugin tagged = {QMTL_PLUGIN_HEADER, .name = "tagged",
                                          .setup = tagged_setup};
static const struct qmtl_plugin moder = {QMTL_PLUGIN_HEADER, .name = "moder", .setup = mode_setup};

START_TEST(test_tag_query_match_modes)
{
    for (g_mode = 0; g_mode < 2; g_mode++) {
        struct host h;
        char err[256];
        host_init(&h, NULL);
        ck_assert_int_eq(host_add_strategy(&h, &tagged, NULL, NULL, err, sizeof(err)), 0);
        ck_assert_int_eq(host_add_strategy(&h, &moder, NULL, NULL, err, sizeof(err)), 0);
        ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
        struct graph_node *q = NULL;
        for (uint32_t k = 0; k < graph_count(h.g); k++)
            if (graph_node(h.g, k)->kind == GRAPH_TAG_QUERY)
                q = graph_node(h.g, k);
        ck_assert_ptr_nonnull(q);
        /* any: both tagged nodes; all: only the one carrying x and y */
        ck_assert_uint_eq(q->n_in, g_mode == QMTL_MATCH_ANY ? 2 : 1);
        if (g_mode == QMTL_MATCH_ALL)
            ck_assert_str_eq(graph_node(h.g, q->in[0])->label, "xy");
        host_release(&h);
    }
}
END_TEST

static int loop_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const q[] = {"loop", NULL};
    qmtl_node t = h->tag_query(ctx,
                               &(struct qmtl_tag_query_spec){QMTL_SPEC(qmtl_tag_query_spec),
                                                             .query_tags = q, .interval = "1m"},
                               err);
    /* its consumer carries the tag it queries: a cycle through the query */
    qmtl_node n =
        h->node(ctx,
                &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "me", .inputs = {t},
                                         .compute = custom_shared, .tags = q},
                err);
    return t < 0 || n < 0 ? QMTL_ERR : QMTL_OK;
}
static const struct qmtl_plugin looper = {QMTL_PLUGIN_HEADER, .name = "looper",
                                          .setup = loop_setup};

START_TEST(test_cycle_through_tag_query)
{
    struct host h;
    char err[256];
    host_init(&h, NULL);
    ck_assert_int_eq(host_add_strategy(&h, &looper, NULL, NULL, err, sizeof(err)), 0);
    /* the edge that would close the cycle is dropped and the strategy stopped, naming it;
     * the host itself still finalizes (other strategies run) */
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(h.st[0]->stopped, 1);
    ck_assert_msg(strstr(h.st[0]->error, "cycle through node") != NULL, "%s", h.st[0]->error);
    ck_assert_msg(strstr(h.st[0]->error, "matches node 'me'") != NULL, "%s", h.st[0]->error);
    host_release(&h);
}
END_TEST

/* ---------------------------------------------------------------- invalid results */

static int bad_type(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)v;
    out->type = 42;
    return QMTL_OK;
}

static int bad_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "bad",
                                                   .inputs = {a}, .compute = bad_type},
                          err);
    return a < 0 || n < 0 ? QMTL_ERR : QMTL_OK;
}
static const struct qmtl_plugin bad_plugin = {QMTL_PLUGIN_HEADER, .name = "badtype",
                                              .setup = bad_setup};

START_TEST(test_invalid_result_stops)
{
    struct qmtl_testkit *tk = tk_new(&bad_plugin);
    struct qmtl_err err = {0};
    ck_assert_int_eq(qmtl_testkit_feed_value(tk, "A", T0, 1, &err), QMTL_ERR);
    ck_assert_msg(strstr(err.msg, "plugin 'badtype': node 'bad'") &&
                      strstr(err.msg, "invalid value (type 42)"),
                  "%s", err.msg);
    qmtl_testkit_free(tk);
}
END_TEST

/* ---------------------------------------------------------------- no allocation */

static int alloc_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node m =
        h->indicator(ctx,
                     &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec), .kind = "sma",
                                                   .inputs = {a}, .window = 20},
                     err);
    qmtl_node mx = h->indicator(ctx,
                                &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                              .kind = "rolling_max", .inputs = {a},
                                                              .window = 7},
                                err);
    qmtl_node x = h->indicator(ctx,
                               &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                             .kind = "crossover", .inputs = {a, m}},
                               err);
    qmtl_node c = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "rec",
                                                   .inputs = {mx}, .compute = rec, .period = 5},
                          err);
    qmtl_node sg =
        h->signal(ctx, &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = x}, err);
    qmtl_node o = h->order_publisher(
        ctx, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg}, err);
    return a < 0 || m < 0 || mx < 0 || x < 0 || c < 0 || sg < 0 || o < 0 ? QMTL_ERR : QMTL_OK;
}
static const struct qmtl_plugin alloc_plugin = {QMTL_PLUGIN_HEADER, .name = "alloc",
                                                .setup = alloc_setup};

/* The numeric path (rings, built-ins, custom node, signal, orders, broker) allocates
 * nothing per event once the routes exist (and the broker's curve has room). */
START_TEST(test_no_allocation_per_event)
{
    struct host h;
    char err[256];
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_int_eq(host_add_strategy(&h, &alloc_plugin, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    const char *tags[] = {"A"};
    double px = 100;
    uint64_t s = 7;
    struct qmtl_value v = qmtl_number(0);
    for (int i = 0; i < 200; i++) { /* warm-up: routes, broker symbols, first orders */
        s = s * 6364136223846793005ull + 1;
        px += (double)(s >> 40) / (1 << 24) - 0.5;
        v.as.number = px;
        host_feed(&h, tags, 1, T0 + 60 * i, &v);
    }
    /* the broker keeps one equity point per bar and every fill: room made up front */
    ck_assert_int_eq(broker_reserve(h.st[0]->broker, 20400, 20400), 0);
    n_calls = 0;
    struct mallinfo2 m0 = mallinfo2();
    long orders0 = h.st[0]->orders;
    for (int i = 200; i < 20200; i++) {
        s = s * 6364136223846793005ull + 1;
        px += (double)(s >> 40) / (1 << 24) - 0.5;
        v.as.number = px;
        host_feed(&h, tags, 1, T0 + 60 * i, &v);
    }
    struct mallinfo2 m1 = mallinfo2();
    ck_assert_int_gt(h.st[0]->orders - orders0, 100); /* the order path did run */
    ck_assert_int_gt(n_calls, 1000);
    ck_assert_msg(m1.uordblks == m0.uordblks, "heap in use moved by %ld bytes over 20000 events",
                  (long)(m1.uordblks - m0.uordblks));
    host_release(&h);
}
END_TEST

/* ---------------------------------------------------------------- compute timing */

/* A compute that lasts until the monotonic clock has moved: any timing of it is > 0. */
static int until_tick(const struct qmtl_view *v, struct qmtl_value *out)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec);
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

static int tick_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    qmtl_node a = stream(ctx, h, tags_a, "1m", 1, err);
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "tick",
                                                   .inputs = {a}, .compute = until_tick},
                          err);
    return a < 0 || n < 0 ? QMTL_ERR : QMTL_OK;
}
static const struct qmtl_plugin ticking = {QMTL_PLUGIN_HEADER, .name = "tick", .setup = tick_setup};

/* Custom computes are timed (compute_ns) only while something reads the timings (a
 * metrics endpoint sets h->metrics.time_computes); untimed, compute_ns stays put. */
START_TEST(test_compute_timing_when_read)
{
    struct host *h = host_up(&ticking);
    const struct rt_node *n = custom_node(h);
    for (int i = 0; i < 3; i++)
        hfeed(h, "A", T0 + 60 * i, i);
    ck_assert_int_eq(n->c.computes, 3);
    ck_assert_uint_eq(n->c.compute_ns, 0);
    h->metrics.time_computes = 1;
    hfeed(h, "A", T0 + 180, 3);
    ck_assert_int_eq(n->c.computes, 4);
    uint64_t timed = n->c.compute_ns;
    ck_assert_uint_gt(timed, 0);
    h->metrics.time_computes = 0;
    hfeed(h, "A", T0 + 240, 4);
    ck_assert_int_eq(n->c.computes, 5);
    ck_assert_uint_eq(n->c.compute_ns, timed);
    host_down(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_aligned_fan_in);
    tcase_add_test(tc, test_fire_on_any);
    tcase_add_test(tc, test_feed_inputs);
    tcase_add_test(tc, test_defaults_and_warmup);
    tcase_add_test(tc, test_gap_and_dup_skip);
    tcase_add_test(tc, test_gap_fail);
    tcase_add_test(tc, test_late_policies);
    tcase_add_test(tc, test_allowed_lateness);
    tcase_add_test(tc, test_no_value_stops);
    tcase_add_test(tc, test_order_by_node_id);
    tcase_add_test(tc, test_shared_once_and_tag_query);
    tcase_add_test(tc, test_no_allocation_per_event);
    tcase_add_test(tc, test_invalid_result_stops);
    tcase_add_test(tc, test_compute_timing_when_read);
    tcase_add_test(tc, test_tag_query_match_modes);
    tcase_add_test(tc, test_cycle_through_tag_query);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
