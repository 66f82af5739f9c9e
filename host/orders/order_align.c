/* order_align: bars and signals of a publisher in one-process order (see order_align.h). */
#include "host/orders/order_align.h"

#include <stdlib.h>
#include <string.h>

#include "host/dag/graph.h"
#include "host/dag/runtime.h"

struct order_align *oa_new(const char *node_id)
{
    struct order_align *a = calloc(1, sizeof(*a));
    if (!a || !(a->node_id = strdup(node_id))) {
        free(a);
        return NULL;
    }
    a->price_newest = INT64_MIN;
    a->bar_key = INT64_MIN;
    return a;
}

void oa_free(struct order_align *a)
{
    if (!a)
        return;
    free(a->bars.it);
    free(a->sigs.it);
    free(a->src);
    free(a->node_id);
    free(a);
}

uint32_t oa_held(const struct order_align *a)
{
    return a->bars.n + a->sigs.n;
}

/* ------------------------------------------------------------------ FIFOs */

static struct oa_item *fifo_front(struct oa_fifo *f)
{
    return f->n ? &f->it[f->head] : NULL;
}

static void fifo_pop(struct oa_fifo *f, struct oa_item *out)
{
    *out = f->it[f->head];
    f->head = f->head + 1 == f->cap ? 0 : f->head + 1;
    f->n--;
}

/* Room for one more item (the ring doubles up to OA_HOLD). 0, or -1 when full. */
static int fifo_room(struct oa_fifo *f)
{
    if (f->n < f->cap)
        return 0;
    if (f->cap >= OA_HOLD)
        return -1;
    uint32_t nc = f->cap ? f->cap * 2 : 16;
    struct oa_item *p = malloc(nc * sizeof(*p));
    if (!p)
        return -1;
    for (uint32_t i = 0; i < f->n; i++)
        p[i] = f->it[(f->head + i) % f->cap];
    free(f->it);
    f->it = p;
    f->head = 0;
    f->cap = nc;
    return 0;
}

static void fifo_push(struct oa_fifo *f, const struct oa_item *x)
{
    f->it[(f->head + f->n) % f->cap] = *x;
    f->n++;
}

/* ------------------------------------------------------------------ the signal side */

/* The remote nodes upstream of the publisher's signal input (a remote node's own inputs
 * are not followed: its values come from elsewhere). The host's own streams are not
 * counted: its data sources are fed in bucket order already, as on one host. */
static int find_sources(struct order_align *a, const struct graph *g, const struct graph_node *pub)
{
    size_t n = graph_count(g);
    unsigned char *seen = calloc(n ? n : 1, 1);
    uint32_t *stack = malloc((n ? n : 1) * sizeof(*stack));
    uint32_t *src = malloc((n ? n : 1) * sizeof(*src));
    if (!seen || !stack || !src) {
        free(seen);
        free(stack);
        free(src);
        return -1;
    }
    size_t top = 0, k = 0;
    if (pub->n_in > 0) {
        stack[top++] = pub->in[0];
        seen[pub->in[0]] = 1;
    }
    while (top) {
        const struct graph_node *x = graph_node((struct graph *)g, stack[--top]);
        if (x->kind == GRAPH_REMOTE)
            src[k++] = x->idx;
        if (x->kind == GRAPH_STREAM || x->kind == GRAPH_REMOTE)
            continue;
        for (uint32_t i = 0; i < x->n_in; i++)
            if (x->in[i] < n && !seen[x->in[i]]) {
                seen[x->in[i]] = 1;
                stack[top++] = x->in[i];
            }
    }
    free(seen);
    free(stack);
    free(a->src);
    a->src = src;
    a->n_src = (uint32_t)k;
    return 0;
}

int64_t oa_progress(struct order_align *a, const struct graph *g, const struct runtime *rt,
                    const struct graph_node *pub)
{
    if (!rt)
        return INT64_MAX;
    if (a->rt != rt || a->gen != rt->gen || !a->src) {
        if (find_sources(a, g, pub) < 0)
            return INT64_MAX; /* out of memory: nothing waits */
        a->rt = rt;
        a->gen = rt->gen;
    }
    int64_t p = INT64_MAX;
    for (uint32_t i = 0; i < a->n_src; i++) {
        const struct rt_node *x = runtime_node(rt, a->src[i]);
        int64_t newest = x && x->n_outs ? x->outs[0].ring->newest : INT64_MIN;
        if (newest < p)
            p = newest;
    }
    return p;
}

/* ------------------------------------------------------------------ hand over */

static void give_bar(struct order_align *a, const struct oa_item *x, const struct oa_ops *ops)
{
    a->bar = x->u.bar;
    a->have_bar = 1;
    a->bar_key = x->key;
    ops->bar(ops->arg, x->ts, &x->u.bar);
}

static void give_sig(struct order_align *a, const struct oa_item *x, int missed,
                     const struct oa_ops *ops)
{
    if (missed)
        a->missed++;
    ops->signal(ops->arg, x->ts, &x->u.sig, a->have_bar ? &a->bar : NULL, missed);
}

/* Hand over what is due: bars the signal side passed, signals the price stream passed,
 * merged by key (a bar first on a tie). 'all': everything. */
static void drain(struct order_align *a, int64_t progress, int all, const struct oa_ops *ops)
{
    struct oa_item x;
    for (;;) {
        struct oa_item *b = fifo_front(&a->bars), *s = fifo_front(&a->sigs);
        if (b && (!s || b->key <= s->key)) {
            if (!all && b->key > progress)
                return;
            fifo_pop(&a->bars, &x);
            give_bar(a, &x, ops);
        } else if (s) {
            if (!all && s->key > a->price_newest)
                return;
            fifo_pop(&a->sigs, &x);
            give_sig(a, &x, 0, ops);
        } else {
            return;
        }
    }
}

void oa_step(struct order_align *a, const struct qmtl_bar *bar, int64_t bar_key,
             const struct qmtl_value *sig, int64_t key, int64_t ts, int64_t price_newest,
             int64_t progress, const struct oa_ops *ops)
{
    struct oa_item x;
    if (price_newest > a->price_newest)
        a->price_newest = price_newest;
    if (bar) {
        x = (struct oa_item){.key = bar_key, .ts = ts, .u.bar = *bar};
        if (fifo_room(&a->bars) < 0) { /* the signal side is too far behind: let one go */
            struct oa_item old;
            fifo_pop(&a->bars, &old);
            a->forced++;
            /* signals held before it are due first */
            while (a->sigs.n && a->sigs.it[a->sigs.head].key < old.key) {
                struct oa_item sx;
                fifo_pop(&a->sigs, &sx);
                give_sig(a, &sx, 0, ops);
            }
            give_bar(a, &old, ops);
        }
        fifo_push(&a->bars, &x);
    }
    if (sig) {
        x = (struct oa_item){.key = key, .ts = ts, .u.sig = *sig};
        if (x.u.sig.type == QMTL_T_JSON)
            x.u.sig = qmtl_none(); /* never a price signal; its text is not kept */
        if (a->bar_key != INT64_MIN && key < a->bar_key) {
            give_sig(a, &x, 1, ops); /* its bar was let go already */
        } else if (fifo_room(&a->sigs) < 0) {
            struct oa_item old;
            fifo_pop(&a->sigs, &old);
            give_sig(a, &old, 1, ops); /* waited too long for its bar */
            fifo_push(&a->sigs, &x);
        } else {
            fifo_push(&a->sigs, &x);
        }
    }
    drain(a, progress, 0, ops);
}

void oa_flush(struct order_align *a, const struct oa_ops *ops)
{
    drain(a, INT64_MAX, 1, ops);
}
