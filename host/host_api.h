/*
 * host_api: the services table a plugin's setup() and computes call ('struct qmtl_host'),
 * the per-strategy context ('struct qmtl_ctx'), and 'struct host', which ties the
 * strategies, the graph, the scheduler, the gate and the simulated brokers together.
 * The runner (qmtl run) and the testkit both drive a 'struct host'.
 *
 * Lifecycle:
 *     host_init(&h, &opt);
 *     host_add_strategy(&h, desc, path, &idx, err, len);  // runs setup(), per strategy
 *     host_finalize(&h, err, len);     // tag queries, topological order, caches, on_start
 *     host_feed(&h, tags, n, ts, &value);   // many times, in time order
 *     host_add_strategy_from / host_remove_strategy / host_replace_strategy  // between events
 *     host_finish(&h);                 // on_finish
 *     host_release(&h);
 *
 * Validation done here (each refusal returns QMTL_EINVAL with a message in qmtl_err):
 * interval "N" | "Ns" | "Nm" | "Nh" in 1..86400 s; period 1..10000 (0 = default);
 * tags 1..32 of [A-Za-z0-9_.-], 1..100 chars, no duplicates; names <= 200 chars;
 * input handles must be this strategy's; node functions outside setup() give QMTL_ESTATE.
 *
 * Domains and the gate (host/orders/gate.h): offline runs are the backtest domain, where every
 * order goes to the strategy's simulated broker and never leaves the process. In dryrun
 * an order passes the gate to the simulated broker (and the order log); in live it passes
 * the gate to h->live_sink (attached mode: POST /orders, see live_orders.h; none: counted
 * as blocked). Orders the gate refuses are counted in 'blocked'.
 */
#ifndef QMTL_HOST_HOST_API_H
#define QMTL_HOST_HOST_API_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host/orders/broker.h"
#include "host/orders/gate.h"
#include "host/orders/order_align.h"
#include "host/dag/graph.h"
#include "host/orders/risk.h"
#include "host/online/metrics.h"
#include "host/dag/route.h"
#include "host/dag/scheduler.h"

struct host;

struct qmtl_ctx {
    struct host *h;
    uint32_t strat;  /* index in h->st */
    uint32_t *nodes; /* handle k (1-based) -> graph index nodes[k - 1] */
    char **names;    /* handle names; NULL = the node's label (see host_handle_name) */
    size_t n, cap;
    int in_setup;
    char **custom; /* set of the custom node names declared (owned; see host_api.c) */
    size_t n_custom, cap_custom;
};

struct host_strategy {
    char *name;
    char *path; /* plugin path, or "(linked)" */
    const struct qmtl_plugin *desc;
    struct qmtl_ctx ctx;
    struct broker *broker;
    int stopped; /* setup failed, or a node failed: nothing of it runs any more */
    int setup_failed;
    char error[320]; /* why it stopped */
    long signals, orders, fills, blocked;
    long bars_at_stop; /* bars processed when it stopped */
    struct gate gate;  /* activation per side (closed until known) */
    int started, finished;
    void *state; /* the descriptor's state_size bytes (ABI 1.1), zeroed; NULL when 0; owned */
    uint64_t signal_stamp; /* orders.c: last signal emission it was stamped for */
    long order_seq;        /* orders sent so far: the client_order_id sequence */
    long expired;          /* open orders canceled or expired without (full) fills */
    long rejected_broker;  /* orders the broker (gateway, connector) rejected */
    struct risk risk;      /* pre-trade limits and refusals (orders.c sets it up lazily) */
    int risk_ready;
    struct plugin_instance *pi; /* the loaded .so (a reference), or NULL when the caller
                                 * keeps the descriptor mapped (linked, legacy callers) */
    struct order_align **aligns; /* per order publisher: what it holds (order_align.h) */
    size_t n_aligns;
};

/* HOST_BLOCKED: attached to a world whose domain sends no orders (backtest, shadow):
 * every order is counted as blocked by the gate. */
enum host_domain { HOST_BACKTEST = 0, HOST_DRYRUN, HOST_LIVE, HOST_BLOCKED };

struct host_options {
    double initial_cash; /* 100000 */
    double fee_bps;      /* 0 */
    double slippage_bps; /* 0 */
    int domain;          /* enum host_domain; offline = HOST_BACKTEST */
    long max_nodes_per_strategy; /* node handles one setup() may declare (<= 0: default) */
    int fill_at; /* enum host_fill_at: when the simulated broker fills market orders */
    struct risk_limits risk; /* host-wide pre-trade limits (0 = none) */
};

