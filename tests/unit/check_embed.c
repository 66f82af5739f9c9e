/* embed: the runtime's front door, driven as the testkit drives it (a linked strategy and
 * fixture plugin files): descriptor checks, parameters, outputs by node, the strategy's
 * counters, the state rules. */
#include "host/embed.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fixture_path[512];

static const char *fixture(const char *name)
{
    const char *b = getenv("QMTL_BUILD");
    snprintf(fixture_path, sizeof(fixture_path), "%s/fixtures/%s.so", b && *b ? b : "build", name);
    return fixture_path;
}

/* ---- a strategy: stream "px" -> signal "sig" (threshold from the parameter 'level') ->
 * orders "ord" of quantity 'qty' */

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    double level = h->config_number(ctx, "level", 1000);
    qmtl_node px =
        h->stream_input(ctx,
                        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "px",
                                                   .tags = tags, .interval = "60s", .period = 1},
                        err);
    if (px < 0)
        return px;
    qmtl_node sig =
        h->signal(ctx,
                  &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .name = "sig",
                                             .input = px, .buy_above = level, .sell_below = -1},
                  err);
    if (sig < 0)
        return sig;
    qmtl_node ord = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "ord", .signal = sig,
                                  .quantity = h->config_number(ctx, "qty", 1)},
        err);
    return ord < 0 ? ord : QMTL_OK;
}

static const struct qmtl_plugin strat = {QMTL_PLUGIN_HEADER, .name = "emb", .version = "1",
                                         .setup = setup};

static int setup_fails(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    (void)ctx;
    (void)h;
    snprintf(err->msg, sizeof(err->msg), "no data source configured");
    return QMTL_EINVAL;
}

static const struct qmtl_plugin failing = {QMTL_PLUGIN_HEADER, .name = "failing", .version = "1",
                                           .setup = setup_fails};

/* What the output callback saw. */
struct seen {
    long px, sig, ord, orders_flagged, other;
    long node_px, node_sig, node_ord;
    double last_qty;
};

static void record(void *arg, uint32_t node, int is_order, int64_t ts, const struct qmtl_value *v)
{
    (void)ts;
    struct seen *s = arg;
    if ((long)node == s->node_px)
        s->px++;
    else if ((long)node == s->node_sig)
        s->sig++;
    else if ((long)node == s->node_ord)
        s->ord++;
    else
        s->other++;
    if (is_order) {
        ck_assert_int_eq(v->type, QMTL_T_ORDER);
        s->orders_flagged++;
        s->last_qty = v->as.order.quantity;
    }
}

START_TEST(test_run_linked)
{
    char err[512];
    struct embed_options o = {.initial_cash = 5000};
    struct embed *e = embed_new(&o, err, sizeof(err));
    ck_assert_ptr_nonnull(e);
    /* before the start: no nodes, nothing to feed */
    ck_assert_uint_eq(embed_node_count(e), 0);
    struct qmtl_value one = qmtl_number(1);
    ck_assert_int_eq(embed_feed(e, "BTC", 60, &one), QMTL_ESTATE);
    ck_assert_int_eq(embed_set_param(e, "emb", "level", "10"), QMTL_OK);
    ck_assert_int_eq(embed_set_param(e, "emb", "qty", "3"), QMTL_OK);
    ck_assert_int_eq(embed_add(e, &strat, err, sizeof(err)), QMTL_OK);
    struct seen s = {0};
    embed_on_output(e, record, &s);
    ck_assert_int_eq(embed_start(e, err, sizeof(err)), QMTL_OK);
    ck_assert_int_eq(embed_start(e, err, sizeof(err)), QMTL_ESTATE);
    ck_assert_int_eq(embed_add(e, &strat, err, sizeof(err)), QMTL_ESTATE);

    ck_assert_uint_ge(embed_node_count(e), 3);
    s.node_px = embed_node_find(e, 0, "px");
    s.node_sig = embed_node_find(e, 0, "sig");
    s.node_ord = embed_node_find(e, 0, "ord");
    ck_assert_int_ge(s.node_px, 0);
    ck_assert_int_ge(s.node_sig, 0);
    ck_assert_int_ge(s.node_ord, 0);
    ck_assert_int_ne(s.node_px, s.node_ord);
    ck_assert_int_lt(s.node_ord, (long)embed_node_count(e));
    ck_assert_int_eq(embed_node_find(e, 0, "nope"), -1);
    ck_assert_int_eq(embed_node_find(e, 1, "px"), -1);

    /* the parameter 'level' = 10 (not the default 1000): 20 crosses it, a buy of 'qty' 3 */
    struct qmtl_value v = qmtl_number(5);
    ck_assert_int_eq(embed_feed(e, "BTC", 60, &v), 1);
    v = qmtl_number(20);
    ck_assert_int_eq(embed_feed(e, "BTC", 120, &v), 1);
    ck_assert_int_eq(embed_feed(e, "ETH", 180, &v), 0);
    ck_assert_int_eq(s.px, 2);
    ck_assert_int_eq(s.ord, 1);
    ck_assert_int_eq(s.orders_flagged, 1);
    ck_assert(s.last_qty == 3);

    struct embed_strategy_info info;
    ck_assert_int_eq(embed_strategy_info(e, 0, &info), QMTL_OK);
    ck_assert_int_eq(info.stopped, 0);
    ck_assert_str_eq(info.error, "");
    ck_assert_int_eq(info.signals, 1);
    ck_assert_int_eq(info.orders, 1);
    ck_assert(info.equity == 5000); /* no fill yet: the next bar's open */
    ck_assert_int_eq(embed_strategy_info(e, 1, &info), QMTL_ENOENT);

    embed_finish(e);
    embed_finish(e);
    ck_assert_int_eq(embed_feed(e, "BTC", 240, &v), QMTL_ESTATE);
    embed_free(e);
    embed_free(NULL);
}
END_TEST

