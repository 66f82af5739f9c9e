/* book: positions from fills, average cost, PnL, open orders, fill de-duplication. */
#include "host/orders/book.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1 + fabs(b));
}

START_TEST(test_fills_cost_pnl)
{
    struct book *b = book_new(1000);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(book_new(0));
    ck_assert_int_eq(book_apply_fill(b, "X", 1, 2, 10, 0.5, 1), 0);
    ck_assert_int_eq(book_apply_fill(b, "X", 1, 2, 20, 0.5, 2), 0);
    struct book_line l;
    ck_assert_int_eq(book_get(b, "X", &l), 0);
    ck_assert(l.position == 4);
    ck_assert(near(l.avg_cost, 15)); /* size-weighted entry */
    ck_assert(near(book_cash(b), 1000 - 20 - 40 - 1));
    book_mark(b, "X", 18);
    ck_assert(near(book_unrealized(b), 4 * (18 - 15)));
    ck_assert(near(book_equity(b), book_cash(b) + 4 * 18));
    /* reduce: realized on the closed part, average unchanged */
    ck_assert_int_eq(book_apply_fill(b, "X", -1, 1, 25, 0, 3), 0);
    ck_assert_int_eq(book_get(b, "X", &l), 0);
    ck_assert(near(l.realized, 10));
    ck_assert(near(l.avg_cost, 15));
    /* cross zero: close 3 at 12 (realized -9), open 2 short at 12 */
    ck_assert_int_eq(book_apply_fill(b, "X", -1, 5, 12, 0, 4), 0);
    ck_assert_int_eq(book_get(b, "X", &l), 0);
    ck_assert(l.position == -2);
    ck_assert(near(l.realized, 1));
    ck_assert(near(l.avg_cost, 12));
    /* cover the short at 10: +4 */
    ck_assert_int_eq(book_apply_fill(b, "X", 1, 2, 10, 0, 5), 0);
    ck_assert_int_eq(book_get(b, "X", &l), 0);
    ck_assert(l.position == 0 && l.avg_cost == 0);
    ck_assert(near(book_realized(b), 5));
    ck_assert(near(l.fees, 1));
    /* flat: equity is cash, and cash moved by exactly realized - fees */
    ck_assert(near(book_equity(b), 1000 + 5 - 1));
    ck_assert(!book_in_market(b));
    /* invalid fills change nothing */
    ck_assert_int_eq(book_apply_fill(b, "X", 0, 1, 10, 0, 6), -1);
    ck_assert_int_eq(book_apply_fill(b, "X", 1, -1, 10, 0, 6), -1);
    ck_assert_int_eq(book_apply_fill(b, "X", 1, 1, NAN, 0, 6), -1);
    ck_assert_int_eq(book_apply_fill(b, "X", 1, 1, 10, -1, 6), -1);
    ck_assert_int_eq(book_get(b, "Y", &l), -1);
    ck_assert(isnan(l.mark));
    ck_assert_uint_eq(book_count(b), 1);
    book_free(b);
}
END_TEST

START_TEST(test_open_orders)
{
    struct book *b = book_new(1000);
    ck_assert_int_eq(book_order_sent(b, "s-1-1", "X", 1, 5, 1), 0);
    ck_assert_int_eq(book_order_sent(b, "s-1-1", "X", 1, 5, 1), -1); /* same id */
    ck_assert_int_eq(book_order_sent(b, "s-1-2", "X", -1, 2, 1), 0);
    ck_assert(book_open(b, "X") == 3);
    ck_assert_uint_eq(book_open_orders(b), 2);
    ck_assert_int_eq(book_order_acked(b, "s-1-1", "gw-9"), 0);
    const struct book_order *o = book_order_find(b, NULL, "gw-9");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->client_order_id, "s-1-1");
    ck_assert(o->acked);
    /* a partial fill keeps it open with the rest */
    ck_assert_int_eq(book_order_filled(b, "s-1-1", 2), 0);
    o = book_order_find(b, "s-1-1", NULL);
    ck_assert(o && o->remaining == 3);
    ck_assert(book_open(b, "X") == 1);
    ck_assert_int_eq(book_order_filled(b, "s-1-1", 3), 0);
    ck_assert_ptr_null(book_order_find(b, "s-1-1", NULL));
    ck_assert_int_eq(book_order_filled(b, "s-1-1", 1), -1); /* closed */
    ck_assert_int_eq(book_order_rejected(b, "s-1-2"), 0);
    ck_assert(book_open(b, "X") == 0);
    ck_assert_uint_eq(book_open_orders(b), 0);
    ck_assert_int_eq(book_order_canceled(b, "nope"), -1);
    /* open orders do not move the position: only fills do */
    ck_assert(book_position(b, "X") == 0);
    book_free(b);
}
END_TEST

