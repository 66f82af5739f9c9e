/* cli/connector/paper: the fill model against bars, and the connector against a real
 * gateway (run in a child process, since the connector's HTTP is blocking). */
#include "cli/connector/paper.h"
#include "gateway/gw_store.h"
#include "gw_testlib.h"
#include "host/runner.h"
#include "log.h"

#include <signal.h>
#include <sys/wait.h>

#define LIVE GWT_OP "X-Allow-Live: true\n"

/* BTC bars at 60, 120, 180: open 10, 11, 12; close 10.5, 11.5, 12.5. */
static struct paper_prices *btc_prices(char *path, size_t len)
{
    snprintf(path, len, "/tmp/qmtl-paper-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *csv = "timestamp,open,high,low,close,volume\n"
                      "60,10,11,9,10.5,1\n120,11,12,10,11.5,1\n180,12,13,11,12.5,1\n";
    ck_assert_int_eq(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    char spec[300], err[512];
    snprintf(spec, sizeof(spec), "BTC=%s", path);
    struct cfg_data_source ds;
    ck_assert_int_eq(runner_parse_data_arg(spec, &ds, err, sizeof(err)), 0);
    struct paper_prices *p = paper_prices_load(&ds, 1, NULL, 0, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    runner_data_release(&ds);
    return p;
}

START_TEST(test_fill_model)
{
    char path[64];
    struct paper_prices *p = btc_prices(path, sizeof(path));
    ck_assert_uint_eq(paper_prices_count(p, "BTC"), 3);
    ck_assert_uint_eq(paper_prices_count(p, "ETH"), 0);
    struct paper_model m = {.fee_bps = 10, .slippage_bps = 50, .fill_at = PAPER_NEXT_OPEN};
    struct paper_fill f;
    /* decided on the bar at 60: the next bar's open (11), slippage against the order */
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 2, 60, &f), 1);
    ck_assert_int_eq(f.ts, 120);
    ck_assert(f.ref == 11);
    ck_assert(f.price == 11 * (1.0 + 50 / 1e4));
    ck_assert(f.fee == 2 * f.price * (10 / 1e4));
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", -1, 2, 119, &f), 1);
    ck_assert_int_eq(f.ts, 120);
    ck_assert(f.price == 11 * (1.0 - 50 / 1e4));
    /* nothing after the last bar; no data for the symbol */
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 1, 180, &f), 0);
    ck_assert_int_eq(paper_fill_order(p, &m, "ETH", 1, 1, 60, &f), -1);
    /* fill_at close: the close of the order's bar */
    m.fill_at = PAPER_CLOSE;
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 1, 120, &f), 1);
    ck_assert_int_eq(f.ts, 120);
    ck_assert(f.ref == 11.5);
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 1, 59, &f), 0);
    paper_prices_free(p);
    unlink(path);
    /* bars off the bucket grid (start 1700000000 = 20 s past a minute): an order decided
     * on the first bar carries its bucket's start, 1699999980, and fills at the second */
    char err[256];
    struct cfg_data_source ds;
    ck_assert_int_eq(
        runner_parse_data_arg("BTC=gbm:count=3,seed=1,interval=60", &ds, err, sizeof(err)), 0);
    p = paper_prices_load(&ds, 1, NULL, 0, err, sizeof(err));
    runner_data_release(&ds);
    ck_assert_ptr_nonnull(p);
    m.fill_at = PAPER_NEXT_OPEN;
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 1, 1699999980, &f), 1);
    ck_assert_int_eq(f.ts, 1700000060);
    m.fill_at = PAPER_CLOSE;
    ck_assert_int_eq(paper_fill_order(p, &m, "BTC", 1, 1, 1699999980, &f), 1);
    ck_assert_int_eq(f.ts, 1700000000);
    paper_prices_free(p);
    struct cfg_data_source none = {0};
    ck_assert_ptr_null(paper_prices_load(&none, 0, NULL, 0, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "no bar"));
}
END_TEST

static long long post_order(struct gwt *t, const char *coid, const char *sym, const char *side,
                            int64_t ts)
{
    char body[400];
    snprintf(body, sizeof(body),
             "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"%s\","
             "\"symbol\":\"%s\",\"side\":\"%s\",\"quantity\":2,\"price\":10,\"ts\":%lld}",
             coid, sym, side, (long long)ts);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(t, "POST", "/orders", body, GWT_HOST, &r), 201);
    long long id = json_integer_value(json_object_get(r.json, "id"));
    gwt_resp_free(&r);
    return id;
}

/* Run the connector once against a gateway on the store in 'dir', served by a child
 * process (the connector's HTTP is blocking; the gateway holds its file exclusively, so
 * only one process opens it at a time). */
