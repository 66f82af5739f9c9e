/* control: decision -> domain (safe-mode rules), activation ordering, gate transitions, the submitted DAG,
 * start-up retries against a peer that does not answer. */
#include "host/online/control.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/gw_routes.h"
#include "log.h"

START_TEST(test_host_domain)
{
    ck_assert_int_eq(ctl_host_domain(EXEC_DRYRUN), HOST_DRYRUN);
    ck_assert_int_eq(ctl_host_domain(EXEC_LIVE), HOST_LIVE);
    ck_assert_int_eq(ctl_host_domain(EXEC_BACKTEST), HOST_BLOCKED);
    ck_assert_int_eq(ctl_host_domain(EXEC_SHADOW), HOST_BLOCKED);
}
END_TEST

START_TEST(test_parse_iso)
{
    ck_assert_int_eq(ctl_parse_iso("1970-01-01T00:00:00Z"), 0);
    ck_assert_int_eq(ctl_parse_iso("2026-11-25T09:00:00Z"), 1795597200);
    ck_assert_int_eq(ctl_parse_iso("2026-11-25T09:00:00.123Z"), 1795597200);
    ck_assert_int_eq(ctl_parse_iso("2000-02-29T23:59:59+00:00"), 951868799);
    ck_assert_int_eq(ctl_parse_iso("2026-11-25 09:00:00Z"), -1);
    ck_assert_int_eq(ctl_parse_iso("2026-13-25T09:00:00Z"), -1);
    ck_assert_int_eq(ctl_parse_iso("2026-11-25T09:00:00"), -1);
    ck_assert_int_eq(ctl_parse_iso(NULL), -1);
}
END_TEST

static json_t *env(const char *mode, const char *as_of, const char *ttl)
{
    json_t *e = json_pack("{ss ss}", "world_id", "w", "etag", "w:w:v0:1");
    if (mode)
        json_object_set_new(e, "effective_mode", json_string(mode));
    if (as_of)
        json_object_set_new(e, "as_of", json_string(as_of));
    if (ttl)
        json_object_set_new(e, "ttl", json_string(ttl));
    return e;
}

START_TEST(test_decision)
{
    const time_t now = 1795597200 + 10; /* 2026-11-25T09:00:10Z */
    struct ctl_decision d;
    json_t *e = env("paper", "2026-11-25T09:00:00Z", "300s");
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_DRYRUN);
    ck_assert_int_eq(d.safe_mode, 0);
    ck_assert_ptr_null(d.reason);
    ck_assert_str_eq(d.mode, "paper");
    ck_assert_int_eq(d.expires, 1795597200 + 300);
    json_decref(e);

    e = env("live", "2026-11-25T09:00:00Z", NULL); /* ttl missing: 300 s */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_LIVE);
    json_decref(e);

    e = env("validate", "2026-11-25T09:00:00Z", "300s");
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_BACKTEST);
    ck_assert_int_eq(d.safe_mode, 0);
    json_decref(e);

    ctl_decision_check(NULL, now, &d); /* no decision */
    ck_assert_int_eq(d.domain, EXEC_BACKTEST);
    ck_assert_int_eq(d.safe_mode, 1);
    ck_assert_str_eq(d.reason, "decision_unavailable");

    e = env(NULL, "2026-11-25T09:00:00Z", "300s"); /* no mode */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.safe_mode, 1);
    ck_assert_str_eq(d.reason, "decision_unavailable");
    json_decref(e);

    e = env("turbo", "2026-11-25T09:00:00Z", "300s"); /* unknown mode */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_BACKTEST);
    ck_assert_str_eq(d.reason, "unknown_mode");
    json_decref(e);

    e = env("paper", NULL, "300s"); /* dryrun without as_of */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_BACKTEST);
    ck_assert_str_eq(d.reason, "missing_as_of");
    json_decref(e);

    e = env("paper", "2026-11-25T08:50:00Z", "300s"); /* 610 s old, ttl 300 s */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_BACKTEST);
    ck_assert_int_eq(d.safe_mode, 1);
    ck_assert_str_eq(d.reason, "stale_decision");
    json_decref(e);

    e = env("live", "2026-11-25T08:50:00Z", "0"); /* ttl 0: stale at once */
    ctl_decision_check(e, now, &d);
    ck_assert_str_eq(d.reason, "stale_decision");
    json_decref(e);

    e = env("live", "2026-11-25T08:50:00Z", NULL);
    json_object_set_new(e, "ttl", json_integer(1000)); /* numeric ttl */
    ctl_decision_check(e, now, &d);
    ck_assert_int_eq(d.domain, EXEC_LIVE);
    json_decref(e);

    e = json_pack("{ss ss}", "execution_domain", "dryrun", "as_of", "2026-11-25T09:00:00Z");
    ctl_decision_check(e, now, &d); /* execution_domain when effective_mode is absent */
    ck_assert_int_eq(d.domain, EXEC_DRYRUN);
    json_decref(e);
}
END_TEST

