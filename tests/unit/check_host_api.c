/* The host services table: validation, state rules, handles, config, code identity. */
#include <qmtl/testkit.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_api.h"
#include "host/plugin/loader.h"
#include "log.h"

START_TEST(test_parse_interval)
{
    struct {
        const char *s;
        int64_t want; /* -1: refused */
    } cases[] = {
        {"1", 1},     {"60", 60},     {"60s", 60},      {"1m", 60},    {"5M", 300},
        {"1h", 3600}, {"24h", 86400}, {"86400", 86400}, {"90m", 5400}, {"0", -1},
        {"0s", -1},   {"86401", -1},  {"25h", -1},      {"1d", -1},    {"", -1},
        {"m", -1},    {"-5s", -1},    {"5 s", -1},      {"1.5m", -1},  {"99999999999999999999", -1},
    };
    char err[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 0;
        int rc = host_parse_interval(cases[i].s, &v, err, sizeof(err));
        if (cases[i].want < 0)
            ck_assert_msg(rc == -1, "'%s' accepted as %lld", cases[i].s, (long long)v);
        else
            ck_assert_msg(rc == 0 && v == cases[i].want, "'%s': rc %d v %lld (%s)", cases[i].s, rc,
                          (long long)v, err);
    }
    ck_assert_int_eq(host_parse_interval(NULL, NULL, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_check_tags)
{
    char err[200];
    size_t n;
    const char *ok[] = {"BTC", "a.b-c_9", NULL};
    ck_assert_int_eq(host_check_tags(ok, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    const char *dup[] = {"x", "y", "x", NULL};
    ck_assert_int_eq(host_check_tags(dup, &n, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "duplicate tag 'x'");
    const char *bad[] = {"a b", NULL};
    ck_assert_int_eq(host_check_tags(bad, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "invalid tag 'a b'"));
    const char *empty_tag[] = {"", NULL};
    ck_assert_int_eq(host_check_tags(empty_tag, &n, err, sizeof(err)), -1);
    const char *none[] = {NULL};
    ck_assert_int_eq(host_check_tags(none, &n, err, sizeof(err)), -1);
    ck_assert_int_eq(host_check_tags(NULL, &n, err, sizeof(err)), -1);
    char longtag[102];
    memset(longtag, 'a', 101);
    longtag[101] = 0;
    const char *toolong[] = {longtag, NULL};
    ck_assert_int_eq(host_check_tags(toolong, &n, err, sizeof(err)), -1);
    longtag[100] = 0;
    ck_assert_int_eq(host_check_tags(toolong, &n, err, sizeof(err)), 0);
    const char *many[34];
    char names[33][8];
    for (int i = 0; i < 33; i++) {
        snprintf(names[i], 8, "t%d", i);
        many[i] = names[i];
    }
    many[33] = NULL;
    ck_assert_int_eq(host_check_tags(many, &n, err, sizeof(err)), -1);
    many[32] = NULL;
    ck_assert_int_eq(host_check_tags(many, &n, err, sizeof(err)), 0);
}
END_TEST

/* ---- a strategy whose setup runs a list of bad declarations and records the results */

struct probe {
    int code;
    char msg[QMTL_ERR_MSG_MAX];
};
static struct probe probes[32];
static int n_probes;
static const struct qmtl_host *saved_host;
static struct qmtl_ctx *saved_ctx;

static void note(int rc, const struct qmtl_err *e)
{
    probes[n_probes].code = rc;
    snprintf(probes[n_probes].msg, sizeof(probes[n_probes].msg), "%s", rc < 0 ? e->msg : "");
    n_probes++;
}

static int ident(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = *qmtl_window_latest(&v->inputs[0]);
    return QMTL_OK;
}

static int other(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)v;
    *out = qmtl_number(1);
    return QMTL_OK;
}

static int probe_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"T", NULL};
    static const char *const badtags[] = {"T", "T", NULL};
    n_probes = 0;
    saved_host = h;
    saved_ctx = ctx;
    struct qmtl_stream_spec ss = {QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"};
    qmtl_node px = h->stream_input(ctx, &ss, err); /* 0: valid */
    note(px, err);
    ss.interval = "1d";
    note(h->stream_input(ctx, &ss, err), err); /* 1 */
    ss.interval = "1m";
    ss.period = 10001;
    note(h->stream_input(ctx, &ss, err), err); /* 2 */
    ss.period = 1;
    ss.tags = badtags;
    note(h->stream_input(ctx, &ss, err), err); /* 3 */
    ss.tags = tags;
    ss.size = 4; /* not even the size field and its padding */
    note(h->stream_input(ctx, &ss, err), err); /* 4 */
    struct qmtl_indicator_spec is = {QMTL_SPEC(qmtl_indicator_spec), .kind = "sma", .inputs = {px},
                                     .window = 0};
    note(h->indicator(ctx, &is, err), err); /* 5: window 0 */
    is.window = 3;
    is.inputs[0] = 77;
    note(h->indicator(ctx, &is, err), err); /* 6: unknown handle */
    is.inputs[0] = px;
    is.kind = "macd";
    note(h->indicator(ctx, &is, err), err); /* 7 */
    is.kind = "crossover";
    note(h->indicator(ctx, &is, err), err); /* 8: needs 2 inputs */
    is.kind = "sma";
    is.field = "vwap";
    note(h->indicator(ctx, &is, err), err); /* 9 */
    struct qmtl_node_spec ns = {QMTL_SPEC(qmtl_node_spec), .name = "n", .inputs = {px},
                                .compute = ident};
    qmtl_node n1 = h->node(ctx, &ns, err);
    note(n1, err);                     /* 10: valid */
    note(h->node(ctx, &ns, err), err); /* 11: same name */
    ns.name = NULL;
    note(h->node(ctx, &ns, err), err); /* 12: no name */
    ns.name = "m";
    ns.params_json = "[1,2]";
    note(h->node(ctx, &ns, err), err); /* 13 */
    ns.params_json = "{\"a\":";
    note(h->node(ctx, &ns, err), err); /* 14 */
    ns.params_json = NULL;
    ns.inputs[0] = 0;
    note(h->node(ctx, &ns, err), err); /* 15: no inputs */
    ns.inputs[0] = px;
    ns.compute = NULL;
    note(h->node(ctx, &ns, err), err); /* 16 */
    ns.compute = ident;
    ns.on_late = 7;
    note(h->node(ctx, &ns, err), err); /* 17 */
    ns.on_late = 0;
    ns.flags = 0x10;
    note(h->node(ctx, &ns, err), err); /* 18 */
    ns.flags = 0;
    struct qmtl_signal_spec sg = {QMTL_SPEC(qmtl_signal_spec), .input = n1, .buy_above = -1,
                                  .sell_below = 1};
    note(h->signal(ctx, &sg, err), err); /* 19 */
    struct qmtl_order_spec os = {QMTL_SPEC(qmtl_order_spec), .signal = 55};
    note(h->order_publisher(ctx, &os, err), err); /* 20 */
    struct qmtl_tag_query_spec tq = {QMTL_SPEC(qmtl_tag_query_spec), .query_tags = tags,
                                     .match_mode = 5, .interval = "1m"};
    note(h->tag_query(ctx, &tq, err), err);     /* 21 */
    note(h->stream_input(ctx, NULL, err), err); /* 22 */
    /* code identity: same function same hash; other function differs; version overrides */
    ns.name = "n2";
    ns.params_json = "{\"x\":1}";
    qmtl_node a = h->node(ctx, &ns, err);
    ns.name = "n3";
    qmtl_node b = h->node(ctx, &ns, err); /* identical: the same node */
    ns.name = "n4";
    ns.compute = other;
    qmtl_node c = h->node(ctx, &ns, err);
    ns.name = "n5";
    ns.code_version = "v1";
    qmtl_node d = h->node(ctx, &ns, err);
    ns.name = "n6";
    ns.compute = ident;
    qmtl_node e = h->node(ctx, &ns, err);
    ck_assert(a > 0 && b > 0 && c > 0 && d > 0 && e > 0);
    ck_assert_str_eq(h->node_id(ctx, a), h->node_id(ctx, b));
    ck_assert_str_ne(h->node_id(ctx, a), h->node_id(ctx, c));
    ck_assert_str_eq(h->node_id(ctx, d), h->node_id(ctx, e));
    ck_assert_ptr_null(h->node_id(ctx, 999));
    /* config */
    ck_assert_str_eq(h->config_string(ctx, "mode", "x"), "fast");
    ck_assert(h->config_number(ctx, "window", 1) == 12.5);
    ck_assert(h->config_number(ctx, "mode", 3) == 3); /* not a number */
    ck_assert_str_eq(h->config_string(ctx, "nope", "dflt"), "dflt");
    struct qmtl_activation act;
    ck_assert_int_eq(h->activation(ctx, QMTL_SIDE_BUY, &act), QMTL_ENOENT);
    return QMTL_OK;
}

static int late_rc;
static void probe_start(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    static const char *const tags[] = {"T", NULL};
    struct qmtl_err e = {0};
    late_rc = h->stream_input(
        ctx,
        &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"},
        &e);
}

static const struct qmtl_plugin probe_plugin = {QMTL_PLUGIN_HEADER, .name = "probe",
                                                .setup = probe_setup, .on_start = probe_start};

START_TEST(test_declaration_errors)
{
    struct qmtl_err err = {0};
    struct qmtl_testkit_options opt = {.size = sizeof(opt),
                                       .params_yaml = "mode: fast\nwindow: 12.5\n"};
    struct qmtl_testkit *tk = qmtl_testkit_new(&probe_plugin, &opt, &err);
    ck_assert_msg(tk != NULL, "%s", err.msg);
    struct {
        int code;
        const char *sub;
    } want[] = {
        {1, ""},
        {QMTL_EINVAL, "invalid interval '1d'"},
        {QMTL_EINVAL, "period 10001 out of range"},
        {QMTL_EINVAL, "duplicate tag 'T'"},
        {QMTL_EINVAL, "spec size 4 is smaller than 8 (start it with QMTL_SPEC())"},
        {QMTL_EINVAL, "window 0 out of range"},
        {QMTL_EINVAL, "unknown input handle 77"},
        {QMTL_EINVAL, "unknown kind 'macd'"},
        {QMTL_EINVAL, "takes 2 input(s), got 1"},
        {QMTL_EINVAL, "unknown field 'vwap'"},
        {2, ""},
        {QMTL_EINVAL, "name already used"},
        {QMTL_EINVAL, "a name is required"},
        {QMTL_EINVAL, "params_json is not a JSON object"},
        {QMTL_EINVAL, "params_json is not a JSON object"},
        {QMTL_EINVAL, "at least one input"},
        {QMTL_EINVAL, "compute is required"},
        {QMTL_EINVAL, "on_late 7"},
        {QMTL_EINVAL, "unknown flags 0x10"},
        {QMTL_EINVAL, "buy_above -1 is below sell_below 1"},
        {QMTL_EINVAL, "unknown signal handle 55"},
        {QMTL_EINVAL, "match_mode 5"},
        {QMTL_EINVAL, "spec is NULL"},
    };
    ck_assert_int_eq(n_probes, (int)(sizeof(want) / sizeof(want[0])));
    for (int i = 0; i < n_probes; i++) {
        ck_assert_msg(probes[i].code == want[i].code, "probe %d: code %d, want %d (%s)", i,
                      probes[i].code, want[i].code, probes[i].msg);
        ck_assert_msg(strstr(probes[i].msg, want[i].sub) != NULL, "probe %d: '%s' lacks '%s'", i,
                      probes[i].msg, want[i].sub);
    }
    ck_assert_int_eq(late_rc, QMTL_ESTATE); /* declared from on_start, after setup */
    qmtl_testkit_free(tk);
}
END_TEST

static int fail_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    (void)ctx;
    (void)h;
    err->code = QMTL_EINVAL;
    snprintf(err->msg, sizeof(err->msg), "missing parameter 'symbol'");
    return QMTL_EINVAL;
}
static const struct qmtl_plugin failing = {QMTL_PLUGIN_HEADER, .name = "failing",
                                           .setup = fail_setup};

START_TEST(test_setup_failure)
{
    struct qmtl_err err = {0};
    ck_assert_ptr_null(qmtl_testkit_new(&failing, NULL, &err));
    ck_assert_msg(strstr(err.msg, "plugin 'failing'") &&
                      strstr(err.msg, "setup failed with QMTL_EINVAL (invalid argument): missing parameter 'symbol'"),
                  "%s", err.msg);
    struct qmtl_plugin bad = failing;
    bad.abi_major = 2;
    ck_assert_ptr_null(qmtl_testkit_new(&bad, NULL, &err));
    ck_assert_int_eq(err.code, QMTL_EABI);
    ck_assert_ptr_null(qmtl_testkit_load("/nonexistent/x.so", NULL, &err));
    struct qmtl_testkit_options opt = {.size = sizeof(opt), .params_yaml = "[1, 2]"};
    ck_assert_ptr_null(qmtl_testkit_new(&probe_plugin, &opt, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "params_yaml"));
}
END_TEST

START_TEST(test_code_hash_stable)
{
    char a[200], b[200], c[200];
    host_code_hash(ident, NULL, a, sizeof(a));
    host_code_hash(ident, NULL, b, sizeof(b));
    host_code_hash(other, NULL, c, sizeof(c));
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    /* the function's own bytes (its extent from the unwind table), not the build id */
    ck_assert_msg(strncmp(a, "fn:", 3) == 0 && strlen(a) == 3 + 64, "%s", a);
    host_code_hash(ident, "2.0", a, sizeof(a));
    ck_assert_str_eq(a, "version:2.0");
}
END_TEST


/* ---- strings a host must not trust, and the node cap */

static char logged[8][1200];
static int n_logged;

static void capture(enum log_level l, const char *line, void *arg)
{
    (void)l;
    (void)arg;
    if (n_logged < 8)
        snprintf(logged[n_logged++], sizeof(logged[0]), "%s", line);
}

static int hostile_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    h->log(ctx, QMTL_LOG_WARN, "hello\n2026-01-01T00:00:00.000Z ERROR [gateway] forged\x1b[31m");
    /* the whole message buffer, and no NUL in it: the host must stay inside it */
    memset(err->msg, 'A', sizeof(err->msg));
    err->code = QMTL_EINVAL;
    return QMTL_EINVAL;
}
static const struct qmtl_plugin hostile = {QMTL_PLUGIN_HEADER, .name = "hostile",
                                           .setup = hostile_setup};

START_TEST(test_untrusted_plugin_strings)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    n_logged = 0;
    log_set_sink(capture, NULL);
    char err[600], want[600];
    ck_assert_int_eq(host_add_strategy(&h, &hostile, NULL, NULL, err, sizeof(err)), -1);
    log_set_sink(NULL, NULL);
    char as[QMTL_ERR_MSG_MAX + 1];
    memset(as, 'A', QMTL_ERR_MSG_MAX);
    as[QMTL_ERR_MSG_MAX] = '\0';
    snprintf(want, sizeof(want), "plugin 'hostile' ((linked)): setup failed with QMTL_EINVAL (invalid argument): %s", as);
    ck_assert_str_eq(err, want);
    /* the log line stays one line: newline and escape sequence shown, not obeyed */
    ck_assert_int_ge(n_logged, 1);
    ck_assert_ptr_null(strchr(logged[0], '\n'));
    ck_assert_ptr_null(strchr(logged[0], '\x1b'));
    ck_assert_msg(strstr(logged[0], "hello\\n2026-01-01T00:00:00.000Z ERROR [gateway] "
                                    "forged\\x1b[31m"),
                  "%s", logged[0]);
    host_release(&h);
}
END_TEST