/* broker.fill_at: next_open (default: the next bar's open, no look-ahead) or close (the
 * bar the decision was made on, the optimistic model kept as an option). */
enum host_fill_at { HOST_FILL_NEXT_OPEN = 0, HOST_FILL_CLOSE = 1 };

#define HOST_MAX_NODES_DEFAULT 1000000L

struct host_param {
    char *strategy, *key, *value;
    int used; /* read by the strategy (config_string/config_number), or consumed by a sweep */
};

/* Called for every value a node emits (optional; the testkit records them). */
typedef void (*host_output_fn)(void *arg, struct graph_node *n, int64_t ts,
                               const struct qmtl_value *v);

struct host {
    struct graph *g;
    struct sched *s;
    struct host_strategy **st;
    size_t n_st, cap_st;
    struct host_options opt;
    struct host_param *params;
    size_t n_params;
    struct host_route *routes; /* host/dag/route.h: indices stay valid for the host's life */
    size_t n_routes, last_route;
    host_output_fn on_output;
    void *output_arg;
    int finalized;
    uint64_t events;   /* items fed */
    uint64_t unrouted; /* items that matched no stream */
    int in_setup;      /* index + 1 of the strategy whose setup() runs, else 0 */
    const char *setup_name; /* its name (also for a strategy staged by a DAG swap) */
    FILE *order_log;   /* optional: one line per order and fill (deterministic text) */
    /* live domain: where orders that passed the gate go (NULL: none, they are blocked);
     * 'client_order_id' is the host's id of the order (orders.h) */
    int (*live_sink)(void *arg, const char *strategy, const char *symbol, int64_t ts,
                     const struct qmtl_order *o, const char *client_order_id);
    void *live_arg;
    uint64_t signal_stamp; /* orders.c: signal emissions so far (fan-out stamps) */
    struct host_param *risk_overrides; /* risk.strategies.<name>.<key> (host_set_risk_limit) */
    size_t n_risk_overrides;
    int killed;            /* host_kill(): flattened, no new order leaves */
    char kill_reason[200];
    struct host_metrics metrics; /* counters for /metrics and /health (host/online/metrics.h) */
};

void host_options_default(struct host_options *o);
int host_init(struct host *h, const struct host_options *o);
void host_release(struct host *h);

/* A strategy parameter (host.strategies.<strategy>.<key>); a second value for the same
 * strategy and key replaces the first. 0 or -1. */
int host_set_param(struct host *h, const char *strategy, const char *key, const char *value);

/* Append (strategy, key, value) copies to a parameter list (the parameters, the risk
 * overrides). 0 or -1 (out of memory: the list is unchanged). */
int host_param_push_(struct host_param **arr, size_t *n, const char *strategy, const char *key,
                     const char *value);

/*
 * Register a strategy and run its setup(). 0 and *idx on success. When setup() fails the
 * strategy is kept, stopped, with the reason in its 'error' and in err; returns -1.
 * Also -1 (nothing registered) for a duplicate name. After host_finalize() the strategy
 * joins the running DAG (host_add_strategy_from).
 */
int host_add_strategy(struct host *h, const struct qmtl_plugin *desc, const char *path, size_t *idx,
                      char *err, size_t errlen);

/* The same under the strategy name 'name' instead of desc->name (NULL: desc->name), so
 * that one plugin can run several times with different parameters (sweeps). */
int host_add_strategy_as(struct host *h, const struct qmtl_plugin *desc, const char *name,
                         const char *path, size_t *idx, char *err, size_t errlen);

/*
 * The mutable DAG (host/dag/dag_swap.h): the strategies of a running host change between two
 * events. Each call returns what happened to the graph's nodes in *res (may be NULL):
 * 'added' nodes are new, 'kept' ones stay with their windows, built-in state, custom
 * state and counters, 'removed' ones are freed (with the references they held on plugin
 * instances: a .so that nothing references any more is unmapped). Any failure (setup
 * error, tag-query cycle, invalid node, out of memory) returns -1 with one line in err
 * and leaves the running DAG exactly as it was. Calling one from inside a wave (a
 * compute, a hook, h->on_output) or a setup() is refused (-1).
 */
struct host_swap_result {
    uint32_t added, kept, removed;
};

