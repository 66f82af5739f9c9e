/* graph: NodeIDs, sharing with owners, private nodes, evaluation order, cycles. */
#include "host/dag/graph.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static uint32_t add(struct graph *g, const char *type, const uint32_t *in, uint32_t n_in,
                    uint32_t owner, int is_private, int *created)
{
    struct graph_desc d = {.kind = GRAPH_INDICATOR,
                           .node_type = type,
                           .label = type,
                           .code_hash = "c",
                           .inputs = in,
                           .n_inputs = n_in,
                           .interval = 60,
                           .period = 2,
                           .is_private = is_private};
    uint32_t idx;
    char err[200];
    int c;
    ck_assert_msg(graph_add(g, &d, owner, &idx, &c, err, sizeof(err)) == 0, "%s", err);
    if (created)
        *created = c;
    return idx;
}

START_TEST(test_nodeid_and_sharing)
{
    struct graph *g = graph_new();
    int created;
    uint32_t a = add(g, "src", NULL, 0, 0, 0, &created);
    ck_assert_int_eq(created, 1);
    uint32_t b = add(g, "src", NULL, 0, 1, 0, &created); /* same identity, other strategy */
    ck_assert_int_eq(created, 0);
    ck_assert_uint_eq(a, b);
    struct graph_node *n = graph_node(g, a);
    ck_assert_uint_eq(n->n_owners, 2);
    ck_assert(graph_owned_by(n, 1));
    ck_assert(!graph_owned_by(n, 2));
    ck_assert_int_eq(strncmp(n->id, "blake3:", 7), 0);
    ck_assert_uint_eq(strlen(n->id), NODEID_LEN);
    ck_assert_ptr_eq(graph_find(g, n->id), n);
    /* the NodeID is the canonical hash of the fields (checked against common/nodeid) */
    struct nodeid_fields f = {.node_type = "src",
                              .interval = 60,
                              .period = 2,
                              .params = NULL,
                              .schema_compat_id = GRAPH_SCHEMA_COMPAT,
                              .code_hash = "c"};
    char want[NODEID_LEN + 1], err[128];
    ck_assert_int_eq(nodeid_compute(&f, want, err, sizeof(err)), 0);
    ck_assert_str_eq(n->id, want);
    /* an input makes a different node; equal inputs share again */
    uint32_t c1 = add(g, "f", &a, 1, 0, 0, &created);
    uint32_t c2 = add(g, "f", &a, 1, 1, 0, &created);
    ck_assert_uint_eq(c1, c2);
    ck_assert_uint_ne(c1, a);
    /* private nodes never merge */
    uint32_t p1 = add(g, "order", &c1, 1, 0, 1, &created);
    uint32_t p2 = add(g, "order", &c1, 1, 1, 1, &created);
    ck_assert_int_eq(created, 1);
    ck_assert_uint_ne(p1, p2);
    ck_assert_str_eq(graph_node(g, p1)->id, graph_node(g, p2)->id);
    ck_assert_uint_eq(graph_count(g), 4);
    graph_free(g);
}
END_TEST