static int wide_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"T", NULL};
    qmtl_node prev = h->stream_input(
        ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"},
        err);
    for (int i = 0; prev > 0 && i < 20; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        prev = h->node(ctx,
                       &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = name,
                                                .inputs = {prev}, .compute = ident},
                       err);
    }
    return prev < 0 ? prev : QMTL_OK;
}
static const struct qmtl_plugin wide = {QMTL_PLUGIN_HEADER, .name = "wide", .setup = wide_setup};

START_TEST(test_max_nodes_per_strategy)
{
    struct host h;
    struct host_options o;
    host_options_default(&o);
    ck_assert_int_eq(o.max_nodes_per_strategy, HOST_MAX_NODES_DEFAULT);
    o.max_nodes_per_strategy = 8;
    ck_assert_int_eq(host_init(&h, &o), 0);
    log_set_sink(capture, NULL);
    char err[600];
    ck_assert_int_eq(host_add_strategy(&h, &wide, NULL, NULL, err, sizeof(err)), -1);
    log_set_sink(NULL, NULL);
    ck_assert_str_eq(err, "plugin 'wide' ((linked)): setup failed with QMTL_EINVAL (invalid argument): node 'n7': more than 8 "
                          "nodes in one strategy (host.max_nodes_per_strategy)");
    host_release(&h);
    o.max_nodes_per_strategy = 21;
    ck_assert_int_eq(host_init(&h, &o), 0);
    ck_assert_int_eq(host_add_strategy(&h, &wide, NULL, NULL, err, sizeof(err)), 0);
    host_release(&h);
}
END_TEST

