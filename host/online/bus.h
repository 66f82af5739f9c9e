/*
 * bus: the host's side of scale-out (docs/scale-out.md). With host.bus / --bus set, an
 * attached host shares node outputs with hosts on other machines through NATS JetStream
 * (common/bus_nats.h), following the submission answers of the gateway:
 *
 *  - local:     a node some strategy of this host computes (absent from its queue_map);
 *  - published: a local indicator or custom node with a queue (the ack's node_queues):
 *               every value it emits goes to that queue, with a per-node sequence
 *               (1, 2, ...), in batches (common/bus_batcher.h). When the stream already
 *               holds outputs of the node (this host restarted, or another host
 *               computed it before), publishing continues after the last one: values
 *               of buckets up to its bucket are not sent again, the sequence goes on;
 *  - remote:    an indicator or custom node that every strategy of this host was told to
 *               consume (queue_map gives its topic): it becomes GRAPH_REMOTE, is never
 *               computed here, and is fed from a durable JetStream consumer, so its
 *               children see the values the owner computed, in the owner's order.
 * Streams, stream inputs, tag queries, signals and order nodes stay local. A tag query
 * also reads the queues of other hosts' nodes it matches (host/online/bus_tagq.h): the
 * submission answer lists them, and queue_update events (host_bus_queue_update) add those
 * created later, while the host runs.
 *
 * Ownership: exactly one host publishes a shared node, the one holding its lease (NATS
 * key-value bucket QMTL_LEASES, key = the queue topic, TTL 1 s, renewed every 250 ms).
 * A host told to compute a node whose lease another host holds computes it for itself
 * without publishing (standby). When a lease lapses (its holder died or stopped), a
 * standby host or a consuming host takes it and continues exactly after the last output
 * the stream holds (host/online/bus_standby.h): a consumer first drains the queue, then
 * recomputes every bucket after the last stored one from its log of the node's inputs
 * (a custom node from the state the stream carried with that output), and publishes on
 * from the stored sequence; a standby host publishes the outputs it computed after it.
 * Its children see no value twice and none missing. A stopping host gives its leases up
 * at once.
 *
 * A remote value whose sequence is not above the last one fed is a duplicate
 * (at-least-once delivery, a restarted publisher) and is dropped; a jump is logged as a
 * gap and fed. Every value is checked (bus_reader; its NodeID must be the node's).
 *
 * Lifecycle, all on the host's thread: host_bus_new() before host_finalize() (it installs
 * the host's output hook), host_bus_plan() once per strategy with the gateway's answer,
 * host_bus_start() on the event loop that runs the data (connects, subscribes), then
 * host_bus_stop() before that loop is freed, host_bus_free() after the host. A hot
 * reload changes the DAG while the bus runs: host_bus_swapped() right after each swap
 * (before the next event), host_bus_replan() with each resubmission's answer.
 * Without host_bus_new() nothing changes: everything stays in process.
 */
#ifndef QMTL_HOST_BUS_H
#define QMTL_HOST_BUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "host/host_api.h"

struct event_base;
struct host_bus;

/* Borrow 'h' (it must outlive the bus) and remember 'url' (checked: nats://...; 'key'
 * names where it came from in the message, e.g. "--bus"). Installs h->on_output (the
 * previous hook, if any, is still called). NULL with err. */
struct host_bus *host_bus_new(struct host *h, const char *url, const char *key, char *err,
                              size_t errlen);

/*
 * Name this host instance in its durable consumer names (before host_bus_start): 'name'
 * (host.name) when not empty, else the machine's host name with the absolute path of
 * 'dir' (the plugins directory), so two hosts on one machine, each in its own directory,
 * never share a consumer, and a host restarted with the same name or directory finds its
 * own again. Without this call the machine's host name alone (as before). 0, or -1 with
 * err (a name with spaces, '|' or control bytes, or longer than 200; a directory without
 * an absolute path).
 */
