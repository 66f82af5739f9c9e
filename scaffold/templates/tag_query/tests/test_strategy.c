/* Unit tests of the strategy: its objects are linked in and driven by the testkit. */
#include "helpers.h"

/* Interleave one-minute bars of BTC and ETH, as the host does with two sources. */
static void feed_both(struct qmtl_testkit *tk, const double *btc, const double *eth, size_t n)
{
    struct qmtl_err err = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t ts = T0 + (int64_t)i * 60;
        struct qmtl_bar b = {btc[i], btc[i], btc[i], btc[i], 1.0};
        struct qmtl_bar e = {eth[i], eth[i], eth[i], eth[i], 1.0};
        ck_assert_msg(qmtl_testkit_feed_bar(tk, "BTC", ts, &b, &err) == QMTL_OK, "%s", err.msg);
        ck_assert_msg(qmtl_testkit_feed_bar(tk, "ETH", ts, &e, &err) == QMTL_OK, "%s", err.msg);
    }
}

START_TEST(consensus_follows_the_tagged_nodes)
{
    struct qmtl_testkit *tk = start();
    double btc[40], eth[40];
    ramp(btc, 40, 42000.0, 0.001);
    ramp(eth, 40, 2300.0, 0.003);
    feed_both(tk, btc, eth, 40);
    double mb = qmtl_testkit_last_number(tk, "momentum_btc");
    double me = qmtl_testkit_last_number(tk, "momentum_eth");
    ck_assert_double_eq_tol(mb, pow(1.001, 20) - 1, 1e-9);
    ck_assert_double_eq_tol(me, pow(1.003, 20) - 1, 1e-9);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "query_btc"), mb, 1e-12);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "query_eth"), me, 1e-12);
    ck_assert_uint_gt(qmtl_testkit_output_count(tk, "consensus"), 0);
    ck_assert_double_eq_tol(qmtl_testkit_last_number(tk, "consensus"), (mb + me) / 2, 1e-9);
    ck_assert_uint_ge(qmtl_testkit_order_count(tk), 1);
    ck_assert_int_eq(order_side(tk, 0, NULL), QMTL_SIDE_BUY);
    qmtl_testkit_free(tk);
}
END_TEST

START_TEST(disagreement_cancels_out)
{
    struct qmtl_testkit *tk = start();
    double btc[40], eth[40];
    ramp(btc, 40, 42000.0, 0.001);
    ramp(eth, 40, 2300.0, -0.001);
    feed_both(tk, btc, eth, 40);
    ck_assert_double_lt(fabs(qmtl_testkit_last_number(tk, "consensus")), 0.002);
    ck_assert_uint_eq(qmtl_testkit_order_count(tk), 0);
    qmtl_testkit_free(tk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("tag_query");
    tcase_add_test(tc, consensus_follows_the_tagged_nodes);
    tcase_add_test(tc, disagreement_cancels_out);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
