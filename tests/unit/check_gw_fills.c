/* gw_fills + gw_store_fills + gw_kill: fills, order status, claims and the kill switch over
 * HTTP against a real server. */
#include "gateway/gw_metrics.h"
#include "gateway/gw_routes.h"
#include "gateway/gw_store.h"
#include "gateway/gw_util.h"
#include "gw_testlib.h"
#include "log.h"

#include <ctype.h>

#define LIVE GWT_OP "X-Allow-Live: true\n"
#define SECRET "fill-hmac-key"

static int req(struct gwt *t, const char *m, const char *path, const char *body, const char *h)
{
    struct gwt_resp r;
    int code = gwt_http(t, m, path, body, h, &r);
    gwt_resp_free(&r);
    return code;
}

static void with_secret(struct qmtl_config *cfg)
{
    gwt_set(&cfg->gateway.fill_secret, SECRET);
}

/* A live world 'L' with s1 active on both sides and one order (id returned) of s1:
 * buy 'qty' BTC. */
static long long live_order(struct gwt *t, const char *coid, const char *side, double qty)
{
    if (req(t, "GET", "/worlds/L", NULL, GWT_OP) == 404) {
        ck_assert_int_eq(req(t, "POST", "/worlds", "{\"id\":\"L\",\"mode\":\"live\"}", LIVE), 201);
        ck_assert_int_eq(req(t, "POST", "/worlds/L/decisions", "{\"strategies\":[\"s1\"]}", LIVE),
                         200);
        const char *sides[] = {"long", "short"};
        for (int i = 0; i < 2; i++) {
            char b[200];
            snprintf(b, sizeof(b), "{\"strategy_id\":\"s1\",\"side\":\"%s\",\"active\":true}",
                     sides[i]);
            ck_assert_int_eq(req(t, "PUT", "/worlds/L/activation", b, LIVE), 200);
        }
    }
    char body[400];
    snprintf(body, sizeof(body),
             "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"%s\","
             "\"symbol\":\"BTC\",\"side\":\"%s\",\"quantity\":%g,\"price\":100,\"ts\":1700000000}",
             coid, side, qty);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(t, "POST", "/orders", body, GWT_HOST, &r), 201);
    long long id = json_integer_value(json_object_get(r.json, "id"));
    gwt_resp_free(&r);
    return id;
}

/* A CloudEvents envelope carrying a fill of order 'id'. */
static char *fill_body(long long id, int seq, const char *side, double qty, double price)
{
    json_t *e = json_pack("{ss ss ss ss s{sI ss ss sf sf sf sI sI ss}}", "specversion", "1.0", "id",
                          "ev-1", "source", "test/connector", "type", "qmtl.fill", "data",
                          "order_id", (json_int_t)id, "symbol", "BTC", "side", side, "quantity",
                          qty, "price", price, "commission", 0.25, "fill_time",
                          (json_int_t)1700000060000, "seq", (json_int_t)seq, "tif", "DAY");
    char *out = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return out;
}

static int64_t last_seq(struct gwt *t)
{
    return gw_store_event_last_seq(gw_server_store(t->srv));
}

struct found {
    const char *type;
    json_t *data; /* last event of that type */
    int n;
};

static int scan_cb(void *arg, int64_t seq, const char *type, const char *world,
                   const char *envelope)
{
    (void)seq;
    (void)world;
    struct found *f = arg;
    if (strcmp(type, f->type))
        return 0;
    json_t *e = json_loads(envelope, 0, NULL);
    json_decref(f->data);
    f->data = json_incref(json_object_get(e, "data"));
    json_decref(e);
    f->n++;
    return 0;
}

static struct found events_of(struct gwt *t, const char *type)
{
    struct found f = {type, NULL, 0};
    ck_assert_int_eq(gw_store_event_scan(gw_server_store(t->srv), 0, scan_cb, &f), 0);
    return f;
}