START_TEST(test_fill_seen)
{
    struct book *b = book_new(1000);
    ck_assert_int_eq(book_fill_seen(b, "a", 1), 0);
    ck_assert_int_eq(book_fill_seen(b, "a", 1), 1);
    ck_assert_int_eq(book_fill_seen(b, "a", 2), 0);
    ck_assert_int_eq(book_fill_seen(b, "b", 1), 0);
    ck_assert_int_eq(book_fill_seen(b, "", 1), -1);
    char key[32];
    for (int i = 0; i < 1000; i++) { /* grows and rehashes */
        snprintf(key, sizeof(key), "o%d", i);
        ck_assert_int_eq(book_fill_seen(b, key, i % 3 + 1), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "o%d", i);
        ck_assert_int_eq(book_fill_seen(b, key, i % 3 + 1), 1);
    }
    ck_assert_int_eq(book_fill_seen(b, "a", 1), 1);
    book_free(b);
}
END_TEST

/* cash + sum position * mark, from the lines: what book_equity must say after any change. */
static double equity_of_lines(const struct book *b)
{
    double eq = book_cash(b);
    for (size_t i = 0; i < book_count(b); i++) {
        struct book_line l;
        book_at(b, i, &l);
        if (l.position != 0)
            eq += l.position * l.mark;
    }
    return eq;
}

/* Equity is cached between changes: every mark, fill and flattening must show at once,
 * read twice in a row or not; a symbol is found by its text or by the book's own copy,
 * and names sharing a prefix stay apart. */
START_TEST(test_equity_follows_every_change)
{
    struct book *b = book_new(1000);
    ck_assert_ptr_nonnull(b);
    ck_assert(book_equity(b) == 1000);
    const char *btc = book_symbol(b, "BTC");
    ck_assert_ptr_nonnull(btc);
    ck_assert_ptr_eq(book_symbol(b, "BTC"), btc);
    ck_assert_ptr_nonnull(book_symbol(b, "BT"));
    ck_assert_ptr_ne(book_symbol(b, "BT"), btc);
    ck_assert_ptr_nonnull(book_symbol(b, "BTCX"));
    ck_assert_uint_eq(book_count(b), 3);
    ck_assert_int_eq(book_in_market(b), 0);
    char text[] = "BTC"; /* the same name at another address */
    const char *names[] = {btc, text, "BT", "BTCX"};
    double px = 100;
    for (int i = 0; i < 40; i++) {
        const char *sym = names[i % 4];
        switch (i % 5) {
        case 0:
            ck_assert_int_eq(book_apply_fill(b, sym, i % 3 ? 1 : -1, 1 + i % 4, px, 0.25, i), 0);
            break;
        case 3: /* the same price again changes nothing */
            ck_assert_int_eq(book_mark(b, sym, book_mark_price(b, sym) > 0
                                                   ? book_mark_price(b, sym) : px), 0);
            break;
        default:
            px += i % 2 ? 7.5 : -3.25;
            ck_assert_int_eq(book_mark(b, sym, px), 0);
        }
        double want = equity_of_lines(b);
        ck_assert_msg(book_equity(b) == want, "step %d: %.17g vs %.17g", i, book_equity(b), want);
        ck_assert(book_equity(b) == want);
        int held = 0;
        for (size_t k = 0; k < book_count(b); k++) {
            struct book_line l;
            book_at(b, k, &l);
            held |= l.position != 0;
        }
        ck_assert_int_eq(book_in_market(b), held);
    }
    ck_assert_uint_eq(book_count(b), 3);
    /* flatten everything: equity is the cash again, and out of the market */
    for (size_t k = 0; k < book_count(b); k++) {
        struct book_line l;
        book_at(b, k, &l);
        if (l.position != 0)
            ck_assert_int_eq(book_apply_fill(b, l.symbol, l.position > 0 ? -1 : 1,
                                             fabs(l.position), 50, 0, 99), 0);
    }
    ck_assert_int_eq(book_in_market(b), 0);
    ck_assert(book_equity(b) == book_cash(b));
    ck_assert_int_eq(book_mark(b, text, 60), 0);
    ck_assert(book_equity(b) == book_cash(b));
    book_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("book");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fills_cost_pnl);
    tcase_add_test(tc, test_open_orders);
    tcase_add_test(tc, test_fill_seen);
    tcase_add_test(tc, test_equity_follows_every_change);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