START_TEST(test_etag_version)
{
    ck_assert_int_eq(ctl_etag_version("act:w:s:long:7"), 7);
    ck_assert_int_eq(ctl_etag_version("\"act:w:s:short:1234\""), 1234);
    ck_assert_int_eq(ctl_etag_version("abc"), -1);
    ck_assert_int_eq(ctl_etag_version("act:w:s:long:"), -1);
    ck_assert_int_eq(ctl_etag_version("42"), -1);
    ck_assert_int_eq(ctl_etag_version(NULL), -1);
}
END_TEST

START_TEST(test_activation_parse)
{
    struct qmtl_activation a;
    json_t *j = json_pack("{sb sb ss ss ss}", "active", 1, "drain", 1, "etag", "act:w:s:long:3",
                          "ts", "2026-11-25T09:00:00Z", "run_id", "r9");
    ck_assert_int_eq(ctl_activation_parse(j, QMTL_SIDE_BUY, "dryrun", &a), 0);
    ck_assert_int_eq(a.active, 1);
    ck_assert_int_eq(a.draining, 1);
    ck_assert_int_eq(a.frozen, 0);
    ck_assert(a.weight == 1.0); /* absent: 1 when active */
    ck_assert_int_eq(a.ts, 1795597200);
    ck_assert_str_eq(a.etag, "act:w:s:long:3");
    ck_assert_str_eq(a.run_id, "r9");
    ck_assert_str_eq(a.domain, "dryrun");
    json_object_set_new(j, "active", json_false());
    ctl_activation_parse(j, QMTL_SIDE_SELL, "live", &a);
    ck_assert(a.weight == 0.0); /* absent: 0 when inactive */
    ck_assert_int_eq(a.side, QMTL_SIDE_SELL);
    json_object_set_new(j, "weight", json_real(7));
    ctl_activation_parse(j, QMTL_SIDE_SELL, "live", &a);
    ck_assert(a.weight == 1.0); /* clamped */
    json_object_set_new(j, "active", json_string("yes"));
    ck_assert_int_eq(ctl_activation_parse(j, QMTL_SIDE_BUY, "dryrun", &a), -1);
    json_decref(j);
    ck_assert_int_eq(ctl_side_parse("long"), QMTL_SIDE_BUY);
    ck_assert_int_eq(ctl_side_parse("SELL"), QMTL_SIDE_SELL);
    ck_assert_int_eq(ctl_side_parse("all"), 0);
    ck_assert_int_eq(ctl_side_parse(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------ with a host */

static int hook_calls, hook_last_stale, hook_last_active;

static void on_act(struct qmtl_ctx *ctx, const struct qmtl_host *h, const struct qmtl_activation *a)
{
    (void)ctx;
    (void)h;
    hook_calls++;
    hook_last_stale = a->stale;
    hook_last_active = a->active;
}

static int passthru(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = *qmtl_window_latest(&v->inputs[0]);
    return QMTL_OK;
}

static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"BTC", NULL};
    qmtl_node px = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .name = "price", .tags = tags,
                                   .interval = "1m", .period = 1},
        err);
    qmtl_node f = h->indicator(ctx,
                               &(struct qmtl_indicator_spec){QMTL_SPEC(qmtl_indicator_spec),
                                                             .kind = "sma", .name = "fast",
                                                             .inputs = {px}, .window = 3},
                               err);
    qmtl_node c = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "copy",
                                                   .inputs = {f}, .compute = passthru,
                                                   .params_json = "{\"k\":1.5,\"world\":\"x\"}",
                                                   .code_version = "t1"},
                          err);
    qmtl_node sig =
        h->signal(ctx,
                  &(struct qmtl_signal_spec){QMTL_SPEC(qmtl_signal_spec), .name = "signal",
                                             .input = c, .buy_above = 100, .sell_below = 100,
                                             .target_size = 1},
                  err);
    qmtl_node o = h->order_publisher(
        ctx,
        &(struct qmtl_order_spec){QMTL_SPEC(qmtl_order_spec), .name = "orders", .signal = sig,
                                  .price = px, .symbol = "BTC", .quantity = 1},
        err);
    return px < 0 || f < 0 || c < 0 || sig < 0 || o < 0 ? QMTL_EINVAL : QMTL_OK;
}

static const struct qmtl_plugin plugin = {QMTL_PLUGIN_HEADER, .name = "strat", .setup = setup,
                                          .on_activation = on_act};