START_TEST(test_hmac_vector)
{
    /* RFC 4231, test case 2 */
    char out[65];
    ck_assert_int_eq(gw_hmac_sha256_hex("Jefe", "what do ya want for nothing?", 28, out), 0);
    ck_assert_str_eq(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_fill_idempotent_and_event)
{
    struct gwt t;
    gwt_start(&t, NULL);
    long long id = live_order(&t, "c1", "buy", 3);
    char *b = fill_body(id, 1, "BUY", 1, 101.5);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b, GWT_CONN, &r), 202);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "partially_filled");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "client_order_id")), "c1");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy_id")), "s1");
    gwt_resp_free(&r);
    struct found f = events_of(&t, "fill");
    ck_assert_int_eq(f.n, 1);
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "world_id")), "L");
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "side")), "BUY");
    ck_assert_int_eq(json_integer_value(json_object_get(f.data, "seq")), 1);
    ck_assert(json_number_value(json_object_get(f.data, "price")) == 101.5);
    ck_assert(json_number_value(json_object_get(f.data, "commission")) == 0.25);
    ck_assert_int_eq(json_integer_value(json_object_get(f.data, "fill_time")), 1700000060000);
    json_decref(f.data);
    /* the same fill again: 200, the stored fill, no new event */
    int64_t seq0 = last_seq(&t);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b, GWT_CONN, &r), 200);
    ck_assert(json_number_value(json_object_get(r.json, "quantity")) == 1.0);
    gwt_resp_free(&r);
    ck_assert_int_eq(last_seq(&t), seq0);
    /* a different fill under the same (order, seq): 409 */
    char *b2 = fill_body(id, 1, "BUY", 2, 101.5);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b2, GWT_CONN, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_DUPLICATE_SEQ");
    gwt_resp_free(&r);
    /* seq 2 completes the order; a third fill would overfill it */
    char *b3 = fill_body(id, 2, "BUY", 2, 102);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b3, GWT_CONN, &r), 202);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "filled");
    gwt_resp_free(&r);
    char *b4 = fill_body(id, 3, "BUY", 0.5, 102);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b4, GWT_CONN, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_OVERFILL");
    gwt_resp_free(&r);
    json_t *o = NULL;
    ck_assert_int_eq(gw_store_order_by_id(gw_server_store(t.srv), id, &o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "filled");
    ck_assert(json_number_value(json_object_get(o, "filled_quantity")) == 3.0);
    json_decref(o);
    struct gw_metrics *m = gw_server_metrics(t.srv);
    ck_assert_int_eq(gw_metrics_get(m, GW_M_FILLS_ACCEPTED), 2);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_OVERFILL), 1);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_MISMATCH), 1);
    ck_assert_int_eq(gwt_http(&t, "GET", "/metrics", NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "qmtl_gateway_fills_accepted_total 2\n"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "qmtl_gateway_fills_rejected_total{reason=\"overfill\"} 1\n"));
    gwt_resp_free(&r);
    /* durable: a restarted gateway has the fills and still answers a repeat with 200 */
    char dir[128];
    snprintf(dir, sizeof(dir), "%s", t.dir);
    gwt_stop(&t, 0);
    gwt_start(&t, dir);
    ck_assert_int_eq(req(&t, "POST", "/fills", b3, GWT_CONN), 200);
    ck_assert_int_eq(gwt_http(&t, "GET", "/fills?world_id=L&strategy_id=s1", NULL, GWT_HOST, &r),
                     200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "fills")), 2);
    gwt_resp_free(&r);
    free(b);
    free(b2);
    free(b3);
    free(b4);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_fill_auth)
{
    struct gwt t;
    gwt_configure = with_secret;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    long long id = live_order(&t, "c1", "buy", 3);
    char *b = fill_body(id, 1, "BUY", 1, 100);
    char sig[65], hdr[120];
    ck_assert_int_eq(gw_hmac_sha256_hex(SECRET, b, strlen(b), sig), 0);
    /* nothing, a wrong bearer, the host bearer, a wrong signature: refused */
    ck_assert_int_eq(req(&t, "POST", "/fills", b, NULL), 401);
    ck_assert_int_eq(req(&t, "POST", "/fills", b, "Authorization: Bearer nope\n"), 401);
    ck_assert_int_eq(req(&t, "POST", "/fills", b, GWT_HOST), 403);
    snprintf(hdr, sizeof(hdr), "X-Signature: %.63s0\n", sig);
    if (sig[63] == '0')
        hdr[strlen(hdr) - 2] = '1';
    ck_assert_int_eq(req(&t, "POST", "/fills", b, hdr), 401);
    /* the signature of another body */
    char *other = fill_body(id, 2, "BUY", 1, 100);
    snprintf(hdr, sizeof(hdr), "X-Signature: %s\n", sig);
    ck_assert_int_eq(req(&t, "POST", "/fills", other, hdr), 401);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(gw_server_metrics(t.srv), GW_FR_AUTH), 5);
    ck_assert_int_eq(events_of(&t, "fill").n, 0);
    /* the right signature (also upper case, with a sha256= prefix) */
    ck_assert_int_eq(req(&t, "POST", "/fills", b, hdr), 202);
    char up[65];
    ck_assert_int_eq(gw_hmac_sha256_hex(SECRET, other, strlen(other), up), 0);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(hdr, sizeof(hdr), "X-Signature: sha256=%s\n", up);
    ck_assert_int_eq(req(&t, "POST", "/fills", other, hdr), 202);
    /* a signature never opens another route */
    snprintf(hdr, sizeof(hdr), "X-Signature: %s\n", sig);
    ck_assert_int_eq(req(&t, "GET", "/fills?world_id=L", NULL, hdr), 401);
    free(b);
    free(other);
    gwt_stop(&t, 1);
    /* without gateway.fill_secret a signature is refused, however computed */
    gwt_start(&t, NULL);
    id = live_order(&t, "c1", "buy", 3);
    b = fill_body(id, 1, "BUY", 1, 100);
    ck_assert_int_eq(gw_hmac_sha256_hex("", b, strlen(b), sig), 0);
    snprintf(hdr, sizeof(hdr), "X-Signature: %s\n", sig);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b, hdr, &r), 401);
    ck_assert_ptr_nonnull(strstr(r.body, "fill_secret"));
    gwt_resp_free(&r);
    free(b);
    gwt_stop(&t, 1);
}
END_TEST

