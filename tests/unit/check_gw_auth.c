/*
 * Unit tests for gateway/gw_auth.c: every route walked with every kind of credential
 * (none, wrong, operator, submitter, host, connector), the route table against the one
 * docs/operations.md shows, the start-up checks and the insecure anonymous mode.
 */
#include "gateway/gw_auth.h"
#include "gateway/gw_hub.h"
#include "gw_testlib.h"
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_NONE, K_WRONG, K_OP, K_SUB, K_HOST, K_CONN, K_COUNT };
static const char *const kind_name[K_COUNT] = {"none",      "wrong", "operator",
                                               "submitter", "host",  "connector"};
static const char *const kind_header[K_COUNT] = {
    NULL, "Authorization: Bearer not-a-token\n", GWT_OP, GWT_SUB, GWT_HOST, GWT_CONN,
};

#define OP (1u << K_OP)
#define SUB (1u << K_SUB)
#define HOST (1u << K_HOST)
#define CONN (1u << K_CONN)
#define PUBLIC 0xffffu /* every kind, with or without a token */
#define ANY (OP | SUB | HOST | CONN)

/* What each route takes, written down independently of gw_auth.c's table. */
static const struct {
    const char *method, *path, *body;
    unsigned allowed;
} walk[] = {
    {"GET", "/status", NULL, PUBLIC},
    {"GET", "/health", NULL, PUBLIC},
    {"GET", "/metrics", NULL, PUBLIC},
    {"GET", "/ws/evt", NULL, PUBLIC}, /* the stream checks its own token (not an upgrade: 4xx) */
    {"GET", "/worlds", NULL, OP},
    {"POST", "/worlds", "{\"id\":\"w2\"}", OP},
    {"GET", "/worlds/w", NULL, OP},
    {"PUT", "/worlds/w", "{\"name\":\"x\"}", OP},
    {"GET", "/worlds/w/decide", NULL, OP | SUB | HOST},
    {"GET", "/worlds/w/activation", NULL, OP | SUB | HOST},
    {"PUT", "/worlds/w/activation", "{}", OP},
    {"GET", "/worlds/w/policies", NULL, OP},
    {"POST", "/worlds/w/policies", "{}", OP},
    {"GET", "/worlds/w/policies/1", NULL, OP},
    {"POST", "/worlds/w/set-default", "{}", OP},
    {"GET", "/worlds/w/bindings", NULL, OP},
    {"POST", "/worlds/w/bindings", "{}", OP},
    {"GET", "/worlds/w/decisions", NULL, OP},
    {"POST", "/worlds/w/decisions", "{}", OP},
    {"POST", "/worlds/w/apply", "{}", OP},
    {"GET", "/worlds/w/audit", NULL, OP},
    {"GET", "/worlds/no-such-world", NULL, OP},
    {"GET", "/worlds/no-such-world/decide", NULL, OP | SUB | HOST},
    {"DELETE", "/worlds/w2", NULL, OP},
    {"POST", "/strategies", "{}", SUB},
    {"POST", "/strategies/dry-run", "{}", SUB},
    {"GET", "/strategies/nope/status", NULL, OP | SUB},
    {"GET", "/queues/by_tag?tags=a&interval=60", NULL, OP | SUB},
    {"POST", "/events/subscribe", "{}", SUB},
    {"POST", "/orders", "{}", HOST},
    {"GET", "/orders?world_id=w", NULL, OP | HOST | CONN},
    {"POST", "/orders/1/ack", NULL, CONN},
    {"POST", "/orders/1/status", "{}", CONN},
    {"POST", "/fills", "{}", CONN},
    {"GET", "/fills?world_id=w", NULL, OP | HOST | CONN},
    {"POST", "/worlds/w/kill", NULL, OP},
    {"GET", "/worlds/w/kill", NULL, OP},
    {"GET", "/no-such-route", NULL, ANY},
    {"PATCH", "/strategies", "{}", ANY},
};