static int twice_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"T", NULL};
    qmtl_node s = h->stream_input(
        ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"},
        err);
    qmtl_node a = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "x",
                                                   .inputs = {s}, .compute = ident},
                          err);
    if (a < 0)
        return a;
    return h->node(ctx,
                   &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "x", .inputs = {a},
                                            .compute = other},
                   err);
}
static const struct qmtl_plugin twice = {QMTL_PLUGIN_HEADER, .name = "twice",
                                         .setup = twice_setup};

START_TEST(test_custom_name_used_twice)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    log_set_sink(capture, NULL);
    char err[600];
    ck_assert_int_eq(host_add_strategy(&h, &twice, NULL, NULL, err, sizeof(err)), -1);
    log_set_sink(NULL, NULL);
    ck_assert_str_eq(err, "plugin 'twice' ((linked)): setup failed with QMTL_EINVAL (invalid argument): node 'x': name already "
                          "used in this strategy");
    host_release(&h);
}
END_TEST

/* Two strategies whose tag queries close a cycle only together: each matches the node the
 * other feeds from its query. The later one is stopped naming the nodes and the other
 * strategy; the first keeps running (its query simply sees the node it matched). */
static int cyc_pass(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}
static int cyc_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err,
                     const char *query, const char *tag, const char *qname, const char *nname)
{
    const char *q[] = {query, NULL}, *t[] = {tag, NULL};
    qmtl_node tq = h->tag_query(ctx,
                                &(struct qmtl_tag_query_spec){QMTL_SPEC(qmtl_tag_query_spec),
                                                              .name = qname, .query_tags = q,
                                                              .interval = "60s"},
                                err);
    if (tq < 0)
        return tq;
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = nname,
                                                   .inputs = {tq}, .compute = cyc_pass,
                                                   .tags = t},
                          err);
    return n < 0 ? n : QMTL_OK;
}
static int cyc_a(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return cyc_setup(ctx, h, err, "x", "y", "tq_a", "node_a");
}
static int cyc_b(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    return cyc_setup(ctx, h, err, "y", "x", "tq_b", "node_b");
}
static const struct qmtl_plugin cyc_plugin_a = {QMTL_PLUGIN_HEADER, .name = "cyc_a",
                                                .setup = cyc_a};