static int run_once(const char *dir, const struct paper_prices *p, const char *claim,
                    const char *token, struct paper_stats *st)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct gwt t;
        gwt_start(&t, dir);
        char url[128] = {0};
        snprintf(url, sizeof(url), "%s", gw_server_url(t.srv));
        if (write(fds[1], url, sizeof(url)) != (ssize_t)sizeof(url))
            _exit(1);
        int rc = gw_server_run(t.srv, 1);
        gwt_stop(&t, 0);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fds[1]);
    char url[128];
    ck_assert_int_eq(read(fds[0], url, sizeof(url)), (ssize_t)sizeof(url));
    close(fds[0]);
    struct paper_options o = {.gateway_url = url,
                              .world_id = "L",
                              .token = token,
                              .claim_id = claim,
                              .model = {.fee_bps = 1, .slippage_bps = 0.5},
                              .poll_s = 0.01,
                              .http_timeout_s = 5,
                              .once = 1};
    char err[512] = "";
    int rc = paper_run(&o, p, st, err, sizeof(err));
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "gateway child failed");
    return rc;
}

START_TEST(test_connector_once)
{
    char path[64];
    struct paper_prices *p = btc_prices(path, sizeof(path));
    struct gwt t;
    gwt_start(&t, NULL);
    struct gwt_resp r0;
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"L\",\"mode\":\"live\"}", LIVE, &r0),
                     201);
    gwt_resp_free(&r0);
    ck_assert_int_eq(
        gwt_http(&t, "POST", "/worlds/L/decisions", "{\"strategies\":[\"s1\"]}", LIVE, &r0), 200);
    gwt_resp_free(&r0);
    const char *acts[] = {"{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true}",
                          "{\"strategy_id\":\"s1\",\"side\":\"short\",\"active\":true}"};
    for (int i = 0; i < 2; i++) {
        struct gwt_resp r;
        ck_assert_int_eq(gwt_http(&t, "PUT", "/worlds/L/activation", acts[i], LIVE, &r), 200);
        gwt_resp_free(&r);
    }
    long long a = post_order(&t, "c1", "BTC", "buy", 60);
    long long b = post_order(&t, "c2", "ETH", "buy", 60);
    long long c = post_order(&t, "c3", "BTC", "sell", 180);
    /* claimed by paper-a before a restart, never reported: paper-a finishes it */
    long long d = post_order(&t, "c4", "BTC", "buy", 120);
    char ack[64];
    snprintf(ack, sizeof(ack), "/orders/%lld/ack", d);
    ck_assert_int_eq(gwt_http(&t, "POST", ack, "{\"claim_id\":\"paper-a\"}", GWT_CONN, &r0), 200);
    gwt_resp_free(&r0);
    char dir[128];
    snprintf(dir, sizeof(dir), "%s", t.dir);
    gwt_stop(&t, 0);
    /* a wrong token: refused, nothing claimed */
    struct paper_stats st;
    ck_assert_int_eq(run_once(dir, p, "paper-a", "nope", &st), -1);
    ck_assert_int_eq(st.claimed, 0);
    ck_assert_int_eq(run_once(dir, p, "paper-a", "conn-secret", &st), 0);
    ck_assert_int_eq(st.claimed, 3);
    ck_assert_int_eq(st.filled, 2);
    ck_assert_int_eq(st.rejected, 1);
    ck_assert_int_eq(st.expired, 1);
    ck_assert_int_eq(st.errors, 0);
    /* another connector finds nothing to claim; the same one again has nothing to finish */
    ck_assert_int_eq(run_once(dir, p, "paper-b", "conn-secret", &st), 0);
    ck_assert_msg(st.claimed + st.filled + st.errors == 0, "%ld %ld %ld", st.claimed, st.filled,
                  st.errors);
    ck_assert_int_eq(run_once(dir, p, "paper-a", "conn-secret", &st), 0);
    ck_assert_int_eq(st.filled + st.errors, 0);
    /* what the gateway recorded */
    gwt_start(&t, dir);
    struct gw_store *s = gw_server_store(t.srv);
    json_t *o = NULL;
    ck_assert_int_eq(gw_store_order_by_id(s, a, &o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "filled");
    json_decref(o);
    ck_assert_int_eq(gw_store_order_by_id(s, b, &o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "rejected");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "reason")), "ETH"));
    json_decref(o);
    ck_assert_int_eq(gw_store_order_by_id(s, c, &o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "expired");
    json_decref(o);
    ck_assert_int_eq(gw_store_order_by_id(s, d, &o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "filled");
    json_decref(o);
    json_t *fills = gw_store_fill_list(s, "L", "s1", 0, 0);
    ck_assert_int_eq(json_array_size(fills), 2);
    /* d was finished first (before the new orders); a's fill is the second */
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(fills, 0), "order_id")), d);
    json_t *f = json_array_get(fills, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(f, "order_id")), a);
    ck_assert_int_eq(json_integer_value(json_object_get(f, "fill_time")), 120000);
    ck_assert(json_number_value(json_object_get(f, "price")) == 11 * (1.0 + 0.5 / 1e4));
    ck_assert(json_number_value(json_object_get(f, "quantity")) == 2);
    ck_assert_str_eq(json_string_value(json_object_get(f, "client_order_id")), "c1");
    json_decref(fills);
    gwt_stop(&t, 1);
    paper_prices_free(p);
    unlink(path);
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
    Suite *su = suite_create("paper");
    TCase *tc = tcase_create("paper");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fill_model);
    tcase_add_test(tc, test_connector_once);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