START_TEST(test_refusals)
{
    char err[512];
    struct embed *e = embed_new(NULL, err, sizeof(err));
    ck_assert_ptr_nonnull(e);
    struct embed_strategy_info info;
    ck_assert_int_eq(embed_add(e, NULL, err, sizeof(err)), QMTL_EINVAL);
    /* a descriptor the loader would refuse: nothing is added */
    struct qmtl_plugin bad = strat;
    bad.magic ^= 1;
    ck_assert_int_eq(embed_add(e, &bad, err, sizeof(err)), QMTL_EINVAL);
    ck_assert_msg(strstr(err, "bad descriptor magic"), "%s", err);
    bad = strat;
    bad.abi_major = QMTL_ABI_MAJOR + 1;
    ck_assert_int_eq(embed_add(e, &bad, err, sizeof(err)), QMTL_EABI);
    bad = strat;
    bad.abi_minor = QMTL_ABI_MINOR + 1;
    ck_assert_int_eq(embed_add(e, &bad, err, sizeof(err)), QMTL_EABI);
    bad = strat;
    bad.setup = NULL;
    ck_assert_int_eq(embed_add(e, &bad, err, sizeof(err)), QMTL_EINVAL);
    ck_assert_msg(strstr(err, "missing required callback 'setup'"), "%s", err);
    ck_assert_int_eq(embed_strategy_info(e, 0, &info), QMTL_ENOENT);

    /* a setup that fails: added, stopped, the plugin's reason */
    ck_assert_int_eq(embed_add(e, &failing, err, sizeof(err)), QMTL_ERR);
    ck_assert_msg(strstr(err, "no data source configured"), "%s", err);
    ck_assert_int_eq(embed_strategy_info(e, 0, &info), QMTL_OK);
    ck_assert_int_eq(info.stopped, 1);
    ck_assert_ptr_nonnull(strstr(info.error, "no data source configured"));
    /* a second strategy of the same name: refused, nothing added */
    ck_assert_int_eq(embed_add(e, &failing, err, sizeof(err)), QMTL_EINVAL);
    ck_assert_msg(strstr(err, "duplicate name"), "%s", err);
    ck_assert_int_eq(embed_strategy_info(e, 1, &info), QMTL_ENOENT);
    /* finishing an embed that never started runs nothing */
    embed_finish(e);
    embed_free(e);
}
END_TEST

START_TEST(test_plugin_file)
{
    char err[512];
    struct embed *e = embed_new(NULL, err, sizeof(err));
    ck_assert_ptr_nonnull(e);
    const struct qmtl_plugin *d = NULL;
    ck_assert_int_eq(embed_open(e, fixture("wrong_magic"), &d, err, sizeof(err)), QMTL_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err, "wrong_magic"), "%s", err);
    ck_assert_int_eq(embed_open(e, NULL, &d, err, sizeof(err)), QMTL_EINVAL);
    ck_assert_int_eq(embed_open(e, fixture("ok"), &d, err, sizeof(err)), QMTL_OK);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->name, "ok");
    ck_assert_int_eq(embed_add(e, d, err, sizeof(err)), QMTL_OK);
    ck_assert_int_eq(embed_start(e, err, sizeof(err)), QMTL_OK);
    struct qmtl_value v = qmtl_number(1);
    ck_assert_int_eq(embed_feed(e, "TEST", 60, &v), 1);
    embed_finish(e);
    embed_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_add_test(tc, test_run_linked);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_plugin_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