/*
 * Add a strategy, from a loaded plugin instance 'pi' (the strategy and its custom nodes
 * take their own references; the caller keeps its own) or, when pi is NULL, from 'desc'
 * and 'path' (kept mapped by the caller). 'name' NULL means the descriptor's name.
 * Before host_finalize() this is host_add_strategy_as(); after it, the strategy joins
 * the running DAG: setup() runs on a staging graph, the swap happens, then on_start.
 * On a running host a failed setup() registers nothing.
 */
int host_add_strategy_from(struct host *h, struct plugin_instance *pi,
                           const struct qmtl_plugin *desc, const char *name, const char *path,
                           size_t *idx, struct host_swap_result *res, char *err, size_t errlen);

/*
 * Take strategy 'idx' out of a running host: on_finish (when it ran), teardown, then its
 * claims go; nodes no other strategy owns are freed. Strategies after it move down one
 * index (look them up by name: host_find_strategy). Requires host_finalize().
 */
int host_remove_strategy(struct host *h, size_t idx, struct host_swap_result *res, char *err,
                         size_t errlen);

/*
 * Replace strategy 'idx' of a running host by a new version ('pi', or 'desc' + 'path' as
 * for host_add_strategy_from). The new setup() runs on a staging graph; when it succeeds
 * the old version gets on_finish and teardown, the swap happens and the new one gets
 * on_start. The strategy keeps its index, its name, its gate (activation), its broker
 * (positions, cash) and its counters; its per-strategy state (state_size) starts zeroed.
 * Nodes whose NodeID stays keep their state. On failure the old version runs on.
 */
int host_replace_strategy(struct host *h, size_t idx, struct plugin_instance *pi,
                          const struct qmtl_plugin *desc, const char *path,
                          struct host_swap_result *res, char *err, size_t errlen);

/* Index of the strategy named 'name', or -1. */
int host_find_strategy(const struct host *h, const char *name);

/* Resolve tag queries, order the graph, allocate caches, call on_start. 0 or -1. */
int host_finalize(struct host *h, char *err, size_t errlen);

/*
 * Feed one item to every stream whose tags include all of 'tags' and run the DAG.
 * Returns the number of streams that received it (0 = none matched), -1 on error.
 * A data source that feeds many items resolves its route once instead (host/dag/route.h:
 * host_route_id, host_feed_route); this looks the route up by tags on every call.
 */
int host_feed(struct host *h, const char *const *tags, size_t n_tags, int64_t ts,
              const struct qmtl_value *v);

/* Call on_finish of every strategy still running (once). */
void host_finish(struct host *h);

/* An activation update for a strategy (from the control plane): applied to its gate and
 * handed to on_activation when it changed something. 1 applied, 0 ignored, -1 invalid. */
int host_set_activation(struct host *h, uint32_t strat, const struct qmtl_activation *a);

/* Stop a strategy (reason recorded, on_error called when code < 0). */
void host_stop_strategy(struct host *h, uint32_t strat, int code, const char *reason);

/* Items its streams received. */
long host_strategy_bars(const struct host *h, uint32_t strat);

/* Free the context's custom node name set. */
void host_ctx_release_names(struct qmtl_ctx *ctx);

/* The name handle index i (0-based) was declared with. */
const char *host_handle_name(const struct qmtl_ctx *ctx, size_t i);

/* The services table given to plugins. */
const struct qmtl_host *host_api_table(void);

/* Validation helpers (also used by the CLI and tests). 0, or -1 with err. */
int host_parse_interval(const char *s, int64_t *out, char *err, size_t errlen);
int host_check_tags(const char *const *tags, size_t *n_out, char *err, size_t errlen);

/* The descriptor's state_size: 0 for a descriptor whose 'size' does not cover it (ABI 1.0). */
size_t host_desc_state_size(const struct qmtl_plugin *desc);

/* Largest per-strategy and per-node state the host allocates (64 MiB). */
#define HOST_STATE_MAX ((size_t)64 << 20)

/*
 * Code identity of a compute function (docs/node-identity.md): "version:<v>" when
 * code_version is set; else "fn:<blake3 hex of the function's machine code>", its extent
 * taken from the dynamic symbol table or the unwind table (.eh_frame) of the loaded
 * object; else, when neither knows the function, "so:<GNU build-id>:<offset>" (or
 * "fn:<hash of the first 64 bytes>:<offset>" without a build-id). 0 or -1.
 */
int host_code_hash(qmtl_compute_fn fn, const char *code_version, char *out, size_t outlen);

#endif