START_TEST(test_walk_every_route_with_every_credential)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gw_hub *hub = gw_hub_new(t.srv);
    ck_assert_ptr_nonnull(hub);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}", GWT_OP, &r), 201);
    gwt_resp_free(&r);
    for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++)
        for (int k = 0; k < K_COUNT; k++) {
            int code = gwt_http(&t, walk[i].method, walk[i].path, walk[i].body, kind_header[k], &r);
            int want;
            if (walk[i].allowed & (1u << k))
                want = 0; /* anything but 401/403 */
            else
                want = k == K_NONE || k == K_WRONG ? 401 : 403;
            if (want)
                ck_assert_msg(code == want, "%s %s with %s: %d, wanted %d (%s)", walk[i].method,
                              walk[i].path, kind_name[k], code, want, r.body ? r.body : "");
            else
                ck_assert_msg(code != 401 && code != 403 && code > 0,
                              "%s %s with %s: %d, wanted it to pass authentication (%s)",
                              walk[i].method, walk[i].path, kind_name[k], code,
                              r.body ? r.body : "");
            if (want == 401)
                ck_assert_str_eq(gwt_err(&r), "E_UNAUTHORIZED");
            if (want == 403)
                ck_assert_str_eq(gwt_err(&r), "E_FORBIDDEN");
            gwt_resp_free(&r);
        }
    gw_hub_free(hub);
    gwt_stop(&t, 1);
}
END_TEST

/* An unauthenticated request learns nothing: unknown world and unknown route alike 401. */
START_TEST(test_authenticate_before_lookup)
{
    struct gwt t;
    gwt_start(&t, NULL);
    struct gwt_resp r;
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/ghost/activation", NULL, NULL, &r), 401);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "DELETE", "/worlds/ghost", NULL, NULL, &r), 401);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds/ghost/activation", NULL, GWT_OP, &r), 404);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

/* Credential names as the docs table writes them: "operator, submitter". */
static void cred_list(unsigned creds, char *out, size_t len)
{
    out[0] = '\0';
    if (creds == 0) {
        snprintf(out, len, "none");
        return;
    }
    for (unsigned b = 1; b <= GW_CRED_SIGNED; b <<= 1)
        if ((creds & b) && b != GW_CRED_ANONYMOUS) {
            size_t n = strlen(out);
            snprintf(out + n, len - n, "%s%s", n ? ", " : "", gw_cred_name(b));
        }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* docs/operations.md shows the route table row for row, in order. */
START_TEST(test_docs_table_matches_code)
{
    char *doc = read_file("docs/operations.md");
    const char *begin = strstr(doc, "<!-- route-credentials -->");
    const char *end = strstr(doc, "<!-- /route-credentials -->");
    ck_assert_msg(begin && end && end > begin, "docs/operations.md lacks the marked table");
    size_t n;
    const struct gw_auth_rule *rules = gw_auth_rules(&n);
    const char *p = begin;
    size_t row = 0;
    while ((p = strstr(p, "\n| ")) && p < end) {
        p += 3;
        const char *eol = strchr(p, '\n');
        char line[300];
        snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
        if (!strncmp(line, "Method", 6))
            continue; /* header */
        ck_assert_msg(row < n, "docs row '%s' has no counterpart in gw_auth.c", line);
        char want[300], creds[120];
        cred_list(rules[row].creds, creds, sizeof(creds));
        snprintf(want, sizeof(want), "%s | `%s` | %s | %s |", rules[row].method, rules[row].path,
                 creds, rules[row].live ? "yes" : "no");
        ck_assert_msg(!strcmp(line, want), "docs row %zu is '%s', the code says '%s'", row + 1,
                      line, want);
        row++;
    }
    ck_assert_msg(row == n, "docs show %zu rows, the code has %zu", row, n);
    free(doc);
}
END_TEST

START_TEST(test_match)
{
    const struct gw_auth_rule *r = gw_auth_match("GET", "/worlds/a/decide");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->creds, GW_CRED_OPERATOR | GW_CRED_SUBMITTER | GW_CRED_HOST);
    r = gw_auth_match("POST", "/worlds/a/decide");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->creds, GW_CRED_OPERATOR);
    ck_assert_int_eq(r->live, 1);
    ck_assert_ptr_null(gw_auth_match("GET", "/worlds/"));
    ck_assert_ptr_null(gw_auth_match("GET", "/worldsx"));
    r = gw_auth_match("POST", "/orders/7/ack");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->creds, GW_CRED_CONNECTOR);
    ck_assert_ptr_null(gw_auth_match("POST", "/orders//ack"));
    ck_assert_ptr_null(gw_auth_match("POST", "/orders/7/ack/x"));
}
END_TEST