static const struct qmtl_plugin cyc_plugin_b = {QMTL_PLUGIN_HEADER, .name = "cyc_b",
                                                .setup = cyc_b};

START_TEST(test_tag_query_cycle_across_strategies)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    log_set_sink(capture, NULL);
    char err[600];
    ck_assert_int_eq(host_add_strategy(&h, &cyc_plugin_a, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(host_add_strategy(&h, &cyc_plugin_b, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_msg(host_finalize(&h, err, sizeof(err)) == 0, "%s", err);
    log_set_sink(NULL, NULL);
    ck_assert_int_eq(h.st[0]->stopped, 0);
    ck_assert_int_eq(h.st[1]->stopped, 1);
    ck_assert_str_eq(h.st[1]->error, "cycle through node 'tq_b': the tag query matches node "
                                     "'node_a' of strategy 'cyc_a', which depends on it");
    host_release(&h);
}
END_TEST

/* ---- ABI 1.1: specs from older headers, per-strategy state, code identity */

/* Declares the same stream and node twice: once with full specs whose tail fields are
 * the defaults, once with specs whose 'size' stops before a tail full of garbage. */
static char tail_ids[2][2][NODEID_LEN + 1];
static int tail_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"T", NULL};
    for (int round = 0; round < 2; round++) {
        struct qmtl_stream_spec ss = {QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"};
        struct qmtl_node_spec ns = {QMTL_SPEC(qmtl_node_spec), .name = round ? "short" : "full",
                                    .compute = ident};
        if (round) {
            ss.size = (uint32_t)offsetof(struct qmtl_stream_spec, period);
            ss.period = -5; /* not covered by size: read as 0 (default 1) */
            ns.size = (uint32_t)offsetof(struct qmtl_node_spec, state_size);
            ns.state_size = (size_t)1 << 40;
            ns.params_json = "not json";
            ns.on_late = 99;
            ns.allowed_lateness = -1;
            ns.code_version = "ignored";
        }
        qmtl_node px = h->stream_input(ctx, &ss, err);
        if (px < 0)
            return px;
        ns.inputs[0] = px;
        qmtl_node n = h->node(ctx, &ns, err);
        if (n < 0)
            return n;
        snprintf(tail_ids[round][0], sizeof(tail_ids[0][0]), "%s", h->node_id(ctx, px));
        snprintf(tail_ids[round][1], sizeof(tail_ids[0][1]), "%s", h->node_id(ctx, n));
    }
    return QMTL_OK;
}
static const struct qmtl_plugin tail_plugin = {QMTL_PLUGIN_HEADER, .name = "tail",
                                               .setup = tail_setup};

START_TEST(test_spec_smaller_size_takes_defaults)
{
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    char err[600];
    ck_assert_msg(host_add_strategy(&h, &tail_plugin, NULL, NULL, err, sizeof(err)) == 0, "%s",
                  err);
    /* same stream (period 1), and the short node has default state, policies and code */
    ck_assert_str_eq(tail_ids[1][0], tail_ids[0][0]);
    ck_assert_str_eq(tail_ids[1][1], tail_ids[0][1]); /* names are not identity */
    for (size_t i = 0; i < h.st[0]->ctx.n; i++) {
        const struct graph_node *n = graph_node(h.g, h.st[0]->ctx.nodes[i]);
        if (n->kind == GRAPH_STREAM)
            ck_assert_int_eq(n->period, 1);
        if (n->kind != GRAPH_CUSTOM)
            continue;
        ck_assert_uint_eq(n->state_size, 0);
        ck_assert_int_eq(n->on_late, QMTL_LATE_RECOMPUTE);
        ck_assert_int_eq(n->allowed_lateness, 0);
        ck_assert_ptr_null(strstr(n->code_hash, "ignored"));
    }
    host_release(&h);
}
END_TEST

struct band {
    double scale;
    int64_t seen;
};

/* out = latest * the strategy's scale, read from the strategy state (not a static) */
static int scaled(const struct qmtl_view *v, struct qmtl_value *out)
{
    struct band *b = v->host->strategy_state(v->ctx);
    b->seen++;
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0) * b->scale);
    return QMTL_OK;
}

