/*
 * runtime: what the DAG holds while it runs, owned by the scheduler (host/dag/scheduler.h).
 *
 * The three owners of a node:
 *  - the graph (host/dag/graph.h): identity and topology (NodeID, kind, parameters,
 *    policies, inputs, children, owners) and the bindings (graph_bind: compute, user,
 *    ctx and a plugin instance reference per owner);
 *  - the runtime (this file): rings and their consumers, built-in state, custom state,
 *    wave fields, the failed flag, the owners still running, the primary binding a
 *    custom node computes with, side outputs and counters;
 *  - the plugin instance (host/plugin/plugin_instance.h): the loaded code.
 *
 * The runtime is built for one finalized graph (runtime_new) and lives in arrays
 * addressed by evaluation position: 'node' (hot, three cache lines per node: the wave,
 * the compute, the counters) and 'cold' (signal target, JSON copy, side output), and one
 * zeroed arena for every custom node's state, in evaluation order. A DAG swap builds a
 * new runtime for the staging graph and moves what stays into it (runtime_carry, by old
 * position -> new position through NodeID twins, host/dag/dag_swap.c).
 *
 * Rings: a node's emissions go to its outs (a stream's own history is outs[0]); each out
 * lists the (node, slot) pairs reading it; in_rings point into the upstreams' outs. The
 * runtime owns every ring in its outs, except one marked 'borrowed' by a swap in flight.
 */
#ifndef QMTL_HOST_RUNTIME_H
#define QMTL_HOST_RUNTIME_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dag/builtins.h"
#include "host/dag/fanin.h"
#include "host/dag/graph.h"
#include "host/dag/node_cache.h"

struct rt_node;

/* A consumer of a ring: the node and its input slot. */
struct rt_cons {
    struct rt_node *node;
    uint32_t slot;
};

/* A ring a node's emissions go to, and the (node, slot) pairs reading it. */
struct rt_out {
    struct nc_ring *ring;
    struct rt_cons *cons;
    uint32_t n_cons, cap_cons;
};

/* An item kept by on_late = side_output. */
struct rt_side_item {
    uint32_t slot;
    int64_t ts;
    struct qmtl_value value;
};

struct rt_counters {
    long computes, emits, skipped_missing, late_dropped, late_side;
    long deliveries;     /* items fed to a stream or remote node */
    uint64_t compute_ns; /* time spent in the plugin's compute (custom nodes) */
};

/*
 * Copied from the graph at runtime_new (identity the hot loop reads): kind, n_in,
 * fire_any (QMTL_FIRE_ON_ANY), interval, state. The rest of the identity is read through
 * 'node'. After the graph changes a node's kind (a node computed by another host,
 * host/online/bus.c), runtime_refresh copies it again.
 */
struct rt_node {
    /* line 1: the wave (read or written on every delivery) */
    uint32_t wave_mask;    /* inputs delivered in the current wave (bit per slot < 32) */
    uint32_t wave_trigger; /* first input slot delivered in the wave */
    int64_t wave_ts;       /* bucket delivered last in the wave */
    uint8_t wave_gap, wave_dup, wave_late;
    uint8_t same_interval; /* every input's interval is the node's: bucket = ts */
    uint8_t failed;
    uint8_t kind;     /* enum graph_kind */
    uint8_t fire_any; /* QMTL_FIRE_ON_ANY */
    uint8_t pad_;
    uint32_t live_owners; /* owners not stopped; 0 = the node is not evaluated */
    uint32_t n_in;
    struct nc_ring *in_ring1; /* input slot 0's ring */
    qmtl_compute_fn compute;  /* GRAPH_CUSTOM: the primary binding's */
    void *state;              /* custom node state (the runtime's state arena) */
    uint32_t pos;             /* evaluation position (index in the runtime's arrays) */
    uint32_t n_outs;

    /* line 2: the compute and its emission */
    struct nc_ring **in_rings; /* per input slot (owned by the upstreams' outs) */
    struct rt_out *outs;
    struct builtin *bi;       /* GRAPH_INDICATOR (owned) */
    const void *user;         /* the primary binding's */
    struct qmtl_ctx *ctx;     /* the primary binding's */
    int64_t interval;         /* seconds */
    int64_t last_fired;       /* bucket of the last aligned computation */
    struct qmtl_window *win;  /* per input slot: view copies when n_in > 1 */

