/* route: tags resolved to a route once, items fed by route index (host/dag/route.h). */
#include "host/dag/route.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"

static qmtl_node stream(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *const *tags,
                        struct qmtl_err *err)
{
    return h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        err);
}

/* three streams: BTC+1m, BTC, ETH */
static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const btc1m[] = {"BTC", "1m", NULL};
    static const char *const btc[] = {"BTC", NULL};
    static const char *const eth[] = {"ETH", NULL};
    return stream(ctx, h, btc1m, err) < 0 || stream(ctx, h, btc, err) < 0 ||
                   stream(ctx, h, eth, err) < 0
               ? QMTL_ERR
               : QMTL_OK;
}

static const struct qmtl_plugin three = {QMTL_PLUGIN_HEADER, .name = "three", .setup = setup};

static long outputs;
static void count_output(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v)
{
    (void)arg;
    (void)n;
    (void)ts;
    (void)v;
    outputs++;
}

static void host_with_three(struct host *h)
{
    ck_assert_int_eq(host_init(h, NULL), 0);
    h->on_output = count_output;
    char err[256];
    ck_assert_msg(host_add_strategy(h, &three, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_resolve_once_feed_by_index)
{
    struct host h;
    host_with_three(&h);
    const char *btc[] = {"BTC"}, *btc1m[] = {"BTC", "1m"}, *m1btc[] = {"1m", "BTC"},
               *xrp[] = {"XRP"};
    /* bound before the DAG is final: resolved by host_finalize */
    int r_btc = host_route_id(&h, btc, 1);
    int r_btc1m = host_route_id(&h, btc1m, 2);
    ck_assert_int_ge(r_btc, 0);
    ck_assert_int_ne(r_btc, r_btc1m);
    ck_assert_int_eq(host_route_id(&h, btc, 1), r_btc);     /* same tags, same route */
    ck_assert_int_ne(host_route_id(&h, m1btc, 2), r_btc1m); /* tag order is part of it */
    struct qmtl_value v = qmtl_number(1);
    ck_assert_int_eq(host_feed_route(&h, r_btc, 1000, &v), -1); /* not finalized */
    char err[256];
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    int r_xrp = host_route_id(&h, xrp, 1); /* bound after: resolved at once */
    ck_assert_int_ge(r_xrp, 0);

    outputs = 0;
    ck_assert_int_eq(host_feed_route(&h, r_btc, 1000, &v), 2);   /* BTC+1m and BTC */
    ck_assert_int_eq(host_feed_route(&h, r_btc1m, 1001, &v), 1); /* BTC+1m only */
    ck_assert_int_eq(host_feed_route(&h, r_xrp, 1002, &v), 0);
    ck_assert_int_eq(outputs, 3);
    ck_assert_uint_eq(h.events, 3);
    ck_assert_uint_eq(h.unrouted, 1);
    ck_assert_int_eq(host_feed_route(&h, -1, 1003, &v), -1);
    ck_assert_int_eq(host_feed_route(&h, (int)h.n_routes, 1003, &v), -1);

    /* host_feed by tags finds the same routes */
    size_t before = h.n_routes;
    ck_assert_int_eq(host_feed(&h, btc, 1, 1004, &v), 2);
    ck_assert_uint_eq(h.n_routes, before);
    const char *eth[] = {"ETH"};
    ck_assert_int_eq(host_feed(&h, eth, 1, 1005, &v), 1);
    ck_assert_uint_eq(h.n_routes, before + 1);
    ck_assert_int_eq(host_route_id(&h, eth, 1), (int)before);
    host_release(&h);
}
END_TEST

START_TEST(test_rebuild_and_limits)
{
    struct host h;
    host_with_three(&h);
    char err[256];
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    const char *btc[] = {"BTC"};
    int r = host_route_id(&h, btc, 1);
    struct host_route *rt = &h.routes[r];
    ck_assert_uint_eq(rt->n, 2);
    /* streams in evaluation order */
    uint32_t first = rt->streams[0], second = rt->streams[1];
    ck_assert_uint_lt(graph_node(h.g, first)->pos, graph_node(h.g, second)->pos);
    /* what a route reaches comes from the graph on every rebuild */
    rt->n = 0;
    struct qmtl_value v = qmtl_number(1);
    ck_assert_int_eq(host_feed_route(&h, r, 1000, &v), 0);
    ck_assert_int_eq(host_rebuild_routes(&h), 0);
    ck_assert_uint_eq(h.routes[r].n, 2);
    ck_assert_int_eq(host_feed_route(&h, r, 1001, &v), 2);
    ck_assert_int_eq(host_route_id(&h, btc, 1), r); /* the index survives the rebuild */

    /* an item without tags reaches nothing; too many tags are refused */
    ck_assert_int_eq(host_feed(&h, NULL, 0, 1002, &v), 0);
    const char *many[HOST_ROUTE_MAX_TAGS + 1];
    for (size_t i = 0; i <= HOST_ROUTE_MAX_TAGS; i++)
        many[i] = "BTC";
    ck_assert_int_eq(host_route_id(&h, many, HOST_ROUTE_MAX_TAGS + 1), -1);
    ck_assert_int_ge(host_route_id(&h, many, HOST_ROUTE_MAX_TAGS), 0);
    host_release(&h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_resolve_once_feed_by_index);
    tcase_add_test(tc, test_rebuild_and_limits);
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