static void host_up(struct host *h)
{
    struct host_options o;
    host_options_default(&o);
    o.domain = HOST_DRYRUN;
    ck_assert_int_eq(host_init(h, &o), 0);
    char err[256];
    ck_assert_msg(host_add_strategy(h, &plugin, "(linked)", NULL, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_msg(host_finalize(h, err, sizeof(err)) == 0, "%s", err);
}

static struct qmtl_activation mk(int side, int active, int freeze, int drain, int64_t ts,
                                 const char *etag)
{
    struct qmtl_activation a = {.size = sizeof(a), .side = side, .active = active,
                                .frozen = freeze, .draining = drain, .weight = 1, .ts = ts,
                                .etag = etag, .run_id = "", .domain = "dryrun"};
    return a;
}

START_TEST(test_ordering_and_gate)
{
    struct host h;
    host_up(&h);
    struct gate *g = &h.st[0]->gate;
    const char *why;
    hook_calls = 0;
    ck_assert(!gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why)); /* closed by default */
    ck_assert_str_eq(why, "activation unknown");

    struct qmtl_activation a = mk(QMTL_SIDE_BUY, 1, 0, 0, 100, "act:w:strat:long:2");
    ck_assert_int_eq(ctl_apply(&h, 0, &a), 1);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert(gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));
    ck_assert(gate_allows(g, HOST_LIVE, QMTL_SIDE_BUY, &why));
    ck_assert(!gate_allows(g, HOST_BLOCKED, QMTL_SIDE_BUY, &why)); /* backtest/shadow */
    ck_assert(!gate_allows(g, HOST_DRYRUN, QMTL_SIDE_SELL, &why)); /* other side unknown */

    /* an older etag is a no-op even with a newer ts; the same etag too */
    struct qmtl_activation old = mk(QMTL_SIDE_BUY, 0, 0, 0, 200, "act:w:strat:long:1");
    ck_assert_int_eq(ctl_apply(&h, 0, &old), 0);
    ck_assert_int_eq(ctl_apply(&h, 0, &a), 0);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert(gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));

    /* freeze closes, then drain closes, then active again opens */
    struct qmtl_activation fr = mk(QMTL_SIDE_BUY, 1, 1, 0, 101, "act:w:strat:long:3");
    ck_assert_int_eq(ctl_apply(&h, 0, &fr), 1);
    ck_assert(!gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "frozen");
    struct qmtl_activation dr = mk(QMTL_SIDE_BUY, 1, 0, 1, 101, "act:w:strat:long:4");
    ck_assert_int_eq(ctl_apply(&h, 0, &dr), 1);
    ck_assert_str_eq((gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why), why), "draining");
    struct qmtl_activation off = mk(QMTL_SIDE_BUY, 0, 0, 0, 102, "act:w:strat:long:5");
    ck_assert_int_eq(ctl_apply(&h, 0, &off), 1);
    ck_assert_str_eq((gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why), why), "not active");
    struct qmtl_activation on = mk(QMTL_SIDE_BUY, 1, 0, 0, 102, "act:w:strat:long:6");
    ck_assert_int_eq(ctl_apply(&h, 0, &on), 1);
    ck_assert(gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));
    ck_assert_int_eq(hook_calls, 5);

    /* gateway lost: stale, closed, the plugin is told; the same state re-confirms it */
    ctl_mark_stale(&h);
    ck_assert_int_eq(hook_calls, 6);
    ck_assert_int_eq(hook_last_stale, 1);
    ck_assert(!gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));
    ck_assert_str_eq(why, "activation stale");
    ck_assert_int_eq(ctl_apply(&h, 0, &on), 1);
    ck_assert_int_eq(hook_last_stale, 0);
    ck_assert_int_eq(hook_last_active, 1);
    ck_assert(gate_allows(g, HOST_DRYRUN, QMTL_SIDE_BUY, &why));
    ck_assert_int_eq(ctl_apply(&h, 1, &on), -1); /* no such strategy */
    host_release(&h);
}
END_TEST