    /* line 3: identity and counters */
    struct graph_node *node;
    struct rt_counters c;
} __attribute__((aligned(64)));

/* Cold per-node state: touched on signals, JSON results and late side outputs only. */
struct rt_cold {
    double sig_target; /* GRAPH_SIGNAL: the current target */
    char *json_out;    /* copy of the last JSON output */
    size_t json_cap;
    struct rt_side_item *side; /* side output, the newest 4096 kept */
    uint32_t n_side, cap_side;
    struct fanin *fanin; /* aligned fan-in of inputs apart (host/dag/fanin.h); NULL: none */
};

struct runtime {
    struct graph *g;
    uint32_t n;
    struct rt_node *node;   /* by evaluation position */
    struct rt_cold *cold;   /* by evaluation position */
    char *states;           /* custom states, evaluation order */
    uint32_t *pos_of;       /* creation index -> evaluation position */
    uint64_t gen; /* unique over the process, new at runtime_new and at each runtime_refresh
                   * (a node's kind changed): caches of the topology compare it */
};

/* Whether strategy 'owner' still runs (1) or was stopped (0). */
typedef int (*rt_live_fn)(void *arg, uint32_t owner);

/*
 * An existing ring to use instead of a new one, so that a DAG swap keeps the windows of
 * the nodes that stay (host/dag/dag_swap.h): asked for every ring with its upstream 'u', its
 * consumer 'x' and slot (x NULL: a stream's own history), capacity and sharing. Returns
 * a ring of that capacity and sharing whose items are u's emissions, or NULL for a new
 * one. The ring is then referenced by two runtimes; the caller settles which keeps it.
 */
typedef struct nc_ring *(*rt_adopt_fn)(void *arg, const struct graph_node *u,
                                       const struct graph_node *x, uint32_t slot,
                                       uint32_t cap, int shared);

struct rt_opts {
    rt_live_fn live; /* NULL: every owner runs */
    void *live_arg;
    rt_adopt_fn adopt; /* NULL: every ring new */
    void *adopt_arg;
};

/* The runtime of finalized graph g (which must outlive it). NULL with err on failure. */
struct runtime *runtime_new(struct graph *g, const struct rt_opts *o, char *err, size_t errlen);
/* Frees rings (not borrowed ones), built-in and custom states, side outputs. */
void runtime_free(struct runtime *rt);

/* The node of creation index 'idx'; NULL when out of range. */
static inline struct rt_node *runtime_node(const struct runtime *rt, uint32_t idx)
{
    return idx < rt->n ? &rt->node[rt->pos_of[idx]] : NULL;
}

/* Input slot i's window. */
static inline const struct qmtl_window *rt_input(const struct rt_node *n, uint32_t i)
{
    return &n->in_rings[i]->w;
}

/* Count the node's owners that run again and choose its primary binding: the first
 * binding whose owner runs, else the first one (after a strategy stopped). */
void runtime_owners_changed(struct runtime *rt, uint32_t idx, rt_live_fn live, void *arg);

/* Copy the node's kind from the graph again (see struct rt_node) and give the runtime a
 * new 'gen'; rt may be NULL. */
void runtime_refresh(struct runtime *rt, uint32_t idx);

/*
 * Move the runtime state of 'from' into 'to' (a DAG swap): for every position p of 'to'
 * with src[p] != GRAPH_NONE (a position of 'from', the node of the same NodeID): built-in
 * state, custom state (same size), counters, last_fired, failed, the signal target, the
 * side output and the fan-in history (same inputs). Rings both runtimes hold (borrowed) become to's; their upstream id is
 * to's node's. An indicator of 'to' that got no built-in state (a new node, or a twin that
 * had none: computed by another host) and whose input ring already holds items rebuilds
 * it from that ring. Cannot fail.
 */
void runtime_carry(struct runtime *to, struct runtime *from, const uint32_t *src);

/* Forget in every node the rings a swap borrowed (the other runtime keeps them). */
void runtime_drop_borrowed(struct runtime *rt);

/* Side output items of the node at creation index idx (*n items); NULL when none. */
const struct rt_side_item *runtime_side(const struct runtime *rt, uint32_t idx, uint32_t *n);

#endif