START_TEST(test_order_rank_then_id)
{
    struct graph *g = graph_new();
    uint32_t s1 = add(g, "s1", NULL, 0, 0, 0, NULL);
    uint32_t s2 = add(g, "s2", NULL, 0, 0, 0, NULL);
    uint32_t both[2] = {s1, s2};
    uint32_t j = add(g, "join", both, 2, 0, 0, NULL);
    uint32_t k1 = add(g, "k1", &s2, 1, 0, 0, NULL);
    uint32_t k2 = add(g, "k2", &j, 1, 0, 0, NULL);
    char err[200];
    ck_assert_msg(graph_finalize(g, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(graph_node(g, s1)->rank, 0);
    ck_assert_uint_eq(graph_node(g, j)->rank, 1);
    ck_assert_uint_eq(graph_node(g, k1)->rank, 1);
    ck_assert_uint_eq(graph_node(g, k2)->rank, 2);
    /* ascending rank; within a rank ascending NodeID */
    for (uint32_t p = 1; p < graph_count(g); p++) {
        struct graph_node *a = graph_at(g, p - 1), *b = graph_at(g, p);
        ck_assert(a->rank < b->rank || (a->rank == b->rank && strcmp(a->id, b->id) < 0));
        ck_assert_uint_eq(b->pos, p);
    }
    /* children edges */
    struct graph_node *n2 = graph_node(g, s2);
    ck_assert_uint_eq(n2->n_out, 2);
    graph_free(g);
}
END_TEST

START_TEST(test_cycle_and_unknown)
{
    struct graph *g = graph_new();
    uint32_t a = add(g, "a", NULL, 0, 0, 0, NULL);
    uint32_t b = add(g, "b", &a, 1, 0, 0, NULL);
    uint32_t c = add(g, "c", &b, 1, 0, 0, NULL);
    /* rewire a to read c: a -> b -> c -> a */
    ck_assert_int_eq(graph_set_inputs(g, a, &c, 1), 0);
    char err[200];
    ck_assert_int_eq(graph_finalize(g, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cycle through node") != NULL, "%s", err);
    uint32_t bad = 99;
    ck_assert_int_eq(graph_set_inputs(g, a, &bad, 1), -1);
    ck_assert_int_eq(graph_set_inputs(g, 99, &a, 1), -1);
    struct graph_desc d = {.kind = GRAPH_INDICATOR,
                           .node_type = "x",
                           .inputs = &bad,
                           .n_inputs = 1,
                           .interval = 1,
                           .period = 1};
    uint32_t idx;
    int created;
    ck_assert_int_eq(graph_add(g, &d, 0, &idx, &created, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "unknown input") != NULL, "%s", err);
    graph_free(g);
}
END_TEST

/* The graph alone (no scheduler, no runtime): a copy keeps every identity field, the
 * policies, the built-in's parameters, the kind-specific fields and the bindings. */
static int noop_compute(const struct qmtl_view *v, struct qmtl_value *out)
{
    (void)v;
    *out = qmtl_none();
    return 0;
}

START_TEST(test_identity_without_runtime)
{
    struct graph *g = graph_new();
    uint32_t src = add(g, "src", NULL, 0, 0, 0, NULL);
    uint32_t ind = add(g, "sma", &src, 1, 0, 0, NULL);
    struct graph_node *n = graph_node(g, ind);
    n->has_builtin = 1;
    n->builtin = (struct graph_builtin){.kind = 3, .window = 7, .alpha = 0.5, .field = 2};
    n->flags = QMTL_FIRE_ON_ANY;
    n->on_missing = QMTL_MISSING_FAIL;
    n->on_late = QMTL_LATE_SIDE_OUTPUT;
    n->allowed_lateness = 120;
    n->state_size = 24;
    struct graph_bind b = {.owner = 1, .compute = noop_compute, .user = &b};
    ck_assert_int_eq(graph_bind_add(n, &b), 0);
    uint32_t again = add(g, "sma", &src, 1, 1, 0, NULL); /* a second owner */
    ck_assert_uint_eq(again, ind);
    char err[200];
    ck_assert_msg(graph_finalize(g, err, sizeof(err)) == 0, "%s", err);

    struct graph *c = graph_new();
    uint32_t owner_map[2] = {1, 0}; /* owners renumbered */
    uint32_t csrc, cind;
    ck_assert_msg(graph_copy(c, graph_node(g, src), NULL, 0, owner_map, &csrc, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_msg(graph_copy(c, n, &csrc, 1, owner_map, &cind, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(graph_finalize(c, err, sizeof(err)) == 0, "%s", err);
    const struct graph_node *y = graph_node(c, cind);
    ck_assert_str_eq(y->id, n->id);
    ck_assert_ptr_eq(graph_find(c, n->id), y);
    ck_assert_int_eq(y->kind, GRAPH_INDICATOR);
    ck_assert_str_eq(y->node_type, "sma");
    ck_assert_str_eq(y->label, "sma");
    ck_assert_str_eq(y->code_hash, "c");
    ck_assert_int_eq(y->interval, 60);
    ck_assert_int_eq(y->period, 2);
    ck_assert_int_eq(y->has_builtin, 1);
    ck_assert_int_eq(y->builtin.kind, 3);
    ck_assert_int_eq(y->builtin.window, 7);
    ck_assert(y->builtin.alpha == 0.5);
    ck_assert_int_eq(y->builtin.field, 2);
    ck_assert_uint_eq(y->flags, QMTL_FIRE_ON_ANY);
    ck_assert_int_eq(y->on_missing, QMTL_MISSING_FAIL);
    ck_assert_int_eq(y->on_late, QMTL_LATE_SIDE_OUTPUT);
    ck_assert_int_eq(y->allowed_lateness, 120);
    ck_assert_uint_eq(y->state_size, 24);
    ck_assert_uint_eq(y->n_in, 1);
    ck_assert_uint_eq(y->in[0], csrc);
    ck_assert_uint_eq(graph_node(c, csrc)->n_out, 1);
    ck_assert_uint_eq(y->n_owners, 2);
    ck_assert(graph_owned_by(y, 1) && graph_owned_by(y, 0));
    ck_assert_uint_eq(y->n_binds, 1);
    ck_assert_uint_eq(y->binds[0].owner, 0);
    ck_assert_ptr_eq((void *)y->binds[0].compute, (void *)noop_compute);
    ck_assert_ptr_eq(y->binds[0].user, &b);
    graph_free(c);
    graph_free(g);
}
END_TEST

START_TEST(test_many_nodes_hash_table)
{
    struct graph *g = graph_new();
    char name[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        add(g, name, NULL, 0, 0, 0, NULL);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        int created;
        uint32_t idx = add(g, name, NULL, 0, 1, 0, &created);
        ck_assert_int_eq(created, 0);
        ck_assert_uint_eq(idx, (uint32_t)i);
    }
    ck_assert_uint_eq(graph_count(g), 3000);
    graph_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_nodeid_and_sharing);
    tcase_add_test(tc, test_order_rank_then_id);
    tcase_add_test(tc, test_cycle_and_unknown);
    tcase_add_test(tc, test_many_nodes_hash_table);
    tcase_add_test(tc, test_identity_without_runtime);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
