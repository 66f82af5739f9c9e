/* fill_events: stream fills and order updates into the book, the start-up rebuild, and the
 * orders held back while a restarted host catches up. */
#include "host/orders/fill_events.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "host/orders/book.h"
#include "host/host_api.h"
#include "host/orders/orders.h"
#include "log.h"

static int n_sent;

static int sink(void *arg, const char *strategy, const char *symbol, int64_t ts,
                const struct qmtl_order *o, const char *coid)
{
    (void)arg, (void)strategy, (void)symbol, (void)ts, (void)o, (void)coid;
    n_sent++;
    return 0;
}

static int fills_heard;

static void on_fill(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_fill *f)
{
    (void)ctx, (void)h, (void)f;
    fills_heard++;
}

static int setup(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    const char *tags[] = {"X", NULL};
    qmtl_node px = h->stream_input(
        c, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1s"},
        e);
    qmtl_node sg = h->signal(c,
                             &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .input = px,
                                                        .buy_above = 100.5, .sell_below = 100.5},
                             e);
    qmtl_node o = h->order_publisher(
        c, &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .signal = sg, .quantity = 10}, e);
    return px < 0 || sg < 0 || o < 0 ? QMTL_ERR : QMTL_OK;
}

static const struct qmtl_plugin plug = {QMTL_PLUGIN_HEADER, .name = "lv", .setup = setup,
                                        .on_fill = on_fill};

