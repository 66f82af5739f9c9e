/* explain: the DAG print shows each node's identity params and, for look-alike nodes
 * (same kind, type and name) that are not shared, which identity fields differ. */
#include "host/dag/explain.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pass_compute(const struct qmtl_view *v, struct qmtl_value *out)
{
    *out = qmtl_number(qmtl_window_number(&v->inputs[0], 0));
    return QMTL_OK;
}

/* price (tag T, 'interval') -> sma 'avg' (window) -> custom 'f' {"n": n} */
static int declare(struct qmtl_ctx *ctx, const struct qmtl_host *h, const char *interval,
                   int window, int n, struct qmtl_err *err)
{
    static const char *const tags[] = {"T", NULL};
    struct qmtl_stream_spec ss = {QMTL_SPEC(qmtl_stream_spec), .name = "price", .tags = tags,
                                  .interval = interval};
    qmtl_node px = h->stream_input(ctx, &ss, err);
    if (px < 0)
        return px;
    struct qmtl_indicator_spec is = {QMTL_SPEC(qmtl_indicator_spec), .kind = "sma", .name = "avg",
                                     .inputs = {px}, .window = window};
    qmtl_node avg = h->indicator(ctx, &is, err);
    if (avg < 0)
        return avg;
    char params[32];
    snprintf(params, sizeof(params), "{\"n\":%d}", n);
    struct qmtl_node_spec ns = {QMTL_SPEC(qmtl_node_spec), .name = "f",
                                .inputs = {avg},           .period = 1,
                                .compute = pass_compute,   .params_json = params};
    qmtl_node f = h->node(ctx, &ns, err);
    return f < 0 ? f : QMTL_OK;
}

static int setup_a(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return declare(c, h, "1m", 5, 5, e);
}
static int setup_b(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return declare(c, h, "1m", 5, 10, e); /* same price and avg (shared), other 'n' */
}
static int setup_c(struct qmtl_ctx *c, const struct qmtl_host *h, struct qmtl_err *e)
{
    return declare(c, h, "5m", 5, 5, e); /* another interval: nothing shared */
}

static const struct qmtl_plugin plug_a = {QMTL_PLUGIN_HEADER, .name = "a", .setup = setup_a};
static const struct qmtl_plugin plug_b = {QMTL_PLUGIN_HEADER, .name = "b", .setup = setup_b};
static const struct qmtl_plugin plug_c = {QMTL_PLUGIN_HEADER, .name = "c", .setup = setup_c};

static void start(struct host *h, const struct qmtl_plugin *const *plugs, size_t n)
{
    struct host_options o;
    host_options_default(&o);
    ck_assert_int_eq(host_init(h, &o), 0);
    char err[256];
    for (size_t i = 0; i < n; i++) {
        size_t idx;
        ck_assert_msg(host_add_strategy(h, plugs[i], "test", &idx, err, sizeof(err)) == 0, "%s",
                      err);
    }
    ck_assert_msg(host_finalize(h, err, sizeof(err)) == 0, "%s", err);
}

static char *text_of(const struct host *h)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    explain_text(f, h);
    fclose(f);
    return text;
}

/* The nth (0-based) node named 'name', in evaluation order. */
static const json_t *node_named(const json_t *doc, const char *name, int nth)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(doc, "nodes"), i, n)
    {
        if (strcmp(json_string_value(json_object_get(n, "name")), name) == 0 && nth-- == 0)
            return n;
    }
    return NULL;
}