START_TEST(test_start_checks)
{
    struct qmtl_config c;
    memset(&c, 0, sizeof(c));
    config_init_defaults(&c);
    char err[1024];
    /* the shipped defaults: no credential at all -> refuse, naming what to set */
    ck_assert_int_eq(gw_auth_check_config(&c.gateway, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "QMTL__GATEWAY__OPERATOR_TOKEN"));
    ck_assert_ptr_nonnull(strstr(err, "QMTL__GATEWAY__HOST_TOKEN"));
    ck_assert_ptr_null(gw_server_new(&c, err, sizeof(err)));
    /* insecure mode on loopback: accepted */
    c.gateway.insecure_allow_anonymous = 1;
    ck_assert_int_eq(gw_auth_check_config(&c.gateway, err, sizeof(err)), 0);
    /* ... but not on another address */
    gwt_set(&c.gateway.host, "0.0.0.0");
    ck_assert_int_eq(gw_auth_check_config(&c.gateway, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "loopback"));
    /* one token for two credentials is refused */
    c.gateway.insecure_allow_anonymous = 0;
    gwt_set(&c.gateway.operator_token, "same");
    gwt_set(&c.gateway.host_token, "same");
    ck_assert_int_eq(gw_auth_check_config(&c.gateway, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "gateway.operator_token and gateway.host_token"));
    gwt_set(&c.gateway.host_token, "other");
    ck_assert_int_eq(gw_auth_check_config(&c.gateway, err, sizeof(err)), 0);
    config_release(&c);
}
END_TEST

static void insecure(struct qmtl_config *c)
{
    gwt_set(&c->gateway.operator_token, "");
    gwt_set(&c->gateway.submit_token, "");
    gwt_set(&c->gateway.host_token, "");
    gwt_set(&c->gateway.connector_token, "conn-secret");
    c->gateway.insecure_allow_anonymous = 1;
}

START_TEST(test_insecure_anonymous)
{
    gwt_configure = insecure;
    struct gwt t;
    gwt_start(&t, NULL);
    gwt_configure = NULL;
    struct gwt_resp r;
    /* no Authorization header: every credential */
    ck_assert_int_eq(gwt_http(&t, "POST", "/worlds", "{\"id\":\"w\"}", NULL, &r), 201);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "POST", "/orders/1/ack", NULL, NULL, &r), 404);
    gwt_resp_free(&r);
    /* a wrong token is still refused, and a real one keeps its kind */
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds", NULL, "Authorization: Bearer nope\n", &r), 401);
    gwt_resp_free(&r);
    ck_assert_int_eq(gwt_http(&t, "GET", "/worlds", NULL, GWT_CONN, &r), 403);
    gwt_resp_free(&r);
    gwt_stop(&t, 1);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *su = suite_create("gw_auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_walk_every_route_with_every_credential);
    tcase_add_test(tc, test_authenticate_before_lookup);
    tcase_add_test(tc, test_docs_table_matches_code);
    tcase_add_test(tc, test_match);
    tcase_add_test(tc, test_start_checks);
    tcase_add_test(tc, test_insecure_anonymous);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