static void expect_400(struct gwt *t, const char *body, const char *code, const char *what)
{
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(t, "POST", "/fills", body, GWT_CONN, &r), 400);
    ck_assert_str_eq(gwt_err(&r), code);
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
    ck_assert_msg(msg && strstr(msg, what), "expected '%s' in '%s'", what, msg ? msg : "");
    gwt_resp_free(&r);
}

START_TEST(test_fill_schema_errors)
{
    struct gwt t;
    gwt_start(&t, NULL);
    long long id = live_order(&t, "c1", "buy", 3);
    expect_400(&t, "{not json", "E_INVALID_JSON", "invalid JSON");
    expect_400(&t, "[1]", "E_CE_REQUIRED", "CloudEvents");
    expect_400(&t, "{\"order_id\":1}", "E_CE_REQUIRED", "specversion");
    expect_400(&t, "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"s\",\"type\":\"t\"}",
               "E_CE_REQUIRED", "'data'");
    expect_400(&t, "{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\",\"data\":{}}",
               "E_CE_REQUIRED", "'id'");
    struct {
        const char *key, *value, *what;
    } bad[] = {
        {"order_id", "\"abc\"", "order_id"},
        {"order_id", "0", "order_id"},
        {"side", "\"HOLD\"", "side"},
        {"quantity", "-1", "quantity"},
        {"quantity", "0", "quantity"},
        {"price", "\"1\"", "price"},
        {"commission", "-0.1", "commission"},
        {"seq", "0", "seq"},
        {"seq", "1.5", "seq"},
        {"fill_time", "null", "fill_time"},
        {"status", "\"done\"", "status"},
        {"symbol", "\"\"", "symbol"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *b = fill_body(id, 1, "BUY", 1, 100);
        json_t *e = json_loads(b, 0, NULL);
        json_object_set_new(json_object_get(e, "data"), bad[i].key,
                            json_loads(bad[i].value, JSON_DECODE_ANY, NULL));
        char *t2 = json_dumps(e, JSON_COMPACT);
        expect_400(&t, t2, "E_SCHEMA_INVALID", bad[i].what);
        free(t2);
        json_decref(e);
        free(b);
    }
    /* missing required field */
    char *b = fill_body(id, 1, "BUY", 1, 100);
    json_t *e = json_loads(b, 0, NULL);
    json_object_del(json_object_get(e, "data"), "commission");
    char *t2 = json_dumps(e, JSON_COMPACT);
    expect_400(&t, t2, "E_SCHEMA_INVALID", "'commission': required");
    free(t2);
    json_decref(e);
    free(b);
    /* unknown order, another symbol or side */
    struct gwt_resp r;
    b = fill_body(id + 100, 1, "BUY", 1, 100);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b, GWT_CONN, &r), 404);
    gwt_resp_free(&r);
    free(b);
    b = fill_body(id, 1, "SELL", 1, 100);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", b, GWT_CONN, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_ORDER_MISMATCH");
    gwt_resp_free(&r);
    free(b);
    struct gw_metrics *m = gw_server_metrics(t.srv);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_INVALID_JSON), 1);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_CE_REQUIRED), 4);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_SCHEMA), 13);
    ck_assert_int_eq(gw_metrics_fill_rejected_get(m, GW_FR_UNKNOWN_ORDER), 1);
    ck_assert_int_eq(gw_metrics_get(m, GW_M_FILLS_ACCEPTED), 0);
    ck_assert_int_eq(events_of(&t, "fill").n, 0);
    /* the order id as decimal text is the same order */
    b = fill_body(id, 1, "BUY", 1, 100);
    e = json_loads(b, 0, NULL);
    char idt[32];
    snprintf(idt, sizeof(idt), "%lld", id);
    json_object_set_new(json_object_get(e, "data"), "order_id", json_string(idt));
    t2 = json_dumps(e, JSON_COMPACT);
    ck_assert_int_eq(req(&t, "POST", "/fills", t2, GWT_CONN), 202);
    free(t2);
    json_decref(e);
    free(b);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_status_and_claim)
{
    struct gwt t;
    gwt_start(&t, NULL);
    long long a = live_order(&t, "c1", "buy", 3), b = live_order(&t, "c2", "buy", 1);
    char path[64];
    /* claims: exactly once; the claimant's retry is fine */
    snprintf(path, sizeof(path), "/orders/%lld/ack", a);
    ck_assert_int_eq(req(&t, "POST", path, "{\"claim_id\":\"paper-1\"}", GWT_CONN), 200);
    ck_assert_int_eq(req(&t, "POST", path, "{\"claim_id\":\"paper-1\"}", GWT_CONN), 200);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", path, "{\"claim_id\":\"paper-2\"}", GWT_CONN, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_ALREADY_CLAIMED");
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "POST", path, NULL, GWT_CONN), 409);
    ck_assert_int_eq(req(&t, "POST", path, "{\"claim_id\":7}", GWT_CONN), 422);
    /* broker status */
    snprintf(path, sizeof(path), "/orders/%lld/status", a);
    ck_assert_int_eq(req(&t, "POST", path, "{\"status\":\"accepted\"}", GWT_HOST), 403);
    ck_assert_int_eq(req(&t, "POST", path, "{\"status\":\"filled\"}", GWT_CONN), 422);
    ck_assert_int_eq(req(&t, "POST", path, "{\"status\":\"accepted\"}", GWT_CONN), 200);
    int64_t seq0 = last_seq(&t);
    ck_assert_int_eq(req(&t, "POST", path, "{\"status\":\"accepted\"}", GWT_CONN), 200);
    ck_assert_int_eq(last_seq(&t), seq0); /* a repeat emits nothing */
    struct found f = events_of(&t, "order_updated");
    ck_assert_int_eq(f.n, 1);
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "status")), "accepted");
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "client_order_id")), "c1");
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "side")), "BUY");
    ck_assert(json_is_null(json_object_get(f.data, "reason")));
    json_decref(f.data);
    /* partially filled, then canceled: no more fills */
    char *fb = fill_body(a, 1, "BUY", 1, 100);
    ck_assert_int_eq(req(&t, "POST", "/fills", fb, GWT_CONN), 202);
    ck_assert_int_eq(
        req(&t, "POST", path, "{\"status\":\"canceled\",\"reason\":\"user\"}", GWT_CONN), 200);
    f = events_of(&t, "order_updated");
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "reason")), "user");
    ck_assert(json_number_value(json_object_get(f.data, "filled_quantity")) == 1.0);
    json_decref(f.data);
    ck_assert_int_eq(req(&t, "POST", path, "{\"status\":\"accepted\"}", GWT_CONN), 409);
    char *fb2 = fill_body(a, 2, "BUY", 1, 100);
    ck_assert_int_eq(gwt_http(&t, "POST", "/fills", fb2, GWT_CONN, &r), 409);
    ck_assert_str_eq(gwt_err(&r), "E_ORDER_CLOSED");
    gwt_resp_free(&r);
    /* rejected by the broker */
    snprintf(path, sizeof(path), "/orders/%lld/status", b);
    ck_assert_int_eq(
        req(&t, "POST", path, "{\"status\":\"rejected\",\"reason\":\"no margin\"}", GWT_CONN), 200);
    ck_assert_int_eq(req(&t, "POST", "/orders/999/status", "{\"status\":\"accepted\"}", GWT_CONN),
                     404);
    /* the host's rebuild: open orders and fills of its strategy */
    long long c = live_order(&t, "c3", "sell", 1);
    ck_assert_int_eq(
        gwt_http(&t, "GET", "/orders?world_id=L&strategy_id=s1&status=open", NULL, GWT_HOST, &r),
        200);
    json_t *orders = json_object_get(r.json, "orders");
    ck_assert_int_eq(json_array_size(orders), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(orders, 0), "id")), c);
    gwt_resp_free(&r);
    ck_assert_int_eq(
        req(&t, "GET", "/orders?world_id=L&strategy_id=zz&status=open", NULL, GWT_HOST), 200);
    ck_assert_int_eq(req(&t, "GET", "/orders?world_id=L&status=bogus", NULL, GWT_HOST), 422);
    ck_assert_int_eq(
        gwt_http(&t, "GET", "/fills?world_id=L&strategy_id=s1&after=0", NULL, GWT_CONN, &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "fills")), 1);
    json_int_t next = json_integer_value(json_object_get(r.json, "next_after"));
    gwt_resp_free(&r);
    char q[120];
    snprintf(q, sizeof(q), "/fills?world_id=L&after=%lld", (long long)next);
    ck_assert_int_eq(gwt_http(&t, "GET", q, NULL, GWT_OP, &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "fills")), 0);
    gwt_resp_free(&r);
    ck_assert_int_eq(req(&t, "GET", "/fills", NULL, GWT_OP), 422);
    ck_assert_int_eq(req(&t, "GET", "/fills?world_id=L", NULL, GWT_SUB), 403);
    free(fb);
    free(fb2);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_position_sides)
{
    struct gwt t;
    gwt_start(&t, NULL);
    long long a = live_order(&t, "c1", "buy", 2);
    char *fb = fill_body(a, 1, "BUY", 2, 100);
    ck_assert_int_eq(req(&t, "POST", "/fills", fb, GWT_CONN), 202);
    /* the short side is deactivated: a sell that reduces the long still passes (long side),
     * a sell beyond it (opening a short) does not */
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"short\",\"active\":false}", LIVE),
                     200);
    live_order(&t, "c2", "sell", 1);
    const char *big = "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c3\","
                      "\"symbol\":\"BTC\",\"side\":\"sell\",\"quantity\":2,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(req(&t, "POST", "/orders", big, GWT_HOST), 409);
    /* the long side draining: a reducing sell passes; frozen: it does not */
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true,"
                         "\"drain\":true}",
                         LIVE),
                     200);
    const char *red = "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c4\","
                      "\"symbol\":\"BTC\",\"side\":\"sell\",\"quantity\":0.5,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(req(&t, "POST", "/orders", red, GWT_HOST), 201);
    ck_assert_int_eq(req(&t, "PUT", "/worlds/L/activation",
                         "{\"strategy_id\":\"s1\",\"side\":\"long\",\"active\":true,"
                         "\"freeze\":true}",
                         LIVE),
                     200);
    const char *red2 =
        "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"c5\","
        "\"symbol\":\"BTC\",\"side\":\"sell\",\"quantity\":0.5,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(req(&t, "POST", "/orders", red2, GWT_HOST), 409);
    free(fb);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_kill)
{
    struct gwt t;
    gwt_start(&t, NULL);
    long long a = live_order(&t, "c1", "buy", 2);
    char *fb = fill_body(a, 1, "BUY", 2, 100);
    ck_assert_int_eq(req(&t, "POST", "/fills", fb, GWT_CONN), 202);
    /* the live guard and the operator credential apply */
    ck_assert_int_eq(req(&t, "POST", "/worlds/L/kill", NULL, GWT_OP), 403);
    ck_assert_int_eq(req(&t, "POST", "/worlds/L/kill", NULL, GWT_CONN), 403);
    ck_assert_int_eq(req(&t, "POST", "/worlds/L/kill", "{\"reason\":7}", LIVE), 422);
    ck_assert_int_eq(req(&t, "POST", "/worlds/nope/kill", NULL, LIVE), 404);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds/L/kill", "{\"reason\":\"drill\"}", LIVE, &r),
                     200);
    ck_assert(json_is_true(json_object_get(r.json, "killed")));
    gwt_resp_free(&r);
    struct found f = events_of(&t, "world_killed");
    ck_assert_int_eq(f.n, 1);
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "reason")), "drill");
    ck_assert_str_eq(json_string_value(json_object_get(f.data, "world_id")), "L");
    json_decref(f.data);
    /* again: nothing new */
    int64_t seq0 = last_seq(&t);
    ck_assert_int_eq(req(&t, "POST", "/worlds/L/kill", NULL, LIVE), 200);
    ck_assert_int_eq(last_seq(&t), seq0);
    /* only orders that reduce the position pass: buy refused, sell of the long passes,
     * a further sell (beyond the position with the open order) refused */
    const char *buy = "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"k1\","
                      "\"symbol\":\"BTC\",\"side\":\"buy\",\"quantity\":1,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(gwt_http(&t, "POST", "/orders", buy, GWT_HOST, &r), 409);
    ck_assert_ptr_nonnull(strstr(r.body, "killed"));
    gwt_resp_free(&r);
    const char *flat = "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"k2\","
                       "\"symbol\":\"BTC\",\"side\":\"sell\",\"quantity\":2,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(req(&t, "POST", "/orders", flat, GWT_HOST), 201);
    const char *more = "{\"world_id\":\"L\",\"strategy_id\":\"s1\",\"client_order_id\":\"k3\","
                       "\"symbol\":\"BTC\",\"side\":\"sell\",\"quantity\":1,\"price\":1,\"ts\":1}";
    ck_assert_int_eq(req(&t, "POST", "/orders", more, GWT_HOST), 409);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/L/kill", NULL, GWT_OP, &r), 200);
    ck_assert(json_is_true(json_object_get(r.json, "killed")));
    gwt_resp_free(&r);
    /* released: the gate decides again */
    ck_assert_int_eq(req(&t, "DELETE", "/worlds/L/kill", NULL, LIVE), 200);
    f = events_of(&t, "world_kill_released");
    ck_assert_int_eq(f.n, 1);
    json_decref(f.data);
    ck_assert_int_eq(req(&t, "POST", "/orders", buy, GWT_HOST), 201);
    free(fb);
    gwt_stop(&t, 1);
}
END_TEST

START_TEST(test_route_labels)
{
    ck_assert_str_eq(gw_metrics_route_label("/fills"), "/fills");
    ck_assert_str_eq(gw_metrics_route_label("/orders/3/status"), "/orders/{id}/status");
    ck_assert_str_eq(gw_metrics_route_label("/worlds/w/kill"), "/worlds/{id}/kill");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gw_fills");
    TCase *tc = tcase_create("fills");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hmac_vector);
    tcase_add_test(tc, test_fill_idempotent_and_event);
    tcase_add_test(tc, test_fill_auth);
    tcase_add_test(tc, test_fill_schema_errors);
    tcase_add_test(tc, test_status_and_claim);
    tcase_add_test(tc, test_position_sides);
    tcase_add_test(tc, test_kill);
    tcase_add_test(tc, test_route_labels);
    suite_add_tcase(s, tc);
    return s;
}

/* Every log line is formatted (so a sanitizer sees its arguments) and dropped. */
static void quiet(enum log_level level, const char *line, void *arg)
{
    (void)level, (void)line, (void)arg;
}

int main(void)
{
    log_set_level(LOG_LEVEL_DEBUG);
    log_set_sink(quiet, NULL);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