int host_bus_set_name(struct host_bus *b, const char *name, const char *dir, char *err,
                      size_t errlen);

/*
 * Apply strategy 'strat''s submission answer (the POST /strategies ack: queue_map in the
 * reference's shape and node_queues). 'world' goes into the durable consumer names.
 * 0, or -1 with err for an answer that is not an object (nothing changes then).
 */
int host_bus_plan(struct host_bus *b, uint32_t strat, const char *world, const json_t *ack,
                  char *err, size_t errlen);

/* Connect on 'base' and start consuming every remote node (their nodes become
 * GRAPH_REMOTE); every node told to publish is "claiming": its lease is asked for on the
 * lease thread (no key-value request on the loop) and its outputs are held until the
 * answer, on the loop, publishes them (after what its stream holds) or drops them
 * (standby). 0, or -1 with err (nothing is consumed then; no node changed). */
int host_bus_start(struct host_bus *b, struct event_base *base, char *err, size_t errlen);

/*
 * The host's DAG was swapped (host_add_strategy_from / host_replace_strategy /
 * host_remove_strategy on a running host): call it before the next event. Every node the
 * bus knew is found again by NodeID in the new graph and keeps its role: a published node
 * keeps its lease and numbers on, a remote one stays GRAPH_REMOTE on the same durable
 * consumer and sequence (no value twice, none missing). A node no longer in the graph
 * stops: publishing ends and its lease is given up at once (a host that declared it takes
 * over), a remote one's values are ignored. New nodes are computed here, not published,
 * until host_bus_replan() places them. 0, or -1 with err when out of memory (the bus then
 * lets go of every node: all are computed here, nothing is published).
 */
int host_bus_swapped(struct host_bus *b, char *err, size_t errlen);

/*
 * Strategy 'strat' (its index after the swap) was resubmitted; 'ack' is the answer, as
 * for host_bus_plan. Nodes of the strategy the bus has not placed yet (new since the
 * swap, or without a queue so far) are placed now: told to compute with a queue, the
 * host takes the lease and publishes, continuing the stream's sequence after what it
 * holds (standby when another host holds the lease); told to consume, the node becomes
 * GRAPH_REMOTE on its durable consumer, and buckets it already computed here since the
 * swap are not fed again. Nodes already placed keep their role. Before host_bus_start it
 * only records the answer. 0, or -1 with err (bad answer, the bus failed, out of memory:
 * the nodes not yet placed stay computed here).
 */
int host_bus_replan(struct host_bus *b, uint32_t strat, const json_t *ack, char *err,
                    size_t errlen);

/* Wait (bounded) for unacknowledged publishes, disconnect, log the summary line. The
 * bus can be started again. NULL is a no-op. */
void host_bus_stop(struct host_bus *b);

/* NULL is a no-op. Restores the host's previous output hook. */
void host_bus_free(struct host_bus *b);

struct host_bus_stats {
    size_t published_nodes, remote_nodes, standby_nodes;
    size_t claiming_nodes; /* told to publish, the lease's answer not in yet */
    uint64_t published, fed, duplicates, gaps, refused, publish_errors, takeovers;
    uint64_t unrecomputed; /* buckets takeovers could not recompute (a log's limit) */
};
void host_bus_stats(const struct host_bus *b, struct host_bus_stats *out);

/* A queue_update event's data (the gateway's stream, topic queue): queues of other hosts
 * that a tag query here matches join it (bus_tagq_update). The number joined, or -1 with
 * err (the DAG is unchanged). */
int host_bus_queue_update(struct host_bus *b, const json_t *data, char *err, size_t errlen);

/* What the bus does with graph node 'idx': "local", "published", "standby", "remote" or
 * "claiming" (told to publish, the lease asked for: its outputs are held until the
 * answer makes it "published" or "standby"). */
const char *host_bus_role(const struct host_bus *b, uint32_t idx);

#endif
