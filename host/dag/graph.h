/*
 * graph: the host's one DAG of nodes from every loaded strategy.
 *
 * Each node has a NodeID (common/nodeid). Adding a node whose NodeID already exists
 * returns the existing node and adds the strategy as an owner (reference count), so
 * identical nodes of different strategies are one node, computed once. Nodes marked
 * private (order publishers) are never merged.
 *
 * graph_finalize() orders the nodes topologically (rank = 1 + max rank of inputs; ties
 * by NodeID, then by creation order), fills each node's 'pos' and the children edges,
 * and refuses cycles and unknown inputs. The scheduler evaluates nodes by 'pos'.
 *
 * The graph holds identity and topology only: a graph can be built, merged, copied and
 * ordered without a scheduler. What a node holds while it runs (rings, built-in and
 * custom state, wave fields, counters) is the runtime's (host/dag/runtime.h).
 */
#ifndef QMTL_HOST_GRAPH_H
#define QMTL_HOST_GRAPH_H

#include <jansson.h>
#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

#include "nodeid.h"

/*
 * schema_compat_id of every host node: the reference's value for a node without a
 * schema (sha256 of "{}"), so the ids the host computes are the ones the gateway and the
 * DAG manager recompute from a submission.
 */
#define GRAPH_SCHEMA_COMPAT "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

enum graph_kind {
    GRAPH_STREAM = 0,
    GRAPH_TAG_QUERY,
    GRAPH_INDICATOR,
    GRAPH_CUSTOM,
    GRAPH_SIGNAL,
    GRAPH_ORDER,
    /* an indicator or custom node another host computes: never computed here, its values
     * come from the bus (host/online/bus.h) through sched_feed, like a stream's */
    GRAPH_REMOTE
};

#define GRAPH_NONE UINT32_MAX

struct graph_edge {
    uint32_t node; /* child's index */
    uint32_t slot; /* input slot in the child */
};

struct plugin_instance;

/*
 * What a custom node calls, for one owner (one per declaration, in declaration order).
 * Every binding holds a reference on its plugin instance (NULL for a descriptor linked
 * into the host). The node computes once with its primary binding, chosen by the
 * runtime (host/dag/runtime.h): the first one whose strategy still runs.
 */
struct graph_bind {
    uint32_t owner; /* strategy index */
    qmtl_compute_fn compute;
    const void *user;
    struct qmtl_ctx *ctx;
    struct plugin_instance *pi; /* a reference, or NULL */
};

/* A built-in indicator's parameters (its state is the runtime's). */
struct graph_builtin {
    int kind; /* enum builtin_kind */
    int32_t window;
    double alpha;
    int field; /* enum builtin_field */
};

/*
 * A node: identity, topology, policies and bindings. Nothing here changes while the DAG
 * runs (the runtime state is host/dag/runtime.h's), except 'kind' when another host
 * computes the node (GRAPH_REMOTE, host/online/bus.c).
 */
struct graph_node {
    uint32_t idx; /* creation index (stable) */
    uint32_t pos; /* evaluation position after graph_finalize */
    uint32_t rank;
    int kind; /* enum graph_kind */
    char id[NODEID_LEN + 1]; /* NodeID */
    const char *node_type;   /* e.g. "StreamInput", "sma", "CustomNode" (interned) */
    char *label;             /* display name (first declarer's) */
    const char *code_hash;   /* interned */
    char *params_json;       /* identity parameters as compact JSON text (NULL = none);
                              * text, not a json_t, to keep 10,000 nodes small */
    char **tags;             /* stream tags, or custom node tags (for tag queries) */
    uint32_t n_tags;
    int is_private;
    int64_t interval; /* seconds */
    int32_t period;
    uint32_t flags; /* QMTL_FIRE_ON_ANY */
    int32_t on_missing, on_late;
    int64_t allowed_lateness;
    size_t state_size; /* custom state (allocated by the runtime) */

    uint32_t *in; /* upstream indices, one per input slot (&in1 when one) */
    uint32_t in1;
    uint32_t n_in;
    struct graph_edge *out; /* children */
    uint32_t n_out, cap_out;

    /* owners: strategy indices, one per declaration */
    uint32_t *owners;
    uint32_t n_owners, cap_owners;
    /* custom nodes: one binding per owner (declaration order); owned */
    struct graph_bind *binds;
    uint32_t n_binds;

    int has_builtin; /* GRAPH_INDICATOR */
    struct graph_builtin builtin;
    union {      /* kind-specific, exclusive */
        struct { /* GRAPH_SIGNAL */
            double sig_buy_above, sig_sell_below, sig_size;
            int sig_long_only;
        };
        struct { /* GRAPH_ORDER */
            char *order_symbol;
            double order_quantity;
            uint32_t order_strategy;
        };
        struct { /* GRAPH_TAG_QUERY */
            char **query_tags;
            uint32_t n_query_tags;
            int match_mode;
        };
    };
};

struct graph;

/* What to add. Strings and arrays are borrowed (copied by graph_add). */
struct graph_desc {
    int kind;
    const char *node_type;
    const char *label;
    const json_t *params;   /* identity parameters (may be NULL) */
    const char *code_hash;  /* "" when none */
    const uint32_t *inputs; /* upstream indices */
    uint32_t n_inputs;
    int64_t interval;
    int32_t period;
    const char *const *tags; /* may be NULL */
    uint32_t n_tags;
    int is_private; /* never merged with an equal node */
};

struct graph *graph_new(void);
void graph_free(struct graph *g);

/*
 * Add a node for strategy 'owner'. On success returns 0, *idx the node and *created 1 when
 * new (the caller then fills the kind-specific fields) or 0 when an equal node existed.
 * -1 with a message in err (unknown input, NodeID failure, out of memory).
 */
int graph_add(struct graph *g, const struct graph_desc *d, uint32_t owner, uint32_t *idx,
              int *created, char *err, size_t errlen);

/*
 * Copy node 'src' (of another graph) into g, under the same NodeID, with 'inputs' (this
 * graph's indices; tag queries pass none and are resolved again). Owners and bindings
 * are copied through owner_map (old strategy index -> new index, GRAPH_NONE drops it);
 * each binding copied takes a reference on its plugin instance. Runtime state (rings,
 * built-in state, custom state, counters) is not the graph's: the caller moves it (see
 * host/dag/dag_swap.h). 0 and *idx, or -1 with err (out of memory, bad input).
 */
int graph_copy(struct graph *g, const struct graph_node *src, const uint32_t *inputs,
               uint32_t n_inputs, const uint32_t *owner_map, uint32_t *idx, char *err,
               size_t errlen);

/* Append a binding for a custom node (takes a reference on b->pi). 0, or -1 out of memory. */
int graph_bind_add(struct graph_node *n, const struct graph_bind *b);

/* Replace the inputs of a node (tag queries, tests). -1 on an unknown index. */
int graph_set_inputs(struct graph *g, uint32_t idx, const uint32_t *inputs, uint32_t n);

/* Order the graph (see above). 0, or -1 with "cycle through 'label' (id)" in err. */
int graph_finalize(struct graph *g, char *err, size_t errlen);

size_t graph_count(const struct graph *g);
struct graph_node *graph_node(const struct graph *g, uint32_t idx);
/* The node at evaluation position 'pos' (after graph_finalize). */
struct graph_node *graph_at(const struct graph *g, uint32_t pos);
/* Lookup by NodeID; NULL if none. */
struct graph_node *graph_find(const struct graph *g, const char *id);
/* Whether 'owner' owns the node. */
int graph_owned_by(const struct graph_node *n, uint32_t owner);

#endif