START_TEST(test_submission_verifies)
{
    struct host h;
    host_up(&h);
    char err[256];
    json_t *body = ctl_strategy_submission(&h, 0, "w1", err, sizeof(err));
    ck_assert_msg(body != NULL, "%s", err);
    ck_assert_str_eq(json_string_value(json_object_get(body, "world_id")), "w1");
    json_t *dag = gw_strategy_decode_dag(json_object_get(body, "dag_json"), err, sizeof(err));
    ck_assert_ptr_nonnull(dag);
    ck_assert_int_eq(json_array_size(json_object_get(dag, "nodes")), 5);
    json_t *detail = NULL;
    int code = gw_strategy_verify(dag, json_object_get(body, "node_ids_crc32"), &detail);
    char *d = detail ? json_dumps(detail, 0) : NULL;
    ck_assert_msg(code == 0, "gateway refused the DAG: %d %s", code, d ? d : "");
    free(d);
    /* the ids on the wire are the host's own NodeIDs (one identity everywhere) */
    json_t *nodes = json_object_get(dag, "nodes");
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *w = json_array_get(nodes, i);
        const char *id = json_string_value(json_object_get(w, "node_id"));
        const char *name = json_string_value(json_object_get(w, "name"));
        ck_assert_ptr_nonnull(id);
        int found = 0;
        for (size_t q = 0; q < graph_count(h.g); q++) {
            const struct graph_node *gn = graph_at(h.g, (uint32_t)q);
            if (strcmp(gn->label, name) == 0) {
                ck_assert_str_eq(gn->id, id);
                found = 1;
            }
        }
        ck_assert_msg(found, "submitted node '%s' is not a host node", name);
    }
    /* a changed parameter no longer matches its node id */
    json_t *n2 = json_array_get(json_object_get(dag, "nodes"), 2);
    json_object_set_new(n2, "params", json_pack("{sf}", "k", 2.5));
    code = gw_strategy_verify(dag, json_object_get(body, "node_ids_crc32"), &detail);
    ck_assert_int_eq(code, 400);
    ck_assert_str_eq(json_string_value(json_object_get(detail, "code")), "E_NODE_ID_MISMATCH");
    json_decref(detail);
    json_decref(dag);
    json_decref(body);
    host_release(&h);
}
END_TEST

/* A loopback port nobody listens on (bound, then released). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

START_TEST(test_retry_unanswered)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", dead_port());
    json_t *reply = NULL;
    /* within the budget, a refused request is made again */
    struct ctl_retry rs = {.budget_s = 0.35};
    ck_assert_int_eq(ctl_retry_fetch(&rs, url, "GET", "/status", NULL, NULL, 1.0, &reply, err,
                                     sizeof(err)),
                     0);
    ck_assert_ptr_null(reply);
    ck_assert_int_gt(rs.attempts, 1);
    ck_assert_int_eq(rs.answered, 0);
    ck_assert_ptr_nonnull(strstr(rs.last_err, "GET /status: cannot connect to 127.0.0.1:"));
    /* no budget: one attempt */
    struct ctl_retry once = {.budget_s = 0};
    ck_assert_int_eq(ctl_retry_fetch(&once, url, "GET", "/status", NULL, NULL, 1.0, &reply, err,
                                    sizeof(err)),
                     0);
    ck_assert_int_eq(once.attempts, 1);
    /* once the peer has answered, a miss is not retried (the budget is for the start) */
    struct ctl_retry seen = {.budget_s = 60, .answered = 1};
    ck_assert_int_eq(ctl_retry_fetch(&seen, url, "GET", "/status", NULL, NULL, 1.0, &reply, err,
                                    sizeof(err)),
                     0);
    ck_assert_int_eq(seen.attempts, 1);
}
END_TEST

/* A one-shot HTTP peer: answers one request with 200 {"ok":true}. */
static void *one_answer(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c >= 0) {
        char buf[4096];
        ssize_t n = read(c, buf, sizeof(buf)); /* the whole request fits: no body */
        (void)n;
        static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";
        ssize_t w = write(c, rsp, sizeof(rsp) - 1);
        (void)w;
        close(c);
    }
    return NULL;
}

START_TEST(test_retry_answered)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    ck_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    ck_assert(listen(lfd, 4) == 0);
    ck_assert(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, one_answer, &lfd), 0);
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    json_t *reply = NULL;
    struct ctl_retry rs = {.budget_s = 5};
    ck_assert_int_eq(ctl_retry_fetch(&rs, url, "GET", "/status", NULL, NULL, 5.0, &reply, err,
                                    sizeof(err)),
                     200);
    ck_assert_int_eq(rs.attempts, 1);
    ck_assert_int_eq(rs.answered, 1);
    ck_assert(json_is_true(json_object_get(reply, "ok")));
    json_decref(reply);
    pthread_join(t, NULL);
    close(lfd);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("control");
    tcase_add_test(tc, test_host_domain);
    tcase_add_test(tc, test_parse_iso);
    tcase_add_test(tc, test_decision);
    tcase_add_test(tc, test_etag_version);
    tcase_add_test(tc, test_activation_parse);
    tcase_add_test(tc, test_ordering_and_gate);
    tcase_add_test(tc, test_submission_verifies);
    tcase_add_test(tc, test_retry_unanswered);
    tcase_add_test(tc, test_retry_answered);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
