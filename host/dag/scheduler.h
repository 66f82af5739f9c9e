/*
 * scheduler: runs the DAG for each arriving data item, deterministically.
 *
 * sched_feed() hands one item to a stream node and runs one "wave": the stream emits,
 * every child receives the item into its input cache (node_cache) and is marked
 * pending; pending nodes run in evaluation order (topological rank, ties by NodeID),
 * so a node runs after all of its upstreams of the wave and at most once per wave.
 *
 * When a node runs:
 *  - a gap or duplicate bucket on an input skips it (on_missing skip) or fails it (fail);
 *  - it needs warm caches: every input full (aligned), or, with QMTL_FIRE_ON_ANY,
 *    every input that delivered anything full;
 *  - with several inputs and no QMTL_FIRE_ON_ANY it computes once per bucket of its
 *    interval, in the wave where the last input delivers that bucket (aligned fan-in);
 *  - late items (older than the newest bucket of the input) beyond the watermark
 *    (min newest bucket over inputs - allowed_lateness) follow on_late: recompute
 *    (insert in order and compute), ignore (drop) or side_output (kept on the node);
 *  - a result of QMTL_T_NONE stops propagation on that branch.
 * Nothing is allocated per event on the numeric path.
 *
 * The scheduler owns the runtime (host/dag/runtime.h): every ring, state and counter of
 * the nodes, by evaluation position. Readers of counters and state go through
 * sched_node().
 */
#ifndef QMTL_HOST_SCHEDULER_H
#define QMTL_HOST_SCHEDULER_H

#include <qmtl/qmtl.h>
#include <stdint.h>

#include "host/dag/graph.h"
#include "host/dag/runtime.h"

struct sched_hooks {
    void *arg;
    const struct qmtl_host *api; /* handed to custom computes in the view */
    /* A node failed: a custom compute returned 'code' < 0, or on_missing=fail tripped. */
    void (*node_error)(void *arg, struct graph_node *n, int code, const char *msg);
    /* Every value a node emits (optional; the testkit records them). */
    void (*output)(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_value *v);
    /* A signal node emitted (optional). */
    void (*signal)(void *arg, struct graph_node *n, int64_t ts, const struct qmtl_signal *s);
    /* An order node ran: 'in' are its input windows (0: signal, 1: price); 'price_in' /
     * 'signal_in' tell which inputs arrived in this wave. It may set 'out' to the order it
     * published. */
    void (*order)(void *arg, struct graph_node *n, const struct qmtl_window *in, int64_t ts,
                  int price_in, int signal_in, struct qmtl_value *out);
    /* When set and *time_computes is non-zero, each custom compute is timed into its
     * counters' compute_ns (two clock reads per compute, a large share of a small
     * compute's cost); otherwise compute_ns stays as it is. The host points it at
     * h->metrics.time_computes, which a metrics endpoint turns on. */
    const int *time_computes;
};

struct sched;

/* Create after graph_finalize(): builds the runtime (every node's rings and states), all
 * owners running. g must outlive the scheduler. NULL on failure. */
struct sched *sched_new(struct graph *g, const struct sched_hooks *hooks, char *err, size_t errlen);

/* sched_new with the owners that run and the rings to adopt (see runtime.h). */
struct sched *sched_new_opts(struct graph *g, const struct sched_hooks *hooks,
                             const struct rt_opts *o, char *err, size_t errlen);
void sched_free(struct sched *s);

/* Feed one item to stream node 'idx' at time 'ts' and run the wave. 0, or -1 when the
 * node is not a stream. Node failures go to hooks.node_error, not to the return value.
 * A GRAPH_REMOTE node is fed the same way (its value, at its bucket) and is never
 * computed by a wave. */
int sched_feed(struct sched *s, uint32_t idx, int64_t ts, const struct qmtl_value *v);

/* One item delivered to an input slot of a node (sched_feed_inputs). */
struct sched_item {
    uint32_t slot;
    int64_t ts;
    struct qmtl_value value;
};

/*
 * Deliver 'n' items to input slots of computed node 'idx', as one wave, through the rings
 * its in_rings point at now (a takeover's replay points them at rings of its own,
 * host/online/bus_standby.h) and its built-in state, and run the wave: the node computes
 * as if its upstreams had emitted them in one wave (same alignment, gap, duplicate and
 * late rules), its emission reaches its children. Upstreams are not touched. 0, or -1
 * when the node is a stream or remote, a slot is out of range, or a wave runs already.
 */
int sched_feed_inputs(struct sched *s, uint32_t idx, const struct sched_item *items, size_t n);

/* The custom node whose compute is running on this thread (NULL outside computes): read
 * by crash reporters (async-signal-safe to read). */
const struct rt_node *sched_running_node(void);

/* 1 while a wave runs (inside sched_feed: computes and hooks), else 0. */
int sched_in_wave(const struct sched *s);

/* The hooks the scheduler was made with. */
const struct sched_hooks *sched_get_hooks(const struct sched *s);

/* The graph and the runtime the scheduler runs (sched_runtime: NULL when s is NULL). */
struct graph *sched_graph(const struct sched *s);
struct runtime *sched_runtime(const struct sched *s);

/* The runtime node of creation index 'idx' (counters, state, windows); NULL when s is NULL
 * (before host_finalize) or idx is out of range. */
const struct rt_node *sched_node(const struct sched *s, uint32_t idx);

/* Carry the clock and the counters of 'from' over to 'to' (a DAG swap, host/dag/dag_swap.h). */
void sched_carry(struct sched *to, const struct sched *from);

/* Bucket of the node being computed (or of the last wave). */
int64_t sched_now(const struct sched *s);
/* Bucket of the item (stream or remote node) that started the running (or last) wave, in
 * that node's interval: where one process would have made what the wave makes. */
int64_t sched_wave_ts(const struct sched *s);
/* Node computations run so far (all nodes). */
uint64_t sched_computes(const struct sched *s);
uint64_t sched_waves(const struct sched *s);

#endif