static void live_host(struct host *h)
{
    struct host_options o;
    host_options_default(&o);
    o.domain = HOST_LIVE;
    ck_assert_int_eq(host_init(h, &o), 0);
    h->live_sink = sink;
    char err[256];
    ck_assert_int_eq(host_add_strategy(h, &plug, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_finalize(h, err, sizeof(err)), 0);
    for (int side = QMTL_SIDE_SELL; side <= QMTL_SIDE_BUY; side += 2) {
        struct qmtl_activation a = {.size = sizeof(a),
                                    .side = side,
                                    .active = 1,
                                    .weight = 1,
                                    .ts = 5,
                                    .etag = "e",
                                    .run_id = "r",
                                    .domain = "live"};
        ck_assert_int_eq(host_set_activation(h, 0, &a), 1);
    }
    n_sent = fills_heard = 0;
}

static json_t *js(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* What the gateway answers for a host that bought 10 (filled) and then sold 20 (open). */
#define ORDERS                                                                                     \
    "[{\"id\":1,\"client_order_id\":\"lv-1000-1\",\"symbol\":\"X\",\"side\":\"buy\","              \
    "\"quantity\":10,\"ts\":1000,\"status\":\"filled\",\"filled_quantity\":10},"                   \
    "{\"id\":2,\"client_order_id\":\"lv-1003-2\",\"symbol\":\"X\",\"side\":\"sell\","              \
    "\"quantity\":20,\"ts\":1003,\"status\":\"accepted\",\"filled_quantity\":0}]"
#define FILLS                                                                                      \
    "[{\"id\":1,\"order_id\":1,\"client_order_id\":\"lv-1000-1\",\"symbol\":\"X\",\"side\":"       \
    "\"BUY\",\"quantity\":10,\"price\":101.5,\"commission\":0.1,\"fill_time\":1001000,"            \
    "\"seq\":1,\"status\":\"filled\"}]"

START_TEST(test_rebuild_and_catch_up)
{
    struct host h;
    live_host(&h);
    struct fill_events *fe = fill_events_new(&h);
    ck_assert_ptr_nonnull(fe);
    json_t *orders = js(ORDERS), *fills = js(FILLS);
    char err[256];
    ck_assert_int_eq(fill_events_reconcile(fe, 0, orders, fills, err, sizeof(err)), 0);
    struct book *bk = broker_book(h.st[0]->broker);
    ck_assert(book_position(bk, "X") == 10);
    ck_assert(book_open(bk, "X") == -20);
    ck_assert(fabs(book_cash(bk) - (100000 - 10 * 101.5 - 0.1)) < 1e-9);
    ck_assert_int_eq(h.st[0]->order_seq, 2);
    const struct book_order *o = book_order_find(bk, "lv-1003-2", NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->acked, 1);
    ck_assert_str_eq(o->order_id, "2");
    /* a second rebuild (the same answers) changes nothing */
    ck_assert_int_eq(fill_events_reconcile(fe, 0, orders, fills, err, sizeof(err)), 0);
    ck_assert(book_position(bk, "X") == 10);
    ck_assert(book_open(bk, "X") == -20);
    struct fill_events_stats st;
    fill_events_stats(fe, &st);
    ck_assert_int_eq(st.rebuilt_fills, 1);
    ck_assert_int_eq(st.rebuilt_open, 1);
    /* orders decided again up to ts 1003 are held back; the first after it is not, and
     * from then on nothing is held */
    ck_assert_int_eq(fill_events_hold(fe, 0, 1000), 1);
    ck_assert_int_eq(fill_events_hold(fe, 0, 1003), 1);
    ck_assert_int_eq(fill_events_hold(fe, 0, 1004), 0);
    ck_assert_int_eq(fill_events_hold(fe, 0, 1003), 0);
    fill_events_stats(fe, &st);
    ck_assert_int_eq(st.held, 2);
    /* the open sell fills on the stream, twice delivered */
    json_t *ev = js("{\"world_id\":\"W\",\"strategy_id\":\"g\",\"order_id\":2,\"client_order_id\":"
                    "\"lv-1003-2\",\"symbol\":\"X\",\"side\":\"SELL\",\"quantity\":20,\"price\":99,"
                    "\"commission\":0.2,\"fill_time\":1004000,\"seq\":1,\"status\":\"filled\"}");
    ck_assert_int_eq(fill_events_apply(fe, 0, "fill", ev), 0);
    ck_assert_int_eq(fill_events_apply(fe, 0, "fill", ev), 1);
    ck_assert(book_position(bk, "X") == -10);
    ck_assert(book_open(bk, "X") == 0);
    ck_assert_int_eq(fills_heard, 2); /* the rebuilt fill and this one */
    ck_assert_ptr_null(book_order_find(bk, "lv-1003-2", NULL));
    /* an update for an order no longer open: nothing to do */
    json_t *up = js("{\"order_id\":2,\"client_order_id\":\"lv-1003-2\",\"symbol\":\"X\",\"side\":"
                    "\"SELL\",\"status\":\"filled\",\"reason\":null,\"filled_quantity\":20,"
                    "\"quantity\":20}");
    ck_assert_int_eq(fill_events_apply(fe, 0, "order_updated", up), 1);
    ck_assert_int_eq(fill_events_apply(fe, 0, "activation_updated", up), 1);
    fill_events_stats(fe, &st);
    ck_assert_int_eq(st.fills, 1);
    ck_assert_int_eq(st.duplicates, 1);
    json_decref(up);
    json_decref(ev);
    json_decref(orders);
    json_decref(fills);
    fill_events_free(fe);
    host_release(&h);
}
END_TEST

START_TEST(test_updates_and_invalid)
{
    struct host h;
    live_host(&h);
    struct fill_events *fe = fill_events_new(&h);
    /* a buy signal sends an order; the connector rejects it */
    const char *tags[] = {"X"};
    struct qmtl_value v = qmtl_number(101);
    ck_assert_int_ge(host_feed(&h, tags, 1, 2000, &v), 1);
    ck_assert_int_eq(n_sent, 1);
    struct book *bk = broker_book(h.st[0]->broker);
    ck_assert(book_open(bk, "X") == 10);
    const struct book_order *o = book_order_at(bk, 0);
    char coid[160], text[400];
    snprintf(coid, sizeof(coid), "%s", o->client_order_id);
    snprintf(text, sizeof(text),
             "{\"order_id\":7,\"client_order_id\":\"%s\",\"symbol\":\"X\",\"side\":\"BUY\","
             "\"status\":\"accepted\",\"reason\":null,\"filled_quantity\":0,\"quantity\":10}",
             coid);
    json_t *up = js(text);
    ck_assert_int_eq(fill_events_apply(fe, 0, "order_updated", up), 0);
    ck_assert_int_eq(book_order_at(bk, 0)->acked, 1);
    json_object_set_new(up, "status", json_string("rejected"));
    json_object_set_new(up, "reason", json_string("no margin"));
    ck_assert_int_eq(fill_events_apply(fe, 0, "order_updated", up), 0);
    ck_assert(book_open(bk, "X") == 0);
    ck_assert_int_eq(h.st[0]->rejected_broker, 1);
    /* invalid: an unknown status, a fill without seq or side, another strategy */
    json_object_set_new(up, "status", json_string("lost"));
    ck_assert_int_eq(fill_events_apply(fe, 0, "order_updated", up), -1);
    json_t *bad = js("{\"order_id\":7,\"symbol\":\"X\",\"side\":\"BUY\",\"quantity\":1,"
                     "\"price\":1,\"commission\":0,\"fill_time\":1}");
    ck_assert_int_eq(fill_events_apply(fe, 0, "fill", bad), -1);
    json_object_set_new(bad, "seq", json_integer(1));
    json_object_set_new(bad, "side", json_string("HOLD"));
    ck_assert_int_eq(fill_events_apply(fe, 0, "fill", bad), -1);
    json_object_set_new(bad, "side", json_string("BUY"));
    ck_assert_int_eq(fill_events_apply(fe, 3, "fill", bad), -1);
    /* a fill known only by the gateway's order id still applies (key: the order id) */
    ck_assert_int_eq(fill_events_apply(fe, 0, "fill", bad), 0);
    ck_assert(book_position(bk, "X") == 1);
    struct fill_events_stats st;
    fill_events_stats(fe, &st);
    ck_assert_int_eq(st.invalid, 4);
    ck_assert_int_eq(st.updates, 2);
    /* the stream: another world's events and events of no strategy of ours are ignored;
     * world_killed of our world runs the kill switch */
    json_object_set_new(bad, "seq", json_integer(2));
    json_object_set_new(bad, "world_id", json_string("other"));
    fill_events_on_stream(fe, "W", "fill", bad, 0);
    json_object_set_new(bad, "world_id", json_string("W"));
    fill_events_on_stream(fe, "W", "fill", bad, -1);
    ck_assert(book_position(bk, "X") == 1);
    fill_events_on_stream(fe, "W", "fill", bad, 0);
    ck_assert(book_position(bk, "X") == 2);
    json_t *kill = js("{\"world_id\":\"other\",\"reason\":\"drill\"}");
    fill_events_on_stream(fe, "W", "world_killed", kill, -1);
    ck_assert_int_eq(h.killed, 0);
    json_object_set_new(kill, "world_id", json_string("W"));
    fill_events_on_stream(fe, "W", "world_killed", kill, -1);
    ck_assert_int_eq(h.killed, 1);
    json_decref(kill);
    /* a rebuild from answers that lack fields fails and says so */
    char err[256];
    json_t *orders = js("[{\"id\":1,\"symbol\":\"X\"}]"), *fills = js("[]");
    ck_assert_int_eq(fill_events_reconcile(fe, 0, orders, fills, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "lacks a field"));
    ck_assert_int_eq(fill_events_reconcile(fe, 0, fills, orders, err, sizeof(err)), -1);
    ck_assert_int_eq(fill_events_reconcile(fe, 0, NULL, fills, err, sizeof(err)), -1);
    json_decref(orders);
    json_decref(fills);
    json_decref(bad);
    json_decref(up);
    fill_events_free(fe);
    host_release(&h);
}
END_TEST

/* Every log line is formatted (so a sanitizer sees its arguments) and dropped. */
static void quiet(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

int main(void)
{
    log_set_level(LOG_LEVEL_DEBUG);
    log_set_sink(quiet, NULL);
    Suite *su = suite_create("fill_events");
    TCase *tc = tcase_create("fill_events");
    tcase_add_test(tc, test_rebuild_and_catch_up);
    tcase_add_test(tc, test_updates_and_invalid);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