START_TEST(params_are_shown)
{
    struct host h;
    const struct qmtl_plugin *const plugs[] = {&plug_a};
    start(&h, plugs, 1);
    char *text = text_of(&h);
    ck_assert_msg(strstr(text, "    params: {\"n\":5}\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "    params: {\"tags\":[\"T\"]}\n") != NULL, "%s", text);
    ck_assert_ptr_null(strstr(text, "not shared"));
    free(text);
    json_t *doc = explain_json(&h);
    ck_assert_int_eq(json_integer_value(
                         json_object_get(json_object_get(node_named(doc, "f", 0), "params"), "n")),
                     5);
    ck_assert_ptr_null(json_object_get(node_named(doc, "f", 0), "not_shared"));
    json_decref(doc);
    host_release(&h);
}
END_TEST

START_TEST(why_not_shared_params)
{
    struct host h;
    const struct qmtl_plugin *const plugs[] = {&plug_a, &plug_b};
    start(&h, plugs, 2);
    char *text = text_of(&h);
    /* price and avg are shared; f differs by its params only */
    ck_assert_msg(strstr(text, "DAG: 4 nodes, 2 strategies, 2 shared") != NULL, "%s", text);
    ck_assert_msg(strstr(text, ": params {\"n\":5} vs {\"n\":10}\n") != NULL ||
                      strstr(text, ": params {\"n\":10} vs {\"n\":5}\n") != NULL,
                  "%s", text);
    ck_assert_ptr_null(strstr(text, "code hash")); /* same compute function */
    free(text);
    json_t *doc = explain_json(&h);
    const json_t *second = node_named(doc, "f", 1);
    ck_assert_ptr_nonnull(second);
    const json_t *ns = json_object_get(second, "not_shared");
    ck_assert_ptr_nonnull(ns);
    ck_assert_uint_eq(json_array_size(json_object_get(ns, "reasons")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ns, "reasons"), 0)),
                     "params");
    ck_assert_str_eq(json_string_value(json_object_get(ns, "id")),
                     json_string_value(json_object_get(node_named(doc, "f", 0), "id")));
    json_decref(doc);
    host_release(&h);
}
END_TEST

START_TEST(why_not_shared_interval_and_inputs)
{
    struct host h;
    const struct qmtl_plugin *const plugs[] = {&plug_a, &plug_c};
    start(&h, plugs, 2);
    char *text = text_of(&h);
    ck_assert_msg(strstr(text, "DAG: 6 nodes, 2 strategies, 0 shared") != NULL, "%s", text);
    /* the streams differ by interval; avg and f by interval and by their inputs */
    ck_assert_msg(strstr(text, ": interval 60s vs 300s\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, ": interval 60s vs 300s; inputs [") != NULL, "%s", text);
    free(text);
    json_t *doc = explain_json(&h);
    const json_t *r =
        json_object_get(json_object_get(node_named(doc, "avg", 1), "not_shared"), "reasons");
    ck_assert_uint_eq(json_array_size(r), 2);
    ck_assert_str_eq(json_string_value(json_array_get(r, 0)), "interval");
    ck_assert_str_eq(json_string_value(json_array_get(r, 1)), "inputs");
    json_decref(doc);
    /* explain_diff on its own: each field is a bit */
    const struct graph_node *f1 = NULL, *f2 = NULL;
    for (uint32_t p = 0; p < graph_count(h.g); p++) {
        const struct graph_node *x = graph_at(h.g, p);
        if (strcmp(x->label, "f") == 0)
            *(f1 ? &f2 : &f1) = x;
    }
    ck_assert_ptr_nonnull(f2);
    char why[300];
    ck_assert_uint_eq(explain_diff(&h, f1, f2, why, sizeof(why)),
                      EXPLAIN_DIFF_INTERVAL | EXPLAIN_DIFF_INPUTS);
    ck_assert_uint_eq(explain_diff(&h, f1, f1, why, sizeof(why)), 0);
    ck_assert_str_eq(why, "");
    char tiny[8];
    explain_diff(&h, f1, f2, tiny, sizeof(tiny)); /* truncated, still terminated */
    ck_assert_uint_eq(strlen(tiny), 7);
    host_release(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("explain");
    tcase_add_test(tc, params_are_shown);
    tcase_add_test(tc, why_not_shared_params);
    tcase_add_test(tc, why_not_shared_interval_and_inputs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
