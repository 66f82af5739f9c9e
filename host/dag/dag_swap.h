/*
 * dag_swap: how a running host's DAG changes (host_add_strategy_from after
 * host_finalize, host_remove_strategy, host_replace_strategy; contracts in host_api.h;
 * host_dag_extend and host_dag_shrink below add or remove nodes without a strategy
 * change).
 *
 * A change is built aside and swapped in between two events:
 *   1. staging graph: every live node that some strategy other than the one going still
 *      owns is copied (graph_copy: same NodeID, owners and bindings renumbered, tag
 *      queries unresolved);
 *   2. the new strategy (add, replace) runs setup() against the staging graph: equal
 *      NodeIDs merge as at start;
 *   3. tag queries are resolved again (a cycle is an error here, not a stopped strategy),
 *      the staging graph is ordered and its scheduler built (fresh rings);
 *   4. diff by NodeID: each staging node's twin is the live node it was copied from, or
 *      the live node of the same NodeID (a replaced strategy's node declared again), or
 *      for a private node (order publisher) the going strategy's one of the same NodeID;
 *   5. the staging scheduler and its runtime (host/dag/runtime.h) are built: a ring whose
 *      upstream has a twin reuses the twin's live ring of the same capacity and sharing
 *      (a private ring: of the same consumer), so windows stay without a copy; only new
 *      rings are allocated; owners that run and primary bindings follow the strategies
 *      after the change;
 * Every step above may fail: the staging graph is freed and the live DAG is untouched.
 * From here nothing can fail:
 *   6. the going strategy gets on_finish (when it ran) and teardown;
 *   7. each twin's built-in state, custom state, counters and side output move from the
 *      live runtime to the staging runtime (old position -> new position, runtime_carry),
 *      and the live runtime lets go of the rings the staging one adopted;
 *      a new node reading a ring that already holds items rebuilds its built-in state
 *      from it (it starts warm, as if it had always read that ring);
 *   8. strategy handles are renumbered, the staging graph and scheduler replace the live
 *      ones, every route is resolved again (host/dag/route.h: route ids held by data
 *      sources stay valid), and the old graph is freed: nodes no
 *      strategy owns drop their plugin instance references (a .so whose count reaches
 *      zero is unmapped);
 *   9. the new strategy gets on_start.
 * Cost: linear in the graph (copy, order) plus the tag queries; no NodeID is hashed
 * again except the new strategy's, no window copied.
 *
 * Internal to host/: host.c and dag_swap.c share the helpers below.
 */
#ifndef QMTL_HOST_DAG_SWAP_H
#define QMTL_HOST_DAG_SWAP_H

#include "host/host_api.h"

/* host_add_strategy_from on a finalized host (name checked unique by the caller). */
int host_dag_add(struct host *h, struct plugin_instance *pi, const struct qmtl_plugin *desc,
                 const char *name, const char *path, size_t *idx, struct host_swap_result *res,
                 char *err, size_t errlen);

/*
 * Add nodes to a running host's DAG without a strategy change (host/online/bus_tagq.c:
 * another host's queues joining a tag query). Step 2 is 'add': called once with the
 * staging graph, where every live node keeps its index (a node without an owner makes the
 * change fail), it adds the new nodes (graph_copy; their owners are live strategy
 * indices, unchanged); tag queries are then resolved again and the rest runs as for any
 * change. Between events only. 0 (res may be NULL), or -1 with err and the live DAG
 * untouched.
 */
struct graph;
typedef int (*host_dag_add_fn)(void *arg, struct graph *g, char *err, size_t errlen);
int host_dag_extend(struct host *h, host_dag_add_fn add, void *arg, struct host_swap_result *res,
                    char *err, size_t errlen);

/*
 * Remove nodes from a running host's DAG without a strategy change (host/online/bus_tagq.c:
 * a joined queue of another host that went away). Step 1 leaves out every node for which
 * drop() returns nonzero (only tag queries may read one: another reader makes the change
 * fail); tag queries are then resolved again (their output windows, read by their
 * consumers, stay) and the rest runs as for any change. Between events only. 0 (res may
 * be NULL), or -1 with err and the live DAG untouched.
 */
typedef int (*host_dag_drop_fn)(void *arg, const struct graph_node *n);
int host_dag_shrink(struct host *h, host_dag_drop_fn drop, void *arg,
                    struct host_swap_result *res, char *err, size_t errlen);

/* A strategy (not registered in h->st) with index 'index', a reference on 'pi', its
 * broker, state and closed gate. NULL with err on failure. Free with host_strategy_free. */
struct host_strategy *host_strategy_new(struct host *h, struct plugin_instance *pi,
                                        const struct qmtl_plugin *desc, const char *name,
                                        const char *path, uint32_t index, char *err,
                                        size_t errlen);
void host_strategy_free(struct host_strategy *st);

/* Run st's setup() (against h->g). 0, or its nonzero code with "setup failed ..." in why. */
int host_strategy_setup(struct host *h, struct host_strategy *st, char *why, size_t whylen);

/*
 * Resolve the tag queries of graph g. strict_st NULL (host_finalize): a match that closes
 * a cycle stops the strategies declaring the query (one line each) and is dropped.
 * strict_st given (staging: the strategies after the change, by the staging graph's owner
 * indices): such a match of a query with an owner that runs fails (-1, err); of a query
 * whose owners are all stopped it is dropped silently.
 */
int host_resolve_tag_queries(struct host *h, struct graph *g,
                             struct host_strategy *const *strict_st, char *err, size_t errlen);

#endif