static double finished_scale;
static int64_t finished_seen;
static int state_setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
{
    static const char *const tags[] = {"S", NULL};
    ck_assert(QMTL_HOST_HAS(h, strategy_state));
    struct band *b = h->strategy_state(ctx);
    ck_assert_ptr_nonnull(b);
    ck_assert(b->scale == 0 && b->seen == 0); /* zeroed */
    b->scale = h->config_number(ctx, "scale", 1);
    char params[64];
    snprintf(params, sizeof(params), "{\"scale\": %g}", b->scale);
    qmtl_node px = h->stream_input(
        ctx, &(struct qmtl_stream_spec){QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m"},
        err);
    if (px < 0)
        return px;
    qmtl_node n = h->node(ctx,
                          &(struct qmtl_node_spec){QMTL_SPEC(qmtl_node_spec), .name = "scaled",
                                                   .inputs = {px}, .compute = scaled,
                                                   .params_json = params},
                          err);
    return n < 0 ? n : QMTL_OK;
}
static void state_finish(struct qmtl_ctx *ctx, const struct qmtl_host *h)
{
    const struct band *b = h->strategy_state(ctx);
    finished_scale = b->scale;
    finished_seen = b->seen;
}
static const struct qmtl_plugin state_plugin = {QMTL_PLUGIN_HEADER, .name = "stateful",
                                                .setup = state_setup, .on_finish = state_finish,
                                                .state_size = sizeof(struct band)};

START_TEST(test_strategy_state)
{
    struct qmtl_err err = {0};
    /* two instances with their own parameters: each sees its own state */
    const char *yaml[2] = {"scale: 2\n", "scale: 3\n"};
    struct qmtl_testkit *tk[2];
    for (int i = 0; i < 2; i++) {
        struct qmtl_testkit_options opt = {.size = sizeof(opt), .params_yaml = yaml[i]};
        tk[i] = qmtl_testkit_new(&state_plugin, &opt, &err);
        ck_assert_msg(tk[i] != NULL, "%s", err.msg);
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(qmtl_testkit_feed_value(tk[i], "S", 60, 10.0, &err), QMTL_OK);
        ck_assert_int_eq(qmtl_testkit_feed_value(tk[i], "S", 120, 11.0, &err), QMTL_OK);
    }
    ck_assert_double_eq(qmtl_testkit_last_number(tk[0], "scaled"), 22.0);
    ck_assert_double_eq(qmtl_testkit_last_number(tk[1], "scaled"), 33.0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(qmtl_testkit_finish(tk[i], &err), QMTL_OK);
        ck_assert_double_eq(finished_scale, i ? 3.0 : 2.0);
        ck_assert_int_eq(finished_seen, 2);
        qmtl_testkit_free(tk[i]);
    }
    /* no state asked: NULL; too much asked: refused before setup */
    struct host h;
    char e[600];
    ck_assert_int_eq(host_init(&h, NULL), 0);
    struct qmtl_plugin big = state_plugin;
    big.name = "big";
    big.state_size = HOST_STATE_MAX + 1;
    ck_assert_int_eq(host_add_strategy(&h, &big, NULL, NULL, e, sizeof(e)), -1);
    ck_assert_str_eq(e, "plugin 'big' ((linked)): state_size 67108865 larger than 67108864");
    ck_assert_int_eq(host_add_strategy(&h, &tail_plugin, NULL, NULL, e, sizeof(e)), 0);
    ck_assert_ptr_null(host_api_table()->strategy_state(&h.st[0]->ctx));
    host_release(&h);
}
END_TEST

/* The code hash and NodeID of custom node 'ident' in build 'variant' of the fixture. */
static void ident_of(const char *variant, char *hash, char *id)
{
    char path[512], err[600];
    const char *b = getenv("QMTL_BUILD");
    snprintf(path, sizeof(path), "%s/fixtures/ident_%s.so", b && *b ? b : "build", variant);
    struct plugin *p = NULL;
    ck_assert_msg(plugin_open(path, &p, err, sizeof(err)) == 0, "%s", err);
    struct host h;
    ck_assert_int_eq(host_init(&h, NULL), 0);
    ck_assert_msg(host_add_strategy(&h, p->desc, path, NULL, err, sizeof(err)) == 0, "%s", err);
    hash[0] = id[0] = '\0';
    for (size_t i = 0; i < h.st[0]->ctx.n; i++) {
        const struct graph_node *n = graph_node(h.g, h.st[0]->ctx.nodes[i]);
        if (strcmp(n->label, "ident") == 0) {
            snprintf(hash, 200, "%s", n->code_hash);
            snprintf(id, NODEID_LEN + 1, "%s", n->id);
        }
    }
    host_release(&h);
    plugin_close(p);
    ck_assert_msg(id[0], "%s: no node 'ident'", variant);
}

START_TEST(test_custom_code_identity)
{
    char hb[200], he[200], hc[200], hp[200], hb2[200];
    char ib[NODEID_LEN + 1], ie[NODEID_LEN + 1], ic[NODEID_LEN + 1], ip[NODEID_LEN + 1],
        ib2[NODEID_LEN + 1];
    ident_of("base", hb, ib);
    ident_of("base", hb2, ib2); /* another private copy, mapped elsewhere */
    ident_of("extra", he, ie);
    ident_of("changed", hc, ic);
    ident_of("pinned", hp, ip);
    ck_assert_msg(strncmp(hb, "fn:", 3) == 0, "%s", hb);
    ck_assert_str_eq(ib2, ib);
    ck_assert_str_eq(ie, ib); /* another build, an unrelated function more: same NodeID */
    ck_assert_str_ne(ic, ib); /* the compute changed */
    ck_assert_str_eq(hp, "version:ident-1");
    ck_assert_str_ne(ip, ic); /* code_version overrides the bytes */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_api");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_interval);
    tcase_add_test(tc, test_check_tags);
    tcase_add_test(tc, test_declaration_errors);
    tcase_add_test(tc, test_setup_failure);
    tcase_add_test(tc, test_code_hash_stable);
    tcase_add_test(tc, test_untrusted_plugin_strings);
    tcase_add_test(tc, test_max_nodes_per_strategy);
    tcase_add_test(tc, test_custom_name_used_twice);
    tcase_add_test(tc, test_spec_smaller_size_takes_defaults);
    tcase_add_test(tc, test_strategy_state);
    tcase_add_test(tc, test_custom_code_identity);
    tcase_add_test(tc, test_tag_query_cycle_across_strategies);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
