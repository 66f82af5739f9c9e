/*
 * bus_tagq: tag queries across hosts (docs/scale-out.md, "Tag queries across hosts").
 *
 * A tag query matches, by tags and interval, the nodes of every strategy in its world, not
 * only those of its own host. The DAG manager answers for the whole world: the submission
 * answer gives each tag-query node the queues it matches (queue_map entry: a list), and a
 * `queue_update` event of the gateway's stream gives a query's queues again when a later
 * submission (on any machine) created a queue it matches. Each queue entry is
 * {"queue", "global"} (the reference's shape), and the answer's or the event's
 * "queue_nodes" gives its node: {queue: {"node_id", "tags", "interval"}} (the DAG
 * manager's own entries carry these fields in the entry itself; both are read).
 *
 * Join: a queue whose node this host does not have (no node of that NodeID), that is not
 * global, and that a running tag query here matches (its tags and interval: the rules of
 * host_resolve_tag_queries) becomes a node of kind GRAPH_REMOTE with that NodeID, tags and
 * interval, owned by the strategies of the queries it matches, and no code hash (so it is
 * never part of a submission). The nodes are added by one DAG change between two events
 * (host_dag_extend: every other node keeps its index, windows and state), the tag queries
 * are resolved again and so read the new node, and its values come from a durable
 * JetStream consumer of the queue (named from the host name, the world, the owning
 * strategies and the NodeID: a restarted host resumes where it stopped) through
 * sched_feed: the query's consumers see them with the usual bucket, duplicate and late
 * rules. A value whose sequence is not above the last one fed is dropped (at-least-once
 * delivery), a jump is logged as a gap and fed, a message of another NodeID is refused.
 * Such a node is never computed here and never taken over (the lease is its owner's).
 *
 * Lifecycle (host thread; driven by host/online/bus.c): bus_tagq_plan() per submission
 * answer and bus_tagq_update() per queue_update event (the queues join at once when
 * started, else are remembered), bus_tagq_start() with the bus connection (joins and
 * consumes what was remembered), bus_tagq_stop() before the connection is freed (logs one
 * line). A joined queue whose consumer cannot be created (its stream missing) stays joined
 * and its consumer is tried again at the next answer or event. A joined node that a later
 * DAG change dropped (its strategies replaced) and a
 * later answer brings back is fed by the consumer it had; values that arrived meanwhile
 * were dropped.
 */
#ifndef QMTL_HOST_BUS_TAGQ_H
#define QMTL_HOST_BUS_TAGQ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "host/host_api.h"
#include "nodeid.h"

struct bus_conn;
struct bus_tagq;

/* One queue entry, parsed. */
struct bus_tagq_queue {
    char topic[256];
    char node_id[NODEID_LEN + 1];
    char **tags; /* n_tags, malloc'd (bus_tagq_queue_release) */
    uint32_t n_tags;
    int64_t interval;
    int64_t gen; /* the queue generation of the list it came in (-1: not given) */
};

/* Parse one queue entry 'e' with its node from nodes[queue] (or, absent there, from 'e'
 * itself); hostile input: every field checked. 1 parsed, 0 skipped (a global queue:
 * consumed by its owner's rules, not a tag query's), -1 with err naming the field. */
int bus_tagq_parse_queue(const json_t *e, const json_t *nodes, struct bus_tagq_queue *q,
                         char *err, size_t errlen);
void bus_tagq_queue_release(struct bus_tagq_queue *q);

/* Borrow 'h' (it must outlive this). NULL out of memory. */
struct bus_tagq *bus_tagq_new(struct host *h);
/* NULL is a no-op. */
void bus_tagq_free(struct bus_tagq *t);

/* The queues the ack's queue_map gives strategy strat's tag-query nodes: remembered, or
 * joined at once when started. A bad entry is logged and skipped. 0, or -1 with err. */
int bus_tagq_plan(struct bus_tagq *t, uint32_t strat, const json_t *ack, char *err,
                  size_t errlen);

/* Join what was remembered and consume every joined queue through 'conn' (borrowed until
 * bus_tagq_stop). 'world' goes into the durable consumer names. 0, or -1 with err. */
int bus_tagq_start(struct bus_tagq *t, struct bus_conn *conn, const char *world, char *err,
                   size_t errlen);

/*
 * A queue_update event's data: the whole list of one query (tags, interval, match_mode)
 * of the DAG manager, as of its "generation". Its queues join now (started) or at
 * bus_tagq_start. A joined queue that the event's query matches (its tags and interval:
 * the DAG manager's rules) and that the list leaves out is gone (the DAG manager dropped
 * it): it leaves the DAG in one change (host_dag_shrink; the tag queries' windows stay)
 * and its consumer is stopped. Generations keep the order: a list older than the one
 * that last listed a queue removes nothing, one older than the removal of a queue does
 * not join it again (a list without a generation is taken as the newest). An event of
 * another world or execution domain (the submission answer's) is ignored. Returns the
 * number of queues joined, or -1 with err (the DAG is unchanged).
 */
int bus_tagq_update(struct bus_tagq *t, const json_t *data, char *err, size_t errlen);

/* Forget the connection (its consumers end with it), log the summary line. Joined nodes
 * stay in the DAG; a later bus_tagq_start consumes them again. NULL is a no-op. */
void bus_tagq_stop(struct bus_tagq *t);

/* Whether node 'id' is a joined queue of another host. */
int bus_tagq_joined(const struct bus_tagq *t, const char *id);

struct bus_tagq_stats {
    size_t joined; /* joined now */
    uint64_t left; /* removals (a dropped queue left the DAG) */
    uint64_t fed, duplicates, gaps, refused;
};
void bus_tagq_stats(const struct bus_tagq *t, struct bus_tagq_stats *out);

#endif
