/*
 * bus_standby: what a host keeps of a shared node it does not publish, so that when it
 * takes the node's lease over it continues exactly after the last output the stream
 * holds (docs/scale-out.md, "Ownership"). One log per node, in one of two modes:
 *
 *  - inputs (a consumed node: never computed here). Every item the node's inputs emit
 *    here is logged, with its wave. Once the stream has delivered the node's output of a
 *    bucket (bus_standby_confirm), the items up to that bucket leave the log into input
 *    windows of the log's own (rings of the node's capacities) and a built-in state of
 *    its own (an indicator), so these hold the node's inputs as of the last output
 *    received. On takeover, bus_standby_replay points the node at them and feeds the
 *    rest of the log through the scheduler (sched_feed_inputs), wave by wave: the node
 *    computes every bucket after the last stored one in order, even those its inputs
 *    here have already passed, and its children see them in order; then the node gets
 *    its live windows back (which hold the same items).
 *  - outputs (a standby node: computed here, not published). The node's own outputs are
 *    logged, with its state after the newest (a custom node's state arena). On takeover,
 *    bus_standby_each_after hands out those after the last stored bucket, to publish.
 *
 * Bounded: at most 'limit' items (BUS_STANDBY_LOG_MAX for the bus). Beyond it the oldest
 * item leaves the log unconfirmed (inputs: into the windows without a computation; outputs:
 * dropped) and its bucket is counted as lost: a takeover then names how many buckets it
 * could not recompute (bus_standby_lost). Loop thread only.
 */
#ifndef QMTL_HOST_BUS_STANDBY_H
#define QMTL_HOST_BUS_STANDBY_H

#include <qmtl/qmtl.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_STANDBY_LOG_MAX 65536 /* items one node's log holds, at most */

struct rt_node;
struct sched;
struct bus_standby;

/* A log of consumed node 'x''s inputs (its runtime node: capacities, intervals, built-in
 * kind). Its windows start as copies of x's input windows now. NULL when out of memory. */
struct bus_standby *bus_standby_inputs(const struct rt_node *x, size_t limit);

/* A log of a standby node's outputs. NULL when out of memory. */
struct bus_standby *bus_standby_outputs(size_t limit);

/* NULL is a no-op. */
void bus_standby_free(struct bus_standby *s);

/* Inputs mode: input 'slot' received (ts, v) in wave 'wave' (sched_waves). JSON is copied.
 * 0, or -1 when out of memory (the item is counted as lost). */
int bus_standby_input(struct bus_standby *s, uint32_t slot, uint64_t wave, int64_t ts,
                      const struct qmtl_value *v);

/* Inputs mode: the stream delivered the node's output of 'bucket' (node interval
 * 'interval' seconds): logged items up to that bucket join the log's windows. */
void bus_standby_confirm(struct bus_standby *s, int64_t bucket, int64_t interval);

/*
 * Inputs mode, on takeover, outside any wave: node 'idx' of 'sch' (its live kind, not
 * remote) is fed the logged items whose bucket is after 'after' (the last output the
 * stream holds; items up to it are only confirmed), from the log's windows and built-in
 * state, wave by wave; then its live windows and built-in state are given back. The log
 * is empty afterwards. The number of waves replayed, or -1 (the scheduler refused).
 */
long bus_standby_replay(struct bus_standby *s, struct sched *sch, uint32_t idx, int64_t after,
                        int64_t interval);

/* Outputs mode: the node emitted (ts, v); 'state' (state_len bytes, NULL: none) is its
 * state after it. 0, or -1 when out of memory (counted as lost). */
int bus_standby_output(struct bus_standby *s, int64_t ts, const struct qmtl_value *v,
                       const void *state, size_t state_len);

/* Outputs mode: fn for every logged output after bucket 'after', oldest first; the newest
 * logged output gets the state logged with it (else NULL, 0). Returns how many. */
typedef void (*bus_standby_fn)(void *arg, int64_t ts, const struct qmtl_value *v,
                               const void *state, size_t state_len);
size_t bus_standby_each_after(const struct bus_standby *s, int64_t after, bus_standby_fn fn,
                              void *arg);

/* Inputs mode: logged items whose node bucket (interval 'interval') is after 'after'. */
size_t bus_standby_count_after(const struct bus_standby *s, int64_t after, int64_t interval);

/* Buckets after 'after' (interval 'interval' seconds) that left the log unconfirmed (its
 * limit): what a takeover cannot recompute or publish. 0 when none. */
uint64_t bus_standby_lost(const struct bus_standby *s, int64_t after, int64_t interval);

/* Items in the log now. */
size_t bus_standby_len(const struct bus_standby *s);

#endif
